use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::de::{ScalarText, did_you_mean, flow};

/// One element of a container's command line, in KFP v1 placeholder form.
///
/// The compiler resolves placeholders per task: `InputValue` becomes an Argo parameter
/// tag, `InputPath`/`OutputPath` become file paths inside the container, and `If` picks a
/// branch from whether the task supplies the input, as KFP v1 does.
///
/// Deserializing is hand-written (not `#[serde(untagged)]`) so that a wrong placeholder
/// is reported as what it is: `unknown placeholder {inputValu: x}; expected one of
/// inputValue, inputPath, outputPath, concat, if`. Numbers and booleans are accepted as
/// literal text, as KFP's Python loader does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CmdArg {
    Literal(String),
    InputValue {
        #[serde(rename = "inputValue")]
        input: String,
    },
    InputPath {
        #[serde(rename = "inputPath")]
        input: String,
    },
    OutputPath {
        #[serde(rename = "outputPath")]
        output: String,
    },
    Concat {
        concat: Vec<CmdArg>,
    },
    If {
        #[serde(rename = "if")]
        branch: Box<IfPlaceholder>,
    },
    /// A value that cannot appear on a command line; reported by the compiler.
    #[serde(skip)]
    Invalid(String),
}

/// `{if: {cond, then, else}}`. `then` and `else` may each be one argument or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IfPlaceholder {
    pub cond: Predicate,
    #[serde(deserialize_with = "one_or_many")]
    pub then: Vec<CmdArg>,
    #[serde(
        default,
        rename = "else",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub otherwise: Vec<CmdArg>,
}

/// The condition of an `if` placeholder.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Predicate {
    IsPresent {
        #[serde(rename = "isPresent")]
        input: String,
    },
    InputValue {
        #[serde(rename = "inputValue")]
        input: String,
    },
    Constant(bool),
    ConstantText(String),
}

/// The placeholders of a KFP v1 command line, for messages.
const PLACEHOLDERS: [&str; 5] = ["inputValue", "inputPath", "outputPath", "concat", "if"];

/// KFP v2 placeholders, which v1 files cannot use.
const V2_PLACEHOLDERS: [&str; 6] = [
    "inputUri",
    "outputUri",
    "inputMetadata",
    "outputMetadata",
    "executorInput",
    "inputOutputPortName",
];

fn expected_placeholders() -> String {
    format!("expected one of {}", PLACEHOLDERS.join(", "))
}

struct CmdArgVisitor;

impl<'de> Visitor<'de> for CmdArgVisitor {
    type Value = CmdArg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string or a placeholder ({})", PLACEHOLDERS.join(", "))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<CmdArg, E> {
        Ok(CmdArg::Literal(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<CmdArg, E> {
        Ok(CmdArg::Literal(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<CmdArg, E> {
        ScalarText("").visit_bool(v).map(CmdArg::Literal)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<CmdArg, E> {
        ScalarText("").visit_i64(v).map(CmdArg::Literal)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<CmdArg, E> {
        ScalarText("").visit_u64(v).map(CmdArg::Literal)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<CmdArg, E> {
        ScalarText("").visit_f64(v).map(CmdArg::Literal)
    }
    fn visit_unit<E: de::Error>(self) -> Result<CmdArg, E> {
        Err(E::custom(format!(
            "an empty value is not a command-line argument; expected a string or a \
             placeholder ({})",
            PLACEHOLDERS.join(", ")
        )))
    }
    fn visit_none<E: de::Error>(self) -> Result<CmdArg, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<CmdArg, A::Error> {
        Err(de::Error::custom(format!(
            "a list is not a command-line argument; expected a string or a placeholder ({}); \
             lists of arguments belong under if.then / if.else",
            PLACEHOLDERS.join(", ")
        )))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CmdArg, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format!(
                "an empty map is not a placeholder; {}",
                expected_placeholders()
            )));
        };
        let arg = match key.as_str() {
            "inputValue" => CmdArg::InputValue {
                input: map.next_value::<Name>()?.0,
            },
            "inputPath" => CmdArg::InputPath {
                input: map.next_value::<Name>()?.0,
            },
            "outputPath" => CmdArg::OutputPath {
                output: map.next_value::<Name>()?.0,
            },
            "concat" => CmdArg::Concat {
                concat: map.next_value::<ArgList>()?.0,
            },
            "if" => CmdArg::If {
                branch: Box::new(map.next_value::<IfPlaceholder>()?),
            },
            other if V2_PLACEHOLDERS.contains(&other) => {
                return Err(de::Error::custom(format!(
                    "{other} is a KFP v2 placeholder, which a v1 component.yaml cannot use; {}",
                    expected_placeholders()
                )));
            }
            other => {
                let value: serde_json::Value = map.next_value()?;
                let shown = flow(&serde_json::json!({ other: value }));
                return Err(de::Error::custom(format!(
                    "unknown placeholder {shown}; {}{}",
                    expected_placeholders(),
                    did_you_mean(other, &PLACEHOLDERS)
                )));
            }
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "a placeholder has exactly one key, but this one has `{key}` and `{extra}`"
            )));
        }
        Ok(arg)
    }
}

impl<'de> Deserialize<'de> for CmdArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CmdArgVisitor)
    }
}

/// The name of an input or output inside a placeholder.
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the name of an input or output (a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_owned())
            }
        }
        d.deserialize_any(V).map(Name)
    }
}

/// A list of arguments (`concat: [...]`).
struct ArgList(Vec<CmdArg>);

impl<'de> Deserialize<'de> for ArgList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<CmdArg>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings and placeholders")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(arg) = seq.next_element::<CmdArg>()? {
                    out.push(arg);
                }
                Ok(out)
            }
        }
        d.deserialize_any(V).map(ArgList)
    }
}

/// `then:`/`else:` of an `if`: one argument, or a list of them (KFP accepts both).
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CmdArg>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<CmdArg>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an argument or a list of arguments")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            ArgList::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(|l| l.0)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            CmdArgVisitor.visit_str(v).map(|a| vec![a])
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            CmdArgVisitor.visit_bool(v).map(|a| vec![a])
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            CmdArgVisitor.visit_i64(v).map(|a| vec![a])
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            CmdArgVisitor.visit_u64(v).map(|a| vec![a])
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            CmdArgVisitor.visit_f64(v).map(|a| vec![a])
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            CmdArgVisitor.visit_map(map).map(|a| vec![a])
        }
    }
    d.deserialize_any(V)
}

const CONDITIONS: [&str; 2] = ["isPresent", "inputValue"];

impl<'de> Deserialize<'de> for Predicate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Predicate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(CONDITION_EXPECTED)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Predicate, E> {
                Ok(Predicate::Constant(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Predicate, E> {
                Ok(Predicate::ConstantText(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Predicate, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(format!(
                        "an empty map is not a condition; expected {CONDITION_EXPECTED}"
                    )));
                };
                let cond = match key.as_str() {
                    "isPresent" => Predicate::IsPresent {
                        input: map.next_value::<Name>()?.0,
                    },
                    "inputValue" => Predicate::InputValue {
                        input: map.next_value::<Name>()?.0,
                    },
                    other => {
                        let value: serde_json::Value = map.next_value()?;
                        let shown = flow(&serde_json::json!({ other: value }));
                        return Err(de::Error::custom(format!(
                            "unknown condition {shown}; expected {CONDITION_EXPECTED}{}",
                            did_you_mean(other, &CONDITIONS)
                        )));
                    }
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a condition has exactly one key, but this one has `{key}` and `{extra}`"
                    )));
                }
                Ok(cond)
            }
        }
        d.deserialize_any(V)
    }
}

const CONDITION_EXPECTED: &str =
    "{isPresent: input}, {inputValue: input}, true/false, or a constant string";

/// The value of an input, as the command line of a task (`{inputValue: name}`).
pub fn input_value(name: impl Into<String>) -> CmdArg {
    CmdArg::InputValue { input: name.into() }
}

/// The path of a file holding an input artifact (`{inputPath: name}`).
pub fn input_path(name: impl Into<String>) -> CmdArg {
    CmdArg::InputPath { input: name.into() }
}

/// The path a task must write an output to (`{outputPath: name}`).
pub fn output_path(name: impl Into<String>) -> CmdArg {
    CmdArg::OutputPath {
        output: name.into(),
    }
}

/// Several pieces joined into one argument (`{concat: [...]}`).
pub fn concat(parts: impl IntoIterator<Item = impl Into<CmdArg>>) -> CmdArg {
    CmdArg::Concat {
        concat: parts.into_iter().map(Into::into).collect(),
    }
}

/// Arguments used only when the task supplies `input` (`{if: {cond: {isPresent: input}}}`).
pub fn if_present(
    input: impl Into<String>,
    then: impl IntoIterator<Item = impl Into<CmdArg>>,
) -> CmdArg {
    CmdArg::If {
        branch: Box::new(IfPlaceholder {
            cond: Predicate::IsPresent {
                input: input.into(),
            },
            then: then.into_iter().map(Into::into).collect(),
            otherwise: Vec::new(),
        }),
    }
}

impl From<&str> for CmdArg {
    fn from(s: &str) -> Self {
        Self::Literal(s.to_owned())
    }
}

impl From<String> for CmdArg {
    fn from(s: String) -> Self {
        Self::Literal(s)
    }
}

impl From<&String> for CmdArg {
    fn from(s: &String) -> Self {
        Self::Literal(s.clone())
    }
}

impl CmdArg {
    /// Every input and output this argument mentions, with how it is used.
    pub fn visit(&self, f: &mut impl FnMut(Usage<'_>)) {
        match self {
            Self::Literal(_) | Self::Invalid(_) => {}
            Self::InputValue { input } => f(Usage::InputValue(input)),
            Self::InputPath { input } => f(Usage::InputPath(input)),
            Self::OutputPath { output } => f(Usage::OutputPath(output)),
            Self::Concat { concat } => concat.iter().for_each(|a| a.visit(f)),
            Self::If { branch } => {
                match &branch.cond {
                    Predicate::IsPresent { input } => f(Usage::IsPresent(input)),
                    Predicate::InputValue { input } => f(Usage::InputValue(input)),
                    Predicate::Constant(_) | Predicate::ConstantText(_) => {}
                }
                branch
                    .then
                    .iter()
                    .chain(&branch.otherwise)
                    .for_each(|a| a.visit(f));
            }
        }
    }
}

/// How a placeholder uses an input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage<'a> {
    InputValue(&'a str),
    InputPath(&'a str),
    OutputPath(&'a str),
    IsPresent(&'a str),
}
