//! Uses a key-value store without declaring one: the host refuses it when loading.

use weft_guest::{Failure, KeyValue, solid};

/// Reads a key from a store it never declared.
#[solid]
fn undeclared() -> Result<Option<String>, Failure> {
    Ok(KeyValue::new("cache").get_text("anything")?)
}
