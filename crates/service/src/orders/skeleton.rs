//! The starter kit's skeleton app: C source that builds with clang and
//! wasi-libc and answers every request with an output that satisfies the
//! order's output schema. The cases fail until the vendor writes the
//! rules, but the module, the ABI and the schema are right from the start.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// The first value of a schema's type list that is not `null`, if any.
fn first_type(schema: &Map<String, Value>) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t.as_str()),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .or_else(|| ts.first().and_then(Value::as_str)),
        _ => None,
    }
}

fn bound(schema: &Map<String, Value>, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

/// The smallest integer the schema's bounds admit, nearest to zero.
fn default_integer(schema: &Map<String, Value>) -> i64 {
    let low = [
        bound(schema, "minimum").map(f64::ceil),
        bound(schema, "exclusiveMinimum").map(|m| m.floor() + 1.0),
    ]
    .into_iter()
    .flatten()
    .reduce(f64::max);
    let high = [
        bound(schema, "maximum").map(f64::floor),
        bound(schema, "exclusiveMaximum").map(|m| m.ceil() - 1.0),
    ]
    .into_iter()
    .flatten()
    .reduce(f64::min);
    let v = match (low, high) {
        (Some(l), _) if l > 0.0 => l,
        (_, Some(h)) if h < 0.0 => h,
        _ => 0.0,
    };
    // Bounds come from a JSON number; far outside i64 they saturate.
    v as i64
}

/// A value that satisfies `schema` for the parts of JSON Schema an order's
/// output uses: types, required properties, `const`, `enum`, bounds,
/// lengths, `oneOf`/`anyOf`/`allOf` (the first branch).
pub fn default_value(schema: &Value) -> Value {
    let Some(s) = schema.as_object() else {
        return Value::Null;
    };
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if let Some(first) = s
            .get(combinator)
            .and_then(Value::as_array)
            .and_then(|b| b.first())
            && first_type(s).is_none()
        {
            return default_value(first);
        }
    }
    match first_type(s) {
        Some("object") => {
            let properties = s.get("properties").and_then(Value::as_object);
            let mut out = Map::new();
            for key in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let property = properties
                    .and_then(|p| p.get(key))
                    .cloned()
                    .unwrap_or(Value::Null);
                out.insert(key.to_owned(), default_value(&property));
            }
            Value::Object(out)
        }
        Some("array") => {
            let n = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = s.get("items").cloned().unwrap_or(Value::Null);
            Value::Array((0..n).map(|_| default_value(&item)).collect())
        }
        Some("string") => {
            let n = s.get("minLength").and_then(Value::as_u64).unwrap_or(0);
            Value::String("x".repeat(usize::try_from(n).unwrap_or(0)))
        }
        Some("integer") => Value::from(default_integer(s)),
        Some("number") => Value::from(default_integer(s)),
        Some("boolean") => Value::Bool(false),
        _ => Value::Null,
    }
}

/// `s` as a C string literal.
fn c_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // `?` starts a trigraph in old C; escaped, it is always itself.
            '?' => out.push_str("\\?"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The skeleton's `app.c` for an order titled `title` whose contract has
/// `output_schema` and grants `datasets`.
pub fn app_c(
    title: &str,
    order_id: i64,
    output_schema: &Value,
    datasets: &[sandbox::DatasetGrant],
) -> String {
    let mut writes = String::new();
    emit(Dialect::C, &default_value(output_schema), 4, &mut writes);
    // The title goes into a comment: it must not close it.
    let title = title.replace("*/", "* /");
    let grants = if datasets.is_empty() {
        "this order grants no dataset".to_owned()
    } else {
        let list: Vec<String> = datasets.iter().map(ToString::to_string).collect();
        format!("datasets granted: {}", list.join("; "))
    };
    let example = datasets.first().map_or("DATASET", |d| d.name.as_str());
    format!(
        r#"/*
 * {title} (order {order_id}): a skeleton app.
 *
 * It reads the request and answers with an output that satisfies the order's output schema,
 * so it builds, runs and is checked from the start; the cases fail until the rules are written.
 * Write them in the marked place: README.md and cases.json say what the order expects, ABI.md
 * how an app talks to the platform.
 *
 * Build:  sh build.sh        (or: make)
 * Check:  govmarket app test app.wasm --suite .
 */
#include "govmarket.h"

int main(void) {{
    size_t len = 0;
    char *request_text = gm_read_request(&len);
    gm_json *request = request_text ? gm_json_parse(request_text, len) : NULL;
    if (!request) return 1;
    gm_json *input = gm_json_get(request, "input");
    const char *subject = gm_json_str(gm_json_get(gm_json_get(request, "context"), "subject"), "");
    (void)input;
    (void)subject;

    /* ---- the order's rules go here ------------------------------------------------------
     * Read the citizen's input from `input`, and their records with
     *     int32_t code;
     *     char *record = gm_query("{example}", subject, &code);   (NULL when code < 0; free it)
     * ({grants}). A `subject` dataset answers only the subject token, an `input` one only
     * the key at its pointer of `input` (GM_QUERY_REFUSED otherwise; see ABI.md). Then
     * write the answer below instead of these defaults. */

    static char out[65536];
    gm_writer w;
    gm_w_init(&w, out, sizeof out);
{writes}    if (gm_w_finish(&w) != GM_W_OK) return 1;
    int rc = gm_write_output(out);
    gm_json_free(request);
    free(request_text);
    return rc == 0 ? 0 : 1;
}}
"#
    )
}

/// `s` as an AssemblyScript (TypeScript) string literal.
fn ts_string(s: &str) -> String {
    // JSON's string syntax is a subset of TypeScript's, and `\u2028`/`\u2029`
    // are legal in TypeScript literals since ES2019.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The language a skeleton's output writer is emitted in: the C kit's
/// `gm_w_*` functions or the AssemblyScript kit's `JsonWriter` methods,
/// which have the same names and take the same arguments.
#[derive(Clone, Copy)]
enum Dialect {
    C,
    AssemblyScript,
}

impl Dialect {
    /// Indentation per nesting level, as each language's samples are written.
    fn step(self) -> usize {
        match self {
            Self::C => 4,
            Self::AssemblyScript => 2,
        }
    }

    fn literal(self, s: &str) -> String {
        match self {
            Self::C => c_string(s),
            Self::AssemblyScript => ts_string(s),
        }
    }

    /// One writer call on a line of its own, `arg` its argument if any.
    fn call(self, out: &mut String, indent: usize, method: &str, arg: Option<&str>) {
        let pad = " ".repeat(indent);
        let _ = match (self, arg) {
            (Self::C, None) => writeln!(out, "{pad}gm_w_{method}(&w);"),
            (Self::C, Some(a)) => writeln!(out, "{pad}gm_w_{method}(&w, {a});"),
            (Self::AssemblyScript, a) => writeln!(out, "{pad}w.{method}({});", a.unwrap_or("")),
        };
    }
}

/// The writer calls, one per line, that write `value` in `dialect`.
fn emit(dialect: Dialect, value: &Value, indent: usize, out: &mut String) {
    let step = dialect.step();
    match value {
        Value::Null => dialect.call(out, indent, "null", None),
        Value::Bool(b) => {
            let arg = match dialect {
                Dialect::C => i32::from(*b).to_string(),
                Dialect::AssemblyScript => b.to_string(),
            };
            dialect.call(out, indent, "bool", Some(&arg));
        }
        Value::Number(n) => match n.as_i64() {
            Some(i) => dialect.call(out, indent, "int", Some(&i.to_string())),
            None => dialect.call(out, indent, "raw", Some(&dialect.literal(&n.to_string()))),
        },
        Value::String(s) => dialect.call(out, indent, "string", Some(&dialect.literal(s))),
        Value::Array(items) => {
            dialect.call(out, indent, "array", None);
            for item in items {
                emit(dialect, item, indent + step, out);
            }
            dialect.call(out, indent, "end", None);
        }
        Value::Object(map) => {
            dialect.call(out, indent, "object", None);
            for (k, v) in map {
                dialect.call(out, indent + step, "key", Some(&dialect.literal(k)));
                emit(dialect, v, indent + step, out);
            }
            dialect.call(out, indent, "end", None);
        }
    }
}

/// The AssemblyScript skeleton's `assembly/index.ts`: the same start as
/// [`app_c`], written with the kit's `govmarket.ts`.
pub fn index_ts(
    title: &str,
    order_id: i64,
    output_schema: &Value,
    datasets: &[sandbox::DatasetGrant],
) -> String {
    let mut writes = String::new();
    emit(
        Dialect::AssemblyScript,
        &default_value(output_schema),
        0,
        &mut writes,
    );
    let title = title.replace(['\n', '\r'], " ");
    let grants = if datasets.is_empty() {
        "this order grants no dataset".to_owned()
    } else {
        let list: Vec<String> = datasets.iter().map(ToString::to_string).collect();
        format!("datasets granted: {}", list.join("; "))
    };
    let example = datasets.first().map_or("DATASET", |d| d.name.as_str());
    format!(
        r#"// {title} (order {order_id}): a skeleton app in AssemblyScript.
//
// It reads the request and answers with an output that satisfies the order's output schema,
// so it builds, runs and is checked from the start; the cases fail until the rules are written.
// Write them in the marked place: README.md and cases.json say what the order expects, ABI.md
// how an app talks to the platform, assembly/govmarket.ts what the library offers.
//
// Build:  sh build.sh        (npm fetches the pinned AssemblyScript compiler once)
// Check:  govmarket app test app.wasm --suite .
import {{ readRequest, parse, member, memberStr, writeOutput, fail, JsonWriter }}
  from "./govmarket";
// Also there: query, QUERY_REFUSED and the other codes, memberInt, memberBool, log.

const request = parse(readRequest());
if (request === null) fail("request is not JSON");
const input = member(request, "input");
const subject = memberStr(member(request, "context"), "subject");

// ---- the order's rules go here ----------------------------------------------------------
// Read the citizen's input from `input`, and their records with
//     const answer = query({example}, subject);   // answer.record: Json | null, answer.code
// ({grants}). A `subject` dataset answers only the subject token, an `input` one only the key
// at its pointer of `input` (QUERY_REFUSED otherwise; see ABI.md). Then write the answer below
// instead of these defaults.

const w = new JsonWriter();
{writes}const out = w.finish();
if (out === null) fail("the answer does not fit");
writeOutput(out!);
"#,
        example = ts_string(example),
    )
}

/// The AssemblyScript library, compiler settings and example of the guest kit.
pub const GOVMARKET_TS: &str =
    include_str!("../../../../sandbox/guest/assemblyscript/assembly/govmarket.ts");
pub const ASCONFIG_JSON: &str =
    include_str!("../../../../sandbox/guest/assemblyscript/asconfig.json");

/// The AssemblyScript project's `package.json`: the compiler pinned to the
/// version the platform's own kit is built and tested with.
pub const PACKAGE_JSON: &str = r#"{
  "name": "govmarket-app",
  "private": true,
  "scripts": { "build": "sh build.sh" },
  "devDependencies": { "assemblyscript": "0.28.20" }
}
"#;

/// The AssemblyScript project's `build.sh`.
pub const BUILD_SH_AS: &str = r#"#!/bin/sh
# Builds app.wasm from assembly/index.ts with the AssemblyScript compiler (Node.js and npm;
# the first run installs the pinned compiler into node_modules/).
set -eu
cd "$(dirname "$0")"
[ -x node_modules/.bin/asc ] || npm install --no-audit --no-fund --silent
node_modules/.bin/asc assembly/index.ts --config asconfig.json -o app.wasm
echo "built app.wasm ($(wc -c < app.wasm) bytes); check it: govmarket app test app.wasm --suite ."
"#;

/// The kit's `build.sh`.
pub const BUILD_SH: &str = r#"#!/bin/sh
# Builds app.wasm from app.c with clang and wasi-libc. On Debian/Ubuntu:
#   apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32
# or a wasi-sdk: CC=/path/to/wasi-sdk/bin/clang sh build.sh
set -eu
cd "$(dirname "$0")"
CC="${CC:-clang}"
"$CC" --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-debug -o app.wasm app.c
echo "built app.wasm ($(wc -c < app.wasm) bytes); check it: govmarket app test app.wasm --suite ."
"#;

/// The kit's `Makefile` (`make`, `make test`).
pub const MAKEFILE: &str = "WASM_CC ?= clang\n\
\n\
app.wasm: app.c govmarket.h\n\
\t$(WASM_CC) --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-debug -o $@ app.c\n\
\n\
test: app.wasm\n\
\tgovmarket app test app.wasm --suite .\n\
\n\
.PHONY: test\n";

/// The guest header and the ABI guide, as committed with the sandbox.
pub const GOVMARKET_H: &str = include_str!("../../../../sandbox/guest/govmarket.h");
pub const ABI_MD: &str = include_str!("../../../../sandbox/guest/ABI.md");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_output_satisfies_each_demo_orders_output_schema() {
        let suites = concat!(env!("CARGO_MANIFEST_DIR"), "/../../mock-data/suites");
        let mut seen = 0;
        for entry in std::fs::read_dir(suites).unwrap() {
            let path = entry.unwrap().path().join("contract.json");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let contract: Value = serde_json::from_str(&text).unwrap();
            let schema = &contract["output_schema"];
            let value = default_value(schema);
            let validator = jsonschema::validator_for(schema).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{}: {value} fails: {errors:?}",
                path.display()
            );
            seen += 1;
        }
        assert!(seen >= 4, "the four demo services' contracts, found {seen}");
    }

    #[test]
    fn defaults_respect_bounds_lengths_and_choices() {
        let schema = json!({
            "type": "object",
            "required": ["n", "m", "s", "e", "k", "a", "o"],
            "properties": {
                "n": {"type": "integer", "minimum": 3},
                "m": {"type": "integer", "maximum": -2},
                "s": {"type": "string", "minLength": 2},
                "e": {"enum": ["yes", "no"]},
                "k": {"const": 7},
                "a": {"type": "array", "minItems": 1, "items": {"type": "boolean"}},
                "o": {"type": ["null", "object"]}
            }
        });
        assert_eq!(
            default_value(&schema),
            json!({"n": 3, "m": -2, "s": "xx", "e": "yes", "k": 7, "a": [false], "o": {}})
        );
    }

    #[test]
    fn the_project_pins_the_compiler_the_kit_is_built_with() {
        let kit: Value = serde_json::from_str(include_str!(
            "../../../../sandbox/guest/assemblyscript/package.json"
        ))
        .unwrap();
        let project: Value = serde_json::from_str(PACKAGE_JSON).unwrap();
        let pinned = &kit["devDependencies"]["assemblyscript"];
        assert!(pinned.is_string());
        assert_eq!(&project["devDependencies"]["assemblyscript"], pinned);
    }

    #[test]
    fn the_assemblyscript_skeleton_writes_the_default_output() {
        let ts = index_ts(
            "a\nb",
            5,
            &json!({"type": "object", "required": ["ok", "why"],
            "properties": {"ok": {"type": "boolean"}, "why": {"enum": ["x\"y"]}}}),
            &[sandbox::DatasetGrant::new(
                "people",
                sandbox::Access::Subject,
            )],
        );
        assert!(ts.starts_with("// a b (order 5)"), "{ts}");
        assert!(
            ts.contains("w.key(\"ok\");\n  w.bool(false);") && ts.contains("w.string(\"x\\\"y\");"),
            "{ts}"
        );
        assert!(ts.contains("query(\"people\", subject)"), "{ts}");
    }

    #[test]
    fn strings_become_c_literals_that_say_exactly_them() {
        assert_eq!(c_string("a\"b\\c\n?"), r#""a\"b\\c\n\?""#);
        assert_eq!(c_string("查询"), "\"查询\"");
        let c = app_c(
            "x */ y",
            3,
            &json!({"type": "object", "required": ["ok"],
            "properties": {"ok": {"type": "boolean"}}}),
            &[sandbox::DatasetGrant::new(
                "people",
                sandbox::Access::Subject,
            )],
        );
        assert!(
            !c.contains("x */ y"),
            "the title cannot end the comment: {c}"
        );
        assert!(
            c.contains("gm_w_key(&w, \"ok\");") && c.contains("gm_w_bool(&w, 0);"),
            "{c}"
        );
        assert!(c.contains("gm_query(\"people\""), "{c}");
    }
}
