//! Joins the two tables into a summary per country and keeps it in the `cache` resource.

use weft_guest::serde_json::{Value, json};
use weft_guest::{Context, Failure, KeyValue, Sql, SqlValue, solid};

/// Orders and revenue per country, from `orders` joined with `customers`; the summary is
/// also stored under `summary` in the cache.
#[solid(
    resources(database = sql, cache = key_value),
    inputs(orders = "Rows in orders (orders the step after it)", customers = "Rows in customers"),
    output = "summary"
)]
fn summarize_tables(ctx: &Context, orders: i64, customers: i64) -> Result<Value, Failure> {
    ctx.info(&format!("summarizing {orders} orders of {customers} customers"));
    let rows = Sql::new("database").query(
        "select c.country as country, count(*) as orders, sum(o.amount) as revenue \
         from orders o join customers c on c.name = o.customer \
         where o.amount >= $1 group by c.country order by c.country",
        &[0.into()],
    )?;
    let countries: Vec<Value> = (0..rows.rows.len())
        .map(|i| {
            json!({
                "country": rows.get(i, "country").and_then(SqlValue::as_str),
                "orders": rows.get(i, "orders").and_then(SqlValue::as_i64),
                "revenue": rows.get(i, "revenue").and_then(SqlValue::as_i64),
            })
        })
        .collect();
    let summary = json!({ "countries": countries });
    let cache = KeyValue::new("cache");
    cache.set("summary", summary.to_string())?;
    let cached = cache.get_text("summary")?.unwrap_or_default();
    ctx.info(&format!("cached the summary ({} bytes)", cached.len()));
    Ok(summary)
}
