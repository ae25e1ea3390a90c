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

/// A marker no component holds: made at run time, so that only a step writes it.
fn marker() -> Vec<u8> {
    (0..16u8).map(|i| black_box(0xa5 ^ i.wrapping_mul(37))).collect()
}

/// The size of the instance's linear memory.
#[cfg(target_arch = "wasm32")]
fn memory_bytes() -> usize {
    core::arch::wasm32::memory_size(0) * 65536
}

/// The solid only runs as wasm; a host build (clippy's) has no linear memory to scan.
#[cfg(not(target_arch = "wasm32"))]
fn memory_bytes() -> usize {
    0
}

/// How many times `marker` is in this instance's whole linear memory, besides its own bytes.
#[allow(unsafe_code)]
fn find_marker(marker: &[u8]) -> usize {
    let size = memory_bytes();
    let own = marker.as_ptr() as usize;
    let mut found = 0;
    // Address 0 is never read: the scan starts past it.
    for address in 16..size.saturating_sub(marker.len()) {
        // SAFETY: every address below the memory size is readable in wasm; this reads
        // the instance's memory as bytes, whatever the Rust abstract machine thinks of it.
        let first = unsafe { core::ptr::read_volatile(address as *const u8) };
        if first == marker[0] && address != own {
            let window = unsafe { core::slice::from_raw_parts(address as *const u8, marker.len()) };
            if window == marker {
                found += 1;
            }
        }
    }
    found
}

static mut PLANTED: [u8; 16] = [0; 16];

/// Looks for what an earlier step left in this memory slot, then leaves some itself: in a
/// static (below 2 MiB, reset in place by the host) and past 3 MiB of heap (returned to
/// the kernel). Reports how many markers it found before and after planting its own, so
/// that a test can see the scan work.
#[allow(unsafe_code)]
fn leftovers() -> String {
    let marker = marker();
    let before = find_marker(&marker);
    // SAFETY: one step, one thread: nothing else touches the static.
    for (i, byte) in marker.iter().enumerate() {
        unsafe { (&raw mut PLANTED).cast::<u8>().add(i).write_volatile(*byte) };
    }
    let mut heap = vec![0u8; 4 << 20];
    heap[3 << 20..(3 << 20) + 16].copy_from_slice(&marker);
    let heap = black_box(heap);
    let after = find_marker(&marker);
    std::mem::forget(heap);
    format!("before: {before}, after: {after}")
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
        "leftovers" => leftovers(),
        "panic" => panic!("a hostile solid panicked"),
        "unreachable" => std::process::abort(),
        other => return Err(Failure::new(format!("unknown attack {other}"))),
    })
}
