#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod actor;
pub mod appdata;
pub mod apps;
pub mod caches;
pub mod client_address;
pub mod complaints;
pub mod config;
pub mod demo;
pub mod error;
pub mod housekeeping;
pub mod invoke;
pub mod market;
pub mod mydata;
pub mod notifications;
pub mod orders;
pub mod pipeline;
pub mod questions;
pub mod ratelimit;
pub mod ratings;
pub mod replay;
pub mod search_index;
pub mod services;
pub mod sessions;
pub mod settlement;
pub mod supervise;
pub mod usage;
pub mod validate;

pub use actor::Actor;
pub use config::Config;
pub use error::{Msg, ServiceError, ServiceResult, Thing};
pub use services::Services;
