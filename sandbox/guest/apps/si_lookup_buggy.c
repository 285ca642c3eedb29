/*
 * 社保缴费记录查询 - a plausible but wrong implementation, kept as an example of what the hidden
 * test cases catch.
 *
 * The bug: consecutive months are detected by comparing month numbers, and December -> January
 * is special-cased as consecutive without checking the year. A gap from 2024-12 straight to
 * 2026-01 is therefore counted as continuous. Every sample case passes (their runs cross one
 * year boundary without a gap); a hidden case with such a gap fails as wrong_answer.
 */
#include "../govmarket.h"

#define DEFAULT_MONTHS 12
#define MAX_MONTHS 36

static const char NOT_FOUND[] =
    "{\"found\":false,\"name\":null,\"months_paid\":0,\"total_personal_fen\":0,"
    "\"total_employer_fen\":0,\"latest_month\":null,\"continuous_months\":0}\n";

typedef struct {
    int year, month;
    int64_t personal, employer;
} month_record;

static int parse_month(const char *s, int *year, int *month) {
    if (!s || strlen(s) != 7 || s[4] != '-') return -1;
    *year = atoi(s);
    *month = atoi(s + 5);
    return (*month >= 1 && *month <= 12) ? 0 : -1;
}

/* BUG: the year is ignored when the month wraps from 12 to 1. */
static int follows(const month_record *earlier, const month_record *later) {
    if (earlier->month == 12 && later->month == 1) return 1;
    return later->year == earlier->year && later->month == earlier->month + 1;
}

int main(void) {
    size_t len = 0;
    char *request_text = gm_read_request(&len);
    gm_json *request = request_text ? gm_json_parse(request_text, len) : NULL;
    if (!request) return 1;
    gm_json *input = gm_json_get(request, "input");
    int64_t months = gm_json_int(gm_json_get(input, "months"), DEFAULT_MONTHS);
    if (months < 1) months = 1;
    if (months > MAX_MONTHS) months = MAX_MONTHS;
    const char *subject = gm_json_str(gm_json_get(gm_json_get(request, "context"), "subject"), "");

    int32_t code = 0;
    char *record_text = gm_query("social_insurance", subject, &code);
    if (!record_text) {
        if (code == GM_QUERY_NOT_FOUND || code == GM_QUERY_BAD_ARGUMENTS)
            return gm_write_output(NOT_FOUND) == 0 ? 0 : 1;
        return 1;
    }
    gm_json *record = gm_json_parse(record_text, (size_t)code);
    if (!record) return 1;
    const char *name = gm_json_str(gm_json_get(record, "name"), NULL);
    gm_json *records = gm_json_get(record, "records");
    size_t n = records ? records->length : 0;
    month_record *all = calloc(n ? n : 1, sizeof *all);
    size_t count = 0;
    for (gm_json *r = records ? records->child : NULL; r; r = r->next) {
        month_record m;
        if (parse_month(gm_json_str(gm_json_get(r, "month"), NULL), &m.year, &m.month)) continue;
        m.personal = gm_json_int(gm_json_get(r, "personal_fen"), 0);
        m.employer = gm_json_int(gm_json_get(r, "employer_fen"), 0);
        all[count++] = m; /* records arrive sorted by month ascending */
    }

    int64_t months_paid = 0, personal = 0, employer = 0;
    int continuous = 0;
    char latest_text[16] = "null";
    if (count > 0) {
        const month_record *latest = &all[count - 1];
        int latest_index = latest->year * 12 + latest->month - 1;
        for (size_t i = 0; i < count; i++) {
            int index = all[i].year * 12 + all[i].month - 1;
            if (latest_index - index >= months) continue;
            months_paid++;
            personal += all[i].personal;
            employer += all[i].employer;
        }
        continuous = 1;
        for (size_t i = count - 1; i > 0 && continuous < months; i--) {
            int index = all[i - 1].year * 12 + all[i - 1].month - 1;
            if (latest_index - index >= months || !follows(&all[i - 1], &all[i])) break;
            continuous++;
        }
        snprintf(latest_text, sizeof latest_text, "\"%04d-%02d\"", latest->year, latest->month);
    }

    char quoted_name[512] = "null";
    if (name) gm_json_quote(quoted_name, sizeof quoted_name, name);
    char out[1024];
    snprintf(out, sizeof out,
             "{\"found\":true,\"name\":%s,\"months_paid\":%lld,\"total_personal_fen\":%lld,"
             "\"total_employer_fen\":%lld,\"latest_month\":%s,\"continuous_months\":%d}\n",
             quoted_name, (long long)months_paid, (long long)personal, (long long)employer,
             latest_text, continuous);
    return gm_write_output(out) == 0 ? 0 : 1;
}
