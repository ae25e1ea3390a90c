//! A solid for scheduler tests. It takes any number of integers (`deps`, fan-in) and
//! outputs 1 + their sum (`result`), so on any DAG a step's output counts the paths that
//! reach it, and the values in the order received (`trace`).
//! Its config makes it sleep (yielding), spin (burning CPU), or fail on given attempts.

use serde::Deserialize;
use std::time::{Duration, Instant};
use weft_guest::{Context, Failure, Many, solid};

#[derive(Deserialize)]
struct Config {
    sleep_ms: u64,
    spin_ms: u64,
    /// Iterations of a fixed arithmetic loop: CPU work that does not depend on clocks.
    work: u64,
    /// Added to `result`, to make a step's output differ.
    offset: i64,
    /// Fail (retryably) on every attempt up to and including this one.
    fail_until_attempt: u32,
    /// Trap (`unreachable`) on every attempt up to and including this one.
    trap_until_attempt: u32,
    /// Fail on every attempt, not retryably.
    fail: bool,
}

/// Counts the paths that reach it, after doing what its config says.
#[solid(config_schema = r#"{
    "type": "object",
    "properties": {
        "sleep_ms": { "type": "integer", "minimum": 0, "default": 0 },
        "spin_ms": { "type": "integer", "minimum": 0, "default": 0 },
        "work": { "type": "integer", "minimum": 0, "default": 0 },
        "offset": { "type": "integer", "default": 0 },
        "fail_until_attempt": { "type": "integer", "minimum": 0, "default": 0 },
        "trap_until_attempt": { "type": "integer", "minimum": 0, "default": 0 },
        "fail": { "type": "boolean", "default": false }
    },
    "additionalProperties": false
}"#, outputs(result: i64 = "1 + the sum of deps", trace: String = "deps, comma-separated, in order"))]
fn probe(ctx: &Context, deps: Many<i64>) -> Result<(i64, String), Failure> {
    let config: Config = ctx.config()?;
    let attempt = ctx.attempt();
    if config.sleep_ms > 0 {
        std::thread::sleep(Duration::from_millis(config.sleep_ms));
    }
    if config.spin_ms > 0 {
        let start = Instant::now();
        let mut x: u64 = 1;
        while start.elapsed() < Duration::from_millis(config.spin_ms) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
    }
    let mut x: u64 = 1;
    for _ in 0..config.work {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    if attempt <= config.trap_until_attempt {
        std::process::abort();
    }
    if attempt <= config.fail_until_attempt {
        return Err(Failure::new(format!("flaky on attempt {attempt}")).retryable());
    }
    if config.fail {
        return Err(Failure::new("told to fail"));
    }
    let trace: Vec<String> = deps.0.iter().map(i64::to_string).collect();
    Ok((1 + config.offset + deps.0.iter().sum::<i64>(), trace.join(",")))
}
