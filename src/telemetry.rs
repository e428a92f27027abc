//! Logging: `tracing` to stderr, as text for people or JSON for log collectors (`APP_LOG_FORMAT`).
//! The level comes from `RUST_LOG` (default `info`). Secrets never reach a log line: they are held in
//! `SecretString`, whose `Debug` is redacted, and request parameters are logged only after redaction.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

const DEFAULT_FILTER: &str = "info,sqlx=warn,actix_server=warn";

/// Installs the global subscriber once; later calls (tests starting several apps) are no-ops.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour());
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// For the demo: warnings only (unless `RUST_LOG` says otherwise), so its URL stands out.
pub fn init_quiet() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour()).try_init();
}

/// Colours only for a person at a terminal: in a file, a pipe or a log collector the escape codes are noise.
fn colour() -> bool {
    std::io::stderr().is_terminal()
}
