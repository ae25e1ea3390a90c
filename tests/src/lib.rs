//! Shared helpers for weft's end-to-end tests: real guest components built from source
//! (once per test process), temporary projects, and the `weft` binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repository").to_path_buf()
}

/// Where the test guests are built.
pub fn guest_dir() -> PathBuf {
    root().join("target/wasm32-wasip2/guest")
}

/// The guest crates the tests use, by package name.
const GUESTS: &[&str] =
    &["conformance", "faulty", "probe", "hostile", "netcat", "hello-world", "salutation", "config-example-solid"];

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

/// Builds every test guest from source, once per process, and returns the path of the
/// component of `name` (a file name without `.wasm`, such as `faulty`).
///
/// # Panics
/// When the build fails: tests need real components, so a broken toolchain fails loudly.
pub fn guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut command = cargo();
        command
            .args(["build", "--profile", "guest", "--target", "wasm32-wasip2", "--target-dir"])
            .arg(root().join("target"));
        for guest in GUESTS {
            command.args(["-p", guest]);
        }
        let status = command.status().expect("cargo runs");
        assert!(
            status.success(),
            "building the test guests failed (is the wasm32-wasip2 target installed? scripts/setup adds it)"
        );
    });
    let path = guest_dir().join(format!("{name}.wasm"));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// The `weft` binary, built once per process.
///
/// # Panics
/// When the build fails.
pub fn weft_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = cargo().args(["build", "-p", "weft-host", "--bin", "weft"]).status().expect("cargo runs");
            assert!(status.success(), "building the weft binary failed");
            root().join("target/debug/weft")
        })
        .clone()
}

/// A project in a temporary directory: a `weft.toml` whose `{guests}` placeholders name
/// the directory of the built test guests, and a store beside it.
#[derive(Debug)]
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    /// Writes `manifest` (with `{guests}` replaced) as `weft.toml` in a new directory.
    pub fn new(manifest: &str) -> Project {
        let _ = guest("conformance");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let text = manifest.replace("{guests}", &guest_dir().display().to_string());
        std::fs::write(dir.path().join("weft.toml"), text).expect("the manifest is written");
        Project { dir }
    }

    pub fn manifest(&self) -> PathBuf {
        self.dir.path().join("weft.toml")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join(".weft/weft.redb")
    }

    /// Writes another file into the project.
    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("the file is written");
        path
    }
}
