-- Re-enrollments of known hosts that came without the host's current agent credential: held
-- until an admin approves or rejects them. The agent asks again with its hold secret (hashed here).
CREATE TABLE held_enrollments (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_id   INTEGER NOT NULL REFERENCES enrollment_tokens (id) ON DELETE CASCADE,
    machine_id TEXT    NOT NULL,
    hostname   TEXT    NOT NULL,
    ips        TEXT    NOT NULL DEFAULT '',
    hold_hash  TEXT    NOT NULL UNIQUE,
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER
);
CREATE INDEX held_enrollments_account ON held_enrollments (account_id, status);
