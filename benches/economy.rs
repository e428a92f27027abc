//! Request economy of the manager's main actions, against the sandbox with Bitrix24's limits on (burst 50, 2
//! a second) and 100 ms added to every request: opening a list (its first screen: members with names and call
//! statuses, the forms), counting it, reviewing and saving a change (add 3), for lists of 100, 1,000 and
//! 10,000 members; then picking people by a paste of 50 phones and by a CRM filter that matches 1,000. Beside
//! each, the floor: the fewest requests `batch` allows and the time they take.
//!
//! Run: `cargo bench --bench economy` (add `-- --latency-ms 0` to see the app's own time).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use b24_calllist::keys::{Keyring, SecretKey};
use b24_calllist::sandbox::{EntityKind, Latency, ListSeed, Sandbox, SandboxConfig, SeedConfig};
use b24_calllist::settings::{DatabaseUrl, LocalApp, Settings};
use b24_calllist::startup::Application;
use b24_calllist::store::Store;
use secrecy::SecretString;

struct Row {
    members: usize,
    open_requests: usize,
    open_time: Duration,
    count_requests: usize,
    save_requests: usize,
    save_time: Duration,
    review_requests: usize,
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in:\n{html}")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// Requests the portal received since `since` (a `batch` counts once, as on Bitrix24).
fn requests(sandbox: &Sandbox, since: u64) -> usize {
    sandbox.calls().iter().filter(|c| c.seq > since && c.via != "batch").count()
}

fn last(sandbox: &Sandbox) -> u64 {
    sandbox.calls().last().map(|c| c.seq).unwrap_or(0)
}

/// The app and a sandbox portal with one list of `members`, and a manager signed in.
struct Bench {
    sandbox: Sandbox,
    http: reqwest::Client,
    url: url::Url,
    session: String,
    csrf: String,
}

impl Bench {
    async fn post(&self, path: String, fields: Vec<(&'static str, String)>) -> String {
        let mut all = vec![("_session", self.session.clone()), ("_csrf", self.csrf.clone())];
        all.extend(fields);
        let url = self.url.join(&path).unwrap();
        self.http.post(url).form(&all).send().await.unwrap().text().await.unwrap()
    }
}

async fn app_with_list(members: usize, latency_ms: u64) -> Bench {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url: url::Url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let mut config = SandboxConfig {
        app_url: Some(url.clone()),
        app_installed: false,
        call_log_capacity: 100_000,
        seed: SeedConfig {
            contacts: members + 10,
            companies: 5,
            lists: vec![ListSeed { entity_type: EntityKind::Contact, members }],
            ..SeedConfig::default()
        },
        ..SandboxConfig::default()
    };
    config.faults.latency = if latency_ms > 0 { Latency::Fixed { ms: latency_ms } } else { Latency::None };
    let sandbox = Sandbox::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap().keep();
    let keys = Keyring::new(SecretKey::generate(), vec![]);
    let database = DatabaseUrl::Sqlite { path: dir.join("bench.db") };
    let store = Store::open(&database, &keys).await.unwrap();
    let settings = Settings::local(LocalApp {
        database,
        listen: listener.local_addr().unwrap(),
        client_id: sandbox.client_id().to_owned(),
        client_secret: SecretString::from(sandbox.client_secret().to_owned()),
        oauth_server: sandbox.oauth_url(),
        keys,
    });
    let app = Application::build_with_listener(settings, store, listener).unwrap();
    tokio::spawn(app.run_until_stopped());
    assert_eq!(sandbox.install_app().await.unwrap(), 200);
    let http = reqwest::Client::new();
    let launch = sandbox.launch_form(2, Some("en")).unwrap();
    let page = http.post(&launch.action).form(&launch.fields).send().await.unwrap().text().await.unwrap();
    let (session, csrf) = (hidden(&page, "_session"), hidden(&page, "_csrf"));
    // Let the bucket drain so each action starts from the same place a manager would.
    tokio::time::sleep(Duration::from_secs(3)).await;
    Bench { sandbox, http, url, session, csrf }
}

async fn measure(members: usize, latency_ms: u64) -> Row {
    let bench = app_with_list(members, latency_ms).await;
    let sandbox = &bench.sandbox;
    let list = sandbox.lists()[0].id;
    let post = |path: String, fields: Vec<(&'static str, String)>| bench.post(path, fields);
    let since = last(sandbox);
    let started = Instant::now();
    let page = post(format!("lists/{list}"), vec![("etype", "contact".into())]).await;
    let open_time = started.elapsed();
    assert!(page.contains("id=\"members\""), "the editor opened");
    let open_requests = requests(sandbox, since);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since = last(sandbox);
    let counted = post(format!("lists/{list}"), vec![("etype", "contact".into()), ("go", "count".into())]).await;
    assert!(counted.contains("id=\"progress\""), "the list was counted");
    let count_requests = requests(sandbox, since);

    let new: Vec<String> = (0..3).map(|i| sandbox.add_contact(&format!("New{i}"), "Bench").to_string()).collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since = last(sandbox);
    let mut fields = vec![("go", "review".to_owned()), ("etype", "contact".into()), ("form", "keep".into())];
    fields.extend(new.iter().map(|id| ("add", id.clone())));
    let preview = post(format!("lists/{list}"), fields).await;
    let review_requests = requests(sandbox, since);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let save_form = &preview[..preview.find("id=\"confirm\"").expect("a review")];
    let fields: Vec<(&'static str, String)> =
        ["etype", "add", "remove", "form", "base"].iter().map(|n| (*n, hidden(save_form, n))).collect();
    let since = last(sandbox);
    let started = Instant::now();
    let done = post(format!("lists/{list}/save"), fields).await;
    let save_time = started.elapsed();
    assert!(done.contains("data-notice=\"success\""), "the save worked");
    let save_requests = requests(sandbox, since);
    assert_eq!(sandbox.list(list).unwrap().members.len(), members + 3);
    bench.sandbox.stop().await;
    Row { members, open_requests, open_time, count_requests, save_requests, save_time, review_requests }
}

/// Requests to pick people by a paste of 50 phones, and by a CRM filter matching 1,000 ("all that match"),
/// each up to the review.
async fn picking(latency_ms: u64) -> (usize, usize, usize) {
    let bench = app_with_list(100, latency_ms).await;
    let sandbox = &bench.sandbox;
    let post = |path: String, fields: Vec<(&'static str, String)>| bench.post(path, fields);
    let list = sandbox.lists()[0].id;
    let phones: Vec<String> = (0..50)
        .map(|i| {
            let phone = format!("+7 912 555-{:02}-{:02}", i / 10, i % 10 + 10);
            sandbox.add_contact_with(b24_calllist::sandbox::Contact {
                name: format!("Phone{i}"),
                last_name: "Bench".into(),
                phones: vec![phone.clone()],
                assigned_by_id: 2,
                ..Default::default()
            });
            phone
        })
        .collect();
    for i in 0..1_000 {
        sandbox.add_contact_with(b24_calllist::sandbox::Contact {
            name: format!("Filtered{i}"),
            last_name: "Bench".into(),
            source_id: "BENCH".into(),
            assigned_by_id: 2,
            ..Default::default()
        });
    }
    // The list is open, as it is when a manager pastes into it.
    post(format!("lists/{list}"), vec![("etype", "contact".into())]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since = last(sandbox);
    let page = post(
        format!("lists/{list}"),
        vec![("etype", "contact".into()), ("go", "paste".into()), ("paste", phones.join("\n"))],
    )
    .await;
    assert_eq!(page.matches("data-chip-add=").count(), 50, "every phone found someone");
    let paste_requests = requests(sandbox, since);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since = last(sandbox);
    let filter = vec![("etype", "contact".into()), ("go", "filter:0".into()), ("f_source", "BENCH".into())];
    let page = post(format!("lists/{list}"), filter).await;
    let total = hidden(&page, "match_total");
    assert_eq!(total, "1000", "the filter's count before adding");
    let filter_requests = requests(sandbox, since);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since = last(sandbox);
    let review = vec![
        ("etype", "contact".into()),
        ("go", "review".into()),
        ("f_source", "BENCH".into()),
        ("all_matching", "1".into()),
        ("match_total", total),
        ("form", "keep".into()),
    ];
    let preview = post(format!("lists/{list}"), review).await;
    assert!(preview.contains("1000 will be added"), "all 1,000 in the review");
    let review_requests = requests(sandbox, since);
    bench.sandbox.stop().await;
    (paste_requests, filter_requests, review_requests)
}

/// The fewest requests for each action.
fn floor(members: usize) -> (usize, usize, usize, usize) {
    let pages = members.div_ceil(50).max(1);
    // Open: the list, its statuses and forms, the first page and its names (through `$result` references).
    let open = 1;
    // Count: every page, 50 to a batch.
    let count = pages.div_ceil(50);
    // Review: the list, forms and statuses, every page (the change is planned against all members) and the
    // names of those added.
    let review = (3 + pages + 1).div_ceil(50);
    // Save: the members must be read again to compute the full new set, then one update; what Bitrix24 kept
    // is read in the update's batch.
    let save = (1 + pages).div_ceil(50) + 1;
    (open, count, review, save)
}

fn main() {
    let latency: u64 =
        std::env::args().skip_while(|a| a != "--latency-ms").nth(1).and_then(|v| v.parse().ok()).unwrap_or(100);
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!("Request economy, sandbox limits on (burst 50, 2/s), {latency} ms added per request\n");
    println!(
        "| members | open: requests (floor) | open: time | count (floor) | review add 3 (floor) | save (floor) | save: time |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for members in [100, 1_000, 10_000] {
        let row = rt.block_on(measure(members, latency));
        let (open, count, review, save) = floor(members);
        let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
        println!(
            "| {} | {} ({open}) | {} | {} ({count}) | {} ({review}) | {} ({save}) | {} |",
            row.members,
            row.open_requests,
            s(row.open_time),
            row.count_requests,
            row.review_requests,
            row.save_requests,
            s(row.save_time),
        );
    }
    let (paste, filter, review) = rt.block_on(picking(latency));
    println!("\nPicking people: a paste of 50 phones {paste} requests (floor 2: the look-ups, then the names);");
    println!("a CRM filter matching 1,000: {filter} request to show the first page and the count (floor 1),");
    println!("then {review} requests to review adding all 1,000 (floor 2: reading the matches, then planning).");
}
