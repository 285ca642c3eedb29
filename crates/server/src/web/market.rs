//! The market, public to browse: services by category and department, a
//! service's competing apps side by side, an app's reviews, using an app and
//! rating it.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
