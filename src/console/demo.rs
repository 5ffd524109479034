//! Demo data: a realistic Enterprise account (a few dozen hosts in groups, a few hundred findings
//! across the three categories, alerts, baseline results and attacks over the last 60 days, and
//! the score history they imply) and a small Basic account. Deterministic, so screenshots and
//! tests see the same console every time. Written through the same code as the ingestion API.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::server::audit::Actor;
use crate::server::db::Db;
use crate::server::{crypto, now};
use crate::assets::ingest;
use crate::assets::model::*;
use crate::assets::repo;
use crate::editions::Edition;
use crate::auth::model::{AccountKind, Role};
use crate::auth::repo as auth_repo;
use crate::error::AppError;
use crate::overview::repo::{record_score, score_as_of};

/// Fixed demo sign-ins, printed on first start.
pub const DEMO_USERS: [(&str, &str, Role, &str); 3] = [
    ("admin@bulwark.local", "bulwark-demo-admin", Role::Admin, "Bulwark Demo"),
    ("viewer@bulwark.local", "bulwark-demo-viewer", Role::Viewer, "Bulwark Demo"),
    ("basic@bulwark.local", "bulwark-demo-basic", Role::Admin, "Acme Retail"),
];

const DAY: i64 = 86_400;

struct Vuln {
    advisory: &'static str,
    title: &'static str,
    severity: Severity,
    category: Category,
    package: &'static str,
    installed: &'static str,
    fix: &'static str,
}

const fn v(
    advisory: &'static str,
    title: &'static str,
    severity: Severity,
    category: Category,
    package: &'static str,
    installed: &'static str,
    fix: &'static str,
) -> Vuln {
    Vuln { advisory, title, severity, category, package, installed, fix }
}

use Category::{Linux, WebCms, Windows};
use Severity::{Critical, High, Low, Medium};

const CATALOG: &[Vuln] = &[
    v("CVE-2024-6387", "OpenSSH regreSSHion: unauthenticated remote code execution", Critical, Linux, "openssh-server", "1:8.9p1-3ubuntu0.6", "Upgrade openssh-server to 1:8.9p1-3ubuntu0.10"),
    v("CVE-2024-3094", "xz-utils backdoor in liblzma", Critical, Linux, "xz-utils", "5.6.0-0.2", "Downgrade xz-utils to 5.4.5-0.3"),
    v("CVE-2022-37434", "zlib inflateGetHeader heap buffer overflow", Critical, Linux, "zlib1g", "1:1.2.11.dfsg-2", "Upgrade zlib1g to 1:1.2.11.dfsg-2+deb11u2"),
    v("CVE-2023-4863", "libwebp heap buffer overflow in lossless decoding", High, Linux, "libwebp7", "1.2.4-0.2", "Upgrade libwebp7 to 1.2.4-0.2+deb12u1"),
    v("CVE-2023-38545", "curl SOCKS5 heap buffer overflow", High, Linux, "curl", "7.88.1-10", "Upgrade curl to 7.88.1-10+deb12u4"),
    v("CVE-2023-4911", "glibc Looney Tunables: local privilege escalation via GLIBC_TUNABLES", High, Linux, "libc6", "2.36-9", "Upgrade libc6 to 2.36-9+deb12u3"),
    v("CVE-2021-3156", "sudo Baron Samedit heap overflow", High, Linux, "sudo", "1.8.31-1ubuntu1", "Upgrade sudo to 1.8.31-1ubuntu1.2"),
    v("CVE-2024-1086", "Linux kernel nf_tables use-after-free", High, Linux, "linux-image-amd64", "6.1.66-1", "Upgrade linux-image-amd64 to 6.1.76-1"),
    v("CVE-2023-44487", "HTTP/2 rapid reset denial of service in nghttp2", High, Linux, "libnghttp2-14", "1.52.0-1", "Upgrade libnghttp2-14 to 1.52.0-1+deb12u1"),
    v("CVE-2024-2961", "glibc iconv ISO-2022-CN-EXT out-of-bounds write", High, Linux, "glibc", "2.34-60.el9", "Upgrade glibc to 2.34-100.el9"),
    v("CVE-2023-5678", "OpenSSL excessive time spent in DH key generation", Medium, Linux, "openssl", "3.0.11-1", "Upgrade openssl to 3.0.13-1"),
    v("CVE-2024-0567", "GnuTLS certificate chain verification denial of service", Medium, Linux, "libgnutls30", "3.7.9-2", "Upgrade libgnutls30 to 3.7.9-2+deb12u2"),
    v("CVE-2023-39615", "libxml2 crafted XML out-of-bounds read", Medium, Linux, "libxml2", "2.9.14+dfsg-1.3", "Upgrade libxml2 to 2.9.14+dfsg-1.3~deb12u1"),
    v("CVE-2022-1271", "gzip zgrep arbitrary file write", Medium, Linux, "gzip", "1.10-4", "Upgrade gzip to 1.10-4+deb11u1"),
    v("CVE-2022-48303", "GNU tar one-byte out-of-bounds read", Low, Linux, "tar", "1.34+dfsg-1", "Upgrade tar to 1.34+dfsg-1.2+deb12u1"),
    v("CVE-2024-28085", "util-linux wall escape sequence injection", Low, Linux, "bsdutils", "1:2.38.1-5", "Upgrade bsdutils to 1:2.38.1-5+deb12u1"),
    v("CVE-2023-29383", "shadow chfn control character injection", Low, Linux, "passwd", "1:4.13+dfsg1-1", "Upgrade passwd to 1:4.13+dfsg1-1+deb12u1"),
    v("CVE-2024-38063", "Windows TCP/IP IPv6 remote code execution", Critical, Windows, "KB5041578", "", "Install KB5041578"),
    v("CVE-2024-21413", "Microsoft Outlook MonikerLink remote code execution", Critical, Windows, "KB5002537", "", "Install KB5002537"),
    v("CVE-2023-23397", "Microsoft Outlook elevation of privilege", Critical, Windows, "KB5002254", "", "Install KB5002254"),
    v("CVE-2024-30088", "Windows kernel elevation of privilege", High, Windows, "KB5039212", "", "Install KB5039212"),
    v("CVE-2023-28252", "Windows CLFS driver elevation of privilege", High, Windows, "KB5025221", "", "Install KB5025221"),
    v("CVE-2024-21338", "Windows kernel elevation of privilege (appid.sys)", High, Windows, "KB5034765", "", "Install KB5034765"),
    v("CVE-2023-36884", "Office and Windows HTML remote code execution", Medium, Windows, "KB5028407", "", "Install KB5028407"),
    v("CVE-2024-27956", "WordPress WP-Automatic plugin SQL injection", Critical, WebCms, "wp-automatic", "3.92.0", "Update WP-Automatic to 3.92.1"),
    v("CVE-2023-28121", "WooCommerce Payments authentication bypass", Critical, WebCms, "woocommerce-payments", "5.6.1", "Update WooCommerce Payments to 5.6.2"),
    v("CVE-2024-2879", "LayerSlider unauthenticated SQL injection", High, WebCms, "layerslider", "7.9.11", "Update LayerSlider to 7.10.0"),
    v("CVE-2022-21661", "WordPress core WP_Query SQL injection", High, WebCms, "wordpress", "5.8.2", "Update WordPress to 5.8.3"),
    v("CVE-2024-6386", "WPML server-side template injection", High, WebCms, "sitepress-multilingual-cms", "4.6.12", "Update WPML to 4.6.13"),
    v("CVE-2023-40000", "LiteSpeed Cache stored cross-site scripting", Medium, WebCms, "litespeed-cache", "5.6", "Update LiteSpeed Cache to 5.7"),
    v("CVE-2023-2745", "WordPress core directory traversal in wp-login.php", Medium, WebCms, "wordpress", "6.2.0", "Update WordPress to 6.2.1"),
];

struct HostPlan {
    prefix: &'static str,
    count: usize,
    group: Option<&'static str>,
    os: &'static str,
    category: Category,
    subnet: u8,
}

const HOSTS: &[HostPlan] = &[
    HostPlan { prefix: "web-prod", count: 8, group: Some("Web servers"), os: "Ubuntu 22.04.4 LTS", category: Linux, subnet: 10 },
    HostPlan { prefix: "cms", count: 4, group: Some("Web servers"), os: "Debian GNU/Linux 12 (bookworm)", category: WebCms, subnet: 11 },
    HostPlan { prefix: "db-prod", count: 5, group: Some("Databases"), os: "Rocky Linux 9.4", category: Linux, subnet: 20 },
    HostPlan { prefix: "cache", count: 4, group: Some("Databases"), os: "Debian GNU/Linux 12 (bookworm)", category: Linux, subnet: 21 },
    HostPlan { prefix: "batch", count: 6, group: Some("Batch workers"), os: "Ubuntu 20.04.6 LTS", category: Linux, subnet: 30 },
    HostPlan { prefix: "k8s-node", count: 6, group: Some("Kubernetes nodes"), os: "Debian GNU/Linux 12 (bookworm)", category: Linux, subnet: 40 },
    HostPlan { prefix: "bastion", count: 2, group: Some("Bastions"), os: "Alpine Linux v3.20", category: Linux, subnet: 50 },
    HostPlan { prefix: "win-ad", count: 3, group: None, os: "Windows Server 2022 Datacenter", category: Windows, subnet: 60 },
];

const ALERT_TYPES: &[(&str, &str)] = &[
    ("Unusual login", "Login from an unusual location"),
    ("Reverse shell", "Reverse shell connection from a web process"),
    ("Web shell", "Web shell written to the document root"),
    ("Malicious process", "Cryptocurrency miner process started"),
    ("Brute force", "Successful login after repeated SSH failures"),
    ("Suspicious network", "Connection to a known command-and-control address"),
    ("Privilege escalation", "Process gained root through a SUID binary"),
];

const BASELINE_CHECKS: &[(&str, &str, Severity)] = &[
    ("SSH root login is disabled", "SSH", High),
    ("SSH password authentication is disabled", "SSH", Medium),
    ("Password expiry is at most 90 days", "Accounts", Low),
    ("Host firewall is enabled", "Network", High),
    ("auditd is running", "Logging", Medium),
    ("No world-writable files under /etc", "File system", Critical),
    ("Core dumps are restricted", "Kernel", Low),
    ("Time synchronisation is active", "Services", Low),
];

const ATTACK_TYPES: &[(&str, &str)] = &[
    ("SQL injection", "/search?q="),
    ("Cross-site scripting", "/comment"),
    ("Path traversal", "/static/../../etc/passwd"),
    ("Brute force", "ssh:22"),
    ("Remote code execution", "/cgi-bin/php-cgi"),
    ("Web shell upload", "/wp-content/uploads/"),
    ("Scanner", "/.env"),
];

/// Whether the demo accounts exist already.
pub async fn is_seeded(db: &Db) -> Result<bool, AppError> {
    Ok(auth_repo::credentials(db, DEMO_USERS[0].0).await?.is_some())
}

/// Seeds both demo accounts and prints their sign-ins. Does nothing when already seeded.
pub async fn seed(db: &Db) -> Result<bool, AppError> {
    if is_seeded(db).await? {
        return Ok(false);
    }
    let now = now();
    let mut rng = StdRng::seed_from_u64(0xB01_3A2C);
    let demo = create_account(db, "Bulwark Demo", Edition::Enterprise).await?;
    let acme = create_account(db, "Acme Retail", Edition::Basic).await?;
    for (email, password, role, account) in DEMO_USERS {
        let account_id = if account == "Bulwark Demo" { demo } else { acme };
        let hash = crypto::hash_password(password.to_string()).await?;
        let name = email.split('@').next().unwrap_or(email);
        auth_repo::create_user(&db.pool, account_id, email, name, role, &hash.0).await?;
    }
    seed_security_data(db, demo, HOSTS, &mut rng, now).await?;
    seed_security_data(db, acme, &HOSTS[..2], &mut rng, now).await?;
    seed_reports(db, demo).await?;
    // The hosts have been watched for a while: their findings go back 60 days.
    sqlx::query("UPDATE assets SET created_at = $1 WHERE account_id IN ($2, $3)")
        .bind(now - 90 * DAY)
        .bind(demo)
        .bind(acme)
        .execute(&db.pool)
        .await?;
    for account_id in [demo, acme] {
        for days_ago in (0..60).rev() {
            let at = if days_ago == 0 { now } else { now - days_ago * DAY };
            let score = score_as_of(db, account_id, at).await?;
            record_score(db, account_id, at, score).await?;
        }
    }
    Ok(true)
}

/// A monthly report for the board beside the default report (left without recipients, as a
/// new account's is).
async fn seed_reports(db: &Db, account_id: i64) -> Result<(), AppError> {
    use crate::reports::model::{ReportKind, ReportScope, SendWindow, Section, ValidReport};
    let board = ValidReport {
        name: "Monthly board report".into(),
        kind: ReportKind::Monthly,
        custom: None,
        window: SendWindow::Morning,
        recipients: vec!["board@bulwark.local".into(), "ciso@bulwark.local".into()],
        sections: vec![Section::Assets, Section::VulnLinux, Section::VulnWindows, Section::VulnWebCms, Section::ScoreTrend],
        scope: ReportScope::ThisAccount,
        scope_accounts: Vec::new(),
    };
    crate::reports::repo::create_report(db, account_id, &Actor::System, &board).await?;
    Ok(())
}

async fn create_account(db: &Db, name: &str, edition: Edition) -> Result<i64, AppError> {
    let mut conn = db.pool.acquire().await?;
    Ok(crate::tenants::open_account(&mut conn, name, edition, AccountKind::Cloud).await?.id)
}

async fn seed_security_data(db: &Db, account_id: i64, plans: &[HostPlan], rng: &mut StdRng, now: i64) -> Result<(), AppError> {
    let actor = Actor::System;
    let mut assets = Vec::new();
    let mut host_categories = Vec::new();
    for plan in plans {
        for n in 1..=plan.count {
            let instance_id = format!("i-{:08x}{:04x}", rng.gen::<u32>(), n);
            let online = rng.gen_bool(0.85);
            assets.push(AssetIn {
                instance_id,
                name: format!("{}-{:02}", plan.prefix, n),
                ips: vec![format!("10.0.{}.{}", plan.subnet, 10 + n), format!("47.{}.{}.{}", 90 + plan.subnet / 10, rng.gen_range(1..255), rng.gen_range(1..255))],
                os: plan.os.to_string(),
                region: ["cn-hangzhou", "eu-central-1", "us-west-1"][n % 3].to_string(),
                group: plan.group.map(str::to_string),
                agent_status: if online { AgentStatus::Online } else { AgentStatus::Offline },
                last_seen_at: Some(if online { now - rng.gen_range(10..300) } else { now - rng.gen_range(2 * DAY..9 * DAY) }),
            });
            host_categories.push(plan.category);
        }
    }
    ingest::ingest_assets(db, account_id, &actor, &assets).await?;

    // Findings: each host gets several vulnerabilities of its category, first seen over the last
    // 60 days; some were fixed or ignored since.
    let mut opened = Vec::new();
    let mut closed = Vec::new();
    for (asset, category) in assets.iter().zip(&host_categories) {
        let candidates: Vec<&Vuln> = CATALOG.iter().filter(|v| v.category == *category || (*category == WebCms && v.category == Linux && rng.gen_bool(0.3))).collect();
        let wanted = rng.gen_range(2..=candidates.len().min(7));
        let chosen: Vec<&Vuln> = candidates.iter().copied().filter(|_| rng.gen_range(0..candidates.len()) < wanted).collect();
        for vuln in chosen {
            let first_seen = now - rng.gen_range(DAY..60 * DAY);
            let finding = |status: FindingStatus, seen_at: i64| FindingIn {
                instance_id: asset.instance_id.clone(),
                advisory_id: vuln.advisory.to_string(),
                title: vuln.title.to_string(),
                severity: vuln.severity,
                category: vuln.category,
                package: vuln.package.to_string(),
                installed_version: vuln.installed.to_string(),
                affected_versions: String::new(),
                fix: vuln.fix.to_string(),
                status,
                seen_at: Some(seen_at),
            };
            opened.push(finding(FindingStatus::Unfixed, first_seen));
            let roll: f64 = rng.gen();
            if roll < 0.6 {
                closed.push(finding(FindingStatus::Fixed, rng.gen_range(first_seen..now)));
            } else if roll < 0.65 {
                closed.push(finding(FindingStatus::Ignored, rng.gen_range(first_seen..now)));
            } else if roll < 0.68 {
                closed.push(finding(FindingStatus::FixFailed, rng.gen_range(first_seen..now)));
            }
        }
    }
    ingest::ingest_findings(db, account_id, &actor, &opened).await?;
    ingest::ingest_findings(db, account_id, &actor, &closed).await?;

    let mut tx = db.begin_write().await?;
    let mut ids = repo::AssetIds::new(account_id);
    // Alerts, most handled within two days.
    for i in 0..(assets.len() * 2) {
        let asset = &assets[rng.gen_range(0..assets.len())];
        let (alert_type, name) = ALERT_TYPES[rng.gen_range(0..ALERT_TYPES.len())];
        let occurred_at = now - rng.gen_range(600..60 * DAY);
        let handled_at = occurred_at + rng.gen_range(1800..2 * DAY);
        let status = if handled_at < now && rng.gen_bool(0.92) { AlertStatus::Handled } else { AlertStatus::Unhandled };
        let severity = [Critical, High, High, Medium, Medium, Low][rng.gen_range(0..6)];
        let alert = AlertIn {
            external_id: Some(format!("demo-{i}")),
            instance_id: Some(asset.instance_id.clone()),
            name: name.to_string(),
            alert_type: alert_type.to_string(),
            severity,
            status,
            occurred_at,
        };
        let asset_id = ids.resolve(&mut tx, &asset.instance_id).await?;
        repo::upsert_alert(&mut tx, account_id, asset_id, &alert, handled_at.min(now)).await?;
    }
    // Baseline checks on every Linux host; some failures were remediated since.
    for (asset, category) in assets.iter().zip(&host_categories) {
        if *category == Windows {
            continue;
        }
        let Some(asset_id) = ids.resolve(&mut tx, &asset.instance_id).await? else { continue };
        for (check, group, risk) in BASELINE_CHECKS {
            let failed = rng.gen_bool(0.12);
            let first_check = now - rng.gen_range(20 * DAY..60 * DAY);
            let mut result = BaselineIn {
                instance_id: asset.instance_id.clone(),
                check_name: check.to_string(),
                category: group.to_string(),
                risk_level: *risk,
                passed: !failed,
                checked_at: Some(first_check),
            };
            repo::upsert_baseline(&mut tx, account_id, asset_id, &result, first_check).await?;
            if failed && rng.gen_bool(0.5) {
                let remediated = rng.gen_range(first_check..now);
                result.passed = true;
                repo::upsert_baseline(&mut tx, account_id, asset_id, &result, remediated).await?;
            }
        }
    }
    tx.commit().await?;

    let attacks: Vec<AttackIn> = (0..assets.len() * 16)
        .map(|_| {
            let asset = &assets[rng.gen_range(0..assets.len())];
            let (attack_type, path) = ATTACK_TYPES[rng.gen_range(0..ATTACK_TYPES.len())];
            AttackIn {
                instance_id: Some(asset.instance_id.clone()),
                source_ip: format!("{}.{}.{}.{}", rng.gen_range(1..224), rng.gen_range(0..255), rng.gen_range(0..255), rng.gen_range(1..255)),
                target: format!("{}{path}", asset.name),
                attack_type: attack_type.to_string(),
                occurred_at: now - rng.gen_range(60..60 * DAY),
            }
        })
        .collect();
    ingest::ingest_attacks(db, account_id, &actor, &attacks).await?;
    Ok(())
}
