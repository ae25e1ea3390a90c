//! What partitions, backfills, schedules and sensors cost, in process:
//!
//! 1. a backfill of the 366 days of 2024 of a one-step pipeline, 4 runs at once: per
//!    partition, against the same 366 runs launched one by one with `Host::run`;
//! 2. `partition_status` (the grid `weft partitions` prints) over those 366 days, and over
//!    ten years of hourly partitions (87,638 keys) with no run;
//! 3. one evaluation of a sensor component (the test file sensor, a fresh sandbox over a
//!    directory of 100 files), and of weft's built-in file sensor over the same directory;
//! 4. a schedule's catch-up after a year of downtime of a minutely cron (525,600 missed
//!    ticks, all but one skipped and recorded as one tick).
//!
//! Prints a Markdown table. Run: `cargo bench -p weft-benches --bench automation` (unset
//! RUST_BACKTRACE).

use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_host::backfill::{self, BackfillRequest, KeySelection};
use weft_host::capability::Preopen;
use weft_host::daemon::{Daemon, ManualClock};
use weft_host::sensor::LoadedSensor;
use weft_host::{CancelToken, Host, Manifest, RunConfig, RunStatus, SolidEngine, StepLimits};
use weft_tests::{Project, guest};

const MANIFEST: &str = r#"
[solids.dated]
wasm = "{guests}/dated.wasm"
[partitions.days]
cadence = "daily"
start = "2024-01-01"
end = "2025-01-01"
[partitions.hours]
cadence = "hourly"
start = "2014-01-01"
end = "2024-01-01"
timezone = "Europe/Paris"
[pipelines.daily]
partitions = "days"
[pipelines.daily.solids.report]
solid = "dated"
config = { day = "{partition_key}" }
[pipelines.hourly]
partitions = "hours"
[pipelines.hourly.solids.report]
solid = "dated"
[schedules.minutely]
pipeline = "hourly"
cron = "* * * * *"
"#;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn show(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.0} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let _ = guest("file_sensor");
    let project = Project::new(MANIFEST);
    let manifest = Manifest::load(&project.manifest()).expect("the manifest");
    let host = Host::open(&project.db()).expect("a store");
    let now = jiff::Timestamp::now();
    let mut rows = Vec::new();

    // 1. Backfill against one-by-one runs.
    let request = BackfillRequest {
        pipeline: "daily".into(),
        keys: KeySelection::Range { from: None, to: None },
        missing_only: false,
        failed_only: false,
        run_config: RunConfig::default(),
        max_concurrent: 4,
    };
    let record = backfill::create_backfill(&host, &manifest, &request, now).await.expect("a backfill");
    let keys = record.keys.len();
    let started = Instant::now();
    let done = backfill::run_backfill(&host, &manifest, record, &|_| {}, CancelToken::new()).await.expect("it runs");
    let backfill_time = started.elapsed();
    assert_eq!(done.status, weft_host::db::BackfillStatus::Success);
    rows.push((
        format!("backfill of {keys} daily partitions, 4 at a time"),
        backfill_time / keys as u32,
        "per partition",
    ));
    let other = Host::open(&project.dir.path().join("one-by-one.redb")).expect("a store");
    let started = Instant::now();
    for key in (0..keys).map(|d| (jiff::civil::date(2024, 1, 1) + jiff::Span::new().days(d as i64)).to_string()) {
        let config = RunConfig { partition: Some(key), ..RunConfig::default() };
        let run = other.run(other.plan(&manifest, "daily", &config).await.expect("a plan")).await.expect("a run");
        assert_eq!(run.status, RunStatus::Success);
    }
    rows.push(("the same runs one by one (plan + run)".into(), started.elapsed() / keys as u32, "per partition"));

    // 2. Partition status.
    let samples: Vec<Duration> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let (_, status) = backfill::partition_status(&host, &manifest, "daily", now).expect("a status");
            assert_eq!(status.len(), keys);
            started.elapsed()
        })
        .collect();
    rows.push((format!("status of {keys} daily partitions with a run each"), median(samples), "median of 20"));
    let samples: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let (_, status) = backfill::partition_status(&host, &manifest, "hourly", now).expect("a status");
            assert_eq!(status.len(), 87_638);
            started.elapsed()
        })
        .collect();
    rows.push(("status of 87,638 hourly partitions (10 years, Paris)".into(), median(samples), "median of 5"));

    // 3. Sensor evaluations over 100 files.
    let inbox = tempfile::tempdir().expect("a directory");
    for i in 0..100 {
        std::fs::write(inbox.path().join(format!("f{i:03}.csv")), "x").expect("a file");
    }
    let engine = SolidEngine::new().expect("an engine");
    let sensor = LoadedSensor::load(&engine, &guest("file_sensor")).expect("the sensor loads");
    let grant = [Preopen { host: inbox.path().to_path_buf(), guest: "/inbox".into(), writable: false }];
    let mut samples = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let (evaluation, _) =
            sensor.evaluate(&engine, &grant, StepLimits::default(), None, 0).await.expect("evaluates");
        samples.push(started.elapsed());
        assert_eq!(evaluation.runs.len(), 100);
    }
    rows.push(("sensor component: one evaluation, 100 new files".into(), median(samples), "median of 200"));
    let samples: Vec<Duration> = (0..200)
        .map(|_| {
            let started = Instant::now();
            assert_eq!(weft_host::sensor::evaluate_files(inbox.path(), Some("*.csv")).expect("lists").len(), 100);
            started.elapsed()
        })
        .collect();
    rows.push(("built-in file sensor: one listing of 100 files".into(), median(samples), "median of 200"));

    // 4. A year of missed minutely ticks.
    let clock = Arc::new(ManualClock::at("2024-01-01T00:00:00Z".parse().expect("an instant")));
    let mut daemon = Daemon::new(host.clone(), manifest.clone(), clock.clone());
    daemon.evaluate().await.expect("first sight");
    clock.set("2025-01-01T00:00:30Z".parse().expect("an instant"));
    let started = Instant::now();
    let ticks = daemon.evaluate().await.expect("catch-up");
    let catch_up = started.elapsed();
    assert_eq!(ticks.len(), 2, "one skipped tick for the year, one on time: {ticks:?}");
    rows.push(("schedule catch-up after a year of minutely ticks (525,600)".into(), catch_up, "once"));
    daemon.wait().await;

    println!("| what | time | |\n|---|---|---|");
    for (what, time, how) in rows {
        println!("| {what} | {} | {how} |", show(time));
    }
}
