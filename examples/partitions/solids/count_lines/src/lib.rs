//! Counts the lines of one file dropped in `/drops`: what the example's file sensor
//! launches for each new file. The step may read `/drops` and nothing else.

use serde::Deserialize;
use weft_guest::{Context, Failure, JsonSchema, solid};

#[derive(Deserialize, JsonSchema)]
struct Config {
    /// The file's name in `/drops`.
    file: String,
}

/// Counts the lines of `/drops/<file>`.
#[solid(config = Config, output = "lines")]
fn count_lines(ctx: &Context, config: Config) -> Result<i64, Failure> {
    let path = format!("/drops/{}", config.file);
    let text = std::fs::read_to_string(&path).map_err(|e| Failure::new(format!("cannot read {path}: {e}")))?;
    let lines = text.lines().count() as i64;
    ctx.info(&format!("{path}: {lines} lines"));
    Ok(lines)
}
