//! Validation of Argo `Workflow` objects, as Argo itself would judge them at submission.
//!
//! Four checks run on every workflow and all their issues are reported together:
//!
//! 1. `schema`: the published Argo JSON schema (widened where Argo's decoder accepts
//!    numbers for strings);
//! 2. `unknown_fields`: keys the schema does not declare (Argo decodes strictly);
//! 3. `semantic` and `dag`: Argo's structural rules (ARGO-SEMANTICS.md §13);
//! 4. `references`: every `{{...}}` tag resolves in its scope (§3).
//!
//! Every issue is located by a path that names templates, steps and tasks, such as
//! `spec.templates[3](name=train).dag.tasks[2](name=b).depends`.

mod dag;
mod depends;
mod model;
mod path;
mod references;
mod schema;
mod semantic;
mod unknown_fields;

use path::Loc;
use serde_json::Value;
use std::fmt;

/// One problem found, located by a path such as
/// `spec.templates[3](name=train).dag.tasks[2](name=b).depends`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where the problem is (empty for the document as a whole).
    pub path: String,
    /// What is wrong, and where possible what to write instead.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A workflow Argo would reject, with every issue found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The file the workflow came from, when known.
    pub source_name: Option<String>,
    /// Every problem found, in document order per check.
    pub issues: Vec<Issue>,
}

impl fmt::Display for ValidationError {
    /// One issue per line, each prefixed by the file name when known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            if let Some(name) = &self.source_name {
                write!(f, "{name}: ")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

/// Size limits of the full Workflow CRD (ARGO-SEMANTICS.md §13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Templates per workflow (CRD: 200).
    pub max_templates: usize,
    /// Tasks per DAG template (CRD: 200).
    pub max_dag_tasks: usize,
    /// Input parameters per template (CRD: 500).
    pub max_input_parameters: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_templates: 200,
            max_dag_tasks: 200,
            max_input_parameters: 500,
        }
    }
}

/// Collects issues; paths are rendered only when something is reported.
#[derive(Debug, Default)]
pub(crate) struct Issues(Vec<Issue>);

impl Issues {
    pub(crate) fn push(&mut self, loc: &Loc<'_>, message: impl Into<String>) {
        self.0.push(Issue {
            path: loc.render(),
            message: message.into(),
        });
    }

    pub(crate) fn push_raw(&mut self, issue: Issue) {
        self.0.push(issue);
    }

    pub(crate) fn into_vec(self) -> Vec<Issue> {
        self.0
    }
}

/// Validates a workflow with the default [`Limits`].
pub fn validate_workflow(wf: &Value) -> Result<(), ValidationError> {
    validate_workflow_with(wf, &Limits::default())
}

/// Validates a workflow, reporting every issue of every check.
pub fn validate_workflow_with(wf: &Value, limits: &Limits) -> Result<(), ValidationError> {
    // The structural checks (schema, field names) and Argo's rules only read the document,
    // so they run side by side; issues are merged in a fixed order, so output is stable.
    let (structural, rules) = std::thread::scope(|scope| {
        let structural = scope.spawn(|| {
            let mut issues = Issues::default();
            schema::check(wf, &mut issues);
            unknown_fields::check(wf, &mut issues);
            issues.into_vec()
        });
        let mut issues = Issues::default();
        let model = model::Model::new(wf, &mut issues);
        semantic::check(&model, limits, &mut issues);
        references::check(&model, &mut issues);
        (structural.join(), issues.into_vec())
    });
    let mut issues = structural.unwrap_or_else(|_| {
        vec![Issue {
            path: String::new(),
            message: "internal error: the structural checks stopped unexpectedly".into(),
        }]
    });
    issues.extend(rules);
    dedup(&mut issues);
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ValidationError {
            source_name: None,
            issues,
        })
    }
}

/// Parses YAML and validates the workflow in it (default [`Limits`]), returning the
/// parsed document. A syntax error becomes a single issue giving saphyr's line and column.
pub fn validate_workflow_yaml(
    text: &str,
    source_name: Option<&str>,
) -> Result<Value, ValidationError> {
    validate_workflow_yaml_with(text, source_name, &Limits::default())
}

/// [`validate_workflow_yaml`] with explicit [`Limits`].
pub fn validate_workflow_yaml_with(
    text: &str,
    source_name: Option<&str>,
    limits: &Limits,
) -> Result<Value, ValidationError> {
    let with_name = |issues: Vec<Issue>| ValidationError {
        source_name: source_name.map(str::to_string),
        issues,
    };
    let wf: Value = serde_saphyr::from_str(text).map_err(|e| {
        let (path, detail) = match e.location() {
            Some(loc) => (
                format!("line {}, column {}", loc.line(), loc.column()),
                e.without_snippet().to_string(),
            ),
            None => (String::new(), e.without_snippet().to_string()),
        };
        with_name(vec![Issue {
            path,
            message: format!("YAML syntax error: {}", yaml_message(&detail)),
        }])
    })?;
    match validate_workflow_with(&wf, limits) {
        Ok(()) => Ok(wf),
        Err(e) => Err(with_name(e.issues)),
    }
}

/// saphyr's message without the position (already in the path) or API advice.
fn yaml_message(detail: &str) -> String {
    let mut msg = detail.lines().next().unwrap_or(detail).trim();
    if let Some(i) = msg.rfind(" at line ") {
        msg = &msg[..i];
    }
    for advice in [", set DuplicateKeyPolicy", "; use from_str_multiple"] {
        if let Some(i) = msg.find(advice) {
            msg = &msg[..i];
        }
    }
    msg.to_string()
}

/// Drops repeated identical issues, keeping the first.
fn dedup(issues: &mut Vec<Issue>) {
    let mut seen = std::collections::HashSet::new();
    issues.retain(|i| seen.insert((i.path.clone(), i.message.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_errors_carry_line_and_column() {
        for (text, path, msg) in [
            (
                "a: [1, 2",
                "line 1, column 4",
                "YAML syntax error: unclosed bracket '['",
            ),
            (
                "a: 1\na: 2",
                "line 2, column 1",
                "YAML syntax error: duplicate mapping key: a",
            ),
            (
                "a: 1\n---\nb: 2",
                "line 3, column 1",
                "YAML syntax error: multiple YAML documents detected",
            ),
        ] {
            let err = validate_workflow_yaml(text, Some("f.yaml")).err();
            let issues = err.map(|e| e.issues).unwrap_or_default();
            assert_eq!(issues.len(), 1, "{text:?}");
            assert_eq!(issues[0].path, path, "{text:?}");
            assert_eq!(issues[0].message, msg, "{text:?}");
        }
    }

    #[test]
    fn display_prefixes_the_file_name() {
        let e = ValidationError {
            source_name: Some("wf.yaml".into()),
            issues: vec![
                Issue {
                    path: "spec".into(),
                    message: "bad".into(),
                },
                Issue {
                    path: String::new(),
                    message: "worse".into(),
                },
            ],
        };
        assert_eq!(e.to_string(), "wf.yaml: spec: bad\nwf.yaml: worse");
        let e = ValidationError {
            source_name: None,
            ..e
        };
        assert_eq!(e.to_string(), "spec: bad\nworse");
    }

    #[test]
    fn minimal_workflow_is_valid() {
        let wf = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "hello"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "alpine", "command": ["echo", "{{workflow.name}}"]}}
            ]}
        });
        assert_eq!(validate_workflow(&wf), Ok(()));
    }
}
