//! Meilisearch through meilisearch-sdk, for deployments with several API
//! nodes (`MEILI_URL`). Meilisearch segments Chinese itself (charabia uses
//! jieba), so results match the embedded index closely.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use meilisearch_sdk::client::Client;
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::Selectors;
use meilisearch_sdk::task_info::TaskInfo;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::{Document, Facets, Hit, Kind, Query, Results, Search, SearchError, doc_key};

/// How long a write waits for Meilisearch to apply it: writes are small,
/// and the caller wants the change visible to the next query.
const TASK_TIMEOUT: Duration = Duration::from_secs(30);
const TASK_POLL: Duration = Duration::from_millis(20);
/// Documents per add request during a reindex.
const BATCH: usize = 5_000;
const FACETS: &[&str] = &["category", "department", "rating_floor"];

/// The stored shape: flat, with the key Meilisearch requires.
#[derive(Debug, Serialize, Deserialize)]
struct MeiliDoc {
    key: String,
    kind: Kind,
    id: i64,
    order_id: i64,
    title: String,
    description: String,
    category: String,
    department: String,
    isv: Option<String>,
    tags: Vec<String>,
    rating_floor: Option<u8>,
}

impl From<&Document> for MeiliDoc {
    fn from(d: &Document) -> Self {
        MeiliDoc {
            key: d.key(),
            kind: d.kind,
            id: d.id,
            order_id: d.order_id,
            title: d.title.clone(),
            description: d.description.clone(),
            category: d.category.clone(),
            department: d.department.clone(),
            isv: d.isv.clone(),
            tags: d.tags.clone(),
            rating_floor: d.rating_floor,
        }
    }
}

/// The Meilisearch implementation of [`Search`].
pub struct MeiliSearch {
    client: Client,
    index: Index,
    configured: OnceCell<()>,
}

impl MeiliSearch {
    /// A client for `url` (`http://host:7700`) using index `index_uid`.
    /// Nothing is contacted until the first call.
    pub fn new(url: &str, api_key: Option<&str>, index_uid: &str) -> Result<Self, SearchError> {
        let client = Client::new(url, api_key)?;
        let index = client.index(index_uid);
        Ok(MeiliSearch {
            client,
            index,
            configured: OnceCell::new(),
        })
    }

    async fn wait(&self, task: TaskInfo) -> Result<(), SearchError> {
        let done = task
            .wait_for_completion(&self.client, Some(TASK_POLL), Some(TASK_TIMEOUT))
            .await?;
        if done.is_failure() {
            return Err(SearchError::MeiliTask(done.unwrap_failure().error_message));
        }
        Ok(())
    }

    /// Creates the index and its settings once per process.
    async fn ensure_configured(&self) -> Result<(), SearchError> {
        self.configured
            .get_or_try_init(|| async {
                // Creating an index that exists fails its task; that is fine.
                let created = self
                    .client
                    .create_index(&self.index.uid, Some("key"))
                    .await?;
                let _ = self.wait(created).await;
                let t = self
                    .index
                    .set_filterable_attributes([
                        "kind",
                        "order_id",
                        "category",
                        "department",
                        "rating_floor",
                    ])
                    .await?;
                self.wait(t).await?;
                let t = self
                    .index
                    .set_searchable_attributes([
                        "title",
                        "description",
                        "tags",
                        "category",
                        "department",
                        "isv",
                    ])
                    .await?;
                self.wait(t).await
            })
            .await
            .map(|_| ())
    }

    async fn add(&self, docs: &[Document]) -> Result<(), SearchError> {
        for chunk in docs.chunks(BATCH) {
            let rows: Vec<MeiliDoc> = chunk.iter().map(MeiliDoc::from).collect();
            let t = self.index.add_or_replace(&rows, Some("key")).await?;
            self.wait(t).await?;
        }
        Ok(())
    }
}

/// A filter value as a quoted Meilisearch string.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn filter(q: &Query) -> String {
    let mut parts = vec![];
    if let Some(k) = q.kind {
        parts.push(format!("kind = {}", quoted(k.as_str())));
    }
    if let Some(o) = q.order_id {
        parts.push(format!("order_id = {o}"));
    }
    if let Some(c) = &q.category {
        parts.push(format!("category = {}", quoted(c)));
    }
    if let Some(d) = &q.department {
        parts.push(format!("department = {}", quoted(d)));
    }
    if let Some(r) = q.min_rating {
        parts.push(format!("rating_floor >= {r}"));
    }
    parts.join(" AND ")
}

fn distribution(d: Option<&HashMap<String, usize>>) -> Vec<(String, u64)> {
    crate::sorted_counts(
        d.map(|m| {
            m.iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (k.clone(), *n as u64))
                .collect()
        })
        .unwrap_or_default(),
    )
}

#[async_trait]
impl Search for MeiliSearch {
    async fn upsert(&self, docs: Vec<Document>) -> Result<(), SearchError> {
        self.ensure_configured().await?;
        self.add(&docs).await
    }

    async fn remove(&self, kind: Kind, id: i64) -> Result<(), SearchError> {
        self.ensure_configured().await?;
        let t = self.index.delete_document(doc_key(kind, id)).await?;
        self.wait(t).await
    }

    /// Not atomic like the embedded index: queries during a reindex may see
    /// a partial index. Reindexing is an operator's repair command.
    async fn replace_all(&self, docs: Vec<Document>) -> Result<(), SearchError> {
        self.ensure_configured().await?;
        let t = self.index.delete_all_documents().await?;
        self.wait(t).await?;
        self.add(&docs).await
    }

    async fn query(&self, q: &Query) -> Result<Results, SearchError> {
        self.ensure_configured().await?;
        let filter = filter(q);
        let mut search = self.index.search();
        search
            .with_query(q.text.trim())
            .with_offset(q.offset)
            .with_limit(q.effective_limit())
            .with_facets(Selectors::Some(FACETS));
        if !filter.is_empty() {
            search.with_filter(&filter);
        }
        let found = search.execute::<MeiliDoc>().await?;
        let facets = found.facet_distribution.unwrap_or_default();
        let mut rating: Vec<(u8, u64)> = distribution(facets.get("rating_floor"))
            .into_iter()
            .filter_map(|(s, n)| s.parse().ok().map(|r| (r, n)))
            .collect();
        rating.sort_by_key(|r| std::cmp::Reverse(r.0));
        Ok(Results {
            hits: found
                .hits
                .iter()
                .map(|h| Hit {
                    kind: h.result.kind,
                    id: h.result.id,
                    order_id: h.result.order_id,
                })
                .collect(),
            total: found
                .estimated_total_hits
                .or(found.total_hits)
                .unwrap_or(found.hits.len()) as u64,
            facets: Facets {
                category: distribution(facets.get("category")),
                department: distribution(facets.get("department")),
                rating,
            },
        })
    }

    async fn check(&self) -> Result<(), SearchError> {
        self.client.health().await?;
        // The key must also be good for this index, not only for /health.
        self.ensure_configured().await
    }

    fn backend(&self) -> &'static str {
        "meilisearch"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_quote_values_and_join_with_and() {
        let q = Query {
            kind: Some(Kind::App),
            category: Some("社保 \"公积金\"".into()),
            min_rating: Some(4),
            ..Query::default()
        };
        assert_eq!(
            filter(&q),
            r#"kind = "app" AND category = "社保 \"公积金\"" AND rating_floor >= 4"#
        );
        assert_eq!(filter(&Query::default()), "");
    }
}
