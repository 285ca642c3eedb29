//! Requirement orders for everyone: the list ISVs browse and filter, and one
//! order's page (contract, datasets, public Q&A, starter kit).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::Fen;
use serde::Deserialize;

use super::{Page, internal_page, message_page};
use crate::api::orders::{
    OrderQuery, OrderSummary, OrderView, list_orders, order_view, visible_order,
};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_page))
        .route("/orders/{id}", get(order_page))
}

pub(crate) fn yuan(fen: impl std::borrow::Borrow<i64>) -> String {
    Fen::from_fen(*fen.borrow()).to_string()
}

/// The message key of an order status.
pub(crate) fn status_key(status: &str) -> &'static str {
    match status {
        "draft" => "orders.status.draft",
        "open" => "orders.status.open",
        "closed" => "orders.status.closed",
        "cancelled" => "orders.status.cancelled",
        _ => "orders.status.all",
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    status: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "orders/list.html")]
struct ListPage {
    page: Page,
    q: String,
    status: String,
    orders: Vec<OrderSummary>,
}

async fn list_page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Response {
    let status = query.status.clone().unwrap_or_else(|| "open".into());
    let q = OrderQuery {
        status: Some(status.clone()).filter(|s| !s.is_empty()),
        q: query.q.clone(),
        department: None,
        page: None,
        limit: Some(200),
    };
    match list_orders(&state, page.current.as_ref(), &q).await {
        Ok(list) => ListPage {
            page,
            q: query.q.unwrap_or_default(),
            status,
            orders: list.items,
        }
        .into_response(),
        Err(e) if e.status().is_client_error() => {
            message_page(&page, e.status(), "orders.error_title", "orders.bad_filter")
        }
        Err(e) => internal_page(&page, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "orders/detail.html")]
struct DetailPage {
    page: Page,
    order: OrderView,
    input_schema: String,
    output_schema: String,
    limits: String,
}

async fn order_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let order = match visible_order(&state, page.current.as_ref(), id).await {
        Ok(o) => o,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            return super::not_found(page).await;
        }
        Err(e) => return internal_page(&page, e),
    };
    let view = match order_view(&state, order).await {
        Ok(v) => v,
        Err(e) => return internal_page(&page, e),
    };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    DetailPage {
        input_schema: pretty(&view.contract["input_schema"]),
        output_schema: pretty(&view.contract["output_schema"]),
        limits: pretty(&view.contract["limits"]),
        page,
        order: view,
    }
    .into_response()
}
