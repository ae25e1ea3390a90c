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
