-- Open-risk counters, kept by triggers in the same transaction as every change to findings,
-- alerts and baseline results (whichever code path makes it: ingestion, agents, Trivy, playbook
-- fixes, resolves, deletions), so pages read a handful of rows instead of counting every open
-- finding. "Open" means resolved_at IS NULL. `bulwark check counters` recounts and repairs.
--
-- Per account: open counts by kind ('vulnerability', 'alert', 'baseline'), severity and, for
-- vulnerabilities, category ('' for the others). Decrements are plain UPDATEs, so a cascade that
-- deletes the account's counters first leaves nothing to write.
CREATE TABLE risk_counters (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    severity   TEXT    NOT NULL,
    category   TEXT    NOT NULL DEFAULT '',
    open_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, kind, severity, category)
);
-- Per asset: what the Assets list shows on each row.
ALTER TABLE assets ADD COLUMN open_vulnerabilities INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN open_alerts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN baseline_risks INTEGER NOT NULL DEFAULT 0;

-- Backfill from the rows that exist.
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

-- ---- findings ------------------------------------------------------------------------------
CREATE TRIGGER findings_open_insert AFTER INSERT ON findings WHEN new.resolved_at IS NULL BEGIN
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'vulnerability', v.severity, v.category, 1 FROM vulnerabilities v WHERE v.id = new.vulnerability_id
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    UPDATE assets SET open_vulnerabilities = open_vulnerabilities + 1 WHERE id = new.asset_id;
END;
CREATE TRIGGER findings_open_delete AFTER DELETE ON findings WHEN old.resolved_at IS NULL BEGIN
    UPDATE risk_counters SET open_count = open_count - 1
    WHERE account_id = old.account_id AND kind = 'vulnerability'
      AND (severity, category) = (SELECT v.severity, v.category FROM vulnerabilities v WHERE v.id = old.vulnerability_id);
    UPDATE assets SET open_vulnerabilities = open_vulnerabilities - 1 WHERE id = old.asset_id;
END;
-- An update that opens, closes or moves an open row is the old row leaving and the new one
-- arriving; re-sighting an open finding (resolved_at NULL again) changes nothing.
CREATE TRIGGER findings_open_update AFTER UPDATE OF resolved_at, asset_id, vulnerability_id ON findings
WHEN (old.resolved_at IS NULL) <> (new.resolved_at IS NULL)
  OR (old.resolved_at IS NULL AND (old.asset_id <> new.asset_id OR old.vulnerability_id <> new.vulnerability_id)) BEGIN
    UPDATE risk_counters SET open_count = open_count - 1
    WHERE old.resolved_at IS NULL AND account_id = old.account_id AND kind = 'vulnerability'
      AND (severity, category) = (SELECT v.severity, v.category FROM vulnerabilities v WHERE v.id = old.vulnerability_id);
    UPDATE assets SET open_vulnerabilities = open_vulnerabilities - 1 WHERE old.resolved_at IS NULL AND id = old.asset_id;
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'vulnerability', v.severity, v.category, 1 FROM vulnerabilities v
    WHERE new.resolved_at IS NULL AND v.id = new.vulnerability_id
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    UPDATE assets SET open_vulnerabilities = open_vulnerabilities + 1 WHERE new.resolved_at IS NULL AND id = new.asset_id;
END;
-- A vulnerability whose severity or category changes moves its open findings with it.
CREATE TRIGGER vulnerabilities_reclassify AFTER UPDATE OF severity, category ON vulnerabilities
WHEN old.severity IS NOT new.severity OR old.category IS NOT new.category BEGIN
    UPDATE risk_counters SET open_count = open_count
        - (SELECT COUNT(*) FROM findings f WHERE f.vulnerability_id = old.id AND f.resolved_at IS NULL)
    WHERE account_id = old.account_id AND kind = 'vulnerability' AND severity = old.severity AND category = old.category;
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'vulnerability', new.severity, new.category, COUNT(*)
    FROM findings f WHERE f.vulnerability_id = new.id AND f.resolved_at IS NULL
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + excluded.open_count;
END;

-- ---- alerts --------------------------------------------------------------------------------
CREATE TRIGGER alerts_open_insert AFTER INSERT ON alerts WHEN new.resolved_at IS NULL BEGIN
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count) VALUES (new.account_id, 'alert', new.severity, '', 1)
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    UPDATE assets SET open_alerts = open_alerts + 1 WHERE id = new.asset_id;
END;
CREATE TRIGGER alerts_open_delete AFTER DELETE ON alerts WHEN old.resolved_at IS NULL BEGIN
    UPDATE risk_counters SET open_count = open_count - 1 WHERE account_id = old.account_id AND kind = 'alert' AND severity = old.severity AND category = '';
    UPDATE assets SET open_alerts = open_alerts - 1 WHERE id = old.asset_id;
END;
CREATE TRIGGER alerts_open_update AFTER UPDATE OF resolved_at, severity, asset_id ON alerts
WHEN (old.resolved_at IS NULL) <> (new.resolved_at IS NULL)
  OR (old.resolved_at IS NULL AND (old.severity <> new.severity OR old.asset_id IS NOT new.asset_id)) BEGIN
    UPDATE risk_counters SET open_count = open_count - 1
    WHERE old.resolved_at IS NULL AND account_id = old.account_id AND kind = 'alert' AND severity = old.severity AND category = '';
    UPDATE assets SET open_alerts = open_alerts - 1 WHERE old.resolved_at IS NULL AND id = old.asset_id;
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'alert', new.severity, '', 1 WHERE new.resolved_at IS NULL
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    UPDATE assets SET open_alerts = open_alerts + 1 WHERE new.resolved_at IS NULL AND id = new.asset_id;
END;

-- ---- baseline results ----------------------------------------------------------------------
CREATE TRIGGER baseline_open_insert AFTER INSERT ON baseline_results WHEN new.resolved_at IS NULL BEGIN
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count) VALUES (new.account_id, 'baseline', new.risk_level, '', 1)
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    UPDATE assets SET baseline_risks = baseline_risks + 1 WHERE id = new.asset_id;
END;
CREATE TRIGGER baseline_open_delete AFTER DELETE ON baseline_results WHEN old.resolved_at IS NULL BEGIN
    UPDATE risk_counters SET open_count = open_count - 1 WHERE account_id = old.account_id AND kind = 'baseline' AND severity = old.risk_level AND category = '';
    UPDATE assets SET baseline_risks = baseline_risks - 1 WHERE id = old.asset_id;
END;
CREATE TRIGGER baseline_open_update AFTER UPDATE OF resolved_at, risk_level, asset_id ON baseline_results
WHEN (old.resolved_at IS NULL) <> (new.resolved_at IS NULL)
  OR (old.resolved_at IS NULL AND (old.risk_level <> new.risk_level OR old.asset_id <> new.asset_id)) BEGIN
    UPDATE risk_counters SET open_count = open_count - 1
    WHERE old.resolved_at IS NULL AND account_id = old.account_id AND kind = 'baseline' AND severity = old.risk_level AND category = '';
    UPDATE assets SET baseline_risks = baseline_risks - 1 WHERE old.resolved_at IS NULL AND id = old.asset_id;
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'baseline', new.risk_level, '', 1 WHERE new.resolved_at IS NULL
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    UPDATE assets SET baseline_risks = baseline_risks + 1 WHERE new.resolved_at IS NULL AND id = new.asset_id;
END;

-- Jobs that one replica at a time runs (the counters' reconcile): who holds each, until when.
CREATE TABLE job_leases (
    name   TEXT   PRIMARY KEY,
    holder TEXT   NOT NULL,
    until  BIGINT NOT NULL
);
