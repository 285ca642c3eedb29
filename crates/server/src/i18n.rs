//! Message catalogues (zh-CN first, en second), compiled into the binary
//! from `web/i18n/*.toml` so the server runs from any directory.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use service::{Msg, ServiceError};

pub const LANG_COOKIE: &str = "gm_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh-CN" | "zh" | "zh-cn" => Some(Lang::ZhCn),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }

    /// The saved choice, else the browser's first supported preference,
    /// else Chinese: the platform serves a Chinese public first.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let jar = CookieJar::from_headers(headers);
        if let Some(l) = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        for part in accept.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::ZhCn;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::ZhCn
    }

    pub fn catalog(self) -> &'static Catalog {
        match self {
            Lang::ZhCn => &ZH_CN,
            Lang::En => &EN,
        }
    }
}

impl Lang {
    /// A use case's message in this language: the catalogue's text with
    /// each `{name}` replaced by its argument.
    pub fn render(self, msg: &Msg) -> String {
        let mut text = self.catalog().t(&msg.key).to_owned();
        for (name, value) in &msg.args {
            let value = match (msg.key.as_ref(), *name) {
                ("err.role_required", "roles") => self.role_list(value),
                _ => value.clone(),
            };
            text = text.replace(&format!("{{{name}}}"), &value);
        }
        text
    }

    /// Roles given by their codes (`citizen,isv`), named in this language.
    fn role_list(self, codes: &str) -> String {
        let names: Vec<String> = codes
            .split(',')
            .map(|c| self.catalog().t(&format!("role.{c}")).to_owned())
            .collect();
        names.join(self.catalog().t("list.or"))
    }

    /// What a person is told of a use case's refusal, in this language.
    pub fn error_message(self, e: &ServiceError) -> String {
        match e {
            ServiceError::NotFound(thing) => {
                self.render(&Msg::new("err.not_found").arg("thing", self.catalog().t(thing.key())))
            }
            ServiceError::Unauthenticated(m)
            | ServiceError::Forbidden(m)
            | ServiceError::Refused { msg: m, .. }
            | ServiceError::TooLarge(m)
            | ServiceError::Gone(m)
            | ServiceError::Unavailable(m)
            | ServiceError::Conflict { msg: m, .. }
            | ServiceError::Invalid { msg: m, .. }
            | ServiceError::Unprocessable { msg: m, .. }
            | ServiceError::BadRequest { msg: m, .. } => self.render(m),
            ServiceError::RateLimited { .. } => self.catalog().t("err.rate_limited").to_owned(),
            ServiceError::Internal(_) => self.catalog().t("err.internal").to_owned(),
        }
    }
}

/// A message in both languages, Chinese first: what the JSON API and the
/// command line say, for readers of either.
pub fn bilingual(msg: &Msg) -> String {
    let zh = Lang::ZhCn.render(msg);
    let en = Lang::En.render(msg);
    if zh == en { zh } else { format!("{zh} / {en}") }
}

pub struct Catalog {
    messages: HashMap<String, String>,
}

/// One file per area of the site (`web/i18n/<lang>/<area>.toml`), so that
/// areas grow their messages independently. Add an area in both lists.
const ZH_CN_FILES: &[&str] = &[
    include_str!("../../../web/i18n/zh-CN/core.toml"),
    include_str!("../../../web/i18n/zh-CN/finance.toml"),
    include_str!("../../../web/i18n/zh-CN/orders.toml"),
    include_str!("../../../web/i18n/zh-CN/dept.toml"),
    include_str!("../../../web/i18n/zh-CN/isv.toml"),
    include_str!("../../../web/i18n/zh-CN/market.toml"),
    include_str!("../../../web/i18n/zh-CN/complaints.toml"),
    include_str!("../../../web/i18n/zh-CN/supervise.toml"),
    include_str!("../../../web/i18n/zh-CN/errors.toml"),
    include_str!("../../../web/i18n/zh-CN/errors-market.toml"),
    include_str!("../../../web/i18n/zh-CN/errors-complaints.toml"),
    include_str!("../../../web/i18n/zh-CN/errors-orders.toml"),
    include_str!("../../../web/i18n/zh-CN/errors-apps.toml"),
    include_str!("../../../web/i18n/zh-CN/errors-settle.toml"),
    include_str!("../../../web/i18n/zh-CN/errors-supervise.toml"),
];
const EN_FILES: &[&str] = &[
    include_str!("../../../web/i18n/en/core.toml"),
    include_str!("../../../web/i18n/en/finance.toml"),
    include_str!("../../../web/i18n/en/orders.toml"),
    include_str!("../../../web/i18n/en/dept.toml"),
    include_str!("../../../web/i18n/en/isv.toml"),
    include_str!("../../../web/i18n/en/market.toml"),
    include_str!("../../../web/i18n/en/complaints.toml"),
    include_str!("../../../web/i18n/en/supervise.toml"),
    include_str!("../../../web/i18n/en/errors.toml"),
    include_str!("../../../web/i18n/en/errors-market.toml"),
    include_str!("../../../web/i18n/en/errors-complaints.toml"),
    include_str!("../../../web/i18n/en/errors-orders.toml"),
    include_str!("../../../web/i18n/en/errors-apps.toml"),
    include_str!("../../../web/i18n/en/errors-settle.toml"),
    include_str!("../../../web/i18n/en/errors-supervise.toml"),
];

impl Catalog {
    fn parse(files: &[&str]) -> Catalog {
        let mut messages = HashMap::new();
        for text in files {
            // The catalogues are part of the binary and covered by tests, so
            // a parse failure is a build defect, not a runtime condition.
            let part: HashMap<String, String> =
                toml::from_str(text).expect("message catalogue is valid TOML of strings");
            messages.extend(part);
        }
        Catalog { messages }
    }

    /// The message for `key`; falls back to Chinese, then to the key itself
    /// so a missing message is visible rather than blank.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages
            .get(key)
            .or_else(|| ZH_CN.messages.get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }
}

static ZH_CN: LazyLock<Catalog> = LazyLock::new(|| Catalog::parse(ZH_CN_FILES));
static EN: LazyLock<Catalog> = LazyLock::new(|| Catalog::parse(EN_FILES));

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn both_catalogues_have_the_same_keys_and_no_empty_message() {
        let zh: BTreeSet<_> = ZH_CN.messages.keys().collect();
        let en: BTreeSet<_> = EN.messages.keys().collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "zh only: {only_zh:?}; en only: {only_en:?}"
        );
        for c in [&*ZH_CN, &*EN] {
            assert!(c.messages.values().all(|m| !m.trim().is_empty()));
        }
    }

    #[test]
    fn no_area_redefines_another_areas_key() {
        for files in [ZH_CN_FILES, EN_FILES] {
            let mut seen = BTreeSet::new();
            for text in files {
                let part: HashMap<String, String> = toml::from_str(text).unwrap();
                for k in part.into_keys() {
                    assert!(seen.insert(k.clone()), "key {k} is defined twice");
                }
            }
        }
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let mut used = BTreeSet::new();
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/templates"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src"),
        ];
        for dir in dirs {
            for entry in walk(std::path::Path::new(dir)) {
                let text = std::fs::read_to_string(&entry).unwrap();
                // a catalogue lookup is a method call: `page.t("…")`, `catalog.t("…")`
                for (i, _) in text.match_indices(".t(\"") {
                    let rest = &text[i + 4..];
                    if let Some(end) = rest.find('"') {
                        used.insert(rest[..end].to_owned());
                    }
                }
            }
        }
        assert!(used.len() > 20, "found too few keys: {used:?}");
        let missing: Vec<_> = used
            .iter()
            .filter(|k| !ZH_CN.messages.contains_key(k.as_str()) && k.contains('.'))
            .collect();
        assert!(
            missing.is_empty(),
            "keys used but not in zh-CN.toml: {missing:?}"
        );
    }

    /// The use cases name their messages by key; each must be in both
    /// catalogues (the first test checks the two have the same keys).
    #[test]
    fn every_message_key_of_the_use_cases_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../service/src");
        let mut used = BTreeSet::new();
        for entry in walk(std::path::Path::new(dir)) {
            let text = std::fs::read_to_string(&entry).unwrap();
            for opener in ["Msg::new(\"", "forbidden(\"", "\"thing."] {
                for (i, _) in text.match_indices(opener) {
                    let start = i + opener.len();
                    let rest = &text[start..];
                    if let Some(end) = rest.find('"') {
                        let key = &rest[..end];
                        used.insert(if opener == "\"thing." {
                            format!("thing.{key}")
                        } else {
                            key.to_owned()
                        });
                    }
                }
            }
            // FieldError::new("field", "code") shows `account.<code>`.
            for (i, _) in text.match_indices("FieldError::new(\"") {
                let args = &text[i..];
                if let Some(code) = args.split('"').nth(3) {
                    used.insert(format!("account.{code}"));
                }
            }
        }
        assert!(used.len() > 20, "found too few keys: {used:?}");
        let missing: Vec<_> = used
            .iter()
            .filter(|k| !ZH_CN.messages.contains_key(k.as_str()))
            .collect();
        assert!(missing.is_empty(), "message keys missing: {missing:?}");
    }

    #[test]
    fn a_message_is_rendered_with_its_arguments_in_each_language() {
        let m = Msg::new("err.too_long").arg("max", 40);
        assert_eq!(Lang::ZhCn.render(&m), "不能超过 40 个字符");
        assert_eq!(Lang::En.render(&m), "at most 40 characters");
        assert_eq!(bilingual(&m), "不能超过 40 个字符 / at most 40 characters");
        let roles = service::actor::role_required(&[domain::Role::Citizen, domain::Role::Isv]);
        assert_eq!(
            Lang::En.render(&roles),
            "this action requires role Citizen or Software vendor"
        );
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = vec![];
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "html" || x == "rs") {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn language_comes_from_cookie_then_browser_then_defaults_to_chinese() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::ZhCn);
        h.insert("accept-language", "en-GB,en;q=0.9".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert("cookie", "gm_lang=zh-CN".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::ZhCn);
    }
}
