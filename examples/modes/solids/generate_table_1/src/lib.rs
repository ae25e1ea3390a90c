//! Fills the `orders` table of the `database` resource, whichever database the mode binds.

use weft_guest::{Context, Failure, Materialization, Metadata, Sql, SqlValue, solid};

const ORDERS: &[(i64, &str, i64)] =
    &[(1, "ada", 120), (2, "grace", 75), (3, "ada", 30), (4, "linus", 210), (5, "grace", 15)];

/// Creates the `orders` table (or empties it) and fills it in one transaction.
#[solid(resources(database = sql), output = "rows")]
fn generate_table_1(ctx: &Context) -> Result<i64, Failure> {
    let db = Sql::new("database");
    db.execute(
        "create table if not exists orders (id integer primary key, customer text not null, amount integer not null)",
        &[],
    )?;
    let rows: Vec<[SqlValue; 3]> =
        ORDERS.iter().map(|(id, customer, amount)| [(*id).into(), (*customer).into(), (*amount).into()]).collect();
    let mut statements: Vec<(&str, &[SqlValue])> = vec![("delete from orders", &[])];
    statements
        .extend(rows.iter().map(|row| ("insert into orders (id, customer, amount) values ($1, $2, $3)", &row[..])));
    db.transaction(&statements)?;
    let count = db.query("select count(*) as n from orders", &[])?.get(0, "n").and_then(SqlValue::as_i64).unwrap_or(0);
    ctx.info(&format!("orders holds {count} rows"));
    ctx.report_materialization(Materialization::new("database/orders").with("rows", Metadata::Integer(count)));
    Ok(count)
}
