//! Data-driven cases: each directory under `tests/cases/` holds a `weft.toml` (and maybe
//! a `run.json`) that must fail to plan, and `expected.txt`, the exact error. Run with
//! `WEFT_BLESS=1` to rewrite the expected files after an intended change.

use std::path::Path;
use weft_host::{Host, Manifest, RunConfig};
use weft_tests::{guest, root};

/// Loads and plans the case's only pipeline, returning the error text with the
/// repository root made relative.
async fn case_error(dir: &Path, host: &Host) -> String {
    let error = async {
        let manifest = Manifest::load(&dir.join("weft.toml"))?;
        let run_json = dir.join("run.json");
        let config = if run_json.exists() { RunConfig::load(&run_json)? } else { RunConfig::default() };
        let pipeline = manifest.pipelines[0].name.clone();
        host.plan(&manifest, &pipeline, &config).await.map(|_| ())
    }
    .await
    .err()
    .unwrap_or_else(|| panic!("case {} planned without error", dir.display()));
    assert!(error.is_bad_input(), "{error:?}");
    error.to_string().replace(&format!("{}/", root().display()), "") + "\n"
}

#[tokio::test]
async fn every_bad_manifest_case_fails_with_its_expected_errors() {
    let _ = guest("conformance");
    let db = tempfile::tempdir().unwrap();
    let host = Host::open(&db.path().join("weft.redb")).unwrap();
    let bless = std::env::var_os("WEFT_BLESS").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(root().join("tests/cases")).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 10, "the cases are there");
    let mut mismatches = Vec::new();
    for dir in cases {
        let actual = case_error(&dir, &host).await;
        let expected_path = dir.join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} is missing; run with WEFT_BLESS=1 to write it", expected_path.display()));
        if actual != expected {
            mismatches.push(format!("{}:\n--- expected\n{expected}--- actual\n{actual}", dir.display()));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
