//! The seed's pipelines through the library API, and what the store keeps of them.

use weft_host::{Db, EventKind, Host, Manifest, RunConfig, RunStatus, Value};
use weft_tests::{guest, root};

#[tokio::test]
async fn the_serial_pipeline_says_hello_dagster_and_its_events_outlive_the_host() {
    let _ = guest("hello_world");
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("weft.redb");
    let manifest = Manifest::load(&root().join("examples/hello")).unwrap();

    let (run_id, live_events) = {
        let host = Host::open(&db_path).unwrap();
        let plan = host.plan(&manifest, "serial_pipeline", &RunConfig::default()).await.unwrap();
        let mut run = host.launch(plan).unwrap();
        let mut live = Vec::new();
        while let Some(event) = run.next_event().await {
            live.push(event);
        }
        let record = run.wait().await.unwrap();
        assert_eq!(record.status, RunStatus::Success);
        (record.id, live)
    };

    // A new handle on the same file sees everything the run recorded.
    let db = Db::open(&db_path).unwrap();
    assert_eq!(db.output(run_id, "salutation", "result").unwrap(), Some(Value::Text("Hello Dagster!".into())));
    assert_eq!(db.output(run_id, "hello_world", "greeting").unwrap(), Some(Value::Text("Hello".into())));
    let stored = db.events(run_id).unwrap();
    assert_eq!(stored, live_events, "the stored log is the log the subscriber saw");
    let names: Vec<(Option<&str>, &str)> = stored.iter().map(|e| (e.step.as_deref(), e.kind.name())).collect();
    assert_eq!(
        names,
        [
            (None, "RUN_STARTED"),
            (Some("hello_world"), "STEP_START"),
            (Some("hello_world"), "STEP_OUTPUT"),
            (Some("hello_world"), "STEP_SUCCESS"),
            (Some("salutation"), "STEP_START"),
            (Some("salutation"), "STEP_OUTPUT"),
            (Some("salutation"), "STEP_SUCCESS"),
            (None, "RUN_SUCCESS"),
        ]
    );
    assert!(stored.iter().enumerate().all(|(i, e)| e.seq == i as u64), "sequence numbers have no gaps");
    let record = db.run(run_id).unwrap();
    assert_eq!(record.status, RunStatus::Success);
    assert_eq!(record.pipeline, "serial_pipeline");
    assert!(record.started_at.unwrap() <= record.ended_at.unwrap());
}

#[tokio::test]
async fn the_config_example_logs_its_word_as_often_as_configured() {
    let _ = guest("config_example_solid");
    let dir = tempfile::tempdir().unwrap();
    let host = Host::open(&dir.path().join("weft.redb")).unwrap();
    let manifest = Manifest::load(&root().join("examples/config/weft.toml")).unwrap();
    let config = RunConfig::load(&root().join("examples/config/run.toml")).unwrap();
    let plan = host.plan(&manifest, "config_example_pipeline", &config).await.unwrap();
    assert_eq!(
        plan.steps[0].config,
        serde_json::json!({"iterations": 3, "word": "hello"}),
        "the default fills in `word`"
    );
    let record = host.run(plan).await.unwrap();
    assert_eq!(record.status, RunStatus::Success);
    let logs: Vec<String> = host
        .events(record.id)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Log { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(logs, ["hello", "hello", "hello"]);
    assert_eq!(record.run_config["solids"]["config_example_solid"]["config"]["iterations"], 3);

    let custom = RunConfig::from_json(
        &serde_json::json!({"solids": {"config_example_solid": {"config": {"iterations": 2, "word": "weft"}}}, "tags": {"who": "test"}}),
        None,
    )
    .unwrap();
    let record = host.run(host.plan(&manifest, "config_example_pipeline", &custom).await.unwrap()).await.unwrap();
    let words = host
        .events(record.id)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(&e.kind, EventKind::Log { message, .. } if message == "weft"))
        .count();
    assert_eq!(words, 2);
    assert_eq!(record.tags.get("who").map(String::as_str), Some("test"));
}
