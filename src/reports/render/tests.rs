//! A sample report shared by the tests of every output, and the test that feeds them all odd data.

use super::*;
use crate::reports::document::{
    Chart, ChartKind, ChartPoint, ReportDocument, SectionData, Summary, SummaryRow, Table,
};
use crate::locale::td_string;
use crate::reports::model::Section;

pub(super) const NASTY: &str = "Zürich-db <01> & \"x\"";

pub(super) fn pts(items: &[(&str, i64)]) -> Vec<ChartPoint> {
    items.iter().map(|(l, v)| ChartPoint { label: l.to_string(), value: *v }).collect()
}

pub(super) fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn section(
    section: Section,
    kind: ChartKind,
    chart_title: &str,
    points: Vec<ChartPoint>,
    columns: &[&str],
    rows: Vec<Vec<String>>,
) -> SectionData {
    SectionData {
        section,
        title: section.label().to_string(),
        empty: false,
        chart: Chart { kind, title: chart_title.to_string(), points },
        table: Table { title: section.label().to_string(), columns: strs(columns), rows },
    }
}

fn sev_points(critical: i64, high: i64, medium: i64, low: i64) -> Vec<ChartPoint> {
    pts(&[("Critical", critical), ("High", high), ("Medium", medium), ("Low", low)])
}

pub(super) fn sample_document() -> ReportDocument {
    let sev = sev_points;
    let sections = vec![
        section(
            Section::Assets,
            ChartKind::Bars,
            "Assets by risk",
            pts(&[(NASTY, 14), ("web-01", 9), ("mail.example.com", 4), ("東京-node", 2)]),
            &["Asset", "Type", "Open findings", "Last seen"],
            vec![
                strs(&[NASTY, "Linux server", "14", "2026-11-22"]),
                strs(&["web-01", "Linux server", "9", "2026-11-22"]),
                strs(&["mail.example.com", "Windows server", "4", "2026-11-21"]),
                strs(&["東京-node", "Linux server", "2", "2026-11-20"]),
            ],
        ),
        section(
            Section::Alerts,
            ChartKind::Bars,
            "Alerts by severity",
            sev(1, 3, 2, 1),
            &["Alert", "Severity", "Asset", "Raised"],
            vec![
                strs(&["Brute force on SSH", "High", NASTY, "2026-11-17 08:12"]),
                strs(&["New admin user", "Critical", "web-01", "2026-11-19 22:40"]),
            ],
        ),
        section(
            Section::VulnLinux,
            ChartKind::Bars,
            "Linux vulnerabilities by severity",
            sev(2, 5, 9, 3),
            &["CVE", "Package", "Severity", "Assets"],
            vec![
                strs(&["CVE-2026-1234", "openssl 3.0.11", "Critical", "3"]),
                strs(&["CVE-2026-2345", "=HYPERLINK(\"http://evil\")", "High", "1"]),
            ],
        ),
        SectionData {
            section: Section::VulnWindows,
            title: Section::VulnWindows.label().to_string(),
            empty: true,
            chart: Chart {
                kind: ChartKind::Bars,
                title: "Windows vulnerabilities by severity".into(),
                points: vec![],
            },
            table: Table {
                title: "Windows vulnerabilities".into(),
                columns: strs(&["CVE", "KB", "Severity"]),
                rows: vec![],
            },
        },
        section(
            Section::VulnWebCms,
            ChartKind::Bars,
            "Web-CMS vulnerabilities by severity",
            sev(0, 1, 2, 0),
            &["Site", "CMS", "Issue"],
            vec![strs(&["https://shop.example.com", "WordPress 6.1", "Outdated plugin, \"contact-form\""])],
        ),
        section(
            Section::Baseline,
            ChartKind::Bars,
            "Baseline checks",
            pts(&[("Passed", 118), ("Failed", 22)]),
            &["Check", "Asset", "Result"],
            vec![strs(&["SSH root login disabled", NASTY, "Failed"])],
        ),
        section(
            Section::Attacks,
            ChartKind::Bars,
            "Attacks by type",
            pts(&[("SQL injection", 80), ("XSS", 41), ("Path traversal", 32)]),
            &["Type", "Source", "Count"],
            vec![strs(&["SQL injection", "203.0.113.7", "80"]), strs(&["XSS", "198.51.100.2", "41"])],
        ),
        section(
            Section::ScoreTrend,
            ChartKind::Line,
            "Security score",
            pts(&[
                ("2026-11-16", 68),
                ("2026-11-17", 69),
                ("2026-11-18", 69),
                ("2026-11-19", 66),
                ("2026-11-20", 70),
                ("2026-11-21", 71),
                ("2026-11-22", 72),
            ]),
            &["Date", "Score"],
            vec![strs(&["2026-11-16", "68"]), strs(&["2026-11-22", "72"])],
        ),
    ];
    ReportDocument {
        report_name: "Weekly security report".into(),
        account_name: "Acme <Schweiz> AG & Co".into(),
        account_no: "ACC-000042".into(),
        time_zone: "Europe/Zurich".into(),
        period_start: "2026-11-16".into(),
        period_end: "2026-11-22".into(),
        generated_at: 1_795_413_600, // 2026-11-23 06:00 UTC
        summary: Summary {
            score: 72,
            previous_score: Some(68),
            rows: vec![
                SummaryRow {
                    label: "Findings".into(),
                    new: 19,
                    resolved: Some(7),
                    open: Some(41),
                    previous_new: 12,
                },
                SummaryRow { label: "Alerts".into(), new: 7, resolved: Some(9), open: Some(3), previous_new: 10 },
                SummaryRow {
                    label: "Baseline risks".into(),
                    new: 4,
                    resolved: Some(1),
                    open: Some(22),
                    previous_new: 4,
                },
                SummaryRow { label: "Attacks".into(), new: 1532, resolved: None, open: None, previous_new: 1200 },
            ],
        },
        sections,
        language: "en".into(),
    }
}

pub(super) fn long_document(rows: usize) -> ReportDocument {
    let mut doc = sample_document();
    doc.sections[2].table.rows = (1..=rows)
        .map(|i| {
            vec![
                format!("CVE-2026-{i:05}"),
                format!("package-{i} {}", "with-a-very-long-name-".repeat(6)),
                "High".to_string(),
                format!("row-{i}"),
            ]
        })
        .collect();
    doc
}

#[test]
fn nothing_panics_on_odd_documents() {
    let mut doc = sample_document();
    doc.report_name = "x".repeat(10_000);
    doc.account_name = "\u{0}\u{8}\r\n\t<>&".into();
    doc.generated_at = i64::MAX;
    doc.summary.score = i64::MIN;
    doc.summary.previous_score = Some(i64::MAX);
    doc.summary.rows.push(SummaryRow {
        label: String::new(),
        new: i64::MIN,
        resolved: None,
        open: Some(i64::MAX),
        previous_new: i64::MAX,
    });
    doc.sections[0].table.columns.clear();
    doc.sections[0].table.rows.push(vec!["only one cell".into()]);
    doc.sections[0].table.rows.push((0..30).map(|i| format!("extra {i}")).collect());
    doc.sections[1].table.rows.push(vec![]);
    doc.sections[2].table.columns = (0..40).map(|i| format!("c{i}")).collect();
    doc.sections[4].table.rows[0][2] = "ÿ".repeat(5000);
    doc.sections[5].chart.points = vec![];
    doc.sections[5].empty = false;
    doc.sections[6].title = "مرحبا بالعالم".into();
    let mut empty = doc.clone();
    empty.sections.clear();
    empty.summary.rows.clear();
    for d in [&doc, &empty] {
        let html = email_html(d, "");
        assert!(!html.contains('\u{0}'));
        let text = email_text(d);
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        let bytes = pdf(d).expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        for s in &d.sections {
            chart_png(&s.chart).expect("png");
            let _ = section_csv(&s.table);
        }
    }
    assert!(email_text(&doc).contains("unknown time"));
}


/// A report in Chinese: the renderers' own words come from the Chinese catalogue, the
/// document's words (titles, labels) are Chinese as `generate` writes them, and the PDF draws
/// the Chinese glyphs with the CJK font rather than empty boxes.
#[test]
fn a_chinese_report_renders_in_chinese() {
    let mut doc = sample_document();
    doc.language = "zh-CN".into();
    doc.report_name = "每周安全报告".into();
    doc.sections[0].title = "资产".into();
    doc.summary.rows[0].label = "漏洞".into();
    // The image sections as `generate` titles them in Chinese: one with a row, one empty.
    let zh = crate::locale::Locale::zh_CN;
    let mut images = section(Section::Images, ChartKind::Bars, "镜像", sev_points(1, 0, 0, 0), &["镜像", "严重"], vec![strs(&["registry.example/shop@sha256:0123456789ab", "1"])]);
    images.title = td_string!(zh, report.section.images).into();
    let mut expiring = section(Section::ImageExceptions, ChartKind::Bars, "例外", vec![], &["漏洞"], vec![]);
    expiring.title = td_string!(zh, report.section.image_exceptions).into();
    expiring.empty = true;
    doc.sections.extend([images, expiring]);

    let html = email_html(&doc, "https://bulwark.example");
    for needle in [
        r#"<html lang="zh-CN""#,
        "Bulwark 安全报告",
        "每周安全报告",
        "安全评分",
        "概要",
        "统计口径",
        "较上期",
        "打开 Bulwark",
        "本期没有内容。",
        "已准入的含已知漏洞镜像",
        "未来 14 天内到期的漏洞例外",
        "本期结束后 14 天内没有到期的漏洞例外。",
    ] {
        assert!(html.contains(needle), "HTML lacks {needle:?}");
    }
    // The sample's own data (chart titles) stays as written; the renderer adds no English.
    assert!(!html.contains("Bulwark security report") && !html.contains("How these numbers are counted"));

    let text = email_text_with_link(&doc, "https://bulwark.example");
    for needle in [
        "BULWARK 安全报告",
        "账号：Acme",
        "周期：2026-11-16",
        "安全评分: 72",
        "统计口径",
        "9. 已准入的含已知漏洞镜像",
        "10. 未来 14 天内到期的漏洞例外",
        "本期结束后 14 天内没有到期的漏洞例外。",
        "打开 Bulwark: https://bulwark.example",
    ] {
        assert!(text.contains(needle), "text lacks {needle:?}:\n{text}");
    }

    let bytes = pdf(&doc).expect("pdf");
    let all = pdf_extract::extract_text_from_mem_by_pages(&bytes).expect("text").join("\n");
    let squeezed: String = all.chars().filter(|c| !c.is_whitespace()).collect();
    for needle in ["每周安全报告", "安全评分：72", "统计口径", "1.资产", "9.已准入的含已知漏洞镜像", "10.未来14天内到期的漏洞例外", "本期结束后14天内没有到期的漏洞例外。", "第1页"] {
        assert!(squeezed.contains(needle), "PDF text lacks {needle:?}:\n{all}");
    }
    // Verify the Chinese is drawn with a font that has it, embedded beside the Latin one.
    if super::has_cjk_font() {
        assert!(bytes.windows(9).any(|w| w == b"WenQuanYi") || bytes.windows(5).any(|w| w == b"Noto"), "no CJK font embedded");
    }
}

/// Chinese text wraps between characters; English only at spaces.
#[test]
fn chinese_wraps_between_characters() {
    let fits = |line: &str| line.chars().count() <= 6;
    assert_eq!(super::common::wrap("统计口径：本期发生的攻击", fits), ["统计口径：本", "期发生的攻击"]);
    assert_eq!(super::common::wrap("one two three", |l: &str| l.len() <= 7), ["one two", "three"]);
    assert_eq!(super::common::wrap("攻击 attack 次数", |l: &str| l.chars().count() <= 9), ["攻击 attack", "次数"]);
}
