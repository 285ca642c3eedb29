//! A schema to form items: properties in reading order, their kinds,
//! choices, defaults and constraints.

use std::collections::HashMap;

use serde_json::Value;

use super::{Choice, Control, Field, Form, Group, Item, Kind};
use crate::i18n::Catalog;

/// Property names in the order a person filled them in: the schema's
/// `required` list is written in reading order, then the optional rest.
/// (`serde_json` keeps object keys sorted, so the declaration order is lost.)
pub(super) fn ordered_properties(schema: &Value) -> Vec<(String, Value, bool)> {
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
pub(super) fn main_type(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

pub(super) fn kind_of(schema: &Value) -> Kind {
    match main_type(schema) {
        Some("string") => Kind::String,
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        None if schema.get("enum").is_some() => Kind::String,
        _ => Kind::Json,
    }
}

pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub(super) fn choices(schema: &Value) -> Vec<Choice> {
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

pub(super) fn safe_id(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

pub(super) fn number_text(schema: &Value, key: &str) -> String {
    schema.get(key).map(text).unwrap_or_default()
}

/// Names reserved by the page around the generated fields.
pub(super) const RESERVED: [&str; 2] = ["csrf_token", "idempotency_key"];

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

    pub(super) fn add_object(&mut self, schema: &Value, prefix: &str, c: &Catalog) {
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

    pub(super) fn id_for(&self, name: &str) -> String {
        if safe_id(name) {
            name.to_owned()
        } else {
            format!("field-{}", self.items.len() + 1)
        }
    }

    pub(super) fn field(
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
}
