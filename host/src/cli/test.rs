//! `weft test`: runs the manifest's tests and prints one line each, then a count.

use super::{Place, render};
use std::process::ExitCode;
use weft_host::{Error, Host, Manifest};

/// Runs the tests of `manifest` whose names contain one of `filters` (all of them when
/// there is none). Runs are recorded in `--db` when given, else in a scratch store that
/// is kept only when a test fails, so that its runs can be inspected.
pub async fn test(place: &Place, manifest: &std::path::Path, filters: &[String]) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::load(manifest).map_err(Error::from)?;
    let tests: Vec<_> =
        manifest.tests.iter().filter(|t| filters.is_empty() || filters.iter().any(|f| t.name.contains(f))).collect();
    if tests.is_empty() {
        let message = if manifest.tests.is_empty() {
            format!("{} declares no tests: add a `[tests.NAME]` table (docs/manifest.md)", manifest.path.display())
        } else {
            format!("no test of {} matches {}", manifest.path.display(), filters.join(", "))
        };
        return Err(Error::NotFound(message).into());
    }
    let scratch = std::env::temp_dir().join(format!("weft-test-{}", weft_host::RunId::generate()));
    let db = place.db.clone().unwrap_or_else(|| scratch.join("weft.redb"));
    let host = Host::open(&db)?;
    let note = |note: &str| eprintln!("{}", render::note(note));
    println!("running {} test(s) from {}", tests.len(), manifest.path.display());
    let (mut passed, mut failed) = (0, 0);
    for test in tests {
        let outcome = weft_host::testing::run_test(&host, &manifest, test, &note).await?;
        let took = render::duration(outcome.elapsed.as_micros() as u64);
        if outcome.passed() {
            passed += 1;
            println!("test {} ... ok ({took})", outcome.name);
        } else {
            failed += 1;
            println!("test {} ... FAILED ({took}, run {})", outcome.name, outcome.run);
            for mismatch in &outcome.mismatches {
                println!("    {mismatch}");
            }
        }
    }
    drop(host);
    if failed > 0 {
        println!("the failed runs are in {}: weft show RUN --db {}", db.display(), db.display());
    } else if place.db.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
