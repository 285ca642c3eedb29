/*
 * 交通违法查询 (traffic violation lookup) - a careful implementation: one query, one parse, one
 * sort, and an output buffer sized to the answer.
 *
 * Input:  {"plate": "浙A12345", "only_unpaid": false}
 * Data:   dataset "traffic_violations" (`traffic_violations:input/plate:owner/owner_id_number`), key = the
 *         plate of the input
 * Output: {"found", "plate", "count", "total_fine_fen", "total_points", "violations": [{"time",
 *          "location", "code", "description", "fine_fen", "points", "status"}]}
 *
 * A vehicle counts as found only when it is registered to the citizen asking: plates are not
 * secret, a stranger's violations are. The host enforces it (ABI v2): a record that does not
 * name the citizen as owner answers GM_QUERY_REFUSED, shown as not found. Violations are listed newest first (ties
 * by violation id), only the unpaid ones when asked; the totals cover the listed ones.
 */
#include "../../govmarket.h"

/* A growable output buffer: the answer's size depends on how many violations there are. */
typedef struct {
    char *text;
    size_t len, cap;
    int failed;
} out_buf;

static void out_append(out_buf *o, const char *s) {
    size_t n = strlen(s);
    if (o->failed) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (o->len + n + 1 > cap) cap *= 2;
        char *grown = realloc(o->text, cap);
        if (!grown) {
            o->failed = 1;
            return;
        }
        o->text = grown;
        o->cap = cap;
    }
    memcpy(o->text + o->len, s, n + 1);
    o->len += n;
}

/* Appends `s` as a JSON string literal. */
static void out_quoted(out_buf *o, const char *s) {
    size_t cap = strlen(s) * 6 + 3; /* worst case: every byte a \u00XX escape */
    char *q = malloc(cap);
    if (!q) {
        o->failed = 1;
        return;
    }
    gm_json_quote(q, cap, s);
    out_append(o, q);
    free(q);
}

static const char *str_field(const gm_json *v, const char *key) {
    return gm_json_str(gm_json_get(v, key), "");
}

/* Newest first; equal times by violation id ascending. Times are RFC 3339 in one offset, so
 * they compare as strings. */
static int newest_first(const void *a, const void *b) {
    const gm_json *x = *(const gm_json *const *)a, *y = *(const gm_json *const *)b;
    int by_time = strcmp(str_field(y, "time"), str_field(x, "time"));
    return by_time ? by_time : strcmp(str_field(x, "id"), str_field(y, "id"));
}

static int write_not_found(const char *quoted_plate) {
    out_buf o = {0};
    out_append(&o, "{\"found\":false,\"plate\":");
    out_append(&o, quoted_plate);
    out_append(&o, ",\"count\":0,\"total_fine_fen\":0,\"total_points\":0,\"violations\":[]}\n");
    if (o.failed) return 1;
    return gm_write_output(o.text) == 0 ? 0 : 1;
}

int main(void) {
    size_t len = 0;
    char *request_text = gm_read_request(&len);
    gm_json *request = request_text ? gm_json_parse(request_text, len) : NULL;
    if (!request) {
        gm_log("request is not JSON");
        return 1;
    }
    gm_json *input = gm_json_get(request, "input");
    const char *plate = gm_json_str(gm_json_get(input, "plate"), "");
    gm_json *only_unpaid_flag = gm_json_get(input, "only_unpaid");
    int only_unpaid = only_unpaid_flag && only_unpaid_flag->type == GM_BOOL && only_unpaid_flag->boolean;

    out_buf plate_q = {0};
    out_quoted(&plate_q, plate);
    if (plate_q.failed) return 1;

    int32_t code = 0;
    char *record_text = gm_query("traffic_violations", plate, &code);
    if (!record_text) {
        if (code == GM_QUERY_NOT_FOUND || code == GM_QUERY_BAD_ARGUMENTS ||
            code == GM_QUERY_REFUSED) {
            gm_log("no vehicle of the citizen under this plate (code %d)", (int)code);
            return write_not_found(plate_q.text);
        }
        gm_log("gov.query failed with code %d", (int)code);
        return 1;
    }
    gm_json *record = gm_json_parse(record_text, (size_t)code);
    if (!record) {
        gm_log("record is not JSON");
        return 1;
    }

    gm_json *all = gm_json_get(record, "violations");
    size_t total = all && all->type == GM_ARRAY ? all->length : 0;
    const gm_json **list = calloc(total ? total : 1, sizeof *list);
    if (!list) return 1;
    size_t count = 0;
    for (gm_json *v = total ? all->child : NULL; v; v = v->next) {
        if (only_unpaid && strcmp(str_field(v, "status"), "unpaid") != 0) continue;
        list[count++] = v;
    }
    qsort(list, count, sizeof *list, newest_first);

    int64_t fine = 0, points = 0;
    out_buf items = {0};
    out_append(&items, "[");
    for (size_t i = 0; i < count; i++) {
        const gm_json *v = list[i];
        int64_t f = gm_json_int(gm_json_get(v, "fine_fen"), 0);
        int64_t p = gm_json_int(gm_json_get(v, "points"), 0);
        fine += f;
        points += p;
        char numbers[96];
        if (i) out_append(&items, ",");
        out_append(&items, "{\"time\":");
        out_quoted(&items, str_field(v, "time"));
        out_append(&items, ",\"location\":");
        out_quoted(&items, str_field(v, "location"));
        out_append(&items, ",\"code\":");
        out_quoted(&items, str_field(v, "code"));
        out_append(&items, ",\"description\":");
        out_quoted(&items, str_field(v, "description"));
        snprintf(numbers, sizeof numbers, ",\"fine_fen\":%lld,\"points\":%lld,\"status\":",
                 (long long)f, (long long)p);
        out_append(&items, numbers);
        out_quoted(&items, str_field(v, "status"));
        out_append(&items, "}");
    }
    out_append(&items, "]");

    char head[160];
    snprintf(head, sizeof head, ",\"count\":%zu,\"total_fine_fen\":%lld,\"total_points\":%lld,",
             count, (long long)fine, (long long)points);
    out_buf o = {0};
    out_append(&o, "{\"found\":true,\"plate\":");
    out_append(&o, plate_q.text);
    out_append(&o, head);
    out_append(&o, "\"violations\":");
    out_append(&o, items.failed ? "[]" : items.text);
    out_append(&o, "}\n");
    if (o.failed || items.failed) {
        gm_log("out of memory");
        return 1;
    }
    gm_log("%zu of %zu violations listed", count, total);
    return gm_write_output(o.text) == 0 ? 0 : 1;
}
