//! The app in the CRM's lists and cards (the official widget pages: placement-bind, crm/list-menu,
//! crm/detail-tab, crm/list-toolbar): the places are bound at install with the portal's token, opened with
//! `PLACEMENT` and `PLACEMENT_OPTIONS`, and a bad one is refused before anything is asked.

use b24_calllist::sandbox::SandboxConfig;

use crate::harness::{ADMIN, MANAGER, Options, TestApp, page_tokens};

const CODES: [&str; 6] = [
    "CRM_CONTACT_LIST_MENU",
    "CRM_COMPANY_LIST_MENU",
    "CRM_CONTACT_DETAIL_TAB",
    "CRM_COMPANY_DETAIL_TAB",
    "CRM_CONTACT_LIST_TOOLBAR",
    "CRM_COMPANY_LIST_TOOLBAR",
];

fn bound(app: &TestApp) -> Vec<String> {
    let mut codes: Vec<String> = app
        .sandbox
        .calls_of("placement.bind")
        .iter()
        .filter(|c| c.error.is_none())
        .map(|c| c.params["PLACEMENT"].as_str().unwrap_or_default().to_owned())
        .collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn install_binds_the_six_places_with_the_portals_token_and_reinstall_again_without_error() {
    let app = TestApp::installed().await;
    let mut want: Vec<String> = CODES.iter().map(|c| c.to_string()).collect();
    want.sort();
    assert_eq!(bound(&app), want, "every place bound once");
    let binds = app.sandbox.calls_of("placement.bind");
    assert!(binds.iter().all(|c| c.user_id == Some(ADMIN)), "with the portal's token (the installing admin's)");
    let stored = app.store.tokens(&app.member_id()).await.unwrap().unwrap();
    use secrecy::ExposeSecret;
    assert!(
        binds
            .iter()
            .all(|c| c.token.as_deref().is_none_or(|t| t == stored.tokens.access_token.expose_secret())
                || c.via == "batch"),
        "never a manager's token"
    );
    assert!(
        binds.iter().any(|c| c.params["LANG_ALL"]["ru"]["TITLE"] == "Добавить в список обзвона"),
        "titles in Russian too"
    );
    // A reinstall keeps what is bound and binds nothing twice.
    assert_eq!(app.sandbox.install_app().await.unwrap(), 200);
    assert_eq!(app.sandbox.calls_of("placement.bind").iter().filter(|c| c.error.is_some()).count(), 0);
    let portal = app.store.portal(&app.member_id()).await.unwrap().unwrap();
    assert_eq!(app.state.portals.placements_refused(&portal).await, None);
}

#[tokio::test]
async fn a_refused_bind_is_shown_to_the_administrator_and_the_app_still_opens() {
    let mut o = Options {
        sandbox: SandboxConfig { scope: "crm,user".into(), ..Options::default().sandbox },
        ..Options::default()
    };
    o.sandbox.app_installed = false;
    let app = TestApp::start(o).await;
    assert_eq!(app.sandbox.install_app().await.unwrap(), 200, "the install itself succeeds");
    let (status, admin) = app.open_as(ADMIN).await;
    assert_eq!(status, 200);
    assert!(admin.contains("id=\"placements-refused\""), "the administrator is told");
    let (status, manager) = app.open_as(MANAGER).await;
    assert_eq!(status, 200, "managers still work from the app's own menu");
    assert!(!manager.contains("id=\"placements-refused\""), "a manager is not bothered with it");
}

/// The frame form of a place, its options replaced.
fn placement_post(
    app: &TestApp,
    placement: &str,
    options: Option<&str>,
    lang: &str,
) -> (String, Vec<(String, String)>) {
    let form = app.sandbox.placement_form(MANAGER, placement, Some(7)).unwrap();
    let mut action = url::Url::parse(&form.action).unwrap();
    let query: Vec<(String, String)> = action
        .query_pairs()
        .map(|(k, v)| (k.to_string(), if k == "LANG" { lang.to_owned() } else { v.into_owned() }))
        .collect();
    action.query_pairs_mut().clear().extend_pairs(query);
    let mut fields: Vec<(String, String)> = form.fields.into_iter().filter(|(k, _)| k != "PLACEMENT_OPTIONS").collect();
    if let Some(o) = options {
        fields.push(("PLACEMENT_OPTIONS".into(), o.into()));
    }
    (action.to_string(), fields)
}

#[tokio::test]
async fn bad_placement_options_get_a_page_that_says_what_was_wrong_and_change_nothing() {
    let app = TestApp::installed().await;
    let company_only = 900; // a contact ID no company has
    let cases = [
        ("CRM_CONTACT_LIST_MENU", Some("{not json".to_owned()), 400, ("PLACEMENT_OPTIONS", "PLACEMENT_OPTIONS")),
        ("CRM_CONTACT_LIST_MENU", Some("{}".to_owned()), 400, ("did not say which", "не сообщил")),
        (
            "CRM_COMPANY_DETAIL_TAB",
            Some(format!("{{\"ID\":\"{company_only}\"}}")),
            404,
            ("This company does not exist", "Такой компании нет"),
        ),
        (
            "CRM_CONTACT_LIST_MENU",
            Some(format!("{{\"ID\":\"{}\"}}", "9".repeat(1 << 20))),
            413,
            ("too large", "слишком велик"),
        ),
    ];
    let before = app.sandbox.calls().len();
    for (placement, options, status, (en, ru)) in cases {
        for (lang, words) in [("en", en), ("ru", ru)] {
            let (action, fields) = placement_post(&app, placement, options.as_deref(), lang);
            let r = app.http.post(action).form(&fields).send().await.unwrap();
            assert_eq!(r.status().as_u16(), status, "{placement} {lang}");
            let page = r.text().await.unwrap();
            assert!(page.contains(words), "{placement} {lang}: the page says what was wrong:\n{page}");
        }
    }
    let changing = ["crm.calllist.update", "crm.calllist.add"];
    assert!(app.sandbox.calls().iter().skip(before).all(|c| !changing.contains(&c.method.as_str())), "nothing changed");
}

#[tokio::test]
async fn from_a_row_menu_to_a_saved_list_with_the_manager_token_and_the_form_kept() {
    let app = TestApp::installed().await;
    let list = app.sandbox.lists().iter().find(|l| l.members.len() == 1000).unwrap().id;
    let form = app.sandbox.webforms()[0].id;
    app.sandbox.set_list_webform(list, Some(form)).unwrap();
    let before = app.sandbox.list(list).unwrap().member_ids();
    let someone = app.sandbox.add_contact("Row", "Menu");
    let since = app.sandbox.calls().last().map(|c| c.seq).unwrap_or(0);
    let form_post = app.sandbox.placement_form(MANAGER, "CRM_CONTACT_LIST_MENU", Some(someone)).unwrap();
    let r = app.http.post(&form_post.action).form(&form_post.fields).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Row Menu") && page.contains(&format!("data-add-to=\"{list}\"")),
        "a choice of lists for them"
    );
    let (session, csrf) = page_tokens(&page);
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let mut all = vec![("_session", session.clone()), ("_csrf", csrf.clone())];
        all.extend(fields);
        let http = app.http.clone();
        let url = app.at(&path);
        async move { http.post(url).form(&all).send().await.unwrap().text().await.unwrap() }
    };
    let review = post(
        format!("lists/{list}"),
        vec![
            ("etype", "contact".into()),
            ("add", someone.to_string()),
            ("form", "keep".into()),
            ("go", "review".into()),
        ],
    )
    .await;
    assert!(review.contains("id=\"confirm\""), "{}", crate::pages::notices(&review));
    let save_form = &review[..review.find("id=\"confirm\"").unwrap()];
    let fields: Vec<(&'static str, String)> = ["etype", "add", "remove", "form", "base"]
        .iter()
        .map(|n| (*n, crate::harness::hidden_value(save_form, n)))
        .collect();
    let saved = post(format!("lists/{list}/save"), fields).await;
    assert!(saved.contains("data-notice=\"success\""), "{}", crate::pages::notices(&saved));
    let updates = app.sandbox.calls_of("crm.calllist.update");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].user_id, Some(MANAGER), "the manager's own token");
    assert_eq!(updates[0].params["WEBFORM_ID"].to_string().trim_matches('"'), form.to_string(), "the form resent");
    let mut want = before.clone();
    want.push(someone);
    want.sort_unstable();
    let mut now = app.sandbox.list(list).unwrap().member_ids();
    now.sort_unstable();
    assert_eq!(now, want, "the old members plus them");
    let requests = app.sandbox.calls().iter().filter(|c| c.seq > since && c.via != "batch").count();
    eprintln!("from a row menu to a saved 1,000-member list: {requests} requests (the user's check included)");
    assert!(requests <= 4, "{requests} requests");
}

/// A manager who may not read a contact opening the app for it gets a page that says so; nothing is sent.
#[tokio::test]
async fn a_contact_the_manager_may_not_read_gets_a_clear_page() {
    let app = TestApp::installed().await;
    app.sandbox.deny(MANAGER, b24_calllist::sandbox::EntityKind::Contact, 7).unwrap();
    let form = app.sandbox.placement_form(MANAGER, "CRM_CONTACT_LIST_MENU", Some(7));
    // The portal itself would not offer the menu on a contact the manager cannot see; a forged or stale
    // post of the form must still be answered clearly.
    let form = match form {
        Ok(f) => f,
        Err(_) => {
            let mut f = app.sandbox.placement_form(MANAGER, "CRM_CONTACT_LIST_MENU", Some(8)).unwrap();
            for (k, v) in f.fields.iter_mut() {
                if k == "PLACEMENT_OPTIONS" {
                    *v = "{\"ID\":\"7\",\"URI\":\"/crm/contact/list/\"}".into();
                }
            }
            f
        }
    };
    let r = app.http.post(&form.action).form(&form.fields).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("does not exist, or you may not see it") || page.contains("нет прав на его просмотр"),
        "{page}"
    );
    assert!(app.sandbox.calls_of("crm.calllist.update").is_empty(), "no update was sent");
}
