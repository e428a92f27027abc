//! Every error of the reference's table on request (docs/sandbox.md "Faults on request"): reference 5.3 (the
//! system errors, their statuses and texts), 5.5 and 5.6 (a batch counts once at the front end, its commands
//! run one by one), bitrix24-docs/_includes/system-errors.md and settings/oauth/error-codes.md.

use b24_calllist::sandbox::{FaultKind, FaultsConfig, Quirks, SandboxConfig, SystemErrors};
use serde_json::{Value, json};

use super::*;

async fn batch(p: &TestPortal, token: &str, cmd: Value) -> Reply {
    p.json("batch", token, json!({"halt": 0, "cmd": cmd})).await
}

/// reference 5.5, 5.6: a fault injected for a method strikes that method's command inside a batch alone
/// (`OPERATION_TIME_LIMIT` in `result_error`), the other commands run; the next call works again.
#[tokio::test]
async fn a_methods_fault_strikes_its_batch_command_alone() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.sb.inject_once("crm.item.list", FaultKind::OperationLimit);
    let r =
        batch(&p, &t, json!({"me": "profile", "items": "crm.item.list?entityTypeId=3", "who": "user.current"})).await;
    let res = r.assert_ok();
    assert!(res["result"]["me"].is_object() && res["result"]["who"].is_object(), "{res}");
    assert_eq!(
        res["result_error"]["items"],
        json!({"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."})
    );
    let logged = p.sb.calls_of("crm.item.list");
    assert_eq!((logged[0].via.as_str(), logged[0].status), ("batch", 429));
    p.json("crm.item.list", &t, json!({"entityTypeId": 3})).await.assert_ok();
}

/// reference 5.5 (the bucket counts HTTP requests, at the front end): `QUERY_LIMIT_EXCEEDED` injected for a
/// method refuses the whole batch that calls it with 503, never one command; a batch without it passes.
#[tokio::test]
async fn query_limit_for_a_method_refuses_the_whole_batch() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.sb.inject_once("crm.item.list", FaultKind::QueryLimit);
    batch(&p, &t, json!({"me": "profile"})).await.assert_ok();
    let r = batch(&p, &t, json!({"me": "profile", "items": "crm.item.list?entityTypeId=3"})).await;
    r.assert_error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
    assert_eq!(p.sb.calls_of("profile").len(), 1, "the refused batch ran no command");
    batch(&p, &t, json!({"items": "crm.item.list?entityTypeId=3"})).await.assert_ok();
}

/// Every system error of reference 5.3 / system-errors.md, with the page's statuses and texts, on a single
/// call and on a command inside a batch.
#[tokio::test]
async fn every_reference_error_can_be_asked_for() {
    let p = start().await;
    let t = p.token(ADMIN);
    let table = [
        (FaultKind::AuthorizationError, 401, "authorization_error", "Unable to authorize user"),
        (FaultKind::UserAccessError, 403, "user_access_error", "The user does not have access to the application"),
        (FaultKind::ApplicationNotFound, 401, "APPLICATION_NOT_FOUND", "Application not found"),
        (FaultKind::PortalDeleted, 500, "PORTAL_DELETED", "Portal was deleted"),
        (FaultKind::OverloadLimit, 503, "OVERLOAD_LIMIT", "REST API is blocked due to overload"),
        (
            FaultKind::InsufficientScope,
            401,
            "insufficient_scope",
            "The request requires higher privileges than provided by the access token",
        ),
        (
            FaultKind::InvalidScope,
            401,
            "invalid_scope",
            "The request requires higher privileges than provided by the access token",
        ),
        (FaultKind::PaymentRequired, 401, "PAYMENT_REQUIRED", "Payment required"),
        (FaultKind::WrongClient, 401, "wrong_client", "Wrong client"),
        (FaultKind::MethodConfirmWaiting, 401, "METHOD_CONFIRM_WAITING", "Waiting for confirmation"),
        (FaultKind::MethodConfirmDenied, 403, "METHOD_CONFIRM_DENIED", "Method call denied"),
        (FaultKind::AccessDenied, 403, "ACCESS_DENIED", "REST API is available only on commercial plans"),
        (FaultKind::InvalidCredentials, 403, "INVALID_CREDENTIALS", "Invalid request credentials"),
        (FaultKind::ExpiredToken, 401, "expired_token", "The access token provided has expired"),
        (FaultKind::ServerError, 500, "INTERNAL_SERVER_ERROR", "Internal server error"),
    ];
    for (kind, status, code, text) in table {
        p.sb.inject_once("profile", kind);
        p.get("profile", &format!("auth={t}")).await.assert_error(status, code, text);
        p.sb.inject_once("profile", kind);
        let r = batch(&p, &t, json!({"me": "profile", "who": "user.current"})).await;
        assert_eq!(
            r.assert_ok()["result_error"]["me"],
            json!({"error": code, "error_description": text}),
            "{kind:?} inside a batch"
        );
        assert!(r.body["result"]["result"]["who"].is_object(), "the other command ran");
    }
    p.get("profile", &format!("auth={t}")).await.assert_ok();
}

/// reference 5.3's table, source column: `quirks.system_errors: source` gives the statuses and texts the
/// portal's source throws where they differ from the page.
#[tokio::test]
async fn the_sources_statuses_and_texts_are_a_switch() {
    let quirks = Quirks { system_errors: SystemErrors::Source, ..Quirks::default() };
    let p = start_with(SandboxConfig { quirks, ..small_config() }).await;
    let t = p.token(ADMIN);
    for (kind, status, code, text) in [
        (FaultKind::UserAccessError, 401, "user_access_error", "The user does not have access to the application."),
        (FaultKind::PortalDeleted, 403, "PORTAL_DELETED", "Portal was deleted"),
        (FaultKind::OverloadLimit, 401, "OVERLOAD_LIMIT", "REST API is blocked due to overload."),
        (FaultKind::AccessDenied, 401, "ACCESS_DENIED", "REST is available only on commercial plans."),
        (FaultKind::InvalidCredentials, 401, "INVALID_CREDENTIALS", "Invalid request credentials"),
    ] {
        p.sb.inject_once("profile", kind);
        p.get("profile", &format!("auth={t}")).await.assert_error(status, code, text);
    }
}

/// Injections last as long as asked (`times`, or until cleared), `*` strikes every request; the control API
/// takes the same.
#[tokio::test]
async fn injections_last_as_asked() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.sb.inject("profile", FaultKind::PaymentRequired, Some(2));
    for _ in 0..2 {
        assert_eq!(p.get("profile", &format!("auth={t}")).await.error(), "PAYMENT_REQUIRED");
    }
    p.get("profile", &format!("auth={t}")).await.assert_ok();
    p.sb.inject("*", FaultKind::PortalDeleted, None);
    assert_eq!(p.get("user.current", &format!("auth={t}")).await.error(), "PORTAL_DELETED");
    assert_eq!(batch(&p, &t, json!({"me": "profile"})).await.error(), "PORTAL_DELETED", "a whole batch too");
    assert_eq!(p.sb.injections().len(), 1);
    p.sb.clear_injections();
    p.get("user.current", &format!("auth={t}")).await.assert_ok();

    let (status, body) = p
        .control_post("inject", json!({"method": "profile", "fault": "method_confirm_waiting", "times": "always"}))
        .await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..3 {
        assert_eq!(p.get("profile", &format!("auth={t}")).await.error(), "METHOD_CONFIRM_WAITING");
    }
    let r = p.http.delete(format!("{}_sandbox/inject", p.sb.portal_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    p.get("profile", &format!("auth={t}")).await.assert_ok();
}

/// The random faults can name their methods: then they strike those methods' commands inside a batch too,
/// a command-level kind the command alone, `QUERY_LIMIT_EXCEEDED` the whole batch.
#[tokio::test]
async fn random_faults_scoped_to_a_method_reach_into_batches() {
    let p = start().await;
    let t = p.token(ADMIN);
    let scoped = |kind| FaultsConfig {
        rate: 1.0,
        kinds: vec![kind],
        methods: vec!["crm.item.list".into()],
        ..FaultsConfig::default()
    };
    p.sb.set_faults(scoped(FaultKind::ServerError));
    p.get("profile", &format!("auth={t}")).await.assert_ok();
    p.json("crm.item.list", &t, json!({"entityTypeId": 3})).await.assert_error(
        500,
        "INTERNAL_SERVER_ERROR",
        "Internal server error",
    );
    let r = batch(&p, &t, json!({"me": "profile", "items": "crm.item.list?entityTypeId=3"})).await;
    assert_eq!(r.assert_ok()["result_error"]["items"]["error"], json!("INTERNAL_SERVER_ERROR"));
    assert!(r.body["result"]["result"]["me"].is_object());
    p.sb.set_faults(scoped(FaultKind::QueryLimit));
    batch(&p, &t, json!({"me": "profile", "items": "crm.item.list?entityTypeId=3"})).await.assert_error(
        503,
        "QUERY_LIMIT_EXCEEDED",
        "Too many requests",
    );
    batch(&p, &t, json!({"me": "profile"})).await.assert_ok();
}
