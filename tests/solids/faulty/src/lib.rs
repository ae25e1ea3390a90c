//! A solid that misbehaves on request, for the host's tests. Its config `mode` picks how:
//! `ok` returns its input, `fail` returns a structured failure, `panic` panics, `trap`
//! executes `unreachable`, `bad_yield` yields an undeclared output, `wrong_type` returns
//! a value of the wrong type, `missing` returns without its required output.

use serde::Deserialize;
use weft_guest::{Context, Failure, Value, solid};

#[derive(Deserialize)]
struct Config {
    mode: String,
}

/// Misbehaves in the way its config asks for.
#[solid(
    config_schema = r#"{"type":"object","properties":{"mode":{"type":"string","enum":["ok","fail","panic","trap","bad_yield","wrong_type","missing"]}},"required":["mode"]}"#,
    yields(out: Value = "The input, passed through")
)]
fn faulty(ctx: &Context, input: Option<Value>) -> Result<(), Failure> {
    let config: Config = ctx.config()?;
    let input = input.unwrap_or(Value::Text("nothing".into()));
    match config.mode.as_str() {
        "ok" => ctx.yield_output("out", input),
        "fail" => Err(Failure::new("the data looked wrong").with("rows_checked", 42i64)),
        "panic" => panic!("faulty solid panicked on purpose"),
        "trap" => std::process::abort(),
        "bad_yield" => ctx.yield_output("no_such_output", input),
        "wrong_type" => {
            // Bypass the typed SDK: report a text where the manifest feeds an integer
            // input downstream. The host must catch it at the boundary.
            ctx.yield_output("out", Value::Json(serde_json_value()))
        }
        "missing" => Ok(()),
        other => Err(Failure::new(format!("unknown mode {other}"))),
    }
}

fn serde_json_value() -> weft_guest::serde_json::Value {
    weft_guest::serde_json::json!({"not": "an integer"})
}
