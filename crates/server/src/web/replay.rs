//! A replay's report as a page, for the complaint's handlers and for
//! supervisors reading an app's evidence: the run then and now side by side,
//! and each difference as a sentence.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use service::replay::{Difference, ReplayReport};

use super::Page;

#[derive(Template, WebTemplate)]
#[template(path = "replay.html")]
struct ReplayPage {
    page: Page,
    back_href: String,
    back_key: &'static str,
    r: ReplayReport,
    differences: Vec<String>,
    original_output: String,
    replayed_output: String,
}

fn pretty(output: &Option<serde_json::Value>) -> String {
    output
        .as_ref()
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_else(|| "—".to_owned())
}

fn sentence(page: &Page, d: &Difference) -> String {
    match d {
        Difference::Verdict { original, replayed } => page
            .t("complaints.replay.diff_verdict")
            .replace("{original}", original.as_str())
            .replace("{replayed}", replayed.as_str()),
        Difference::Instructions { original, replayed } => page
            .t("complaints.replay.diff_instructions")
            .replace("{original}", &original.to_string())
            .replace("{replayed}", &replayed.to_string()),
        Difference::Output => page.t("complaints.replay.diff_output").to_owned(),
        Difference::DatasetChanged {
            name,
            version_then,
            version_now,
        } => page
            .t("complaints.replay.diff_dataset")
            .replace("{name}", name)
            .replace("{then}", &version_then.to_string())
            .replace("{now}", &version_now.to_string()),
        Difference::DatasetGone { name } => page
            .t("complaints.replay.diff_dataset_gone")
            .replace("{name}", name),
    }
}

/// The report `r`, with a link back to `back_href` labelled `back_key`.
pub(crate) fn page(
    page: Page,
    r: ReplayReport,
    back_href: String,
    back_key: &'static str,
) -> Response {
    let differences = r.differences.iter().map(|d| sentence(&page, d)).collect();
    ReplayPage {
        original_output: pretty(&r.original.output),
        replayed_output: pretty(&r.replayed.output),
        page,
        back_href,
        back_key,
        differences,
        r,
    }
    .into_response()
}
