//! Container images in reports and on Multi-account Control: the report's section of images
//! admitted with known vulnerabilities and its list of exceptions expiring after the period, in
//! every format and both languages, and the per-member image counts of the consolidated list.
//! Every row is written at a fixed time around a fixed week, never relative to today.

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::Value;

use bulwark::auth::model::Role;
use bulwark::editions::Edition;
use bulwark::locale::Locale;
use bulwark::reports::document::{ReportDocument, SectionData};
use bulwark::reports::generate;
use bulwark::reports::model::Section;
use bulwark::reports::render;

use crate::common::*;

const DAY: i64 = 86_400;

/// The report's week, in UTC: [start, end).
fn week() -> ((NaiveDate, NaiveDate), i64, i64) {
    let period = (NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(), NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    let (start, end) = generate::period_bounds(chrono_tz::UTC, period);
    (period, start, end)
}

/// A sha256 digest made of one number.
fn digest(n: u64) -> String {
    format!("sha256:{n:064x}")
}

async fn cluster(app: &TestApp, account: i64, name: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO sig_clusters (account_id, name, region, token_hash, token_sealed, created_at, updated_at)
         VALUES ($1, $2, 'eu-1', $3, 'sealed', 0, 0) RETURNING id",
    )
    .bind(account)
    .bind(name)
    .bind(format!("hash-{account}-{name}"))
    .fetch_one(&app.db().pool)
    .await
    .unwrap()
}

async fn image(app: &TestApp, account: i64, repository: &str, digest: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO sig_images (account_id, repository, digest, first_seen_at, last_seen_at) VALUES ($1, $2, $3, 0, 0) RETURNING id",
    )
    .bind(account)
    .bind(repository)
    .bind(digest)
    .fetch_one(&app.db().pool)
    .await
    .unwrap()
}

/// The latest scan of a digest: findings (critical, high, medium, low), and of those the fixable.
async fn scan(app: &TestApp, account: i64, repository: &str, digest: &str, counts: [i64; 4], fixable: [i64; 4]) {
    sqlx::query(
        "INSERT INTO image_scans (account_id, digest, repository, scanner, scanned_at, imported_at, imported_by, packages,
                                  critical, high, medium, low, fixable_critical, fixable_high, fixable_medium, fixable_low)
         VALUES ($1, $2, $3, 'trivy', 0, 0, 'ci', 100, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(account)
    .bind(digest)
    .bind(repository)
    .bind(counts[0])
    .bind(counts[1])
    .bind(counts[2])
    .bind(counts[3])
    .bind(fixable[0])
    .bind(fixable[1])
    .bind(fixable[2])
    .bind(fixable[3])
    .execute(&app.db().pool)
    .await
    .unwrap();
}

/// An inventory entry: the image ran in `cluster/namespace` as `workload` from `first` to `last`.
#[allow(clippy::too_many_arguments)] // one column each
async fn ran(app: &TestApp, account: i64, image: i64, cluster: i64, namespace: &str, workload: &str, (first, last): (i64, i64), outcome: &str) {
    sqlx::query(
        "INSERT INTO image_inventory (account_id, image_id, cluster_id, namespace, workload_kind, workload_name, first_seen_at, last_seen_at, outcome)
         VALUES ($1, $2, $3, $4, 'Deployment', $5, $6, $7, $8)",
    )
    .bind(account)
    .bind(image)
    .bind(cluster)
    .bind(namespace)
    .bind(workload)
    .bind(first)
    .bind(last)
    .bind(outcome)
    .execute(&app.db().pool)
    .await
    .unwrap();
}

async fn exception(app: &TestApp, account: i64, cve: &str, repository: &str, expires_at: i64) {
    sqlx::query(
        "INSERT INTO image_vuln_exceptions (account_id, vulnerability_id, repository, reason, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, 'lead@test', 0, $5)",
    )
    .bind(account)
    .bind(cve)
    .bind(repository)
    .bind(format!("Reviewed {cve}"))
    .bind(expires_at)
    .execute(&app.db().pool)
    .await
    .unwrap();
}

/// The week's report of one account with the Images section only (which brings the exceptions).
async fn report(app: &TestApp, account_id: i64, language: Locale) -> ReportDocument {
    let (period, _, end) = week();
    let request = generate::Request {
        account_id,
        report_name: "Weekly",
        sections: &[Section::Images],
        tz: chrono_tz::UTC,
        period,
        generated_at: end + 3600,
        members: &[],
        language,
    };
    generate::build(app.db(), &request).await.unwrap()
}

fn section(document: &ReportDocument, which: Section) -> &SectionData {
    document.sections.iter().find(|s| s.section == which).unwrap_or_else(|| panic!("no {which:?} section"))
}

/// The text of every format: the plain-text and HTML email, and the PDF (white space squeezed
/// out of the PDF, whose extractor spaces text glyph by glyph at times).
fn formats(document: &ReportDocument) -> [(&'static str, String); 3] {
    let pdf = render::pdf(document).expect("the PDF renders");
    let pdf_text: String = pdf_extract::extract_text_from_mem(&pdf).expect("the PDF has text").chars().filter(|c| !c.is_whitespace()).collect();
    [("text", render::email_text(document)), ("HTML", render::email_html(document, "https://bulwark.example")), ("PDF", pdf_text)]
}

fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The images admitted in the week whose latest scan has vulnerabilities are listed worst first
/// (critical, then high, then medium), ten at most, with where they ran and their fixable counts;
/// denied, unscanned, clean, out-of-period and other accounts' images are not. The exceptions
/// listed are those ending in the 14 days after the week, soonest first.
#[tokio::test(flavor = "multi_thread")]
async fn admitted_vulnerable_images_are_listed_worst_first_with_expiring_exceptions() {
    let app = TestApp::new().await;
    let (_, start, end) = week();
    let (account, _) = app.account("Harbor", Edition::Enterprise, Role::Admin).await;
    let (other, _) = app.account("Elsewhere", Edition::Enterprise, Role::Admin).await;
    let prod = cluster(&app, account, "prod").await;
    let stage = cluster(&app, account, "stage").await;
    let in_week = (start + 3600, start + 2 * DAY);
    let mut n = 0;
    // (repository, findings, fixable, runs as (cluster, namespace, workload, span, outcome)).
    let mut admitted = |repository: &'static str, counts: [i64; 4], fixable: [i64; 4]| {
        n += 1;
        (repository, digest(n), counts, fixable)
    };
    let web = admitted("registry.example/shop/web", [2, 1, 0, 3], [1, 1, 0, 0]);
    let api = admitted("registry.example/shop/api", [2, 3, 0, 0], [2, 0, 0, 0]);
    let worker = admitted("registry.example/shop/worker", [0, 0, 5, 0], [0, 0, 5, 0]);
    let cron = admitted("registry.example/shop/cron", [0, 4, 0, 0], [0, 0, 0, 0]);
    // First admitted before the week and again after it: it ran through the week.
    let batch = admitted("registry.example/shop/batch", [1, 0, 0, 0], [0, 0, 0, 0]);
    for (repository, d, counts, fixable) in [&web, &api, &worker, &cron, &batch] {
        scan(&app, account, repository, d, *counts, *fixable).await;
    }
    let web_id = image(&app, account, web.0, &web.1).await;
    ran(&app, account, web_id, prod, "web", "web", in_week, "allowed").await;
    ran(&app, account, web_id, prod, "web", "web-canary", in_week, "warned").await;
    ran(&app, account, web_id, stage, "web", "web", in_week, "allowed").await;
    for (repository, d, namespace) in [(api.0, &api.1, "api"), (worker.0, &worker.1, "jobs"), (cron.0, &cron.1, "jobs")] {
        let id = image(&app, account, repository, d).await;
        ran(&app, account, id, prod, namespace, repository.rsplit('/').next().unwrap(), in_week, "allowed").await;
    }
    let batch_id = image(&app, account, batch.0, &batch.1).await;
    ran(&app, account, batch_id, prod, "jobs", "batch", (start - 10 * DAY, end + 3600), "allowed").await;
    // Eight images with one low finding each: the table stops at ten.
    for i in 1..=8 {
        let repository = format!("registry.example/shop/low-{i:02}");
        let d = digest(100 + i);
        scan(&app, account, &repository, &d, [0, 0, 0, 1], [0, 0, 0, 0]).await;
        let id = image(&app, account, &repository, &d).await;
        ran(&app, account, id, stage, "misc", &format!("low-{i}"), in_week, "allowed").await;
    }
    // Not listed: denied; last seen before the week; first seen after it; a clean scan; no scan
    // (by digest, and by tag only); scanned only in another account; another account's image.
    let left_out = [
        ("registry.example/x/denied", digest(201), Some([9, 0, 0, 0]), in_week, "denied"),
        ("registry.example/x/before", digest(202), Some([9, 0, 0, 0]), (start - 5 * DAY, start - 1), "allowed"),
        ("registry.example/x/after", digest(203), Some([9, 0, 0, 0]), (end, end + DAY), "allowed"),
        ("registry.example/x/clean", digest(204), Some([0, 0, 0, 0]), in_week, "allowed"),
        ("registry.example/x/unscanned", digest(205), None, in_week, "allowed"),
        ("registry.example/x/tagged", String::new(), None, in_week, "allowed"),
    ];
    for (repository, d, counts, span, outcome) in &left_out {
        if let Some(counts) = counts {
            scan(&app, account, repository, d, *counts, [0; 4]).await;
        }
        let id = image(&app, account, repository, d).await;
        ran(&app, account, id, prod, "x", repository, *span, outcome).await;
    }
    scan(&app, other, "registry.example/x/theirs", &digest(206), [9, 0, 0, 0], [0; 4]).await;
    let mine = image(&app, account, "registry.example/x/theirs", &digest(206)).await;
    ran(&app, account, mine, prod, "x", "theirs", in_week, "allowed").await;
    let their_cluster = cluster(&app, other, "theirs").await;
    let theirs = image(&app, other, "registry.example/x/theirs", &digest(206)).await;
    ran(&app, other, theirs, their_cluster, "x", "theirs", in_week, "allowed").await;
    // Exceptions: ending 2, 13 and exactly 14 days after the week; not 20 days after, not
    // already ended by the week's end (nor at it), not another account's.
    exception(&app, account, "CVE-2026-0013", "", end + 13 * DAY).await;
    exception(&app, account, "CVE-2026-0020", "", end + 20 * DAY).await;
    exception(&app, account, "CVE-2026-0001", "", end - DAY).await;
    exception(&app, account, "CVE-2026-0000", "", end).await;
    exception(&app, account, "CVE-2026-0002", "registry.example/shop/web", end + 2 * DAY).await;
    exception(&app, account, "CVE-2026-0014", "registry.example/shop/api", end + 14 * DAY).await;
    exception(&app, other, "CVE-2026-0003", "", end + DAY).await;

    let document = report(&app, account, Locale::en).await;
    // Verify the exceptions follow the images as their own section.
    let order: Vec<Section> = document.sections.iter().map(|s| s.section).collect();
    assert_eq!(order, [Section::Images, Section::ImageExceptions]);
    let images = section(&document, Section::Images);
    assert!(!images.empty);
    assert_eq!(images.title, "Images admitted with known vulnerabilities");
    // Verify the order: critical, then high, then medium (then low, then by name), ten rows.
    let names: Vec<&str> = images.table.rows.iter().map(|r| r[0].split('@').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "registry.example/shop/api",
            "registry.example/shop/web",
            "registry.example/shop/batch",
            "registry.example/shop/cron",
            "registry.example/shop/worker",
            "registry.example/shop/low-01",
            "registry.example/shop/low-02",
            "registry.example/shop/low-03",
            "registry.example/shop/low-04",
            "registry.example/shop/low-05",
        ]
    );
    // Verify a row: short digest, where it ran, workloads, counts by severity, fixable counts.
    assert_eq!(
        images.table.rows[1],
        ["registry.example/shop/web@sha256:000000000000", "prod/web, stage/web (3)", "2", "1", "0", "3", "1/1/0/0"]
    );
    assert_eq!(images.table.rows[0][1..], ["prod/api (1)", "2", "3", "0", "0", "2/0/0/0"]);
    assert_eq!(images.table.rows[2][1], "prod/jobs (1)");
    assert_eq!(images.table.title, "13 admitted vulnerable images (latest scans; fixable per severity)");
    // Verify the chart: each admitted vulnerable image once, by its most severe finding.
    let chart: Vec<(&str, i64)> = images.chart.points.iter().map(|p| (p.label.as_str(), p.value)).collect();
    assert_eq!(chart, [("Critical", 3), ("High", 1), ("Medium", 1), ("Low", 8)]);

    let expiring = section(&document, Section::ImageExceptions);
    assert!(!expiring.empty);
    assert_eq!(expiring.title, "Exceptions expiring in the next 14 days");
    // Verify: ending in 2, 13 and 14 days, soonest first, on their last day (the day before the instant).
    assert_eq!(
        expiring.table.rows,
        [
            ["CVE-2026-0002", "registry.example/shop/web", "Reviewed CVE-2026-0002", "2026-11-24"],
            ["CVE-2026-0013", "All repositories", "Reviewed CVE-2026-0013", "2026-12-05"],
            ["CVE-2026-0014", "registry.example/shop/api", "Reviewed CVE-2026-0014", "2026-12-06"],
        ]
    );
    assert_eq!(expiring.table.title, "3 vulnerability exceptions end between 2026-11-23 and 2026-12-06 (UTC), soonest first");

    // Verify every format shows both sections: headings, the image rows, the exceptions (where
    // a line or a page is too narrow, the end of the digest is cut; the HTML has it whole).
    for (format, shown) in formats(&document) {
        let shown_squeezed = squeezed(&shown).to_lowercase();
        for needle in [
            "Imagesadmittedwithknownvulnerabilities",
            "13admittedvulnerableimages(latestscans;fixableperseverity)",
            "registry.example/shop/low-05@sha",
            "prod/web,stage/web(3)",
            "Exceptionsexpiringinthenext14days",
            "CVE-2026-0013",
        ] {
            assert!(shown_squeezed.contains(&needle.to_lowercase()), "{format} lacks {needle:?}:\n{shown}");
        }
        if format == "HTML" {
            assert!(shown.contains("registry.example/shop/api@sha256:000000000000"), "the HTML lacks the short digest");
        }
        assert!(!shown.contains("CVE-2026-0020") && !shown.contains("CVE-2026-0001"), "{format} lists an exception it should not");
    }
    // Verify each section's table downloads as CSV, with every row.
    let csv = render::section_csv(&images.table);
    assert_eq!(csv.lines().count(), 11);
    assert_eq!(csv.lines().nth(2).unwrap(), "registry.example/shop/web@sha256:000000000000,\"prod/web, stage/web (3)\",2,1,0,3,1/1/0/0");
    assert_eq!(render::section_csv(&expiring.table).lines().nth(2).unwrap(), "CVE-2026-0013,All repositories,Reviewed CVE-2026-0013,2026-12-05");
}

/// A week with nothing admitted that has known vulnerabilities says so in every format and in
/// both languages, and so does a week with no exception ending soon.
#[tokio::test(flavor = "multi_thread")]
async fn a_week_without_vulnerable_admissions_says_none_were_admitted() {
    let app = TestApp::new().await;
    let (_, start, end) = week();
    let (account, _) = app.account("Quiet", Edition::Enterprise, Role::Admin).await;
    let prod = cluster(&app, account, "prod").await;
    // Only a denied image and a clean one ran; the one exception ends long after the week.
    for (n, outcome, counts) in [(1, "denied", [3, 0, 0, 0]), (2, "allowed", [0, 0, 0, 0])] {
        let repository = format!("registry.example/quiet/{n}");
        scan(&app, account, &repository, &digest(n), counts, [0; 4]).await;
        let id = image(&app, account, &repository, &digest(n)).await;
        ran(&app, account, id, prod, "default", "app", (start + DAY, start + 2 * DAY), outcome).await;
    }
    exception(&app, account, "CVE-2026-0099", "", end + 30 * DAY).await;

    let document = report(&app, account, Locale::en).await;
    let images = section(&document, Section::Images);
    let expiring = section(&document, Section::ImageExceptions);
    // Verify both sections are empty, with no rows and zero bars.
    assert!(images.empty && images.table.rows.is_empty());
    assert!(images.chart.points.iter().all(|p| p.value == 0));
    assert!(expiring.empty && expiring.table.rows.is_empty());
    // Verify every format says none were admitted, and that no exception ends soon.
    for (format, shown) in formats(&document) {
        let shown = squeezed(&shown);
        for needle in ["Noimagewithknownvulnerabilitieswasadmittedinthisperiod.", "Novulnerabilityexceptionexpiresinthe14daysafterthisperiod."] {
            assert!(shown.contains(needle), "{format} lacks {needle:?}");
        }
    }

    // Verify the Chinese report titles the sections and says the same in Chinese.
    let chinese = report(&app, account, Locale::zh_CN).await;
    assert_eq!(section(&chinese, Section::Images).title, "已准入的含已知漏洞镜像");
    assert_eq!(section(&chinese, Section::ImageExceptions).title, "未来 14 天内到期的漏洞例外");
    let text = render::email_text(&chinese);
    for needle in ["1. 已准入的含已知漏洞镜像", "本期没有准入含已知漏洞的镜像。", "2. 未来 14 天内到期的漏洞例外", "本期结束后 14 天内没有到期的漏洞例外。"] {
        assert!(text.contains(needle), "the Chinese text lacks {needle:?}:\n{text}");
    }
    if render::has_cjk_font() {
        let (_, pdf) = &formats(&chinese)[2];
        assert!(pdf.contains("已准入的含已知漏洞镜像") && pdf.contains("本期没有准入含已知漏洞的镜像。"), "{pdf}");
    }
}

/// An Enterprise account that authorized the resource directory, signed in as its admin.
async fn management(app: &TestApp, name: &str) -> Session {
    let (_, email) = app.account(name, Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let granted = app.call(Some(&admin), "grant_authorization", &[("service", "resource_directory")]).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    admin
}

async fn member(app: &TestApp, admin: &Session, name: &str, managed: bool) -> i64 {
    let created = app.call(Some(admin), "create_member", &[("member[name]", name), ("member[folder]", "")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_i64().unwrap();
    if managed {
        let added = app.call(Some(admin), "add_managed", &[("accounts[0]", &id.to_string()), ("auto_manage", "false")]).await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    }
    id
}

/// The consolidated list's rows by name.
async fn managed_rows(app: &TestApp, admin: &Session) -> Vec<Value> {
    let list = app.call(Some(admin), "list_managed", &[("search", "")]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.json()["accounts"].as_array().unwrap().clone()
}

fn images_of(rows: &[Value], name: &str) -> Value {
    rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("{name} not listed"))["images"].clone()
}

/// Multi-account Control shows each managed member's images seen in admission, how many are
/// vulnerable (critical or high in the latest scan), never scanned, and denied; and only for the
/// members this management account manages.
#[tokio::test(flavor = "multi_thread")]
async fn managed_members_show_their_images_in_admission() {
    let app = TestApp::new().await;
    let admin = management(&app, "Holding").await;
    let shop = member(&app, &admin, "Shop", true).await;
    member(&app, &admin, "Blog", true).await;
    let unmanaged = member(&app, &admin, "Unmanaged", false).await;
    let other_admin = management(&app, "Rival Holding").await;
    let elsewhere = member(&app, &other_admin, "Elsewhere", true).await;

    let prod = cluster(&app, shop, "prod").await;
    let seen = (1_000, 2_000);
    // Vulnerable (a critical finding), run twice: once admitted, once denied.
    scan(&app, shop, "r.example/shop/web", &digest(1), [1, 0, 0, 0], [0; 4]).await;
    let web = image(&app, shop, "r.example/shop/web", &digest(1)).await;
    ran(&app, shop, web, prod, "web", "web", seen, "allowed").await;
    ran(&app, shop, web, prod, "api", "web", seen, "denied").await;
    // Scanned with medium findings only: seen, not vulnerable.
    scan(&app, shop, "r.example/shop/docs", &digest(2), [0, 0, 3, 0], [0; 4]).await;
    let docs = image(&app, shop, "r.example/shop/docs", &digest(2)).await;
    ran(&app, shop, docs, prod, "web", "docs", seen, "warned").await;
    // Never scanned: by digest (denied), by tag only, and scanned only in another account.
    let unscanned = image(&app, shop, "r.example/shop/new", &digest(3)).await;
    ran(&app, shop, unscanned, prod, "web", "new", seen, "denied").await;
    let tagged = image(&app, shop, "r.example/shop/tagged", "").await;
    ran(&app, shop, tagged, prod, "web", "tagged", seen, "allowed").await;
    scan(&app, elsewhere, "r.example/shop/shared", &digest(4), [5, 0, 0, 0], [0; 4]).await;
    let shared = image(&app, shop, "r.example/shop/shared", &digest(4)).await;
    ran(&app, shop, shared, prod, "web", "shared", seen, "allowed").await;
    // Signed or scanned but never seen in admission: not counted.
    scan(&app, shop, "r.example/shop/idle", &digest(5), [7, 0, 0, 0], [0; 4]).await;
    image(&app, shop, "r.example/shop/idle", &digest(5)).await;
    // The other directory's member and the unmanaged member have images of their own.
    for (account, n) in [(elsewhere, 6), (unmanaged, 7)] {
        let c = cluster(&app, account, "prod").await;
        let id = image(&app, account, "r.example/other/app", &digest(n)).await;
        ran(&app, account, id, c, "default", "app", seen, "denied").await;
    }

    let rows = managed_rows(&app, &admin).await;
    // Verify only this account's managed members are listed.
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Blog", "Shop"]);
    // Verify Shop: 5 images seen, 1 vulnerable, 3 never scanned, 2 inventory entries denied.
    assert_eq!(images_of(&rows, "Shop"), serde_json::json!({ "seen": 5, "vulnerable": 1, "never_scanned": 3, "denied": 2 }));
    assert_eq!(images_of(&rows, "Blog"), serde_json::json!({ "seen": 0, "vulnerable": 0, "never_scanned": 0, "denied": 0 }));
    // Verify the other management account sees its own member's counts, and not Shop.
    let theirs = managed_rows(&app, &other_admin).await;
    assert_eq!(theirs.iter().map(|r| r["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Elsewhere"]);
    assert_eq!(images_of(&theirs, "Elsewhere"), serde_json::json!({ "seen": 1, "vulnerable": 0, "never_scanned": 1, "denied": 1 }));
}
