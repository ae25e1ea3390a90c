//! Building solids from source: a component whose file is missing, or older than any of
//! its recipe's sources, is rebuilt with the recipe's command before the plan loads it.

use crate::error::{Problem, Problems};
use crate::manifest::{BuildRecipe, Manifest, SolidDecl};
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

/// Builds every solid in `solids` that is missing or stale. Solids sharing a recipe are
/// built by one run of its command. `note` hears what is being built.
///
/// # Errors
/// [`Problems`] naming each solid that has no file and no recipe, and each recipe that
/// failed (with the end of its output) or did not produce the file it should have.
pub fn build_stale(manifest: &Manifest, solids: &[&SolidDecl], note: &(dyn Fn(&str) + Sync)) -> Result<(), Problems> {
    let mut problems = Vec::new();
    // Recipes to run, each with the solids it will refresh.
    let mut pending: Vec<(&BuildRecipe, Vec<&SolidDecl>)> = Vec::new();
    for solid in solids {
        if let Some(source) = &solid.source {
            if let Err(message) = crate::language::build_if_stale(&solid.name, source, &solid.wasm, note) {
                problems.push(Problem::keyed(&manifest.path, Some(solid.at.line), &solid.at.key, message));
            }
            continue;
        }
        let recipe = solid.build.as_ref().or(manifest.build.as_ref());
        let Some(recipe) = recipe else {
            if !solid.wasm.exists() {
                problems.push(Problem::keyed(
                    &manifest.path,
                    Some(solid.at.line),
                    &solid.at.key,
                    format!("{}: no such file, and the manifest gives no `build` recipe for it", solid.wasm.display()),
                ));
            }
            continue;
        };
        if is_stale(&solid.wasm, &recipe.sources) {
            match pending.iter_mut().find(|(r, _)| r.command == recipe.command && r.dir == recipe.dir) {
                Some((_, group)) => group.push(solid),
                None => pending.push((recipe, vec![solid])),
            }
        }
    }
    for (recipe, group) in pending {
        let names: Vec<&str> = group.iter().map(|s| s.name.as_str()).collect();
        note(&format!("building {} ({})", names.join(", "), recipe.command.join(" ")));
        if let Err(message) = run_recipe(recipe) {
            problems.push(Problem::keyed(
                &manifest.path,
                Some(recipe.at.line),
                &recipe.at.key,
                format!("building {} failed: {message}", names.join(", ")),
            ));
            continue;
        }
        for solid in group {
            // A build tool that finds nothing to do (cargo after a `touch`) leaves the file
            // older than its sources; mark it fresh so the next run does not rebuild.
            let refreshed =
                std::fs::File::options().write(true).open(&solid.wasm).and_then(|f| f.set_modified(SystemTime::now()));
            if refreshed.is_err() {
                problems.push(Problem::keyed(
                    &manifest.path,
                    Some(solid.at.line),
                    &solid.at.key,
                    format!("{}: the build succeeded but did not produce this file", solid.wasm.display()),
                ));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(Problems(problems)) }
}

fn run_recipe(recipe: &BuildRecipe) -> Result<(), String> {
    let (program, args) = recipe.command.split_first().expect("the manifest refuses empty commands");
    let output = Command::new(program)
        .args(args)
        .current_dir(&recipe.dir)
        .output()
        .map_err(|e| format!("cannot run `{program}` in {}: {e}", recipe.dir.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
    let mut message = format!("`{}` exited with {}:\n{}", recipe.command.join(" "), output.status, tail.join("\n"));
    if stderr.contains("target may not be installed") || stderr.contains("can't find crate for `core`") {
        message.push_str("\nhint: the wasm32-wasip2 target is missing; run `rustup target add wasm32-wasip2`");
    }
    Err(message)
}

/// Whether `wasm` is missing or older than the newest file under `sources`.
pub(crate) fn is_stale(wasm: &Path, sources: &[std::path::PathBuf]) -> bool {
    let Ok(built) = wasm.metadata().and_then(|m| m.modified()) else {
        return true;
    };
    sources.iter().any(|source| newest_mtime(source).is_some_and(|t| t > built))
}

/// The newest modification time under `path`, skipping build output directories.
fn newest_mtime(path: &Path) -> Option<SystemTime> {
    let meta = path.metadata().ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    let mut newest = meta.modified().ok();
    for entry in std::fs::read_dir(path).ok()?.flatten() {
        let name = entry.file_name();
        if name == "target" || name == ".weft" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        newest = newest.max(newest_mtime(&entry.path()));
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_stale_and_a_newer_source_makes_it_stale() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("out.wasm");
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("lib.rs"), "").unwrap();
        assert!(is_stale(&wasm, std::slice::from_ref(&src)));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&wasm, "").unwrap();
        assert!(!is_stale(&wasm, std::slice::from_ref(&src)));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(src.join("lib.rs"), "// changed").unwrap();
        assert!(is_stale(&wasm, &[src]));
    }
}
