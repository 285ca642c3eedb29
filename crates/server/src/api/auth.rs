//! Accounts and sessions: register, login, me.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;
use service::accounts::{self, Registration, UserView};
use service::sessions;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(register, login, me),
    tags((name = "auth", description = "Accounts and sessions"))
)]
pub struct AuthApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/me", get(me))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Used to sign in; stored in lower case.
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    pub display_name: String,
    /// `citizen` or `isv`; other roles are created by an admin.
    pub role: String,
    /// Citizens: an 18-character resident ID number with a valid check character.
    pub id_number: Option<String>,
    /// ISVs: the company name.
    pub org_name: Option<String>,
    /// ISVs, optional: the unified social credit code (GB 32100).
    pub credit_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user: UserView,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Register a citizen or ISV account and sign in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = RegisterResponse, description = "account created; signed in"),
        (status = 409, body = ErrorBody, description = "email already registered"),
        (status = 422, body = ErrorBody, description = "a field is invalid; `field` names it"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    crate::extract::ClientAddr(addr): crate::extract::ClientAddr,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<RegisterResponse>)> {
    let user = accounts::register(
        &state.db,
        Registration {
            email: req.email,
            password: req.password,
            display_name: req.display_name,
            role: req.role,
            id_number: req.id_number,
            org_name: req.org_name,
            credit_code: req.credit_code,
        },
        request_id,
    )
    .await?;
    service::client_address::remember(&state, user.id, addr).await;
    let (token, expires_at) = state.keys.issue(user.id, user.role)?;
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            user: accounts::profile(&state.db, &user).await?,
            token,
            expires_at,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Sign in with email and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, body = ErrorBody, description = "wrong email or password"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    request_id: crate::extract::RequestId,
    crate::extract::ClientAddr(addr): crate::extract::ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let actor = service::Actor::anonymous(request_id.as_option());
    let session =
        sessions::login(&state.db, &state.keys, &actor, &req.email, &req.password).await?;
    service::client_address::remember(&state, session.user.id, addr).await;
    Ok(Json(LoginResponse {
        token: session.token,
        expires_at: session.expires_at,
    }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, current: CurrentUser) -> ApiResult<Json<UserView>> {
    Ok(Json(accounts::profile(&state.db, &current.user).await?))
}
