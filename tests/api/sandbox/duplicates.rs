//! `crm.duplicate.findbycomm`: the official page (b24restdocs)
//! api-reference/crm/duplicates/crm-duplicate-find-by-comm.md, and the sandbox's reading of it in
//! docs/sandbox.md (phone normalisation, read permissions, error shapes).

use b24_calllist::sandbox::{Company, Contact, DuplicateErrors, EntityKind, Quirks};
use serde_json::{Value, json};

use super::*;

fn contact(p: &TestPortal, phones: &[&str], emails: &[&str], assigned_by_id: u64) -> u64 {
    p.sb.add_contact_with(Contact {
        name: "Тест".into(),
        last_name: "Дублей".into(),
        phones: phones.iter().map(|s| s.to_string()).collect(),
        emails: emails.iter().map(|s| s.to_string()).collect(),
        assigned_by_id,
        ..Contact::default()
    })
}

fn company(p: &TestPortal, phones: &[&str], assigned_by_id: u64) -> u64 {
    p.sb.add_company_with(Company {
        title: "ООО «Дубль»".into(),
        phones: phones.iter().map(|s| s.to_string()).collect(),
        assigned_by_id,
        ..Company::default()
    })
}

async fn find(p: &TestPortal, user: u64, body: Value) -> Reply {
    p.json("crm.duplicate.findbycomm", &p.token(user), body).await
}

/// The page's answer: `{"CONTACT": [ids], "COMPANY": [ids]}` with integer IDs; phones match whatever their
/// formatting (digits, a Russian 8 for 7, the extension left out), e-mails whatever their case; `entity_type`
/// narrows the search, `LEAD` finds nothing here; nothing found is `[]`.
#[tokio::test]
async fn findbycomm_finds_contacts_and_companies_by_phone_and_email() {
    let p = start().await;
    let a = contact(&p, &["+7 (912) 000-11-22"], &["Anna.Dubl@Example.RU"], ADMIN);
    let b = contact(&p, &["8 912 000 11 22 #17"], &[], ADMIN);
    let c = contact(&p, &["+7 912 999-99-99"], &["other@example.ru"], ADMIN);
    let firm = company(&p, &["7 912 000-11-22"], ADMIN);

    let r = find(&p, ADMIN, json!({"type": "PHONE", "values": ["+79120001122"]})).await;
    assert_eq!(r.assert_ok(), &json!({"CONTACT": [a, b], "COMPANY": [firm]}));
    let r = find(&p, ADMIN, json!({"entity_type": "CONTACT", "type": "PHONE", "values": ["89120001122"]})).await;
    assert_eq!(r.assert_ok(), &json!({"CONTACT": [a, b]}));
    let r = find(&p, ADMIN, json!({"entity_type": "COMPANY", "type": "PHONE", "values": ["89120001122"]})).await;
    assert_eq!(r.assert_ok(), &json!({"COMPANY": [firm]}));
    let r = find(&p, ADMIN, json!({"type": "EMAIL", "values": ["  anna.dubl@example.ru", "OTHER@example.ru"]})).await;
    assert_eq!(r.assert_ok(), &json!({"CONTACT": [a, c]}));
    let r = find(&p, ADMIN, json!({"entity_type": "LEAD", "type": "PHONE", "values": ["+79120001122"]})).await;
    assert_eq!(r.assert_ok(), &json!([]));
    let r = find(&p, ADMIN, json!({"type": "PHONE", "values": ["+7 000 000-00-00"]})).await;
    assert_eq!(r.assert_ok(), &json!([]));
    let r = p
        .form(
            "crm.duplicate.findbycomm",
            &p.token(ADMIN),
            "type=phone&values[]=%2B7%20912%20000-11-22&values[]=8%20912%20999%2099%2099",
        )
        .await;
    assert_eq!(r.assert_ok(), &json!({"CONTACT": [a, b, c], "COMPANY": [firm]}), "a form body, type in lower case");
}

/// The page: "Maximum number of values — 20": values past the twentieth distinct one are not looked up
/// (not an error); a value repeated counts once.
#[tokio::test]
async fn findbycomm_looks_up_at_most_twenty_values() {
    let p = start().await;
    let late = contact(&p, &["+7 913 555-00-21"], &[], ADMIN);
    let early = contact(&p, &["+7 913 555-00-01"], &[], ADMIN);
    let mut values: Vec<String> = (1..=20).map(|i| format!("+7 913 555-00-{i:02}")).collect();
    values.push("+7 913 555-00-21".into());
    let r = find(&p, ADMIN, json!({"type": "PHONE", "values": values})).await;
    assert_eq!(r.assert_ok(), &json!({"CONTACT": [early]}), "the 21st value is not looked up");
    let mut values = vec!["+7 913 555-00-01".to_owned(); 25];
    values.push("+7 913 555-00-21".into());
    let r = find(&p, ADMIN, json!({"type": "PHONE", "values": values})).await;
    assert_eq!(r.assert_ok(), &json!({"CONTACT": [early, late]}), "a repeated value counts once");
}

/// The page, "Method Operation Features": when one type has 20 or more duplicates of a value, the types
/// after it are not returned for that value.
#[tokio::test]
async fn findbycomm_stops_at_a_type_with_twenty_duplicates() {
    let p = start().await;
    let many: Vec<u64> = (0..21).map(|_| contact(&p, &["+7 914 100-20-30"], &[], ADMIN)).collect();
    let firm = company(&p, &["+7 914 100-20-30"], ADMIN);
    let r = find(&p, ADMIN, json!({"type": "PHONE", "values": ["+79141002030"]})).await;
    assert_eq!(r.assert_ok(), &json!({"CONTACT": many[..20]}), "20 contacts, and no company");
    let r = find(&p, ADMIN, json!({"entity_type": "COMPANY", "type": "PHONE", "values": ["+79141002030"]})).await;
    assert_eq!(r.assert_ok(), &json!({"COMPANY": [firm]}));
}

/// The page's errors: no `type`, an unsupported one, no `values` (missing, not an array, empty), and 403 for
/// a user without read access to CRM items. docs/sandbox.md: `quirks.duplicate_errors` switches to the
/// source's shape (an empty `error`, status 400).
#[tokio::test]
async fn findbycomm_errors_are_as_documented() {
    let p = start().await;
    find(&p, ADMIN, json!({"values": ["1"]})).await.assert_error(
        400,
        "Communication type is not defined",
        "Parameter 'type' is required.",
    );
    let r = find(&p, ADMIN, json!({"type": "FAX", "values": ["1"]})).await;
    assert_eq!((r.status, r.error()), (400, "Communication type 'FAX' is not supported in current context"));
    for values in [json!(null), json!("+79120001122"), json!([])] {
        let mut body = json!({"type": "PHONE", "values": values});
        if values.is_null() {
            body = json!({"type": "PHONE"});
        }
        find(&p, ADMIN, body).await.assert_error(
            400,
            "Communication values is not defined",
            "Parameter 'values' is required.",
        );
    }
    let r = find(&p, NO_CRM, json!({"type": "PHONE", "values": ["1"]})).await;
    assert_eq!((r.status, r.error()), (403, "Access denied"), "{}", r.text);

    let q = start_with(SandboxConfig {
        quirks: Quirks { duplicate_errors: DuplicateErrors::Source, ..Quirks::default() },
        ..small_config()
    })
    .await;
    find(&q, ADMIN, json!({"values": ["1"]})).await.assert_error(400, "", "Communication type is not defined.");
    find(&q, NO_CRM, json!({"type": "PHONE", "values": ["1"]})).await.assert_error(400, "", "Access denied.");
}

/// docs/sandbox.md: the search is subject to the caller's read rights as other CRM reads are: hidden items
/// (a deny set, the "own" level) are not found, and a type the caller cannot read finds nothing.
#[tokio::test]
async fn findbycomm_finds_only_what_the_caller_may_read() {
    let p = start().await;
    let mine = contact(&p, &["+7 915 700-00-01"], &[], MANAGER_OWN);
    let theirs = contact(&p, &["+7 915 700-00-01"], &[], MANAGER_BOTH);
    let firm = company(&p, &["+7 915 700-00-01"], MANAGER_BOTH);
    let body = json!({"type": "PHONE", "values": ["+79157000001"]});
    assert_eq!(
        find(&p, MANAGER_BOTH, body.clone()).await.assert_ok(),
        &json!({"CONTACT": [mine, theirs], "COMPANY": [firm]})
    );
    assert_eq!(find(&p, MANAGER_OWN, body.clone()).await.assert_ok(), &json!({"CONTACT": [mine]}));
    assert_eq!(find(&p, MANAGER_CONTACTS, body.clone()).await.assert_ok(), &json!({"CONTACT": [mine, theirs]}));
    assert_eq!(find(&p, MANAGER_COMPANIES, body.clone()).await.assert_ok(), &json!({"COMPANY": [firm]}));
    p.sb.deny(MANAGER_BOTH, EntityKind::Contact, theirs).unwrap();
    assert_eq!(find(&p, MANAGER_BOTH, body).await.assert_ok(), &json!({"CONTACT": [mine], "COMPANY": [firm]}));
}
