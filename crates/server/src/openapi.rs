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
    // `Sort` is a query parameter's type: utoipa refers to it by name
    // without collecting it from the IntoParams derive.
    components(schemas(ErrorBody, ErrorDetail, service::market::Sort))
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
        api::complaints::ComplaintsApi::openapi(),
        api::public_apps::PublicAppsApi::openapi(),
        api::settlements::SettlementsApi::openapi(),
        api::public_settlements::PublicSettlementsApi::openapi(),
        api::orders::OrdersApi::openapi(),
        api::questions::QuestionsApi::openapi(),
        api::apps::AppsApi::openapi(),
        api::notifications::NotificationsApi::openapi(),
        api::me::MeApi::openapi(),
        api::evidence::EvidenceApi::openapi(),
        api::supervise::SuperviseApi::openapi(),
        api::signals::SignalsApi::openapi(),
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
    let mut doc = serde_json::to_value(&doc).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialise the OpenAPI document");
        serde_json::Value::Null
    });
    complete(&mut doc);
    doc
});

/// utoipa names an operation after its handler, and several areas have a
/// `list` or a `get`: an operation id shared by two operations is prefixed
/// with its tag (`orders_list`), which generated clients use as the method
/// name.
fn unique_operation_ids(doc: &mut serde_json::Value) {
    use std::collections::HashMap;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) else {
        return;
    };
    for item in paths.values() {
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                *seen.entry(id.to_owned()).or_default() += 1;
            }
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let Some(id) = op.get("operationId").and_then(|v| v.as_str()) else {
                continue;
            };
            if seen.get(id).copied().unwrap_or(0) > 1 {
                let tag = op
                    .get("tags")
                    .and_then(|t| t.get(0))
                    .and_then(|t| t.as_str())
                    .unwrap_or("api");
                let renamed = format!("{tag}_{id}");
                op.insert("operationId".into(), serde_json::Value::String(renamed));
            }
        }
    }
}

/// What OpenAPI 3.1 requires and the annotations leave implicit, filled
/// in once for every operation rather than repeated on each handler: each
/// `{name}` of a path is a declared, required path parameter (`id`s are
/// integers, other names strings), and each response has a description
/// (its status's reason phrase unless the annotation gave one).
fn complete(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    unique_operation_ids(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let names: Vec<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let params = op
                .entry("parameters")
                .or_insert_with(|| Value::Array(vec![]));
            if let Some(params) = params.as_array_mut() {
                for name in &names {
                    let declared = params.iter().any(|p| {
                        p.get("in") == Some(&json!("path")) && p.get("name") == Some(&json!(name))
                    });
                    if !declared {
                        let schema = if name.ends_with("id") {
                            json!({"type": "integer", "format": "int64"})
                        } else {
                            json!({"type": "string"})
                        };
                        params.push(json!({
                            "name": name,
                            "in": "path",
                            "required": true,
                            "schema": schema,
                        }));
                    }
                }
                if params.is_empty() {
                    op.remove("parameters");
                }
            }
            // An operation without a security requirement is public: say
            // so (`security: []`), rather than leave clients to guess.
            op.entry("security").or_insert_with(|| Value::Array(vec![]));
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                for (status, response) in responses.iter_mut() {
                    let Some(response) = response.as_object_mut() else {
                        continue;
                    };
                    if status == "429" {
                        response.insert("headers".into(), rate_limit_headers());
                    }
                    if !response.contains_key("description") && !response.contains_key("$ref") {
                        let reason = status
                            .parse::<u16>()
                            .ok()
                            .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                            .and_then(|s| s.canonical_reason())
                            .unwrap_or("Response");
                        response.insert("description".into(), json!(reason));
                    }
                }
            }
        }
    }
}

/// What every 429 carries (`ApiError::too_many_requests` sends both).
fn rate_limit_headers() -> serde_json::Value {
    serde_json::json!({
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": true,
            "schema": {"type": "integer", "minimum": 1},
        },
        "RateLimit": {
            "description": "The quota's state (IETF draft-ietf-httpapi-ratelimit-headers): \
                            nothing remains (`r=0`) until it resets in `t` seconds.",
            "required": true,
            "schema": {"type": "string"},
            "example": "\"default\";r=0;t=30",
        },
    })
}

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
            let secured = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| !s.is_empty());
            let roles = if secured {
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
        // The validator refuses a tag declared twice (one per OpenApi struct).
        let tags: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        let unique: std::collections::BTreeSet<&&str> = tags.iter().collect();
        assert_eq!(unique.len(), tags.len(), "a tag declared twice: {tags:?}");
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

    /// What an OpenAPI 3.1 tool refuses (CI also runs openapi-spec-validator
    /// on the served document): undeclared path parameters, responses
    /// without a description, references to schemas that do not exist.
    #[test]
    fn every_path_parameter_is_declared_every_response_described_every_reference_resolved() {
        let doc = spec();
        let mut problems = vec![];
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                for seg in path.split('/') {
                    let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                        continue;
                    };
                    let declared = op["parameters"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| {
                            p["in"] == "path" && p["name"] == name && p["required"] == true
                        })
                    });
                    if !declared {
                        problems.push(format!("{method} {path}: path parameter {name}"));
                    }
                }
                for (status, r) in op["responses"].as_object().expect("responses") {
                    if r.get("description").is_none() {
                        problems.push(format!("{method} {path}: {status} has no description"));
                    }
                }
            }
        }
        let text = doc.to_string();
        for (i, _) in text.match_indices("#/components/schemas/") {
            let rest = &text[i + "#/components/schemas/".len()..];
            let name = &rest[..rest.find('"').unwrap_or(rest.len())];
            if doc["components"]["schemas"].get(name).is_none() {
                problems.push(format!("dangling reference to schema {name}"));
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("path item").values() {
                if let Some(id) = op["operationId"].as_str()
                    && !ids.insert(id)
                {
                    problems.push(format!("operationId {id} is used twice"));
                }
            }
        }
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap_or("");
                    if p["in"] == "path" && !path.contains(&format!("{{{name}}}")) {
                        problems.push(format!("{method} {path}: {name} is no path parameter"));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// Every operation of the document, as (method, path, operation).
    fn operations() -> Vec<(&'static str, &'static str, &'static serde_json::Value)> {
        let mut out = vec![];
        for (path, item) in spec()["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                out.push((method.as_str(), path.as_str(), op));
            }
        }
        out
    }

    /// A `$ref` to a schema, followed once.
    fn resolve(schema: &serde_json::Value) -> &serde_json::Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                &spec()["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    /// Lists are `{"items", "next"}`: no success response is a bare array,
    /// and every object with an `items` array has a `next`.
    #[test]
    fn every_list_is_items_and_next() {
        let mut problems = vec![];
        let mut lists = 0;
        for (method, path, op) in operations() {
            for (status, r) in op["responses"].as_object().expect("responses") {
                if !status.starts_with('2') {
                    continue;
                }
                let Some(schema) = r.pointer("/content/application~1json/schema") else {
                    continue;
                };
                let schema = resolve(schema);
                if schema["type"] == "array" {
                    problems.push(format!("{method} {path}: {status} is a bare array"));
                }
                if schema["properties"]["items"]["type"] == "array" {
                    lists += 1;
                    if schema["properties"].get("next").is_none() {
                        problems.push(format!("{method} {path}: a list without next"));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(
            lists >= 10,
            "only {lists} lists found: the reader is broken"
        );
    }

    /// A 429 says when to come back: `Retry-After` and `RateLimit`.
    #[test]
    fn every_rate_limited_response_documents_its_headers() {
        let mut limited = 0;
        for (method, path, op) in operations() {
            let Some(r) = op["responses"].get("429") else {
                continue;
            };
            limited += 1;
            for h in ["Retry-After", "RateLimit"] {
                assert!(
                    r["headers"][h]["schema"].is_object(),
                    "{method} {path}: 429 without {h}"
                );
            }
            assert_eq!(
                r["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody"
            );
        }
        assert!(limited >= 3, "only {limited} rate-limited operations");
        // invoking an app and rating it are limited
        for path in ["/api/v1/apps/{id}/invoke", "/api/v1/apps/{id}/rating"] {
            let item = &spec()["paths"][path];
            assert!(
                item.as_object()
                    .expect(path)
                    .values()
                    .any(|op| op["responses"].get("429").is_some()),
                "{path} documents no 429"
            );
        }
    }

    /// The operations that honour `Idempotency-Key` (the server reads it in
    /// `api::invoke` only) document it as an optional header.
    #[test]
    fn idempotency_key_is_documented_where_it_is_accepted() {
        const ACCEPTS: &[(&str, &str)] = &[("post", "/api/v1/apps/{id}/invoke")];
        for (method, path, op) in operations() {
            let header = op["parameters"].as_array().into_iter().flatten().find(|p| {
                p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case("idempotency-key"))
            });
            if ACCEPTS.contains(&(method, path)) {
                let header =
                    header.unwrap_or_else(|| panic!("{method} {path}: no Idempotency-Key"));
                assert_eq!(header["in"], "header");
                assert_ne!(header["required"], true);
            } else {
                assert!(
                    header.is_none(),
                    "{method} {path} documents an Idempotency-Key it ignores"
                );
            }
        }
        let invoke = include_str!("api/invoke.rs");
        assert!(
            invoke.contains("\"idempotency-key\""),
            "the invoke handler no longer reads the header"
        );
    }

    /// Bearer tokens for the signed-in operations; the public ones are
    /// marked `security: []`; nothing else.
    #[test]
    fn every_operation_states_its_security() {
        assert_eq!(
            spec()["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let mut public = vec![];
        for (method, path, op) in operations() {
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path}: no security"));
            for req in security {
                let keys: Vec<&String> = req.as_object().expect("requirement").keys().collect();
                assert_eq!(keys, ["bearer"], "{method} {path}");
            }
            if security.is_empty() {
                public.push(format!("{method} {path}"));
            }
        }
        for p in [
            "post /api/v1/auth/login",
            "get /api/v1/market",
            "get /api/v1/public/settlements",
        ] {
            assert!(
                public.iter().any(|x| x == p),
                "{p} is not public: {public:?}"
            );
        }
        assert!(!public.iter().any(|x| x == "get /api/v1/me"), "{public:?}");
        assert!(
            !public.iter().any(|x| x == "post /api/v1/apps/{id}/invoke"),
            "{public:?}"
        );
    }

    /// The upload is `multipart/form-data` with its three parts.
    #[test]
    fn the_upload_documents_its_multipart_parts() {
        let body = &spec()["paths"]["/api/v1/orders/{id}/apps"]["post"]["requestBody"];
        let schema = resolve(&body["content"]["multipart/form-data"]["schema"]);
        let props = &schema["properties"];
        assert_eq!(props["wasm"]["type"], "string", "{schema}");
        assert!(props["name"].is_object(), "{schema}");
        assert!(props["release_notes"].is_object(), "{schema}");
        let required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required parts")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(
            required.contains(&"wasm") && required.contains(&"name"),
            "{required:?}"
        );
        assert!(!required.contains(&"release_notes"), "{required:?}");
    }

    /// Every example in the document has the type its schema declares (a
    /// structural check; openapi-spec-validator in CI checks the rest).
    #[test]
    fn every_example_has_its_schema_type() {
        fn json_type(v: &serde_json::Value) -> &'static str {
            match v {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "boolean",
                serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                serde_json::Value::Number(_) => "number",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Array(_) => "array",
                serde_json::Value::Object(_) => "object",
            }
        }
        fn walk(v: &serde_json::Value, at: &str, problems: &mut Vec<String>, seen: &mut usize) {
            match v {
                serde_json::Value::Object(map) => {
                    let schema = map.get("schema").unwrap_or(v);
                    if let (Some(example), Some(ty)) = (map.get("example"), schema.get("type")) {
                        *seen += 1;
                        let actual = json_type(example);
                        let allowed: Vec<&str> = match ty {
                            serde_json::Value::Array(ts) => {
                                ts.iter().filter_map(|t| t.as_str()).collect()
                            }
                            t => t.as_str().into_iter().collect(),
                        };
                        let fits = allowed.contains(&actual)
                            || (actual == "integer" && allowed.contains(&"number"));
                        if !fits {
                            problems.push(format!("{at}: example {example} is no {ty}"));
                        }
                    }
                    for (k, child) in map {
                        walk(child, &format!("{at}/{k}"), problems, seen);
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        walk(child, &format!("{at}/{i}"), problems, seen);
                    }
                }
                _ => {}
            }
        }
        let mut problems = vec![];
        let mut seen = 0;
        walk(spec(), "", &mut problems, &mut seen);
        assert!(problems.is_empty(), "{problems:#?}");
        // at least the RateLimit header's example is checked
        assert!(seen >= 1);
    }

    /// `/docs/api` is built from this same document: every operation is a
    /// row, and only the signed-in ones say they need a bearer token.
    #[test]
    fn the_reference_page_reads_the_document() {
        let rows: Vec<OperationRow> = groups().into_iter().flat_map(|g| g.ops).collect();
        assert_eq!(rows.len(), operations().len());
        let login = rows
            .iter()
            .find(|o| o.path == "/api/v1/auth/login")
            .expect("login row");
        assert!(login.roles.is_empty(), "{login:?}");
        let me = rows
            .iter()
            .find(|o| o.path == "/api/v1/me")
            .expect("me row");
        assert_eq!(me.roles, "Authorization: Bearer");
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

    /// Every route the API modules declare, as (METHOD, /api/v1 path). axum
    /// cannot list a router's routes, so this reads the `.route(…)` calls
    /// of the modules' sources; it refuses a call it cannot read, so a new
    /// style of declaration fails here rather than slipping past.
    fn declared_routes() -> Vec<(String, String)> {
        const SOURCES: &[(&str, &str)] = &[
            ("apps.rs", include_str!("api/apps.rs")),
            ("audit.rs", include_str!("api/audit.rs")),
            ("auth.rs", include_str!("api/auth.rs")),
            ("complaints.rs", include_str!("api/complaints.rs")),
            ("evidence.rs", include_str!("api/evidence.rs")),
            ("invoke.rs", include_str!("api/invoke.rs")),
            ("market.rs", include_str!("api/market.rs")),
            ("me.rs", include_str!("api/me.rs")),
            ("mod.rs", include_str!("api/mod.rs")),
            ("notifications.rs", include_str!("api/notifications.rs")),
            ("orders.rs", include_str!("api/orders.rs")),
            ("public_apps.rs", include_str!("api/public_apps.rs")),
            (
                "public_settlements.rs",
                include_str!("api/public_settlements.rs"),
            ),
            ("questions.rs", include_str!("api/questions.rs")),
            ("ratings.rs", include_str!("api/ratings.rs")),
            ("settlements.rs", include_str!("api/settlements.rs")),
            ("signals.rs", include_str!("api/signals.rs")),
            ("supervise.rs", include_str!("api/supervise.rs")),
        ];
        let mut out = vec![];
        for (file, src) in SOURCES {
            let code: String = src
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            let mut rest = code.as_str();
            while let Some(at) = rest.find(".route(") {
                let call = &rest[at + ".route(".len()..];
                // the call's arguments, up to its closing parenthesis
                let mut depth = 1;
                let end = call
                    .char_indices()
                    .find(|&(_, c)| {
                        match c {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map(|(i, _)| i)
                    .unwrap_or_else(|| panic!("{file}: unclosed .route("));
                let args = &call[..end];
                let path = args
                    .split('"')
                    .nth(1)
                    .unwrap_or_else(|| panic!("{file}: .route without a path literal: {args}"));
                let handlers = &args[args.find(',').unwrap_or(0)..];
                let mut methods = vec![];
                for m in ["get", "post", "put", "patch", "delete"] {
                    let pat = format!("{m}(");
                    let mut from = 0;
                    while let Some(i) = handlers[from..].find(&pat) {
                        let i = from + i;
                        let before = handlers[..i].chars().next_back();
                        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                            methods.push(m);
                        }
                        from = i + pat.len();
                    }
                }
                assert!(
                    !methods.is_empty(),
                    "{file}: cannot read the methods of route {path}"
                );
                for m in methods {
                    out.push((m.to_uppercase(), format!("/api/v1{path}")));
                }
                rest = &call[end..];
            }
        }
        out
    }

    /// Routes that answer something other than a JSON operation clients
    /// build on: the document itself.
    const UNDOCUMENTED: &[(&str, &str)] = &[("GET", "/api/v1/openapi.json")];

    #[test]
    fn every_api_route_is_in_the_document_and_every_documented_operation_is_routed() {
        let routes = declared_routes();
        // a sanity floor: the contract's routes alone are more than forty
        assert!(routes.len() > 40, "{routes:?}");
        for known in [
            ("PATCH", "/api/v1/orders/{id}"),
            ("GET", "/api/v1/orders/{id}/test-suite"),
            ("PUT", "/api/v1/orders/{id}/test-suite"),
            (
                "POST",
                "/api/v1/settlements/{id}/lines/{line_id}/corrections",
            ),
        ] {
            assert!(
                routes
                    .iter()
                    .any(|(m, p)| (m.as_str(), p.as_str()) == known),
                "the reader missed {known:?}: {routes:?}"
            );
        }
        let doc = spec();
        let paths = doc["paths"].as_object().expect("paths");
        let mut missing = vec![];
        for (method, path) in &routes {
            if UNDOCUMENTED.contains(&(method.as_str(), path.as_str())) {
                continue;
            }
            let documented = paths
                .get(path)
                .and_then(|item| item.get(method.to_lowercase()))
                .is_some();
            if !documented {
                missing.push(format!("{method} {path}"));
            }
        }
        assert!(
            missing.is_empty(),
            "routes missing from the document: {missing:?}"
        );

        let mut unrouted = vec![];
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                if item.get(method).is_some()
                    && !routes
                        .iter()
                        .any(|(m, p)| m.eq_ignore_ascii_case(method) && p == path)
                {
                    unrouted.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        assert!(
            unrouted.is_empty(),
            "documented but not routed: {unrouted:?}"
        );
    }
}
