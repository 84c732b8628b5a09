//! Running a Rust function the way a workflow task does: `<binary> component NAME
//! --INPUT VALUE ... --output-OUTPUT PATH ...`.
//!
//! The contract, which the compiled command line follows and the local engine relies on:
//!
//! - `--INPUT VALUE` (or `--INPUT=VALUE`) per input: the value's text, or a file input's
//!   path. Values are parsed by the function's declared types before it is called; a
//!   missing input takes its default, an optional one is `None`.
//! - `--output-OUTPUT PATH` per output: value outputs are written there as text (JSON for
//!   serde types), creating the directory; file outputs are the path the function writes.
//!   A value output given no path is printed as `OUTPUT: VALUE` instead (for trying a
//!   function by hand).
//! - Exit status: 0 done; [`EXIT_FAILED`] when the function returns `Err` (its text on
//!   stderr) or its outputs cannot be written; [`EXIT_BAD_INVOCATION`] for a bad command
//!   line (naming the argument); [`EXIT_PANICKED`] when the function panics (caught with
//!   `catch_unwind`, its message on stderr). With `panic = "abort"` a panic aborts the
//!   process instead, which still fails the task.

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use super::{Args, FunctionComponent, FunctionInput, Outputs};

/// The function returned an error, or its outputs could not be written.
pub const EXIT_FAILED: u8 = 1;
/// The command line was wrong: an unknown, missing or malformed argument.
pub const EXIT_BAD_INVOCATION: u8 = 2;
/// The function panicked (the code Rust itself uses for a panicking `main`).
pub const EXIT_PANICKED: u8 = 101;

/// A command line parsed against the function's declarations.
struct Invocation {
    args: Args,
    /// Value output name -> where to write it.
    value_paths: BTreeMap<String, PathBuf>,
}

enum Parsed {
    Help,
    Run(Invocation),
}

impl FunctionComponent {
    /// Run the function on a command line (the arguments after `component NAME`),
    /// writing its outputs; returns the process exit status. `program` names the binary
    /// in messages. Nothing the command line or the function does makes this panic.
    pub fn invoke(
        &self,
        program: &str,
        argv: &[String],
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> u8 {
        let invocation = match self.parse(argv) {
            Ok(Parsed::Help) => {
                let _ = write!(out, "{}", self.usage(program));
                return 0;
            }
            Ok(Parsed::Run(invocation)) => invocation,
            Err(message) => {
                let _ = writeln!(
                    err,
                    "error: {message}\n(`{program} component {} --help` lists its arguments)",
                    self.name
                );
                return EXIT_BAD_INVOCATION;
            }
        };
        match self.run(&invocation, out) {
            Ok(()) => 0,
            Err((code, message)) => {
                let _ = writeln!(err, "error: {message}");
                code
            }
        }
    }

    fn parse(&self, argv: &[String]) -> Result<Parsed, String> {
        let mut given: BTreeMap<String, String> = BTreeMap::new();
        let mut rest = argv.iter();
        while let Some(token) = rest.next() {
            if token == "--help" || token == "-h" {
                return Ok(Parsed::Help);
            }
            let Some(flag) = token.strip_prefix("--") else {
                return Err(format!(
                    "unexpected argument {token:?}: arguments are `--NAME VALUE` pairs"
                ));
            };
            let (key, value) = match flag.split_once('=') {
                Some((k, v)) => (k, v.to_owned()),
                None => match rest.next() {
                    Some(v) => (flag, v.clone()),
                    None => return Err(format!("`--{flag}` needs a value")),
                },
            };
            if !self.knows_flag(key) {
                return Err(self.unknown_flag(key));
            }
            if given.insert(key.to_owned(), value).is_some() {
                return Err(format!("`--{key}` is given twice"));
            }
        }

        let mut args = Args::new();
        for input in &self.inputs {
            let name = input.name();
            let text = match (given.remove(name), &input.spec.default) {
                (Some(text), _) => text,
                (None, Some(default)) => default.clone(),
                (None, None) if input.spec.optional => continue,
                (None, None) => {
                    return Err(format!(
                        "missing `--{name} {}` (a required input of `{}`)",
                        placeholder(input),
                        self.name
                    ));
                }
            };
            if input.is_file() {
                if !Path::new(&text).exists() {
                    return Err(format!(
                        "the file given for `--{name}` does not exist: {text}"
                    ));
                }
            } else if let Err(why) = input.check(&text) {
                return Err(format!("invalid value {text:?} for `--{name}`: {why}"));
            }
            args = args.with_input(name, text);
        }
        let mut value_paths = BTreeMap::new();
        for output in &self.outputs {
            let flag = format!("output-{}", output.name());
            match given.remove(&flag) {
                Some(path) if output.is_file => args = args.with_output_path(output.name(), path),
                Some(path) => {
                    value_paths.insert(output.name().to_owned(), PathBuf::from(path));
                }
                None if output.is_file => {
                    return Err(format!(
                        "missing `--{flag} PATH`: where the function writes its file output `{}`",
                        output.name()
                    ));
                }
                None => {}
            }
        }
        Ok(Parsed::Run(Invocation { args, value_paths }))
    }

    fn knows_flag(&self, key: &str) -> bool {
        self.inputs.iter().any(|i| i.name() == key)
            || key
                .strip_prefix("output-")
                .is_some_and(|o| self.outputs.iter().any(|out| out.name() == o))
    }

    fn unknown_flag(&self, key: &str) -> String {
        let flags: Vec<String> = self
            .inputs
            .iter()
            .map(|i| i.name().to_owned())
            .chain(self.outputs.iter().map(|o| format!("output-{}", o.name())))
            .collect();
        // Close enough to be a typo, and not merely another short name.
        let near = flags
            .iter()
            .map(|f| (strsim::levenshtein(f, key), f))
            .filter(|(d, f)| *d <= 1.max(f.len() / 3) && *d < f.len().max(key.len()))
            .min_by_key(|(d, _)| *d)
            .map(|(_, f)| f);
        let hint = near.map_or(String::new(), |f| format!("did you mean `--{f}`? "));
        let list = if flags.is_empty() {
            "(none)".to_owned()
        } else {
            flags
                .iter()
                .map(|f| format!("--{f}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "`{}` has no argument `--{key}`; {hint}its arguments are: {list}",
            self.name
        )
    }

    /// Call the function and write its outputs; the error carries the exit status.
    fn run(&self, invocation: &Invocation, out: &mut dyn Write) -> Result<(), (u8, String)> {
        let failed = |message: String| (EXIT_FAILED, message);
        for output in &self.outputs {
            let path = if output.is_file {
                invocation.args.output_path_buf(output.name())
            } else {
                invocation
                    .value_paths
                    .get(output.name())
                    .map(PathBuf::as_path)
            };
            if let Some(path) = path {
                create_parent(path)
                    .map_err(|e| failed(format!("output `{}`: {e}", output.name())))?;
            }
        }
        let runner = self.runner;
        let outcome = catch_unwind(AssertUnwindSafe(|| runner(&invocation.args)));
        let outputs: Outputs = match outcome {
            Ok(Ok(outputs)) => outputs,
            Ok(Err(message)) => {
                return Err(failed(format!(
                    "the Rust function `{}` failed: {message}",
                    self.name
                )));
            }
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(a panic whose payload is not text)".to_owned());
                return Err((
                    EXIT_PANICKED,
                    format!("the Rust function `{}` panicked: {message}", self.name),
                ));
            }
        };
        if let Some(extra) = outputs
            .names()
            .find(|n| !self.outputs.iter().any(|o| !o.is_file && o.name() == *n))
        {
            return Err(failed(format!(
                "the Rust function `{}` returned an output `{extra}` it does not declare",
                self.name
            )));
        }
        for output in &self.outputs {
            let name = output.name();
            if output.is_file {
                let path = invocation.args.output_path_buf(name);
                if let Some(path) = path.filter(|p| !p.exists()) {
                    return Err(failed(format!(
                        "the Rust function `{}` did not write its file output `{name}` (to {})",
                        self.name,
                        path.display()
                    )));
                }
                continue;
            }
            let Some(text) = outputs.text(name) else {
                return Err(failed(format!(
                    "the Rust function `{}` returned no value for its output `{name}`",
                    self.name
                )));
            };
            match invocation.value_paths.get(name) {
                Some(path) => std::fs::write(path, text).map_err(|e| {
                    failed(format!(
                        "cannot write the output `{name}` to {}: {e}",
                        path.display()
                    ))
                })?,
                None => writeln!(out, "{name}: {text}")
                    .map_err(|e| failed(format!("cannot print the output `{name}`: {e}")))?,
            }
        }
        Ok(())
    }

    /// `--help`: the arguments, as the compiled workflow passes them.
    pub fn usage(&self, program: &str) -> String {
        let mut text = format!(
            "Run the Rust function `{}` as a workflow task does.\n",
            self.name
        );
        if let Some(d) = self.description.as_deref().and_then(|d| d.lines().next()) {
            text.push_str(&format!("{d}\n"));
        }
        let mut line = format!("\nUsage: {program} component {}", self.name);
        let mut rows: Vec<(String, String)> = Vec::new();
        for input in &self.inputs {
            let arg = format!("--{} {}", input.name(), placeholder(input));
            line.push(' ');
            line.push_str(&if input.is_required() {
                arg.clone()
            } else {
                format!("[{arg}]")
            });
            let note = match (&input.spec.default, input.spec.optional) {
                (Some(d), _) => format!("default: {d}"),
                (None, true) => "optional".to_owned(),
                (None, false) => "required".to_owned(),
            };
            rows.push((arg, note));
        }
        let mut output_rows: Vec<(String, String)> = Vec::new();
        for output in &self.outputs {
            let arg = format!("--output-{} <PATH>", output.name());
            line.push(' ');
            line.push_str(&if output.is_file {
                arg.clone()
            } else {
                format!("[{arg}]")
            });
            let what = match (&output.spec.type_spec, output.is_file) {
                (Some(t), true) => format!("file ({t}) the function writes"),
                (None, true) => "file the function writes".to_owned(),
                (Some(t), false) => format!("{t} value"),
                (None, false) => "value".to_owned(),
            };
            output_rows.push((arg, what));
        }
        text.push_str(&line);
        text.push('\n');
        let width = rows
            .iter()
            .chain(&output_rows)
            .map(|(a, _)| a.len())
            .max()
            .unwrap_or(0);
        for (title, rows) in [
            ("Inputs", &rows),
            (
                "Outputs (a value output given no path is printed)",
                &output_rows,
            ),
        ] {
            if rows.is_empty() {
                continue;
            }
            text.push_str(&format!("\n{title}:\n"));
            for (arg, note) in rows {
                text.push_str(&format!("  {arg:<width$}  {note}\n"));
            }
        }
        text.push_str(&format!(
            "\nExit status: 0 done, {EXIT_FAILED} the function failed, {EXIT_BAD_INVOCATION} \
             bad arguments, {EXIT_PANICKED} the function panicked.\n"
        ));
        text
    }
}

/// `<Integer>`, `<PATH>`, ...: what goes after an input's flag.
fn placeholder(input: &FunctionInput) -> String {
    if input.is_file() {
        return "<PATH>".to_owned();
    }
    match &input.spec.type_spec {
        Some(t) => format!("<{t}>"),
        None => "<VALUE>".to_owned(),
    }
}

fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the directory {}: {e}", dir.display())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::{FunctionInput, FunctionOutput};

    fn echo(args: &Args) -> Result<Outputs, String> {
        let n: i64 = args.value("n")?;
        if n == 13 {
            panic!("unlucky");
        }
        Outputs::new().with("output", &n)
    }

    fn call(argv: &[&str]) -> (u8, String, String) {
        let f = FunctionComponent::new("echo", echo)
            .input(FunctionInput::value::<i64>("n"))
            .output(FunctionOutput::value::<i64>("output"));
        let argv: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = f.invoke("bin", &argv, &mut out, &mut err);
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn flags_take_the_next_argument_or_an_equals_sign() {
        assert_eq!(call(&["--n", "-4"]).1, "output: -4\n");
        assert_eq!(call(&["--n=5"]).1, "output: 5\n");
    }

    #[test]
    fn a_bad_command_line_is_exit_2_and_names_the_argument() {
        for (argv, message) in [
            (&["--n", "1", "--n", "2"][..], "`--n` is given twice"),
            (&["3"][..], "unexpected argument \"3\""),
            (&["--n"][..], "`--n` needs a value"),
            (&["--n", "x"][..], "invalid value \"x\" for `--n`"),
        ] {
            let (code, _, err) = call(argv);
            assert_eq!(code, EXIT_BAD_INVOCATION, "{argv:?}");
            assert!(err.starts_with(&format!("error: {message}")), "{err}");
        }
    }

    #[test]
    fn a_panic_is_caught_and_reported() {
        let (code, _, err) = call(&["--n", "13"]);
        assert_eq!(code, EXIT_PANICKED);
        assert_eq!(err, "error: the Rust function `echo` panicked: unlucky\n");
    }

    #[test]
    fn help_lists_the_arguments() {
        let (code, out, _) = call(&["--help"]);
        assert_eq!(code, 0);
        assert!(out.contains("Usage: bin component echo --n <Integer> [--output-output <PATH>]"));
    }
}
