//! The app's own ground moving: PostgreSQL unreachable under a running app, then back. While it is down
//! the app says so (`/readyz` 503, pages in the manager's language) and sends Bitrix24 nothing that changes
//! anything; once it is back the app serves again by itself. The outage is a proxy between the app and
//! PostgreSQL that cuts every connection, the way a failed-over or restarted server does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

use crate::harness::{Engine, MANAGER, Options, TestApp};
use crate::pages::{Edit, Manager, notices};

/// A TCP proxy to PostgreSQL that can be cut off (every connection dropped, new ones refused) and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let flag = flag.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while flag.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    };
                    tokio::select! { _ = copy => {}, _ = cut => {} }
                });
            }
        });
        Proxy { port, up }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn upstream() -> Option<String> {
    let url = url::Url::parse(&crate::helpers::postgres_admin_url()).ok()?;
    Some(format!("{}:{}", url.host_str()?, url.port().unwrap_or(5432)))
}

#[tokio::test]
async fn while_postgresql_is_unreachable_the_app_says_so_changes_nothing_and_comes_back_by_itself() {
    let Some(upstream) = upstream() else { return };
    let proxy = Proxy::start(upstream).await;
    let mut options = Options { engine: Engine::Postgres, postgres_via: Some(proxy.port), ..Options::default() };
    options.sandbox.app_installed = false;
    let Some(app) = TestApp::start_on(options).await else { return };
    assert_eq!(app.sandbox.install_app().await.unwrap(), 200);
    let list = app.sandbox.lists()[0].id;
    let m = Manager::open(&app, MANAGER).await;
    let extra = app.sandbox.add_contact("During", "Outage");
    let review = m.review(list, Edit::add(&[extra])).await;
    assert!(review.contains("id=\"confirm\""));

    proxy.cut();
    // The proxy drops the open connections within its 50 ms poll.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = app.http.get(app.at("readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready while the database is away");
    let started = Instant::now();
    // A page not read lately (what was, the app may still show for a few seconds from memory).
    let (status, page) = m.post(&format!("lists/{list}"), &[("mpage", "3")]).await;
    assert_eq!(status, 503, "{page}");
    assert!(
        page.contains("cannot reach its storage") || page.contains("не может обратиться к своему хранилищу"),
        "{page}"
    );
    assert!(page.contains("lang=\"ru\""), "in the manager's language");
    assert!(started.elapsed() < Duration::from_secs(8), "said within seconds, not after a long hang");
    let (status, _) = m.confirm(list, &review).await;
    assert_eq!(status, 503);
    assert!(app.sandbox.calls_of("crm.calllist.update").is_empty(), "nothing that changes anything was sent");

    proxy.restore();
    let back = Instant::now();
    loop {
        let r = app.http.get(app.at("readyz")).send().await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(5), "ready again within 5 s without a restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, page) = m.confirm(list, &review).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));
    assert!(app.sandbox.list(list).unwrap().member_ids().contains(&extra));
    eprintln!("database back: ready again after {:?}", back.elapsed());
}
