//! The manager's screens as HTTP stories: counts that are true for whoever looks, the one web-form control,
//! history in the viewer's words, hidden IDs named, and what a form-only save says.

use crate::harness::{ADMIN, Engine, MANAGER, NO_CRM, TestApp};
use crate::on_both_engines_app;
use crate::pages::{Edit, Manager, notices};

fn big_list(app: &TestApp) -> u64 {
    app.sandbox.lists().iter().find(|l| l.members.len() == 1000).expect("a 1,000-member list").id
}

/// The text of the size cell of list `id` on the overview.
fn size_cell(page: &str, id: u64) -> String {
    let marker = format!("data-size=\"{id}\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no size for list {id}:\n{page}"));
    let end = page[start..].find("</td>").unwrap() + start;
    page[start..end].to_owned()
}

async fn counts_are_the_viewers_own_and_never_a_number_they_are_not(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = big_list(&app);
    // A user who may read nothing looks first: their view must not leak into anyone else's.
    let nobody = Manager::open(&app, NO_CRM).await;
    let (_, theirs) = nobody.post("lists", &[("count", "1")]).await;
    assert!(
        size_cell(&theirs, list).contains("no access") || size_cell(&theirs, list).contains("нет доступа"),
        "{}",
        size_cell(&theirs, list)
    );

    let m = Manager::open(&app, MANAGER).await;
    let (_, first) = m.post("lists", &[]).await;
    let cell = size_cell(&first, list);
    assert!(cell.contains("50+"), "before counting, what is known: {cell}");
    assert!(!cell.contains(">0<"), "never 0 for a full list: {cell}");
    assert!(first.contains("id=\"count-lists\""), "with a way to count");
    let (_, counted) = m.post("lists", &[("count", "1")]).await;
    let cell = size_cell(&counted, list);
    assert!(cell.contains("1,000") || cell.contains("1\u{a0}000"), "counted: {cell}");
    assert!(cell.contains("counted") || cell.contains("посчитано"), "with its age: {cell}");
}
on_both_engines_app!(counts_are_the_viewers_own_and_never_a_number_they_are_not);

async fn the_count_arrives_after_the_first_screen_and_a_save_drops_the_cache(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = big_list(&app);
    let m = Manager::open(&app, MANAGER).await;
    let before = app.sandbox.calls().len();
    let (_, first) = m.post(&format!("lists/{list}"), &[("etype", "contact")]).await;
    assert!(first.contains(">50+<"), "the first screen does not wait for the count");
    assert_eq!(app.sandbox.calls().iter().skip(before).filter(|c| c.via != "batch").count(), 1, "one request");
    let (_, counted) = m.post(&format!("lists/{list}"), &[("etype", "contact"), ("go", "count")]).await;
    assert!(counted.contains(">1,000<") || counted.contains(">1\u{a0}000<"), "the count, once asked for");
    // Paging back to the first screen reads nothing again.
    let before = app.sandbox.calls().len();
    let (_, again) = m.post(&format!("lists/{list}"), &[("etype", "contact")]).await;
    assert!(again.contains("id=\"members\""));
    assert_eq!(app.sandbox.calls().len(), before, "served from the session's recent reads");
    // A save drops what was read, so the next screen is read afresh.
    let extra = app.sandbox.add_contact("Fresh", "Read");
    let (status, saved) = m.save(list, Edit::add(&[extra])).await;
    assert_eq!(status, 200, "{}", notices(&saved));
    assert!(
        saved.contains(">1,001<") || saved.contains(">1\u{a0}001<"),
        "the count after the save is the saved list's"
    );
    let before = app.sandbox.calls().len();
    let _ = m.post(&format!("lists/{list}"), &[("etype", "contact"), ("mpage", "1")]).await;
    assert!(app.sandbox.calls().len() > before, "a page not read since the save is read");
}
on_both_engines_app!(the_count_arrives_after_the_first_screen_and_a_save_drops_the_cache);

async fn the_web_form_control_keeps_the_current_form_unless_another_is_chosen(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let active = app.sandbox.webforms().iter().find(|w| w.active).unwrap().clone();
    let inactive = app.sandbox.webforms().iter().find(|w| !w.active).expect("an inactive form").clone();
    app.sandbox.set_list_webform(list, Some(inactive.id)).unwrap();
    let m = Manager::open(&app, MANAGER).await;
    let (_, page) = m.post(&format!("lists/{list}"), &[]).await;
    let select = &page[page.find("id=\"form-choice\"").unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    assert!(select.contains("value=\"keep\" selected"), "keeping the current form is the default: {select}");
    assert!(!select.contains(&format!("value=\"{}\"", inactive.id)), "inactive forms only behind the switch");
    // Choosing a form is using it: no second control to tick.
    let (status, saved) = m.save(list, Edit::set_form(active.id)).await;
    assert_eq!(status, 200);
    assert!(saved.contains(&active.name), "the save names the new form: {}", notices(&saved));
    assert!(!saved.contains("0 added") && !saved.contains("Добавлено: 0"), "a form-only save says no member counts");
    assert_eq!(app.sandbox.list(list).unwrap().webform_id, Some(active.id));
    let history = &saved[saved.find("id=\"history\"").unwrap()..];
    assert!(history.contains(&active.name), "history names the form in words: {history}");
    // An empty change says what to do.
    let empty = m.review(list, Edit::default()).await;
    assert!(empty.contains("add or remove someone") || empty.contains("добавьте или удалите"), "{}", notices(&empty));
}
on_both_engines_app!(the_web_form_control_keeps_the_current_form_unless_another_is_chosen);

async fn when_every_id_is_hidden_the_review_names_them(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let hidden = app.sandbox.add_contact("Not", "Visible");
    app.sandbox.deny(MANAGER, b24_calllist::sandbox::EntityKind::Contact, hidden).unwrap();
    let m = Manager::open(&app, MANAGER).await;
    let page = m.review(list, Edit::add(&[hidden])).await;
    let said = notices(&page);
    assert!(said.contains(&hidden.to_string()), "the hidden ID is named, not just 'nothing would change': {said}");
    assert!(app.sandbox.calls_of("crm.calllist.update").is_empty());
}
on_both_engines_app!(when_every_id_is_hidden_the_review_names_them);

async fn history_is_worded_for_whoever_reads_it(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let extra = app.sandbox.add_contact("Hist", "Ory");
    // A save made by a Russian-speaking manager…
    let m = Manager::open(&app, MANAGER).await;
    let (status, _) = m.save(list, Edit::add(&[extra])).await;
    assert_eq!(status, 200);
    let rows = app.store.audit(&app.member_id(), None, 5).await.unwrap();
    assert!(rows.iter().any(|r| r.entry.outcome.code() == "saved"), "the log keeps a code");
    // …reads in English for an English-speaking one.
    let launch = app.sandbox.launch_form(MANAGER, Some("en")).unwrap();
    let r = app.http.post(&launch.action).form(&launch.fields).send().await.unwrap();
    let page = r.text().await.unwrap();
    let (session, csrf) = crate::harness::page_tokens(&page);
    let en = app
        .http
        .post(app.at(&format!("lists/{list}")))
        .form(&[("_session", session.as_str()), ("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let history = &en[en.find("id=\"history\"").unwrap()..];
    assert!(history.contains("saved") && !history.contains("сохранено"), "{history}");
}
on_both_engines_app!(history_is_worded_for_whoever_reads_it);

/// A list's history is the app's own record, the same for every viewer: another manager's save shows in it
/// on this instance at once, even to a manager whose screen of the list is still held in memory.
async fn another_managers_save_shows_in_the_history_at_once(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let extra = app.sandbox.add_contact("Hist", "Ory");
    let watcher = Manager::open(&app, ADMIN).await;
    let history = |page: &str| page[page.find("id=\"history\"").expect("a history section")..].to_owned();
    let (status, before) = watcher.post(&format!("lists/{list}"), &[]).await;
    assert_eq!(status, 200);
    assert!(!history(&before).contains("сохранено"), "nothing saved yet: {}", history(&before));
    let saver = Manager::open(&app, MANAGER).await;
    assert_eq!(saver.save(list, Edit::add(&[extra])).await.0, 200);
    let (status, after) = watcher.post(&format!("lists/{list}"), &[]).await;
    assert_eq!(status, 200);
    assert!(history(&after).contains("сохранено"), "the other manager's save: {}", history(&after));
}
on_both_engines_app!(another_managers_save_shows_in_the_history_at_once);

async fn the_small_things_a_manager_notices(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let m = Manager::open(&app, MANAGER).await;
    let (_, lists) = m.post("lists", &[]).await;
    let refresh = &lists[lists.find("id=\"refresh\"").unwrap()..];
    let refresh = &refresh[..refresh.find("</button>").unwrap()];
    assert!(
        refresh.contains("Обновить") || refresh.contains("Refresh"),
        "the refresh button says what it does: {refresh}"
    );
    assert!(lists.contains("15.01.2025 10:00"), "dates without seconds, as Bitrix24 writes them");
    let creator = app.sandbox.lists()[0].created_by_id;
    let name = app.sandbox.users().into_iter().find(|u| u.id == creator).map(|u| u.name).unwrap_or_default();
    assert!(!name.is_empty() && lists.contains(&name), "who created each list: {name}");
    // A review that removes nobody does not say "0 will be removed".
    let list = app.sandbox.lists()[0].id;
    let someone = app.sandbox.add_contact("Only", "Added");
    let review = m.review(list, Edit::add(&[someone])).await;
    assert!(!review.contains("id=\"diff-removed\""), "nothing to remove, nothing said");
    // A new list is reviewed before it is created.
    let before = app.sandbox.lists().len();
    let (_, new) = m.post("lists/new", &[("etype", "contact"), ("add", &someone.to_string()), ("go", "review")]).await;
    assert!(
        new.contains("id=\"create\"") && new.contains("Only Added"),
        "the new list's first member, named, to confirm"
    );
    assert_eq!(app.sandbox.lists().len(), before, "nothing created before the confirmation");
}
on_both_engines_app!(the_small_things_a_manager_notices);

async fn a_portal_with_a_full_page_of_lists_opens_and_pages(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let contacts: Vec<u64> = app.sandbox.contacts().iter().take(3).map(|c| c.id).collect();
    for _ in 0..55 {
        app.sandbox.add_list(b24_calllist::sandbox::EntityKind::Contact, &contacts, None, MANAGER);
    }
    let (status, page) = app.open_as(MANAGER).await;
    assert_eq!(status, 200, "a portal with more than a page of call lists opens: {page}");
    assert_eq!(page.matches("data-open-list=").count(), 50, "a page of 50");
    let m = Manager::open(&app, MANAGER).await;
    let (_, next) = m.post("lists", &[("page", "1")]).await;
    assert!(next.matches("data-open-list=").count() >= 5, "the rest on the next page");
}
on_both_engines_app!(a_portal_with_a_full_page_of_lists_opens_and_pages);

async fn picking_by_crm_filter_counts_before_adding_and_adds_all_that_match(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    for i in 0..3 {
        app.sandbox.add_contact_with(b24_calllist::sandbox::Contact {
            name: format!("Partner{i}"),
            last_name: "Filtered".into(),
            assigned_by_id: 6,
            source_id: "PARTNER".into(),
            created_time: "2025-03-10T10:00:00+03:00".into(),
            ..Default::default()
        });
    }
    let members = app.sandbox.list(list).unwrap().member_ids();
    let expected: Vec<u64> = app
        .sandbox
        .contacts()
        .iter()
        .filter(|c| c.assigned_by_id == 6 && c.source_id == "PARTNER" && c.created_time.starts_with("2025-03"))
        .map(|c| c.id)
        .collect();
    let m = Manager::open(&app, MANAGER).await;
    let (_, page) = m.post(&format!("lists/{list}"), &[("etype", "contact")]).await;
    let select = &page[page.find("id=\"f-user\"").unwrap()..];
    assert!(select[..select.find("</select>").unwrap()].contains("value=\"6\""), "responsible users to choose from");
    // The choices are read with the session's first screen, not with every screen.
    let other = app.sandbox.lists()[1].id;
    let user_reads = app.sandbox.calls_of("user.get").len();
    let (_, page) = m.post(&format!("lists/{other}"), &[("etype", "contact")]).await;
    assert!(page.contains("id=\"f-source\"") && page.contains("value=\"PARTNER\""), "the sources are still offered");
    assert_eq!(app.sandbox.calls_of("user.get").len(), user_reads, "another list's screen reads no users again");
    let filter = [
        ("etype", "contact"),
        ("go", "filter:0"),
        ("f_user", "6"),
        ("f_source", "PARTNER"),
        ("f_from", "2025-03-01"),
        ("f_to", "2025-03-31"),
    ];
    let (_, found) = m.post(&format!("lists/{list}"), &filter).await;
    let shown = crate::harness::hidden_value(&found, "match_total");
    assert_eq!(shown, expected.len().to_string(), "the count before adding");
    let mut review = filter.to_vec();
    review.retain(|(k, _)| *k != "go");
    review.extend([("go", "review"), ("all_matching", "1"), ("match_total", shown.as_str()), ("form", "keep")]);
    let (_, preview) = m.post(&format!("lists/{list}"), &review).await;
    let new: Vec<&u64> = expected.iter().filter(|id| !members.contains(id)).collect();
    for id in &new {
        assert!(
            preview.contains(&format!("data-added=\"{id}\"")),
            "{id} is added with all that match:\n{}",
            notices(&preview)
        );
    }
    assert_eq!(preview.matches("data-added=").count(), new.len(), "and nobody else");
}
on_both_engines_app!(picking_by_crm_filter_counts_before_adding_and_adds_all_that_match);

/// A contact filter takes its company by name as well as by ID: the companies whose name holds the words are
/// looked up, and their contacts counted and added with "all that match". A name no company has says so, and
/// one that fits too many companies to be meant asks for more; neither offers anybody.
async fn picking_contacts_by_their_companys_name(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let list = app.sandbox.lists()[0].id;
    let north = app.sandbox.add_company("Quillfeather Traders");
    let south = app.sandbox.add_company("Quillmoss Logistics");
    let staff = |name: &str, company: u64| {
        app.sandbox.add_contact_with(b24_calllist::sandbox::Contact {
            name: name.into(),
            last_name: "Staff".into(),
            company_id: Some(company),
            ..Default::default()
        })
    };
    let northern: Vec<u64> = (0..3).map(|i| staff(&format!("North{i}"), north)).collect();
    staff("South", south);
    let m = Manager::open(&app, MANAGER).await;
    let path = format!("lists/{list}");
    let by = |company: String| vec![("etype", "contact".to_owned()), ("go", "filter:0".into()), ("f_company", company)];
    let post = |fields: Vec<(&'static str, String)>| {
        let m = &m;
        let path = path.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            m.post(&path, &fields).await.1
        }
    };
    let total = |page: &str| crate::harness::hidden_value(page, "match_total");

    assert_eq!(total(&post(by("quillfeather".into())).await), "3", "the company's contacts, its name in any case");
    assert_eq!(total(&post(by(north.to_string())).await), "3", "the same by its ID");
    assert_eq!(total(&post(by("Quill".into())).await), "4", "a part of a name picks every company that has it");

    let mut review = by("Quillfeather".into());
    review.retain(|(k, _)| *k != "go");
    review.extend([("go", "review".into()), ("all_matching", "1".into()), ("match_total", "3".into())]);
    review.push(("form", "keep".into()));
    let preview = post(review).await;
    for id in &northern {
        assert!(preview.contains(&format!("data-added=\"{id}\"")), "{id} is added:\n{}", notices(&preview));
    }
    assert_eq!(preview.matches("data-added=").count(), 3, "and nobody else");

    let nowhere = post(by("Quillstone".into())).await;
    assert!(notices(&nowhere).contains("Quillstone"), "a name no company has is named:\n{}", notices(&nowhere));
    assert_eq!(total(&nowhere), "0", "and nobody is offered for it");
    for i in 0..50 {
        app.sandbox.add_company(&format!("Vexmoor Branch {i}"));
    }
    let vague = post(by("Vexmoor".into())).await;
    assert!(notices(&vague).contains("Vexmoor") && notices(&vague).contains("50"), "too vague:\n{}", notices(&vague));
    assert_eq!(total(&vague), "0", "and nobody is offered for it");
}
on_both_engines_app!(picking_contacts_by_their_companys_name);
