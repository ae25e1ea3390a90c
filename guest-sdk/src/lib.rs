//! Write weft solids in Rust.
//!
//! A solid is a function with typed inputs and outputs, marked `#[solid]`:
//!
//! ```ignore
//! use weft_guest::{solid, Context};
//!
//! /// Extends a greeting.
//! #[solid(inputs(greeting = "The greeting to extend"))]
//! fn salutation(ctx: &Context, greeting: String) -> String {
//!     ctx.info(&format!("extending {greeting:?}"));
//!     format!("{greeting} Dagster!")
//! }
//! ```
//!
//! The attribute generates the solid's definition (`describe`) from the signature: every
//! parameter but the `&Context` is an input named after it, typed by its Rust type; the
//! return value is the output `result` (rename it with `output = "name"`, or declare
//! several with `outputs(a: T = "description", b: U)` and return a tuple). Outputs the
//! solid produces early with [`Context::yield_output`] are declared with
//! `yields(name: T = "description")`. The function may return `T` or `Result<T, E>` for
//! any error `E` that converts into [`Failure`].
//!
//! Config is declared by a type: `#[solid(config = MyConfig)]` with `MyConfig` deriving
//! `serde::Deserialize` and `schemars::JsonSchema` (add `schemars` beside `serde`). Its JSON Schema (doc comments as descriptions,
//! serde defaults as defaults, `Option` fields optional) becomes the solid's config
//! schema, and a parameter named `config` receives the validated value. The schema can
//! also be written by hand: `config_schema = "{...}"`, read with [`Context::config`].
//! Resources are declared by name and kind — `#[solid(resources(database = sql,
//! cache = key_value, api = http, vault = secrets))]` — and reached with [`Sql`],
//! [`KeyValue`], [`http`] and [`Secrets`]; the run's mode binds each name to a backend.
//!
//! The doc comment becomes the description. Build the crate as a `cdylib` for
//! `wasm32-wasip2` and the `.wasm` file is a component ready for `weft run`.
//!
//! | Rust type | weft type |
//! |---|---|
//! | `bool` | boolean |
//! | `i64`, `i32`, `u32`, ... | integer |
//! | `f64`, `f32` | float |
//! | `String` | text |
//! | `Vec<u8>` | bytes |
//! | `Json<T>` (any serde type), `serde_json::Value` | json |
//! | `Value` | any |
//! | `()` | nothing |
//! | `Option<T>` (input or output) | optional |
//! | `Many<T>` (input) | fan-in of several outputs |

mod context;
pub mod http;
pub mod resources;
mod value;

#[doc(hidden)]
pub mod __private;

pub use context::{Context, ExpectationResult, Failure, LogLevel, Materialization, Metadata};
pub use resources::{KeyValue, ResourceError, Rows, Secrets, Sql, SqlValue};
pub use value::{Input, Json, Many, OutputValue, SolidType, Value, ValueType};
pub use weft_guest_macros::solid;

pub use schemars::{self, JsonSchema};
pub use serde_json;

/// The generated bindings of the `weft:solid` contract. Used by `#[solid]`; solids
/// need not touch them.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "solid",
        path: "../wit",
        pub_export_macro: true,
        default_bindings_module: "weft_guest::bindings",
        export_macro_name: "export",
    });
}

/// The contract version this SDK builds solids against.
pub const CONTRACT_VERSION: &str = "0.1.0";
