-- The advisories' version: every import moves it on in its own transaction, and each console
-- rebuilds its in-memory index of the advisories (matching reads no rows) when the version it
-- holds is behind, so an import is matched on every replica from its next inventory on.
CREATE TABLE advisory_state (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO advisory_state (id, version) VALUES (1, 0);
