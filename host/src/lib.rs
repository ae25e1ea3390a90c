//! weft's host runtime: runs pipelines of solids — WebAssembly components that target
//! the `weft:solid` contract — each step in its own sandbox, and records every run,
//! event and output in an embedded redb store.
//!
//! The data path, one module each: [`manifest`] (the project file) -> [`plan`] (built,
//! loaded, wired, checked: a [`LockedPipeline`]) -> scheduler -> executor -> sandbox (a
//! fresh wasmtime store per step attempt) -> [`db`]. [`Host`] is the entry point.

pub mod backfill;
mod cancel;
pub mod capability;
pub mod compiled;
pub mod config;
mod context;
pub mod daemon;
pub mod db;
pub mod engine;
pub mod error;
pub mod event;
pub mod execution;
mod executor;
mod host;
pub mod language;
pub mod limits;
pub mod manifest;
mod owner;
pub mod partition;
pub mod plan;
pub mod recipe;
pub mod resource;
pub mod run;
mod sandbox;
pub mod schedule;
mod scheduler;
mod selection;
pub mod sensor;
pub mod solid;
mod template;
pub mod testing;
pub mod ui;
pub mod value;
mod worker;

pub use cancel::CancelToken;
pub use capability::{Grants, Preopen};
pub use compiled::{CacheOutcome, CompileCache};
pub use config::RunConfig;
pub use db::{AssetEntry, AssetSummary, Db, GcReport, MemoEntry, Retention, RunFilter, Stream};
pub use engine::{CONTRACT_VERSION, EngineOptions, SolidEngine};
pub use error::{Error, Problem, Problems, Result};
pub use event::{Event, EventKind, LogLevel, MetadataEntry, MetadataValue, StepError, StepErrorKind};
pub use execution::{ExecutionSettings, ExecutorKind, RetryOn, RetryPolicy};
pub use host::{Host, Reexecution, RunHandle, default_db_path};
pub use limits::StepLimits;
pub use manifest::Manifest;
pub use partition::{Partition, PartitionKind, PartitionSet};
pub use plan::{LockedPipeline, Selection};
pub use resource::{Backend, ResourceGrant, ResourceKind};
pub use run::{RunId, RunRecord, RunStatus, StepStatus};
pub use solid::{Invocation, LoadError, LoadedSolid, ResourceNeed, SolidDef};
pub use testing::TestOutcome;
pub use value::{Output, Value, ValueType};
pub use worker::{WORKER_BIN_ENV, serve_worker};
