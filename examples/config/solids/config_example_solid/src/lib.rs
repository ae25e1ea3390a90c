//! The seed's `config_example_solid`: it logs `word` `iterations` times.
//!
//! Its config is a Rust type: the SDK derives the JSON Schema the host validates run
//! config against (doc comments become descriptions, the serde default the default).

use schemars::JsonSchema;
use serde::Deserialize;
use weft_guest::{Context, solid};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// How many times to log the word
    iterations: u32,
    /// The word to log
    #[serde(default = "hello")]
    word: String,
}

fn hello() -> String {
    "hello".into()
}

/// Logs the configured word the configured number of times.
#[solid(config = Config)]
fn config_example_solid(ctx: &Context, config: Config) {
    for _ in 0..config.iterations {
        ctx.info(&config.word);
    }
}
