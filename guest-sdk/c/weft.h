/* weft.h: write weft solids in C.
 *
 * A solid is one C file: a declaration made with WEFT_SOLID and a compute function.
 *
 *     #include "weft.h"
 *     #include <string.h>
 *
 *     static weft_status shout(const weft_inputs *in, weft_outputs *out) {
 *         const char *text = weft_input_text(in, "text");
 *         weft_info("shouting %zu bytes", strlen(text));
 *         weft_set(out, "result", weft_text(text));
 *         return WEFT_OK;
 *     }
 *
 *     WEFT_SOLID(
 *         .name = "shout",
 *         .description = "Shouts the text.",
 *         .inputs = WEFT_INPUTS({"text", "The text to shout", WEFT_TEXT}),
 *         .outputs = WEFT_OUTPUTS({"result", "The shouted text", WEFT_TEXT}),
 *         .compute = shout,
 *     );
 *
 * weft.c turns the declaration into the contract's `describe` and runs `compute` with
 * the inputs by name; solid.h/solid.c are the wit-bindgen C bindings of wit/solid.wit
 * underneath (include solid.h for what this layer does not wrap: the `sql`,
 * `key-value` and `secrets` resources).
 *
 * | weft type | C type            | read an input                   | make a value          |
 * |-----------|-------------------|---------------------------------|-----------------------|
 * | any       | const weft_value* | weft_input(in, n), _at(in, n, i)| any of these          |
 * | nothing   | -                 | -                               | weft_null()           |
 * | boolean   | bool              | weft_input_bool(in, n, dflt)    | weft_bool(b)          |
 * | integer   | int64_t           | weft_input_int(in, n, dflt)     | weft_int(i)           |
 * | float     | double            | weft_input_float(in, n, dflt)   | weft_float(d)         |
 * | text      | const char* (NUL) | weft_input_text(in, n)          | weft_text(s), _n(s,l) |
 * | bytes     | uint8_t* + length | weft_input_bytes(in, n, &len)   | weft_bytes(p, len)    |
 * | json      | const char* (NUL) | weft_input_json(in, n)          | weft_json(s)          |
 *
 * Inputs declared `.optional = true` may be absent: the readers then return NULL or
 * the default. Inputs declared `.multiple = true` (fan-in) hold one value per upstream
 * output: weft_input_count(in, n) and weft_input_at(in, n, i).
 *
 * Memory: every `const char *` and value this layer hands out stays valid until
 * compute returns and is freed by weft.c; weft_set, weft_yield, weft_fail and the
 * reporting calls copy what they are given. Only weft_json_string returns memory the
 * caller frees. stdout and stderr are flushed when compute returns.
 */
#ifndef WEFT_H
#define WEFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The declared type of an input or output (the contract's value-type, same order). */
typedef enum weft_type {
    WEFT_ANY, WEFT_NOTHING, WEFT_BOOLEAN, WEFT_INTEGER, WEFT_FLOAT, WEFT_TEXT, WEFT_BYTES, WEFT_JSON,
} weft_type;

/* A value. `type` is WEFT_NOTHING for null, else the kind of value it holds; only the
 * field of that kind is meaningful. Text and json are NUL-terminated in `data`. */
typedef struct weft_value {
    weft_type type;
    bool boolean;
    int64_t integer;
    double number;
    const char *data; /* text, json or bytes */
    size_t len;       /* bytes in `data`, not counting the NUL */
} weft_value;

static inline weft_value weft_null(void) { weft_value v = {.type = WEFT_NOTHING}; return v; }
static inline weft_value weft_bool(bool b) { weft_value v = {.type = WEFT_BOOLEAN, .boolean = b}; return v; }
static inline weft_value weft_int(int64_t i) { weft_value v = {.type = WEFT_INTEGER, .integer = i}; return v; }
static inline weft_value weft_float(double d) { weft_value v = {.type = WEFT_FLOAT, .number = d}; return v; }
weft_value weft_text(const char *text);                 /* NUL-terminated */
weft_value weft_text_n(const char *text, size_t len);   /* `len` bytes of UTF-8 */
weft_value weft_bytes(const void *data, size_t len);
weft_value weft_json(const char *json);                 /* a JSON document */

/* --- the declaration --- */

typedef struct weft_input_def {
    const char *name;
    const char *description;
    weft_type type;
    bool optional; /* the step runs even when nothing feeds it */
    bool multiple; /* fan-in: any number of values */
} weft_input_def;

typedef struct weft_output_def {
    const char *name;
    const char *description;
    weft_type type;
    bool optional; /* the solid may leave it unproduced */
} weft_output_def;

typedef enum weft_resource_kind { WEFT_KEY_VALUE, WEFT_SQL, WEFT_HTTP, WEFT_SECRETS } weft_resource_kind;

typedef struct weft_resource_def {
    const char *name; /* the name modes bind it under */
    weft_resource_kind kind;
} weft_resource_def;

typedef struct weft_tag {
    const char *key;
    const char *value;
} weft_tag;

typedef enum weft_status { WEFT_OK = 0, WEFT_FAILED = 1 } weft_status;

typedef struct weft_inputs weft_inputs;
typedef struct weft_outputs weft_outputs;

/* Runs the solid once: read `in`, weft_set outputs on `out`, return WEFT_OK, or return
 * weft_fail(out, ...). Returning WEFT_FAILED without weft_fail fails with a generic
 * message. */
typedef weft_status (*weft_compute_fn)(const weft_inputs *in, weft_outputs *out);

typedef struct weft_solid {
    const char *name;          /* a lowercase identifier */
    const char *description;
    const char *version;       /* NULL: "1" */
    const weft_input_def *inputs;       /* WEFT_INPUTS(...), or NULL for none */
    const weft_output_def *outputs;     /* WEFT_OUTPUTS(...) */
    const char *config_schema;          /* a JSON Schema as text, or NULL */
    const weft_resource_def *resources; /* WEFT_RESOURCES(...) */
    const weft_tag *tags;               /* WEFT_TAGS(...), in order */
    weft_compute_fn compute;
} weft_solid;

/* Static arrays for the declaration, ended by a zeroed entry. */
#define WEFT_INPUTS(...) ((const weft_input_def[]){__VA_ARGS__, {0}})
#define WEFT_OUTPUTS(...) ((const weft_output_def[]){__VA_ARGS__, {0}})
#define WEFT_RESOURCES(...) ((const weft_resource_def[]){__VA_ARGS__, {0}})
#define WEFT_TAGS(...) ((const weft_tag[]){__VA_ARGS__, {0}})

/* Declares the component's solid; use it once, at file scope. */
#define WEFT_SOLID(...) const weft_solid weft_solid_definition = {__VA_ARGS__}
extern const weft_solid weft_solid_definition;

/* --- inputs --- */

size_t weft_input_count(const weft_inputs *in, const char *name);
/* The i-th value fed to `name`, or NULL. */
const weft_value *weft_input_at(const weft_inputs *in, const char *name, size_t i);
/* The first value fed to `name`, or NULL. */
const weft_value *weft_input(const weft_inputs *in, const char *name);
/* Typed readers of the first value: NULL or `dflt` when absent or of another type
 * (weft_input_float widens an integer). */
const char *weft_input_text(const weft_inputs *in, const char *name);
const char *weft_input_json(const weft_inputs *in, const char *name);
const uint8_t *weft_input_bytes(const weft_inputs *in, const char *name, size_t *len);
int64_t weft_input_int(const weft_inputs *in, const char *name, int64_t dflt);
double weft_input_float(const weft_inputs *in, const char *name, double dflt);
bool weft_input_bool(const weft_inputs *in, const char *name, bool dflt);

/* --- outputs --- */

/* Sets output `name`, returned when compute returns (in declaration order). Setting it
 * again replaces the value. An integer set on a float output is widened. */
void weft_set(weft_outputs *out, const char *name, weft_value value);
/* Produces output `name` now, so that the host records it at once. When the host
 * refuses (undeclared, wrong type, already produced) it records a failure with the
 * host's message and returns WEFT_FAILED: `if (weft_yield(...)) return WEFT_FAILED;` */
weft_status weft_yield(weft_outputs *out, const char *name, weft_value value);

/* --- metadata, for failures, expectations and materializations --- */

typedef enum weft_meta_kind {
    WEFT_META_TEXT, WEFT_META_MARKDOWN, WEFT_META_URL, WEFT_META_PATH, WEFT_META_JSON,
    WEFT_META_INTEGER, WEFT_META_FLOAT, WEFT_META_BOOLEAN,
} weft_meta_kind;

typedef struct weft_meta {
    const char *label;
    weft_meta_kind kind;
    const char *text; /* text, markdown, url, path, json */
    int64_t integer;
    double number;
    bool boolean;
} weft_meta;

/* A list of metadata entries, in order: WEFT_META(weft_meta_int("rows", 3), ...). */
#define WEFT_META(...) ((const weft_meta[]){__VA_ARGS__, {0}})

static inline weft_meta weft_meta_str(weft_meta_kind kind, const char *label, const char *text) {
    weft_meta m = {.label = label, .kind = kind, .text = text};
    return m;
}
#define weft_meta_text(label, s) weft_meta_str(WEFT_META_TEXT, label, s)
#define weft_meta_markdown(label, s) weft_meta_str(WEFT_META_MARKDOWN, label, s)
#define weft_meta_url(label, s) weft_meta_str(WEFT_META_URL, label, s)
#define weft_meta_path(label, s) weft_meta_str(WEFT_META_PATH, label, s)
#define weft_meta_json(label, s) weft_meta_str(WEFT_META_JSON, label, s)
static inline weft_meta weft_meta_int(const char *label, int64_t i) {
    weft_meta m = {.label = label, .kind = WEFT_META_INTEGER, .integer = i};
    return m;
}
static inline weft_meta weft_meta_float(const char *label, double d) {
    weft_meta m = {.label = label, .kind = WEFT_META_FLOAT, .number = d};
    return m;
}
static inline weft_meta weft_meta_bool(const char *label, bool b) {
    weft_meta m = {.label = label, .kind = WEFT_META_BOOLEAN, .boolean = b};
    return m;
}

/* Fails the step: `return weft_fail(out, "bad rows", false, WEFT_META(...));`.
 * `metadata` may be NULL. Always returns WEFT_FAILED. */
weft_status weft_fail(weft_outputs *out, const char *message, bool retryable, const weft_meta *metadata);

/* Records a data-quality check; a failed one does not fail the step. `description` and
 * `metadata` may be NULL. */
void weft_expectation(const char *label, bool success, const char *description, const weft_meta *metadata);
/* Records that the solid produced or updated an asset such as a table or a file. */
void weft_materialization(const char *asset_key, const char *description, const weft_meta *metadata);

/* --- the context --- */

typedef enum weft_level { WEFT_TRACE, WEFT_DEBUG, WEFT_INFO, WEFT_WARN, WEFT_ERROR } weft_level;

/* Records a printf-style message in the run's event log. */
void weft_log(weft_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));
#define weft_debug(...) weft_log(WEFT_DEBUG, __VA_ARGS__)
#define weft_info(...) weft_log(WEFT_INFO, __VA_ARGS__)
#define weft_warn(...) weft_log(WEFT_WARN, __VA_ARGS__)
#define weft_error(...) weft_log(WEFT_ERROR, __VA_ARGS__)

const char *weft_run_id(void);
const char *weft_step_key(void);
uint32_t weft_attempt(void);             /* 1 for the first attempt */
const char *weft_partition_key(void);    /* NULL when the run has no partition */
/* The config as a JSON document, validated against the schema, defaults filled in. */
const char *weft_config(void);

/* --- tiny readers of a flat JSON object's top-level fields (such as the config) ---
 * They look at top-level members only and do not validate the document. */
bool weft_json_bool(const char *json, const char *key, bool dflt);
int64_t weft_json_int(const char *json, const char *key, int64_t dflt); /* integers only */
/* The unescaped string value of `key`, malloc'd (free it), or NULL. */
char *weft_json_string(const char *json, const char *key);

#ifdef __cplusplus
}
#endif
#endif
