//! Exercises every call of the key-value interface on the `cache` resource.

use weft_guest::serde_json::{Value, json};
use weft_guest::{Failure, KeyValue, solid};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    /// Every key this run touches starts with it, so that runs do not meet.
    prefix: String,
}

/// Sets, counts, lists and deletes keys; returns what it read back.
#[solid(resources(cache = key_value), config = Config, output = "seen")]
fn kv_probe(config: Config) -> Result<Value, Failure> {
    let cache = KeyValue::new("cache");
    let p = &config.prefix;
    cache.set(&format!("{p}a"), "first")?;
    cache.set(&format!("{p}b"), [0u8, 159, 146, 150])?;
    cache.increment(&format!("{p}n"), 5)?;
    let n = cache.increment(&format!("{p}n"), -2)?;
    let before = cache.keys(p)?;
    let deleted = cache.delete(&format!("{p}b"))?;
    let deleted_again = cache.delete(&format!("{p}b"))?;
    Ok(json!({
        "a": cache.get_text(&format!("{p}a"))?,
        "b_gone": cache.get(&format!("{p}b"))?.is_none(),
        "n": n,
        "n_text": cache.get_text(&format!("{p}n"))?,
        "keys_before": before,
        "keys_after": cache.keys(p)?,
        "deleted": [deleted, deleted_again],
        "missing": cache.get(&format!("{p}nothing"))?,
    }))
}
