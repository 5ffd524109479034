//! Vulnerability-aware admission: scans of image digests (Trivy image reports, and what the OSV
//! feed matches in the packages they list), exceptions per CVE, and the vulnerability rule the
//! webhook applies beside the signature rule.
//!
//! A scan is stored per (account, digest): a digest names the same bytes whatever repository it
//! is pushed to. The latest scan wins; a report older than the stored scan is refused. The counts
//! by severity are kept on the scan row, so lists never count vulnerabilities.

use std::collections::{HashMap, HashSet};

use super::image_ref::ImageRef;
use super::repo::upsert_image;
use super::model::{
    ExceptionInput, ExceptionView, ImageVulnerabilityView, PolicyMode, ScanAccepted, ScanSummary, SeverityCounts, UnscannedAction, describe_counts,
    VulnAction, VulnRule,
};
use crate::advisories::repo::FoundVulnerability;
use crate::advisories::trivy::ImageReport;
use crate::assets::model::Severity;
use crate::error::AppError;
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::db::{placeholders, Db};

/// Rows per INSERT when storing a scan's vulnerabilities (8 values each).
const INSERT_ROWS: usize = 500;

/// The image a report is of: the one named (which the report, when it names digests, must be
/// among), else the first of the report's `Metadata.RepoDigests`.
pub fn scanned_image(report: &ImageReport, named: Option<&str>) -> Result<ImageRef, AppError> {
    let named = named.map(str::trim).filter(|n| !n.is_empty());
    let image = match named {
        Some(text) => {
            let image = ImageRef::parse(text).map_err(|e| AppError::field("image", e.to_string()))?;
            if !image.is_pinned() {
                return Err(AppError::field("image", "Name the scanned image by digest: registry/repository@sha256:<64 hex digits>."));
            }
            image
        }
        None => {
            let Some(first) = report.repo_digests.first() else {
                return Err(AppError::field(
                    "image",
                    "The report names no image digest (Metadata.RepoDigests is empty): name the image with --image registry/repository@sha256:<digest>.",
                ));
            };
            ImageRef::parse(first).map_err(|e| AppError::field("image", format!("Metadata.RepoDigests[0] \"{first}\": {e}")))?
        }
    };
    let digest = image.digest.clone().unwrap_or_default();
    if named.is_some() && !report.repo_digests.is_empty() && !report.repo_digests.iter().any(|d| d.ends_with(&format!("@{digest}"))) {
        return Err(AppError::field(
            "image",
            format!("The report is of {}, not of {digest}: it lists the digests {}.", short_digest(&report.repo_digests[0]), report.repo_digests.join(", ")),
        ));
    }
    Ok(image)
}

fn short_digest(reference: &str) -> &str {
    reference.rsplit_once('@').map_or(reference, |(_, d)| d)
}

/// Stores a Trivy image report as the latest scan of `image` in the account, with what the OSV
/// feed matches in its packages; replaces an earlier scan of the digest, all or nothing.
pub async fn import_scan(db: &Db, account_id: i64, actor: &Actor, report: ImageReport, image: &ImageRef, now: i64) -> Result<ScanAccepted, AppError> {
    let digest = image.digest.clone().unwrap_or_default();
    let repository = image.docker_reference();
    let scanned_at = report.created_at.unwrap_or(now);

    // The report's own findings first; the feed adds what the report does not list. Each keeps
    // where it came from.
    let mut found: Vec<(FoundVulnerability, &'static str)> = report.found.into_iter().map(|f| (f, "trivy")).collect();
    let mut seen: HashSet<(String, String)> = found.iter().map(|(f, _)| (f.advisory_id.clone(), f.package.clone())).collect();
    let mut from_osv = 0;
    for (ecosystems, packages) in &report.package_sets {
        for matched in crate::advisories::repo::match_packages(db, account_id, ecosystems, packages).await? {
            let matched = FoundVulnerability::from(matched);
            if seen.insert((matched.advisory_id.clone(), matched.package.clone())) {
                from_osv += 1;
                found.push((matched, "osv"));
            }
        }
    }
    let mut rows: Vec<(FoundVulnerability, Severity, &'static str)> = Vec::with_capacity(found.len());
    let mut unique: HashSet<(String, String, String)> = HashSet::new();
    for (f, source) in found {
        if !unique.insert((f.advisory_id.clone(), f.package.clone(), f.installed_version.clone())) {
            continue;
        }
        let severity = Severity::parse(&f.severity).unwrap_or(Severity::Low);
        rows.push((f, severity, source));
    }
    let (mut counts, mut fixable) = (SeverityCounts::default(), SeverityCounts::default());
    for (f, severity, _) in &rows {
        counts.add(*severity, 1);
        if !f.fixed_version.is_empty() {
            fixable.add(*severity, 1);
        }
    }

    let mut tx = db.begin_write().await?;
    let stored = sqlx::query_as::<_, (i64, i64)>("SELECT id, scanned_at FROM image_scans WHERE account_id = $1 AND digest = $2")
        .bind(account_id)
        .bind(&digest)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some((_, stored_at)) = stored.filter(|(_, at)| *at > scanned_at) {
        return Err(AppError::Conflict(format!(
            "A newer scan of {digest} is stored (from {}); this report is from {}. Nothing was written.",
            crate::format::date_time(Some(stored_at)),
            crate::format::date_time(Some(scanned_at))
        )));
    }
    let scan_id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO image_scans (account_id, digest, repository, scanner, scanned_at, imported_at, imported_by, packages,
            critical, high, medium, low, fixable_critical, fixable_high, fixable_medium, fixable_low)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (account_id, digest) DO UPDATE SET repository = excluded.repository, scanner = excluded.scanner,
            scanned_at = excluded.scanned_at, imported_at = excluded.imported_at, imported_by = excluded.imported_by,
            packages = excluded.packages, critical = excluded.critical, high = excluded.high, medium = excluded.medium,
            low = excluded.low, fixable_critical = excluded.fixable_critical, fixable_high = excluded.fixable_high,
            fixable_medium = excluded.fixable_medium, fixable_low = excluded.fixable_low
         RETURNING id",
    )
    .bind(account_id)
    .bind(&digest)
    .bind(&repository)
    .bind(&report.scanner)
    .bind(scanned_at)
    .bind(now)
    .bind(actor.label())
    .bind(report.package_count as i64)
    .bind(counts.critical)
    .bind(counts.high)
    .bind(counts.medium)
    .bind(counts.low)
    .bind(fixable.critical)
    .bind(fixable.high)
    .bind(fixable.medium)
    .bind(fixable.low)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM image_vulnerabilities WHERE scan_id = $1").bind(scan_id).execute(&mut *tx).await?;
    for chunk in rows.chunks(INSERT_ROWS) {
        let values = (0..chunk.len()).map(|n| format!("({})", placeholders(1 + 8 * n, 8))).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "INSERT INTO image_vulnerabilities (scan_id, vulnerability_id, package, installed_version, fixed_version, severity, title, source) VALUES {values}"
        );
        let mut query = sqlx::query(&sql);
        for (f, severity, source) in chunk {
            query = query
                .bind(scan_id)
                .bind(&f.advisory_id)
                .bind(&f.package)
                .bind(&f.installed_version)
                .bind(&f.fixed_version)
                .bind(severity.as_str())
                .bind(&f.title)
                .bind(*source);
        }
        query.execute(&mut *tx).await?;
    }
    upsert_image(&mut tx, account_id, image, now).await?;
    let detail = format!("{} ({}): {}", report.scanner, rows.len(), describe_counts(&counts));
    audit::record(&mut *tx, account_id, actor, "signature.image.scan", &image.to_string(), &detail).await?;
    tx.commit().await?;
    Ok(ScanAccepted { image: format!("{repository}@{digest}"), vulnerabilities: rows.len(), matched_by_osv: from_osv, replaced: stored.is_some() })
}

/// The latest scans of some digests of an account, by digest.
pub async fn summaries(db: &Db, account_id: i64, digests: &[String]) -> Result<HashMap<String, ScanSummary>, AppError> {
    let digests: Vec<&String> = digests.iter().filter(|d| !d.is_empty()).collect();
    if digests.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT digest, scanner, scanned_at, imported_at, imported_by, packages, critical, high, medium, low,
            fixable_critical, fixable_high, fixable_medium, fixable_low
         FROM image_scans WHERE account_id = $1 AND digest IN ({})",
        placeholders(2, digests.len())
    );
    type Row = (String, String, i64, i64, String, i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let mut query = sqlx::query_as::<_, Row>(&sql).bind(account_id);
    for digest in &digests {
        query = query.bind(*digest);
    }
    Ok(query
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(|r| {
            let summary = ScanSummary {
                scanner: r.1,
                scanned_at: r.2,
                imported_at: r.3,
                imported_by: r.4,
                packages: r.5,
                counts: SeverityCounts { critical: r.6, high: r.7, medium: r.8, low: r.9 },
                fixable: SeverityCounts { critical: r.10, high: r.11, medium: r.12, low: r.13 },
            };
            (r.0, summary)
        })
        .collect())
}

/// The vulnerabilities of one image's latest scan, most severe first, with the exception that
/// lets each pass (if one is active).
pub async fn image_vulnerabilities(db: &Db, account_id: i64, image_id: i64, now: i64) -> Result<Vec<ImageVulnerabilityView>, AppError> {
    let (repository, digest) = sqlx::query_as::<_, (String, String)>("SELECT repository, digest FROM sig_images WHERE id = $1 AND account_id = $2")
        .bind(image_id)
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = sqlx::query_as::<_, (String, String, String, String, String, String, String)>(
        "SELECT v.vulnerability_id, v.package, v.installed_version, v.fixed_version, v.severity, v.title, v.source
         FROM image_vulnerabilities v JOIN image_scans s ON s.id = v.scan_id WHERE s.account_id = $1 AND s.digest = $2",
    )
    .bind(account_id)
    .bind(&digest)
    .fetch_all(&db.pool)
    .await?;
    let exceptions = active_exceptions(db, account_id, now).await?;
    let mut views: Vec<ImageVulnerabilityView> = rows
        .into_iter()
        .map(|r| ImageVulnerabilityView {
            excepted_until: exceptions.iter().find(|e| e.covers(&r.0, &repository, now)).map(|e| e.expires_at),
            vulnerability_id: r.0,
            package: r.1,
            installed_version: r.2,
            fixed_version: r.3,
            severity: Severity::parse(&r.4).unwrap_or(Severity::Low),
            title: r.5,
            source: r.6,
        })
        .collect();
    views.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.vulnerability_id.cmp(&b.vulnerability_id)).then_with(|| a.package.cmp(&b.package)));
    Ok(views)
}

// ---- Exceptions ----------------------------------------------------------------------------

/// An exception as the rule applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveException {
    pub vulnerability_id: String,
    /// "" for every repository.
    pub repository: String,
    pub expires_at: i64,
}

impl ActiveException {
    pub fn covers(&self, vulnerability_id: &str, repository: &str, now: i64) -> bool {
        now < self.expires_at
            && self.vulnerability_id.eq_ignore_ascii_case(vulnerability_id)
            && (self.repository.is_empty() || self.repository == repository)
    }
}

/// The exceptions of an account that have not expired.
pub async fn active_exceptions(db: &Db, account_id: i64, now: i64) -> Result<Vec<ActiveException>, AppError> {
    Ok(sqlx::query_as::<_, (String, String, i64)>(
        "SELECT vulnerability_id, repository, expires_at FROM image_vuln_exceptions WHERE account_id = $1 AND expires_at > $2",
    )
    .bind(account_id)
    .bind(now)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(vulnerability_id, repository, expires_at)| ActiveException { vulnerability_id, repository, expires_at })
    .collect())
}

pub async fn list_exceptions(db: &Db, account_id: i64, now: i64) -> Result<Vec<ExceptionView>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String, String, String, i64, i64)>(
        "SELECT id, vulnerability_id, repository, reason, created_by, created_at, expires_at FROM image_vuln_exceptions
         WHERE account_id = $1 ORDER BY expires_at, vulnerability_id",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| ExceptionView {
        id: r.0,
        vulnerability_id: r.1,
        repository: r.2,
        reason: r.3,
        created_by: r.4,
        created_at: r.5,
        expires_at: r.6,
        expired: r.6 <= now,
    })
    .collect())
}

/// Adds an exception (audited); one per CVE and repository.
pub async fn create_exception(db: &Db, account_id: i64, actor: &Actor, input: &ExceptionInput, now: i64) -> Result<i64, AppError> {
    let l = request_locale();
    let expires_at = input.validate(now, l).map_err(AppError::Validation)?;
    let repository = match input.repository.trim() {
        "" => String::new(),
        text => {
            let image = ImageRef::parse(text).map_err(|e| AppError::field("repository", e.to_string()))?;
            if image.digest.is_some() || image.tag.is_some() {
                return Err(AppError::field("repository", td_string!(l, signature.errors.repository_without_tag)));
            }
            image.docker_reference()
        }
    };
    let vulnerability_id = input.vulnerability_id.trim().to_string();
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO image_vuln_exceptions (account_id, vulnerability_id, repository, reason, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(account_id)
    .bind(&vulnerability_id)
    .bind(&repository)
    .bind(input.reason.trim())
    .bind(actor.label())
    .bind(now)
    .bind(expires_at)
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::error::on_unique("vulnerability_id", td_string!(l, signature.errors.exception_exists)))?;
    let scope = if repository.is_empty() { "every repository".to_string() } else { repository.clone() };
    let detail = format!("{scope}, until {}: {}", crate::format::date_time(Some(expires_at)), input.reason.trim());
    audit::record(&mut *tx, account_id, actor, "signature.exception.create", &vulnerability_id, &detail).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_exception(db: &Db, account_id: i64, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (vulnerability_id, repository) = sqlx::query_as::<_, (String, String)>(
        "DELETE FROM image_vuln_exceptions WHERE id = $1 AND account_id = $2 RETURNING vulnerability_id, repository",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let scope = if repository.is_empty() { "every repository".to_string() } else { repository };
    audit::record(&mut *tx, account_id, actor, "signature.exception.delete", &vulnerability_id, &scope).await?;
    tx.commit().await?;
    Ok(())
}

// ---- The rule ------------------------------------------------------------------------------

/// One vulnerability of a scan, as the rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub id: String,
    pub severity: Severity,
    pub fixable: bool,
}

/// The vulnerabilities of the latest scan of some digests (a digest without a scan is absent).
pub async fn scans_of(db: &Db, account_id: i64, digests: &[String]) -> Result<HashMap<String, Vec<Known>>, AppError> {
    if digests.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT s.digest, v.vulnerability_id, v.severity, v.fixed_version FROM image_scans s
         LEFT JOIN image_vulnerabilities v ON v.scan_id = s.id WHERE s.account_id = $1 AND s.digest IN ({})",
        placeholders(2, digests.len())
    );
    let mut query = sqlx::query_as::<_, (String, Option<String>, Option<String>, Option<String>)>(&sql).bind(account_id);
    for digest in digests {
        query = query.bind(digest);
    }
    let mut found: HashMap<String, Vec<Known>> = HashMap::new();
    for (digest, id, severity, fixed) in query.fetch_all(&db.pool).await? {
        let list = found.entry(digest).or_default();
        if let (Some(id), Some(severity)) = (id, severity) {
            list.push(Known { id, severity: Severity::parse(&severity).unwrap_or(Severity::Low), fixable: fixed.is_some_and(|f| !f.is_empty()) });
        }
    }
    Ok(found)
}

/// What the rule says of one image: the problem (with the mode it acts in), and until when the
/// judgement holds (the first expiry of an exception it relied on; `i64::MAX` when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub problem: Option<(PolicyMode, String)>,
    pub until: i64,
}

/// Vulnerability ids named in one message.
const NAMED_IDS: usize = 5;

/// How the rule treats an image no scan can be found for (`None`: it admits it).
pub fn unscanned_mode(rule: &VulnRule) -> Option<PolicyMode> {
    match rule.unscanned {
        UnscannedAction::Admit => None,
        UnscannedAction::Warn => Some(PolicyMode::Warn),
        UnscannedAction::Refuse => Some(PolicyMode::Enforce),
    }
}

/// Applies a rule to an image of `repository` whose latest scan is `scan` (`None`: never
/// scanned). Pure: the webhook caches the judgement per (policy, image) until `until`.
pub fn judge(rule: &VulnRule, repository: &str, scan: Option<&[Known]>, exceptions: &[ActiveException], now: i64) -> Judgement {
    let mode = |action: VulnAction| match action {
        VulnAction::Refuse => PolicyMode::Enforce,
        VulnAction::Warn => PolicyMode::Warn,
    };
    let Some(scan) = scan else {
        let problem = unscanned_mode(rule).map(|mode| (mode, "never scanned for vulnerabilities".to_string()));
        return Judgement { problem, until: i64::MAX };
    };
    let mut until = i64::MAX;
    let mut counts = SeverityCounts::default();
    let mut counted: Vec<&Known> = Vec::new();
    let mut ids: HashSet<&str> = HashSet::new();
    for known in scan {
        if !rule.counts(known.severity) || (rule.fixable_only && !known.fixable) {
            continue;
        }
        if let Some(exception) = exceptions.iter().find(|e| e.covers(&known.id, repository, now)) {
            until = until.min(exception.expires_at);
            continue;
        }
        counts.add(known.severity, 1);
        if ids.insert(&known.id) {
            counted.push(known);
        }
    }
    let breaks = Severity::ALL.iter().any(|s| rule.counts(*s) && counts.get(*s) > rule.allowed.get(*s));
    if !breaks {
        return Judgement { problem: None, until };
    }
    counted.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| b.id.cmp(&a.id)));
    let named: Vec<&str> = counted.iter().take(NAMED_IDS).map(|k| k.id.as_str()).collect();
    let more = counted.len().saturating_sub(NAMED_IDS);
    let mut reason = format!(
        "{} known vulnerabilities at or above {}{}",
        describe_counts(&counts),
        rule.min_severity.as_str(),
        if rule.fixable_only { " with a fix available" } else { "" }
    );
    let tolerated: Vec<String> =
        Severity::ALL.iter().filter(|s| rule.counts(**s) && rule.allowed.get(**s) > 0).map(|s| format!("{} {}", rule.allowed.get(*s), s.as_str())).collect();
    if !tolerated.is_empty() {
        reason.push_str(&format!(", over the {} allowed", tolerated.join(", ")));
    }
    reason.push_str(&format!(" ({}", named.join(", ")));
    if more > 0 {
        reason.push_str(&format!(" and {more} more"));
    }
    reason.push(')');
    Judgement { problem: Some((mode(rule.action), reason)), until }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_773_144_000;

    fn rule(min: Severity) -> VulnRule {
        VulnRule { action: VulnAction::Refuse, min_severity: min, fixable_only: false, allowed: SeverityCounts::default(), unscanned: UnscannedAction::Admit }
    }

    fn known(id: &str, severity: Severity, fixable: bool) -> Known {
        Known { id: id.into(), severity, fixable }
    }

    fn scan() -> Vec<Known> {
        vec![
            known("CVE-2024-0001", Severity::Critical, true),
            known("CVE-2024-0002", Severity::High, false),
            known("CVE-2024-0003", Severity::High, true),
            known("CVE-2024-0004", Severity::Medium, true),
        ]
    }

    #[test]
    fn refuses_at_or_above_the_severity_and_names_the_cves() {
        let judged = judge(&rule(Severity::High), "r.io/shop", Some(&scan()), &[], NOW);
        let (mode, reason) = judged.problem.unwrap();
        assert_eq!(mode, PolicyMode::Enforce);
        assert_eq!(reason, "1 critical, 2 high known vulnerabilities at or above high (CVE-2024-0001, CVE-2024-0003, CVE-2024-0002)");
        assert_eq!(judged.until, i64::MAX);
        assert_eq!(judge(&rule(Severity::Critical), "r.io/shop", Some(&scan()[1..]), &[], NOW).problem, None);
    }

    #[test]
    fn fixable_only_and_allowed_counts_tolerate_findings() {
        let mut fixable = rule(Severity::High);
        fixable.fixable_only = true;
        fixable.allowed.high = 1;
        fixable.allowed.critical = 1;
        assert_eq!(judge(&fixable, "r.io/shop", Some(&scan()), &[], NOW).problem, None);
        fixable.allowed.critical = 0;
        let reason = judge(&fixable, "r.io/shop", Some(&scan()), &[], NOW).problem.unwrap().1;
        assert_eq!(reason, "1 critical, 1 high known vulnerabilities at or above high with a fix available, over the 1 high allowed (CVE-2024-0001, CVE-2024-0003)");
    }

    #[test]
    fn exceptions_apply_until_they_expire_and_per_repository() {
        let exception = |repository: &str, expires_at| ActiveException { vulnerability_id: "cve-2024-0001".into(), repository: repository.into(), expires_at };
        let critical = rule(Severity::Critical);
        let judged = judge(&critical, "r.io/shop", Some(&scan()), &[exception("", NOW + 60)], NOW);
        assert_eq!(judged, Judgement { problem: None, until: NOW + 60 });
        // Expired, or for another repository: the CVE counts again.
        assert!(judge(&critical, "r.io/shop", Some(&scan()), &[exception("", NOW + 60)], NOW + 60).problem.is_some());
        assert!(judge(&critical, "r.io/shop", Some(&scan()), &[exception("r.io/other", NOW + 60)], NOW).problem.is_some());
        assert!(judge(&critical, "r.io/shop", Some(&scan()), &[exception("r.io/shop", NOW + 60)], NOW).problem.is_none());
    }

    #[test]
    fn unscanned_images_follow_the_rules_choice() {
        let mut unscanned = rule(Severity::Critical);
        assert_eq!(judge(&unscanned, "r.io/shop", None, &[], NOW).problem, None);
        unscanned.unscanned = UnscannedAction::Warn;
        assert_eq!(judge(&unscanned, "r.io/shop", None, &[], NOW).problem.unwrap().0, PolicyMode::Warn);
        unscanned.unscanned = UnscannedAction::Refuse;
        assert_eq!(judge(&unscanned, "r.io/shop", None, &[], NOW).problem.unwrap(), (PolicyMode::Enforce, "never scanned for vulnerabilities".into()));
        // A scan with nothing found is a scan.
        assert_eq!(judge(&unscanned, "r.io/shop", Some(&[]), &[], NOW).problem, None);
    }

    #[test]
    fn at_most_five_ids_are_named() {
        let many: Vec<Known> = (0..8).map(|n| known(&format!("CVE-2024-10{n}"), Severity::Critical, true)).collect();
        let mut warn = rule(Severity::Critical);
        warn.action = VulnAction::Warn;
        let (mode, reason) = judge(&warn, "r.io/shop", Some(&many), &[], NOW).problem.unwrap();
        assert_eq!(mode, PolicyMode::Warn);
        assert!(reason.ends_with("(CVE-2024-107, CVE-2024-106, CVE-2024-105, CVE-2024-104, CVE-2024-103 and 3 more)"), "{reason}");
    }
}
