/* Unit tests of govmarket.h's JSON writer, compiled natively (cc) and run by
 * sandbox/tests/guest_header.rs. Exits non-zero naming the first failure. */
#include "../govmarket.h"

static int failures = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                               \
        }                                                                             \
    } while (0)

static void an_object_with_every_kind_of_value(void) {
    char buf[256];
    gm_writer w;
    gm_w_init(&w, buf, sizeof buf);
    gm_w_object(&w);
    gm_w_key(&w, "name");
    gm_w_string(&w, "张三");
    gm_w_key(&w, "months");
    gm_w_int(&w, -36);
    gm_w_key(&w, "big");
    gm_w_int(&w, INT64_MAX);
    gm_w_key(&w, "items");
    gm_w_array(&w);
    gm_w_bool(&w, 1);
    gm_w_bool(&w, 0);
    gm_w_null(&w);
    gm_w_object(&w);
    gm_w_end(&w);
    gm_w_end(&w);
    gm_w_key(&w, "record");
    gm_w_raw(&w, "{\"a\":1}");
    gm_w_end(&w);
    CHECK(gm_w_finish(&w) == GM_W_OK);
    CHECK(strcmp(buf, "{\"name\":\"张三\",\"months\":-36,\"big\":9223372036854775807,"
                      "\"items\":[true,false,null,{}],\"record\":{\"a\":1}}") == 0);
}

static void strings_are_escaped(void) {
    char buf[128];
    gm_writer w;
    gm_w_init(&w, buf, sizeof buf);
    gm_w_array(&w);
    gm_w_string(&w, "quote \" backslash \\ newline \n tab \t bell \a");
    gm_w_end(&w);
    CHECK(gm_w_finish(&w) == GM_W_OK);
    CHECK(strcmp(buf, "[\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007\"]") == 0);
}

static void running_out_of_room_is_reported_not_truncated(void) {
    char buf[16];
    gm_writer w;
    gm_w_init(&w, buf, sizeof buf);
    gm_w_object(&w);
    gm_w_key(&w, "long");
    gm_w_string(&w, "this does not fit in sixteen bytes");
    gm_w_end(&w);
    CHECK(gm_w_finish(&w) == GM_W_NO_ROOM);
    CHECK(strlen(buf) < sizeof buf); /* still NUL-terminated */

    /* exactly full: 15 characters and the NUL */
    gm_w_init(&w, buf, sizeof buf);
    gm_w_string(&w, "0123456789abc");
    CHECK(gm_w_finish(&w) == GM_W_OK);
    CHECK(strcmp(buf, "\"0123456789abc\"") == 0);
    gm_w_init(&w, buf, sizeof buf);
    gm_w_string(&w, "0123456789abcd");
    CHECK(gm_w_finish(&w) == GM_W_NO_ROOM);

    gm_w_init(&w, buf, 0);
    CHECK(gm_w_finish(&w) == GM_W_NO_ROOM);
}

static void misuse_is_reported(void) {
    char buf[64];
    gm_writer w;

    gm_w_init(&w, buf, sizeof buf); /* nothing written */
    CHECK(gm_w_finish(&w) == GM_W_BAD_NESTING);

    gm_w_init(&w, buf, sizeof buf); /* unclosed */
    gm_w_array(&w);
    CHECK(gm_w_finish(&w) == GM_W_BAD_NESTING);

    gm_w_init(&w, buf, sizeof buf); /* a value without its key */
    gm_w_object(&w);
    gm_w_int(&w, 1);
    gm_w_end(&w);
    CHECK(gm_w_finish(&w) == GM_W_BAD_NESTING);

    gm_w_init(&w, buf, sizeof buf); /* a key in an array */
    gm_w_array(&w);
    gm_w_key(&w, "k");
    gm_w_end(&w);
    CHECK(gm_w_finish(&w) == GM_W_BAD_NESTING);

    gm_w_init(&w, buf, sizeof buf); /* a key without its value */
    gm_w_object(&w);
    gm_w_key(&w, "k");
    gm_w_end(&w);
    CHECK(gm_w_finish(&w) == GM_W_BAD_NESTING);

    gm_w_init(&w, buf, sizeof buf); /* two top-level values */
    gm_w_int(&w, 1);
    gm_w_int(&w, 2);
    CHECK(gm_w_finish(&w) == GM_W_BAD_NESTING);

    gm_w_init(&w, buf, sizeof buf); /* end without begin */
    gm_w_end(&w);
    CHECK(gm_w_finish(&w) == GM_W_BAD_NESTING);

    char deep[256];
    gm_w_init(&w, deep, sizeof deep); /* deeper than GM_W_MAX_DEPTH */
    for (int i = 0; i <= GM_W_MAX_DEPTH; i++) gm_w_array(&w);
    CHECK(gm_w_finish(&w) == GM_W_BAD_NESTING);
}

static void quote_fits_or_says_it_does_not(void) {
    char out[8];
    CHECK(gm_json_quote(out, sizeof out, "abc") == GM_W_OK);
    CHECK(strcmp(out, "\"abc\"") == 0);
    CHECK(gm_json_quote(out, sizeof out, "abcdefgh") == GM_W_NO_ROOM);
    CHECK(strcmp(out, "") == 0);
}

int main(void) {
    an_object_with_every_kind_of_value();
    strings_are_escaped();
    running_out_of_room_is_reported_not_truncated();
    misuse_is_reported();
    quote_fits_or_says_it_does_not();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("json writer: all checks passed\n");
    return 0;
}
