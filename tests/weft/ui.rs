//! The UI's JSON API, over real TCP, against a real store and real components: what the
//! browser and scripts rely on (docs/api.md).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use weft_host::Host;
use weft_host::ui::UiOptions;
use weft_tests::http::{self, Response};
use weft_tests::{Project, weft_bin};

/// hello_world's greeting feeds `check`, a faulty solid whose config says how it behaves.
const FLAKY: &str = r#"
[solids.hello_world]
wasm = "{guests}/hello_world.wasm"
[solids.faulty]
wasm = "{guests}/faulty.wasm"
[pipelines.flaky]
description = "A greeting, then a check that fails when told to."
[pipelines.flaky.solids.hello_world]
[pipelines.flaky.solids.check]
solid = "faulty"
inputs = { input = "hello_world.greeting" }
[pipelines.flaky.presets.passing.solids.check.config]
mode = "ok"
"#;

/// Two probe steps that sleep: long enough to watch, cancel, or race.
const SLOW: &str = r#"
[solids.probe]
wasm = "{guests}/probe.wasm"
[pipelines.slow.solids.first]
solid = "probe"
config = { sleep_ms = 1500 }
[pipelines.slow.solids.second]
solid = "probe"
config = { sleep_ms = 1500 }
inputs = { deps = ["first.result"] }
"#;

/// A UI server on its own runtime, on a free loopback port.
struct Ui {
    addr: SocketAddr,
    /// Serves until the test ends.
    _runtime: tokio::runtime::Runtime,
}

impl Ui {
    fn start(project: &Project, token: Option<&str>) -> Ui {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let options = UiOptions {
            manifest: project.manifest(),
            addr: "127.0.0.1:0".parse().unwrap(),
            token: token.map(str::to_owned),
        };
        let db = project.db();
        let server = runtime.block_on(async { weft_host::ui::bind(Host::open(&db).unwrap(), &options).await.unwrap() });
        let addr = server.local_addr();
        runtime.spawn(server.run(std::future::pending()));
        Ui { addr, _runtime: runtime }
    }

    fn get(&self, path: &str) -> Response {
        http::get(self.addr, path)
    }

    fn post(&self, path: &str, body: &str) -> Response {
        http::post(self.addr, path, body)
    }

    /// Launches and returns the run id.
    fn launch(&self, body: &str) -> String {
        let launched = self.post("/api/runs", body);
        assert_eq!(launched.status, 201, "{}", launched.text());
        launched.json()["run"]["id"].as_str().unwrap().to_owned()
    }

    /// The run's events streamed until its end; returns the event types and the final
    /// record the stream ends with.
    fn stream_to_end(&self, run: &str) -> (Vec<String>, serde_json::Value) {
        let streamed = self.get(&format!("/api/runs/{run}/events/stream"));
        assert_eq!(streamed.status, 200);
        assert_eq!(streamed.header("content-type"), Some("text/event-stream"));
        let text = streamed.text();
        let mut types = Vec::new();
        let mut end = None;
        for block in text.split("\n\n") {
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
            match field("event:") {
                Some("event") => {
                    let event: serde_json::Value = serde_json::from_str(field("data:").unwrap()).unwrap();
                    assert_eq!(field("id:"), Some(event["seq"].to_string().as_str()), "an event's id is its seq");
                    types.push(event["event"].as_str().unwrap().to_owned());
                }
                Some("end") => end = Some(serde_json::from_str(field("data:").unwrap()).unwrap()),
                _ => {}
            }
        }
        (types, end.unwrap_or_else(|| panic!("the stream of {run} did not end with `end`: {text}")))
    }

    fn summary(&self, run: &str) -> serde_json::Value {
        let summary = self.get(&format!("/api/runs/{run}"));
        assert_eq!(summary.status, 200, "{}", summary.text());
        summary.json()
    }
}

fn step<'a>(summary: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    summary["steps"].as_array().unwrap().iter().find(|s| s["key"] == key).unwrap_or_else(|| panic!("no step {key}"))
}

#[test]
fn a_pipeline_is_described_validated_launched_streamed_and_read_back() {
    let project = Project::new(FLAKY);
    let ui = Ui::start(&project, None);

    let listed = ui.get("/api/pipelines").json();
    assert_eq!(listed["pipelines"][0]["name"], "flaky");
    assert_eq!(listed["pipelines"][0]["steps"], 2);
    assert_eq!(listed["pipelines"][0]["presets"], serde_json::json!(["passing"]));

    let graph = ui.get("/api/pipelines/flaky").json();
    let check = &graph["steps"][1];
    assert_eq!(check["key"], "check");
    assert_eq!(check["solid"], "faulty");
    assert_eq!(check["sources"]["input"], serde_json::json!([{ "step": "hello_world", "output": "greeting" }]));
    assert!(graph["steps"][0].get("sources").is_none(), "hello_world has no wired input");
    assert_eq!(graph["solids"]["faulty"]["config_schema"]["required"], serde_json::json!(["mode"]));
    assert_eq!(graph["solids"]["faulty"]["inputs"][0]["type"], "any");
    assert_eq!(graph["solids"]["hello_world"]["outputs"][0]["name"], "greeting");
    assert_eq!(check["config"], serde_json::json!({}), "its schema requires a mode, so the template names it");
    assert!(graph["steps"][0].get("config").is_none(), "hello_world takes no config");
    assert_eq!(ui.get("/api/pipelines/nope").status, 404);

    // Without check's required mode the plan fails, and says where.
    let invalid = ui.post("/api/pipelines/flaky/validate", "{}").json();
    assert_eq!(invalid["ok"], false);
    let keys: Vec<&str> = invalid["problems"].as_array().unwrap().iter().filter_map(|p| p["key"].as_str()).collect();
    assert!(keys.iter().any(|k| k.starts_with("solids.check.config")), "{invalid}");
    let wrong =
        ui.post("/api/pipelines/flaky/validate", r#"{"config": {"solids": {"check": {"config": {"mode": "loud"}}}}}"#);
    assert!(wrong.text().contains("loud"), "{}", wrong.text());
    let valid = ui.post("/api/pipelines/flaky/validate", r#"{"preset": "passing", "selection": "check"}"#);
    assert_eq!(valid.json()["ok"], false, "selecting check alone needs hello_world's output: {}", valid.text());
    let valid = ui.post("/api/pipelines/flaky/validate", r#"{"preset": "passing"}"#).json();
    assert_eq!(valid, serde_json::json!({ "ok": true, "steps": ["hello_world", "check"], "problems": [] }));

    let refused = ui.post("/api/runs", r#"{"pipeline": "flaky"}"#);
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"]["kind"], "invalid");

    let run = ui.launch(r#"{"pipeline": "flaky", "preset": "passing", "tags": {"team": "data"}}"#);
    let (types, end) = ui.stream_to_end(&run);
    assert_eq!(end["status"], "success");
    assert_eq!(types.first().map(String::as_str), Some("run_started"));
    assert_eq!(types.last().map(String::as_str), Some("run_succeeded"));
    assert_eq!(types.iter().filter(|t| *t == "step_succeeded").count(), 2);

    assert_eq!(ui.get(&format!("/api/runs/{run}/graph")).json(), graph, "a run's graph is its pipeline's");
    let summary = ui.summary(&run);
    assert_eq!(summary["run"]["tags"]["team"], "data");
    assert_eq!(summary["events"], types.len());
    for key in ["hello_world", "check"] {
        let s = step(&summary, key);
        assert_eq!(s["status"], "succeeded", "{s}");
        assert!(s.get("attempts").is_none(), "one plain attempt is left out: {s}");
        assert!(s["end"].as_i64() >= s["start"].as_i64());
    }

    // Pages forward cover the log once, in order; the tail and `before` page backwards.
    let mut seqs = Vec::new();
    let mut after = String::new();
    loop {
        let page = ui.get(&format!("/api/runs/{run}/events?limit=3{after}")).json();
        seqs.extend(page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()));
        match page["next"].as_u64() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    assert_eq!(seqs, (0..types.len() as u64).collect::<Vec<_>>());
    let last = types.len() as u64 - 1;
    let tail = ui.get(&format!("/api/runs/{run}/events?tail=1&limit=2")).json();
    let tail_seqs: Vec<u64> = tail["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(tail_seqs, [last - 1, last]);
    assert_eq!(tail["prev"], last - 1);
    assert_eq!(tail["last_seq"], last);
    let before = ui.get(&format!("/api/runs/{run}/events?before={}&limit=2", last - 1)).json();
    assert_eq!(before["events"][1]["seq"], last - 2);

    let outputs = ui.get(&format!("/api/runs/{run}/outputs?step=hello_world")).json();
    assert_eq!(outputs["outputs"][0]["output"], "greeting");
    assert_eq!(outputs["outputs"][0]["type"], "text");
    let value = ui.get(&format!("/api/runs/{run}/outputs/check/out")).json();
    assert_eq!(value["value"], "Hello");
    assert_eq!(ui.get(&format!("/api/runs/{run}/outputs/check/nope")).status, 404);
    let logs = ui.get(&format!("/api/runs/{run}/steps/hello_world/logs"));
    assert_eq!(logs.status, 200, "{}", logs.text());
    assert_eq!(ui.get(&format!("/api/runs/{run}/steps/nope/logs")).status, 404);

    let listed = ui.get("/api/runs?status=success&tag=team=data").json();
    assert_eq!(listed["runs"][0]["id"], run.as_str());
    assert_eq!(ui.get("/api/runs?status=failure").json()["runs"], serde_json::json!([]));
    let bad = ui.get("/api/runs?status=great");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("`great` is not a run status"));
    assert_eq!(ui.get(&format!("/api/runs/{run}/cancel")).status, 405);
    let ended = ui.post(&format!("/api/runs/{run}/cancel"), "{}");
    assert_eq!(ended.status, 409, "{}", ended.text());
}

#[test]
fn a_failed_step_shows_its_error_and_reexecution_from_failure_reuses_the_rest() {
    let project = Project::new(FLAKY);
    let ui = Ui::start(&project, None);
    let run = ui.launch(r#"{"pipeline": "flaky", "config": {"solids": {"check": {"config": {"mode": "fail"}}}}}"#);
    let (types, end) = ui.stream_to_end(&run);
    assert_eq!(end["status"], "failure");
    assert!(types.contains(&"step_failed".to_owned()));

    let summary = ui.summary(&run);
    let check = step(&summary, "check");
    assert_eq!(check["status"], "failed");
    assert_eq!(check["error"]["kind"], "solid_failure");
    assert_eq!(check["error"]["message"], "the data looked wrong");
    let failures = ui.get(&format!("/api/runs/{run}/events?type=step_failed")).json();
    assert_eq!(failures["events"].as_array().unwrap().len(), 1);
    let searched = ui.get(&format!("/api/runs/{run}/events?q=LOOKED%20WRONG")).json();
    assert!(!searched["events"].as_array().unwrap().is_empty());
    let by_step = ui.get(&format!("/api/runs/{run}/events?step=hello_world")).json();
    assert!(by_step["events"].as_array().unwrap().iter().all(|e| e["step"] == "hello_world"));

    let retried = ui.post(&format!("/api/runs/{run}/reexecute"), r#"{"how": "from_failure"}"#);
    assert_eq!(retried.status, 201, "{}", retried.text());
    let child = retried.json()["run"].clone();
    assert_eq!(child["parent_run"], run.as_str());
    let child = child["id"].as_str().unwrap().to_owned();
    let (_, end) = ui.stream_to_end(&child);
    assert_eq!(end["status"], "failure", "the parent's config still says fail");
    let summary = ui.summary(&child);
    assert_eq!(step(&summary, "hello_world")["status"], "reused");
    assert_eq!(step(&summary, "check")["status"], "failed");

    let bad = ui.post(&format!("/api/runs/{run}/reexecute"), r#"{"how": "sideways"}"#);
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("`sideways` is not all, from_failure or steps"));
}

#[test]
fn runs_from_the_cli_show_up_live_and_runs_launched_here_can_be_canceled() {
    let project = Project::new(SLOW);
    let ui = Ui::start(&project, None);

    // Canceled here: the running step is interrupted, the next one never starts.
    let run = ui.launch(r#"{"pipeline": "slow"}"#);
    wait_for(|| ui.summary(&run)["steps"].as_array().is_some_and(|s| !s.is_empty()));
    let canceled = ui.post(&format!("/api/runs/{run}/cancel"), "{}");
    assert_eq!(canceled.status, 202, "{}", canceled.text());
    let (_, end) = ui.stream_to_end(&run);
    assert_eq!(end["status"], "canceled");

    // A `weft run` in another process, on the same store: listed while it runs, not
    // cancelable from here, streamed to its end.
    let mut cli = Command::new(weft_bin())
        .args(["run", project.manifest().to_str().unwrap(), "--db", project.db().to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut running = None;
    wait_for(|| {
        let runs = ui.get("/api/runs?status=started").json();
        running = runs["runs"][0]["id"].as_str().map(str::to_owned);
        running.is_some()
    });
    let running = running.unwrap();
    assert_ne!(running, run);
    let refused = ui.post(&format!("/api/runs/{running}/cancel"), "{}");
    assert_eq!(refused.status, 409);
    assert!(refused.text().contains("another weft process"), "{}", refused.text());
    let (types, end) = ui.stream_to_end(&running);
    assert_eq!(end["status"], "success");
    assert_eq!(types.iter().filter(|t| *t == "step_succeeded").count(), 2);
    assert!(cli.wait().unwrap().success());
}

fn wait_for(mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_token_guards_every_request_and_launches_name_only_the_manifest() {
    let project = Project::new(FLAKY);
    let ui = Ui::start(&project, Some("s3cret"));
    let denied = ui.get("/api/pipelines");
    assert_eq!(denied.status, 401);
    assert_eq!(denied.json()["error"]["kind"], "unauthorized");
    assert_eq!(ui.get("/").status, 401, "the page needs the token too");
    assert_eq!(http::request(ui.addr, "GET", "/api/pipelines", &[("Authorization", "Bearer wrong")], None).status, 401);
    let bearer = http::request(ui.addr, "GET", "/api/pipelines", &[("Authorization", "Bearer s3cret")], None);
    assert_eq!(bearer.status, 200);

    // The browser logs in once; the token moves to an HttpOnly cookie.
    let login = ui.get("/?token=s3cret");
    assert_eq!(login.status, 303);
    assert_eq!(login.header("location"), Some("/"));
    let cookie = login.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap();
    let page = http::request(ui.addr, "GET", "/", &[("Cookie", cookie)], None);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("/static/app.js"));

    let auth = [("Authorization", "Bearer s3cret")];
    let run_body = r#"{"pipeline": "flaky", "preset": "passing"}"#;
    let launched = http::request(ui.addr, "POST", "/api/runs", &auth, Some(run_body));
    assert_eq!(launched.status, 201, "{}", launched.text());
    let run = launched.json()["run"]["id"].as_str().unwrap().to_owned();
    // A stream checks the token too; EventSource sends it as a query parameter.
    assert_eq!(ui.get(&format!("/api/runs/{run}/events/stream")).status, 401);
    let streamed = ui.get(&format!("/api/runs/{run}/events/stream?token=s3cret"));
    assert!(streamed.text().contains("event: end"), "{}", streamed.text());

    // A run config cannot bring its own resource settings (files, addresses).
    let resources = r#"{"pipeline": "flaky", "config": {"resources": {"db": {"path": "/etc/passwd"}}}}"#;
    let refused = http::request(ui.addr, "POST", "/api/runs", &auth, Some(resources));
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"]["problems"][0]["key"], "resources");

    // A run of another manifest in the same store is not re-executed from here.
    let other = project
        .write("other.toml", FLAKY.replace("{guests}", &weft_tests::guest_dir().display().to_string()).as_bytes());
    let foreign = Command::new(weft_bin())
        .args(["run", other.to_str().unwrap(), "--db", project.db().to_str().unwrap(), "--preset", "passing", "--json"])
        .output()
        .unwrap();
    assert!(foreign.status.success(), "{}", String::from_utf8_lossy(&foreign.stderr));
    let foreign_id = latest_run(&project.db());
    let refused = http::request(ui.addr, "POST", &format!("/api/runs/{foreign_id}/reexecute"), &auth, Some("{}"));
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert!(refused.text().contains("other.toml"), "{}", refused.text());

    // Writes want JSON (a cross-site form cannot send it); hosts other than loopback
    // are refused (DNS rebinding).
    let form = http::request(ui.addr, "POST", "/api/runs", &[auth[0], ("Content-Type", "text/plain")], Some(run_body));
    assert_eq!(form.status, 415);
    let rebound = http::request(ui.addr, "GET", "/api/pipelines", &[auth[0], ("Host", "evil.example:80")], None);
    assert_eq!(rebound.status, 403);
}

fn latest_run(db: &Path) -> String {
    let runs = Command::new(weft_bin()).args(["runs", "--db", db.to_str().unwrap(), "--json"]).output().unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    runs[0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    let project = Project::new(FLAKY);
    let out = Command::new(weft_bin())
        .args(["ui", project.manifest().to_str().unwrap(), "--bind", "0.0.0.0", "--port", "0"])
        .env_remove("WEFT_UI_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("reaches beyond this machine: give an auth token"), "{stderr}");
}

#[test]
fn the_openapi_document_describes_every_route() {
    let project = Project::new(FLAKY);
    let ui = Ui::start(&project, None);
    let doc = ui.get("/api/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let source = std::fs::read_to_string(weft_tests::root().join("host/src/ui/mod.rs")).unwrap();
    let routes: Vec<&str> = source
        .split(".route(\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|r| r.starts_with("/api/"))
        .collect();
    assert!(routes.len() >= 14, "{routes:?}");
    for route in routes {
        assert!(doc["paths"].get(route).is_some(), "openapi.json does not describe {route}");
    }
}

const DAYS: &str = r#"
[solids.dated]
wasm = "{guests}/dated.wasm"
[partitions.days]
cadence = "daily"
start = "2024-01-01"
end = "2024-01-06"
[pipelines.daily]
partitions = "days"
[pipelines.daily.solids.report]
solid = "dated"
config = { day = "{partition_key}", fail_on = ["2024-01-02"] }
[pipelines.plain.solids.report]
solid = "dated"
[schedules.nightly]
pipeline = "daily"
cron = "0 2 * * *"
"#;

#[test]
fn the_api_shows_partitions_starts_a_backfill_and_lists_schedules() {
    let _ = weft_tests::guest("dated");
    let project = Project::new(DAYS);
    let ui = Ui::start(&project, None);
    let pipelines = ui.get("/api/pipelines").json();
    let sets: Vec<&serde_json::Value> =
        pipelines["pipelines"].as_array().unwrap().iter().map(|p| &p["partition_set"]).collect();
    assert_eq!(sets, [&serde_json::json!("days"), &serde_json::Value::Null]);
    assert_eq!(ui.get("/api/pipelines/plain/partitions").status, 404);
    let before = ui.get("/api/pipelines/daily/partitions").json();
    let states: Vec<&str> =
        before["partitions"].as_array().unwrap().iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["missing"; 5]);
    assert_eq!(before["cadence"], "daily");

    // A client may not bind resources through a backfill, any more than through a launch.
    let refused = ui.post("/api/pipelines/daily/backfills", r#"{"run_config": {"resources": {"db": {"config": {}}}}}"#);
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(refused.json()["error"]["problems"][0]["key"], "resources");
    let started =
        ui.post("/api/pipelines/daily/backfills", r#"{"from": "2024-01-02", "to": "2024-01-04", "max_concurrent": 2}"#);
    assert_eq!(started.status, 201, "{}", started.text());
    let id = started.json()["backfill"]["id"].as_str().unwrap().to_owned();
    assert_eq!(started.json()["backfill"]["keys"], serde_json::json!(["2024-01-02", "2024-01-03", "2024-01-04"]));
    let deadline = Instant::now() + Duration::from_secs(60);
    let shown = loop {
        let shown = ui.get(&format!("/api/backfills/{id}")).json();
        if shown["backfill"]["status"] != "RUNNING" {
            break shown;
        }
        assert!(Instant::now() < deadline, "the backfill did not end: {shown}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(shown["backfill"]["status"], "FAILURE", "2024-01-02 fails: {shown}");
    let statuses: Vec<&str> =
        shown["partitions"].as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failure", "success", "success"]);
    let after = ui.get("/api/pipelines/daily/partitions").json();
    let states: Vec<&str> =
        after["partitions"].as_array().unwrap().iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["missing", "failed", "succeeded", "succeeded", "missing"]);
    assert_eq!(ui.get("/api/backfills").json()["backfills"][0]["id"], id.as_str());
    let automation = ui.get("/api/automation").json();
    assert_eq!(automation["schedules"][0]["name"], "nightly");
    assert_eq!(automation["schedules"][0]["cron"], "0 2 * * *");
}
