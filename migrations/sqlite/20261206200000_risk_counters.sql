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
-- Per asset: what the Assets list shows on each row. A table of its own, narrow, so that
-- counting does not rewrite the wide, much-indexed asset row (on PostgreSQL every update of
-- a row is a new version of it).
CREATE TABLE asset_risks (
    asset_id             INTEGER PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    open_vulnerabilities INTEGER NOT NULL DEFAULT 0,
    open_alerts          INTEGER NOT NULL DEFAULT 0,
    baseline_risks       INTEGER NOT NULL DEFAULT 0
);

-- Backfill from the rows that exist.
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

-- ---- findings ------------------------------------------------------------------------------
CREATE TRIGGER findings_open_insert AFTER INSERT ON findings WHEN new.resolved_at IS NULL BEGIN
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'vulnerability', v.severity, v.category, 1 FROM vulnerabilities v WHERE v.id = new.vulnerability_id
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    INSERT INTO asset_risks (asset_id, open_vulnerabilities) SELECT new.asset_id, 1 WHERE new.asset_id IS NOT NULL
    ON CONFLICT (asset_id) DO UPDATE SET open_vulnerabilities = asset_risks.open_vulnerabilities + 1;
END;
CREATE TRIGGER findings_open_delete AFTER DELETE ON findings WHEN old.resolved_at IS NULL BEGIN
    UPDATE risk_counters SET open_count = open_count - 1
    WHERE account_id = old.account_id AND kind = 'vulnerability'
      AND (severity, category) = (SELECT v.severity, v.category FROM vulnerabilities v WHERE v.id = old.vulnerability_id);
    UPDATE asset_risks SET open_vulnerabilities = open_vulnerabilities - 1 WHERE asset_id = old.asset_id;
END;
-- An update that opens, closes or moves an open row is the old row leaving and the new one
-- arriving; re-sighting an open finding (resolved_at NULL again) changes nothing.
CREATE TRIGGER findings_open_update AFTER UPDATE OF resolved_at, asset_id, vulnerability_id ON findings
WHEN (old.resolved_at IS NULL) <> (new.resolved_at IS NULL)
  OR (old.resolved_at IS NULL AND (old.asset_id <> new.asset_id OR old.vulnerability_id <> new.vulnerability_id)) BEGIN
    UPDATE risk_counters SET open_count = open_count - 1
    WHERE old.resolved_at IS NULL AND account_id = old.account_id AND kind = 'vulnerability'
      AND (severity, category) = (SELECT v.severity, v.category FROM vulnerabilities v WHERE v.id = old.vulnerability_id);
    UPDATE asset_risks SET open_vulnerabilities = open_vulnerabilities - 1 WHERE old.resolved_at IS NULL AND asset_id = old.asset_id;
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'vulnerability', v.severity, v.category, 1 FROM vulnerabilities v
    WHERE new.resolved_at IS NULL AND v.id = new.vulnerability_id
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    INSERT INTO asset_risks (asset_id, open_vulnerabilities) SELECT new.asset_id, 1 WHERE new.resolved_at IS NULL AND new.asset_id IS NOT NULL
    ON CONFLICT (asset_id) DO UPDATE SET open_vulnerabilities = asset_risks.open_vulnerabilities + 1;
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
    INSERT INTO asset_risks (asset_id, open_alerts) SELECT new.asset_id, 1 WHERE new.asset_id IS NOT NULL
    ON CONFLICT (asset_id) DO UPDATE SET open_alerts = asset_risks.open_alerts + 1;
END;
CREATE TRIGGER alerts_open_delete AFTER DELETE ON alerts WHEN old.resolved_at IS NULL BEGIN
    UPDATE risk_counters SET open_count = open_count - 1 WHERE account_id = old.account_id AND kind = 'alert' AND severity = old.severity AND category = '';
    UPDATE asset_risks SET open_alerts = open_alerts - 1 WHERE asset_id = old.asset_id;
END;
CREATE TRIGGER alerts_open_update AFTER UPDATE OF resolved_at, severity, asset_id ON alerts
WHEN (old.resolved_at IS NULL) <> (new.resolved_at IS NULL)
  OR (old.resolved_at IS NULL AND (old.severity <> new.severity OR old.asset_id IS NOT new.asset_id)) BEGIN
    UPDATE risk_counters SET open_count = open_count - 1
    WHERE old.resolved_at IS NULL AND account_id = old.account_id AND kind = 'alert' AND severity = old.severity AND category = '';
    UPDATE asset_risks SET open_alerts = open_alerts - 1 WHERE old.resolved_at IS NULL AND asset_id = old.asset_id;
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'alert', new.severity, '', 1 WHERE new.resolved_at IS NULL
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    INSERT INTO asset_risks (asset_id, open_alerts) SELECT new.asset_id, 1 WHERE new.resolved_at IS NULL AND new.asset_id IS NOT NULL
    ON CONFLICT (asset_id) DO UPDATE SET open_alerts = asset_risks.open_alerts + 1;
END;

-- ---- baseline results ----------------------------------------------------------------------
CREATE TRIGGER baseline_open_insert AFTER INSERT ON baseline_results WHEN new.resolved_at IS NULL BEGIN
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count) VALUES (new.account_id, 'baseline', new.risk_level, '', 1)
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    INSERT INTO asset_risks (asset_id, baseline_risks) SELECT new.asset_id, 1 WHERE new.asset_id IS NOT NULL
    ON CONFLICT (asset_id) DO UPDATE SET baseline_risks = asset_risks.baseline_risks + 1;
END;
CREATE TRIGGER baseline_open_delete AFTER DELETE ON baseline_results WHEN old.resolved_at IS NULL BEGIN
    UPDATE risk_counters SET open_count = open_count - 1 WHERE account_id = old.account_id AND kind = 'baseline' AND severity = old.risk_level AND category = '';
    UPDATE asset_risks SET baseline_risks = baseline_risks - 1 WHERE asset_id = old.asset_id;
END;
CREATE TRIGGER baseline_open_update AFTER UPDATE OF resolved_at, risk_level, asset_id ON baseline_results
WHEN (old.resolved_at IS NULL) <> (new.resolved_at IS NULL)
  OR (old.resolved_at IS NULL AND (old.risk_level <> new.risk_level OR old.asset_id <> new.asset_id)) BEGIN
    UPDATE risk_counters SET open_count = open_count - 1
    WHERE old.resolved_at IS NULL AND account_id = old.account_id AND kind = 'baseline' AND severity = old.risk_level AND category = '';
    UPDATE asset_risks SET baseline_risks = baseline_risks - 1 WHERE old.resolved_at IS NULL AND asset_id = old.asset_id;
    INSERT INTO risk_counters (account_id, kind, severity, category, open_count)
    SELECT new.account_id, 'baseline', new.risk_level, '', 1 WHERE new.resolved_at IS NULL
    ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = open_count + 1;
    INSERT INTO asset_risks (asset_id, baseline_risks) SELECT new.asset_id, 1 WHERE new.resolved_at IS NULL AND new.asset_id IS NOT NULL
    ON CONFLICT (asset_id) DO UPDATE SET baseline_risks = asset_risks.baseline_risks + 1;
END;

-- Jobs that one replica at a time runs (the counters' reconcile): who holds each, until when.
CREATE TABLE job_leases (
    name   TEXT   PRIMARY KEY,
    holder TEXT   NOT NULL,
    until  BIGINT NOT NULL
);

-- ---- assets per group ----------------------------------------------------------------------
-- How many assets each account has per group (0: ungrouped), and how many of them are online:
-- the Assets list's group counts and the Overview's host counts, without counting the assets.
CREATE TABLE asset_counters (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    group_id   INTEGER NOT NULL,
    total      INTEGER NOT NULL DEFAULT 0,
    online     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, group_id)
);
INSERT INTO asset_counters (account_id, group_id, total, online)
SELECT account_id, COALESCE(group_id, 0), COUNT(*), SUM(CASE WHEN agent_status = 'online' THEN 1 ELSE 0 END)
FROM assets GROUP BY account_id, COALESCE(group_id, 0);

CREATE TRIGGER assets_count_insert AFTER INSERT ON assets BEGIN
    INSERT INTO asset_counters (account_id, group_id, total, online)
    VALUES (new.account_id, COALESCE(new.group_id, 0), 1, CASE WHEN new.agent_status = 'online' THEN 1 ELSE 0 END)
    ON CONFLICT (account_id, group_id) DO UPDATE SET total = total + 1, online = online + excluded.online;
END;
CREATE TRIGGER assets_count_delete AFTER DELETE ON assets BEGIN
    UPDATE asset_counters SET total = total - 1, online = online - CASE WHEN old.agent_status = 'online' THEN 1 ELSE 0 END
    WHERE account_id = old.account_id AND group_id = COALESCE(old.group_id, 0);
END;
CREATE TRIGGER assets_count_update AFTER UPDATE OF group_id, agent_status ON assets
WHEN old.group_id IS NOT new.group_id OR old.agent_status <> new.agent_status BEGIN
    UPDATE asset_counters SET total = total - 1, online = online - CASE WHEN old.agent_status = 'online' THEN 1 ELSE 0 END
    WHERE account_id = old.account_id AND group_id = COALESCE(old.group_id, 0);
    INSERT INTO asset_counters (account_id, group_id, total, online)
    VALUES (new.account_id, COALESCE(new.group_id, 0), 1, CASE WHEN new.agent_status = 'online' THEN 1 ELSE 0 END)
    ON CONFLICT (account_id, group_id) DO UPDATE SET total = total + 1, online = online + excluded.online;
END;
