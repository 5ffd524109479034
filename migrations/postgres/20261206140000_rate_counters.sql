-- Per-account rate limits: one fixed window per account and action, opened by the first call
-- after the previous window ended, and the calls counted in it.

CREATE TABLE rate_counters (
    account_id   BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    action       TEXT    NOT NULL,
    window_start BIGINT  NOT NULL,
    count        BIGINT  NOT NULL,
    PRIMARY KEY (account_id, action)
);
