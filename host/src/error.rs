//! Errors. Problems with the user's input (manifest, components, run config) are
//! collected and reported together; host and database faults are separate kinds.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem with the user's input, located as precisely as it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file at fault: the manifest, a component, a run config file.
    pub file: PathBuf,
    pub line: Option<usize>,
    /// The key at fault, dotted (`pipelines.serial.solids.salutation.inputs.greeting`).
    pub key: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(file: &Path, key: Option<&str>, message: impl Into<String>) -> Problem {
        Problem { file: file.to_path_buf(), line: None, key: key.map(str::to_owned), message: message.into() }
    }

    pub fn at_line(file: &Path, line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem { file: file.to_path_buf(), line, key: None, message: message.into() }
    }

    pub fn keyed(file: &Path, line: Option<usize>, key: &str, message: impl Into<String>) -> Problem {
        Problem { file: file.to_path_buf(), line, key: Some(key.to_owned()), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in one pass over the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn one(problem: Problem) -> Problems {
        Problems(vec![problem])
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Everything that can go wrong in the host, by phase.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest, a component, or the run config is wrong; nothing was run.
    #[error("{0}")]
    Invalid(Problems),
    /// A run, pipeline or output that was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database could not be read or written.
    #[error("database {path}: {message}")]
    Db { path: PathBuf, message: String },
    /// The host itself failed (engine set-up, a bug). Not the user's input.
    #[error("host error: {0}")]
    Host(String),
}

impl Error {
    /// Whether the error is the user's input at fault (exit code 2 in the CLI).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Invalid(_) | Error::NotFound(_))
    }
}

impl From<Problems> for Error {
    fn from(problems: Problems) -> Error {
        Error::Invalid(problems)
    }
}

/// The host's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
