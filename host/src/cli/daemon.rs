//! `weft daemon` (evaluate schedules and sensors, launch their runs) and `weft
//! schedules` / `weft sensors` (each one's recent ticks).

use super::Place;
use std::process::ExitCode;
use std::time::Duration;
use weft_host::daemon::{Daemon, clock_from_env};
use weft_host::db::Tick;
use weft_host::{CancelToken, Error, Host, Manifest, RunStatus};

pub async fn daemon(place: &Place, manifest: &std::path::Path, once: bool, poll: Duration) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::load(manifest).map_err(Error::from)?;
    let db_path = place.db.clone().unwrap_or_else(|| weft_host::default_db_path(&manifest.path));
    let host = Host::open(&db_path)?;
    let clock = clock_from_env().map_err(Error::NotFound)?;
    eprintln!(
        "weft daemon: {} schedule(s), {} sensor(s) of {} (store {})",
        manifest.schedules.len(),
        manifest.sensors.len(),
        manifest.path.display(),
        db_path.display()
    );
    let mut daemon = Daemon::new(host, manifest, clock);
    if once {
        let ticks = daemon.evaluate().await?;
        for tick in &ticks {
            println!("{}", describe(tick));
        }
        let records = daemon.wait().await;
        for run in &records {
            println!("run {} of {}: {}", run.id, run.pipeline, run.status);
        }
        // For a cron job running `--once`: a tick that failed or a run that did not succeed
        // is a failure of the job.
        let failed = ticks.iter().any(|t| t.status == weft_host::db::TickStatus::Failure)
            || records.iter().any(|r| r.status != RunStatus::Success);
        return Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS });
    }
    // The first Ctrl-C or SIGTERM stops evaluating and lets the runs launched finish; a
    // second cancels them.
    let (stop, abort) = (CancelToken::new(), CancelToken::new());
    tokio::spawn({
        let (stop, abort) = (stop.clone(), abort.clone());
        async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let says = [
                "weft daemon: stopping: no new ticks; the runs going finish (again to cancel them)",
                "weft daemon: canceling the runs still going",
            ];
            for (token, said) in [stop, abort].into_iter().zip(says) {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => None } } => {}
                }
                eprintln!("{said}");
                token.cancel();
            }
        }
    });
    daemon.run(poll, stop, abort, &|tick| println!("{}", describe(tick))).await?;
    Ok(ExitCode::SUCCESS)
}

/// One line per tick: `2024-01-10T02:00:00Z schedule/nightly SUCCESS partition 2024-01-09 run 01H...`.
pub fn describe(tick: &Tick) -> String {
    let at = jiff::Timestamp::from_microsecond(tick.at).map(|t| t.to_string()).unwrap_or_default();
    let mut line = format!("{at}  {}  {}", tick.origin, tick.status);
    if let Some(partition) = &tick.partition {
        line.push_str(&format!("  partition {partition}"));
    }
    for run in &tick.runs {
        line.push_str(&format!("  run {run}"));
    }
    if let Some(message) = &tick.message {
        line.push_str(&format!("  {message}"));
    }
    line
}

/// `weft schedules` (`sensors` false) or `weft sensors`: each with its recent ticks.
pub fn list(place: &Place, sensors: bool, limit: usize, json: bool) -> anyhow::Result<ExitCode> {
    let path = place.manifest.clone().map_or_else(super::find_manifest, Ok)?;
    let manifest = Manifest::load(&path).map_err(Error::from)?;
    let db_path = place.db.clone().unwrap_or_else(|| weft_host::default_db_path(&manifest.path));
    let host = Host::open(&db_path)?;
    let now = clock_from_env().map_err(Error::NotFound)?.now();
    let mut entries = Vec::new();
    if sensors {
        for sensor in &manifest.sensors {
            let origin = format!("sensor/{}", sensor.name);
            let kind = match &sensor.kind {
                weft_host::manifest::SensorKind::Component { wasm, .. } => format!("component {}", wasm.display()),
                weft_host::manifest::SensorKind::Files { directory, .. } => format!("files in {}", directory.display()),
            };
            let header = format!("sensor {} -> {} ({kind}, every {:?})", sensor.name, sensor.pipeline, sensor.interval);
            let state = host.db().automation_state(&origin)?;
            entries.push((header, origin.clone(), state.cursor, host.db().ticks(&origin, limit)?));
        }
    } else {
        for schedule in &manifest.schedules {
            let origin = format!("schedule/{}", schedule.name);
            let tz = jiff::tz::TimeZone::get(&schedule.timezone).map_err(|e| Error::NotFound(e.to_string()))?;
            let next = schedule.cron.next_after(now, &tz).map(|t| t.to_zoned(tz.clone()).to_string());
            let header = format!(
                "schedule {} -> {} (cron `{}` in {}; next tick {})",
                schedule.name,
                schedule.pipeline,
                schedule.cron,
                schedule.timezone,
                next.unwrap_or_else(|| "never".into())
            );
            entries.push((header, origin.clone(), None, host.db().ticks(&origin, limit)?));
        }
    }
    if json {
        let list: Vec<serde_json::Value> = entries
            .iter()
            .map(|(header, origin, cursor, ticks)| {
                serde_json::json!({ "origin": origin, "about": header, "cursor": cursor, "ticks": ticks })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        println!("{} declares no {}", manifest.path.display(), if sensors { "sensor" } else { "schedule" });
    }
    for (header, _, cursor, ticks) in entries {
        println!("{header}");
        if let Some(cursor) = cursor {
            println!("  cursor: {cursor}");
        }
        if ticks.is_empty() {
            println!("  no tick yet");
        }
        for tick in ticks {
            println!("  {}", describe(&tick));
        }
    }
    Ok(ExitCode::SUCCESS)
}
