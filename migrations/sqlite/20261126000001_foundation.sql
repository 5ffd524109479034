-- Foundation schema (SQLite). Times are Unix seconds (UTC); flags are 0/1 integers so the
-- same queries and row types serve SQLite and PostgreSQL through sqlx's Any driver.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    account_no    TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    edition       TEXT    NOT NULL CHECK (edition IN ('basic', 'advanced', 'enterprise')),
    kind          TEXT    NOT NULL CHECK (kind IN ('cloud', 'resource')),
    time_zone     TEXT    NOT NULL DEFAULT 'UTC',
    score_weights TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at    INTEGER NOT NULL
);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE sign_in_failures (
    id    INTEGER PRIMARY KEY,
    email TEXT    NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_email_at ON sign_in_failures (email, at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE authorizations (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    service    TEXT    NOT NULL,
    granted_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, service)
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    actor_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    detail        TEXT    NOT NULL DEFAULT '',
    at            INTEGER NOT NULL
);
CREATE INDEX audit_log_account_at ON audit_log (account_id, at);

CREATE TABLE asset_groups (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE assets (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    group_id     INTEGER REFERENCES asset_groups (id) ON DELETE SET NULL,
    instance_id  TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    ips          TEXT    NOT NULL DEFAULT '',
    os           TEXT    NOT NULL DEFAULT '',
    region       TEXT    NOT NULL DEFAULT '',
    agent_status TEXT    NOT NULL CHECK (agent_status IN ('online', 'offline', 'not_installed')),
    last_seen_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (account_id, instance_id)
);
CREATE INDEX assets_account_name ON assets (account_id, name);
CREATE INDEX assets_group ON assets (group_id);

CREATE TABLE vulnerabilities (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    advisory_id       TEXT    NOT NULL,
    package           TEXT    NOT NULL DEFAULT '',
    title             TEXT    NOT NULL,
    severity          TEXT    NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    category          TEXT    NOT NULL CHECK (category IN ('linux', 'windows', 'web_cms')),
    affected_versions TEXT    NOT NULL DEFAULT '',
    fix               TEXT    NOT NULL DEFAULT '',
    UNIQUE (account_id, advisory_id, package)
);

CREATE TABLE findings (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    asset_id          INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    vulnerability_id  INTEGER NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    status            TEXT    NOT NULL CHECK (status IN ('unfixed', 'fixing', 'fixed', 'fix_failed', 'ignored')),
    installed_version TEXT    NOT NULL DEFAULT '',
    first_seen_at     INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL,
    resolved_at       INTEGER,
    UNIQUE (asset_id, vulnerability_id)
);
CREATE INDEX findings_account_open ON findings (account_id, resolved_at);
CREATE INDEX findings_vulnerability ON findings (vulnerability_id);

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    asset_id    INTEGER REFERENCES assets (id) ON DELETE SET NULL,
    external_id TEXT,
    name        TEXT    NOT NULL,
    alert_type  TEXT    NOT NULL,
    severity    TEXT    NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    status      TEXT    NOT NULL CHECK (status IN ('unhandled', 'handled', 'ignored')),
    occurred_at INTEGER NOT NULL,
    resolved_at INTEGER,
    UNIQUE (account_id, external_id)
);
CREATE INDEX alerts_account_occurred ON alerts (account_id, occurred_at);
CREATE INDEX alerts_asset ON alerts (asset_id);

CREATE TABLE baseline_results (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    asset_id      INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    check_name    TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    risk_level    TEXT    NOT NULL CHECK (risk_level IN ('critical', 'high', 'medium', 'low')),
    passed        INTEGER NOT NULL CHECK (passed IN (0, 1)),
    first_seen_at INTEGER NOT NULL,
    checked_at    INTEGER NOT NULL,
    resolved_at   INTEGER,
    UNIQUE (asset_id, check_name)
);
CREATE INDEX baseline_account ON baseline_results (account_id, resolved_at);

CREATE TABLE attacks (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    asset_id    INTEGER REFERENCES assets (id) ON DELETE SET NULL,
    source_ip   TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    attack_type TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL
);
CREATE INDEX attacks_account_occurred ON attacks (account_id, occurred_at);

CREATE TABLE score_history (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day        TEXT    NOT NULL,
    score      INTEGER NOT NULL,
    PRIMARY KEY (account_id, day)
);
