//! Solids in every language weft builds: the six-language example pipeline, `weft new`
//! projects in each language, and `weft test` itself.

use weft_host::{Host, RunStatus, Value};
use weft_tests::{Project, guest, toolchain, weft};

#[test]
fn the_polyglot_pipeline_passes_its_tests_in_six_languages() {
    for language in ["python", "javascript", "c", "zig", "go"] {
        toolchain(language);
    }
    let _ = guest("aggregate");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.redb");
    let (code, text) = weft(&["test", "examples/polyglot", "--db", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("2 passed, 0 failed"), "{text}");

    // What `weft test` compared, read back from the store on our own.
    let host = Host::open(&db).unwrap();
    let runs = host.runs().unwrap();
    let run = runs.iter().find(|r| r.tags.get("weft/test").map(String::as_str) == Some("publishes_the_known_report"));
    let run = run.expect("the test's run is recorded with its name");
    assert_eq!(run.status, RunStatus::Success);
    let published = match host.output(run.id, "publish", "published").unwrap() {
        Some(Value::Json(text)) => serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        other => panic!("publish.published is {other:?}"),
    };
    assert_eq!(
        published,
        serde_json::json!({
            "report": "Sales report: 5 rows, 3 regions\n  east: 55\n  north: 150\n  south: 100",
            "crc32": 3288431204u32,
            "fnv1a": "10ff81633c8d18db",
        })
    );
    let csv = std::fs::read(weft_tests::root().join("examples/polyglot/data/sales.csv")).unwrap();
    assert_eq!(
        host.output(run.id, "parse_csv", "raw").unwrap(),
        Some(Value::Bytes(csv.into())),
        "bytes crossed unchanged"
    );
    let failed =
        runs.iter().find(|r| r.tags.get("weft/test").map(String::as_str) == Some("fails_on_a_file_it_cannot_read"));
    assert_eq!(failed.expect("the failing test's run").status, RunStatus::Failure);
}

#[test]
fn weft_test_names_each_output_that_differs_and_exits_1() {
    let project = Project::new(
        r#"
[solids.hello_world]
wasm = "{guests}/hello_world.wasm"
[solids.salutation]
wasm = "{guests}/salutation.wasm"
[pipelines.serial]
solids = ["hello_world", "salutation"]

[tests.right]
expect = { "salutation.result" = "Hello Dagster!" }
[tests.wrong]
expect = { "salutation.result" = "Hello Zeus!", "hello_world.greeting" = 5 }
[tests.should_fail]
status = "failure"
"#,
    );
    let _ = guest("salutation");
    let manifest = project.manifest();
    let (code, text) = weft(&["test", manifest.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("test right ... ok"), "{text}");
    assert!(text.contains("test wrong ... FAILED"), "{text}");
    assert!(text.contains(r#"salutation.result is "Hello Dagster!", expected "Hello Zeus!""#), "{text}");
    assert!(text.contains(r#"hello_world.greeting is "Hello", expected 5"#), "{text}");
    assert!(text.contains("the run should fail, but ended SUCCESS"), "{text}");
    assert!(text.contains("1 passed, 2 failed"), "{text}");
    assert!(text.contains("weft show RUN --db"), "the kept store is named: {text}");

    let (code, text) = weft(&["test", manifest.to_str().unwrap(), "-t", "right"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
}

#[test]
fn weft_test_refuses_an_expectation_of_a_step_or_output_the_pipeline_lacks() {
    let project = Project::new(
        r#"
[solids.hello_world]
wasm = "{guests}/hello_world.wasm"
[pipelines.serial]
solids = ["hello_world"]
[tests.typo]
expect = { "hello_world.greting" = "Hello" }
"#,
    );
    let _ = guest("hello_world");
    let (code, text) = weft(&["test", project.manifest().to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("`tests.typo.expect`: step `hello_world` has no output `greting`"), "{text}");
}

/// `weft new DIR -l LANGUAGE`, then `weft test` and `weft run` in it.
fn a_new_project_builds_runs_and_passes_its_test(language: &str) {
    if language != "rust" {
        toolchain(language);
    }
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join(format!("my-{language}-project"));
    let dir_text = dir.to_str().unwrap();
    let (code, text) = weft(&["new", dir_text, "-l", language]);
    assert_eq!(code, 0, "{text}");
    let manifest = dir.join("weft.toml");
    let (code, text) = weft(&["test", manifest.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("test greets_by_name ... ok") && text.contains("1 passed, 0 failed"), "{text}");
    let (code, text) = weft(&["run", manifest.to_str().unwrap(), "--set", "solids.hello.config.name=you"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(r#"greeting = "Hello, you!""#), "{text}");
    assert!(text.contains(&format!("pipeline my_{language}_project")), "{text}");
}

#[test]
fn a_new_rust_project_builds_runs_and_passes_its_test() {
    a_new_project_builds_runs_and_passes_its_test("rust");
}

#[test]
fn a_new_python_project_builds_runs_and_passes_its_test() {
    a_new_project_builds_runs_and_passes_its_test("python");
}

#[test]
fn a_new_javascript_project_builds_runs_and_passes_its_test() {
    a_new_project_builds_runs_and_passes_its_test("javascript");
}

#[test]
fn a_new_c_project_builds_runs_and_passes_its_test() {
    a_new_project_builds_runs_and_passes_its_test("c");
}

#[test]
fn a_new_zig_project_builds_runs_and_passes_its_test() {
    a_new_project_builds_runs_and_passes_its_test("zig");
}

#[test]
fn a_new_go_project_builds_runs_and_passes_its_test() {
    a_new_project_builds_runs_and_passes_its_test("go");
}

#[test]
fn weft_new_adds_a_solid_to_a_project_and_refuses_clashes() {
    toolchain("c");
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("p");
    let manifest = dir.join("weft.toml");
    let (manifest_text, dir_text) = (manifest.to_str().unwrap(), dir.to_str().unwrap());
    assert_eq!(weft(&["new", dir_text, "-l", "c"]).0, 0);

    let (code, text) = weft(&["new", "--solid", "shout", "-l", "c", "-m", manifest_text]);
    assert_eq!(code, 0, "{text}");
    assert!(dir.join("solids/shout.c").is_file());
    let parsed = weft_host::Manifest::load(&manifest).unwrap();
    assert!(parsed.solid("shout").is_some(), "the new solid is declared");
    let (code, text) = weft(&["build", manifest_text]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("building shout"), "{text}");

    let (code, text) = weft(&["new", "--solid", "shout", "-l", "go", "-m", manifest_text]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("already declares a solid `shout`"), "{text}");
    let (code, text) = weft(&["new", dir_text, "-l", "c"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("exists and is not empty"), "{text}");
    let (code, text) = weft(&["new", "--solid", "Bad-Name", "-l", "c", "-m", manifest_text]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("`Bad-Name` is not a solid name"), "{text}");
    let (code, text) = weft(&["new", "--solid", "x", "-l", "cobol", "-m", manifest_text]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("no template for `cobol`; weft has templates for rust, python, javascript, c, zig, go"),
        "{text}"
    );
}

#[test]
fn a_go_solid_grows_its_heap_past_its_first_memory() {
    let _ = weft_tests::language_guest("go", "conformance");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.redb");
    let (code, text) = weft(&["test", "tests/go", "--db", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
}
