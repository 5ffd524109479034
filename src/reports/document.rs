//! A generated report as data: what the archive stores (as JSON) and what every rendering
//! (console page, HTML and plain-text email, PDF, CSV) is drawn from.

use serde::{Deserialize, Serialize};

use super::model::Section;
use crate::locale::{self, Locale, td_string};

/// One generated report, frozen at generation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDocument {
    pub report_name: String,
    pub account_name: String,
    pub account_no: String,
    /// IANA time zone the period is expressed in.
    pub time_zone: String,
    /// First day of the period (YYYY-MM-DD), inclusive, in `time_zone`.
    pub period_start: String,
    /// Last day of the period (YYYY-MM-DD), inclusive, in `time_zone`.
    pub period_end: String,
    /// Unix seconds.
    pub generated_at: i64,
    pub summary: Summary,
    pub sections: Vec<SectionData>,
    /// The language its words are in (`en`, `zh-CN`); archives from before languages are English.
    #[serde(default = "english")]
    pub language: String,
}

fn english() -> String {
    "en".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Security score at the end of the period.
    pub score: i64,
    /// Score at the end of the previous period, when known.
    pub previous_score: Option<i64>,
    /// One row per kind of risk (findings, alerts, baseline risks, attacks).
    pub rows: Vec<SummaryRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub label: String,
    /// Opened (or, for attacks, seen) during the period.
    pub new: i64,
    /// Resolved during the period; `None` where resolving does not apply (attacks).
    pub resolved: Option<i64>,
    /// Still open at the end of the period; `None` where it does not apply (attacks).
    pub open: Option<i64>,
    /// `new` for the previous period of the same length, for the change column.
    pub previous_new: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionData {
    pub section: Section,
    pub title: String,
    /// Empty sections render "Nothing in this period."
    pub empty: bool,
    pub chart: Chart,
    pub table: Table,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChartKind {
    /// Horizontal bars, one per point.
    Bars,
    /// A line over time; labels are dates.
    Line,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub kind: ChartKind,
    pub title: String,
    pub points: Vec<ChartPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub label: String,
    pub value: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ReportDocument {
    /// The language to render it in: its own.
    pub fn locale(&self) -> Locale {
        locale::parse(&self.language).unwrap_or(Locale::en)
    }

    /// "2026-11-16 – 2026-11-22", or one day when start and end agree.
    pub fn period_label(&self) -> String {
        if self.period_start == self.period_end {
            self.period_start.clone()
        } else {
            format!("{} – {}", self.period_start, self.period_end)
        }
    }
}

/// A rendered archive entry for the console: the document, and its charts as SVG markup drawn
/// by the same code that draws the email's PNGs and the PDF's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedReport {
    pub id: i64,
    /// The report it was generated for; `None` once that report is deleted.
    pub report_id: Option<i64>,
    pub document: ReportDocument,
    pub chart_svgs: Vec<String>,
}

/// The heading of the footnote every format of a report ends with.
pub const COUNTING_TITLE: &str = "How these numbers are counted";

/// How every number of a report is counted, one paragraph each: the footnote of the console page,
/// the HTML and text email and the PDF (the README says the same).
pub const COUNTING_NOTES: [&str; 7] = [
    "Period: from midnight of its first day to midnight after its last, in the account's time zone (a day with a daylight-saving change is 23 or 25 hours). Something that happens exactly at midnight after the last day belongs to the next period.",
    "Vulnerabilities: one vulnerability on one host. New: first seen in the period (a finding reopened after it was resolved counts again). Resolved: fixed or ignored in the period and not reopened since; the sections show the two apart. Still open: first seen before the period ended and not resolved by then.",
    "Alerts: New: occurred in the period. Resolved: handled or ignored in the period. Still open: occurred before the period ended and not handled by then.",
    "Baseline risks: one failure episode of one check on one host, from its first failing result to the first passing result after it. A check that has only ever passed was never a risk. New, resolved and still open as for vulnerabilities.",
    "Attacks: attacks that occurred in the period.",
    "Change: each New count beside the same count for the previous period of the same length. Score: the security score at the end of the period and at the end of the previous one.",
    "Sections: open vulnerabilities, baseline failures and risky assets as they stood at the end of the period; alerts and attacks that occurred in it. Each section's top-10 table is ordered by severity and by how many hosts or occurrences.",
];

/// [`COUNTING_TITLE`] in the report's language.
pub fn counting_title(l: Locale) -> &'static str {
    td_string!(l, report.counting.title)
}

/// [`COUNTING_NOTES`] in the report's language.
pub fn counting_notes(l: Locale) -> [&'static str; 7] {
    [
        td_string!(l, report.counting.period),
        td_string!(l, report.counting.vulnerabilities),
        td_string!(l, report.counting.alerts),
        td_string!(l, report.counting.baseline),
        td_string!(l, report.counting.attacks),
        td_string!(l, report.counting.change),
        td_string!(l, report.counting.sections),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The English catalogue says exactly what the constants (and the README) say.
    #[test]
    fn the_english_footnote_is_the_catalogues() {
        assert_eq!(counting_title(Locale::en), COUNTING_TITLE);
        assert_eq!(counting_notes(Locale::en), COUNTING_NOTES);
        assert_ne!(counting_title(Locale::zh_CN), COUNTING_TITLE);
    }
}
