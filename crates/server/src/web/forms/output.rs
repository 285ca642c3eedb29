//! An app's answer as HTML, laid out as its output schema says (titles,
//! tables for arrays of objects, amounts in yuan beside fen); every text
//! escaped.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::schema::{choices, ordered_properties};
use crate::i18n::Catalog;

// ------------------------------------------------------------ output

pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A scalar as a person reads it: enum labels, 是/否, "none" for null.
pub(super) fn scalar_text(schema: &Value, v: &Value, c: &Catalog) -> String {
    if let Some(ch) = choices(schema).into_iter().find(|ch| &ch.json == v) {
        return ch.label;
    }
    match v {
        Value::Bool(true) => c.t("market.yes").to_owned(),
        Value::Bool(false) => c.t("market.no").to_owned(),
        Value::Null => c.t("market.none").to_owned(),
        Value::String(s) if s.is_empty() => c.t("market.none").to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Amounts are integer fen by the platform's convention (`*_fen`); a
/// citizen reads yuan, so the yuan amount goes beside the exact number.
pub(super) fn yuan_aside(key: &str, v: &Value) -> String {
    match v.as_i64() {
        Some(fen) if key.ends_with("_fen") => {
            format!("（{}）", esc(&domain::Fen::from_fen(fen).to_string()))
        }
        _ => String::new(),
    }
}

pub(super) fn title_of(schema: &Value, key: &str) -> String {
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .and_then(|s| s.get("title"))
        .and_then(Value::as_str)
        .map_or_else(|| key.to_owned(), str::to_owned)
}

/// The keys of an object in reading order: the schema's, then any others.
pub(super) fn keys_in_order(schema: &Value, obj: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = ordered_properties(schema)
        .into_iter()
        .map(|(k, _, _)| k)
        .filter(|k| obj.contains_key(k))
        .collect();
    for k in obj.keys() {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    keys
}

pub(super) fn prop_schema(schema: &Value, key: &str) -> Value {
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

/// An app's output as HTML a citizen can read: labelled with the output
/// schema's titles (a definition list for an object, a table for a list of
/// objects, a list for a list of values), never raw JSON. Every text is
/// escaped here, so the result may be inserted as is.
pub fn render_output(schema: &Value, value: &Value, c: &Catalog) -> String {
    let mut out = String::new();
    render_value(schema, value, c, &mut out, 0);
    out
}

pub(super) fn render_value(
    schema: &Value,
    value: &Value,
    c: &Catalog,
    out: &mut String,
    depth: usize,
) {
    // The sandbox caps output size; the depth cap keeps a pathological
    // shape from producing an unreadable page.
    if depth > 6 {
        let _ = write!(out, "<code>{}</code>", esc(&value.to_string()));
        return;
    }
    match value {
        Value::Object(obj) => {
            if obj.is_empty() {
                let _ = write!(out, "<p>{}</p>", esc(c.t("market.none")));
                return;
            }
            out.push_str("<dl class=\"summary-list output-list\">");
            for key in keys_in_order(schema, obj) {
                let sub = prop_schema(schema, &key);
                let _ = write!(
                    out,
                    "<div class=\"summary-row\"><dt>{}</dt><dd>",
                    esc(&title_of(schema, &key))
                );
                render_value(&sub, &obj[&key], c, out, depth + 1);
                out.push_str(&yuan_aside(&key, &obj[&key]));
                out.push_str("</dd></div>");
            }
            out.push_str("</dl>");
        }
        Value::Array(items) => {
            let item_schema = schema.get("items").cloned().unwrap_or(Value::Null);
            if items.is_empty() {
                let _ = write!(out, "{}", esc(c.t("market.none")));
            } else if items.iter().all(Value::is_object) {
                render_table(&item_schema, items, c, out, depth);
            } else {
                out.push_str("<ul class=\"output-values\">");
                for v in items {
                    out.push_str("<li>");
                    render_value(&item_schema, v, c, out, depth + 1);
                    out.push_str("</li>");
                }
                out.push_str("</ul>");
            }
        }
        scalar => out.push_str(&esc(&scalar_text(schema, scalar, c))),
    }
}

pub(super) fn render_table(
    item_schema: &Value,
    items: &[Value],
    c: &Catalog,
    out: &mut String,
    depth: usize,
) {
    // Columns: the schema's order, then keys only some rows have.
    let mut columns: Vec<String> = vec![];
    for item in items {
        if let Value::Object(o) = item {
            for k in keys_in_order(item_schema, o) {
                if !columns.contains(&k) {
                    columns.push(k);
                }
            }
        }
    }
    out.push_str("<div class=\"market-scroll\"><table class=\"table output-table\"><thead><tr>");
    for k in &columns {
        let _ = write!(
            out,
            "<th scope=\"col\">{}</th>",
            esc(&title_of(item_schema, k))
        );
    }
    out.push_str("</tr></thead><tbody>");
    for item in items {
        out.push_str("<tr>");
        for k in &columns {
            out.push_str("<td>");
            match item.get(k) {
                Some(v) => {
                    render_value(&prop_schema(item_schema, k), v, c, out, depth + 1);
                    out.push_str(&yuan_aside(k, v));
                }
                None => out.push_str(&esc(c.t("market.none"))),
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}
