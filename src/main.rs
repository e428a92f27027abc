//! The `b24-calllist` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

/// jemalloc with its background thread returns freed memory to the system within seconds, so a burst of
/// connections (slow clients, a crowd of managers) leaves no lasting footprint; glibc's allocator keeps it.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    b24_calllist::cli::main()
}
