//! Playbooks (batch vulnerability fixing). The Policy Center's template list is real; My Policy
//! and Task Management are placeholders until the playbook issue lands.

pub mod api;
pub mod model;
pub mod pages;
