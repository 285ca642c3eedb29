//! Posted values to the input JSON the app receives, and the schema
//! validator's complaints back to the fields they are about.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::schema::*;
use super::{Control, Field, Form, Item, Kind};
use crate::i18n::Catalog;
use crate::web::FormErrors;

impl Form {
    /// Parses posted pairs into the input JSON, typed as the schema says;
    /// blank optional fields are left out. Errors name the field's id.
    pub fn parse(&self, posted: &[(String, String)], c: &Catalog) -> (Value, FormErrors) {
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for (k, v) in posted {
            by_name.entry(k.as_str()).or_default().push(v.as_str());
        }
        let mut errors = FormErrors::default();
        if self.scalar_root {
            let Some(f) = self.fields().next() else {
                return (Value::Null, errors);
            };
            let got = by_name.get(f.name.as_str()).cloned().unwrap_or_default();
            return match parse_field(f, &got, c) {
                Ok(Some(v)) => (v, errors),
                Ok(None) => {
                    errors.push(&f.id, message(c, "market.form.required", f));
                    (Value::Null, errors)
                }
                Err(m) => {
                    errors.push(&f.id, m);
                    (Value::Null, errors)
                }
            };
        }

        // One frame per open object: its values, whether the object itself
        // is required, and the "required" complaints about its children,
        // which only stand if the object is sent at all.
        struct Frame {
            key: String,
            required: bool,
            map: Map<String, Value>,
            missing: Vec<(String, String)>,
        }
        let mut stack = vec![Frame {
            key: String::new(),
            required: true,
            map: Map::new(),
            missing: vec![],
        }];
        for item in &self.items {
            match item {
                Item::Start(g) => stack.push(Frame {
                    key: last_segment(&g.name).to_owned(),
                    required: g.required,
                    map: Map::new(),
                    missing: vec![],
                }),
                Item::End => {
                    let Some(done) = stack.pop() else { continue };
                    let Some(parent) = stack.last_mut() else {
                        continue;
                    };
                    if done.map.is_empty() && !done.required {
                        continue;
                    }
                    for (id, m) in done.missing {
                        errors.push(&id, m);
                    }
                    parent.map.insert(done.key, Value::Object(done.map));
                }
                Item::Field(f) => {
                    let got = by_name.get(f.name.as_str()).cloned().unwrap_or_default();
                    let Some(frame) = stack.last_mut() else {
                        continue;
                    };
                    match parse_field(f, &got, c) {
                        Ok(Some(v)) => {
                            frame.map.insert(last_segment(&f.name).to_owned(), v);
                        }
                        Ok(None) if f.required => {
                            let key = if f.choices.is_empty() {
                                "market.form.required"
                            } else {
                                "market.form.choose"
                            };
                            frame.missing.push((f.id.clone(), message(c, key, f)));
                        }
                        Ok(None) => {}
                        Err(m) => errors.push(&f.id, m),
                    }
                }
            }
        }
        let root = stack.into_iter().next().map(|f| (f.map, f.missing));
        let (map, missing) = root.unwrap_or_default();
        for (id, m) in missing {
            errors.push(&id, m);
        }
        // Keep the error summary in form order.
        let order: Vec<&str> = self.fields().map(|f| f.id.as_str()).collect();
        errors.items.sort_by_key(|e| {
            order
                .iter()
                .position(|id| *id == e.field)
                .unwrap_or(usize::MAX)
        });
        (Value::Object(map), errors)
    }

    /// The field (or fieldset) id an error at a JSON pointer belongs to,
    /// `None` for the input as a whole.
    pub(super) fn id_for_pointer(&self, pointer: &str, raw: &str) -> Option<String> {
        if self.scalar_root {
            return self.fields().next().map(|f| f.id.clone());
        }
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let find = |name: &str| -> Option<String> {
            self.items.iter().find_map(|i| match i {
                Item::Field(f) if f.name == name => Some(f.id.clone()),
                Item::Start(g) if g.name == name => Some(g.id.clone()),
                _ => None,
            })
        };
        // The longest prefix that is a field: `/tags/2` belongs to `tags`.
        let mut n = segments.len();
        let (object, found) = loop {
            let name = segments[..n].join(".");
            if let Some(id) = find(&name) {
                break (name, Some(id));
            }
            if n == 0 {
                break (String::new(), None);
            }
            n -= 1;
        };
        // "x is a required property" is reported at the object: blame x.
        if let Some(child) = raw
            .strip_suffix(" is a required property")
            .and_then(|q| serde_json::from_str::<String>(q).ok())
        {
            let name = if object.is_empty() {
                child
            } else {
                format!("{object}.{child}")
            };
            if let Some(id) = find(&name) {
                return Some(id);
            }
        }
        found
    }

    /// Turns the schema validator's complaints (`(pointer, message)`) into
    /// messages beside the fields, in the reader's language where the
    /// field's constraints say what is expected. Fields that already have an
    /// error keep only their first.
    pub fn schema_errors(&self, errs: &[(String, String)], c: &Catalog, into: &mut FormErrors) {
        for (pointer, raw) in errs {
            let id = self.id_for_pointer(pointer, raw);
            let field = id
                .as_deref()
                .and_then(|id| self.fields().find(|f| f.id == id));
            let missing = raw.ends_with(" is a required property");
            let (id, msg) = match (id, field) {
                (Some(id), Some(f)) if missing => {
                    let key = if f.choices.is_empty() {
                        "market.form.required"
                    } else {
                        "market.form.choose"
                    };
                    (id, message(c, key, f))
                }
                (Some(id), Some(f)) => (
                    id,
                    describe(f, c).unwrap_or_else(|| {
                        format!("{}: {raw}", message(c, "market.form.invalid", f))
                    }),
                ),
                (Some(id), None) => (id, raw.clone()),
                (None, _) => (
                    "input".to_owned(),
                    format!("{} {raw}", c.t("market.form.invalid_input")),
                ),
            };
            if !into.has(&id) {
                into.push(&id, msg);
            }
        }
    }
}

pub(super) fn last_segment(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// A message with `{title}` replaced by the field's label.
pub(super) fn message(c: &Catalog, key: &str, f: &Field) -> String {
    c.t(key).replace("{title}", &f.label)
}

/// What the field's schema allows, as a sentence, when there is something
/// to say beyond "invalid".
pub(super) fn describe(f: &Field, c: &Catalog) -> Option<String> {
    let s = &f.schema;
    let fill = |key: &str, min: &str, max: &str| {
        message(c, key, f)
            .replace("{min}", min)
            .replace("{max}", max)
    };
    if !f.choices.is_empty() {
        return Some(message(c, "market.form.choose", f));
    }
    match f.kind {
        Kind::Integer | Kind::Number => {
            let (min, max) = (&f.min, &f.max);
            match (min.is_empty(), max.is_empty()) {
                (false, false) => Some(fill("market.form.range", min, max)),
                (false, true) => Some(fill("market.form.min", min, max)),
                (true, false) => Some(fill("market.form.max", min, max)),
                (true, true) => None,
            }
        }
        Kind::String => {
            if s.get("pattern").is_some() || s.get("format").is_some() {
                let mut m = message(c, "market.form.pattern", f);
                if let Some(ex) = s
                    .get("examples")
                    .and_then(Value::as_array)
                    .and_then(|e| e.first())
                {
                    m.push_str(c.t("market.form.example"));
                    m.push_str(&text(ex));
                }
                return Some(m);
            }
            let min = number_text(s, "minLength");
            let max = number_text(s, "maxLength");
            // A minimum of one only says "not blank", which needs no words.
            let min_says_something = !min.is_empty() && min != "0" && min != "1";
            match (min_says_something, max.is_empty()) {
                (false, false) => Some(fill("market.form.maxlen", &min, &max)),
                (true, false) => Some(fill("market.form.length", &min, &max)),
                (true, true) => Some(fill("market.form.minlen", &min, &max)),
                (false, true) => None,
            }
        }
        _ => None,
    }
}

/// One field's posted text as JSON: `Ok(None)` when left blank.
pub(super) fn parse_field(f: &Field, got: &[&str], c: &Catalog) -> Result<Option<Value>, String> {
    match f.control {
        Control::Checkbox => Ok(Some(Value::Bool(got.contains(&"true")))),
        Control::Checkboxes => {
            let mut out = vec![];
            for v in got {
                let choice = f.choices.iter().find(|ch| ch.value == *v);
                match choice {
                    Some(ch) => out.push(ch.json.clone()),
                    None => return Err(message(c, "market.form.choose", f)),
                }
            }
            if out.is_empty() && !f.required {
                return Ok(None);
            }
            Ok(Some(Value::Array(out)))
        }
        _ => {
            let raw = got.first().map(|s| s.trim()).unwrap_or("");
            if raw.is_empty() {
                return Ok(None);
            }
            if !f.choices.is_empty() {
                return f
                    .choices
                    .iter()
                    .find(|ch| ch.value == raw)
                    .map(|ch| Some(ch.json.clone()))
                    .ok_or_else(|| message(c, "market.form.choose", f));
            }
            if f.control == Control::List {
                let mut out = vec![];
                for part in raw
                    .split([',', '，', '、'])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                {
                    out.push(
                        scalar(f.item_kind, part)
                            .ok_or_else(|| message(c, kind_key(f.item_kind), f))?,
                    );
                }
                return Ok(Some(Value::Array(out)));
            }
            if f.kind == Kind::Json || f.is_array {
                return serde_json::from_str(raw)
                    .map(Some)
                    .map_err(|_| message(c, "market.form.json", f));
            }
            scalar(f.kind, raw)
                .map(Some)
                .ok_or_else(|| message(c, kind_key(f.kind), f))
        }
    }
}

pub(super) fn kind_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Integer => "market.form.integer",
        Kind::Number => "market.form.number",
        Kind::Boolean => "market.form.boolean",
        _ => "market.form.invalid",
    }
}

/// A scalar of `kind` from text; `None` when it does not parse.
pub(super) fn scalar(kind: Kind, raw: &str) -> Option<Value> {
    match kind {
        Kind::String => Some(Value::String(raw.to_owned())),
        Kind::Integer => {
            // Full-width digits come from Chinese input methods.
            let ascii: String = raw
                .chars()
                .map(|ch| match ch {
                    '０'..='９' => {
                        char::from_u32(ch as u32 - '０' as u32 + '0' as u32).unwrap_or(ch)
                    }
                    '－' => '-',
                    other => other,
                })
                .collect();
            ascii.parse::<i64>().ok().map(Value::from)
        }
        Kind::Number => raw
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .and_then(|n| {
                // Whole numbers stay integers in the JSON the app reads.
                if n.fract() == 0.0 && n.abs() < 9.0e15 && !raw.contains(['.', 'e', 'E']) {
                    Some(Value::from(n as i64))
                } else {
                    serde_json::Number::from_f64(n).map(Value::Number)
                }
            }),
        Kind::Boolean => match raw {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::Json => serde_json::from_str(raw).ok(),
    }
}
