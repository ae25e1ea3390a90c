//! weft and Dagster side by side, in one invocation, on the same machine: the same
//! pipelines of trivial ops (`x + 1`: chain and fan-out of 10, 100 and 1000), a 10-op
//! chain passing 10 MB `bytes` values, and a 2-op run from each one's CLI. Dagster is
//! installed into a local virtualenv by `scripts/dagster-venv` and driven by
//! `benches/dagster/bench.py`; both sides report medians over the same number of runs,
//! timing the execution only (not imports, job definitions or weft's planning), except
//! the CLI rows, which time the whole process.
//!
//! weft always persists every event and output durably to its redb file, so it is
//! compared with Dagster both in memory (`execute_in_process`, Dagster's fastest) and
//! with a persistent SQLite instance (what Dagster needs for a run history).
//!
//! Run: `cargo bench -p weft-benches --bench versus_dagster` (unset RUST_BACKTRACE).
//! `WEFT_VERSUS_QUICK=1` runs fewer samples and skips the slowest Dagster cases.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use weft_benches::{Shape, bytes_chain_manifest, trivial_manifest};
use weft_host::{Host, Manifest, RunConfig, RunStatus};
use weft_tests::{Project, root};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A duration in the unit that reads best.
fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// One Dagster measurement, from `bench.py`.
struct DagsterFigure {
    median: Duration,
    events_per_op: Option<f64>,
    event_bytes_per_op: Option<f64>,
    version: String,
}

fn dagster(python: &Path, case: &str, n: usize, samples: usize) -> DagsterFigure {
    let output = Command::new(python)
        .arg(root().join("benches/dagster/bench.py"))
        .args([case, &n.to_string(), &samples.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .expect("the Dagster benchmark starts");
    assert!(output.status.success(), "the Dagster benchmark {case} {n} failed");
    let line = String::from_utf8_lossy(&output.stdout);
    let json: Json = serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("bench.py printed {line:?}: {e}"));
    DagsterFigure {
        median: Duration::from_secs_f64(json["median_s"].as_f64().expect("a median")),
        events_per_op: json["events_per_op"].as_f64(),
        event_bytes_per_op: json["event_bytes_per_op"].as_f64(),
        version: json["dagster"].as_str().unwrap_or("?").to_owned(),
    }
}

/// One weft measurement: the run's median, and its events per step and their bytes.
struct WeftFigure {
    median: Duration,
    events_per_step: f64,
    event_bytes_per_step: f64,
}

fn weft_runs(runtime: &tokio::runtime::Runtime, toml: &str, steps: usize, samples: usize, worker: &Path) -> WeftFigure {
    let project = Project::new(toml);
    let host = Host::open(&project.db()).expect("a store").with_worker_binary(worker.to_path_buf());
    let manifest = Manifest::load(&project.manifest()).expect("a manifest");
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..samples {
        let plan = runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan");
        let started = Instant::now();
        let record = runtime.block_on(host.run(plan)).expect("a run");
        times.push(started.elapsed());
        assert_eq!(record.status, RunStatus::Success);
        last = Some(record.id);
    }
    let events = host.events(last.expect("a run")).expect("its events");
    let bytes: usize = events.iter().map(|e| serde_json::to_vec(e).expect("an event serializes").len()).sum();
    WeftFigure {
        median: median(times),
        events_per_step: events.len() as f64 / steps as f64,
        event_bytes_per_step: bytes as f64 / steps as f64,
    }
}

/// The median wall time of `weft run` of a whole project, as a process.
fn weft_cli(weft: &Path, toml: &str, samples: usize) -> Duration {
    let project = Project::new(toml);
    let run = || {
        let started = Instant::now();
        let status = Command::new(weft)
            .args(["run", project.manifest().to_str().expect("a UTF-8 path")])
            .env_remove("RUST_BACKTRACE")
            .stdout(Stdio::null())
            .status()
            .expect("weft runs");
        assert!(status.success());
        started.elapsed()
    };
    run(); // compiles the component into the cache, as Dagster's first import warms its own
    median((0..samples).map(|_| run()).collect())
}

fn main() {
    let quick = std::env::var_os("WEFT_VERSUS_QUICK").is_some();
    let samples = if quick { 3 } else { 5 };
    let weft = weft_benches::release_weft();
    let venv = Command::new(root().join("scripts/dagster-venv")).stderr(Stdio::inherit()).output().expect("it runs");
    assert!(venv.status.success(), "scripts/dagster-venv failed");
    let python = PathBuf::from(String::from_utf8_lossy(&venv.stdout).lines().last().expect("a path").trim());
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");

    let mut rows = Vec::new();
    let mut version = String::new();
    let mut storage = Vec::new();
    let mut row = |label: String, dagster: &DagsterFigure, weft: Duration| {
        version.clone_from(&dagster.version);
        let ratio = dagster.median.as_secs_f64() / weft.as_secs_f64();
        rows.push(format!("| {label} | {} | {} | {ratio:.0}× |", human(dagster.median), human(weft)));
    };
    for (shape, name) in [(Shape::Chain, "chain"), (Shape::FanOut, "fanout")] {
        for n in [10, 100, 1000] {
            let ours = weft_runs(&runtime, &trivial_manifest(n, shape, "in_process"), n, samples, &weft);
            let theirs = dagster(&python, &format!("{name}-inprocess"), n, if n >= 1000 { 3 } else { samples });
            row(format!("{} of {n} trivial ops, Dagster in memory", shape.name()), &theirs, ours.median);
            if n <= 100 || !quick {
                let persistent = dagster(&python, &format!("{name}-persistent"), n, if n >= 1000 { 1 } else { 3 });
                row(
                    format!("{} of {n} trivial ops, Dagster with a SQLite instance", shape.name()),
                    &persistent,
                    ours.median,
                );
                if n == 100 && shape == Shape::Chain {
                    storage.push((persistent, ours));
                }
            }
        }
    }
    let ours = weft_runs(&runtime, &trivial_manifest(10, Shape::Chain, "multiprocess"), 10, 3, &weft);
    let theirs = dagster(&python, "chain-multiprocess", 10, if quick { 1 } else { 3 });
    row("chain of 10 trivial ops, a process per op".into(), &theirs, ours.median);
    let ours = weft_runs(&runtime, &bytes_chain_manifest(10, 10 << 20), 10, samples, &weft);
    for (case, label) in
        [("bytes-chain-inprocess", "in memory"), ("bytes-chain-persistent", "with a SQLite instance and fs_io_manager")]
    {
        let theirs = dagster(&python, case, 10, 3);
        let throughput = |d: Duration| format!("{:.0} MB/s", 100.0 * 1.048_576 / d.as_secs_f64());
        row(
            format!(
                "chain of 10 ops passing 10 MB bytes, Dagster {label} (Dagster {}, weft {})",
                throughput(theirs.median),
                throughput(ours.median)
            ),
            &theirs,
            ours.median,
        );
    }
    let two_steps = trivial_manifest(2, Shape::Chain, "in_process");
    let ours = weft_cli(&weft, &two_steps, samples);
    let theirs = dagster(&python, "cli-two-ops", 2, 3);
    row("CLI run of a 2-op job, whole process (`dagster job execute` / `weft run`)".into(), &theirs, ours);

    println!("Dagster {version} and weft, {} cores:\n", std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!("| pipeline | Dagster | weft | Dagster / weft |");
    println!("|---|---:|---:|---:|");
    for line in &rows {
        println!("{line}");
    }
    for (dagster, weft) in storage {
        println!(
            "\nEvents stored per trivial op (chain of 100): Dagster {:.1} events, {:.0} bytes; weft {:.1} events, {:.0} bytes.",
            dagster.events_per_op.unwrap_or(f64::NAN),
            dagster.event_bytes_per_op.unwrap_or(f64::NAN),
            weft.events_per_step,
            weft.event_bytes_per_step
        );
    }
}
