//! The public pages of approved settlements: the list and one run.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service::ServiceError;
use service::settlement::public::{self, PublicSheet};

use super::charts::{ShareChart, share_charts};
use super::{LineItem, RunItem, error_page, line_items, yuan};
use crate::state::AppState;
use crate::web::{Page, WebPath, message_page};

#[derive(Template, WebTemplate)]
#[template(path = "finance/public_list.html")]
struct PublicListPage {
    page: Page,
    runs: Vec<RunItem>,
}

pub(super) async fn public_list(State(state): State<AppState>, page: Page) -> Response {
    match public::run_rows(&state, 200).await {
        Ok(rows) => PublicListPage {
            runs: rows.iter().map(RunItem::from).collect(),
            page,
        }
        .into_response(),
        Err(e) => error_page(&page, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "finance/public_run.html")]
struct PublicRunPage {
    page: Page,
    run: RunItem,
    budget: String,
    pool: String,
    params: String,
    lines: Vec<LineItem>,
    charts: Vec<ShareChart>,
}

pub(super) async fn public_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(id): WebPath<i64>,
) -> Response {
    let PublicSheet { run, lines, names } = match public::sheet(&state, id).await {
        Ok(s) => s,
        Err(ServiceError::NotFound(_)) => {
            return message_page(
                &page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "notfound.body",
            );
        }
        Err(e) => return error_page(&page, e),
    };
    PublicRunPage {
        run: RunItem::from(&run),
        budget: yuan(run.budget_total_fen),
        pool: yuan(run.reward_pool_fen),
        params: serde_json::to_string(&run.params).unwrap_or_default(),
        charts: share_charts(&lines, &names),
        lines: line_items(&lines, &names),
        page,
    }
    .into_response()
}
