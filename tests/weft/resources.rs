//! Modes and resources, against the real servers: the seed's pipeline on SQLite and redb
//! in `local_dev` and on PostgreSQL and Redis in `prod` with the same result; the
//! key-value calls on redb and Redis, in-process and in worker processes; secrets kept
//! out of the store; HTTP through an allow-list; a step reaching only what its solid
//! declares.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use weft_host::{Event, EventKind, Host, RunId, RunStatus, Stream};
use weft_tests::{Project, guest, postgres_url, redis_url, value_json, weft, weft_with_env};

/// The value of `step.output` of the only run of `pipeline` in `mode`, in the store at `db`.
fn output_of(db: &std::path::Path, mode: &str, step: &str, output: &str) -> (RunId, serde_json::Value) {
    let host = Host::open(db).unwrap();
    let runs = host.runs().unwrap();
    let run = runs.iter().find(|r| r.run_config["mode"] == mode).unwrap_or_else(|| panic!("a run in mode {mode}"));
    assert_eq!(run.status, RunStatus::Success, "the {mode} run");
    let value = host.output(run.id, step, output).unwrap().expect("the output was recorded");
    (run.id, value_json(&value))
}

#[tokio::test]
async fn the_seeds_pipeline_gives_the_same_result_on_sqlite_and_redb_as_on_postgres_and_redis() {
    let _ = guest("summarize_tables");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.redb");
    let sqlite = dir.path().join("local.sqlite");
    let cache = dir.path().join("cache.redb");
    let (db_arg, sqlite_set, cache_set) = (
        db.to_str().unwrap(),
        format!("resources.database.config.path={}", sqlite.display()),
        format!("resources.cache.config.path={}", cache.display()),
    );

    // local_dev is the default mode; its files are moved into the temporary directory.
    let (code, text) = weft(&["run", "examples/modes", "--db", db_arg, "--set", &sqlite_set, "--set", &cache_set]);
    assert_eq!(code, 0, "{text}");
    let (pg, redis) = (postgres_url(), redis_url());
    let env = [("WEFT_POSTGRES_URL", pg.as_str()), ("WEFT_REDIS_URL", redis.as_str())];
    let (code, text) = weft_with_env(&["run", "examples/modes", "--db", db_arg, "--mode", "prod"], &env);
    assert_eq!(code, 0, "{text}");

    let (_, local) = output_of(&db, "local_dev", "summarize_tables", "summary");
    let (prod_run, prod) = output_of(&db, "prod", "summarize_tables", "summary");
    let expected = serde_json::json!({"countries": [
        {"country": "fi", "orders": 1, "revenue": 210},
        {"country": "uk", "orders": 2, "revenue": 150},
        {"country": "us", "orders": 2, "revenue": 90},
    ]});
    assert_eq!(local, expected);
    assert_eq!(prod, expected);

    // The data is where each mode put it: read it back without weft.
    let file = rusqlite::Connection::open(&sqlite).unwrap();
    let orders: i64 = file.query_row("select count(*) from orders", [], |row| row.get(0)).unwrap();
    assert_eq!(orders, 5);
    let (client, connection) = tokio_postgres::connect(&pg, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client.query_one("select count(*), sum(amount)::bigint from orders", &[]).await.unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (5, 450));
    let mut redis_connection =
        redis::Client::open(redis.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let cached: String =
        redis::cmd("GET").arg("weft-example:summary").query_async(&mut redis_connection).await.unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&cached).unwrap(), expected);

    // `show` names the mode; the recorded config holds no connection string.
    let (code, shown) = weft(&["show", "--db", db_arg, &prod_run.to_string()]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Mode      prod"), "{shown}");
    assert!(!shown.contains(&pg), "the PostgreSQL URL is not recorded: {shown}");

    // The scaffold shows what each mode binds, ready to override.
    let (code, scaffold) = weft(&["config", "examples/modes"]);
    assert_eq!(code, 0, "{scaffold}");
    assert!(scaffold.contains("# mode = \"local_dev\""), "{scaffold}");
    assert!(
        scaffold.contains(
            "# Resource `database`: a SQL database, used by generate_table_1, generate_table_2, summarize_tables."
        ),
        "{scaffold}"
    );
    assert!(scaffold.contains(r#"#   prod: {"type":"postgres","url":{"env":"WEFT_POSTGRES_URL"}}"#), "{scaffold}");
}

/// A project running the kv probe, with a `local` mode on a redb file and a `shared`
/// mode on Redis under a prefix of its own.
fn kv_project(redis_prefix: &str) -> Project {
    let _ = guest("kv_probe");
    Project::new(&format!(
        r#"
        [solids.kv_probe]
        wasm = "{{guests}}/kv_probe.wasm"

        [modes.local.resources.cache]
        type = "redb"
        [modes.shared.resources.cache]
        type = "redis"
        url = {{ env = "WEFT_REDIS_URL" }}
        prefix = "{redis_prefix}"

        [pipelines.kv.solids.kv_probe]
        config = {{ prefix = "probe:" }}
        "#
    ))
}

#[test]
fn key_value_calls_behave_the_same_on_redb_and_on_redis_in_process_and_in_workers() {
    let redis = redis_url();
    let prefix = format!("weft-test-{}:", RunId::generate());
    let project = kv_project(&prefix);
    let (manifest, db) = (project.manifest(), project.db());
    let (manifest, db_arg) = (manifest.to_str().unwrap(), db.to_str().unwrap());
    let env = [("WEFT_REDIS_URL", redis.as_str())];
    for (mode, executor) in [("local", "in-process"), ("shared", "multiprocess")] {
        let (code, text) =
            weft_with_env(&["run", manifest, "--db", db_arg, "--mode", mode, "--executor", executor], &env);
        assert_eq!(code, 0, "{mode}: {text}");
    }
    let expected = serde_json::json!({
        "a": "first",
        "b_gone": true,
        "n": 3,
        "n_text": "3",
        "keys_before": ["probe:a", "probe:b", "probe:n"],
        "keys_after": ["probe:a", "probe:n"],
        "deleted": [true, false],
        "missing": null,
    });
    assert_eq!(output_of(&db, "local", "kv_probe", "seen").1, expected);
    assert_eq!(output_of(&db, "shared", "kv_probe", "seen").1, expected);
    assert!(project.dir.path().join(".weft/resources/cache.redb").exists(), "redb's default file");

    // In Redis every key is under the mode's prefix; clean them up.
    let client = redis::Client::open(redis.as_str()).unwrap();
    let mut connection = client.get_connection().unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query(&mut connection).unwrap();
    keys.sort();
    assert_eq!(keys, [format!("{prefix}probe:a"), format!("{prefix}probe:n")]);
    let _: i64 = redis::cmd("DEL").arg(&keys).query(&mut connection).unwrap();
}

#[test]
fn secrets_reach_the_solid_and_never_the_store() {
    let _ = guest("secret_probe");
    let project = Project::new(
        r#"
        [solids.secret_probe]
        wasm = "{guests}/secret_probe.wasm"

        [modes.prod.resources.vault]
        type = "env"
        vars = ["WEFT_TEST_API_TOKEN"]

        [pipelines.leaky.solids.reads]
        solid = "secret_probe"
        config = { name = "WEFT_TEST_API_TOKEN" }
        [pipelines.leaky.solids.fails]
        solid = "secret_probe"
        config = { name = "WEFT_TEST_API_TOKEN", fail = true }
        "#,
    );
    let secret = "tok-8f3a91c2d4";
    let (manifest, db) = (project.manifest(), project.db());
    let args = ["run", manifest.to_str().unwrap(), "--db", db.to_str().unwrap()];
    let (code, text) = weft_with_env(&args, &[("WEFT_TEST_API_TOKEN", secret)]);
    assert_eq!(code, 1, "the failing step fails the run: {text}");
    assert!(!text.contains(secret), "the CLI printed the secret: {text}");
    assert!(text.contains("the secret is ***"), "{text}");

    let host = Host::open(&db).unwrap();
    let run = host.runs().unwrap()[0].id;
    assert_eq!(host.output(run, "reads", "length").unwrap().as_ref().map(value_json), Some(secret.len().into()));
    let events: Vec<Event> = host.events(run).unwrap();
    let failure = events.iter().find_map(|e| match &e.kind {
        EventKind::StepFailed { error, .. } => Some(error.message.clone()),
        _ => None,
    });
    assert_eq!(failure.as_deref(), Some("failing with *** in the message"));
    for step in ["reads", "fails"] {
        let stdout = host.compute_log(run, step, Stream::Stdout).unwrap();
        assert_eq!(String::from_utf8_lossy(&stdout), "stdout: ***\n");
        let stderr = host.compute_log(run, step, Stream::Stderr).unwrap();
        assert_eq!(String::from_utf8_lossy(&stderr), "stderr: ***\n");
    }
    drop(host);
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is nowhere in the store file");
}

/// A server on 127.0.0.1 that answers every request with `hello from <path>` and counts
/// the connections it accepted.
fn http_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..n]);
            let path = text.split_whitespace().nth(1).unwrap_or("?").to_owned();
            let body = format!("hello from {path}");
            let _ =
                write!(stream, "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
        }
    });
    (port, accepted)
}

/// Two steps of the solid at `component` (config `url`, output `response`, resource
/// `api`) fetch from an allowed server and from another one. Checks that the first got
/// its answer, that nothing reached the second, and returns the second step's failure.
fn fetches_reach_the_allowed_host_and_no_other(component: &std::path::Path) -> (String, u16, Vec<weft_host::Event>) {
    let (allowed, allowed_hits) = http_server();
    let (other, other_hits) = http_server();
    let project = Project::new(&format!(
        r#"
        [solids.fetcher]
        wasm = "{}"

        [modes.dev.resources.api]
        type = "http"
        allow = ["127.0.0.1:{allowed}"]

        [pipelines.fetch.solids.allowed]
        solid = "fetcher"
        config = {{ url = "http://127.0.0.1:{allowed}/rates?day=1" }}
        [pipelines.fetch.solids.elsewhere]
        solid = "fetcher"
        config = {{ url = "http://127.0.0.1:{other}/exfiltrate" }}
        "#,
        component.display()
    ));
    let (manifest, db) = (project.manifest(), project.db());
    let (code, text) = weft(&["run", manifest.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    let host = Host::open(&db).unwrap();
    let run = host.runs().unwrap()[0].id;
    let response = host.output(run, "allowed", "response").unwrap().as_ref().map(value_json);
    assert_eq!(response, Some("200 hello from /rates?day=1".into()));
    let events = host.events(run).unwrap();
    let failure = events.iter().find_map(|e| match &e.kind {
        EventKind::StepFailed { error, .. } if e.step.as_deref() == Some("elsewhere") => Some(error.message.clone()),
        _ => None,
    });
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 1);
    assert_eq!(other_hits.load(Ordering::SeqCst), 0, "a denied request never leaves the host");
    (failure.expect("the step that fetched elsewhere failed"), other, events)
}

#[test]
fn http_reaches_the_allowed_hosts_and_no_others() {
    let (failure, other, events) = fetches_reach_the_allowed_host_and_no_other(&guest("http_probe"));
    assert_eq!(failure, format!("HTTP request to http://127.0.0.1:{other}/exfiltrate denied by the host"));
    let warned = events.iter().any(
        |e| matches!(&e.kind, EventKind::Log { message, .. } if message.contains(&format!("127.0.0.1:{other} denied"))),
    );
    assert!(warned, "the denial is in the event log");
}

#[test]
fn a_javascript_fetch_reaches_the_allowed_hosts_and_no_others() {
    let fetcher = weft_tests::language_guest("javascript", "fetcher");
    let (failure, other, _) = fetches_reach_the_allowed_host_and_no_other(&fetcher);
    assert!(failure.starts_with(&format!("fetching http://127.0.0.1:{other}/exfiltrate failed")), "{failure}");
}

#[test]
fn a_step_reaches_only_the_resources_its_solid_declares() {
    let _ = guest("sneaky");
    let project = Project::new(
        r#"
        [solids.sneaky]
        wasm = "{guests}/sneaky.wasm"
        [solids.undeclared]
        wasm = "{guests}/undeclared.wasm"

        [modes.dev.resources.cache]
        type = "redb"
        [modes.dev.resources.db]
        type = "sqlite"
        path = "db.sqlite"
        [modes.dev.resources.warehouse]
        type = "sqlite"
        path = "warehouse.sqlite"

        [pipelines.p.solids.honest]
        solid = "sneaky"
        config = { target = "db" }
        [pipelines.p.solids.sneaking]
        solid = "sneaky"
        config = { target = "warehouse" }
        [pipelines.p.solids.undeclared]
        "#,
    );
    let (manifest, db) = (project.manifest(), project.db());
    let (code, text) = weft(&["run", manifest.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    let host = Host::open(&db).unwrap();
    let run = host.runs().unwrap()[0].id;
    let answer = |step: &str| host.output(run, step, "answer").unwrap().as_ref().map(value_json);
    assert_eq!(answer("honest"), Some("reached db with 1 row(s)".into()));
    assert_eq!(
        answer("sneaking"),
        Some(
            "refused: denied: the step may not use resource `warehouse`: its solid does not declare it as \
             a SQL database (granted sql: `db`)"
                .into()
        )
    );
    assert!(!project.dir.path().join("warehouse.sqlite").exists(), "the undeclared database was never opened");
    // A solid that calls a store it never declared fails, though the mode binds one.
    let failure = host.events(run).unwrap().into_iter().find_map(|e| match e.kind {
        EventKind::StepFailed { error, .. } if e.step.as_deref() == Some("undeclared") => Some(error.message),
        _ => None,
    });
    assert_eq!(
        failure.as_deref(),
        Some(
            "denied: the step may not use resource `cache`: its solid does not declare it as a key-value store \
             (granted key_value: none)"
        )
    );
    assert!(!project.dir.path().join(".weft/resources/cache.redb").exists(), "the store was never opened");
}
