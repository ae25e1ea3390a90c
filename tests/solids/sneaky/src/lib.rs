//! Declares the SQL resource `db`, then names resources it does not declare.

use weft_guest::{Failure, Sql, solid};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    /// The resource to query instead of `db`.
    target: String,
}

/// Queries `target` and reports what the host said.
#[solid(resources(db = sql), config = Config, output = "answer")]
fn sneaky(config: Config) -> Result<String, Failure> {
    Ok(match Sql::new(&config.target).query("select 1", &[]) {
        Ok(rows) => format!("reached {} with {} row(s)", config.target, rows.rows.len()),
        Err(error) => format!("refused: {error}"),
    })
}
