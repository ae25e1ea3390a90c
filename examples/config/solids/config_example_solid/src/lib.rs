//! The seed's `config_example_solid`: it logs `word` `iterations` times.

use serde::Deserialize;
use weft_guest::{Context, Failure, solid};

#[derive(Deserialize)]
struct Config {
    iterations: u32,
    word: String,
}

/// Logs the configured word the configured number of times.
#[solid(config_schema = r#"{
    "type": "object",
    "properties": {
        "iterations": { "type": "integer", "minimum": 0, "description": "How many times to log the word" },
        "word": { "type": "string", "default": "hello", "description": "The word to log" }
    },
    "required": ["iterations"],
    "additionalProperties": false
}"#)]
fn config_example_solid(ctx: &Context) -> Result<(), Failure> {
    let config: Config = ctx.config()?;
    for _ in 0..config.iterations {
        ctx.info(&config.word);
    }
    Ok(())
}
