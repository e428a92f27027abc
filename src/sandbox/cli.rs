//! `b24-calllist sandbox`: the emulated portal and OAuth server alone. It needs none of the app's settings.
//!
//! On start it prints where everything is and a fresh token pair per seeded user, so a person with curl or
//! another program can use it at once; with `--json` that is one JSON object on the first line.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use serde_json::json;
use url::Url;

use super::config::{FaultKind, FaultsConfig, Latency, LimitsConfig, ListSeed, SandboxConfig};
use super::model::EntityKind;
use super::{Sandbox, SandboxError};

#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// The portal's address (REST, /oauth/authorize/, the portal page, /_sandbox/) [default: 127.0.0.1:8024].
    /// Port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// The OAuth server's address (/oauth/token/ and its /rest/).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8025")]
    pub oauth_listen: String,

    /// Where the app under test lives: handler {URL}/app, install page {URL}/install, events {URL}/events,
    /// OAuth redirect {URL}/oauth/callback.
    #[arg(long, value_name = "URL")]
    pub app_url: Option<Url>,

    /// The registered app's client id (default: B24_CLIENT_ID if set, else derived from the seed).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// The registered app's client secret (default: B24_CLIENT_SECRET if set, else derived from the seed).
    #[arg(long, value_name = "SECRET")]
    pub client_secret: Option<String>,

    /// Start with the app not installed: an administrator opening it gets the install page first.
    #[arg(long)]
    pub not_installed: bool,

    /// Seed of the generated data.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub seed: u64,

    /// Contacts to generate.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub contacts: usize,

    /// Companies to generate.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub companies: usize,

    /// Active web forms to generate.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub webforms: usize,

    /// Inactive web forms to generate.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub inactive_webforms: usize,

    /// Call lists to seed, as TYPE:MEMBERS (contact:25, company:10); repeat for several. Default:
    /// contact:25 company:10 contact:1000 contact:0.
    #[arg(long = "list", value_name = "TYPE:N")]
    pub lists: Vec<String>,

    /// Also seed a contact list of 10,000 members.
    #[arg(long)]
    pub big_list: bool,

    /// Limits: `on` (50 requests, 2 a second), `enterprise` (250, 5 a second) or `off`.
    #[arg(long, value_name = "MODE", default_value = "on")]
    pub limits: String,

    /// Override the bucket's burst.
    #[arg(long, value_name = "N")]
    pub burst: Option<f64>,

    /// Override the bucket's drain rate (requests per second).
    #[arg(long, value_name = "N")]
    pub drain: Option<f64>,

    /// The per-method operating budget in seconds per ten minutes.
    #[arg(long, value_name = "SECS")]
    pub operating_limit: Option<f64>,

    /// Added latency per REST call: MS, or MIN-MAX for a random delay.
    #[arg(long, value_name = "MS[-MS]")]
    pub latency_ms: Option<String>,

    /// Fraction of REST calls that fail (0.0–1.0).
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub fault_rate: f64,

    /// Kinds of injected failure, comma-separated: query_limit, operation_limit, server_error, expired_token,
    /// drop, and the system errors (authorization_error, user_access_error, application_not_found,
    /// portal_deleted, overload_limit, insufficient_scope, invalid_scope, payment_required, wrong_client,
    /// method_confirm_waiting, method_confirm_denied, access_denied, invalid_credentials).
    #[arg(long, value_name = "KINDS", default_value = "query_limit,server_error")]
    pub fault_kinds: String,

    /// The methods the random faults apply to, comma-separated (their calls inside a batch too); every
    /// request when empty.
    #[arg(long, value_name = "METHODS", default_value = "")]
    pub fault_methods: String,

    /// Access-token lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub access_ttl: u64,

    /// The portal's language (ru or en): `app.info`'s LANGUAGE_ID, the names of the call statuses, the
    /// portal page's default.
    #[arg(long, visible_alias = "language", value_name = "LANG", default_value = "ru")]
    pub lang: String,

    /// How many portals to host: the first at the --listen address, the others under /portal/{i}/ on it,
    /// each with its own member_id, tokens, data, limits and call log.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub portals: usize,

    /// Contacts of each portal after the first.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub portal_contacts: usize,

    /// Companies of each portal after the first.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub portal_companies: usize,

    /// Print the start-up facts as one JSON object on the first line.
    #[arg(long)]
    pub json: bool,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8024";

/// Whether a flag was typed after `sandbox`. The app's global `--listen` (and `APP_LISTEN`) share the name and
/// would otherwise fill in the portal's address; the sandbox takes it only when given to it explicitly.
fn typed(flag: &str) -> bool {
    let prefix = format!("{flag}=");
    std::env::args().skip_while(|a| a != "sandbox").any(|a| a == flag || a.starts_with(&prefix))
}

fn addr(s: &str, flag: &str) -> anyhow::Result<SocketAddr> {
    s.parse().with_context(|| format!("{flag} {s}: expected HOST:PORT, like 127.0.0.1:8024"))
}

fn kind_of(s: &str) -> anyhow::Result<FaultKind> {
    serde_json::from_value(json!(s.trim())).map_err(|_| anyhow::anyhow!("--fault-kinds: unknown kind {}", s.trim()))
}

impl SandboxArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> anyhow::Result<SandboxConfig> {
        let mut c = SandboxConfig {
            listen: match &self.listen {
                Some(l) if typed("--listen") => addr(l, "--listen")?,
                _ => addr(DEFAULT_LISTEN, "--listen")?,
            },
            oauth_listen: addr(&self.oauth_listen, "--oauth-listen")?,
            app_url: self.app_url.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            app_installed: !self.not_installed,
            access_ttl_secs: self.access_ttl,
            lang: self.lang.clone(),
            ..SandboxConfig::default()
        };
        if self.portals == 0 {
            bail!("--portals 0: a sandbox hosts at least one portal");
        }
        c.portals = self.portals;
        c.portal_seed.seed = self.seed;
        c.portal_seed.contacts = self.portal_contacts;
        c.portal_seed.companies = self.portal_companies;
        c.seed.seed = self.seed;
        c.seed.contacts = self.contacts;
        c.seed.companies = self.companies;
        c.seed.active_webforms = self.webforms;
        c.seed.inactive_webforms = self.inactive_webforms;
        if !self.lists.is_empty() {
            c.seed.lists = self
                .lists
                .iter()
                .map(|l| {
                    let (t, n) = l.split_once(':').with_context(|| format!("--list {l}: expected TYPE:MEMBERS"))?;
                    let entity_type = match t.to_ascii_lowercase().as_str() {
                        "contact" => EntityKind::Contact,
                        "company" => EntityKind::Company,
                        _ => bail!("--list {l}: the type is contact or company"),
                    };
                    let members = n.parse().with_context(|| format!("--list {l}: members must be a number"))?;
                    Ok(ListSeed { entity_type, members })
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if self.big_list {
            c.seed.lists.push(ListSeed { entity_type: EntityKind::Contact, members: 10_000 });
        }
        c.limits = match self.limits.as_str() {
            "on" => LimitsConfig::default(),
            "enterprise" => LimitsConfig::enterprise(),
            "off" => LimitsConfig::off(),
            other => bail!("--limits {other}: expected on, enterprise or off"),
        };
        if let Some(b) = self.burst {
            c.limits.burst = b;
        }
        if let Some(d) = self.drain {
            c.limits.drain_per_sec = d;
        }
        if let Some(o) = self.operating_limit {
            c.limits.operating_limit_secs = o;
        }
        let latency = match self.latency_ms.as_deref() {
            None => Latency::None,
            Some(s) => match s.split_once('-') {
                Some((a, b)) => Latency::Random {
                    min_ms: a.trim().parse().context("--latency-ms: expected MS or MIN-MAX")?,
                    max_ms: b.trim().parse().context("--latency-ms: expected MS or MIN-MAX")?,
                },
                None => Latency::Fixed { ms: s.trim().parse().context("--latency-ms: expected MS or MIN-MAX")? },
            },
        };
        if !(0.0..=1.0).contains(&self.fault_rate) {
            bail!("--fault-rate {}: expected a fraction between 0 and 1", self.fault_rate);
        }
        let kinds =
            self.fault_kinds.split(',').filter(|s| !s.trim().is_empty()).map(kind_of).collect::<anyhow::Result<_>>()?;
        let methods = self.fault_methods.split(',').map(|m| m.trim().to_ascii_lowercase()).filter(|m| !m.is_empty());
        c.faults = FaultsConfig { latency, rate: self.fault_rate, kinds, seed: self.seed, methods: methods.collect() };
        Ok(c)
    }
}

/// The start-up facts: addresses, credentials and a token pair per user, of the first portal at the top level
/// and of every portal in `portals`.
pub fn startup_facts(sb: &Sandbox) -> Result<serde_json::Value, SandboxError> {
    let mut portals = Vec::new();
    for p in sb.portals() {
        let mut facts = super::control::portal_facts(&p);
        facts["users"] = serde_json::Value::Array(user_tokens(&p)?);
        portals.push(facts);
    }
    let users = portals[0]["users"].clone();
    Ok(json!({
        "portal_url": sb.portal_url().as_str(),
        "rest_url": sb.rest_url().as_str(),
        "oauth_url": sb.oauth_url().as_str(),
        "server_endpoint": sb.server_endpoint().as_str(),
        "domain": sb.domain(),
        "member_id": sb.member_id(),
        "client_id": sb.client_id(),
        "client_secret": sb.client_secret(),
        "application_token": sb.application_token(),
        "app_url": sb.info().config.app_url.as_ref().map(|u| u.as_str()),
        "control_url": format!("{}_sandbox/", sb.portal_url()),
        "users": users,
        "portals": portals,
    }))
}

/// Each user of a portal with what they may read and a fresh token pair.
fn user_tokens(sb: &Sandbox) -> Result<Vec<serde_json::Value>, SandboxError> {
    let mut users = Vec::new();
    for u in sb.users() {
        let t = sb.issue_tokens(u.id)?;
        users.push(json!({
            "id": u.id,
            "name": format!("{} {}", u.name, u.last_name),
            "admin": u.permissions.admin,
            "reads": u.permissions.summary(),
            "permissions": u.permissions,
            "access_token": t.access_token,
            "refresh_token": t.refresh_token,
        }));
    }
    Ok(users)
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let sb = Sandbox::start(config).await?;
    let facts = startup_facts(&sb)?;
    if args.json {
        println!("{facts}");
    } else {
        println!("Bitrix24 sandbox");
        println!("  portal:           {}", sb.portal_url());
        println!("  REST:             {}", sb.rest_url());
        println!("  OAuth server:     {}", sb.oauth_url());
        println!("  server_endpoint:  {}", sb.server_endpoint());
        println!("  member_id:        {}", sb.member_id());
        println!("  client_id:        {}", sb.client_id());
        println!("  client_secret:    {}", sb.client_secret());
        println!("  control API:      {}_sandbox/state", sb.portal_url());
        if sb.portal_count() > 1 {
            println!("  portals:          {} (the others under {}portal/{{i}}/)", sb.portal_count(), sb.portal_url());
        }
        match &sb.info().config.app_url {
            Some(u) => println!("  app:              {u}"),
            None => println!("  app:              none (--app-url)"),
        }
        println!("\nUsers and fresh tokens (access / refresh):");
        for u in facts["users"].as_array().into_iter().flatten() {
            println!(
                "  {:>2} {:<34} {} / {}",
                u["id"],
                u["name"].as_str().unwrap_or(""),
                u["access_token"].as_str().unwrap_or(""),
                u["refresh_token"].as_str().unwrap_or("")
            );
        }
        println!("\nTry: curl '{}profile?auth=<access token>'", sb.rest_url());
        println!("Ctrl-C stops it.");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    stopped().await?;
    sb.stop().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stopped() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("listening for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
    }
}
