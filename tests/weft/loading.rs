//! Files that are not weft solids: each gets a clear error naming the file and the
//! manifest key, before anything runs; never a panic.

use weft_host::{Error, Host, Manifest, RunConfig};
use weft_tests::{Project, guest};

/// A component exporting `guest` with only a `describe` that takes and returns nothing.
fn component_exporting(export: &str, imports: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            {imports}
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func $describe (canon lift (core func $i "f")))
            (instance $guest (export "describe" (func $describe)))
            (export "{export}" (instance $guest))
        )"#
    ))
    .expect("valid component text")
}

/// Plans a one-solid pipeline whose component is `bytes`, returning the error text.
async fn load_error(bytes: &[u8]) -> (String, Project) {
    let project = Project::new("[solids.odd]\nwasm = \"odd.wasm\"\n\n[pipelines.p]\nsolids = [\"odd\"]\n");
    project.write("odd.wasm", bytes);
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let error = host.plan(&manifest, "p", &RunConfig::default()).await.unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");
    assert!(error.is_bad_input());
    (error.to_string(), project)
}

#[tokio::test]
async fn each_kind_of_malformed_component_gets_its_own_message() {
    let hello = std::fs::read(guest("hello_world")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("random bytes", b"\x13\x37 definitely not wasm, just bytes".to_vec(), "not a WebAssembly file"),
        ("an empty file", Vec::new(), "not a WebAssembly file"),
        (
            "a core module",
            wat::parse_str("(module (func (export \"compute\")))").unwrap(),
            "a core WebAssembly module, not a component",
        ),
        ("a truncated component", hello[..hello.len() / 2].to_vec(), "invalid component"),
        (
            "a component of something else",
            wat::parse_str("(component)").unwrap(),
            "does not export `weft:solid/guest@0.1.0`, so it is not a weft solid (it exports nothing)",
        ),
        (
            "another contract version",
            component_exporting("weft:solid/guest@0.2.0", ""),
            "built against weft:solid@0.2.0, but this host supports weft:solid@0.1.0",
        ),
        (
            "the right name with the wrong shape",
            component_exporting("weft:solid/guest@0.1.0", ""),
            "does not match the weft:solid@0.1.0 contract",
        ),
        (
            "an import the host does not offer",
            component_exporting(
                "weft:solid/guest@0.1.0",
                r#"(import "acme:db/query@1.0.0" (instance (export "run" (func))))"#,
            ),
            "imports something this host does not offer",
        ),
    ];
    for (what, bytes, expected) in cases {
        let (message, project) = load_error(&bytes).await;
        assert!(message.contains(expected), "{what}: {message:?} lacks {expected:?}");
        let manifest = project.manifest().display().to_string();
        assert!(
            message.starts_with(&format!("{manifest}:2: `solids.odd.wasm`: ")),
            "{what}: names the manifest key: {message}"
        );
        assert!(message.contains("odd.wasm: "), "{what}: names the file: {message}");
    }
}

#[tokio::test]
async fn a_missing_component_without_a_recipe_is_reported_with_every_other_one() {
    let project = Project::new(
        "[solids.gone]\nwasm = \"gone.wasm\"\n[solids.also_gone]\nwasm = \"nope/also.wasm\"\n\n[pipelines.p]\nsolids = [\"gone\", \"also_gone\"]\n",
    );
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let Err(Error::Invalid(problems)) = host.plan(&manifest, "p", &RunConfig::default()).await else {
        panic!("expected problems")
    };
    assert_eq!(problems.0.len(), 2, "{problems}");
    assert!(
        problems.0.iter().all(|p| p.message.contains("no such file, and the manifest gives no `build` recipe")),
        "{problems}"
    );
    assert_eq!(problems.0[1].key.as_deref(), Some("solids.also_gone.wasm"));
}

#[tokio::test]
async fn a_failing_build_recipe_and_one_that_builds_nothing_are_reported() {
    let project = Project::new(
        r#"
[solids.broken]
wasm = "broken.wasm"
build = { command = ["sh", "-c", "echo compiler says no >&2; exit 3"] }
[solids.lazy]
wasm = "lazy.wasm"
build = { command = ["true"] }
[pipelines.p]
solids = ["broken", "lazy"]
"#,
    );
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let error = host.plan(&manifest, "p", &RunConfig::default()).await.unwrap_err().to_string();
    assert!(error.contains("`solids.broken.build`: building broken failed"), "{error}");
    assert!(error.contains("compiler says no"), "the build's own output is shown: {error}");
    assert!(error.contains("lazy.wasm: the build succeeded but did not produce this file"), "{error}");
}
