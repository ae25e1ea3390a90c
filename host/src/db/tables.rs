//! The tables of the store, format version 2. Keys and values are documented in
//! `docs/db-format.md`; change them only together with `FORMAT_VERSION` and a migration.

use redb::TableDefinition;

/// `"format_version"` -> u32, little-endian.
pub(super) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Run id -> JSON `RunRecord`.
pub(super) const RUNS: TableDefinition<u128, &[u8]> = TableDefinition::new("runs");
/// (run id, seq) -> JSON `Event`.
pub(super) const EVENTS: TableDefinition<(u128, u64), &[u8]> = TableDefinition::new("events");
/// (run id, step key, output name) -> BLAKE3 digest of the encoded value.
pub(super) const OUTPUTS: TableDefinition<(u128, &str, &str), [u8; 32]> = TableDefinition::new("step_outputs");
/// Digest -> encoded value (see `Value::encode`), stored once per content.
pub(super) const BLOBS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("blobs");
/// (run id, step key, attempt, stream: 1 stdout, 2 stderr) -> captured bytes.
pub(super) const COMPUTE_LOGS: TableDefinition<(u128, &str, u32, u8), &[u8]> = TableDefinition::new("compute_logs");
/// Run id -> owner token, for every run not yet finished. The owner is the host process
/// that runs it; a run whose owner is gone was interrupted.
pub(super) const ACTIVE: TableDefinition<u128, &str> = TableDefinition::new("active_runs");
/// Step version key -> JSON `MemoEntry`: where a step with that component, version,
/// config and inputs already succeeded.
pub(super) const MEMO: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("memo");
/// (asset key, run id, event seq) -> the step that materialized it.
pub(super) const ASSETS: TableDefinition<(&str, u128, u64), &str> = TableDefinition::new("assets");

/// Format version 1 (weft's first release): compute logs had no attempt.
pub(super) const COMPUTE_LOGS_V1: TableDefinition<(u128, &str, u8), &[u8]> = TableDefinition::new("compute_logs");

/// (pipeline, partition key, run id) -> nothing: the runs of each partition, written with
/// the run record of every run tagged `weft/partition`.
pub(super) const PARTITION_RUNS: TableDefinition<(&str, &str, u128), ()> = TableDefinition::new("partition_runs");
/// Backfill id -> JSON `BackfillRecord`.
pub(super) const BACKFILLS: TableDefinition<u128, &[u8]> = TableDefinition::new("backfills");
/// (origin: `schedule/NAME` or `sensor/NAME`, tick time in microseconds) -> JSON `Tick`.
pub(super) const TICKS: TableDefinition<(&str, i64), &[u8]> = TableDefinition::new("ticks");
/// Origin -> JSON `AutomationState`: a schedule's last tick, a sensor's cursor.
pub(super) const AUTOMATION: TableDefinition<&str, &[u8]> = TableDefinition::new("automation_state");
/// (origin, run key) -> the run launched for it: a sensor launches one run per key, ever.
pub(super) const RUN_KEYS: TableDefinition<(&str, &str), u128> = TableDefinition::new("run_keys");
