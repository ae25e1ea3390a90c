//! A solid for partition, schedule and sensor tests. It reports what reached it: the
//! partition key from its context and the values of its config, which runs fill from
//! templates (`{partition_key}`, a file sensor's `{file}`); and it fails for the
//! partition keys its config lists.

use serde::Deserialize;
use weft_guest::{Context, Failure, solid};

#[derive(Deserialize)]
struct Config {
    day: String,
    file: String,
    fail_on: Vec<String>,
    sleep_ms: u64,
}

/// Reports its partition key and config; fails for the keys in `fail_on`.
#[solid(
    config_schema = r#"{
    "type": "object",
    "properties": {
        "day": { "type": "string", "default": "" },
        "file": { "type": "string", "default": "" },
        "fail_on": { "type": "array", "items": { "type": "string" }, "default": [] },
        "sleep_ms": { "type": "integer", "minimum": 0, "default": 0 }
    },
    "additionalProperties": false
}"#,
    output = "report"
)]
fn dated(ctx: &Context) -> Result<String, Failure> {
    let config: Config = ctx.config()?;
    let key = ctx.partition_key().unwrap_or_default();
    if config.sleep_ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(config.sleep_ms));
    }
    if config.fail_on.contains(&key) {
        return Err(Failure::new(format!("told to fail on partition {key}")));
    }
    Ok(format!("partition={key} day={} file={}", config.day, config.file))
}
