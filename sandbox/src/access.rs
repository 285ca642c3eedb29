//! Record-level access: how an app may reach the records of each dataset its contract grants,
//! and the opaque subject an app sees instead of the citizen's identity.
//!
//! A grant is written `NAME:RULE` (no spaces, so a list of grants can be typed into one form
//! field), where RULE is one of
//!
//! - `subject`: only the current subject's own record. The app queries with `context.subject`
//!   (an opaque token); the host maps it to the real key.
//! - `input/POINTER[:owner/POINTER]...`: only the key found at the JSON pointer `/POINTER` of
//!   the invocation's input. With `owner` pointers, the record must also name the subject's
//!   identity at one of them (a string equal to it, or an array/object holding such a string).
//!   For example `traffic_violations:input/plate:owner/owner_id_number`.
//! - `reference`: non-personal data, any key.
//!
//! Any rule may end in `:fields/NAME/NAME…`: the top-level fields of a record the app is given
//! (all of them when absent). Whatever the grant, a record handed to an app never carries an
//! identity field (`id_number` or `…_id_number`, at any depth): see [`project`]. Owner checks
//! read the full record before it is projected.
//!
//! Contracts may also write a grant as an object:
//! `{"name": "…", "access": "input", "key": "/plate", "owner": ["/owner_id_number"],
//! "fields": ["plate", "violations"]}`.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The app ABI version this host implements (see `guest/ABI.md`).
pub const ABI_VERSION: u32 = 2;

/// Key of the pseudonyms of test-suite subjects. Suite subjects are mock people, so this key is
/// public: the platform's test pipeline and `govmarket app test` map a case's subject the same
/// way, and a vendor can reproduce a run locally.
pub const SUITE_SUBJECT_KEY: &[u8] = b"govmarket suite subjects v2";

/// The scope of suite pseudonyms (the platform scopes a citizen's pseudonym by app instead).
pub const SUITE_SUBJECT_SCOPE: &str = "suite";

/// How the records of one granted dataset may be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Only the subject's own record, queried with the subject token.
    Subject,
    /// Only the record whose key is at `key` (a JSON pointer) in the invocation input; with
    /// `owner` pointers, the record must name the subject at one of them.
    Input {
        /// JSON pointer into the input.
        key: String,
        /// JSON pointers into the record, any of which must contain the subject's identity.
        owner: Vec<String>,
    },
    /// Non-personal data: any key.
    Reference,
}

impl Access {
    /// `subject`, `input` or `reference`.
    pub fn kind(&self) -> &'static str {
        match self {
            Access::Subject => "subject",
            Access::Input { .. } => "input",
            Access::Reference => "reference",
        }
    }
}

/// One dataset a contract grants, with its access rule. `access` is `None` only in a contract
/// stored before access rules existed; the host refuses every query on such a grant, and new
/// contracts must name a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetGrant {
    /// The dataset's name.
    pub name: String,
    /// How its records may be reached.
    pub access: Option<Access>,
    /// The top-level fields of a record the app is given; `None`: all (identity fields never).
    pub fields: Option<Vec<String>>,
}

/// Why a grant does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// `NAME` alone: no rule.
    #[error(
        "dataset `{0}` has no access rule (write `{0}:subject`, `{0}:input/pointer` or `{0}:reference`)"
    )]
    MissingRule(String),
    /// An unknown rule or a malformed one.
    #[error("dataset `{name}`: {reason}")]
    BadRule {
        /// The dataset.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

fn check_pointer(name: &str, what: &str, p: &str) -> Result<(), GrantError> {
    if p.starts_with('/') && !p.chars().any(|c| c.is_whitespace() || c == ',') {
        Ok(())
    } else {
        Err(GrantError::BadRule {
            name: name.to_owned(),
            reason: format!("{what} `{p}` is not a JSON pointer (it starts with `/`)"),
        })
    }
}

impl DatasetGrant {
    /// A grant with a rule.
    pub fn new(name: impl Into<String>, access: Access) -> Self {
        Self {
            name: name.into(),
            access: Some(access),
            fields: None,
        }
    }

    /// The grant limited to the top-level `fields` of each record.
    pub fn with_fields(mut self, fields: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Parse `NAME:RULE`, requiring a rule.
    pub fn parse(text: &str) -> Result<Self, GrantError> {
        let grant = Self::parse_lenient(text)?;
        if grant.access.is_none() {
            return Err(GrantError::MissingRule(grant.name));
        }
        Ok(grant)
    }

    /// Parse `NAME:RULE` or a bare `NAME` (no rule).
    fn parse_lenient(text: &str) -> Result<Self, GrantError> {
        let (text, fields) = match text.split_once(":fields") {
            Some((head, list)) => (head, Some(parse_fields(head, list)?)),
            None => (text, None),
        };
        let mut grant = Self::parse_rule(text)?;
        if fields.is_some() && grant.access.is_none() {
            return Err(GrantError::MissingRule(grant.name));
        }
        grant.fields = fields;
        Ok(grant)
    }

    fn parse_rule(text: &str) -> Result<Self, GrantError> {
        let mut parts = text.split(':').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let bad = |reason: String| GrantError::BadRule {
            name: name.to_owned(),
            reason,
        };
        let Some(rule) = parts.next().filter(|r| !r.is_empty()) else {
            return Ok(Self {
                name: name.to_owned(),
                access: None,
                fields: None,
            });
        };
        let access = if rule == "subject" {
            Access::Subject
        } else if rule == "reference" {
            Access::Reference
        } else if let Some(key) = rule.strip_prefix("input") {
            if key.is_empty() {
                return Err(bad(
                    "`input` needs the JSON pointer of the key, e.g. `input/plate`".into(),
                ));
            }
            check_pointer(name, "key", key)?;
            let owner = parts
                .by_ref()
                .map(|part| {
                    let p = part.strip_prefix("owner").ok_or_else(|| {
                        bad(format!("unexpected `{part}` (expected `owner/pointer`)"))
                    })?;
                    check_pointer(name, "owner", p)?;
                    Ok(p.to_owned())
                })
                .collect::<Result<Vec<_>, GrantError>>()?;
            Access::Input {
                key: key.to_owned(),
                owner,
            }
        } else {
            return Err(bad(format!(
                "unknown access rule `{rule}` (subject, input/pointer or reference)"
            )));
        };
        if let Some(extra) = parts.next() {
            return Err(bad(format!(
                "unexpected `{extra}` after `{}`",
                access.kind()
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            access: Some(access),
            fields: None,
        })
    }
}

/// The field names of `:fields/a/b` (`list` is what follows `:fields`).
fn parse_fields(name: &str, list: &str) -> Result<Vec<String>, GrantError> {
    let name = name.split(':').next().unwrap_or_default().trim();
    let bad = |reason: String| GrantError::BadRule {
        name: name.to_owned(),
        reason,
    };
    let Some(list) = list.trim().strip_prefix('/') else {
        return Err(bad(
            "`fields` needs field names, e.g. `fields/name/records`".into(),
        ));
    };
    list.split('/')
        .map(|f| {
            if f.is_empty() || f.chars().any(|c| c.is_whitespace() || c == ',' || c == ':') {
                Err(bad(format!("`{f}` is not a field name")))
            } else if is_identity_field(f) {
                Err(bad(format!(
                    "`{f}` is an identity field, never given to an app"
                )))
            } else {
                Ok(f.to_owned())
            }
        })
        .collect()
}

/// Whether a field named `name` holds a person's identity: `id_number` or `…_id_number`.
pub fn is_identity_field(name: &str) -> bool {
    name == "id_number" || name.ends_with("_id_number")
}

/// `record` as an app may see it: only the top-level `fields` (all when `None`), and no
/// identity field at any depth (a co-owner's ID number inside an array is dropped too).
pub fn project(record: &serde_json::Value, fields: Option<&[String]>) -> serde_json::Value {
    fn strip(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => map
                .iter()
                .filter(|(k, _)| !is_identity_field(k))
                .map(|(k, v)| (k.clone(), strip(v)))
                .collect(),
            serde_json::Value::Array(items) => items.iter().map(strip).collect(),
            other => other.clone(),
        }
    }
    match (record, fields) {
        (serde_json::Value::Object(map), Some(fields)) => map
            .iter()
            .filter(|(k, _)| fields.iter().any(|f| f == *k) && !is_identity_field(k))
            .map(|(k, v)| (k.clone(), strip(v)))
            .collect(),
        _ => strip(record),
    }
}

impl fmt::Display for DatasetGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.access {
            None => {}
            Some(Access::Input { key, owner }) => {
                write!(f, ":input{key}")?;
                owner.iter().try_for_each(|p| write!(f, ":owner{p}"))?;
            }
            Some(a) => write!(f, ":{}", a.kind())?,
        }
        match &self.fields {
            Some(fields) => write!(f, ":fields/{}", fields.join("/")),
            None => Ok(()),
        }
    }
}

impl FromStr for DatasetGrant {
    type Err = GrantError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A grant as an object in a contract file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantObject {
    name: String,
    #[serde(default)]
    access: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    owner: Vec<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GrantRepr {
    Text(String),
    Object(GrantObject),
}

impl Serialize for DatasetGrant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DatasetGrant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = match GrantRepr::deserialize(d)? {
            GrantRepr::Text(t) => t,
            GrantRepr::Object(o) => {
                let mut t = o.name;
                if let Some(a) = o.access {
                    t = format!("{t}:{a}{}", o.key.unwrap_or_default());
                    for p in o.owner {
                        t = format!("{t}:owner{p}");
                    }
                }
                if let Some(fields) = o.fields {
                    t = format!("{t}:fields/{}", fields.join("/"));
                }
                t
            }
        };
        DatasetGrant::parse_lenient(&text).map_err(serde::de::Error::custom)
    }
}

/// The pseudonym of `identity` within `scope`: `s` and 32 hex digits of
/// HMAC-SHA256(key, scope NUL identity). Stable for one scope (an app), unlinkable across scopes
/// without the key, and never the identity itself.
pub fn pseudonym(key: &[u8], scope: &str, identity: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(scope.as_bytes());
    mac.update(&[0]);
    mac.update(identity.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("s{}", hex::encode(&digest[..16]))
}

/// The pseudonym of a test-suite subject (a mock person), as both the pipeline and
/// `govmarket app test` compute it.
pub fn suite_pseudonym(identity: &str) -> String {
    pseudonym(SUITE_SUBJECT_KEY, SUITE_SUBJECT_SCOPE, identity)
}

/// Whether `value` names `identity`: a string equal to it, or an array or object holding one.
pub(crate) fn contains_identity(value: &serde_json::Value, identity: &str) -> bool {
    match value {
        serde_json::Value::String(s) => s == identity,
        serde_json::Value::Array(items) => items.iter().any(|v| contains_identity(v, identity)),
        serde_json::Value::Object(map) => map.values().any(|v| contains_identity(v, identity)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grants_parse_print_and_require_a_rule() {
        for text in [
            "social_insurance:subject",
            "holidays:reference",
            "property:input/certificate_no:owner/owner_id_number:owner/co_owners",
        ] {
            let g = DatasetGrant::parse(text).expect(text);
            assert_eq!(g.to_string(), text);
        }
        assert_eq!(
            DatasetGrant::parse("social_insurance"),
            Err(GrantError::MissingRule("social_insurance".into()))
        );
        assert_eq!(
            DatasetGrant::parse(" x : subject ").map(|g| g.to_string()),
            Ok("x:subject".into())
        );
        assert!(DatasetGrant::parse("x:input").is_err());
        assert!(DatasetGrant::parse("x:inputplate").is_err());
        assert!(DatasetGrant::parse("x:everything").is_err());
        assert!(DatasetGrant::parse("x:subject:extra").is_err());
        assert!(DatasetGrant::parse("x:input/a:/b").is_err());
        let object: DatasetGrant = serde_json::from_value(json!(
            {"name": "tv", "access": "input", "key": "/plate", "owner": ["/owner_id_number"]}
        ))
        .expect("object form");
        assert_eq!(object.to_string(), "tv:input/plate:owner/owner_id_number");
        let legacy: DatasetGrant = serde_json::from_value(json!("tv")).expect("lenient");
        assert_eq!(legacy.access, None);
    }

    #[test]
    fn grants_may_name_the_fields_an_app_is_given() {
        let g = DatasetGrant::parse("si:subject:fields/name/records").unwrap();
        assert_eq!(
            g.fields,
            Some(vec!["name".to_owned(), "records".to_owned()])
        );
        assert_eq!(g.to_string(), "si:subject:fields/name/records");
        let g = DatasetGrant::parse("p:input/no:owner/owner_id_number:fields/address").unwrap();
        assert_eq!(
            g.to_string(),
            "p:input/no:owner/owner_id_number:fields/address"
        );
        let object: DatasetGrant = serde_json::from_value(json!(
            {"name": "si", "access": "subject", "fields": ["name"]}
        ))
        .unwrap();
        assert_eq!(object.to_string(), "si:subject:fields/name");
        for bad in [
            "si:subject:fields",
            "si:subject:fields/",
            "si:subject:fields/id_number",
            "si:fields/name",
            "si:subject:fields/a b",
        ] {
            assert!(DatasetGrant::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_projected_record_keeps_granted_fields_and_never_an_identity() {
        let record = json!({"id_number": "X", "name": "沈婷", "months": 3,
            "co_owners": [{"id_number": "Y", "name": "李四"}], "owner_id_number": "X"});
        assert_eq!(
            project(&record, None),
            json!({"name": "沈婷", "months": 3, "co_owners": [{"name": "李四"}]})
        );
        let fields = ["name".to_owned(), "id_number".to_owned()];
        assert_eq!(project(&record, Some(&fields)), json!({"name": "沈婷"}));
        assert_eq!(project(&json!([{"a_id_number": 1}]), None), json!([{}]));
    }

    #[test]
    fn pseudonyms_are_stable_per_scope_and_differ_across_scopes() {
        let a = pseudonym(b"k", "app:1", "330106198806152174");
        assert_eq!(a, pseudonym(b"k", "app:1", "330106198806152174"));
        assert_ne!(a, pseudonym(b"k", "app:2", "330106198806152174"));
        assert_ne!(a, pseudonym(b"other", "app:1", "330106198806152174"));
        assert!(!a.contains("330106198806152174"));
        assert_eq!(a.len(), 33);
    }

    #[test]
    fn owner_fields_contain_the_identity_as_a_string_or_inside_arrays() {
        assert!(contains_identity(&json!("X"), "X"));
        assert!(contains_identity(&json!([{"id_number": "X"}]), "X"));
        assert!(!contains_identity(&json!([{"id_number": "Y"}]), "X"));
        assert!(!contains_identity(&json!(null), "X"));
    }
}
