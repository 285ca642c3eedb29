//! Departments' pages: their orders (drafts included), authoring a draft,
//! datasets, test cases, publishing and closing, and answering questions.
//!
//! Every state change goes through the use cases of `service::orders`
//! (`create`, `put_suite`, `put_dataset`, …), so a page can never accept
//! what the API refuses. What the pages add is checking each field first,
//! so that every problem is reported beside its field in the reader's
//! language, and nothing is written until all of them are fixed.
//!
//! - `list`: the department's orders;
//! - `form`: the draft form (new and edit);
//! - `order`: one order's page, which the other forms show again with their errors;
//! - `lifecycle`: publish, close, cancel;
//! - `datasets`, `cases`, `questions`: the order page's forms.

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use domain::OrderStatus;
use serde::Deserialize;
use service::{Actor, ServiceError};
use store::entity::orders;

use super::extract::SignedIn;
use super::{FormErrors, Page, internal_page, message_page};
use crate::auth::{RoleSet, roles};
use crate::state::AppState;

mod cases;
mod datasets;
mod form;
mod lifecycle;
mod list;
mod order;
mod questions;
mod rules;

/// The multipart envelope around a dataset (boundaries, the other fields)
/// is small; this leaves room for it above the dataset cap itself.
const UPLOAD_BODY_LIMIT: usize = service::orders::MAX_DATASET_BYTES + (64 << 10);

const MIB: u64 = 1 << 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dept/orders", get(list::list_page))
        .route(
            "/dept/orders/new",
            get(form::new_page).post(form::new_submit),
        )
        .route("/dept/orders/{id}", get(order::order_page))
        .route(
            "/dept/orders/{id}/edit",
            get(form::edit_page).post(form::edit_submit),
        )
        .route("/dept/orders/{id}/publish", post(lifecycle::publish_submit))
        .route("/dept/orders/{id}/close", post(lifecycle::close_submit))
        .route("/dept/orders/{id}/cancel", post(lifecycle::cancel_submit))
        .route(
            "/dept/orders/{id}/datasets",
            post(datasets::dataset_submit).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/dept/orders/{id}/cases", post(cases::case_submit))
        .route("/dept/orders/{id}/rules", post(rules::rules_submit))
        .route(
            "/dept/questions/{id}/answer",
            post(questions::answer_submit),
        )
}

// ------------------------------------------------------------ who and which order

/// A signed-in department user on the desk. Signed-out visitors go to sign
/// in (and come back); other roles, and department accounts of no
/// department, get the desk's own 403 page.
pub struct Desk {
    pub page: Page,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Desk {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let SignedIn {
            page,
            current,
            actor,
            ..
        } = SignedIn::<roles::DeskStaff>::from_request_parts(parts, state).await?;
        if current.user.org_id.is_none() {
            return Err(message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                roles::DeskStaff::FORBIDDEN_KEY,
            ));
        }
        Ok(Desk { page, actor })
    }
}

/// The order if it is this department's; else the page to show: another
/// department's draft does not exist (404), its published order is not
/// this department's to change (403).
async fn own_order(
    state: &AppState,
    page: &Page,
    actor: &Actor,
    id: i64,
) -> Result<orders::Model, Response> {
    match service::orders::desk_order(state, actor, id).await {
        Ok(o) => Ok(o),
        Err(ServiceError::Forbidden(_)) => Err(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "dept.not_yours",
        )),
        Err(ServiceError::NotFound(_)) => Err(super::missing(page)),
        Err(e) => Err(internal_page(page, e)),
    }
}

fn order_status(order: &orders::Model) -> OrderStatus {
    // A status the domain does not know cannot be acted on: treat it as
    // cancelled, which offers no action.
    order.status.parse().unwrap_or(OrderStatus::Cancelled)
}

/// Where a use case's error goes on a form: beside `field`, in the page's
/// language.
fn refusal(page: &Page, errors: &mut FormErrors, field: &str, e: &ServiceError) {
    errors.push(field, page.lang.error_message(e));
}

fn date_in(tz: chrono_tz::Tz, t: &DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

fn time_in(tz: chrono_tz::Tz, t: &DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

// ------------------------------------------------------------ fields

/// One form field as the page shows it.
pub struct FieldView {
    pub name: String,
    pub label: &'static str,
    pub hint: &'static str,
    /// Appended to the hint (a platform cap, which is configuration).
    pub hint_extra: String,
    pub value: String,
    pub error: Option<String>,
    /// Lines of a textarea; 0 for a one-line input.
    pub rows: u32,
    pub kind: &'static str,
    pub inputmode: &'static str,
    pub class: &'static str,
}

impl FieldView {
    fn new(name: &str, label: &'static str, value: &str, errors: &FormErrors) -> Self {
        FieldView {
            name: name.to_owned(),
            label,
            hint: "",
            hint_extra: String::new(),
            value: value.to_owned(),
            error: errors.get(name).map(str::to_owned),
            rows: 0,
            kind: "text",
            inputmode: "",
            class: "",
        }
    }
    fn hint(mut self, key: &'static str) -> Self {
        self.hint = key;
        self
    }
    fn extra(mut self, text: String) -> Self {
        self.hint_extra = text;
        self
    }
    fn rows(mut self, rows: u32) -> Self {
        self.rows = rows;
        self
    }
    fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }
    fn numeric(mut self, mode: &'static str) -> Self {
        self.inputmode = mode;
        self.class = "dept-input-short";
        self
    }
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

/// The confirmation shown after a redirect (`?done=…`).
fn flash(page: &mut Page, done: Option<&str>) {
    let key = match done {
        Some("created") => "dept.done.created",
        Some("updated") => "dept.done.updated",
        Some("published") => "dept.done.published",
        Some("closed") => "dept.done.closed",
        Some("cancelled") => "dept.done.cancelled",
        Some("dataset") => "dept.done.dataset",
        Some("case") => "dept.done.case",
        Some("case_regression") => "dept.done.case_regression",
        Some("answered") => "dept.done.answered",
        Some("rules") => "dept.done.rules",
        _ => return,
    };
    page.flash = page.t(key).to_owned();
}

#[cfg(test)]
mod tests {
    use crate::i18n::Lang;

    #[test]
    fn every_message_key_the_dept_pages_build_exists_in_both_languages() {
        let sources = [
            include_str!("./mod.rs"),
            include_str!("./list.rs"),
            include_str!("./form.rs"),
            include_str!("./order.rs"),
            include_str!("./lifecycle.rs"),
            include_str!("./datasets.rs"),
            include_str!("./cases.rs"),
            include_str!("./questions.rs"),
        ];
        let mut keys = std::collections::BTreeSet::new();
        for src in sources {
            for (i, _) in src.match_indices("\"dept.") {
                let rest = &src[i + 1..];
                if let Some(end) = rest.find('"')
                    && !rest[..end].ends_with('.')
                {
                    keys.insert(&rest[..end]);
                }
            }
        }
        assert!(keys.len() > 30, "{keys:?}");
        for lang in [Lang::ZhCn, Lang::En] {
            for k in &keys {
                // The catalogue answers the key itself when it has no message.
                assert_ne!(lang.catalog().t(k), *k, "{} lacks {k}", lang.code());
            }
        }
    }
}
