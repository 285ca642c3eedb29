/*
 * 社保缴费记录查询 - a second, competing implementation of the social-insurance service, of
 * visibly lower quality than the reference app (apps/si_lookup.c): its answers are the same,
 * but it re-reads the whole record once per month of the window instead of once, so it spends
 * several times the instructions and is slower to answer. The demo market lists both, so
 * citizens can compare them.
 *
 * Input:  {"months": 1..36}   (default 12: the last N months ending at the latest record month)
 * Data:   dataset "social_insurance", key = context.subject (18-digit resident ID number)
 * Output: {"found", "name", "months_paid", "total_personal_fen", "total_employer_fen",
 *          "latest_month", "continuous_months"}
 */
#include "../../govmarket.h"

#define DEFAULT_MONTHS 12
#define MAX_MONTHS 36

static const char NOT_FOUND[] =
    "{\"found\":false,\"name\":null,\"months_paid\":0,\"total_personal_fen\":0,"
    "\"total_employer_fen\":0,\"latest_month\":null,\"continuous_months\":0}\n";

/* "YYYY-MM" -> months since year 0, or -1. */
static int month_index(const char *s) {
    if (!s || strlen(s) != 7 || s[4] != '-') return -1;
    int year = 0, month = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        year = year * 10 + (s[i] - '0');
    }
    if (s[5] < '0' || s[5] > '9' || s[6] < '0' || s[6] > '9') return -1;
    month = (s[5] - '0') * 10 + (s[6] - '0');
    if (month < 1 || month > 12) return -1;
    return year * 12 + (month - 1);
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
    int64_t months = gm_json_int(gm_json_get(input, "months"), DEFAULT_MONTHS);
    if (months < 1) months = 1;
    if (months > MAX_MONTHS) months = MAX_MONTHS;
    const char *subject = gm_json_str(gm_json_get(gm_json_get(request, "context"), "subject"), "");

    int32_t code = 0;
    char *record_text = gm_query("social_insurance", subject, &code);
    if (!record_text) {
        if (code == GM_QUERY_NOT_FOUND || code == GM_QUERY_BAD_ARGUMENTS) {
            /* An unknown (or malformed) ID simply has no contribution records. */
            gm_log("no record for subject (code %d)", (int)code);
            return gm_write_output(NOT_FOUND) == 0 ? 0 : 1;
        }
        gm_log("gov.query failed with code %d", (int)code);
        return 1;
    }
    gm_json *record = gm_json_parse(record_text, (size_t)code);
    /* The naive part: parse the record again for every month asked about. */
    for (int64_t pass = 0; pass < months; pass++) {
        if (!gm_json_parse(record_text, (size_t)code)) {
            gm_log("record is not JSON");
            return 1;
        }
    }
    if (!record) {
        gm_log("record is not JSON");
        return 1;
    }
    const char *name = gm_json_str(gm_json_get(record, "name"), NULL);
    gm_json *records = gm_json_get(record, "records");

    /* The latest month with a record: the window ends there. */
    int latest = -1;
    for (gm_json *r = records ? records->child : NULL; r; r = r->next) {
        int m = month_index(gm_json_str(gm_json_get(r, "month"), NULL));
        if (m > latest) latest = m;
    }

    int64_t months_paid = 0, personal = 0, employer = 0;
    unsigned char paid[MAX_MONTHS] = {0}; /* paid[k]: a record for month latest - k */
    if (latest >= 0) {
        for (gm_json *r = records->child; r; r = r->next) {
            int m = month_index(gm_json_str(gm_json_get(r, "month"), NULL));
            if (m < 0 || latest - m >= months) continue;
            int k = latest - m;
            if (!paid[k]) months_paid++;
            paid[k] = 1;
            personal += gm_json_int(gm_json_get(r, "personal_fen"), 0);
            employer += gm_json_int(gm_json_get(r, "employer_fen"), 0);
        }
    }
    int continuous = 0;
    while (latest >= 0 && continuous < months && paid[continuous]) continuous++;

    char quoted_name[512] = "null";
    if (name) gm_json_quote(quoted_name, sizeof quoted_name, name);
    char latest_text[16] = "null";
    if (latest >= 0)
        snprintf(latest_text, sizeof latest_text, "\"%04d-%02d\"", latest / 12, latest % 12 + 1);

    char out[1024];
    snprintf(out, sizeof out,
             "{\"found\":true,\"name\":%s,\"months_paid\":%lld,\"total_personal_fen\":%lld,"
             "\"total_employer_fen\":%lld,\"latest_month\":%s,\"continuous_months\":%d}\n",
             quoted_name, (long long)months_paid, (long long)personal, (long long)employer,
             latest_text, continuous);
    gm_log("subject found, %lld months paid in a window of %lld", (long long)months_paid,
           (long long)months);
    return gm_write_output(out) == 0 ? 0 : 1;
}
