/*
 * 不动产登记预审 (property registration pre-check): the owner's certificate, checked for a
 * court seal and an unreleased mortgage before a transfer or mortgage appointment.
 *
 * Input:  {"certificate_no": "...", "transaction": "transfer" | "mortgage"}
 * Data:   dataset "property_certificates", key = input.certificate_no; the grant's owner rule
 *         answers GM_QUERY_REFUSED unless the citizen owns or co-owns the certificate, and the
 *         record never carries an ID number.
 * Output: {"found", "passed", "issues": [...], "address", "area_m2", "usage"}
 */
#include "../../govmarket.h"

static int is_true(const gm_json *v) { return v && v->type == GM_BOOL && v->boolean; }

/* The answer that names one problem and shows nothing of the property. */
static int refuse(int found, const char *issue) {
    char out[256];
    snprintf(out, sizeof out,
             "{\"found\":%s,\"passed\":false,\"issues\":[\"%s\"],\"address\":null,"
             "\"area_m2\":null,\"usage\":null}\n",
             found ? "true" : "false", issue);
    return gm_write_output(out) == 0 ? 0 : 1;
}

/* A string field of the record, or JSON null. */
static void write_str_or_null(gm_writer *w, const gm_json *v) {
    if (v && v->type == GM_STRING)
        gm_w_string(w, v->string);
    else
        gm_w_null(w);
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
    const char *certificate = gm_json_str(gm_json_get(input, "certificate_no"), "");
    const char *transaction = gm_json_str(gm_json_get(input, "transaction"), "");

    int32_t code = 0;
    char *record_text = gm_query("property_certificates", certificate, &code);
    if (!record_text) {
        if (code == GM_QUERY_REFUSED) return refuse(1, "applicant_not_owner");
        if (code == GM_QUERY_NOT_FOUND || code == GM_QUERY_BAD_ARGUMENTS)
            return refuse(0, "certificate_not_found");
        gm_log("gov.query failed with code %d", (int)code);
        return 1;
    }
    gm_json *record = gm_json_parse(record_text, (size_t)code);
    if (!record) {
        gm_log("record is not JSON");
        return 1;
    }
    const char *issues[2];
    int n = 0;
    if (is_true(gm_json_get(record, "sealed"))) issues[n++] = "property_sealed";
    if (is_true(gm_json_get(record, "mortgaged")))
        issues[n++] = strcmp(transaction, "transfer") == 0 ? "mortgage_not_released"
                                                          : "already_mortgaged";

    static char out[4096];
    gm_writer w;
    gm_w_init(&w, out, sizeof out);
    gm_w_object(&w);
    gm_w_key(&w, "found");
    gm_w_bool(&w, 1);
    gm_w_key(&w, "passed");
    gm_w_bool(&w, n == 0);
    gm_w_key(&w, "issues");
    gm_w_array(&w);
    for (int i = 0; i < n; i++) gm_w_string(&w, issues[i]);
    gm_w_end(&w);
    gm_w_key(&w, "address");
    write_str_or_null(&w, gm_json_get(record, "address"));
    gm_w_key(&w, "area_m2");
    write_str_or_null(&w, gm_json_get(record, "area_m2"));
    gm_w_key(&w, "usage");
    write_str_or_null(&w, gm_json_get(record, "usage"));
    gm_w_end(&w);
    if (gm_w_finish(&w) != GM_W_OK) return 1;
    gm_log("%s: %d issue(s)", transaction, n);
    int rc = gm_write_output(out);
    gm_json_free(record);
    free(record_text);
    gm_json_free(request);
    free(request_text);
    return rc == 0 ? 0 : 1;
}
