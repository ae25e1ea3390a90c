//! The whole-run harness: what weft costs around trivial steps, measured as a user sees it.
//!
//! 1. Host overhead per step: N trivial `add_one` steps as a chain and as a fan-out,
//!    in-process and multiprocess, every event and output committed to a real redb file:
//!    plan time, run time (median), per step, group commits, and store bytes per step
//!    (the file's growth over the measured runs, divided by their steps).
//! 2. Scale: loading and planning a 100,000-step manifest; the peak memory (max RSS) of
//!    the `weft run` process of a 10,000-step fan-out.
//! 3. Start: `weft run examples/hello`, the whole process, with warm caches (median).
//!
//! Prints Markdown tables. `WEFT_BENCH_MAX_N` caps N in part 1.
//!
//! Run: `cargo bench -p weft-benches --bench overhead` (unset RUST_BACKTRACE: it makes
//! every wasmtime error capture a host backtrace).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use weft_benches::{Shape, trivial_manifest};
use weft_host::{Host, Manifest, RunConfig, RunStatus};
use weft_tests::Project;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let max_n: usize = std::env::var("WEFT_BENCH_MAX_N").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    // The multiprocess executor and the CLI rows run the release `weft` binary.
    let weft = weft_benches::release_weft();
    // First, while this process is small: a child's max RSS starts from its parent's RSS
    // at the spawn (Linux carries the old memory map's peak across `exec`), and the
    // in-process runs below leave this process at hundreds of MB.
    let fan_out_run = {
        let project = Project::new(&trivial_manifest(10_000, Shape::FanOut, "in_process"));
        run_measured(&weft, &project.manifest());
        run_measured(&weft, &project.manifest())
    };

    println!(
        "| executor | shape | steps | plan | run (median) | per step | group commits per run | store bytes per step |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for executor in ["in_process", "multiprocess"] {
        for shape in [Shape::Chain, Shape::FanOut] {
            for n in [10, 100, 1_000, 10_000] {
                // A child process per step costs milliseconds: stop at 100 steps.
                if n > max_n || (executor == "multiprocess" && n > 100) {
                    continue;
                }
                let project = Project::new(&trivial_manifest(n, shape, executor));
                let host = Host::open(&project.db()).expect("a store").with_worker_binary(weft.clone());
                let manifest = Manifest::load(&project.manifest()).expect("a manifest");
                let samples = if n >= 1_000 { 5 } else { 9 };
                // One run first, so that the file has grown past its initial size.
                let plan = runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan");
                runtime.block_on(host.run(plan)).expect("a run");
                let bytes_before = std::fs::metadata(project.db()).expect("the store").len();
                let groups_before = host.writer_stats().groups.load(Ordering::Relaxed);
                let (mut plan_times, mut run_times) = (Vec::new(), Vec::new());
                for _ in 0..samples {
                    let started = Instant::now();
                    let plan = runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan");
                    plan_times.push(started.elapsed());
                    let started = Instant::now();
                    let record = runtime.block_on(host.run(plan)).expect("a run");
                    run_times.push(started.elapsed());
                    assert_eq!(record.status, RunStatus::Success);
                }
                let grown = std::fs::metadata(project.db()).expect("the store").len() - bytes_before;
                let groups = host.writer_stats().groups.load(Ordering::Relaxed) - groups_before;
                let run = median(run_times);
                println!(
                    "| {executor} | {} | {n} | {} | {} | {:.1} µs | {:.0} | {} |",
                    shape.name(),
                    ms(median(plan_times)),
                    ms(run),
                    run.as_secs_f64() * 1e6 / n as f64,
                    groups as f64 / samples as f64,
                    grown / (n * samples) as u64,
                );
            }
        }
    }

    println!();
    println!("| scale | figure |");
    println!("|---|---:|");
    let n = 100_000;
    let project = Project::new(&trivial_manifest(n, Shape::FanOut, "in_process"));
    let host = Host::open(&project.db()).expect("a store");
    let (mut load_times, mut plan_times) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let started = Instant::now();
        let manifest = Manifest::load(&project.manifest()).expect("a manifest");
        load_times.push(started.elapsed());
        let started = Instant::now();
        let plan = runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan");
        plan_times.push(started.elapsed());
        assert_eq!(plan.steps.len(), n);
    }
    println!("| reading the manifest of a {n}-step fan-out | {} |", ms(median(load_times)));
    println!("| planning it (load, wire, type-check, config, order) | {} |", ms(median(plan_times)));
    println!("| `weft run` of a 10000-step fan-out: wall time | {} |", ms(fan_out_run.0));
    println!("| `weft run` of a 10000-step fan-out: peak memory (max RSS) | {:.1} MB |", fan_out_run.1 as f64 / 1e6);

    let hello = weft_tests::root().join("examples/hello");
    run_measured(&weft, &hello);
    let samples: Vec<Duration> = (0..21).map(|_| run_measured(&weft, &hello).0).collect();
    println!("| `weft run examples/hello`, whole process, warm caches (median of 21) | {} |", ms(median(samples)));
}

/// Runs `weft run TARGET` to success; returns its wall time and peak resident memory.
fn run_measured(weft: &Path, target: &Path) -> (Duration, u64) {
    let started = Instant::now();
    let child = Command::new(weft)
        .args(["run", target.to_str().expect("a UTF-8 path")])
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .spawn()
        .expect("weft starts");
    let (status, max_rss) = wait_with_rusage(child);
    let took = started.elapsed();
    assert!(status == 0, "weft run {} failed", target.display());
    (took, max_rss)
}

/// Waits for `child`; returns its exit status and its own peak RSS in bytes (`wait4`
/// reports it per process, where `getrusage` of all children would include cargo's).
#[allow(unsafe_code)]
fn wait_with_rusage(child: std::process::Child) -> (i32, u64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for; both pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    drop(child);
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    (code, usage.ru_maxrss as u64 * 1024)
}
