//! The manager's pages over HTTP, as the iframe posts them: each save sends exactly the intended
//! `crm.calllist.update` with the manager's own token, and the list ends as asked.

use b24_calllist::sandbox::{CallRecord, EntityKind, Permissions};
use serde_json::Value;

use crate::harness::{Engine, MANAGER, TestApp, hidden_value, page_tokens};
use crate::on_both_engines_app;

/// A manager signed in through the iframe, with the page's session and CSRF proof.
pub struct Manager<'a> {
    pub app: &'a TestApp,
    /// The instance this manager's pages come from.
    pub base: url::Url,
    pub session: String,
    pub csrf: String,
    /// The page's language, which every form of the app's pages carries.
    pub lang: String,
}

/// A change as the list page's form states it.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    companies: bool,
    add: Vec<u64>,
    remove: Vec<u64>,
    replace: bool,
    form: String,
}

impl Edit {
    pub fn add(ids: &[u64]) -> Edit {
        Edit { add: ids.to_vec(), ..Edit::default() }
    }

    pub fn remove(ids: &[u64]) -> Edit {
        Edit { remove: ids.to_vec(), ..Edit::default() }
    }

    /// Adds and removes in one change.
    pub fn add_and_remove(add: &[u64], remove: &[u64]) -> Edit {
        Edit { add: add.to_vec(), remove: remove.to_vec(), ..Edit::default() }
    }

    pub fn replace(ids: &[u64]) -> Edit {
        Edit { add: ids.to_vec(), replace: true, ..Edit::default() }
    }

    /// The members as they are, with another form.
    pub fn set_form(form: u64) -> Edit {
        Edit { form: form.to_string(), ..Edit::default() }
    }

    pub fn clear_form() -> Edit {
        Edit { form: "none".into(), ..Edit::default() }
    }

    /// For a list of companies.
    pub fn companies(self) -> Edit {
        Edit { companies: true, ..self }
    }

    fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("go".to_owned(), "review".to_owned()),
            ("etype".to_owned(), if self.companies { "company" } else { "contact" }.to_owned()),
            ("form".to_owned(), if self.form.is_empty() { "keep".to_owned() } else { self.form.clone() }),
        ];
        f.extend(self.add.iter().map(|i| ("add".to_owned(), i.to_string())));
        f.extend(self.remove.iter().map(|i| ("remove".to_owned(), i.to_string())));
        if self.replace {
            f.push(("replace".to_owned(), "1".to_owned()));
        }
        f
    }
}

impl<'a> Manager<'a> {
    pub async fn open(app: &'a TestApp, user_id: u64) -> Manager<'a> {
        let (status, page) = app.open_as(user_id).await;
        assert_eq!(status, 200, "the app opens for user {user_id}:\n{page}");
        let (session, csrf) = page_tokens(&page);
        Manager { app, base: app.url.clone(), session, csrf, lang: hidden_value(&page, "_lang") }
    }

    /// Opens the app for `user_id` on another instance, as a load balancer may send the portal's post.
    pub async fn open_on(app: &'a TestApp, base: &url::Url, user_id: u64) -> Manager<'a> {
        let launch = app.sandbox.launch_form(user_id, None).unwrap();
        let action = url::Url::parse(&launch.action).unwrap();
        let mut target = base.join(action.path()).unwrap();
        target.set_query(action.query());
        let r = app.http.post(target).form(&launch.fields).send().await.unwrap();
        assert_eq!(r.status(), 200, "the other instance opens the app");
        let page = r.text().await.unwrap();
        let (session, csrf) = page_tokens(&page);
        Manager { app, base: base.clone(), session, csrf, lang: hidden_value(&page, "_lang") }
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut all =
            vec![("_session", self.session.as_str()), ("_csrf", self.csrf.as_str()), ("_lang", self.lang.as_str())];
        all.extend_from_slice(fields);
        let r = self.app.http.post(self.base.join(path).unwrap()).form(&all).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Reviews a change on the list page and confirms it, as the two buttons do. Returns the final page.
    pub async fn save(&self, list: u64, edit: Edit) -> (u16, String) {
        let preview = self.review(list, edit).await;
        assert!(preview.contains("id=\"confirm\""), "the review page offers to save:\n{}", notices(&preview));
        self.confirm(list, &preview).await
    }

    /// The review page of a change, as the "Review" button asks for it.
    pub async fn review(&self, list: u64, edit: Edit) -> String {
        let fields = edit.fields();
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, page) = self.post(&format!("lists/{list}"), &fields).await;
        assert_eq!(status, 200, "{page}");
        page
    }

    /// Confirms the change a review page shows, as its "Save" button does.
    pub async fn confirm(&self, list: u64, review: &str) -> (u16, String) {
        // The save form is the first on the review page; its hidden fields come before the "Back" form's.
        let save_form = &review[..review.find("id=\"confirm\"").expect("a save button")];
        let mut values: Vec<(&str, String)> =
            ["etype", "add", "remove", "form", "base"].iter().map(|n| (*n, hidden_value(save_form, n))).collect();
        if save_form.contains("name=\"replace\" value=\"1\"") {
            values.push(("replace", "1".to_owned()));
        }
        let fields: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, v.as_str())).collect();
        self.post(&format!("lists/{list}/save"), &fields).await
    }
}

/// The notices of a page, for failure messages.
pub fn notices(html: &str) -> String {
    html.lines().filter(|l| l.contains("data-notice")).collect::<Vec<_>>().join("\n")
}

/// The one `crm.calllist.update` sent since `since`, with its parameters.
fn the_update(app: &TestApp, since: u64) -> CallRecord {
    let updates: Vec<CallRecord> =
        app.sandbox.calls_of("crm.calllist.update").into_iter().filter(|c| c.seq > since).collect();
    assert_eq!(updates.len(), 1, "exactly one update was sent: {updates:?}");
    updates.into_iter().next().unwrap()
}

fn sent_entities(call: &CallRecord) -> Vec<u64> {
    let v = &call.params["ENTITIES"];
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => o.values().collect(),
        _ => panic!("ENTITIES is not a list: {v}"),
    };
    items.iter().map(|x| x.as_str().map(|s| s.parse().unwrap()).or_else(|| x.as_u64()).unwrap()).collect()
}

fn last_seq(app: &TestApp) -> u64 {
    app.sandbox.calls().last().map(|c| c.seq).unwrap_or(0)
}

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

/// The seeded 1,000-member contact list.
fn big_list(app: &TestApp) -> u64 {
    app.sandbox.lists().iter().find(|l| l.members.len() == 1000).expect("a 1,000-member list").id
}

async fn adding_three_contacts_to_a_thousand_member_list_sends_all_1003_and_keeps_the_form(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = big_list(&app);
    let form = app.sandbox.webforms()[0].id;
    app.sandbox.set_list_webform(list, Some(form)).unwrap();
    let before = app.sandbox.list(list).unwrap().member_ids();
    let outside: Vec<u64> = ["Ivan", "Olga", "Peter"].iter().map(|n| app.sandbox.add_contact(n, "Newman")).collect();
    let m = Manager::open(&app, MANAGER).await;
    let since = last_seq(&app);
    let (status, page) = m.save(list, Edit::add(&outside)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));

    let update = the_update(&app, since);
    let mut want = before.clone();
    want.extend(&outside);
    assert_eq!(sorted(sent_entities(&update)), sorted(want.clone()), "ENTITIES is the complete new membership");
    assert_eq!(update.params["ENTITY_TYPE"], "CONTACT");
    assert_eq!(update.params["WEBFORM_ID"].to_string().trim_matches('"'), form.to_string(), "the form is resent");
    assert_eq!(update.user_id, Some(2), "with the manager's own token");
    assert_eq!(sorted(app.sandbox.list(list).unwrap().member_ids()), sorted(want));
    assert_eq!(app.sandbox.list(list).unwrap().webform_id, Some(form));
}
on_both_engines_app!(adding_three_contacts_to_a_thousand_member_list_sends_all_1003_and_keeps_the_form);

async fn removing_two_members_sends_the_rest(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = big_list(&app);
    let before = app.sandbox.list(list).unwrap().member_ids();
    let gone = [before[10], before[500]];
    let m = Manager::open(&app, MANAGER).await;
    let since = last_seq(&app);
    let (status, page) = m.save(list, Edit::remove(&gone)).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));
    let want: Vec<u64> = before.iter().copied().filter(|id| !gone.contains(id)).collect();
    assert_eq!(sorted(sent_entities(&the_update(&app, since))), sorted(want.clone()));
    assert_eq!(sorted(app.sandbox.list(list).unwrap().member_ids()), sorted(want));
}
on_both_engines_app!(removing_two_members_sends_the_rest);

async fn replacing_the_members_of_a_company_list(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list =
        app.sandbox.lists().iter().find(|l| l.entity_type == EntityKind::Company && !l.members.is_empty()).unwrap().id;
    let new: Vec<u64> = app.sandbox.companies().iter().rev().take(4).map(|c| c.id).collect();
    let m = Manager::open(&app, MANAGER).await;
    let since = last_seq(&app);
    let (status, page) = m.save(list, Edit::replace(&new).companies()).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));
    let update = the_update(&app, since);
    assert_eq!(update.params["ENTITY_TYPE"], "COMPANY");
    assert_eq!(sorted(sent_entities(&update)), sorted(new.clone()));
    assert_eq!(sorted(app.sandbox.list(list).unwrap().member_ids()), sorted(new));
}
on_both_engines_app!(replacing_the_members_of_a_company_list);

async fn changing_the_form_then_clearing_it_on_purpose(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let members = app.sandbox.list(list).unwrap().member_ids();
    let current = app.sandbox.list(list).unwrap().webform_id;
    let form = app.sandbox.webforms().iter().find(|w| w.active && Some(w.id) != current).unwrap().id;
    let m = Manager::open(&app, MANAGER).await;

    let since = last_seq(&app);
    let (status, page) = m.save(list, Edit::set_form(form)).await;
    assert_eq!(status, 200, "{page}");
    let update = the_update(&app, since);
    assert_eq!(update.params["WEBFORM_ID"].to_string().trim_matches('"'), form.to_string());
    assert_eq!(sorted(sent_entities(&update)), sorted(members.clone()), "the members are resent unchanged");
    assert_eq!(app.sandbox.list(list).unwrap().webform_id, Some(form));

    let since = last_seq(&app);
    let (status, _) = m.save(list, Edit::clear_form()).await;
    assert_eq!(status, 200);
    let update = the_update(&app, since);
    assert!(update.params.get("WEBFORM_ID").is_none_or(Value::is_null), "clearing sends no form: {}", update.params);
    assert_eq!(app.sandbox.list(list).unwrap().webform_id, None);
    assert_eq!(sorted(app.sandbox.list(list).unwrap().member_ids()), sorted(members));
}
on_both_engines_app!(changing_the_form_then_clearing_it_on_purpose);

async fn a_new_list_is_created_with_its_first_members_and_form(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let contacts: Vec<u64> = app.sandbox.contacts().iter().take(5).map(|c| c.id).collect();
    let form = app.sandbox.webforms().iter().find(|w| w.active).unwrap().id;
    let before = app.sandbox.lists().len();
    let m = Manager::open(&app, MANAGER).await;
    let form_id = form.to_string();
    let mut fields = vec![("etype", "contact"), ("form", form_id.as_str())];
    let ids: Vec<String> = contacts.iter().map(|c| c.to_string()).collect();
    fields.extend(ids.iter().map(|i| ("add", i.as_str())));
    let (status, page) = m.post("lists/create", &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));
    let lists = app.sandbox.lists();
    assert_eq!(lists.len(), before + 1);
    let new = lists.iter().max_by_key(|l| l.id).unwrap();
    assert_eq!(sorted(new.member_ids()), sorted(contacts));
    assert_eq!(new.webform_id, Some(form));
    let adds = app.sandbox.calls_of("crm.calllist.add");
    assert_eq!(adds.len(), 1);
    assert_eq!(adds[0].user_id, Some(2));
}
on_both_engines_app!(a_new_list_is_created_with_its_first_members_and_form);

async fn a_change_made_meanwhile_is_not_overwritten(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let before = app.sandbox.list(list).unwrap().member_ids();
    let extra = app.sandbox.contacts().iter().map(|c| c.id).find(|id| !before.contains(id)).unwrap();
    let m = Manager::open(&app, MANAGER).await;
    let preview = m.review(list, Edit::add(&[extra])).await;
    // Someone else removes a member before the manager confirms.
    let theirs: Vec<u64> = before[1..].to_vec();
    app.sandbox.set_list_members(list, &theirs).unwrap();
    let since = last_seq(&app);
    let (status, page) = m.confirm(list, &preview).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-notice=\"warning\""), "the manager is told: {}", notices(&page));
    assert!(app.sandbox.calls_of("crm.calllist.update").iter().all(|c| c.seq <= since), "nothing was written");
    assert_eq!(sorted(app.sandbox.list(list).unwrap().member_ids()), sorted(theirs.clone()), "their change stands");
    assert!(page.contains("id=\"confirm\""), "the change is offered again against the list as it is now");
    assert_eq!(hidden_value(&page, "add"), extra.to_string());
}
on_both_engines_app!(a_change_made_meanwhile_is_not_overwritten);

async fn an_empty_list_is_refused_before_bitrix24_would(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let members = app.sandbox.list(list).unwrap().member_ids();
    let m = Manager::open(&app, MANAGER).await;
    let page = m.review(list, Edit::remove(&members)).await;
    assert!(page.contains("cannot empty a call list") || page.contains("не позволяет очистить"), "{}", notices(&page));
    assert!(app.sandbox.calls_of("crm.calllist.update").is_empty());
}
on_both_engines_app!(an_empty_list_is_refused_before_bitrix24_would);

async fn contacts_the_manager_may_not_read_are_named_not_silently_lost(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let before = app.sandbox.list(list).unwrap().member_ids();
    let outside: Vec<u64> = ["Ann", "Bob", "Cid"].iter().map(|n| app.sandbox.add_contact(n, "Hidden")).collect();
    let _ = &before;
    app.sandbox.deny(2, EntityKind::Contact, outside[0]).unwrap();
    let m = Manager::open(&app, MANAGER).await;
    let preview = m.review(list, Edit::add(&outside)).await;
    let warning = notices(&preview);
    assert!(
        warning.contains(&outside[0].to_string()) && warning.contains("warning"),
        "the manager is told which one, before saving: {warning}"
    );
    assert!(preview.contains("id=\"diff-added\""), "{preview}");
    let since = last_seq(&app);
    let (status, page) = m.save(list, Edit::add(&outside)).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));
    let sent = sent_entities(&the_update(&app, since));
    assert!(!sent.contains(&outside[0]), "an ID the manager cannot see is left out before sending");
    assert!(sent.contains(&outside[1]) && sent.contains(&outside[2]));
}
on_both_engines_app!(contacts_the_manager_may_not_read_are_named_not_silently_lost);

async fn a_contact_named_like_a_script_is_shown_as_text(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let evil = app.sandbox.add_contact("<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>");
    let mut members = app.sandbox.list(list).unwrap().member_ids();
    members.insert(0, evil);
    app.sandbox.set_list_members(list, &members).unwrap();
    let m = Manager::open(&app, MANAGER).await;
    let (status, page) = m.post(&format!("lists/{list}"), &[]).await;
    assert_eq!(status, 200);
    assert!(!page.contains("<script>alert(1)</script>"), "the name must be escaped");
    assert!(
        page.contains("&#60;script&#62;alert(1)") || page.contains("&lt;script&gt;alert(1)"),
        "and still shown as text"
    );
    assert!(!page.contains("<img src=x"));
}
on_both_engines_app!(a_contact_named_like_a_script_is_shown_as_text);

async fn opening_and_saving_a_thousand_member_list_cost_at_most_three_requests_each(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = big_list(&app);
    let m = Manager::open(&app, MANAGER).await;
    let count = |since: u64| app.sandbox.calls().iter().filter(|c| c.seq > since && c.via != "batch").count();
    let since = last_seq(&app);
    let (status, _) = m.post(&format!("lists/{list}"), &[]).await;
    assert_eq!(status, 200);
    let open = count(since);
    assert!(open <= 3, "opening took {open} requests");

    let extra = app.sandbox.add_contact("Extra", "Person");
    let preview = m.review(list, Edit::add(&[extra])).await;
    let since = last_seq(&app);
    let (status, page) = m.confirm(list, &preview).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));
    let save = count(since);
    assert!(save <= 2, "saving took {save} requests (with the page shown after it)");
    eprintln!("1,000 members: open {open} requests, save and show {save} requests");
}
on_both_engines_app!(opening_and_saving_a_thousand_member_list_cost_at_most_three_requests_each);

async fn state_changing_requests_need_the_csrf_proof(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let m = Manager::open(&app, MANAGER).await;
    for csrf in ["", "forged"] {
        let r = app
            .http
            .post(app.at(&format!("lists/{list}/save")))
            .form(&[("_session", m.session.as_str()), ("_csrf", csrf), ("replace", "1"), ("add", "1"), ("base", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "csrf {csrf:?}");
    }
    let r = app
        .http
        .post(app.at(&format!("lists/{list}/save")))
        .header("Origin", "http://evil.example")
        .form(&[
            ("_session", m.session.as_str()),
            ("_csrf", m.csrf.as_str()),
            ("replace", "1"),
            ("add", "1"),
            ("base", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a foreign Origin");
    assert!(app.sandbox.calls_of("crm.calllist.update").is_empty(), "nothing was sent");
}
on_both_engines_app!(state_changing_requests_need_the_csrf_proof);

async fn a_list_the_manager_cannot_see_gets_a_clear_message(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let m = Manager::open(&app, MANAGER).await;
    let (status, page) = m.post("lists/999999", &[]).await;
    assert_eq!(status, 403);
    assert!(page.contains("does not exist") || page.contains("нет"), "{page}");
    assert!(page.contains("id=\"rights-back\""), "with a way back to the lists");
    let (status, page) = m.post("lists/abc", &[]).await;
    assert_eq!(status, 400, "{page}");
    app.sandbox
        .set_permissions(2, Permissions { read_contacts: false, read_companies: true, ..Permissions::default() })
        .unwrap();
    let list = app.sandbox.lists()[0].id;
    let (status, page) = m.post(&format!("lists/{list}"), &[]).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("нет прав на просмотр контактов"), "the page says which right is missing: {page}");
}
on_both_engines_app!(a_list_the_manager_cannot_see_gets_a_clear_message);

async fn a_double_submitted_save_changes_the_list_once(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let extra = app.sandbox.add_contact("Twice", "Clicked");
    let m = Manager::open(&app, MANAGER).await;
    let preview = m.review(list, Edit::add(&[extra])).await;
    let since = last_seq(&app);
    let (first, second) = tokio::join!(m.confirm(list, &preview), m.confirm(list, &preview));
    assert_eq!((first.0, second.0), (200, 200));
    let pages = [first.1, second.1];
    let saved = pages.iter().filter(|p| p.contains("data-notice=\"success\"")).count();
    assert_eq!(saved, 1, "one of the two submits saves");
    assert!(pages.iter().any(|p| p.contains("data-notice=\"warning\"")), "the other says why it did not");
    assert_eq!(app.sandbox.calls_of("crm.calllist.update").iter().filter(|c| c.seq > since).count(), 1, "one update");
    let members = app.sandbox.list(list).unwrap().member_ids();
    assert_eq!(members.iter().filter(|id| **id == extra).count(), 1);
}
on_both_engines_app!(a_double_submitted_save_changes_the_list_once);

async fn all_that_match_a_search_are_added_with_the_count_shown(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let matching: Vec<u64> = ["Ann", "Bea", "Cat"].iter().map(|n| app.sandbox.add_contact(n, "Matchmaker")).collect();
    let m = Manager::open(&app, MANAGER).await;
    let (status, page) = m.post(&format!("lists/{list}"), &[("go", "search:0"), ("q", "Matchmaker")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("All that match: 3") || page.contains("Все найденные: 3"), "the count is shown");
    let total = hidden_value(&page, "match_total");
    let since = last_seq(&app);
    let (_, preview) = m
        .post(
            &format!("lists/{list}"),
            &[
                ("go", "review"),
                ("etype", "contact"),
                ("q", "Matchmaker"),
                ("all_matching", "1"),
                ("match_total", &total),
                ("form", "keep"),
            ],
        )
        .await;
    assert!(preview.contains("id=\"confirm\""), "{}", notices(&preview));
    let (status, page) = m.confirm(list, &preview).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));
    let sent = sent_entities(&the_update(&app, since));
    for id in &matching {
        assert!(sent.contains(id), "every match is added");
    }
}
on_both_engines_app!(all_that_match_a_search_are_added_with_the_count_shown);

async fn one_change_adds_and_removes_and_the_review_names_both(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = big_list(&app);
    let before = app.sandbox.list(list).unwrap().member_ids();
    let new = app.sandbox.add_contact("Both", "Ways");
    let gone = before[3];
    let m = Manager::open(&app, MANAGER).await;
    let preview = m.review(list, Edit::add_and_remove(&[new], &[gone])).await;
    assert!(preview.contains(&format!("data-added=\"{new}\"")) && preview.contains("Both Ways"), "{preview}");
    assert!(preview.contains(&format!("data-removed=\"{gone}\"")), "the removal is named too");
    let since = last_seq(&app);
    let (status, page) = m.confirm(list, &preview).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-notice=\"success\""), "{}", notices(&page));
    let mut want: Vec<u64> = before.iter().copied().filter(|id| *id != gone).collect();
    want.push(new);
    assert_eq!(sorted(sent_entities(&the_update(&app, since))), sorted(want));
}
on_both_engines_app!(one_change_adds_and_removes_and_the_review_names_both);
