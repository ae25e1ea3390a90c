//! The web UI on a big run: 10,000 steps (5,000 in a 50-layer graph, 5,000 that log) and
//! 100,000 log lines, served by the release `weft ui`.
//!
//! 1. The API over real TCP: the pipeline's graph, the run summary cold (the first fold of
//!    the whole log) and warm, the log's last page, and two filters that scan the whole
//!    log (a search that matches nothing, and one step's events).
//! 2. Chromium opening the run page until its status, its graph and the first rows of its
//!    event log show (`tests/ui/open-run.mjs`, timed in the page on every frame): in a new
//!    browser context (the first open, and the median of 5), and from the runs list in
//!    the same tab. Needs `scripts/browser`.
//!
//! Prints a Markdown table. Run: `cargo bench -p weft-benches --bench ui` (unset
//! RUST_BACKTRACE).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use weft_tests::{Project, http, root};

const LAYERS: usize = 50;
const WIDTH: usize = 100;
const LOGGERS: usize = 5_000;
const LINES_PER_LOGGER: usize = 20;

/// Probe steps `p{layer}_{i}` fed by two steps of the layer before, and logger steps.
fn big_manifest() -> String {
    let mut toml = String::from(
        "[solids.probe]\nwasm = \"{guests}/probe.wasm\"\n[solids.logger]\nwasm = \"{guests}/config_example_solid.wasm\"\n",
    );
    for layer in 0..LAYERS {
        for i in 0..WIDTH {
            toml.push_str(&format!("[pipelines.big.solids.p{layer}_{i}]\nsolid = \"probe\"\n"));
            if layer > 0 {
                let (a, b) = (i, (i + 1) % WIDTH);
                toml.push_str(&format!(
                    "inputs = {{ deps = [\"p{0}_{a}.result\", \"p{0}_{b}.result\"] }}\n",
                    layer - 1
                ));
            }
        }
    }
    for j in 0..LOGGERS {
        toml.push_str(&format!(
            "[pipelines.big.solids.log{j}]\nsolid = \"logger\"\nconfig = {{ iterations = {LINES_PER_LOGGER}, word = \"line of logger {j}\" }}\n"
        ));
    }
    toml
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Times `get` of `path`, checking it answers 200; returns the duration and body size.
fn timed(addr: SocketAddr, path: &str) -> (Duration, usize) {
    let start = Instant::now();
    let response = http::get(addr, path);
    let took = start.elapsed();
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    (took, response.body.len())
}

fn main() {
    let weft = weft_benches::release_weft();
    let _ = weft_tests::guest("config_example_solid");
    let project = Project::new(&big_manifest());
    let manifest = project.manifest();

    let start = Instant::now();
    let ran = Command::new(&weft)
        .args(["run", manifest.to_str().unwrap(), "--json"])
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .output()
        .expect("weft run starts");
    assert!(ran.status.success(), "the big run failed: {}", String::from_utf8_lossy(&ran.stderr));
    eprintln!("ran {} steps in {}", LAYERS * WIDTH + LOGGERS, ms(start.elapsed()));

    let mut ui = Command::new(&weft)
        .args(["ui", manifest.to_str().unwrap(), "--port", "0"])
        .env_remove("RUST_BACKTRACE")
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft ui starts");
    let mut line = String::new();
    BufReader::new(ui.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("weft ui prints its address");
    let url = url.trim_end_matches('/').to_owned();
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();

    let runs = http::get(addr, "/api/runs?limit=1").json();
    let run = runs["runs"][0]["id"].as_str().expect("the big run is listed").to_owned();
    let summary_path = format!("/api/runs/{run}");
    let (cold, summary_bytes) = timed(addr, &summary_path);
    let summary = http::get(addr, &summary_path).json();
    assert_eq!(summary["steps"].as_array().unwrap().len(), LAYERS * WIDTH + LOGGERS);
    assert_eq!(summary["log_lines"], LOGGERS * LINES_PER_LOGGER);

    println!("| request | median of 5 | body |");
    println!("|---|---:|---:|");
    println!(
        "| `GET /api/runs/ID`, cold (folds {} events) | {} | {} KB |",
        summary["events"],
        ms(cold),
        summary_bytes / 1000
    );
    let rows = [
        ("`GET /api/runs/ID`, warm", summary_path.clone()),
        ("`GET /api/pipelines/big` (the graph)", "/api/pipelines/big".to_owned()),
        ("`GET .../events?tail=1&limit=200`", format!("/api/runs/{run}/events?tail=1&limit=200")),
        ("`GET .../events?q=nowhere` (scans the log)", format!("/api/runs/{run}/events?q=nowhere")),
        ("`GET .../events?step=log4999` (scans the log)", format!("/api/runs/{run}/events?step=log4999")),
    ];
    for (label, path) in rows {
        let samples: Vec<(Duration, usize)> = (0..5).map(|_| timed(addr, &path)).collect();
        let bytes = samples[0].1;
        let took = median(samples.into_iter().map(|(d, _)| d).collect());
        println!("| {label} | {} | {} KB |", ms(took), bytes / 1000);
    }

    let screenshot = root().join("target/ui-screenshots/big-run.png");
    std::fs::create_dir_all(screenshot.parent().unwrap()).unwrap();
    let opened = Command::new("node")
        .arg(root().join("tests/ui/open-run.mjs"))
        .args(["--url", &url, "--run", &run, "--repeat", "5", "--screenshot", screenshot.to_str().unwrap()])
        .output()
        .expect("node runs (scripts/browser installs what it needs)");
    assert!(opened.status.success(), "opening the run page failed: {}", String::from_utf8_lossy(&opened.stderr));
    let figures: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    println!(
        "\n| Chromium opens the run page (status, graph, log rows visible) | new tab: first | new tab: median of 5 | from the runs list: median of 5 |"
    );
    println!("|---|---:|---:|---:|");
    println!(
        "| {} steps, {} log lines | {} ms | {} ms | {} ms |",
        LAYERS * WIDTH + LOGGERS,
        LOGGERS * LINES_PER_LOGGER,
        figures["first_ms"],
        figures["median_ms"],
        figures["in_app_median_ms"]
    );
    let _ = ui.kill();
    let _ = ui.wait();
}
