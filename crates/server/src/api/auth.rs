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
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;
use service::accounts::{self, Registration};

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

/// A user as the API shows it. The resident ID number is masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    /// Masked, e.g. `1101**********002X`.
    pub id_number: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl UserView {
    pub async fn load(state: &AppState, u: &store::users::User) -> ApiResult<UserView> {
        let org_name = match u.org_id {
            Some(id) => store::orgs::find_by_id(state.db.conn(), id)
                .await?
                .map(|o| o.name),
            None => None,
        };
        Ok(UserView {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.role.as_str().to_owned(),
            org_id: u.org_id,
            org_name,
            id_number: u.id_number.as_deref().map(mask_id_number),
            created_at: u.created_at,
        })
    }
}

/// Keeps the first and last four characters: enough for a person to
/// recognise their own number, too little to misuse it.
pub fn mask_id_number(id: &str) -> String {
    match domain::ResidentId::parse(id) {
        Ok(parsed) => parsed.masked(),
        Err(_) => "****".to_owned(),
    }
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
    let (token, expires_at) = state.keys.issue(user.id, user.role)?;
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            user: UserView::load(&state, &user).await?,
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

/// Checks a password; the same answer (and about the same time) whether
/// the email is unknown or the password wrong.
pub async fn check_credentials(
    state: &AppState,
    email: &str,
    password: &str,
) -> ApiResult<Option<store::users::User>> {
    let email = email.trim().to_lowercase();
    let creds = store::users::find_credentials(state.db.conn(), &email).await?;
    match creds {
        Some(c) if !c.user.disabled => Ok(service::sessions::verify_password(
            password.to_owned(),
            c.password_hash,
        )
        .await?
        .then_some(c.user)),
        _ => {
            service::sessions::verify_password(
                password.to_owned(),
                service::sessions::DUMMY_HASH.clone(),
            )
            .await?;
            Ok(None)
        }
    }
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
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let user = check_credentials(&state, &req.email, &req.password)
        .await?
        .ok_or_else(|| ApiError::unauthorized("电子邮箱或密码不正确 / wrong email or password"))?;
    let (token, expires_at) = state.keys.issue(user.id, user.role)?;
    Ok(Json(LoginResponse { token, expires_at }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, current: CurrentUser) -> ApiResult<Json<UserView>> {
    Ok(Json(UserView::load(&state, &current.user).await?))
}
