//! `weft partitions` (where each partition of a pipeline stands) and `weft backfill`
//! (one run per partition, tracked, resumable).

use super::Place;
use super::run::{ConfigArgs, only_pipeline};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use weft_host::backfill::{self, BackfillRequest, KeySelection, PartitionState, PartitionStatus, Progress};
use weft_host::db::{BackfillRecord, BackfillStatus};
use weft_host::partition::window::Cadence;
use weft_host::{CancelToken, Error, Host, Manifest, PartitionKind, PartitionSet, RunStatus};

/// What `weft partitions` was asked.
#[derive(Debug)]
pub struct StatusArgs {
    pub pipeline: Option<String>,
    pub json: bool,
}

pub fn status(place: &Place, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let manifest = load_manifest(place)?;
    let pipeline = match args.pipeline {
        Some(p) => p,
        None => only_partitioned(&manifest)?,
    };
    let host = open(place, &manifest)?;
    let now = clock()?;
    let (set, status) = backfill::partition_status(&host, &manifest, &pipeline, now)?;
    if args.json {
        let json = serde_json::json!({ "pipeline": pipeline, "partition_set": set.name, "partitions": status });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", grid(&pipeline, &set, &status));
    }
    Ok(ExitCode::SUCCESS)
}

/// The status as text: a calendar-like grid for daily and hourly partitions (a row per
/// month or day), a list otherwise, then counts and the failed keys.
pub fn grid(pipeline: &str, set: &PartitionSet, status: &[PartitionStatus]) -> String {
    let count = |state| status.iter().filter(|s| s.state == state).count();
    let mut out = format!(
        "{pipeline}: partition set {} ({}), {} partitions: {} succeeded, {} failed, {} running, {} missing\n",
        set.name,
        set.describe(),
        status.len(),
        count(PartitionState::Succeeded),
        count(PartitionState::Failed),
        count(PartitionState::Running),
        count(PartitionState::Missing),
    );
    let cadence = match &set.kind {
        PartitionKind::Time(w) => Some(w.cadence),
        PartitionKind::Static(_) => None,
    };
    match cadence {
        Some(Cadence::Daily) => {
            rows(&mut out, status, 7, 31, "         1   5    10   15   20   25   30", |k| k[8..10].parse().ok())
        }
        Some(Cadence::Hourly) => rows(&mut out, status, 10, 24, "            0   4   8   12  16  20", |k| {
            k[11..13].parse::<usize>().ok().map(|h| h + 1)
        }),
        _ => {
            for s in status {
                let run = s.run.map(|r| format!("  run {r}")).unwrap_or_default();
                out.push_str(&format!("  {} {:<24} {}{run}\n", symbol(s.state), s.key, s.state.name()));
            }
        }
    }
    out.push_str("  ■ succeeded  ✗ failed  ▶ running  · missing\n");
    let failed: Vec<String> = status
        .iter()
        .filter(|s| s.state == PartitionState::Failed)
        .map(|s| format!("{} (run {})", s.key, s.run.map(|r| r.to_string()).unwrap_or_default()))
        .collect();
    if !failed.is_empty() {
        out.push_str(&format!("failed: {}\n", failed.join(", ")));
    }
    out
}

/// One row per prefix of `prefix_len` characters of the key (a month, a day), one column
/// per day or hour, placed by `column` (1-based).
fn rows(
    out: &mut String,
    status: &[PartitionStatus],
    prefix_len: usize,
    width: usize,
    header: &str,
    column: impl Fn(&str) -> Option<usize>,
) {
    out.push_str(header);
    out.push('\n');
    let mut row: Option<(String, Vec<&str>)> = None;
    let flush = |out: &mut String, row: &mut Option<(String, Vec<&str>)>| {
        if let Some((label, cells)) = row.take() {
            let line = format!("{label:<width$}  {}", cells.concat(), width = prefix_len.max(7));
            out.push_str(line.trim_end());
            out.push('\n');
        }
    };
    for s in status {
        let label = &s.key[..prefix_len.min(s.key.len())];
        if row.as_ref().is_none_or(|(l, _)| l != label) {
            flush(out, &mut row);
            row = Some((label.to_owned(), vec![" "; width]));
        }
        if let (Some((_, cells)), Some(col)) = (row.as_mut(), column(&s.key))
            && (1..=width).contains(&col)
        {
            cells[col - 1] = symbol(s.state);
        }
    }
    flush(out, &mut row);
}

fn symbol(state: PartitionState) -> &'static str {
    match state {
        PartitionState::Succeeded => "■",
        PartitionState::Failed => "✗",
        PartitionState::Running => "▶",
        PartitionState::Missing => "·",
    }
}

/// What `weft backfill` was asked to start.
#[derive(Debug)]
pub struct BackfillArgs {
    pub pipeline: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub partitions: Option<String>,
    pub missing_only: bool,
    pub failed_only: bool,
    pub max_concurrent: usize,
    pub mode: Option<String>,
    pub config: ConfigArgs,
}

pub async fn start(place: &Place, args: BackfillArgs) -> anyhow::Result<ExitCode> {
    let manifest = load_manifest(place)?;
    let pipeline = match args.pipeline {
        Some(p) => p,
        None => only_partitioned(&manifest)?,
    };
    let base = match &args.config.preset {
        Some(preset) => manifest.preset(&pipeline, preset).map_err(Error::from)?,
        None => weft_host::RunConfig::default(),
    };
    let mut run_config = args.config.resolve(base).map_err(Error::from)?;
    if let Some(mode) = args.mode {
        run_config.mode = Some(mode);
    }
    let keys = match args.partitions {
        Some(list) => {
            let mut keys: Vec<String> = Vec::new();
            for key in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                if !keys.iter().any(|k| k == key) {
                    keys.push(key.to_owned());
                }
            }
            KeySelection::Keys(keys)
        }
        None => KeySelection::Range { from: args.from, to: args.to },
    };
    let request = BackfillRequest {
        pipeline,
        keys,
        missing_only: args.missing_only,
        failed_only: args.failed_only,
        run_config,
        max_concurrent: args.max_concurrent,
    };
    let host = open(place, &manifest)?;
    let record = backfill::create_backfill(&host, &manifest, &request, clock()?).await?;
    eprintln!(
        "backfill {} of {}: {} partition(s), {} at a time (resume with `weft backfill resume {}`)",
        record.id,
        record.pipeline,
        record.keys.len(),
        record.max_concurrent,
        record.id
    );
    drive(&host, &manifest, record).await
}

pub async fn resume(place: &Place, id: &str) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    let record = backfill::backfill(&host, id)?;
    if record.status == BackfillStatus::Running {
        return Err(Error::NotFound(format!("backfill {} is still running in another weft process", record.id)).into());
    }
    let manifest = Manifest::load(std::path::Path::new(&record.manifest)).map_err(Error::from)?;
    let (id, keys, was) = (record.id, record.keys.len(), record.status);
    eprintln!("resuming backfill {id} of {} ({keys} partition(s); it was {was})", record.pipeline);
    drive(&host, &manifest, record).await
}

/// Runs a backfill with a progress bar; Ctrl-C cancels it (resumable).
async fn drive(host: &Host, manifest: &Manifest, record: BackfillRecord) -> anyhow::Result<ExitCode> {
    let cancel = CancelToken::new();
    tokio::spawn({
        let cancel = cancel.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\ncanceling the backfill (Ctrl-C again to exit at once)");
                cancel.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        }
    });
    let tty = std::io::stderr().is_terminal();
    let last = std::sync::Mutex::new(None::<(usize, usize)>);
    let show = |p: &Progress| {
        let done = (p.succeeded + p.failed, p.running);
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if *last == Some(done) {
            return;
        }
        *last = Some(done);
        let line = bar(p);
        let mut err = std::io::stderr().lock();
        if tty {
            let _ = write!(err, "\r{line}\x1b[K");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    };
    let id = record.id;
    let result = backfill::run_backfill(host, manifest, record, &show, cancel).await;
    if tty {
        eprintln!();
    }
    let record = result?;
    let runs = backfill::backfill_runs(host, &record)?;
    let failed: Vec<&str> = runs
        .iter()
        .filter(|(_, r)| r.as_ref().is_some_and(|r| r.status == RunStatus::Failure))
        .map(|(k, _)| k.as_str())
        .collect();
    println!("backfill {id}: {}", record.status);
    if let Some(message) = &record.message {
        println!("{message}");
    }
    if !failed.is_empty() {
        println!("failed partitions: {}", failed.join(", "));
        println!("run them again with `weft backfill --partitions {}` or `--failed-only`", failed.join(","));
    }
    Ok(match record.status {
        BackfillStatus::Success => ExitCode::SUCCESS,
        BackfillStatus::Canceled | BackfillStatus::Interrupted => {
            eprintln!("resume with `weft backfill resume {id}`");
            ExitCode::from(130)
        }
        _ => ExitCode::from(1),
    })
}

/// `[#########.......]  18/31  ■ 16  ✗ 2  ▶ 2`
fn bar(p: &Progress) -> String {
    const WIDTH: usize = 30;
    let done = p.succeeded + p.failed;
    let filled = (done * WIDTH).checked_div(p.total).unwrap_or(WIDTH);
    format!(
        "[{}{}] {done}/{}  ■ {}  ✗ {}  ▶ {}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        p.total,
        p.succeeded,
        p.failed,
        p.running
    )
}

pub fn list(place: &Place, json: bool) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    let records = backfill::backfills(&host)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(ExitCode::SUCCESS);
    }
    if records.is_empty() {
        println!("no backfill yet");
    }
    for b in &records {
        let (first, last) = (b.keys.first().map_or("", String::as_str), b.keys.last().map_or("", String::as_str));
        println!(
            "{}  {:<11}  {:<16} {} partition(s) {first} .. {last}",
            b.id,
            b.status.to_string(),
            b.pipeline,
            b.keys.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(place: &Place, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    let record = backfill::backfill(&host, id)?;
    let runs = backfill::backfill_runs(&host, &record)?;
    if json {
        let partitions: Vec<serde_json::Value> = runs
            .iter()
            .map(|(key, run)| {
                serde_json::json!({ "key": key, "run": run.as_ref().map(|r| r.id), "status": run.as_ref().map(|r| r.status) })
            })
            .collect();
        let json = serde_json::json!({ "backfill": record, "partitions": partitions });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("backfill {} of {} ({}): {}", record.id, record.pipeline, record.partition_set, record.status);
    if let Some(message) = &record.message {
        println!("  {message}");
    }
    for (key, run) in runs {
        match run {
            Some(run) => println!("  {key:<20} {:<11} run {}", run.status.to_string(), run.id),
            None => println!("  {key:<20} not run"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn load_manifest(place: &Place) -> anyhow::Result<Manifest> {
    let path = place.manifest.clone().map_or_else(super::find_manifest, Ok)?;
    Ok(Manifest::load(&path).map_err(Error::from)?)
}

fn open(place: &Place, manifest: &Manifest) -> anyhow::Result<Host> {
    let db_path = place.db.clone().unwrap_or_else(|| weft_host::default_db_path(&manifest.path));
    Ok(Host::open(&db_path)?)
}

/// The time partitions are counted at: `WEFT_CLOCK` when set, else now.
fn clock() -> anyhow::Result<jiff::Timestamp> {
    Ok(weft_host::daemon::clock_from_env().map_err(Error::NotFound)?.now())
}

/// The manifest's only partitioned pipeline.
fn only_partitioned(manifest: &Manifest) -> anyhow::Result<String> {
    let partitioned: Vec<&str> =
        manifest.pipelines.iter().filter(|p| p.partitions.is_some()).map(|p| p.name.as_str()).collect();
    match partitioned.as_slice() {
        [only] => Ok((*only).to_owned()),
        [] => only_pipeline(manifest),
        many => Err(Error::NotFound(format!(
            "{} has {} partitioned pipelines; choose one with -p: {}",
            manifest.path.display(),
            many.len(),
            many.join(", ")
        ))
        .into()),
    }
}
