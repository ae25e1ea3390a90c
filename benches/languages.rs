//! What a solid costs in each language weft builds: the `weft new` template project of
//! each language (one solid that reads its config and returns a greeting), built and run
//! by the `weft` binary as a user would. Prints a Markdown table.
//!
//! - first build: `weft build` of the new project (for Rust, `cargo build` of the crate
//!   and its dependencies; for the others, the componentizer with warm toolchain caches);
//! - rebuild: the median `weft build` after touching the source;
//! - size: the component file;
//! - first run: the median `weft run` (whole process) with an empty compiled-component
//!   cache, so wasmtime compiles the component;
//! - cached run: the median `weft run` with the component compiled in the cache;
//! - step: the step's own duration in the cached runs.
//!
//! Run: `cargo bench --profile dev -p weft-benches --bench languages` (it installs the
//! toolchains, and uses the dev `weft` binary, whose dependencies, wasmtime and Cranelift
//! among them, are optimized: what it measures is the toolchains and wasmtime).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const LANGUAGES: &[&str] = &["rust", "python", "javascript", "c", "zig", "go"];

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn weft(bin: &Path, args: &[&str], cache: &Path) -> (Duration, String) {
    let started = Instant::now();
    let output = Command::new(bin)
        .args(args)
        .env("WEFT_CACHE_DIR", cache)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("weft runs");
    let took = started.elapsed();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "weft {} failed:\n{text}", args.join(" "));
    (took, text)
}

/// The step duration `weft run` prints in its summary: `hello   SUCCESS  341 µs`.
fn step_time(text: &str) -> String {
    text.lines()
        .find(|l| l.trim_start().starts_with("hello ") && l.contains("SUCCESS"))
        .and_then(|l| l.split("SUCCESS").nth(1))
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

fn show(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn main() {
    let root = weft_tests::root();
    let bin = weft_tests::weft_bin();
    let status = Command::new(root.join("scripts/toolchains")).status().expect("the script runs");
    assert!(status.success(), "installing the toolchains failed");

    println!("| language | first build | rebuild | component | first run (compile) | cached run | step |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for language in LANGUAGES {
        let scratch = tempfile::tempdir().expect("a temporary directory");
        let dir = scratch.path().join("bench");
        let (dir_text, manifest) = (dir.to_str().unwrap(), dir.join("weft.toml"));
        let manifest = manifest.to_str().unwrap();
        let caches = scratch.path().join("caches");
        let warm = caches.join("warm");
        weft(&bin, &["new", dir_text, "-l", language], &warm);

        let (first_build, _) = weft(&bin, &["build", manifest], &warm);
        let source = match *language {
            "rust" => dir.join("solids/hello/src/lib.rs"),
            other => {
                let extension = weft_host::language::Language::from_name(other).unwrap().extension();
                dir.join(format!("solids/hello.{extension}"))
            }
        };
        let rebuilds = (0..3)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                let text = std::fs::read(&source).unwrap();
                std::fs::write(&source, text).unwrap(); // a new mtime: the solid is stale
                weft(&bin, &["build", manifest], &warm).0
            })
            .collect();
        let wasm = match *language {
            "rust" => dir.join("solids/hello/target/wasm32-wasip2/release/hello.wasm"),
            _ => dir.join(".weft/build/hello.wasm"),
        };
        let size = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or_else(|_| panic!("{} is built", wasm.display()));

        let first_runs = (0..3).map(|i| weft(&bin, &["run", manifest], &caches.join(format!("cold-{i}"))).0).collect();
        let mut steps = Vec::new();
        let cached_runs = (0..5)
            .map(|_| {
                let (took, text) = weft(&bin, &["run", manifest], &warm);
                steps.push(step_time(&text));
                took
            })
            .collect();
        println!(
            "| {language} | {} | {} | {:.1} KB | {} | {} | {} |",
            show(first_build),
            show(median(rebuilds)),
            size as f64 / 1e3,
            show(median(first_runs)),
            show(median(cached_runs)),
            steps[steps.len() / 2],
        );
    }
}
