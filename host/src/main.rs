//! `weft`: the command line. Thin: arguments become settings, settings become calls on
//! `weft_host`, results become text or JSON.
//!
//! Exit codes: 0 success; 1 the run failed; 2 bad input (usage, manifest, component, run
//! config, unknown run); 3 a fault of the host or its database; 130 the run was canceled.

mod cli;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use weft_host::Error;

/// A step allocates and frees hundreds of small buffers (its store, its events, their
/// encoding); mimalloc does that in about half the time of glibc's malloc, a tenth of a
/// trivial step on 2 cores. The library leaves the allocator to the program embedding it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Where a run's config comes from, shared by `run`, `reexecute` and `backfill`.
#[derive(clap::Args, Debug)]
struct RunConfigArgs {
    /// A run config file (TOML, YAML or JSON): solids.<alias>.config, resources.<name>.config,
    /// execution, limits, tags, mode
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Start from this preset of the pipeline (the config file and --set go over it)
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// Run in this mode: the resources it binds, its run config under the run's
    /// [default: the manifest's default mode, else its only mode]
    #[arg(long, value_name = "NAME")]
    mode: Option<String>,
    /// Set one run config value: --set solids.<alias>.config.iterations=3 (repeatable)
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
}

impl RunConfigArgs {
    fn config_args(&self) -> cli::run::ConfigArgs {
        cli::run::ConfigArgs { file: self.config.clone(), preset: self.preset.clone(), sets: self.sets.clone() }
    }
}

/// How a run executes, shared by `run` and `reexecute`.
#[derive(clap::Args, Debug)]
struct ExecutionArgs {
    #[command(flatten)]
    source: RunConfigArgs,
    /// Steps running at once [default: the pipeline's setting, else the core count]
    #[arg(long, value_name = "N")]
    max_concurrent: Option<u64>,
    /// Stop at the first failed step: start nothing new, interrupt running steps
    #[arg(long)]
    fail_fast: bool,
    /// Where steps run: in-process, or multiprocess (a child process per step)
    #[arg(long, value_parser = ["in-process", "multiprocess"])]
    executor: Option<String>,
    /// Reuse the outputs of earlier successes of steps with the same component, version,
    /// config and inputs
    #[arg(long)]
    memoize: bool,
    /// Print the events as JSON lines instead of text
    #[arg(long)]
    json: bool,
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
        /// Run only these steps: `name`, `*name` (and ancestors), `name+` (and children),
        /// `+name++`, comma lists
        #[arg(short, long, value_name = "SELECTION")]
        select: Option<String>,
        /// Reuse this run's outputs for the inputs of selected steps that come from
        /// unselected ones
        #[arg(long, value_name = "RUN", requires = "select")]
        from: Option<String>,
        /// Run this partition of a partitioned pipeline (a key of its partition set)
        #[arg(long, value_name = "KEY")]
        partition: Option<String>,
        #[command(flatten)]
        execution: ExecutionArgs,
    },
    /// Print where each partition of a partitioned pipeline stands: succeeded, failed,
    /// running or missing (a grid for daily and hourly partitions)
    Partitions {
        /// The pipeline [default: the manifest's only partitioned pipeline]
        #[arg(short, long)]
        pipeline: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Run a pipeline once per partition, as one tracked, resumable backfill
    Backfill {
        #[command(subcommand)]
        action: Option<BackfillAction>,
        /// The pipeline [default: the manifest's only partitioned pipeline]
        #[arg(short, long)]
        pipeline: Option<String>,
        /// The first partition key [default: the first]
        #[arg(long, value_name = "KEY", conflicts_with = "partitions")]
        from: Option<String>,
        /// The last partition key, included [default: the last that has ended]
        #[arg(long, value_name = "KEY", conflicts_with = "partitions")]
        to: Option<String>,
        /// These partition keys, comma-separated
        #[arg(long, value_name = "A,B,C")]
        partitions: Option<String>,
        /// Only partitions that never ran
        #[arg(long)]
        missing_only: bool,
        /// Only partitions whose latest run failed (with --missing-only: either)
        #[arg(long)]
        failed_only: bool,
        /// Runs at once
        #[arg(long, value_name = "N", default_value_t = 4)]
        max_concurrent: usize,
        #[command(flatten)]
        source: RunConfigArgs,
    },
    /// Evaluate the manifest's schedules and sensors and launch the runs they ask for
    ///
    /// Set WEFT_CLOCK to an instant (2024-01-10T02:00:00Z), or to a file holding one, to
    /// run on that time instead of the system's.
    Daemon {
        /// The manifest (weft.toml, or its directory)
        #[arg(value_name = "MANIFEST")]
        path: Option<PathBuf>,
        /// Evaluate once, wait for the runs launched, and exit
        #[arg(long)]
        once: bool,
        /// How often to evaluate
        #[arg(long, default_value = "1s", value_name = "DURATION")]
        poll: String,
    },
    /// List the manifest's schedules, each with its next and recent ticks
    Schedules {
        /// Ticks per schedule
        #[arg(short = 'n', long, default_value_t = 10)]
        limit: usize,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List the manifest's sensors, each with its cursor and recent ticks
    Sensors {
        /// Ticks per sensor
        #[arg(short = 'n', long, default_value_t = 10)]
        limit: usize,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Run a recorded run again, reusing the outputs of the steps it does not run
    Reexecute {
        /// A run id, or a unique prefix of one
        run: String,
        /// Run the steps that did not succeed (and so everything after them)
        #[arg(long, conflicts_with = "steps")]
        from_failure: bool,
        /// Run only these steps (the selection syntax of `run --select`)
        #[arg(long, value_name = "SELECTION")]
        steps: Option<String>,
        #[command(flatten)]
        execution: ExecutionArgs,
    },
    /// Run one step attempt sent on stdin (the multiprocess executor's child)
    #[command(hide = true)]
    Worker {
        /// Which run and step this worker runs, for the process list
        #[arg(long)]
        label: Option<String>,
    },
    /// Build every solid of a manifest that is missing or older than its sources
    Build {
        /// The manifest (weft.toml, or its directory)
        #[arg(value_name = "MANIFEST")]
        path: Option<PathBuf>,
    },
    /// Create a project from a template, or add a solid to one
    New {
        /// The project directory to create; without it, the solid is added to the
        /// manifest (-m, or the nearest weft.toml)
        #[arg(value_name = "DIR", required_unless_present = "solid")]
        dir: Option<PathBuf>,
        /// The solid's language: rust, python, javascript, c, zig or go
        #[arg(short, long)]
        language: String,
        /// The solid's name [default in a new project: hello]
        #[arg(long, value_name = "NAME")]
        solid: Option<String>,
    },
    /// Run the manifest's tests ([tests.NAME]): pipelines whose outputs must match
    Test {
        /// The manifest (weft.toml, or its directory)
        #[arg(value_name = "MANIFEST")]
        path: Option<PathBuf>,
        /// Only the tests whose names contain one of these
        #[arg(short, long = "test", value_name = "NAME")]
        tests: Vec<String>,
    },
    /// Print a commented run config with every field the pipeline's solids take
    Config {
        /// The manifest (weft.toml, or its directory)
        #[arg(value_name = "MANIFEST")]
        path: Option<PathBuf>,
        /// The pipeline [default: the manifest's only pipeline]
        #[arg(short, long)]
        pipeline: Option<String>,
    },
    /// List runs, newest first; or delete some
    Runs {
        #[command(subcommand)]
        action: Option<RunsAction>,
        /// Only runs of this pipeline
        #[arg(short, long)]
        pipeline: Option<String>,
        /// Only runs with this status (success, failure, canceled, interrupted, started)
        #[arg(long)]
        status: Option<String>,
        /// Only runs with this tag (KEY=VALUE; repeat for several)
        #[arg(long, value_name = "KEY=VALUE")]
        tag: Vec<String>,
        /// Only runs created within this long (30m, 2h, 7d)
        #[arg(long, value_name = "AGE")]
        since: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
        /// At most this many runs
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: usize,
    },
    /// Print a run: its record, steps, outputs and events
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
        /// Keep printing logs as steps finish, until the run ends
        #[arg(short, long)]
        follow: bool,
    },
    /// Delete finished runs outside a retention policy, and free unreferenced outputs
    Gc {
        /// Keep this many of the newest finished runs
        #[arg(long, value_name = "N")]
        keep_last: Option<usize>,
        /// Delete finished runs older than this (30m, 12h, 30d)
        #[arg(long, value_name = "AGE")]
        older_than: Option<String>,
    },
    /// Serve the web UI and its JSON API (docs/api.md) for a manifest
    ///
    /// The front end is embedded in this binary. To work on it without rebuilding, set
    /// WEFT_UI_ASSETS=host/src/ui/assets: the files are then read from there on every
    /// request.
    Ui {
        /// The manifest (weft.toml, or its directory)
        #[arg(value_name = "MANIFEST")]
        path: Option<PathBuf>,
        /// The port to listen on (0: any free port)
        #[arg(short, long, default_value_t = 3000)]
        port: u16,
        /// The address to listen on; any but loopback needs --token
        #[arg(long, default_value = "127.0.0.1", value_name = "IP")]
        bind: std::net::IpAddr,
        /// The token every request must carry (header `Authorization: Bearer`, or open
        /// /?token=TOKEN once in the browser)
        #[arg(long, env = "WEFT_UI_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Also run the daemon: evaluate schedules and sensors in this process
        #[arg(long)]
        daemon: bool,
    },
    /// List assets with their latest materialization; or show one's history
    Assets {
        #[command(subcommand)]
        action: Option<AssetsAction>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum RunsAction {
    /// Delete finished runs (their outputs are freed by `weft gc`)
    Delete {
        /// Run ids, or unique prefixes
        #[arg(required = true)]
        runs: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum BackfillAction {
    /// Go on with an interrupted or canceled backfill: partitions it did not take to
    /// success or failure run again; those that succeeded do not
    Resume {
        /// A backfill id, or a unique prefix of one
        id: String,
    },
    /// List backfills, newest first
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Print a backfill and the run of each of its partitions
    Show {
        /// A backfill id, or a unique prefix of one
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AssetsAction {
    /// Every materialization of one asset, with the run and step that produced it
    Show {
        /// The asset key, such as `warehouse/orders`
        key: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Commands that only print end quietly when their reader goes away. A run, and the UI
    // that launches runs and writes to sockets, keep SIGPIPE ignored: a dead worker or a
    // closed connection must fail one step or one response, not kill the host.
    if !matches!(
        cli.command,
        Command::Run { .. }
            | Command::Reexecute { .. }
            | Command::Worker { .. }
            | Command::Ui { .. }
            | Command::Backfill { .. }
            | Command::Daemon { .. }
    ) {
        restore_sigpipe();
    }
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
    let place = cli::Place { db: cli.db, manifest: cli.manifest };
    match cli.command {
        Command::Run { path, pipeline, select, from, partition, execution } => {
            let manifest = path.or(place.manifest.clone()).map_or_else(cli::find_manifest, Ok)?;
            let what = cli::run::What::Pipeline { manifest, pipeline, select, from, config: execution.config_args() };
            let flags = |config: &mut weft_host::RunConfig| {
                if let Some(key) = &partition {
                    config.partition = Some(key.clone());
                }
                execution.apply(config)
            };
            cli::run::run(&place, what, &flags, execution.json).await
        }
        Command::Partitions { pipeline, json } => {
            cli::partitions::status(&place, cli::partitions::StatusArgs { pipeline, json })
        }
        Command::Backfill { action: Some(BackfillAction::Resume { id }), .. } => {
            cli::partitions::resume(&place, &id).await
        }
        Command::Backfill { action: Some(BackfillAction::List { json }), .. } => cli::partitions::list(&place, json),
        Command::Backfill { action: Some(BackfillAction::Show { id, json }), .. } => {
            cli::partitions::show(&place, &id, json)
        }
        Command::Backfill {
            action: None,
            pipeline,
            from,
            to,
            partitions,
            missing_only,
            failed_only,
            max_concurrent,
            source,
        } => {
            let args = cli::partitions::BackfillArgs {
                pipeline,
                from,
                to,
                partitions,
                missing_only,
                failed_only,
                max_concurrent,
                mode: source.mode.clone(),
                config: source.config_args(),
            };
            cli::partitions::start(&place, args).await
        }
        Command::Daemon { path, once, poll } => {
            let manifest = path.or(place.manifest.clone()).map_or_else(cli::find_manifest, Ok)?;
            let poll = weft_host::execution::parse_duration(&serde_json::Value::String(poll))
                .map_err(|e| Error::NotFound(format!("--poll: {e}")))?
                .max(std::time::Duration::from_millis(50));
            cli::daemon::daemon(&place, &manifest, once, poll).await
        }
        Command::Schedules { limit, json } => cli::daemon::list(&place, false, limit, json),
        Command::Sensors { limit, json } => cli::daemon::list(&place, true, limit, json),
        Command::Reexecute { run, from_failure, steps, execution } => {
            let how = match (from_failure, steps) {
                (true, _) => weft_host::Reexecution::FromFailure,
                (_, Some(selection)) => weft_host::Reexecution::Steps(selection),
                _ => weft_host::Reexecution::All,
            };
            let what = cli::run::What::Reexecution { run, how, config: execution.config_args() };
            cli::run::run(&place, what, &|config| execution.apply(config), execution.json).await
        }
        Command::Build { path } => {
            let manifest = path.or(place.manifest.clone()).map_or_else(cli::find_manifest, Ok)?;
            cli::run::build(&manifest)
        }
        Command::New { dir, language, solid } => {
            let language = cli::new::TemplateLanguage::parse(&language).map_err(Error::NotFound)?;
            match (dir, solid) {
                (Some(dir), solid) => cli::new::project(&dir, language, solid),
                (None, Some(solid)) => {
                    let manifest = place.manifest.clone().map_or_else(cli::find_manifest, Ok)?;
                    cli::new::solid(&manifest, &solid, language)
                }
                (None, None) => unreachable!("clap requires DIR or --solid"),
            }
        }
        Command::Test { path, tests } => {
            let manifest = path.or(place.manifest.clone()).map_or_else(cli::find_manifest, Ok)?;
            cli::test::test(&place, &manifest, &tests).await
        }
        Command::Config { path, pipeline } => {
            let manifest = path.or(place.manifest.clone()).map_or_else(cli::find_manifest, Ok)?;
            cli::run::scaffold(&place, &manifest, pipeline).await
        }
        Command::Worker { .. } => {
            weft_host::serve_worker().await.map_err(anyhow::Error::msg)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs { action: Some(RunsAction::Delete { runs }), .. } => cli::history::delete(&place, &runs),
        Command::Runs { action: None, pipeline, status, tag, since, json, limit } => {
            cli::history::runs(&place, pipeline, status, tag, since, json, limit)
        }
        Command::Show { run, json } => cli::history::show(&place, &run, json),
        Command::Logs { run, step, stdout, stderr, follow } => {
            cli::history::logs(&place, &run, step, stdout, stderr, follow).await
        }
        Command::Gc { keep_last, older_than } => cli::history::gc(&place, keep_last, older_than),
        Command::Ui { path, port, bind, token, daemon } => {
            let manifest = path.or(place.manifest.clone()).map_or_else(cli::find_manifest, Ok)?;
            cli::ui::ui(&place, &manifest, bind, port, token, daemon).await
        }
        Command::Assets { action: None, json } => cli::history::assets(&place, json),
        Command::Assets { action: Some(AssetsAction::Show { key, json }), .. } => {
            cli::history::asset(&place, &key, json)
        }
    }
}

impl ExecutionArgs {
    fn config_args(&self) -> cli::run::ConfigArgs {
        self.source.config_args()
    }

    /// Puts the flags over a run config.
    fn apply(&self, run_config: &mut weft_host::RunConfig) -> Result<(), weft_host::Problems> {
        if let Some(mode) = &self.source.mode {
            run_config.mode = Some(mode.clone());
        }
        if let Some(n) = self.max_concurrent {
            run_config.override_execution("max_concurrent", n.into())?;
        }
        if self.fail_fast {
            run_config.override_execution("fail_fast", true.into())?;
        }
        if let Some(executor) = &self.executor {
            run_config.override_execution("executor", executor.replace('-', "_").into())?;
        }
        if self.memoize {
            run_config.override_execution("memoize", true.into())?;
        }
        Ok(())
    }
}

/// Lets `weft show RUN | head` end quietly when `head` stops reading, as Unix tools do:
/// Rust ignores SIGPIPE, which turns the next `println!` into a panic.
#[cfg(unix)]
#[allow(unsafe_code)]
fn restore_sigpipe() {
    // SAFETY: called in `main` before the runtime or any other thread starts; it only
    // resets one signal's disposition to the default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
