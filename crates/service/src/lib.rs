//! The use cases of govmarket, with no HTTP in them.
//!
//! Each use case takes what it needs (the database, the sandbox, a cache:
//! usually through [`Services`]) and one [`Actor`], and answers with its
//! result or a typed [`ServiceError`]: not found, forbidden, a conflict
//! with a code, an invalid field with a message key. The JSON API and the
//! web pages in `crates/server` are adapters over this crate: they parse a
//! request, call one use case, and render its answer their own way.
//! Nothing here knows about status codes or display strings; messages are
//! keys into the catalogues in `web/i18n`.

pub mod accounts;
pub mod actor;
pub mod appdata;
pub mod config;
pub mod error;
pub mod market;
pub mod orders;
pub mod pipeline;
pub mod questions;
pub mod ratelimit;
pub mod search_index;
pub mod services;
pub mod sessions;
pub mod settlement;
pub mod usage;

pub use actor::Actor;
pub use config::Config;
pub use error::{Msg, ServiceError, ServiceResult, Thing};
pub use services::Services;
