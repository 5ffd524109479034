//! A generated report as data: what the archive stores (as JSON) and what every rendering
//! (console page, HTML and plain-text email, PDF, CSV) is drawn from.

use serde::{Deserialize, Serialize};

use super::model::Section;

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
    /// "2026-11-16 – 2026-11-22", or one day when start and end agree.
    pub fn period_label(&self) -> String {
        if self.period_start == self.period_end {
            self.period_start.clone()
        } else {
            format!("{} – {}", self.period_start, self.period_end)
        }
    }
}
