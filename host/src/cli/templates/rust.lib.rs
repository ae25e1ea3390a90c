//! {{name}}: greets whoever the config names.

use schemars::JsonSchema;
use serde::Deserialize;
use weft_guest::{Context, solid};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Who to greet
    #[serde(default = "world")]
    name: String,
}

fn world() -> String {
    "world".into()
}

/// Greets whoever the config names.
#[solid(config = Config, output = "greeting")]
fn {{name}}(ctx: &Context, config: Config) -> String {
    ctx.info(&format!("greeting {}", config.name));
    format!("Hello, {}!", config.name)
}
