//! Scheduling for real work: concurrency, retries, failure semantics, fan-in order,
//! partial runs, cancellation and the multiprocess executor, with the `probe` solid.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::time::Duration;
use weft_host::{
    Event, EventKind, Host, Manifest, RunConfig, RunId, RunRecord, RunStatus, StepErrorKind, Value, default_db_path,
};
use weft_tests::{Project, guest, root};

/// One step of a generated pipeline.
#[derive(Debug, Clone, Default)]
struct Step {
    deps: Vec<usize>,
    config: BTreeMap<&'static str, String>,
}

/// A manifest of probe steps `s0..sn` with the given wiring, config and execution.
fn probe_manifest(steps: &[Step], execution: &str) -> String {
    let mut toml =
        format!("[solids.probe]\nwasm = \"{{guests}}/probe.wasm\"\n\n[pipelines.p.execution]\n{execution}\n");
    for (i, step) in steps.iter().enumerate() {
        toml.push_str(&format!("\n[pipelines.p.solids.s{i}]\nsolid = \"probe\"\n"));
        if !step.deps.is_empty() {
            let refs: Vec<String> = step.deps.iter().map(|d| format!("\"s{d}.result\"")).collect();
            toml.push_str(&format!("inputs = {{ deps = [{}] }}\n", refs.join(", ")));
        }
        if !step.config.is_empty() {
            let entries: Vec<String> = step.config.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            toml.push_str(&format!("config = {{ {} }}\n", entries.join(", ")));
        }
    }
    toml
}

fn step(deps: &[usize], config: &[(&'static str, &str)]) -> Step {
    Step { deps: deps.to_vec(), config: config.iter().map(|(k, v)| (*k, v.to_string())).collect() }
}

async fn run(project: &Project, config: &RunConfig) -> (Host, RunRecord) {
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let plan = host.plan(&manifest, "p", config).await.unwrap();
    let record = host.run(plan).await.unwrap();
    (host, record)
}

fn events_of<'a>(events: &'a [Event], step: &str) -> Vec<&'a EventKind> {
    events.iter().filter(|e| e.step.as_deref() == Some(step)).map(|e| &e.kind).collect()
}

fn seq_of(events: &[Event], step: &str, name: &str) -> Option<u64> {
    events.iter().find(|e| e.step.as_deref() == Some(step) && e.kind.name() == name).map(|e| e.seq)
}

/// The most steps running at once, by the event log.
fn peak_concurrency(events: &[Event]) -> usize {
    let (mut running, mut peak) = (0usize, 0usize);
    for event in events {
        match event.kind {
            EventKind::StepStarted { .. } => running += 1,
            EventKind::StepSucceeded { .. }
            | EventKind::StepFailed { .. }
            | EventKind::StepRetry { .. }
            | EventKind::StepCanceled { .. } => running = running.saturating_sub(1),
            _ => {}
        }
        peak = peak.max(running);
    }
    peak
}

#[test]
fn on_random_dags_every_step_runs_once_after_its_inputs_within_the_limit_and_failures_skip_exactly_their_descendants() {
    let _ = guest("probe");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // n steps; each may depend on earlier ones, may fail, may sleep a little.
    let dag = (2usize..10).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec(proptest::collection::vec(proptest::bool::weighted(0.3), n), n),
            proptest::collection::vec(proptest::bool::weighted(0.15), n),
            proptest::collection::vec(0u64..4, n),
            1usize..4,
        )
    });
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&dag, |(n, edges, fails, sleeps, max)| {
            let steps: Vec<Step> = (0..n)
                .map(|j| {
                    let deps: Vec<usize> = (0..j).filter(|&i| edges[j][i]).collect();
                    let mut config = vec![("sleep_ms", sleeps[j].to_string())];
                    if fails[j] {
                        config.push(("fail", "true".into()));
                    }
                    Step { deps, config: config.into_iter().collect() }
                })
                .collect();
            let project = Project::new(&probe_manifest(&steps, &format!("max_concurrent = {max}")));
            let (host, record) = runtime.block_on(run(&project, &RunConfig::default()));
            let events = host.events(record.id).unwrap();

            // What each step should end as: it fails if told to and it ran; it runs only
            // when every upstream step succeeded.
            let mut expected = vec![""; n];
            let mut paths = vec![0i64; n];
            for j in 0..n {
                let all_up = steps[j].deps.iter().all(|&d| expected[d] == "SUCCESS");
                expected[j] = if !all_up {
                    "SKIPPED"
                } else if fails[j] {
                    "FAILURE"
                } else {
                    "SUCCESS"
                };
                paths[j] = 1 + steps[j].deps.iter().map(|&d| paths[d]).sum::<i64>();
            }
            for j in 0..n {
                let key = format!("s{j}");
                prop_assert_eq!(weft_tests::step_status(&events, &key), expected[j], "step {}", key);
                let starts =
                    events_of(&events, &key).iter().filter(|k| matches!(k, EventKind::StepStarted { .. })).count();
                prop_assert_eq!(starts, usize::from(expected[j] != "SKIPPED"), "step {} started once iff it ran", key);
                if expected[j] != "SKIPPED" {
                    let start = seq_of(&events, &key, "STEP_START").unwrap();
                    for d in &steps[j].deps {
                        let done = seq_of(&events, &format!("s{d}"), "STEP_SUCCESS").unwrap();
                        prop_assert!(done < start, "s{} started before its input s{} was done", j, d);
                    }
                }
                if expected[j] == "SUCCESS" {
                    let out = host.output(record.id, &key, "result").unwrap();
                    prop_assert_eq!(out, Some(Value::Integer(paths[j])), "the data reached {}", key);
                }
            }
            prop_assert!(peak_concurrency(&events) <= max, "more than {} steps ran at once", max);
            let failed = expected.contains(&"FAILURE");
            prop_assert_eq!(record.status, if failed { RunStatus::Failure } else { RunStatus::Success });
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn independent_steps_run_at_the_same_time_up_to_the_limit() {
    let sleepy = [("sleep_ms", "300")];
    let steps = vec![step(&[], &sleepy), step(&[], &sleepy), step(&[], &sleepy), step(&[], &sleepy)];
    let project = Project::new(&probe_manifest(&steps, "max_concurrent = 4"));
    let (host, record) = run(&project, &RunConfig::default()).await;
    let events = host.events(record.id).unwrap();
    assert_eq!(peak_concurrency(&events), 4, "all four sleep at once");

    let limited = RunConfig::from_json(&serde_json::json!({"execution": {"max_concurrent": 2}}), None).unwrap();
    let (host, record) = run(&project, &limited).await;
    let events = host.events(record.id).unwrap();
    assert_eq!(peak_concurrency(&events), 2, "the run config lowers the limit");
    assert_eq!(record.run_config["execution"]["max_concurrent"], 2, "the settings in effect are recorded");
}

#[tokio::test(flavor = "current_thread")]
async fn a_cpu_bound_step_does_not_starve_the_others_even_on_one_thread() {
    let steps = vec![
        step(&[], &[("spin_ms", "1500")]),
        step(&[], &[("sleep_ms", "20")]),
        step(&[1], &[("sleep_ms", "20")]),
        step(&[2], &[("sleep_ms", "20")]),
    ];
    let project = Project::new(&probe_manifest(&steps, "max_concurrent = 2"));
    let (host, record) = run(&project, &RunConfig::default()).await;
    assert_eq!(record.status, RunStatus::Success);
    let events = host.events(record.id).unwrap();
    let spinner_done = seq_of(&events, "s0", "STEP_SUCCESS").unwrap();
    let chain_done = seq_of(&events, "s3", "STEP_SUCCESS").unwrap();
    assert!(chain_done < spinner_done, "the chain finished while the spinner spun");
}

#[tokio::test]
async fn fan_in_delivers_values_in_manifest_order() {
    // s0 = 1, s1 = 2 (from s0), s2 = 1; s3 takes [s1, s2, s0].
    let steps = vec![step(&[], &[]), step(&[0], &[]), step(&[], &[]), step(&[1, 2, 0], &[])];
    let project = Project::new(&probe_manifest(&steps, ""));
    let (host, record) = run(&project, &RunConfig::default()).await;
    assert_eq!(host.output(record.id, "s3", "trace").unwrap(), Some(Value::Text("2,1,1".into())));
    assert_eq!(host.output(record.id, "s3", "result").unwrap(), Some(Value::Integer(5)));
}

#[tokio::test]
async fn a_flaky_step_is_retried_with_backoff_until_it_succeeds() {
    let toml = probe_manifest(&[step(&[], &[("fail_until_attempt", "2")])], "")
        + "retry = { max_attempts = 3, delay = \"20ms\", backoff = 2.0 }\n";
    let project = Project::new(&toml);
    let (host, record) = run(&project, &RunConfig::default()).await;
    assert_eq!(record.status, RunStatus::Success);
    let events = host.events(record.id).unwrap();
    let names: Vec<&str> = events_of(&events, "s0").iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        [
            "STEP_START",
            "STEP_RETRY",
            "STEP_START",
            "STEP_RETRY",
            "STEP_START",
            "STEP_OUTPUT",
            "STEP_OUTPUT",
            "STEP_SUCCESS"
        ]
    );
    let delays: Vec<u64> = events_of(&events, "s0")
        .iter()
        .filter_map(|k| match k {
            EventKind::StepRetry { delay_us, .. } => Some(*delay_us),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [20_000, 40_000], "the second wait is doubled");
    // Each retry waited at least its delay.
    let at = |name: &str, nth: usize| {
        events.iter().filter(|e| e.step.as_deref() == Some("s0") && e.kind.name() == name).nth(nth).unwrap().timestamp
    };
    assert!(at("STEP_START", 1) - at("STEP_RETRY", 0) >= 20_000);
    assert!(at("STEP_START", 2) - at("STEP_RETRY", 1) >= 40_000);
    let attempts: Vec<u32> = events_of(&events, "s0")
        .iter()
        .filter_map(|k| match k {
            EventKind::StepStarted { attempt } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
}

#[tokio::test]
async fn retries_stop_at_the_limit_and_skip_failures_the_policy_does_not_cover() {
    let project = Project::new(
        &(probe_manifest(
            &[
                step(&[], &[("fail_until_attempt", "5")]),
                step(&[], &[("trap_until_attempt", "1")]),
                step(&[], &[("fail", "true")]),
            ],
            "",
        )),
    );
    // A run-wide policy: three attempts, on failures only.
    let config = RunConfig::from_json(
        &serde_json::json!({"execution": {"retry": {"max_attempts": 3, "delay": "1ms", "on": ["failure"]}}}),
        None,
    )
    .unwrap();
    let (host, record) = run(&project, &config).await;
    assert_eq!(record.status, RunStatus::Failure);
    let events = host.events(record.id).unwrap();
    let starts =
        |step: &str| events_of(&events, step).iter().filter(|k| matches!(k, EventKind::StepStarted { .. })).count();
    assert_eq!(starts("s0"), 3, "retryable failures are tried three times in all");
    assert_eq!(starts("s1"), 1, "traps are not covered by this policy");
    assert_eq!(starts("s2"), 1, "a failure not marked retryable is not retried");
    assert!(
        events_of(&events, "s1")
            .iter()
            .any(|k| matches!(k, EventKind::StepFailed { error, .. } if error.kind == StepErrorKind::Trap))
    );
}

#[tokio::test]
async fn failures_skip_only_their_descendants_unless_the_run_fails_fast() {
    // s0 fails at once; s1 depends on it; s2 is an independent slow branch.
    let steps = vec![step(&[], &[("fail", "true")]), step(&[0], &[]), step(&[], &[("sleep_ms", "3000")])];
    let project = Project::new(&probe_manifest(&steps, "max_concurrent = 3"));
    let (host, record) = run(&project, &RunConfig::default()).await;
    let events = host.events(record.id).unwrap();
    assert_eq!(record.status, RunStatus::Failure);
    assert_eq!(weft_tests::step_status(&events, "s1"), "SKIPPED");
    assert_eq!(weft_tests::step_status(&events, "s2"), "SUCCESS", "the independent branch keeps running");

    let fast = RunConfig::from_json(&serde_json::json!({"execution": {"fail_fast": true}}), None).unwrap();
    let started = std::time::Instant::now();
    let (host, record) = run(&project, &fast).await;
    let events = host.events(record.id).unwrap();
    assert_eq!(record.status, RunStatus::Failure);
    assert_eq!(weft_tests::step_status(&events, "s1"), "SKIPPED");
    assert_eq!(weft_tests::step_status(&events, "s2"), "CANCELED", "the slow branch is interrupted");
    assert!(started.elapsed() < Duration::from_millis(2500), "it did not wait for the slow branch");
}

#[tokio::test]
async fn an_optional_output_left_empty_skips_its_readers_without_failing_the_run() {
    let project = Project::new(
        r#"
[solids.conformance]
wasm = "{guests}/conformance.wasm"
[solids.faulty]
wasm = "{guests}/faulty.wasm"
[solids.salutation]
wasm = "{guests}/salutation.wasm"
[pipelines.p.solids.source]
solid = "faulty"
config = { mode = "ok" }
[pipelines.p.solids.conform]
solid = "conformance"
inputs = { text = "source.out" }
[pipelines.p.solids.greet]
solid = "salutation"
inputs = { greeting = "conform.nothing" }
"#,
    );
    let (host, record) = run(&project, &RunConfig::default()).await;
    assert_eq!(record.status, RunStatus::Success);
    let events = host.events(record.id).unwrap();
    let reason = events_of(&events, "greet").iter().find_map(|k| match k {
        EventKind::StepSkipped { reason } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(reason.as_deref(), Some("optional output `conform.nothing` was not produced"));
}

#[tokio::test]
async fn a_partial_run_reuses_the_outputs_of_an_earlier_run() {
    let _ = guest("hello_world");
    let dir = tempfile::tempdir().unwrap();
    let host = Host::open(&dir.path().join("weft.redb")).unwrap();
    let manifest = Manifest::load(&root().join("examples/hello")).unwrap();
    let config = RunConfig::default();
    let plan = || host.plan(&manifest, "serial_pipeline", &config);
    let first = host.run(plan().await.unwrap()).await.unwrap();

    let mut partial = plan().await.unwrap();
    let err = partial.select("salutation", None).unwrap_err().to_string();
    assert!(err.contains("step `salutation` reads `hello_world.greeting`, which is not selected"), "{err}");
    partial.select("salutation", Some((first.id, host.db()))).unwrap();
    let second = host.run(partial).await.unwrap();
    assert_eq!(second.status, RunStatus::Success);
    assert_eq!(second.parent_run, Some(first.id));
    assert_eq!(second.step_selection.as_deref(), Some("salutation"));
    let events = host.events(second.id).unwrap();
    let hello: Vec<&str> =
        events.iter().filter(|e| e.step.as_deref() == Some("hello_world")).map(|e| e.kind.name()).collect();
    assert_eq!(hello, ["STEP_REUSED"], "hello_world did not run; its output was reused");
    assert_eq!(host.output(second.id, "salutation", "result").unwrap(), Some(Value::Text("Hello Dagster!".into())));

    let mut bad = plan().await.unwrap();
    let err = bad.select("salutaton+", None).unwrap_err().to_string();
    assert!(err.contains("`salutaton+` names no step"), "{err}");
    let mut both = plan().await.unwrap();
    both.select("*salutation", None).unwrap();
    assert_eq!(host.run(both).await.unwrap().status, RunStatus::Success);
}

#[tokio::test]
async fn canceling_interrupts_running_steps_marks_pending_ones_and_records_it_all() {
    let steps = vec![step(&[], &[("sleep_ms", "10000")]), step(&[0], &[]), step(&[], &[("spin_ms", "10000")])];
    let project = Project::new(&probe_manifest(&steps, "max_concurrent = 2"));
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let mut handle = host.launch(host.plan(&manifest, "p", &RunConfig::default()).await.unwrap()).unwrap();
    let mut started = 0;
    while let Some(event) = handle.next_event().await {
        if matches!(event.kind, EventKind::StepStarted { .. }) {
            started += 1;
            if started == 2 {
                break;
            }
        }
    }
    let begun = std::time::Instant::now();
    handle.cancel();
    let id: RunId = handle.id;
    let record = handle.wait().await.unwrap();
    assert!(begun.elapsed() < Duration::from_secs(2), "the sleeping and the spinning step stopped promptly");
    assert_eq!(record.status, RunStatus::Canceled);
    drop(host);

    let db = weft_host::Db::open(&project.db()).unwrap();
    let events = db.events(id).unwrap();
    assert_eq!(weft_tests::step_status(&events, "s0"), "CANCELED");
    assert_eq!(weft_tests::step_status(&events, "s1"), "CANCELED");
    assert_eq!(weft_tests::step_status(&events, "s2"), "CANCELED");
    assert_eq!(events.last().unwrap().kind.name(), "RUN_CANCELED");
    assert_eq!(db.run(id).unwrap().status, RunStatus::Canceled);
}

#[tokio::test]
async fn the_multiprocess_executor_runs_each_step_in_a_child_and_survives_a_killed_one() {
    let _ = weft_tests::weft_bin();
    let steps =
        vec![step(&[], &[("sleep_ms", "30000")]), step(&[0], &[]), step(&[], &[("sleep_ms", "10")]), step(&[2], &[])];
    let project = Project::new(&probe_manifest(&steps, "executor = \"multiprocess\"\nmax_concurrent = 2"));
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let handle = host.launch(host.plan(&manifest, "p", &RunConfig::default()).await.unwrap()).unwrap();
    let label = format!("{}/s0", handle.id);
    // Kill the child running s0 once it is up.
    let killer = tokio::spawn(async move {
        for _ in 0..200 {
            let status = std::process::Command::new("pkill")
                .args(["-KILL", "-f", &format!("worker --label {label}")])
                .status()
                .unwrap();
            if status.success() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    });
    let record = handle.wait().await.unwrap();
    assert!(killer.await.unwrap(), "the worker of s0 was found and killed");
    let events = host.events(record.id).unwrap();
    assert_eq!(record.status, RunStatus::Failure);
    let error = events_of(&events, "s0")
        .iter()
        .find_map(|k| match k {
            EventKind::StepFailed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .expect("s0 failed");
    assert_eq!(error.kind, StepErrorKind::HostError);
    assert!(error.message.contains("killed by signal 9"), "{}", error.message);
    assert_eq!(weft_tests::step_status(&events, "s1"), "SKIPPED");
    assert_eq!(weft_tests::step_status(&events, "s3"), "SUCCESS", "the run went on");
    assert_eq!(host.output(record.id, "s3", "result").unwrap(), Some(Value::Integer(2)), "outputs crossed the pipes");
    assert!(default_db_path(&project.manifest()).exists());
}
