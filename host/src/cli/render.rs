//! How the CLI prints runs and events as text.

use std::path::Path;
use weft_host::{AssetEntry, AssetSummary, Event, EventKind, RunId, RunRecord, Stream};

pub fn note(note: &str) -> String {
    format!("   {note}")
}

pub fn run_header(manifest: &Path, pipeline: &str, id: RunId) {
    println!("Running pipeline {pipeline} from {} (run {id})", manifest.display());
}

fn clock(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    format!("{h:02}:{m:02}:{s:02}.{:03}", micros.rem_euclid(1_000_000) / 1000)
}

pub fn duration(micros: u64) -> String {
    if micros < 1_000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.1} ms", micros as f64 / 1e3)
    } else {
        format!("{:.2} s", micros as f64 / 1e6)
    }
}

/// One line (or a few) describing an event.
pub fn describe(event: &Event) -> String {
    let detail = match &event.kind {
        EventKind::RunStarted { pipeline } => format!("pipeline {pipeline}"),
        EventKind::RunSucceeded { duration_us } => format!("in {}", duration(*duration_us)),
        EventKind::RunFailed { duration_us, message } => format!("in {}: {message}", duration(*duration_us)),
        EventKind::StepStarted { attempt } => format!("attempt {attempt}"),
        EventKind::StepOutput { output, preview, value_type, .. } => format!("{output} = {preview} ({value_type})"),
        EventKind::StepSucceeded { duration_us } => format!("in {}", duration(*duration_us)),
        EventKind::StepFailed { duration_us, error } => {
            let mut text = format!("{} after {}: {}", error.kind, duration(*duration_us), error.message);
            for entry in &error.metadata {
                text.push_str(&format!("\n      {}: {}", entry.label, entry.value));
            }
            if let Some(backtrace) = &error.backtrace {
                for line in backtrace.lines() {
                    text.push_str(&format!("\n      {line}"));
                }
            }
            text
        }
        EventKind::StepSkipped { reason } | EventKind::StepCanceled { reason } => reason.clone(),
        EventKind::StepRetry { attempt, delay_us, error } => {
            format!("attempt {attempt} failed ({}: {}); retrying in {}", error.kind, error.message, duration(*delay_us))
        }
        EventKind::RunCanceled { duration_us } => format!("after {}", duration(*duration_us)),
        EventKind::RunInterrupted { message } => message.clone(),
        EventKind::StepReused { reason, .. } => reason.clone(),
        EventKind::Log { level, message } => format!("{level} {message}"),
        EventKind::Expectation { success, label, description, metadata } => {
            let mut text = format!("{label} {}", if *success { "passed" } else { "FAILED" });
            if let Some(d) = description {
                text.push_str(&format!(" — {d}"));
            }
            for entry in metadata {
                text.push_str(&format!("; {}: {}", entry.label, entry.value));
            }
            text
        }
        EventKind::Materialization { asset_key, description, metadata } => {
            let mut text = asset_key.clone();
            if let Some(d) = description {
                text.push_str(&format!(" — {d}"));
            }
            for entry in metadata {
                text.push_str(&format!("; {}: {}", entry.label, entry.value));
            }
            text
        }
        EventKind::ComputeLogs { attempt, stdout_bytes, stderr_bytes } => {
            format!("attempt {attempt}: captured {stdout_bytes} bytes of stdout, {stderr_bytes} of stderr")
        }
    };
    let step = event.step.as_deref().unwrap_or("");
    format!("{} {:<16} {:<15} {detail}", clock(event.timestamp), step, event.kind.name())
}

/// Per step: its final status and duration, from the events.
pub fn step_table(events: &[Event]) -> Vec<(String, &'static str, Option<u64>)> {
    let mut rows: Vec<(String, &'static str, Option<u64>)> = Vec::new();
    // Row of each step, in the order steps first appear: a scan per event was quadratic
    // (a tenth of a 10,000-step `weft run`).
    let mut row_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for event in events {
        let Some(step) = &event.step else { continue };
        let status = match &event.kind {
            EventKind::StepStarted { .. } => ("RUNNING", None),
            EventKind::StepSucceeded { duration_us } => ("SUCCESS", Some(*duration_us)),
            EventKind::StepFailed { duration_us, .. } => ("FAILURE", Some(*duration_us)),
            EventKind::StepSkipped { .. } => ("SKIPPED", None),
            EventKind::StepCanceled { .. } => ("CANCELED", None),
            EventKind::StepReused { .. } => ("REUSED", None),
            EventKind::StepRetry { .. } => ("RETRYING", None),
            _ => continue,
        };
        match row_of.get(step.as_str()) {
            Some(&row) => (rows[row].1, rows[row].2) = status,
            None => {
                row_of.insert(step, rows.len());
                rows.push((step.clone(), status.0, status.1));
            }
        }
    }
    rows
}

pub fn summary(record: &RunRecord, events: &[Event], db: &Path) {
    println!();
    println!("Steps:");
    for (step, status, took) in step_table(events) {
        println!("  {step:<20} {status:<8} {}", took.map(duration).unwrap_or_default());
    }
    let took = match (record.started_at, record.ended_at) {
        (Some(a), Some(b)) => duration((b - a).max(0) as u64),
        _ => String::new(),
    };
    println!("Run {} {} in {took} (recorded in {})", record.id, record.status, db.display());
}

pub fn runs(runs: &[RunRecord]) {
    if runs.is_empty() {
        println!("No runs yet.");
        return;
    }
    println!("{:<26}  {:<24}  {:<8}  {:<23}  {:>9}", "RUN", "PIPELINE", "STATUS", "STARTED (UTC)", "DURATION");
    for run in runs {
        let took = match (run.started_at, run.ended_at) {
            (Some(a), Some(b)) => duration((b - a).max(0) as u64),
            _ => "-".into(),
        };
        println!(
            "{:<26}  {:<24}  {:<8}  {:<23}  {:>9}",
            run.id,
            run.pipeline,
            run.status.to_string(),
            date_time(run.created_at),
            took
        );
    }
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC.
fn date_time(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {}", clock(micros))
}

pub fn show(record: &RunRecord, events: &[Event]) {
    println!("Run       {}", record.id);
    println!("Pipeline  {}", record.pipeline);
    println!("Manifest  {}", record.manifest);
    println!("Status    {}", record.status);
    println!("Created   {}", date_time(record.created_at));
    if let (Some(a), Some(b)) = (record.started_at, record.ended_at) {
        println!("Duration  {}", duration((b - a).max(0) as u64));
    }
    for (k, v) in &record.tags {
        println!("Tag       {k}={v}");
    }
    if let Some(parent) = record.parent_run {
        println!("Parent    {parent} (root {})", record.root_run.unwrap_or(parent));
    }
    if let Some(selection) = &record.step_selection {
        println!("Steps     {selection}");
    }
    if let Some(mode) = record.run_config.get("mode").and_then(|m| m.as_str()) {
        println!("Mode      {mode}");
    }
    println!("Config    {}", record.run_config);
    println!();
    println!("Steps:");
    for (step, status, took) in step_table(events) {
        println!("  {step:<20} {status:<8} {}", took.map(duration).unwrap_or_default());
    }
    let outputs: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepOutput { output, preview, value_type, size, .. } => Some(format!(
                "  {}.{output} = {preview} ({value_type}, {size} bytes)",
                e.step.as_deref().unwrap_or("?")
            )),
            _ => None,
        })
        .collect();
    if !outputs.is_empty() {
        println!();
        println!("Outputs:");
        for line in outputs {
            println!("{line}");
        }
    }
    println!();
    println!("Events:");
    for event in events {
        println!("  {}", describe(event));
    }
}

pub fn compute_log(step: &str, attempt: u32, stream: Stream, bytes: &[u8], headed: bool) {
    let name = match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    };
    if headed {
        println!("==> {step} attempt {attempt} {name} ({} bytes) <==", bytes.len());
    }
    print!("{}", String::from_utf8_lossy(bytes));
    if headed && !bytes.is_empty() && !bytes.ends_with(b"\n") {
        println!();
    }
}

pub fn assets(assets: &[AssetSummary]) {
    if assets.is_empty() {
        println!("No assets materialized yet.");
        return;
    }
    println!("{:<32}  {:>5}  {:<26}  {:<16}  {:<23}", "ASSET", "TIMES", "LATEST RUN", "STEP", "AT (UTC)");
    for asset in assets {
        let latest = &asset.latest;
        println!(
            "{:<32}  {:>5}  {:<26}  {:<16}  {:<23}",
            asset.key,
            asset.materializations,
            latest.run,
            latest.step,
            date_time(latest.event.timestamp)
        );
    }
}

pub fn asset_history(key: &str, history: &[AssetEntry]) {
    println!("Asset {key}: {} materialization(s)", history.len());
    for entry in history {
        println!("  {}  run {}  step {}", date_time(entry.event.timestamp), entry.run, entry.step);
        if let EventKind::Materialization { description, metadata, .. } = &entry.event.kind {
            if let Some(d) = description {
                println!("      {d}");
            }
            for m in metadata {
                println!("      {}: {}", m.label, m.value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_printed_in_utc() {
        assert_eq!(date_time(0), "1970-01-01 00:00:00.000");
        // 2026-11-26 20:54:17.5 UTC
        assert_eq!(date_time(1_795_726_457_500_000), "2026-11-26 20:54:17.500");
    }
}
