//! SQL for an account's own SMTP server (its password sealed under the master key).

use crate::error::AppError;
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::db::Db;
use crate::server::mailer::{SmtpSecurity, SmtpSettings};
use crate::server::now;
use crate::server::secrets::Secrets;

/// The account's own SMTP server, password decrypted; `None` when it has none.
pub async fn smtp_settings(
    db: &Db,
    secrets: &Secrets,
    account_id: i64,
) -> Result<Option<SmtpSettings>, AppError> {
    let row = sqlx::query_as::<_, (String, i64, String, Option<String>, Option<String>, String)>(
        "SELECT host, port, security, username, password_sealed, from_address FROM smtp_settings WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some((host, port, security, username, sealed, from)) = row else { return Ok(None) };
    let password = match sealed {
        Some(sealed) => Some(secrets.open(&smtp_context(account_id), &sealed).ok_or_else(|| {
            tracing::error!(account_id, "the stored SMTP password does not open with this master key");
            AppError::Internal
        })?),
        None => None,
    };
    Ok(Some(SmtpSettings {
        host,
        port: u16::try_from(port).unwrap_or(25),
        security: SmtpSecurity::parse(&security).unwrap_or(SmtpSecurity::StartTls),
        username,
        password,
        from,
    }))
}

fn smtp_context(account_id: i64) -> String {
    format!("smtp-password:{account_id}")
}

/// Saves the account's SMTP server. The password is sealed under the master key; `None` keeps
/// the stored one (refused when the host or port changes), `Some("")` removes it.
pub async fn save_smtp_settings(
    db: &Db,
    secrets: &Secrets,
    account_id: i64,
    actor: &Actor,
    settings: &SmtpSettings,
    password: Option<&str>,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let stored = sqlx::query_as::<_, (String, i64, Option<String>)>("SELECT host, port, password_sealed FROM smtp_settings WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
    // A stored password is only ever sent to the server it was entered for: another host or port
    // needs it typed again.
    let moved = stored.as_ref().is_some_and(|(host, port, _)| !host.eq_ignore_ascii_case(&settings.host) || *port != i64::from(settings.port));
    if password.is_none() && moved && stored.as_ref().is_some_and(|(_, _, sealed)| sealed.is_some()) {
        return Err(AppError::field("password", td_string!(request_locale(), settings.errors.smtp_password_again)));
    }
    let sealed = match password {
        None => stored.and_then(|(_, _, sealed)| sealed),
        Some("") => None,
        Some(password) => Some(secrets.seal(&smtp_context(account_id), password)),
    };
    sqlx::query(
        "INSERT INTO smtp_settings (account_id, host, port, security, username, password_sealed, from_address, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (account_id) DO UPDATE SET host = excluded.host, port = excluded.port, security = excluded.security,
             username = excluded.username, password_sealed = excluded.password_sealed, from_address = excluded.from_address,
             updated_at = excluded.updated_at",
    )
    .bind(account_id)
    .bind(&settings.host)
    .bind(settings.port as i64)
    .bind(settings.security.as_str())
    .bind(&settings.username)
    .bind(sealed)
    .bind(&settings.from)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::record(&mut *tx, account_id, actor, "smtp.save", &settings.host, &format!("port {}", settings.port)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_smtp_settings(db: &Db, account_id: i64, actor: &Actor) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM smtp_settings WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "smtp.remove", "smtp", "").await?;
    tx.commit().await?;
    Ok(())
}

