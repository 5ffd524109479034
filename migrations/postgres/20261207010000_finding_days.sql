-- Findings' daily flows per account, UTC day and vulnerability, kept per statement like the
-- findings' counters (see the SQLite migration of the same name for what each column counts).
-- They replace `vulnerability_risks` (a vulnerability's open findings are its flows summed).
DROP TRIGGER findings_vulnerability_counters_insert ON findings;
DROP TRIGGER findings_vulnerability_counters_delete ON findings;
DROP TRIGGER findings_vulnerability_counters_update ON findings;
DROP FUNCTION findings_vulnerability_counters_insert();
DROP FUNCTION findings_vulnerability_counters_delete();
DROP FUNCTION findings_vulnerability_counters_update();
DROP TABLE vulnerability_risks;
CREATE TABLE finding_days (
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day              BIGINT NOT NULL,
    vulnerability_id BIGINT NOT NULL REFERENCES vulnerabilities (id) ON DELETE CASCADE,
    opened           BIGINT NOT NULL DEFAULT 0,
    closed           BIGINT NOT NULL DEFAULT 0,
    resolved         BIGINT NOT NULL DEFAULT 0,
    fixed            BIGINT NOT NULL DEFAULT 0,
    ignored          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day, vulnerability_id)
);
CREATE INDEX finding_days_vulnerability ON finding_days (vulnerability_id);

INSERT INTO finding_days (account_id, day, vulnerability_id, opened, closed, resolved, fixed, ignored)
SELECT account_id, day, vulnerability_id, SUM(opened), SUM(closed), SUM(resolved), SUM(fixed), SUM(ignored) FROM (
    SELECT account_id, first_seen_at / 86400 AS day, vulnerability_id, 1 AS opened, 0 AS closed, 0 AS resolved, 0 AS fixed, 0 AS ignored FROM findings
    UNION ALL
    SELECT account_id, GREATEST(resolved_at, first_seen_at) / 86400, vulnerability_id, 0, 1, 0, 0, 0 FROM findings WHERE resolved_at IS NOT NULL
    UNION ALL
    SELECT account_id, resolved_at / 86400, vulnerability_id, 0, 0, 1, (status = 'fixed')::INTEGER, (status = 'ignored')::INTEGER FROM findings WHERE resolved_at IS NOT NULL
) shares GROUP BY account_id, day, vulnerability_id;

-- New findings add their shares; deleted ones take theirs away (updates only: during a cascade
-- that deletes the account its rows may be gone); an update that changes a share does both,
-- netted per row of finding_days. Rows are written in key order, as the counters are.
CREATE FUNCTION finding_days_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finding_days (account_id, day, vulnerability_id, opened, closed, resolved, fixed, ignored)
    SELECT account_id, day, vulnerability_id, SUM(opened), SUM(closed), SUM(resolved), SUM(fixed), SUM(ignored) FROM (
        SELECT account_id, first_seen_at / 86400 AS day, vulnerability_id, 1 AS opened, 0 AS closed, 0 AS resolved, 0 AS fixed, 0 AS ignored FROM new_rows
        UNION ALL
        SELECT account_id, GREATEST(resolved_at, first_seen_at) / 86400, vulnerability_id, 0, 1, 0, 0, 0 FROM new_rows WHERE resolved_at IS NOT NULL
        UNION ALL
        SELECT account_id, resolved_at / 86400, vulnerability_id, 0, 0, 1, (status = 'fixed')::INTEGER, (status = 'ignored')::INTEGER FROM new_rows WHERE resolved_at IS NOT NULL
    ) shares GROUP BY account_id, day, vulnerability_id ORDER BY 1, 2, 3
    ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET
        opened = finding_days.opened + excluded.opened, closed = finding_days.closed + excluded.closed,
        resolved = finding_days.resolved + excluded.resolved, fixed = finding_days.fixed + excluded.fixed,
        ignored = finding_days.ignored + excluded.ignored;
    RETURN NULL;
END $$;
CREATE TRIGGER finding_days_insert AFTER INSERT ON findings
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_days_insert();

CREATE FUNCTION finding_days_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE finding_days f SET opened = f.opened - d.opened, closed = f.closed - d.closed, resolved = f.resolved - d.resolved,
        fixed = f.fixed - d.fixed, ignored = f.ignored - d.ignored
    FROM (SELECT account_id, day, vulnerability_id, SUM(opened) AS opened, SUM(closed) AS closed, SUM(resolved) AS resolved,
                 SUM(fixed) AS fixed, SUM(ignored) AS ignored FROM (
        SELECT account_id, first_seen_at / 86400 AS day, vulnerability_id, 1 AS opened, 0 AS closed, 0 AS resolved, 0 AS fixed, 0 AS ignored FROM old_rows
        UNION ALL
        SELECT account_id, GREATEST(resolved_at, first_seen_at) / 86400, vulnerability_id, 0, 1, 0, 0, 0 FROM old_rows WHERE resolved_at IS NOT NULL
        UNION ALL
        SELECT account_id, resolved_at / 86400, vulnerability_id, 0, 0, 1, (status = 'fixed')::INTEGER, (status = 'ignored')::INTEGER FROM old_rows WHERE resolved_at IS NOT NULL
    ) shares GROUP BY account_id, day, vulnerability_id ORDER BY 1, 2, 3) d
    WHERE f.account_id = d.account_id AND f.day = d.day AND f.vulnerability_id = d.vulnerability_id;
    RETURN NULL;
END $$;
CREATE TRIGGER finding_days_delete AFTER DELETE ON findings
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_days_delete();

CREATE FUNCTION finding_days_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH pairs AS (
        SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.account_id <> n.account_id OR o.vulnerability_id <> n.vulnerability_id OR o.first_seen_at <> n.first_seen_at
           OR o.resolved_at IS DISTINCT FROM n.resolved_at OR (n.resolved_at IS NOT NULL AND o.status <> n.status)
    ), changed_new AS (
        SELECT n.* FROM new_rows n JOIN pairs p ON p.id = n.id
    ), changed_old AS (
        SELECT o.* FROM old_rows o JOIN pairs p ON p.id = o.id
    )
    INSERT INTO finding_days (account_id, day, vulnerability_id, opened, closed, resolved, fixed, ignored)
    SELECT account_id, day, vulnerability_id, SUM(sign * opened), SUM(sign * closed), SUM(sign * resolved), SUM(sign * fixed), SUM(sign * ignored)
    FROM (
        SELECT 1 AS sign, shares.* FROM (
            SELECT account_id, first_seen_at / 86400 AS day, vulnerability_id, 1 AS opened, 0 AS closed, 0 AS resolved, 0 AS fixed, 0 AS ignored FROM changed_new
            UNION ALL
            SELECT account_id, GREATEST(resolved_at, first_seen_at) / 86400, vulnerability_id, 0, 1, 0, 0, 0 FROM changed_new WHERE resolved_at IS NOT NULL
            UNION ALL
            SELECT account_id, resolved_at / 86400, vulnerability_id, 0, 0, 1, (status = 'fixed')::INTEGER, (status = 'ignored')::INTEGER FROM changed_new WHERE resolved_at IS NOT NULL
        ) shares
        UNION ALL
        SELECT -1, shares.* FROM (
            SELECT account_id, first_seen_at / 86400 AS day, vulnerability_id, 1 AS opened, 0 AS closed, 0 AS resolved, 0 AS fixed, 0 AS ignored FROM changed_old
            UNION ALL
            SELECT account_id, GREATEST(resolved_at, first_seen_at) / 86400, vulnerability_id, 0, 1, 0, 0, 0 FROM changed_old WHERE resolved_at IS NOT NULL
            UNION ALL
            SELECT account_id, resolved_at / 86400, vulnerability_id, 0, 0, 1, (status = 'fixed')::INTEGER, (status = 'ignored')::INTEGER FROM changed_old WHERE resolved_at IS NOT NULL
        ) shares
    ) delta GROUP BY account_id, day, vulnerability_id
    HAVING SUM(sign * opened) <> 0 OR SUM(sign * closed) <> 0 OR SUM(sign * resolved) <> 0 OR SUM(sign * fixed) <> 0 OR SUM(sign * ignored) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET
        opened = finding_days.opened + excluded.opened, closed = finding_days.closed + excluded.closed,
        resolved = finding_days.resolved + excluded.resolved, fixed = finding_days.fixed + excluded.fixed,
        ignored = finding_days.ignored + excluded.ignored;
    RETURN NULL;
END $$;
CREATE TRIGGER finding_days_update AFTER UPDATE ON findings
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_days_update();
