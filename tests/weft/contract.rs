//! Every part of the contract, both ways, through one solid that touches all of it.

use weft_host::{EventKind, Host, Manifest, MetadataValue, RunConfig, RunStatus, Stream, Value, ValueType};
use weft_tests::{Project, guest, language_guest};

const MANIFEST: &str = r#"
[solids.faulty]
wasm = "{guests}/faulty.wasm"
[solids.conformance]
wasm = "{conformance}"

[pipelines.everything.solids.source]
solid = "faulty"
config = { mode = "ok" }
[pipelines.everything.solids.conform]
solid = "conformance"
inputs = { text = "source.out", extras = ["source.out", "source.out"] }
"#;

#[tokio::test]
async fn a_rust_solid_gets_and_gives_every_kind_of_value_and_event() {
    every_kind_of_value_and_event(&guest("conformance")).await;
}

#[tokio::test]
async fn a_python_solid_gets_and_gives_every_kind_of_value_and_event() {
    every_kind_of_value_and_event(&language_guest("python", "conformance")).await;
}

#[tokio::test]
async fn a_javascript_solid_gets_and_gives_every_kind_of_value_and_event() {
    every_kind_of_value_and_event(&language_guest("javascript", "conformance")).await;
}

#[tokio::test]
async fn a_c_solid_gets_and_gives_every_kind_of_value_and_event() {
    every_kind_of_value_and_event(&language_guest("c", "conformance")).await;
}

#[tokio::test]
async fn a_zig_solid_gets_and_gives_every_kind_of_value_and_event() {
    every_kind_of_value_and_event(&language_guest("zig", "conformance")).await;
}

#[tokio::test]
async fn a_go_solid_gets_and_gives_every_kind_of_value_and_event() {
    every_kind_of_value_and_event(&language_guest("go", "conformance")).await;
}

/// The conformance pipeline with `conformance` at `component`: the same definition,
/// values, events and compute logs, whatever language the solid is written in.
async fn every_kind_of_value_and_event(component: &std::path::Path) {
    let project = Project::new(&MANIFEST.replace("{conformance}", &component.display().to_string()));
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let config =
        RunConfig::from_json(&serde_json::json!({"solids": {"conform": {"config": {"shout": true}}}}), None).unwrap();
    let plan = host.plan(&manifest, "everything", &config).await.unwrap();

    // What `describe` declared, as the host read it.
    let def = &plan.steps.iter().find(|s| s.key == "conform").unwrap().solid.def;
    assert_eq!(def.name, "conformance");
    assert_eq!(def.version, "3");
    assert_eq!(def.description, "Describes a text in every value type there is.");
    assert_eq!(def.tags, [("team".to_string(), "weft".to_string()), ("kind".into(), "test".into())]);
    let text = def.input("text").unwrap();
    assert_eq!(
        (text.ty, text.optional, text.multiple, text.description.as_str()),
        (ValueType::Text, false, false, "The text to describe")
    );
    let scale = def.input("scale").unwrap();
    assert_eq!((scale.ty, scale.optional), (ValueType::Float, true));
    let extras = def.input("extras").unwrap();
    assert_eq!((extras.ty, extras.multiple), (ValueType::Any, true));
    let types: Vec<(&str, ValueType, bool)> = def.outputs.iter().map(|o| (o.name.as_str(), o.ty, o.optional)).collect();
    assert_eq!(
        types,
        [
            ("length", ValueType::Integer, false),
            ("scaled", ValueType::Float, false),
            ("summary", ValueType::Json, false),
            ("raw", ValueType::Bytes, false),
            ("flag", ValueType::Boolean, false),
            ("nothing", ValueType::Text, true),
            ("echo", ValueType::Text, false),
        ]
    );

    let record = host.run(plan).await.unwrap();
    assert_eq!(record.status, RunStatus::Success);
    let id = record.id;
    let out = |name: &str| host.output(id, "conform", name).unwrap();
    assert_eq!(out("echo"), Some(Value::Text("NOTHING".into())), "config reached the solid");
    assert_eq!(out("length"), Some(Value::Integer(7)));
    assert_eq!(out("scaled"), Some(Value::Float(7.0)));
    let summary: serde_json::Value = match out("summary") {
        Some(Value::Json(text)) => serde_json::from_str(&text).unwrap(),
        other => panic!("summary is {other:?}"),
    };
    assert_eq!(summary, serde_json::json!({"words": 1, "extras": 2, "shout": true}), "fan-in delivered both values");
    assert_eq!(out("raw"), Some(Value::Bytes(b"nothing".as_slice().into())));
    assert_eq!(out("flag"), Some(Value::Boolean(true)));
    assert_eq!(out("nothing"), None, "an optional output left empty is not stored");

    let events = host.events(id).unwrap();
    let of_conform: Vec<&EventKind> =
        events.iter().filter(|e| e.step.as_deref() == Some("conform")).map(|e| &e.kind).collect();
    assert!(
        of_conform
            .iter()
            .any(|k| matches!(k, EventKind::Log { message, .. } if *message == format!("run {id} step conform"))),
        "{of_conform:#?}"
    );
    assert!(of_conform.iter().any(|k| matches!(k, EventKind::Log { message, .. } if message == "partition None")));
    let expectation = of_conform.iter().find_map(|k| match k {
        EventKind::Expectation { success, label, metadata, .. } => Some((*success, label.clone(), metadata.clone())),
        _ => None,
    });
    let (success, label, metadata) = expectation.expect("an expectation event");
    assert!(success);
    assert_eq!(label, "not_empty");
    assert_eq!(metadata[0].value, MetadataValue::Integer(7));
    assert!(of_conform.iter().any(|k| matches!(k,
        EventKind::Materialization { asset_key, metadata, .. }
            if asset_key == "tests/conformance" && metadata.iter().any(|m| m.value == MetadataValue::Url("https://example.com/t".into())))));
    // The yielded output is recorded when yielded: before the returned ones.
    let outputs: Vec<&str> = of_conform
        .iter()
        .filter_map(|k| match k {
            EventKind::StepOutput { output, .. } => Some(output.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(outputs, ["echo", "length", "scaled", "summary", "raw", "flag"]);

    assert_eq!(host.compute_log(id, "conform", Stream::Stdout).unwrap(), b"to stdout: NOTHING\n");
    assert_eq!(host.compute_log(id, "conform", Stream::Stderr).unwrap(), b"to stderr: 2 extras\n");
    assert!(
        of_conform
            .iter()
            .any(|k| matches!(k, EventKind::ComputeLogs { attempt: 1, stdout_bytes: 19, stderr_bytes: 20 }))
    );
}

#[tokio::test]
async fn a_python_failure_carries_its_message_metadata_and_retryability() {
    failure_carries_its_message_metadata_and_retryability("python").await;
}

#[tokio::test]
async fn a_javascript_failure_carries_its_message_metadata_and_retryability() {
    failure_carries_its_message_metadata_and_retryability("javascript").await;
}

#[tokio::test]
async fn a_c_failure_carries_its_message_metadata_and_retryability() {
    failure_carries_its_message_metadata_and_retryability("c").await;
}

#[tokio::test]
async fn a_zig_failure_carries_its_message_metadata_and_retryability() {
    failure_carries_its_message_metadata_and_retryability("zig").await;
}

#[tokio::test]
async fn a_go_failure_carries_its_message_metadata_and_retryability() {
    failure_carries_its_message_metadata_and_retryability("go").await;
}

/// The conformance solid of `language` asked to fail: a solid failure with the message,
/// retryability and metadata (in order) it gave.
async fn failure_carries_its_message_metadata_and_retryability(language: &str) {
    let component = language_guest(language, "conformance");
    let project = Project::new(&MANIFEST.replace("{conformance}", &component.display().to_string()));
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let json = serde_json::json!({"solids": {"conform": {"config": {"fail": true}}}});
    let record =
        host.run(host.plan(&manifest, "everything", &RunConfig::from_json(&json, None).unwrap()).await.unwrap());
    let record = record.await.unwrap();
    assert_eq!(record.status, RunStatus::Failure);
    let error = host
        .events(record.id)
        .unwrap()
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::StepFailed { error, .. } => Some(error),
            _ => None,
        })
        .expect("a failure event");
    assert_eq!(error.kind, weft_host::StepErrorKind::SolidFailure);
    assert_eq!(error.message, "asked to fail");
    assert!(error.retryable);
    let metadata: Vec<(String, MetadataValue)> = error.metadata.into_iter().map(|m| (m.label, m.value)).collect();
    assert_eq!(
        metadata,
        [("language".into(), MetadataValue::Text(language.into())), ("extras".into(), MetadataValue::Integer(2))]
    );
}

#[test]
fn a_python_solid_feeds_a_rust_one_in_the_python_example() {
    let _ = language_guest("python", "conformance");
    let _ = guest("salutation");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.redb");
    let (code, text) = weft_tests::weft(&["run", "examples/python", "--db", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let host = Host::open(&db).unwrap();
    let run = host.runs().unwrap()[0].id;
    assert_eq!(
        host.output(run, "salutation", "result").unwrap(),
        Some(Value::Text("Hello from Python, Dagster!".into()))
    );
}
