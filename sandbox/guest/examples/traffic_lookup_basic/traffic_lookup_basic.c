/*
 * 交通违法查询 - a second, competing implementation of the traffic-violation service, of visibly
 * lower quality than examples/traffic_lookup: its answers are the same, but it finds the k-th
 * newest violation by parsing the whole record again and scanning every violation for every
 * position of the list, and builds its answer by appending to the end of a fixed buffer. It
 * spends several times the instructions of the careful app, more with every violation.
 *
 * Input:  {"plate": "浙A12345", "only_unpaid": false}
 * Data:   dataset "traffic_violations", key = the plate; the host refuses (GM_QUERY_REFUSED) a
 *         record that does not name the citizen as owner
 * Output: {"found", "plate", "count", "total_fine_fen", "total_points", "violations": [...]}
 */
#include "../../govmarket.h"

#define OUT_CAP (256 * 1024)

static const char *str_field(const gm_json *v, const char *key) {
    return gm_json_str(gm_json_get(v, key), "");
}

static int listed(const gm_json *v, int only_unpaid) {
    return !only_unpaid || strcmp(str_field(v, "status"), "unpaid") == 0;
}

/* Does a come before b in the answer: newer first, then by id. */
static int before(const gm_json *a, const gm_json *b) {
    int by_time = strcmp(str_field(a, "time"), str_field(b, "time"));
    if (by_time != 0) return by_time > 0;
    return strcmp(str_field(a, "id"), str_field(b, "id")) < 0;
}

static void append_quoted(char *out, const char *s) {
    char quoted[2048];
    gm_json_quote(quoted, sizeof quoted, s);
    strcat(out, quoted);
}

int main(void) {
    size_t len = 0;
    char *request_text = gm_read_request(&len);
    gm_json *request = request_text ? gm_json_parse(request_text, len) : NULL;
    if (!request) return 1;
    gm_json *input = gm_json_get(request, "input");
    const char *plate = gm_json_str(gm_json_get(input, "plate"), "");
    gm_json *flag = gm_json_get(input, "only_unpaid");
    int only_unpaid = flag && flag->type == GM_BOOL && flag->boolean;

    char *out = calloc(OUT_CAP, 1);
    if (!out) return 1;
    strcat(out, "{\"found\":");

    int32_t code = 0;
    char *record_text = gm_query("traffic_violations", plate, &code);
    gm_json *record = record_text ? gm_json_parse(record_text, (size_t)code) : NULL;
    if (!record_text && code != GM_QUERY_NOT_FOUND && code != GM_QUERY_BAD_ARGUMENTS &&
        code != GM_QUERY_REFUSED)
        return 1;
    if (!record) {
        strcat(out, "false,\"plate\":");
        append_quoted(out, plate);
        strcat(out, ",\"count\":0,\"total_fine_fen\":0,\"total_points\":0,\"violations\":[]}\n");
        return gm_write_output(out) == 0 ? 0 : 1;
    }

    size_t count = 0;
    for (gm_json *v = gm_json_get(record, "violations")->child; v; v = v->next)
        if (listed(v, only_unpaid)) count++;

    char *items = calloc(OUT_CAP, 1);
    if (!items) return 1;
    int64_t fine = 0, points = 0;
    for (size_t k = 0; k < count; k++) {
        /* The naive part: a fresh parse of the record for every position in the list. */
        gm_json *fresh = gm_json_parse(record_text, (size_t)code);
        if (!fresh) return 1;
        gm_json *all = gm_json_get(fresh, "violations");
        /* The k-th of the list is the one with exactly k listed violations before it. */
        for (gm_json *v = all->child; v; v = v->next) {
            if (!listed(v, only_unpaid)) continue;
            size_t ahead = 0;
            for (gm_json *w = all->child; w; w = w->next)
                if (w != v && listed(w, only_unpaid) && before(w, v)) ahead++;
            if (ahead != k) continue;
            int64_t f = gm_json_int(gm_json_get(v, "fine_fen"), 0);
            int64_t p = gm_json_int(gm_json_get(v, "points"), 0);
            fine += f;
            points += p;
            char numbers[96];
            if (k) strcat(items, ",");
            strcat(items, "{\"time\":");
            append_quoted(items, str_field(v, "time"));
            strcat(items, ",\"location\":");
            append_quoted(items, str_field(v, "location"));
            strcat(items, ",\"code\":");
            append_quoted(items, str_field(v, "code"));
            strcat(items, ",\"description\":");
            append_quoted(items, str_field(v, "description"));
            snprintf(numbers, sizeof numbers, ",\"fine_fen\":%lld,\"points\":%lld,\"status\":",
                     (long long)f, (long long)p);
            strcat(items, numbers);
            append_quoted(items, str_field(v, "status"));
            strcat(items, "}");
            break;
        }
        gm_json_free(fresh);
    }

    char head[160];
    strcat(out, "true,\"plate\":");
    append_quoted(out, plate);
    snprintf(head, sizeof head, ",\"count\":%zu,\"total_fine_fen\":%lld,\"total_points\":%lld,",
             count, (long long)fine, (long long)points);
    strcat(out, head);
    strcat(out, "\"violations\":[");
    strcat(out, items);
    strcat(out, "]}\n");
    return gm_write_output(out) == 0 ? 0 : 1;
}
