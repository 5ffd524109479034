-- Findings' open-risk counters per statement instead of per row: a bulk upsert of hundreds of
-- findings runs one aggregate over its transition tables instead of a PL/pgSQL call and three
-- statements per row. PostgreSQL allows transition tables only on single-event triggers
-- without a column list, so there are three triggers, and the UPDATE one sees every update
-- (a re-sighting too) and counts only the rows that opened, closed or moved. Counters are
-- written in key order, so concurrent batches take their row locks in the same order.
DROP TRIGGER findings_counters ON findings;
DROP FUNCTION findings_counters();

-- New open rows: positive deltas per (account, severity, category) and per asset.
CREATE FUNCTION findings_counters_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT n.account_id, 'vulnerability', v.severity, v.category, COUNT(*)
    FROM new_rows n JOIN vulnerabilities v ON v.id = n.vulnerability_id
    WHERE n.resolved_at IS NULL
    GROUP BY n.account_id, v.severity, v.category ORDER BY 1, 3, 4
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = risk_counters.open_count + excluded.open_count;
    INSERT INTO asset_risks (asset_id, open_vulnerabilities)
    SELECT asset_id, COUNT(*) FROM new_rows WHERE resolved_at IS NULL AND asset_id IS NOT NULL
    GROUP BY asset_id ORDER BY asset_id
    ON CONFLICT (asset_id) DO UPDATE SET open_vulnerabilities = asset_risks.open_vulnerabilities + excluded.open_vulnerabilities;
    RETURN NULL;
END $$;
CREATE TRIGGER findings_counters_insert AFTER INSERT ON findings
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION findings_counters_insert();

-- Decrements only update (during a cascade that deletes the account its counters may be gone).
CREATE FUNCTION findings_counters_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE risk_counters c SET open_count = c.open_count - d.n
    FROM (SELECT o.account_id, v.severity, v.category, COUNT(*) AS n
          FROM old_rows o JOIN vulnerabilities v ON v.id = o.vulnerability_id
          WHERE o.resolved_at IS NULL GROUP BY o.account_id, v.severity, v.category ORDER BY 1, 2, 3) d
    WHERE c.account_id = d.account_id AND c.kind = 'vulnerability' AND c.severity = d.severity AND c.category = d.category;
    UPDATE asset_risks r SET open_vulnerabilities = r.open_vulnerabilities - d.n
    FROM (SELECT asset_id, COUNT(*) AS n FROM old_rows WHERE resolved_at IS NULL GROUP BY asset_id ORDER BY asset_id) d
    WHERE r.asset_id = d.asset_id;
    RETURN NULL;
END $$;
CREATE TRIGGER findings_counters_delete AFTER DELETE ON findings
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION findings_counters_delete();

-- An update that opens, closes or moves an open row: the old row leaves (-1), the new one
-- arrives (+1). Net deltas are applied in one statement (data-modifying CTEs always run):
-- positive ones as upserts, negative ones as updates.
CREATE FUNCTION findings_counters_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    done INTEGER;
BEGIN
    WITH changes AS (
        SELECT o.account_id, o.asset_id, o.vulnerability_id, -1 AS delta
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.resolved_at IS NULL AND (n.resolved_at IS NOT NULL
            OR n.asset_id IS DISTINCT FROM o.asset_id OR n.vulnerability_id <> o.vulnerability_id)
        UNION ALL
        SELECT n.account_id, n.asset_id, n.vulnerability_id, 1
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.resolved_at IS NULL AND (o.resolved_at IS NOT NULL
            OR n.asset_id IS DISTINCT FROM o.asset_id OR n.vulnerability_id <> o.vulnerability_id)
    ), per_counter AS (
        SELECT c.account_id, v.severity, v.category, SUM(c.delta) AS n
        FROM changes c JOIN vulnerabilities v ON v.id = c.vulnerability_id
        GROUP BY c.account_id, v.severity, v.category
    ), counters_up AS (
        INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
        SELECT account_id, 'vulnerability', severity, category, n FROM per_counter WHERE n > 0 ORDER BY 1, 3, 4
        ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = risk_counters.open_count + excluded.open_count
        RETURNING 1
    ), counters_down AS (
        UPDATE risk_counters r SET open_count = r.open_count + d.n FROM per_counter d
        WHERE d.n < 0 AND r.account_id = d.account_id AND r.kind = 'vulnerability' AND r.severity = d.severity AND r.category = d.category
        RETURNING 1
    ), per_asset AS (
        SELECT asset_id, SUM(delta) AS n FROM changes WHERE asset_id IS NOT NULL GROUP BY asset_id
    ), assets_up AS (
        INSERT INTO asset_risks (asset_id, open_vulnerabilities)
        SELECT asset_id, n FROM per_asset WHERE n > 0 ORDER BY asset_id
        ON CONFLICT (asset_id) DO UPDATE SET open_vulnerabilities = asset_risks.open_vulnerabilities + excluded.open_vulnerabilities
        RETURNING 1
    ), assets_down AS (
        UPDATE asset_risks r SET open_vulnerabilities = r.open_vulnerabilities + d.n FROM per_asset d
        WHERE d.n < 0 AND r.asset_id = d.asset_id
        RETURNING 1
    )
    SELECT 1 INTO done;
    RETURN NULL;
END $$;
CREATE TRIGGER findings_counters_update AFTER UPDATE ON findings
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION findings_counters_update();
