//! The command line: `serve`, `migrate` and `portals` (the app and its operator tools, every setting listed
//! by `--help`), `demo` (the app and a sandbox portal together) and `sandbox` (the portal alone).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::domain::MemberId;
use crate::settings::{SettingErrors, SettingsArgs};
use crate::startup::Application;
use crate::store::{Database, Store};
use crate::telemetry;

#[derive(Parser, Debug)]
#[command(
    name = "b24-calllist",
    version,
    about = "Bitrix24 call-list app: the server, its database and its operator tools",
    after_help = "Settings are read from the environment and from a .env file in the working directory."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the app's HTTP server (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// List, show or forget installed portals.
    Portals {
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
    /// One line per installed portal.
    List,
    /// A portal's details and its recent history.
    Show { member_id: String },
    /// Delete a portal, its tokens and its history.
    Forget { member_id: String },
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
    let cli = Cli::parse();
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
        Command::Serve => serve(&cli.settings).await,
        Command::Migrate => {
            let common = cli.settings.common()?;
            telemetry::init(common.log_format);
            let db = Database::connect(&common.database).await.map_err(anyhow::Error::from)?;
            db.migrate().await.map_err(anyhow::Error::from)?;
            println!("migrations applied");
            Ok(())
        }
        Command::Portals { action } => portals(&cli.settings, action).await,
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
    let app = Application::build(settings).await.map_err(anyhow::Error::from)?;
    tracing::info!(%listen, port = app.port(), "serving");
    app.run_until_stopped().await.map_err(anyhow::Error::from)?;
    tracing::info!("stopped");
    Ok(())
}

async fn portals(args: &SettingsArgs, action: PortalsCommand) -> Result<(), Failure> {
    let common = args.common()?;
    let keys = args.keys()?;
    telemetry::init(common.log_format);
    let store = Store::open(&common.database, &keys).await.map_err(anyhow::Error::from)?;
    let parse = |raw: &str| MemberId::parse(raw).map_err(|e| Failure::Input(e.to_string()));
    match action {
        PortalsCommand::List => {
            let portals = store.portals().await.map_err(anyhow::Error::from)?;
            if portals.is_empty() {
                println!("no portals installed");
                return Ok(());
            }
            println!("{:<34} {:<24} {:<22} {:<7} UPDATED", "MEMBER_ID", "DOMAIN", "STATUS", "TOKENS");
            for p in portals {
                println!(
                    "{:<34} {:<24} {:<22} {:<7} {}",
                    p.member_id,
                    p.domain,
                    p.status,
                    if p.has_tokens { "yes" } else { "no" },
                    format_time(p.updated_at)
                );
            }
            Ok(())
        }
        PortalsCommand::Show { member_id } => {
            let id = parse(&member_id)?;
            let Some(p) = store.portal(&id).await.map_err(anyhow::Error::from)? else {
                return Err(Failure::Input(format!("no portal with member_id {id}")));
            };
            println!("member_id:       {}", p.member_id);
            println!("domain:          {}", p.domain);
            println!("client endpoint: {}", p.client_endpoint);
            println!("server endpoint: {}", p.server_endpoint);
            println!("scope:           {}", p.scope);
            println!("status:          {}{}", p.status, reason_suffix(&p.status_reason));
            let tokens = match store.tokens(&id).await {
                Ok(Some(t)) if t.sealed_with_former_key => "stored, sealed with a former key".to_owned(),
                Ok(Some(_)) => "stored".to_owned(),
                Ok(None) => "none".to_owned(),
                Err(e) => format!("unreadable: {e}"),
            };
            println!("tokens:          {tokens}");
            if let Some(at) = p.expires_at {
                println!("access expires:  {}", format_time(at));
            }
            println!("installed:       {}", format_time(p.created_at));
            println!("updated:         {}", format_time(p.updated_at));
            let history = store.audit(&id, None, 20).await.map_err(anyhow::Error::from)?;
            println!("\nrecent history ({}):", history.len());
            for r in history {
                let e = &r.entry;
                println!(
                    "  {}  {:<18} {:<8} {}",
                    format_time(r.at),
                    e.action.code(),
                    e.outcome.code(),
                    e.details.to_json()
                );
            }
            Ok(())
        }
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

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() { String::new() } else { format!(" ({reason})") }
}

fn format_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}
