//! `weft run` and `weft reexecute`: plan, launch, stream the events, summarize.

use super::{Place, render};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use weft_host::{Error, Host, LockedPipeline, Manifest, Problems, Reexecution, RunConfig, RunStatus};

/// Where a run's config comes from, lowest first: a preset (or, for a re-execution, the
/// config the run had), a file over it, then `--set` values.
#[derive(Debug, Clone, Default)]
pub struct ConfigArgs {
    pub file: Option<PathBuf>,
    pub preset: Option<String>,
    pub sets: Vec<String>,
}

impl ConfigArgs {
    pub fn resolve(&self, base: RunConfig) -> Result<RunConfig, Problems> {
        let mut config = match &self.file {
            Some(path) => RunConfig::load(path)?.over(&base)?,
            None => base,
        };
        for assignment in &self.sets {
            config.set(assignment)?;
        }
        Ok(config)
    }
}

/// What to run.
pub enum What {
    /// A pipeline of a manifest, possibly a selection of its steps.
    Pipeline {
        manifest: PathBuf,
        pipeline: Option<String>,
        select: Option<String>,
        from: Option<String>,
        config: ConfigArgs,
    },
    /// A recorded run again.
    Reexecution { run: String, how: Reexecution, config: ConfigArgs },
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
        What::Pipeline { manifest, pipeline, select, from, config } => {
            let manifest = Manifest::load(&manifest).map_err(Error::from)?;
            let pipeline = match pipeline {
                Some(p) => p,
                None => only_pipeline(&manifest)?,
            };
            let base = match &config.preset {
                Some(preset) => manifest.preset(&pipeline, preset).map_err(Error::from)?,
                None => RunConfig::default(),
            };
            let mut run_config = config.resolve(base).map_err(Error::from)?;
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
        What::Reexecution { run, how, config } => {
            let host = place.open_existing()?;
            let db_path = host.db().path().to_path_buf();
            let parent = host.db().resolve_run(&run)?;
            let record = host.db().run(parent)?;
            // The config the run had (or a preset of its pipeline); a file and --set go over it.
            let base = match &config.preset {
                Some(preset) => Manifest::load(std::path::Path::new(&record.manifest))
                    .and_then(|m| m.preset(&record.pipeline, preset))
                    .map_err(Error::from)?,
                None => RunConfig::from_json(&record.run_config, None).map_err(Error::from)?,
            };
            let mut run_config = config.resolve(base).map_err(Error::from)?;
            flags(&mut run_config).map_err(Error::from)?;
            let plan = host.reexecute(parent, &how, Some(run_config)).await?;
            (host, db_path, plan)
        }
    };
    launch(&host, plan, &db_path, json).await
}

/// `weft build`: builds every stale solid of a manifest, saying what it built.
pub fn build(manifest: &std::path::Path) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::load(manifest).map_err(Error::from)?;
    let solids: Vec<&weft_host::manifest::SolidDecl> = manifest.solids.iter().collect();
    let built = std::sync::atomic::AtomicUsize::new(0);
    let note = |note: &str| {
        built.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        eprintln!("{}", render::note(note));
    };
    weft_host::recipe::build_stale(&manifest, &solids, &note).map_err(Error::from)?;
    if built.into_inner() == 0 {
        eprintln!("{}", render::note(&format!("all {} solid(s) are up to date", solids.len())));
    }
    Ok(ExitCode::SUCCESS)
}

/// `weft config`: prints the run config scaffold of a pipeline.
pub async fn scaffold(place: &Place, manifest: &std::path::Path, pipeline: Option<String>) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::load(manifest).map_err(Error::from)?;
    let pipeline = match pipeline {
        Some(p) => p,
        None => only_pipeline(&manifest)?,
    };
    // Describing needs an engine, not the project's store: use a throwaway one.
    let scratch = std::env::temp_dir().join(format!("weft-config-{}", std::process::id()));
    let db = place.db.clone().unwrap_or_else(|| scratch.join("scaffold.redb"));
    let steps = Host::open(&db)?.describe_pipeline(&manifest, &pipeline).await?;
    let shown = manifest.path.display().to_string();
    print!("{}", super::scaffold::render(&pipeline, &shown, &steps, &manifest.modes));
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(ExitCode::SUCCESS)
}

pub fn only_pipeline(manifest: &Manifest) -> anyhow::Result<String> {
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
    // Events are written in bursts, flushed whenever none is waiting: a line-buffered
    // write per event was a tenth of a 10,000-step run.
    let mut out = std::io::BufWriter::new(std::io::stdout());
    while let Some(mut event) = handle.next_event().await {
        loop {
            if json {
                serde_json::to_writer(&mut out, &event)?;
                writeln!(out)?;
            } else {
                writeln!(out, "{}", render::describe(&event))?;
            }
            events.push(event);
            match handle.try_next_event() {
                Some(next) => event = next,
                None => break,
            }
        }
        out.flush()?;
    }
    drop(out);
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
