//! A manager at work in a real headless Chromium, inside the sandbox portal's iframe, as in Bitrix24: the
//! portal page form-posts the app into its frame, the app talks to the page through the frame protocol,
//! and every step is checked against what the portal received.
//!
//! With `B24_SCREENSHOTS=DIR` the tests also save screenshots of the main pages there (docs/ holds them).

use b24_calllist::sandbox::CallRecord;
use serde_json::Value;

use b24_calllist::sandbox::EntityKind;

use crate::harness::{COMPANIES_ONLY, MANAGER, NO_CRM, OWN_ONLY, TestApp};
use crate::webdriver::Browser;

fn shot_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("B24_SCREENSHOTS").map(std::path::PathBuf::from)
}

/// Saves `name-1024.png` and `name-1280.png` of the portal page with the app in its frame.
async fn shot(b: &Browser, name: &str) {
    if let Some(dir) = shot_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        b.client.enter_parent_frame().await.ok();
        for width in [1024, 1280] {
            b.client.set_window_size(width, 900).await.ok();
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            b.screenshot(&dir.join(format!("{name}-{width}.png"))).await;
        }
        b.enter_app().await;
    }
}

/// Marks the current document, so a test can tell whether a later step loaded a new one.
async fn mark_document(b: &Browser) {
    b.eval("window.__sameDocument = true; return true;").await;
}

async fn same_document(b: &Browser) -> bool {
    b.eval("return window.__sameDocument === true;").await.as_bool().unwrap_or(false)
}

/// Clicks, counting: the manager's effort is part of what is tested.
struct Clicks<'b> {
    b: &'b Browser,
    n: u32,
}

impl Clicks<'_> {
    async fn click(&mut self, css: &str) {
        self.n += 1;
        self.b.click(css).await;
    }

    async fn check(&mut self, css: &str) {
        self.n += 1;
        self.b.check(css).await;
    }
}

/// The visible text of the app's own words on the page: names and values from the CRM (people, forms,
/// statuses the portal named) taken out, so what remains is what the app wrote.
async fn own_text(b: &Browser) -> String {
    let script = "var c = document.body.cloneNode(true);\
        c.querySelectorAll('[data-member] label, [data-result] td:nth-child(2), .chip, .history-who, .user-chip, .diff-list, option, #list-form, .form-name, [data-crm], script, .badge-status, [data-status]').forEach(function (e) { e.remove(); });\
        return c.innerText;";
    b.eval(script).await.as_str().unwrap_or_default().to_owned()
}

/// Latin words in a Russian page that are not protocol or product names.
fn english_words(text: &str) -> Vec<String> {
    const ALLOWED: &[&str] = &["CRM", "ID", "e", "E", "mail", "Bitrix24"];
    let mut found: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()) && !ALLOWED.contains(w))
        .map(str::to_owned)
        .collect();
    found.dedup();
    found
}

fn contact(app: &TestApp, name: &str, last: &str, owner: u64) -> u64 {
    app.sandbox.add_contact_with(b24_calllist::sandbox::Contact {
        name: name.into(),
        last_name: last.into(),
        assigned_by_id: owner,
        ..Default::default()
    })
}

fn updates_since(app: &TestApp, since: u64) -> Vec<CallRecord> {
    app.sandbox.calls_of("crm.calllist.update").into_iter().filter(|c| c.seq > since).collect()
}

fn entities(call: &CallRecord) -> Vec<u64> {
    match &call.params["ENTITIES"] {
        Value::Array(a) => {
            a.iter().map(|x| x.as_str().map(|s| s.parse().unwrap()).or_else(|| x.as_u64()).unwrap()).collect()
        }
        Value::Object(o) => {
            o.values().map(|x| x.as_str().map(|s| s.parse().unwrap()).or_else(|| x.as_u64()).unwrap()).collect()
        }
        other => panic!("ENTITIES is not a list: {other}"),
    }
}

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

fn last_seq(app: &TestApp) -> u64 {
    app.sandbox.calls().last().map(|c| c.seq).unwrap_or(0)
}

fn big_list(app: &TestApp) -> u64 {
    app.sandbox.lists().iter().find(|l| l.members.len() == 1000).expect("a 1,000-member list").id
}

async fn open_portal(b: &Browser, app: &TestApp, user: u64, lang: &str) {
    b.goto(&format!("{}?user={user}&lang={lang}", app.sandbox.portal_url())).await;
    b.enter_app().await;
    b.wait("#lists").await;
}

/// The whole change a manager makes most: three people found by name added, two ticked members removed,
/// one review and one save, without a page load between the search and the review.
#[tokio::test]
async fn three_found_by_name_and_two_ticked_are_one_change_one_review_and_one_save() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let list = big_list(&app);
    let form = app.sandbox.webforms()[0].id;
    app.sandbox.set_list_webform(list, Some(form)).unwrap();
    let before = app.sandbox.list(list).unwrap().member_ids();
    let people: Vec<(&str, u64)> =
        ["Alice", "Bob", "Carol"].iter().map(|n| (*n, contact(&app, n, "Brightwater", MANAGER))).collect();

    open_portal(&b, &app, MANAGER, "en").await;
    shot(&b, "lists-en").await;
    b.click(&format!("[data-open-list=\"{list}\"]")).await;
    b.wait("#members").await;
    shot(&b, "list-en").await;
    mark_document(&b).await;
    let since = last_seq(&app);
    let mut clicks = Clicks { b: &b, n: 0 };
    for (name, id) in &people {
        b.fill("#q", name).await;
        clicks.click(&format!("[data-add=\"{id}\"]")).await;
        b.wait(&format!("[data-chip-add=\"{id}\"]")).await;
    }
    let gone: Vec<u64> = before[..2].to_vec();
    for id in &gone {
        clicks.check(&format!("#member-{id}")).await;
    }
    clicks.click("#review").await;
    b.wait("#confirm").await;
    assert!(same_document(&b).await, "no full page load between the search and the review");
    let added = b.text("ul.diff-added").await;
    let removed = b.text("ul.diff-removed").await;
    for (name, _) in &people {
        assert!(added.contains(name), "{name} is named on the review: {added}");
    }
    assert_eq!(removed.lines().count(), 2, "two removals named: {removed}");
    shot(&b, "review-en").await;
    clicks.click("#confirm").await;
    b.wait("[data-notice=\"success\"]").await;
    shot(&b, "saved-en").await;
    assert!(clicks.n <= 8, "{} clicks", clicks.n);

    let updates = updates_since(&app, since);
    assert_eq!(updates.len(), 1, "one update");
    let mut want: Vec<u64> = before.iter().copied().filter(|id| !gone.contains(id)).collect();
    want.extend(people.iter().map(|(_, id)| *id));
    assert_eq!(sorted(entities(&updates[0])), sorted(want.clone()), "the full membership is sent");
    assert_eq!(updates[0].params["WEBFORM_ID"].to_string().trim_matches('"'), form.to_string(), "the form is kept");
    assert_eq!(updates[0].user_id, Some(2), "auth is the manager's own token");
    assert_eq!(sorted(app.sandbox.list(list).unwrap().member_ids()), sorted(want));

    // The frame asked the portal to fit its content.
    b.leave_app().await;
    let resized = b
        .eval("return (window.SANDBOX_LOG || []).filter(function (m) { return m.command === 'resizeWindow'; }).length;")
        .await;
    assert!(resized.as_u64().unwrap_or(0) > 0, "fitWindow reached the portal");
    b.finish().await;
}

/// Back from the review keeps everything the manager had chosen.
#[tokio::test]
async fn back_from_the_review_keeps_the_selection() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let list = big_list(&app);
    let before = app.sandbox.list(list).unwrap().member_ids();
    let dora = contact(&app, "Dora", "Keepsake", MANAGER);
    open_portal(&b, &app, MANAGER, "en").await;
    b.click(&format!("[data-open-list=\"{list}\"]")).await;
    b.fill("#q", "Dora").await;
    b.click(&format!("[data-add=\"{dora}\"]")).await;
    b.wait(&format!("[data-chip-add=\"{dora}\"]")).await;
    b.check(&format!("#member-{}", before[0])).await;
    b.click("#review").await;
    b.wait("#confirm").await;
    b.click("#back").await;
    b.wait(&format!("[data-chip-add=\"{dora}\"]")).await;
    let ticked = b.eval(&format!("return document.getElementById('member-{}').checked;", before[0])).await;
    assert_eq!(ticked.as_bool(), Some(true), "the ticked member is still ticked");
    let q = b.eval("return document.getElementById('q').value;").await;
    assert_eq!(q.as_str(), Some("Dora"), "the search is kept");
    assert!(app.sandbox.calls_of("crm.calllist.update").is_empty());
    b.finish().await;
}

/// Errors a manager can run into through the pages, in both languages: a list of a kind the manager may not
/// read (reference 1.2) is a page that says so and leads back, and the rule that a call list cannot be
/// emptied (reference 1.1 step 4) is checked before Bitrix24 would refuse it.
#[tokio::test]
async fn errors_are_explained_in_russian_and_in_english() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let contacts = app.sandbox.lists().iter().find(|l| l.members.len() == 25).expect("a small contact list").id;
    for (lang, no_rights, no_empty) in [
        ("ru", "нет прав на просмотр контактов", "не позволяет очистить список"),
        ("en", "may not read contacts", "cannot empty a call list"),
    ] {
        open_portal(&b, &app, COMPANIES_ONLY, lang).await;
        b.click(&format!("[data-open-list=\"{contacts}\"]")).await;
        let text = b.text("#no-access").await;
        assert!(text.contains(no_rights), "{lang}: {text}");
        assert!(!text.contains("LIST_ID_ERROR"), "never a bare code");
        shot(&b, &format!("error-{lang}")).await;
        b.click("#rights-back").await;
        b.wait("#lists").await;

        open_portal(&b, &app, MANAGER, lang).await;
        b.click(&format!("[data-open-list=\"{contacts}\"]")).await;
        b.check("#members input[data-select-all]").await;
        let before = app.sandbox.list(contacts).unwrap().member_ids();
        b.click("#review").await;
        let text = b.text("[data-notice=\"error\"]").await;
        assert!(text.contains(no_empty), "{lang}: {text}");
        assert_eq!(app.sandbox.list(contacts).unwrap().member_ids(), before, "nothing changed");
    }
    assert!(app.sandbox.calls_of("crm.calllist.update").is_empty(), "no update was sent");
    b.finish().await;
}

#[tokio::test]
async fn the_portal_picker_adds_chips_with_names_and_names_stay_text() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let list = app.sandbox.lists()[0].id;
    let evil = app.sandbox.add_contact("<script>alert(1)</script>", "Zz");
    let mut members = app.sandbox.list(list).unwrap().member_ids();
    members.insert(0, evil);
    app.sandbox.set_list_members(list, &members).unwrap();
    let picked = app.sandbox.add_contact("Pickme", "Fromcrm");

    open_portal(&b, &app, MANAGER, "ru").await;
    shot(&b, "lists-ru").await;
    b.click(&format!("[data-open-list=\"{list}\"]")).await;
    let label = b.text(&format!("label[for=\"member-{evil}\"]")).await;
    assert_eq!(label, "<script>alert(1)</script> Zz", "the name is shown as text");
    let alerts = b.eval("return document.querySelectorAll('script:not([src])').length;").await;
    assert_eq!(alerts.as_u64(), Some(0), "no script got into the page");
    shot(&b, "list-ru").await;

    b.click("#pick-crm").await;
    b.leave_app().await;
    b.wait("#crm-picker:not([hidden])").await;
    b.fill("#crm-picker-search", "Pickme").await;
    b.click(&format!("input.crm-picker-item[data-id=\"C_{picked}\"]")).await;
    b.click("#crm-picker-ok").await;
    b.enter_app().await;
    let chip = b.text(&format!("[data-chip-add=\"{picked}\"]")).await;
    assert!(chip.contains("Pickme Fromcrm"), "the chip names the contact: {chip}");
    b.click("#review").await;
    b.wait("#confirm").await;
    shot(&b, "review-ru").await;
    b.click("#confirm").await;
    b.wait("[data-notice=\"success\"]").await;
    shot(&b, "saved-ru").await;
    assert!(app.sandbox.list(list).unwrap().member_ids().contains(&picked));
    b.finish().await;
}

/// The manager who reads only the contacts they are responsible for: a contact of someone else's is named
/// as not found before saving, and one hidden from them between the review and the save (which Bitrix24
/// would drop without a word) is left out and named after the save.
#[tokio::test]
async fn the_own_only_manager_is_told_about_hidden_and_dropped_contacts() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let list = app.sandbox.lists()[0].id;
    let theirs = contact(&app, "Hanna", "Notmine", MANAGER);
    let mine = contact(&app, "Ossi", "Mineowned", OWN_ONLY);
    let soon_hidden = contact(&app, "Wanda", "Withdrawn", OWN_ONLY);

    open_portal(&b, &app, OWN_ONLY, "en").await;
    b.click(&format!("[data-open-list=\"{list}\"]")).await;
    b.wait("#members").await;
    b.click("#paste-box summary").await;
    b.fill("#paste", &format!("{theirs}\n{mine}\n{soon_hidden}")).await;
    b.click("#paste-find").await;
    b.wait(&format!("[data-chip-add=\"{soon_hidden}\"]")).await;
    let warning = b.text("[data-notice=\"warning\"]").await;
    assert!(warning.contains(&theirs.to_string()), "the contact they may not see is named: {warning}");
    b.click("#review").await;
    b.wait("#confirm").await;
    app.sandbox.deny(OWN_ONLY, EntityKind::Contact, soon_hidden).unwrap();
    b.click("#confirm").await;
    b.wait("[data-notice=\"success\"]").await;
    let text = b.text("[data-notice=\"warning\"]").await;
    assert!(
        text.contains("hidden from you") && text.contains(&soon_hidden.to_string()),
        "the silent drop is named: {text}"
    );
    let members = app.sandbox.list(list).unwrap().member_ids();
    assert!(members.contains(&mine) && !members.contains(&soon_hidden) && !members.contains(&theirs));
    b.finish().await;
}

/// A user without CRM rights sees which lists they cannot read, gets a page that says why when opening
/// one, and gets back to the overview from it.
#[tokio::test]
async fn a_user_without_crm_rights_gets_the_rights_page_and_gets_back() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let list = big_list(&app);
    open_portal(&b, &app, NO_CRM, "en").await;
    let size = b.text(&format!("[data-size=\"{list}\"]")).await;
    assert!(size.contains("no access"), "not 0: {size}");
    b.click(&format!("[data-open-list=\"{list}\"]")).await;
    let text = b.text("#no-access").await;
    assert!(text.contains("may not read contacts"), "{text}");
    b.click("#rights-back").await;
    b.wait("#lists").await;
    b.finish().await;
}

/// Every screen in Russian, walked as a manager: no English from the app's own words, and the call statuses
/// as the portal named them in Russian.
#[tokio::test]
async fn every_screen_in_russian_speaks_russian() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let list = big_list(&app);
    let person = contact(&app, "Анна", "Проверкина", MANAGER);
    let mut pages = Vec::new();
    open_portal(&b, &app, MANAGER, "ru").await;
    b.wait("[data-progress]").await;
    pages.push(("lists", own_text(&b).await));
    b.click(&format!("[data-open-list=\"{list}\"]")).await;
    b.wait("#status-counts").await;
    let statuses = b.text("#status-counts").await.to_lowercase();
    assert!(statuses.contains("в работе"), "statuses in the portal's Russian: {statuses}");
    pages.push(("list", own_text(&b).await));
    b.fill("#q", "Проверкина").await;
    b.click(&format!("[data-add=\"{person}\"]")).await;
    b.wait(&format!("[data-chip-add=\"{person}\"]")).await;
    pages.push(("list with a change", own_text(&b).await));
    b.click("#review").await;
    b.wait("#confirm").await;
    pages.push(("review", own_text(&b).await));
    b.click("#confirm").await;
    b.wait("[data-notice=\"success\"]").await;
    pages.push(("saved", own_text(&b).await));
    b.click("#back").await;
    b.click("#new-list").await;
    b.wait("#new").await;
    pages.push(("new list", own_text(&b).await));
    for (name, text) in pages {
        let english = english_words(&text);
        assert!(english.is_empty(), "English on the Russian {name} page: {english:?}\n{text}");
    }
    b.finish().await;
}

/// Whether the app's page is wider than its frame (a horizontal scrollbar).
async fn scrolls_sideways(b: &Browser) -> bool {
    b.eval("return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1;")
        .await
        .as_bool()
        .unwrap_or(true)
}

/// From contact 7's row menu in the portal's contact list, into call list 1, in a slider; no sideways
/// scrolling at 600 or 1,280 px.
#[tokio::test]
async fn from_a_contacts_row_menu_into_a_call_list() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let list = app.sandbox.lists()[0].id;
    let form = app.sandbox.webforms()[0].id;
    app.sandbox.set_list_webform(list, Some(form)).unwrap();
    let mut before = app.sandbox.list(list).unwrap().member_ids();
    before.retain(|id| *id != 7);
    app.sandbox.set_list_members(list, &before).unwrap();
    for (lang, title) in [("ru", "Добавить в список обзвона"), ("en", "Add to a call list")] {
        b.goto(&format!("{}crm/contact/list/?user={MANAGER}&lang={lang}", app.sandbox.portal_url())).await;
        b.click("tr.crm-row[data-id=\"7\"] details.row-menu summary").await;
        let item = b.text("tr.crm-row[data-id=\"7\"] a.placement-menu-item").await;
        assert_eq!(item, title, "the row menu item is titled in the portal's language");
        b.click("tr.crm-row[data-id=\"7\"] a.placement-menu-item").await;
        b.enter_app().await;
        b.wait(&format!("[data-add-to=\"{list}\"]")).await;
        shot(&b, &format!("placement-menu-{lang}")).await;
    }
    for width in [600, 1280] {
        b.client.enter_parent_frame().await.ok();
        b.client.set_window_size(width, 900).await.ok();
        b.enter_app().await;
        assert!(!scrolls_sideways(&b).await, "no sideways scrolling at {width} px");
    }
    let since = last_seq(&app);
    b.click(&format!("[data-add-to=\"{list}\"]")).await;
    b.wait("#confirm").await;
    b.click("#confirm").await;
    b.wait("[data-notice=\"success\"]").await;
    let updates = updates_since(&app, since);
    assert_eq!(updates.len(), 1);
    let mut want = before.clone();
    want.push(7);
    assert_eq!(sorted(entities(&updates[0])), sorted(want), "the old members plus contact 7");
    assert_eq!(updates[0].params["WEBFORM_ID"].to_string().trim_matches('"'), form.to_string(), "the form resent");
    assert_eq!(updates[0].user_id, Some(MANAGER), "the manager's own token");
    b.finish().await;
}

/// Company 2's card has a "Call lists" tab: the lists it is in, with its status, and a way to take it out.
#[tokio::test]
async fn a_companys_card_tab_shows_its_lists_and_takes_it_out_of_one() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let company_list = app.sandbox.lists().into_iter().find(|l| l.entity_type == EntityKind::Company).unwrap();
    let mut members = company_list.member_ids();
    if !members.contains(&2) {
        members.push(2);
        app.sandbox.set_list_members(company_list.id, &members).unwrap();
    }
    let with_two = vec![company_list.id];
    for lang in ["en", "ru"] {
        b.goto(&format!("{}crm/company/details/2/?user={MANAGER}&lang={lang}", app.sandbox.portal_url())).await;
        b.click("#card-tabs a.placement-tab").await;
        b.enter_app().await;
        b.wait("#member-of").await;
        shot(&b, &format!("placement-tab-{lang}")).await;
    }
    for id in &with_two {
        b.wait(&format!("[data-member-of=\"{id}\"] .badge-status")).await;
    }
    b.client.enter_parent_frame().await.ok();
    b.client.set_window_size(600, 900).await.ok();
    b.enter_app().await;
    assert!(!scrolls_sideways(&b).await, "the narrow tab does not scroll sideways");
    let from = with_two[0];
    b.click(&format!("[data-remove-from=\"{from}\"]")).await;
    b.wait("#confirm").await;
    b.click("#confirm").await;
    b.wait("[data-notice=\"success\"]").await;
    assert!(!app.sandbox.list(from).unwrap().member_ids().contains(&2), "company 2 is out of list {from}");
    b.finish().await;
}

/// A web form deleted in the CRM between the review and the save: the save is refused with words that say
/// so, in both languages, and the list is left as it was.
#[tokio::test]
async fn a_web_form_deleted_meanwhile_is_explained_and_nothing_is_saved() {
    let Some(b) = Browser::start().await else { return };
    let app = TestApp::installed().await;
    let list = app.sandbox.lists()[0].id;
    for (lang, words) in [("en", "no longer exists"), ("ru", "больше нет")] {
        let form = app
            .sandbox
            .webforms()
            .into_iter()
            .find(|w| w.active && Some(w.id) != app.sandbox.list(list).unwrap().webform_id)
            .unwrap();
        let before = app.sandbox.list(list).unwrap();
        open_portal(&b, &app, MANAGER, lang).await;
        b.click(&format!("[data-open-list=\"{list}\"]")).await;
        b.wait("#form-choice").await;
        b.eval(&format!("document.getElementById('form-choice').value = '{}'; return true;", form.id)).await;
        b.click("#review").await;
        b.wait("#confirm").await;
        assert!(app.sandbox.delete_webform(form.id), "the form is deleted in the CRM");
        b.click("#confirm").await;
        let text = b.text("[data-notice=\"error\"]").await;
        assert!(text.contains(words), "{lang}: {text}");
        let after = app.sandbox.list(list).unwrap();
        assert_eq!((after.webform_id, after.member_ids()), (before.webform_id, before.member_ids()), "nothing saved");
    }
    b.finish().await;
}
