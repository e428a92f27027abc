//! The client against answers as a portal writes them (reference 5.1, 5.6): a `batch` whose failed commands
//! have no `result_time`, and a call sent as `multipart/form-data`, which the portal reads as a form.

use b24_calllist::bitrix::batch::Command;
use b24_calllist::bitrix::{BitrixError, ErrorCode, RateLimit};
use b24_calllist::sandbox::EntityKind;
use serde_json::{Value, json};

use super::{Fixture, unlimited};

/// reference 5.6: the commands that succeeded are read, the failed one is a typed error, with or without
/// `halt`, although the portal writes no `result_time` for a failed command.
#[tokio::test]
async fn a_batch_with_a_failed_command_is_read_command_by_command() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let caller = f.user(1);
    let commands = [
        Command::new("me", "user.current", json!({})),
        Command::new("missing", "crm.calllist.get", json!({"ID": 999_999})),
        Command::new("statuses", "crm.calllist.statuslist", json!({})),
    ];
    let mut out = caller.batch_once(&commands, false).await.expect("the batch is read");
    assert_eq!(out.take("me").unwrap()["ID"], json!("1"));
    assert!(out.take("statuses").unwrap().as_array().is_some_and(|s| s.len() == 4));
    match out.take("missing") {
        Err(BitrixError::Api(e)) => {
            assert_eq!((e.code, e.method.as_str()), (ErrorCode::ListIdError, "crm.calllist.get"))
        }
        other => panic!("the failed command is its error, not {other:?}"),
    }

    let mut out = caller.batch_once(&commands, true).await.expect("the halted batch is read");
    assert!(out.take("me").is_ok());
    assert!(matches!(out.take("missing"), Err(BitrixError::Api(_))));
    assert!(
        matches!(out.take("statuses"), Err(BitrixError::BadResponse { .. })),
        "a command after the halt has neither a result nor an error"
    );

    let failing = [
        Command::new("a", "crm.calllist.get", json!({"ID": 999_998})),
        Command::new("b", "crm.calllist.get", json!({"ID": 999_999})),
    ];
    let mut out = caller.batch_once(&failing, false).await.expect("a batch where every command failed is read");
    assert!(out.results.is_empty());
    assert!(matches!(out.take("a"), Err(BitrixError::Api(_))) && matches!(out.take("b"), Err(BitrixError::Api(_))));
    let raw = caller.call("batch", json!({"cmd": {"a": "crm.calllist.get?ID=999998"}})).await.unwrap();
    assert_eq!(raw.result["result_time"], json!([]), "the portal's answer the client read: {}", raw.result);
}

/// The `(key, value)` pairs PHP reads from a parameter object (`http_build_query`): bracket keys.
fn php_pairs(params: &Value) -> Vec<(String, String)> {
    let query = b24_calllist::bitrix::query::build(params);
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// reference 5.1: the same call sent as `multipart/form-data`, as a form and by the client (JSON) gets the same
/// answer.
#[tokio::test]
async fn a_multipart_call_gets_the_same_answer_as_the_form_call() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let token = f.sandbox.issue_tokens(1).unwrap().access_token;
    let ids: Vec<u64> = f.sandbox.contacts().iter().take(3).map(|c| c.id).collect();
    let list = f.sandbox.add_list(EntityKind::Contact, &ids, None, 1);
    let http = reqwest::Client::new();
    let url = |method: &str| format!("{}{method}", f.endpoint);
    for (method, params) in [
        ("crm.calllist.items.get", json!({"LIST_ID": list, "FILTER": {"STATUS": "IN_WORK"}})),
        ("crm.item.list", json!({"entityTypeId": 3, "select": ["id", "name"], "filter": {"@id": ids}})),
    ] {
        let by_client = f.user(1).call(method, params.clone()).await.expect("the client's call").result;

        let mut pairs = php_pairs(&params);
        pairs.push(("auth".into(), token.clone()));
        let form = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        let by_form: Value = http
            .post(url(method))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();

        let boundary = "client-test-boundary-x8QfT2";
        let mut body = String::new();
        for (k, v) in &pairs {
            body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let by_multipart: Value = http
            .post(url(method))
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();

        assert_eq!(by_multipart["result"], by_form["result"], "{method}: multipart and form");
        assert_eq!(by_multipart["result"], by_client, "{method}: multipart and the client's own call");
    }
}
