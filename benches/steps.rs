//! One whole-run case, run over and over: the loop to point a profiler at.
//!
//! `WEFT_STEPS_CASE=SHAPE:N:RUNS` (default `fan-out:10000:20`) runs an in-process
//! pipeline of N steps RUNS times on one store and prints each run's time per step. SHAPE
//! is `chain` or `fan-out` of trivial `add_one` steps, or `bytes`: a chain of
//! `bytes_relay` steps passing 10 MiB values. For example:
//!
//! `perf record -g -- target/release/deps/steps-HASH --bench`
//!
//! Run: `cargo bench -p weft-benches --bench steps` (unset RUST_BACKTRACE).

use std::time::Instant;
use weft_benches::{Shape, bytes_chain_manifest, trivial_manifest};
use weft_host::{Host, Manifest, RunConfig, RunStatus};
use weft_tests::Project;

fn main() {
    let case = std::env::var("WEFT_STEPS_CASE").unwrap_or_else(|_| "fan-out:10000:20".into());
    let parts: Vec<&str> = case.split(':').collect();
    let [shape, n, runs] = parts.as_slice() else { panic!("WEFT_STEPS_CASE is SHAPE:N:RUNS, found `{case}`") };
    let n: usize = n.parse().expect("WEFT_STEPS_CASE: N is a number");
    let runs: usize = runs.parse().expect("WEFT_STEPS_CASE: RUNS is a number");
    let toml = match *shape {
        "chain" => trivial_manifest(n, Shape::Chain, "in_process"),
        "fan-out" => trivial_manifest(n, Shape::FanOut, "in_process"),
        "bytes" => bytes_chain_manifest(n, 10 << 20),
        other => panic!("WEFT_STEPS_CASE: unknown shape `{other}`; expected chain, fan-out or bytes"),
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let project = Project::new(&toml);
    let host = Host::open(&project.db()).expect("a store");
    let manifest = Manifest::load(&project.manifest()).expect("a manifest");
    let mut per_step = Vec::new();
    for _ in 0..runs {
        let plan = runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan");
        let started = Instant::now();
        let record = runtime.block_on(host.run(plan)).expect("a run");
        let took = started.elapsed();
        assert_eq!(record.status, RunStatus::Success);
        per_step.push(took.as_secs_f64() * 1e6 / n as f64);
        println!("{shape} of {n}: {:.1} ms, {:.1} µs a step", took.as_secs_f64() * 1e3, per_step[per_step.len() - 1]);
    }
    per_step.sort_by(f64::total_cmp);
    println!("median: {:.1} µs a step", per_step[per_step.len() / 2]);
}
