//! Every sample behind the standard pipeline-binary CLI (`list`, `compile`), the shape
//! `kfp::main!` gives a user's own binary: `dsl-compile --package samples --bin pipelines
//! --pipeline hello-world --output hello.yaml` drives it.

use std::process::ExitCode;

fn main() -> ExitCode {
    samples::all()
        .into_iter()
        .fold(kfp::cli::Program::new(), |program, (name, build)| {
            program.pipeline(name, build)
        })
        .run()
}
