//! The cost of each limit on a CPU-bound solid: the `probe` solid's fixed arithmetic loop
//! (`work` iterations) under engines with no instrumentation, epoch checks, fuel, and
//! both (weft's default). Prints a Markdown table of the step's median duration.

use std::time::Duration;
use weft_host::{EngineOptions, EventKind, Host, Manifest, RunConfig};
use weft_tests::Project;

const WORK: u64 = 200_000_000;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let variants = [
        ("none", EngineOptions { epochs: false, fuel: false, ..EngineOptions::default() }),
        ("epochs", EngineOptions { epochs: true, fuel: false, ..EngineOptions::default() }),
        ("fuel", EngineOptions { epochs: false, fuel: true, ..EngineOptions::default() }),
        ("epochs + fuel (default)", EngineOptions { epochs: true, fuel: true, ..EngineOptions::default() }),
    ];
    let project = Project::new(&format!(
        "[solids.probe]\nwasm = \"{{guests}}/probe.wasm\"\n[pipelines.p.solids.cpu]\nsolid = \"probe\"\n\
         config = {{ work = {WORK} }}\nlimits = {{ fuel = 100000000000000 }}\n"
    ));
    let manifest = Manifest::load(&project.manifest()).expect("a manifest");
    println!("| engine | step time (median of 5) | vs none |");
    println!("|---|---:|---:|");
    let mut baseline = None;
    for (name, options) in variants {
        let host = Host::open_with(&project.db(), options).expect("a host");
        let mut samples = Vec::new();
        for _ in 0..5 {
            let plan = runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan");
            let record = runtime.block_on(host.run(plan)).expect("a run");
            let took = host.events(record.id).unwrap().into_iter().find_map(|e| match e.kind {
                EventKind::StepSucceeded { duration_us } => Some(Duration::from_micros(duration_us)),
                _ => None,
            });
            samples.push(took.expect("the step succeeded"));
        }
        samples.sort();
        let median = samples[samples.len() / 2];
        let base = *baseline.get_or_insert(median);
        println!(
            "| {name} | {:.1} ms | {:+.1}% |",
            median.as_secs_f64() * 1e3,
            (median.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0
        );
    }
}
