/*
 * govmarket.h - guest kit for the govmarket app ABI v2 (C, clang + wasi-libc).
 *
 * One header, no other dependency. Include it in exactly one .c file (it defines functions).
 *
 *   gm_read_request()      read the whole stdin (the request JSON) into a NUL-terminated buffer
 *   gm_json_parse()        parse JSON into a small tree (gm_json), gm_json_get() / gm_json_at()
 *   gm_query()             gov.query: one record of a granted dataset, as JSON text
 *   gm_writer / gm_w_*()   write JSON into a buffer: objects, arrays, escaped strings, integers,
 *                          booleans; reports running out of room instead of truncating
 *   gm_write_output()      write the response JSON to stdout
 *   gm_log()               printf-style line to stderr (the ISV's log; never shown to citizens)
 *
 * See ABI.md next to this file for the full contract.
 */
#ifndef GOVMARKET_H
#define GOVMARKET_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- gov.query -------------------------------------------------------------------------- */

#define GM_QUERY_NOT_PERMITTED (-1) /* dataset not granted by the order's contract */
#define GM_QUERY_NOT_FOUND (-2)     /* no record under that key */
#define GM_QUERY_BAD_ARGUMENTS (-3) /* bad pointer, non-UTF-8, name > 64 or key > 256 bytes */
#define GM_QUERY_QUOTA_EXCEEDED (-4) /* this run used its query quota */
#define GM_QUERY_REFUSED (-5) /* ABI v2: the dataset's access rule does not reach this record */

/* The app ABI version this header implements (see ABI.md, "Changes"). */
#define GM_ABI_VERSION 2

__attribute__((import_module("gov"), import_name("query"))) int32_t
__gm_gov_query(const char *dataset, int32_t dataset_len, const char *key, int32_t key_len,
               char *buf, int32_t buf_cap);

/* Look up `key` in `dataset`. On success returns a malloc'd NUL-terminated JSON text (free it)
 * and sets *code to its length; otherwise returns NULL and sets *code to a GM_QUERY_* code.
 * Starts with a 16 KiB buffer and retries once with the exact size (each call counts against the
 * run's query quota). */
static inline char *gm_query(const char *dataset, const char *key, int32_t *code) {
    int32_t cap = 16 * 1024;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *buf = malloc((size_t)cap + 1);
        if (!buf) {
            *code = GM_QUERY_BAD_ARGUMENTS;
            return NULL;
        }
        int32_t n = __gm_gov_query(dataset, (int32_t)strlen(dataset), key, (int32_t)strlen(key),
                                   buf, cap);
        if (n < 0) {
            free(buf);
            *code = n;
            return NULL;
        }
        if (n <= cap) {
            buf[n] = '\0';
            *code = n;
            return buf;
        }
        free(buf);
        cap = n; /* too small: the record's length came back, retry with exactly that */
    }
    *code = GM_QUERY_BAD_ARGUMENTS;
    return NULL;
}

/* ---- stdin / stdout / stderr ------------------------------------------------------------ */

/* Read all of stdin. Returns a malloc'd NUL-terminated buffer, or NULL on failure. */
static inline char *gm_read_request(size_t *len_out) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                return NULL;
            }
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0) break;
    }
    buf[len] = '\0';
    if (len_out) *len_out = len;
    return buf;
}

/* Write the response JSON to stdout and flush. Returns 0 on success. */
static inline int gm_write_output(const char *json) {
    size_t len = strlen(json);
    if (fwrite(json, 1, len, stdout) != len) return -1;
    return fflush(stdout) == 0 ? 0 : -1;
}

/* printf-style log line on stderr. */
static inline void gm_log(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- a small JSON parser ---------------------------------------------------------------- */

typedef enum { GM_NULL, GM_BOOL, GM_NUMBER, GM_STRING, GM_ARRAY, GM_OBJECT } gm_type;

typedef struct gm_json {
    gm_type type;
    int boolean;
    double number;
    int64_t integer;    /* the number as an integer when it has no fraction/exponent */
    int is_integer;
    char *string;       /* GM_STRING: UTF-8, NUL-terminated */
    char *key;          /* member name when inside an object */
    struct gm_json *child; /* first element / member */
    struct gm_json *next;  /* next sibling */
    size_t length;      /* elements / members */
} gm_json;

typedef struct {
    const char *p;
    const char *end;
    int depth;
} gm_parser;

#define GM_JSON_MAX_DEPTH 64

static inline void gm_ws(gm_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static inline void gm_utf8(char **out, uint32_t cp) {
    char *o = *out;
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    *out = o;
}

static inline int gm_hex4(const char *p, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9') *v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') *v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') *v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    return 0;
}

static inline char *gm_parse_string_raw(gm_parser *ps) {
    if (ps->p >= ps->end || *ps->p != '"') return NULL;
    ps->p++;
    const char *start = ps->p;
    while (ps->p < ps->end && *ps->p != '"') {
        if (*ps->p == '\\') ps->p++;
        ps->p++;
    }
    if (ps->p >= ps->end) return NULL;
    /* Unescaped text is never longer than the escaped one. */
    char *out = malloc((size_t)(ps->p - start) + 1), *o = out;
    if (!out) return NULL;
    for (const char *s = start; s < ps->p; s++) {
        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        s++;
        switch (*s) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (ps->p - s < 5 || gm_hex4(s + 1, &cp)) { free(out); return NULL; }
            s += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && ps->p - s >= 7 && s[1] == '\\' && s[2] == 'u' &&
                gm_hex4(s + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            gm_utf8(&o, cp);
            break;
        }
        default: free(out); return NULL;
        }
    }
    *o = '\0';
    ps->p++; /* closing quote */
    return out;
}

static inline void gm_json_free(gm_json *v);

static inline gm_json *gm_parse_value(gm_parser *ps) {
    gm_ws(ps);
    if (ps->p >= ps->end || ++ps->depth > GM_JSON_MAX_DEPTH) return NULL;
    gm_json *v = calloc(1, sizeof(gm_json));
    if (!v) return NULL;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        int is_object = c == '{';
        v->type = is_object ? GM_OBJECT : GM_ARRAY;
        ps->p++;
        gm_ws(ps);
        gm_json **tail = &v->child;
        if (ps->p < ps->end && *ps->p == (is_object ? '}' : ']')) {
            ps->p++;
        } else {
            for (;;) {
                char *key = NULL;
                if (is_object) {
                    gm_ws(ps);
                    key = gm_parse_string_raw(ps);
                    gm_ws(ps);
                    if (!key || ps->p >= ps->end || *ps->p != ':') { free(key); gm_json_free(v); return NULL; }
                    ps->p++;
                }
                gm_json *item = gm_parse_value(ps);
                if (!item) { free(key); gm_json_free(v); return NULL; }
                item->key = key;
                *tail = item;
                tail = &item->next;
                v->length++;
                gm_ws(ps);
                if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
                if (ps->p < ps->end && *ps->p == (is_object ? '}' : ']')) { ps->p++; break; }
                gm_json_free(v);
                return NULL;
            }
        }
    } else if (c == '"') {
        v->type = GM_STRING;
        v->string = gm_parse_string_raw(ps);
        if (!v->string) { free(v); return NULL; }
    } else if (ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) {
        v->type = GM_BOOL; v->boolean = 1; ps->p += 4;
    } else if (ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) {
        v->type = GM_BOOL; ps->p += 5;
    } else if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
        v->type = GM_NULL; ps->p += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char tmp[64];
        size_t n = 0;
        int integer = 1;
        while (ps->p < ps->end && n < sizeof tmp - 1 &&
               strchr("+-0123456789.eE", *ps->p) != NULL) {
            if (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E') integer = 0;
            tmp[n++] = *ps->p++;
        }
        tmp[n] = '\0';
        v->type = GM_NUMBER;
        v->number = strtod(tmp, NULL);
        v->is_integer = integer;
        v->integer = integer ? strtoll(tmp, NULL, 10) : (int64_t)v->number;
    } else {
        free(v);
        return NULL;
    }
    ps->depth--;
    return v;
}

/* Parse `len` bytes of JSON text. Returns NULL if it is not exactly one JSON value. */
static inline gm_json *gm_json_parse(const char *text, size_t len) {
    gm_parser ps = {text, text + len, 0};
    gm_json *v = gm_parse_value(&ps);
    gm_ws(&ps);
    if (v && ps.p != ps.end) { gm_json_free(v); return NULL; }
    return v;
}

static inline void gm_json_free(gm_json *v) {
    while (v) {
        gm_json *next = v->next;
        gm_json_free(v->child);
        free(v->string);
        free(v->key);
        free(v);
        v = next;
    }
}

/* Member `key` of an object, or NULL. */
static inline gm_json *gm_json_get(const gm_json *object, const char *key) {
    if (!object || object->type != GM_OBJECT) return NULL;
    for (gm_json *m = object->child; m; m = m->next)
        if (strcmp(m->key, key) == 0) return m;
    return NULL;
}

/* Element `i` of an array, or NULL. */
static inline gm_json *gm_json_at(const gm_json *array, size_t i) {
    if (!array || array->type != GM_ARRAY) return NULL;
    gm_json *e = array->child;
    while (e && i--) e = e->next;
    return e;
}

/* The string value of `v`, or `fallback`. */
static inline const char *gm_json_str(const gm_json *v, const char *fallback) {
    return v && v->type == GM_STRING ? v->string : fallback;
}

/* The integer value of `v`, or `fallback`. */
static inline int64_t gm_json_int(const gm_json *v, int64_t fallback) {
    return v && v->type == GM_NUMBER ? v->integer : fallback;
}

/* ---- a small JSON writer ---------------------------------------------------------------- */

/* Writes JSON into a buffer the app provides, with commas, quoting and escaping done for it.
 * It never truncates silently: once something does not fit, the writer stops writing and
 * gm_w_finish() reports GM_W_NO_ROOM, so the app can answer with a smaller output or a larger
 * buffer instead of printing broken JSON.
 *
 *   char buf[4096];
 *   gm_writer w;
 *   gm_w_init(&w, buf, sizeof buf);
 *   gm_w_object(&w);
 *     gm_w_key(&w, "name");    gm_w_string(&w, "张三");
 *     gm_w_key(&w, "months");  gm_w_int(&w, 36);
 *     gm_w_key(&w, "items");   gm_w_array(&w); gm_w_bool(&w, 1); gm_w_null(&w); gm_w_end(&w);
 *   gm_w_end(&w);
 *   if (gm_w_finish(&w) == GM_W_OK) gm_write_output(buf);
 */

#define GM_W_OK 0
#define GM_W_NO_ROOM (-1)     /* the buffer is too small for what was written */
#define GM_W_BAD_NESTING (-2) /* end without begin, a key outside an object, unclosed values */
#define GM_W_MAX_DEPTH 32

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    int error;                        /* GM_W_OK until something goes wrong; then sticky */
    int depth;
    char kind[GM_W_MAX_DEPTH];        /* '{' or '[' per open container */
    int count[GM_W_MAX_DEPTH];        /* values (or keys) written in each open container */
    int key_pending;                  /* a key was written; its value comes next */
    int done;                         /* a complete top-level value was written */
} gm_writer;

static inline void gm_w_init(gm_writer *w, char *buf, size_t cap) {
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = cap;
    if (cap) buf[0] = '\0';
    else w->error = GM_W_NO_ROOM;
}

static inline void gm_w_fail(gm_writer *w, int error) {
    if (w->error == GM_W_OK) w->error = error;
}

/* Appends raw bytes, keeping room for the final NUL. */
static inline void gm_w_put(gm_writer *w, const char *s, size_t n) {
    if (w->error) return;
    if (w->len + n + 1 > w->cap) {
        gm_w_fail(w, GM_W_NO_ROOM);
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* Before any value: the comma, and the checks that a value may stand here. */
static inline void gm_w_value_begins(gm_writer *w) {
    if (w->error) return;
    if (w->depth == 0) {
        if (w->done) gm_w_fail(w, GM_W_BAD_NESTING); /* a second top-level value */
        return;
    }
    int top = w->depth - 1;
    if (w->kind[top] == '{') {
        if (!w->key_pending) gm_w_fail(w, GM_W_BAD_NESTING); /* a value without its key */
        w->key_pending = 0;
        return;
    }
    if (w->count[top]++ > 0) gm_w_put(w, ",", 1);
}

static inline void gm_w_value_ends(gm_writer *w) {
    if (w->depth == 0) w->done = 1;
}

/* Appends `s` as the inside of a JSON string (escapes, no quotes). */
static inline void gm_w_escaped(gm_writer *w, const char *s) {
    static const char hex[] = "0123456789abcdef";
    for (; *s && !w->error; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            gm_w_put(w, esc, 2);
        } else if (c == '\n') {
            gm_w_put(w, "\\n", 2);
        } else if (c == '\t') {
            gm_w_put(w, "\\t", 2);
        } else if (c == '\r') {
            gm_w_put(w, "\\r", 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            gm_w_put(w, esc, 6);
        } else {
            gm_w_put(w, (const char *)&c, 1);
        }
    }
}

static inline void gm_w_open(gm_writer *w, char kind) {
    gm_w_value_begins(w);
    if (w->error) return;
    if (w->depth == GM_W_MAX_DEPTH) {
        gm_w_fail(w, GM_W_BAD_NESTING);
        return;
    }
    gm_w_put(w, &kind, 1);
    w->kind[w->depth] = kind;
    w->count[w->depth] = 0;
    w->depth++;
}

/* Begins an object; its members are gm_w_key() then a value; gm_w_end() closes it. */
static inline void gm_w_object(gm_writer *w) { gm_w_open(w, '{'); }

/* Begins an array; gm_w_end() closes it. */
static inline void gm_w_array(gm_writer *w) { gm_w_open(w, '['); }

/* Closes the innermost object or array. */
static inline void gm_w_end(gm_writer *w) {
    if (w->error) return;
    if (w->depth == 0 || w->key_pending) {
        gm_w_fail(w, GM_W_BAD_NESTING);
        return;
    }
    char close = w->kind[w->depth - 1] == '{' ? '}' : ']';
    gm_w_put(w, &close, 1);
    w->depth--;
    gm_w_value_ends(w);
}

/* A member's key, inside an object. */
static inline void gm_w_key(gm_writer *w, const char *key) {
    if (w->error) return;
    int top = w->depth - 1;
    if (w->depth == 0 || w->kind[top] != '{' || w->key_pending) {
        gm_w_fail(w, GM_W_BAD_NESTING);
        return;
    }
    if (w->count[top]++ > 0) gm_w_put(w, ",", 1);
    gm_w_put(w, "\"", 1);
    gm_w_escaped(w, key);
    gm_w_put(w, "\":", 2);
    w->key_pending = 1;
}

static inline void gm_w_string(gm_writer *w, const char *s) {
    gm_w_value_begins(w);
    gm_w_put(w, "\"", 1);
    gm_w_escaped(w, s ? s : "");
    gm_w_put(w, "\"", 1);
    gm_w_value_ends(w);
}

static inline void gm_w_int(gm_writer *w, int64_t v) {
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)v);
    gm_w_value_begins(w);
    gm_w_put(w, digits, (size_t)n);
    gm_w_value_ends(w);
}

static inline void gm_w_bool(gm_writer *w, int v) {
    gm_w_value_begins(w);
    if (v) gm_w_put(w, "true", 4);
    else gm_w_put(w, "false", 5);
    gm_w_value_ends(w);
}

static inline void gm_w_null(gm_writer *w) {
    gm_w_value_begins(w);
    gm_w_put(w, "null", 4);
    gm_w_value_ends(w);
}

/* A value that is JSON text already (e.g. a record gm_query() returned), written as it is. */
static inline void gm_w_raw(gm_writer *w, const char *json) {
    gm_w_value_begins(w);
    gm_w_put(w, json, strlen(json));
    gm_w_value_ends(w);
}

/* GM_W_OK when one complete JSON value was written and fitted; else why not. */
static inline int gm_w_finish(const gm_writer *w) {
    if (w->error) return w->error;
    if (w->depth != 0 || !w->done) return GM_W_BAD_NESTING;
    return GM_W_OK;
}

/* Write `s` as a JSON string literal into `out` (at most `cap` bytes with the NUL).
 * Returns GM_W_OK, or GM_W_NO_ROOM when it does not fit: then `out` is the empty string, never
 * a cut-off literal. */
static inline int gm_json_quote(char *out, size_t cap, const char *s) {
    gm_writer w;
    gm_w_init(&w, out, cap);
    gm_w_string(&w, s);
    int r = gm_w_finish(&w);
    if (r != GM_W_OK && cap) out[0] = '\0';
    return r;
}

#endif /* GOVMARKET_H */
