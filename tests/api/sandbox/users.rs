//! `user.get`: the official page `api-reference/user/user-get.md` (`bitrix24/b24restdocs`), read with the
//! rest module's `userGet` where the page is silent (docs/sandbox.md, "user.get").

use b24_calllist::sandbox::Permissions;
use serde_json::{Value, json};

use super::*;

fn ids(r: &Reply) -> Vec<String> {
    r.assert_ok().as_array().unwrap().iter().map(|u| u["ID"].as_str().unwrap().to_owned()).collect()
}

/// user-get.md "Response Handling": every user, fields as the example writes them (`ID` a string, `ACTIVE` a
/// boolean, `TIMESTAMP_X` and `LAST_ACTIVITY_DATE` as `{}`), `total` beside the result.
#[tokio::test]
async fn user_get_lists_the_portals_users_as_the_page_writes_them() {
    let p = start().await;
    let r = p.json("user.get", &p.token(MANAGER_BOTH), json!({})).await;
    assert_eq!(ids(&r), ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(r.body["total"], json!(6));
    assert!(r.body.get("next").is_none());
    let anna = &r.assert_ok()[0];
    assert_eq!(anna["NAME"], json!("Анна"));
    assert_eq!(anna["LAST_NAME"], json!("Администраторова"));
    assert_eq!(anna["ACTIVE"], json!(true));
    assert_eq!(anna["EMAIL"], json!("admin@example.ru"));
    assert_eq!(anna["TIMESTAMP_X"], json!({}));
    assert_eq!(anna["UF_DEPARTMENT"], json!([1]));
    assert_eq!(anna["USER_TYPE"], json!("employee"));
}

/// user-get.md "FILTER": `ID` as one value or a list of them, in JSON, a form body or the top level.
#[tokio::test]
async fn user_get_filters_by_one_id_or_a_list_of_them() {
    let p = start().await;
    let t = p.token(MANAGER_BOTH);
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"ID": 3}})).await), ["3"]);
    assert_eq!(ids(&p.json("user.get", &t, json!({"filter": {"ID": "3"}})).await), ["3"]);
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"ID": [5, 2]}})).await), ["2", "5"]);
    assert_eq!(ids(&p.form("user.get", &t, "FILTER[ID][]=6&FILTER[ID][]=4").await), ["4", "6"]);
    // Without FILTER the top-level parameters are the filter, as in the page's first example.
    assert_eq!(ids(&p.json("user.get", &t, json!({"ID": 2})).await), ["2"]);
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"@ID": [1, 6]}})).await), ["1", "6"]);
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {">ID": 4}})).await), ["5", "6"]);
    let none = p.json("user.get", &t, json!({"FILTER": {"ID": 99}})).await;
    assert_eq!(none.assert_ok(), &json!([]));
    assert!(none.body.get("total").is_none(), "an empty answer carries no paging keys: {}", none.text);
}

/// user-get.md "FILTER": `ACTIVE` true leaves dismissed users out; a bare text value matches as `LIKE`
/// (`{"NAME": "Iva%"}`), `%` finds a substring; keys that are not user fields are ignored.
#[tokio::test]
async fn user_get_filters_by_activity_and_names() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.sb.set_user_active(NO_CRM, false).unwrap();
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"ACTIVE": true}})).await), ["1", "2", "3", "4", "6"]);
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"ACTIVE": "N"}})).await), ["5"]);
    let all = p.json("user.get", &t, json!({})).await;
    assert_eq!(all.assert_ok()[4]["ACTIVE"], json!(false), "a dismissed user is still listed without the filter");
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"NAME": "Ан%"}})).await), ["1"]);
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"NAME": "Car"}})).await), Vec::<String>::new());
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"%LAST_NAME": "продаж"}})).await), ["2"]);
    assert_eq!(ids(&p.json("user.get", &t, json!({"FILTER": {"NO_SUCH_FIELD": "x", "ID": 2}})).await), ["2"]);
}

/// user-get.md "sort", "order": both name the order; one alone leaves the portal's order (by ID).
#[tokio::test]
async fn user_get_sorts_by_sort_and_order() {
    let p = start().await;
    let t = p.token(ADMIN);
    let r = p.json("user.get", &t, json!({"SORT": "ID", "ORDER": "desc"})).await;
    assert_eq!(ids(&r), ["6", "5", "4", "3", "2", "1"]);
    let r = p.json("user.get", &t, json!({"sort": "LAST_NAME", "order": "ASC", "FILTER": {"<ID": 4}})).await;
    assert_eq!(ids(&r), ["3", "1", "2"], "Latin before Cyrillic, as text sorts");
    let r = p.json("user.get", &t, json!({"SORT": "ID"})).await;
    assert_eq!(ids(&r), ["1", "2", "3", "4", "5", "6"]);
}

/// user-get.md "start": pages of 50, `next` while more remain; `start=-1` counts nothing (`total` 0, as
/// `IRestService::setNavData` writes it with no count).
#[tokio::test]
async fn user_get_pages_by_fifty() {
    let p = start().await;
    for i in 0..60 {
        p.sb.add_user("Тест", &format!("Пользователь {i}"), Permissions::manager(true, true));
    }
    let t = p.token(ADMIN);
    let first = p.json("user.get", &t, json!({})).await;
    assert_eq!(first.assert_ok().as_array().unwrap().len(), 50);
    assert_eq!((first.body["total"].clone(), first.body["next"].clone()), (json!(66), json!(50)));
    let second = p.json("user.get", &t, json!({"start": 50})).await;
    assert_eq!(second.assert_ok().as_array().unwrap().len(), 16);
    assert_eq!(second.body["total"], json!(66));
    assert!(second.body.get("next").is_none());
    let uncounted = p.json("user.get", &t, json!({"start": -1})).await;
    assert_eq!(uncounted.assert_ok().as_array().unwrap().len(), 50);
    assert_eq!(uncounted.body["total"], json!(0));
}

/// user-get.md "Scope: user, user_brief, user_basic": another scope is refused; `user_brief` shows names
/// but not e-mails (the rest module's field lists per scope).
#[tokio::test]
async fn user_get_needs_a_user_scope_and_shows_what_it_allows() {
    let p = start().await;
    let crm_only = p.sb.issue_tokens_with_scope(ADMIN, Some(&["crm"])).unwrap().access_token;
    let r = p.json("user.get", &crm_only, json!({})).await;
    assert_eq!((r.status, r.error()), (401, "insufficient_scope"), "{}", r.text);
    let brief = p.sb.issue_tokens_with_scope(ADMIN, Some(&["user_brief"])).unwrap().access_token;
    let r = p.json("user.get", &brief, json!({"FILTER": {"ID": 1}})).await;
    let user = &r.assert_ok()[0];
    assert_eq!(user["NAME"], json!("Анна"));
    assert!(user.get("EMAIL").is_none(), "user_brief shows no e-mail: {user}");
    // A filter on a field the scope does not show is dropped, as the portal drops it.
    let r = p.json("user.get", &brief, json!({"FILTER": {"EMAIL": "nobody@example.com"}})).await;
    assert_eq!(r.assert_ok().as_array().map(Vec::len), Some(6));
    let basic = p.sb.issue_tokens_with_scope(ADMIN, Some(&["user_basic"])).unwrap().access_token;
    let r = p.json("user.get", &basic, json!({"FILTER": {"ID": 1}})).await;
    assert_eq!(r.assert_ok()[0]["EMAIL"], json!("admin@example.ru"));
    assert_eq!(r.assert_ok()[0].get("LAST_LOGIN"), None::<&Value>);
}
