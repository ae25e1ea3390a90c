//! Reads a secret and tries every way to leak it into the event log.

use weft_guest::{Context, Failure, Secrets, solid};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    /// The secret's name in the `vault` resource.
    name: String,
    /// Fail with the secret in the message.
    #[serde(default)]
    fail: bool,
}

/// Logs, prints and (when asked) fails with the secret; returns its length.
#[solid(resources(vault = secrets), config = Config, output = "length")]
fn secret_probe(ctx: &Context, config: Config) -> Result<i64, Failure> {
    let secret = Secrets::new("vault").get(&config.name)?;
    ctx.info(&format!("the secret is {secret}"));
    println!("stdout: {secret}");
    eprintln!("stderr: {secret}");
    if config.fail {
        return Err(Failure::new(format!("failing with {secret} in the message")));
    }
    Ok(secret.len() as i64)
}
