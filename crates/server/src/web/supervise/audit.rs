//! `/supervise/audit`: the audit trail with filters as a GET form, page by
//! page, and `/supervise/audit.csv`, the same filtered rows as CSV.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use service::ServiceError;
use service::settlement::audit::AuditItem;
use service::supervise::trail::{self, AuditFilter};

use super::local;
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::SignedIn;
use crate::web::{FormErrors, Page, WebQuery, internal_page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervise/audit", get(trail_page))
        .route("/supervise/audit.csv", get(trail_csv))
}

/// Rows per page.
const PAGE: u64 = 50;

/// The filter form as typed; every field optional.
#[derive(Deserialize, Default, Clone)]
pub struct FilterForm {
    #[serde(default)]
    pub actor_id: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub object_type: String,
    #[serde(default)]
    pub object_id: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub cursor: String,
    #[serde(default)]
    pub format: String,
}

impl FilterForm {
    /// The query string of this filter (no cursor), for the next page's
    /// link and the CSV link.
    fn query(&self) -> String {
        serde_urlencoded::to_string([
            ("actor_id", self.actor_id.trim()),
            ("role", self.role.trim()),
            ("action", self.action.trim()),
            ("object_type", self.object_type.trim()),
            ("object_id", self.object_id.trim()),
            ("from", self.from.trim()),
            ("until", self.until.trim()),
        ])
        .unwrap_or_default()
    }
}

fn text(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The filter, or the errors of the fields that do not parse.
fn parse(page: &Page, state: &AppState, f: &FilterForm) -> Result<AuditFilter, FormErrors> {
    let mut errors = FormErrors::default();
    let mut id = |field: &str, raw: &str| -> Option<i64> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        match raw.parse::<i64>() {
            Ok(v) if v > 0 => Some(v),
            _ => {
                errors.push(field, page.t("supervise.audit.bad_id").to_owned());
                None
            }
        }
    };
    let actor_id = id("actor_id", &f.actor_id);
    let object_id = id("object_id", &f.object_id);
    let role = text(&f.role);
    if let Some(r) = &role
        && r.parse::<domain::Role>().is_err()
    {
        errors.push("role", page.t("supervise.audit.bad_role").to_owned());
    }
    let mut time = |field: &str, raw: &str| {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let t = trail::parse_time(raw, &state.config.timezone);
        if t.is_none() {
            errors.push(field, page.t("supervise.audit.bad_time").to_owned());
        }
        t
    };
    let from = time("from", &f.from);
    let until = time("until", &f.until);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(AuditFilter {
        actor_id,
        actor_role: role,
        action: text(&f.action),
        object_type: text(&f.object_type),
        object_id,
        from,
        until,
    })
}

pub struct Row {
    pub e: AuditItem,
    pub at: String,
    pub short_hash: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervise/audit.html")]
struct TrailPage {
    page: Page,
    errors: FormErrors,
    f: FilterForm,
    rows: Vec<Row>,
    next: Option<String>,
    csv: String,
    roles: Vec<(&'static str, &'static str)>,
}

fn roles() -> Vec<(&'static str, &'static str)> {
    use domain::Role;
    [
        Role::Citizen,
        Role::Isv,
        Role::Department,
        Role::Finance,
        Role::Supervisor,
        Role::Admin,
    ]
    .into_iter()
    .map(|r| (r.as_str(), crate::web::role_key(r)))
    .collect()
}

fn render(
    mut page: Page,
    errors: FormErrors,
    f: FilterForm,
    rows: Vec<Row>,
    next: Option<i64>,
) -> Response {
    let status = page.show_errors(&errors);
    let q = f.query();
    (
        status,
        TrailPage {
            page,
            errors,
            next: next.map(|n| format!("/supervise/audit?{q}&cursor={n}")),
            csv: format!("/supervise/audit.csv?{q}"),
            f,
            rows,
            roles: roles(),
        },
    )
        .into_response()
}

async fn trail_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebQuery(f): WebQuery<FilterForm>,
) -> Response {
    if f.format == "csv" {
        return trail_csv(State(state), who, WebQuery(f)).await;
    }
    let page = who.page;
    let filter = match parse(&page, &state, &f) {
        Ok(filter) => filter,
        Err(errors) => return render(page, errors, f, vec![], None),
    };
    let cursor = f.cursor.trim().parse::<i64>().ok();
    match trail::page(&state, &who.actor, &filter, cursor, PAGE).await {
        Ok(list) => {
            let rows = list
                .items
                .into_iter()
                .map(|e| Row {
                    at: local(&state, e.occurred_at),
                    short_hash: e.hash.chars().take(12).collect(),
                    e,
                })
                .collect();
            render(page, FormErrors::default(), f, rows, list.next)
        }
        Err(ServiceError::Invalid { field, msg }) => {
            let mut errors = FormErrors::default();
            errors.push(&field, page.lang.render(&msg));
            render(page, errors, f, vec![], None)
        }
        Err(e) => internal_page(&page, e),
    }
}

async fn trail_csv(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebQuery(f): WebQuery<FilterForm>,
) -> Response {
    let page = who.page;
    let filter = match parse(&page, &state, &f) {
        Ok(filter) => filter,
        Err(errors) => return render(page, errors, f, vec![], None),
    };
    match trail::export_csv(&state, &who.actor, &filter).await {
        Ok(csv) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", csv.filename),
                ),
            ],
            // A byte-order mark so spreadsheets read the Chinese as UTF-8.
            format!("\u{feff}{}", csv.body),
        )
            .into_response(),
        Err(ServiceError::Invalid { field, msg }) => {
            let mut errors = FormErrors::default();
            errors.push(&field, page.lang.render(&msg));
            render(page, errors, f, vec![], None)
        }
        Err(e) => internal_page(&page, e),
    }
}
