//! Every number of a report against an independent recount: random data sets (seeded) written
//! through the same repo functions as the ingestion API, read back as raw rows, and counted in
//! plain Rust with the definitions the report's footnote and the README state. Plus the two
//! counts that were once wrong, reproduced through the HTTP API.

use std::collections::{BTreeMap, HashMap};

use axum::http::{Method, StatusCode};
use chrono::NaiveDate;
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use bulwark::assets::model::{AgentStatus, AlertIn, AlertStatus, AssetIn, BaselineIn, AttackIn, Category, FindingIn, FindingStatus, Severity};
use bulwark::assets::repo;
use bulwark::editions::Edition;
use bulwark::auth::model::Role;
use bulwark::overview::score::{security_score, RiskCounts, ScoreWeights};
use bulwark::reports::document::{ReportDocument, SectionData, SummaryRow, COUNTING_NOTES, COUNTING_TITLE};
use bulwark::reports::generate;
use bulwark::reports::model::Section;
use bulwark::reports::render;

use crate::common::*;

// ---- The data set ----------------------------------------------------------------------------

const ADVISORIES: [(&str, &str, &str); 8] = [
    ("CVE-2026-1001", "openssl", "OpenSSL buffer overread"),
    ("CVE-2026-1002", "bash", "Bash command injection"),
    ("CVE-2026-1003", "nginx", "nginx request smuggling"),
    ("CVE-2026-1004", "sudo", "sudo privilege escalation"),
    ("CVE-2026-1005", "glibc", "glibc heap overflow"),
    ("KB5034441", "windows-recovery", "Windows recovery bypass"),
    ("WP-2026-77", "wordpress", "WordPress stored XSS"),
    ("CVE-2026-1008", "curl", "curl cookie leak"),
];
/// Alert name → its type (one type per name, as detectors name them).
const ALERTS: [(&str, &str); 5] = [
    ("Brute force login", "login"),
    ("Web shell found", "webshell"),
    ("Suspicious process", "process"),
    ("Mining pool connection", "network"),
    ("Reverse shell", "process"),
];
/// Check → (category, risk level).
const CHECKS: [(&str, &str, Severity); 4] = [
    ("ASLR enabled", "Kernel", Severity::High),
    ("SSH root login disabled", "SSH", Severity::Critical),
    ("Password max age", "Accounts", Severity::Medium),
    ("Core dumps restricted", "Kernel", Severity::Low),
];
const ATTACK_TYPES: [&str; 3] = ["sql_injection", "xss", "path_traversal"];
const SOURCES: [&str; 4] = ["203.0.113.9", "198.51.100.4", "192.0.2.77", "203.0.113.10"];
const OSES: [&str; 3] = ["Ubuntu 24.04", "Debian 12", "Windows Server 2022"];

/// A week in Europe/Berlin whose Sunday ends summer time (7 days and 1 hour long).
fn period() -> (Tz, (NaiveDate, NaiveDate)) {
    (chrono_tz::Europe::Berlin, (NaiveDate::from_ymd_opt(2026, 10, 19).unwrap(), NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()))
}

/// A time on or around an edge of the period or of the previous one, or anywhere near them.
fn instant(rng: &mut StdRng, start: i64, end: i64) -> i64 {
    let previous = start - (end - start);
    let edges = [previous, start, end];
    if rng.gen_bool(0.4) {
        edges[rng.gen_range(0..edges.len())] + rng.gen_range(-1..=1)
    } else {
        rng.gen_range(previous - 3 * 86_400..end + 2 * 86_400)
    }
}

/// Several times in order.
fn instants(rng: &mut StdRng, start: i64, end: i64, n: usize) -> Vec<i64> {
    let mut times: Vec<i64> = (0..n).map(|_| instant(rng, start, end)).collect();
    times.sort();
    times
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

/// Writes one account's random data through the repo functions the ingestion API uses.
async fn fill(app: &TestApp, rng: &mut StdRng, account_id: i64, tag: &str, start: i64, end: i64) {
    let mut conn = app.db().pool.acquire().await.unwrap();
    // Each account rates an advisory its own way; the category follows the package.
    let severities: Vec<Severity> = ADVISORIES.iter().map(|_| pick(rng, Severity::ALL)).collect();
    for n in 0..6 {
        let asset = AssetIn {
            instance_id: format!("i-{tag}-{n}"),
            name: format!("host-{tag}-{n}"),
            ips: vec![format!("10.{}.0.{n}", tag.len())],
            os: pick(rng, &OSES).to_string(),
            region: String::new(),
            group: None,
            agent_status: AgentStatus::Online,
            last_seen_at: None,
        };
        let created = instant(rng, start, end);
        let asset_id = repo::upsert_asset(&mut conn, account_id, &asset, None, created).await.unwrap();
        for (i, (advisory, package, title)) in ADVISORIES.iter().enumerate() {
            if !rng.gen_bool(0.5) {
                continue;
            }
            let category = match *package {
                "windows-recovery" => Category::Windows,
                "wordpress" => Category::WebCms,
                _ => Category::Linux,
            };
            let sightings = rng.gen_range(1..=3);
            for seen_at in instants(rng, start, end, sightings) {
                let finding = FindingIn {
                    instance_id: asset.instance_id.clone(),
                    advisory_id: advisory.to_string(),
                    title: title.to_string(),
                    severity: severities[i],
                    category,
                    package: package.to_string(),
                    installed_version: "1.0".into(),
                    affected_versions: String::new(),
                    fix: String::new(),
                    status: pick(rng, FindingStatus::ALL),
                    seen_at: Some(seen_at),
                };
                let entry = bulwark::assets::model::VulnerabilityEntry::of_finding(&finding);
                let vulnerability = bulwark::assets::bulk::upsert_catalogue(&mut conn, account_id, &[&entry]).await.unwrap()[0].0;
                repo::upsert_finding(&mut conn, account_id, asset_id, vulnerability, finding.status, "1.0", seen_at).await.unwrap();
            }
        }
        for (check, category, risk) in CHECKS {
            if !rng.gen_bool(0.7) {
                continue;
            }
            let results = rng.gen_range(1..=3);
            for checked_at in instants(rng, start, end, results) {
                let result = BaselineIn {
                    instance_id: asset.instance_id.clone(),
                    check_name: check.into(),
                    category: category.into(),
                    risk_level: risk,
                    passed: rng.gen_bool(0.5),
                    checked_at: Some(checked_at),
                };
                repo::upsert_baseline(&mut conn, account_id, asset_id, &result, checked_at).await.unwrap();
            }
        }
        for a in 0..2 {
            let (name, alert_type) = pick(rng, &ALERTS);
            let occurred_at = instant(rng, start, end);
            let mut alert = AlertIn {
                external_id: Some(format!("{tag}-{n}-{a}")),
                instance_id: Some(asset.instance_id.clone()),
                name: name.into(),
                alert_type: alert_type.into(),
                severity: pick(rng, Severity::ALL),
                status: AlertStatus::Unhandled,
                occurred_at,
            };
            let asset = if rng.gen_bool(0.8) { Some(asset_id) } else { None };
            repo::upsert_alert(&mut conn, account_id, asset, &alert, occurred_at).await.unwrap();
            if rng.gen_bool(0.6) {
                // Handled (or ignored) later, at a time of its own.
                alert.status = pick(rng, &[AlertStatus::Handled, AlertStatus::Ignored]);
                let handled_at = instant(rng, start, end).max(occurred_at);
                repo::upsert_alert(&mut conn, account_id, asset, &alert, handled_at).await.unwrap();
            }
        }
    }
    for _ in 0..10 {
        let attack = AttackIn {
            instance_id: None,
            source_ip: pick(rng, &SOURCES).into(),
            target: "web".into(),
            attack_type: pick(rng, &ATTACK_TYPES).into(),
            occurred_at: instant(rng, start, end),
        };
        repo::insert_attack(&mut conn, account_id, None, &attack).await.unwrap();
    }
}

// ---- Raw rows --------------------------------------------------------------------------------

struct Finding {
    account: i64,
    asset: i64,
    status: String,
    first_seen: i64,
    resolved: Option<i64>,
    advisory: String,
    title: String,
    package: String,
    severity: String,
    category: String,
}

struct Alert {
    account: i64,
    asset: Option<i64>,
    name: String,
    kind: String,
    severity: String,
    occurred: i64,
    resolved: Option<i64>,
}

struct Baseline {
    account: i64,
    asset: i64,
    check: String,
    category: String,
    risk: String,
    first_seen: i64,
    resolved: Option<i64>,
}

struct Attack {
    account: i64,
    source: String,
    kind: String,
    occurred: i64,
}

struct Asset {
    account: i64,
    id: i64,
    name: String,
    ips: String,
    os: String,
    created: i64,
}

struct Account {
    id: i64,
    name: String,
    account_no: String,
    edition: String,
}

/// Everything in the database, as plain rows (no counting in SQL).
struct Rows {
    findings: Vec<Finding>,
    alerts: Vec<Alert>,
    baseline: Vec<Baseline>,
    attacks: Vec<Attack>,
    assets: Vec<Asset>,
    accounts: Vec<Account>,
}

async fn read_rows(app: &TestApp) -> Rows {
    let db = &app.db().pool;
    let findings = sqlx::query_as::<_, (i64, i64, String, i64, Option<i64>, String, String, String, String, String)>(
        "SELECT f.account_id, f.asset_id, f.status, f.first_seen_at, f.resolved_at, v.advisory_id, v.title, v.package, v.severity, v.category
         FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id",
    )
    .fetch_all(db)
    .await
    .unwrap()
    .into_iter()
    .map(|r| Finding { account: r.0, asset: r.1, status: r.2, first_seen: r.3, resolved: r.4, advisory: r.5, title: r.6, package: r.7, severity: r.8, category: r.9 })
    .collect();
    let alerts = sqlx::query_as::<_, (i64, Option<i64>, String, String, String, i64, Option<i64>)>(
        "SELECT account_id, asset_id, name, alert_type, severity, occurred_at, resolved_at FROM alerts",
    )
    .fetch_all(db)
    .await
    .unwrap()
    .into_iter()
    .map(|r| Alert { account: r.0, asset: r.1, name: r.2, kind: r.3, severity: r.4, occurred: r.5, resolved: r.6 })
    .collect();
    let baseline = sqlx::query_as::<_, (i64, i64, String, String, String, i64, Option<i64>)>(
        "SELECT account_id, asset_id, check_name, category, risk_level, first_seen_at, resolved_at FROM baseline_results",
    )
    .fetch_all(db)
    .await
    .unwrap()
    .into_iter()
    .map(|r| Baseline { account: r.0, asset: r.1, check: r.2, category: r.3, risk: r.4, first_seen: r.5, resolved: r.6 })
    .collect();
    let attacks = sqlx::query_as::<_, (i64, String, String, i64)>("SELECT account_id, source_ip, attack_type, occurred_at FROM attacks")
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| Attack { account: r.0, source: r.1, kind: r.2, occurred: r.3 })
        .collect();
    let assets = sqlx::query_as::<_, (i64, i64, String, String, String, i64)>("SELECT account_id, id, name, ips, os, created_at FROM assets")
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| Asset { account: r.0, id: r.1, name: r.2, ips: r.3, os: r.4, created: r.5 })
        .collect();
    let accounts = sqlx::query_as::<_, (i64, String, String, String)>("SELECT id, name, account_no, edition FROM accounts")
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| Account { id: r.0, name: r.1, account_no: r.2, edition: r.3 })
        .collect();
    Rows { findings, alerts, baseline, attacks, assets, accounts }
}

// ---- The recount, with the written definitions ------------------------------------------------

fn within(t: i64, from: i64, to: i64) -> bool {
    from <= t && t < to
}

/// Open at the end of a period that ends (exclusively) at `end`.
fn open_at_end(first: i64, resolved: Option<i64>, end: i64) -> bool {
    first < end && resolved.is_none_or(|r| r >= end)
}

/// A baseline row that was a risk: its failure episode has a length (a check whose first result
/// passed is stored with first seen = resolved).
fn failed_for_a_while(first: i64, resolved: Option<i64>) -> bool {
    resolved.is_none_or(|r| r > first)
}

fn rank(severity: &str) -> usize {
    ["critical", "high", "medium", "low"].iter().position(|s| *s == severity).unwrap_or(3)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Risk counts at an instant, for the score.
fn risks_at(rows: &Rows, account: i64, t: i64) -> RiskCounts {
    let mut counts = RiskCounts::default();
    let open = |first: i64, resolved: Option<i64>| first <= t && resolved.is_none_or(|r| r > t);
    for f in rows.findings.iter().filter(|f| f.account == account && open(f.first_seen, f.resolved)) {
        counts.vulnerabilities.add(Severity::parse(&f.severity).unwrap(), 1);
    }
    for a in rows.alerts.iter().filter(|a| a.account == account && open(a.occurred, a.resolved)) {
        counts.alerts.add(Severity::parse(&a.severity).unwrap(), 1);
    }
    for b in rows.baseline.iter().filter(|b| b.account == account && open(b.first_seen, b.resolved)) {
        counts.baseline.add(Severity::parse(&b.risk).unwrap(), 1);
    }
    counts
}

fn score_at(rows: &Rows, account: i64, t: i64) -> i64 {
    security_score(&risks_at(rows, account, t), &ScoreWeights::default())
}

struct Expected {
    score: i64,
    previous_score: i64,
    summary: Vec<SummaryRow>,
    sections: BTreeMap<Section, SectionData>,
}

fn summary_rows(rows: &Rows, scope: &[i64], start: i64, end: i64) -> Vec<SummaryRow> {
    let previous = start - (end - start);
    let mine = |account: i64| scope.contains(&account);
    let findings: Vec<&Finding> = rows.findings.iter().filter(|f| mine(f.account)).collect();
    let baseline: Vec<&Baseline> = rows.baseline.iter().filter(|b| mine(b.account) && failed_for_a_while(b.first_seen, b.resolved)).collect();
    let alerts: Vec<&Alert> = rows.alerts.iter().filter(|a| mine(a.account)).collect();
    let attacks: Vec<&Attack> = rows.attacks.iter().filter(|a| mine(a.account)).collect();
    let count = |items: &[(i64, Option<i64>)], from: i64, to: i64| items.iter().filter(|(t, _)| within(*t, from, to)).count() as i64;
    let mut out = Vec::new();
    for (label, items) in [
        ("Vulnerabilities", findings.iter().map(|f| (f.first_seen, f.resolved)).collect::<Vec<_>>()),
        ("Alerts", alerts.iter().map(|a| (a.occurred, a.resolved)).collect()),
        ("Baseline risks", baseline.iter().map(|b| (b.first_seen, b.resolved)).collect()),
    ] {
        out.push(SummaryRow {
            label: label.into(),
            new: count(&items, start, end),
            resolved: Some(items.iter().filter(|(_, r)| r.is_some_and(|r| within(r, start, end))).count() as i64),
            open: Some(items.iter().filter(|(t, r)| open_at_end(*t, *r, end)).count() as i64),
            previous_new: count(&items, previous, start),
        });
    }
    let attack_times: Vec<(i64, Option<i64>)> = attacks.iter().map(|a| (a.occurred, None)).collect();
    out.push(SummaryRow {
        label: "Attacks".into(),
        new: count(&attack_times, start, end),
        resolved: None,
        open: None,
        previous_new: count(&attack_times, previous, start),
    });
    out
}

fn section(section: Section, empty: bool, points: Vec<(String, i64)>, title: String, rows: Vec<Vec<String>>) -> SectionData {
    use bulwark::reports::document::{Chart, ChartKind, ChartPoint, Table};
    SectionData {
        section,
        title: String::new(),
        empty,
        chart: Chart { kind: ChartKind::Bars, title: String::new(), points: points.into_iter().map(|(label, value)| ChartPoint { label, value }).collect() },
        table: Table { title, columns: Vec::new(), rows },
    }
}

fn severity_points(counts: &HashMap<String, i64>) -> Vec<(String, i64)> {
    ["critical", "high", "medium", "low"].iter().map(|s| (capitalise(s), counts.get(*s).copied().unwrap_or(0))).collect()
}

fn recount(rows: &Rows, account: i64, members: &[i64], start: i64, end: i64) -> Expected {
    let mut scope = vec![account];
    scope.extend(members.iter().copied().filter(|m| *m != account));
    let mine = |a: i64| scope.contains(&a);
    let n = scope.len() as i64;
    let score = (scope.iter().map(|a| score_at(rows, *a, end - 1)).sum::<i64>() + n / 2) / n;
    let previous_score = (scope.iter().map(|a| score_at(rows, *a, start - 1)).sum::<i64>() + n / 2) / n;
    let mut sections = BTreeMap::new();

    // Assets: the most open risks at the end of the period.
    let assets: Vec<&Asset> = rows.assets.iter().filter(|a| mine(a.account) && a.created < end).collect();
    let new_assets = assets.iter().filter(|a| within(a.created, start, end)).count();
    let mut per_asset: HashMap<i64, [i64; 3]> = HashMap::new();
    for f in rows.findings.iter().filter(|f| mine(f.account) && open_at_end(f.first_seen, f.resolved, end)) {
        per_asset.entry(f.asset).or_default()[0] += 1;
    }
    for a in rows.alerts.iter().filter(|a| mine(a.account) && open_at_end(a.occurred, a.resolved, end)) {
        if let Some(asset) = a.asset {
            per_asset.entry(asset).or_default()[1] += 1;
        }
    }
    for b in rows.baseline.iter().filter(|b| mine(b.account) && open_at_end(b.first_seen, b.resolved, end)) {
        per_asset.entry(b.asset).or_default()[2] += 1;
    }
    let mut ranked: Vec<(i64, [i64; 3])> = per_asset.into_iter().collect();
    ranked.sort_by_key(|(id, c)| (-(c.iter().sum::<i64>()), *id));
    ranked.truncate(10);
    let asset_of = |id: i64| rows.assets.iter().find(|a| a.id == id).unwrap();
    sections.insert(
        Section::Assets,
        section(
            Section::Assets,
            assets.is_empty(),
            ranked.iter().map(|(id, c)| (asset_of(*id).name.clone(), c.iter().sum())).collect(),
            format!("Top risky assets ({} assets, {new_assets} new in this period)", assets.len()),
            ranked
                .iter()
                .map(|(id, c)| {
                    let a = asset_of(*id);
                    vec![a.name.clone(), a.ips.clone(), a.os.clone(), c[0].to_string(), c[1].to_string(), c[2].to_string(), c.iter().sum::<i64>().to_string()]
                })
                .collect(),
        ),
    );

    // Alerts that occurred in the period.
    let in_period: Vec<&Alert> = rows.alerts.iter().filter(|a| mine(a.account) && within(a.occurred, start, end)).collect();
    let mut by_severity: HashMap<String, i64> = HashMap::new();
    let mut groups: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
    for a in &in_period {
        *by_severity.entry(a.severity.clone()).or_default() += 1;
        let group = groups.entry((a.name.clone(), a.kind.clone(), a.severity.clone())).or_default();
        group.0 += 1;
        group.1 += i64::from(a.resolved.is_none_or(|r| r >= end));
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|((na, _, sa), (ca, _)), ((nb, _, sb), (cb, _))| rank(sa).cmp(&rank(sb)).then(cb.cmp(ca)).then(na.cmp(nb)));
    groups.truncate(10);
    sections.insert(
        Section::Alerts,
        section(
            Section::Alerts,
            in_period.is_empty(),
            severity_points(&by_severity),
            "Top alerts".into(),
            groups.into_iter().map(|((name, kind, sev), (n, open))| vec![name, kind, capitalise(&sev), n.to_string(), open.to_string()]).collect(),
        ),
    );

    // Vulnerabilities of each category open at the end, and those resolved in the period.
    for (which, category) in [(Section::VulnLinux, "linux"), (Section::VulnWindows, "windows"), (Section::VulnWebCms, "web_cms")] {
        let ours: Vec<&Finding> = rows.findings.iter().filter(|f| mine(f.account) && f.category == category).collect();
        let open: Vec<&&Finding> = ours.iter().filter(|f| open_at_end(f.first_seen, f.resolved, end)).collect();
        let mut by_severity: HashMap<String, i64> = HashMap::new();
        let mut groups: BTreeMap<(String, String, String, String), (i64, i64)> = BTreeMap::new();
        for f in &open {
            *by_severity.entry(f.severity.clone()).or_default() += 1;
            let group = groups.entry((f.advisory.clone(), f.title.clone(), f.package.clone(), f.severity.clone())).or_default();
            group.0 += 1;
            group.1 += i64::from(f.first_seen >= start);
        }
        let resolved_as = |status: &str| {
            ours.iter().filter(|f| f.status == status && f.resolved.is_some_and(|r| within(r, start, end))).count()
        };
        let (fixed, ignored) = (resolved_as("fixed"), resolved_as("ignored"));
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by(|((aa, _, _, sa), (ha, _)), ((ab, _, _, sb), (hb, _))| rank(sa).cmp(&rank(sb)).then(hb.cmp(ha)).then(aa.cmp(ab)));
        groups.truncate(10);
        sections.insert(
            which,
            section(
                which,
                open.is_empty() && fixed == 0 && ignored == 0,
                severity_points(&by_severity),
                format!("Top vulnerabilities ({} open; resolved in this period: {fixed} fixed, {ignored} ignored)", open.len()),
                groups
                    .into_iter()
                    .map(|((advisory, title, package, sev), (hosts, new))| vec![advisory, title, package, capitalise(&sev), hosts.to_string(), new.to_string()])
                    .collect(),
            ),
        );
    }

    // Baseline failures open at the end, by check.
    let mut checks: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for b in rows.baseline.iter().filter(|b| mine(b.account) && open_at_end(b.first_seen, b.resolved, end)) {
        *checks.entry((b.check.clone(), b.category.clone(), b.risk.clone())).or_default() += 1;
    }
    let mut checks: Vec<_> = checks.into_iter().collect();
    checks.sort_by(|((ca, _, ra), ha), ((cb, _, rb), hb)| hb.cmp(ha).then(rank(ra).cmp(&rank(rb))).then(ca.cmp(cb)));
    checks.truncate(10);
    sections.insert(
        Section::Baseline,
        section(
            Section::Baseline,
            checks.is_empty(),
            checks.iter().take(8).map(|((check, _, _), n)| (check.clone(), *n)).collect(),
            "Baseline failures by check".into(),
            checks.into_iter().map(|((check, category, risk), n)| vec![check, category, capitalise(&risk), n.to_string()]).collect(),
        ),
    );

    // Attacks in the period by type, and their top sources.
    let attacks: Vec<&Attack> = rows.attacks.iter().filter(|a| mine(a.account) && within(a.occurred, start, end)).collect();
    let mut by_type: BTreeMap<String, i64> = BTreeMap::new();
    let mut sources: BTreeMap<String, (i64, Vec<String>, i64)> = BTreeMap::new();
    for a in &attacks {
        *by_type.entry(a.kind.clone()).or_default() += 1;
        let source = sources.entry(a.source.clone()).or_default();
        source.0 += 1;
        if !source.1.contains(&a.kind) {
            source.1.push(a.kind.clone());
        }
        source.2 = source.2.max(a.occurred);
    }
    let mut by_type: Vec<(String, i64)> = by_type.into_iter().collect();
    by_type.sort_by(|(ta, na), (tb, nb)| nb.cmp(na).then(ta.cmp(tb)));
    by_type.truncate(10);
    let mut sources: Vec<_> = sources.into_iter().collect();
    sources.sort_by(|(ia, (na, _, _)), (ib, (nb, _, _))| nb.cmp(na).then(ia.cmp(ib)));
    sources.truncate(10);
    sections.insert(
        Section::Attacks,
        section(
            Section::Attacks,
            by_type.is_empty(),
            by_type,
            "Top attack sources".into(),
            sources
                .into_iter()
                .map(|(ip, (n, kinds, last))| vec![ip, n.to_string(), kinds.len().to_string(), bulwark::format::date_time(Some(last))])
                .collect(),
        ),
    );

    // A consolidated report's table of accounts.
    if scope.len() > 1 {
        let rows_of = |id: i64| {
            let account = rows.accounts.iter().find(|a| a.id == id).unwrap();
            let summary = summary_rows(rows, &[id], start, end);
            let open = |i: usize| summary[i].open.unwrap().to_string();
            let score = score_at(rows, id, end - 1);
            (
                (account.name.clone(), score),
                vec![account.name.clone(), account.account_no.clone(), capitalise(&account.edition), score.to_string(), open(0), open(1), open(2), summary[3].new.to_string()],
            )
        };
        let (points, table): (Vec<_>, Vec<_>) = scope.iter().map(|id| rows_of(*id)).unzip();
        sections.insert(Section::Accounts, section(Section::Accounts, false, points, format!("{} accounts", scope.len()), table));
    }

    Expected { score, previous_score, summary: summary_rows(rows, &scope, start, end), sections }
}

/// Compares the generated document with the recount, number by number.
fn assert_matches(document: &ReportDocument, expected: &Expected, what: &str) {
    assert_eq!(document.summary.score, expected.score, "{what}: score");
    assert_eq!(document.summary.previous_score, Some(expected.previous_score), "{what}: previous score");
    assert_eq!(document.summary.rows, expected.summary, "{what}: summary");
    for (section, want) in &expected.sections {
        let got = document.sections.iter().find(|s| s.section == *section).unwrap_or_else(|| panic!("{what}: no {section:?} section"));
        assert_eq!(got.empty, want.empty, "{what}: {section:?} empty");
        assert_eq!(got.chart.points, want.chart.points, "{what}: {section:?} chart");
        assert_eq!(got.table.title, want.table.title, "{what}: {section:?} table title");
        assert_eq!(got.table.rows, want.table.rows, "{what}: {section:?} table rows");
    }
}

/// Every format shows the document's numbers: the summary in the text and HTML email and the PDF,
/// each section's rows in its CSV, and the footnote everywhere.
fn assert_formats_show(document: &ReportDocument, expected: &Expected) {
    let text = render::email_text(document);
    let html = words(&strip_tags(&render::email_html(document, "https://bulwark.example.com")));
    let pdf_bytes = render::pdf(document).expect("the PDF renders");
    let pdf = words(&pdf_extract::extract_text_from_mem(&pdf_bytes).expect("the PDF has text"));
    for row in &expected.summary {
        let cells: Vec<String> = [Some(row.new), row.resolved, row.open].iter().flatten().map(|n| n.to_string()).collect();
        let change = match row.new - row.previous_new {
            0 => "±0".to_string(),
            d => format!("{d:+}"),
        };
        let absent = if row.resolved.is_none() { " — —" } else { "" };
        let shown = format!("{} {}{absent} {change}", row.label, cells.join(" "));
        let line = text.lines().map(words).find(|l| l.starts_with(&format!("{} ", row.label))).unwrap_or_default();
        assert_eq!(line, shown, "text summary");
        assert!(html.contains(&shown), "HTML summary lacks {shown:?}");
        assert!(pdf.contains(&shown), "PDF summary lacks {shown:?} in {pdf}");
    }
    for (section, want) in &expected.sections {
        let got = document.sections.iter().find(|s| s.section == *section).unwrap();
        let csv = render::section_csv(&got.table);
        let mut lines = csv.lines().skip(1);
        for row in &want.table.rows {
            let line = lines.next().unwrap_or_else(|| panic!("{section:?}: CSV has fewer rows than the recount"));
            for cell in row {
                assert!(line.contains(cell.as_str()), "{section:?}: CSV line {line:?} lacks {cell:?}");
            }
        }
    }
    let first_words: String = COUNTING_NOTES[3].split_whitespace().take(8).collect::<Vec<_>>().join(" ");
    for (format, shown) in [("text", words(&text)), ("HTML", html), ("PDF", pdf)] {
        assert!(shown.to_lowercase().contains(&COUNTING_TITLE.to_lowercase()), "{format}: footnote title missing");
        assert!(shown.contains(&first_words), "{format}: footnote text missing: {first_words}");
    }
}

/// Text with its runs of white space made single spaces.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of HTML: tags become spaces, the few entities the renderer writes are decoded.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
}

/// Random data sets on and around both period edges, in three accounts, in a week with a DST
/// change: every number of a report (and of a consolidated one) equals the recount.
#[tokio::test(flavor = "multi_thread")]
async fn every_report_number_equals_an_independent_recount() {
    let app = TestApp::new().await;
    let (tz, period) = period();
    let (start, end) = generate::period_bounds(tz, period);
    // Verify the week really has its extra hour (the zone's DST change falls inside).
    assert_eq!(end - start, 7 * 86_400 + 3600);
    let seeds: u64 = std::env::var("BULWARK_RECOUNT_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    for seed in 1..=seeds {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut accounts = Vec::new();
        for (tag, edition) in [("a", Edition::Enterprise), ("b", Edition::Advanced), ("c", Edition::Basic)] {
            let tag = format!("{tag}{seed}");
            let (id, _) = app.account(&format!("Tenant {tag}"), edition, Role::Admin).await;
            fill(&app, &mut rng, id, &tag, start, end).await;
            accounts.push(id);
        }
        let rows = read_rows(&app).await;
        for members in [&[][..], &accounts[1..2]] {
            let request = generate::Request {
                account_id: accounts[0],
                report_name: "Weekly",
                sections: &Section::ALL,
                tz,
                period,
                generated_at: end + 3600,
                members,
                language: bulwark::locale::Locale::en,
            };
            let document = generate::build(app.db(), &request).await.unwrap();
            let expected = recount(&rows, accounts[0], members, start, end);
            let what = format!("seed {seed}, {} account(s)", members.len() + 1);
            assert_matches(&document, &expected, &what);
            if seed <= 2 {
                assert_formats_show(&document, &expected);
            }
        }
    }
}

// ---- The two counts that were wrong -----------------------------------------------------------

/// A baseline check whose first result passes was never a risk: Send Now reports no new and no
/// resolved baseline risk, as the Overview shows none.
#[tokio::test(flavor = "multi_thread")]
async fn a_check_that_only_ever_passed_is_not_a_baseline_risk() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Passing", Edition::Advanced, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "ingest").await;
    let assets = app.api(&token, Method::POST, "/api/v1/assets", Some(json!({"assets": [{"instance_id": "i-1", "name": "h1"}]}))).await;
    assert_eq!(assets.status, StatusCode::OK, "{}", assets.body);
    let result = json!({"results": [{"instance_id": "i-1", "check_name": "ASLR enabled", "category": "Kernel", "risk_level": "high", "passed": true}]});
    let baseline = app.api(&token, Method::POST, "/api/v1/baseline", Some(result)).await;
    assert_eq!(baseline.status, StatusCode::OK, "{}", baseline.body);

    let document = last_week(&app, account_id).await;
    let row = document.summary.rows.iter().find(|r| r.label == "Baseline risks").unwrap();
    // Verify: nothing new, nothing resolved, nothing open, as on the Overview.
    assert_eq!((row.new, row.resolved, row.open), (0, Some(0), Some(0)));
    let overview = bulwark::overview::repo::risk_counts(app.db(), account_id, now()).await.unwrap();
    assert_eq!(overview.baseline.high, 0);
    // A later failure is a risk from then on; passing again resolves it.
    let failed = json!({"results": [{"instance_id": "i-1", "check_name": "ASLR enabled", "category": "Kernel", "risk_level": "high", "passed": false}]});
    app.api(&token, Method::POST, "/api/v1/baseline", Some(failed)).await;
    let document = last_week(&app, account_id).await;
    let row = document.summary.rows.iter().find(|r| r.label == "Baseline risks").unwrap();
    assert_eq!((row.new, row.resolved, row.open), (1, Some(0), Some(1)));
}

/// An ignored finding is not a fixed one: the section says how many were fixed and how many
/// ignored, and the summary's Resolved counts both.
#[tokio::test(flavor = "multi_thread")]
async fn ignored_findings_are_not_counted_as_fixed() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Ignoring", Edition::Advanced, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "ingest").await;
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({"assets": [{"instance_id": "i-1", "name": "h1"}]}))).await;
    let finding = |advisory: &str, status: &str| {
        json!({"instance_id": "i-1", "advisory_id": advisory, "title": "flaw", "severity": "high", "category": "linux", "package": "openssl", "status": status})
    };
    let posted = app
        .api(&token, Method::POST, "/api/v1/findings", Some(json!({"findings": [finding("CVE-2026-1", "unfixed"), finding("CVE-2026-2", "unfixed")]})))
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    let ignored = app.api(&token, Method::POST, "/api/v1/findings", Some(json!({"findings": [finding("CVE-2026-2", "ignored")]}))).await;
    assert_eq!(ignored.status, StatusCode::OK, "{}", ignored.body);

    let document = last_week(&app, account_id).await;
    let linux = document.sections.iter().find(|s| s.section == Section::VulnLinux).unwrap();
    // Verify: one open, none fixed, one ignored.
    assert_eq!(linux.table.title, "Top vulnerabilities (1 open; resolved in this period: 0 fixed, 1 ignored)");
    let row = document.summary.rows.iter().find(|r| r.label == "Vulnerabilities").unwrap();
    assert_eq!((row.new, row.resolved, row.open), (2, Some(1), Some(1)));
}

/// The report Send Now would make: the last seven days up to today, in the account's zone.
async fn last_week(app: &TestApp, account_id: i64) -> ReportDocument {
    let tz = chrono_tz::UTC;
    let today = chrono::DateTime::from_timestamp(now(), 0).unwrap().date_naive();
    let period = (today - chrono::Duration::days(6), today);
    let request = generate::Request { account_id, report_name: "Custom", sections: &Section::ALL, tz, period, generated_at: now(), members: &[], language: bulwark::locale::Locale::en };
    generate::build(app.db(), &request).await.unwrap()
}
