//! The trivial step of the benchmarks: the same work as the Dagster op it is compared
//! with (`return x + 1`), so that what is measured is the orchestrator.

use weft_guest::solid;

/// `x + 1`, or 1 with no input.
#[solid(output = "result")]
fn add_one(x: Option<i64>) -> i64 {
    x.unwrap_or(0) + 1
}
