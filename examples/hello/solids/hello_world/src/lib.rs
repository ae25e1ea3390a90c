//! The seed's first solid: it yields "Hello" as its output `greeting`.

use weft_guest::{Context, Failure, solid};

/// Yields the greeting "Hello".
#[solid(yields(greeting: String = "The word to greet with"))]
fn hello_world(ctx: &Context) -> Result<(), Failure> {
    ctx.yield_output("greeting", "Hello".to_string())
}
