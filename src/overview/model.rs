//! What the Overview page shows.

use serde::{Deserialize, Serialize};

use super::score::{RiskCounts, ScoreWeights};
use crate::assets::model::Category;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePoint {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub score: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub score: i64,
    /// The score a week ago, when the history has it.
    pub score_week_ago: Option<i64>,
    pub risks: RiskCounts,
    pub weights: ScoreWeights,
    pub history: Vec<ScorePoint>,
    pub assets_total: i64,
    pub assets_online: i64,
    pub vulnerabilities_by_category: Vec<(Category, i64)>,
    pub attacks_last_7_days: i64,
    pub attacks_by_type: Vec<(String, i64)>,
}
