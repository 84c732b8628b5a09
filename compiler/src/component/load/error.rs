//! Why a component could not be loaded or saved.

use std::fmt;

/// A place in a file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

/// One problem of a component file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where in the file, when the YAML parser knows.
    pub position: Option<Position>,
    /// The field at fault, e.g. `implementation.container.args[3]` (empty for the file).
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Issue {
    pub(crate) fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            position: None,
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Why a component could not be loaded. Its text names the file (or URL), the line and
/// column when known, the field and what was expected:
///
/// ```text
/// train.yaml:14:9: implementation.container.args[3]: unknown placeholder {inputValu: x}; expected one of inputValue, inputPath, outputPath, concat, if (did you mean inputValue?)
/// ```
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{source_name}: cannot read: {error}")]
    Read {
        source_name: String,
        #[source]
        error: std::io::Error,
    },
    #[error("{url}: cannot fetch: {message}")]
    Fetch { url: String, message: String },
    /// The text is not a valid component: every problem found, in file order.
    #[error("{}", render(.source_name, .issues))]
    Invalid {
        source_name: String,
        issues: Vec<Issue>,
    },
}

impl LoadError {
    /// The problems of an invalid component (empty for read and fetch errors).
    pub fn issues(&self) -> &[Issue] {
        match self {
            Self::Invalid { issues, .. } => issues,
            _ => &[],
        }
    }
}

fn render(source: &str, issues: &[Issue]) -> String {
    let lines: Vec<String> = issues.iter().map(|i| render_issue(source, i)).collect();
    lines.join("\n")
}

fn render_issue(source: &str, issue: &Issue) -> String {
    let mut out = source.to_owned();
    if let Some(p) = issue.position {
        out.push_str(&format!(":{}:{}", p.line, p.column));
    }
    out.push_str(": ");
    if !issue.path.is_empty() {
        out.push_str(&issue.path);
        out.push_str(": ");
    }
    out.push_str(&issue.message);
    out
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = render_issue("", self);
        f.write_str(text.trim_start_matches(": "))
    }
}

/// Why a component could not be written as `component.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The component cannot be expressed in KFP v1's format.
    #[error("component {component:?} cannot be written as component.yaml: {reason}")]
    NotPortable { component: String, reason: String },
    #[error("cannot render component {component:?} as YAML: {message}")]
    Yaml { component: String, message: String },
    #[error("cannot write {path}: {error}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        error: std::io::Error,
    },
}
