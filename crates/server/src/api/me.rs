//! The signed-in citizen's own data: every data access an app made on
//! their behalf ("my data", 我的数据), as JSON or CSV.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use service::mydata::{self, MyData};
use utoipa::IntoParams;

use super::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(my_data),
    components(schemas(Format)),
    tags((name = "me", description = "What the platform holds and did with your data"))
)]
pub struct MeApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/me/data", get(my_data))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `json` (default) or `csv`; `Accept: text/csv` asks for CSV too.
    pub format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

/// Every data access made on your behalf, newest invocation first (citizens).
#[utoipa::path(get, path = "/api/v1/me/data", tag = "me",
    params(FormatQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = MyData),
        (status = 200, content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn my_data(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let data = mydata::my_data(&state, &who.actor(&request_id)).await?;
    let wants_csv = match q.format {
        Some(f) => f == Format::Csv,
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv")),
    };
    Ok(if wants_csv {
        super::settlements::csv_response(service::settlement::runs::Csv {
            filename: "my-data.csv".into(),
            body: mydata::to_csv(&data),
        })
    } else {
        Json(data).into_response()
    })
}
