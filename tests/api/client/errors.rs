//! Every typed error, produced by a sandbox answer that triggers it (reference 1.x, 2.2, 3.6, 4.2, 5.3,
//! 5.6), and the client's own errors for answers that are not Bitrix24's.

use std::io::{Read, Write};
use std::time::Duration;

use b24_calllist::bitrix::methods::calllist::{FormChoice, Update};
use b24_calllist::bitrix::{Auth, BitrixError, ErrorCode, OAuthClient, RateLimit};
use b24_calllist::domain::{EntityId, EntityType, ListId, Membership, WebformId};
use b24_calllist::sandbox::EntityKind;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{Fixture, fast_config, unlimited};

fn code(r: Result<impl std::fmt::Debug, BitrixError>) -> ErrorCode {
    match r {
        Err(BitrixError::Api(e)) => e.code,
        other => panic!("expected an error envelope, got {other:?}"),
    }
}

#[tokio::test]
async fn authorisation_errors_are_typed() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let endpoint = f.endpoint.clone();
    let fixed =
        |t: &str| f.bitrix.caller(f.member_id.clone(), endpoint.clone(), Auth::Fixed(SecretString::from(t.to_owned())));

    assert_eq!(code(fixed("").user_current().await), ErrorCode::NoAuthFound, "reference 5.3: no token");
    assert_eq!(code(fixed("notatoken").user_current().await), ErrorCode::InvalidToken, "reference 5.3: unknown token");

    let t = f.sandbox.issue_tokens(2).unwrap();
    f.sandbox.expire_access_tokens(Some(2));
    let expired = code(fixed(&t.access_token).user_current().await);
    assert_eq!(expired, ErrorCode::ExpiredToken, "reference 5.3: a fixed token is not refreshed");

    let narrow = f.sandbox.issue_tokens_with_scope(2, Some(&["user"])).unwrap();
    let e = fixed(&narrow.access_token).calllist_statuslist().await;
    assert_eq!(code(e), ErrorCode::InsufficientScope, "reference 5.3: no crm scope");
}

#[tokio::test]
async fn call_list_errors_are_typed() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let c = f.portal();
    let contact = f.sandbox.contacts()[0].id;
    let list = f.sandbox.add_list(EntityKind::Contact, &[contact], None, 1);
    let cases: Vec<(&str, Value, ErrorCode)> = vec![
        ("crm.calllist.update", json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [contact]}), ErrorCode::Argument),
        (
            "crm.calllist.update",
            json!({"LIST_ID": list, "ENTITY_TYPE": "LEAD", "ENTITIES": [contact]}),
            ErrorCode::EntityTypeError,
        ),
        (
            "crm.calllist.update",
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": 5}),
            ErrorCode::EntitiesError,
        ),
        (
            "crm.calllist.update",
            json!({"LIST_ID": 999_999, "ENTITY_TYPE": "CONTACT", "ENTITIES": [contact]}),
            ErrorCode::ListIdError,
        ),
        (
            "crm.calllist.update",
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [contact], "WEBFORM_ID": 999_999}),
            ErrorCode::WebformError,
        ),
        ("crm.calllist.add", json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [999_999]}), ErrorCode::EntityError),
        ("crm.calllist.items.get", json!({"LIST_ID": list, "FILTER": {"STATUS": "NOPE"}}), ErrorCode::StatusError),
        ("crm.item.list", json!({"entityTypeId": 999}), ErrorCode::NotFound),
        ("crm.item.list", json!({"entityTypeId": 3, "filter": {"noSuchField": 1}}), ErrorCode::InvalidArgValue),
        (
            "event.bind",
            json!({"event": "NOSUCHEVENT", "handler": "https://app.example.com/events"}),
            ErrorCode::EventNotFound,
        ),
        ("no.such.method", json!({}), ErrorCode::MethodNotFound),
    ];
    for (method, params, want) in cases {
        let got = code(c.call(method, params.clone()).await);
        assert_eq!(got, want, "{method} {params}");
    }
    // reference 1.1 step 5: a manager without read access to contacts is refused with 403 ACCESS_ERROR.
    let companies_only = f
        .sandbox
        .users()
        .into_iter()
        .find(|u| u.permissions.read_companies && !u.permissions.read_contacts && !u.permissions.admin)
        .expect("a companies-only manager");
    let e = f
        .user(companies_only.id)
        .call("crm.calllist.update", json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [contact]}))
        .await;
    assert_eq!(code(e), ErrorCode::AccessError);
    // reference 3.6: offline event binding needs an administrator.
    let manager = f.sandbox.users().into_iter().find(|u| !u.permissions.admin).unwrap();
    let e = f
        .user(manager.id)
        .call(
            "event.bind",
            json!({"event": "ONAPPUNINSTALL", "handler": "https://a.example/e", "event_type": "offline"}),
        )
        .await;
    assert_eq!(code(e), ErrorCode::AccessDenied);
}

#[tokio::test]
async fn typed_update_sends_upper_case_and_an_explicit_form() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let contact = f.sandbox.contacts()[0].id;
    let form = f.sandbox.webforms()[0].id;
    let list = f.sandbox.add_list(EntityKind::Contact, &[contact], Some(form), 1);
    let update = Update {
        list: ListId::new(list).unwrap(),
        entity_type: EntityType::Contact,
        members: Membership::new([EntityId::new(contact).unwrap()]).unwrap(),
        form: FormChoice::Set(WebformId::new(form).unwrap()),
    };
    f.portal().calllist_update(&update).await.unwrap();
    let sent = f.sandbox.calls_of("crm.calllist.update").pop().unwrap();
    assert_eq!(sent.params["ENTITY_TYPE"], "CONTACT");
    assert_eq!(sent.params["WEBFORM_ID"].to_string().trim_matches('"'), form.to_string(), "the kept form is resent");
    assert_eq!(f.sandbox.list(list).unwrap().webform_id, Some(form), "keeping the form keeps it");
}

#[tokio::test]
async fn batch_errors_are_typed_per_command() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let mut cmd = serde_json::Map::new();
    for i in 0..51 {
        cmd.insert(format!("c{i}"), json!("user.current"));
    }
    let codes = |env: b24_calllist::bitrix::Envelope| -> Vec<ErrorCode> {
        let errors = env.result["result_error"].as_object().cloned().unwrap_or_default();
        errors.values().map(|e| ErrorCode::parse(e["error"].as_str().unwrap_or_default())).collect()
    };
    let env = f.portal().call("batch", json!({"halt": 0, "cmd": cmd})).await.unwrap();
    assert!(codes(env).contains(&ErrorCode::BatchLengthExceeded), "reference 5.6: more than 50 commands");
    let env =
        f.portal().call("batch", json!({"halt": 0, "cmd": {"nested": "batch?cmd[a]=user.current"}})).await.unwrap();
    assert!(codes(env).contains(&ErrorCode::BatchMethodNotAllowed), "reference 5.6: batch inside batch");
    let too_many: Vec<_> =
        (0..51).map(|i| b24_calllist::bitrix::batch::Command::new(format!("k{i}"), "profile", json!({}))).collect();
    assert!(
        matches!(f.portal().batch_once(&too_many, false).await, Err(BitrixError::Invalid(_))),
        "the client refuses before sending"
    );
}

#[tokio::test]
async fn token_endpoint_errors_are_typed() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let oauth = super::oauth_client(&f.sandbox);
    let e = oauth.refresh(&SecretString::from("no-such-refresh-token")).await;
    assert_eq!(code(e), ErrorCode::InvalidGrant, "reference 4.2: unknown refresh token");
    let e = oauth.exchange_code("no-such-code").await;
    assert_eq!(code(e), ErrorCode::InvalidGrant, "reference 4.1: unknown code");
    let wrong = OAuthClient::new(
        &f.sandbox.oauth_url(),
        f.sandbox.client_id(),
        &SecretString::from("wrong"),
        true,
        Duration::from_secs(5),
    )
    .unwrap();
    let t = f.sandbox.issue_tokens(1).unwrap();
    let e = wrong.refresh(&SecretString::from(t.refresh_token)).await;
    assert_eq!(code(e), ErrorCode::InvalidClient, "reference 4.2: wrong client secret");
}

#[tokio::test]
async fn a_crashed_handler_is_ambiguous_for_an_add_and_retried_for_a_read() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    f.sandbox.inject_once("crm.calllist.statuslist", b24_calllist::sandbox::FaultKind::ServerError);
    assert!(f.portal().calllist_statuslist().await.is_ok(), "a read is sent again after a 500");
    f.sandbox.inject_once("crm.calllist.add", b24_calllist::sandbox::FaultKind::ServerError);
    let e = f
        .portal()
        .call("crm.calllist.add", json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [f.sandbox.contacts()[0].id]}))
        .await;
    assert!(matches!(e, Err(BitrixError::Ambiguous { .. })), "got {e:?}");
}

/// A listener that answers every request with `reply` (or hangs when `reply` is empty), to check what
/// the client does with answers no Bitrix24 sends.
fn garbage_server(reply: &'static [u8]) -> url::Url {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = s.read(&mut buf);
                if reply.is_empty() {
                    std::thread::sleep(Duration::from_secs(5));
                } else {
                    let _ = s.write_all(reply);
                }
            });
        }
    });
    format!("http://{addr}/rest/").parse().unwrap()
}

#[tokio::test]
async fn answers_that_are_not_bitrix24s_become_typed_errors_in_bounded_time() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let at = |endpoint: url::Url| f.bitrix.caller(f.member_id.clone(), endpoint, Auth::Fixed(SecretString::from("t")));

    let html = garbage_server(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n<b>hi</b>");
    assert!(matches!(at(html).user_current().await, Err(BitrixError::BadResponse { .. })));

    let truncated =
        garbage_server(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"result\":");
    let e = at(truncated).calllist_add_raw().await;
    assert!(matches!(e, Err(BitrixError::Ambiguous { .. })), "a cut answer to an add is ambiguous: {e:?}");

    let shape = garbage_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"foo\":\"x\"}",
    );
    assert!(matches!(at(shape).user_current().await, Err(BitrixError::BadResponse { .. })));

    let mut config = fast_config(RateLimit::UNLIMITED);
    config.request_timeout = Duration::from_millis(300);
    config.default_budget = Duration::from_millis(800);
    let slow = super::client_for(&f.sandbox, f.store.clone(), config, None);
    let hang = garbage_server(b"");
    let started = std::time::Instant::now();
    let e = slow.caller(f.member_id.clone(), hang, Auth::Fixed(SecretString::from("t"))).user_current().await;
    assert!(matches!(e, Err(BitrixError::BudgetExhausted { .. })), "a portal that hangs: {e:?}");
    assert!(started.elapsed() < Duration::from_secs(4), "bounded by the budget, took {:?}", started.elapsed());
}

trait RawAdd {
    async fn calllist_add_raw(&self) -> Result<b24_calllist::bitrix::Envelope, BitrixError>;
}

impl RawAdd for b24_calllist::bitrix::Caller<'_, b24_calllist::store::Store> {
    async fn calllist_add_raw(&self) -> Result<b24_calllist::bitrix::Envelope, BitrixError> {
        self.call("crm.calllist.add", json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [1]})).await
    }
}
