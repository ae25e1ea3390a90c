//! One day of orders: the solid of a daily-partitioned pipeline. The day arrives twice —
//! as the partition key through the context, and as `day` in its config, which the
//! manifest fills from the `{partition_key}` template — and it checks they agree.

use serde::Deserialize;
use weft_guest::{Context, Failure, JsonSchema, Materialization, solid};

#[derive(Deserialize, JsonSchema)]
struct Config {
    /// The day to summarize, `YYYY-MM-DD`.
    day: String,
}

/// Summarizes one day of orders and materializes `orders/daily` for it.
#[solid(config = Config, output = "orders")]
fn daily_orders(ctx: &Context, config: Config) -> Result<i64, Failure> {
    let key = ctx.partition_key().ok_or_else(|| Failure::new("run me for a partition: --partition YYYY-MM-DD"))?;
    if key != config.day {
        return Err(Failure::new(format!("partition {key} but config day {}", config.day)));
    }
    // A stand-in for a query: a number that depends only on the day.
    let orders = config.day.bytes().fold(7i64, |n, b| (n * 31 + i64::from(b)) % 1000);
    ctx.info(&format!("{} orders on {}", orders, config.day));
    ctx.report_materialization(
        Materialization::new("orders/daily").description(format!("orders of {}", config.day)).with("orders", orders),
    );
    Ok(orders)
}
