//! Held enrollments: an enrollment token alone must not take over a host that already has an
//! agent. Re-enrolling a known host needs that host's current agent credential; without it the
//! enrollment waits for an admin of the account to approve (the old credential stops, the agent
//! gets a new one when it asks again) or reject it.

use sqlx::AnyConnection;

use super::model::HeldEnrollmentView;
use crate::agent::protocol::EnrollmentHeld;
use crate::error::AppError;
use crate::server::audit::{self, Actor};
use crate::server::crypto::{hash_token, random_hex};
use crate::server::db::Db;

/// Prefix of the secret a held agent asks again with.
pub const HOLD_PREFIX: &str = "bhld_";
/// Pending enrollments an account may have before more are refused (429): a leaked enrollment
/// token must not fill the admins' list without end.
pub const MAX_PENDING: i64 = 50;
/// How often a held agent asks again.
pub const RETRY_SECS: u64 = 30;
/// How long a hold lives: a pending one waits this long for a decision, an approved one this long
/// for its agent to ask again, a rejected one answers "rejected" this long. Then it is gone, and
/// the host is judged afresh (an admin is asked again).
pub const HOLD_TTL_SECS: i64 = 7 * 24 * 3600;

/// What an enroll request brings besides the token: the host's current credential, if it has
/// one, and the hold secret of an earlier held attempt.
#[derive(Debug, Clone, Copy, Default)]
pub struct Proof<'a> {
    pub current_credential: Option<&'a str>,
    pub hold: Option<&'a str>,
}

/// The host that asks to enroll, as it describes itself.
pub struct Applicant<'a> {
    pub account_id: i64,
    pub token_id: i64,
    pub token_prefix: &'a str,
    pub machine_id: &'a str,
    pub hostname: &'a str,
    pub ips: &'a [String],
}

fn held(hold: String) -> EnrollmentHeld {
    EnrollmentHeld {
        hold,
        message: "This host is already enrolled. The enrollment awaits approval by an admin of the account in Assets › Add host; \
                  the agent asks again until it is approved or rejected."
            .into(),
        retry_secs: RETRY_SECS,
    }
}

/// Decides, inside the enrollment's transaction, whether the applicant may take the host's
/// identity now (`None`: a new host, the right current credential, or an approved hold, which is
/// used up here) or must wait (`Some`: a new or still-pending hold). A rejected hold is refused.
pub async fn admit(tx: &mut AnyConnection, applicant: &Applicant<'_>, proof: Proof<'_>, now: i64) -> Result<Option<EnrollmentHeld>, AppError> {
    sqlx::query("DELETE FROM held_enrollments WHERE account_id = $1 AND COALESCE(decided_at, created_at) < $2")
        .bind(applicant.account_id)
        .bind(now - HOLD_TTL_SECS)
        .execute(&mut *tx)
        .await?;
    if let Some(hold) = proof.hold {
        let found = sqlx::query_as::<_, (i64, String)>(
            "SELECT id, status FROM held_enrollments WHERE hold_hash = $1 AND account_id = $2 AND machine_id = $3",
        )
        .bind(hash_token(hold))
        .bind(applicant.account_id)
        .bind(applicant.machine_id)
        .fetch_optional(&mut *tx)
        .await?;
        match found {
            Some((id, status)) if status == "approved" => {
                sqlx::query("DELETE FROM held_enrollments WHERE id = $1").bind(id).execute(&mut *tx).await?;
                return Ok(None);
            }
            Some((_, status)) if status == "rejected" => {
                return Err(AppError::Forbidden("An admin of the account rejected this enrollment.".into()));
            }
            Some(_) => return Ok(Some(held(hold.to_string()))),
            // An unknown hold (decided and used, or never issued) proves nothing: judge afresh.
            None => {}
        }
    }
    let current = sqlx::query_scalar::<_, String>("SELECT credential_hash FROM agents WHERE account_id = $1 AND machine_id = $2")
        .bind(applicant.account_id)
        .bind(applicant.machine_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(current) = current else { return Ok(None) };
    if proof.current_credential.is_some_and(|credential| hash_token(credential) == current) {
        return Ok(None);
    }
    crate::server::db::lock_account(&mut *tx, applicant.account_id).await?;
    let pending = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM held_enrollments WHERE account_id = $1 AND status = 'pending'")
        .bind(applicant.account_id)
        .fetch_one(&mut *tx)
        .await?;
    if pending >= MAX_PENDING {
        return Err(AppError::TooManyRequests(format!(
            "{MAX_PENDING} enrollments already await approval in this account; an admin must approve or reject them first."
        )));
    }
    let hold = format!("{HOLD_PREFIX}{}", random_hex(32));
    sqlx::query(
        "INSERT INTO held_enrollments (account_id, token_id, machine_id, hostname, ips, hold_hash, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)",
    )
    .bind(applicant.account_id)
    .bind(applicant.token_id)
    .bind(applicant.machine_id)
    .bind(applicant.hostname)
    .bind(applicant.ips.join(", "))
    .bind(hash_token(&hold))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let actor = Actor::Token { name: format!("enrollment token {}", applicant.token_prefix) };
    audit::record(&mut *tx, applicant.account_id, &actor, "agent.enroll.held", applicant.hostname, applicant.machine_id).await?;
    Ok(Some(held(hold)))
}

/// The account's enrollments waiting for a decision (not yet expired), oldest first.
pub async fn list(db: &Db, account_id: i64, now: i64) -> Result<Vec<HeldEnrollmentView>, AppError> {
    let rows = sqlx::query_as::<_, (i64, String, String, String, String, i64)>(
        "SELECT h.id, h.hostname, h.machine_id, h.ips, t.prefix, h.created_at
         FROM held_enrollments h JOIN enrollment_tokens t ON t.id = h.token_id
         WHERE h.account_id = $1 AND h.status = 'pending' AND h.created_at >= $2 ORDER BY h.created_at, h.id",
    )
    .bind(account_id)
    .bind(now - HOLD_TTL_SECS)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, hostname, machine_id, ips, token_prefix, created_at)| HeldEnrollmentView { id, hostname, machine_id, ips, token_prefix, created_at })
        .collect())
}

/// An admin's decision on a pending enrollment of their account (audited). Approving ends the
/// host's current credential at once: the approved applicant is the host's agent from now on.
pub async fn decide(db: &Db, account_id: i64, actor: &Actor, id: i64, approve: bool, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (hostname, machine_id) = sqlx::query_as::<_, (String, String)>(
        "SELECT hostname, machine_id FROM held_enrollments WHERE id = $1 AND account_id = $2 AND status = 'pending' AND created_at >= $3",
    )
    .bind(id)
    .bind(account_id)
    .bind(now - HOLD_TTL_SECS)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let status = if approve { "approved" } else { "rejected" };
    sqlx::query("UPDATE held_enrollments SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4")
        .bind(status)
        .bind(actor.label())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if approve {
        // A credential nobody holds: the old agent is signed out until the approved one enrolls.
        sqlx::query("UPDATE agents SET credential_hash = $1 WHERE account_id = $2 AND machine_id = $3")
            .bind(hash_token(&random_hex(32)))
            .bind(account_id)
            .bind(&machine_id)
            .execute(&mut *tx)
            .await?;
    }
    let action = if approve { "agent.enroll.approve" } else { "agent.enroll.reject" };
    audit::record(&mut *tx, account_id, actor, action, &hostname, &machine_id).await?;
    tx.commit().await?;
    Ok(())
}
