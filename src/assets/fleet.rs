//! Host agents in the database: enrollment tokens, enrolled agents, their inventories and the
//! fix jobs they carry out, plus the tick that marks silent agents offline and fails jobs that
//! cannot finish.

use sha2::{Digest, Sha256};

use super::held;
use super::model::*;
use crate::advisories::repo::{self as advisories, FoundVulnerability};
use crate::agent::fix::{validate_package_name, FixOutcome};
use crate::agent::host::HostFacts;
use crate::agent::protocol::*;
use crate::error::{AppError, FieldErrors};
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::config::AgentSettings;
use crate::server::crypto::{hash_token, random_hex};
use crate::server::db::Db;

/// Largest inventory accepted from one host.
pub const MAX_PACKAGES: usize = 50_000;
/// Bytes of package-manager output kept per job (the agent bounds it too; a server never trusts that).
pub const MAX_OUTPUT: usize = 64 * 1024;
/// Packages per fix job.
pub const MAX_JOB_PACKAGES: usize = 500;

// ---- Enrollment tokens -------------------------------------------------------------------

type TokenRow = (i64, String, String, Option<String>, String, i64, Option<i64>, Option<i64>, Option<i64>, i64);

fn token_view(r: TokenRow) -> EnrollmentTokenView {
    EnrollmentTokenView {
        id: r.0,
        name: r.1,
        prefix: r.2,
        group_name: r.3,
        created_by: r.4,
        created_at: r.5,
        expires_at: r.6,
        revoked_at: r.7,
        last_used_at: r.8,
        use_count: r.9,
    }
}

const TOKEN_COLUMNS: &str =
    "id, name, prefix, group_name, created_by, created_at, expires_at, revoked_at, last_used_at, use_count";

pub async fn list_tokens(db: &Db, account_id: i64) -> Result<Vec<EnrollmentTokenView>, AppError> {
    Ok(sqlx::query_as::<_, TokenRow>(&format!(
        "SELECT {TOKEN_COLUMNS} FROM enrollment_tokens WHERE account_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(token_view)
    .collect())
}

/// Creates a token; the secret is returned here once and stored only as its SHA-256.
pub async fn create_token(
    db: &Db,
    account_id: i64,
    actor: &Actor,
    input: &EnrollmentTokenInput,
    now: i64,
) -> Result<(EnrollmentTokenView, String), AppError> {
    let days = input.validate(request_locale())?;
    let secret = format!("{ENROLLMENT_PREFIX}{}", random_hex(32));
    let prefix = secret[..ENROLLMENT_PREFIX.len() + 8].to_string();
    let group = Some(input.group.trim().to_string()).filter(|g| !g.is_empty());
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO enrollment_tokens (account_id, name, prefix, token_hash, group_name, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(account_id)
    .bind(input.name.trim())
    .bind(&prefix)
    .bind(hash_token(&secret))
    .bind(&group)
    .bind(actor.label())
    .bind(now)
    .bind(days.map(|d| now + d * 86_400))
    .fetch_one(&mut *tx)
    .await?;
    audit::record(&mut *tx, account_id, actor, "agent.token.create", &format!("enrollment token {prefix}"), input.name.trim()).await?;
    let view = sqlx::query_as::<_, TokenRow>(&format!("SELECT {TOKEN_COLUMNS} FROM enrollment_tokens WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((token_view(view), secret))
}

pub async fn revoke_token(db: &Db, account_id: i64, actor: &Actor, id: i64, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let prefix = sqlx::query_scalar::<_, String>("SELECT prefix FROM enrollment_tokens WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    sqlx::query("UPDATE enrollment_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, account_id, actor, "agent.token.revoke", &format!("enrollment token {prefix}"), "").await?;
    tx.commit().await?;
    Ok(())
}

/// The command an admin runs on a host to enroll it.
pub fn enroll_command(public_url: &str, secret: &str, group: Option<&str>) -> String {
    let mut command = format!("bulwark agent --server {public_url} --token {secret}");
    if let Some(group) = group.filter(|g| !g.is_empty()) {
        if group.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            command.push_str(&format!(" --group {group}"));
        } else {
            command.push_str(&format!(" --group '{}'", group.replace('\'', r"'\''")));
        }
    }
    command
}

// ---- Enrollment and the agent's own requests ---------------------------------------------

/// An enrolled agent, found by its credential.
#[derive(Debug, Clone)]
pub struct AgentIdentity {
    pub agent_id: i64,
    pub account_id: i64,
    pub asset_id: i64,
    pub allow_fix: bool,
}

pub async fn agent_by_credential(db: &Db, credential: &str) -> Result<Option<AgentIdentity>, AppError> {
    const SQL: &str = "SELECT id, account_id, asset_id, allow_fix FROM agents WHERE credential_hash = $1";
    // Every call of every agent reads it (a replaced credential fails on its next call); on
    // SQLite on the request's thread (`Db::point_row`).
    let found: Option<(i64, i64, i64, i64)> = db.point_row(SQL, &hash_token(credential)).await?;
    Ok(found.map(|(agent_id, account_id, asset_id, allow_fix)| AgentIdentity { agent_id, account_id, asset_id, allow_fix: allow_fix != 0 }))
}

fn validate_facts(facts: &HostFacts, errors: &mut FieldErrors) {
    if facts.machine_id.len() != 32 || !facts.machine_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.insert("facts.machine_id".into(), "must be the 32 hexadecimal digits of /etc/machine-id".into());
    }
    let hostname = facts.hostname.trim();
    if hostname.is_empty() || hostname.len() > 253 {
        errors.insert("facts.hostname".into(), "must be 1 to 253 characters".into());
    }
    for (i, ip) in facts.ips.iter().enumerate() {
        if ip.parse::<std::net::IpAddr>().is_err() {
            errors.insert(format!("facts.ips[{i}]"), format!("\"{ip}\" is not an IP address"));
        }
    }
    if facts.ips.len() > 64 {
        errors.insert("facts.ips".into(), "at most 64 addresses".into());
    }
    for (field, value) in [("facts.kernel", &facts.kernel), ("facts.os.pretty_name", &facts.os.pretty_name)] {
        if value.len() > 256 {
            errors.insert(field.into(), "at most 256 characters".into());
        }
    }
}

/// Enrolls (or re-enrolls) a host: one asset per machine id in the account, a fresh credential
/// each time (the previous one stops working). A host that has an agent already is re-enrolled
/// only with that agent's credential or an admin's approval; otherwise the request is held.
pub async fn enroll(
    db: &Db,
    settings: &AgentSettings,
    token: &str,
    proof: held::Proof<'_>,
    request: &EnrollRequest,
    now: i64,
) -> Result<EnrollAnswer, AppError> {
    let (token_id, account_id, token_group, prefix) = sqlx::query_as::<_, (i64, i64, Option<String>, String)>(
        "SELECT id, account_id, group_name, prefix FROM enrollment_tokens
         WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::Unauthorized)?;
    let mut errors = FieldErrors::new();
    validate_facts(&request.facts, &mut errors);
    let group = request.group.as_deref().map(str::trim).filter(|g| !g.is_empty()).map(str::to_string).or(token_group);
    if group.as_ref().is_some_and(|g| g.chars().count() > 64) {
        errors.insert("group".into(), "at most 64 characters".into());
    }
    if request.agent_version.len() > 64 {
        errors.insert("agent_version".into(), "at most 64 characters".into());
    }
    AppError::check(errors)?;
    let facts = &request.facts;
    let machine_id = facts.machine_id.to_ascii_lowercase();
    let mut tx = db.begin_write().await?;
    let applicant = held::Applicant {
        account_id,
        token_id,
        token_prefix: &prefix,
        machine_id: &machine_id,
        hostname: facts.hostname.trim(),
        ips: &facts.ips,
    };
    if let Some(waiting) = held::admit(&mut tx, &applicant, proof, now).await? {
        tx.commit().await?;
        return Ok(EnrollAnswer::Held(waiting));
    }
    let credential = format!("{CREDENTIAL_PREFIX}{}", random_hex(32));
    let group_id = match &group {
        Some(name) => Some(super::repo::upsert_group(&mut tx, account_id, name, now).await?),
        None => None,
    };
    let asset = AssetIn {
        instance_id: machine_id.clone(),
        name: facts.hostname.trim().to_string(),
        ips: facts.ips.clone(),
        os: facts.os.pretty_name.trim().to_string(),
        region: String::new(),
        group: None,
        agent_status: AgentStatus::Online,
        last_seen_at: Some(now),
    };
    let asset_id = super::repo::upsert_asset(&mut tx, account_id, &asset, group_id, now).await?;
    sqlx::query(
        "INSERT INTO agents (account_id, asset_id, machine_id, credential_hash, version, allow_fix, kernel, enrolled_at, last_heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         ON CONFLICT (account_id, machine_id) DO UPDATE SET
            asset_id = excluded.asset_id, credential_hash = excluded.credential_hash, version = excluded.version,
            allow_fix = excluded.allow_fix, kernel = excluded.kernel, enrolled_at = excluded.enrolled_at,
            last_heartbeat_at = excluded.last_heartbeat_at",
    )
    .bind(account_id)
    .bind(asset_id)
    .bind(&asset.instance_id)
    .bind(hash_token(&credential))
    .bind(request.agent_version.trim())
    .bind(i64::from(request.allow_fix))
    .bind(facts.kernel.trim())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE enrollment_tokens SET use_count = use_count + 1, last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(token_id)
        .execute(&mut *tx)
        .await?;
    let actor = Actor::Token { name: format!("enrollment token {prefix}") };
    audit::record(&mut *tx, account_id, &actor, "agent.enroll", &asset.name, &asset.instance_id).await?;
    tx.commit().await?;
    Ok(EnrollAnswer::Enrolled(EnrollResponse {
        credential,
        instance_id: asset.instance_id,
        asset_id,
        heartbeat_secs: settings.heartbeat_secs,
        inventory_secs: settings.inventory_secs,
    }))
}

pub async fn heartbeat(db: &Db, agent: &AgentIdentity, version: &str, now: i64) -> Result<(), AppError> {
    if version.len() > 64 {
        return Err(AppError::field("agent_version", "at most 64 characters"));
    }
    touch(db, agent, Some(version.trim()), now);
    Ok(())
}

/// Marks the agent as heard from now (a heartbeat with its version, or a job poll without),
/// written within a few seconds with every other agent heard meanwhile (see `heard`).
pub fn touch(db: &Db, agent: &AgentIdentity, version: Option<&str>, now: i64) {
    super::heard::record(db, agent.agent_id, agent.asset_id, version, now);
}

fn validate_inventory(report: &InventoryReport) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    validate_facts(&report.facts, &mut errors);
    if report.packages.len() > MAX_PACKAGES {
        errors.insert("packages".into(), format!("at most {MAX_PACKAGES} packages"));
    }
    for (i, package) in report.packages.iter().enumerate() {
        if errors.len() >= 20 {
            break;
        }
        for (field, value, required) in [
            ("name", Some(&package.name), true),
            ("version", Some(&package.version), true),
            ("arch", Some(&package.arch), false),
            ("source", package.source.as_ref(), false),
            ("source_version", package.source_version.as_ref(), false),
        ] {
            let Some(value) = value else { continue };
            if (required && value.trim().is_empty()) || value.len() > 256 || value.chars().any(char::is_control) {
                errors.insert(format!("packages[{i}].{field}"), "must be 1 to 256 printable characters".into());
            }
        }
    }
    AppError::check(errors)
}

/// What an inventory produced: packages stored, and open agent findings after matching.
pub async fn record_inventory(db: &Db, agent: &AgentIdentity, report: &InventoryReport, now: i64) -> Result<InventoryAccepted, AppError> {
    validate_inventory(report)?;
    let mut packages = report.packages.clone();
    packages.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    packages.dedup_by(|a, b| a.name == b.name && a.arch == b.arch);
    let duplicates = (report.packages.len() - packages.len()) as i64;
    let packages_json = serde_json::to_string(&packages).map_err(|_| AppError::Internal)?;
    let digest = hex::encode(Sha256::digest(packages_json.as_bytes()));
    let ecosystems = advisories::ecosystems_for(&report.facts.os.id, &report.facts.os.version_id);
    let unparsable = unparsable_packages(&ecosystems, &packages);
    let previous = sqlx::query_as::<_, (String, Option<i64>)>("SELECT digest, matched_at FROM asset_inventories WHERE asset_id = $1")
        .bind(agent.asset_id)
        .fetch_optional(&db.pool)
        .await?;
    // The same packages as last time need no matching, unless advisories were imported since.
    let unchanged = match previous.as_ref() {
        Some((d, Some(matched_at))) if *d == digest => {
            let latest_import = sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(imported_at) FROM advisories WHERE scope IN ($1, $2)")
                .bind(advisories::FEED)
                .bind(agent.account_id)
                .fetch_one(&db.pool)
                .await?;
            latest_import.is_none_or(|i| i <= *matched_at)
        }
        _ => false,
    };
    // Matched in memory, before taking the write lock.
    let matches = if unchanged { None } else { Some(advisories::match_packages(db, agent.account_id, &ecosystems, &packages).await?) };
    let package_manager = serde_json::to_value(report.package_manager).ok().and_then(|v| v.as_str().map(str::to_string));
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE assets SET name = $1, ips = $2, os = $3, agent_status = 'online', last_seen_at = $4, updated_at = $4 WHERE id = $5")
        .bind(report.facts.hostname.trim())
        .bind(report.facts.ips.join(","))
        .bind(report.facts.os.pretty_name.trim())
        .bind(now)
        .bind(agent.asset_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE agents SET package_manager = $1, ecosystem = $2, kernel = $3, last_heartbeat_at = $4 WHERE id = $5")
        .bind(&package_manager)
        .bind(ecosystems.first())
        .bind(report.facts.kernel.trim())
        .bind(now)
        .bind(agent.agent_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO asset_inventories (asset_id, account_id, package_manager, ecosystems, packages, package_count, digest, collected_at, matched_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         ON CONFLICT (asset_id) DO UPDATE SET
            package_manager = excluded.package_manager, ecosystems = excluded.ecosystems, packages = excluded.packages,
            package_count = excluded.package_count, digest = excluded.digest, collected_at = excluded.collected_at,
            matched_at = excluded.matched_at",
    )
    .bind(agent.asset_id)
    .bind(agent.account_id)
    .bind(package_manager.as_deref().unwrap_or_default())
    .bind(ecosystems.join("\n"))
    .bind(&packages_json)
    .bind(packages.len() as i64)
    .bind(&digest)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let open_findings = match &matches {
        Some(found) => {
            let found: Vec<FoundVulnerability> = found.iter().cloned().map(FoundVulnerability::from).collect();
            super::repo::record_matches(&mut tx, agent.account_id, agent.asset_id, "agent", &found, now).await?
        }
        None => open_findings(&mut tx, agent.asset_id, "agent").await?,
    };
    tx.commit().await?;
    Ok(InventoryAccepted {
        packages: packages.len() as i64,
        open_findings,
        matched: matches.is_some(),
        duplicates,
        unparsable: unparsable.len() as i64,
        unparsable_packages: unparsable.into_iter().take(20).collect(),
    })
}

/// The names of the packages whose version or source version the host's version scheme (its
/// first ecosystem's) rejects: matching skips them (a version that cannot be ordered is not a
/// match), and the answer says which.
fn unparsable_packages(ecosystems: &[String], packages: &[crate::agent::host::Package]) -> Vec<String> {
    let Some(scheme) = ecosystems.first().and_then(|e| crate::advisories::version::VersionScheme::for_ecosystem(e)) else {
        return Vec::new();
    };
    let readable = |v: &str| crate::advisories::version::validate(scheme, v).is_ok();
    packages
        .iter()
        .filter(|p| !readable(&p.version) || p.source_version.as_deref().is_some_and(|v| !readable(v)))
        .map(|p| p.name.clone())
        .collect()
}

async fn open_findings(conn: &mut sqlx::AnyConnection, asset_id: i64, source: &str) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM findings WHERE asset_id = $1 AND source = $2 AND resolved_at IS NULL")
        .bind(asset_id)
        .bind(source)
        .fetch_one(conn)
        .await?)
}

/// Matches again the inventories whose advisories changed since they were last matched (an
/// import happened); a few per call, so a large import spreads over several ticks. Like the
/// import, on the background thread (`server::background`): after an import this rebuilds the
/// advisory index and matches hundreds of inventories, seconds of CPU no page waits on.
pub async fn rematch_stale(db: &Db, limit: i64, now: i64) -> Result<usize, AppError> {
    crate::server::background::run(db, move |db| async move { rematch_stale_here(&db, limit, now).await }).await
}

async fn rematch_stale_here(db: &Db, limit: i64, now: i64) -> Result<usize, AppError> {
    // Nothing is stale when every inventory was matched after the latest import of any scope:
    // three index lookups (the steady state, every tick) before the search by account.
    let (latest_import, oldest_match, unmatched) = sqlx::query_as::<_, (Option<i64>, Option<i64>, i64)>(
        "SELECT (SELECT MAX(imported_at) FROM advisories), (SELECT MIN(matched_at) FROM asset_inventories),
                (SELECT COUNT(*) FROM (SELECT 1 FROM asset_inventories WHERE matched_at IS NULL LIMIT 1) AS u)",
    )
    .fetch_one(&db.pool)
    .await?;
    let matched_since = match (latest_import, oldest_match) {
        (Some(import), Some(matched)) => matched > import,
        _ => true, // no advisory, or no inventory
    };
    if unmatched == 0 && matched_since {
        return Ok(0);
    }
    let stale = sqlx::query_as::<_, (i64, i64, String, String)>(
        "SELECT i.asset_id, i.account_id, i.ecosystems, i.packages FROM asset_inventories i
         WHERE i.matched_at IS NULL OR i.matched_at <= (SELECT MAX(a.imported_at) FROM advisories a WHERE a.scope IN (0, i.account_id))
         ORDER BY i.asset_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    for (asset_id, account_id, ecosystems, packages) in &stale {
        let ecosystems: Vec<String> = ecosystems.lines().map(str::to_string).collect();
        let packages: Vec<crate::agent::host::Package> = serde_json::from_str(packages).unwrap_or_default();
        let found = advisories::match_packages(db, *account_id, &ecosystems, &packages).await?;
        let found: Vec<FoundVulnerability> = found.into_iter().map(FoundVulnerability::from).collect();
        let mut tx = db.begin_write().await?;
        super::repo::record_matches(&mut tx, *account_id, *asset_id, "agent", &found, now).await?;
        // Matched "now", so an import that lands in this same second is matched on the next tick.
        sqlx::query("UPDATE asset_inventories SET matched_at = $1 WHERE asset_id = $2").bind(now).bind(asset_id).execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok(stale.len())
}

// ---- Fix jobs ----------------------------------------------------------------------------

pub use super::wake::{waker, POLL_RECHECK};

pub async fn create_fix_job(
    db: &Db,
    account_id: i64,
    asset_id: i64,
    packages: &[String],
    simulate: bool,
    actor: &Actor,
    now: i64,
) -> Result<FixJobView, AppError> {
    let mut tx = db.begin_write().await?;
    let id = insert_fix_job(&mut tx, account_id, asset_id, packages, simulate, actor, now).await?;
    tx.commit().await?;
    waker(db, asset_id).notify_waiters();
    job(db, account_id, id).await
}

/// Queues a fix job inside the caller's transaction (a playbook records the job and its host's
/// state together, so a restart can neither lose nor repeat it). Other consoles' polls are told
/// at commit (`wake::announce`); call [`waker`] after the commit for this console's.
pub async fn insert_fix_job(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    asset_id: i64,
    packages: &[String],
    simulate: bool,
    actor: &Actor,
    now: i64,
) -> Result<i64, AppError> {
    if packages.is_empty() {
        return Err(AppError::field("packages", td_string!(request_locale(), assets.errors.name_package)));
    }
    if packages.len() > MAX_JOB_PACKAGES {
        return Err(AppError::field("packages", td_string!(request_locale(), assets.errors.too_many_packages, max = MAX_JOB_PACKAGES)));
    }
    for (i, package) in packages.iter().enumerate() {
        validate_package_name(package).map_err(|message| AppError::field(format!("packages[{i}]"), message))?;
    }
    let asset_name = sqlx::query_scalar::<_, String>("SELECT name FROM assets WHERE id = $1 AND account_id = $2")
        .bind(asset_id)
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let has_agent = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM agents WHERE asset_id = $1").bind(asset_id).fetch_one(&mut *conn).await?;
    if has_agent == 0 {
        return Err(AppError::Conflict(td_string!(request_locale(), assets.errors.no_agent, asset = asset_name)));
    }
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO agent_jobs (account_id, asset_id, packages, simulate, status, requested_by, created_at)
         VALUES ($1, $2, $3, $4, 'queued', $5, $6) RETURNING id",
    )
    .bind(account_id)
    .bind(asset_id)
    .bind(serde_json::to_string(packages).map_err(|_| AppError::Internal)?)
    .bind(i64::from(simulate))
    .bind(actor.label())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let mode = if simulate { "simulate" } else { "fix" };
    audit::record(&mut *conn, account_id, actor, "agent.job.create", &asset_name, &format!("{mode}: {}", packages.join(" "))).await?;
    super::wake::announce(conn, asset_id).await?;
    Ok(id)
}

type JobRow = (i64, i64, String, i64, String, String, i64, Option<i64>, Option<i64>, Option<i64>, String, String, Option<String>);
const JOB_COLUMNS: &str = "id, asset_id, packages, simulate, status, requested_by, created_at, dispatched_at, finished_at, exit_code, output, changes, error";

fn job_view(r: JobRow) -> FixJobView {
    FixJobView {
        id: r.0,
        asset_id: r.1,
        packages: serde_json::from_str(&r.2).unwrap_or_default(),
        simulate: r.3 != 0,
        status: FixJobStatus::parse(&r.4).unwrap_or(FixJobStatus::Failed),
        requested_by: r.5,
        created_at: r.6,
        dispatched_at: r.7,
        finished_at: r.8,
        exit_code: r.9,
        output: r.10,
        changes: serde_json::from_str::<Vec<crate::agent::fix::PlannedChange>>(&r.11)
            .unwrap_or_default()
            .into_iter()
            .map(|c| PlannedChangeView { package: c.package, from: c.from, to: c.to })
            .collect(),
        error: r.12,
    }
}

pub async fn job(db: &Db, account_id: i64, id: i64) -> Result<FixJobView, AppError> {
    Ok(job_view(
        sqlx::query_as::<_, JobRow>(&format!("SELECT {JOB_COLUMNS} FROM agent_jobs WHERE id = $1 AND account_id = $2"))
            .bind(id)
            .bind(account_id)
            .fetch_optional(&db.pool)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

pub async fn asset_jobs(db: &Db, account_id: i64, asset_id: i64, limit: i64) -> Result<Vec<FixJobView>, AppError> {
    Ok(sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {JOB_COLUMNS} FROM agent_jobs WHERE account_id = $1 AND asset_id = $2 ORDER BY id DESC LIMIT $3"
    ))
    .bind(account_id)
    .bind(asset_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(job_view)
    .collect())
}

pub async fn agent_view(db: &Db, asset_id: i64) -> Result<Option<AgentView>, AppError> {
    Ok(sqlx::query_as::<_, (String, i64, Option<String>, String, i64, i64, Option<i64>, Option<i64>)>(
        "SELECT a.version, a.allow_fix, a.package_manager, a.kernel, a.enrolled_at, a.last_heartbeat_at, i.package_count, i.collected_at
         FROM agents a LEFT JOIN asset_inventories i ON i.asset_id = a.asset_id WHERE a.asset_id = $1",
    )
    .bind(asset_id)
    .fetch_optional(&db.pool)
    .await?
    .map(|r| AgentView {
        version: r.0,
        allow_fix: r.1 != 0,
        package_manager: r.2,
        kernel: r.3,
        enrolled_at: r.4,
        last_heartbeat_at: r.5,
        package_count: r.6,
        inventory_at: r.7,
    }))
}

/// Hands the oldest queued job of an asset to its agent, at most once: the conditional update
/// lets only one poll (on any replica) win it.
pub async fn claim_job(db: &Db, settings: &AgentSettings, asset_id: i64, now: i64) -> Result<Option<JobAssignment>, AppError> {
    // A cheap read first: most polls find nothing, and SQLite writes take the database lock. A
    // point read (on SQLite, on this thread: every poll asks, 10,000 agents ask ~330 times a second).
    const QUEUED: &str = "SELECT id FROM agent_jobs WHERE asset_id = $1 AND status = 'queued' ORDER BY id LIMIT 1";
    let queued: Option<(i64,)> = db.point_row(QUEUED, asset_id).await?;
    let Some((id,)) = queued else { return Ok(None) };
    let claimed = sqlx::query_as::<_, (i64, String, i64)>(
        "UPDATE agent_jobs SET status = 'running', dispatched_at = $1 WHERE id = $2 AND status = 'queued'
         RETURNING id, packages, simulate",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(claimed.map(|(id, packages, simulate)| JobAssignment {
        id,
        packages: serde_json::from_str(&packages).unwrap_or_default(),
        simulate: simulate != 0,
        timeout_secs: settings.fix_timeout_secs,
    }))
}

/// The status a job's outcome earns, and the error to show for a failure; failures start with
/// their kind ("timeout", "non-zero exit") so people and playbooks can tell them apart.
pub fn judge(outcome: &FixOutcome) -> (FixJobStatus, Option<String>) {
    if outcome.timed_out {
        let detail = outcome.error.clone().unwrap_or_else(|| "the package manager did not finish in time".into());
        return (FixJobStatus::Failed, Some(format!("timeout: {detail}")));
    }
    match (outcome.exit_code, &outcome.error) {
        (Some(0), None) if outcome.simulated => (FixJobStatus::Simulated, None),
        (Some(0), None) => (FixJobStatus::Succeeded, None),
        (Some(0), Some(error)) => (FixJobStatus::Failed, Some(error.clone())),
        (Some(code), error) => {
            let detail = error.clone().unwrap_or_else(|| format!("the package manager exited with {code}"));
            (FixJobStatus::Failed, Some(format!("non-zero exit: {detail}")))
        }
        (None, error) => (FixJobStatus::Failed, Some(error.clone().unwrap_or_else(|| "the package manager did not run".into()))),
    }
}

fn bounded(text: &str) -> String {
    if text.len() <= MAX_OUTPUT {
        return text.to_string();
    }
    let mut end = MAX_OUTPUT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… output cut at {MAX_OUTPUT} bytes …", &text[..end])
}

/// The command line the agent ran, then what it printed: what an operator reads to see what happened.
fn transcript(outcome: &FixOutcome) -> String {
    if outcome.command.is_empty() {
        return outcome.output.clone();
    }
    format!("$ {}\n{}", outcome.command.join(" "), outcome.output)
}

/// Records a job's result once. A retried post of a finished job changes nothing and says so.
pub async fn finish_job(db: &Db, agent: &AgentIdentity, job_id: i64, result: &JobResult, now: i64) -> Result<JobAck, AppError> {
    let status = sqlx::query_scalar::<_, String>("SELECT status FROM agent_jobs WHERE id = $1 AND asset_id = $2")
        .bind(job_id)
        .bind(agent.asset_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = FixJobStatus::parse(&status).unwrap_or(FixJobStatus::Failed);
    if current.is_finished() {
        return Ok(JobAck { status, duplicate: true });
    }
    let (new_status, error) = judge(&result.outcome);
    let changes = serde_json::to_string(&result.outcome.changes).map_err(|_| AppError::Internal)?;
    let updated = sqlx::query(
        "UPDATE agent_jobs SET status = $1, finished_at = $2, exit_code = $3, output = $4, changes = $5, error = $6,
                dispatched_at = COALESCE(dispatched_at, $2)
         WHERE id = $7 AND status IN ('queued', 'running')",
    )
    .bind(new_status.as_str())
    .bind(now)
    .bind(result.outcome.exit_code.map(i64::from))
    .bind(bounded(&transcript(&result.outcome)))
    .bind(changes)
    .bind(error.as_deref().map(bounded))
    .bind(job_id)
    .execute(&db.pool)
    .await?
    .rows_affected();
    if updated == 0 {
        // Another request recorded it between the read and the update.
        let status = sqlx::query_scalar::<_, String>("SELECT status FROM agent_jobs WHERE id = $1").bind(job_id).fetch_one(&db.pool).await?;
        return Ok(JobAck { status, duplicate: true });
    }
    if let Some(inventory) = &result.inventory {
        record_inventory(db, agent, inventory, now).await?;
    }
    Ok(JobAck { status: new_status.as_str().to_string(), duplicate: false })
}

/// What the fleet tick changed.
#[derive(Debug, Default, PartialEq)]
pub struct FleetTick {
    pub went_offline: u64,
    pub offline_jobs: u64,
    pub timed_out_jobs: u64,
    pub rematched: usize,
}

/// Marks agents offline after missed heartbeats, fails queued jobs of agents that stayed
/// offline past the job timeout, fails running jobs whose result never came, and re-matches
/// inventories after advisory imports. Idempotent: replicas may run it side by side.
pub async fn tick(db: &Db, settings: &AgentSettings, now: i64) -> Result<FleetTick, AppError> {
    // What this console has heard and not yet written counts: no agent heard is marked offline.
    super::heard::flush(db).await?;
    let silent_since = now - settings.offline_after_secs;
    let went_offline = sqlx::query(
        "UPDATE assets SET agent_status = 'offline'
         WHERE agent_status = 'online' AND id IN (SELECT asset_id FROM agents WHERE last_heartbeat_at < $1)",
    )
    .bind(silent_since)
    .execute(&db.pool)
    .await?
    .rows_affected();
    let offline_jobs = sqlx::query(
        "UPDATE agent_jobs SET status = 'failed', finished_at = $1,
                error = 'agent offline: the agent did not call in before the job timed out'
         WHERE status = 'queued' AND created_at <= $2
           AND asset_id IN (SELECT asset_id FROM agents WHERE last_heartbeat_at < $3)",
    )
    .bind(now)
    .bind(now - settings.job_timeout_secs)
    .bind(silent_since)
    .execute(&db.pool)
    .await?
    .rows_affected();
    let timed_out_jobs = sqlx::query(
        "UPDATE agent_jobs SET status = 'failed', finished_at = $1,
                error = 'timeout: the agent did not report a result'
         WHERE status = 'running' AND dispatched_at <= $2",
    )
    .bind(now)
    .bind(now - settings.fix_timeout_secs as i64 - settings.offline_after_secs)
    .execute(&db.pool)
    .await?
    .rows_affected();
    let rematched = rematch_stale(db, 50, now).await?;
    Ok(FleetTick { went_offline, offline_jobs, timed_out_jobs, rematched })
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
