//! Large values through a chain: the first step makes `size` bytes, each next one passes
//! its input on with the first byte incremented, so that every step's output is a new
//! value (and a new blob in the store), as a Dagster op returning `bytes(x)` would be.

use serde::Deserialize;
use weft_guest::{Context, Failure, solid};

#[derive(Deserialize)]
struct Config {
    size: usize,
}

/// Passes `input` on as `data`, changed by one byte; makes `size` bytes with no input.
#[solid(
    config_schema = r#"{
    "type": "object",
    "properties": { "size": { "type": "integer", "minimum": 1, "default": 10485760 } },
    "additionalProperties": false
}"#,
    output = "data"
)]
fn bytes_relay(ctx: &Context, input: Option<Vec<u8>>) -> Result<Vec<u8>, Failure> {
    let mut data = match input {
        Some(data) => data,
        None => {
            let config: Config = ctx.config()?;
            (0..config.size).map(|i| (i % 251) as u8).collect()
        }
    };
    if let Some(first) = data.first_mut() {
        *first = first.wrapping_add(1);
    }
    Ok(data)
}
