//! Planning: from a manifest's pipeline and a run config to a [`LockedPipeline`] — every
//! component built, loaded and described, every input wired to outputs of a matching
//! type, the DAG ordered, every step's config validated. Only a locked pipeline runs, so
//! every problem is found here, before anything runs, and reported at once.

use crate::capability::{Grants, Preopen};
use crate::config::{self, RunConfig};
use crate::db::Db;
use crate::engine::SolidEngine;
use crate::error::Error;
use crate::error::{Problem, Problems};
use crate::execution::{ExecutionSettings, RetryPolicy, apply_execution, apply_retry};
use crate::limits::{StepLimits, apply_limits};
use crate::manifest::{Location, Manifest, ModeDecl, OutputRef, PipelineDecl, StepDecl};
use crate::partition::Partition;
use crate::resource::{ResourceGrant, binding};
use crate::run::RunId;
use crate::solid::{InputDef, LoadedSolid};
use crate::value::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// A pipeline ready to run: steps in a topological order (manifest order among steps
/// that do not depend on each other), each with its component and validated config.
#[derive(Debug, Clone)]
pub struct LockedPipeline {
    pub name: String,
    pub manifest: PathBuf,
    pub steps: Vec<PlannedStep>,
    pub run_config: RunConfig,
    pub execution: ExecutionSettings,
    /// Set by [`LockedPipeline::select`] when only some steps run.
    pub selection: Option<Selection>,
    /// The partition the run computes (the run config's `partition`), checked against
    /// the pipeline's partition set.
    pub partition: Option<Partition>,
}

/// The steps a partial run runs, and the values it reuses for the others.
#[derive(Debug, Clone)]
pub struct Selection {
    pub expression: String,
    /// Indices into `steps`.
    pub steps: BTreeSet<usize>,
    /// The run whose outputs feed selected steps from unselected ones.
    pub parent: Option<RunId>,
    /// (step index, output name) -> value, read from the parent run.
    pub reused: HashMap<(usize, String), Value>,
}

/// One step of a locked pipeline.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    /// The step key: the solid instance's alias.
    pub key: String,
    pub solid: LoadedSolid,
    /// The fed inputs, in the solid's declared order.
    pub inputs: Vec<PlannedInput>,
    /// The validated config with defaults filled in (`{}` when the solid takes none).
    pub config: serde_json::Value,
    /// Indices (into `steps`) of the steps this one reads from.
    pub upstream: Vec<usize>,
    pub retry: RetryPolicy,
    pub limits: StepLimits,
    pub grants: Grants,
}

/// An input and the upstream outputs that feed it, in manifest order.
#[derive(Debug, Clone)]
pub struct PlannedInput {
    pub name: String,
    /// (index of the upstream step, output name).
    pub sources: Vec<(usize, String)>,
}

/// Plans `pipeline` of `manifest`: builds stale components, loads them, wires and checks.
///
/// # Errors
/// [`Problems`] listing every problem found, each naming its file and key.
pub async fn plan(
    engine: &SolidEngine,
    manifest: &Manifest,
    pipeline: &str,
    run_config: &RunConfig,
    note: &(dyn Fn(&str) + Sync),
) -> Result<LockedPipeline, Problems> {
    let (decl, loaded) = load_solids(engine, manifest, pipeline, note).await?;
    let (mut run_config, mode) = resolve_mode(manifest, run_config)?;
    let mut problems = Vec::new();
    let partition = resolve_partition(manifest, decl, &mut run_config, &mut problems);
    let run_config = &run_config;
    let planner = Planner::new(&manifest.path, decl, &loaded);
    let mut steps = planner.wire(&mut problems);
    planner.check_run_config(run_config, &mut problems);
    let vars = partition.as_ref().map(Partition::template_vars).unwrap_or_default();
    // `wire` returns the steps in declaration order.
    for (step, declared) in steps.iter_mut().zip(&decl.steps) {
        let at = &declared.at;
        let base = declared.config.clone().map(|mut config| {
            crate::template::render(&mut config, &vars);
            config
        });
        let templates = [
            (&manifest.path, Some(at.line), base.as_ref()),
            (run_config.source.as_ref().unwrap_or(&manifest.path), None, run_config.solids.get(&step.key)),
        ];
        for (file, line, config) in templates {
            let key = format!("solids.{}.config", step.key);
            check_templates(file, line, &key, config, manifest, decl, partition.as_ref(), &mut problems);
        }
        match resolve_config(
            &step.solid,
            &step.key,
            base.as_ref(),
            run_config.solids.get(&step.key),
            run_config.source.as_deref(),
            &manifest.path,
            at,
        ) {
            Ok(config) => step.config = config,
            Err(mut p) => problems.append(&mut p),
        }
    }
    let execution = resolve_execution(decl, &mut steps, run_config, &mut problems);
    let resources = resolve_resources(manifest, mode, &steps, run_config, &mut problems);
    resolve_sandbox(&manifest.path, decl, &mut steps, run_config, &mut problems);
    grant_resources(manifest, decl, mode, &mut steps, &resources, &mut problems);
    let order = planner.order(&steps, &mut problems);
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    Ok(LockedPipeline {
        name: decl.name.clone(),
        manifest: manifest.path.clone(),
        steps: reorder(steps, &order),
        run_config: run_config.clone(),
        execution,
        selection: None,
        partition,
    })
}

/// The run's partition (the run config's `partition`), checked against the pipeline's
/// set; its values are filled into the run config's templates and it is tagged on the
/// run (`weft/partition`, `weft/partition_set`), so that runs are found by partition.
fn resolve_partition(
    manifest: &Manifest,
    decl: &PipelineDecl,
    run_config: &mut RunConfig,
    problems: &mut Vec<Problem>,
) -> Option<Partition> {
    let Some(key) = run_config.partition.clone() else {
        // Only a run that computes a partition is indexed as one: a tag alone (a run
        // config's `tags`) must not make a run count for a partition it did not compute.
        run_config.tags.remove(crate::partition::PARTITION_TAG);
        run_config.tags.remove(crate::partition::PARTITION_SET_TAG);
        return None;
    };
    let file = run_config.source.clone().unwrap_or_else(|| PathBuf::from("<run config>"));
    let Some(set) = manifest.partition_set(&decl.name) else {
        let message = format!(
            "pipeline `{}` is not partitioned: give it `partitions = \"SET\"` to run partition `{key}`",
            decl.name
        );
        problems.push(Problem::new(&file, Some("partition"), message));
        return None;
    };
    match set.partition(&key) {
        Ok(partition) => {
            let vars = partition.template_vars();
            for config in run_config.solids.values_mut() {
                crate::template::render(config, &vars);
            }
            run_config.tags.insert(crate::partition::PARTITION_TAG.into(), partition.key.clone());
            run_config.tags.insert(crate::partition::PARTITION_SET_TAG.into(), partition.set.clone());
            Some(partition)
        }
        Err(message) => {
            problems.push(Problem::new(&file, Some("partition"), message));
            None
        }
    }
}

/// Reports the `{partition_...}` templates left in a step's config: unknown names, or
/// any in a run without a partition.
#[allow(clippy::too_many_arguments)]
fn check_templates(
    file: &Path,
    line: Option<usize>,
    key: &str,
    config: Option<&serde_json::Value>,
    manifest: &Manifest,
    decl: &PipelineDecl,
    partition: Option<&Partition>,
    problems: &mut Vec<Problem>,
) {
    let Some(config) = config else { return };
    let mut left = Vec::new();
    crate::template::unfilled(config, "partition_", key, &mut left);
    for (at, token) in left {
        let message = match (partition, manifest.partition_set(&decl.name)) {
            (Some(partition), _) => {
                let known: Vec<String> = partition.template_vars().iter().map(|(n, _)| format!("{{{n}}}")).collect();
                format!(
                    "`{token}` is not a template of partition set `{}`: it fills {}",
                    partition.set,
                    known.join(", ")
                )
            }
            (None, Some(set)) => format!(
                "`{token}` is filled only when a partition is given: run with --partition KEY (a key of `{}`, {})",
                set.name,
                set.describe()
            ),
            (None, None) => {
                format!("`{token}` is filled only in runs of a partitioned pipeline; `{}` is not", decl.name)
            }
        };
        problems.push(Problem { file: file.to_path_buf(), line, key: Some(at), message });
    }
}

/// A pipeline's steps as a UI draws them: built, loaded and wired, in manifest order,
/// without a run config, so no config is checked. Each step's `config` is the manifest's
/// config for it with its schema's defaults filled in: a run config to start from.
///
/// # Errors
/// [`Problems`] when a solid cannot be built or loaded, or an input cannot be wired.
pub async fn graph(
    engine: &SolidEngine,
    manifest: &Manifest,
    pipeline: &str,
    note: &(dyn Fn(&str) + Sync),
) -> Result<Vec<PlannedStep>, Problems> {
    let (decl, loaded) = load_solids(engine, manifest, pipeline, note).await?;
    let mut problems = Vec::new();
    let mut steps = Planner::new(&manifest.path, decl, &loaded).wire(&mut problems);
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    for (step, declared) in steps.iter_mut().zip(&decl.steps) {
        let mut config = declared.config.clone().unwrap_or_else(|| serde_json::json!({}));
        if let Some(schema) = &step.solid.def.config_schema {
            config::fill_defaults(schema, &mut config);
        }
        step.config = config;
    }
    Ok(steps)
}

/// The run's mode (the one it names, else the manifest's default) and its run config:
/// the mode's config under the run's own, with the mode recorded in it.
///
/// # Errors
/// [`Problems`] when the run names a mode the manifest does not declare, or the mode's
/// config does not merge.
fn resolve_mode<'m>(
    manifest: &'m Manifest,
    run_config: &RunConfig,
) -> Result<(RunConfig, Option<&'m ModeDecl>), Problems> {
    let Some(mode) = manifest.choose_mode(run_config.mode.as_deref())? else {
        return Ok((run_config.clone(), None));
    };
    let mut effective = match &mode.config {
        Some(json) => {
            let mut base = RunConfig::from_json(json, Some(&manifest.path))?;
            base.source = Some(manifest.path.clone());
            run_config.over(&base)?
        }
        None => run_config.clone(),
    };
    effective.mode = Some(mode.name.clone());
    Ok((effective, Some(mode)))
}

/// The mode's resources that some step needs, with the run config's settings over the
/// mode's, resolved now (environment variables read, paths made absolute). A resource
/// no step needs is not resolved, so that its unset variables do not stop this run.
fn resolve_resources(
    manifest: &Manifest,
    mode: Option<&ModeDecl>,
    steps: &[PlannedStep],
    run_config: &RunConfig,
    problems: &mut Vec<Problem>,
) -> Vec<(String, Option<ResourceGrant>)> {
    let file = run_config.source.as_deref().unwrap_or(Path::new("<run config>"));
    for name in run_config.resources.keys() {
        if !mode.is_some_and(|m| m.resources.iter().any(|r| &r.name == name)) {
            let message = match mode {
                Some(mode) => format!("mode `{}` binds no resource `{name}` ({})", mode.name, bound_names(mode)),
                None => format!("no mode binds a resource `{name}`: the run has no mode"),
            };
            problems.push(Problem::new(file, Some(&format!("resources.{name}")), message));
        }
    }
    let Some(mode) = mode else { return Vec::new() };
    let needed: BTreeSet<&str> =
        steps.iter().flat_map(|s| s.solid.def.resources.iter().map(|need| need.name.as_str())).collect();
    let mut resolved = Vec::new();
    for decl in mode.resources.iter().filter(|r| needed.contains(r.name.as_str())) {
        let mut settings = decl.settings.clone();
        if let Some(over) = run_config.resources.get(&decl.name) {
            config::merge(&mut settings, over);
        }
        let mut found = Vec::new();
        let backend = binding::backend(&decl.name, &settings, &manifest.dir, &decl.at.key, true, &mut found);
        let line = (decl.at.line > 0).then_some(decl.at.line);
        problems.extend(found.into_iter().map(|(key, message)| Problem::keyed(&manifest.path, line, &key, message)));
        let grant = backend.map(|backend| ResourceGrant { name: decl.name.clone(), backend });
        resolved.push((decl.name.clone(), grant));
    }
    resolved
}

fn bound_names(mode: &ModeDecl) -> String {
    if mode.resources.is_empty() {
        return "it binds none".to_owned();
    }
    let names: Vec<String> = mode.resources.iter().map(|r| format!("`{}`", r.name)).collect();
    format!("it binds {}", names.join(", "))
}

/// Grants each step the resources its solid declares, each bound by the mode to a
/// backend of the declared kind; every need left unbound is a problem.
fn grant_resources(
    manifest: &Manifest,
    decl: &PipelineDecl,
    mode: Option<&ModeDecl>,
    steps: &mut [PlannedStep],
    resources: &[(String, Option<ResourceGrant>)],
    problems: &mut Vec<Problem>,
) {
    // Still in declaration order.
    for (step, declared) in steps.iter_mut().zip(&decl.steps) {
        let line = (declared.at.line > 0).then_some(declared.at.line);
        let solid = &step.solid.def.name;
        for need in &step.solid.def.resources {
            let (name, kind) = (&need.name, need.kind);
            let message = match (mode, resources.iter().find(|(n, _)| n == name)) {
                // Its settings are wrong: reported where they are.
                (_, Some((_, None))) => continue,
                (_, Some((_, Some(grant)))) if grant.backend.kind() == kind => {
                    step.grants.resources.push(grant.clone());
                    continue;
                }
                (Some(mode), Some((_, Some(grant)))) => format!(
                    "solid `{solid}` needs resource `{name}` as {kind}, but mode `{}` binds it to `{}`, {}",
                    mode.name,
                    grant.backend.type_name(),
                    grant.backend.kind()
                ),
                (Some(mode), None) => format!(
                    "solid `{solid}` needs resource `{name}` ({kind}), which mode `{}` does not bind ({}); \
                     bind it in [modes.{}.resources.{name}]",
                    mode.name,
                    bound_names(mode),
                    mode.name
                ),
                (None, _) if manifest.modes.is_empty() => format!(
                    "solid `{solid}` needs resource `{name}` ({kind}), but the manifest declares no modes; \
                     bind it in [modes.<mode>.resources.{name}]"
                ),
                (None, _) => {
                    let names: Vec<String> = manifest.modes.iter().map(|m| format!("`{}`", m.name)).collect();
                    format!(
                        "solid `{solid}` needs resource `{name}` ({kind}), but no mode is chosen: \
                         run with --mode (modes: {}) or mark one `default = true`",
                        names.join(", ")
                    )
                }
            };
            problems.push(Problem::keyed(&manifest.path, line, &declared.at.key, message));
        }
    }
}

/// Execution settings: defaults, under the pipeline's, under the run config's. Each
/// step's retry policy: the run's, under the step's own in the manifest, under the run
/// config's for that step.
fn resolve_execution(
    decl: &PipelineDecl,
    steps: &mut [PlannedStep],
    run_config: &RunConfig,
    problems: &mut Vec<Problem>,
) -> ExecutionSettings {
    let file = run_config.source.clone().unwrap_or_else(|| PathBuf::from("<run config>"));
    let mut found = Vec::new();
    let mut execution = ExecutionSettings::default();
    // The manifest's settings were checked when it was read.
    if let Some(json) = &decl.execution {
        apply_execution(&mut execution, json, "execution", &mut Vec::new());
    }
    if let Some(json) = &run_config.execution {
        apply_execution(&mut execution, json, "execution", &mut found);
    }
    // Still in declaration order.
    for (step, declared) in steps.iter_mut().zip(&decl.steps) {
        step.retry = execution.retry.clone();
        if let Some(json) = &declared.retry {
            apply_retry(&mut step.retry, json, "retry", &mut Vec::new());
        }
        if let Some(json) = run_config.retries.get(&step.key) {
            apply_retry(&mut step.retry, json, &format!("solids.{}.retry", step.key), &mut found);
        }
    }
    problems.extend(found.into_iter().map(|(key, message)| Problem::new(&file, Some(&key), message)));
    execution
}

/// Each step's limits (defaults, under the pipeline's, the run's, the step's own, the run
/// config's for the step) and grants (directories checked to exist, environment
/// variables read now).
fn resolve_sandbox(
    manifest: &Path,
    decl: &PipelineDecl,
    steps: &mut [PlannedStep],
    run_config: &RunConfig,
    problems: &mut Vec<Problem>,
) {
    // Every layer was checked when it was read.
    let layers = |declared: &StepDecl, alias: &str| -> StepLimits {
        let mut limits = StepLimits::default();
        let sources = [
            decl.limits.as_ref(),
            run_config.limits.as_ref(),
            declared.limits.as_ref(),
            run_config.step_limits.get(alias),
        ];
        for json in sources.into_iter().flatten() {
            apply_limits(&mut limits, json, "limits", &mut Vec::new());
        }
        limits
    };
    // Still in declaration order.
    for (step, declared) in steps.iter_mut().zip(&decl.steps) {
        step.limits = layers(declared, &step.key);
        let mut grants =
            Grants { deterministic: declared.deterministic.unwrap_or(decl.deterministic), ..Grants::default() };
        for file in &declared.files {
            let line = (file.at.line > 0).then_some(file.at.line);
            // Opened as a capability now, so that a missing or unreadable directory is
            // reported before the run; the sandbox opens it again the same way per attempt.
            match cap_std::fs::Dir::open_ambient_dir(&file.host, cap_std::ambient_authority()) {
                Ok(_) => grants.files.push(Preopen {
                    host: file.host.canonicalize().unwrap_or_else(|_| file.host.clone()),
                    guest: file.guest.clone(),
                    writable: file.writable,
                }),
                Err(e) => problems.push(Problem::keyed(
                    manifest,
                    line,
                    &file.at.key,
                    format!("{}: cannot open this directory for the step: {e}", file.host.display()),
                )),
            }
        }
        for name in &declared.env {
            match std::env::var(name) {
                Ok(value) => grants.env.push((name.clone(), value)),
                Err(_) => problems.push(Problem::keyed(
                    manifest,
                    (declared.at.line > 0).then_some(declared.at.line),
                    &format!("{}.env", declared.at.key),
                    format!("the host environment variable `{name}` is not set"),
                )),
            }
        }
        step.grants = grants;
    }
}

impl LockedPipeline {
    /// Restricts the run to the steps `expression` selects (Dagster's syntax: `name`,
    /// `*name`, `+name`, `name+`, `name*`, lists with commas). Inputs that selected steps
    /// read from unselected ones are taken from the outputs of run `parent` in `db`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the expression is bad, or an input has no value to reuse
    /// (no parent given, or the parent did not produce it); [`Error::NotFound`] when the
    /// parent run does not exist or ran another pipeline.
    pub fn select(&mut self, expression: &str, parent: Option<(RunId, &Db)>) -> Result<(), Error> {
        let selected = self.resolve_selection(expression)?;
        self.select_steps(selected, expression, parent)
    }

    /// The step indices `expression` selects.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the expression is malformed or names no step.
    pub fn resolve_selection(&self, expression: &str) -> Result<BTreeSet<usize>, Error> {
        let names: Vec<&str> = self.steps.iter().map(|s| s.key.as_str()).collect();
        let upstream: Vec<Vec<usize>> = self.steps.iter().map(|s| s.upstream.clone()).collect();
        crate::selection::select(expression, &names, &upstream)
            .map_err(|m| Problems::one(Problem::new(&self.manifest, None, format!("step selection: {m}"))).into())
    }

    /// Restricts the run to the steps `selected` (described as `label`), reusing
    /// `parent`'s outputs as [`LockedPipeline::select`] does.
    ///
    /// # Errors
    /// As [`LockedPipeline::select`].
    pub fn select_steps(
        &mut self,
        selected: BTreeSet<usize>,
        label: &str,
        parent: Option<(RunId, &Db)>,
    ) -> Result<(), Error> {
        if let Some((id, db)) = parent {
            let record = db.run(id)?;
            if record.pipeline != self.name {
                return Err(Error::NotFound(format!(
                    "run {id} ran pipeline `{}`, not `{}`",
                    record.pipeline, self.name
                )));
            }
        }
        // Every output the parent has of an unselected step is carried over, so that this
        // run, too, holds a value for every step that has one (a later re-execution of it
        // needs nothing older).
        let mut reused = HashMap::new();
        if let Some((id, db)) = parent {
            let index: HashMap<&str, usize> = self.steps.iter().enumerate().map(|(i, s)| (s.key.as_str(), i)).collect();
            for (step, output, digest) in db.outputs_of(id)? {
                let Some(&i) = index.get(step.as_str()) else { continue };
                if selected.contains(&i) {
                    continue;
                }
                if let Some(value) = db.blob(&digest)? {
                    reused.insert((i, output), value);
                }
            }
        }
        let mut problems = Vec::new();
        for &index in &selected {
            let step = &self.steps[index];
            for input in &step.inputs {
                for (source, output) in &input.sources {
                    if selected.contains(source) || reused.contains_key(&(*source, output.clone())) {
                        continue;
                    }
                    let feeder = &self.steps[*source].key;
                    let value = match parent {
                        None => Err(format!(
                            "step `{}` reads `{feeder}.{output}`, which is not selected: select it too, or reuse a run's outputs with --from RUN",
                            step.key
                        )),
                        Some((id, db)) => db.output(id, feeder, output)?.ok_or_else(|| {
                            format!("step `{}` reads `{feeder}.{output}`, which run {id} did not produce", step.key)
                        }),
                    };
                    match value {
                        Ok(value) => {
                            reused.insert((*source, output.clone()), value);
                        }
                        Err(message) => problems.push(Problem::new(&self.manifest, None, message)),
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(Problems(problems).into());
        }
        self.selection =
            Some(Selection { expression: label.to_owned(), steps: selected, parent: parent.map(|(id, _)| id), reused });
        Ok(())
    }
}

/// The pipeline's declaration and each solid it uses, built if stale and loaded once.
///
/// # Errors
/// [`Problems`] when there is no such pipeline, or a solid cannot be built or loaded.
pub(crate) async fn load_solids<'m>(
    engine: &SolidEngine,
    manifest: &'m Manifest,
    pipeline: &str,
    note: &(dyn Fn(&str) + Sync),
) -> Result<(&'m PipelineDecl, HashMap<&'m str, LoadedSolid>), Problems> {
    let Some(decl) = manifest.pipeline(pipeline) else {
        let known: Vec<&str> = manifest.pipelines.iter().map(|p| p.name.as_str()).collect();
        return Err(Problems::one(Problem::new(
            &manifest.path,
            Some("pipelines"),
            format!("no pipeline named `{pipeline}` (declared: {})", known.join(", ")),
        )));
    };
    let mut used: Vec<&crate::manifest::SolidDecl> = Vec::new();
    for step in &decl.steps {
        if let Some(solid) = manifest.solid(&step.solid)
            && !used.iter().any(|s| s.name == solid.name)
        {
            used.push(solid);
        }
    }
    crate::recipe::build_stale(manifest, &used, note)?;
    let mut problems = Vec::new();
    let mut loaded: HashMap<&str, LoadedSolid> = HashMap::new();
    for solid in &used {
        match LoadedSolid::load(engine, &solid.wasm).await {
            Ok(l) => {
                loaded.insert(solid.name.as_str(), l);
            }
            Err(e) => problems.push(e.into_problem(&manifest.path, Some(solid.at.line), &solid.at.key)),
        }
    }
    if problems.is_empty() { Ok((decl, loaded)) } else { Err(Problems(problems)) }
}

struct Planner<'a> {
    manifest: &'a Path,
    decl: &'a PipelineDecl,
    loaded: &'a HashMap<&'a str, LoadedSolid>,
    /// Step alias -> index in the declaration.
    index: HashMap<&'a str, usize>,
    /// Output name -> the steps that have an output of that name, in declaration order:
    /// implicit wiring looks inputs up here rather than scanning every step.
    producers: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Planner<'a> {
    fn new(manifest: &'a Path, decl: &'a PipelineDecl, loaded: &'a HashMap<&'a str, LoadedSolid>) -> Planner<'a> {
        let index = decl.steps.iter().enumerate().map(|(i, s)| (s.alias.as_str(), i)).collect();
        let mut producers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, step) in decl.steps.iter().enumerate() {
            for output in &loaded[step.solid.as_str()].def.outputs {
                producers.entry(output.name.as_str()).or_default().push(i);
            }
        }
        Planner { manifest, decl, loaded, index, producers }
    }

    fn problem(&self, at: &Location, message: String) -> Problem {
        Problem::keyed(self.manifest, (at.line > 0).then_some(at.line), &at.key, message)
    }

    fn index_of(&self, alias: &str) -> Option<usize> {
        self.index.get(alias).copied()
    }

    /// Wires every input of every step; steps come back in manifest order.
    fn wire(&self, problems: &mut Vec<Problem>) -> Vec<PlannedStep> {
        let mut steps = Vec::new();
        for (index, step) in self.decl.steps.iter().enumerate() {
            let solid = &self.loaded[step.solid.as_str()];
            for wiring in &step.inputs {
                if solid.def.input(&wiring.input).is_none() {
                    let declared: Vec<&str> = solid.def.inputs.iter().map(|i| i.name.as_str()).collect();
                    problems.push(self.problem(
                        &wiring.at,
                        format!(
                            "solid `{}` has no input `{}` (its inputs: {})",
                            step.solid,
                            wiring.input,
                            declared.join(", ")
                        ),
                    ));
                }
            }
            let mut inputs = Vec::new();
            for input in &solid.def.inputs {
                let sources = match step.inputs.iter().find(|w| w.input == input.name) {
                    Some(wiring) => wiring
                        .sources
                        .iter()
                        .filter_map(|r| self.explicit_source(index, step, input, r, &wiring.at, problems))
                        .collect(),
                    None => self.implicit_source(index, step, input, problems),
                };
                if sources.len() > 1 && !input.multiple {
                    let at = step.inputs.iter().find(|w| w.input == input.name).map_or(&step.at, |w| &w.at);
                    problems.push(self.problem(
                        at,
                        format!(
                            "input `{}` of step `{}` takes one value but is wired to {}",
                            input.name,
                            step.alias,
                            sources.len()
                        ),
                    ));
                }
                if !sources.is_empty() {
                    inputs.push(PlannedInput { name: input.name.clone(), sources });
                }
            }
            let mut upstream: Vec<usize> = inputs.iter().flat_map(|i| i.sources.iter().map(|(s, _)| *s)).collect();
            upstream.sort_unstable();
            upstream.dedup();
            steps.push(PlannedStep {
                key: step.alias.clone(),
                solid: solid.clone(),
                inputs,
                config: serde_json::json!({}),
                upstream,
                retry: RetryPolicy::default(),
                limits: StepLimits::default(),
                grants: Grants::default(),
            });
        }
        steps
    }

    fn explicit_source(
        &self,
        index: usize,
        step: &StepDecl,
        input: &InputDef,
        source: &OutputRef,
        at: &Location,
        problems: &mut Vec<Problem>,
    ) -> Option<(usize, String)> {
        let Some(upstream) = self.index_of(&source.step) else {
            problems.push(self.problem(at, format!("no step `{}` in pipeline `{}`", source.step, self.decl.name)));
            return None;
        };
        if upstream == index {
            problems.push(self.problem(at, format!("step `{}` cannot feed itself", step.alias)));
            return None;
        }
        let upstream_decl = &self.decl.steps[upstream];
        let def = &self.loaded[upstream_decl.solid.as_str()].def;
        let output = match &source.output {
            Some(name) => match def.output(name) {
                Some(o) => o,
                None => {
                    let declared: Vec<&str> = def.outputs.iter().map(|o| o.name.as_str()).collect();
                    problems.push(self.problem(
                        at,
                        format!("step `{}` has no output `{name}` (its outputs: {})", source.step, declared.join(", ")),
                    ));
                    return None;
                }
            },
            None => match def.outputs.as_slice() {
                [only] => only,
                outputs => {
                    let declared: Vec<String> =
                        outputs.iter().map(|o| format!("`{}.{}`", source.step, o.name)).collect();
                    problems.push(self.problem(
                        at,
                        format!("`{}` has {} outputs; name one: {}", source.step, outputs.len(), declared.join(", ")),
                    ));
                    return None;
                }
            },
        };
        if !output.ty.can_feed(input.ty) {
            problems.push(self.problem(
                at,
                format!(
                    "type mismatch: `{}.{}` is {} but input `{}` of step `{}` is {}",
                    source.step, output.name, output.ty, input.name, step.alias, input.ty
                ),
            ));
            return None;
        }
        Some((upstream, output.name.clone()))
    }

    /// Feeds an input from the one other step with an output of the same name.
    fn implicit_source(
        &self,
        index: usize,
        step: &StepDecl,
        input: &InputDef,
        problems: &mut Vec<Problem>,
    ) -> Vec<(usize, String)> {
        let candidates: Vec<(usize, &crate::solid::OutputDef)> = self
            .producers
            .get(input.name.as_str())
            .into_iter()
            .flatten()
            .filter(|&&i| i != index)
            .filter_map(|&i| self.loaded[self.decl.steps[i].solid.as_str()].def.output(&input.name).map(|o| (i, o)))
            .collect();
        let inputs_key = format!("{}.inputs.{}", step.at.key, input.name);
        match candidates.as_slice() {
            [] if input.optional => Vec::new(),
            [] => {
                problems.push(self.problem(
                    &step.at,
                    format!(
                        "input `{}` of step `{}` is not fed: no other step has an output named `{}`; wire it with `{inputs_key} = \"step.output\"`",
                        input.name, step.alias, input.name
                    ),
                ));
                Vec::new()
            }
            [(upstream, output)] => {
                if !output.ty.can_feed(input.ty) {
                    problems.push(self.problem(
                        &step.at,
                        format!(
                            "type mismatch: `{}.{}` is {} but input `{}` of step `{}` is {}",
                            self.decl.steps[*upstream].alias, output.name, output.ty, input.name, step.alias, input.ty
                        ),
                    ));
                    return Vec::new();
                }
                vec![(*upstream, output.name.clone())]
            }
            many => {
                let names: Vec<String> =
                    many.iter().map(|(i, o)| format!("`{}.{}`", self.decl.steps[*i].alias, o.name)).collect();
                problems.push(self.problem(
                    &step.at,
                    format!(
                        "input `{}` of step `{}` is ambiguous: {} could feed it; wire one with `{inputs_key}`",
                        input.name,
                        step.alias,
                        names.join(", ")
                    ),
                ));
                Vec::new()
            }
        }
    }

    fn check_run_config(&self, run_config: &RunConfig, problems: &mut Vec<Problem>) {
        let file = run_config.source.as_deref().unwrap_or(Path::new("<run config>"));
        let aliases: BTreeSet<&String> =
            run_config.solids.keys().chain(run_config.retries.keys()).chain(run_config.step_limits.keys()).collect();
        for alias in aliases {
            if self.index_of(alias).is_none() {
                problems.push(Problem::new(
                    file,
                    Some(&format!("solids.{alias}")),
                    format!("no step `{alias}` in pipeline `{}`", self.decl.name),
                ));
            }
        }
    }

    /// A topological order (Kahn's algorithm, lowest manifest index first), or a problem
    /// naming the steps of a cycle.
    fn order(&self, steps: &[PlannedStep], problems: &mut Vec<Problem>) -> Vec<usize> {
        let mut waiting: Vec<usize> = steps.iter().map(|s| s.upstream.len()).collect();
        let mut downstream: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, step) in steps.iter().enumerate() {
            for &u in &step.upstream {
                downstream[u].push(i);
            }
        }
        let mut ready: std::collections::BTreeSet<usize> = (0..steps.len()).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::with_capacity(steps.len());
        while let Some(next) = ready.pop_first() {
            order.push(next);
            for &d in &downstream[next] {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    ready.insert(d);
                }
            }
        }
        if order.len() < steps.len() {
            let stuck: Vec<&str> =
                (0..steps.len()).filter(|&i| waiting[i] > 0).map(|i| steps[i].key.as_str()).collect();
            problems.push(self.problem(
                &self.decl.at,
                format!(
                    "the wiring has a cycle through steps {}",
                    stuck.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        order
    }
}

/// Puts steps in `order` and renumbers their upstream indices to match.
fn reorder(steps: Vec<PlannedStep>, order: &[usize]) -> Vec<PlannedStep> {
    let mut new_index = vec![0; steps.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut slots: Vec<Option<PlannedStep>> = steps.into_iter().map(Some).collect();
    order
        .iter()
        .map(|&old| {
            let mut step = slots[old].take().expect("each step once");
            step.upstream = step.upstream.iter().map(|u| new_index[*u]).collect();
            for input in &mut step.inputs {
                for source in &mut input.sources {
                    source.0 = new_index[source.0];
                }
            }
            step
        })
        .collect()
}

/// The config of one step: the manifest's, under the run config's, defaults filled in,
/// validated against the solid's schema.
fn resolve_config(
    solid: &LoadedSolid,
    alias: &str,
    manifest_config: Option<&serde_json::Value>,
    run_config: Option<&serde_json::Value>,
    run_config_file: Option<&Path>,
    manifest: &Path,
    at: &Location,
) -> Result<serde_json::Value, Vec<Problem>> {
    // Problems are reported against the file the offending value came from.
    let file = if run_config.is_some() { run_config_file.unwrap_or(Path::new("<run config>")) } else { manifest };
    let key = format!("solids.{alias}.config");
    let mut config = manifest_config.cloned().unwrap_or_else(|| serde_json::json!({}));
    if let Some(over) = run_config {
        config::merge(&mut config, over);
    }
    let (Some(schema), Some(validator)) = (&solid.def.config_schema, &solid.config_validator) else {
        if config.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(config);
        }
        let line = (run_config.is_none() && at.line > 0).then_some(at.line);
        let message = format!("solid `{}` takes no config", solid.def.name);
        return Err(vec![Problem { file: file.to_path_buf(), line, key: Some(key), message }]);
    };
    config::fill_defaults(schema, &mut config);
    let errors = config::validate(validator, &config);
    if errors.is_empty() {
        return Ok(config);
    }
    let line = (run_config.is_none() && at.line > 0).then_some(at.line);
    // With no config given at all, the fix is to give one; say so.
    let hint = if run_config.is_none() && manifest_config.is_none() {
        " (give it in a run config: --config FILE)"
    } else {
        ""
    };
    Err(errors
        .into_iter()
        .map(|(path, message)| {
            let key = if path.is_empty() { key.clone() } else { format!("{key}.{path}") };
            Problem { file: file.to_path_buf(), line, key: Some(key), message: format!("{message}{hint}") }
        })
        .collect())
}
