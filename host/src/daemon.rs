//! The daemon: evaluates a manifest's schedules and sensors and launches the runs they
//! ask for, in this process (`weft daemon`, or `weft ui --daemon`).
//!
//! Every evaluation is a recorded tick. A schedule's tick is keyed by the time it was
//! due and written with its run's first record in one transaction, and a sensor's run
//! key with its run's, so that however the daemon stops and restarts — even two daemons
//! at once — a tick or a run key launches one run, ever.
//!
//! Missed ticks: a tick evaluated within [`GRACE`] of its time, or due since this daemon's
//! previous pass when that pass was at most [`MAX_PASS`] ago, is on time and runs. One found later (the daemon was down) is late: the newest `catch_up` late ticks of a
//! schedule run (default 0), and the older ones are recorded as one skipped tick that
//! names them. A schedule first seen by a daemon starts from then, running nothing of
//! the past; `weft backfill --missing-only` fills the partitions skipped ticks left.

use crate::cancel::CancelToken;
use crate::config::RunConfig;
use crate::db::{AutomationState, Claim, Tick, TickStatus};
use crate::error::{Error, Result};
use crate::host::{Host, RunHandle};
use crate::manifest::{LaunchDecl, Manifest, ScheduleDecl, SensorDecl, SensorKind, SolidDecl};
use crate::run::{RunId, RunRecord, now_micros};
use crate::sensor::{Evaluation, LoadedSensor, RunRequest};
use jiff::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::task::JoinSet;

/// How late a tick may be evaluated and still count as on time.
pub const GRACE: Duration = Duration::from_secs(60);

/// The longest one pass of the daemon may take (builds, many sensors) with the ticks due
/// meanwhile still on time; a longer gap between passes (the machine slept, the clock
/// jumped) is a downtime.
pub const MAX_PASS: Duration = Duration::from_secs(600);

/// Where the daemon reads the time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that reads the time from a file at each call (an RFC 3339 instant such as
/// `2024-01-10T02:00:30Z`), or that stands still: what `WEFT_CLOCK` sets, for tests and
/// dry runs that move time by hand. A file that stops parsing keeps the last time read.
#[derive(Debug)]
pub struct ManualClock {
    file: Option<PathBuf>,
    last: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock read from `WEFT_CLOCK` (an instant, or a file holding one), if it is set.
    ///
    /// # Errors
    /// A message naming the value when it is neither.
    pub fn from_env() -> std::result::Result<Option<ManualClock>, String> {
        let Some(value) = std::env::var_os("WEFT_CLOCK") else { return Ok(None) };
        let value = value.to_string_lossy().into_owned();
        if let Ok(instant) = value.trim().parse::<Timestamp>() {
            return Ok(Some(ManualClock { file: None, last: Mutex::new(instant) }));
        }
        let file = PathBuf::from(&value);
        let instant = read_instant(&file).map_err(|e| format!("WEFT_CLOCK={value}: {e}"))?;
        Ok(Some(ManualClock { file: Some(file), last: Mutex::new(instant) }))
    }

    /// A clock standing at `instant`, moved with [`ManualClock::set`].
    pub fn at(instant: Timestamp) -> ManualClock {
        ManualClock { file: None, last: Mutex::new(instant) }
    }

    pub fn set(&self, instant: Timestamp) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = instant;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = &self.file {
            match read_instant(file) {
                Ok(instant) => *last = instant,
                Err(e) => tracing::warn!("WEFT_CLOCK: {e}; the clock stays at {last}"),
            }
        }
        *last
    }
}

fn read_instant(file: &Path) -> std::result::Result<Timestamp, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    text.trim()
        .parse()
        .map_err(|e| format!("{} does not hold an instant such as 2024-01-10T02:00:00Z: {e}", file.display()))
}

/// The clock `weft` commands use: `WEFT_CLOCK` when set, else the system's.
///
/// # Errors
/// A message when `WEFT_CLOCK` is set to something unreadable.
pub fn clock_from_env() -> std::result::Result<Arc<dyn Clock>, String> {
    Ok(match ManualClock::from_env()? {
        Some(clock) => Arc::new(clock),
        None => Arc::new(SystemClock),
    })
}

/// A daemon over one manifest and one store.
#[derive(Debug)]
pub struct Daemon {
    host: Host,
    manifest: Manifest,
    /// When the manifest file was last changed, to read it again after an edit.
    stamp: Option<SystemTime>,
    clock: Arc<dyn Clock>,
    /// Loaded sensor components, by path, with the file's modification time.
    sensors: HashMap<PathBuf, (Option<SystemTime>, Arc<LoadedSensor>)>,
    runs: JoinSet<Result<RunRecord>>,
    cancels: Vec<CancelToken>,
    /// When this daemon last evaluated: a tick due since then is on time however long the
    /// evaluation in between took (a build, many sensors).
    previous: Option<Timestamp>,
}

impl Daemon {
    pub fn new(host: Host, manifest: Manifest, clock: Arc<dyn Clock>) -> Daemon {
        let stamp = modified(&manifest.path);
        Daemon {
            host,
            manifest,
            stamp,
            clock,
            sensors: HashMap::new(),
            runs: JoinSet::new(),
            cancels: Vec::new(),
            previous: None,
        }
    }

    /// Evaluates every schedule with a tick due and every sensor whose interval has
    /// passed, once; returns the ticks recorded, in order.
    ///
    /// # Errors
    /// [`Error::Db`] when the store fails; anything about one schedule or sensor is
    /// recorded on its tick instead.
    pub async fn evaluate(&mut self) -> Result<Vec<Tick>> {
        self.reload();
        let now = self.clock.now();
        let previous = self.previous.replace(now);
        let mut ticks = Vec::new();
        for schedule in self.manifest.schedules.clone() {
            ticks.extend(self.evaluate_schedule(&schedule, now, previous).await?);
        }
        for sensor in self.manifest.sensors.clone() {
            ticks.extend(self.evaluate_sensor(&sensor, now).await?);
        }
        self.reap();
        Ok(ticks)
    }

    /// Evaluates every `poll` until `stop`, telling `tell` of each tick; then waits for the
    /// runs it launched to end — canceling them (they end CANCELED, and `weft backfill
    /// --failed-only` re-runs their partitions) only if `abort` comes first.
    ///
    /// # Errors
    /// [`Error::Db`] when the store fails.
    pub async fn run(
        mut self,
        poll: Duration,
        stop: CancelToken,
        abort: CancelToken,
        tell: &(dyn Fn(&Tick) + Sync),
    ) -> Result<()> {
        while !stop.is_canceled() {
            for tick in self.evaluate().await? {
                tell(&tick);
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = stop.cancelled() => {}
            }
        }
        let cancels = std::mem::take(&mut self.cancels);
        tokio::select! {
            _ = self.wait() => {}
            () = abort.cancelled() => {
                cancels.iter().for_each(CancelToken::cancel);
                self.wait().await;
            }
        }
        Ok(())
    }

    /// Waits for every run this daemon launched to end; returns their records.
    pub async fn wait(&mut self) -> Vec<RunRecord> {
        let mut records = Vec::new();
        while let Some(done) = self.runs.join_next().await {
            match done {
                Ok(Ok(record)) => records.push(record),
                Ok(Err(e)) => tracing::error!("a run launched by the daemon failed to record: {e}"),
                Err(e) => tracing::error!("a run launched by the daemon crashed: {e}"),
            }
        }
        self.cancels.clear();
        records
    }

    /// Reads the manifest again when its file changed; keeps the old one if the new one
    /// has problems.
    fn reload(&mut self) {
        let stamp = modified(&self.manifest.path);
        if stamp == self.stamp {
            return;
        }
        self.stamp = stamp;
        match Manifest::load(&self.manifest.path) {
            Ok(manifest) => self.manifest = manifest,
            Err(problems) => {
                tracing::error!("the manifest changed and has problems; keeping the last good one:\n{problems}")
            }
        }
    }

    fn reap(&mut self) {
        while let Some(done) = self.runs.try_join_next() {
            if let Ok(Err(e)) = done {
                tracing::error!("a run launched by the daemon failed to record: {e}");
            }
        }
    }

    fn track(&mut self, handle: RunHandle) {
        self.cancels.push(handle.cancel_token());
        self.runs.spawn(handle.wait());
    }

    async fn evaluate_schedule(
        &mut self,
        schedule: &ScheduleDecl,
        now: Timestamp,
        previous: Option<Timestamp>,
    ) -> Result<Vec<Tick>> {
        let origin = format!("schedule/{}", schedule.name);
        let db = self.host.db();
        let now_us = micros(now);
        let Some(last) = db.automation_state(&origin)?.last_tick else {
            // A new schedule counts from now: it does not run the ticks of the past.
            db.set_automation_state(&origin, &AutomationState { last_tick: Some(now_us), cursor: None })?;
            return Ok(Vec::new());
        };
        let tz = jiff::tz::TimeZone::get(&schedule.timezone).map_err(|e| {
            Error::NotFound(format!("schedule `{}`: time zone {}: {e}", schedule.name, schedule.timezone))
        })?;
        let grace = GRACE.as_micros() as i64;
        let (mut late, mut on_time) = (VecDeque::new(), Vec::new());
        // The late ticks that are not caught up: how many, the first and the last.
        let (mut dropped, mut first_dropped, mut last_dropped) = (0usize, None, None);
        let mut cursor = Timestamp::from_microsecond(last).unwrap_or(now);
        while let Some(next) = schedule.cron.next_after(cursor, &tz) {
            if next > now {
                break;
            }
            cursor = next;
            // Due since this daemon's previous pass, and that pass was recent: the daemon ran
            // all along (however long one pass took), so the tick is not missed.
            let since_previous =
                previous.is_some_and(|p| next > p && now_us - micros(p) <= MAX_PASS.as_micros() as i64);
            if since_previous || now_us - micros(next) <= grace {
                on_time.push(next);
            } else {
                late.push_back(next);
                if late.len() > schedule.catch_up as usize
                    && let Some(oldest) = late.pop_front()
                {
                    dropped += 1;
                    first_dropped.get_or_insert(oldest);
                    last_dropped = Some(oldest);
                }
            }
        }
        let mut ticks = Vec::new();
        if let (Some(first), Some(last_dropped)) = (first_dropped, last_dropped) {
            let message = format!(
                "{dropped} tick(s) from {} to {} were missed while no daemon ran; catch_up = {} runs only the newest",
                first.to_zoned(tz.clone()),
                last_dropped.to_zoned(tz.clone()),
                schedule.catch_up
            );
            let tick = Tick {
                origin: origin.clone(),
                at: micros(first),
                evaluated_at: now_micros(),
                status: TickStatus::Skipped,
                runs: Vec::new(),
                partition: None,
                message: Some(message),
            };
            let state = AutomationState { last_tick: Some(micros(last_dropped)), cursor: None };
            if self.host.db().record_tick(&tick, Some(&state))? {
                ticks.push(tick);
            }
        }
        for due in late.into_iter().chain(on_time) {
            ticks.extend(self.fire(schedule, &origin, due, &tz).await?);
        }
        if micros(cursor) > last {
            let state = AutomationState { last_tick: Some(micros(cursor)), cursor: None };
            self.host.db().set_automation_state(&origin, &state)?;
        }
        Ok(ticks)
    }

    /// Runs one due tick of a schedule; `None` when another daemon already did.
    async fn fire(
        &mut self,
        schedule: &ScheduleDecl,
        origin: &str,
        due: Timestamp,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Option<Tick>> {
        let mut tick = Tick {
            origin: origin.to_owned(),
            at: micros(due),
            evaluated_at: now_micros(),
            status: TickStatus::Success,
            runs: Vec::new(),
            partition: None,
            message: None,
        };
        let state = AutomationState { last_tick: Some(micros(due)), cursor: None };
        let windows = self.manifest.partition_set(&schedule.pipeline).and_then(|s| s.time_windows().cloned());
        if let Some(windows) = windows {
            match windows.last_complete(due) {
                Some(window) => {
                    // A cron that fires more often than the set's cadence, or a set that has
                    // ended, would compute the same window again: once is enough.
                    let runs = self.host.db().partition_runs(&schedule.pipeline)?;
                    let earlier = runs.iter().find(|(key, _)| *key == window.key).and_then(|(_, runs)| {
                        runs.iter().find(|r| r.tags.get("weft/schedule") == Some(&schedule.name))
                    });
                    if let Some(earlier) = earlier {
                        tick.status = TickStatus::Skipped;
                        let at = earlier.tags.get("weft/tick").cloned().unwrap_or_default();
                        tick.message = Some(format!("partition {} already ran at the tick of {at}", window.key));
                        return Ok(self.host.db().record_tick(&tick, Some(&state))?.then_some(tick));
                    }
                    tick.partition = Some(window.key);
                }
                None => {
                    tick.status = TickStatus::Skipped;
                    tick.message = Some("no partition had ended by then".into());
                    return Ok(self.host.db().record_tick(&tick, Some(&state))?.then_some(tick));
                }
            }
        }
        let tags = vec![
            ("weft/schedule".to_owned(), schedule.name.clone()),
            ("weft/tick".to_owned(), due.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()),
        ];
        let planned = match launch_config(
            &self.manifest,
            &schedule.pipeline,
            &schedule.launch,
            None,
            tick.partition.clone(),
            tags,
        ) {
            Ok(config) => self.host.plan(&self.manifest, &schedule.pipeline, &config).await,
            Err(e) => Err(e),
        };
        let plan = match planned {
            Ok(plan) => plan,
            Err(e) => {
                tick.status = TickStatus::Failure;
                tick.message = Some(format!("{e:#}"));
                return Ok(self.host.db().record_tick(&tick, Some(&state))?.then_some(tick));
            }
        };
        let id = RunId::generate();
        tick.runs.push(id);
        let claim =
            Claim { origin: origin.to_owned(), tick: Some(tick.clone()), state: Some(state.clone()), run_key: None };
        match self.host.launch_claimed(plan, id, &claim) {
            Ok(Some(handle)) => {
                self.track(handle);
                Ok(Some(tick))
            }
            Ok(None) => Ok(None),
            Err(e @ Error::Db { .. }) => Err(e),
            // Nothing was recorded (the executor could not start): the tick failed.
            Err(e) => {
                tick.runs.clear();
                tick.status = TickStatus::Failure;
                tick.message = Some(format!("{e:#}"));
                Ok(self.host.db().record_tick(&tick, Some(&state))?.then_some(tick))
            }
        }
    }

    async fn evaluate_sensor(&mut self, sensor: &SensorDecl, now: Timestamp) -> Result<Option<Tick>> {
        let origin = format!("sensor/{}", sensor.name);
        let now_us = micros(now);
        let last = self.host.db().ticks(&origin, 1)?.into_iter().next();
        if last.is_some_and(|t| now_us - t.at < sensor.interval.as_micros() as i64) {
            return Ok(None);
        }
        let state = self.host.db().automation_state(&origin)?;
        let mut tick = Tick {
            origin: origin.clone(),
            at: now_us,
            evaluated_at: now_micros(),
            status: TickStatus::Skipped,
            runs: Vec::new(),
            partition: None,
            message: None,
        };
        let evaluation = match &sensor.kind {
            SensorKind::Component { .. } => self.evaluate_component(sensor, state.cursor.clone()).await,
            SensorKind::Files { directory, pattern } => file_requests(directory, pattern.as_deref(), &sensor.launch),
        };
        let evaluation = match evaluation {
            Ok(evaluation) => evaluation,
            Err(message) => {
                tick.status = TickStatus::Failure;
                tick.message = Some(message);
                self.host.db().record_tick(&tick, None)?;
                return Ok(Some(tick));
            }
        };
        let (mut errors, mut already) = (Vec::new(), 0);
        for request in evaluation.runs {
            let key = request.run_key.clone();
            if let Some(key) = &key
                && self.host.db().claimed_run_key(&origin, key)?.is_some()
            {
                already += 1;
                continue;
            }
            let mut tags = request.tags.clone();
            tags.push(("weft/sensor".into(), sensor.name.clone()));
            if let Some(key) = &key {
                tags.push(("weft/run_key".into(), key.clone()));
            }
            let label = key.as_deref().map_or_else(|| "a run request".to_owned(), |k| format!("run key `{k}`"));
            let config = launch_config(
                &self.manifest,
                &sensor.pipeline,
                &sensor.launch,
                request.run_config.as_ref(),
                request.partition_key,
                tags,
            );
            let planned = match config {
                Ok(config) => self.host.plan(&self.manifest, &sensor.pipeline, &config).await,
                Err(e) => Err(e),
            };
            let plan = match planned {
                Ok(plan) => plan,
                Err(e) => {
                    errors.push(format!("{label}: {e:#}"));
                    continue;
                }
            };
            let id = RunId::generate();
            let claim = Claim { origin: origin.clone(), run_key: key, ..Claim::default() };
            match self.host.launch_claimed(plan, id, &claim) {
                Ok(Some(handle)) => {
                    tick.runs.push(id);
                    self.track(handle);
                }
                Ok(None) => already += 1,
                Err(e @ Error::Db { .. }) => return Err(e),
                Err(e) => errors.push(format!("{label}: {e:#}")),
            }
        }
        tick.status = if !errors.is_empty() {
            TickStatus::Failure
        } else if tick.runs.is_empty() {
            TickStatus::Skipped
        } else {
            TickStatus::Success
        };
        tick.message = if !errors.is_empty() {
            Some(errors.join("; "))
        } else if tick.runs.is_empty() {
            Some(match (evaluation.skip_reason, already) {
                (Some(reason), _) => reason,
                (None, 0) => "the sensor requested no run".to_owned(),
                (None, n) => format!("every run it requested ({n}) was launched before"),
            })
        } else {
            None
        };
        // A request that could not be launched must be asked for again: the cursor moves on
        // only when every request was launched (or had been).
        let cursor = if errors.is_empty() { evaluation.cursor.or(state.cursor) } else { state.cursor };
        let state = AutomationState { cursor, last_tick: None };
        self.host.db().record_tick(&tick, Some(&state))?;
        Ok(Some(tick))
    }

    /// Builds the sensor's component if it is stale, loads it (once per version of the
    /// file), and evaluates it in a fresh sandbox.
    async fn evaluate_component(
        &mut self,
        sensor: &SensorDecl,
        cursor: Option<String>,
    ) -> std::result::Result<Evaluation, String> {
        let SensorKind::Component { wasm, build, files, limits } = &sensor.kind else {
            unreachable!("called for sensor components only")
        };
        let decl = SolidDecl {
            name: sensor.name.clone(),
            wasm: wasm.clone(),
            build: build.clone(),
            source: None,
            at: sensor.at.clone(),
        };
        crate::recipe::build_stale(&self.manifest, &[&decl], &|note| tracing::info!("{note}"))
            .map_err(|p| p.to_string())?;
        let stamp = modified(wasm);
        let loaded = match self.sensors.get(wasm) {
            Some((seen, loaded)) if *seen == stamp => loaded.clone(),
            _ => {
                let loaded = Arc::new(LoadedSensor::load(self.host.engine(), wasm)?);
                self.sensors.insert(wasm.clone(), (stamp, loaded.clone()));
                loaded
            }
        };
        let mut step_limits = crate::limits::StepLimits { timeout: Duration::from_secs(30), ..Default::default() };
        if let Some(json) = limits {
            let mut problems = Vec::new();
            crate::limits::apply_limits(&mut step_limits, json, "limits", &mut problems);
        }
        let preopens: Vec<crate::capability::Preopen> = files
            .iter()
            .map(|f| crate::capability::Preopen { host: f.host.clone(), guest: f.guest.clone(), writable: f.writable })
            .collect();
        let now = micros(self.clock.now());
        let (evaluation, logs) = loaded.evaluate(self.host.engine(), &preopens, step_limits, cursor, now).await?;
        if !logs.is_empty() {
            tracing::info!("sensor `{}` wrote: {}", sensor.name, String::from_utf8_lossy(&logs).trim_end());
        }
        Ok(evaluation)
    }
}

/// The file sensor's requests: one per matching file, keyed by its name, with the
/// sensor's run config templated with `{file}` (the name) and `{path}` (the host path).
fn file_requests(
    directory: &Path,
    pattern: Option<&str>,
    launch: &LaunchDecl,
) -> std::result::Result<Evaluation, String> {
    let files = crate::sensor::evaluate_files(directory, pattern)?;
    let runs = files
        .into_iter()
        .map(|(name, path)| {
            let run_config = launch.config.clone().map(|mut config| {
                let vars = [("file", name.clone()), ("path", path.display().to_string())];
                crate::template::render(&mut config, &vars);
                config
            });
            RunRequest {
                run_key: Some(name.clone()),
                partition_key: None,
                run_config,
                tags: vec![("weft/file".into(), name)],
            }
        })
        .collect::<Vec<_>>();
    let skip_reason = runs.is_empty().then(|| format!("no file in {}", directory.display()));
    Ok(Evaluation { runs, cursor: None, skip_reason })
}

/// The run config a schedule or sensor launches with: its preset, its config over that,
/// `over` (a sensor's request) over both, then its mode, the partition and the tags.
fn launch_config(
    manifest: &Manifest,
    pipeline: &str,
    launch: &LaunchDecl,
    over: Option<&serde_json::Value>,
    partition: Option<String>,
    tags: Vec<(String, String)>,
) -> Result<RunConfig> {
    let mut config = match &launch.preset {
        Some(preset) => manifest.preset(pipeline, preset)?,
        None => RunConfig::default(),
    };
    if let Some(json) = &launch.config {
        config = RunConfig::from_json(json, Some(&manifest.path))?.over(&config)?;
    }
    if let Some(json) = over {
        config = RunConfig::from_json(json, None)?.over(&config)?;
    }
    if let Some(mode) = &launch.mode {
        config.mode = Some(mode.clone());
    }
    config.partition = partition.or(config.partition);
    config.tags.extend(tags);
    Ok(config)
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
