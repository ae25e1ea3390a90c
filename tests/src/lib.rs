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
const GUESTS: &[&str] = &[
    "conformance",
    "faulty",
    "probe",
    "add-one",
    "bytes-relay",
    "hostile",
    "netcat",
    "kv-probe",
    "secret-probe",
    "http-probe",
    "sneaky",
    "undeclared",
    "file-sensor",
    "dated",
    "hello-world",
    "salutation",
    "config-example-solid",
    "generate-table-1",
    "generate-table-2",
    "summarize-tables",
    "aggregate",
];

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

/// Each step's last status in an event log, in the order steps first appear: `SUCCESS`,
/// `FAILURE`, `SKIPPED`, `CANCELED` or `REUSED`; a step that only started is absent.
pub fn step_statuses(events: &[weft_host::Event]) -> Vec<(String, &'static str)> {
    use weft_host::EventKind;
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for event in events {
        let Some(step) = &event.step else { continue };
        let status = match event.kind {
            EventKind::StepSucceeded { .. } => "SUCCESS",
            EventKind::StepFailed { .. } => "FAILURE",
            EventKind::StepSkipped { .. } => "SKIPPED",
            EventKind::StepCanceled { .. } => "CANCELED",
            EventKind::StepReused { .. } => "REUSED",
            _ => continue,
        };
        match out.iter_mut().find(|(s, _)| s == step) {
            Some(entry) => entry.1 = status,
            None => out.push((step.clone(), status)),
        }
    }
    out
}

/// One step's last status in an event log (see [`step_statuses`]), `NOT RUN` if none.
pub fn step_status(events: &[weft_host::Event], step: &str) -> &'static str {
    step_statuses(events).into_iter().find(|(s, _)| s == step).map_or("NOT RUN", |(_, status)| status)
}

/// Runs the `weft` binary from the repository root and returns its exit code with its
/// stdout and stderr together.
pub fn weft(args: &[&str]) -> (i32, String) {
    weft_with_env(args, &[])
}

/// [`weft`] with these environment variables set for it.
pub fn weft_with_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output =
        Command::new(weft_bin()).args(args).envs(env.iter().copied()).current_dir(root()).output().expect("weft runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

/// The PostgreSQL server the tests use: `WEFT_TEST_POSTGRES_URL` (`.ci/run` sets it),
/// else the development machine's. Tests that need it fail when it is down.
pub fn postgres_url() -> String {
    std::env::var("WEFT_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The Redis server the tests use: `WEFT_TEST_REDIS_URL`, else the development machine's.
pub fn redis_url() -> String {
    std::env::var("WEFT_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A step output as JSON, for comparing with expected values: text, numbers and
/// booleans as themselves, `json` values parsed, bytes as a list of numbers.
pub fn value_json(value: &weft_host::Value) -> serde_json::Value {
    use weft_host::Value;
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Boolean(b) => (*b).into(),
        Value::Integer(n) => (*n).into(),
        Value::Float(x) => (*x).into(),
        Value::Text(s) => s.as_str().into(),
        Value::Bytes(b) => b.as_ref().into(),
        Value::Json(text) => serde_json::from_str(text).expect("a json value holds JSON"),
    }
}

/// Installs the toolchain of `language` (`scripts/toolchains LANGUAGE`) and builds its
/// test solids (`weft build tests/LANGUAGE`, into `target/LANGUAGE-guests/`), once per
/// process and language; returns the component of `name`.
///
/// # Panics
/// When the toolchain cannot be installed or a solid does not build: the tests need
/// real components, so a missing tool fails loudly.
pub fn language_guest(language: &str, name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !built.iter().any(|l| l == language) {
        toolchain(language);
        let (code, text) = weft(&["build", &format!("tests/{language}")]);
        assert_eq!(code, 0, "building the {language} test solids failed:\n{text}");
        built.push(language.to_owned());
    }
    let path = root().join(format!("target/{language}-guests/{name}.wasm"));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Runs `scripts/toolchains LANGUAGE`.
///
/// # Panics
/// When the install fails.
pub fn toolchain(language: &str) {
    let status = Command::new(root().join("scripts/toolchains")).arg(language).status().expect("the script runs");
    assert!(status.success(), "installing the {language} toolchain failed");
}

/// Starts `weft run MANIFEST`, and kills it (SIGKILL) after `delay`, as a crash would.
pub async fn run_and_kill(manifest: &std::path::Path, delay: std::time::Duration) {
    let mut child = Command::new(weft_bin())
        .args(["run", manifest.to_str().expect("a UTF-8 path")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("weft starts");
    tokio::time::sleep(delay).await;
    // It may have finished already: then there is nothing to kill.
    let _ = child.kill();
    let _ = child.wait();
}

/// A minimal HTTP/1.1 client over a real TCP connection, for the UI server's tests: one
/// request per connection (`Connection: close`), chunked bodies decoded.
pub mod http {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    /// A response: status, headers (names lower case) and body.
    #[derive(Debug)]
    pub struct Response {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Response {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }

        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }

        /// The body as JSON.
        ///
        /// # Panics
        /// When it is not JSON.
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
        }
    }

    /// Sends one request; `headers` are extra lines such as `("Authorization", "Bearer x")`.
    /// A JSON `body` is sent with `Content-Type: application/json` unless `headers` name one.
    ///
    /// # Panics
    /// When the connection fails or the response is malformed.
    pub fn request(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        let mut stream = TcpStream::connect(addr).expect("the UI server accepts connections");
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: {addr}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                head.push_str("Content-Type: application/json\r\n");
            }
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        if let Some(body) = body {
            stream.write_all(body.as_bytes()).unwrap();
        }
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("the response is read");
        parse(&raw)
    }

    pub fn get(addr: SocketAddr, path: &str) -> Response {
        request(addr, "GET", path, &[], None)
    }

    pub fn post(addr: SocketAddr, path: &str, body: &str) -> Response {
        request(addr, "POST", path, &[], Some(body))
    }

    fn parse(raw: &[u8]) -> Response {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response has a head");
        let head = String::from_utf8_lossy(&raw[..split]);
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")) {
            body = dechunk(&body);
        }
        Response { status, headers, body }
    }

    fn dechunk(mut data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).expect("a chunk size");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&data[end + 2..end + 2 + size]);
            data = &data[end + 2 + size + 2..];
        }
        out
    }
}
