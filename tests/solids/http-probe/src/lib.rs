//! Fetches a URL through the `api` resource.

use weft_guest::{Failure, solid};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    url: String,
}

/// `GET url`; returns the status and the body.
#[solid(resources(api = http), config = Config, output = "response")]
fn http_probe(config: Config) -> Result<String, Failure> {
    let response = weft_guest::http::get(&config.url)?;
    Ok(format!("{} {}", response.status, response.text()))
}
