//! `kfp`: the command line. Everything lives in [`kfp_apiserver::cli`] so that it can be
//! tested and reused; this file only hands over the exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    kfp_apiserver::cli::main()
}
