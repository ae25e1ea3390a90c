//! Schedules and sensors, run by `weft daemon`: schedules on a clock the test moves by
//! hand (`WEFT_CLOCK`), missed ticks after a downtime, and sensors — a component built
//! from source, and weft's file sensor — that launch one run per new file, never twice,
//! across daemon restarts and kills.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use weft_host::{Db, RunRecord, RunStatus};
use weft_tests::{Project, guest, weft_bin, weft_with_env};

const NIGHTLY: &str = r#"
[solids.dated]
wasm = "{guests}/dated.wasm"

[partitions.days]
cadence = "daily"
start = "2024-01-01"
timezone = "Europe/Paris"

[pipelines.daily]
partitions = "days"
[pipelines.daily.solids.report]
solid = "dated"
config = { day = "{partition_key}" }

[schedules.nightly]
pipeline = "daily"
cron = "0 2 * * *"
catch_up = 1
"#;

/// `weft daemon --once` at `now` (an RFC 3339 instant, through a clock file).
fn daemon_once(project: &Project, now: &str) -> (i32, String) {
    let clock = project.write("clock", now.as_bytes());
    let manifest = project.manifest();
    let args = ["daemon", manifest.to_str().unwrap(), "--once"];
    weft_with_env(&args, &[("WEFT_CLOCK", clock.to_str().unwrap())])
}

fn tick_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.contains("schedule/") || l.contains("sensor/")).collect()
}

fn runs(db: &Path) -> Vec<RunRecord> {
    Db::open(db).unwrap().runs().unwrap()
}

#[test]
fn a_schedule_runs_the_previous_day_at_two_in_its_zone_once_per_tick_and_skips_missed_ticks() {
    let project = Project::new(NIGHTLY);
    // 01:30 in Paris: the daemon first sees the schedule and runs nothing of the past.
    let (code, out) = daemon_once(&project, "2024-01-10T00:30:00Z");
    assert_eq!(code, 0, "{out}");
    assert!(tick_lines(&out).is_empty(), "{out}");
    assert!(runs(&project.db()).is_empty());

    // 02:00:30 in Paris (01:00:30 UTC): the tick is due; it runs yesterday's partition.
    let (code, out) = daemon_once(&project, "2024-01-10T01:00:30Z");
    assert_eq!(code, 0, "{out}");
    let ticks = tick_lines(&out);
    assert_eq!(ticks.len(), 1, "{out}");
    assert!(ticks[0].starts_with("2024-01-10T01:00:00Z  schedule/nightly  SUCCESS  partition 2024-01-09"), "{out}");
    let all = runs(&project.db());
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, RunStatus::Success);
    assert_eq!(all[0].tags["weft/partition"], "2024-01-09");
    assert_eq!(all[0].tags["weft/schedule"], "nightly");
    assert_eq!(all[0].tags["weft/tick"], "2024-01-10T02:00:00+01:00");

    // The same time again, and a minute later: that tick already ran.
    for now in ["2024-01-10T01:00:30Z", "2024-01-10T01:01:30Z"] {
        let (code, out) = daemon_once(&project, now);
        assert_eq!(code, 0, "{out}");
        assert!(tick_lines(&out).is_empty(), "{out}");
    }
    assert_eq!(runs(&project.db()).len(), 1);

    // Four days later, just after 02:00: the ticks of the 11th and 12th were missed
    // (skipped, and said so), the 13th's is caught up (catch_up = 1), the 14th's is on time.
    let (code, out) = daemon_once(&project, "2024-01-14T01:00:10Z");
    assert_eq!(code, 0, "{out}");
    let ticks = tick_lines(&out);
    assert_eq!(ticks.len(), 3, "{out}");
    assert!(ticks[0].contains("SKIPPED") && ticks[0].contains("2 tick(s) from 2024-01-11T02:00:00+01:00"), "{out}");
    assert!(ticks[1].contains("SUCCESS  partition 2024-01-12"), "{out}");
    assert!(ticks[2].contains("SUCCESS  partition 2024-01-13"), "{out}");

    let manifest = project.manifest();
    let m = manifest.to_str().unwrap();
    let clock = project.write("clock", b"2024-01-14T01:00:10Z");
    let env = [("WEFT_CLOCK", clock.to_str().unwrap())];
    let (code, grid) = weft_with_env(&["partitions", "-m", m], &env);
    assert_eq!(code, 0, "{grid}");
    // Days 9, 12 and 13 ran; 10 and 11 (the skipped ticks' partitions) are missing.
    let row = grid.lines().find(|l| l.starts_with("2024-01 ")).unwrap();
    assert_eq!(row.trim_end(), "2024-01  ········■··■■", "{grid}");
    let (code, list) = weft_with_env(&["schedules", "-m", m], &env);
    assert_eq!(code, 0, "{list}");
    assert!(list.contains("next tick 2024-01-15T02:00:00+01:00[Europe/Paris]"), "{list}");
    assert_eq!(list.matches("SUCCESS").count(), 3, "{list}");
    assert_eq!(list.matches("SKIPPED").count(), 1, "{list}");

    // The skipped partitions are what `--missing-only` fills.
    let (code, out) = weft_with_env(&["backfill", "-m", m, "--to", "2024-01-13", "--missing-only"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("10 partition(s)"), "days 1 to 8, 10 and 11: {out}");
}

#[test]
fn a_schedule_whose_runs_cannot_be_planned_records_failed_ticks() {
    let project = Project::new(&NIGHTLY.replace("catch_up = 1", "config = { solids.report.config.colour = \"red\" }"));
    daemon_once(&project, "2024-01-10T00:30:00Z");
    let (code, out) = daemon_once(&project, "2024-01-10T01:00:05Z");
    assert_eq!(code, 1, "a failed tick fails `--once`: {out}");
    let ticks = tick_lines(&out);
    assert_eq!(ticks.len(), 1, "{out}");
    assert!(ticks[0].contains("FAILURE") && ticks[0].contains("colour"), "{out}");
    assert!(runs(&project.db()).is_empty());
}

const SENSORS: &str = r#"
[solids.dated]
wasm = "{guests}/dated.wasm"

[pipelines.ingest.solids.ingest]
solid = "dated"

[sensors.inbox]
pipeline = "ingest"
wasm = "{guests}/file_sensor.wasm"
files = [{ host = "inbox", guest = "/inbox" }]
interval = "100ms"

[sensors.incoming]
pipeline = "ingest"
directory = "incoming"
pattern = "*.csv"
interval = "100ms"
config = { solids.ingest.config.file = "{file}" }
"#;

fn start_daemon(project: &Project) -> Child {
    Command::new(weft_bin())
        .args(["daemon", project.manifest().to_str().unwrap(), "--poll", "50ms"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("weft daemon starts")
}

/// The file each successful ingest run was for, by the sensor that launched it.
fn ingested(db: &Path, sensor: &str) -> Vec<String> {
    let mut files: Vec<String> = runs(db)
        .into_iter()
        .filter(|r| r.tags.get("weft/sensor").map(String::as_str) == Some(sensor))
        .map(|r| r.tags.get("file").or(r.tags.get("weft/file")).cloned().unwrap_or_default())
        .collect();
    files.sort();
    files
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn sensors_launch_one_run_per_new_file_never_twice_across_restarts_and_kills() {
    let _ = guest("file_sensor");
    let project = Project::new(SENSORS);
    let dir = project.dir.path();
    for sub in ["inbox", "incoming"] {
        std::fs::create_dir(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("inbox/a.csv"), "1").unwrap();
    std::fs::write(dir.join("inbox/b.csv"), "2").unwrap();
    std::fs::write(dir.join("inbox/notes.txt"), "not data").unwrap();
    std::fs::write(dir.join("incoming/x.csv"), "3").unwrap();
    let db = project.db();

    let mut daemon = start_daemon(&project);
    wait_for("a.csv and b.csv", || db.exists() && ingested(&db, "inbox") == ["a.csv", "b.csv"]);
    wait_for("x.csv", || ingested(&db, "incoming") == ["x.csv"]);
    std::fs::write(dir.join("inbox/c.csv"), "4").unwrap();
    wait_for("c.csv", || ingested(&db, "inbox").len() == 3);
    // Killed mid-stride: no chance to record anything more.
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    std::fs::write(dir.join("inbox/d.csv"), "5").unwrap();
    std::fs::write(dir.join("incoming/y.csv"), "6").unwrap();
    let mut daemon = start_daemon(&project);
    wait_for("d.csv and y.csv", || ingested(&db, "inbox").len() == 4 && ingested(&db, "incoming").len() == 2);
    // Several more evaluations with nothing new.
    let ticks_now = Db::open(&db).unwrap().ticks("sensor/inbox", 10_000).unwrap().len();
    wait_for("more ticks", || Db::open(&db).unwrap().ticks("sensor/inbox", 10_000).unwrap().len() >= ticks_now + 5);
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    assert_eq!(ingested(&db, "inbox"), ["a.csv", "b.csv", "c.csv", "d.csv"]);
    assert_eq!(ingested(&db, "incoming"), ["x.csv", "y.csv"]);
    // The sensors' run config reached the solid: each run ingested its own file.
    let host = weft_host::Host::open(&db).unwrap();
    for run in host.runs().unwrap() {
        let file = run.tags.get("file").or(run.tags.get("weft/file")).unwrap();
        if run.status == RunStatus::Success {
            let report = host.output(run.id, "ingest", "report").unwrap();
            assert_eq!(report, Some(weft_host::Value::Text(format!("partition= day= file={file}"))), "{run:?}");
        }
        assert_eq!(run.tags["weft/run_key"], *file);
    }
    // The component's cursor is what it last returned; a quiet tick says why it skipped.
    let (code, out) = weft_tests::weft(&["sensors", "-m", project.manifest().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(r#"cursor: ["a.csv","b.csv","c.csv","d.csv"]"#), "{out}");
    assert!(out.contains("SKIPPED  no new files in /inbox"), "{out}");
}

#[test]
fn a_sensor_that_breaks_its_limits_or_reaches_outside_its_grant_fails_its_tick() {
    let project = Project::new(&SENSORS.replace("files = [{ host = \"inbox\", guest = \"/inbox\" }]\n", ""));
    let clock = "2024-01-10T00:00:00Z";
    std::fs::create_dir(project.dir.path().join("incoming")).unwrap();
    // Without its grant the sensor cannot see /inbox: the tick fails and says why.
    let (code, out) = daemon_once(&project, clock);
    assert_eq!(code, 1, "a failed tick fails `--once`: {out}");
    let line = tick_lines(&out).into_iter().find(|l| l.contains("sensor/inbox")).expect("a tick of inbox").to_owned();
    assert!(line.contains("FAILURE") && line.contains("cannot list /inbox"), "{out}");
    assert!(runs(&project.db()).is_empty());
}

#[test]
fn the_ui_runs_the_daemon_when_asked() {
    let _ = guest("file_sensor");
    let project = Project::new(SENSORS);
    let dir = project.dir.path();
    for sub in ["inbox", "incoming"] {
        std::fs::create_dir(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("incoming/z.csv"), "7").unwrap();
    let mut ui = Command::new(weft_bin())
        .args(["ui", project.manifest().to_str().unwrap(), "--port", "0", "--daemon"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("weft ui starts");
    let db = project.db();
    wait_for("z.csv", || db.exists() && ingested(&db, "incoming") == ["z.csv"]);
    ui.kill().unwrap();
    ui.wait().unwrap();
}

#[test]
fn a_schedule_past_the_end_of_its_set_runs_the_last_partition_once() {
    let project = Project::new(
        &NIGHTLY.replace("timezone = \"Europe/Paris\"", "timezone = \"Europe/Paris\"\nend = \"2024-01-11\""),
    );
    daemon_once(&project, "2024-01-10T00:30:00Z");
    let mut lines = Vec::new();
    for day in 10..=13 {
        let (code, out) = daemon_once(&project, &format!("2024-01-{day}T01:00:20Z"));
        assert_eq!(code, 0, "{out}");
        lines.extend(tick_lines(&out).into_iter().map(str::to_owned));
    }
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].contains("SUCCESS  partition 2024-01-09"), "{lines:?}");
    assert!(lines[1].contains("SUCCESS  partition 2024-01-10"), "{lines:?}");
    for line in &lines[2..] {
        assert!(line.contains("SKIPPED") && line.contains("partition 2024-01-10 already ran"), "{lines:?}");
    }
    assert_eq!(runs(&project.db()).len(), 2);
}

#[test]
fn a_schedule_or_sensor_naming_a_preset_or_mode_that_does_not_exist_is_refused_when_read() {
    let text = NIGHTLY.replace("catch_up = 1", "catch_up = 1\npreset = \"nightyl\"\nmode = \"prod\"");
    let project = Project::new(&text);
    let error = weft_host::Manifest::load(&project.manifest()).unwrap_err().to_string();
    assert!(error.contains("schedules.nightly.preset") && error.contains("no preset `nightyl`"), "{error}");
    assert!(error.contains("schedules.nightly.mode") && error.contains("no mode `prod`"), "{error}");
}
