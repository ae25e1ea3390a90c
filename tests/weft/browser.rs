//! The UI in a real browser: Debian's headless Chromium, driven by playwright-core
//! (`tests/ui/e2e.mjs`), against `weft ui` on a real store with real components. The
//! script launches a run from the launchpad, watches it fail live, opens the failed
//! step's error, re-executes from failure, and screenshots every page into
//! `target/ui-screenshots/`; `tests/ui/partitions.mjs` draws a partitioned pipeline's
//! matrix, starts and cancels backfills from it, and launches one partition.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use weft_tests::{guest, root, weft_bin};

/// `weft ui` in a child process; killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `weft ui MANIFEST` on a free port and returns it with its address.
fn start_ui(manifest: &std::path::Path, db: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(weft_bin())
        .args(["ui", manifest.to_str().unwrap(), "--port", "0", "--db", db.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft ui starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("weft ui did not say where it listens: {line}"))
        .trim_end_matches('/')
        .to_owned();
    // Keep draining its stderr so that it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (Server(child), url)
}

/// playwright-core, where `scripts/browser` installs it (`scripts/test` runs that first).
fn playwright_cache() -> std::path::PathBuf {
    let cache = std::env::var_os("WEFT_UI_TESTS").map(std::path::PathBuf::from).unwrap_or_else(|| {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
        base.join("weft/ui-tests")
    });
    assert!(
        cache.join("node_modules/playwright-core").exists() && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and playwright-core: run scripts/browser (scripts/test does)"
    );
    cache
}

/// Serves `manifest` on a fresh store and runs the browser script `script` against it,
/// its screenshots in `target/ui-screenshots/<shots>`.
fn run_script(manifest: &str, script: &str, shots: &str) {
    let cache = playwright_cache();
    let store = tempfile::tempdir().unwrap();
    let (_server, url) = start_ui(&root().join(manifest), &store.path().join("weft.redb"));
    let screenshots = root().join("target/ui-screenshots").join(shots);
    let out = Command::new("node")
        .arg(root().join(script))
        .args(["--url", &url, "--screenshots", screenshots.to_str().unwrap()])
        .env("WEFT_UI_TESTS", &cache)
        .output()
        .expect("node runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser test failed (screenshots in {}):\n{text}", screenshots.display());
    assert!(text.contains("ok: "), "{text}");
}

#[test]
fn the_launchpad_launches_a_run_watched_live_then_reexecuted_from_failure_in_chromium() {
    let _ = guest("faulty");
    let _ = guest("hello_world");
    run_script("tests/ui/weft.toml", "tests/ui/e2e.mjs", "");
}

#[test]
fn the_partition_matrix_starts_a_backfill_whose_cells_turn_green_in_chromium() {
    let _ = guest("dated");
    run_script("tests/ui/partitions.toml", "tests/ui/partitions.mjs", "partitions");
}
