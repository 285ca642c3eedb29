//! The JSON API under `/api/v1`. Each handler names the roles it admits in
//! its signature and its OpenAPI annotation.

pub mod apps;
pub mod audit;
pub mod auth;
pub mod complaints;
pub mod evidence;
pub mod invoke;
pub mod market;
pub mod me;
pub mod notifications;
pub mod orders;
pub mod public_apps;
pub mod public_settlements;
pub mod questions;
pub mod ratings;
pub mod settlements;
pub mod signals;
pub mod supervise;

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::state::AppState;

/// `axum::Json` whose rejections use our error format.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> axum::response::Response {
        Json(self.0).into_response()
    }
}

/// `axum::extract::Path` whose rejections use our error format: a path
/// parameter that does not parse is a 400 `invalid_path` naming it.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(rejection) => {
                // axum leaves a lone parameter unnamed; the route knows it.
                let raw = axum::extract::RawPathParams::from_request_parts(parts, state).await;
                let only_key = raw.ok().and_then(|raw| {
                    let mut keys = raw.iter().map(|(k, _)| k.to_owned());
                    match (keys.next(), keys.next()) {
                        (Some(k), None) => Some(k),
                        _ => None,
                    }
                });
                Err(ApiError::from_path_rejection(
                    rejection,
                    only_key.as_deref(),
                ))
            }
        }
    }
}

/// `axum::extract::Query` whose rejections use our error format: a bad or
/// unknown query parameter is a 400 `invalid_query` naming it.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Each area of the API is a module with its own routes; this joins them,
/// with `docs` (the OpenAPI document, which is built from these modules and
/// so is given from outside rather than imported here).
pub fn router(docs: Router<AppState>) -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(audit::router())
        .merge(market::router())
        .merge(invoke::router())
        .merge(me::router())
        .merge(evidence::router())
        .merge(ratings::router())
        .merge(complaints::router())
        .merge(public_apps::router())
        .merge(settlements::router())
        .merge(public_settlements::router())
        .merge(orders::router())
        .merge(questions::router())
        .merge(apps::router())
        .merge(notifications::router())
        .merge(supervise::router())
        .merge(signals::router())
        .merge(docs)
        // Last, so it reaches every route above; axum keeps the `Allow` header.
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        // The session cookie alone may not change state here (see auth.rs).
        .layer(axum::Extension(crate::auth::ApiSurface))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The `next` cursor of the previous page.
    pub cursor: Option<i64>,
    /// At most 200; default 50.
    pub limit: Option<u64>,
}
