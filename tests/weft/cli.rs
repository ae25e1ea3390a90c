//! The `weft` binary as a user runs it: output, exit codes, and the history commands
//! reading the redb file a run left behind.

use std::process::{Command, Output};
use weft_tests::{Project, root, weft_bin};

fn weft(args: &[&str]) -> Output {
    Command::new(weft_bin()).args(args).current_dir(root()).env_remove("WEFT_DB").output().expect("weft runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn weft_run_prints_progress_and_hello_dagster_and_the_history_commands_read_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hello.redb");
    let db = db.to_str().unwrap();
    let _ = weft_tests::guest("hello_world");

    let run = weft(&["run", "examples/hello", "--db", db]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(out.contains("STEP_START"), "{out}");
    assert!(out.contains("result = \"Hello Dagster!\""), "{out}");
    assert!(out.contains("hello_world          SUCCESS"), "the summary lists each step: {out}");
    let run_id = out.split("(run ").nth(1).and_then(|rest| rest.get(..26)).expect("the run id is printed").to_owned();

    let runs = weft(&["runs", "--db", db]);
    assert_eq!(runs.status.code(), Some(0));
    let listing = text(&runs);
    assert!(
        listing.contains(&run_id) && listing.contains("serial_pipeline") && listing.contains("SUCCESS"),
        "{listing}"
    );

    let json = weft(&["runs", "--db", db, "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("--json prints JSON");
    assert_eq!(parsed[0]["id"], run_id.as_str());
    assert_eq!(parsed[0]["status"], "success");

    let show = weft(&["show", &run_id[..8], "--db", db]);
    let shown = text(&show);
    assert_eq!(show.status.code(), Some(0), "{shown}");
    for expected in ["RUN_STARTED", "STEP_OUTPUT", "greeting = \"Hello\"", "\"Hello Dagster!\"", "RUN_SUCCESS"] {
        assert!(shown.contains(expected), "show lacks {expected}: {shown}");
    }
    let show_json: serde_json::Value =
        serde_json::from_slice(&weft(&["show", &run_id, "--db", db, "--json"]).stdout).unwrap();
    assert_eq!(show_json["events"].as_array().unwrap().len(), 8);

    let logs = weft(&["logs", &run_id, "--db", db, "--step", "salutation"]);
    assert_eq!(logs.status.code(), Some(0), "{}", text(&logs));
    let missing_step = weft(&["logs", &run_id, "--db", db, "--step", "nope"]);
    assert_eq!(missing_step.status.code(), Some(2));
    assert!(text(&missing_step).contains("has no step `nope`"));
}

#[test]
fn a_failed_run_exits_1_and_bad_input_exits_2() {
    let project = Project::new(
        r#"
[solids.faulty]
wasm = "{guests}/faulty.wasm"
[pipelines.p.solids.bad]
solid = "faulty"
config = { mode = "fail" }
"#,
    );
    let manifest = project.manifest();
    let failed = weft(&["run", manifest.to_str().unwrap()]);
    let out = text(&failed);
    assert_eq!(failed.status.code(), Some(1), "{out}");
    assert!(
        out.contains("solid failure") && out.contains("the data looked wrong") && out.contains("rows_checked: 42"),
        "{out}"
    );
    assert!(project.db().exists(), "the default store is .weft/weft.redb beside the manifest");

    let broken = project.write("broken.toml", b"[solids.x]\nwasm = 1\n");
    let bad = weft(&["run", broken.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("broken.toml:2: `solids.x.wasm`: expected a string, found integer"), "{}", text(&bad));

    let unknown = weft(&["show", "01ZZZZ", "--db", project.db().to_str().unwrap()]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown).contains("no run matches `01ZZZZ`"));

    let usage = weft(&["run", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn the_embedding_example_runs_the_serial_pipeline() {
    let _ = weft_tests::guest("hello_world");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output =
        Command::new(cargo).args(["run", "--quiet", "-p", "weft-embed-example"]).current_dir(root()).output().unwrap();
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("salutation.result = Some(Text(\"Hello Dagster!\"))"), "{out}");
    assert!(out.contains("8 events are in"), "{out}");
}

#[test]
fn ctrl_c_cancels_the_run_records_it_and_exits_130() {
    use std::io::{BufRead, BufReader};
    let project = Project::new(
        r#"
[solids.probe]
wasm = "{guests}/probe.wasm"
[pipelines.p.solids.slow]
solid = "probe"
config = { sleep_ms = 30000 }
[pipelines.p.solids.after]
solid = "probe"
inputs = { deps = ["slow.result"] }
"#,
    );
    let mut child = Command::new(weft_bin())
        .args(["run", project.manifest().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.contains("STEP_START") {
            break;
        }
        line.clear();
    }
    assert!(seen.contains("STEP_START"), "{seen}");
    let started = std::time::Instant::now();
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(130), "{seen}{rest}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "the 30 s step was interrupted");
    assert!(rest.contains("RUN_CANCELED"), "{rest}");

    let runs = weft(&["runs", "--json", "--db", project.db().to_str().unwrap()]);
    let parsed: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(parsed[0]["status"], "canceled", "the store says so after the process is gone");
}

#[test]
fn a_partial_run_from_the_cli_reuses_an_earlier_runs_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("partial.redb");
    let db = db.to_str().unwrap();
    let _ = weft_tests::guest("hello_world");
    let first = text(&weft(&["run", "examples/hello", "--db", db]));
    let run_id = first.split("(run ").nth(1).and_then(|rest| rest.get(..26)).unwrap().to_owned();

    let without = weft(&["run", "examples/hello", "--db", db, "--select", "salutation"]);
    assert_eq!(without.status.code(), Some(2));
    assert!(text(&without).contains("reads `hello_world.greeting`, which is not selected"), "{}", text(&without));

    let partial = weft(&["run", "examples/hello", "--db", db, "--select", "salutation", "--from", &run_id[..10]]);
    let out = text(&partial);
    assert_eq!(partial.status.code(), Some(0), "{out}");
    assert!(out.contains("result = \"Hello Dagster!\""), "{out}");
    assert!(!out.contains("hello_world      STEP_START"), "hello_world did not run: {out}");
}
