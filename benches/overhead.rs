//! Host overhead per step: N trivial steps (the `probe` solid, which adds its inputs)
//! as a chain and as a fan-out, in-process and multiprocess, every event and output
//! committed to a real redb file. Prints a Markdown table; `WEFT_BENCH_MAX_N` caps N.
//!
//! Run: `cargo bench -p weft-benches` (unset RUST_BACKTRACE: it makes every wasmtime
//! error capture a host backtrace).

use std::time::{Duration, Instant};
use weft_benches::{Shape, manifest};
use weft_host::{Host, Manifest, RunConfig, RunStatus};
use weft_tests::Project;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let max_n: usize = std::env::var("WEFT_BENCH_MAX_N").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // The multiprocess executor starts the release `weft` binary for each step.
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "-p", "weft-host", "--bin", "weft"])
        .current_dir(weft_tests::root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the weft binary failed");
    let worker = weft_tests::root().join("target/release/weft");
    println!("| executor | shape | steps | plan | run (median) | per step | db bytes per step |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for executor in ["in_process", "multiprocess"] {
        for shape in [Shape::Chain, Shape::FanOut] {
            for n in [10, 100, 1_000, 10_000] {
                // A child process per step costs milliseconds: stop at 100 steps.
                if n > max_n || (executor == "multiprocess" && n > 100) {
                    continue;
                }
                let project = Project::new(&manifest(n, shape, executor, cores));
                let host = Host::open(&project.db()).expect("a store").with_worker_binary(worker.clone());
                let manifest = Manifest::load(&project.manifest()).expect("a manifest");
                let samples = if n >= 1_000 { 3 } else { 5 };
                let mut plan_times = Vec::new();
                let mut run_times = Vec::new();
                for _ in 0..samples {
                    let started = Instant::now();
                    let plan = runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan");
                    plan_times.push(started.elapsed());
                    let started = Instant::now();
                    let record = runtime.block_on(host.run(plan)).expect("a run");
                    run_times.push(started.elapsed());
                    assert_eq!(record.status, RunStatus::Success);
                }
                let db_bytes = std::fs::metadata(project.db()).map(|m| m.len()).unwrap_or(0);
                let run = median(run_times);
                println!(
                    "| {executor} | {} | {n} | {:.1} ms | {:.1} ms | {:.0} µs | {} |",
                    shape.name(),
                    median(plan_times).as_secs_f64() * 1e3,
                    run.as_secs_f64() * 1e3,
                    run.as_secs_f64() * 1e6 / n as f64,
                    db_bytes / (n as u64 * samples as u64),
                );
            }
        }
    }
}
