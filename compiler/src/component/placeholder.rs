use serde::{Deserialize, Serialize};

/// One element of a container's command line, in KFP v1 placeholder form.
///
/// The compiler resolves placeholders per task: `InputValue` becomes an Argo parameter
/// tag, `InputPath`/`OutputPath` become file paths inside the container, and `If` picks a
/// branch from whether the task supplies the input, as KFP v1 does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// `{if: {cond, then, else}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IfPlaceholder {
    pub cond: Predicate,
    pub then: Vec<CmdArg>,
    #[serde(default, rename = "else", skip_serializing_if = "Vec::is_empty")]
    pub otherwise: Vec<CmdArg>,
}

/// The condition of an `if` placeholder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
