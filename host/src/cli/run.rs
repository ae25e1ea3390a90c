//! `weft run` and `weft reexecute`: plan, launch, stream the events, summarize.

use super::{Place, render};
use std::path::PathBuf;
use std::process::ExitCode;
use weft_host::{Error, Host, LockedPipeline, Manifest, Problems, Reexecution, RunConfig, RunStatus};

/// What to run.
pub enum What {
    /// A pipeline of a manifest, possibly a selection of its steps.
    Pipeline {
        manifest: PathBuf,
        pipeline: Option<String>,
        select: Option<String>,
        from: Option<String>,
        config_file: Option<PathBuf>,
    },
    /// A recorded run again.
    Reexecution { run: String, how: Reexecution, config_file: Option<PathBuf> },
}

/// Plans `what`, with `flags` applied over its run config, runs it, and prints it.
pub async fn run(
    place: &Place,
    what: What,
    flags: &dyn Fn(&mut RunConfig) -> Result<(), Problems>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let note = |note: &str| {
        if !json {
            eprintln!("{}", render::note(note));
        }
    };
    let (host, db_path, plan) = match what {
        What::Pipeline { manifest, pipeline, select, from, config_file } => {
            let manifest = Manifest::load(&manifest).map_err(Error::from)?;
            let pipeline = match pipeline {
                Some(p) => p,
                None => only_pipeline(&manifest)?,
            };
            let mut run_config = match &config_file {
                Some(path) => RunConfig::load(path).map_err(Error::from)?,
                None => RunConfig::default(),
            };
            flags(&mut run_config).map_err(Error::from)?;
            let db_path = place.db.clone().unwrap_or_else(|| weft_host::default_db_path(&manifest.path));
            let host = Host::open(&db_path)?;
            let mut plan = host.plan_with_notes(&manifest, &pipeline, &run_config, &note).await?;
            if let Some(selection) = &select {
                let parent = match &from {
                    Some(prefix) => Some((host.db().resolve_run(prefix)?, host.db())),
                    None => None,
                };
                plan.select(selection, parent)?;
            }
            (host, db_path, plan)
        }
        What::Reexecution { run, how, config_file } => {
            let host = place.open_existing()?;
            let db_path = host.db().path().to_path_buf();
            let parent = host.db().resolve_run(&run)?;
            // The config the run had, unless a file replaces it; the flags go over either.
            let mut run_config = match &config_file {
                Some(path) => RunConfig::load(path).map_err(Error::from)?,
                None => RunConfig::from_json(&host.db().run(parent)?.run_config, None).map_err(Error::from)?,
            };
            flags(&mut run_config).map_err(Error::from)?;
            let plan = host.reexecute(parent, &how, Some(run_config)).await?;
            (host, db_path, plan)
        }
    };
    launch(&host, plan, &db_path, json).await
}

fn only_pipeline(manifest: &Manifest) -> anyhow::Result<String> {
    match manifest.pipelines.as_slice() {
        [only] => Ok(only.name.clone()),
        many => {
            let names: Vec<&str> = many.iter().map(|p| p.name.as_str()).collect();
            let message = format!(
                "{} declares {} pipelines; choose one with -p: {}",
                manifest.path.display(),
                many.len(),
                names.join(", ")
            );
            Err(Error::NotFound(message).into())
        }
    }
}

async fn launch(host: &Host, plan: LockedPipeline, db_path: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let (manifest, pipeline) = (plan.manifest.clone(), plan.name.clone());
    let mut handle = host.launch(plan)?;
    if !json {
        render::run_header(&manifest, &pipeline, handle.id);
    }
    // Ctrl-C cancels the run and lets it record that; a second Ctrl-C exits at once (the
    // store stays consistent: every commit is atomic, and the next weft to open it marks
    // the run interrupted).
    let cancel = handle.cancel_token();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("canceling the run (Ctrl-C again to exit at once)");
            cancel.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    let mut events = Vec::new();
    while let Some(event) = handle.next_event().await {
        if json {
            println!("{}", serde_json::to_string(&event)?);
        } else {
            render::live_event(&event);
        }
        events.push(event);
    }
    let record = handle.wait().await?;
    if !json {
        render::summary(&record, &events, db_path);
    }
    Ok(match record.status {
        RunStatus::Success => ExitCode::SUCCESS,
        RunStatus::Canceled => ExitCode::from(130),
        _ => ExitCode::from(1),
    })
}
