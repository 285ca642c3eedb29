//! Server-rendered pages. They work without JavaScript: forms post to the
//! server, which validates and answers with the page again, an error summary
//! at the top linking to each field and the message repeated beside it.

pub mod account;
pub mod audit_head;
pub mod complaints;
pub mod dept;
pub mod extract;
pub mod finance;
pub mod forms;
pub mod isv;
pub mod markdown;
pub mod market;
pub mod orders;
pub mod replay;
pub mod supervise;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth;
use crate::csrf::{self, CsrfSeed};
use crate::i18n::{Catalog, LANG_COOKIE, Lang};
use crate::openapi;
use crate::state::AppState;
use service::accounts::FieldError;

/// Each area of the site is a module with its own routes; this joins them.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(account::router())
        .merge(audit_head::router())
        .merge(finance::router())
        .merge(orders::router())
        .merge(isv::router())
        .merge(dept::router())
        .merge(market::router())
        .merge(complaints::router())
        .merge(supervise::router())
        .route("/", get(home))
        .route("/lang/{code}", get(set_lang))
        .route("/docs/api", get(api_docs))
        .route("/static/app.css", get(stylesheet))
}

/// The signed-in user as the layout needs it.
#[derive(Debug, Clone)]
pub struct UserBadge {
    pub display_name: String,
    pub role_key: &'static str,
}

pub(crate) fn role_key(role: domain::Role) -> &'static str {
    match role {
        domain::Role::Citizen => "role.citizen",
        domain::Role::Isv => "role.isv",
        domain::Role::Department => "role.department",
        domain::Role::Finance => "role.finance",
        domain::Role::Supervisor => "role.supervisor",
        domain::Role::Admin => "role.admin",
    }
}

/// What every page's layout needs: language, user, CSRF token, path.
pub struct Page {
    pub lang: Lang,
    pub user: Option<UserBadge>,
    pub current: Option<auth::CurrentUser>,
    pub csrf_token: String,
    pub csrf_seed: String,
    pub path: String,
    pub has_errors: bool,
    pub flash: String,
}

impl Page {
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        let catalog: &'static Catalog = self.lang.catalog();
        catalog.t(key)
    }

    /// Marks the page as showing `errors` (the layout then prefixes the
    /// title with "Error:") and gives its status: 422 when a form came back
    /// with errors, 200 when it did not.
    pub fn show_errors(&mut self, errors: &FormErrors) -> axum::http::StatusCode {
        self.has_errors = !errors.is_empty();
        if self.has_errors {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        } else {
            axum::http::StatusCode::OK
        }
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::from_headers(&parts.headers);
        // A stale or forged cookie on a public page just means "signed out".
        let current = auth::session_user(parts, state).await.ok().flatten();
        let seed = parts
            .extensions
            .get::<CsrfSeed>()
            .map(|s| s.0.clone())
            .unwrap_or_default();
        let flash = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("done=")))
            .and_then(|k| match k {
                "registered" => Some(lang.catalog().t("register.done").to_owned()),
                _ => None,
            })
            .unwrap_or_default();
        Ok(Page {
            lang,
            user: current.as_ref().map(|c| UserBadge {
                display_name: c.user.display_name.clone(),
                role_key: role_key(c.user.role),
            }),
            current,
            csrf_token: csrf::token_for(&state.csrf_key, &seed),
            csrf_seed: seed,
            path: parts.uri.path().to_owned(),
            has_errors: false,
            flash,
        })
    }
}

/// `axum::extract::Path` for pages: an id that does not parse names no
/// page, so it answers the HTML 404 page rather than axum's plain text.
pub struct WebPath<T>(pub T);

impl<T> FromRequestParts<AppState> for WebPath<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(WebPath(v)),
            Err(rejection) => {
                tracing::debug!(reason = %rejection.body_text(), "page path does not parse");
                let page = Page::from_request_parts(parts, state).await?;
                Err(not_found(page).await)
            }
        }
    }
}

/// `axum::extract::Query` for pages: a query string that does not parse
/// is a 400 HTML page, not axum's plain text.
pub struct WebQuery<T>(pub T);

impl<T> FromRequestParts<AppState> for WebQuery<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Query::<T>::try_from_uri(&parts.uri) {
            Ok(Query(v)) => Ok(WebQuery(v)),
            Err(rejection) => {
                tracing::debug!(reason = %rejection.body_text(), "page query does not parse");
                let page = Page::from_request_parts(parts, state).await?;
                Err(message_page(
                    &page,
                    StatusCode::BAD_REQUEST,
                    "badrequest.title",
                    "badrequest.body",
                ))
            }
        }
    }
}

/// The errors of one form submission, in form order.
#[derive(Debug, Default)]
pub struct FormErrors {
    pub items: Vec<ErrorItem>,
}

#[derive(Debug)]
pub struct ErrorItem {
    pub field: String,
    pub message: String,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn has(&self, field: &str) -> bool {
        self.items.iter().any(|e| e.field == field)
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.items.push(ErrorItem {
            field: field.to_owned(),
            message: message.into(),
        });
    }
    fn from_fields(lang: Lang, errs: Vec<FieldError>) -> FormErrors {
        let mut out = FormErrors::default();
        for e in errs {
            let msg = lang.render(&e.msg);
            out.push(e.field, msg);
        }
        out
    }
}

/// Parses a posted form after checking its CSRF token. A missing or wrong
/// token is a 403 page, and the form is not looked at.
#[allow(
    clippy::result_large_err,
    reason = "the error is the response the handler returns at once; boxing buys nothing"
)]
pub(crate) fn csrf_form<T: serde::de::DeserializeOwned>(
    state: &AppState,
    page: &Page,
    body: &Bytes,
) -> Result<T, Response> {
    #[derive(Deserialize)]
    struct Token {
        csrf_token: Option<String>,
    }
    let token: Token = serde_urlencoded::from_bytes(body).map_err(|_| bad_form(page))?;
    let ok = !page.csrf_seed.is_empty()
        && token
            .csrf_token
            .as_deref()
            .is_some_and(|t| csrf::verify(&state.csrf_key, &page.csrf_seed, t));
    if !ok {
        return Err(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "forbidden.csrf",
        ));
    }
    serde_urlencoded::from_bytes(body).map_err(|_| bad_form(page))
}

fn bad_form(page: &Page) -> Response {
    message_page(
        page,
        StatusCode::BAD_REQUEST,
        "forbidden.title",
        "forbidden.csrf",
    )
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    pub(crate) next: Option<String>,
}

/// Only local paths, so a crafted link cannot send a user elsewhere
/// after signing in.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub(crate) fn internal_page(page: &Page, e: impl Into<crate::error::ApiError>) -> Response {
    // Log the cause through the API error's own path, show the page.
    let _ = e.into().into_response();
    message_page(
        page,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal.title",
        "internal.body",
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    page: &'a Page,
    title_key: &'a str,
    body_key: &'a str,
}

pub fn message_page(page: &Page, status: StatusCode, title_key: &str, body_key: &str) -> Response {
    let html = MessagePage {
        page,
        title_key,
        body_key,
    };
    (status, html).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
}

async fn home(page: Page) -> impl IntoResponse {
    HomePage { page }
}

async fn set_lang(
    State(state): State<AppState>,
    page: Page,
    WebPath(code): WebPath<String>,
    WebQuery(q): WebQuery<NextQuery>,
) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return not_found(page).await;
    };
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let mut resp = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        lang.code()
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Template, WebTemplate)]
#[template(path = "api_docs.html")]
struct ApiDocsPage {
    page: Page,
    groups: Vec<openapi::OperationGroup>,
}

async fn api_docs(page: Page) -> impl IntoResponse {
    ApiDocsPage {
        page,
        groups: openapi::groups(),
    }
}

async fn stylesheet(headers: HeaderMap) -> Response {
    const CSS: &str = include_str!("../../../../web/static/app.css");
    // The stylesheet changes only with a new binary; its hash is its version.
    static ETAG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::Digest;
        format!("\"{}\"", &hex::encode(sha2::Sha256::digest(CSS))[..16])
    });
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(ETAG.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::ETAG, ETAG.as_str()),
        ],
        CSS,
    )
        .into_response()
}

/// 404 for pages: HTML for people; the API gets JSON from its own fallback.
pub async fn not_found(page: Page) -> Response {
    missing(&page)
}

/// The 404 page.
pub(crate) fn missing(page: &Page) -> Response {
    message_page(
        page,
        StatusCode::NOT_FOUND,
        "notfound.title",
        "notfound.body",
    )
}

/// A posted form with nothing but its CSRF token.
#[derive(Deserialize)]
pub(crate) struct EmptyForm {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/account")), "/account");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
