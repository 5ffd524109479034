//! SQL for accounts, users, sign-in throttling and authorizations.

use sqlx::{Any, AnyConnection, Executor};

use crate::editions::{Edition, Service};
use super::model::{Account, AccountKind, CurrentUser, Role, UserSummary};
use crate::error::{on_unique, AppError};
use crate::server::audit::{self, Actor};
use crate::server::crypto::random_hex;
use crate::server::db::Db;
use crate::server::now;

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    account_no: String,
    name: String,
    edition: String,
    kind: String,
}

impl AccountRow {
    fn into_account(self) -> Result<Account, AppError> {
        let edition = Edition::parse(&self.edition);
        let kind = AccountKind::parse(&self.kind);
        match (edition, kind) {
            (Some(edition), Some(kind)) => {
                Ok(Account { id: self.id, account_no: self.account_no, name: self.name, edition, kind })
            }
            _ => {
                tracing::error!(account = self.id, "account row holds an unknown edition or kind");
                Err(AppError::Internal)
            }
        }
    }
}

const ACCOUNT_COLUMNS: &str = "id, account_no, name, edition, kind";

pub async fn account(db: &Db, account_id: i64) -> Result<Account, AppError> {
    sqlx::query_as::<_, AccountRow>(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"))
        .bind(account_id)
        .fetch_one(&db.pool)
        .await?
        .into_account()
}

/// The accounts an operator's command names: by 16-digit account id, else by exact name.
pub async fn find_accounts(db: &Db, id_or_name: &str) -> Result<Vec<Account>, AppError> {
    let rows = sqlx::query_as::<_, AccountRow>(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_no = $1 OR (name = $1 AND NOT EXISTS (SELECT 1 FROM accounts WHERE account_no = $1))
         ORDER BY id"
    ))
    .bind(id_or_name)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(AccountRow::into_account).collect()
}

/// Sets an account's edition, with its audit entry; returns the edition it had. Only the console's
/// operator does this (`bulwark account edition`): no server function reaches it.
pub async fn set_edition(db: &Db, account_id: i64, actor: &Actor, edition: Edition) -> Result<Edition, AppError> {
    let mut tx = db.begin_write().await?;
    let previous = sqlx::query_scalar::<_, String>("SELECT edition FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    let previous = Edition::parse(&previous).ok_or(AppError::Internal)?;
    if previous != edition {
        sqlx::query("UPDATE accounts SET edition = $1 WHERE id = $2").bind(edition.as_str()).bind(account_id).execute(&mut *tx).await?;
        audit::record(&mut *tx, account_id, actor, "account.edition", "account", &format!("{} → {}", previous.as_str(), edition.as_str()))
            .await?;
    }
    tx.commit().await?;
    Ok(previous)
}

/// Every account's id, in id order.
pub async fn account_ids(db: &Db) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM accounts ORDER BY id").fetch_all(&db.pool).await?)
}

pub async fn account_count(db: &Db) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts").fetch_one(&db.pool).await?)
}

/// Inserts an account with a fresh random 16-digit account id: only the row. Accounts are opened
/// through `tenants::open_account`, which also sets up what each area keeps for a new account.
pub async fn create_account(
    conn: &mut AnyConnection,
    name: &str,
    edition: Edition,
    kind: AccountKind,
) -> Result<Account, AppError> {
    loop {
        let account_no = account_number();
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO accounts (account_no, name, edition, kind, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (account_no) DO NOTHING RETURNING id",
        )
        .bind(&account_no)
        .bind(name)
        .bind(edition.as_str())
        .bind(kind.as_str())
        .bind(now())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = inserted {
            return Ok(Account { id, account_no, name: name.to_string(), edition, kind });
        }
    }
}

fn account_number() -> String {
    // 16 digits, never starting with 0, from 8 random bytes.
    let value = u64::from_str_radix(&random_hex(8), 16).unwrap_or(0);
    format!("{}", 1_000_000_000_000_000 + value % 9_000_000_000_000_000)
}

/// The one answer when an email is taken, in this account or in any other: emails are unique
/// across the console, and saying "already exists" would tell an admin that a stranger's
/// address has an account somewhere.
pub const ADD_EMAIL_REFUSED: &str = "This email cannot be added.";

pub async fn create_user<'c, E>(
    executor: E,
    account_id: i64,
    email: &str,
    name: &str,
    role: Role,
    password_hash: &str,
) -> Result<i64, AppError>
where
    E: Executor<'c, Database = Any>,
{
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (account_id, email, name, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(account_id)
    .bind(email.trim().to_lowercase())
    .bind(name.trim())
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now())
    .fetch_one(executor)
    .await
    .map_err(on_unique("email", ADD_EMAIL_REFUSED))
}

/// The user id and password hash for an email, if registered.
pub async fn credentials(db: &Db, email: &str) -> Result<Option<(i64, String)>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String)>("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(&db.pool)
        .await?)
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    account_id: i64,
    locale: Option<String>,
}

pub async fn current_user(db: &Db, user_id: i64) -> Result<Option<CurrentUser>, AppError> {
    let Some(row) = sqlx::query_as::<_, UserRow>("SELECT id, email, name, role, account_id, locale FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let role = Role::parse(&row.role).ok_or(AppError::Internal)?;
    let account = account(db, row.account_id).await?;
    Ok(Some(CurrentUser { user_id: row.id, email: row.email, name: row.name, role, account, language: row.locale }))
}

pub async fn list_users(db: &Db, account_id: i64) -> Result<Vec<UserSummary>, AppError> {
    let rows = sqlx::query_as::<_, (i64, String, String, String, i64)>(
        "SELECT id, email, name, role, created_at FROM users WHERE account_id = $1 ORDER BY email",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, email, name, role, created_at)| {
            Some(UserSummary { id, email, name, role: Role::parse(&role)?, created_at })
        })
        .collect())
}

/// What failed sign-ins are counted by: the email tried, or the client address they came from.
#[derive(Debug, Clone, Copy)]
pub enum FailureKey<'a> {
    Email(&'a str),
    Client(&'a str),
}

impl FailureKey<'_> {
    fn table_and_column(&self) -> (&'static str, &'static str, &str) {
        match self {
            FailureKey::Email(email) => ("sign_in_failures", "email", email),
            FailureKey::Client(address) => ("sign_in_client_failures", "address", address),
        }
    }
}

/// Failed sign-ins for an email or a client address since a time: how many, and the oldest.
pub async fn failures_since(db: &Db, key: FailureKey<'_>, since: i64) -> Result<(i64, Option<i64>), AppError> {
    let (table, column, value) = key.table_and_column();
    Ok(sqlx::query_as::<_, (i64, Option<i64>)>(&format!("SELECT COUNT(*), MIN(at) FROM {table} WHERE {column} = $1 AND at > $2"))
        .bind(value)
        .bind(since)
        .fetch_one(&db.pool)
        .await?)
}

pub async fn record_failure(db: &Db, key: FailureKey<'_>) -> Result<(), AppError> {
    let (table, column, value) = key.table_and_column();
    let now = now();
    sqlx::query(&format!("INSERT INTO {table} ({column}, at) VALUES ($1, $2)")).bind(value).bind(now).execute(&db.pool).await?;
    // Old rows are no longer needed for any decision.
    sqlx::query(&format!("DELETE FROM {table} WHERE at < $1")).bind(now - 86_400).execute(&db.pool).await?;
    Ok(())
}

pub async fn clear_failures(db: &Db, email: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE email = $1").bind(email).execute(&db.pool).await?;
    Ok(())
}

pub async fn authorized_services(db: &Db, account_id: i64) -> Result<Vec<Service>, AppError> {
    let rows = sqlx::query_scalar::<_, String>("SELECT service FROM authorizations WHERE account_id = $1 ORDER BY service")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().filter_map(|s| Service::parse(s)).collect())
}

pub async fn is_authorized(db: &Db, account_id: i64, service: Service) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM authorizations WHERE account_id = $1 AND service = $2")
        .bind(account_id)
        .bind(service.as_str())
        .fetch_one(&db.pool)
        .await?
        > 0)
}

/// Authorizes a service for the account (once; audited).
pub async fn grant_authorization(db: &Db, account_id: i64, actor: &Actor, user_id: i64, service: Service) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO authorizations (account_id, service, granted_by, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, service) DO NOTHING",
    )
    .bind(account_id)
    .bind(service.as_str())
    .bind(user_id)
    .bind(now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted > 0 {
        audit::record(&mut *tx, account_id, actor, "authorization.grant", service.as_str(), "").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Withdraws a service's authorization (audited); NotFound when it was not granted.
pub async fn revoke_authorization(db: &Db, account_id: i64, actor: &Actor, service: Service) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let removed = sqlx::query("DELETE FROM authorizations WHERE account_id = $1 AND service = $2")
        .bind(account_id)
        .bind(service.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(&mut *tx, account_id, actor, "authorization.revoke", service.as_str(), "").await?;
    tx.commit().await?;
    Ok(())
}

/// The ids of the accounts `management` manages (whose data it may see through multi-account
/// control), in id order.
pub async fn managed_ids(db: &Db, management: i64) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT member_account_id FROM managed_accounts WHERE management_account_id = $1 ORDER BY member_account_id")
        .bind(management)
        .fetch_all(&db.pool)
        .await?)
}

/// The account's IANA time zone (UTC if the stored name is unknown).
pub async fn time_zone<'c, E>(executor: E, account_id: i64) -> Result<chrono_tz::Tz, AppError>
where
    E: Executor<'c, Database = Any>,
{
    let name = sqlx::query_scalar::<_, String>("SELECT time_zone FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_optional(executor)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::server::clock::parse_time_zone(&name).unwrap_or(chrono_tz::UTC))
}

/// The accounts `management` manages as (id, name, account number), by name.
pub async fn managed_names(db: &Db, management: i64) -> Result<Vec<(i64, String, String)>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String)>(
        "SELECT a.id, a.name, a.account_no FROM managed_accounts m JOIN accounts a ON a.id = m.member_account_id
         WHERE m.management_account_id = $1 ORDER BY a.name, a.id",
    )
    .bind(management)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn set_user_locale(db: &Db, user_id: i64, tag: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET locale = $1 WHERE id = $2").bind(tag).bind(user_id).execute(&db.pool).await?;
    Ok(())
}

/// The account's default language: its reports and notifications to people without one of their own.
pub async fn account_locale(db: &Db, account_id: i64) -> Result<crate::locale::Locale, AppError> {
    let tag = sqlx::query_scalar::<_, String>("SELECT locale FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::locale::parse(&tag).unwrap_or(crate::locale::Locale::en))
}

/// The addresses of a report or notification grouped by the language each reads: a user of the
/// account who chose a language gets it, any other address the account's default language. The
/// account's language comes first, then the others in the console's order; no group is empty.
/// Only this account's users are looked up: another account's user is an outside address here.
pub async fn recipients_by_language(db: &Db, account_id: i64, recipients: &[String]) -> Result<Vec<(crate::locale::Locale, Vec<String>)>, AppError> {
    let default = account_locale(db, account_id).await?;
    let chosen = sqlx::query_as::<_, (String, String)>("SELECT email, locale FROM users WHERE account_id = $1 AND locale IS NOT NULL")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    let mut groups = crate::locale::group_by_language(recipients.iter().map(|address| {
        let language = chosen
            .iter()
            .find(|(email, _)| email.eq_ignore_ascii_case(address.trim()))
            .and_then(|(_, tag)| crate::locale::parse(tag))
            .unwrap_or(default);
        (language, address.clone())
    }));
    let rank = |l: crate::locale::Locale| (l != default, crate::locale::all().iter().position(|(x, _)| *x == l));
    groups.sort_by_key(|(l, _)| rank(*l));
    Ok(groups)
}

pub async fn set_account_locale(db: &Db, account_id: i64, actor: &Actor, tag: &str) -> Result<(), AppError> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE accounts SET locale = $1 WHERE id = $2").bind(tag).bind(account_id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "account.language", tag, "").await?;
    tx.commit().await?;
    Ok(())
}
