//! The history commands: `runs`, `runs delete`, `show`, `logs`, `gc`, `assets`.

use super::{Place, parse_age, render};
use std::process::ExitCode;
use std::time::Duration;
use weft_host::{Error, Retention, RunFilter, RunStatus, Stream};

pub fn runs(
    place: &Place,
    pipeline: Option<String>,
    status: Option<String>,
    tags: Vec<String>,
    since: Option<String>,
    json: bool,
    limit: usize,
) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    let status = status.map(|text| text.parse::<RunStatus>()).transpose().map_err(Error::NotFound)?;
    let tags = tags.iter().map(|t| RunFilter::parse_tag(t)).collect::<Result<Vec<_>, _>>().map_err(Error::NotFound)?;
    let since = match since {
        Some(age) => Some(weft_host::run::now_micros() - parse_age(&age)?.as_micros() as i64),
        None => None,
    };
    let filter = RunFilter { pipeline, status, tags, since, limit: Some(limit), ..RunFilter::default() };
    let runs = host.db().runs_matching(&filter)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
    } else {
        render::runs(&runs);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn delete(place: &Place, runs: &[String]) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    for prefix in runs {
        let id = host.db().resolve_run(prefix)?;
        host.delete_run(id)?;
        println!("deleted run {id}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(place: &Place, run: &str, json: bool) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    let record = host.run_record(run)?;
    let events = host.events(record.id)?;
    if json {
        let outputs: Vec<serde_json::Value> = host
            .db()
            .outputs_of(record.id)?
            .into_iter()
            .map(|(step, output, digest)| {
                serde_json::json!({"step": step, "output": output, "digest": blake3::Hash::from(digest).to_hex().to_string()})
            })
            .collect();
        let shown = serde_json::json!({ "run": record, "outputs": outputs, "events": events });
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        render::show(&record, &events);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn logs(
    place: &Place,
    run: &str,
    step: Option<String>,
    stdout: bool,
    stderr: bool,
    follow: bool,
) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    let id = host.run_record(run)?.id;
    let wanted = |stream: Stream| match (stdout, stderr) {
        (true, _) => stream == Stream::Stdout,
        (_, true) => stream == Stream::Stderr,
        _ => true,
    };
    // What was printed: (step, attempt, stream).
    let mut printed: Vec<(String, u32, Stream)> = Vec::new();
    loop {
        // Read the status before the logs, so the last round sees everything written.
        let finished = host.db().run(id)?.status.is_finished();
        let mut steps: Vec<String> = Vec::new();
        for event in host.events(id)? {
            if let Some(s) = event.step
                && !steps.contains(&s)
            {
                steps.push(s);
            }
        }
        if let Some(only) = &step {
            if !steps.contains(only) && (finished || !follow) {
                let message = format!("run {id} has no step `{only}` (steps: {})", steps.join(", "));
                return Err(Error::NotFound(message).into());
            }
            steps.retain(|s| s == only);
        }
        let headed = !(stdout || stderr) || step.is_none();
        for s in &steps {
            for (attempt, stream, bytes) in host.db().compute_logs(id, s)? {
                let key = (s.clone(), attempt, stream);
                if wanted(stream) && !bytes.is_empty() && !printed.contains(&key) {
                    render::compute_log(s, attempt, stream, &bytes, headed);
                    printed.push(key);
                }
            }
        }
        if !follow || finished {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if printed.is_empty() {
        eprintln!("no compute logs: the steps wrote nothing");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn gc(place: &Place, keep_last: Option<usize>, older_than: Option<String>) -> anyhow::Result<ExitCode> {
    if keep_last.is_none() && older_than.is_none() {
        let message = "say what to keep: --keep-last N and/or --older-than AGE (such as 30d)";
        return Err(Error::NotFound(message.into()).into());
    }
    let host = place.open_existing()?;
    let older_than = older_than.as_deref().map(parse_age).transpose()?;
    let report = host.gc(Retention { keep_last, older_than })?;
    println!(
        "deleted {} run(s); freed {} output blob(s), {} bytes",
        report.runs_deleted.len(),
        report.blobs_freed,
        report.bytes_freed
    );
    Ok(ExitCode::SUCCESS)
}

pub fn assets(place: &Place, json: bool) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    let assets = host.db().assets()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&assets)?);
    } else {
        render::assets(&assets);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn asset(place: &Place, key: &str, json: bool) -> anyhow::Result<ExitCode> {
    let host = place.open_existing()?;
    let history = host.db().asset_history(key)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&history)?);
    } else {
        render::asset_history(key, &history);
    }
    Ok(ExitCode::SUCCESS)
}
