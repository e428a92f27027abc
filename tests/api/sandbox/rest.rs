//! REST conventions: URLs, auth, parameter encodings, envelopes and bad input. Reference
//! (bitrix24-behaviour.md) 5.1–5.3, 5.7 and bitrix24-docs/settings/how-to-call-rest-api/general-principles.md,
//! bitrix24-docs/_includes/system-errors.md.

use serde_json::json;

use super::*;

/// reference 5.1: `/rest/<method>` and `/rest/<method>.json`, method names case-insensitive.
#[tokio::test]
async fn method_names_are_case_insensitive_with_or_without_json() {
    let p = start().await;
    let t = p.token(ADMIN);
    for m in ["profile", "profile.json", "PROFILE", "Profile.JSON"] {
        let r = p.get(m, &format!("auth={t}")).await;
        assert_eq!(r.assert_ok()["ID"], json!("1"), "{m}");
    }
    assert_eq!(p.sb.calls().iter().filter(|c| c.method == "profile").count(), 4);
}

/// reference 5.1: the token from `Authorization: Bearer`, `auth`, `auth[access_token]` or `access_token`.
#[tokio::test]
async fn the_token_is_read_from_every_documented_place() {
    let p = start().await;
    let t = p.token(MANAGER_BOTH);
    let who = |r: &Reply| r.body["result"]["ID"].as_str().unwrap_or("").to_owned();
    let r = Reply::of(p.http.post(p.rest("user.current")).bearer_auth(&t).send().await.unwrap()).await;
    assert_eq!(who(&r), "2");
    assert_eq!(who(&p.get("user.current", &format!("auth={t}")).await), "2");
    assert_eq!(who(&p.get("user.current", &format!("access_token={t}")).await), "2");
    let r = Reply::of(
        p.http
            .post(p.rest("user.current"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("auth[access_token]={t}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(who(&r), "2");
    let last = p.sb.calls().pop().unwrap();
    assert_eq!(last.token.as_deref(), Some(t.as_str()));
    assert_eq!(last.user_id, Some(MANAGER_BOTH));
    assert_eq!(last.params, json!([]), "auth parameters are removed from the method's parameters");
}

/// reference 5.3 table: no token → 401 `NO_AUTH_FOUND`; system-errors.md.
#[tokio::test]
async fn a_call_without_a_token_is_no_auth_found() {
    let p = start().await;
    p.get("profile", "").await.assert_error(401, "NO_AUTH_FOUND", "Wrong authorization data");
}

/// reference 5.3 table, 7 item 3: an unknown token → 401 `invalid_token`.
#[tokio::test]
async fn an_unknown_token_is_invalid_token() {
    let p = start().await;
    let r = p.get("profile", "auth=abcdefghijklmnopqrstuvwxyz012345").await;
    assert_eq!((r.status, r.error()), (401, "invalid_token"), "{}", r.text);
    assert!(r.body.get("time").is_none());
}

/// reference 5.3 table: an expired token → 401 `expired_token` "The access token provided has expired".
#[tokio::test]
async fn an_expired_token_is_expired_token() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.sb.expire_access_tokens(Some(ADMIN));
    p.get("profile", &format!("auth={t}")).await.assert_error(
        401,
        "expired_token",
        "The access token provided has expired",
    );
    let fresh = p.token(ADMIN);
    p.get("profile", &format!("auth={fresh}")).await.assert_ok();
}

/// reference 4.2 "access token 1 hour": a token expires after its lifetime on the sandbox clock.
#[tokio::test]
async fn an_access_token_expires_after_its_lifetime() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.sb.advance_clock(std::time::Duration::from_secs(3_599));
    p.get("profile", &format!("auth={t}")).await.assert_ok();
    p.sb.advance_clock(std::time::Duration::from_secs(2));
    p.get("profile", &format!("auth={t}")).await.assert_error(
        401,
        "expired_token",
        "The access token provided has expired",
    );
}

/// reference 5.3 table and 7 item 3: a token without the `crm` scope calling `crm.*` → `insufficient_scope`.
#[tokio::test]
async fn a_token_without_crm_scope_is_insufficient_scope() {
    let p = start().await;
    let t = p.sb.issue_tokens_with_scope(ADMIN, Some(&["user"])).unwrap().access_token;
    p.json("crm.calllist.statuslist", &t, json!({})).await.assert_error(
        401,
        "insufficient_scope",
        "The request requires higher privileges than provided by the access token",
    );
    p.json("user.current", &t, json!({})).await.assert_ok();
}

/// reference 5.3 table: an unknown method → 404 `ERROR_METHOD_NOT_FOUND`.
#[tokio::test]
async fn an_unknown_method_is_method_not_found() {
    let p = start().await;
    p.json("crm.deal.frobnicate", &p.token(ADMIN), json!({})).await.assert_error(
        404,
        "ERROR_METHOD_NOT_FOUND",
        "Method not found!",
    );
}

/// reference 5.2; data-types.md#time: the success envelope's `time` with `operating` and `operating_reset_at`.
#[tokio::test]
async fn success_envelopes_carry_time_with_operating() {
    let p = start().await;
    let r = p.json("profile", &p.token(ADMIN), json!({})).await;
    r.assert_ok();
    let time = &r.body["time"];
    for key in ["start", "finish", "duration", "processing", "operating"] {
        assert!(time[key].is_number(), "{key} in {time}");
    }
    assert!(time["operating_reset_at"].is_i64());
    for key in ["date_start", "date_finish"] {
        let d = time[key].as_str().unwrap();
        assert!(d.len() == 25 && d.as_bytes()[10] == b'T', "ISO 8601 with offset: {d}");
    }
    assert!(time["finish"].as_f64() >= time["start"].as_f64());
}

/// reference 5.1: response headers of the cloud (JSON content type, CORS, the app's client id).
#[tokio::test]
async fn responses_carry_the_portals_headers() {
    let p = start().await;
    let r = p.http.get(format!("{}?auth={}", p.rest("profile"), p.token(ADMIN))).send().await.unwrap();
    let h = r.headers();
    assert_eq!(h["content-type"], "application/json; charset=utf-8");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["x-bitrix-rest-application"], p.sb.client_id());
}

/// reference 5.1: JSON is read only with `Content-Type: application/json`; a JSON body sent as text is ignored.
#[tokio::test]
async fn a_json_body_needs_the_json_content_type() {
    let p = start().await;
    let t = p.token(ADMIN);
    let body = json!({"ID": 1}).to_string();
    let r = Reply::of(
        p.http
            .post(format!("{}?auth={t}", p.rest("crm.calllist.get")))
            .header("Content-Type", "text/plain")
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(400, "ERROR_ARGUMENT", "ID is not found");
    let r = Reply::of(
        p.http
            .post(format!("{}?auth={t}", p.rest("crm.calllist.get")))
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(400, "LIST_ID_ERROR", "Incorrect list id");
}

/// reference 5.1: invalid JSON silently becomes empty parameters (query parameters still count).
#[tokio::test]
async fn malformed_json_becomes_empty_parameters() {
    let p = start().await;
    let t = p.token(ADMIN);
    for body in ["{\"ID\": 1", "[1,2", "\u{0}\u{1}garbage", "\"just a string\"", "null"] {
        let r = Reply::of(
            p.http
                .post(format!("{}?auth={t}", p.rest("crm.calllist.get")))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        r.assert_error(400, "ERROR_ARGUMENT", "ID is not found");
    }
}

/// reference 5.1: body parameters override query parameters of the same name.
#[tokio::test]
async fn body_parameters_override_the_query() {
    let p = start().await;
    let t = p.token(ADMIN);
    let r = Reply::of(
        p.http
            .post(format!("{}?auth={t}&ID=1", p.rest("crm.calllist.get")))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("ID=77")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(400, "LIST_ID_ERROR", "Incorrect list id");
    assert_eq!(p.sb.calls().pop().unwrap().params, json!({"ID": "77"}));
}

/// "Bad input": wrong types, odd bracket keys and huge bodies get an error envelope (or 413), never a crash.
#[tokio::test]
async fn bad_input_never_breaks_the_portal() {
    let p = start().await;
    let t = p.token(ADMIN);
    let bodies = [
        "LIST_ID[]=1&ENTITY_TYPE[x]=y&ENTITIES=",
        "[=1&]=2&a[b=3&c]]=4&ENTITIES[[[]]]=5&%ZZ=%GG",
        "LIST_ID=1&ENTITY_TYPE=CONTACT&ENTITIES[a][b][c]=1",
        "LIST_ID=99999999999999999999999&ENTITY_TYPE=CONTACT&ENTITIES[]=-1",
    ];
    for b in bodies {
        let r = p.form("crm.calllist.update", &t, b).await;
        assert!(
            r.status >= 400 && r.status < 600 && (r.body.get("error").is_some() || r.status == 500),
            "{b}: {}",
            r.text
        );
    }
    let deep = format!("x{}=1", "[a]".repeat(200));
    p.form("profile", &t, &deep).await.assert_ok();
    for v in [
        json!({"LIST_ID": {"a": 1}, "ENTITY_TYPE": ["CONTACT"], "ENTITIES": [[1], {"x": null}, true, 1.5]}),
        json!({"LIST_ID": true, "ENTITY_TYPE": null, "ENTITIES": {}}),
    ] {
        let r = p.json("crm.calllist.update", &t, v.clone()).await;
        assert!(r.status >= 400, "{v}: {}", r.text);
    }
    let huge = vec![b'a'; 40 * 1024 * 1024];
    let r = p
        .http
        .post(p.rest("profile"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status().as_u16(), 413);
    }
    p.get("profile", &format!("auth={t}")).await.assert_ok();
}

/// reference 5.1 "change-domen": a renamed portal answers REST calls with 302 to its new address.
#[tokio::test]
async fn a_renamed_portal_redirects_rest_calls() {
    let p = start().await;
    p.sb.set_moved_to(Some("https://new-name.example.com/".parse().unwrap()));
    let r = p.http.get(format!("{}?auth=x", p.rest("profile"))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(r.headers()["location"], "https://new-name.example.com/rest/profile?auth=x");
    p.sb.set_moved_to(None);
    p.get("profile", &format!("auth={}", p.token(ADMIN))).await.assert_ok();
}

/// reference 5.7: `user.current`, `profile` and `app.info` describe the token's user and the app.
#[tokio::test]
async fn identity_methods_describe_the_caller_and_the_app() {
    let p = start().await;
    let t = p.token(MANAGER_CONTACTS);
    let u = p.json("user.current", &t, json!({})).await;
    let u = u.assert_ok();
    assert_eq!((u["ID"].clone(), u["ACTIVE"].clone()), (json!("3"), json!(true)));
    let pr = p.json("profile", &t, json!({})).await;
    assert_eq!(pr.assert_ok()["ADMIN"], json!(false));
    let pr = p.json("profile", &p.token(ADMIN), json!({})).await;
    assert_eq!(pr.assert_ok()["ADMIN"], json!(true));
    let a = p.json("app.info", &t, json!({})).await;
    let a = a.assert_ok();
    assert_eq!(a["INSTALLED"], json!(true));
    assert_eq!(a["STATUS"], json!("F"));
    assert_eq!(a["PAYMENT_EXPIRED"], json!("N"));
    assert!(a["ID"].is_u64() && a["VERSION"].is_u64() && a["LICENSE"].is_string());
}

/// reference 3.6; event-bind.md, placement-bind.md: bindings, their argument and permission errors.
#[tokio::test]
async fn event_and_placement_binding() {
    let p = start().await;
    let admin = p.token(ADMIN);
    let r =
        p.json("event.bind", &admin, json!({"event": "onAppUninstall", "handler": "http://127.0.0.1:9/events"})).await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.app_state().events[0].event, "ONAPPUNINSTALL");
    p.json("event.bind", &admin, json!({"event": "ONNOTHING", "handler": "http://x/"})).await.assert_error(
        400,
        "ERROR_EVENT_NOT_FOUND",
        "Event not found",
    );
    let m = p.token(MANAGER_BOTH);
    p.json("event.bind", &m, json!({"event": "ONCRMCONTACTADD", "handler": "http://x/", "event_type": "offline"}))
        .await
        .assert_error(
            403,
            "ACCESS_DENIED",
            "Access denied! Offline events binding requires administrator access rights",
        );
    p.json("event.bind", &m, json!({"event": "ONCRMCONTACTADD", "handler": "http://x/", "auth_type": 1}))
        .await
        .assert_error(
            403,
            "ACCESS_DENIED",
            "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
        );
    let r = p.json("placement.bind", &admin, json!({"HANDLER": "http://x/"})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "Argument 'PLACEMENT' is null or empty");
    assert_eq!(r.body["argument"], json!("PLACEMENT"));
    assert_eq!(
        p.json(
            "placement.bind",
            &admin,
            json!({"PLACEMENT": "CRM_CONTACT_LIST_MENU", "HANDLER": "http://x/", "TITLE": "Call list"})
        )
        .await
        .assert_ok(),
        &json!(true)
    );
    assert_eq!(
        p.json("placement.bind", &m, json!({"PLACEMENT": "CRM_CONTACT_LIST_MENU", "HANDLER": "http://x/"}))
            .await
            .status,
        403
    );
}
