//! The search index of orders and apps, kept in step with the database:
//! each change that lists, delists or re-rates something calls one of these.

use store::market::{Listing, ListingFilter};

use crate::market::{current_period, rating_floor};
use crate::services::Services;

fn app_document(l: &Listing) -> search::Document {
    search::Document {
        kind: search::Kind::App,
        id: l.app_id,
        order_id: l.order_id,
        title: format!("{} · {}", l.app_name, l.order_title),
        description: format!("{}\n{}", l.order_description, l.release_notes),
        category: l.category.clone(),
        department: l.department_name.clone(),
        isv: Some(l.isv_name.clone()),
        tags: l.tags.clone(),
        rating_floor: Some(rating_floor(l.star_counts)),
    }
}

fn order_document(o: store::market::OrderDoc) -> search::Document {
    search::Document {
        kind: search::Kind::Order,
        id: o.id,
        order_id: o.id,
        title: o.title,
        description: o.description,
        category: o.category,
        department: o.department_name,
        isv: None,
        tags: o.tags,
        rating_floor: None,
    }
}

/// Brings one app's search document up to date: indexed while listed,
/// removed otherwise. Call after publish, withdraw, suspend and rating.
/// A search failure is logged, not returned: the database change stands,
/// and `govmarket search reindex` repairs the index.
pub async fn index_app(state: &Services, app_id: i64) {
    // Every change that can list or delist an app ends here.
    state.availability.invalidate();
    let result = async {
        let found = store::market::listings(
            state.db.conn(),
            &ListingFilter {
                order_id: None,
                app_ids: Some(vec![app_id]),
            },
            &current_period(state.config.timezone),
        )
        .await
        .map_err(anyhow::Error::from)?;
        match found.first() {
            Some(l) => state.search.upsert(vec![app_document(l)]).await?,
            None => state.search.remove(search::Kind::App, app_id).await?,
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, app_id, "search index not updated for app");
    }
}

/// Brings one order's search document up to date (public orders only).
pub async fn index_order(state: &Services, order_id: i64) {
    let result = async {
        let found = store::market::searchable_orders(state.db.conn(), Some(order_id)).await?;
        match found.into_iter().next() {
            Some(o) => state.search.upsert(vec![order_document(o)]).await?,
            None => state.search.remove(search::Kind::Order, order_id).await?,
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, order_id, "search index not updated for order");
    }
}

/// Rebuilds the whole index from the database; returns (orders, apps).
pub async fn reindex(state: &Services) -> anyhow::Result<(usize, usize)> {
    let orders = store::market::searchable_orders(state.db.conn(), None).await?;
    let listings = store::market::listings(
        state.db.conn(),
        &ListingFilter::default(),
        &current_period(state.config.timezone),
    )
    .await?;
    let counts = (orders.len(), listings.len());
    let mut docs: Vec<search::Document> = orders.into_iter().map(order_document).collect();
    docs.extend(listings.iter().map(app_document));
    state.search.replace_all(docs).await?;
    Ok(counts)
}
