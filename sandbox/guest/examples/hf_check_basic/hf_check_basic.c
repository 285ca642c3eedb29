/*
 * 公积金提取资格核验 - a second, competing implementation of the housing-fund service, of
 * visibly lower quality than examples/hf_check: its answers are the same, but it asks the
 * platform for the account twice (once to see whether there is one, once to read it, each with
 * a deliberately small first buffer, so four gov.query calls where one would do) and reads each
 * field by parsing the record again. Slower, and every extra query is on the record of the use.
 *
 * Input:  {"purpose": "rent" | "purchase" | "retirement", "amount_fen": 1..}
 * Data:   dataset "housing_fund", key = context.subject
 * Output: {"found", "eligible", "max_amount_fen", "reasons": [...]}
 */
#include "../../govmarket.h"

/* The record as text, fetched the long way: a 64-byte try, then the exact size. */
static char *fetch(const char *subject, int32_t *code) {
    char small[64];
    int32_t n = __gm_gov_query("housing_fund", 12, subject, (int32_t)strlen(subject), small,
                               (int32_t)sizeof small);
    if (n < 0) {
        *code = n;
        return NULL;
    }
    char *buf = malloc((size_t)n + 1);
    if (!buf) {
        *code = GM_QUERY_BAD_ARGUMENTS;
        return NULL;
    }
    if (n > (int32_t)sizeof small) {
        n = __gm_gov_query("housing_fund", 12, subject, (int32_t)strlen(subject), buf, n);
        if (n < 0) {
            free(buf);
            *code = n;
            return NULL;
        }
    } else {
        memcpy(buf, small, (size_t)n);
    }
    buf[n] = '\0';
    *code = n;
    return buf;
}

/* One field of the record, parsing the record afresh each time. */
static int64_t int_field(const char *text, size_t len, const char *key) {
    gm_json *r = gm_json_parse(text, len);
    int64_t v = gm_json_int(gm_json_get(r, key), 0);
    gm_json_free(r);
    return v;
}

static int bool_field(const char *text, size_t len, const char *key) {
    gm_json *r = gm_json_parse(text, len);
    gm_json *v = gm_json_get(r, key);
    int b = v && v->type == GM_BOOL && v->boolean;
    gm_json_free(r);
    return b;
}

static int status_is(const char *text, size_t len, const char *status) {
    gm_json *r = gm_json_parse(text, len);
    int same = strcmp(gm_json_str(gm_json_get(r, "account_status"), ""), status) == 0;
    gm_json_free(r);
    return same;
}

int main(void) {
    size_t len = 0;
    char *request_text = gm_read_request(&len);
    gm_json *request = request_text ? gm_json_parse(request_text, len) : NULL;
    if (!request) return 1;
    gm_json *input = gm_json_get(request, "input");
    const char *purpose = gm_json_str(gm_json_get(input, "purpose"), "");
    int64_t amount = gm_json_int(gm_json_get(input, "amount_fen"), 0);
    const char *subject = gm_json_str(gm_json_get(gm_json_get(request, "context"), "subject"), "");

    int32_t code = 0;
    char *probe = fetch(subject, &code);
    if (!probe) {
        if (code == GM_QUERY_NOT_FOUND || code == GM_QUERY_BAD_ARGUMENTS)
            return gm_write_output("{\"found\":false,\"eligible\":false,\"max_amount_fen\":0,"
                                   "\"reasons\":[\"not_found\"]}\n") == 0
                       ? 0
                       : 1;
        return 1;
    }
    free(probe);
    char *text = fetch(subject, &code);
    if (!text) return 1;
    size_t n_text = (size_t)code;

    char reasons[256] = "";
    int n = 0;
#define REASON(r) (strcat(reasons, n++ ? ",\"" r "\"" : "\"" r "\""))
    if (status_is(text, n_text, "frozen")) REASON("account_frozen");
    int64_t balance = int_field(text, n_text, "balance_fen");
    int64_t limit = balance;
    if (strcmp(purpose, "rent") == 0) {
        if (status_is(text, n_text, "sealed")) REASON("account_not_normal");
        if (int_field(text, n_text, "continuous_months") < 3) REASON("insufficient_contribution");
        if (bool_field(text, n_text, "has_loan")) REASON("has_loan");
        if (limit > 450000) limit = 450000;
    } else if (strcmp(purpose, "purchase") == 0) {
        if (int_field(text, n_text, "continuous_months") < 6) REASON("insufficient_contribution");
    } else if (!bool_field(text, n_text, "retired")) {
        REASON("not_retired");
    }
    int64_t max_amount = n == 0 && limit > 0 ? limit : 0;
    if (n == 0 && amount > max_amount) REASON("amount_exceeds_limit");

    char out[512];
    snprintf(out, sizeof out,
             "{\"found\":true,\"eligible\":%s,\"max_amount_fen\":%lld,\"reasons\":[%s]}\n",
             n == 0 ? "true" : "false", (long long)max_amount, reasons);
    return gm_write_output(out) == 0 ? 0 : 1;
}
