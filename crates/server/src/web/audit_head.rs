//! `/audit`: the audit chain's head, public. It shows the current head and
//! the heads published with each approved settlement, explains how anyone
//! holding an earlier head checks that the log still extends it (so that
//! deleting the newest entries is caught), and checks one on the page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use service::settlement::audit::{self, AuditHead, AuditVerify, PublishedHead};

use crate::state::AppState;
use crate::web::{FormErrors, Page, WebQuery, internal_page};

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(head_page))
}

#[derive(Deserialize, Default)]
struct CheckForm {
    #[serde(default)]
    seq: String,
    #[serde(default)]
    hash: String,
}

pub struct HeadRow {
    pub h: PublishedHead,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit_head.html")]
struct HeadPage {
    page: Page,
    errors: FormErrors,
    head: AuditHead,
    published: Vec<HeadRow>,
    seq: String,
    hash: String,
    checked: Option<AuditVerify>,
}

async fn head_page(
    State(state): State<AppState>,
    mut page: Page,
    WebQuery(f): WebQuery<CheckForm>,
) -> Response {
    let (head, published) = match (
        audit::public_head(&state).await,
        audit::published_heads(&state).await,
    ) {
        (Ok(h), Ok(p)) => (h, p),
        (Err(e), _) | (_, Err(e)) => return internal_page(&page, e),
    };
    let published = published
        .into_iter()
        .map(|h| HeadRow {
            at: h
                .recorded_at
                .with_timezone(&state.config.timezone)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            h,
        })
        .collect();
    let mut errors = FormErrors::default();
    let mut checked = None;
    let (seq, hash) = (f.seq.trim().to_owned(), f.hash.trim().to_owned());
    if !seq.is_empty() || !hash.is_empty() {
        let n = seq.parse::<i64>().ok().filter(|n| *n >= 0);
        if n.is_none() {
            errors.push("seq", page.t("audit.head.bad_seq").to_owned());
        }
        let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex {
            errors.push("hash", page.t("audit.head.bad_hash").to_owned());
        }
        if let (Some(n), true) = (n, hex) {
            match audit::public_verify(&state, n, &hash.to_ascii_lowercase()).await {
                Ok(v) => checked = Some(v),
                Err(e) => return internal_page(&page, e),
            }
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        page.has_errors = true;
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        HeadPage {
            page,
            errors,
            head,
            published,
            seq,
            hash,
            checked,
        },
    )
        .into_response()
}
