//! `b24-calllist demo`: the sandbox portal and the app together on loopback, wired and installed through
//! the real install flow, so anyone can see the app work without a Bitrix24 account. It prints one URL: the
//! portal page with the app in its iframe and a switch between the administrator and managers with
//! different permissions. Ctrl-C stops both; every run starts fresh (its database lives in a temporary
//! folder unless `--data` names a file), so a second run needs no cleanup.
//!
//! This is the one place where the app and the sandbox meet, and only as two servers on loopback: neither
//! calls the other's code.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use anyhow::Context;
use secrecy::SecretString;

use crate::keys::{Keyring, SecretKey};
use crate::sandbox::{LimitsConfig, ListSeed, Sandbox, SandboxConfig, SeedConfig};
use crate::settings::{DatabaseUrl, LocalApp, Settings};
use crate::startup::Application;
use crate::store::Store;

#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// Where the app listens (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub app_listen: SocketAddr,
    /// Where the sandbox portal listens (its page, REST and /oauth/authorize/).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub portal_listen: SocketAddr,
    /// Where the sandbox's OAuth server listens.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub oauth_listen: SocketAddr,
    /// Keep the app's SQLite database in this file (default: a temporary folder, removed on exit).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// The language the portal page opens in: `en` or `ru`.
    #[arg(long, value_name = "LANG", default_value = "en")]
    pub lang: String,
    /// Seed of the generated portal data (names, phones, lists).
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub seed: u64,
    /// Turn off Bitrix24's request limits in the sandbox (on by default, as on a real portal).
    #[arg(long)]
    pub no_limits: bool,
}

/// The user the printed URL opens the portal as: a manager who may read contacts and companies.
const DEMO_USER: u64 = 2;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let listener =
        TcpListener::bind(args.app_listen).with_context(|| format!("cannot listen on {}", args.app_listen))?;
    let app_url: url::Url = format!("http://{}/", listener.local_addr()?).parse()?;

    let sandbox = Sandbox::start(SandboxConfig {
        listen: args.portal_listen,
        oauth_listen: args.oauth_listen,
        app_url: Some(app_url.clone()),
        app_installed: false,
        limits: if args.no_limits { LimitsConfig::off() } else { LimitsConfig::default() },
        seed: SeedConfig {
            seed: args.seed,
            contacts: 1_200,
            companies: 120,
            lists: vec![
                ListSeed { entity_type: crate::sandbox::EntityKind::Contact, members: 1_000 },
                ListSeed { entity_type: crate::sandbox::EntityKind::Contact, members: 40 },
                ListSeed { entity_type: crate::sandbox::EntityKind::Company, members: 25 },
            ],
            ..SeedConfig::default()
        },
        lang: if args.lang == "ru" { "ru".into() } else { "en".into() },
        ..SandboxConfig::default()
    })
    .await
    .context("cannot start the sandbox portal")?;

    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let db_path = args.data.clone().unwrap_or_else(|| temp.path().join("demo.db"));
    let keys = Keyring::new(SecretKey::generate(), vec![]);
    let settings = Settings::local(LocalApp {
        database: DatabaseUrl::Sqlite { path: db_path.clone() },
        listen: listener.local_addr()?,
        client_id: sandbox.client_id().to_owned(),
        client_secret: SecretString::from(sandbox.client_secret().to_owned()),
        oauth_server: sandbox.oauth_url(),
        keys: keys.clone(),
    });
    let store = Store::open(&settings.common.database, &keys).await.context("cannot open the demo database")?;
    let app = Application::build_with_listener(settings, store, listener)?;
    let server = app.handle();
    let serving = tokio::spawn(app.run_until_stopped());

    // The real install flow: the portal posts ONAPPINSTALL, the app checks it with the OAuth server.
    let status = sandbox.install_app().await.context("the portal could not reach the app")?;
    anyhow::ensure!(status == 200, "the app refused the install (HTTP {status})");

    let lang = if args.lang == "ru" { "ru" } else { "en" };
    println!("{}?user={DEMO_USER}&lang={lang}", sandbox.portal_url());
    eprintln!(
        "b24-calllist demo: the portal at {}, the app at {app_url}. Switch users on the portal page. Ctrl-C stops both.",
        sandbox.portal_url()
    );
    eprintln!("{}", inspect_hint(&db_path, args.data.is_none()));

    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate() => {}
        r = serving => { r.context("the app stopped")??; }
    }
    eprintln!("stopping");
    server.stop(true).await;
    sandbox.stop().await;
    drop(temp);
    Ok(())
}

/// Where the app's data is, and the operator command that shows it: the demo is also where an operator first
/// meets `portals`. No key is printed: `portals list` shows the portals without one.
fn inspect_hint(db_path: &std::path::Path, temporary: bool) -> String {
    let path = std::path::absolute(db_path).unwrap_or_else(|_| db_path.to_owned());
    let lifetime = if temporary { " (removed when the demo stops)" } else { "" };
    let assignment = shell_word(&format!("DATABASE_URL=sqlite://{}", path.display()));
    format!(
        "The app's database: {}{lifetime}. To look inside while the demo runs:\n  {assignment} b24-calllist portals list",
        path.display()
    )
}

/// `word` as one shell word: unchanged when it holds nothing the shell would split or expand, else quoted.
fn shell_word(word: &str) -> String {
    let plain = word.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:+,@%".contains(c));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_the_shell_would_split_is_quoted() {
        assert_eq!(shell_word("DATABASE_URL=sqlite:///tmp/a/demo.db"), "DATABASE_URL=sqlite:///tmp/a/demo.db");
        assert_eq!(shell_word("DATABASE_URL=sqlite:///my dir/it's.db"), r"'DATABASE_URL=sqlite:///my dir/it'\''s.db'");
    }
}
