//! Headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`), for tests that click
//! as a person would. Without chromedriver the tests are skipped, except under `CI=true`, where that fails.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub struct Browser {
    driver: Child,
    pub client: Client,
}

const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
];

impl Browser {
    pub async fn start() -> Option<Browser> {
        if Command::new("chromedriver").arg("--version").stdout(Stdio::null()).status().is_err() {
            assert!(
                !crate::helpers::in_ci(),
                "CI=true but chromedriver is not installed (apt-get install chromium chromium-driver)"
            );
            eprintln!("skipped: chromedriver is not installed (apt-get install chromium chromium-driver)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut caps = serde_json::Map::new();
        let dir = std::env::temp_dir().join(format!("b24-chrome-{}", crate::helpers::random_suffix()));
        let mut args: Vec<String> = FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", dir.display()));
        caps.insert("goog:chromeOptions".into(), json!({ "args": args }));
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return Some(Browser { driver, client }),
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot reach chromedriver: {last:?}");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// Waits until `css` matches in the current frame (pages here load after form posts).
    pub async fn wait(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let source = self.client.source().await.unwrap_or_default();
                panic!("`{css}` never appeared; the page is:\n{}", &source[..source.len().min(3000)]);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks `css` once it is there. Lists that re-render as the user types (the portal's CRM picker) can
    /// replace the element between finding and clicking it, so a stale element is found again.
    pub async fn click(&self, css: &str) {
        let started = Instant::now();
        loop {
            match self.wait(css).await.click().await {
                Ok(()) => return,
                Err(e) if e.to_string().contains("stale") && started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.wait(css).await;
        e.clear().await.ok();
        e.send_keys(text).await.unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap_or_default()
    }

    /// Checks a radio or checkbox, even a visually hidden one, as its label would.
    pub async fn check(&self, css: &str) {
        self.wait(css).await;
        let script = format!("document.querySelector({}).click(); return true;", json!(css));
        self.client.execute(&script, vec![]).await.expect("the script runs");
    }

    /// Polls a script in the current frame until it returns something other than `null`.
    pub async fn until(&self, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.eval(script).await;
            if !v.is_null() {
                return v;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "never true: {script}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("the script runs")
    }

    /// Enters the app's iframe on the sandbox's portal page.
    pub async fn enter_app(&self) {
        self.client.enter_parent_frame().await.ok();
        self.client.enter_parent_frame().await.ok();
        let frame = self.wait("#app-frame").await;
        frame.enter_frame().await.expect("enter the app's frame");
    }

    pub async fn leave_app(&self) {
        self.client.enter_parent_frame().await.expect("back to the portal page");
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(path, png).expect("write the screenshot");
    }

    pub async fn finish(self) {
        let Browser { mut driver, client } = self;
        client.close().await.ok();
        driver.kill().ok();
        driver.wait().ok();
    }
}
