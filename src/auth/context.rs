//! The signed-in user as the console layout provides it to every page and feature gate.

use leptos::prelude::*;

use super::model::Me;
use crate::error::AppError;

/// The signed-in user, loaded once by the console layout.
pub type MeResource = Resource<Result<Me, AppError>>;

pub fn use_me() -> MeResource {
    expect_context::<MeResource>()
}

/// Whether the signed-in user is an admin (false until the user has loaded), for showing the
/// buttons only admins may use; the server checks the role again.
pub fn use_is_admin() -> Signal<bool> {
    let me = use_me();
    Signal::derive(move || me.get().and_then(|m| m.ok()).is_some_and(|m| m.is_admin()))
}

/// Bump to reload the signed-in user (after an edition or authorization change).
#[derive(Clone, Copy)]
pub struct MeRefresh(RwSignal<u64>);

impl MeRefresh {
    pub fn new(counter: RwSignal<u64>) -> MeRefresh {
        MeRefresh(counter)
    }

    pub fn bump(&self) {
        self.0.update(|v| *v += 1);
    }

    /// Tracked: resources that depend on what the account may use (edition, authorizations)
    /// put this in their source so they load again when it changes.
    pub fn version(&self) -> u64 {
        self.0.get()
    }
}
