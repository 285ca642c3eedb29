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

//!
//! - `schema`: a schema to form items (fields, fieldsets, defaults)
//! - `parse`: posted values to the input JSON, and the validator's
//!   complaints back to the fields
//! - `output`: the app's answer rendered as HTML, following the output
//!   schema

mod output;
mod parse;
mod schema;

pub use output::render_output;

use serde_json::Value;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Catalog;
    use crate::i18n::Lang;
    use crate::web::FormErrors;
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
