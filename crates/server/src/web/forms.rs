//! HTML forms generated from a contract's input JSON Schema, and the parsing
//! of what they post back into the JSON the app receives.
//!
//! A schema becomes a flat list of [`Item`]s (fieldsets open and close
//! around nested objects) so a template can draw it with one loop. Field
//! names are the dotted paths of the properties (`applicant.name`), which is
//! also how the schema validator's instance paths (`/applicant/name`) are
//! mapped back to the field beside which an error is shown.
//!
//! The server has the last word: the browser is told nothing it could
//! enforce on its own (`novalidate`), every value is parsed here and the
//! result is validated against the schema by the invocation itself.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::FormErrors;
use crate::i18n::Catalog;

/// The JSON type a field produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    /// Anything the generator has no control for: the citizen types JSON.
    Json,
}

/// How a field is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Text,
    Date,
    /// A number typed as text with a numeric keyboard: browsers silently
    /// blank what `type=number` cannot parse, which would hide the mistake
    /// from the server's message (GOV.UK's advice).
    Number,
    /// A few choices, all visible.
    Radios,
    /// Many choices.
    Select,
    Checkbox,
    /// Several of a fixed set (an array of enum values).
    Checkboxes,
    /// An array of free values, comma separated.
    List,
    TextArea,
}

/// One option of an enum.
#[derive(Debug, Clone)]
pub struct Choice {
    /// What the form posts.
    pub value: String,
    pub label: String,
    json: Value,
}

/// One input.
#[derive(Debug, Clone)]
pub struct Field {
    /// Dotted path of the property: the form field's name.
    pub name: String,
    /// The element id: the name when it is safe in a URL fragment.
    pub id: String,
    pub label: String,
    pub hint: String,
    pub required: bool,
    pub control: Control,
    pub choices: Vec<Choice>,
    /// What is shown in the control (the posted text, or the default).
    pub value: String,
    /// Checked values of a checkbox group; "true" for a checked checkbox.
    pub values: Vec<String>,
    pub min: String,
    pub max: String,
    pub kind: Kind,
    /// Item kind of an array field.
    item_kind: Kind,
    is_array: bool,
    schema: Value,
}

impl Field {
    pub fn is_checked(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }
    pub fn is_selected(&self, value: &str) -> bool {
        self.value == value
    }
    /// `inputmode` of a numeric text input.
    pub fn inputmode(&self) -> &'static str {
        match self.kind {
            Kind::Integer => "numeric",
            _ => "decimal",
        }
    }
}

/// A nested object: a fieldset and its legend.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub id: String,
    pub legend: String,
    pub hint: String,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub enum Item {
    Start(Group),
    Field(Field),
    End,
}

/// A form for one input schema.
#[derive(Debug, Clone)]
pub struct Form {
    pub items: Vec<Item>,
    /// The root schema is a scalar: the one field is the whole input.
    scalar_root: bool,
}

/// Property names in the order a person filled them in: the schema's
/// `required` list is written in reading order, then the optional rest.
/// (`serde_json` keeps object keys sorted, so the declaration order is lost.)
fn ordered_properties(schema: &Value) -> Vec<(String, Value, bool)> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return vec![];
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out: Vec<(String, Value, bool)> = required
        .iter()
        .filter_map(|k| props.get(*k).map(|s| ((*k).to_owned(), s.clone(), true)))
        .collect();
    for (k, s) in props {
        if !required.contains(&k.as_str()) {
            out.push((k.clone(), s.clone(), false));
        }
    }
    out
}

/// The first non-null type of a schema (`["string", "null"]` is a string
/// that may be absent).
fn main_type(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

fn kind_of(schema: &Value) -> Kind {
    match main_type(schema) {
        Some("string") => Kind::String,
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        None if schema.get("enum").is_some() => Kind::String,
        _ => Kind::Json,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn choices(schema: &Value) -> Vec<Choice> {
    let Some(values) = schema.get("enum").and_then(Value::as_array) else {
        return vec![];
    };
    let names = schema.get("enumNames").and_then(Value::as_array);
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .map(|(i, v)| Choice {
            value: text(v),
            label: names
                .and_then(|n| n.get(i))
                .and_then(Value::as_str)
                .map_or_else(|| text(v), str::to_owned),
            json: v.clone(),
        })
        .collect()
}

fn safe_id(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn number_text(schema: &Value, key: &str) -> String {
    schema.get(key).map(text).unwrap_or_default()
}

/// Names reserved by the page around the generated fields.
const RESERVED: [&str; 2] = ["csrf_token", "idempotency_key"];

impl Form {
    /// The form for `schema` (an object's properties become fields; nested
    /// objects become fieldsets), with defaults filled in.
    pub fn from_schema(schema: &Value, c: &Catalog) -> Form {
        let mut form = Form {
            items: vec![],
            scalar_root: false,
        };
        let root_is_object = main_type(schema) == Some("object")
            || (main_type(schema).is_none() && schema.get("properties").is_some());
        if root_is_object {
            form.add_object(schema, "", c);
        } else if main_type(schema).is_some() || schema.get("enum").is_some() {
            form.scalar_root = true;
            let label = schema
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or("input")
                .to_owned();
            let f = form.field("input".into(), label, schema, true, c);
            form.items.push(Item::Field(f));
        }
        form
    }

    fn add_object(&mut self, schema: &Value, prefix: &str, c: &Catalog) {
        for (key, sub, required) in ordered_properties(schema) {
            let name = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if prefix.is_empty() && RESERVED.contains(&name.as_str()) {
                continue;
            }
            let label = sub
                .get("title")
                .and_then(Value::as_str)
                .map_or_else(|| key.clone(), str::to_owned);
            if main_type(&sub) == Some("object") && sub.get("properties").is_some() {
                let id = self.id_for(&name);
                self.items.push(Item::Start(Group {
                    name: name.clone(),
                    id,
                    legend: label,
                    hint: sub
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    required,
                }));
                self.add_object(&sub, &name, c);
                self.items.push(Item::End);
            } else {
                let f = self.field(name, label, &sub, required, c);
                self.items.push(Item::Field(f));
            }
        }
    }

    fn id_for(&self, name: &str) -> String {
        if safe_id(name) {
            name.to_owned()
        } else {
            format!("field-{}", self.items.len() + 1)
        }
    }

    fn field(
        &self,
        name: String,
        label: String,
        schema: &Value,
        required: bool,
        c: &Catalog,
    ) -> Field {
        let mut kind = kind_of(schema);
        let mut item_kind = kind;
        let mut is_array = false;
        let mut choices = choices(schema);
        let control = if main_type(schema) == Some("array") {
            is_array = true;
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            item_kind = kind_of(&items);
            choices = self::choices(&items);
            kind = Kind::Json;
            if !choices.is_empty() {
                Control::Checkboxes
            } else if item_kind == Kind::Json {
                Control::TextArea
            } else {
                Control::List
            }
        } else if !choices.is_empty() {
            if choices.len() <= 5 {
                Control::Radios
            } else {
                Control::Select
            }
        } else {
            match kind {
                Kind::Boolean => Control::Checkbox,
                Kind::Integer | Kind::Number => Control::Number,
                Kind::String if schema.get("format").and_then(Value::as_str) == Some("date") => {
                    Control::Date
                }
                Kind::String
                    if schema
                        .get("maxLength")
                        .and_then(Value::as_u64)
                        .is_some_and(|m| m > 200) =>
                {
                    Control::TextArea
                }
                Kind::String => Control::Text,
                Kind::Json => Control::TextArea,
            }
        };
        let mut hint = schema
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if let Some(example) = schema
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            if !hint.is_empty() {
                hint.push(' ');
            }
            hint.push_str(c.t("market.form.example"));
            hint.push_str(&text(example));
        }
        match control {
            Control::List => {
                if !hint.is_empty() {
                    hint.push(' ');
                }
                hint.push_str(c.t("market.form.list_hint"));
            }
            Control::TextArea if kind == Kind::Json || is_array => {
                if !hint.is_empty() {
                    hint.push(' ');
                }
                hint.push_str(c.t("market.form.json_hint"));
            }
            _ => {}
        }
        let mut f = Field {
            id: self.id_for(&name),
            name,
            label,
            hint,
            required,
            control,
            choices,
            value: String::new(),
            values: vec![],
            min: number_text(schema, "minimum"),
            max: number_text(schema, "maximum"),
            kind,
            item_kind,
            is_array,
            schema: schema.clone(),
        };
        if let Some(d) = schema.get("default") {
            match (control, d) {
                (Control::Checkbox, Value::Bool(true)) => f.values = vec!["true".into()],
                (Control::Checkboxes, Value::Array(a)) => f.values = a.iter().map(text).collect(),
                (Control::List, Value::Array(a)) => {
                    f.value = a.iter().map(text).collect::<Vec<_>>().join(", ");
                }
                (Control::TextArea, v) if kind == Kind::Json || is_array => f.value = v.to_string(),
                (_, v) => f.value = text(v),
            }
        }
        f
    }

    /// The fields, without the fieldsets around them.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.items.iter().filter_map(|i| match i {
            Item::Field(f) => Some(f),
            _ => None,
        })
    }

    /// Shows what was posted (instead of the defaults).
    pub fn fill(&mut self, posted: &[(String, String)]) {
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for (k, v) in posted {
            by_name.entry(k.as_str()).or_default().push(v.as_str());
        }
        for item in &mut self.items {
            if let Item::Field(f) = item {
                let got = by_name.get(f.name.as_str()).cloned().unwrap_or_default();
                f.values = got.iter().map(|s| (*s).to_owned()).collect();
                f.value = got.first().map(|s| (*s).to_owned()).unwrap_or_default();
            }
        }
    }

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
    fn id_for_pointer(&self, pointer: &str, raw: &str) -> Option<String> {
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

fn last_segment(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// A message with `{title}` replaced by the field's label.
fn message(c: &Catalog, key: &str, f: &Field) -> String {
    c.t(key).replace("{title}", &f.label)
}

/// What the field's schema allows, as a sentence, when there is something
/// to say beyond "invalid".
fn describe(f: &Field, c: &Catalog) -> Option<String> {
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
fn parse_field(f: &Field, got: &[&str], c: &Catalog) -> Result<Option<Value>, String> {
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

fn kind_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Integer => "market.form.integer",
        Kind::Number => "market.form.number",
        Kind::Boolean => "market.form.boolean",
        _ => "market.form.invalid",
    }
}

/// A scalar of `kind` from text; `None` when it does not parse.
fn scalar(kind: Kind, raw: &str) -> Option<Value> {
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

// ------------------------------------------------------------ output

fn esc(s: &str) -> String {
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
fn scalar_text(schema: &Value, v: &Value, c: &Catalog) -> String {
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
fn yuan_aside(key: &str, v: &Value) -> String {
    match v.as_i64() {
        Some(fen) if key.ends_with("_fen") => {
            format!("（{}）", esc(&domain::Fen::from_fen(fen).to_string()))
        }
        _ => String::new(),
    }
}

fn title_of(schema: &Value, key: &str) -> String {
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .and_then(|s| s.get("title"))
        .and_then(Value::as_str)
        .map_or_else(|| key.to_owned(), str::to_owned)
}

/// The keys of an object in reading order: the schema's, then any others.
fn keys_in_order(schema: &Value, obj: &Map<String, Value>) -> Vec<String> {
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

fn prop_schema(schema: &Value, key: &str) -> Value {
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

fn render_value(schema: &Value, value: &Value, c: &Catalog, out: &mut String, depth: usize) {
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

fn render_table(item_schema: &Value, items: &[Value], c: &Catalog, out: &mut String, depth: usize) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use serde_json::json;

    fn zh() -> &'static Catalog {
        Lang::ZhCn.catalog()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["plate", "applicant", "months"],
            "properties": {
                "plate": {"type": "string", "title": "车牌号码", "description": "蓝牌或绿牌",
                          "pattern": "^[浙][A-Z][0-9A-Z]{5,6}$", "examples": ["浙A12345"]},
                "months": {"type": "integer", "title": "查询月数", "minimum": 1, "maximum": 36},
                "ratio": {"type": "number", "title": "比例"},
                "only_unpaid": {"type": "boolean", "title": "只看未处理", "default": false},
                "purpose": {"type": "string", "title": "提取原因", "enum": ["rent", "purchase"],
                            "enumNames": ["租房提取", "购房提取"]},
                "since": {"type": "string", "format": "date", "title": "起始日期"},
                "note": {"type": ["string", "null"], "title": "备注"},
                "applicant": {"type": "object", "title": "申请人", "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "title": "姓名"},
                        "age": {"type": "integer", "title": "年龄"}
                    }},
                "agent": {"type": "object", "title": "代理人", "required": ["name"],
                    "properties": {"name": {"type": "string", "title": "代理人姓名"}}}
            }
        })
    }

    #[test]
    fn each_schema_type_gets_its_control_label_hint_and_required_mark() {
        let form = Form::from_schema(&schema(), zh());
        let by = |n: &str| form.fields().find(|f| f.name == n).unwrap().clone();
        let names: Vec<&str> = form.fields().map(|f| f.name.as_str()).collect();
        // required first, in the schema's reading order; nested names dotted
        assert_eq!(&names[..3], ["plate", "applicant.name", "applicant.age"]);
        assert_eq!(names[3], "months");
        assert_eq!(by("plate").control, Control::Text);
        assert_eq!(by("plate").label, "车牌号码");
        assert!(by("plate").hint.contains("蓝牌或绿牌") && by("plate").hint.contains("浙A12345"));
        assert!(by("plate").required);
        assert_eq!(by("months").control, Control::Number);
        assert_eq!(
            (by("months").min.as_str(), by("months").max.as_str()),
            ("1", "36")
        );
        assert_eq!(by("only_unpaid").control, Control::Checkbox);
        assert!(!by("only_unpaid").required);
        assert_eq!(by("purpose").control, Control::Radios);
        assert_eq!(by("purpose").choices[1].label, "购房提取");
        assert_eq!(by("since").control, Control::Date);
        assert_eq!(by("note").control, Control::Text);
        // nested objects are fieldsets with a legend
        let legends: Vec<&str> = form
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Start(g) => Some(g.legend.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(legends, ["申请人", "代理人"]);
        let ends = form.items.iter().filter(|i| matches!(i, Item::End)).count();
        assert_eq!(ends, 2);
    }

    #[test]
    fn posted_text_becomes_typed_json_and_blank_optional_fields_are_left_out() {
        let form = Form::from_schema(&schema(), zh());
        let (value, errors) = form.parse(
            &pairs(&[
                ("plate", " 浙A12345 "),
                ("months", "12"),
                ("ratio", "0.5"),
                ("purpose", "rent"),
                ("since", ""),
                ("note", "   "),
                ("applicant.name", "张伟"),
                ("applicant.age", ""),
                ("agent.name", ""),
                ("only_unpaid", "true"),
            ]),
            zh(),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            value,
            json!({"plate": "浙A12345", "months": 12, "ratio": 0.5, "purpose": "rent",
                   "only_unpaid": true, "applicant": {"name": "张伟"}})
        );
    }

    #[test]
    fn an_unchecked_box_is_false_and_full_width_digits_are_numbers() {
        let form = Form::from_schema(&schema(), zh());
        let (value, errors) = form.parse(
            &pairs(&[
                ("plate", "浙A12345"),
                ("months", "１２"),
                ("applicant.name", "张伟"),
            ]),
            zh(),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(value["only_unpaid"], json!(false));
        assert_eq!(value["months"], json!(12));
    }

    #[test]
    fn number_mistakes_and_missing_required_fields_are_reported_beside_each_field() {
        let form = Form::from_schema(&schema(), zh());
        let (_, errors) = form.parse(
            &pairs(&[
                ("plate", ""),
                ("months", "twelve"),
                ("ratio", "1,5"),
                ("purpose", "steal"),
                ("agent.name", ""),
            ]),
            zh(),
        );
        let fields: Vec<&str> = errors.items.iter().map(|e| e.field.as_str()).collect();
        // in form order (optional fields by name after the required ones);
        // the optional, empty "agent" object is no error
        assert_eq!(
            fields,
            ["plate", "applicant.name", "months", "purpose", "ratio"]
        );
        assert_eq!(errors.get("months"), Some("查询月数须为整数"));
        assert_eq!(errors.get("plate"), Some("请填写车牌号码"));
        assert_eq!(errors.get("purpose"), Some("请选择提取原因"));
        assert!(errors.get("ratio").unwrap().contains("数字"));
    }

    #[test]
    fn a_started_optional_object_needs_its_required_fields() {
        let form = Form::from_schema(&schema(), zh());
        let (_, errors) = form.parse(
            &pairs(&[
                ("plate", "浙A12345"),
                ("months", "1"),
                ("applicant.name", "张伟"),
            ]),
            zh(),
        );
        assert!(errors.is_empty());
        let s = json!({"type": "object", "properties": {"agent": {"type": "object", "title": "代理人",
            "required": ["name"], "properties": {"name": {"type": "string", "title": "姓名"},
            "phone": {"type": "string", "title": "电话"}}}}});
        let form = Form::from_schema(&s, zh());
        let (_, errors) = form.parse(&pairs(&[("agent.phone", "0571")]), zh());
        assert_eq!(errors.get("agent.name"), Some("请填写姓名"));
    }

    #[test]
    fn schema_errors_land_beside_the_field_their_path_names() {
        let form = Form::from_schema(&schema(), zh());
        let mut errors = FormErrors::default();
        form.schema_errors(
            &[
                (
                    "/months".into(),
                    "99 is greater than the maximum of 36".into(),
                ),
                (
                    "/applicant".into(),
                    "\"name\" is a required property".into(),
                ),
                ("/plate".into(), "\"x\" does not match \"^...$\"".into()),
                ("".into(), "something about the whole".into()),
            ],
            zh(),
            &mut errors,
        );
        assert_eq!(errors.get("months"), Some("查询月数须在 1 到 36 之间"));
        assert_eq!(errors.get("applicant.name"), Some("请填写姓名"));
        assert!(errors.get("plate").unwrap().contains("浙A12345"));
        assert!(
            errors
                .get("input")
                .unwrap()
                .contains("something about the whole")
        );
    }

    #[test]
    fn what_was_posted_is_shown_again() {
        let mut form = Form::from_schema(&schema(), zh());
        assert_eq!(
            form.fields()
                .find(|f| f.name == "only_unpaid")
                .unwrap()
                .values,
            Vec::<String>::new()
        );
        form.fill(&pairs(&[("months", "abc"), ("only_unpaid", "true")]));
        let months = form.fields().find(|f| f.name == "months").unwrap();
        assert_eq!(months.value, "abc");
        assert!(
            form.fields()
                .find(|f| f.name == "only_unpaid")
                .unwrap()
                .is_checked("true")
        );
    }

    #[test]
    fn arrays_of_choices_are_checkboxes_and_free_lists_are_comma_separated() {
        let s = json!({"type": "object", "properties": {
            "kinds": {"type": "array", "title": "类型", "items": {"type": "string", "enum": ["a", "b", "c"]}},
            "years": {"type": "array", "title": "年份", "items": {"type": "integer"}}}});
        let form = Form::from_schema(&s, zh());
        let kinds = form.fields().find(|f| f.name == "kinds").unwrap();
        assert_eq!(kinds.control, Control::Checkboxes);
        let (v, errors) = form.parse(
            &pairs(&[("kinds", "a"), ("kinds", "c"), ("years", "2024，2025")]),
            zh(),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(v, json!({"kinds": ["a", "c"], "years": [2024, 2025]}));
        let (_, errors) = form.parse(&pairs(&[("years", "2024, next")]), zh());
        assert!(errors.has("years"));
    }

    #[test]
    fn a_scalar_root_schema_is_one_field() {
        let s = json!({"type": "integer", "title": "月数"});
        let form = Form::from_schema(&s, zh());
        let (v, errors) = form.parse(&pairs(&[("input", "7")]), zh());
        assert!(errors.is_empty());
        assert_eq!(v, json!(7));
    }

    #[test]
    fn output_is_rendered_with_titles_not_json() {
        let out_schema = json!({"type": "object", "required": ["found", "count", "violations"],
        "properties": {
            "found": {"type": "boolean", "title": "是否查到"},
            "count": {"type": "integer", "title": "违法条数"},
            "name": {"type": ["string", "null"], "title": "姓名"},
            "violations": {"type": "array", "title": "违法记录", "items": {"type": "object",
                "required": ["time", "status"],
                "properties": {"time": {"type": "string", "title": "违法时间"},
                               "status": {"type": "string", "title": "处理状态", "enum": ["unpaid", "paid"],
                                          "enumNames": ["未处理", "已处理"]}}}},
            "issues": {"type": "array", "title": "问题", "items": {"type": "string"}}
        }});
        let value = json!({"found": true, "count": 1, "name": null, "fine_fen": 20000,
            "violations": [{"time": "2026-01-02 08:00", "status": "unpaid"}],
            "issues": ["<script>"]});
        let html = render_output(&out_schema, &value, zh());
        assert!(html.contains("<dt>是否查到</dt><dd>是</dd>"), "{html}");
        assert!(html.contains("<th scope=\"col\">违法时间</th>"));
        assert!(html.contains("<td>未处理</td>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<dd>20000（¥200.00）</dd>"), "{html}");
        assert!(!html.contains('{') && !html.contains("\"found\""));
        // schema order: required first, then the rest
        let found = html.find("是否查到").unwrap();
        let count = html.find("违法条数").unwrap();
        assert!(found < count);
    }
}
