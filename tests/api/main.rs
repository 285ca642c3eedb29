//! HTTP journeys against a real server. Run with `cargo test -p e2e`; set
//! `TEST_DATABASE_URL` to run them on PostgreSQL.

mod auth;
mod bad_input;
mod orders;
mod pipeline;
mod settlements;
mod market;
mod ratings;
mod web;
