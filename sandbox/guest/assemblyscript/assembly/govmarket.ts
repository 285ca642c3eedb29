// govmarket.ts - guest kit for the govmarket app ABI v2 (AssemblyScript).
//
// One file, no other dependency than the compiler. Import what you need from it:
//
//   readRequest()        the whole stdin (the request JSON) as a string
//   parse()              parse JSON into a Json tree; get() / at() / str() / int() / bool()
//   query()              gov.query: one record of a granted dataset, parsed
//   JsonWriter           write JSON: objects, arrays, escaped strings, integers, booleans;
//                        reports running out of room (its limit) instead of truncating
//   writeOutput()        write the response JSON to stdout
//   log()                a line to stderr (the ISV's log; never shown to citizens)
//   fail()               log a line and end the run with exit code 1
//
// ABI.md next to this kit is the full contract. Build with asconfig.json's settings: they route
// AssemblyScript's abort to stderr and export the top-level statements as `_start`, so the module
// imports only `wasi_snapshot_preview1` and `gov`.

// ---- WASI preview 1: the three calls an app needs ------------------------------------------

@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, iovs_len: u32, nread: usize): u16;

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovs_len: u32, nwritten: usize): u16;

@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

// ---- gov.query ------------------------------------------------------------------------------

@external("gov", "query")
declare function gov_query(
  dataset: usize, dataset_len: i32, key: usize, key_len: i32, buf: usize, buf_cap: i32,
): i32;

/** The dataset is not granted by the order's contract. */
export const QUERY_NOT_PERMITTED: i32 = -1;
/** No record under that key. */
export const QUERY_NOT_FOUND: i32 = -2;
/** A bad pointer, a name that is not UTF-8, a name over 64 or a key over 256 bytes. */
export const QUERY_BAD_ARGUMENTS: i32 = -3;
/** This run used its query quota. */
export const QUERY_QUOTA_EXCEEDED: i32 = -4;
/** ABI v2: the dataset is granted, but its access rule does not reach this record. */
export const QUERY_REFUSED: i32 = -5;
/** The app ABI version this kit implements (ABI.md, "Changes"). */
export const ABI_VERSION: i32 = 2;

/** A query's answer: `record` when `code >= 0` (the record's length), else null. */
export class QueryResult {
  constructor(public code: i32, public record: Json | null) {}
}

/**
 * Looks up `key` in `dataset`. Starts with a 16 KiB buffer and retries once with the exact size
 * (each call counts against the run's query quota). A record that is not JSON answers
 * `QUERY_BAD_ARGUMENTS`.
 */
export function query(dataset: string, key: string): QueryResult {
  const name = String.UTF8.encode(dataset);
  const k = String.UTF8.encode(key);
  let cap = 16 * 1024;
  for (let attempt = 0; attempt < 2; attempt++) {
    const buf = new ArrayBuffer(cap);
    const n = gov_query(
      changetype<usize>(name), name.byteLength, changetype<usize>(k), k.byteLength,
      changetype<usize>(buf), cap,
    );
    if (n < 0) return new QueryResult(n, null);
    if (n <= cap) {
      const text = String.UTF8.decodeUnsafe(changetype<usize>(buf), <usize>n);
      const record = parse(text);
      return record ? new QueryResult(n, record) : new QueryResult(QUERY_BAD_ARGUMENTS, null);
    }
    cap = n;
  }
  return new QueryResult(QUERY_BAD_ARGUMENTS, null);
}

// ---- stdin, stdout, stderr ------------------------------------------------------------------

/** The whole of stdin, decoded as UTF-8. */
export function readRequest(): string {
  const chunk = 64 * 1024;
  let data = new Uint8Array(chunk);
  let used = 0;
  const iov = memory.data(16);
  const nread = memory.data(8);
  while (true) {
    if (data.length - used < 4096) {
      const bigger = new Uint8Array(data.length * 2);
      bigger.set(data);
      data = bigger;
    }
    store<usize>(iov, data.dataStart + <usize>used);
    store<usize>(iov, <usize>(data.length - used), sizeof<usize>());
    const err = fd_read(0, iov, 1, nread);
    const n = <i32>load<usize>(nread);
    if (err != 0 || n == 0) break;
    used += n;
  }
  return String.UTF8.decodeUnsafe(data.dataStart, <usize>used);
}

function writeAll(fd: u32, text: string): bool {
  const bytes = String.UTF8.encode(text);
  const iov = memory.data(16);
  const written = memory.data(8);
  let done: usize = 0;
  const total = <usize>bytes.byteLength;
  while (done < total) {
    store<usize>(iov, changetype<usize>(bytes) + done);
    store<usize>(iov, total - done, sizeof<usize>());
    if (fd_write(fd, iov, 1, written) != 0) return false;
    const n = load<usize>(written);
    if (n == 0) return false;
    done += n;
  }
  return true;
}

/** Writes the response (one JSON value) to stdout. */
export function writeOutput(json: string): bool {
  return writeAll(1, json + "\n");
}

/** One line to stderr: your log, kept (cut to 4 KiB per case) in your test reports. */
export function log(line: string): void {
  writeAll(2, line + "\n");
}

/** Logs `why` and ends the run with exit code 1 (the case fails as `runtime_error`). */
export function fail(why: string): void {
  log(why);
  proc_exit(1);
}

/** AssemblyScript's `abort` (a failed assertion, an index out of range), routed by asconfig.json. */
export function gmAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  log("abort: " + (message !== null ? message : "") + " at " + (file !== null ? file : "?") + ":" +
    line.toString() + ":" + column.toString());
  proc_exit(1);
}

// ---- JSON: a small tree and its parser ------------------------------------------------------

export enum JsonType { Null, Bool, Number, String, Array, Object }

/** A parsed JSON value. Numbers keep their text, so large integers stay exact. */
export class Json {
  type: JsonType = JsonType.Null;
  boolean: bool = false;
  text: string = "";
  items: Json[] = [];
  keys: string[] = [];

  /** The member `key` of an object, or null. */
  get(key: string): Json | null {
    if (this.type != JsonType.Object) return null;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) return this.items[i];
    }
    return null;
  }

  /** The element `i` of an array, or null. */
  at(i: i32): Json | null {
    if (this.type != JsonType.Array || i < 0 || i >= this.items.length) return null;
    return this.items[i];
  }

  /** The number of elements of an array or members of an object. */
  get length(): i32 {
    return this.type == JsonType.Array || this.type == JsonType.Object ? this.items.length : 0;
  }

  /** A string's value, or `fallback`. */
  str(fallback: string = ""): string {
    return this.type == JsonType.String ? this.text : fallback;
  }

  /** An integral number's value, or `fallback`. */
  int(fallback: i64 = 0): i64 {
    if (this.type != JsonType.Number || this.text.includes(".") || this.text.includes("e") ||
      this.text.includes("E")) return fallback;
    return I64.parseInt(this.text, 10);
  }

  /** A number's value as f64, or `fallback`. */
  num(fallback: f64 = 0): f64 {
    return this.type == JsonType.Number ? F64.parseFloat(this.text) : fallback;
  }

  /** A boolean's value, or `fallback`. */
  bool(fallback: bool = false): bool {
    return this.type == JsonType.Bool ? this.boolean : fallback;
  }
}

/** `value.get(key)` that reads through a missing value. */
export function member(value: Json | null, key: string): Json | null {
  return value ? value.get(key) : null;
}

/** The string at `value.get(key)`, or `fallback`. */
export function memberStr(value: Json | null, key: string, fallback: string = ""): string {
  const m = member(value, key);
  return m ? m.str(fallback) : fallback;
}

/** The integer at `value.get(key)`, or `fallback`. */
export function memberInt(value: Json | null, key: string, fallback: i64 = 0): i64 {
  const m = member(value, key);
  return m ? m.int(fallback) : fallback;
}

/** The boolean at `value.get(key)`, or `fallback`. */
export function memberBool(value: Json | null, key: string, fallback: bool = false): bool {
  const m = member(value, key);
  return m ? m.bool(fallback) : fallback;
}

/** Deepest nesting the parser follows (a request cannot exhaust the stack). */
const MAX_DEPTH = 64;

class Parser {
  pos: i32 = 0;
  ok: bool = true;
  constructor(public s: string) {}

  ws(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.pos++;
    }
  }

  value(depth: i32): Json {
    const v = new Json();
    this.ws();
    if (depth > MAX_DEPTH || this.pos >= this.s.length) {
      this.ok = false;
      return v;
    }
    const c = this.s.charCodeAt(this.pos);
    if (c == 0x7b) {
      v.type = JsonType.Object;
      this.pos++;
      this.ws();
      if (this.peek() == 0x7d) { this.pos++; return v; }
      while (this.ok) {
        this.ws();
        if (this.peek() != 0x22) { this.ok = false; break; }
        v.keys.push(this.string());
        this.ws();
        if (this.peek() != 0x3a) { this.ok = false; break; }
        this.pos++;
        v.items.push(this.value(depth + 1));
        this.ws();
        const d = this.peek();
        this.pos++;
        if (d == 0x7d) break;
        if (d != 0x2c) this.ok = false;
      }
    } else if (c == 0x5b) {
      v.type = JsonType.Array;
      this.pos++;
      this.ws();
      if (this.peek() == 0x5d) { this.pos++; return v; }
      while (this.ok) {
        v.items.push(this.value(depth + 1));
        this.ws();
        const d = this.peek();
        this.pos++;
        if (d == 0x5d) break;
        if (d != 0x2c) this.ok = false;
      }
    } else if (c == 0x22) {
      v.type = JsonType.String;
      v.text = this.string();
    } else if (this.word("true")) {
      v.type = JsonType.Bool;
      v.boolean = true;
    } else if (this.word("false")) {
      v.type = JsonType.Bool;
    } else if (this.word("null")) {
      v.type = JsonType.Null;
    } else {
      const start = this.pos;
      while (this.pos < this.s.length) {
        const d = this.s.charCodeAt(this.pos);
        const numeric = (d >= 0x30 && d <= 0x39) || d == 0x2d || d == 0x2b || d == 0x2e ||
          d == 0x65 || d == 0x45;
        if (!numeric) break;
        this.pos++;
      }
      if (this.pos == start) this.ok = false;
      v.type = JsonType.Number;
      v.text = this.s.substring(start, this.pos);
    }
    return v;
  }

  peek(): i32 {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }

  word(w: string): bool {
    if (this.s.substr(this.pos, w.length) == w) {
      this.pos += w.length;
      return true;
    }
    return false;
  }

  string(): string {
    this.pos++; // the opening quote
    let out = "";
    let start = this.pos;
    while (true) {
      if (this.pos >= this.s.length) { this.ok = false; return out; }
      const c = this.s.charCodeAt(this.pos);
      if (c == 0x22) {
        out += this.s.substring(start, this.pos);
        this.pos++;
        return out;
      }
      if (c == 0x5c) {
        out += this.s.substring(start, this.pos);
        const e = this.s.charCodeAt(this.pos + 1);
        this.pos += 2;
        if (e == 0x6e) out += "\n";
        else if (e == 0x74) out += "\t";
        else if (e == 0x72) out += "\r";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x75) {
          const code = I32.parseInt(this.s.substr(this.pos, 4), 16);
          out += String.fromCharCode(code);
          this.pos += 4;
        } else out += String.fromCharCode(e);
        start = this.pos;
        continue;
      }
      this.pos++;
    }
  }
}

/** Parses `text` as one JSON value; null when it is not JSON. */
export function parse(text: string): Json | null {
  const p = new Parser(text);
  const v = p.value(0);
  p.ws();
  return p.ok && p.pos == text.length ? v : null;
}

// ---- JSON: a writer -------------------------------------------------------------------------

/**
 * Writes JSON text. Keys and values are written in call order; commas are the writer's.
 * `finish()` is null when the text would pass `limit` characters (the order's stdout limit is
 * the real bound), when a container is left open, or when a call was out of place.
 */
export class JsonWriter {
  private out: string[] = [];
  private size: i32 = 0;
  private first: bool[] = [true];
  private closers: string[] = [];
  private afterKey: bool = false;
  private bad: bool = false;

  constructor(public limit: i32 = 256 * 1024) {}

  private put(s: string): void {
    this.size += s.length;
    if (this.size > this.limit) this.bad = true;
    else this.out.push(s);
  }

  private separate(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const top = this.first.length - 1;
    if (!this.first[top]) this.put(",");
    this.first[top] = false;
  }

  private open(opener: string, closer: string): JsonWriter {
    this.separate();
    this.put(opener);
    this.first.push(true);
    this.closers.push(closer);
    return this;
  }

  object(): JsonWriter { return this.open("{", "}"); }
  array(): JsonWriter { return this.open("[", "]"); }

  /** Closes the innermost object or array. */
  end(): JsonWriter {
    if (this.closers.length == 0 || this.afterKey) { this.bad = true; return this; }
    this.first.pop();
    this.put(this.closers.pop());
    return this;
  }

  /** A member's key; its value is the next call. */
  key(k: string): JsonWriter {
    this.separate();
    this.put(quote(k));
    this.put(":");
    this.afterKey = true;
    return this;
  }

  string(s: string): JsonWriter { this.separate(); this.put(quote(s)); return this; }
  int(n: i64): JsonWriter { this.separate(); this.put(n.toString()); return this; }
  bool(b: bool): JsonWriter { this.separate(); this.put(b ? "true" : "false"); return this; }
  null(): JsonWriter { this.separate(); this.put("null"); return this; }
  /** Already-serialised JSON (a number such as `1.5`, a record as it came). */
  raw(json: string): JsonWriter { this.separate(); this.put(json); return this; }

  /** The text, or null if it ran out of room, a container is open or a call was misplaced. */
  finish(): string | null {
    if (this.bad || this.first.length != 1 || this.afterKey) return null;
    return this.out.join("");
  }
}

/** `s` as a JSON string literal. */
export function quote(s: string): string {
  let out = "\"";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc = "";
    if (c == 0x22) esc = "\\\"";
    else if (c == 0x5c) esc = "\\\\";
    else if (c == 0x0a) esc = "\\n";
    else if (c == 0x0d) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c < 0x20) {
      const hex = c.toString(16);
      esc = "\\u" + "0000".substring(hex.length) + hex;
    }
    if (esc.length > 0) {
      out += s.substring(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.substring(start) + "\"";
}
