/*
 * 公积金提取资格核验 (housing fund withdrawal eligibility) - a careful implementation: one query,
 * every failing condition reported in the order's fixed order.
 *
 * Input:  {"purpose": "rent" | "purchase" | "retirement", "amount_fen": 1..}
 * Data:   dataset "housing_fund", key = context.subject (18-digit resident ID number)
 * Output: {"found", "eligible", "max_amount_fen", "reasons": [...]}
 *
 * The rule (the order's description): rent needs a normal account, 3 continuous months and no
 * housing loan, up to min(balance, ¥4,500); purchase needs an unfrozen account and 6 continuous
 * months, up to the balance; retirement needs the citizen retired, up to the balance; a frozen
 * account never withdraws. max_amount_fen is 0 unless every condition but the amount holds;
 * amount_exceeds_limit is reported only when it is the sole obstacle.
 */
#include "../../govmarket.h"

#define RENT_LIMIT_FEN 450000LL
#define RENT_MIN_MONTHS 3
#define PURCHASE_MIN_MONTHS 6
#define MAX_REASONS 8

static int is_true(const gm_json *v) { return v && v->type == GM_BOOL && v->boolean; }

int main(void) {
    size_t len = 0;
    char *request_text = gm_read_request(&len);
    gm_json *request = request_text ? gm_json_parse(request_text, len) : NULL;
    if (!request) {
        gm_log("request is not JSON");
        return 1;
    }
    gm_json *input = gm_json_get(request, "input");
    const char *purpose = gm_json_str(gm_json_get(input, "purpose"), "");
    int64_t amount = gm_json_int(gm_json_get(input, "amount_fen"), 0);
    const char *subject = gm_json_str(gm_json_get(gm_json_get(request, "context"), "subject"), "");

    int32_t code = 0;
    char *record_text = gm_query("housing_fund", subject, &code);
    if (!record_text) {
        if (code == GM_QUERY_NOT_FOUND || code == GM_QUERY_BAD_ARGUMENTS) {
            gm_log("no housing fund account (code %d)", (int)code);
            return gm_write_output("{\"found\":false,\"eligible\":false,\"max_amount_fen\":0,"
                                   "\"reasons\":[\"not_found\"]}\n") == 0
                       ? 0
                       : 1;
        }
        gm_log("gov.query failed with code %d", (int)code);
        return 1;
    }
    gm_json *record = gm_json_parse(record_text, (size_t)code);
    if (!record) {
        gm_log("record is not JSON");
        return 1;
    }
    const char *status = gm_json_str(gm_json_get(record, "account_status"), "");
    int64_t balance = gm_json_int(gm_json_get(record, "balance_fen"), 0);
    int64_t continuous = gm_json_int(gm_json_get(record, "continuous_months"), 0);
    int has_loan = is_true(gm_json_get(record, "has_loan"));
    int retired = is_true(gm_json_get(record, "retired"));

    const char *reasons[MAX_REASONS];
    int n = 0;
    if (strcmp(status, "frozen") == 0) reasons[n++] = "account_frozen";
    int64_t limit;
    if (strcmp(purpose, "rent") == 0) {
        if (strcmp(status, "sealed") == 0) reasons[n++] = "account_not_normal";
        if (continuous < RENT_MIN_MONTHS) reasons[n++] = "insufficient_contribution";
        if (has_loan) reasons[n++] = "has_loan";
        limit = balance < RENT_LIMIT_FEN ? balance : RENT_LIMIT_FEN;
    } else if (strcmp(purpose, "purchase") == 0) {
        if (continuous < PURCHASE_MIN_MONTHS) reasons[n++] = "insufficient_contribution";
        limit = balance;
    } else {
        if (!retired) reasons[n++] = "not_retired";
        limit = balance;
    }
    int64_t max_amount = n == 0 && limit > 0 ? limit : 0;
    if (n == 0 && amount > max_amount) reasons[n++] = "amount_exceeds_limit";

    char out[512];
    int used = snprintf(out, sizeof out,
                        "{\"found\":true,\"eligible\":%s,\"max_amount_fen\":%lld,\"reasons\":[",
                        n == 0 ? "true" : "false", (long long)max_amount);
    for (int i = 0; i < n; i++)
        used += snprintf(out + used, sizeof out - (size_t)used, "%s\"%s\"", i ? "," : "",
                         reasons[i]);
    snprintf(out + used, sizeof out - (size_t)used, "]}\n");
    gm_log("purpose %s: %d reason(s)", purpose, n);
    return gm_write_output(out) == 0 ? 0 : 1;
}
