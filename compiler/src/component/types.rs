use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A KFP v1 type: a name (`String`, `Integer`, `Model`, ...) or a structured type such as
/// `{GCSPath: {data_type: CSV}}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TypeSpec {
    Name(String),
    Structured(BTreeMap<String, TypeSpec>),
}

/// How a value of some type crosses a task boundary in Argo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Passing {
    /// As a parameter: a short text in the workflow status.
    Parameter,
    /// As an artifact: a file or directory stored by the artifact repository.
    Artifact,
}

/// The scalar kinds the DSL checks constants against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    String,
    Integer,
    Float,
    Boolean,
    JsonArray,
    JsonObject,
}

impl TypeSpec {
    pub fn string() -> Self {
        Self::Name("String".into())
    }
    pub fn integer() -> Self {
        Self::Name("Integer".into())
    }
    pub fn float() -> Self {
        Self::Name("Float".into())
    }
    pub fn boolean() -> Self {
        Self::Name("Boolean".into())
    }
    pub fn json_array() -> Self {
        Self::Name("JsonArray".into())
    }
    pub fn json_object() -> Self {
        Self::Name("JsonObject".into())
    }

    /// The scalar kind of a parameter type, recognising the aliases KFP v1 accepts.
    pub fn scalar_kind(&self) -> Option<ScalarKind> {
        const KINDS: [(&str, ScalarKind); 12] = [
            ("String", ScalarKind::String),
            ("str", ScalarKind::String),
            ("Integer", ScalarKind::Integer),
            ("int", ScalarKind::Integer),
            ("Float", ScalarKind::Float),
            ("double", ScalarKind::Float),
            ("Boolean", ScalarKind::Boolean),
            ("bool", ScalarKind::Boolean),
            ("JsonArray", ScalarKind::JsonArray),
            ("List", ScalarKind::JsonArray),
            ("JsonObject", ScalarKind::JsonObject),
            ("Dict", ScalarKind::JsonObject),
        ];
        let Self::Name(name) = self else { return None };
        KINDS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, k)| *k)
    }

    /// Parameter types travel as Argo parameters; everything else (Model, Dataset, CSV...)
    /// is a file and travels as an artifact.
    pub fn passing(ty: Option<&TypeSpec>) -> Passing {
        match ty {
            None => Passing::Parameter,
            Some(t) if t.scalar_kind().is_some() => Passing::Parameter,
            Some(_) => Passing::Artifact,
        }
    }

    /// KFP v1's compatibility rule: untyped matches anything, names compare without case,
    /// the scalar aliases match each other, structured types must be equal.
    pub fn compatible(given: Option<&TypeSpec>, expected: Option<&TypeSpec>) -> bool {
        match (given, expected) {
            (None, _) | (_, None) => true,
            (Some(g), Some(e)) => match (g.scalar_kind(), e.scalar_kind()) {
                (Some(a), Some(b)) => a == b,
                _ => match (g, e) {
                    (Self::Name(a), Self::Name(b)) => a.eq_ignore_ascii_case(b),
                    _ => g == e,
                },
            },
        }
    }

    /// Whether `text` is a valid constant of this type (non-scalar types accept any text).
    pub fn check_constant(&self, text: &str) -> Result<(), String> {
        let Some(kind) = self.scalar_kind() else {
            return Ok(());
        };
        let ok = match kind {
            ScalarKind::String => true,
            ScalarKind::Integer => text.trim().parse::<i64>().is_ok(),
            ScalarKind::Float => text.trim().parse::<f64>().is_ok(),
            ScalarKind::Boolean => {
                matches!(text.trim().to_ascii_lowercase().as_str(), "true" | "false")
            }
            ScalarKind::JsonArray => {
                matches!(serde_json::from_str(text), Ok(serde_json::Value::Array(_)))
            }
            ScalarKind::JsonObject => {
                matches!(serde_json::from_str(text), Ok(serde_json::Value::Object(_)))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{text:?} is not a valid {self}"))
        }
    }

    /// Numbers compare numerically in conditions; everything else as text.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self.scalar_kind(),
            Some(ScalarKind::Integer | ScalarKind::Float)
        )
    }
}

impl fmt::Display for TypeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(n) => f.write_str(n),
            Self::Structured(m) => f.write_str(&serde_json::to_string(m).map_err(|_| fmt::Error)?),
        }
    }
}

/// Rust types that have a KFP type: what the typed DSL (`Param<T>`) is checked against.
pub trait KfpType {
    fn type_spec() -> TypeSpec;
    /// Render a constant of this type the way Argo parameters carry it.
    fn to_param_text(&self) -> String;
}

macro_rules! kfp_scalar {
    ($ty:ty, $ctor:ident) => {
        impl KfpType for $ty {
            fn type_spec() -> TypeSpec {
                TypeSpec::$ctor()
            }
            fn to_param_text(&self) -> String {
                self.to_string()
            }
        }
    };
}
kfp_scalar!(String, string);
kfp_scalar!(i64, integer);
kfp_scalar!(i32, integer);
kfp_scalar!(u32, integer);
kfp_scalar!(u64, integer);
kfp_scalar!(f64, float);
kfp_scalar!(f32, float);
kfp_scalar!(bool, boolean);

impl<T: Serialize> KfpType for Vec<T> {
    fn type_spec() -> TypeSpec {
        TypeSpec::json_array()
    }
    fn to_param_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "[]".into())
    }
}

impl<V: Serialize> KfpType for BTreeMap<String, V> {
    fn type_spec() -> TypeSpec {
        TypeSpec::json_object()
    }
    fn to_param_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

impl KfpType for serde_json::Value {
    fn type_spec() -> TypeSpec {
        TypeSpec::Name("JsonObject".into())
    }
    fn to_param_text(&self) -> String {
        match self {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_compatible_and_names_ignore_case() {
        let int = TypeSpec::Name("int".into());
        assert!(TypeSpec::compatible(Some(&int), Some(&TypeSpec::integer())));
        assert!(!TypeSpec::compatible(Some(&int), Some(&TypeSpec::string())));
        let a = TypeSpec::Name("model".into());
        let b = TypeSpec::Name("Model".into());
        assert!(TypeSpec::compatible(Some(&a), Some(&b)));
        assert!(TypeSpec::compatible(None, Some(&b)));
    }

    #[test]
    fn constants_are_checked_against_scalar_types() {
        assert!(TypeSpec::integer().check_constant("12").is_ok());
        assert!(TypeSpec::integer().check_constant("1.5").is_err());
        assert!(TypeSpec::boolean().check_constant("True").is_ok());
        assert!(TypeSpec::json_array().check_constant("[1,2]").is_ok());
        assert!(TypeSpec::json_array().check_constant("{}").is_err());
        assert!(
            TypeSpec::Name("Model".into())
                .check_constant("anything")
                .is_ok()
        );
    }

    #[test]
    fn passing_follows_the_type() {
        assert_eq!(TypeSpec::passing(None), Passing::Parameter);
        assert_eq!(
            TypeSpec::passing(Some(&TypeSpec::float())),
            Passing::Parameter
        );
        assert_eq!(
            TypeSpec::passing(Some(&TypeSpec::Name("CSV".into()))),
            Passing::Artifact
        );
    }
}
