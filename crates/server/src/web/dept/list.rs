//! The department's orders, drafts included.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use service::orders::{OrderQuery, OrderSummary};

use super::super::orders::{status_key, yuan};
use super::super::{Page, WebQuery, internal_page};
use super::{Desk, DoneQuery, date_in, flash};
use crate::state::AppState;

struct ListRow {
    id: i64,
    title: String,
    category: String,
    status_key: &'static str,
    budget: String,
    deadline: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dept/list.html")]
struct ListPage {
    page: Page,
    orders: Vec<ListRow>,
}

pub(super) async fn list_page(
    State(state): State<AppState>,
    Desk { mut page, actor }: Desk,
    WebQuery(q): WebQuery<DoneQuery>,
) -> Response {
    let query = OrderQuery {
        // Asking for one's own department is what brings the drafts in.
        department: actor.org_id(),
        limit: Some(200),
        ..Default::default()
    };
    let list = match service::orders::list(&state, &actor, &query).await {
        Ok(l) => l,
        Err(e) => return internal_page(&page, e),
    };
    let tz = state.config.timezone;
    let orders = list
        .items
        .into_iter()
        .map(|o: OrderSummary| ListRow {
            id: o.id,
            title: o.title,
            category: o.category,
            status_key: status_key(o.status),
            budget: yuan(o.budget_fen),
            deadline: o.deadline.map(|d| date_in(tz, &d)).unwrap_or_default(),
        })
        .collect();
    flash(&mut page, q.done.as_deref());
    ListPage { page, orders }.into_response()
}
