#![doc = include_str!("../README.md")]

mod meili;
mod tantivy_index;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use meili::MeiliSearch;
pub use tantivy_index::TantivySearch;

/// What a document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Order,
    App,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Order => "order",
            Kind::App => "app",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "order" => Some(Kind::Order),
            "app" => Some(Kind::App),
            _ => None,
        }
    }
}

/// One searchable thing: an order, or an app listed in the market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub kind: Kind,
    /// The order's or the app's id.
    pub id: i64,
    /// The order itself for an order, the app's order for an app.
    pub order_id: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    /// The department's name.
    pub department: String,
    /// The ISV's name (apps only).
    pub isv: Option<String>,
    pub tags: Vec<String>,
    /// Whole stars of the Bayesian rating, 1–5 (apps only): the rating facet.
    pub rating_floor: Option<u8>,
}

impl Document {
    /// Unique across kinds; also Meilisearch's primary key, which allows only
    /// `[A-Za-z0-9_-]`.
    pub fn key(&self) -> String {
        doc_key(self.kind, self.id)
    }
}

fn doc_key(kind: Kind, id: i64) -> String {
    format!("{}-{id}", kind.as_str())
}

/// A search: free text plus facet filters. Empty text matches everything
/// the filters allow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub text: String,
    pub kind: Option<Kind>,
    pub order_id: Option<i64>,
    pub category: Option<String>,
    pub department: Option<String>,
    /// Only apps whose rating facet is at least this many stars.
    pub min_rating: Option<u8>,
    pub offset: usize,
    /// At most [`MAX_LIMIT`]; 0 means [`DEFAULT_LIMIT`].
    pub limit: usize,
}

pub const DEFAULT_LIMIT: usize = 20;
/// Bounded so one request cannot ask the engine for the whole index.
pub const MAX_LIMIT: usize = 1000;

impl Query {
    pub fn text(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            ..Query::default()
        }
    }

    fn effective_limit(&self) -> usize {
        match self.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        }
    }
}

/// A hit, best first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub kind: Kind,
    pub id: i64,
    pub order_id: i64,
}

/// How many matching documents carry each value of a facet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub category: Vec<(String, u64)>,
    pub department: Vec<(String, u64)>,
    /// (whole stars, count), highest first.
    pub rating: Vec<(u8, u64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub hits: Vec<Hit>,
    /// All matches, not only this page.
    pub total: u64,
    pub facets: Facets,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot open the search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("Meilisearch error: {0}")]
    Meili(#[from] meilisearch_sdk::errors::Error),
    #[error("Meilisearch task failed: {0}")]
    MeiliTask(String),
    #[error("search worker stopped: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Full-text search over orders and apps, faceted by category, department
/// and rating. Every implementation passes the same test suite
/// (`tests/contract.rs`).
#[async_trait]
pub trait Search: Send + Sync {
    /// Adds or replaces documents (by kind and id); visible to the next query.
    async fn upsert(&self, docs: Vec<Document>) -> Result<(), SearchError>;
    /// Removes one document; removing a missing one is not an error.
    async fn remove(&self, kind: Kind, id: i64) -> Result<(), SearchError>;
    /// Replaces the whole index with `docs` (the reindex command).
    async fn replace_all(&self, docs: Vec<Document>) -> Result<(), SearchError>;
    async fn query(&self, q: &Query) -> Result<Results, SearchError>;
    /// `tantivy` or `meilisearch`, for logs and the health page.
    fn backend(&self) -> &'static str;
    /// Whether the engine answers now, with its index usable: a node checks
    /// at start-up so that a wrong `MEILI_URL` stops it with a clear message
    /// instead of failing every search later. An embedded index is there
    /// once opened.
    async fn check(&self) -> Result<(), SearchError> {
        Ok(())
    }
}

/// Counts in descending order, ties by value, as both engines report them.
fn sorted_counts(mut v: Vec<(String, u64)>) -> Vec<(String, u64)> {
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_keys_are_distinct_per_kind_and_meilisearch_safe() {
        assert_eq!(doc_key(Kind::App, 7), "app-7");
        assert_ne!(doc_key(Kind::App, 7), doc_key(Kind::Order, 7));
        assert!(
            doc_key(Kind::Order, 123)
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn a_query_limit_is_bounded() {
        let mut q = Query::text("x");
        assert_eq!(q.effective_limit(), DEFAULT_LIMIT);
        q.limit = 1_000_000;
        assert_eq!(q.effective_limit(), MAX_LIMIT);
    }
}
