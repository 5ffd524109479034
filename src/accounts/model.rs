//! The resource directory and Multi-account Control as they cross the wire.

use serde::{Deserialize, Serialize};

use crate::editions::Edition;
use crate::auth::model::{validate_email, validate_password, AccountKind};
use crate::error::{AppError, FieldErrors};
use crate::locale::{Locale, td_string};
use crate::overview::score::RiskCounts;

/// Invitations wait this long for an answer.
pub const INVITATION_DAYS: i64 = 14;
pub const MAX_NAME: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Folder {
    pub id: i64,
    /// `None`: directly under the root.
    pub parent_id: Option<i64>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub account_id: i64,
    pub account_no: String,
    pub name: String,
    pub kind: AccountKind,
    pub edition: Edition,
    pub folder_id: Option<i64>,
    /// "Root", or the folder's path ("Production / EU").
    pub folder_path: String,
    pub joined_at: i64,
    /// Created here as a resource account, or joined by invitation.
    pub invited: bool,
    pub managed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Cancelled,
    Expired,
}

impl InvitationStatus {
    pub fn label(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "Pending",
            InvitationStatus::Accepted => "Accepted",
            InvitationStatus::Declined => "Declined",
            InvitationStatus::Cancelled => "Cancelled",
            InvitationStatus::Expired => "Expired",
        }
    }

    /// The label in the reader's language (`label` stays English for the server).
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            InvitationStatus::Pending => td_string!(locale, accounts.status.pending),
            InvitationStatus::Accepted => td_string!(locale, accounts.status.accepted),
            InvitationStatus::Declined => td_string!(locale, accounts.status.declined),
            InvitationStatus::Cancelled => td_string!(locale, accounts.status.cancelled),
            InvitationStatus::Expired => td_string!(locale, accounts.status.expired),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: i64,
    /// The account that invites (the management account).
    pub from_account_no: String,
    pub from_name: String,
    /// The invited account.
    pub to_account_no: String,
    pub to_name: String,
    pub status: InvitationStatus,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The Resource Directory page: the management account, its folders, members and invitations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    pub management_account_no: String,
    pub management_name: String,
    pub folders: Vec<Folder>,
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
    pub can_manage: bool,
}

/// "Create member": a new resource account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewResourceAccount {
    pub name: String,
    /// A folder id, or "" for the root.
    #[serde(default)]
    pub folder: String,
}

impl NewResourceAccount {
    pub fn validate(&self, l: Locale) -> Result<(), AppError> {
        let mut errors = FieldErrors::new();
        if let Err(message) = validate_name(&self.name, td_string!(l, accounts.errors.enter_display_name), l) {
            errors.insert("name".into(), message);
        }
        if !self.folder.is_empty() && self.folder.parse::<i64>().is_err() {
            errors.insert("folder".into(), td_string!(l, accounts.errors.choose_folder).into());
        }
        AppError::check(errors)
    }
}

/// The first admin of a resource account that becomes a cloud account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpgradeInput {
    pub email: String,
    pub name: String,
    pub password: String,
}

impl UpgradeInput {
    pub fn validate(&self, l: Locale) -> Result<(), AppError> {
        let mut errors = FieldErrors::new();
        if let Err(problem) = validate_email(&self.email) {
            errors.insert("email".into(), problem.message(l));
        }
        if let Err(message) = validate_name(&self.name, td_string!(l, accounts.errors.enter_admin_name), l) {
            errors.insert("name".into(), message);
        }
        if let Err(problem) = validate_password(&self.password) {
            errors.insert("password".into(), problem.message(l));
        }
        AppError::check(errors)
    }
}

/// A display name: `empty` when there is none (what to enter), a length limit worded in `l`.
pub fn validate_name(name: &str, empty: &str, l: Locale) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        Err(empty.into())
    } else if name.chars().count() > MAX_NAME {
        Err(td_string!(l, common.errors.at_most_chars, max = MAX_NAME))
    } else {
        Ok(())
    }
}

/// "Production / EU" for a folder: its path below the root.
pub fn folder_label(folders: &[Folder], folder_id: i64) -> String {
    let mut parts = Vec::new();
    let mut current = Some(folder_id);
    // Bounded: a cycle cannot be written, but a bound keeps a bad row from looping.
    for _ in 0..32 {
        let Some(id) = current else { break };
        match folders.iter().find(|f| f.id == id) {
            Some(folder) => {
                parts.push(folder.name.clone());
                current = folder.parent_id;
            }
            None => break,
        }
    }
    parts.reverse();
    parts.join(" / ")
}

/// A 16-digit account id as people type it (spaces and dashes ignored); the refusal in `l`.
pub fn normalise_account_no(text: &str, l: Locale) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() == 16 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(td_string!(l, accounts.errors.account_no_shape).into())
    }
}

/// One row of Multi-account Control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedAccount {
    pub account_id: i64,
    pub account_no: String,
    pub name: String,
    pub edition: Edition,
    pub kind: AccountKind,
    pub score: i64,
    pub risks: RiskCounts,
    /// Daily scores of the last 30 days, oldest first (days without a snapshot left out).
    pub history: Vec<i64>,
    /// Its container images as admission met them.
    pub images: ImageCounts,
}

/// A member's container images as its clusters' admission requests named them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageCounts {
    /// Distinct images seen in admission.
    pub seen: i64,
    /// Of those, the images whose latest scan has critical or high findings.
    pub vulnerable: i64,
    /// Of those, the images with no scan stored (by digest or by tag only).
    pub never_scanned: i64,
    /// Inventory entries (image, cluster, namespace, workload) whose last decision was a denial.
    pub denied: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedList {
    /// One page, by name.
    pub accounts: Vec<ManagedAccount>,
    /// Managed accounts matching the search, on every page.
    pub total: i64,
    pub page: i64,
    pub page_count: i64,
    /// New and newly joined members are added to the list automatically.
    pub auto_manage: bool,
    pub can_manage: bool,
}

/// A directory member that can be added to the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub account_id: i64,
    pub account_no: String,
    pub name: String,
    pub kind: AccountKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidates {
    pub candidates: Vec<Candidate>,
    pub auto_manage: bool,
}

/// What a management account reads of a member (read-only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub member: Member,
    pub overview: crate::overview::model::Overview,
    pub assets: crate::assets::model::AssetPage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_sixteen_digits() {
        assert_eq!(normalise_account_no("1234 5678-9012 3456", Locale::en).unwrap(), "1234567890123456");
        assert!(normalise_account_no("12345", Locale::en).is_err());
        assert!(normalise_account_no("123456789012345a", Locale::en).is_err());
        // Verify the refusal follows the reader's language.
        assert_eq!(normalise_account_no("12345", Locale::zh_CN).unwrap_err(), "请输入该账号页头中显示的 16 位账号 ID。");
    }

    #[test]
    fn new_members_need_a_name_and_a_real_folder() {
        let bad = NewResourceAccount { name: " ".into(), folder: "x".into() };
        let AppError::Validation(errors) = bad.validate(Locale::en).unwrap_err() else { panic!() };
        assert_eq!(errors.len(), 2);
        assert!(NewResourceAccount { name: "EU prod".into(), folder: String::new() }.validate(Locale::en).is_ok());
    }
}
