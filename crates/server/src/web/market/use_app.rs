//! Using an app: the form drawn from its order's input schema, the posted
//! values parsed and checked all at once, the run and its result.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::Verdict;
use service::ServiceError;
use service::invoke::{InvokeError, check_input, idempotency_key, run_for_citizen, usable};
use service::market::MarketItem;
use service::ratelimit::Action;

use super::{error_page, message_with_back, require_citizen};
use crate::extract::{ClientAddr, RequestId};
use crate::state::AppState;
use crate::web::forms::{Control, Form, Item};
use crate::web::{FormErrors, Page, WebPath, csrf_form, message_page};

#[derive(Template, WebTemplate)]
#[template(path = "market/use.html")]
struct UsePage {
    page: Page,
    errors: FormErrors,
    app: MarketItem,
    form: Form,
    idempotency_key: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "market/result.html")]
struct ResultPage {
    page: Page,
    app: MarketItem,
    /// Escaped by `forms::render_output`.
    output_html: String,
    failed: Option<&'static str>,
    invocation_id: i64,
    latency_ms: u64,
}

/// The listed app with its order's contract, or the page that says why it
/// cannot be used.
#[allow(clippy::result_large_err, reason = "the error is the page to return")]
async fn usable_app(
    state: &AppState,
    page: &Page,
    app_id: i64,
) -> Result<(MarketItem, sandbox::Contract), Response> {
    usable(state, app_id)
        .await
        .map_err(|e| refused(page, e, app_id))
}

/// Why an app cannot be used, as a page.
fn refused(page: &Page, e: ServiceError, app_id: i64) -> Response {
    match e {
        ServiceError::NotFound(_) => message_page(
            page,
            StatusCode::NOT_FOUND,
            "notfound.title",
            "market.app_not_listed",
        ),
        ServiceError::Conflict {
            code: "app_suspended",
            ..
        } => message_with_back(
            page,
            StatusCode::CONFLICT,
            "market.use.suspended",
            "/market",
        ),
        ServiceError::Conflict {
            code: "app_not_published",
            ..
        } => message_with_back(
            page,
            StatusCode::CONFLICT,
            "market.use.not_published",
            "/market",
        ),
        e => error_page(page, e, &format!("/market/apps/{app_id}")),
    }
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(super) async fn use_page(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(app_id): WebPath<i64>,
) -> Response {
    if let Err(r) = require_citizen(&page, &request_id, &format!("/market/apps/{app_id}/use")) {
        return r;
    }
    let (app, contract) = match usable_app(&state, &page, app_id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let form = Form::from_schema(&contract.input_schema, page.lang.catalog());
    UsePage {
        page,
        errors: FormErrors::default(),
        app,
        form,
        idempotency_key: new_key(),
    }
    .into_response()
}

fn use_form_again(
    mut page: Page,
    app: MarketItem,
    mut form: Form,
    posted: &[(String, String)],
    errors: FormErrors,
    key: String,
) -> Response {
    form.fill(posted);
    page.has_errors = true;
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        UsePage {
            page,
            errors,
            app,
            form,
            idempotency_key: key,
        },
    )
        .into_response()
}

pub(super) async fn use_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    ClientAddr(addr): ClientAddr,
    WebPath(app_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let actor = match require_citizen(&page, &request_id, &format!("/market/apps/{app_id}/use")) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let posted: Vec<(String, String)> = match csrf_form(&state, &page, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let back = format!("/market/apps/{app_id}");
    if let Err(e) = state.rate_limits.check(Action::Invoke, actor.id(), addr) {
        return error_page(&page, e, &back);
    }
    let (app, contract) = match usable_app(&state, &page, app_id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The key was made when the form was drawn: submitting the same form
    // twice records one use. A missing or mangled key gets a fresh one.
    let key = posted
        .iter()
        .find(|(k, _)| k == "idempotency_key")
        .and_then(|(_, v)| idempotency_key(v))
        .map_or_else(new_key, str::to_owned);
    let catalog = page.lang.catalog();
    let form = Form::from_schema(&contract.input_schema, catalog);
    let (input, mut errors) = form.parse(&posted, catalog);
    if !errors.is_empty() {
        // Say everything that is wrong at once, not one round trip each.
        if let Ok(schemas) = contract.schemas()
            && let Err(more) = check_input(&schemas, &input)
        {
            form.schema_errors(&more.0, catalog, &mut errors);
        }
        return use_form_again(page, app, form, &posted, errors, key);
    }
    match run_for_citizen(&state, &actor, app_id, input, Some(key.clone())).await {
        Ok(done) => {
            let (output_html, failed) = match &done.output {
                Some(out) => (
                    crate::web::forms::render_output(&contract.output_schema, out, catalog),
                    None,
                ),
                None => (
                    String::new(),
                    Some(if done.verdict == Verdict::TimeLimitExceeded {
                        "market.use.too_slow"
                    } else {
                        "market.use.failed"
                    }),
                ),
            };
            ResultPage {
                page,
                app,
                output_html,
                failed,
                invocation_id: done.invocation_id,
                latency_ms: done.latency_us / 1000,
            }
            .into_response()
        }
        Err(InvokeError::Input(errs)) => {
            let mut errors = FormErrors::default();
            form.schema_errors(&errs.0, catalog, &mut errors);
            use_form_again(page, app, form, &posted, errors, key)
        }
        Err(InvokeError::Service(e)) => refused(&page, e, app_id),
    }
}
