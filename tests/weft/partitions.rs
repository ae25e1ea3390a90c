//! Partitions and backfills: a partition key reaching the solid and its config, runs
//! per partition, the status grid, and a backfill that is killed, resumed, and re-run
//! for its failures.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use weft_host::{Db, Host, Manifest, RunConfig, RunRecord, RunStatus, Value};
use weft_tests::{Project, weft};

/// A daily partition set over January 2024, and a pipeline whose one step reports its
/// partition and fails for the keys in `fail_on`.
fn january(fail_on: &[&str], sleep_ms: u64) -> String {
    let fail_on: Vec<String> = fail_on.iter().map(|k| format!("\"{k}\"")).collect();
    format!(
        r#"
[solids.dated]
wasm = "{{guests}}/dated.wasm"

[partitions.days]
cadence = "daily"
start = 2024-01-01
end = "2024-02-01"
timezone = "Europe/Paris"

[partitions.regions]
keys = ["us", "eu", "asia"]

[pipelines.daily]
partitions = "days"
[pipelines.daily.solids.report]
solid = "dated"
config = {{ day = "{{partition_date}} from {{partition_start}} to {{partition_end}}", sleep_ms = {sleep_ms}, fail_on = [{}] }}

[pipelines.regional]
partitions = "regions"
[pipelines.regional.solids.report]
solid = "dated"
config = {{ day = "{{partition_key}}" }}

[pipelines.plain.solids.report]
solid = "dated"
"#,
        fail_on.join(", ")
    )
}

fn partition_config(key: &str) -> RunConfig {
    RunConfig { partition: Some(key.to_owned()), ..RunConfig::default() }
}

fn report(host: &Host, run: &RunRecord) -> String {
    match host.output(run.id, "report", "report").unwrap() {
        Some(Value::Text(text)) => text,
        other => panic!("run {} reported {other:?}", run.id),
    }
}

#[tokio::test]
async fn a_partition_reaches_the_solid_its_templates_and_its_tags() {
    let project = Project::new(&january(&[], 0));
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let host = Host::open(&project.db()).unwrap();

    let plan = host.plan(&manifest, "daily", &partition_config("2024-01-05")).await.unwrap();
    let run = host.run(plan).await.unwrap();
    assert_eq!(run.status, RunStatus::Success);
    // The key comes through the context; the window, in Paris time, through the config.
    assert_eq!(
        report(&host, &run),
        "partition=2024-01-05 day=2024-01-05 from 2024-01-05T00:00:00+01:00 to 2024-01-06T00:00:00+01:00 file="
    );
    assert_eq!(run.tags["weft/partition"], "2024-01-05");
    assert_eq!(run.tags["weft/partition_set"], "days");
    assert_eq!(run.run_config["partition"], "2024-01-05");

    let run = host.run(host.plan(&manifest, "regional", &partition_config("eu")).await.unwrap()).await.unwrap();
    assert_eq!(report(&host, &run), "partition=eu day=eu file=");

    // Bad keys are named, with what the set's keys look like.
    for (pipeline, key, expected) in [
        ("daily", "2024-13-01", "2024-13-01"),
        ("daily", "2023-12-31", "2023-12-31"),
        ("daily", "2024-02-01", "2024-02-01"),
        ("regional", "mars", "`mars` is not a key of partition set `regions`: us, eu, asia"),
        ("plain", "2024-01-05", "pipeline `plain` is not partitioned"),
    ] {
        let error = host.plan(&manifest, pipeline, &partition_config(key)).await.unwrap_err().to_string();
        assert!(error.contains(expected) && error.contains("partition"), "{pipeline} {key}: {error}");
    }
    // A partitioned pipeline whose config needs a partition says so when run without one.
    let error = host.plan(&manifest, "daily", &RunConfig::default()).await.unwrap_err().to_string();
    assert!(error.contains("solids.report.config.day") && error.contains("--partition"), "{error}");
    // An unknown template name is reported with the names there are.
    let mut config = partition_config("eu");
    config.set("solids.report.config.day={partition_start}").unwrap();
    let error = host.plan(&manifest, "regional", &config).await.unwrap_err().to_string();
    assert!(error.contains("`{partition_start}` is not a template of partition set `regions`"), "{error}");
}

#[test]
fn the_cli_runs_a_partition_and_prints_the_grid() {
    let project = Project::new(&january(&["2024-01-03"], 0));
    let manifest = project.manifest();
    let m = manifest.to_str().unwrap();
    let (code, out) = weft(&["run", m, "-p", "daily", "--partition", "2024-01-02"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = weft(&["run", m, "-p", "daily", "--partition", "2024-01-03"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("told to fail on partition 2024-01-03"), "{out}");
    let (code, out) = weft(&["run", m, "-p", "daily", "--partition", "2024-01-32"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("2024-01-32"), "{out}");

    let (code, grid) = weft(&["partitions", "-m", m, "-p", "daily"]);
    assert_eq!(code, 0, "{grid}");
    assert!(grid.contains("31 partitions: 1 succeeded, 1 failed, 0 running, 29 missing"), "{grid}");
    // January's row: day 1 missing, day 2 succeeded, day 3 failed, the rest missing.
    let row = grid.lines().find(|l| l.starts_with("2024-01 ")).expect("a row for January");
    assert_eq!(row.trim_end(), format!("2024-01  ·■✗{}", "·".repeat(28)), "{grid}");
    assert!(grid.contains("failed: 2024-01-03 (run "), "{grid}");

    let (code, json) = weft(&["partitions", "-m", m, "-p", "daily", "--json"]);
    assert_eq!(code, 0, "{json}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let states: Vec<&str> =
        json["partitions"].as_array().unwrap().iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(states.len(), 31);
    assert_eq!(&states[..3], ["missing", "succeeded", "failed"]);
}

/// The runs of each partition key of `pipeline` in the store, oldest first.
fn runs_by_key(db: &Db, pipeline: &str) -> Vec<(String, Vec<RunRecord>)> {
    db.partition_runs(pipeline).unwrap()
}

#[test]
fn a_backfill_of_31_days_survives_a_kill_resumes_and_reruns_its_failures() {
    let failing = ["2024-01-05", "2024-01-17", "2024-01-29"];
    let project = Project::new(&january(&failing, 120));
    let manifest = project.manifest();
    let m = manifest.to_str().unwrap();

    let mut child = Command::new(weft_tests::weft_bin())
        .args(["backfill", "-m", m, "-p", "daily", "--from", "2024-01-01", "--to", "2024-01-31"])
        .args(["--max-concurrent", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let id = line.split_whitespace().nth(1).expect("`backfill ID of ...`").to_owned();
    assert!(line.contains("31 partition(s), 3 at a time"), "{line}");
    // Kill it (SIGKILL: no chance to record anything) once some partitions are done.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = runs_by_key(&Db::open(&project.db()).unwrap(), "daily")
            .iter()
            .filter(|(_, runs)| runs.iter().any(|r| r.status.is_finished()))
            .count();
        if done >= 8 {
            break;
        }
        assert!(Instant::now() < deadline, "the backfill made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let before: Vec<(String, Vec<RunRecord>)> = {
        let host = Host::open(&project.db()).unwrap(); // marks the killed runs interrupted
        runs_by_key(host.db(), "daily")
    };
    let succeeded_before: Vec<&str> = before
        .iter()
        .filter(|(_, runs)| runs.iter().any(|r| r.status == RunStatus::Success))
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(succeeded_before.len() >= 5 && succeeded_before.len() < 31, "{succeeded_before:?}");
    assert!(before.len() < 31, "the kill came too late to test resuming: every partition had started");
    let (code, list) = weft(&["backfill", "-m", m, "list"]);
    assert_eq!(code, 0, "{list}");
    assert!(list.contains(&id) && list.contains("INTERRUPTED"), "{list}");

    let (code, out) = weft(&["backfill", "-m", m, "resume", &id[..10]]);
    assert_eq!(code, 1, "three partitions fail: {out}");
    assert!(out.contains(&format!("backfill {id}: FAILURE")), "{out}");
    assert!(out.contains("failed partitions: 2024-01-05, 2024-01-17, 2024-01-29"), "{out}");
    let after = runs_by_key(&Db::open(&project.db()).unwrap(), "daily");
    assert_eq!(after.len(), 31, "every partition ran");
    for (key, runs) in &after {
        // Nothing that succeeded before the kill ran again.
        if succeeded_before.contains(&key.as_str()) {
            let earlier = &before.iter().find(|(k, _)| k == key).unwrap().1;
            assert_eq!(runs.len(), earlier.len(), "{key} ran again after it had succeeded");
        }
        let latest = runs.last().unwrap();
        let expected = if failing.contains(&key.as_str()) { RunStatus::Failure } else { RunStatus::Success };
        assert_eq!(latest.status, expected, "{key}");
        assert_eq!(latest.tags["weft/backfill"], id);
        // One run per partition reached a result: only interrupted runs were repeated.
        let results = runs.iter().filter(|r| matches!(r.status, RunStatus::Success | RunStatus::Failure)).count();
        assert_eq!(results, 1, "{key}: {runs:?}");
    }
    let (_, grid) = weft(&["partitions", "-m", m, "-p", "daily"]);
    assert!(grid.contains("31 partitions: 28 succeeded, 3 failed, 0 running, 0 missing"), "{grid}");

    // The failures again, told not to fail: a new backfill of exactly those three.
    let (code, out) = weft(&[
        "backfill",
        "-m",
        m,
        "-p",
        "daily",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-31",
        "--failed-only",
        "--set",
        "solids.report.config.fail_on=[]",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 partition(s)") && out.contains(": SUCCESS"), "{out}");
    let last = runs_by_key(&Db::open(&project.db()).unwrap(), "daily");
    for (key, runs) in &last {
        let ran_again = runs.len() > after.iter().find(|(k, _)| k == key).unwrap().1.len();
        assert_eq!(ran_again, failing.contains(&key.as_str()), "{key}");
        assert_eq!(runs.last().unwrap().status, RunStatus::Success, "{key}");
    }
    let (_, grid) = weft(&["partitions", "-m", m, "-p", "daily"]);
    assert!(grid.contains("31 succeeded, 0 failed"), "{grid}");
    // Nothing is left to backfill among failures now, and the CLI says so.
    let (code, out) = weft(&["backfill", "-m", m, "-p", "daily", "--failed-only"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no failed partition of `daily`"), "{out}");
}

#[test]
fn the_partitions_example_runs_a_day_backfills_a_week_and_its_daemon_ingests_the_dropped_file() {
    let store = tempfile::tempdir().unwrap();
    let db = store.path().join("weft.redb");
    let db = db.to_str().unwrap();
    let (code, out) = weft(&["run", "examples/partitions", "--db", db, "-p", "orders", "--partition", "2024-01-05"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("orders on 2024-01-05"), "{out}");
    // The key reaches a step run in a child process too (the solid fails if its partition
    // and its templated config disagree).
    let args = ["run", "examples/partitions", "--db", db, "-p", "orders", "--partition", "2024-01-06"];
    let (code, out) = weft(&[&args[..], &["--executor", "multiprocess"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("orders on 2024-01-06"), "{out}");
    let (code, out) =
        weft(&["backfill", "-m", "examples/partitions", "--db", db, "--from", "2024-01-01", "--to", "2024-01-07"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("7 partition(s)") && out.contains("SUCCESS"), "{out}");
    let (code, grid) = weft(&["partitions", "-m", "examples/partitions", "--db", db]);
    assert_eq!(code, 0, "{grid}");
    assert!(grid.contains("366 partitions: 7 succeeded, 0 failed, 0 running, 359 missing"), "{grid}");
    assert!(grid.lines().any(|l| l.trim_end() == format!("2024-01  {}{}", "■".repeat(7), "·".repeat(24))), "{grid}");
    // The daemon, once: the schedule is new (it starts from now), the file sensor finds
    // the example's drops/example.csv and ingests it (3 lines).
    let (code, out) = weft_tests::weft_with_env(
        &["daemon", "examples/partitions", "--db", db, "--once"],
        &[("WEFT_CLOCK", "2025-03-01T12:00:00Z")],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("sensor/drops  SUCCESS"), "{out}");
    let host = Host::open(std::path::Path::new(db)).unwrap();
    let ingest = host.runs().unwrap().into_iter().find(|r| r.pipeline == "ingest").expect("an ingest run");
    assert_eq!(ingest.status, RunStatus::Success);
    assert_eq!(host.output(ingest.id, "count_lines", "lines").unwrap(), Some(Value::Integer(3)));
}
