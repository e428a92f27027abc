//! The `b24-calllist` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    b24_calllist::cli::main()
}
