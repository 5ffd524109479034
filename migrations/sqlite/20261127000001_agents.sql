-- Host agents and vulnerability detection: enrollment tokens, enrolled agents and their
-- inventories, OSV advisories (scope 0 = the feed every account matches against, otherwise the
-- one account that uploaded them), and fix jobs the agents carry out.

CREATE TABLE enrollment_tokens (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    group_name   TEXT,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER,
    use_count    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX enrollment_tokens_account ON enrollment_tokens (account_id);

CREATE TABLE agents (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    asset_id          INTEGER NOT NULL UNIQUE REFERENCES assets (id) ON DELETE CASCADE,
    machine_id        TEXT    NOT NULL,
    credential_hash   TEXT    NOT NULL UNIQUE,
    version           TEXT    NOT NULL DEFAULT '',
    allow_fix         INTEGER NOT NULL CHECK (allow_fix IN (0, 1)),
    package_manager   TEXT,
    ecosystem         TEXT,
    kernel            TEXT    NOT NULL DEFAULT '',
    enrolled_at       INTEGER NOT NULL,
    last_heartbeat_at INTEGER NOT NULL,
    UNIQUE (account_id, machine_id)
);
CREATE INDEX agents_heartbeat ON agents (last_heartbeat_at);

CREATE TABLE asset_inventories (
    asset_id        INTEGER PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    package_manager TEXT    NOT NULL,
    ecosystems      TEXT    NOT NULL,
    packages        TEXT    NOT NULL,
    package_count   INTEGER NOT NULL,
    digest          TEXT    NOT NULL,
    collected_at    INTEGER NOT NULL,
    matched_at      INTEGER
);

CREATE TABLE advisories (
    id          INTEGER PRIMARY KEY,
    scope       INTEGER NOT NULL,
    osv_id      TEXT    NOT NULL,
    modified    INTEGER NOT NULL,
    summary     TEXT    NOT NULL,
    severity    TEXT    NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    aliases     TEXT    NOT NULL DEFAULT '',
    withdrawn   INTEGER NOT NULL CHECK (withdrawn IN (0, 1)),
    imported_at INTEGER NOT NULL,
    UNIQUE (scope, osv_id)
);
CREATE INDEX advisories_scope_imported ON advisories (scope, imported_at);

CREATE TABLE advisory_packages (
    id          INTEGER PRIMARY KEY,
    advisory_id INTEGER NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    ecosystem   TEXT    NOT NULL,
    package     TEXT    NOT NULL,
    affected    TEXT    NOT NULL
);
CREATE INDEX advisory_packages_lookup ON advisory_packages (package, ecosystem);
CREATE INDEX advisory_packages_advisory ON advisory_packages (advisory_id);

CREATE TABLE agent_jobs (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    asset_id      INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    packages      TEXT    NOT NULL,
    simulate      INTEGER NOT NULL CHECK (simulate IN (0, 1)),
    status        TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'simulated', 'failed')),
    requested_by  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    dispatched_at INTEGER,
    finished_at   INTEGER,
    exit_code     INTEGER,
    output        TEXT    NOT NULL DEFAULT '',
    changes       TEXT    NOT NULL DEFAULT '[]',
    error         TEXT
);
CREATE INDEX agent_jobs_asset ON agent_jobs (asset_id, status);
CREATE INDEX agent_jobs_open ON agent_jobs (status, created_at);

-- Where a finding came from decides who may resolve it: an agent's inventory resolves only
-- 'agent' findings, a Trivy report of the asset only 'trivy' ones.
ALTER TABLE findings ADD COLUMN fixed_version TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN source TEXT NOT NULL DEFAULT 'api';

-- Every import, from the CLI (scope 0) or a console upload (the uploader's account), with the
-- files it skipped and why.
CREATE TABLE advisory_imports (
    id          INTEGER PRIMARY KEY,
    scope       INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    source_name TEXT    NOT NULL,
    imported    INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    skipped     TEXT    NOT NULL DEFAULT '[]',
    error       TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX advisory_imports_scope ON advisory_imports (scope, at);
