//! HTTP journeys against a real server. Run with `cargo test -p e2e`; set
//! `TEST_DATABASE_URL` to run them on PostgreSQL.

mod auth;
mod bad_input;
mod complaints;
mod config;
mod data;
mod desk;
mod market;
mod metrics;
mod moderation;
mod order_rules;
mod orders;
mod pipeline;
mod ratings;
mod regression;
mod replay;
mod settlements;
mod supervise;
mod vendor_apps;
mod web;
mod web_dept;
mod web_isv;
mod web_market;
mod web_supervise;
