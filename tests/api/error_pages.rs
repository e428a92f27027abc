//! Every error answer is the app's own error page, in the viewer's language: unknown addresses, wrong
//! methods, bodies too large or unreadable, an ended session, a forged OAuth callback. Told over HTTP.

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::{Method, Response};

use crate::harness::{MANAGER, TestApp};

/// Names from the protocol that a Russian message may quote as they are.
const PROTOCOL_NAMES: &[&str] = &["AUTH_ID", "REFRESH_ID", "member_id", "UTF-8", "LANG", "DOMAIN"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Ru,
}

/// The ways a request can ask for Russian, and the English default.
#[derive(Debug, Clone, Copy)]
enum Asks {
    English,
    AcceptLanguage,
    Query,
}

impl Asks {
    const ALL: [Asks; 3] = [Asks::English, Asks::AcceptLanguage, Asks::Query];

    fn lang(self) -> Lang {
        match self {
            Asks::English => Lang::En,
            _ => Lang::Ru,
        }
    }

    fn request(self, app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = match self {
            Asks::Query if path.contains('?') => app.at(&format!("{path}&LANG=ru")),
            Asks::Query => app.at(&format!("{path}?LANG=ru")),
            _ => app.at(path),
        };
        let r = app.http.request(method, url);
        match self {
            Asks::AcceptLanguage => r.header("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5"),
            _ => r.header("Accept-Language", "en-GB,en;q=0.9"),
        }
    }
}

/// The text of the error page's message (the alert), tags stripped.
fn message_of(html: &str) -> String {
    let start = html.find("role=\"alert\">").map(|i| i + "role=\"alert\">".len());
    let start = start.unwrap_or_else(|| panic!("no error message in the page:\n{html}"));
    let end = html[start..].find("</div>").unwrap() + start;
    let mut text = String::new();
    let mut in_tag = false;
    for c in html[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Words with Latin letters in `text`, protocol names aside.
fn english_words(text: &str) -> Vec<String> {
    let mut rest = text.to_owned();
    for name in PROTOCOL_NAMES {
        rest = rest.replace(name, " ");
    }
    rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .map(str::to_owned)
        .collect()
}

/// Checks that `r` is the app's error page with `status`, in `lang`, and returns its message.
async fn error_page(r: Response, status: u16, lang: Lang, what: &str) -> String {
    assert_eq!(r.status().as_u16(), status, "{what}");
    let content_type = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{what}: an HTML page, not {content_type:?}");
    let html = r.text().await.unwrap();
    assert!(html.contains("/static/app.css"), "{what}: in the app's style:\n{html}");
    let message = message_of(&html);
    assert!(!message.is_empty(), "{what}: the page says what went wrong");
    match lang {
        Lang::En => {
            assert!(html.contains("<html lang=\"en\">"), "{what}: in English:\n{html}");
            assert!(html.contains("Something went wrong"), "{what}: the English title");
        }
        Lang::Ru => {
            assert!(html.contains("<html lang=\"ru\">"), "{what}: in Russian:\n{html}");
            assert!(html.contains("Что-то пошло не так"), "{what}: the Russian title");
            let english = english_words(&message);
            assert!(english.is_empty(), "{what}: English words {english:?} in the Russian message: {message}");
        }
    }
    message
}

#[tokio::test]
async fn an_unknown_address_gets_the_not_found_page_in_the_viewers_language() {
    let app = TestApp::installed().await;
    for asks in Asks::ALL {
        let r = asks.request(&app, Method::GET, "nope").send().await.unwrap();
        let message = error_page(r, 404, asks.lang(), &format!("GET /nope ({asks:?})")).await;
        let expected = if asks.lang() == Lang::En { "does not exist" } else { "Такой страницы нет" };
        assert!(message.contains(expected), "{message}");
    }
}

#[tokio::test]
async fn a_method_an_address_does_not_take_gets_405_in_the_viewers_language() {
    let app = TestApp::installed().await;
    for (method, path) in [(Method::DELETE, "app"), (Method::PUT, "lists")] {
        for asks in Asks::ALL {
            let r = asks.request(&app, method.clone(), path).send().await.unwrap();
            let message = error_page(r, 405, asks.lang(), &format!("{method} /{path} ({asks:?})")).await;
            let expected = if asks.lang() == Lang::En { "does not take" } else { "не принимает" };
            assert!(message.contains(expected), "{message}");
        }
    }
}

#[tokio::test]
async fn health_readiness_and_metrics_answer_head_as_get_and_refuse_other_methods() {
    let app = TestApp::installed().await;
    for path in ["healthz", "readyz", "metrics"] {
        let get = app.http.get(app.at(path)).send().await.unwrap();
        assert_eq!(get.status(), 200, "GET /{path}");
        let head = app.http.head(app.at(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD /{path} answers as GET does");
        assert_eq!(head.headers().get("content-type"), get.headers().get("content-type"), "HEAD /{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD /{path} has no body");
        for method in [Method::POST, Method::PUT, Method::DELETE] {
            let r = Asks::AcceptLanguage.request(&app, method.clone(), path).send().await.unwrap();
            error_page(r, 405, Lang::Ru, &format!("{method} /{path}")).await;
        }
    }
}

#[tokio::test]
async fn a_form_larger_than_the_app_takes_gets_413_in_the_viewers_language() {
    let app = TestApp::installed().await;
    let body = format!("_lang=ru&ids={}", "1,".repeat(3 * 1024 * 1024 / 2));
    for asks in Asks::ALL {
        let r = asks
            .request(&app, Method::POST, "lists")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("a 3 MB form is answered, not cut off ({asks:?}): {e}"));
        let message = error_page(r, 413, asks.lang(), &format!("a 3 MB form ({asks:?})")).await;
        let expected = if asks.lang() == Lang::En { "too large" } else { "слишком велик" };
        assert!(message.contains(expected), "{message}");
    }
}

/// Sends `head` on a fresh connection and reads the whole answer, which must come within a few seconds.
fn raw_exchange(app: &TestApp, head: &str) -> String {
    let addr = format!("{}:{}", app.url.host_str().unwrap(), app.url.port().unwrap());
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !answer.is_empty() => {}
        Err(e) => panic!("no complete answer (a hang?): {e}; got {:?}", String::from_utf8_lossy(&answer)),
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// actix-http parses the request head before the app sees it, with limits of its own: the `http` crate's
/// `Uri` refuses a request target longer than 65,534 bytes, which actix-http answers `400 Bad Request`,
/// and a head still incomplete at 128 KiB (or with more than 96 headers) is answered
/// `431 Request Header Fields Too Large`. Both answers have an empty body and close the connection; no
/// middleware of the app runs, so neither can be the app's page. Anything shorter reaches the app.
#[tokio::test]
async fn a_very_long_url_is_answered_at_once_never_with_a_hang_or_a_5xx() {
    let app = TestApp::installed().await;
    let long = format!("/nope?x={}", "a".repeat(100 * 1024));
    let answer = raw_exchange(&app, &format!("GET {long} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    assert!(answer.contains("\r\n\r\n"), "a complete answer: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 400 "), "a 100 KB URL is refused by the HTTP parser: {answer:?}");

    let answer = raw_exchange(
        &app,
        &format!(
            "GET /nope?x={} HTTP/1.1\r\nHost: localhost\r\nCookie: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(1024),
            "b".repeat(140 * 1024)
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 431 "), "a head over 128 KiB: {answer:?}");

    // Up to the parser's limit the app sees the request and answers with its page.
    let path = format!("nope?x={}", "a".repeat(60 * 1024));
    let r = Asks::AcceptLanguage.request(&app, Method::GET, &path).send().await.unwrap();
    error_page(r, 404, Lang::Ru, "a 60 KB URL").await;
}

#[tokio::test]
async fn an_unreadable_or_oversized_post_from_the_portal_says_so_in_the_viewers_language() {
    let app = TestApp::installed().await;
    let not_utf8 = vec![0x41, 0x55, 0x54, 0x48, 0x5f, 0x49, 0x44, 0x3d, 0xff, 0xfe];
    let huge = format!("AUTH_ID=x&member_id={}&PLACEMENT=DEFAULT", "a".repeat(1024 * 1024));
    for path in ["app", "install"] {
        for asks in Asks::ALL {
            let portal_query = format!("{path}?DOMAIN=127.0.0.1&PROTOCOL=0");
            let post = |body: Vec<u8>| {
                asks.request(&app, Method::POST, &portal_query)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body)
            };
            let what = format!("a body that is not UTF-8 to /{path} ({asks:?})");
            let r = post(not_utf8.clone()).send().await.unwrap();
            let message = error_page(r, 400, asks.lang(), &what).await;
            let expected =
                if asks.lang() == Lang::En { "could not read" } else { "не смогло прочитать" };
            assert!(message.contains(expected), "{what}: {message}");
            assert!(message.contains("UTF-8"), "{what}: says why: {message}");

            let what = format!("a 1 MB body to /{path} ({asks:?})");
            let r = post(huge.clone().into_bytes()).send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
            let message = error_page(r, 413, asks.lang(), &what).await;
            let expected = if asks.lang() == Lang::En { "too large" } else { "слишком велик" };
            assert!(message.contains(expected), "{what}: {message}");
        }
    }
}

#[tokio::test]
async fn an_ended_session_on_a_russian_page_is_told_in_russian() {
    let app = TestApp::installed().await;
    let (status, _) = app.open_as(MANAGER).await;
    assert_eq!(status, 200);
    let r = app
        .http
        .post(app.at("lists"))
        .header("Accept-Language", "en")
        .form(&[("_lang", "ru"), ("_session", "bogus.session"), ("_csrf", "x")])
        .send()
        .await
        .unwrap();
    let message = error_page(r, 401, Lang::Ru, "an ended session").await;
    assert!(message.contains("Сеанс работы завершён"), "{message}");
}

#[tokio::test]
async fn a_forged_oauth_callback_is_refused_in_the_viewers_language() {
    let app = TestApp::installed().await;
    for asks in [Asks::English, Asks::AcceptLanguage] {
        let r = asks.request(&app, Method::GET, "oauth/callback?state=garbage&code=x").send().await.unwrap();
        let message = error_page(r, 400, asks.lang(), &format!("a forged state ({asks:?})")).await;
        let expected =
            if asks.lang() == Lang::En { "could not be renewed" } else { "Не удалось возобновить" };
        assert!(message.contains(expected), "{message}");
    }
}
