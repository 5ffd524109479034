//! The security score: the one formula used by the Overview, reports and multi-account control.
//!
//! Each risk type (unhandled alerts, unfixed vulnerabilities, baseline risks) and severity
//! (critical, high, medium, low) has a weight; the twelve weights add up to 100. A bucket with
//! `n` open risks deducts `weight × n / (n + 1)`: the first risk costs half its weight, more risks
//! approach the full weight but never exceed it. Then:
//!
//! ```text
//! score = round(100 − Σ deductions)
//! capped at 60 while any alert is unhandled, at 80 while any vulnerability is unfixed,
//! and at 90 while any baseline check fails; never below 10.
//! ```
//!
//! Bands: 95–100 good, 70–94 warning, 69 and below danger.

use serde::{Deserialize, Serialize};

use crate::assets::model::Severity;
use crate::error::{AppError, FieldErrors};
use crate::locale::{Locale, td_string};

pub const MIN_SCORE: i64 = 10;
pub const ALERT_CAP: i64 = 60;
pub const VULNERABILITY_CAP: i64 = 80;
pub const BASELINE_CAP: i64 = 90;

/// Open risks of one type by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

impl SeverityCounts {
    pub fn total(&self) -> i64 {
        self.critical + self.high + self.medium + self.low
    }

    pub fn get(&self, severity: Severity) -> i64 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }

    pub fn add(&mut self, severity: Severity, n: i64) {
        match severity {
            Severity::Critical => self.critical += n,
            Severity::High => self.high += n,
            Severity::Medium => self.medium += n,
            Severity::Low => self.low += n,
        }
    }

    fn as_array(&self) -> [i64; 4] {
        [self.critical, self.high, self.medium, self.low]
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskCounts {
    pub alerts: SeverityCounts,
    pub vulnerabilities: SeverityCounts,
    pub baseline: SeverityCounts,
}

/// Weights per risk type, in severity order critical, high, medium, low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreWeights {
    pub alerts: [i64; 4],
    pub vulnerabilities: [i64; 4],
    pub baseline: [i64; 4],
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights { alerts: [15, 10, 6, 3], vulnerabilities: [14, 10, 7, 3], baseline: [12, 10, 6, 4] }
    }
}

pub const RISK_TYPES: [&str; 3] = ["alerts", "vulnerabilities", "baseline"];
pub const SEVERITY_ORDER: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

impl ScoreWeights {
    pub fn total(&self) -> i64 {
        self.alerts.iter().chain(&self.vulnerabilities).chain(&self.baseline).sum()
    }

    pub fn rows(&self) -> [(&'static str, [i64; 4]); 3] {
        [("alerts", self.alerts), ("vulnerabilities", self.vulnerabilities), ("baseline", self.baseline)]
    }

    /// Each weight 0–100, all twelve adding up to exactly 100. Field names are `alerts.high` etc.;
    /// messages are worded in `l`.
    pub fn validate(&self, l: Locale) -> Result<(), AppError> {
        let mut errors = FieldErrors::new();
        for (kind, weights) in self.rows() {
            for (severity, weight) in SEVERITY_ORDER.iter().zip(weights) {
                if !(0..=100).contains(&weight) {
                    errors.insert(format!("{kind}.{}", severity.as_str()), td_string!(l, overview.errors.whole_number).into());
                }
            }
        }
        if errors.is_empty() && self.total() != 100 {
            errors.insert("total".into(), td_string!(l, overview.errors.weights_total, total = self.total()));
        }
        AppError::check(errors)
    }
}

fn deduction(weight: i64, open: i64) -> f64 {
    let open = open.max(0) as f64;
    weight as f64 * open / (open + 1.0)
}

/// The score for the given open risks.
pub fn security_score(counts: &RiskCounts, weights: &ScoreWeights) -> i64 {
    let mut deducted = 0.0;
    for (weights, counts) in [
        (weights.alerts, counts.alerts),
        (weights.vulnerabilities, counts.vulnerabilities),
        (weights.baseline, counts.baseline),
    ] {
        for (w, n) in weights.iter().zip(counts.as_array()) {
            deducted += deduction(*w, n);
        }
    }
    let mut score = (100.0 - deducted).round() as i64;
    if counts.alerts.total() > 0 {
        score = score.min(ALERT_CAP);
    }
    if counts.vulnerabilities.total() > 0 {
        score = score.min(VULNERABILITY_CAP);
    }
    if counts.baseline.total() > 0 {
        score = score.min(BASELINE_CAP);
    }
    score.clamp(MIN_SCORE, 100)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScoreBand {
    Good,
    Warning,
    Danger,
}

impl ScoreBand {
    pub fn of(score: i64) -> ScoreBand {
        match score {
            95.. => ScoreBand::Good,
            70..=94 => ScoreBand::Warning,
            _ => ScoreBand::Danger,
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            ScoreBand::Good => "band-good",
            ScoreBand::Warning => "band-warning",
            ScoreBand::Danger => "band-danger",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ScoreBand::Good => "Good",
            ScoreBand::Warning => "Needs attention",
            ScoreBand::Danger => "At risk",
        }
    }
}

impl ScoreBand {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            ScoreBand::Good => td_string!(locale, common.score_band.good),
            ScoreBand::Warning => td_string!(locale, common.score_band.warning),
            ScoreBand::Danger => td_string!(locale, common.score_band.danger),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(alerts: [i64; 4], vulns: [i64; 4], baseline: [i64; 4]) -> RiskCounts {
        let c = |a: [i64; 4]| SeverityCounts { critical: a[0], high: a[1], medium: a[2], low: a[3] };
        RiskCounts { alerts: c(alerts), vulnerabilities: c(vulns), baseline: c(baseline) }
    }

    #[test]
    fn no_risks_scores_full_marks() {
        assert_eq!(security_score(&RiskCounts::default(), &ScoreWeights::default()), 100);
    }

    #[test]
    fn one_low_baseline_risk_is_capped_at_90() {
        // Deduction 4 × 1/2 = 2 → 98, but the baseline cap holds it at 90.
        assert_eq!(security_score(&counts([0; 4], [0; 4], [0, 0, 0, 1]), &ScoreWeights::default()), 90);
    }

    #[test]
    fn one_low_vulnerability_is_capped_at_80() {
        assert_eq!(security_score(&counts([0; 4], [0, 0, 0, 1], [0; 4]), &ScoreWeights::default()), 80);
    }

    #[test]
    fn one_low_alert_is_capped_at_60() {
        assert_eq!(security_score(&counts([0, 0, 0, 1], [0; 4], [0; 4]), &ScoreWeights::default()), 60);
    }

    #[test]
    fn deductions_below_the_caps_apply() {
        // Vulns: critical 3 → 14 × 3/4 = 10.5; high 3 → 7.5; medium 1 → 3.5. Baseline critical 1 → 6.
        // 100 − 27.5 = 72.5 → 73, below the vulnerability cap of 80.
        let c = counts([0; 4], [3, 3, 1, 0], [1, 0, 0, 0]);
        assert_eq!(security_score(&c, &ScoreWeights::default()), 73);
    }

    #[test]
    fn the_score_never_falls_below_the_floor() {
        let everything = counts([1000; 4], [1000; 4], [1000; 4]);
        assert_eq!(security_score(&everything, &ScoreWeights::default()), MIN_SCORE);
    }

    #[test]
    fn custom_weights_change_the_score() {
        let weights = ScoreWeights { alerts: [0; 4], vulnerabilities: [100, 0, 0, 0], baseline: [0; 4] };
        assert!(weights.validate(Locale::en).is_ok());
        // One critical vulnerability deducts 50 → 50 (under the 80 cap).
        assert_eq!(security_score(&counts([0; 4], [1, 0, 0, 0], [0; 4]), &weights), 50);
        // The same risk under the default weights: 100 − 7 = 93, capped at 80.
        assert_eq!(security_score(&counts([0; 4], [1, 0, 0, 0], [0; 4]), &ScoreWeights::default()), 80);
    }

    #[test]
    fn weights_must_add_up_to_100() {
        assert_eq!(ScoreWeights::default().total(), 100);
        let mut w = ScoreWeights::default();
        w.alerts[0] += 1;
        assert_eq!(w.validate(Locale::en).unwrap_err().field_message("total").unwrap(), "The weights must add up to 100; they add up to 101.");
        assert_eq!(w.validate(Locale::zh_CN).unwrap_err().field_message("total").unwrap(), "权重之和必须为 100，当前为 101。");
        w.alerts[0] = -1;
        assert!(w.validate(Locale::en).unwrap_err().field_message("alerts.critical").is_some());
    }

    #[test]
    fn bands_follow_the_thresholds() {
        assert_eq!(ScoreBand::of(100), ScoreBand::Good);
        assert_eq!(ScoreBand::of(95), ScoreBand::Good);
        assert_eq!(ScoreBand::of(94), ScoreBand::Warning);
        assert_eq!(ScoreBand::of(70), ScoreBand::Warning);
        assert_eq!(ScoreBand::of(69), ScoreBand::Danger);
        assert_eq!(ScoreBand::of(10), ScoreBand::Danger);
    }
}
