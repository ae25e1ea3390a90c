//! The sandbox against solids written to break it: each attack is contained with the
//! right failure kind while a well-behaved step in the same run succeeds.

use std::time::{Duration, Instant};
use weft_host::{EventKind, Host, Manifest, RunConfig, RunRecord, RunStatus, StepError, StepErrorKind, Value};
use weft_tests::Project;

const MANIFEST: &str = r#"
[solids.hostile]
wasm = "{guests}/hostile.wasm"
[solids.probe]
wasm = "{guests}/probe.wasm"

[pipelines.attack.limits]
timeout = "2s"
memory = "64MiB"
output_size = "1MiB"
log_bytes = "64KiB"
compute_log = "64KiB"

[pipelines.attack.solids.attacker]
solid = "hostile"
files = [{ host = "data", guest = "/data" }, { host = "out", guest = "/out", mode = "rw" }]
env = ["PATH"]

[pipelines.attack.solids.bystander]
solid = "probe"
config = { sleep_ms = 50 }
"#;

/// A project with a granted `data` dir (and a secret beside it), a writable `out` dir.
fn project() -> Project {
    let project = Project::new(MANIFEST);
    let root = project.dir.path();
    std::fs::create_dir(root.join("data")).unwrap();
    std::fs::create_dir(root.join("out")).unwrap();
    std::fs::write(root.join("data/public.txt"), "public").unwrap();
    std::fs::write(root.join("secret.txt"), "the secret").unwrap();
    std::os::unix::fs::symlink(root.join("secret.txt"), root.join("data/link-to-secret")).unwrap();
    project
}

async fn attack(host: &Host, manifest: &Manifest, how: &str, extra: serde_json::Value) -> RunRecord {
    let mut json = serde_json::json!({"solids": {"attacker": {"config": {"attack": how}}}});
    if let serde_json::Value::Object(extra) = extra {
        json.as_object_mut().unwrap().extend(extra);
    }
    let config = RunConfig::from_json(&json, None).unwrap();
    host.run(host.plan(manifest, "attack", &config).await.unwrap()).await.unwrap()
}

fn attacker_error(host: &Host, record: &RunRecord) -> Option<StepError> {
    host.events(record.id).unwrap().into_iter().find_map(|e| match e.kind {
        EventKind::StepFailed { error, .. } if e.step.as_deref() == Some("attacker") => Some(error),
        _ => None,
    })
}

fn bystander_succeeded(host: &Host, record: &RunRecord) -> bool {
    host.events(record.id)
        .unwrap()
        .iter()
        .any(|e| e.step.as_deref() == Some("bystander") && matches!(e.kind, EventKind::StepSucceeded { .. }))
}

#[tokio::test]
async fn every_resource_attack_ends_its_step_with_its_own_kind_and_spares_the_bystander() {
    let project = project();
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let none = serde_json::json!({});
    let fuel = serde_json::json!({"limits": {"fuel": 5_000_000}});
    let cases: &[(&str, &serde_json::Value, StepErrorKind, &str)] = &[
        ("loop", &none, StepErrorKind::Timeout, "time limit of 2s"),
        ("loop", &fuel, StepErrorKind::OutOfFuel, "used up its fuel (5000000 units)"),
        ("memory_bomb", &none, StepErrorKind::MemoryLimit, "over its limit of 67108864"),
        ("deep_recursion", &none, StepErrorKind::Trap, "call stack exhausted"),
        ("huge_output", &none, StepErrorKind::OutputTooLarge, "over the limit of 1048576 per output"),
        ("log_flood", &none, StepErrorKind::LogLimit, "more than its limit of 65536 bytes of messages"),
        ("stdout_flood", &none, StepErrorKind::LogLimit, "more than its limit of 65536 bytes to stdout"),
        ("panic", &none, StepErrorKind::Panic, "a hostile solid panicked"),
        ("unreachable", &none, StepErrorKind::Trap, "wasm trap"),
    ];
    for (how, extra, kind, message) in cases {
        let started = Instant::now();
        let record = attack(&host, &manifest, how, (*extra).clone()).await;
        let error = attacker_error(&host, &record).unwrap_or_else(|| panic!("{how}: the attacker did not fail"));
        assert_eq!(error.kind, *kind, "{how}: {error:?}");
        assert!(error.message.contains(message), "{how}: {:?} lacks {message:?}", error.message);
        assert!(bystander_succeeded(&host, &record), "{how}: the well-behaved step succeeded beside it");
        assert_eq!(record.status, RunStatus::Failure);
        assert!(started.elapsed() < Duration::from_secs(6), "{how}: contained within its limits plus a margin");
    }
}

/// Each step's memory is fresh, though the pooling allocator reuses the slot and resets
/// its first 2 MiB in place: a step finds nothing of the markers the one before it left
/// (in a static, and deep in its heap), and finds its own, so the scan is seen to work.
#[tokio::test]
async fn a_step_never_sees_what_the_step_before_it_left_in_memory() {
    let project = project();
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    for run in 0..4 {
        let record = attack(&host, &manifest, "leftovers", serde_json::json!({})).await;
        let found = host.output(record.id, "attacker", "result").unwrap();
        assert_eq!(found, Some(Value::Text("before: 0, after: 2".into())), "run {run}");
    }
}

#[tokio::test]
async fn files_and_environment_are_reachable_only_as_granted() {
    let project = project();
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let outcome = |record: &RunRecord| match host.output(record.id, "attacker", "result").unwrap() {
        Some(Value::Text(text)) => text,
        other => panic!("no text output: {other:?}"),
    };
    for how in ["read_passwd", "escape_dotdot", "escape_symlink", "write_readonly", "read_env", "list_root"] {
        let record = attack(&host, &manifest, how, serde_json::json!({})).await;
        let said = outcome(&record);
        assert!(said.starts_with("blocked: "), "{how}: the sandbox did not hold: {said}");
        assert!(bystander_succeeded(&host, &record));
    }
    assert!(!project.dir.path().join("data/planted.txt").exists(), "nothing was written to the read-only dir");

    let record = attack(&host, &manifest, "read_data", serde_json::json!({})).await;
    assert_eq!(outcome(&record), "read: \"public\"", "a granted directory is readable");
    let record = attack(&host, &manifest, "write_granted", serde_json::json!({})).await;
    assert!(outcome(&record).starts_with("read: "), "{}", outcome(&record));
    let written = std::fs::read_to_string(project.dir.path().join("out/result.txt")).unwrap();
    assert_eq!(written, "written by a solid", "a read-write grant is writable");
    let record = attack(&host, &manifest, "read_granted_env", serde_json::json!({})).await;
    assert_eq!(outcome(&record), format!("read: {:?}", std::env::var("PATH").unwrap()), "a granted variable is there");
}

#[tokio::test]
async fn sockets_are_linked_but_every_connection_send_and_lookup_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let project = Project::new(&format!(
        "[solids.netcat]\nwasm = \"{{guests}}/netcat.wasm\"\n[pipelines.p.solids.netcat]\nconfig = {{ address = \"{address}\" }}\n"
    ));
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let record = host.run(host.plan(&manifest, "p", &RunConfig::default()).await.unwrap()).await.unwrap();
    let outcome = host.output(record.id, "netcat", "result").unwrap();
    assert_eq!(
        outcome,
        Some(Value::Text(
            "tcp: refused (permission denied); udp: refused (permission denied); lookup: refused (uncategorized error)"
                .into()
        ))
    );
    assert!(listener.accept().is_err(), "no connection reached the listener");
}

/// The clock and random values a `clock_and_random` step logged, per attempt.
fn logged(host: &Host, record: &RunRecord) -> Vec<String> {
    host.events(record.id)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Log { message, .. } if e.step.as_deref() == Some("attacker") => Some(message),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_deterministic_step_sees_the_runs_start_time_and_seeded_randomness() {
    let project = project();
    let host = Host::open(&project.db()).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let retry = serde_json::json!({"execution": {"retry": {"max_attempts": 2, "delay": "1ms"}}});

    let free = attack(&host, &manifest, "clock_and_random", retry.clone()).await;
    let seen = logged(&host, &free);
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0], seen[1], "without determinism, attempts see other clocks and other randomness");

    let deterministic = retry;
    let text = std::fs::read_to_string(project.manifest())
        .unwrap()
        .replace("solid = \"hostile\"\n", "solid = \"hostile\"\ndeterministic = true\n");
    std::fs::write(project.manifest(), text).unwrap();
    let manifest = Manifest::load(&project.manifest()).unwrap();
    let fixed = attack(&host, &manifest, "clock_and_random", deterministic).await;
    let seen = logged(&host, &fixed);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], seen[1], "the same run and step see the same clock and randomness");
    let clock: i64 = seen[0].split(' ').next().unwrap().parse().unwrap();
    assert_eq!(clock, fixed.started_at.unwrap(), "the clock reads the run's start");
}

#[test]
fn memory_a_step_used_is_given_back_before_the_next_step() {
    // Eight 64 MiB memory bombs one after another, then a step that sleeps while we read
    // the weft process's peak memory: had the bombs' memory not been freed, the peak
    // would pass 512 MiB.
    let mut manifest = String::from(
        "[solids.hostile]\nwasm = \"{guests}/hostile.wasm\"\n[solids.probe]\nwasm = \"{guests}/probe.wasm\"\n\
         [pipelines.p.execution]\nmax_concurrent = 1\n[pipelines.p.limits]\nmemory = \"64MiB\"\n",
    );
    for i in 0..8 {
        manifest.push_str(&format!(
            "[pipelines.p.solids.bomb{i}]\nsolid = \"hostile\"\nconfig = {{ attack = \"memory_bomb\" }}\n"
        ));
    }
    manifest.push_str("[pipelines.p.solids.last]\nsolid = \"probe\"\nconfig = { sleep_ms = 3000 }\n");
    let project = Project::new(&manifest);
    let mut child = std::process::Command::new(weft_tests::weft_bin())
        .args(["run", project.manifest().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut bombs = 0;
    while std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() > 0 {
        if line.contains("STEP_FAILURE") && line.contains("memory limit") {
            bombs += 1;
        }
        if line.contains("last") && line.contains("STEP_START") {
            break;
        }
        line.clear();
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    let _ = child.wait();
    assert_eq!(bombs, 8, "every bomb hit the memory limit");
    assert!(peak_kib < 400 * 1024, "peak memory {peak_kib} KiB: the bombs' memory was not given back");
}
