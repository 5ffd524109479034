//! The audit log: who changed what, when. Written in the same transaction as the change.

use sqlx::{Any, Executor};

use super::now;

/// Who made a change.
#[derive(Debug, Clone)]
pub enum Actor {
    User { id: i64, email: String },
    Token { name: String },
    System,
    /// The console's operator, through a `bulwark` command on the server.
    Operator,
}

impl Actor {
    fn user_id(&self) -> Option<i64> {
        match self {
            Actor::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Actor::User { email, .. } => email.clone(),
            Actor::Token { name } => format!("API token \"{name}\""),
            Actor::System => "system".to_string(),
            Actor::Operator => "operator (command line)".to_string(),
        }
    }
}

pub async fn record<'c, E>(
    executor: E,
    account_id: i64,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), sqlx::Error>
where
    E: Executor<'c, Database = Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (account_id, actor_user_id, actor, action, target, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(account_id)
    .bind(actor.user_id())
    .bind(actor.label())
    .bind(action)
    .bind(target)
    .bind(detail)
    .bind(now())
    .execute(executor)
    .await?;
    Ok(())
}
