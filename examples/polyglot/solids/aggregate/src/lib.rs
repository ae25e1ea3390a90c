//! Totals the sales rows by region, in Rust.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use weft_guest::{Json, solid};

#[derive(Serialize, Deserialize)]
struct Row {
    region: String,
    amount: i64,
}

/// Totals the amounts of the rows by region.
#[solid(
    inputs(rows = "The parsed rows"),
    outputs(totals: Json<BTreeMap<String, i64>> = "The total amount per region", count: i64 = "How many rows there were")
)]
fn aggregate(rows: Json<Vec<Row>>) -> (Json<BTreeMap<String, i64>>, i64) {
    let mut totals = BTreeMap::new();
    for row in &rows.0 {
        *totals.entry(row.region.clone()).or_insert(0) += row.amount;
    }
    (Json(totals), rows.0.len() as i64)
}
