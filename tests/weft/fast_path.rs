//! The fast path stays correct: compiled components are cached and checked, group
//! commits leave a consistent store through a kill, large values pass a chain intact, and
//! a solid can be called on its own.

use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use weft_host::{
    CacheOutcome, CompileCache, EngineOptions, EventKind, Host, LoadedSolid, Manifest, Reexecution, RunConfig,
    RunStatus, SolidEngine, StepLimits, Value,
};
use weft_tests::{Project, guest, weft_bin};

#[test]
fn compiled_components_are_cached_checked_and_rebuilt_when_unsound() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CompileCache::new(Some(dir.path().to_path_buf()));
    let engine = SolidEngine::new().unwrap();
    let bytes = std::fs::read(guest("add_one")).unwrap();
    let digest = blake3::hash(&bytes);
    let load = || cache.load(engine.wasmtime(), &bytes, &digest).unwrap().1;
    let entries = |ext: &str| -> Vec<std::path::PathBuf> {
        let mut found: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        found.sort();
        found
    };
    let replaced_because = |outcome: CacheOutcome| match outcome {
        CacheOutcome::Replaced(why) => why,
        other => panic!("an unsound entry was not replaced: {other:?}"),
    };

    assert_eq!(load(), CacheOutcome::Compiled);
    assert_eq!(load(), CacheOutcome::Hit);
    let [artifact] = entries("cwasm").try_into().expect("one entry");
    let sound = std::fs::read(&artifact).unwrap();

    let mut flipped = sound.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    std::fs::write(&artifact, &flipped).unwrap();
    assert!(replaced_because(load()).contains("checksum does not match"));
    assert_eq!(std::fs::read(&artifact).unwrap(), sound, "the entry was rewritten whole");
    assert_eq!(load(), CacheOutcome::Hit);

    std::fs::write(&artifact, &sound[..sound.len() / 3]).unwrap();
    assert!(replaced_because(load()).contains("checksum does not match"));

    std::fs::remove_file(artifact.with_extension("sum")).unwrap();
    assert!(replaced_because(load()).contains("cannot read its checksum"));

    // Bytes whose checksum matches but that wasmtime did not write are still refused.
    let forged = b"\x7fELF forged artifact".to_vec();
    std::fs::write(&artifact, &forged).unwrap();
    std::fs::write(artifact.with_extension("sum"), blake3::hash(&forged).as_bytes()).unwrap();
    assert!(replaced_because(load()).contains("wasmtime refused it"));
    assert_eq!(load(), CacheOutcome::Hit);

    // Other engine settings compile to another entry, and never load this one.
    let other = SolidEngine::with_options(EngineOptions { fuel: false, ..EngineOptions::default() }).unwrap();
    assert_eq!(cache.load(other.wasmtime(), &bytes, &digest).unwrap().1, CacheOutcome::Compiled);
    assert_eq!(entries("cwasm").len(), 2);
    assert_eq!(entries("sum").len(), 2);

    // A cache that cannot be written still compiles.
    let blocked = CompileCache::new(Some(dir.path().join("sum").join("not-a-dir")));
    std::fs::write(dir.path().join("sum"), b"a file where a directory would go").unwrap();
    assert_eq!(blocked.load(engine.wasmtime(), &bytes, &digest).unwrap().1, CacheOutcome::Compiled);
}

#[tokio::test]
async fn a_solid_can_be_called_on_its_own() {
    let engine = SolidEngine::new().unwrap();
    let add_one = LoadedSolid::load(&engine, &guest("add_one")).await.unwrap();
    let inputs = vec![("x".into(), Value::Integer(41))];
    let call = add_one.invoke(&engine, &json!({}), inputs, StepLimits::default()).await.unwrap();
    assert_eq!(call.error, None);
    assert_eq!((call.outputs[0].name.as_str(), &call.outputs[0].value), ("result", &Value::Integer(42)));
    assert!(call.events.iter().any(|e| matches!(e, EventKind::StepOutput { output, .. } if output == "result")));

    let error = add_one.invoke(&engine, &json!({"n": 1}), Vec::new(), StepLimits::default()).await.unwrap_err();
    assert_eq!(error, "solid `add_one` takes no config");
    let probe = LoadedSolid::load(&engine, &guest("probe")).await.unwrap();
    let error = probe.invoke(&engine, &json!({"sleep_ms": "long"}), Vec::new(), StepLimits::default()).await;
    let error = error.unwrap_err();
    assert!(error.contains("config.sleep_ms") && error.contains("\"long\""), "{error}");

    // Faults are reported, as in a pipeline.
    let limits = StepLimits { fuel: Some(10_000), ..StepLimits::default() };
    let call = probe.invoke(&engine, &json!({"work": 100_000_000}), Vec::new(), limits).await.unwrap();
    assert_eq!(call.error.map(|e| e.kind), Some(weft_host::StepErrorKind::OutOfFuel));
}

/// A chain of `n` steps of `solid`, each fed by the one before through `input`.
fn chain(n: usize, solid: &str, input: &str, output: &str) -> String {
    let mut toml = format!("[solids.{solid}]\nwasm = \"{{guests}}/{solid}.wasm\"\n");
    for i in 0..n {
        toml.push_str(&format!("[pipelines.p.solids.s{i}]\nsolid = \"{solid}\"\n"));
        if i > 0 {
            toml.push_str(&format!("inputs = {{ {input} = \"s{}.{output}\" }}\n", i - 1));
        }
    }
    toml
}

#[tokio::test]
async fn large_values_pass_a_chain_intact_and_each_is_stored() {
    let size = 3 << 20;
    let project = Project::new(&format!(
        "{}\n[pipelines.p.solids.s0.config]\nsize = {size}\n",
        chain(6, "bytes_relay", "input", "data")
    ));
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let run = host.run(host.plan(&manifest, "p", &RunConfig::default()).await.unwrap()).await.unwrap();
    assert_eq!(run.status, RunStatus::Success);
    let mut digests = std::collections::HashSet::new();
    for i in 0..6u8 {
        let Some(Value::Bytes(data)) = host.output(run.id, &format!("s{i}"), "data").unwrap() else {
            panic!("s{i} stored no bytes");
        };
        assert_eq!(data.len(), size);
        assert_eq!(data[0], i + 1, "s{i} incremented the first byte once more");
        assert!(data[1..].iter().enumerate().all(|(j, &b)| b == ((j + 1) % 251) as u8), "s{i}: the rest is intact");
        digests.insert(Value::Bytes(data).digest());
    }
    assert_eq!(digests.len(), 6, "six different values");
    let stored: Vec<_> = host.db().outputs_of(run.id).unwrap().into_iter().map(|(_, _, d)| d).collect();
    assert_eq!(stored.len(), 6);
    assert!(stored.iter().all(|d| digests.contains(&blake3::Hash::from_bytes(*d))), "stored under their digests");
}

/// Runs the manifest with the `weft` CLI to the end, and returns how long it took.
fn full_run(manifest: &std::path::Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(weft_bin()).args(["run", manifest.to_str().unwrap()]).stdout(Stdio::null()).status();
    assert!(status.unwrap().success());
    started.elapsed()
}

#[tokio::test]
async fn killing_a_run_of_fast_steps_leaves_a_prefix_of_its_log_that_reexecution_completes() {
    let n = 3000;
    let project = Project::new(&chain(n, "add_one", "x", "result"));
    let manifest = project.manifest();
    // Kill points spread over a whole run, measured here rather than guessed, on a
    // second run: the first one also compiles the component into the cache.
    full_run(&manifest);
    let whole = full_run(&manifest);
    let mut interrupted = 0;
    for fraction in [0.3, 0.45, 0.6, 0.75, 0.9] {
        weft_tests::run_and_kill(&manifest, whole.mul_f64(fraction)).await;

        let host = Host::open(&project.db()).unwrap();
        let run = host.runs().unwrap()[0].clone();
        let events = host.events(run.id).unwrap();
        assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as u64), "sequence numbers have gaps");
        // What is stored is a prefix: each step that started finds its upstream step
        // succeeded before it, with its output stored.
        let outputs = host.db().outputs_of(run.id).unwrap();
        let mut succeeded = std::collections::HashSet::new();
        for event in &events {
            let Some(step) = event.step.as_deref() else { continue };
            let i: usize = step[1..].parse().unwrap();
            match event.kind {
                EventKind::StepStarted { .. } if i > 0 => {
                    assert!(succeeded.contains(&(i - 1)), "{step} is stored as started before s{} succeeded", i - 1);
                }
                EventKind::StepSucceeded { .. } => {
                    assert!(outputs.iter().any(|(s, _, _)| s == step), "{step} succeeded without its output");
                    succeeded.insert(i);
                }
                _ => {}
            }
        }
        if run.status == RunStatus::Success {
            continue;
        }
        assert_eq!(run.status, RunStatus::Interrupted);
        interrupted += 1;
        let plan = host.reexecute(run.id, &Reexecution::FromFailure, None).await.unwrap();
        let rerun = host.run(plan).await.unwrap();
        assert_eq!(rerun.status, RunStatus::Success);
        assert_eq!(host.output(rerun.id, &format!("s{}", n - 1), "result").unwrap(), Some(Value::Integer(n as i64)));
    }
    assert!(interrupted >= 2, "only {interrupted} kills landed mid-run (a whole run took {whole:?})");
}
