use std::fmt;
use std::path::PathBuf;

use crate::validate::ValidationError;

/// One thing wrong with a pipeline, located by task and field where that makes sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub task: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(task) = &self.task {
            write!(f, "task {task:?}")?;
            if let Some(field) = &self.field {
                write!(f, ", {field}")?;
            }
            write!(f, ": ")?;
        } else if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Why a pipeline could not be compiled. Nothing is written when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The pipeline itself is wrong: every problem found, by task and field.
    #[error("pipeline {pipeline:?} cannot be compiled:\n{}", list(.problems))]
    Pipeline {
        pipeline: String,
        problems: Vec<Problem>,
    },
    /// The generated workflow failed validation (a compiler bug, or a value that breaks
    /// Argo's rules such as a malformed `when`).
    #[error("pipeline {pipeline:?} compiled to an invalid workflow:\n{source}")]
    Invalid {
        pipeline: String,
        #[source]
        source: ValidationError,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot render the workflow as YAML: {0}")]
    Yaml(String),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl CompileError {
    /// The problems, for callers that inspect them (tests, tools).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Pipeline { problems, .. } => problems,
            _ => &[],
        }
    }
}
