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
CREATE TABLE asset_risks (
    asset_id             BIGINT PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    open_vulnerabilities BIGINT NOT NULL DEFAULT 0,
    open_alerts          BIGINT NOT NULL DEFAULT 0,
    baseline_risks       BIGINT NOT NULL DEFAULT 0
);

INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
SELECT f.account_id, 'vulnerability', v.severity, v.category, COUNT(*)
FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id WHERE f.resolved_at IS NULL
GROUP BY f.account_id, v.severity, v.category;
INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
SELECT account_id, 'alert', severity, '', COUNT(*) FROM alerts WHERE resolved_at IS NULL GROUP BY account_id, severity;
INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
SELECT account_id, 'baseline', risk_level, '', COUNT(*) FROM baseline_results WHERE resolved_at IS NULL GROUP BY account_id, risk_level;
INSERT INTO asset_risks (asset_id, open_vulnerabilities, open_alerts, baseline_risks)
SELECT id,
    (SELECT COUNT(*) FROM findings f WHERE f.asset_id = assets.id AND f.resolved_at IS NULL),
    (SELECT COUNT(*) FROM alerts a WHERE a.asset_id = assets.id AND a.resolved_at IS NULL),
    (SELECT COUNT(*) FROM baseline_results b WHERE b.asset_id = assets.id AND b.resolved_at IS NULL)
FROM assets;

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
        UPDATE asset_risks SET open_vulnerabilities = open_vulnerabilities - 1 WHERE asset_id = OLD.asset_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.resolved_at IS NULL AND (TG_OP = 'INSERT' OR OLD.resolved_at IS NOT NULL OR moved) THEN
        SELECT severity, category INTO sev, cat FROM vulnerabilities WHERE id = NEW.vulnerability_id;
        PERFORM risk_counter_add(NEW.account_id, 'vulnerability', sev, cat, 1);
        INSERT INTO asset_risks (asset_id, open_vulnerabilities) SELECT NEW.asset_id, 1 WHERE NEW.asset_id IS NOT NULL
        ON CONFLICT (asset_id) DO UPDATE SET open_vulnerabilities = asset_risks.open_vulnerabilities + 1;
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
        UPDATE asset_risks SET open_alerts = open_alerts - 1 WHERE asset_id = OLD.asset_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.resolved_at IS NULL AND (TG_OP = 'INSERT' OR OLD.resolved_at IS NOT NULL OR moved) THEN
        PERFORM risk_counter_add(NEW.account_id, 'alert', NEW.severity, '', 1);
        INSERT INTO asset_risks (asset_id, open_alerts) SELECT NEW.asset_id, 1 WHERE NEW.asset_id IS NOT NULL
        ON CONFLICT (asset_id) DO UPDATE SET open_alerts = asset_risks.open_alerts + 1;
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
        UPDATE asset_risks SET baseline_risks = baseline_risks - 1 WHERE asset_id = OLD.asset_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.resolved_at IS NULL AND (TG_OP = 'INSERT' OR OLD.resolved_at IS NOT NULL OR moved) THEN
        PERFORM risk_counter_add(NEW.account_id, 'baseline', NEW.risk_level, '', 1);
        INSERT INTO asset_risks (asset_id, baseline_risks) SELECT NEW.asset_id, 1 WHERE NEW.asset_id IS NOT NULL
        ON CONFLICT (asset_id) DO UPDATE SET baseline_risks = asset_risks.baseline_risks + 1;
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

-- ---- assets per group (see the SQLite migration) -------------------------------------------
CREATE TABLE asset_counters (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    group_id   BIGINT NOT NULL,
    total      BIGINT NOT NULL DEFAULT 0,
    online     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, group_id)
);
INSERT INTO asset_counters (account_id, group_id, total, online)
SELECT account_id, COALESCE(group_id, 0), COUNT(*), SUM(CASE WHEN agent_status = 'online' THEN 1 ELSE 0 END)
FROM assets GROUP BY account_id, COALESCE(group_id, 0);

CREATE FUNCTION assets_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.group_id IS NOT DISTINCT FROM OLD.group_id AND NEW.agent_status = OLD.agent_status THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        UPDATE asset_counters SET total = total - 1, online = online - CASE WHEN OLD.agent_status = 'online' THEN 1 ELSE 0 END
        WHERE account_id = OLD.account_id AND group_id = COALESCE(OLD.group_id, 0);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO asset_counters (account_id, group_id, total, online)
        VALUES (NEW.account_id, COALESCE(NEW.group_id, 0), 1, CASE WHEN NEW.agent_status = 'online' THEN 1 ELSE 0 END)
        ON CONFLICT (account_id, group_id) DO UPDATE SET total = asset_counters.total + 1, online = asset_counters.online + excluded.online;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER assets_counters AFTER INSERT OR DELETE OR UPDATE OF group_id, agent_status ON assets
FOR EACH ROW EXECUTE FUNCTION assets_counters();
