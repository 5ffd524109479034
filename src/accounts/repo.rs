//! SQL of the resource directory and Multi-account Control. Every function takes the
//! management account's id and touches only its own directory; reads of a member's data go
//! through `managed_member`, which the callers audit.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::model::{
    Candidate, Directory, Folder, ImageCounts, Invitation, InvitationStatus, ManagedAccount, Member, INVITATION_DAYS,
};
use crate::editions::Edition;
use crate::overview::score::ScoreWeights;
use crate::auth::model::{Account, AccountKind, Role};
use crate::error::AppError;
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::db::{like_pattern, page_window, placeholders, Db, PageWindow};
use crate::server::now;

const DAY: i64 = 86_400;

/// An account that is itself a member of a directory cannot have members.
pub async fn require_management(db: &Db, account_id: i64) -> Result<(), AppError> {
    let member = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM directory_members WHERE member_account_id = $1")
        .bind(account_id)
        .fetch_one(&db.pool)
        .await?;
    if member > 0 {
        Err(AppError::Forbidden(td_string!(request_locale(), accounts.errors.not_management).into()))
    } else {
        Ok(())
    }
}

type MemberRow = (i64, String, String, String, String, Option<i64>, i64, String, i64);

const MEMBER_SELECT: &str = "SELECT a.id, a.account_no, a.name, a.kind, a.edition, m.folder_id, m.joined_at, m.joined_by,
        CASE WHEN ma.member_account_id IS NULL THEN 0 ELSE 1 END
     FROM directory_members m JOIN accounts a ON a.id = m.member_account_id
     LEFT JOIN managed_accounts ma ON ma.member_account_id = m.member_account_id AND ma.management_account_id = m.management_account_id";

fn member_from(row: MemberRow, folders: &[Folder]) -> Member {
    let (account_id, account_no, name, kind, edition, folder_id, joined_at, joined_by, managed) = row;
    Member {
        account_id,
        account_no,
        name,
        kind: AccountKind::parse(&kind).unwrap_or(AccountKind::Cloud),
        edition: Edition::parse(&edition).unwrap_or(Edition::Basic),
        folder_path: folder_path(folders, folder_id),
        folder_id,
        joined_at,
        invited: joined_by == "invited",
        managed: managed == 1,
    }
}

/// "Root / Production / EU" for a folder, "Root" for none.
pub fn folder_path(folders: &[Folder], folder_id: Option<i64>) -> String {
    match folder_id {
        Some(id) => format!("Root / {}", super::model::folder_label(folders, id)),
        None => "Root".into(),
    }
}

pub async fn folders(db: &Db, management: i64) -> Result<Vec<Folder>, AppError> {
    Ok(sqlx::query_as::<_, (i64, Option<i64>, String)>(
        "SELECT id, parent_id, name FROM directory_folders WHERE account_id = $1 ORDER BY name, id",
    )
    .bind(management)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, parent_id, name)| Folder { id, parent_id, name })
    .collect())
}

pub async fn directory(db: &Db, management: i64, can_manage: bool) -> Result<Directory, AppError> {
    let (management_account_no, management_name) = sqlx::query_as::<_, (String, String)>("SELECT account_no, name FROM accounts WHERE id = $1")
        .bind(management)
        .fetch_one(&db.pool)
        .await?;
    let folders = folders(db, management).await?;
    let members = sqlx::query_as::<_, MemberRow>(&format!("{MEMBER_SELECT} WHERE m.management_account_id = $1 ORDER BY a.name, a.id"))
        .bind(management)
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(|row| member_from(row, &folders))
        .collect();
    let invitations = invitations(db, "i.management_account_id = $1", management).await?;
    Ok(Directory { management_account_no, management_name, folders, members, invitations, can_manage })
}

async fn invitations(db: &Db, filter: &str, account_id: i64) -> Result<Vec<Invitation>, AppError> {
    let now = now();
    Ok(sqlx::query_as::<_, (i64, String, String, String, String, String, i64, i64)>(&format!(
        "SELECT i.id, f.account_no, f.name, t.account_no, t.name, i.status, i.created_at, i.expires_at
         FROM directory_invitations i JOIN accounts f ON f.id = i.management_account_id JOIN accounts t ON t.id = i.invitee_account_id
         WHERE {filter} ORDER BY i.created_at DESC, i.id DESC LIMIT 100"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, from_account_no, from_name, to_account_no, to_name, status, created_at, expires_at)| Invitation {
        id,
        from_account_no,
        from_name,
        to_account_no,
        to_name,
        status: match status.as_str() {
            "pending" if expires_at <= now => InvitationStatus::Expired,
            "pending" => InvitationStatus::Pending,
            "accepted" => InvitationStatus::Accepted,
            "declined" => InvitationStatus::Declined,
            _ => InvitationStatus::Cancelled,
        },
        created_at,
        expires_at,
    })
    .collect())
}

/// Invitations an account received.
pub async fn received_invitations(db: &Db, invitee: i64) -> Result<Vec<Invitation>, AppError> {
    invitations(db, "i.invitee_account_id = $1", invitee).await
}

async fn owned_folder(conn: &mut AnyConnection, management: i64, folder: Option<i64>) -> Result<(), AppError> {
    if let Some(id) = folder {
        let found = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM directory_folders WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(management)
            .fetch_one(&mut *conn)
            .await?;
        if found == 0 {
            return Err(AppError::field("folder", td_string!(request_locale(), accounts.errors.folder_not_owned)));
        }
    }
    Ok(())
}

pub async fn create_folder(db: &Db, management: i64, actor: &Actor, parent: Option<i64>, name: &str) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    owned_folder(&mut tx, management, parent).await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO directory_folders (account_id, parent_id, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(management)
    .bind(parent)
    .bind(name.trim())
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(&mut *tx, management, actor, "directory.folder.create", name.trim(), "").await?;
    tx.commit().await?;
    Ok(id)
}

/// Adds to Multi-account Control when the management account asked for new members to be.
async fn auto_manage(conn: &mut AnyConnection, management: i64, member: i64) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO managed_accounts (management_account_id, member_account_id, added_at)
         SELECT id, $2, $3 FROM accounts WHERE id = $1 AND auto_manage = 1
         ON CONFLICT (management_account_id, member_account_id) DO NOTHING",
    )
    .bind(management)
    .bind(member)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Member accounts one management account may have in its directory (and so manage).
pub const MAX_MEMBERS: i64 = 1_000;

/// Refuses (409) a new member once the directory holds `MAX_MEMBERS`.
async fn require_room(conn: &mut AnyConnection, management: i64) -> Result<(), AppError> {
    crate::server::db::lock_account(&mut *conn, management).await?;
    let members = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM directory_members WHERE management_account_id = $1")
        .bind(management)
        .fetch_one(&mut *conn)
        .await?;
    if members >= MAX_MEMBERS {
        let max = crate::format::thousands(MAX_MEMBERS);
        return Err(AppError::Conflict(td_string!(request_locale(), accounts.errors.directory_full, max)));
    }
    Ok(())
}

/// Puts an account just opened for `management` into its directory (in `folder`, which must be
/// its own) and, when `management` auto-manages, under its control; audited. Runs in the
/// caller's transaction, the one that opened the account.
pub async fn add_created_member(conn: &mut AnyConnection, management: i64, actor: &Actor, account: &Account, folder: Option<i64>) -> Result<(), AppError> {
    owned_folder(&mut *conn, management, folder).await?;
    require_room(&mut *conn, management).await?;
    sqlx::query(
        "INSERT INTO directory_members (member_account_id, management_account_id, folder_id, joined_by, joined_at) VALUES ($1, $2, $3, 'created', $4)",
    )
    .bind(account.id)
    .bind(management)
    .bind(folder)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    auto_manage(&mut *conn, management, account.id).await?;
    audit::record(&mut *conn, management, actor, "directory.member.create", &account.account_no, &account.name).await?;
    Ok(())
}

pub async fn invite(db: &Db, management: i64, actor: &Actor, account_no: &str) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let invitee = sqlx::query_scalar::<_, i64>("SELECT id FROM accounts WHERE account_no = $1")
        .bind(account_no)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::field("account_no", td_string!(request_locale(), accounts.errors.no_such_account)))?;
    if invitee == management {
        return Err(AppError::field("account_no", td_string!(request_locale(), accounts.errors.invite_self)));
    }
    let in_directory = sqlx::query_scalar::<_, i64>("SELECT management_account_id FROM directory_members WHERE member_account_id = $1")
        .bind(invitee)
        .fetch_optional(&mut *tx)
        .await?;
    match in_directory {
        Some(owner) if owner == management => return Err(AppError::field("account_no", td_string!(request_locale(), accounts.errors.already_member))),
        Some(_) => return Err(AppError::field("account_no", td_string!(request_locale(), accounts.errors.member_elsewhere))),
        None => {}
    }
    let has_members = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM directory_members WHERE management_account_id = $1")
        .bind(invitee)
        .fetch_one(&mut *tx)
        .await?;
    if has_members > 0 {
        return Err(AppError::field("account_no", td_string!(request_locale(), accounts.errors.manages_directory)));
    }
    require_room(&mut tx, management).await?;
    let at = now();
    // An expired invitation no longer counts as waiting: retire it so a new one can be sent.
    sqlx::query(
        "UPDATE directory_invitations SET status = 'cancelled', responded_at = $3
         WHERE management_account_id = $1 AND invitee_account_id = $2 AND status = 'pending' AND expires_at <= $3",
    )
    .bind(management)
    .bind(invitee)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO directory_invitations (management_account_id, invitee_account_id, status, created_at, expires_at)
         VALUES ($1, $2, 'pending', $3, $4) ON CONFLICT (management_account_id, invitee_account_id) WHERE status = 'pending' DO NOTHING RETURNING id",
    )
    .bind(management)
    .bind(invitee)
    .bind(at)
    .bind(at + INVITATION_DAYS * DAY)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::field("account_no", td_string!(request_locale(), accounts.errors.invitation_waiting)))?;
    audit::record(&mut *tx, management, actor, "directory.invite", account_no, "").await?;
    tx.commit().await?;
    Ok(id)
}

/// The invitee's admin accepts or declines; accepting makes the account a member.
pub async fn respond(db: &Db, invitee: i64, actor: &Actor, id: i64, accept: bool) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (management, status, expires_at) = sqlx::query_as::<_, (i64, String, i64)>(
        "SELECT management_account_id, status, expires_at FROM directory_invitations WHERE id = $1 AND invitee_account_id = $2",
    )
    .bind(id)
    .bind(invitee)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let at = now();
    if status != "pending" {
        return Err(AppError::Conflict(td_string!(request_locale(), accounts.errors.invitation_answered).into()));
    }
    if expires_at <= at {
        return Err(AppError::Conflict(td_string!(request_locale(), accounts.errors.invitation_expired).into()));
    }
    if accept {
        let member_elsewhere = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM directory_members WHERE member_account_id = $1")
            .bind(invitee)
            .fetch_one(&mut *tx)
            .await?;
        let has_members = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM directory_members WHERE management_account_id = $1")
            .bind(invitee)
            .fetch_one(&mut *tx)
            .await?;
        if member_elsewhere > 0 || has_members > 0 {
            return Err(AppError::Conflict(td_string!(request_locale(), accounts.errors.already_in_directory).into()));
        }
        require_room(&mut tx, management).await?;
        sqlx::query(
            "INSERT INTO directory_members (member_account_id, management_account_id, folder_id, joined_by, joined_at) VALUES ($1, $2, NULL, 'invited', $3)",
        )
        .bind(invitee)
        .bind(management)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        auto_manage(&mut tx, management, invitee).await?;
    }
    sqlx::query("UPDATE directory_invitations SET status = $1, responded_at = $2 WHERE id = $3")
        .bind(if accept { "accepted" } else { "declined" })
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let (action, target) = if accept { ("directory.invitation.accept", "joined") } else { ("directory.invitation.decline", "declined") };
    audit::record(&mut *tx, invitee, actor, action, &management.to_string(), target).await?;
    audit::record(&mut *tx, management, actor, action, &invitee.to_string(), target).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn cancel_invitation(db: &Db, management: i64, actor: &Actor, id: i64) -> Result<(), AppError> {
    let statement = sqlx::query(
        "UPDATE directory_invitations SET status = 'cancelled', responded_at = $1 WHERE id = $2 AND management_account_id = $3 AND status = 'pending'",
    )
    .bind(now())
    .bind(id)
    .bind(management);
    change_one(db, management, actor, ("directory.invitation.cancel", &id.to_string()), statement).await
}

/// A member of this management account's directory (any member, managed or not).
pub async fn member(db: &Db, management: i64, member: i64) -> Result<Member, AppError> {
    let folders = folders(db, management).await?;
    let row = sqlx::query_as::<_, MemberRow>(&format!("{MEMBER_SELECT} WHERE m.management_account_id = $1 AND m.member_account_id = $2"))
        .bind(management)
        .bind(member)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(member_from(row, &folders))
}

/// Gives a resource account its first admin, making it a cloud account that signs in by itself.
pub async fn upgrade(db: &Db, management: i64, actor: &Actor, member_id: i64, email: &str, name: &str, password_hash: &str) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (kind, account_no) = sqlx::query_as::<_, (String, String)>(
        "SELECT a.kind, a.account_no FROM directory_members m JOIN accounts a ON a.id = m.member_account_id
         WHERE m.management_account_id = $1 AND m.member_account_id = $2",
    )
    .bind(management)
    .bind(member_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if kind != "resource" {
        return Err(AppError::Conflict(td_string!(request_locale(), accounts.errors.already_cloud).into()));
    }
    sqlx::query("UPDATE accounts SET kind = 'cloud' WHERE id = $1").bind(member_id).execute(&mut *tx).await?;
    crate::auth::repo::create_user(&mut *tx, member_id, email, name.trim(), Role::Admin, password_hash).await?;
    audit::record(&mut *tx, management, actor, "directory.member.upgrade", &account_no, &email.trim().to_lowercase()).await?;
    audit::record(&mut *tx, member_id, actor, "account.upgrade", &account_no, &email.trim().to_lowercase()).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn move_member(db: &Db, management: i64, actor: &Actor, member_id: i64, folder: Option<i64>) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    owned_folder(&mut tx, management, folder).await?;
    let changed = sqlx::query("UPDATE directory_members SET folder_id = $1 WHERE member_account_id = $2 AND management_account_id = $3")
        .bind(folder)
        .bind(member_id)
        .bind(management)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(&mut *tx, management, actor, "directory.member.move", &member_id.to_string(), &format!("{folder:?}")).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes an account out of the directory (and off Multi-account Control); the account stays.
pub async fn remove_member(db: &Db, management: i64, actor: &Actor, member_id: i64) -> Result<(), AppError> {
    let statement = sqlx::query("DELETE FROM directory_members WHERE member_account_id = $1 AND management_account_id = $2")
        .bind(member_id)
        .bind(management);
    change_one(db, management, actor, ("directory.member.remove", &member_id.to_string()), statement).await
}

// ----- Multi-account Control -----

pub async fn auto_manage_flag(db: &Db, management: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT auto_manage FROM accounts WHERE id = $1").bind(management).fetch_one(&db.pool).await? == 1)
}

/// Rows per page of the Multi-account Control list.
pub const MANAGED_PAGE: i64 = 50;

/// One page of the managed accounts (by name) with their edition, score, open risks and 30-day
/// score history; a page past the end shows the last one. Returns (accounts, total, page, pages).
pub async fn managed(db: &Db, management: i64, search: &str, page: i64) -> Result<(Vec<ManagedAccount>, i64, i64, i64), AppError> {
    let search = search.trim();
    let mut filter = String::from("FROM managed_accounts ma JOIN accounts a ON a.id = ma.member_account_id WHERE ma.management_account_id = $1");
    if !search.is_empty() {
        filter.push_str(" AND (LOWER(a.name) LIKE $2 ESCAPE '\\' OR a.account_no LIKE $2 ESCAPE '\\')");
    }
    let count_sql = format!("SELECT COUNT(*) {filter}");
    let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(management);
    if !search.is_empty() {
        count = count.bind(like_pattern(search));
    }
    let total = count.fetch_one(&db.pool).await?;
    let PageWindow { page, pages, offset: first_row } = page_window(page, total, MANAGED_PAGE);
    let (limit, offset) = if search.is_empty() { ("$2", "$3") } else { ("$3", "$4") };
    let sql = format!("SELECT a.id, a.account_no, a.name, a.edition, a.kind {filter} ORDER BY a.name, a.id LIMIT {limit} OFFSET {offset}");
    let mut query = sqlx::query_as::<_, (i64, String, String, String, String)>(&sql).bind(management);
    if !search.is_empty() {
        query = query.bind(like_pattern(search));
    }
    let rows = query.bind(MANAGED_PAGE).bind(first_row).fetch_all(&db.pool).await?;
    if rows.is_empty() {
        return Ok((Vec::new(), total, page, pages));
    }
    // Everything below reads only the accounts on this page.
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let at = now();
    let mut histories = crate::overview::repo::score_histories(db, &ids, at - 29 * DAY).await?;
    let mut risks = crate::overview::counters::open_risks_of(db, &ids).await?;
    let mut images = image_counts_of(db, &ids).await?;
    let sql = format!("SELECT id, score_weights FROM accounts WHERE id IN ({})", placeholders(1, ids.len()));
    let mut query = sqlx::query_as::<_, (i64, Option<String>)>(&sql);
    for id in &ids {
        query = query.bind(*id);
    }
    let mut weights: HashMap<i64, ScoreWeights> = query
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(|(id, json)| (id, json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default()))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for (account_id, account_no, name, edition, kind) in rows {
        let risks = risks.remove(&account_id).unwrap_or_default();
        let weights = weights.remove(&account_id).unwrap_or_default();
        out.push(ManagedAccount {
            account_id,
            account_no,
            name,
            edition: Edition::parse(&edition).unwrap_or(Edition::Basic),
            kind: AccountKind::parse(&kind).unwrap_or(AccountKind::Cloud),
            score: crate::overview::score::security_score(&risks, &weights),
            risks,
            history: histories.remove(&account_id).unwrap_or_default(),
            images: images.remove(&account_id).unwrap_or_default(),
        });
    }
    Ok((out, total, page, pages))
}

/// The image counts of some accounts (a page's), in one query grouped by account through the
/// inventory's index on it: distinct images seen in admission, those whose latest scan has
/// critical or high findings, those never scanned (tag-only images have no digest to scan), and
/// the inventory entries last denied.
async fn image_counts_of(db: &Db, ids: &[i64]) -> Result<HashMap<i64, ImageCounts>, AppError> {
    let sql = format!(
        "SELECT r.account_id, COUNT(DISTINCT r.image_id),
                COUNT(DISTINCT CASE WHEN s.critical + s.high > 0 THEN r.image_id END),
                COUNT(DISTINCT CASE WHEN s.id IS NULL THEN r.image_id END),
                CAST(SUM(CASE WHEN r.outcome = 'denied' THEN 1 ELSE 0 END) AS BIGINT)
         FROM image_inventory r JOIN sig_images i ON i.id = r.image_id
         LEFT JOIN image_scans s ON s.account_id = i.account_id AND s.digest = i.digest AND i.digest <> ''
         WHERE r.account_id IN ({}) GROUP BY r.account_id",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(|(account_id, seen, vulnerable, never_scanned, denied)| (account_id, ImageCounts { seen, vulnerable, never_scanned, denied }))
        .collect())
}

/// Directory members not on the list yet.
pub async fn candidates(db: &Db, management: i64) -> Result<Vec<Candidate>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String, String)>(
        "SELECT a.id, a.account_no, a.name, a.kind FROM directory_members m JOIN accounts a ON a.id = m.member_account_id
         WHERE m.management_account_id = $1
           AND NOT EXISTS (SELECT 1 FROM managed_accounts ma WHERE ma.management_account_id = $1 AND ma.member_account_id = m.member_account_id)
         ORDER BY a.name, a.id",
    )
    .bind(management)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(account_id, account_no, name, kind)| Candidate {
        account_id,
        account_no,
        name,
        kind: AccountKind::parse(&kind).unwrap_or(AccountKind::Cloud),
    })
    .collect())
}

/// Adds directory members to the list and sets the "add new accounts" choice.
pub async fn add_managed(db: &Db, management: i64, actor: &Actor, members: &[i64], auto: bool) -> Result<usize, AppError> {
    let mut tx = db.begin_write().await?;
    let mut added = 0;
    for member in members {
        let in_directory = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM directory_members WHERE member_account_id = $1 AND management_account_id = $2",
        )
        .bind(member)
        .bind(management)
        .fetch_one(&mut *tx)
        .await?;
        if in_directory == 0 {
            return Err(AppError::field("accounts", td_string!(request_locale(), accounts.errors.not_directory_member)));
        }
        added += sqlx::query(
            "INSERT INTO managed_accounts (management_account_id, member_account_id, added_at) VALUES ($1, $2, $3)
             ON CONFLICT (management_account_id, member_account_id) DO NOTHING",
        )
        .bind(management)
        .bind(member)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
    }
    sqlx::query("UPDATE accounts SET auto_manage = $1 WHERE id = $2").bind(auto as i64).bind(management).execute(&mut *tx).await?;
    audit::record(&mut *tx, management, actor, "multi_account.add", &format!("{added} accounts"), if auto { "auto-add on" } else { "auto-add off" }).await?;
    tx.commit().await?;
    Ok(added)
}

pub async fn remove_managed(db: &Db, management: i64, actor: &Actor, member: i64) -> Result<(), AppError> {
    let statement = sqlx::query("DELETE FROM managed_accounts WHERE management_account_id = $1 AND member_account_id = $2")
        .bind(management)
        .bind(member);
    change_one(db, management, actor, ("multi_account.remove", &member.to_string()), statement).await
}

/// Runs one statement that must change a row of this directory, with its audit entry
/// (action, target), in one transaction; `NotFound` when it changed nothing.
async fn change_one<'q>(
    db: &Db,
    management: i64,
    actor: &Actor,
    (action, target): (&str, &str),
    statement: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    if statement.execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(&mut *tx, management, actor, action, target, "").await?;
    tx.commit().await?;
    Ok(())
}

/// The member, if this management account watches it on Multi-account Control: the only way
/// one account reads another's data.
pub async fn managed_member(db: &Db, management: i64, member_id: i64) -> Result<Member, AppError> {
    let found = member(db, management, member_id).await?;
    if found.managed {
        Ok(found)
    } else {
        Err(AppError::NotFound)
    }
}
