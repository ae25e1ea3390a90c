//! The project file, `weft.toml`: which solids exist, how to build them, and which
//! pipelines wire them together.
//!
//! Reading is strict: unknown keys, wrong types and bad names are errors. Every problem
//! in the file is collected and reported at once, each with its line and key, before
//! anything is built or run. The format is documented in `docs/manifest.md`.

mod automation;
mod test_decl;

pub use automation::{LaunchDecl, ScheduleDecl, SensorDecl, SensorKind};
pub use test_decl::TestDecl;

use crate::error::{Problem, Problems};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use toml_edit::{Item, TableLike};

/// The manifest format versions this host reads.
pub const MANIFEST_VERSION: i64 = 1;

/// A parsed, syntactically valid manifest. Component files are not opened yet; that is
/// the plan's job.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file.
    pub path: PathBuf,
    /// The directory relative paths are resolved against.
    pub dir: PathBuf,
    /// The recipe for solids that declare none of their own.
    pub build: Option<BuildRecipe>,
    pub solids: Vec<SolidDecl>,
    pub pipelines: Vec<PipelineDecl>,
    /// Modes, in declaration order.
    pub modes: Vec<ModeDecl>,
    /// Tests of the pipelines (`weft test`), in declaration order.
    pub tests: Vec<TestDecl>,
    /// Partition sets (`[partitions.NAME]`), in declaration order.
    pub partitions: Vec<crate::partition::PartitionSet>,
    /// Schedules (`[schedules.NAME]`), run by `weft daemon`.
    pub schedules: Vec<ScheduleDecl>,
    /// Sensors (`[sensors.NAME]`), evaluated by `weft daemon`.
    pub sensors: Vec<SensorDecl>,
}

/// A mode (Dagster's ModeDefinition): resources bound under names, and run config that
/// every run in the mode starts from. `weft run --mode NAME` picks one.
#[derive(Debug, Clone)]
pub struct ModeDecl {
    pub name: String,
    pub description: String,
    /// Chosen when a run names no mode.
    pub default: bool,
    pub resources: Vec<ResourceDecl>,
    /// Run config under the run's own (checked when read).
    pub config: Option<serde_json::Value>,
    pub at: Location,
}

/// A resource a mode binds: `[modes.<mode>.resources.<name>]` with `type` and the type's
/// settings, checked for shape when read and resolved (environment variables read) when
/// a run is planned.
#[derive(Debug, Clone)]
pub struct ResourceDecl {
    pub name: String,
    pub settings: serde_json::Value,
    pub at: Location,
}

/// Where in the manifest something was declared, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    /// The dotted key, such as `pipelines.serial.solids.salutation.inputs.greeting`.
    pub key: String,
}

/// A solid: a component file, and optionally how to build it.
#[derive(Debug, Clone)]
pub struct SolidDecl {
    pub name: String,
    /// The `.wasm` component, resolved against the manifest's directory.
    pub wasm: PathBuf,
    pub build: Option<BuildRecipe>,
    /// A source file weft builds itself with its language's toolchain (`source =
    /// "solids/parse.py"`); `wasm` then defaults to `.weft/build/<name>.wasm`.
    pub source: Option<SourceDecl>,
    /// Where `wasm` is declared (`solids.<name>.wasm`).
    pub at: Location,
}

/// A solid's source file and the language weft builds it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDecl {
    /// Resolved against the manifest's directory.
    pub path: PathBuf,
    pub language: crate::language::Language,
}

/// How to build components from source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRecipe {
    /// The program and its arguments; run without a shell.
    pub command: Vec<String>,
    /// The working directory of the command.
    pub dir: PathBuf,
    /// Files and directories whose change makes the component stale.
    pub sources: Vec<PathBuf>,
    pub at: Location,
}

/// A pipeline: solid instances (steps) and their wiring.
#[derive(Debug, Clone)]
pub struct PipelineDecl {
    pub name: String,
    pub description: String,
    pub steps: Vec<StepDecl>,
    /// Execution settings (`max_concurrent`, `fail_fast`, `executor`, `retry`), checked
    /// when read.
    pub execution: Option<serde_json::Value>,
    /// Limits of its steps (checked when read); steps and the run config override them.
    pub limits: Option<serde_json::Value>,
    /// Whether its steps run deterministically unless they say otherwise.
    pub deterministic: bool,
    /// Named run configs (checked when read), chosen with `--preset`.
    pub presets: Vec<(String, serde_json::Value)>,
    /// The partition set its runs compute one key of (`partitions = "NAME"`).
    pub partitions: Option<String>,
    pub at: Location,
}

/// One instance of a solid in a pipeline.
#[derive(Debug, Clone)]
pub struct StepDecl {
    /// The instance's name in the pipeline; also its step key.
    pub alias: String,
    /// The solid it instantiates.
    pub solid: String,
    /// Inputs wired explicitly; the others are wired by name.
    pub inputs: Vec<InputWiring>,
    /// Config for this instance, under whatever the run config gives.
    pub config: Option<serde_json::Value>,
    /// This step's retry policy keys, over the run's policy (checked when read).
    pub retry: Option<serde_json::Value>,
    /// This step's limits (checked when read), over the pipeline's.
    pub limits: Option<serde_json::Value>,
    /// Directories the step may open.
    pub files: Vec<FileDecl>,
    /// Host environment variables the step may read.
    pub env: Vec<String>,
    /// Overrides the pipeline's `deterministic`.
    pub deterministic: Option<bool>,
    pub at: Location,
}

/// A host directory granted to a step: `{ host = "data", guest = "/data", mode = "ro" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDecl {
    /// Resolved against the manifest's directory.
    pub host: PathBuf,
    /// An absolute guest path.
    pub guest: String,
    /// `mode = "rw"`; the default is read-only.
    pub writable: bool,
    pub at: Location,
}

/// An input wired explicitly to one or more upstream outputs.
#[derive(Debug, Clone)]
pub struct InputWiring {
    pub input: String,
    pub sources: Vec<OutputRef>,
    pub at: Location,
}

/// `step.output`, or `step` alone when that step has exactly one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRef {
    pub step: String,
    pub output: Option<String>,
}

impl std::fmt::Display for OutputRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.output {
            Some(output) => write!(f, "{}.{}", self.step, output),
            None => f.write_str(&self.step),
        }
    }
}

impl Manifest {
    /// Reads and checks a manifest file. `path` may also name a directory holding a
    /// `weft.toml`.
    ///
    /// # Errors
    /// [`Problems`] listing every problem found, each with file, line and key.
    pub fn load(path: &Path) -> Result<Manifest, Problems> {
        let path = if path.is_dir() { path.join("weft.toml") } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Problems::one(Problem::new(&path, None, format!("cannot read the manifest: {e}"))))?;
        Manifest::parse(&path, &text)
    }

    /// Checks manifest text as if it were read from `path`.
    ///
    /// # Errors
    /// [`Problems`] listing every problem found.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, Problems> {
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            let line = e.span().map(|s| LineIndex::new(text).line(s.start));
            Problems::one(Problem::at_line(path, line, e.message().trim().to_owned()))
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        let mut reader = Reader { path, lines: LineIndex::new(text), dir: &dir, problems: Vec::new() };
        let manifest = reader.manifest(doc.as_table());
        if reader.problems.is_empty() {
            Ok(Manifest { path: path.to_path_buf(), dir, ..manifest })
        } else {
            Err(Problems(reader.problems))
        }
    }

    /// The pipeline named `name`.
    pub fn pipeline(&self, name: &str) -> Option<&PipelineDecl> {
        self.pipelines.iter().find(|p| p.name == name)
    }

    /// The run config of preset `preset` of pipeline `pipeline`.
    ///
    /// # Errors
    /// [`Problems`] naming the presets there are when there is no such preset.
    pub fn preset(&self, pipeline: &str, preset: &str) -> Result<crate::config::RunConfig, Problems> {
        let found = self.pipeline(pipeline).and_then(|p| p.presets.iter().find(|(name, _)| name == preset));
        match found {
            Some((_, json)) => {
                let mut config = crate::config::RunConfig::from_json(json, Some(&self.path))?;
                config.source = Some(self.path.clone());
                Ok(config)
            }
            None => {
                let names: Vec<String> = self
                    .pipeline(pipeline)
                    .map(|p| p.presets.iter().map(|(n, _)| format!("`{n}`")).collect())
                    .unwrap_or_default();
                let known = if names.is_empty() { "it has none".to_owned() } else { names.join(", ") };
                let key = format!("pipelines.{pipeline}.presets");
                Err(Problems::one(Problem::new(&self.path, Some(&key), format!("no preset `{preset}` ({known})"))))
            }
        }
    }

    /// The partition set of pipeline `pipeline`, if it is partitioned.
    pub fn partition_set(&self, pipeline: &str) -> Option<&crate::partition::PartitionSet> {
        let name = self.pipeline(pipeline)?.partitions.as_ref()?;
        self.partitions.iter().find(|p| &p.name == name)
    }

    /// The solid named `name`.
    pub fn solid(&self, name: &str) -> Option<&SolidDecl> {
        self.solids.iter().find(|s| s.name == name)
    }

    /// The mode a run uses: `name` if given, else the mode marked `default`, else the
    /// only mode; `None` when the manifest has no mode to choose.
    ///
    /// # Errors
    /// [`Problems`] naming the declared modes when there is no mode `name`.
    pub fn choose_mode(&self, name: Option<&str>) -> Result<Option<&ModeDecl>, Problems> {
        let Some(name) = name else {
            let default = self.modes.iter().find(|m| m.default);
            return Ok(default.or(if self.modes.len() == 1 { self.modes.first() } else { None }));
        };
        match self.modes.iter().find(|m| m.name == name) {
            Some(mode) => Ok(Some(mode)),
            None => {
                let names: Vec<String> = self.modes.iter().map(|m| format!("`{}`", m.name)).collect();
                let known = if names.is_empty() { "it declares none".to_owned() } else { names.join(", ") };
                Err(Problems::one(Problem::new(&self.path, Some("modes"), format!("no mode `{name}` ({known})"))))
            }
        }
    }
}

/// Where each line of a text starts, to find the line of an offset in log time: a
/// manifest of 100,000 steps asks for hundreds of thousands of lines.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect())
    }

    /// The 1-based line of `offset`.
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

/// Whether `name` may name a solid, pipeline or step: letters, digits, `_` and `-`,
/// starting with a letter or `_`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Walks the TOML tree, collecting problems instead of stopping at the first.
struct Reader<'a> {
    path: &'a Path,
    lines: LineIndex,
    dir: &'a Path,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn location(&self, table: &dyn TableLike, key: &str, dotted: &str) -> Location {
        let line = table
            .key(key)
            .and_then(|k| k.span())
            .or_else(|| table.get(key).and_then(Item::span))
            .map(|s| self.lines.line(s.start))
            .unwrap_or(0);
        Location { line, key: dotted.to_owned() }
    }

    fn problem(&mut self, at: &Location, message: impl Into<String>) {
        let line = (at.line > 0).then_some(at.line);
        self.problems.push(Problem::keyed(self.path, line, &at.key, message.into()));
    }

    /// Reports every key of `table` not in `allowed`.
    fn check_keys(&mut self, table: &dyn TableLike, prefix: &str, allowed: &[&str]) {
        for (key, _) in table.iter() {
            if !allowed.contains(&key) {
                let at = self.location(table, key, &join(prefix, key));
                let expected = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>();
                self.problem(&at, format!("unknown key; expected one of {}", expected.join(", ")));
            }
        }
    }

    fn string(&mut self, table: &dyn TableLike, key: &str, prefix: &str) -> Option<String> {
        let item = table.get(key)?;
        match item.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                let at = self.location(table, key, &join(prefix, key));
                self.problem(&at, format!("expected a string, found {}", item.type_name()));
                None
            }
        }
    }

    fn string_list(&mut self, table: &dyn TableLike, key: &str, prefix: &str) -> Option<Vec<String>> {
        let item = table.get(key)?;
        let at = self.location(table, key, &join(prefix, key));
        let Some(array) = item.as_array() else {
            self.problem(&at, format!("expected an array of strings, found {}", item.type_name()));
            return None;
        };
        let mut out = Vec::new();
        for value in array.iter() {
            match value.as_str() {
                Some(s) => out.push(s.to_owned()),
                None => {
                    self.problem(&at, format!("expected strings, found {}", value.type_name()));
                    return None;
                }
            }
        }
        Some(out)
    }

    fn sub_table<'t>(&mut self, table: &'t dyn TableLike, key: &str, prefix: &str) -> Option<&'t dyn TableLike> {
        let item = table.get(key)?;
        match item.as_table_like() {
            Some(t) => Some(t),
            None => {
                let at = self.location(table, key, &join(prefix, key));
                self.problem(&at, format!("expected a table, found {}", item.type_name()));
                None
            }
        }
    }

    fn check_name(&mut self, at: &Location, what: &str, name: &str) {
        if !is_valid_name(name) {
            self.problem(
                at,
                format!(
                    "`{name}` is not a valid {what} name: use letters, digits, `_` and `-`, \
                     starting with a letter or `_`"
                ),
            );
        }
    }

    fn manifest(&mut self, root: &dyn TableLike) -> Manifest {
        self.check_keys(
            root,
            "",
            &[
                "manifest_version",
                "build",
                "solids",
                "modes",
                "pipelines",
                "tests",
                "partitions",
                "schedules",
                "sensors",
            ],
        );
        if let Some(item) = root.get("manifest_version") {
            let at = self.location(root, "manifest_version", "manifest_version");
            match item.as_integer() {
                Some(MANIFEST_VERSION) => {}
                Some(v) => self.problem(
                    &at,
                    format!("manifest version {v} is not supported; this weft reads version {MANIFEST_VERSION}"),
                ),
                None => self.problem(&at, format!("expected an integer, found {}", item.type_name())),
            }
        }
        let build = self.sub_table(root, "build", "").and_then(|t| self.build(t, "build"));

        let mut solids = Vec::new();
        if let Some(table) = self.sub_table(root, "solids", "") {
            for (name, item) in table.iter() {
                let key = join("solids", name);
                let at = self.location(table, name, &key);
                self.check_name(&at, "solid", name);
                let Some(decl) = item.as_table_like() else {
                    self.problem(&at, format!("expected a table, found {}", item.type_name()));
                    continue;
                };
                self.check_keys(decl, &key, &["wasm", "build", "source", "language"]);
                let source = self.source(decl, &key);
                let wasm = self.string(decl, "wasm", &key);
                if wasm.is_none() && decl.get("wasm").is_none() && decl.get("source").is_none() {
                    self.problem(&at, "missing key `wasm` (the solid's component) or `source` (a file weft builds)");
                }
                let own_build = self.sub_table(decl, "build", &key).and_then(|t| self.build(t, &join(&key, "build")));
                if own_build.is_some() && source.is_some() {
                    self.problem(&at, "give `source` (weft builds it) or `build` (your command), not both");
                }
                let wasm = match (wasm, &source) {
                    (Some(wasm), _) => Some(self.dir.join(wasm)),
                    (None, Some(_)) => Some(self.dir.join(".weft/build").join(format!("{name}.wasm"))),
                    (None, None) => None,
                };
                if let Some(wasm) = wasm {
                    let at_key = if decl.get("wasm").is_some() { "wasm" } else { "source" };
                    solids.push(SolidDecl {
                        name: name.to_owned(),
                        wasm,
                        build: own_build,
                        source,
                        at: self.location(decl, at_key, &join(&key, at_key)),
                    });
                }
            }
        }

        // Every declared name, even of solids with errors, so that a bad solid is not
        // reported again as unknown by each step that uses it.
        let declared: Vec<String> = match root.get("solids").and_then(Item::as_table_like) {
            Some(table) => table.iter().map(|(name, _)| name.to_owned()).collect(),
            None => Vec::new(),
        };
        let mut pipelines = Vec::new();
        if let Some(table) = self.sub_table(root, "pipelines", "") {
            for (name, item) in table.iter() {
                let key = join("pipelines", name);
                let at = self.location(table, name, &key);
                self.check_name(&at, "pipeline", name);
                let Some(decl) = item.as_table_like() else {
                    self.problem(&at, format!("expected a table, found {}", item.type_name()));
                    continue;
                };
                if let Some(pipeline) = self.pipeline(name, decl, &key, at, &declared) {
                    pipelines.push(pipeline);
                }
            }
        }
        if pipelines.is_empty() && self.problems.is_empty() {
            let at = Location { line: 0, key: "pipelines".into() };
            self.problem(&at, "the manifest declares no pipeline");
        }
        let modes = self.modes(root);
        let pipeline_names: Vec<String> = root
            .get("pipelines")
            .and_then(Item::as_table_like)
            .map(|t| t.iter().map(|(name, _)| name.to_owned()).collect())
            .unwrap_or_default();
        let tests = self.tests(root, &pipeline_names);
        let partitions = self.partitions(root);
        for pipeline in &pipelines {
            if let Some(set) = &pipeline.partitions
                && !partitions.iter().any(|p| &p.name == set)
                && root.get("partitions").and_then(Item::as_table_like).is_none_or(|t| !t.contains_key(set))
            {
                let at = Location { line: pipeline.at.line, key: join(&pipeline.at.key, "partitions") };
                let names: Vec<String> = partitions.iter().map(|p| format!("`{}`", p.name)).collect();
                let known = if names.is_empty() { "it declares none".to_owned() } else { names.join(", ") };
                self.problem(&at, format!("no partition set `{set}` in this manifest ({known})"));
            }
        }
        let partitioned: Vec<(String, Option<&crate::partition::PartitionSet>)> = pipelines
            .iter()
            .map(|p| (p.name.clone(), p.partitions.as_ref().and_then(|set| partitions.iter().find(|s| &s.name == set))))
            .collect();
        let schedules = self.schedules(root, &partitioned);
        let sensors = self.sensors(root, &partitioned);
        let launches = schedules
            .iter()
            .map(|s| (&s.pipeline, &s.launch, &s.at))
            .chain(sensors.iter().map(|s| (&s.pipeline, &s.launch, &s.at)));
        for (pipeline, launch, at) in launches {
            let presets = pipelines.iter().find(|p| &p.name == pipeline).map(|p| &p.presets);
            if let Some(preset) = &launch.preset
                && presets.is_some_and(|list| !list.iter().any(|(name, _)| name == preset))
            {
                let at = Location { line: at.line, key: join(&at.key, "preset") };
                self.problem(&at, format!("pipeline `{pipeline}` has no preset `{preset}`"));
            }
            if let Some(mode) = &launch.mode
                && !modes.iter().any(|m| &m.name == mode)
            {
                let at = Location { line: at.line, key: join(&at.key, "mode") };
                self.problem(&at, format!("no mode `{mode}` in this manifest"));
            }
        }
        Manifest {
            path: PathBuf::new(),
            dir: PathBuf::new(),
            build,
            solids,
            pipelines,
            modes,
            tests,
            partitions,
            schedules,
            sensors,
        }
    }

    /// Reads `[modes.<name>]`: `description`, `default`, `resources`, `config`.
    fn modes(&mut self, root: &dyn TableLike) -> Vec<ModeDecl> {
        let Some(table) = self.sub_table(root, "modes", "") else { return Vec::new() };
        let mut modes = Vec::new();
        for (name, item) in table.iter() {
            let key = join("modes", name);
            let at = self.location(table, name, &key);
            self.check_name(&at, "mode", name);
            let Some(decl) = item.as_table_like() else {
                self.problem(&at, format!("expected a table, found {}", item.type_name()));
                continue;
            };
            self.check_keys(decl, &key, &["description", "default", "resources", "config"]);
            let description = self.string(decl, "description", &key).unwrap_or_default();
            let default = self.boolean(decl, "default", &key).unwrap_or(false);
            let config = self.json_table(decl, "config", &key, |json, at, problems| {
                if let Err(found) = crate::config::RunConfig::from_json(json, None) {
                    problems.extend(found.0.into_iter().map(|p| (join(at, &p.key.unwrap_or_default()), p.message)));
                }
            });
            let mut resources = Vec::new();
            if let Some(bound) = self.sub_table(decl, "resources", &key) {
                let resources_key = join(&key, "resources");
                for (resource, item) in bound.iter() {
                    let resource_key = join(&resources_key, resource);
                    let resource_at = self.location(bound, resource, &resource_key);
                    self.check_name(&resource_at, "resource", resource);
                    let settings = toml_to_json(item).unwrap_or(serde_json::Value::Null);
                    let mut found = Vec::new();
                    crate::resource::binding::backend(resource, &settings, self.dir, &resource_key, false, &mut found);
                    for (key, message) in found {
                        self.problem(&Location { line: resource_at.line, key }, message);
                    }
                    resources.push(ResourceDecl { name: resource.to_owned(), settings, at: resource_at });
                }
            }
            modes.push(ModeDecl { name: name.to_owned(), description, default, resources, config, at });
        }
        let defaults: Vec<&ModeDecl> = modes.iter().filter(|m| m.default).collect();
        if defaults.len() > 1 {
            let names: Vec<String> = defaults.iter().map(|m| format!("`{}`", m.name)).collect();
            let at = defaults[1].at.clone();
            self.problem(&at, format!("only one mode can be the default ({} say they are)", names.join(" and ")));
        }
        modes
    }

    /// Reads `source` and `language` (inferred from the file's extension when absent).
    fn source(&mut self, decl: &dyn TableLike, key: &str) -> Option<SourceDecl> {
        let path = self.string(decl, "source", key);
        let language = self.string(decl, "language", key);
        let Some(path) = path else {
            if language.is_some() {
                let at = self.location(decl, "language", &join(key, "language"));
                self.problem(&at, "`language` needs `source`: the file to build");
            }
            return None;
        };
        let at = self.location(decl, "source", &join(key, "source"));
        let language = match language {
            Some(name) => crate::language::Language::from_name(&name),
            None => crate::language::Language::from_path(Path::new(&path)),
        };
        match language {
            Ok(language) => Some(SourceDecl { path: self.dir.join(path), language }),
            Err(message) => {
                self.problem(&at, message);
                None
            }
        }
    }

    fn build(&mut self, table: &dyn TableLike, key: &str) -> Option<BuildRecipe> {
        self.check_keys(table, key, &["command", "dir", "sources"]);
        let at = Location {
            line: table.get("command").and_then(Item::span).map_or(0, |s| self.lines.line(s.start)),
            key: key.to_owned(),
        };
        let command = self.string_list(table, "command", key);
        match &command {
            None if table.get("command").is_none() => {
                self.problem(&at, "missing key `command`: the program and its arguments");
            }
            Some(c) if c.is_empty() => self.problem(&at, "`command` is empty"),
            _ => {}
        }
        let dir = self.string(table, "dir", key).map_or_else(|| self.dir.to_path_buf(), |d| self.dir.join(d));
        let sources = self.string_list(table, "sources", key).unwrap_or_default();
        Some(BuildRecipe {
            command: command.filter(|c| !c.is_empty())?,
            sources: sources.iter().map(|s| self.dir.join(s)).collect(),
            dir,
            at,
        })
    }

    fn pipeline(
        &mut self,
        name: &str,
        decl: &dyn TableLike,
        key: &str,
        at: Location,
        solids: &[String],
    ) -> Option<PipelineDecl> {
        self.check_keys(
            decl,
            key,
            &["description", "solids", "execution", "limits", "deterministic", "presets", "partitions"],
        );
        let presets = self.presets(decl, key);
        let partitions = self.string(decl, "partitions", key);
        let limits = self.json_table(decl, "limits", key, |json, at, problems| {
            crate::limits::apply_limits(&mut Default::default(), json, at, problems)
        });
        let deterministic = self.boolean(decl, "deterministic", key).unwrap_or(false);
        let execution = self.json_table(decl, "execution", key, |json, at, problems| {
            crate::execution::apply_execution(&mut Default::default(), json, at, problems)
        });
        let description = self.string(decl, "description", key).unwrap_or_default();
        let solids_key = join(key, "solids");
        let mut steps = Vec::new();
        match decl.get("solids") {
            None => self.problem(&at, "missing key `solids`: the pipeline's solid instances"),
            // The short form: a list of solid names, each instantiated once under its name.
            Some(item) if item.as_array().is_some() => {
                let line = self.location(decl, "solids", &solids_key).line;
                for solid in self.string_list(decl, "solids", key).unwrap_or_default() {
                    // Keyed as the long form would be, so hints name a key the user can write.
                    let at = Location { line, key: join(&solids_key, &solid) };
                    steps.push(StepDecl {
                        alias: solid.clone(),
                        solid,
                        inputs: Vec::new(),
                        config: None,
                        retry: None,
                        limits: None,
                        files: Vec::new(),
                        env: Vec::new(),
                        deterministic: None,
                        at,
                    });
                }
            }
            Some(_) => {
                let table = self.sub_table(decl, "solids", key)?;
                for (alias, item) in table.iter() {
                    let step_key = join(&solids_key, alias);
                    let step_at = self.location(table, alias, &step_key);
                    let Some(step) = item.as_table_like() else {
                        self.problem(&step_at, format!("expected a table, found {}", item.type_name()));
                        continue;
                    };
                    if let Some(step) = self.step(alias, step, &step_key, step_at) {
                        steps.push(step);
                    }
                }
            }
        }
        let mut seen = BTreeSet::new();
        for step in &steps {
            self.check_name(&step.at, "step", &step.alias);
            if !seen.insert(step.alias.as_str()) {
                self.problem(&step.at, format!("step `{}` is declared twice", step.alias));
            }
            if !solids.contains(&step.solid) {
                let declared = if solids.is_empty() {
                    "the manifest declares no solids".to_owned()
                } else {
                    let names: Vec<String> = solids.iter().map(|s| format!("`{s}`")).collect();
                    format!("declared: {}", names.join(", "))
                };
                self.problem(&step.at, format!("no solid named `{}` is declared ({declared})", step.solid));
            }
        }
        if steps.is_empty() && decl.get("solids").is_some() {
            self.problem(&at, "the pipeline has no solids");
        }
        Some(PipelineDecl {
            name: name.to_owned(),
            description,
            steps,
            execution,
            limits,
            deterministic,
            presets,
            partitions,
            at,
        })
    }

    fn step(&mut self, alias: &str, table: &dyn TableLike, key: &str, at: Location) -> Option<StepDecl> {
        self.check_keys(table, key, &["solid", "inputs", "config", "retry", "limits", "files", "env", "deterministic"]);
        let limits = self.json_table(table, "limits", key, |json, at, problems| {
            crate::limits::apply_limits(&mut Default::default(), json, at, problems)
        });
        let files = self.files(table, key);
        let env = self.string_list(table, "env", key).unwrap_or_default();
        let deterministic = self.boolean(table, "deterministic", key);
        let retry = self.json_table(table, "retry", key, |json, at, problems| {
            crate::execution::apply_retry(&mut Default::default(), json, at, problems)
        });
        let solid = self.string(table, "solid", key).unwrap_or_else(|| alias.to_owned());
        let mut inputs = Vec::new();
        if let Some(wiring) = self.sub_table(table, "inputs", key) {
            let inputs_key = join(key, "inputs");
            for (input, item) in wiring.iter() {
                let input_at = self.location(wiring, input, &join(&inputs_key, input));
                let refs = match (item.as_str(), item.as_array()) {
                    (Some(s), _) => vec![s.to_owned()],
                    (None, Some(array)) => array.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                    _ => Vec::new(),
                };
                if refs.is_empty() {
                    self.problem(&input_at, "expected `step.output` (a string) or a list of them for fan-in");
                    continue;
                }
                let sources = refs.iter().map(|r| parse_output_ref(r)).collect();
                inputs.push(InputWiring { input: input.to_owned(), sources, at: input_at });
            }
        }
        let config = table.get("config").and_then(|item| match toml_to_json(item) {
            Some(json @ serde_json::Value::Object(_)) => Some(json),
            _ => {
                let at = self.location(table, "config", &join(key, "config"));
                self.problem(&at, "expected a table of config values");
                None
            }
        });
        Some(StepDecl { alias: alias.to_owned(), solid, inputs, config, retry, limits, files, env, deterministic, at })
    }

    /// Reads `[pipelines.<name>.presets.<preset>]` tables, each a run config.
    fn presets(&mut self, decl: &dyn TableLike, prefix: &str) -> Vec<(String, serde_json::Value)> {
        let Some(table) = self.sub_table(decl, "presets", prefix) else { return Vec::new() };
        let presets_key = join(prefix, "presets");
        let mut presets = Vec::new();
        for (name, item) in table.iter() {
            let key = join(&presets_key, name);
            let at = self.location(table, name, &key);
            match toml_to_json(item) {
                Some(json @ serde_json::Value::Object(_)) => match crate::config::RunConfig::from_json(&json, None) {
                    Ok(_) => presets.push((name.to_owned(), json)),
                    Err(problems) => {
                        for problem in problems.0 {
                            let inner = problem.key.unwrap_or_default();
                            self.problem(&Location { line: at.line, key: join(&key, &inner) }, problem.message);
                        }
                    }
                },
                _ => self.problem(&at, "expected a table of run config (`solids`, `execution`, `limits`, `tags`)"),
            }
        }
        presets
    }

    fn boolean(&mut self, table: &dyn TableLike, key: &str, prefix: &str) -> Option<bool> {
        let item = table.get(key)?;
        let value = item.as_bool();
        if value.is_none() {
            let at = self.location(table, key, &join(prefix, key));
            self.problem(&at, format!("expected true or false, found {}", item.type_name()));
        }
        value
    }

    /// Reads `files = [{ host = "...", guest = "/...", mode = "ro" | "rw" }, ...]`.
    fn files(&mut self, table: &dyn TableLike, prefix: &str) -> Vec<FileDecl> {
        let Some(item) = table.get("files") else { return Vec::new() };
        let key = join(prefix, "files");
        let at = self.location(table, "files", &key);
        let entries: Vec<Option<serde_json::Value>> = match item.as_array() {
            Some(array) => array.iter().map(value_to_json).collect(),
            None => {
                self.problem(&at, "expected a list of `{ host = \"dir\", guest = \"/dir\", mode = \"ro\" }`");
                return Vec::new();
            }
        };
        let mut files = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let entry_at = Location { line: at.line, key: format!("{key}[{i}]") };
            let Some(serde_json::Value::Object(entry)) = entry else {
                self.problem(&entry_at, "expected `{ host = \"dir\", guest = \"/dir\", mode = \"ro\" }`");
                continue;
            };
            for unknown in entry.keys().filter(|k| !["host", "guest", "mode"].contains(&k.as_str())) {
                self.problem(&entry_at, format!("unknown key `{unknown}`; expected `host`, `guest`, `mode`"));
            }
            let host = entry.get("host").and_then(|v| v.as_str());
            let guest = entry.get("guest").and_then(|v| v.as_str());
            let writable = match entry.get("mode").and_then(|v| v.as_str()) {
                None | Some("ro") => false,
                Some("rw") => true,
                Some(other) => {
                    self.problem(&entry_at, format!("mode `{other}` is neither \"ro\" nor \"rw\""));
                    false
                }
            };
            match (host, guest) {
                (Some(host), Some(guest)) if guest.starts_with('/') => {
                    files.push(FileDecl { host: self.dir.join(host), guest: guest.to_owned(), writable, at: entry_at });
                }
                (Some(_), Some(guest)) => {
                    self.problem(&entry_at, format!("guest path `{guest}` must be absolute, such as \"/data\""));
                }
                _ => self.problem(&entry_at, "needs `host` (a directory) and `guest` (where the step sees it)"),
            }
        }
        files
    }

    /// Reads `key` as a table of settings, checked by `check`, which reports problems as
    /// (dotted key, message); they are located at the table's line.
    fn json_table(
        &mut self,
        table: &dyn TableLike,
        key: &str,
        prefix: &str,
        check: impl FnOnce(&serde_json::Value, &str, &mut Vec<(String, String)>),
    ) -> Option<serde_json::Value> {
        let item = table.get(key)?;
        let dotted = join(prefix, key);
        let at = self.location(table, key, &dotted);
        let Some(json @ serde_json::Value::Object(_)) = toml_to_json(item) else {
            self.problem(&at, format!("expected a table, found {}", item.type_name()));
            return None;
        };
        let mut problems = Vec::new();
        check(&json, &dotted, &mut problems);
        for (key, message) in &problems {
            self.problem(&Location { line: at.line, key: key.clone() }, message.clone());
        }
        problems.is_empty().then_some(json)
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

fn parse_output_ref(text: &str) -> OutputRef {
    match text.split_once('.') {
        Some((step, output)) => OutputRef { step: step.to_owned(), output: Some(output.to_owned()) },
        None => OutputRef { step: text.to_owned(), output: None },
    }
}

/// Converts a TOML item (value, table or array) to JSON; `None` for datetimes, which
/// config does not support.
pub(crate) fn toml_to_json(item: &Item) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    match item {
        Item::None => None,
        Item::Value(v) => value_to_json(v),
        Item::Table(t) => {
            let mut map = serde_json::Map::new();
            for (k, v) in t.iter() {
                map.insert(k.to_owned(), toml_to_json(v)?);
            }
            Some(J::Object(map))
        }
        Item::ArrayOfTables(a) => {
            a.iter().map(|t| toml_to_json(&Item::Table(t.clone()))).collect::<Option<Vec<_>>>().map(J::Array)
        }
    }
}

fn value_to_json(value: &toml_edit::Value) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    use toml_edit::Value as T;
    Some(match value {
        T::String(s) => J::String(s.value().clone()),
        T::Integer(i) => J::from(*i.value()),
        T::Float(f) => serde_json::Number::from_f64(*f.value()).map(J::Number)?,
        T::Boolean(b) => J::Bool(*b.value()),
        T::Datetime(_) => return None,
        T::Array(a) => J::Array(a.iter().map(value_to_json).collect::<Option<Vec<_>>>()?),
        T::InlineTable(t) => {
            let mut map = serde_json::Map::new();
            for (k, v) in t.iter() {
                map.insert(k.to_owned(), value_to_json(v)?);
            }
            J::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, Problems> {
        Manifest::parse(Path::new("project/weft.toml"), text)
    }

    #[test]
    fn the_short_and_the_long_pipeline_forms_both_read() {
        let manifest = parse(
            r#"
            [solids.a]
            wasm = "a.wasm"
            [solids.b]
            wasm = "b.wasm"
            [pipelines.short]
            solids = ["a", "b"]
            [pipelines.long.solids.first]
            solid = "a"
            [pipelines.long.solids.second]
            solid = "b"
            inputs = { x = "first.out", many = ["first", "first.other"] }
            config = { n = 3, nested = { ok = true } }
            "#,
        )
        .unwrap();
        assert_eq!(manifest.solids[0].wasm, Path::new("project/a.wasm"));
        let short = manifest.pipeline("short").unwrap();
        assert_eq!(short.steps.iter().map(|s| s.alias.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let long = manifest.pipeline("long").unwrap();
        let second = &long.steps[1];
        assert_eq!(second.solid, "b");
        assert_eq!(second.inputs[1].sources[0], OutputRef { step: "first".into(), output: None });
        assert_eq!(second.config.as_ref().unwrap()["nested"]["ok"], true);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_line_and_key() {
        let err = parse(
            "manifest_version = 1\n\
             colour = \"blue\"\n\
             [solids.a]\n\
             wasm = 3\n\
             [pipelines.p]\n\
             solids = [\"a\", \"ghost\"]\n\
             extra = 1\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("project/weft.toml:2: `colour`: unknown key"), "{text}");
        assert!(text.contains("project/weft.toml:4: `solids.a.wasm`: expected a string"), "{text}");
        assert!(text.contains("`pipelines.p.extra`: unknown key"), "{text}");
        assert!(text.contains("no solid named `ghost`"), "{text}");
        assert_eq!(err.0.len(), 4, "{text}");
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let err = parse("[solids.a]\nwasm = \n").unwrap_err();
        assert!(err.to_string().starts_with("project/weft.toml:2:"), "{err}");
    }

    #[test]
    fn names_must_be_identifiers() {
        assert!(is_valid_name("hello_world"));
        assert!(is_valid_name("step-2"));
        assert!(!is_valid_name("2nd"));
        assert!(!is_valid_name("a.b"));
        assert!(!is_valid_name(""));
    }
}
