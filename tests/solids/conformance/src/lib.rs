//! A solid that touches every part of the contract, for the host's tests: every value
//! type both ways, optional and fan-in inputs, yielded and returned outputs, an optional
//! output left empty, config, logs, stdout and stderr, expectations and materializations.

use serde::{Deserialize, Serialize};
use weft_guest::{Context, ExpectationResult, Failure, Json, Many, Materialization, Metadata, Value, solid};

#[derive(Serialize, Deserialize)]
struct Summary {
    words: usize,
    extras: usize,
    shout: bool,
}

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    shout: bool,
}

/// Describes a text in every value type there is.
#[solid(
    version = "3",
    config_schema = r#"{"type":"object","properties":{"shout":{"type":"boolean","default":false}}}"#,
    inputs(text = "The text to describe", scale = "Multiplies the length", extras = "Anything else"),
    outputs(
        length: i64 = "The text's length in bytes",
        scaled: f64,
        summary: Json<Summary>,
        raw: Vec<u8>,
        flag: bool,
        nothing: Option<String> = "Never produced"
    ),
    yields(echo: String = "The text, shouted if the config says so"),
    tags(team = "weft", kind = "test")
)]
#[allow(clippy::type_complexity)]
fn conformance(
    ctx: &Context,
    text: String,
    scale: Option<f64>,
    extras: Many<Value>,
) -> Result<(i64, f64, Json<Summary>, Vec<u8>, bool, Option<String>), Failure> {
    let config: Config = ctx.config()?;
    let shown = if config.shout { text.to_uppercase() } else { text.clone() };
    ctx.yield_output("echo", shown.clone())?;
    ctx.info(&format!("run {} step {}", ctx.run_id(), ctx.step_key()));
    ctx.warn(&format!("partition {:?}", ctx.partition_key()));
    println!("to stdout: {shown}");
    eprintln!("to stderr: {} extras", extras.0.len());
    ctx.report_expectation(
        ExpectationResult::new("not_empty", !text.is_empty())
            .description("the text has at least one byte")
            .with("length", text.len() as i64),
    );
    ctx.report_materialization(
        Materialization::new("tests/conformance")
            .description("a pretend table")
            .with("rows", 3i64)
            .with("url", Metadata::Url("https://example.com/t".into())),
    );
    let length = text.len() as i64;
    let summary = Summary { words: text.split_whitespace().count(), extras: extras.0.len(), shout: config.shout };
    Ok((length, length as f64 * scale.unwrap_or(1.0), Json(summary), text.into_bytes(), true, None))
}
