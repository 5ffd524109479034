-- Findings' daily flows, per account, UTC day and vulnerability, kept by triggers like the
-- counters, so a report's "open at the start of the period", its resolved-by-status counts and
-- its new findings sum a few rows per day instead of visiting every finding that changed since.
-- Each finding adds:
--   opened   +1 on the day of its first sighting;
--   closed   +1 on the day it stopped being open, MAX(resolved_at, first_seen_at) (a finding
--            resolved "before" its first sighting was never open: both on one day, net zero);
--   resolved +1 on the day of resolved_at, and fixed or ignored +1 there by its status.
-- So the findings open at the end of day D are the open counters now less the sum of
-- (opened - closed) over the days after D. Reads add the rows of a partial day (a period in a
-- zone that is not UTC) from the findings themselves. `bulwark check counters` recounts them.
-- They replace `vulnerability_risks`: a vulnerability's open findings at a moment are its
-- (opened - closed) summed up to that day, so ingestion pays one trigger statement per finding
-- for both (each statement a trigger runs costs a bulk load about a fifth of its rate).
DROP TRIGGER findings_vulnerability_open_insert;
DROP TRIGGER findings_vulnerability_open_delete;
DROP TRIGGER findings_vulnerability_open_update;
DROP TABLE vulnerability_risks;
CREATE TABLE finding_days (
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day              INTEGER NOT NULL,
    vulnerability_id INTEGER NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    opened           INTEGER NOT NULL DEFAULT 0,
    closed           INTEGER NOT NULL DEFAULT 0,
    resolved         INTEGER NOT NULL DEFAULT 0,
    fixed            INTEGER NOT NULL DEFAULT 0,
    ignored          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day, vulnerability_id)
) WITHOUT ROWID;
CREATE INDEX finding_days_vulnerability ON finding_days (vulnerability_id);

INSERT INTO finding_days (account_id, day, vulnerability_id, opened, closed, resolved, fixed, ignored)
SELECT account_id, day, vulnerability_id, SUM(opened), SUM(closed), SUM(resolved), SUM(fixed), SUM(ignored) FROM (
    SELECT account_id, first_seen_at / 86400 AS day, vulnerability_id, 1 AS opened, 0 AS closed, 0 AS resolved, 0 AS fixed, 0 AS ignored FROM findings
    UNION ALL
    SELECT account_id, MAX(resolved_at, first_seen_at) / 86400, vulnerability_id, 0, 1, 0, 0, 0 FROM findings WHERE resolved_at IS NOT NULL
    UNION ALL
    SELECT account_id, resolved_at / 86400, vulnerability_id, 0, 0, 1, status = 'fixed', status = 'ignored' FROM findings WHERE resolved_at IS NOT NULL
) GROUP BY account_id, day, vulnerability_id;

CREATE TRIGGER finding_days_insert AFTER INSERT ON findings BEGIN
    INSERT INTO finding_days (account_id, day, vulnerability_id, opened) VALUES (new.account_id, new.first_seen_at / 86400, new.vulnerability_id, 1)
    ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET opened = opened + 1;
    INSERT INTO finding_days (account_id, day, vulnerability_id, closed)
    SELECT new.account_id, MAX(new.resolved_at, new.first_seen_at) / 86400, new.vulnerability_id, 1 WHERE new.resolved_at IS NOT NULL
    ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET closed = closed + 1;
    INSERT INTO finding_days (account_id, day, vulnerability_id, resolved, fixed, ignored)
    SELECT new.account_id, new.resolved_at / 86400, new.vulnerability_id, 1, new.status = 'fixed', new.status = 'ignored' WHERE new.resolved_at IS NOT NULL
    ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET resolved = resolved + 1, fixed = fixed + excluded.fixed, ignored = ignored + excluded.ignored;
END;

-- Decrements only update (during a cascade that deletes the account its rows may be gone).
CREATE TRIGGER finding_days_delete AFTER DELETE ON findings BEGIN
    UPDATE finding_days SET opened = opened - 1
    WHERE account_id = old.account_id AND day = old.first_seen_at / 86400 AND vulnerability_id = old.vulnerability_id;
    UPDATE finding_days SET closed = closed - 1
    WHERE old.resolved_at IS NOT NULL AND account_id = old.account_id AND day = MAX(old.resolved_at, old.first_seen_at) / 86400 AND vulnerability_id = old.vulnerability_id;
    UPDATE finding_days SET resolved = resolved - 1, fixed = fixed - (old.status = 'fixed'), ignored = ignored - (old.status = 'ignored')
    WHERE old.resolved_at IS NOT NULL AND account_id = old.account_id AND day = old.resolved_at / 86400 AND vulnerability_id = old.vulnerability_id;
END;

-- A change to anything a finding adds: take the old row's share away, add the new row's.
CREATE TRIGGER finding_days_update AFTER UPDATE OF account_id, vulnerability_id, status, first_seen_at, resolved_at ON findings
WHEN old.account_id <> new.account_id OR old.vulnerability_id <> new.vulnerability_id OR old.first_seen_at <> new.first_seen_at
  OR old.resolved_at IS NOT new.resolved_at OR (new.resolved_at IS NOT NULL AND old.status <> new.status) BEGIN
    UPDATE finding_days SET opened = opened - 1
    WHERE account_id = old.account_id AND day = old.first_seen_at / 86400 AND vulnerability_id = old.vulnerability_id;
    UPDATE finding_days SET closed = closed - 1
    WHERE old.resolved_at IS NOT NULL AND account_id = old.account_id AND day = MAX(old.resolved_at, old.first_seen_at) / 86400 AND vulnerability_id = old.vulnerability_id;
    UPDATE finding_days SET resolved = resolved - 1, fixed = fixed - (old.status = 'fixed'), ignored = ignored - (old.status = 'ignored')
    WHERE old.resolved_at IS NOT NULL AND account_id = old.account_id AND day = old.resolved_at / 86400 AND vulnerability_id = old.vulnerability_id;
    INSERT INTO finding_days (account_id, day, vulnerability_id, opened) VALUES (new.account_id, new.first_seen_at / 86400, new.vulnerability_id, 1)
    ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET opened = opened + 1;
    INSERT INTO finding_days (account_id, day, vulnerability_id, closed)
    SELECT new.account_id, MAX(new.resolved_at, new.first_seen_at) / 86400, new.vulnerability_id, 1 WHERE new.resolved_at IS NOT NULL
    ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET closed = closed + 1;
    INSERT INTO finding_days (account_id, day, vulnerability_id, resolved, fixed, ignored)
    SELECT new.account_id, new.resolved_at / 86400, new.vulnerability_id, 1, new.status = 'fixed', new.status = 'ignored' WHERE new.resolved_at IS NOT NULL
    ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET resolved = resolved + 1, fixed = fixed + excluded.fixed, ignored = ignored + excluded.ignored;
END;
