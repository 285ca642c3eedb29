//! Requirement orders for everyone: the list ISVs browse and filter, and one
//! order's page (contract, datasets, public Q&A, starter kit).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::{Fen, OrderStatus};
use serde::Deserialize;

use service::orders::{OrderQuery, OrderSummary, OrderView};
use service::{Actor, ServiceError};

use super::{FormErrors, Page, WebPath, WebQuery, internal_page, message_page};
use crate::extract::RequestId;
use crate::state::AppState;

/// Whoever reads the page: its signed-in user, or nobody.
fn viewer(page: &Page, request_id: &RequestId) -> Actor {
    match &page.current {
        Some(c) => c.actor(request_id),
        None => Actor::anonymous(request_id.as_option()),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_page))
        .route("/orders/{id}", get(order_page))
        .route("/docs/abi", get(abi_page))
}

/// The app ABI guide, the same text the starter kit carries as `ABI.md`.
#[derive(Template, WebTemplate)]
#[template(path = "orders/abi.html")]
struct AbiPage {
    page: Page,
    abi_html: String,
}

async fn abi_page(page: Page) -> impl IntoResponse {
    static HTML: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| super::markdown::render(service::orders::skeleton::ABI_MD));
    AbiPage {
        page,
        abi_html: HTML.clone(),
    }
}

pub(crate) fn yuan(fen: impl std::borrow::Borrow<i64>) -> String {
    Fen::from_fen(*fen.borrow()).to_string()
}

/// The message key of an order status.
pub(crate) fn status_key(status: impl std::borrow::Borrow<OrderStatus>) -> &'static str {
    match status.borrow() {
        OrderStatus::Draft => "orders.status.draft",
        OrderStatus::Open => "orders.status.open",
        OrderStatus::Closed => "orders.status.closed",
        OrderStatus::Cancelled => "orders.status.cancelled",
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    category: Option<String>,
    /// A department's organisation id; empty for all.
    department: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "orders/list.html")]
struct ListPage {
    page: Page,
    q: String,
    status: String,
    category: String,
    department: String,
    /// The categories and departments of the orders in this status, so the
    /// filter offers only choices that can match.
    categories: Vec<String>,
    departments: Vec<(String, String)>,
    orders: Vec<OrderSummary>,
}

async fn list_page(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebQuery(query): WebQuery<ListQuery>,
) -> Response {
    let actor = viewer(&page, &request_id);
    let status = query.status.clone().unwrap_or_else(|| "open".into());
    let category = query.category.clone().unwrap_or_default();
    let department = query.department.clone().unwrap_or_default();
    let department_id = match department.trim() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                return message_page(
                    &page,
                    StatusCode::BAD_REQUEST,
                    "orders.error_title",
                    "orders.bad_filter",
                );
            }
        },
    };
    let query_for = |all: bool| OrderQuery {
        status: Some(status.clone()).filter(|s| !s.is_empty()),
        q: query.q.clone().filter(|_| !all),
        department: department_id.filter(|_| !all),
        category: Some(category.clone()).filter(|c| !all && !c.is_empty()),
        page: None,
        limit: Some(200),
    };
    let listed = async {
        let choices = service::orders::list(&state, &actor, &query_for(true)).await?;
        let list = service::orders::list(&state, &actor, &query_for(false)).await?;
        Ok::<_, ServiceError>((choices, list))
    }
    .await;
    match listed {
        Ok((choices, list)) => {
            let mut categories: Vec<String> =
                choices.items.iter().map(|o| o.category.clone()).collect();
            // A category from a shared link stays visible as chosen.
            if !category.is_empty() {
                categories.push(category.clone());
            }
            categories.sort();
            categories.dedup();
            let mut departments: Vec<(String, String)> = choices
                .items
                .iter()
                .map(|o| {
                    (
                        o.department_org_id.to_string(),
                        o.department.clone().unwrap_or_default(),
                    )
                })
                .collect();
            departments.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
            departments.dedup();
            ListPage {
                page,
                q: query.q.unwrap_or_default(),
                status,
                category,
                department,
                categories,
                departments,
                orders: list.items,
            }
            .into_response()
        }
        Err(e) if e.is_client_error() => message_page(
            &page,
            crate::error::status_of(&e),
            "orders.error_title",
            "orders.bad_filter",
        ),
        Err(e) => internal_page(&page, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "orders/detail.html")]
struct DetailPage {
    page: Page,
    order: OrderView,
    /// The department's rules document, rendered and sanitised.
    rules_html: String,
    input_schema: String,
    output_schema: String,
    limits: String,
    /// A signed-in ISV on an open order may upload and ask.
    isv_can_act: bool,
    errors: FormErrors,
    question_body: String,
}

/// The ask-a-question form as posted, for showing it again with its errors.
#[derive(Default)]
pub(crate) struct AskForm {
    pub(crate) errors: FormErrors,
    pub(crate) body: String,
    pub(crate) status: StatusCode,
}

async fn order_page(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
) -> Response {
    let actor = viewer(&page, &request_id);
    order_detail(&state, page, &actor, id, AskForm::default()).await
}

/// The order's page, with the ask-a-question form as posted (the ISV pages
/// show it again this way when a question is refused).
pub(crate) async fn order_detail(
    state: &AppState,
    page: Page,
    actor: &Actor,
    id: i64,
    ask: AskForm,
) -> Response {
    let view = match service::orders::queries::get(state, actor, id).await {
        Ok(v) => v,
        Err(ServiceError::NotFound(_)) => return super::not_found(page).await,
        Err(e) => return internal_page(&page, e),
    };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let isv_can_act = view.status == OrderStatus::Open
        && page
            .current
            .as_ref()
            .is_some_and(|c| c.role() == domain::Role::Isv);
    let mut page = page;
    page.has_errors = !ask.errors.is_empty();
    (
        ask.status,
        DetailPage {
            rules_html: super::markdown::render(&view.rules),
            input_schema: pretty(&view.contract["input_schema"]),
            output_schema: pretty(&view.contract["output_schema"]),
            limits: pretty(&view.contract["limits"]),
            page,
            order: view,
            isv_can_act,
            errors: ask.errors,
            question_body: ask.body,
        },
    )
        .into_response()
}
