-- Vulnerability-aware admission: scans of image digests (Trivy reports, plus what the OSV feed
-- matches in the packages a report lists), exceptions per CVE with a reason and an expiry, a
-- vulnerability rule on each security policy, and the inventory of what admission requests ran.

-- The rule as JSON (see signature::vulns::VulnRule); '' when the policy has none.
ALTER TABLE sig_policies ADD COLUMN vuln_rule TEXT NOT NULL DEFAULT '';

-- The latest scan of each digest in an account: a newer scan replaces it. The counts by severity
-- (all, and those with a fixed version) are kept with the row, so lists and admission read them
-- without counting the vulnerabilities.
CREATE TABLE image_scans (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    digest           TEXT    NOT NULL,
    repository       TEXT    NOT NULL,
    scanner          TEXT    NOT NULL,
    scanned_at       INTEGER NOT NULL,
    imported_at      INTEGER NOT NULL,
    imported_by      TEXT    NOT NULL,
    packages         INTEGER NOT NULL DEFAULT 0,
    critical         INTEGER NOT NULL DEFAULT 0,
    high             INTEGER NOT NULL DEFAULT 0,
    medium           INTEGER NOT NULL DEFAULT 0,
    low              INTEGER NOT NULL DEFAULT 0,
    fixable_critical INTEGER NOT NULL DEFAULT 0,
    fixable_high     INTEGER NOT NULL DEFAULT 0,
    fixable_medium   INTEGER NOT NULL DEFAULT 0,
    fixable_low      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, digest)
);

CREATE TABLE image_vulnerabilities (
    scan_id           INTEGER NOT NULL REFERENCES image_scans (id) ON DELETE CASCADE,
    vulnerability_id  TEXT    NOT NULL,
    package           TEXT    NOT NULL,
    installed_version TEXT    NOT NULL,
    fixed_version     TEXT    NOT NULL,
    severity          TEXT    NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    title             TEXT    NOT NULL,
    source            TEXT    NOT NULL CHECK (source IN ('trivy', 'osv'))
);
CREATE INDEX image_vulnerabilities_scan ON image_vulnerabilities (scan_id);

-- An exception lets one CVE pass the vulnerability rule until it expires, for every image of the
-- account (repository '') or one repository's.
CREATE TABLE image_vuln_exceptions (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    vulnerability_id TEXT    NOT NULL,
    repository       TEXT    NOT NULL DEFAULT '',
    reason           TEXT    NOT NULL,
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    UNIQUE (account_id, vulnerability_id, repository)
);
CREATE INDEX image_vuln_exceptions_expiry ON image_vuln_exceptions (account_id, expires_at);

-- What ran where: each image an admission request named, per cluster, namespace and workload,
-- with the decision the image got the last time.
CREATE TABLE image_inventory (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    image_id      INTEGER NOT NULL REFERENCES sig_images (id) ON DELETE CASCADE,
    cluster_id    INTEGER NOT NULL REFERENCES sig_clusters (id) ON DELETE CASCADE,
    namespace     TEXT    NOT NULL,
    workload_kind TEXT    NOT NULL,
    workload_name TEXT    NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('allowed', 'warned', 'denied')),
    UNIQUE (image_id, cluster_id, namespace, workload_kind, workload_name)
);
CREATE INDEX image_inventory_account ON image_inventory (account_id, cluster_id, namespace);
CREATE INDEX image_inventory_cluster ON image_inventory (cluster_id);

INSERT INTO image_inventory (account_id, image_id, cluster_id, namespace, workload_kind, workload_name, first_seen_at, last_seen_at, outcome)
SELECT i.account_id, r.image_id, r.cluster_id, r.namespace, '', '', r.last_seen_at, r.last_seen_at, 'allowed'
FROM sig_image_runs r JOIN sig_images i ON i.id = r.image_id;
DROP TABLE sig_image_runs;

-- A new scan, and an exception added, changed or removed, change admission verdicts.
CREATE TRIGGER image_scans_signature_version_insert AFTER INSERT ON image_scans BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER image_scans_signature_version_delete AFTER DELETE ON image_scans BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER image_scans_signature_version_update AFTER UPDATE ON image_scans BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER image_vuln_exceptions_signature_version_insert AFTER INSERT ON image_vuln_exceptions BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER image_vuln_exceptions_signature_version_delete AFTER DELETE ON image_vuln_exceptions BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER image_vuln_exceptions_signature_version_update AFTER UPDATE ON image_vuln_exceptions BEGIN UPDATE signature_state SET version = version + 1; END;
