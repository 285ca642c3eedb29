//! Signing in, registering, signing out, and the account page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::extract::{CsrfForm, SignedIn};
use super::{EmptyForm, FormErrors, NextQuery, Page, WebQuery, internal_page, role_key, safe_next};
use crate::auth::{SESSION_COOKIE, roles};
use crate::extract::RequestId;
use crate::state::AppState;
use service::ServiceError;
use service::accounts::{self, AccountError, Registration};
use service::sessions;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login_submit))
        .route("/register", get(register_form).post(register_submit))
        .route("/logout", post(logout))
        .route("/account", get(account))
        .route("/account/data", get(my_data))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    errors: FormErrors,
    email: String,
    next: String,
}

async fn login_form(page: Page, WebQuery(q): WebQuery<NextQuery>) -> impl IntoResponse {
    LoginPage {
        page,
        errors: FormErrors::default(),
        email: String::new(),
        next: safe_next(q.next.as_deref()),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn session_cookie(state: &AppState, token: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    // Lax, not Strict: a signed-in user following a link from elsewhere
    // should arrive signed in; state changes are guarded by CSRF tokens.
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("gm_session=; Path=/; Max-Age=0"))
}

async fn login_submit(
    State(state): State<AppState>,
    request_id: crate::extract::RequestId,
    crate::extract::ClientAddr(addr): crate::extract::ClientAddr,
    mut page: Page,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let mut errors = FormErrors::default();
    if form.email.trim().is_empty() {
        errors.push("email", page.t("login.email_required"));
    }
    if form.password.is_empty() {
        errors.push("password", page.t("login.password_required"));
    }
    if errors.is_empty() {
        let actor = service::Actor::anonymous(request_id.as_option());
        match sessions::login(&state.db, &state.keys, &actor, &form.email, &form.password).await {
            Ok(session) => {
                service::client_address::remember(&state, session.user.id, addr).await;
                let mut resp = Redirect::to(&next).into_response();
                resp.headers_mut().append(
                    header::SET_COOKIE,
                    session_cookie(&state, &session.token, state.keys.ttl().as_secs()),
                );
                return resp;
            }
            Err(ServiceError::Unauthenticated(_)) => errors.push("email", page.t("login.failed")),
            Err(e) => return internal_page(&page, e),
        }
    }
    page.has_errors = true;
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        LoginPage {
            page,
            errors,
            email: form.email,
            next,
        },
    )
        .into_response()
}

async fn logout(
    State(state): State<AppState>,
    request_id: crate::extract::RequestId,
    page: Page,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    if let Some(current) = &page.current
        && let Err(e) = sessions::sign_out(&state.db, &current.actor(&request_id)).await
    {
        tracing::error!(error = %e.into_anyhow(), "sign-out not audited");
    }
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&state, "", 0));
    resp
}

/// One text input of a form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
struct RegisterPage {
    page: Page,
    errors: FormErrors,
    role: String,
    fields: Vec<Field>,
}

#[derive(Deserialize, Default)]
struct RegisterForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    id_number: Option<String>,
    org_name: Option<String>,
    credit_code: Option<String>,
}

fn register_fields(f: &RegisterForm) -> Vec<Field> {
    let field = |name, label, hint, kind, autocomplete, value: &str| Field {
        name,
        label,
        hint,
        kind,
        autocomplete,
        value: value.to_owned(),
    };
    vec![
        field(
            "display_name",
            "register.display_name",
            "",
            "text",
            "name",
            &f.display_name,
        ),
        field("email", "register.email", "", "email", "email", &f.email),
        // never echo a password back into the page
        field(
            "password",
            "register.password",
            "register.password_hint",
            "password",
            "new-password",
            "",
        ),
        field(
            "id_number",
            "register.id_number",
            "register.id_number_hint",
            "text",
            "off",
            f.id_number.as_deref().unwrap_or(""),
        ),
        field(
            "org_name",
            "register.org_name",
            "register.org_name_hint",
            "text",
            "organization",
            f.org_name.as_deref().unwrap_or(""),
        ),
        field(
            "credit_code",
            "register.credit_code",
            "register.credit_code_hint",
            "text",
            "off",
            f.credit_code.as_deref().unwrap_or(""),
        ),
    ]
}

async fn register_form(page: Page) -> impl IntoResponse {
    let form = RegisterForm {
        role: "citizen".into(),
        ..Default::default()
    };
    RegisterPage {
        page,
        errors: FormErrors::default(),
        fields: register_fields(&form),
        role: form.role,
    }
}

async fn register_submit(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    crate::extract::ClientAddr(addr): crate::extract::ClientAddr,
    mut page: Page,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Response {
    let reg = Registration {
        email: form.email.clone(),
        password: form.password.clone(),
        display_name: form.display_name.clone(),
        role: form.role.clone(),
        id_number: form.id_number.clone(),
        org_name: form.org_name.clone(),
        credit_code: form.credit_code.clone(),
    };
    let errors = match accounts::register(&state.db, reg, request_id).await {
        Ok(user) => {
            service::client_address::remember(&state, user.id, addr).await;
            return match state.keys.issue(user.id, user.role) {
                Ok((token, _)) => {
                    let mut resp = Redirect::to("/?done=registered").into_response();
                    resp.headers_mut().append(
                        header::SET_COOKIE,
                        session_cookie(&state, &token, state.keys.ttl().as_secs()),
                    );
                    resp
                }
                Err(e) => internal_page(&page, e),
            };
        }
        Err(AccountError::Invalid(errs)) => FormErrors::from_fields(page.lang, errs),
        Err(AccountError::Taken(f)) => FormErrors::from_fields(page.lang, vec![f]),
        Err(AccountError::Other(e)) => return internal_page(&page, e),
    };
    page.has_errors = true;
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        RegisterPage {
            page,
            errors,
            fields: register_fields(&form),
            role: form.role,
        },
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    page: Page,
    display_name: String,
    email: String,
    role_key: &'static str,
    is_citizen: bool,
    id_number: String,
    org_name: String,
    since: String,
    notices: Vec<NoticeRow>,
    unread: u64,
}

/// One notification as the account page lists it.
struct NoticeRow {
    when: String,
    body: String,
    link: String,
    unread: bool,
}

async fn account(State(state): State<AppState>, who: SignedIn<roles::Anyone>) -> Response {
    let SignedIn {
        page,
        current,
        actor,
        ..
    } = who;
    let view = match service::accounts::profile(&state.db, &current.user).await {
        Ok(v) => v,
        Err(e) => return internal_page(&page, e),
    };
    let since = view
        .created_at
        .with_timezone(&state.config.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let list = match service::notifications::list(&state, &actor, 20).await {
        Ok(l) => l,
        Err(e) => return internal_page(&page, e),
    };
    let notices = list
        .items
        .into_iter()
        .map(|n| NoticeRow {
            when: n
                .created_at
                .with_timezone(&state.config.timezone)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            body: n.body,
            link: n.link.unwrap_or_default(),
            unread: n.read_at.is_none(),
        })
        .collect();
    AccountPage {
        page,
        display_name: view.display_name,
        email: view.email,
        role_key: role_key(current.user.role),
        is_citizen: current.user.role == domain::Role::Citizen,
        id_number: view.id_number.unwrap_or_default(),
        org_name: view.org_name.unwrap_or_default(),
        since,
        notices,
        unread: list.unread,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "my_data.html")]
struct MyDataPage {
    page: Page,
    rows: Vec<AccessLine>,
}

/// One line of the table: an access, or an invocation that read nothing.
struct AccessLine {
    when: String,
    /// Set on an invocation's first line: the link to complain about it.
    complain: Option<i64>,
    app_id: i64,
    app_name: String,
    verdict_key: &'static str,
    dataset: String,
    record: String,
    outcome_key: String,
    refused: bool,
}

/// "My data" (我的数据): what apps read or were refused on the citizen's behalf.
async fn my_data(State(state): State<AppState>, who: SignedIn<roles::Citizen>) -> Response {
    let SignedIn { page, actor, .. } = who;
    let data = match service::mydata::my_data(&state, &actor).await {
        Ok(d) => d,
        Err(e) => return internal_page(&page, e),
    };
    let mut rows = Vec::new();
    for inv in data.invocations {
        let when = inv
            .occurred_at
            .with_timezone(&state.config.timezone)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let line =
            |dataset: String, record: String, outcome: Option<service::mydata::AccessOutcome>| {
                AccessLine {
                    when: when.clone(),
                    complain: None,
                    app_id: inv.app_id,
                    app_name: inv.app_name.clone(),
                    verdict_key: if inv.verdict == domain::Verdict::Accepted {
                        "mydata.verdict.accepted"
                    } else {
                        "mydata.verdict.failed"
                    },
                    dataset,
                    record,
                    outcome_key: outcome.map_or_else(
                        || "mydata.outcome.none".to_owned(),
                        |o| format!("mydata.outcome.{}", o.as_str()),
                    ),
                    refused: outcome == Some(service::mydata::AccessOutcome::Refused),
                }
            };
        let first = rows.len();
        if inv.accesses.is_empty() {
            rows.push(line(String::new(), String::new(), None));
        }
        for a in &inv.accesses {
            rows.push(line(a.dataset.clone(), a.record.clone(), Some(a.outcome)));
        }
        rows[first].complain = Some(inv.invocation_id);
    }
    MyDataPage { page, rows }.into_response()
}
