//! Departments' pages: their orders (drafts included), authoring a draft,
//! datasets, test cases, publishing and closing, and answering questions.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
