//! The seed's second solid: it completes the greeting it is given.

use weft_guest::solid;

/// Completes a greeting: "Hello" becomes "Hello Dagster!".
#[solid(inputs(greeting = "The greeting to complete"))]
fn salutation(greeting: String) -> String {
    format!("{greeting} Dagster!")
}
