//! Check 1: the published Argo JSON schema (definition
//! `io.argoproj.workflow.v1alpha1.Workflow`).
//!
//! The schema is embedded and compiled once. Before compiling, a few definitions are
//! widened to what Argo's own decoder accepts, because the published schema is stricter
//! than Argo itself (see `schemas/README.md`):
//!
//! - `IntOrString` (`retryStrategy.limit`, `backoff.factor`, `withSequence.*`, template
//!   `activeDeadlineSeconds`): Kubernetes' decoder takes a string or an integer;
//! - `Quantity` (`resources.limits.cpu: 1`): Kubernetes' decoder takes a string or a number;
//! - parameter `value`, `default`, `enum[]`, `description` and `valueFrom.default` are
//!   Argo `AnyString`s: a string, number or boolean.
//!
//! Numbers anywhere else where the schema says string are real errors (Go's decoder
//! rejects `image: 3`), and are reported.

use super::path::{PointerSeg, render_pointer};
use super::{Issue, Issues};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::{Value, json};
use std::sync::LazyLock;

/// The upstream schema, byte-identical to `../shared/schemas/argo-workflows.schema.json`.
const SCHEMA_TEXT: &str = include_str!("../../../schemas/argo-workflows.schema.json");

/// Definition a Workflow is validated against.
pub(crate) const WORKFLOW_DEF: &str = "io.argoproj.workflow.v1alpha1.Workflow";

/// The parsed schema, shared with the unknown-field check.
pub(crate) static SCHEMA: LazyLock<Result<Value, String>> = LazyLock::new(|| {
    serde_json::from_str(SCHEMA_TEXT).map_err(|e| format!("embedded Argo schema is invalid: {e}"))
});

/// The compiled validator, built on first use.
static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(build);

fn build() -> Result<jsonschema::Validator, String> {
    let schema = SCHEMA.as_ref().map_err(Clone::clone)?;
    let mut defs = schema
        .get("definitions")
        .cloned()
        .ok_or("embedded Argo schema has no definitions")?;
    widen(&mut defs);
    let root = json!({
        "$ref": format!("#/definitions/{WORKFLOW_DEF}"),
        "definitions": defs,
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(false)
        .build(&root)
        .map_err(|e| format!("cannot compile the Argo schema: {e}"))
}

/// Widens the definitions whose Go types accept more than the schema says.
fn widen(defs: &mut Value) {
    let any_string = json!({"type": ["string", "number", "boolean"]});
    if let Some(d) = defs.get_mut("io.k8s.apimachinery.pkg.util.intstr.IntOrString") {
        *d = json!({"type": ["string", "integer"]});
    }
    if let Some(d) = defs.get_mut("io.k8s.apimachinery.pkg.api.resource.Quantity") {
        *d = json!({"type": ["string", "number"]});
    }
    if let Some(props) = defs.pointer_mut("/io.argoproj.workflow.v1alpha1.Parameter/properties") {
        for key in ["value", "default", "description"] {
            if let Some(p) = props.get_mut(key) {
                *p = any_string.clone();
            }
        }
        if let Some(items) = props.pointer_mut("/enum/items") {
            *items = any_string.clone();
        }
    }
    if let Some(p) = defs.pointer_mut("/io.argoproj.workflow.v1alpha1.ValueFrom/properties/default")
    {
        *p = any_string;
    }
}

/// Reports every schema violation of `wf`, located by its instance path.
pub(crate) fn check(wf: &Value, issues: &mut Issues) {
    let validator = match VALIDATOR.as_ref() {
        Ok(v) => v,
        Err(e) => {
            issues.push_raw(Issue {
                path: String::new(),
                message: e.clone(),
            });
            return;
        }
    };
    for err in validator.iter_errors(wf) {
        if is_defaulted_image(wf, &err) {
            continue;
        }
        let segs = err.instance_path().iter().map(|s| match s {
            LocationSegment::Property(p) => PointerSeg::Key(p),
            LocationSegment::Index(i) => PointerSeg::Index(i),
        });
        let path = render_pointer(wf, segs);
        let message = describe(err.kind(), err.instance(), &err.to_string());
        issues.push_raw(Issue { path, message });
    }
}

/// Whether `spec.templateDefaults.<body>.image` is set, so that templates may omit it.
pub(crate) fn image_defaulted(spec: &serde_json::Map<String, Value>, body: &str) -> bool {
    spec.get("templateDefaults")
        .and_then(|d| d.get(body))
        .and_then(|c| c.get("image"))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

/// The schema requires `image` on every container, but Argo fills it from
/// `spec.templateDefaults`: a missing image of a template's `container`/`script` is
/// then no error.
fn is_defaulted_image(wf: &Value, err: &jsonschema::ValidationError<'_>) -> bool {
    let ValidationErrorKind::Required { property } = err.kind() else {
        return false;
    };
    if property.as_str() != Some("image") {
        return false;
    }
    let segs: Vec<LocationSegment<'_>> = err.instance_path().iter().collect();
    let body = match segs.as_slice() {
        [
            LocationSegment::Property(a),
            LocationSegment::Property(b),
            LocationSegment::Index(_),
            LocationSegment::Property(body),
        ] if a == "spec" && b == "templates" => body,
        _ => return false,
    };
    wf.get("spec")
        .and_then(Value::as_object)
        .is_some_and(|spec| image_defaulted(spec, body))
}

/// A short, instance-size-independent message for a schema error.
fn describe(kind: &ValidationErrorKind, instance: &Value, fallback: &str) -> String {
    match kind {
        ValidationErrorKind::Type { kind } => {
            let expected: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![t.as_str()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.as_str()).collect(),
            };
            format!(
                "expected {}, found {}",
                expected.join(" or "),
                json_type(instance)
            )
        }
        ValidationErrorKind::Required { property } => {
            format!("missing required field {}", short(property))
        }
        ValidationErrorKind::Constant { expected_value } => format!(
            "must be {}, found {}",
            short(expected_value),
            short(instance)
        ),
        ValidationErrorKind::Enum { options } => {
            format!(
                "must be one of {}, found {}",
                short(options),
                short(instance)
            )
        }
        _ => truncate(fallback, 300),
    }
}

/// The JSON type name of a value, with a short rendering for scalars.
fn json_type(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {}", truncate(&format!("{s:?}"), 80)),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
    }
}

/// Compact JSON text of a value, truncated.
fn short(v: &Value) -> String {
    truncate(&v.to_string(), 120)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(wf: &Value) -> Vec<Issue> {
        let mut issues = Issues::default();
        check(wf, &mut issues);
        issues.into_vec()
    }

    fn wf(tmpl: Value) -> Value {
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"generateName": "x-"},
            "spec": {"entrypoint": "main", "templates": [tmpl]}
        })
    }

    #[test]
    fn accepts_numbers_where_argo_decodes_them() {
        let w = wf(json!({
            "name": "main",
            "retryStrategy": {"limit": 3, "backoff": {"factor": 2}},
            "inputs": {"parameters": [{"name": "p", "value": 5, "default": true, "enum": [1, "a"]}]},
            "container": {"image": "alpine", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}
        }));
        assert!(run(&w).is_empty(), "{:?}", run(&w));
    }

    /// Why [`widen`] exists: KFP v1 emits `retryStrategy.limit: 2`, which the published
    /// schema alone rejects.
    #[test]
    fn published_schema_alone_rejects_kfp_numbers() {
        let defs = SCHEMA
            .as_ref()
            .ok()
            .and_then(|s| s.get("definitions"))
            .cloned();
        let raw = json!({
            "$ref": format!("#/definitions/{WORKFLOW_DEF}"),
            "definitions": defs,
        });
        let strict = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&raw)
            .expect("the published schema compiles");
        let w =
            wf(json!({"name": "main", "retryStrategy": {"limit": 2}, "container": {"image": "a"}}));
        assert!(!strict.is_valid(&w));
        assert!(run(&w).is_empty());
    }

    #[test]
    fn reports_real_type_errors_with_path() {
        let w = wf(json!({"name": "main", "container": {"image": 3}}));
        let issues = run(&w);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(
            issues[0].path,
            "spec.templates[0](name=main).container.image"
        );
        assert!(issues[0].message.contains("expected string"), "{issues:?}");
        let w = wf(
            json!({"name": "main", "retryStrategy": {"limit": 1.5}, "container": {"image": "a"}}),
        );
        assert_eq!(run(&w).len(), 1);
    }

    #[test]
    fn reports_missing_required() {
        let w = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {}});
        let issues = run(&w);
        assert!(
            issues.iter().any(|i| i.message.contains("\"spec\"")),
            "{issues:?}"
        );
    }
}
