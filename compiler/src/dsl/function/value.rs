//! How Rust values cross the boundary of a Rust-function component: read from the text
//! Argo puts on its command line, written as text to the files Argo reads outputs from.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{FunctionOutput, Outputs};
use crate::component::{KfpType, TypeSpec};
use crate::dsl::{IntoParam, OutputSource, Param, Value};

/// A value a Rust-function component takes as an input or returns as an output.
///
/// Implemented for `String`, `i64`, `i32`, `u32`, `u64`, `f64`, `f32`, `bool` (as plain
/// text), `Vec<T>`, `BTreeMap<String, V>` and `serde_json::Value` (as JSON), and for
/// [`Json<T>`], which carries any serde type as JSON. `#[component]` wraps argument types
/// it does not know in `Json<..>` itself, so a function may simply take a `Config`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross the boundary of a Rust-function component",
    label = "not a value a Rust-function component can take or return",
    note = "plain values are `String`, `i64`, `i32`, `u32`, `u64`, `f64`, `f32` and `bool`; \
            `Vec<T>`, `BTreeMap<String, V>` and `serde_json::Value` travel as JSON",
    note = "any other serde type travels as JSON when wrapped in `kfp::dsl::Json<..>`"
)]
pub trait FunctionValue: Sized {
    /// The KFP type declared for the input or output.
    fn type_spec() -> TypeSpec;
    /// Read the value from the text of a command-line argument. The error says what was
    /// expected (the caller names the argument).
    fn parse(text: &str) -> Result<Self, String>;
    /// The text written to the output file (what Argo reads back as the parameter).
    fn render(&self) -> Result<String, String>;
}

impl FunctionValue for String {
    fn type_spec() -> TypeSpec {
        TypeSpec::string()
    }
    fn parse(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
    fn render(&self) -> Result<String, String> {
        Ok(self.clone())
    }
}

macro_rules! integer {
    ($($ty:ty),*) => {$(
        impl FunctionValue for $ty {
            fn type_spec() -> TypeSpec {
                TypeSpec::integer()
            }
            fn parse(text: &str) -> Result<Self, String> {
                text.trim().parse::<$ty>().map_err(|_| match stringify!($ty) {
                    "i64" => "expected an integer (`i64`)".to_owned(),
                    name => format!(
                        "expected an integer from {} to {} (`{name}`)",
                        <$ty>::MIN,
                        <$ty>::MAX,
                    ),
                })
            }
            fn render(&self) -> Result<String, String> {
                Ok(self.to_string())
            }
        }
    )*};
}
integer!(i64, i32, u32, u64);

macro_rules! float {
    ($($ty:ty),*) => {$(
        impl FunctionValue for $ty {
            fn type_spec() -> TypeSpec {
                TypeSpec::float()
            }
            fn parse(text: &str) -> Result<Self, String> {
                text.trim().parse::<$ty>().map_err(|_| {
                    format!("expected a number such as `0.5` (`{}`)", stringify!($ty))
                })
            }
            fn render(&self) -> Result<String, String> {
                Ok(self.to_string())
            }
        }
    )*};
}
float!(f64, f32);

impl FunctionValue for bool {
    fn type_spec() -> TypeSpec {
        TypeSpec::boolean()
    }
    /// `true`/`false` in any case: KFP's Python components write `True`/`False`.
    fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("expected `true` or `false`".into()),
        }
    }
    fn render(&self) -> Result<String, String> {
        Ok(self.to_string())
    }
}

fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("expected {what}: {e}"))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| format!("cannot write the value as JSON: {e}"))
}

/// The last segment of a type's path, for messages (`samples::Config` -> `Config`).
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    match base.rfind("::") {
        Some(i) => &full[i + 2..],
        None => full,
    }
}

impl<T: Serialize + DeserializeOwned> FunctionValue for Vec<T> {
    fn type_spec() -> TypeSpec {
        TypeSpec::json_array()
    }
    fn parse(text: &str) -> Result<Self, String> {
        from_json(text, "a JSON list")
    }
    fn render(&self) -> Result<String, String> {
        to_json(self)
    }
}

impl<V: Serialize + DeserializeOwned> FunctionValue for std::collections::BTreeMap<String, V> {
    fn type_spec() -> TypeSpec {
        TypeSpec::json_object()
    }
    fn parse(text: &str) -> Result<Self, String> {
        from_json(text, "a JSON object")
    }
    fn render(&self) -> Result<String, String> {
        to_json(self)
    }
}

impl FunctionValue for serde_json::Value {
    fn type_spec() -> TypeSpec {
        <Self as KfpType>::type_spec()
    }
    /// Any JSON; text that is not JSON is taken as a JSON string (constants of this type
    /// render strings without quotes, see [`KfpType::to_param_text`]).
    fn parse(text: &str) -> Result<Self, String> {
        Ok(serde_json::from_str(text).unwrap_or_else(|_| Self::String(text.to_owned())))
    }
    fn render(&self) -> Result<String, String> {
        Ok(self.to_param_text())
    }
}

/// Any serde type, carried as JSON (declared as KFP type `JsonObject`).
///
/// In a `#[component]` fn a parameter may be written `cfg: Config`; the macro reads it
/// through `Json<Config>`. To return a single serde value, return `Json<T>` (a plain
/// struct return type means one output per field, see [`KfpOutputs`]). In a pipeline,
/// `Json(value)` is a constant for an input of type `T`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Json<T>(pub T);

impl<T: Serialize + DeserializeOwned> FunctionValue for Json<T> {
    fn type_spec() -> TypeSpec {
        TypeSpec::json_object()
    }
    fn parse(text: &str) -> Result<Self, String> {
        from_json(text, &format!("JSON for a `{}`", short_type_name::<T>())).map(Json)
    }
    fn render(&self) -> Result<String, String> {
        to_json(&self.0)
    }
}

/// `Json(config)` is a constant for an input of type `Config`.
impl<T: Serialize> IntoParam<T> for Json<T> {
    fn into_param(self) -> Param<T> {
        Param::from_value(match serde_json::to_string(&self.0) {
            Ok(text) => Value::typed_constant(text, TypeSpec::json_object()),
            Err(e) => Value::invalid(format!("the constant cannot be written as JSON: {e}")),
        })
    }
}

/// A struct whose fields are the outputs of a Rust-function component (one per field):
/// derive it with `#[derive(KfpOutputs)]` and return the struct (or a `Result` of it).
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not describe the outputs of a Rust-function component",
    label = "a struct returned by a #[component] fn must derive `KfpOutputs`",
    note = "for one output per field, add `#[derive(KfpOutputs)]` to `{Self}`",
    note = "to return a single serde value as one JSON output, return `Json<{Self}>`"
)]
pub trait KfpOutputs: Sized {
    /// Typed handles on a task's outputs, to pass to other tasks (`task.outputs`).
    type Params;
    /// The outputs, one per field.
    fn outputs() -> Vec<FunctionOutput>;
    /// The handles of a task's outputs.
    fn params(source: &OutputSource) -> Self::Params;
    /// Record each field as the output of the same name.
    fn write(self, outputs: &mut Outputs) -> Result<(), String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_parse_and_render() {
        assert_eq!(i64::parse(" 3 "), Ok(3));
        assert!(
            u32::parse("-1")
                .expect_err("an error")
                .contains("from 0 to 4294967295")
        );
        assert_eq!(f64::parse("0.5"), Ok(0.5));
        assert_eq!(bool::parse("True"), Ok(true));
        assert!(bool::parse("yes").is_err());
        assert_eq!(String::parse(" a b "), Ok(" a b ".to_owned()));
        assert_eq!(1.5f64.render(), Ok("1.5".to_owned()));
    }

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Config {
        depth: u32,
    }

    #[test]
    fn json_names_the_type_on_error() {
        assert_eq!(
            Json::<Config>::parse(r#"{"depth": 2}"#),
            Ok(Json(Config { depth: 2 }))
        );
        let e = Json::<Config>::parse("{}").expect_err("an error");
        assert!(
            e.starts_with("expected JSON for a `Config`: missing field `depth`"),
            "{e}"
        );
        assert_eq!(
            Json(Config { depth: 1 }).render(),
            Ok(r#"{"depth":1}"#.into())
        );
        assert_eq!(Vec::<i64>::parse("[1,2]"), Ok(vec![1, 2]));
        assert_eq!(
            serde_json::Value::parse("plain"),
            Ok(serde_json::Value::String("plain".into()))
        );
    }
}
