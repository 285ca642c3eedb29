//! sea-orm entities, one per table of the `migration` crate.
//!
//! Plain column types: ids and money are `i64` (fen), statuses are the
//! lower-case names of the `domain` enums, JSON is `serde_json::Value`.
//! Conversion to domain types happens in the query modules and at the edges.

pub mod answers;
pub mod app_suspensions;
pub mod apps;
pub mod audit_events;
pub mod case_results;
pub mod client_addresses;
pub mod complaints;
pub mod dataset_records;
pub mod datasets;
pub mod fraud_signal_subjects;
pub mod fraud_signals;
pub mod invocation_queries;
pub mod invocations;
pub mod jobs;
pub mod module_blobs;
pub mod notifications;
pub mod order_rules;
pub mod orders;
pub mod organisations;
pub mod payouts;
pub mod questions;
pub mod rating_history;
pub mod rating_replies;
pub mod rating_reports;
pub mod ratings;
pub mod settlement_audit_heads;
pub mod settlement_runs;
pub mod test_cases;
pub mod test_runs;
pub mod users;
pub mod versions;
