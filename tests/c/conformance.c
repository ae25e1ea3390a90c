/* The C twin of tests/python/conformance.py: every part of the contract, both ways. */
#include "weft.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t count_words(const char *text) {
    size_t words = 0;
    for (bool in_word = false; *text; text++) {
        bool space = isspace((unsigned char)*text);
        words += !space && !in_word;
        in_word = !space;
    }
    return words;
}

static weft_status describe_text(const weft_inputs *in, weft_outputs *out) {
    const char *config = weft_config();
    const char *text = weft_input_text(in, "text");
    size_t extras = weft_input_count(in, "extras");
    if (weft_json_bool(config, "fail", false))
        return weft_fail(out, "asked to fail", true,
                         WEFT_META(weft_meta_text("language", "c"), weft_meta_int("extras", (int64_t)extras)));
    bool shout = weft_json_bool(config, "shout", false);

    size_t length = strlen(text);
    char *shown = malloc(length + 1);
    if (!shown) return weft_fail(out, "out of memory", false, NULL);
    for (size_t i = 0; i <= length; i++) shown[i] = shout ? (char)toupper((unsigned char)text[i]) : text[i];
    if (weft_yield(out, "echo", weft_text(shown))) {
        free(shown);
        return WEFT_FAILED;
    }

    weft_info("run %s step %s", weft_run_id(), weft_step_key());
    const char *partition = weft_partition_key();
    weft_warn("partition %s", partition ? partition : "None");
    printf("to stdout: %s\n", shown);
    fprintf(stderr, "to stderr: %zu extras\n", extras);
    free(shown);

    weft_expectation("not_empty", length > 0, "the text has at least one byte",
                     WEFT_META(weft_meta_int("length", (int64_t)length)));
    weft_materialization("tests/conformance", "a pretend table",
                         WEFT_META(weft_meta_int("rows", 3), weft_meta_url("url", "https://example.com/t")));

    char summary[96];
    snprintf(summary, sizeof summary, "{\"words\":%zu,\"extras\":%zu,\"shout\":%s}", count_words(text), extras,
             shout ? "true" : "false");
    weft_set(out, "length", weft_int((int64_t)length));
    weft_set(out, "scaled", weft_float((double)length * weft_input_float(in, "scale", 1.0)));
    weft_set(out, "summary", weft_json(summary));
    weft_set(out, "raw", weft_bytes(text, length));
    weft_set(out, "flag", weft_bool(true));
    /* "nothing" is optional and left unproduced. */
    return WEFT_OK;
}

WEFT_SOLID(
    .name = "conformance",
    .description = "Describes a text in every value type there is.",
    .version = "3",
    .inputs = WEFT_INPUTS(
        {"text", "The text to describe", WEFT_TEXT},
        {"scale", "Multiplies the length", WEFT_FLOAT, .optional = true},
        {"extras", "Anything else", WEFT_ANY, .optional = true, .multiple = true}),
    .outputs = WEFT_OUTPUTS(
        {"length", "The text's length in bytes", WEFT_INTEGER},
        {"scaled", "", WEFT_FLOAT},
        {"summary", "", WEFT_JSON},
        {"raw", "", WEFT_BYTES},
        {"flag", "", WEFT_BOOLEAN},
        {"nothing", "Never produced", WEFT_TEXT, .optional = true},
        {"echo", "The text, shouted if the config says so", WEFT_TEXT}),
    .config_schema = "{\"type\": \"object\", \"properties\": {"
                     "\"shout\": {\"type\": \"boolean\", \"default\": false}, "
                     "\"fail\": {\"type\": \"boolean\", \"default\": false, \"description\": \"Fail with metadata instead\"}}}",
    .tags = WEFT_TAGS({"team", "weft"}, {"kind", "test"}),
    .compute = describe_text,
);
