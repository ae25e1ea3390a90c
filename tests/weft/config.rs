//! Config: schemas derived from Rust types, run config from TOML, YAML and JSON, `--set`,
//! presets, and the `weft config` scaffold.

use weft_host::{Host, Manifest, RunConfig};
use weft_tests::{guest, root};

#[tokio::test]
async fn a_rust_config_type_becomes_the_solids_schema_with_descriptions_and_defaults() {
    let _ = guest("config_example_solid");
    let dir = tempfile::tempdir().unwrap();
    let host = Host::open(&dir.path().join("weft.redb")).unwrap();
    let manifest = Manifest::load(&root().join("examples/config")).unwrap();
    let steps = host.describe_pipeline(&manifest, "config_example_pipeline").await.unwrap();
    let schema = steps[0].1.config_schema.clone().expect("a schema");
    assert_eq!(schema["properties"]["iterations"]["type"], "integer");
    assert_eq!(schema["properties"]["iterations"]["description"], "How many times to log the word");
    assert_eq!(schema["properties"]["word"]["default"], "hello");
    assert_eq!(schema["required"], serde_json::json!(["iterations"]));
    assert_eq!(schema["additionalProperties"], false, "deny_unknown_fields carries over");
}

#[test]
fn run_config_reads_the_same_from_toml_yaml_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("run.toml", "[solids.a.config]\nn = 3\nwords = [\"x\", \"y\"]\n[tags]\nteam = \"data\"\n"),
        ("run.yaml", "solids:\n  a:\n    config:\n      n: 3\n      words: [x, y]\ntags:\n  team: data\n"),
        ("run.json", r#"{"solids": {"a": {"config": {"n": 3, "words": ["x", "y"]}}}, "tags": {"team": "data"}}"#),
    ];
    let loaded: Vec<RunConfig> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            RunConfig::load(&path).unwrap()
        })
        .collect();
    for config in &loaded {
        assert_eq!(config.solids["a"], serde_json::json!({"n": 3, "words": ["x", "y"]}));
        assert_eq!(config.tags["team"], "data");
    }
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "solids:\n  a: [unclosed\n").unwrap();
    let err = RunConfig::load(&bad).unwrap_err().to_string();
    assert!(err.contains("bad.yaml") && err.contains("invalid YAML"), "{err}");
}

#[test]
fn presets_files_and_set_layer_over_each_other() {
    let _ = guest("config_example_solid");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("config.redb");
    let db = db.to_str().unwrap();
    let words = |text: &str, word: &str| text.lines().filter(|l| l.ends_with(&format!("INFO {word}"))).count();

    let (code, text) = weft_tests::weft(&["run", "examples/config", "--db", db, "--preset", "twice"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(words(&text, "preset"), 2, "{text}");

    let (code, text) = weft_tests::weft(&[
        "run",
        "examples/config",
        "--db",
        db,
        "--preset",
        "twice",
        "--set",
        "solids.config_example_solid.config.word=override",
    ]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(words(&text, "override"), 2, "--set wins over the preset: {text}");

    let (code, text) = weft_tests::weft(&["run", "examples/config", "--db", db, "--preset", "thrice"]);
    assert_eq!(code, 2);
    assert!(text.contains("no preset `thrice` (`twice`)"), "{text}");

    let (code, text) = weft_tests::weft(&[
        "run",
        "examples/config",
        "--db",
        db,
        "--set",
        "solids.config_example_solid.config.iterations=three",
    ]);
    assert_eq!(code, 2);
    assert!(
        text.contains("`solids.config_example_solid.config.iterations`: \"three\" is not of type \"integer\""),
        "{text}"
    );
}

#[test]
fn the_config_scaffold_describes_every_field_and_runs_once_filled_in() {
    let _ = guest("config_example_solid");
    let (code, scaffold) = weft_tests::weft(&["config", "examples/config"]);
    assert_eq!(code, 0, "{scaffold}");
    assert!(scaffold.contains("[solids.config_example_solid.config]"), "{scaffold}");
    assert!(scaffold.contains("# How many times to log the word (integer"), "{scaffold}");
    assert!(scaffold.contains("required)\niterations = 0\n"), "a required field gets a placeholder: {scaffold}");
    assert!(scaffold.contains("# word = \"hello\""), "an optional field shows its default: {scaffold}");

    let dir = tempfile::tempdir().unwrap();
    let filled = dir.path().join("run.toml");
    std::fs::write(&filled, scaffold.replace("iterations = 0", "iterations = 4")).unwrap();
    let db = dir.path().join("s.redb");
    let (code, text) = weft_tests::weft(&[
        "run",
        "examples/config",
        "--db",
        db.to_str().unwrap(),
        "--config",
        filled.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(text.lines().filter(|l| l.ends_with("INFO hello")).count(), 4, "{text}");
}
