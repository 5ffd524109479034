-- Playbooks: policies cloned from the Policy Center, DingTalk chatbots, fix tasks, and each
-- execution's per-host and per-vulnerability results. The task row is the durable state of the
-- orchestration: a console that restarts, or another replica holding the lease, carries on from it.

CREATE TABLE playbook_policies (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    template    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    policy_type TEXT    NOT NULL,
    mode        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX playbook_policies_account ON playbook_policies (account_id);

-- The webhook URL carries the robot's access token: sealed like the signing secret.
CREATE TABLE dingtalk_chatbots (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    webhook_sealed TEXT    NOT NULL,
    webhook_hint   TEXT    NOT NULL,
    secret_sealed  TEXT,
    keywords       TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE playbook_tasks (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    policy_id      INTEGER REFERENCES playbook_policies (id) ON DELETE SET NULL,
    policy_name    TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    vulnerabilities TEXT   NOT NULL,
    chatbots       TEXT    NOT NULL DEFAULT '[]',
    emails         TEXT    NOT NULL DEFAULT '',
    execute_at     INTEGER NOT NULL,
    custom_time    INTEGER NOT NULL CHECK (custom_time IN (0, 1)),
    concurrency    INTEGER NOT NULL,
    dry_run        INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    stop_after     INTEGER,
    status         TEXT    NOT NULL CHECK (status IN ('waiting', 'running', 'completed', 'cancelled')),
    executed_num   INTEGER NOT NULL DEFAULT 0,
    created_by     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    completed_at   INTEGER,
    notified_at    INTEGER,
    notify_log     TEXT    NOT NULL DEFAULT '',
    lease_owner    TEXT,
    lease_until    INTEGER,
    UNIQUE (account_id, name)
);
CREATE INDEX playbook_tasks_due ON playbook_tasks (status, execute_at);

CREATE TABLE playbook_runs (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES playbook_tasks (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    UNIQUE (task_id, number)
);

CREATE TABLE playbook_hosts (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES playbook_runs (id) ON DELETE CASCADE,
    asset_id   INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL CHECK (status IN ('waiting', 'running', 'fixed', 'simulated', 'failed', 'skipped')),
    job_id     INTEGER REFERENCES agent_jobs (id) ON DELETE SET NULL,
    started_at INTEGER,
    ended_at   INTEGER,
    error      TEXT,
    UNIQUE (run_id, asset_id)
);
CREATE INDEX playbook_hosts_run ON playbook_hosts (run_id, status);

CREATE TABLE playbook_items (
    host_id          INTEGER NOT NULL REFERENCES playbook_hosts (id) ON DELETE CASCADE,
    vulnerability_id INTEGER NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    status           TEXT    NOT NULL CHECK (status IN ('waiting', 'running', 'fixed', 'simulated', 'failed', 'skipped')),
    error            TEXT,
    PRIMARY KEY (host_id, vulnerability_id)
);
