//! What each part of a step costs, one criterion group per cost:
//!
//! - `instantiate`: a fresh store, instantiation from the `InstancePre`, one `compute`
//!   call and the store dropped: `LoadedSolid::invoke` of the trivial `add_one` solid,
//!   with the pooling allocator and without;
//! - `dispatch`: whole in-process runs of 1000 trivial steps (chain and fan-out) through
//!   the scheduler, the sandbox and the store, per step;
//! - `db`: a durable commit of one trivial step's records, and of a group of 100;
//! - `data`: a 10-step chain passing 10 MB `bytes` values, persisted, per byte;
//! - `start`: compiling `add_one` from its bytes, loading it from the compiled-component
//!   cache, and the whole `LoadedSolid::load` (cache, contract check, `describe`) of
//!   `add_one` and of a Python and a JavaScript solid.
//!
//! Run: `cargo bench -p weft-benches --bench costs` (unset RUST_BACKTRACE: it makes
//! every wasmtime error capture a host backtrace). `-- GROUP` runs one group.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::Duration;
use weft_benches::{Shape, trivial_manifest};
use weft_host::db::{Batch, Db};
use weft_host::{
    CompileCache, EngineOptions, Event, EventKind, Host, LoadedSolid, Manifest, Output, RunConfig, RunId, SolidEngine,
    StepLimits, Value,
};
use weft_tests::{Project, guest};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("a runtime")
}

fn instantiate(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("instantiate");
    for (name, pooling) in [("add_one, pooling", true), ("add_one, on demand", false)] {
        let engine =
            SolidEngine::with_options(EngineOptions { pooling, ..EngineOptions::default() }).expect("an engine");
        let solid = runtime.block_on(LoadedSolid::load(&engine, &guest("add_one"))).expect("add_one loads");
        let config = serde_json::json!({});
        group.bench_function(name, |b| {
            b.iter(|| {
                let inputs = vec![("x".to_owned(), Value::Integer(1))];
                let call = runtime.block_on(solid.invoke(&engine, &config, inputs, StepLimits::default()));
                assert!(call.expect("a call").error.is_none());
            });
        });
    }
    group.finish();
}

fn dispatch(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("dispatch");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    let steps = 1000;
    for shape in [Shape::Chain, Shape::FanOut] {
        let project = Project::new(&trivial_manifest(steps, shape, "in_process"));
        let host = Host::open(&project.db()).expect("a store");
        let manifest = Manifest::load(&project.manifest()).expect("a manifest");
        group.throughput(Throughput::Elements(steps as u64));
        group.bench_function(format!("{} of {steps}", shape.name()), |b| {
            b.iter_batched(
                || runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan"),
                |plan| runtime.block_on(host.run(plan)).expect("a run"),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

/// The records of one trivial step: started, output, succeeded, and the output.
fn step_batch(seq: u64, step: &str) -> Batch {
    let event = |seq, kind| Event { seq, timestamp: 1_733_000_000_000_000, step: Some(step.to_owned()), kind };
    let output = Output::new("result".into(), Value::Integer(seq as i64));
    Batch {
        events: vec![
            event(seq, EventKind::StepStarted { attempt: 1 }),
            event(
                seq + 1,
                EventKind::StepOutput {
                    output: "result".into(),
                    value_type: "integer".into(),
                    digest: output.digest.to_hex().to_string(),
                    size: 9,
                    preview: seq.to_string(),
                },
            ),
            event(seq + 2, EventKind::StepSucceeded { duration_us: 20 }),
        ],
        outputs: vec![(step.to_owned(), output)],
        ..Batch::default()
    }
}

fn db(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = Db::open(&dir.path().join("weft.redb")).expect("a store");
    let run = RunId::generate();
    let mut group = c.benchmark_group("db");
    let mut seq = 0;
    group.throughput(Throughput::Elements(1));
    group.bench_function("commit of 1 step", |b| {
        b.iter(|| {
            db.commit(run, &step_batch(seq, &format!("s{seq}"))).expect("a commit");
            seq += 3;
        });
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("group commit of 100 steps", |b| {
        b.iter_batched(
            || {
                let batches: Vec<Batch> =
                    (0..100).map(|i| step_batch(seq + 3 * i, &format!("s{}", seq + 3 * i))).collect();
                seq += 300;
                batches
            },
            |batches| db.commit_group(batches.iter().map(|b| (run, b))).expect("a commit"),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn data(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("data");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let (steps, size) = (10, 10 << 20);
    let project = Project::new(&weft_benches::bytes_chain_manifest(steps, size));
    let host = Host::open(&project.db()).expect("a store");
    let manifest = Manifest::load(&project.manifest()).expect("a manifest");
    group.throughput(Throughput::Bytes((steps * size) as u64));
    group.bench_function("10 x 10 MB chain", |b| {
        b.iter_batched(
            || runtime.block_on(host.plan(&manifest, "p", &RunConfig::default())).expect("a plan"),
            |plan| runtime.block_on(host.run(plan)).expect("a run"),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn start(c: &mut Criterion) {
    let runtime = runtime();
    let engine = Arc::new(SolidEngine::new().expect("an engine"));
    let bytes = std::fs::read(guest("add_one")).expect("add_one was built");
    let digest = blake3::hash(&bytes);
    let dir = tempfile::tempdir().expect("a temp dir");
    let cache = CompileCache::new(Some(dir.path().to_path_buf()));
    let mut group = c.benchmark_group("start");
    group.bench_function("compile add_one (cold)", |b| {
        b.iter(|| CompileCache::new(None).load(engine.wasmtime(), &bytes, &digest).expect("compiles"));
    });
    cache.load(engine.wasmtime(), &bytes, &digest).expect("compiles");
    group.bench_function("load add_one from the cache", |b| {
        b.iter(|| cache.load(engine.wasmtime(), &bytes, &digest).expect("loads"));
    });
    let solids = [
        ("add_one (Rust)", guest("add_one")),
        ("conformance (Python)", weft_tests::language_guest("python", "conformance")),
        ("conformance (JavaScript)", weft_tests::language_guest("javascript", "conformance")),
    ];
    for (name, path) in solids {
        // The first load fills the engine's cache; the benchmark measures the warm ones.
        runtime.block_on(LoadedSolid::load(&engine, &path)).expect("the solid loads");
        group.bench_function(format!("LoadedSolid::load {name}, cached"), |b| {
            b.iter(|| runtime.block_on(LoadedSolid::load(&engine, &path)).expect("the solid loads"));
        });
    }
    group.finish();
}

criterion_group!(benches, instantiate, dispatch, db, data, start);
criterion_main!(benches);
