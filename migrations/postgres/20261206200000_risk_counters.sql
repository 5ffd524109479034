-- Open-risk counters, kept by triggers in the same transaction as every change to findings,
-- alerts and baseline results (whichever code path makes it), so pages read a handful of rows
-- instead of counting every open finding. "Open" means resolved_at IS NULL. `bulwark check
-- counters` recounts and repairs. See the SQLite migration of the same name for the layout.
CREATE TABLE risk_counters (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    severity   TEXT   NOT NULL,
    category   TEXT   NOT NULL DEFAULT '',
    open_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, kind, severity, category)
);
ALTER TABLE assets
    ADD COLUMN open_vulnerabilities BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN open_alerts BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN baseline_risks BIGINT NOT NULL DEFAULT 0;

INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
SELECT f.account_id, 'vulnerability', v.severity, v.category, COUNT(*)
FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id WHERE f.resolved_at IS NULL
GROUP BY f.account_id, v.severity, v.category;
INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
SELECT account_id, 'alert', severity, '', COUNT(*) FROM alerts WHERE resolved_at IS NULL GROUP BY account_id, severity;
INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
SELECT account_id, 'baseline', risk_level, '', COUNT(*) FROM baseline_results WHERE resolved_at IS NULL GROUP BY account_id, risk_level;
UPDATE assets SET
    open_vulnerabilities = (SELECT COUNT(*) FROM findings f WHERE f.asset_id = assets.id AND f.resolved_at IS NULL),
    open_alerts = (SELECT COUNT(*) FROM alerts a WHERE a.asset_id = assets.id AND a.resolved_at IS NULL),
    baseline_risks = (SELECT COUNT(*) FROM baseline_results b WHERE b.asset_id = assets.id AND b.resolved_at IS NULL);

-- Adds `delta` to one counter. Decrements only update: during a cascade that deletes the
-- account, its counters may be gone already, and inserting one would break the foreign key.
CREATE FUNCTION risk_counter_add(a BIGINT, k TEXT, s TEXT, c TEXT, delta BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF delta > 0 THEN
        INSERT INTO risk_counters (account_id, kind, severity, category, open_count) VALUES (a, k, s, c, delta)
        ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = risk_counters.open_count + excluded.open_count;
    ELSIF delta < 0 THEN
        UPDATE risk_counters SET open_count = open_count + delta WHERE account_id = a AND kind = k AND severity = s AND category = c;
    END IF;
END $$;

-- An insert, update or delete that opens, closes or moves an open row: the old row leaves, the
-- new one arrives. Re-sighting an open finding changes nothing.
CREATE FUNCTION findings_counters() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sev TEXT;
    cat TEXT;
    moved BOOLEAN := TG_OP = 'UPDATE' AND (NEW.asset_id <> OLD.asset_id OR NEW.vulnerability_id <> OLD.vulnerability_id);
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.resolved_at IS NULL AND (TG_OP = 'DELETE' OR NEW.resolved_at IS NOT NULL OR moved) THEN
        SELECT severity, category INTO sev, cat FROM vulnerabilities WHERE id = OLD.vulnerability_id;
        PERFORM risk_counter_add(OLD.account_id, 'vulnerability', sev, cat, -1);
        UPDATE assets SET open_vulnerabilities = open_vulnerabilities - 1 WHERE id = OLD.asset_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.resolved_at IS NULL AND (TG_OP = 'INSERT' OR OLD.resolved_at IS NOT NULL OR moved) THEN
        SELECT severity, category INTO sev, cat FROM vulnerabilities WHERE id = NEW.vulnerability_id;
        PERFORM risk_counter_add(NEW.account_id, 'vulnerability', sev, cat, 1);
        UPDATE assets SET open_vulnerabilities = open_vulnerabilities + 1 WHERE id = NEW.asset_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER findings_counters AFTER INSERT OR DELETE OR UPDATE OF resolved_at, asset_id, vulnerability_id ON findings
FOR EACH ROW EXECUTE FUNCTION findings_counters();

-- A vulnerability whose severity or category changes moves its open findings with it.
CREATE FUNCTION vulnerabilities_reclassify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    IF NEW.severity IS DISTINCT FROM OLD.severity OR NEW.category IS DISTINCT FROM OLD.category THEN
        SELECT COUNT(*) INTO n FROM findings WHERE vulnerability_id = OLD.id AND resolved_at IS NULL;
        PERFORM risk_counter_add(OLD.account_id, 'vulnerability', OLD.severity, OLD.category, -n);
        PERFORM risk_counter_add(NEW.account_id, 'vulnerability', NEW.severity, NEW.category, n);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER vulnerabilities_reclassify AFTER UPDATE OF severity, category ON vulnerabilities
FOR EACH ROW EXECUTE FUNCTION vulnerabilities_reclassify();

CREATE FUNCTION alerts_counters() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved BOOLEAN := TG_OP = 'UPDATE' AND (NEW.severity <> OLD.severity OR NEW.asset_id IS DISTINCT FROM OLD.asset_id);
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.resolved_at IS NULL AND (TG_OP = 'DELETE' OR NEW.resolved_at IS NOT NULL OR moved) THEN
        PERFORM risk_counter_add(OLD.account_id, 'alert', OLD.severity, '', -1);
        UPDATE assets SET open_alerts = open_alerts - 1 WHERE id = OLD.asset_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.resolved_at IS NULL AND (TG_OP = 'INSERT' OR OLD.resolved_at IS NOT NULL OR moved) THEN
        PERFORM risk_counter_add(NEW.account_id, 'alert', NEW.severity, '', 1);
        UPDATE assets SET open_alerts = open_alerts + 1 WHERE id = NEW.asset_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER alerts_counters AFTER INSERT OR DELETE OR UPDATE OF resolved_at, severity, asset_id ON alerts
FOR EACH ROW EXECUTE FUNCTION alerts_counters();

CREATE FUNCTION baseline_counters() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved BOOLEAN := TG_OP = 'UPDATE' AND (NEW.risk_level <> OLD.risk_level OR NEW.asset_id <> OLD.asset_id);
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.resolved_at IS NULL AND (TG_OP = 'DELETE' OR NEW.resolved_at IS NOT NULL OR moved) THEN
        PERFORM risk_counter_add(OLD.account_id, 'baseline', OLD.risk_level, '', -1);
        UPDATE assets SET baseline_risks = baseline_risks - 1 WHERE id = OLD.asset_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.resolved_at IS NULL AND (TG_OP = 'INSERT' OR OLD.resolved_at IS NOT NULL OR moved) THEN
        PERFORM risk_counter_add(NEW.account_id, 'baseline', NEW.risk_level, '', 1);
        UPDATE assets SET baseline_risks = baseline_risks + 1 WHERE id = NEW.asset_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER baseline_counters AFTER INSERT OR DELETE OR UPDATE OF resolved_at, risk_level, asset_id ON baseline_results
FOR EACH ROW EXECUTE FUNCTION baseline_counters();

-- Jobs that one replica at a time runs (the counters' reconcile): who holds each, until when.
CREATE TABLE job_leases (
    name   TEXT   PRIMARY KEY,
    holder TEXT   NOT NULL,
    until  BIGINT NOT NULL
);
