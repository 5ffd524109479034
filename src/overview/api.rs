//! Server functions of the Overview page.

use leptos::prelude::*;

use super::model::Overview;
use crate::error::AppError;

#[server(endpoint = "get_overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use super::model::ScorePoint;
    use super::repo::{self, day_of};
    use super::score::security_score;
    use crate::auth::session::caller;
    use crate::server::now;

    let (user, state) = caller().await?;
    let db = &state.db;
    let account_id = user.account_id();
    let now = now();
    let (risks, vulnerabilities_by_category) = repo::risk_counts_by_category(db, account_id, now).await?;
    let weights = repo::weights(db, account_id).await?;
    let score = security_score(&risks, &weights);
    // Looking at the Overview keeps today's snapshot current.
    repo::record_score(db, account_id, &day_of(now), score).await?;
    let history: Vec<ScorePoint> = repo::score_history(db, account_id, &day_of(now - 29 * 86_400))
        .await?
        .into_iter()
        .map(|(day, score)| ScorePoint { day, score })
        .collect();
    let week_ago = day_of(now - 7 * 86_400);
    let score_week_ago = history.iter().find(|p| p.day == week_ago).map(|p| p.score);
    let (assets_total, assets_online) = repo::asset_counts(db, account_id).await?;
    let attacks_by_type = repo::attacks_by_type(db, account_id, now - 7 * 86_400).await?;
    Ok(Overview {
        score,
        score_week_ago,
        risks,
        weights,
        history,
        assets_total,
        assets_online,
        vulnerabilities_by_category,
        attacks_last_7_days: attacks_by_type.iter().map(|(_, n)| n).sum(),
        attacks_by_type,
    })
}
