/* {{name}}: greets whoever the config names. */
#include <stdio.h>
#include <stdlib.h>

#include "weft.h"

static weft_status greet(const weft_inputs *in, weft_outputs *out) {
    (void)in;
    char *name = weft_json_string(weft_config(), "name"); /* the schema's default fills it in */
    char greeting[256];
    snprintf(greeting, sizeof greeting, "Hello, %s!", name);
    weft_info("greeting %s", name);
    weft_set(out, "greeting", weft_text(greeting));
    free(name);
    return WEFT_OK;
}

WEFT_SOLID(
    .name = "{{name}}",
    .description = "Greets whoever the config names.",
    .outputs = WEFT_OUTPUTS({"greeting", "The greeting", WEFT_TEXT}),
    .config_schema = "{\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\", "
                     "\"default\": \"world\", \"description\": \"Who to greet\"}}}",
    .compute = greet,
);
