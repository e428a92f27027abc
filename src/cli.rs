//! The command line: `serve`, `migrate` and `portals` (the app and its operator tools, each taking the
//! settings it reads, all of them listed by the top-level `--help`), `demo` (the app and a sandbox portal
//! together) and `sandbox` (the portal alone), which take none.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::domain::MemberId;
use crate::keys::{Keyring, SecretKey};
use crate::settings::{CommonArgs, KeyArgs, SettingErrors, SettingsArgs};
use crate::startup::Application;
use crate::store::{Database, DatabaseUrl, Portal, Store, StoreError};
use crate::telemetry;

#[derive(Parser, Debug)]
#[command(
    name = "b24-calllist",
    version,
    about = "Bitrix24 call-list app: the server, its database and its operator tools"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the app's HTTP server (applies pending migrations first).
    Serve(Box<SettingsArgs>),
    /// Apply pending database migrations and exit (creates a SQLite database that does not exist yet).
    Migrate(CommonArgs),
    /// List, show or forget installed portals.
    Portals {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(subcommand)]
        action: PortalsCommand,
    },
    /// Try the app without a Bitrix24 account: the sandbox portal and the app on loopback, installed, with
    /// one URL to open.
    Demo(crate::demo::DemoArgs),
    /// Run the Bitrix24 sandbox: an emulated portal and OAuth server (needs none of the app's settings).
    Sandbox(Box<crate::sandbox::cli::SandboxArgs>),
}

#[derive(Subcommand, Debug)]
pub enum PortalsCommand {
    /// One line per installed portal; the state of its tokens when APP_SECRET_KEY is given.
    List,
    /// A portal's details and its recent history.
    Show { member_id: String },
    /// Delete a portal, its tokens and its history.
    Forget { member_id: String },
}

/// The settings, as the top-level `--help` lists them: each command's own `--help` shows only its part, so
/// this is the one place an operator sees them all.
fn settings_help() -> String {
    let serve = SettingsArgs::augment_args(clap::Command::new("serve"));
    let rows: Vec<(String, String)> = serve
        .get_arguments()
        .filter_map(|arg| {
            let var = arg.get_env()?.to_string_lossy().into_owned();
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let default = arg.get_default_values().first().map(|d| format!(" [default: {}]", d.to_string_lossy()));
            Some((var, format!("{help}{}", default.unwrap_or_default())))
        })
        .chain([("RUST_LOG".to_owned(), "Log filter, in `tracing` syntax [default: info]".to_owned())])
        .collect();
    let width = rows.iter().map(|(var, _)| var.len()).max().unwrap_or(0);
    let mut text = String::from(
        "Settings come from the environment and from a .env file in the working directory. `serve` reads them \
         all; `migrate` reads DATABASE_URL and APP_LOG_FORMAT; `portals` reads those and the keys; `demo` and \
         `sandbox` need none.\n",
    );
    for (var, help) in rows {
        text.push_str(&format!("\n  {var:<width$}  {help}"));
    }
    text
}

/// Exit codes: 0 done, 1 failed while running, 2 bad settings or arguments.
const EXIT_FAILED: u8 = 1;
const EXIT_BAD_SETTINGS: u8 = 2;

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Settings(#[from] SettingErrors),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Run(#[from] anyhow::Error),
}

pub fn main() -> ExitCode {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("error: .env cannot be read: {e}");
        return ExitCode::from(EXIT_BAD_SETTINGS);
    }
    let matches = Cli::command().after_help(settings_help()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Settings(errors)) => {
            for e in errors.0 {
                eprintln!("error: {e}");
            }
            ExitCode::from(EXIT_BAD_SETTINGS)
        }
        Err(Failure::Input(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_BAD_SETTINGS)
        }
        Err(Failure::Run(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve(args) => serve(&args).await,
        Command::Migrate(args) => migrate(&args).await,
        Command::Portals { common, keys, action } => portals(&common, &keys, action).await,
        Command::Demo(args) => {
            telemetry::init_quiet();
            crate::demo::run(args).await.map_err(Failure::Run)
        }
        Command::Sandbox(args) => crate::sandbox::cli::run(*args).await.map_err(Failure::Run),
    }
}

async fn serve(args: &SettingsArgs) -> Result<(), Failure> {
    let settings = args.for_serve()?;
    telemetry::init(settings.common.log_format);
    let listen = settings.listen;
    let created = new_sqlite_file(&settings.common.database);
    let app = Application::build(settings).await.map_err(anyhow::Error::from)?;
    if let Some(path) = created {
        tracing::info!(path = %path.display(), "created a new SQLite database");
    }
    tracing::info!(%listen, port = app.port(), "serving");
    app.run_until_stopped().await.map_err(anyhow::Error::from)?;
    tracing::info!("stopped");
    Ok(())
}

/// Creating the database is part of `migrate`'s job, but a mistyped path should be seen, so it says so.
async fn migrate(args: &CommonArgs) -> Result<(), Failure> {
    let common = args.common()?;
    telemetry::init(common.log_format);
    let created = new_sqlite_file(&common.database);
    let db = Database::connect(&common.database).await.map_err(anyhow::Error::from)?;
    db.migrate().await.map_err(anyhow::Error::from)?;
    if let Some(path) = created {
        println!("created a new SQLite database at {}", path.display());
    }
    println!("migrations applied");
    Ok(())
}

/// The absolute path of a SQLite file that opening `url` would create, if it does not exist yet.
fn new_sqlite_file(url: &DatabaseUrl) -> Option<PathBuf> {
    match url {
        DatabaseUrl::Sqlite { path } if !path.exists() => Some(absolute(path)),
        _ => None,
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The operator tools read an existing database only. Opening a SQLite URL creates the file, so a mistyped
/// `DATABASE_URL` would leave an empty database behind and report "no portals installed" as if that were true.
fn existing_database(url: &DatabaseUrl) -> Result<(), Failure> {
    match url {
        DatabaseUrl::Sqlite { path } if !path.is_file() => Err(Failure::Input(format!(
            "there is no SQLite database at {} (DATABASE_URL): check the path; `portals` never creates a \
             database, `b24-calllist migrate` or `serve` does",
            absolute(path).display()
        ))),
        _ => Ok(()),
    }
}

/// What is known of a portal's stored tokens.
enum TokenState {
    /// No APP_SECRET_KEY was given, so nothing was opened.
    NotChecked,
    None,
    Stored,
    FormerKey,
    /// They do not open with the keys given; why, in the store's words.
    Unreadable(String),
}

impl TokenState {
    /// Opens the portal's tokens, so that `list` and `show` say the same thing.
    async fn of(store: &Store, portal: &Portal, keyed: bool) -> Result<TokenState, Failure> {
        if !portal.has_tokens {
            return Ok(TokenState::None);
        }
        if !keyed {
            return Ok(TokenState::NotChecked);
        }
        match store.tokens(&portal.member_id).await {
            Ok(Some(t)) if t.sealed_with_former_key => Ok(TokenState::FormerKey),
            Ok(Some(_)) => Ok(TokenState::Stored),
            Ok(None) => Ok(TokenState::None),
            Err(StoreError::Seal { field, source, .. }) => {
                Ok(TokenState::Unreadable(format!("the {} {source}", field.name())))
            }
            Err(e) => Err(anyhow::Error::from(e).into()),
        }
    }

    /// For a column of `portals list`.
    fn short(&self) -> &'static str {
        match self {
            TokenState::NotChecked => "not checked",
            TokenState::None => "none",
            TokenState::Stored => "stored",
            TokenState::FormerKey => "stored, former key",
            TokenState::Unreadable(_) => "unreadable with this key",
        }
    }

    /// For `portals show`.
    fn long(&self) -> String {
        match self {
            TokenState::NotChecked => NOT_CHECKED.to_owned(),
            TokenState::FormerKey => "stored, sealed with a former key".to_owned(),
            TokenState::Unreadable(why) => format!("unreadable with this key: {why}"),
            other => other.short().to_owned(),
        }
    }
}

const NOT_CHECKED: &str = "not checked (no APP_SECRET_KEY)";

async fn portals(common: &CommonArgs, keys: &KeyArgs, action: PortalsCommand) -> Result<(), Failure> {
    let common = common.common()?;
    let keys = keys.keys_if_given()?;
    telemetry::init(common.log_format);
    existing_database(&common.database)?;
    let keyed = keys.is_some();
    // Listing and forgetting open no sealed value. Without a key the store gets a throwaway one, and no
    // token is opened with it (their state is reported as not checked).
    let keys = keys.unwrap_or_else(|| Keyring::new(SecretKey::generate(), vec![]));
    let store = Store::open(&common.database, &keys).await.map_err(anyhow::Error::from)?;
    let parse = |raw: &str| MemberId::parse(raw).map_err(|e| Failure::Input(e.to_string()));
    match action {
        PortalsCommand::List => list(&store, keyed).await,
        PortalsCommand::Show { member_id } => show(&store, &parse(&member_id)?, keyed).await,
        PortalsCommand::Forget { member_id } => {
            let id = parse(&member_id)?;
            if store.forget(&id).await.map_err(anyhow::Error::from)? {
                println!("forgot portal {id}");
                Ok(())
            } else {
                Err(Failure::Input(format!("no portal with member_id {id}")))
            }
        }
    }
}

async fn list(store: &Store, keyed: bool) -> Result<(), Failure> {
    let portals = store.portals().await.map_err(anyhow::Error::from)?;
    if portals.is_empty() {
        println!("no portals installed");
        return Ok(());
    }
    let mut header = vec!["MEMBER_ID", "DOMAIN", "STATUS"];
    if keyed {
        header.push("TOKENS");
    }
    header.push("UPDATED");
    let mut rows = Vec::with_capacity(portals.len());
    let mut unreadable = false;
    for p in &portals {
        let mut row = vec![p.member_id.to_string(), p.domain.clone(), p.status.to_string()];
        if keyed {
            let state = TokenState::of(store, p, keyed).await?;
            unreadable |= matches!(state, TokenState::Unreadable(_));
            row.push(state.short().to_owned());
        }
        row.push(format_time(p.updated_at));
        rows.push(row);
    }
    print!("{}", table(&header, &rows));
    if !keyed {
        println!("\ntokens: {NOT_CHECKED}");
    }
    if unreadable {
        println!(
            "\nTokens marked unreadable do not open with APP_SECRET_KEY or APP_PREVIOUS_SECRET_KEYS; \
             `portals show MEMBER_ID` says which key sealed them."
        );
    }
    Ok(())
}

async fn show(store: &Store, id: &MemberId, keyed: bool) -> Result<(), Failure> {
    let Some(p) = store.portal(id).await.map_err(anyhow::Error::from)? else {
        return Err(Failure::Input(format!("no portal with member_id {id}")));
    };
    println!("member_id:       {}", p.member_id);
    println!("domain:          {}", p.domain);
    println!("client endpoint: {}", p.client_endpoint);
    println!("server endpoint: {}", p.server_endpoint);
    println!("scope:           {}", p.scope);
    println!("status:          {}{}", p.status, reason_suffix(&p.status_reason));
    println!("tokens:          {}", TokenState::of(store, &p, keyed).await?.long());
    if let Some(at) = p.expires_at {
        println!("access expires:  {}", format_time(at));
    }
    println!("installed:       {}", format_time(p.created_at));
    println!("updated:         {}", format_time(p.updated_at));
    let history = store.audit(id, None, 20).await.map_err(anyhow::Error::from)?;
    println!("\nrecent history ({}):", history.len());
    let rows: Vec<Vec<String>> = history
        .iter()
        .map(|r| {
            let e = &r.entry;
            vec![format_time(r.at), e.action.code().to_owned(), e.outcome.code().to_owned(), e.details.to_json()]
        })
        .collect();
    for line in table(&[], &rows).lines() {
        println!("  {line}");
    }
    Ok(())
}

/// Rows under a header (none when empty), each column as wide as its widest cell, two spaces apart; the
/// last column is not padded, so no line ends in spaces.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let all: Vec<&Vec<String>> = std::iter::once(&header).filter(|h| !h.is_empty()).chain(rows).collect();
    let columns = all.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| all.iter().filter_map(|r| r.get(c)).map(|v| v.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in all {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, v)| if c + 1 == row.len() { v.clone() } else { format!("{v:<w$}", w = widths[c]) })
            .collect();
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() { String::new() } else { format!(" ({reason})") }
}

fn format_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}
