use super::*;
use crate::event::{EventKind, MetadataEntry, MetadataValue};
use crate::run::RunStatus;
use crate::value::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;

fn record(id: RunId, status: RunStatus) -> RunRecord {
    RunRecord {
        id,
        pipeline: "p".into(),
        manifest: "weft.toml".into(),
        status,
        created_at: 1,
        started_at: None,
        ended_at: None,
        run_config: serde_json::json!({}),
        tags: Default::default(),
        parent_run: None,
        root_run: None,
        step_selection: None,
        owner: Some("owner-1".into()),
    }
}

fn event(seq: u64, step: Option<&str>, kind: EventKind) -> Event {
    Event { seq, timestamp: 5, step: step.map(str::to_owned), kind }
}

fn materialization(key: &str) -> EventKind {
    EventKind::Materialization {
        asset_key: key.into(),
        description: None,
        metadata: vec![MetadataEntry { label: "rows".into(), value: MetadataValue::Integer(3) }],
    }
}

#[test]
fn what_is_committed_is_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/weft.redb");
    let id = RunId::generate();
    {
        let db = Db::open(&path).unwrap();
        let batch = Batch {
            run: Some(record(id, RunStatus::Success)),
            events: vec![event(0, None, EventKind::RunStarted { pipeline: "p".into() })],
            outputs: vec![("a".into(), Output::new("out".into(), Value::Text("hi".into())))],
            compute_logs: vec![("a".into(), 1, Stream::Stdout, b"printed".to_vec())],
            memo: Vec::new(),
        };
        db.commit(id, &batch).unwrap();
    }
    let db = Db::open(&path).unwrap();
    assert_eq!(db.run(id).unwrap(), record(id, RunStatus::Success));
    assert_eq!(db.events(id).unwrap().len(), 1);
    assert_eq!(db.output(id, "a", "out").unwrap(), Some(Value::Text("hi".into())));
    assert_eq!(db.output(id, "a", "nope").unwrap(), None);
    assert_eq!(db.compute_log(id, "a", Stream::Stdout).unwrap(), b"printed");
    assert_eq!(db.resolve_run(&id.to_string()[..10].to_lowercase()).unwrap(), id);
    assert!(matches!(db.resolve_run("ZZZZ"), Err(Error::NotFound(_))));
}

#[test]
fn a_file_of_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.redb");
    {
        let db = Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(META).unwrap().insert("format_version", 99u32.to_le_bytes().as_slice()).unwrap();
        tx.commit().unwrap();
    }
    let err = Db::open(&path).unwrap_err().to_string();
    assert!(err.contains("written by a newer weft (format version 99)"), "{err}");
}

#[test]
fn a_file_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.redb");
    std::fs::write(&path, b"this is not a database, just some text that is long enough").unwrap();
    assert!(Db::open(&path).is_err());
}

#[test]
fn a_version_1_file_is_migrated_with_its_compute_logs_and_assets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.redb");
    let id = RunId::generate();
    {
        // The layout weft 0.1's first release wrote.
        let db = Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(META).unwrap().insert("format_version", 1u32.to_le_bytes().as_slice()).unwrap();
        let json = serde_json::to_vec(&record(id, RunStatus::Success)).unwrap();
        tx.open_table(RUNS).unwrap().insert(id.0, json.as_slice()).unwrap();
        let json = serde_json::to_vec(&event(0, Some("a"), materialization("warehouse/orders"))).unwrap();
        tx.open_table(EVENTS).unwrap().insert((id.0, 0), json.as_slice()).unwrap();
        tx.open_table(COMPUTE_LOGS_V1).unwrap().insert((id.0, "a", 2), b"to stderr".as_slice()).unwrap();
        tx.commit().unwrap();
    }
    let db = Db::open(&path).unwrap();
    assert_eq!(db.compute_logs(id, "a").unwrap(), vec![(1, Stream::Stderr, b"to stderr".to_vec())]);
    let assets = db.assets().unwrap();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].key, "warehouse/orders");
    assert_eq!(assets[0].latest.run, id);
    drop(db);
    // Opening again finds version 2 and changes nothing.
    let db = Db::open(&path).unwrap();
    assert_eq!(db.compute_logs(id, "a").unwrap().len(), 1);
}

#[test]
fn runs_whose_owner_is_gone_are_marked_interrupted_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("weft.redb")).unwrap();
    let (dead, alive) = (RunId::generate(), RunId(RunId::generate().0 + 1));
    let mut started = record(dead, RunStatus::Started);
    started.owner = Some("dead-owner".into());
    let events = vec![
        event(0, None, EventKind::RunStarted { pipeline: "p".into() }),
        event(1, Some("a"), EventKind::StepStarted { attempt: 1 }),
        event(2, Some("a"), EventKind::StepSucceeded { duration_us: 1 }),
        event(3, Some("b"), EventKind::StepStarted { attempt: 1 }),
    ];
    db.commit(dead, &Batch { run: Some(started), events, ..Batch::default() }).unwrap();
    let mut other = record(alive, RunStatus::Started);
    other.owner = Some("live-owner".into());
    db.commit(alive, &Batch { run: Some(other), ..Batch::default() }).unwrap();

    let recovered = db.recover_interrupted(|owner| owner == "live-owner").unwrap();
    assert_eq!(recovered, [dead]);
    assert_eq!(db.run(dead).unwrap().status, RunStatus::Interrupted);
    assert_eq!(db.run(alive).unwrap().status, RunStatus::Started);
    let kinds: Vec<(Option<String>, &str)> =
        db.events(dead).unwrap().iter().map(|e| (e.step.clone(), e.kind.name())).collect();
    assert_eq!(kinds[4], (Some("b".into()), "STEP_CANCELED"), "only the step that was running");
    assert_eq!(kinds[5], (None, "RUN_INTERRUPTED"));
    assert!(db.recover_interrupted(|owner| owner == "live-owner").unwrap().is_empty(), "once");
}

#[test]
fn gc_keeps_what_kept_runs_and_memos_refer_to_and_frees_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("weft.redb")).unwrap();
    let base = RunId::generate().0;
    let ids: Vec<RunId> = (0..3).map(|i| RunId(base + i)).collect();
    for (i, id) in ids.iter().enumerate() {
        let mut run = record(*id, RunStatus::Success);
        run.created_at = i as i64;
        let shared = Value::Text("shared by every run".into());
        let own = Value::Text(format!("only in run {i}"));
        let outputs =
            vec![("a".into(), Output::new("shared".into(), shared)), ("a".into(), Output::new("own".into(), own))];
        let events = vec![event(0, Some("a"), materialization("t"))];
        db.commit(*id, &Batch { run: Some(run), outputs, events, ..Batch::default() }).unwrap();
    }
    let report = db.gc(Retention { keep_last: Some(1), older_than: None }, 10).unwrap();
    assert_eq!(report.runs_deleted, [ids[1], ids[0]], "the older two");
    assert_eq!(report.blobs_freed, 2, "their own outputs; the shared one stays");
    assert_eq!(db.output(ids[2], "a", "shared").unwrap(), Some(Value::Text("shared by every run".into())));
    assert_eq!(db.output(ids[2], "a", "own").unwrap(), Some(Value::Text("only in run 2".into())));
    assert!(db.run(ids[0]).is_err());
    assert!(db.events(ids[0]).unwrap().is_empty());
    assert_eq!(db.asset_history("t").unwrap().len(), 1, "the index lost the deleted runs' entries");
}

#[test]
fn the_writer_groups_batches_from_many_threads_and_keeps_each_runs_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(&dir.path().join("weft.redb")).unwrap());
    let writer = Arc::new(Writer::start(db.clone()).unwrap());
    let runs: Vec<RunId> = (0..4).map(|_| RunId::generate()).collect();
    let per_run = 500;
    std::thread::scope(|scope| {
        for &id in &runs {
            let writer = writer.clone();
            scope.spawn(move || {
                for seq in 0..per_run {
                    let step = format!("s{seq}");
                    let batch = Batch {
                        events: vec![event(seq, Some(&step), EventKind::StepStarted { attempt: 1 })],
                        outputs: vec![(step, Output::new("result".into(), Value::Integer(seq as i64)))],
                        ..Batch::default()
                    };
                    writer.submit(id, batch).unwrap();
                }
            });
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(writer.flush()).unwrap();
    for &id in &runs {
        let events = db.events(id).unwrap();
        assert_eq!(events.len() as u64, per_run);
        assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as u64));
        assert_eq!(db.output(id, "s499", "result").unwrap(), Some(Value::Integer(499)));
    }
    let stats = writer.stats();
    let (batches, groups) = (stats.batches.load(Ordering::Relaxed), stats.groups.load(Ordering::Relaxed));
    assert_eq!(batches, 4 * per_run);
    assert!(groups < batches / 4, "{batches} batches took {groups} commits: they were not grouped");
}

#[test]
fn an_idle_writer_wakes_for_a_submit_and_a_dropped_one_writes_what_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(&dir.path().join("weft.redb")).unwrap());
    let batch = |seq: u64| Batch {
        events: vec![event(seq, Some("s"), EventKind::StepStarted { attempt: 1 })],
        ..Batch::default()
    };
    let writer = Writer::start(db.clone()).unwrap();
    // Let the thread go idle, then submit without a flush: the submit alone must wake it.
    std::thread::sleep(std::time::Duration::from_millis(50));
    let id = RunId::generate();
    writer.submit(id, batch(0)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while db.events(id).unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "an idle writer did not commit a submitted batch");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // Queued while a group gathers (no wake-up), then the writer is dropped at once.
    for seq in 1..200 {
        writer.submit(id, batch(seq)).unwrap();
    }
    drop(writer);
    let events = db.events(id).unwrap();
    assert_eq!(events.len(), 200, "dropping the writer lost queued batches");
    assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as u64));
}
