/* weft.c: the contract's `guest` exports, made from the solid's WEFT_SOLID declaration,
 * and the helpers of weft.h over the wit-bindgen bindings in solid.h.
 *
 * Ownership, as the bindings have it: what the host passes to an export (the inputs)
 * belongs to the guest, which frees it; what an export returns is freed by the
 * bindings' post-return function with free(), so it must all be malloc'd; what an
 * import returns belongs to the caller; what is passed to an import is only borrowed.
 */
#include "weft.h"
#include "solid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef weft_solid_types_value_t raw_value;
typedef weft_solid_types_list_metadata_entry_t raw_metadata;

struct weft_inputs {
    exports_weft_solid_guest_list_named_value_t raw; /* as received; freed at the end */
    weft_value *values;                              /* one per raw entry */
};

struct weft_outputs {
    weft_solid_types_named_value_t *set; /* what weft_set stored, all malloc'd */
    size_t len, cap;
    bool failed;
    weft_solid_types_failure_t failure;
};

static void *must(void *p) {
    if (!p) abort();
    return p;
}

static bool is(solid_string_t s, const char *name) {
    return s.len == strlen(name) && memcmp(s.ptr, name, s.len) == 0;
}

/* A malloc'd copy of `text`, as the bindings free it (nothing for ""). */
static solid_string_t dup_n(const char *text, size_t len) {
    solid_string_t s = {NULL, 0};
    if (text && len) solid_string_dup_n(&s, text, len);
    return s;
}

static solid_string_t dup(const char *text) {
    return dup_n(text, text ? strlen(text) : 0);
}

weft_value weft_text_n(const char *text, size_t len) {
    weft_value v = {.type = WEFT_TEXT};
    v.data = text;
    v.len = len;
    return v;
}

weft_value weft_text(const char *text) {
    return weft_text_n(text, text ? strlen(text) : 0);
}

weft_value weft_bytes(const void *data, size_t len) {
    weft_value v = {.type = WEFT_BYTES};
    v.data = data;
    v.len = len;
    return v;
}

weft_value weft_json(const char *json) {
    weft_value v = weft_text(json);
    v.type = WEFT_JSON;
    return v;
}

/* --- describe --- */

#define COUNT(array, field, n) for (n = 0; (array) && (array)[n].field; n++)

void exports_weft_solid_guest_describe(exports_weft_solid_guest_solid_def_t *ret) {
    const weft_solid *s = &weft_solid_definition;
    size_t n;
    memset(ret, 0, sizeof *ret);
    ret->name = dup(s->name);
    ret->description = dup(s->description);
    ret->version = dup(s->version ? s->version : "1");

    COUNT(s->inputs, name, n);
    ret->inputs.len = n;
    ret->inputs.ptr = n ? must(calloc(n, sizeof *ret->inputs.ptr)) : NULL;
    for (size_t i = 0; i < n; i++) {
        weft_solid_types_input_def_t *d = &ret->inputs.ptr[i];
        d->name = dup(s->inputs[i].name);
        d->description = dup(s->inputs[i].description);
        d->type = (weft_solid_types_value_type_t)s->inputs[i].type;
        d->optional = s->inputs[i].optional;
        d->multiple = s->inputs[i].multiple;
    }

    COUNT(s->outputs, name, n);
    ret->outputs.len = n;
    ret->outputs.ptr = n ? must(calloc(n, sizeof *ret->outputs.ptr)) : NULL;
    for (size_t i = 0; i < n; i++) {
        weft_solid_types_output_def_t *d = &ret->outputs.ptr[i];
        d->name = dup(s->outputs[i].name);
        d->description = dup(s->outputs[i].description);
        d->type = (weft_solid_types_value_type_t)s->outputs[i].type;
        d->optional = s->outputs[i].optional;
    }

    ret->config_schema.is_some = s->config_schema != NULL;
    if (s->config_schema) ret->config_schema.val = dup(s->config_schema);

    COUNT(s->resources, name, n);
    ret->resources.len = n;
    ret->resources.ptr = n ? must(calloc(n, sizeof *ret->resources.ptr)) : NULL;
    for (size_t i = 0; i < n; i++) {
        ret->resources.ptr[i].name = dup(s->resources[i].name);
        ret->resources.ptr[i].kind = (weft_solid_types_resource_kind_t)s->resources[i].kind;
    }

    COUNT(s->tags, key, n);
    ret->tags.len = n;
    ret->tags.ptr = n ? must(calloc(n, sizeof *ret->tags.ptr)) : NULL;
    for (size_t i = 0; i < n; i++) {
        ret->tags.ptr[i].f0 = dup(s->tags[i].key);
        ret->tags.ptr[i].f1 = dup(s->tags[i].value);
    }
}

/* --- inputs --- */

/* A view of a received value. Text and json get their NUL by growing the buffer the
 * host wrote them into (it came from cabi_realloc, so realloc may grow it). */
static weft_value view(raw_value *raw) {
    weft_value v = {.type = WEFT_NOTHING};
    solid_string_t *s = NULL;
    switch (raw->tag) {
    case WEFT_SOLID_TYPES_VALUE_BOOLEAN: v.type = WEFT_BOOLEAN; v.boolean = raw->val.boolean; break;
    case WEFT_SOLID_TYPES_VALUE_INTEGER: v.type = WEFT_INTEGER; v.integer = raw->val.integer; break;
    case WEFT_SOLID_TYPES_VALUE_FLOAT: v.type = WEFT_FLOAT; v.number = raw->val.float_; break;
    case WEFT_SOLID_TYPES_VALUE_TEXT: v.type = WEFT_TEXT; s = &raw->val.text; break;
    case WEFT_SOLID_TYPES_VALUE_JSON: v.type = WEFT_JSON; s = &raw->val.json; break;
    case WEFT_SOLID_TYPES_VALUE_BYTES:
        v.type = WEFT_BYTES;
        v.data = (const char *)raw->val.bytes.ptr;
        v.len = raw->val.bytes.len;
        break;
    }
    if (s) {
        if (s->len) {
            s->ptr = must(realloc(s->ptr, s->len + 1));
            s->ptr[s->len] = 0;
            v.data = (const char *)s->ptr;
        } else {
            v.data = "";
        }
        v.len = s->len;
    }
    return v;
}

const weft_value *weft_input_at(const weft_inputs *in, const char *name, size_t i) {
    for (size_t k = 0; k < in->raw.len; k++)
        if (is(in->raw.ptr[k].name, name) && i-- == 0) return &in->values[k];
    return NULL;
}

const weft_value *weft_input(const weft_inputs *in, const char *name) {
    return weft_input_at(in, name, 0);
}

size_t weft_input_count(const weft_inputs *in, const char *name) {
    size_t n = 0;
    for (size_t k = 0; k < in->raw.len; k++) n += is(in->raw.ptr[k].name, name);
    return n;
}

static const weft_value *typed(const weft_inputs *in, const char *name, weft_type type) {
    const weft_value *v = weft_input(in, name);
    return v && v->type == type ? v : NULL;
}

const char *weft_input_text(const weft_inputs *in, const char *name) {
    const weft_value *v = typed(in, name, WEFT_TEXT);
    return v ? v->data : NULL;
}

const char *weft_input_json(const weft_inputs *in, const char *name) {
    const weft_value *v = typed(in, name, WEFT_JSON);
    return v ? v->data : NULL;
}

const uint8_t *weft_input_bytes(const weft_inputs *in, const char *name, size_t *len) {
    const weft_value *v = typed(in, name, WEFT_BYTES);
    if (len) *len = v ? v->len : 0;
    return v ? (const uint8_t *)v->data : NULL;
}

int64_t weft_input_int(const weft_inputs *in, const char *name, int64_t dflt) {
    const weft_value *v = typed(in, name, WEFT_INTEGER);
    return v ? v->integer : dflt;
}

double weft_input_float(const weft_inputs *in, const char *name, double dflt) {
    const weft_value *v = weft_input(in, name);
    if (v && v->type == WEFT_FLOAT) return v->number;
    if (v && v->type == WEFT_INTEGER) return (double)v->integer;
    return dflt;
}

bool weft_input_bool(const weft_inputs *in, const char *name, bool dflt) {
    const weft_value *v = typed(in, name, WEFT_BOOLEAN);
    return v ? v->boolean : dflt;
}

/* --- outputs --- */

static const weft_output_def *output_def(const char *name) {
    const weft_output_def *o = weft_solid_definition.outputs;
    for (; o && o->name; o++)
        if (strcmp(o->name, name) == 0) return o;
    return NULL;
}

static bool declared(solid_string_t name) {
    for (const weft_output_def *o = weft_solid_definition.outputs; o && o->name; o++)
        if (is(name, o->name)) return true;
    return false;
}

/* A malloc'd wire value of `v`, widened to the declared type of output `name`. */
static raw_value to_raw(const char *name, weft_value v) {
    raw_value r;
    memset(&r, 0, sizeof r);
    const weft_output_def *def = output_def(name);
    if (def && def->type == WEFT_FLOAT && v.type == WEFT_INTEGER) v = weft_float((double)v.integer);
    switch (v.type) {
    case WEFT_BOOLEAN: r.tag = WEFT_SOLID_TYPES_VALUE_BOOLEAN; r.val.boolean = v.boolean; break;
    case WEFT_INTEGER: r.tag = WEFT_SOLID_TYPES_VALUE_INTEGER; r.val.integer = v.integer; break;
    case WEFT_FLOAT: r.tag = WEFT_SOLID_TYPES_VALUE_FLOAT; r.val.float_ = v.number; break;
    case WEFT_TEXT: r.tag = WEFT_SOLID_TYPES_VALUE_TEXT; r.val.text = dup_n(v.data, v.len); break;
    case WEFT_JSON: r.tag = WEFT_SOLID_TYPES_VALUE_JSON; r.val.json = dup_n(v.data, v.len); break;
    case WEFT_BYTES: {
        solid_string_t s = dup_n(v.data, v.len);
        r.tag = WEFT_SOLID_TYPES_VALUE_BYTES;
        r.val.bytes.ptr = s.ptr;
        r.val.bytes.len = s.len;
        break;
    }
    default: r.tag = WEFT_SOLID_TYPES_VALUE_NULL; break;
    }
    return r;
}

void weft_set(weft_outputs *out, const char *name, weft_value value) {
    for (size_t i = 0; i < out->len; i++) {
        if (is(out->set[i].name, name)) {
            weft_solid_types_value_free(&out->set[i].value);
            out->set[i].value = to_raw(name, value);
            return;
        }
    }
    if (out->len == out->cap) {
        out->cap = out->cap ? 2 * out->cap : 8;
        out->set = must(realloc(out->set, out->cap * sizeof *out->set));
    }
    out->set[out->len].name = dup(name);
    out->set[out->len].value = to_raw(name, value);
    out->len++;
}

weft_status weft_yield(weft_outputs *out, const char *name, weft_value value) {
    solid_string_t wire_name, err;
    raw_value wire = to_raw(name, value);
    solid_string_set(&wire_name, name);
    bool ok = weft_solid_context_yield_output(&wire_name, &wire, &err);
    weft_solid_types_value_free(&wire);
    if (ok) return WEFT_OK;
    char *message = must(malloc(err.len + 1));
    memcpy(message, err.ptr, err.len);
    message[err.len] = 0;
    solid_string_free(&err);
    weft_fail(out, message, false, NULL);
    free(message);
    return WEFT_FAILED;
}

/* --- metadata, failures and reports --- */

static raw_metadata to_metadata(const weft_meta *m) {
    raw_metadata list = {NULL, 0};
    size_t n;
    COUNT(m, label, n);
    if (!n) return list;
    list.ptr = must(calloc(n, sizeof *list.ptr));
    list.len = n;
    for (size_t i = 0; i < n; i++) {
        weft_solid_types_metadata_entry_t *e = &list.ptr[i];
        e->label = dup(m[i].label);
        e->value.tag = (uint8_t)m[i].kind;
        switch (m[i].kind) {
        case WEFT_META_INTEGER: e->value.val.integer = m[i].integer; break;
        case WEFT_META_FLOAT: e->value.val.float_ = m[i].number; break;
        case WEFT_META_BOOLEAN: e->value.val.boolean = m[i].boolean; break;
        default: e->value.val.text = dup(m[i].text); break; /* every string case */
        }
    }
    return list;
}

static solid_option_string_t option(const char *text) {
    solid_option_string_t o = {text != NULL, {NULL, 0}};
    if (text) o.val = dup(text);
    return o;
}

weft_status weft_fail(weft_outputs *out, const char *message, bool retryable, const weft_meta *metadata) {
    if (out->failed) weft_solid_types_failure_free(&out->failure);
    out->failed = true;
    out->failure.message = dup(message ? message : "the solid failed");
    out->failure.retryable = retryable;
    out->failure.metadata = to_metadata(metadata);
    return WEFT_FAILED;
}

void weft_expectation(const char *label, bool success, const char *description, const weft_meta *metadata) {
    weft_solid_types_expectation_result_t e;
    e.success = success;
    e.label = dup(label);
    e.description = option(description);
    e.metadata = to_metadata(metadata);
    weft_solid_context_report_expectation(&e);
    weft_solid_types_expectation_result_free(&e);
}

void weft_materialization(const char *asset_key, const char *description, const weft_meta *metadata) {
    weft_solid_types_materialization_t m;
    m.asset_key = dup(asset_key);
    m.description = option(description);
    m.metadata = to_metadata(metadata);
    weft_solid_context_report_materialization(&m);
    weft_solid_types_materialization_free(&m);
}

/* --- the context --- */

void weft_log(weft_level level, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (n < 0) return;
    char *text = must(malloc((size_t)n + 1));
    va_start(args, format);
    vsnprintf(text, (size_t)n + 1, format, args);
    va_end(args);
    solid_string_t message = {(uint8_t *)text, (size_t)n};
    weft_solid_context_log((weft_solid_context_log_level_t)level, &message);
    free(text);
}

/* The context strings, read once and kept, NUL-terminated, until compute returns. */
static char *run_id, *step_key, *partition_key, *config;
static bool partition_read;

static char *keep(solid_string_t s) {
    char *text = must(malloc(s.len + 1));
    memcpy(text, s.ptr, s.len);
    text[s.len] = 0;
    solid_string_free(&s);
    return text;
}

const char *weft_run_id(void) {
    solid_string_t s;
    if (!run_id) weft_solid_context_run_id(&s), run_id = keep(s);
    return run_id;
}

const char *weft_step_key(void) {
    solid_string_t s;
    if (!step_key) weft_solid_context_step_key(&s), step_key = keep(s);
    return step_key;
}

uint32_t weft_attempt(void) {
    return weft_solid_context_attempt();
}

const char *weft_partition_key(void) {
    solid_string_t s;
    if (!partition_read && weft_solid_context_partition_key(&s)) partition_key = keep(s);
    partition_read = true;
    return partition_key;
}

const char *weft_config(void) {
    solid_string_t s;
    if (!config) weft_solid_context_config(&s), config = keep(s);
    return config;
}

static void forget_context(void) {
    free(run_id), free(step_key), free(partition_key), free(config);
    run_id = step_key = partition_key = config = NULL;
    partition_read = false;
}

/* --- compute --- */

bool exports_weft_solid_guest_compute(exports_weft_solid_guest_list_named_value_t *inputs,
                                      exports_weft_solid_guest_list_named_value_t *ret,
                                      exports_weft_solid_guest_failure_t *err) {
    weft_inputs in = {*inputs, NULL};
    weft_outputs out;
    memset(&out, 0, sizeof out);
    in.values = must(calloc(in.raw.len ? in.raw.len : 1, sizeof *in.values));
    for (size_t i = 0; i < in.raw.len; i++) in.values[i] = view(&in.raw.ptr[i].value);

    weft_status status = weft_solid_definition.compute(&in, &out);
    fflush(stdout);
    fflush(stderr);

    exports_weft_solid_guest_list_named_value_free(&in.raw);
    free(in.values);
    forget_context();

    if (status != WEFT_OK || out.failed) {
        for (size_t i = 0; i < out.len; i++) weft_solid_types_named_value_free(&out.set[i]);
        free(out.set);
        if (!out.failed) weft_fail(&out, "the solid failed without saying why", false, NULL);
        *err = out.failure;
        return false;
    }

    /* Declared outputs first, in declaration order; then anything else (which the host
     * refuses by name). The entries move into `ret`, which post-return frees. */
    ret->len = out.len;
    ret->ptr = out.len ? must(malloc(out.len * sizeof *ret->ptr)) : NULL;
    size_t n = 0;
    for (const weft_output_def *o = weft_solid_definition.outputs; o && o->name; o++)
        for (size_t i = 0; i < out.len; i++)
            if (is(out.set[i].name, o->name)) ret->ptr[n++] = out.set[i];
    for (size_t i = 0; i < out.len; i++)
        if (!declared(out.set[i].name)) ret->ptr[n++] = out.set[i];
    free(out.set);
    return true;
}

/* --- flat JSON --- */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* Past the JSON string starting at `p` (at its quote). */
static const char *skip_string(const char *p) {
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1]) p++;
    return *p ? p + 1 : p;
}

/* Past the JSON value starting at `p`: at the `,` or `}` after a scalar, or just past
 * the closing bracket of an object or array. */
static const char *skip_value(const char *p) {
    if (*p == '"') return skip_string(p);
    int depth = 0;
    for (; *p; p++) {
        if (*p == '"') {
            p = skip_string(p) - 1;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth == 0) return p;
            if (--depth == 0) return p + 1;
        } else if (*p == ',' && depth == 0) {
            return p;
        }
    }
    return p;
}

/* The value of top-level member `key` of the object `json`, or NULL. */
static const char *member(const char *json, const char *key) {
    if (!json) return NULL;
    const char *p = skip_ws(json);
    if (*p++ != '{') return NULL;
    size_t key_len = strlen(key);
    for (;;) {
        p = skip_ws(p);
        if (*p != '"') return NULL;
        const char *name = p + 1, *end = skip_string(p);
        p = skip_ws(end);
        if (*p++ != ':') return NULL;
        p = skip_ws(p);
        /* Keys with escapes are compared raw: fine for the identifiers configs use. */
        if ((size_t)(end - 1 - name) == key_len && memcmp(name, key, key_len) == 0) return p;
        p = skip_ws(skip_value(p));
        if (*p++ != ',') return NULL;
    }
}

bool weft_json_bool(const char *json, const char *key, bool dflt) {
    const char *v = member(json, key);
    if (v && strncmp(v, "true", 4) == 0) return true;
    if (v && strncmp(v, "false", 5) == 0) return false;
    return dflt;
}

int64_t weft_json_int(const char *json, const char *key, int64_t dflt) {
    const char *v = member(json, key);
    char *end;
    if (!v) return dflt;
    long long i = strtoll(v, &end, 10);
    return end != v && *end != '.' && *end != 'e' && *end != 'E' ? (int64_t)i : dflt;
}

static void put_utf8(char **o, unsigned c) {
    if (c < 0x80) *(*o)++ = (char)c;
    else if (c < 0x800) *(*o)++ = (char)(0xC0 | c >> 6), *(*o)++ = (char)(0x80 | (c & 0x3F));
    else if (c < 0x10000)
        *(*o)++ = (char)(0xE0 | c >> 12), *(*o)++ = (char)(0x80 | (c >> 6 & 0x3F)),
        *(*o)++ = (char)(0x80 | (c & 0x3F));
    else
        *(*o)++ = (char)(0xF0 | c >> 18), *(*o)++ = (char)(0x80 | (c >> 12 & 0x3F)),
        *(*o)++ = (char)(0x80 | (c >> 6 & 0x3F)), *(*o)++ = (char)(0x80 | (c & 0x3F));
}

static unsigned hex4(const char *p) {
    unsigned c = 0;
    for (int i = 0; i < 4; i++) {
        char h = p[i];
        c = c << 4 | (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
    }
    return c;
}

char *weft_json_string(const char *json, const char *key) {
    const char *v = member(json, key);
    if (!v || *v != '"') return NULL;
    const char *end = skip_string(v);
    char *text = must(malloc((size_t)(end - v) + 1)), *o = text; /* unescaping only shrinks */
    for (const char *p = v + 1; p < end - 1; p++) {
        if (*p != '\\') { *o++ = *p; continue; }
        switch (*++p) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            if (end - 1 - p < 5) break;
            unsigned c = hex4(p + 1);
            p += 4;
            if (c >= 0xD800 && c < 0xDC00 && end - 1 - p >= 7 && p[1] == '\\' && p[2] == 'u') {
                c = 0x10000 + ((c - 0xD800) << 10) + (hex4(p + 3) - 0xDC00);
                p += 6;
            }
            put_utf8(&o, c);
            break;
        }
        default: *o++ = *p; break; /* \" \\ \/ */
        }
    }
    *o = 0;
    return text;
}
