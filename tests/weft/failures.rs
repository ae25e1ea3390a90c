//! Steps that fail, panic, trap or break the contract: each ends failed with its own
//! kind, its dependents are skipped, independent steps still run, the run fails, and the
//! host runs the next run as if nothing happened.

use weft_host::{EventKind, Host, Manifest, RunConfig, RunId, RunStatus, StepError, StepErrorKind, Stream};
use weft_tests::Project;

const MANIFEST: &str = r#"
[solids.faulty]
wasm = "{guests}/faulty.wasm"
[solids.conformance]
wasm = "{guests}/conformance.wasm"

[pipelines.chain.solids.bad]
solid = "faulty"
[pipelines.chain.solids.after]
solid = "faulty"
config = { mode = "ok" }
inputs = { input = "bad.out" }
[pipelines.chain.solids.free]
solid = "faulty"
config = { mode = "ok" }

[pipelines.typed.solids.good]
solid = "faulty"
config = { mode = "ok" }
[pipelines.typed.solids.bad]
solid = "faulty"
config = { mode = "wrong_type" }
[pipelines.typed.solids.conform]
solid = "conformance"
inputs = { text = "good.out", scale = "bad.out" }
"#;

fn mode(mode: &str) -> RunConfig {
    RunConfig::from_json(&serde_json::json!({"solids": {"bad": {"config": {"mode": mode}}}}), None).unwrap()
}

fn failure_of(host: &Host, id: RunId, step: &str) -> StepError {
    host.events(id)
        .unwrap()
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::StepFailed { error, .. } if e.step.as_deref() == Some(step) => Some(error),
            _ => None,
        })
        .unwrap_or_else(|| panic!("step {step} did not fail"))
}

async fn run_chain(host: &Host, manifest: &Manifest, how: &str) -> RunId {
    let record = host.run(host.plan(manifest, "chain", &mode(how)).await.unwrap()).await.unwrap();
    assert_eq!(record.status, if how == "ok" { RunStatus::Success } else { RunStatus::Failure }, "mode {how}");
    record.id
}

#[tokio::test]
async fn every_kind_of_step_fault_fails_the_step_skips_its_dependents_and_spares_the_host() {
    let project = Project::new(MANIFEST);
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();

    let cases: &[(&str, StepErrorKind, &str)] = &[
        ("fail", StepErrorKind::SolidFailure, "the data looked wrong"),
        ("panic", StepErrorKind::Panic, "faulty solid panicked on purpose"),
        ("trap", StepErrorKind::Trap, "wasm trap"),
        ("bad_yield", StepErrorKind::SolidFailure, "`no_such_output` is not a declared output"),
        ("missing", StepErrorKind::InvalidOutput, "required output(s): out"),
    ];
    for (how, kind, message) in cases {
        let id = run_chain(&host, &manifest, how).await;
        let error = failure_of(&host, id, "bad");
        assert_eq!(error.kind, *kind, "mode {how}: {error:?}");
        assert!(error.message.contains(message), "mode {how}: {:?} lacks {message:?}", error.message);
        assert_eq!(weft_tests::step_status(&host.events(id).unwrap(), "after"), "SKIPPED", "mode {how}");
        assert_eq!(weft_tests::step_status(&host.events(id).unwrap(), "free"), "SUCCESS", "mode {how}");
        // The host is healthy: the same pipeline succeeds right after.
        let ok = run_chain(&host, &manifest, "ok").await;
        assert_eq!(weft_tests::step_status(&host.events(ok).unwrap(), "after"), "SUCCESS");
    }
}

#[tokio::test]
async fn a_structured_failure_keeps_its_metadata() {
    let project = Project::new(MANIFEST);
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let id = run_chain(&host, &manifest, "fail").await;
    let error = failure_of(&host, id, "bad");
    assert_eq!(error.metadata[0].label, "rows_checked");
    assert_eq!(error.metadata[0].value, weft_host::MetadataValue::Integer(42));
    assert!(!error.retryable);
    let skipped = host.events(id).unwrap().into_iter().find_map(|e| match e.kind {
        EventKind::StepSkipped { reason } if e.step.as_deref() == Some("after") => Some(reason),
        _ => None,
    });
    assert_eq!(skipped.as_deref(), Some("upstream step `bad` failed"));
}

#[tokio::test]
async fn a_panic_is_reported_with_its_message_and_its_stderr_is_kept() {
    let project = Project::new(MANIFEST);
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let id = run_chain(&host, &manifest, "panic").await;
    let error = failure_of(&host, id, "bad");
    assert!(error.message.starts_with("panicked at "), "{}", error.message);
    let stderr = String::from_utf8(host.compute_log(id, "bad", Stream::Stderr).unwrap()).unwrap();
    assert!(stderr.contains("faulty solid panicked on purpose"), "{stderr}");
}

#[tokio::test]
async fn a_trap_carries_a_wasm_backtrace_with_function_names() {
    let project = Project::new(MANIFEST);
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let id = run_chain(&host, &manifest, "trap").await;
    let error = failure_of(&host, id, "bad");
    let backtrace = error.backtrace.expect("a backtrace");
    assert!(backtrace.contains("faulty"), "the solid's own function is named: {backtrace}");
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_stopped_at_the_input_it_would_feed() {
    let project = Project::new(MANIFEST);
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let record = host.run(host.plan(&manifest, "typed", &RunConfig::default()).await.unwrap()).await.unwrap();
    assert_eq!(record.status, RunStatus::Failure);
    let error = failure_of(&host, record.id, "conform");
    assert_eq!(error.kind, StepErrorKind::InputType);
    assert_eq!(error.message, "input `scale` is declared float but `bad.out` produced json");
}
