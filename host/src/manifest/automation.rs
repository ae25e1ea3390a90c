//! `[partitions.*]`, `[schedules.*]` and `[sensors.*]`: what a pipeline runs for, and
//! what launches its runs without anyone typing `weft run`.
//!
//! ```toml
//! [partitions.days]
//! cadence = "daily"              # hourly | daily | weekly | monthly
//! start = "2024-01-01"           # aligned to the cadence, local time in `timezone`
//! end = "2024-02-01"             # optional, exclusive
//! timezone = "Europe/Paris"      # optional, default UTC
//!
//! [partitions.regions]
//! keys = ["us", "eu", "asia"]
//!
//! [schedules.nightly]
//! pipeline = "etl"               # partitioned by time: runs the last complete window
//! cron = "0 2 * * *"
//! timezone = "Europe/Paris"      # optional: the partition set's zone, else UTC
//! catch_up = 0                   # missed ticks run after a downtime (the newest N)
//!
//! [sensors.new_files]            # a sensor component
//! pipeline = "ingest"
//! wasm = "sensors/file_sensor.wasm"
//! files = [{ host = "inbox", guest = "/inbox" }]
//! interval = "30s"
//!
//! [sensors.incoming]             # the built-in file sensor
//! pipeline = "ingest"
//! directory = "incoming"
//! pattern = "*.csv"
//! config = { solids.ingest.config.path = "{path}" }
//! ```

use super::{BuildRecipe, FileDecl, Location, Reader, join, toml_to_json};
use crate::partition::{PartitionKind, PartitionSet, window::Cadence, window::TimeWindows};
use crate::schedule::cron::Cron;
use std::path::PathBuf;
use std::time::Duration;
use toml_edit::{Item, TableLike};

/// A schedule: a cron expression in a time zone, launching runs of a pipeline.
#[derive(Debug, Clone)]
pub struct ScheduleDecl {
    pub name: String,
    pub pipeline: String,
    pub cron: Cron,
    /// An IANA zone name; the ticks are local times there.
    pub timezone: String,
    pub launch: LaunchDecl,
    /// How many ticks missed while no daemon ran are still run (the newest ones); the
    /// older ones are recorded as skipped.
    pub catch_up: u32,
    pub at: Location,
}

/// A sensor: evaluated at an interval, it requests runs of a pipeline.
#[derive(Debug, Clone)]
pub struct SensorDecl {
    pub name: String,
    pub pipeline: String,
    pub kind: SensorKind,
    pub interval: Duration,
    pub launch: LaunchDecl,
    pub at: Location,
}

/// What evaluates a sensor.
#[derive(Debug, Clone)]
pub enum SensorKind {
    /// A component targeting the `sensor` world, with the directories it may read.
    Component { wasm: PathBuf, build: Option<BuildRecipe>, files: Vec<FileDecl>, limits: Option<serde_json::Value> },
    /// weft's file sensor: one run per new file in `directory` whose name matches.
    Files { directory: PathBuf, pattern: Option<String> },
}

/// How a schedule or sensor launches a run: a preset, a mode and run config over them.
#[derive(Debug, Clone, Default)]
pub struct LaunchDecl {
    pub preset: Option<String>,
    pub mode: Option<String>,
    /// Run config over the preset (checked when read); templates filled at launch.
    pub config: Option<serde_json::Value>,
}

impl Reader<'_> {
    /// The tables of section `section` (`[section.NAME]`), each with its name, dotted key
    /// and location; a name that is not valid or an entry that is not a table is reported
    /// (`what` names the kind) and left out.
    fn named_tables<'t>(
        &mut self,
        root: &'t dyn TableLike,
        section: &str,
        what: &str,
    ) -> Vec<(String, String, Location, &'t dyn TableLike)> {
        let Some(table) = self.sub_table(root, section, "") else { return Vec::new() };
        let mut out = Vec::new();
        for (name, item) in table.iter() {
            let key = join(section, name);
            let at = self.location(table, name, &key);
            self.check_name(&at, what, name);
            match item.as_table_like() {
                Some(decl) => out.push((name.to_owned(), key, at, decl)),
                None => self.problem(&at, format!("expected a table, found {}", item.type_name())),
            }
        }
        out
    }

    /// Reads `[partitions.*]`.
    pub(super) fn partitions(&mut self, root: &dyn TableLike) -> Vec<PartitionSet> {
        let mut sets = Vec::new();
        for (name, key, at, decl) in self.named_tables(root, "partitions", "partition set") {
            self.check_keys(decl, &key, &["cadence", "start", "end", "timezone", "keys"]);
            let kind = if decl.contains_key("keys") {
                for time_key in ["cadence", "start", "end", "timezone"].into_iter().filter(|k| decl.contains_key(k)) {
                    let at = self.location(decl, time_key, &join(&key, time_key));
                    self.problem(&at, "a set of `keys` has no time window: give `keys`, or `cadence` and `start`");
                }
                let keys = self.string_list(decl, "keys", &key).unwrap_or_default();
                let keys_at = self.location(decl, "keys", &join(&key, "keys"));
                if keys.is_empty() {
                    self.problem(&keys_at, "the set has no keys");
                }
                let mut seen = std::collections::BTreeSet::new();
                for k in &keys {
                    if k.is_empty() || k.contains(',') || k.trim() != k {
                        self.problem(&keys_at, format!("`{k}` is not a usable key: no commas, no outer spaces"));
                    } else if !seen.insert(k.as_str()) {
                        self.problem(&keys_at, format!("`{k}` is listed twice"));
                    }
                }
                PartitionKind::Static(keys)
            } else {
                let Some(windows) = self.time_windows(decl, &key, &at) else { continue };
                PartitionKind::Time(windows)
            };
            sets.push(PartitionSet { name, kind });
        }
        sets
    }

    fn time_windows(&mut self, decl: &dyn TableLike, key: &str, at: &Location) -> Option<TimeWindows> {
        let cadence = match self.string(decl, "cadence", key) {
            Some(text) => match Cadence::parse(&text) {
                Ok(cadence) => Some(cadence),
                Err(message) => {
                    let at = self.location(decl, "cadence", &join(key, "cadence"));
                    self.problem(&at, message);
                    None
                }
            },
            None => {
                if !decl.contains_key("cadence") {
                    self.problem(at, "missing key `cadence` (hourly, daily, weekly, monthly) or `keys` (a list)");
                }
                None
            }
        };
        let start = self.date_text(decl, "start", key);
        if start.is_none() && !decl.contains_key("start") {
            self.problem(at, "missing key `start`: the first window's start, such as \"2024-01-01\"");
        }
        let end = self.date_text(decl, "end", key);
        let timezone = self.string(decl, "timezone", key).unwrap_or_else(|| "UTC".to_owned());
        let (cadence, start) = (cadence?, start?);
        match TimeWindows::new(cadence, &start, end.as_deref(), &timezone) {
            Ok(windows) => Some(windows),
            Err(message) => {
                self.problem(at, message);
                None
            }
        }
    }

    /// A date or date-time, written as a string or as a TOML date (`start = 2024-01-01`).
    fn date_text(&mut self, decl: &dyn TableLike, key: &str, prefix: &str) -> Option<String> {
        match decl.get(key)? {
            Item::Value(toml_edit::Value::Datetime(datetime)) => Some(datetime.value().to_string()),
            _ => self.string(decl, key, prefix),
        }
    }

    /// Reads `[schedules.*]`; `pipelines` names the declared pipelines and the partition
    /// set each uses.
    pub(super) fn schedules(
        &mut self,
        root: &dyn TableLike,
        pipelines: &[(String, Option<&PartitionSet>)],
    ) -> Vec<ScheduleDecl> {
        let mut schedules = Vec::new();
        for (name, key, at, decl) in self.named_tables(root, "schedules", "schedule") {
            self.check_keys(decl, &key, &["pipeline", "cron", "timezone", "catch_up", "preset", "mode", "config"]);
            let pipeline = self.automation_pipeline(decl, &key, &at, pipelines);
            let cron = match self.string(decl, "cron", &key) {
                Some(text) => match text.parse::<Cron>() {
                    Ok(cron) => Some(cron),
                    Err(message) => {
                        let at = self.location(decl, "cron", &join(&key, "cron"));
                        self.problem(&at, message);
                        None
                    }
                },
                None => {
                    if !decl.contains_key("cron") {
                        self.problem(&at, "missing key `cron`, such as \"0 2 * * *\" (every day at 02:00)");
                    }
                    None
                }
            };
            let partitioned = pipeline.as_ref().and_then(|(_, set)| *set);
            let set_zone = partitioned.and_then(|s| s.time_windows()).map(|w| w.timezone_name().to_owned());
            if let Some(set) = partitioned
                && set.time_windows().is_none()
            {
                self.problem(
                    &at,
                    format!(
                        "pipeline `{}` is partitioned by the keys of `{}`: a schedule runs the last window of a \
                         time-window set; launch static partitions with `weft backfill`",
                        pipeline.as_ref().map_or("", |(p, _)| p.as_str()),
                        set.name
                    ),
                );
            }
            let timezone = self.string(decl, "timezone", &key).or(set_zone).unwrap_or_else(|| "UTC".to_owned());
            if jiff::tz::TimeZone::get(&timezone).is_err() {
                let at = self.location(decl, "timezone", &join(&key, "timezone"));
                self.problem(&at, format!("`{timezone}` is not a time zone (an IANA name such as \"Europe/Paris\")"));
            }
            let catch_up = match decl.get("catch_up") {
                None => 0,
                Some(item) => match item.as_integer().and_then(|n| u32::try_from(n).ok()) {
                    Some(n) => n,
                    None => {
                        let at = self.location(decl, "catch_up", &join(&key, "catch_up"));
                        let found = toml_to_json(item).map_or_else(|| item.type_name().to_owned(), |v| v.to_string());
                        self.problem(&at, format!("expected a count of ticks (0 or more), found {found}"));
                        0
                    }
                },
            };
            let launch = self.launch(decl, &key);
            if let (Some((pipeline, _)), Some(cron)) = (pipeline, cron) {
                schedules.push(ScheduleDecl { name, pipeline, cron, timezone, launch, catch_up, at });
            }
        }
        schedules
    }

    /// Reads `[sensors.*]`.
    pub(super) fn sensors(
        &mut self,
        root: &dyn TableLike,
        pipelines: &[(String, Option<&PartitionSet>)],
    ) -> Vec<SensorDecl> {
        let mut sensors = Vec::new();
        for (name, key, at, decl) in self.named_tables(root, "sensors", "sensor") {
            self.check_keys(
                decl,
                &key,
                &[
                    "pipeline",
                    "wasm",
                    "build",
                    "files",
                    "limits",
                    "directory",
                    "pattern",
                    "interval",
                    "preset",
                    "mode",
                    "config",
                ],
            );
            let pipeline = self.automation_pipeline(decl, &key, &at, pipelines);
            let interval = match decl.get("interval") {
                None => Some(Duration::from_secs(30)),
                Some(item) => {
                    let at = self.location(decl, "interval", &join(&key, "interval"));
                    let value = toml_to_json(item).unwrap_or_default();
                    match crate::execution::parse_duration(&value) {
                        Ok(d) if d >= Duration::from_millis(100) => Some(d),
                        Ok(_) => {
                            self.problem(&at, format!("{value} is too short: a sensor runs at most every 100ms"));
                            None
                        }
                        Err(message) => {
                            self.problem(&at, message);
                            None
                        }
                    }
                }
            };
            let kind = match (self.string(decl, "wasm", &key), self.string(decl, "directory", &key)) {
                (Some(wasm), None) => {
                    let build = self.sub_table(decl, "build", &key).and_then(|t| self.build(t, &join(&key, "build")));
                    let files = self.files(decl, &key);
                    let limits = self.json_table(decl, "limits", &key, |json, at, problems| {
                        crate::limits::apply_limits(&mut Default::default(), json, at, problems)
                    });
                    if let Some(pattern_at) = decl.contains_key("pattern").then(|| join(&key, "pattern")) {
                        let at = self.location(decl, "pattern", &pattern_at);
                        self.problem(&at, "`pattern` belongs to the file sensor (`directory`), not a component");
                    }
                    Some(SensorKind::Component { wasm: self.dir.join(wasm), build, files, limits })
                }
                (None, Some(directory)) => {
                    for other in ["build", "files", "limits"].into_iter().filter(|k| decl.contains_key(k)) {
                        let at = self.location(decl, other, &join(&key, other));
                        self.problem(&at, format!("`{other}` belongs to a sensor component (`wasm`)"));
                    }
                    let pattern = self.string(decl, "pattern", &key);
                    Some(SensorKind::Files { directory: self.dir.join(directory), pattern })
                }
                (Some(_), Some(_)) => {
                    self.problem(&at, "give `wasm` (a sensor component) or `directory` (the file sensor), not both");
                    None
                }
                (None, None) => {
                    if !decl.contains_key("wasm") && !decl.contains_key("directory") {
                        self.problem(
                            &at,
                            "missing key `wasm` (a sensor component) or `directory` (weft's file sensor watches it)",
                        );
                    }
                    None
                }
            };
            let launch = self.launch(decl, &key);
            if let (Some((pipeline, _)), Some(kind), Some(interval)) = (pipeline, kind, interval) {
                sensors.push(SensorDecl { name, pipeline, kind, interval, launch, at });
            }
        }
        sensors
    }

    /// Reads and checks `pipeline`: the manifest's only pipeline when absent.
    fn automation_pipeline<'p>(
        &mut self,
        decl: &dyn TableLike,
        key: &str,
        at: &Location,
        pipelines: &[(String, Option<&'p PartitionSet>)],
    ) -> Option<(String, Option<&'p PartitionSet>)> {
        match self.string(decl, "pipeline", key) {
            Some(name) => match pipelines.iter().find(|(p, _)| *p == name) {
                Some((p, set)) => Some((p.clone(), *set)),
                None => {
                    let at = self.location(decl, "pipeline", &join(key, "pipeline"));
                    self.problem(&at, format!("no pipeline `{name}` in this manifest"));
                    None
                }
            },
            None if decl.contains_key("pipeline") => None,
            None => match pipelines {
                [(only, set)] => Some((only.clone(), *set)),
                _ => {
                    self.problem(at, "missing key `pipeline`: the manifest has several");
                    None
                }
            },
        }
    }

    /// Reads `preset`, `mode` and `config` (run config, checked for shape).
    fn launch(&mut self, decl: &dyn TableLike, key: &str) -> LaunchDecl {
        let preset = self.string(decl, "preset", key);
        let mode = self.string(decl, "mode", key);
        let config = decl.get("config").and_then(|item| {
            let at = self.location(decl, "config", &join(key, "config"));
            let json = toml_to_json(item).filter(serde_json::Value::is_object);
            let Some(json) = json else {
                self.problem(&at, "expected a table of run config (`solids`, `execution`, `limits`, `tags`)");
                return None;
            };
            match crate::config::RunConfig::from_json(&json, None) {
                Ok(_) => Some(json),
                Err(problems) => {
                    for problem in problems.0 {
                        let inner = problem.key.unwrap_or_default();
                        self.problem(&Location { line: at.line, key: join(&at.key, &inner) }, problem.message);
                    }
                    None
                }
            }
        });
        LaunchDecl { preset, mode, config }
    }
}
