//! Fills the `customers` table of the `database` resource, whichever database the mode binds.

use weft_guest::{Context, Failure, Materialization, Metadata, Sql, SqlValue, solid};

const CUSTOMERS: &[(&str, &str)] = &[("ada", "uk"), ("grace", "us"), ("linus", "fi")];

/// Creates the `customers` table (or empties it) and fills it in one transaction.
#[solid(resources(database = sql), output = "rows")]
fn generate_table_2(ctx: &Context) -> Result<i64, Failure> {
    let db = Sql::new("database");
    db.execute("create table if not exists customers (name text primary key, country text not null)", &[])?;
    let rows: Vec<[SqlValue; 2]> =
        CUSTOMERS.iter().map(|(name, country)| [(*name).into(), (*country).into()]).collect();
    let mut statements: Vec<(&str, &[SqlValue])> = vec![("delete from customers", &[])];
    statements.extend(rows.iter().map(|row| ("insert into customers (name, country) values ($1, $2)", &row[..])));
    db.transaction(&statements)?;
    let count =
        db.query("select count(*) as n from customers", &[])?.get(0, "n").and_then(SqlValue::as_i64).unwrap_or(0);
    ctx.info(&format!("customers holds {count} rows"));
    ctx.report_materialization(Materialization::new("database/customers").with("rows", Metadata::Integer(count)));
    Ok(count)
}
