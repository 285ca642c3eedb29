// Unit tests of the kit library's JSON parser and writer. Built like an app and run by
// `cargo test -p sandbox --test assemblyscript` in the platform's own sandbox: it prints
// "all checks passed" on stdout, or names each failed check on stderr and exits 1.
import { parse, quote, JsonWriter, JsonType, member, memberStr, memberInt, memberBool,
  writeOutput, log, fail } from "../assembly/govmarket";

let failed = 0;
function check(ok: bool, what: string): void {
  if (!ok) {
    failed++;
    log("FAILED: " + what);
  }
}

// Parsing: every type, nesting, escapes, and what is not JSON.
const v = parse(" {\"a\": [1, -2, 3.5e1], \"s\": \"x\\\"y\\\\z\\n\\u00e9\\u4e2d\", \"t\": true, \"f\": false, \"n\": null, \"o\": {\"k\": \"v\"}} ");
check(v !== null, "an object with every type parses");
if (v === null) fail("cannot go on");
{
  const a = member(v, "a")!; // a missing member aborts the run, failing the test
  check(a.type == JsonType.Array && a.length == 3, "the array has 3 items");
  check(a.at(0)!.int() == 1 && a.at(1)!.int() == -2, "integers read exactly");
  check(a.at(2)!.int(7) == 7 && a.at(2)!.num() == 35.0, "a fraction is no integer, but a number");
  check(a.at(3) === null && a.at(-1) === null, "out-of-range elements are null");
  check(memberStr(v, "s") == "x\"y\\z\n\u00e9\u4e2d", "escapes decode, \\u included");
  check(memberBool(v, "t") && !memberBool(v, "f", true), "booleans");
  check(member(v, "n")!.type == JsonType.Null, "null");
  check(memberStr(member(v, "o"), "k") == "v", "nested object");
  check(member(v, "missing") === null && memberInt(member(v, "missing"), "x", 9) == 9,
    "a missing member reads as the fallback");
}
check(parse("9007199254740993")!.int() == 9007199254740993, "integers beyond 2^53 stay exact");
check(parse("\"中文\"")!.str() == "中文", "UTF-16 text survives");
check(parse("") === null, "empty text is not JSON");
check(parse("{\"a\":1,}") === null, "a trailing comma is refused");
check(parse("{\"a\" 1}") === null, "a missing colon is refused");
check(parse("[1 2]") === null, "a missing comma is refused");
check(parse("\"open") === null, "an open string is refused");
check(parse("{} x") === null, "text after the value is refused");
let deep = "";
for (let i = 0; i < 100; i++) deep += "[";
check(parse(deep) === null, "nesting past the depth limit is refused, not a stack overflow");

// Writing: commas, escaping, and refusing instead of truncating.
const w = new JsonWriter();
w.object().key("a").array().int(1).int(-2).bool(true).null().end()
  .key("s").string("q\"\\\n\t\u0001中").key("o").object().end().end();
const text = w.finish();
check(text !== null && text! == "{\"a\":[1,-2,true,null],\"s\":\"q\\\"\\\\\\n\\t\\u0001中\",\"o\":{}}",
  "the writer's text: " + (text !== null ? text! : "null"));
check(memberStr(parse(text !== null ? text! : ""), "s") == "q\"\\\n\t\u0001中",
  "written text parses back");
const small = new JsonWriter(8);
small.array().string("0123456789").end();
check(small.finish() === null, "running out of room is reported, never truncated");
const open = new JsonWriter();
open.object().key("a").int(1);
check(open.finish() === null, "an open object is not finished");
const unbalanced = new JsonWriter();
unbalanced.array().end().end();
check(unbalanced.finish() === null, "closing more than was opened is refused");
const dangling = new JsonWriter();
dangling.object().key("a").end();
check(dangling.finish() === null, "a key without its value is refused");
check(quote("\u001f") == "\"\\u001f\"", "control characters are escaped as \\u00XX");

if (failed > 0) fail(failed.toString() + " check(s) failed");
writeOutput("\"all checks passed\"");
