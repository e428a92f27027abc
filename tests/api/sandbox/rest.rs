//! REST conventions: URLs, auth, parameter encodings, envelopes and bad input. Reference
//! (bitrix24-behaviour.md) 5.1–5.3, 5.7 and bitrix24-docs/settings/how-to-call-rest-api/general-principles.md,
//! bitrix24-docs/_includes/system-errors.md.

use b24_calllist::sandbox::EntityKind;
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

/// reference 5.1: a `multipart/form-data` body is read as a form body is: the same PHP bracket keys
/// (`ENTITIES[]`, `FILTER[STATUS]`, `filter[@id][]`), `auth` among the fields, and file parts left out.
#[tokio::test]
async fn a_multipart_body_is_read_like_a_form_body() {
    let p = start().await;
    let t = p.token(ADMIN);
    let ids = p.contact_ids(3);
    let list = p.sb.add_list(EntityKind::Contact, &ids[..1], None, ADMIN);
    let (list_s, first, a, b) = (list.to_string(), ids[0].to_string(), ids[1].to_string(), ids[2].to_string());
    let r = p
        .multipart(
            "crm.calllist.update",
            &t,
            &[
                Part::Field("LIST_ID", &list_s),
                Part::Field("ENTITY_TYPE", "CONTACT"),
                Part::Field("ENTITIES[]", &a),
                Part::File("ENTITIES[]", "more.txt", &first),
                Part::Field("ENTITIES[]", &b),
                Part::Field("WEBFORM_ID", "1"),
            ],
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true), "the token came in the `auth` field");
    let stored = p.sb.list(list).unwrap();
    assert_eq!(stored.member_ids(), vec![ids[1], ids[2]], "the file part named ENTITIES[] is not a member");
    assert_eq!(stored.webform_id, Some(1));
    let from_multipart = p.sb.calls().pop().unwrap().params;
    let form = format!("LIST_ID={list}&ENTITY_TYPE=CONTACT&ENTITIES[]={a}&ENTITIES[]={b}&WEBFORM_ID=1");
    p.form("crm.calllist.update", &t, &form).await.assert_ok();
    assert_eq!(p.sb.calls().pop().unwrap().params, from_multipart, "the same parameters as the form body");

    let by_form = p.form("crm.calllist.items.get", &t, &format!("LIST_ID={list}&FILTER[STATUS]=IN_WORK")).await;
    let by_multipart = p
        .multipart(
            "crm.calllist.items.get",
            &t,
            &[Part::Field("LIST_ID", &list_s), Part::Field("FILTER[STATUS]", "IN_WORK")],
        )
        .await;
    assert_eq!(by_multipart.assert_ok(), by_form.assert_ok());
    let by_form = p.form("crm.item.list", &t, &format!("entityTypeId=3&filter[@id][]={a}&filter[@id][]={b}")).await;
    let by_multipart = p
        .multipart(
            "crm.item.list",
            &t,
            &[Part::Field("entityTypeId", "3"), Part::Field("filter[@id][]", &a), Part::Field("filter[@id][]", &b)],
        )
        .await;
    assert_eq!(by_multipart.assert_ok()["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(by_multipart.body["result"], by_form.body["result"]);
}

/// reference 5.1: a multipart body that cannot be read gives no parameters, as invalid JSON does (so a token
/// inside it is not found), and one over the size cap gets 413, as a form body does.
#[tokio::test]
async fn a_malformed_multipart_body_gives_no_parameters() {
    let p = start_with(SandboxConfig { max_body_bytes: 4096, ..small_config() }).await;
    let t = p.token(ADMIN);
    let (content_type, good) = multipart_body(&[Part::Field("ID", "1")]);
    let cut = good[..good.len() - 12].to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (&content_type, cut),
        ("multipart/form-data", good.clone()),
        (&content_type, b"no parts at all".to_vec()),
        ("multipart/form-data; boundary=another", good.clone()),
    ];
    for (ct, body) in cases {
        let r = p.post_raw(&format!("crm.calllist.get?auth={t}"), ct, body).await;
        r.assert_error(400, "ERROR_ARGUMENT", "ID is not found");
    }
    let (_, with_auth) = multipart_body(&[Part::Field("ID", "1"), Part::Field("auth", &t)]);
    let r = p.post_raw("crm.calllist.get", "multipart/form-data", with_auth).await;
    r.assert_error(401, "NO_AUTH_FOUND", "Wrong authorization data");

    let big = "7".repeat(5000);
    let (ct, body) = multipart_body(&[Part::Field("ID", &big), Part::Field("auth", &t)]);
    assert_eq!(p.post_raw("crm.calllist.get", &ct, body).await.status, 413);
    let form = format!("ID={big}&auth={t}").into_bytes();
    assert_eq!(p.post_raw("crm.calllist.get", "application/x-www-form-urlencoded", form).await.status, 413);
}

/// reference 5.1, 5.6: a `batch` sent as a multipart form (`cmd[key]`, `halt`, `auth` as fields) answers as the
/// same batch sent as a form.
#[tokio::test]
async fn a_batch_can_be_sent_as_a_multipart_form() {
    let p = start().await;
    let t = p.token(ADMIN);
    let list = p.sb.add_list(EntityKind::Contact, &p.contact_ids(2), None, ADMIN);
    let items = format!("crm.calllist.items.get?LIST_ID={list}&FILTER[STATUS]=IN_WORK");
    let by_multipart = p
        .multipart(
            "batch",
            &t,
            &[
                Part::Field("halt", "0"),
                Part::Field("cmd[me]", "user.current"),
                Part::Field("cmd[items]", &items),
                Part::Field("cmd[bad]", "crm.calllist.get?ID=9999"),
            ],
        )
        .await;
    let by_form = p
        .form(
            "batch",
            &t,
            &format!(
                "halt=0&cmd[me]=user.current&cmd[items]={}&cmd[bad]=crm.calllist.get%3FID%3D9999",
                url::form_urlencoded::byte_serialize(items.as_bytes()).collect::<String>()
            ),
        )
        .await;
    let (m, f) = (by_multipart.assert_ok(), by_form.assert_ok());
    assert_eq!(m["result"]["items"].as_array().map(Vec::len), Some(2), "{m}");
    for map in ["result", "result_error", "result_total", "result_next"] {
        assert_eq!(m[map], f[map], "{map}");
    }
}

/// The status of an answer and its headers, for the header checks.
async fn headers_of(r: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap) {
    let r = r.send().await.expect("the sandbox answers");
    (r.status().as_u16(), r.headers().clone())
}

/// reference 5.1: every REST answer, success or error, single call or `batch`, 401 and limit refusals
/// included, carries `Access-Control-Allow-Origin: *` and `X-Bitrix-Rest-Time`, `-User-Time`, `-System-Time`
/// (seconds, written with ten decimals); `X-Bitrix-Rest-Application` names the app when the call came with
/// one of its tokens, and only then.
#[tokio::test]
async fn every_answer_carries_the_portals_rest_headers() {
    let p = start().await;
    let t = p.token(ADMIN);
    let expired = p.token(MANAGER_BOTH);
    p.sb.expire_access_tokens(Some(MANAGER_BOTH));
    let narrow = p.sb.issue_tokens_with_scope(ADMIN, Some(&["user"])).unwrap().access_token;
    let get = |q: String| p.http.get(q);
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, bool)> = vec![
        ("a success", get(format!("{}?auth={t}", p.rest("profile"))), 200, true),
        ("a method error", get(format!("{}?ID=9999&auth={t}", p.rest("crm.calllist.get"))), 400, true),
        ("an unknown method", get(format!("{}?auth={t}", p.rest("crm.deal.frobnicate"))), 404, true),
        ("a scope refusal", get(format!("{}?auth={narrow}", p.rest("crm.calllist.statuslist"))), 401, true),
        ("no token", get(p.rest("profile")), 401, false),
        ("an unknown token", get(format!("{}?auth=abcdefghijklmnopqrstuvwxyz012345", p.rest("profile"))), 401, false),
        ("an expired token", get(format!("{}?auth={expired}", p.rest("profile"))), 401, false),
        (
            "a batch",
            p.http
                .post(p.rest("batch"))
                .json(&json!({"auth": t, "cmd": {"a": "profile", "b": "crm.calllist.get?ID=9"}})),
            200,
            true,
        ),
        (
            "a multipart call",
            {
                let (ct, body) = multipart_body(&[Part::Field("auth", &t)]);
                p.http.post(p.rest("profile")).header("Content-Type", ct).body(body)
            },
            200,
            true,
        ),
    ];
    for (what, request, status, by_app) in cases {
        let (got, h) = headers_of(request).await;
        assert_eq!(got, status, "{what}");
        assert_rest_headers(&h, by_app.then_some(p.sb.client_id()), what);
    }

    // limit refusals: the bucket (503) and the operating budget (429)
    p.sb.set_limits(LimitsConfig { bucket: true, burst: 1.0, drain_per_sec: 0.0, ..LimitsConfig::off() });
    let profile = format!("{}?auth={t}", p.rest("profile"));
    assert_eq!(headers_of(p.http.get(&profile)).await.0, 200);
    let (status, h) = headers_of(p.http.get(&profile)).await;
    assert_eq!(status, 503);
    assert_rest_headers(&h, Some(p.sb.client_id()), "a bucket refusal");
    let (status, h) = headers_of(p.http.get(p.rest("profile"))).await;
    assert_eq!(status, 503);
    assert_rest_headers(&h, None, "a bucket refusal without a token");
    p.sb.set_limits(LimitsConfig {
        operating: true,
        operating_limit_secs: 1.0,
        operating_costs: [("profile".to_owned(), 5.0)].into(),
        ..LimitsConfig::off()
    });
    assert_eq!(headers_of(p.http.get(&profile)).await.0, 200);
    let (status, h) = headers_of(p.http.get(&profile)).await;
    assert_eq!(status, 429);
    assert_rest_headers(&h, Some(p.sb.client_id()), "an operating-time refusal");
}

#[track_caller]
fn assert_rest_headers(h: &reqwest::header::HeaderMap, app: Option<&str>, what: &str) {
    assert_eq!(h.get("access-control-allow-origin").map(|v| v.to_str().unwrap()), Some("*"), "{what}: {h:?}");
    assert_eq!(h.get("x-bitrix-rest-application").map(|v| v.to_str().unwrap()), app, "{what}: {h:?}");
    for name in ["x-bitrix-rest-time", "x-bitrix-rest-user-time", "x-bitrix-rest-system-time"] {
        let v = h.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let (whole, decimals) = v.split_once('.').unwrap_or((&v, ""));
        assert!(
            !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && decimals.len() == 10
                && decimals.bytes().all(|b| b.is_ascii_digit()),
            "{what}: {name} is seconds with ten decimals, not {v:?}"
        );
    }
}
