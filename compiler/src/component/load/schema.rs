//! The published KFP v1 component schema (`schemas/kfp-v1-component.schema.json`).
//!
//! The schema is embedded and compiled once. It is older than KFP 1.8's own loader and
//! rejects files that loader (and the KFP catalogue) accept, so before compiling a few
//! definitions are widened to what `kfp.components._structures` reads:
//!
//! - `ComponentSpec` may have `metadata` (annotations, labels) and `version`;
//! - inputs and outputs may have `annotations`; an input's `default` may be a number or a
//!   boolean (KFP's `PrimitiveTypes`);
//! - `implementation.container` may have `fileOutputs` (outputs at fixed paths);
//! - `if.then` / `if.else` may be a list of arguments, not only one;
//! - a command-line argument and a task argument may be a number or boolean constant;
//! - a graph task may have `annotations`; `outputValues` may forward a `graphInput`;
//!   `isEnabled` may be a single argument.
//!
//! Everything else is checked as published.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::{Value, json};

use super::error::Issue;
use super::yaml::{Document, Seg, render_path};
use crate::component::de::flow;

/// The upstream schema, byte-identical to `../shared/schemas/kfp-v1-component.schema.json`.
const SCHEMA_TEXT: &str = include_str!("../../../../schemas/kfp-v1-component.schema.json");

static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(build);

fn build() -> Result<jsonschema::Validator, String> {
    let mut schema: Value = serde_json::from_str(SCHEMA_TEXT)
        .map_err(|e| format!("embedded KFP component schema is invalid: {e}"))?;
    let defs = schema
        .get_mut("definitions")
        .ok_or("embedded KFP component schema has no definitions")?;
    widen(defs);
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft6)
        .should_validate_formats(false)
        .build(&schema)
        .map_err(|e| format!("cannot compile the KFP component schema: {e}"))
}

/// Adds `extra` to the `properties` of definition `def`.
fn add_properties(defs: &mut Value, def: &str, extra: Value) {
    if let (Some(props), Value::Object(extra)) = (
        defs.pointer_mut(&format!("/{def}/properties"))
            .and_then(Value::as_object_mut),
        extra,
    ) {
        props.extend(extra);
    }
}

/// Adds `alternative` to the `oneOf` of definition `def`.
fn add_alternative(defs: &mut Value, def: &str, alternative: Value) {
    if let Some(list) = defs
        .pointer_mut(&format!("/{def}/oneOf"))
        .and_then(Value::as_array_mut)
    {
        list.push(alternative);
    }
}

fn widen(defs: &mut Value) {
    let text_map = json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}});
    add_properties(
        defs,
        "ComponentSpec",
        json!({
            "metadata": {
                "type": "object",
                "properties": {"annotations": text_map, "labels": text_map},
                "additionalProperties": false
            },
            "version": {"type": "string"}
        }),
    );
    add_properties(
        defs,
        "InputSpec",
        json!({
            "annotations": {"type": "object"},
            "default": {"type": ["string", "number", "boolean"]}
        }),
    );
    add_properties(
        defs,
        "OutputSpec",
        json!({"annotations": {"type": "object"}}),
    );
    add_properties(
        defs,
        "ContainerSpec",
        json!({
            "fileOutputs": {"type": "object", "additionalProperties": {"type": "string"}},
            "env": text_map
        }),
    );
    let args = json!({"type": "array", "items": {"$ref": "#/definitions/StringOrPlaceholder"}});
    if let Some(branch) = defs
        .pointer_mut("/IfPlaceholder/properties/if/properties")
        .and_then(Value::as_object_mut)
    {
        for key in ["then", "else"] {
            branch.insert(
                key.into(),
                json!({"oneOf": [{"$ref": "#/definitions/StringOrPlaceholder"}, args]}),
            );
        }
    }
    let scalar = json!({"type": ["number", "boolean"]});
    add_alternative(defs, "StringOrPlaceholder", scalar.clone());
    add_alternative(defs, "ArgumentType", scalar);
    add_properties(defs, "TaskSpec", json!({"annotations": {"type": "object"}}));
    if let Some(outputs) =
        defs.pointer_mut("/GraphSpec/properties/outputValues/additionalProperties")
    {
        *outputs = json!({"oneOf": [
            {"$ref": "#/definitions/TaskOutputArgument"},
            {"$ref": "#/definitions/GraphInputArgument"}
        ]});
    }
    add_alternative(
        defs,
        "PredicateType",
        json!({"$ref": "#/definitions/ArgumentType"}),
    );
}

/// Every schema violation of `doc`, located by field path and position.
pub(crate) fn check(doc: &Document) -> Vec<Issue> {
    let validator = match VALIDATOR.as_ref() {
        Ok(v) => v,
        Err(e) => return vec![Issue::at("", e.clone())],
    };
    validator
        .iter_errors(&doc.value)
        .map(|err| {
            let err = deepest(&err);
            let path: Vec<Seg> = err
                .instance_path()
                .iter()
                .map(|s| match s {
                    LocationSegment::Property(p) => Seg::Key(p.to_string()),
                    LocationSegment::Index(i) => Seg::Index(i),
                })
                .collect();
            Issue {
                position: doc.key_position(&path).or_else(|| doc.position(&path)),
                path: render_path(&path),
                message: format!(
                    "{} (KFP component schema)",
                    describe(err.kind(), err.instance(), &err.to_string())
                ),
            }
        })
        .collect()
}

/// For "matches none of the forms" errors, the error of the form that got furthest into
/// the value: the form the author most likely meant (for `implementation`, the
/// `container` branch when there is a `container` key).
fn deepest<'a>(err: &'a jsonschema::ValidationError<'a>) -> &'a jsonschema::ValidationError<'a> {
    let context = match err.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            context
        }
        _ => return err,
    };
    let depth = |e: &jsonschema::ValidationError<'_>| e.instance_path().iter().count();
    let best = context
        .iter()
        .flatten()
        .map(|e| deepest(e))
        .max_by_key(|e| depth(e));
    match best {
        Some(b) if depth(b) > depth(err) => b,
        _ => err,
    }
}

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
                flow(instance)
            )
        }
        ValidationErrorKind::Required { property } => {
            format!("missing required field {}", flow(property))
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            format!("unknown field(s) {}", unexpected.join(", "))
        }
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
            format!("{} matches none of the allowed forms", flow(instance))
        }
        _ => {
            let mut text = fallback.to_owned();
            if text.len() > 200 {
                let mut end = 200;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text.push_str("...");
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::load::yaml::parse;

    #[test]
    fn what_kfp_1_8_writes_passes_the_widened_schema() {
        let doc = parse(
            "name: x\nversion: v1\nmetadata: {annotations: {a: b}, labels: {n: 1}}\n\
             inputs: [{name: a, default: 3, annotations: {}}]\n\
             outputs: [{name: o, annotations: {}}]\n\
             implementation:\n  container:\n    image: i\n    args:\n    - 5\n    - if: {cond: {isPresent: a}, then: [--a, {inputValue: a}], else: '-'}\n\
             \x20   - {outputPath: o}\n    fileOutputs: {o: /tmp/o}\n",
        )
        .expect("yaml");
        assert_eq!(check(&doc), Vec::new());
    }

    #[test]
    fn violations_are_located() {
        let doc = parse("name: x\nimplementation:\n  container:\n    image: [a]\n").expect("yaml");
        let issues = check(&doc);
        assert!(!issues.is_empty());
        let issue = &issues[0];
        assert_eq!(issue.path, "implementation.container.image");
        assert_eq!(issue.position.map(|p| p.line), Some(4));
        assert!(
            issue.message.ends_with("(KFP component schema)"),
            "{issue:?}"
        );
    }
}
