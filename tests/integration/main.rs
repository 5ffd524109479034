//! Integration tests through the whole router on a real database: a temporary SQLite file, or a
//! fresh PostgreSQL database per test when BULWARK_TEST_PG_URL is set.

mod common;

mod auth;
mod cli;
mod demo;
mod editions;
mod ingest;
mod isolation;
mod pages;
mod score;
mod settings;
mod reports;
mod report_numbers;
mod image_reports;
mod accounts;
mod agents;
mod outbound;
mod playbooks;
mod registry;
mod registry_support;
mod signature;
mod image_admission;
mod secrets;
mod limits;
mod metrics;
mod static_files;
mod openapi;
mod language;
mod asset_search;
mod counters;
mod sign_in_throttle;
mod agent_takeover;
