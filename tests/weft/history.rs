//! Run history users can trust: crash safety, re-execution, memoization, shared access,
//! history commands, gc, assets, and the on-disk format.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use weft_host::{Db, EventKind, Host, Manifest, Reexecution, RunConfig, RunRecord, RunStatus, Value};
use weft_tests::{Project, root, weft_bin};

/// A chain of probe steps `s0 -> s1 -> ...` plus `extra` independent ones, each sleeping.
fn chain_manifest(chain: usize, extra: usize, sleep_ms: u64) -> String {
    let mut toml =
        String::from("[solids.probe]\nwasm = \"{guests}/probe.wasm\"\n[pipelines.p.execution]\nmax_concurrent = 2\n");
    for i in 0..chain {
        toml.push_str(&format!("[pipelines.p.solids.s{i}]\nsolid = \"probe\"\nconfig = {{ sleep_ms = {sleep_ms} }}\n"));
        if i > 0 {
            toml.push_str(&format!("inputs = {{ deps = [\"s{}.result\"] }}\n", i - 1));
        }
    }
    for i in 0..extra {
        toml.push_str(&format!("[pipelines.p.solids.x{i}]\nsolid = \"probe\"\nconfig = {{ sleep_ms = {sleep_ms} }}\n"));
    }
    toml
}

/// Checks what the durability contract promises of any store, however its writer died.
fn assert_consistent(db: &Db, run: &RunRecord) {
    let events = db.events(run.id).unwrap();
    assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as u64), "run {}: sequence numbers have gaps", run.id);
    let outputs = db.outputs_of(run.id).unwrap();
    for event in &events {
        if let (Some(step), EventKind::StepSucceeded { .. }) = (&event.step, &event.kind) {
            assert!(outputs.iter().any(|(s, _, _)| s == step), "{step} succeeded but its outputs are missing");
        }
    }
    for (step, output, digest) in outputs {
        assert!(db.blob(&digest).unwrap().is_some(), "{step}.{output} refers to a missing blob");
    }
    assert!(run.status.is_finished(), "run {} is left {}", run.id, run.status);
}

#[tokio::test]
async fn killing_the_host_at_random_points_leaves_a_consistent_store_that_reexecution_finishes() {
    let project = Project::new(&chain_manifest(8, 4, 60));
    let manifest = project.manifest();
    // Kill points spread over the run, from before the first step to after the last.
    let delays_ms = [40u64, 130, 260, 390, 520, 700, 900, 1200, 2500];
    let mut interrupted = 0;
    for (round, delay) in delays_ms.iter().enumerate() {
        let before = Db::open(&project.db()).unwrap().runs().unwrap().len();
        weft_tests::run_and_kill(&manifest, Duration::from_millis(*delay)).await;

        // Opening a host marks the dead process's run interrupted.
        let host = Host::open(&project.db()).unwrap();
        let runs = host.runs().unwrap();
        if runs.len() == before {
            continue; // killed before it recorded a run
        }
        let run = runs[0].clone();
        assert_consistent(host.db(), &run);
        if run.status == RunStatus::Success {
            continue;
        }
        assert_eq!(run.status, RunStatus::Interrupted, "round {round}");
        interrupted += 1;
        assert_eq!(host.events(run.id).unwrap().last().unwrap().kind.name(), "RUN_INTERRUPTED");

        // Re-executing from failure finishes it, reusing what had succeeded.
        let plan = host.reexecute(run.id, &Reexecution::FromFailure, None).await.unwrap();
        let rerun = host.run(plan).await.unwrap();
        assert_eq!(rerun.status, RunStatus::Success, "round {round}");
        assert_eq!(rerun.parent_run, Some(run.id));
        for i in 0..8 {
            let value = host.output(rerun.id, &format!("s{i}"), "result").unwrap();
            assert_eq!(value, Some(Value::Integer(i + 1)), "round {round}: s{i}");
        }
        let reused = weft_tests::step_statuses(&host.events(rerun.id).unwrap())
            .into_iter()
            .filter(|(_, s)| *s == "REUSED")
            .count();
        let ran_before = weft_tests::step_statuses(&host.events(run.id).unwrap())
            .into_iter()
            .filter(|(_, s)| *s == "SUCCESS")
            .count();
        assert!(reused <= ran_before, "only what had succeeded is reused");
    }
    assert!(interrupted >= 3, "only {interrupted} kills landed mid-run: the test did not test");
}

const BRANCHES: &str = r#"
[solids.probe]
wasm = "{guests}/probe.wasm"
[pipelines.p.solids.a]
solid = "probe"
[pipelines.p.solids.b]
solid = "probe"
config = { fail = true }
inputs = { deps = ["a.result"] }
[pipelines.p.solids.c]
solid = "probe"
inputs = { deps = ["b.result"] }
[pipelines.p.solids.d]
solid = "probe"
"#;

#[tokio::test]
async fn reexecution_runs_what_failed_reuses_the_rest_and_records_its_lineage() {
    let project = Project::new(BRANCHES);
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let first = host.run(host.plan(&manifest, "p", &RunConfig::default()).await.unwrap()).await.unwrap();
    assert_eq!(first.status, RunStatus::Failure);

    // Fixing b's config on re-execution is allowed and recorded.
    let fixed = RunConfig::from_json(&serde_json::json!({"solids": {"b": {"config": {"fail": false}}}}), None).unwrap();
    let plan = host.reexecute(first.id, &Reexecution::FromFailure, Some(fixed)).await.unwrap();
    let second = host.run(plan).await.unwrap();
    assert_eq!(second.status, RunStatus::Success);
    assert_eq!((second.parent_run, second.root_run), (Some(first.id), Some(first.id)));
    assert_eq!(second.run_config["solids"]["b"]["config"]["fail"], false);
    assert_eq!(weft_tests::step_status(&host.events(second.id).unwrap(), "a"), "REUSED");
    assert_eq!(weft_tests::step_status(&host.events(second.id).unwrap(), "b"), "SUCCESS");
    assert_eq!(weft_tests::step_status(&host.events(second.id).unwrap(), "c"), "SUCCESS");
    assert_eq!(
        weft_tests::step_status(&host.events(second.id).unwrap(), "d"),
        "REUSED",
        "d succeeded before: its output is carried over"
    );
    assert_eq!(host.output(second.id, "c", "result").unwrap(), Some(Value::Integer(3)));

    // A re-execution of the re-execution: c only, b's output from the second run.
    let plan = host.reexecute(second.id, &Reexecution::Steps("c".into()), None).await.unwrap();
    let third = host.run(plan).await.unwrap();
    assert_eq!((third.parent_run, third.root_run), (Some(second.id), Some(first.id)));
    assert_eq!(weft_tests::step_status(&host.events(third.id).unwrap(), "b"), "REUSED");
    assert_eq!(host.output(third.id, "c", "result").unwrap(), Some(Value::Integer(3)));

    let nothing = host.reexecute(second.id, &Reexecution::FromFailure, None).await.unwrap_err().to_string();
    assert!(nothing.contains("every step succeeded"), "{nothing}");
}

/// A copy of a component with a custom section appended: the same code, another digest.
fn copy_with_new_digest(from: &std::path::Path, to: &std::path::Path) {
    let mut bytes = std::fs::read(from).unwrap();
    let name = b"weft-test";
    let payload = b"another digest";
    bytes.push(0); // custom section
    bytes.push((1 + name.len() + payload.len()) as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    std::fs::write(to, bytes).unwrap();
}

#[tokio::test]
async fn memoization_reuses_a_step_only_when_component_config_and_inputs_are_the_same() {
    let manifest_text = |wasm: &str, a_offset: i64, b_sleep: u64| {
        format!(
            "[solids.probe]\nwasm = \"{wasm}\"\n[pipelines.p.execution]\nmemoize = true\n\
             [pipelines.p.solids.a]\nsolid = \"probe\"\nconfig = {{ offset = {a_offset} }}\n\
             [pipelines.p.solids.b]\nsolid = \"probe\"\nconfig = {{ sleep_ms = {b_sleep} }}\ninputs = {{ deps = [\"a.result\"] }}\n"
        )
    };
    let project = Project::new(&manifest_text("{guests}/probe.wasm", 0, 0));
    let host = Host::open(&project.db()).unwrap();
    let run = |text: String| {
        std::fs::write(project.manifest(), text.replace("{guests}", &weft_tests::guest_dir().display().to_string()))
            .unwrap();
        let host = host.clone();
        let path = project.manifest();
        async move {
            let manifest = Manifest::load(&path).unwrap();
            let record = host.run(host.plan(&manifest, "p", &RunConfig::default()).await.unwrap()).await.unwrap();
            assert_eq!(record.status, RunStatus::Success);
            (
                weft_tests::step_status(&host.events(record.id).unwrap(), "a"),
                weft_tests::step_status(&host.events(record.id).unwrap(), "b"),
                record.id,
            )
        }
    };
    assert_eq!(run(manifest_text("{guests}/probe.wasm", 0, 0)).await.0, "SUCCESS", "nothing to reuse yet");
    let (a, b, id) = run(manifest_text("{guests}/probe.wasm", 0, 0)).await;
    assert_eq!((a, b), ("REUSED", "REUSED"), "the same everything is a hit");
    assert_eq!(host.output(id, "b", "result").unwrap(), Some(Value::Integer(2)), "reused outputs are the run's own");
    let reason = host.events(id).unwrap().into_iter().find_map(|e| match e.kind {
        EventKind::StepReused { reason, .. } => Some(reason),
        _ => None,
    });
    assert!(reason.unwrap().starts_with("memoized"), "the event log says why");

    assert_eq!(run(manifest_text("{guests}/probe.wasm", 0, 5)).await.1, "SUCCESS", "b's config changed: a miss");
    let (a, b, _) = run(manifest_text("{guests}/probe.wasm", 7, 5)).await;
    assert_eq!((a, b), ("SUCCESS", "SUCCESS"), "a's config changed, so b's input changed: both miss");

    let copy = project.dir.path().join("probe-copy.wasm");
    copy_with_new_digest(&weft_tests::guest("probe"), &copy);
    let (a, b, _) = run(manifest_text(copy.to_str().unwrap(), 7, 5)).await;
    assert_eq!((a, b), ("SUCCESS", "SUCCESS"), "another component digest is a miss");
}

#[test]
fn two_runs_and_a_follower_share_one_store_at_once() {
    let project = Project::new(
        r#"
[solids.probe]
wasm = "{guests}/probe.wasm"
[solids.conformance]
wasm = "{guests}/conformance.wasm"
[solids.faulty]
wasm = "{guests}/faulty.wasm"
[pipelines.slow.solids.wait]
solid = "probe"
config = { sleep_ms = 1500 }
[pipelines.slow.solids.source]
solid = "faulty"
config = { mode = "ok" }
[pipelines.slow.solids.talk]
solid = "conformance"
inputs = { text = "source.out" }
[pipelines.slow.solids.after]
solid = "probe"
inputs = { deps = ["wait.result"] }
"#,
    );
    let manifest = project.manifest();
    let spawn_run = || {
        Command::new(weft_bin())
            .args(["run", manifest.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut one, mut two) = (spawn_run(), spawn_run());
    let mut header = String::new();
    BufReader::new(one.stdout.as_mut().unwrap()).read_line(&mut header).unwrap();
    let run_id = header.split("(run ").nth(1).and_then(|r| r.get(..26)).expect("a run id").to_owned();

    // While both write, a third process follows the first run's compute logs.
    let follow = Command::new(weft_bin())
        .args(["logs", &run_id, "--follow", "--db", project.db().to_str().unwrap()])
        .output()
        .unwrap();
    let followed = String::from_utf8_lossy(&follow.stdout);
    assert!(follow.status.success(), "{followed}");
    assert!(followed.contains("to stdout: nothing"), "the follower printed the step's output: {followed}");

    assert!(one.wait().unwrap().success());
    assert!(two.wait().unwrap().success());
    let host = Host::open(&project.db()).unwrap();
    let runs = host.runs().unwrap();
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_eq!(run.status, RunStatus::Success);
        assert_consistent(host.db(), run);
    }
    assert!(!host.db().assets().unwrap().is_empty(), "both runs indexed their materialization");
}

#[test]
fn the_history_commands_filter_delete_and_collect() {
    let project = Project::new(
        "[solids.probe]\nwasm = \"{guests}/probe.wasm\"\n\
         [pipelines.p.solids.a]\nsolid = \"probe\"\nconfig = { fail = true }\n\
         [pipelines.q.solids.b]\nsolid = \"probe\"\n",
    );
    let manifest = project.manifest();
    let db = project.db();
    let (db, manifest) = (db.to_str().unwrap(), manifest.to_str().unwrap());
    let tags = project.write("run.json", br#"{"tags": {"team": "data"}}"#);
    assert_eq!(weft_tests::weft(&["run", manifest, "-p", "p"]).0, 1);
    assert_eq!(weft_tests::weft(&["run", manifest, "-p", "q", "--config", tags.to_str().unwrap()]).0, 0);
    assert_eq!(weft_tests::weft(&["run", manifest, "-p", "q"]).0, 0);

    let count = |args: &[&str]| {
        let (code, text) = weft_tests::weft(&[&["runs", "--db", db, "--json"], args].concat());
        assert_eq!(code, 0, "{text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap().as_array().unwrap().len()
    };
    assert_eq!(count(&[]), 3);
    assert_eq!(count(&["--status", "failure"]), 1);
    assert_eq!(count(&["--tag", "team=data"]), 1);
    assert_eq!(count(&["--pipeline", "q", "--since", "1h"]), 2);
    assert_eq!(count(&["-n", "1"]), 1);
    let (code, text) = weft_tests::weft(&["runs", "--db", db, "--status", "sideways"]);
    assert_eq!(code, 2, "{text}");

    let (code, text) = weft_tests::weft(&["gc", "--db", db, "--keep-last", "1"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("deleted 2 run(s)"), "{text}");
    assert_eq!(count(&[]), 1);
    let (_, left) = weft_tests::weft(&["runs", "--db", db, "--json"]);
    let left: serde_json::Value = serde_json::from_str(&left).unwrap();
    let id = left[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(weft_tests::weft(&["runs", "delete", &id[..12], "--db", db]).0, 0);
    assert!(weft_tests::weft(&["runs", "--db", db]).1.contains("No runs yet."));
}

#[tokio::test]
async fn assets_are_listed_with_their_latest_materialization_and_history() {
    let project = Project::new(
        "[solids.conformance]\nwasm = \"{guests}/conformance.wasm\"\n[solids.faulty]\nwasm = \"{guests}/faulty.wasm\"\n\
         [pipelines.p.solids.source]\nsolid = \"faulty\"\nconfig = { mode = \"ok\" }\n\
         [pipelines.p.solids.conform]\nsolid = \"conformance\"\ninputs = { text = \"source.out\" }\n",
    );
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(host.run(host.plan(&manifest, "p", &RunConfig::default()).await.unwrap()).await.unwrap().id);
    }
    let assets = host.db().assets().unwrap();
    assert_eq!(assets.len(), 1);
    assert_eq!((assets[0].key.as_str(), assets[0].materializations), ("tests/conformance", 2));
    assert_eq!(assets[0].latest.run, ids[1]);
    assert_eq!(assets[0].latest.step, "conform");
    let history = host.db().asset_history("tests/conformance").unwrap();
    assert_eq!(history.iter().map(|h| h.run).collect::<Vec<_>>(), ids);
    assert!(host.db().asset_history("nope").is_err());

    let (code, text) =
        weft_tests::weft(&["assets", "show", "tests/conformance", "--db", project.db().to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("2 materialization(s)") && text.contains("rows: 3"), "{text}");
}

#[test]
fn a_store_written_by_this_version_is_read_from_the_checked_in_fixture() {
    // tests/fixtures/store-v2.redb: `weft run examples/hello` with format version 2.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("store.redb");
    std::fs::copy(root().join("tests/fixtures/store-v2.redb"), &copy).unwrap();
    let db = Db::open(&copy).unwrap();
    let runs = db.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].pipeline, "serial_pipeline");
    assert_eq!(runs[0].status, RunStatus::Success);
    assert_eq!(db.output(runs[0].id, "salutation", "result").unwrap(), Some(Value::Text("Hello Dagster!".into())));
    assert_eq!(db.events(runs[0].id).unwrap().last().unwrap().kind.name(), "RUN_SUCCESS");
}
