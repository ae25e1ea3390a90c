//! Write weft sensors in Rust.
//!
//! A sensor is a component the daemon evaluates at an interval, each time in a fresh
//! instance. It looks at what its declaration lets it see (the directories it is
//! granted) and at the cursor its last evaluation returned, and answers with the runs to
//! request, the next cursor, or a reason for requesting nothing:
//!
//! ```ignore
//! use weft_sensor::{Evaluation, RunRequest, Sensor, serde_json::json};
//!
//! /// Requests one run per report in `/reports`, once each.
//! struct Reports;
//!
//! impl Sensor for Reports {
//!     fn evaluate(cursor: Option<String>) -> Result<Evaluation, String> {
//!         // The cursor is whatever the last evaluation returned: here, the count of
//!         // reports already requested.
//!         let done: usize = cursor.as_deref().map_or(Ok(0), str::parse).map_err(|e| format!("bad cursor: {e}"))?;
//!         let count = std::fs::read_dir("/reports").map_err(|e| format!("reading /reports: {e}"))?.count();
//!         if count <= done {
//!             return Ok(Evaluation::skip("no new reports"));
//!         }
//!         let runs = (done..count)
//!             .map(|n| {
//!                 RunRequest::new()
//!                     .run_key(format!("report-{n}"))
//!                     .run_config(json!({ "solids": { "render": { "config": { "report": n } } } }))
//!                     .tag("report", n.to_string())
//!             })
//!             .collect();
//!         Ok(Evaluation::runs(runs).cursor(count.to_string()))
//!     }
//! }
//!
//! weft_sensor::export_sensor!(Reports);
//! ```
//!
//! [`export_sensor!`] makes the type the component's implementation of the `sensor`
//! world (`wit/sensor.wit`). Build the crate as a `cdylib` for `wasm32-wasip2` and the
//! `.wasm` file is a sensor component.
//!
//! A run's `run_key` identifies it: the daemon launches at most one run per key for each
//! sensor, ever, so a sensor may request the same key again without launching twice. An
//! error from `evaluate` is recorded on the tick and changes nothing, the cursor
//! included.
//!
//! This crate is separate from `weft-guest` because a component targets one world: a
//! sensor must not link the `solid` world's bindings.

pub use serde_json;

/// The generated bindings of the `sensor` world. Used by [`export_sensor!`]; sensors
/// need not touch them.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "sensor",
        path: "../../wit",
        pub_export_macro: true,
        default_bindings_module: "weft_sensor::bindings",
        export_macro_name: "export",
    });
}

/// The contract version this SDK builds sensors against.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// A run a sensor asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRequest {
    /// Identifies the request: the daemon launches at most one run per key for each
    /// sensor, ever. `None` launches every time it is requested.
    pub run_key: Option<String>,
    /// The partition the run computes, when the pipeline is partitioned.
    pub partition_key: Option<String>,
    /// The run config, over the sensor's declared run config.
    pub run_config: Option<serde_json::Value>,
    /// Tags added to the run.
    pub tags: Vec<(String, String)>,
}

impl RunRequest {
    /// A request with no key, partition, config or tags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the run key: the daemon launches at most one run per key for each sensor.
    #[must_use]
    pub fn run_key(mut self, key: impl Into<String>) -> Self {
        self.run_key = Some(key.into());
        self
    }

    /// Sets the partition the run computes.
    #[must_use]
    pub fn partition(mut self, key: impl Into<String>) -> Self {
        self.partition_key = Some(key.into());
        self
    }

    /// Sets the run config.
    #[must_use]
    pub fn run_config(mut self, config: serde_json::Value) -> Self {
        self.run_config = Some(config);
        self
    }

    /// Adds a tag to the run.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }
}

/// What one evaluation decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// The runs to launch, in order.
    pub runs: Vec<RunRequest>,
    /// The cursor the next evaluation receives; `None` keeps the current one.
    pub cursor: Option<String>,
    /// Why nothing was requested, for the tick's record.
    pub skip_reason: Option<String>,
}

impl Evaluation {
    /// Requests these runs, keeping the current cursor (set another with `.cursor(...)`).
    pub fn runs(runs: Vec<RunRequest>) -> Self {
        Evaluation { runs, cursor: None, skip_reason: None }
    }

    /// Requests nothing, for this reason, keeping the current cursor.
    pub fn skip(reason: impl Into<String>) -> Self {
        Evaluation { runs: Vec::new(), cursor: None, skip_reason: Some(reason.into()) }
    }

    /// Sets the cursor the next evaluation receives.
    #[must_use]
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }
}

/// A sensor: export a type implementing it with [`export_sensor!`].
pub trait Sensor {
    /// Evaluates the sensor once. `cursor` is what the last evaluation returned (`None`
    /// the first time, and until an evaluation returns one). An error is recorded on the
    /// tick and changes nothing.
    fn evaluate(cursor: Option<String>) -> Result<Evaluation, String>;
}

/// Makes a type implementing [`Sensor`] the component's sensor.
///
/// ```ignore
/// struct MySensor;
/// impl weft_sensor::Sensor for MySensor {
///     fn evaluate(cursor: Option<String>) -> Result<weft_sensor::Evaluation, String> {
///         Ok(weft_sensor::Evaluation::skip("nothing to do"))
///     }
/// }
/// weft_sensor::export_sensor!(MySensor);
/// ```
///
/// Use it once per component, at module level.
#[macro_export]
macro_rules! export_sensor {
    ($sensor:ty) => {
        const _: () = {
            // The generated `export!` takes an identifier, so a local type stands in for
            // `$sensor` and forwards to it.
            #[allow(dead_code)]
            struct __WeftSensorExport;

            impl $crate::__private::Guest for __WeftSensorExport {
                fn evaluate(
                    cursor: ::core::option::Option<::std::string::String>,
                ) -> ::core::result::Result<$crate::__private::WitEvaluation, ::std::string::String> {
                    $crate::__private::evaluate::<$sensor>(cursor)
                }
            }

            $crate::bindings::export! { __WeftSensorExport with_types_in $crate::bindings }
        };
    };
}

/// Support code for the expansion of [`export_sensor!`]. Not a stable API.
#[doc(hidden)]
pub mod __private {
    use crate::bindings::exports::weft::solid::sensor_guest as wit;

    pub use wit::{Evaluation as WitEvaluation, Guest};

    /// Evaluates `T` and converts its answer to the contract's types.
    pub fn evaluate<T: crate::Sensor>(cursor: Option<String>) -> Result<wit::Evaluation, String> {
        let evaluation = T::evaluate(cursor)?;
        let runs = evaluation.runs.into_iter().map(run_request).collect::<Result<Vec<_>, String>>()?;
        Ok(wit::Evaluation { runs, cursor: evaluation.cursor, skip_reason: evaluation.skip_reason })
    }

    fn run_request(run: crate::RunRequest) -> Result<wit::RunRequest, String> {
        let run_config = run.run_config.map(|config| serde_json::to_string(&config));
        let run_config = run_config.transpose().map_err(|e| format!("run config: {e}"))?;
        Ok(wit::RunRequest { run_key: run.run_key, partition_key: run.partition_key, run_config, tags: run.tags })
    }
}
