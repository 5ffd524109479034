-- Security reports: definitions, their durable schedule (next_due_at), one delivery per report
-- and period, the archive of generated documents, and per-account SMTP settings.

CREATE TABLE reports (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('daily', 'weekly', 'monthly', 'custom')),
    custom_start      TEXT,
    custom_end        TEXT,
    send_window       TEXT    NOT NULL CHECK (send_window IN ('00-06', '06-12', '12-18', '18-24')),
    recipients        TEXT    NOT NULL DEFAULT '',
    sections          TEXT    NOT NULL,
    enabled           INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    is_default        INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    next_due_at       INTEGER,
    next_period_start TEXT,
    next_period_end   TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX reports_account ON reports (account_id);
CREATE UNIQUE INDEX reports_one_default ON reports (account_id) WHERE is_default = 1;
CREATE INDEX reports_due ON reports (next_due_at) WHERE enabled = 1;

CREATE TABLE report_archive (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    report_id    INTEGER REFERENCES reports (id) ON DELETE SET NULL,
    report_name  TEXT    NOT NULL,
    period_start TEXT    NOT NULL,
    period_end   TEXT    NOT NULL,
    document     TEXT    NOT NULL,
    generated_at INTEGER NOT NULL
);
CREATE INDEX report_archive_account ON report_archive (account_id, generated_at);

CREATE TABLE report_deliveries (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    report_id        INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    period_start     TEXT    NOT NULL,
    period_end       TEXT    NOT NULL,
    manual           INTEGER NOT NULL CHECK (manual IN (0, 1)),
    late             INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    due_at           INTEGER NOT NULL,
    window_end       INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('scheduled', 'sending', 'retrying', 'sent', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    first_attempt_at INTEGER,
    lease_owner      TEXT,
    lease_until      INTEGER,
    recipients       TEXT    NOT NULL DEFAULT '',
    sent_at          INTEGER,
    server_reply     TEXT    NOT NULL DEFAULT '',
    archive_id       INTEGER REFERENCES report_archive (id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL
);
-- A scheduled period is delivered once, whatever the replicas and restarts do.
CREATE UNIQUE INDEX report_deliveries_once ON report_deliveries (report_id, period_start, period_end) WHERE manual = 0;
CREATE INDEX report_deliveries_pending ON report_deliveries (next_attempt_at) WHERE status IN ('scheduled', 'sending', 'retrying');
CREATE INDEX report_deliveries_report ON report_deliveries (report_id, created_at);

CREATE TABLE smtp_settings (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    host            TEXT    NOT NULL,
    port            INTEGER NOT NULL,
    security        TEXT    NOT NULL CHECK (security IN ('starttls', 'tls', 'none')),
    username        TEXT,
    password_sealed TEXT,
    from_address    TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Every account has its default report: weekly, all sections, recipients to be set.
INSERT INTO reports (account_id, name, kind, send_window, recipients, sections, enabled, is_default, created_at, updated_at)
SELECT id, 'Default security report', 'weekly', '06-12', '',
       'assets,alerts,vuln_linux,vuln_windows,vuln_web_cms,baseline,attacks,score_trend', 1, 1, created_at, created_at
FROM accounts;
