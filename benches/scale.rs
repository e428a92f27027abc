//! Scale of the portal store: 100,000 installed portals on SQLite and on PostgreSQL, then the time of a
//! portal lookup (what every iframe open and event does) and of opening a portal's sealed tokens.
//!
//! Run: `cargo bench --bench scale` (PostgreSQL at `TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; skipped if it does not answer). `-- --portals N` to change
//! the count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use b24_calllist::domain::{MemberId, PortalStatus, TokenPair};
use b24_calllist::keys::{Keyring, SecretKey};
use b24_calllist::settings::DatabaseUrl;
use b24_calllist::store::{PortalInstall, Store};
use rand::Rng;
use secrecy::SecretString;
use sqlx::Executor;

fn member(i: usize) -> MemberId {
    MemberId::parse(&format!("{i:032x}")).unwrap()
}

fn install(i: usize) -> PortalInstall {
    PortalInstall {
        member_id: member(i),
        domain: format!("portal{i}.bitrix24.com"),
        client_endpoint: format!("https://portal{i}.bitrix24.com/rest/").parse().unwrap(),
        server_endpoint: "https://oauth.bitrix.info/rest/".parse().unwrap(),
        scope: "crm,user".into(),
        tokens: TokenPair {
            access_token: SecretString::from(format!("access{i:026}")),
            refresh_token: SecretString::from(format!("refresh{i:025}")),
            expires_at: 1_900_000_000,
        },
        application_token: Some(SecretString::from(format!("app{i:029}"))),
        status: PortalStatus::Active,
    }
}

fn quantiles(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let q = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)].as_secs_f64() * 1000.0;
    (q(0.5), q(0.99))
}

async fn run(name: &str, url: DatabaseUrl, portals: usize) {
    let keys = Keyring::new(SecretKey::generate(), vec![]);
    let store = Arc::new(Store::open(&url, &keys).await.expect("the store opens"));
    let started = Instant::now();
    let workers = 8;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..portals).step_by(workers) {
                store.save_install(&install(i)).await.expect("insert");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let filled = started.elapsed();
    let mut rng = rand::rng();
    let mut lookups = Vec::new();
    let mut opens = Vec::new();
    for _ in 0..10_000 {
        let id = member(rng.random_range(0..portals));
        let t = Instant::now();
        store.portal(&id).await.unwrap().expect("a portal");
        lookups.push(t.elapsed());
        let t = Instant::now();
        store.tokens(&id).await.unwrap().expect("tokens");
        opens.push(t.elapsed());
    }
    let (lp50, lp99) = quantiles(lookups);
    let (tp50, tp99) = quantiles(opens);
    println!(
        "| {name} | {portals} | {:.1} s | {lp50:.3} ms | {lp99:.3} ms | {tp50:.3} ms | {tp99:.3} ms |",
        filled.as_secs_f64()
    );
}

fn main() {
    let portals: usize =
        std::env::args().skip_while(|a| a != "--portals").nth(1).and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!("| engine | portals | fill (8 writers) | lookup p50 | lookup p99 | tokens p50 | tokens p99 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(run("SQLite", DatabaseUrl::Sqlite { path: dir.path().join("scale.db") }, portals));
    let admin =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    rt.block_on(async {
        let Ok(pool) = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&admin).await else {
            println!("| PostgreSQL | skipped: no server at TEST_DATABASE_URL | | | | | |");
            return;
        };
        let name = format!("b24_scale_{}", std::process::id());
        pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        run("PostgreSQL", DatabaseUrl::Postgres { url: url.to_string() }, portals).await;
        pool.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).await.unwrap();
    });
}
