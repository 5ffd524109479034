//! Opening an account (a tenant): its row, then what each area keeps for every account, in one
//! transaction. Above both auth and the areas, so neither has to call the other: an area that
//! needs something for each new account adds its step to `on_open` here.

use sqlx::AnyConnection;

use crate::editions::Edition;
use crate::auth::model::{Account, AccountKind};
use crate::error::AppError;
use crate::server::now;

/// Opens an account in the caller's transaction.
pub async fn open_account(conn: &mut AnyConnection, name: &str, edition: Edition, kind: AccountKind) -> Result<Account, AppError> {
    let account = crate::auth::repo::create_account(&mut *conn, name, edition, kind).await?;
    on_open(conn, &account).await?;
    Ok(account)
}

/// What each area sets up for a new account.
async fn on_open(conn: &mut AnyConnection, account: &Account) -> Result<(), AppError> {
    // Security reports: the default weekly report (no recipients until an admin adds them).
    crate::reports::repo::insert_default_report(&mut *conn, account.id, now()).await?;
    Ok(())
}
