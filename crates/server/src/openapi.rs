//! The OpenAPI document, generated from the handlers' annotations, and the
//! data behind the readable API reference page.

use std::sync::LazyLock;

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::api;
use crate::error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "govmarket API",
        description = "政务应用市场 / government service app market. JSON under /api/v1; \
                       errors are {\"error\": {\"code\", \"message\", \"field\"?}}; \
                       money fields are integer fen named *_fen; lists are {\"items\", \"next\"}."
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
struct ApiDoc;

/// Every API module's own document; each module lists its paths, schemas
/// and tag next to its handlers, and adds one line here.
fn modules() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        api::auth::AuthApi::openapi(),
        api::audit::AuditApi::openapi(),
        api::market::MarketApi::openapi(),
        api::invoke::InvokeApi::openapi(),
        api::ratings::RatingsApi::openapi(),
        api::public_apps::PublicAppsApi::openapi(),
        api::settlements::SettlementsApi::openapi(),
        api::public_settlements::PublicSettlementsApi::openapi(),
        api::orders::OrdersApi::openapi(),
        api::questions::QuestionsApi::openapi(),
        api::apps::AppsApi::openapi(),
        api::notifications::NotificationsApi::openapi(),
    ]
}

static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
    let mut doc = ApiDoc::openapi();
    for m in modules() {
        doc.merge(m);
    }
    if let Some(components) = doc.components.as_mut() {
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
    serde_json::to_value(&doc).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialise the OpenAPI document");
        serde_json::Value::Null
    })
});

pub fn spec() -> &'static serde_json::Value {
    &DOCUMENT
}

/// `GET /api/v1/openapi.json`
pub async fn document() -> Json<serde_json::Value> {
    Json(spec().clone())
}

/// One row of the reference page.
#[derive(Debug, Clone)]
pub struct OperationRow {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub roles: String,
    pub responses: String,
}

#[derive(Debug, Clone)]
pub struct OperationGroup {
    pub name: String,
    pub anchor: String,
    pub ops: Vec<OperationRow>,
}

/// The document grouped by tag, for the HTML reference.
pub fn groups() -> Vec<OperationGroup> {
    let mut groups: Vec<OperationGroup> = vec![];
    let Some(paths) = spec().get("paths").and_then(|p| p.as_object()) else {
        return groups;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let tag = op
                .pointer("/tags/0")
                .and_then(|t| t.as_str())
                .unwrap_or("other")
                .to_owned();
            let summary = op
                .get("summary")
                .or_else(|| op.get("description"))
                .and_then(|s| s.as_str())
                .unwrap_or("")
                .to_owned();
            let responses = op
                .get("responses")
                .and_then(|r| r.as_object())
                .map(|r| r.keys().cloned().collect::<Vec<_>>().join(" · "))
                .unwrap_or_default();
            let roles = if op.get("security").is_some() {
                "Authorization: Bearer".to_owned()
            } else {
                String::new()
            };
            let row = OperationRow {
                method: method.to_uppercase(),
                path: path.clone(),
                summary,
                roles,
                responses,
            };
            match groups.iter_mut().find(|g| g.name == tag) {
                Some(g) => g.ops.push(row),
                None => groups.push(OperationGroup {
                    anchor: format!("tag-{tag}"),
                    name: tag,
                    ops: vec![row],
                }),
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_the_contract_paths_with_bearer_security() {
        let doc = spec();
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.")),
            Some(true)
        );
        for p in [
            "/api/v1/auth/register",
            "/api/v1/auth/login",
            "/api/v1/me",
            "/api/v1/audit/verify",
        ] {
            assert!(doc["paths"].get(p).is_some(), "missing {p}");
        }
        assert!(doc.pointer("/components/securitySchemes/bearer").is_some());
        assert!(doc.pointer("/components/schemas/RegisterRequest").is_some());
    }

    #[test]
    fn the_reference_page_groups_operations_by_tag() {
        let g = groups();
        let auth = g.iter().find(|g| g.name == "auth").expect("auth group");
        assert!(
            auth.ops
                .iter()
                .any(|o| o.method == "POST" && o.path == "/api/v1/auth/login")
        );
    }
}
