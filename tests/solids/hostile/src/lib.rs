//! A solid written to break out or bring the host down, for the sandbox tests. Its config
//! `attack` picks the attack. Attacks on the filesystem and the environment report what
//! they got: `blocked: ...` when the sandbox held, `read: ...` when the read went through.

use serde::Deserialize;
use std::hint::black_box;
use weft_guest::{Context, Failure, solid};

#[derive(Deserialize)]
struct Config {
    attack: String,
}

fn report<T: std::fmt::Debug, E: std::fmt::Display>(result: Result<T, E>) -> String {
    match result {
        Ok(value) => format!("read: {value:?}"),
        Err(error) => format!("blocked: {error}"),
    }
}

#[allow(unconditional_recursion)] // The point: recursion that exhausts the stack.
fn recurse(depth: u64) -> u64 {
    black_box(recurse(black_box(depth) + 1)) + 1
}

/// Attacks the host in the way its config asks for.
#[solid(config_schema = r#"{"type":"object","properties":{"attack":{"type":"string"}},"required":["attack"]}"#)]
fn hostile(ctx: &Context) -> Result<String, Failure> {
    let config: Config = ctx.config()?;
    Ok(match config.attack.as_str() {
        "loop" => loop {
            black_box(0);
        },
        "memory_bomb" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(black_box(vec![7u8; 8 << 20]));
            }
        }
        "deep_recursion" => recurse(0).to_string(),
        "huge_output" => "x".repeat(8 << 20),
        "log_flood" => loop {
            ctx.info("flooding the event log with a line that never ends and never stops coming");
        },
        "stdout_flood" => loop {
            println!("flooding stdout with a line that never ends and never stops coming");
        },
        "read_passwd" => report(std::fs::read_to_string("/etc/passwd")),
        "escape_dotdot" => report(std::fs::read_to_string("/data/../secret.txt")),
        "escape_symlink" => report(std::fs::read_to_string("/data/link-to-secret")),
        "read_data" => report(std::fs::read_to_string("/data/public.txt")),
        "write_readonly" => report(std::fs::write("/data/planted.txt", "pwned")),
        "write_granted" => report(std::fs::write("/out/result.txt", "written by a solid")),
        "read_env" => report(std::env::var("HOME")),
        "read_granted_env" => report(std::env::var("PATH")),
        "list_root" => report(std::fs::read_dir("/").map(|d| d.count())),
        "clock_and_random" => {
            // What the clock and the random source say; logged on every attempt, and the
            // first attempt fails, so that a test can compare attempts.
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros());
            let random = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 1u8);
            let seen = format!("{} {random}", now.unwrap_or_default());
            ctx.info(&seen);
            if ctx.attempt() == 1 {
                return Err(Failure::new("first attempt").retryable());
            }
            seen
        }
        "panic" => panic!("a hostile solid panicked"),
        "unreachable" => std::process::abort(),
        other => return Err(Failure::new(format!("unknown attack {other}"))),
    })
}
