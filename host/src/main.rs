//! `weft`: the command line. Thin: arguments become settings, settings become calls on
//! `weft_host`, results become text or JSON.
//!
//! Exit codes: 0 success; 1 the run failed; 2 bad input (usage, manifest, component, run
//! config, unknown run); 3 a fault of the host or its database; 130 the run was canceled.

mod render;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use weft_host::{Error, Host, Manifest, RunConfig, RunStatus, Stream};

#[derive(Parser, Debug)]
#[command(name = "weft", version, about = "Run pipelines of sandboxed WebAssembly solids", long_about = None)]
struct Cli {
    /// The store to use [default: .weft/weft.redb beside the manifest]
    #[arg(long, global = true, env = "WEFT_DB", value_name = "PATH")]
    db: Option<PathBuf>,

    /// The manifest (weft.toml, or its directory) [default: the nearest weft.toml]
    #[arg(short, long, global = true, value_name = "PATH")]
    manifest: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a pipeline, building missing or stale solids first
    Run {
        /// The manifest (weft.toml, or its directory)
        #[arg(value_name = "MANIFEST")]
        path: Option<PathBuf>,
        /// The pipeline to run [default: the manifest's only pipeline]
        #[arg(short, long)]
        pipeline: Option<String>,
        /// A run config file (TOML or JSON): solids.<alias>.config, tags
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the events as JSON lines instead of text
        #[arg(long)]
        json: bool,
        /// Run only these steps: `name`, `*name` (and ancestors), `name+` (and children),
        /// `+name++`, comma lists
        #[arg(short, long, value_name = "SELECTION")]
        select: Option<String>,
        /// Reuse this run's outputs for the inputs of selected steps that come from
        /// unselected ones
        #[arg(long, value_name = "RUN", requires = "select")]
        from: Option<String>,
        /// Steps running at once [default: the pipeline's setting, else the core count]
        #[arg(long, value_name = "N")]
        max_concurrent: Option<u64>,
        /// Stop at the first failed step: start nothing new, interrupt running steps
        #[arg(long)]
        fail_fast: bool,
        /// Where steps run: in-process, or multiprocess (a child process per step)
        #[arg(long, value_parser = ["in-process", "multiprocess"])]
        executor: Option<String>,
    },
    /// Run one step attempt sent on stdin (the multiprocess executor's child)
    #[command(hide = true)]
    Worker {
        /// Which run and step this worker runs, for the process list
        #[arg(long)]
        label: Option<String>,
    },
    /// List runs, newest first
    Runs {
        /// Print JSON
        #[arg(long)]
        json: bool,
        /// At most this many runs
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: usize,
    },
    /// Print a run: its record, steps and events
    Show {
        /// A run id, or a unique prefix of one
        run: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Print a run's compute logs (what its steps wrote to stdout and stderr)
    Logs {
        /// A run id, or a unique prefix of one
        run: String,
        /// Only this step
        #[arg(short, long)]
        step: Option<String>,
        /// Only stdout
        #[arg(long, conflicts_with = "stderr")]
        stdout: bool,
        /// Only stderr
        #[arg(long)]
        stderr: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WEFT_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(error) => {
            let code = match error.downcast_ref::<Error>() {
                Some(e) if e.is_bad_input() => 2,
                _ => 3,
            };
            eprintln!("error: {error:#}");
            ExitCode::from(code)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run { path, pipeline, config, json, select, from, max_concurrent, fail_fast, executor } => {
            let manifest_path = path.or(cli.manifest).map_or_else(find_manifest, Ok)?;
            let mut run_config = match &config {
                Some(path) => RunConfig::load(path).map_err(Error::from)?,
                None => RunConfig::default(),
            };
            if let Some(n) = max_concurrent {
                run_config.override_execution("max_concurrent", n.into()).map_err(Error::from)?;
            }
            if fail_fast {
                run_config.override_execution("fail_fast", true.into()).map_err(Error::from)?;
            }
            if let Some(executor) = executor {
                run_config.override_execution("executor", executor.replace('-', "_").into()).map_err(Error::from)?;
            }
            let options = RunOptions { pipeline, select, from, json };
            run(&manifest_path, cli.db, run_config, options).await
        }
        Command::Worker { .. } => {
            weft_host::serve_worker().await.map_err(anyhow::Error::msg)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs { json, limit } => {
            let host = open_host(cli.db, cli.manifest)?;
            let runs: Vec<_> = host.runs()?.into_iter().take(limit).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                render::runs(&runs);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { run, json } => {
            let host = open_host(cli.db, cli.manifest)?;
            let record = host.run_record(&run)?;
            let events = host.events(record.id)?;
            if json {
                let shown = serde_json::json!({ "run": record, "events": events });
                println!("{}", serde_json::to_string_pretty(&shown)?);
            } else {
                render::show(&record, &events);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Logs { run, step, stdout, stderr } => {
            let host = open_host(cli.db, cli.manifest)?;
            let record = host.run_record(&run)?;
            let events = host.events(record.id)?;
            let mut steps: Vec<String> = Vec::new();
            for event in &events {
                if let Some(s) = &event.step
                    && !steps.contains(s)
                {
                    steps.push(s.clone());
                }
            }
            if let Some(only) = &step {
                if !steps.contains(only) {
                    let message = format!("run {} has no step `{only}` (steps: {})", record.id, steps.join(", "));
                    return Err(Error::NotFound(message).into());
                }
                steps.retain(|s| s == only);
            }
            let wanted = |stream: Stream| match (stdout, stderr) {
                (true, _) => stream == Stream::Stdout,
                (_, true) => stream == Stream::Stderr,
                _ => true,
            };
            let headed = !(stdout || stderr) || steps.len() > 1;
            let mut printed = false;
            for s in &steps {
                for (attempt, stream, bytes) in host.db().compute_logs(record.id, s)? {
                    if wanted(stream) && !bytes.is_empty() {
                        render::compute_log(s, attempt, stream, &bytes, headed);
                        printed = true;
                    }
                }
            }
            if !printed {
                eprintln!("no compute logs: the selected steps wrote nothing");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What `weft run` was asked beyond the manifest and run config.
struct RunOptions {
    pipeline: Option<String>,
    select: Option<String>,
    from: Option<String>,
    json: bool,
}

async fn run(
    manifest_path: &Path,
    db: Option<PathBuf>,
    run_config: RunConfig,
    options: RunOptions,
) -> anyhow::Result<ExitCode> {
    let json = options.json;
    let manifest = Manifest::load(manifest_path).map_err(Error::from)?;
    let pipeline = match options.pipeline {
        Some(p) => p,
        None => match manifest.pipelines.as_slice() {
            [only] => only.name.clone(),
            many => {
                let names: Vec<&str> = many.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::NotFound(format!(
                    "{} declares {} pipelines; choose one with -p: {}",
                    manifest.path.display(),
                    many.len(),
                    names.join(", ")
                ))
                .into());
            }
        },
    };
    let db_path = db.unwrap_or_else(|| weft_host::default_db_path(&manifest.path));
    let host = Host::open(&db_path)?;
    let mut plan = host
        .plan_with_notes(&manifest, &pipeline, &run_config, &|note| {
            if !json {
                eprintln!("{}", render::note(note));
            }
        })
        .await?;
    if let Some(selection) = &options.select {
        let parent = match &options.from {
            Some(prefix) => Some((host.db().resolve_run(prefix)?, host.db())),
            None => None,
        };
        plan.select(selection, parent)?;
    }
    let mut handle = host.launch(plan)?;
    if !json {
        render::run_header(&manifest.path, &pipeline, handle.id);
    }
    // Ctrl-C cancels the run and lets it record that; a second Ctrl-C exits at once (the
    // store stays consistent: every commit is atomic).
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
        render::summary(&record, &events, &db_path);
    }
    Ok(match record.status {
        RunStatus::Success => ExitCode::SUCCESS,
        RunStatus::Canceled => ExitCode::from(130),
        _ => ExitCode::from(1),
    })
}

/// The nearest `weft.toml`, in this directory or above.
fn find_manifest() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    for dir in cwd.ancestors() {
        let candidate = dir.join("weft.toml");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::NotFound(format!("no weft.toml in {} or above; name a manifest", cwd.display())).into())
}

fn open_host(db: Option<PathBuf>, manifest: Option<PathBuf>) -> anyhow::Result<Host> {
    let db_path = match db {
        Some(db) => db,
        None => {
            let manifest = manifest.map_or_else(find_manifest, Ok)?;
            weft_host::default_db_path(&manifest)
        }
    };
    if !db_path.exists() {
        return Err(Error::NotFound(format!("no store at {}: no run was recorded there yet", db_path.display())).into());
    }
    Ok(Host::open(&db_path)?)
}
