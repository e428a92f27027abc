//! Request economy of the manager's two main actions, against the sandbox with Bitrix24's limits on (burst
//! 50, 2 a second) and 100 ms added to every request: opening the list editor (members with names and call
//! statuses, the forms) and saving a change (add 3), for lists of 100, 1,000 and 10,000 members. Beside each,
//! the floor: the fewest requests `batch` allows and the time they take.
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

async fn measure(members: usize, latency_ms: u64) -> Row {
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
    let dir = tempfile::tempdir().unwrap();
    let keys = Keyring::new(SecretKey::generate(), vec![]);
    let database = DatabaseUrl::Sqlite { path: dir.path().join("bench.db") };
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
    let list = sandbox.lists()[0].id;
    let http = reqwest::Client::new();
    let launch = sandbox.launch_form(2, Some("en")).unwrap();
    let page = http.post(&launch.action).form(&launch.fields).send().await.unwrap().text().await.unwrap();
    let (session, csrf) = (hidden(&page, "_session"), hidden(&page, "_csrf"));
    // Let the bucket drain so each action starts from the same place a manager would.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let http = http.clone();
        let mut all = vec![("_session", session.clone()), ("_csrf", csrf.clone())];
        all.extend(fields);
        let url = url.join(&path).unwrap();
        async move { http.post(url).form(&all).send().await.unwrap().text().await.unwrap() }
    };

    let since = last(&sandbox);
    let started = Instant::now();
    let page = post(format!("lists/{list}"), vec![]).await;
    let open_time = started.elapsed();
    assert!(page.contains("id=\"members\""), "the editor opened");
    let open_requests = requests(&sandbox, since);

    let new: Vec<String> = (0..3).map(|i| sandbox.add_contact(&format!("New{i}"), "Bench").to_string()).collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since = last(&sandbox);
    let preview = post(
        format!("lists/{list}"),
        vec![
            ("go", "review".into()),
            ("etype", "contact".into()),
            ("intent", "add".into()),
            ("ids", new.join(",")),
            ("form", "keep".into()),
        ],
    )
    .await;
    let review_requests = requests(&sandbox, since);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fields: Vec<(&'static str, String)> =
        ["etype", "intent", "ids", "form", "base"].iter().map(|n| (*n, hidden(&preview, n))).collect();
    let since = last(&sandbox);
    let started = Instant::now();
    let done = post(format!("lists/{list}/save"), fields).await;
    let save_time = started.elapsed();
    assert!(done.contains("data-notice=\"success\""), "the save worked");
    let save_requests = requests(&sandbox, since);
    assert_eq!(sandbox.list(list).unwrap().members.len(), members + 3);
    sandbox.stop().await;
    Row { members, open_requests, open_time, save_requests, save_time, review_requests }
}

/// The fewest requests for each action, and the time they take at `latency_ms` each within the bucket.
fn floor(members: usize) -> (usize, usize) {
    let pages = members.div_ceil(50).max(1);
    // Open: the list, its statuses and the forms, every page of members, and the names of the first page
    // (through `$result` references) — all in batches of 50 commands.
    let open = (3 + pages + 1).div_ceil(50);
    // Save: the members must be read to compute the full new set (pages, plus the list for its form), then
    // one update; what Bitrix24 kept can be read in the update's batch.
    let save = (1 + pages).div_ceil(50) + 1;
    (open, save)
}

fn main() {
    let latency: u64 =
        std::env::args().skip_while(|a| a != "--latency-ms").nth(1).and_then(|v| v.parse().ok()).unwrap_or(100);
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!("Request economy, sandbox limits on (burst 50, 2/s), {latency} ms added per request\n");
    println!(
        "| members | open: requests (floor) | open: time (floor) | save add 3: requests (floor) | save: time (floor) | review requests |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for members in [100, 1_000, 10_000] {
        let row = rt.block_on(measure(members, latency));
        let (open_floor, save_floor) = floor(members);
        let ms = |d: Duration| format!("{:.2} s", d.as_secs_f64());
        let floor_time = |n: usize| format!("{:.2} s", n as f64 * latency as f64 / 1000.0);
        println!(
            "| {} | {} ({}) | {} ({}) | {} ({}) | {} ({}) | {} |",
            row.members,
            row.open_requests,
            open_floor,
            ms(row.open_time),
            floor_time(open_floor),
            row.save_requests,
            save_floor,
            ms(row.save_time),
            floor_time(save_floor),
            row.review_requests,
        );
    }
}
