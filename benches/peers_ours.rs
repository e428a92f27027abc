//! Peer benchmark, our side: the library's Bitrix24 client doing the four operations of the peer comparison
//! (read all members of the 1,000-member list, resolve their names, read 10,000 contacts, one update of 1,003
//! members) against the sandbox with Bitrix24's limits on (50 burst, 2 a second) and 100 ms per request.
//!
//! The sandbox is spawned from the release binary exactly as `benches/peers/*.py` spawn it, one fresh process
//! per scenario, so the portal's bucket starts empty and every client meets the same server in the same kind
//! of process. Requests are counted from the sandbox's call log (top-level requests, refused ones included).
//!
//! Run: `cargo bench --bench peers_ours` (optionally `-- --runs N --round R --json FILE`). `benches/peers/run.sh` runs
//! it together with the Python SDKs and prints the comparison.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use b24_calllist::bitrix::methods::calllist::{FormChoice, Update};
use b24_calllist::bitrix::{
    Auth, Bitrix, BitrixError, Caller, ClientConfig, OAuthClient, RestClient, TokenManager, TokenOwner, TokenStore,
};
use b24_calllist::domain::{
    EntityId, EntityType, ListId, MemberId, Membership, StoredTokens, SwapOutcome, TokenPair, WebformId,
};
use b24_calllist::editor::resolve_names;
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;

const LATENCY_MS: u64 = 100;
const CONTACTS: usize = 10_000;
/// The default seed's lists are contact:25, company:10, contact:1000, contact:0: the 1,000-member list is 3.
const LIST_ID: u64 = 3;
const LIST_SIZE: usize = 1_000;
const EXTRA_MEMBERS: usize = 3;

/// The tokens here are fixed (`Auth::Fixed`): nothing is stored, refreshed or shared.
struct NoStore;

impl TokenStore for NoStore {
    async fn load(&self, _: &TokenOwner) -> Result<Option<StoredTokens>, BitrixError> {
        Ok(None)
    }
    async fn claim_refresh(&self, _: &TokenOwner, _: i64, _: Duration) -> Result<bool, BitrixError> {
        Ok(false)
    }
    async fn release_refresh(&self, _: &TokenOwner, _: i64) -> Result<(), BitrixError> {
        Ok(())
    }
    async fn swap(&self, _: &TokenOwner, _: i64, _: &TokenPair) -> Result<SwapOutcome, BitrixError> {
        Err(BitrixError::Store(b24_calllist::bitrix::StoreFailure::message("no store in this benchmark")))
    }
    async fn refresh_failed(&self, _: &TokenOwner, _: &str) -> Result<(), BitrixError> {
        Ok(())
    }
}

/// One sandbox process, as `b24-calllist sandbox … --json` starts it; killed on drop.
struct SandboxProcess {
    child: Child,
    facts: Value,
    http: reqwest::Client,
}

impl SandboxProcess {
    fn start() -> SandboxProcess {
        let bin = std::env::var("B24_SANDBOX_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_b24-calllist").to_owned());
        let mut child = Command::new(bin)
            .args(["sandbox", "--listen", "127.0.0.1:0", "--oauth-listen", "127.0.0.1:0", "--json", "--latency-ms"])
            .arg(LATENCY_MS.to_string())
            .args(["--contacts", &CONTACTS.to_string(), "--limits", "on"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the sandbox binary starts (cargo build --release first)");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("the sandbox's first line");
        let facts: Value = serde_json::from_str(&line).expect("the sandbox's facts as JSON");
        // keep draining stdout so the process never blocks on a full pipe
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        SandboxProcess { child, facts, http: reqwest::Client::new() }
    }

    fn fact(&self, key: &str) -> &str {
        self.facts[key].as_str().unwrap_or_default()
    }

    fn admin(&self) -> &Value {
        self.facts["users"].as_array().and_then(|u| u.iter().find(|u| u["id"] == 1)).expect("the administrator")
    }

    fn token(&self) -> String {
        self.admin()["access_token"].as_str().expect("an access token").to_owned()
    }

    async fn control(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.fact("control_url"));
        self.http.get(url).send().await.expect("control API").json().await.expect("control JSON")
    }

    async fn calls(&self) -> Vec<Value> {
        self.control("calls").await.as_array().cloned().unwrap_or_default()
    }

    async fn last_seq(&self) -> u64 {
        self.calls().await.iter().filter_map(|c| c["seq"].as_u64()).max().unwrap_or(0)
    }

    async fn list(&self) -> (Vec<u64>, Option<u64>) {
        let view = self.control(&format!("lists/{LIST_ID}")).await;
        let ids = view["members"].as_array().map(|m| m.iter().filter_map(|m| m["element_id"].as_u64()).collect());
        (ids.unwrap_or_default(), view["webform_id"].as_u64())
    }

    /// The update's 1,003 IDs (the list's 1,000 and 3 contacts outside it) and the list's form.
    async fn update_payload(&self) -> (Vec<u64>, Option<u64>) {
        let (mut ids, form) = self.list().await;
        let contacts = self.control("contacts").await;
        let outside: Vec<u64> = contacts
            .as_array()
            .map(|c| c.iter().filter_map(|c| c["id"].as_u64()).filter(|id| !ids.contains(id)).collect())
            .unwrap_or_default();
        ids.extend(outside.into_iter().take(EXTRA_MEMBERS));
        (ids, form)
    }

    /// Fills the portal's bucket (50) with `profile` calls sent at once, as another app would.
    async fn fill_bucket(&self) {
        let url = format!("{}profile", self.fact("rest_url"));
        let body = json!({ "auth": self.token() });
        let calls = (0..52).map(|_| self.http.post(&url).json(&body).send());
        for r in futures_util::future::join_all(calls).await {
            r.expect("a filler call is answered");
        }
    }

    fn client(&self) -> Bitrix<NoStore> {
        let config = ClientConfig { allow_insecure: true, ..ClientConfig::default() };
        let oauth = OAuthClient::new(
            &Url::parse(self.fact("oauth_url")).expect("the OAuth URL"),
            self.fact("client_id"),
            &SecretString::from(self.fact("client_secret").to_owned()),
            true,
            Duration::from_secs(10),
        )
        .expect("an OAuth client");
        Bitrix {
            rest: RestClient::new(config).expect("a REST client"),
            tokens: TokenManager::new(Arc::new(NoStore), oauth),
        }
    }

    fn caller<'b>(&self, bitrix: &'b Bitrix<NoStore>) -> Caller<'b, NoStore> {
        bitrix.caller(
            MemberId::parse(self.fact("member_id")).expect("the member_id"),
            Url::parse(self.fact("rest_url")).expect("the REST URL"),
            Auth::Fixed(SecretString::from(self.token())),
        )
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One timed operation, in the same shape as the Python scripts' results.
#[derive(Debug, Clone, serde::Serialize)]
struct Outcome {
    client: &'static str,
    scenario: &'static str,
    variant: &'static str,
    run: usize,
    requests: usize,
    refused: usize,
    commands: usize,
    seconds: f64,
    rows: usize,
    expected_rows: usize,
    ok: bool,
    note: String,
    error: String,
}

/// Times `work` (which returns the rows it got) and counts the requests it caused from the call log.
async fn measure<F, Fut>(
    sb: &SandboxProcess,
    scenario: &'static str,
    run: usize,
    expected: usize,
    note: &str,
    work: F,
) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<usize, BitrixError>>,
{
    let seq = sb.last_seq().await;
    let started = Instant::now();
    let result = work().await;
    let seconds = started.elapsed().as_secs_f64();
    let calls: Vec<Value> = sb.calls().await.into_iter().filter(|c| c["seq"].as_u64().unwrap_or(0) > seq).collect();
    let top: Vec<&Value> = calls.iter().filter(|c| c["via"] != "batch").collect();
    let (rows, error) = match result {
        Ok(n) => (n, String::new()),
        Err(e) => (0, e.to_string()),
    };
    let ok = error.is_empty() && rows == expected;
    Outcome {
        client: "ours",
        scenario,
        variant: "client",
        run,
        requests: top.len(),
        refused: top.iter().filter(|c| c["status"] == 503).count(),
        commands: calls.len() - top.len(),
        seconds,
        rows,
        expected_rows: expected,
        ok,
        note: note.to_owned(),
        error,
    }
}

async fn members(run: usize, full: bool) -> Outcome {
    let sb = SandboxProcess::start();
    let bitrix = sb.client();
    let caller = sb.caller(&bitrix);
    if full {
        sb.fill_bucket().await;
    }
    let scenario = if full { "members_full" } else { "members" };
    let list = ListId::new(LIST_ID).expect("a list id");
    measure(&sb, scenario, run, LIST_SIZE, "Caller::calllist_members(list, None)", || async {
        caller.calllist_members(list, None).await.map(|m| m.len())
    })
    .await
}

async fn names(run: usize) -> Outcome {
    let sb = SandboxProcess::start();
    let bitrix = sb.client();
    let caller = sb.caller(&bitrix);
    let (ids, _) = sb.list().await;
    let ids: Vec<EntityId> = ids.into_iter().map(|id| EntityId::new(id).expect("an id")).collect();
    measure(&sb, "names", run, ids.len(), "editor::resolve_names(contact, 1,000 ids)", || async {
        resolve_names(&caller, EntityType::Contact, &ids).await.map(|found| found.len())
    })
    .await
}

async fn contacts(run: usize) -> Outcome {
    let sb = SandboxProcess::start();
    let bitrix = sb.client();
    let caller = sb.caller(&bitrix);
    measure(&sb, "contacts", run, CONTACTS, "Caller::crm_items_all(contact, {})", || async {
        let items = caller.crm_items_all(EntityType::Contact, json!({}), None).await?;
        Ok(items.iter().map(|i| i.id).collect::<std::collections::HashSet<_>>().len())
    })
    .await
}

async fn update(run: usize) -> Outcome {
    let sb = SandboxProcess::start();
    let bitrix = sb.client();
    let caller = sb.caller(&bitrix);
    let (ids, form) = sb.update_payload().await;
    let update = Update {
        list: ListId::new(LIST_ID).expect("a list id"),
        entity_type: EntityType::Contact,
        members: Membership::new(ids.iter().map(|id| EntityId::new(*id).expect("an id"))).expect("members"),
        form: FormChoice::from_current(form.and_then(|f| WebformId::new(f).ok())),
    };
    let mut o =
        measure(&sb, "update", run, ids.len(), "Caller::calllist_update(1,003 ids, the list's form)", || async {
            caller.calllist_update(&update).await.map(|()| ids.len())
        })
        .await;
    // what the portal kept, read after the clock stopped
    let kept = sb.list().await.0.len();
    if o.ok && kept != ids.len() {
        o.ok = false;
        o.note = format!("{}; the list has {kept} members after the update", o.note);
    }
    o.rows = kept;
    o
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value_of = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let runs: usize = value_of("--runs").and_then(|v| v.parse().ok()).unwrap_or(3);
    // the number of the first run, when rounds of all clients are interleaved (benches/peers/run.sh)
    let first: usize = value_of("--round").and_then(|v| v.parse().ok()).unwrap_or(1);
    let json_out = value_of("--json").or_else(|| std::env::var("PEERS_OURS_JSON").ok());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let outcomes = rt.block_on(async {
        let mut all = Vec::new();
        for run in first..first + runs {
            for o in [
                members(run, false).await,
                members(run, true).await,
                names(run).await,
                contacts(run).await,
                update(run).await,
            ] {
                eprintln!(
                    "  {} ours {:<13} run {run}: {:>3} req ({} refused) {:7.3} s  {:>5}/{} rows  {}",
                    if o.ok { "ok " } else { "BAD" },
                    o.scenario,
                    o.requests,
                    o.refused,
                    o.seconds,
                    o.rows,
                    o.expected_rows,
                    if o.error.is_empty() { &o.note } else { &o.error }
                );
                all.push(o);
            }
        }
        all
    });
    let mut groups: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in &outcomes {
        groups.entry(o.scenario).or_default().push(o);
    }
    println!("our client, {runs} run(s), medians; sandbox with limits on (50, 2/s) and {LATENCY_MS} ms per request");
    println!("{:<14} {:>9} {:>8} {:>10}  result", "operation", "requests", "refused", "seconds");
    let order = ["members", "names", "contacts", "update", "members_full"];
    let (mut total_req, mut total_s) = (0.0, 0.0);
    for scenario in order {
        let Some(os) = groups.get(scenario) else { continue };
        let req = median(os.iter().map(|o| o.requests as f64).collect());
        let refused = median(os.iter().map(|o| o.refused as f64).collect());
        let secs = median(os.iter().map(|o| o.seconds).collect());
        let ok = os.iter().all(|o| o.ok);
        println!("{scenario:<14} {req:>9} {refused:>8} {secs:>10.3}  {}", if ok { "all rows" } else { "WRONG" });
        if scenario != "members_full" {
            total_req += req;
            total_s += secs;
        }
    }
    println!("{:<14} {total_req:>9} {:>8} {total_s:>10.3}  (members, names, contacts, update)", "total", "");
    if let Some(path) = json_out {
        std::fs::write(&path, serde_json::to_string_pretty(&outcomes).expect("JSON")).expect("the results file");
    }
}
