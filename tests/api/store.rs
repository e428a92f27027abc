//! The portal store, told once and run on SQLite and PostgreSQL.

use std::sync::Arc;

use b24_calllist::domain::PortalStatus;
use b24_calllist::keys::{Keyring, SecretKey};
use b24_calllist::store::seal::SealError;
use b24_calllist::store::{StoreError, SwapOutcome};
use secrecy::ExposeSecret;
use sqlx::Row;

use crate::helpers::{TestDb, install, keyring, member, pair, token};
use crate::on_both_engines;

async fn installing_reading_reinstalling_and_forgetting_a_portal(db: TestDb) {
    let store = db.store(&keyring()).await;
    let id = member("a223c6b3710f85df22e9377d6c4f7553");
    assert!(store.portal(&id).await.unwrap().is_none(), "a fresh store knows no portal");

    let (access, refresh) = (token(), token());
    let portal = store.save_install(&install(&id, &access, &refresh, Some("apptoken"))).await.unwrap();
    assert_eq!(portal.domain, "portal.example.com");
    assert_eq!(portal.client_endpoint.as_str(), "https://portal.example.com/rest/");
    assert_eq!(portal.status, PortalStatus::Active);
    assert!(portal.has_tokens);
    let stored = store.tokens(&id).await.unwrap().expect("tokens");
    assert_eq!(stored.tokens.access_token.expose_secret(), access);
    assert_eq!(stored.tokens.refresh_token.expose_secret(), refresh);

    // A reinstall keeps one portal and replaces its tokens; the application token stays when not resent.
    let (access2, refresh2) = (token(), token());
    store.save_install(&install(&id, &access2, &refresh2, None)).await.unwrap();
    assert_eq!(store.portals().await.unwrap().len(), 1, "a reinstall must not create a second portal");
    let again = store.tokens(&id).await.unwrap().unwrap();
    assert_eq!(again.tokens.access_token.expose_secret(), access2);
    assert!(again.version > stored.version, "a reinstall moves the token version on");
    assert!(store.application_token_matches(&id, "apptoken").await.unwrap());
    assert!(!store.application_token_matches(&id, "apptokeN").await.unwrap());

    assert!(store.set_status(&id, PortalStatus::NeedsReauthorisation, "invalid_grant").await.unwrap());
    let p = store.portal(&id).await.unwrap().unwrap();
    assert_eq!((p.status, p.status_reason.as_str()), (PortalStatus::NeedsReauthorisation, "invalid_grant"));
    let history = store.audit(&id, None, 10).await.unwrap();
    let actions: Vec<_> = history.iter().map(|r| r.entry.action.code()).collect();
    assert_eq!(actions, ["portal.status", "portal.reinstall", "portal.install"]);

    assert!(store.forget(&id).await.unwrap());
    assert!(store.portal(&id).await.unwrap().is_none());
    assert!(store.audit(&id, None, 10).await.unwrap().is_empty(), "forgetting removes the history too");
    assert!(!store.forget(&id).await.unwrap(), "forgetting an unknown portal says so");
}
on_both_engines!(installing_reading_reinstalling_and_forgetting_a_portal);

async fn uninstall_drops_tokens_and_clean_uninstall_forgets(db: TestDb) {
    let store = db.store(&keyring()).await;
    let (kept, cleaned) = (member("kept"), member("cleaned"));
    store.save_install(&install(&kept, &token(), &token(), Some("a"))).await.unwrap();
    store.save_install(&install(&cleaned, &token(), &token(), Some("b"))).await.unwrap();

    assert!(store.uninstall(&kept, false).await.unwrap());
    let p = store.portal(&kept).await.unwrap().expect("an uninstall without CLEAN keeps the portal");
    assert_eq!(p.status, PortalStatus::Uninstalled);
    assert!(!p.has_tokens);
    assert!(store.tokens(&kept).await.unwrap().is_none());
    assert!(!store.application_token_matches(&kept, "a").await.unwrap());

    assert!(store.uninstall(&cleaned, true).await.unwrap());
    assert!(store.portal(&cleaned).await.unwrap().is_none(), "CLEAN=1 forgets the portal");
    assert!(!store.uninstall(&member("nobody"), false).await.unwrap());
}
on_both_engines!(uninstall_drops_tokens_and_clean_uninstall_forgets);

async fn racing_token_swaps_have_exactly_one_winner(db: TestDb) {
    let store = Arc::new(db.store(&keyring()).await);
    let id = member("race");
    store.save_install(&install(&id, &token(), &token(), None)).await.unwrap();
    for round in 0..100 {
        let read = store.tokens(&id).await.unwrap().unwrap();
        let mut tasks = Vec::new();
        for side in 0..2 {
            let store = store.clone();
            let id = id.clone();
            let new = pair(&format!("access-{round}-{side}"), &format!("refresh-{round}-{side}"));
            let version = read.version;
            tasks.push(tokio::spawn(async move { (side, store.swap_tokens(&id, version, &new).await.unwrap()) }));
        }
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (side, SwapOutcome::Won { version }) => winners.push((side, version)),
                (side, SwapOutcome::Lost(current)) => losers.push((side, current)),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one of two racing swaps must win");
        let (winner, version) = winners[0];
        assert_eq!(version, read.version + 1);
        let (_, current) = &losers[0];
        assert_eq!(
            current.tokens.refresh_token.expose_secret(),
            &format!("refresh-{round}-{winner}"),
            "round {round}: the loser must be handed the winner's tokens"
        );
        let stored = store.tokens(&id).await.unwrap().unwrap();
        assert_eq!(stored.tokens.access_token.expose_secret(), &format!("access-{round}-{winner}"));
    }
}
on_both_engines!(racing_token_swaps_have_exactly_one_winner);

async fn a_rotated_key_still_opens_old_values_and_the_next_write_reseals_them(db: TestDb) {
    let old = SecretKey::generate();
    let new = SecretKey::generate();
    let id = member("rotation");
    let access = token();
    db.store(&Keyring::new(old.clone(), vec![]))
        .await
        .save_install(&install(&id, &access, &token(), None))
        .await
        .unwrap();

    let rotated = db.store(&Keyring::new(new.clone(), vec![old.clone()])).await;
    let read = rotated.tokens(&id).await.unwrap().unwrap();
    assert_eq!(read.tokens.access_token.expose_secret(), access);
    assert!(read.sealed_with_former_key, "the store must say the value still needs re-sealing");

    let fresh = token();
    let SwapOutcome::Won { .. } = rotated.swap_tokens(&id, read.version, &pair(&fresh, &token())).await.unwrap() else {
        panic!("an uncontended swap wins");
    };
    let only_new = db.store(&Keyring::new(new, vec![])).await;
    let after = only_new.tokens(&id).await.unwrap().expect("re-sealed with the new key");
    assert_eq!(after.tokens.access_token.expose_secret(), fresh);
    assert!(!after.sealed_with_former_key);
}
on_both_engines!(a_rotated_key_still_opens_old_values_and_the_next_write_reseals_them);

async fn a_wrong_key_is_named_not_a_panic(db: TestDb) {
    let id = member("wrongkey");
    db.store(&keyring()).await.save_install(&install(&id, &token(), &token(), Some("x"))).await.unwrap();
    let stranger = db.store(&keyring()).await;
    let err = stranger.tokens(&id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Seal { source: SealError::UnknownKey(_), .. }),
        "expected an unknown-key error, got {err}"
    );
    assert!(err.to_string().contains("APP_PREVIOUS_SECRET_KEYS"), "the message says how to fix it: {err}");
    assert!(stranger.application_token_matches(&id, "x").await.is_err());
}
on_both_engines!(a_wrong_key_is_named_not_a_panic);

async fn a_tampered_or_moved_value_does_not_open(db: TestDb) {
    let keys = keyring();
    let store = db.store(&keys).await;
    let (a, b) = (member("alpha"), member("beta"));
    store.save_install(&install(&a, &token(), &token(), None)).await.unwrap();
    store.save_install(&install(&b, &token(), &token(), None)).await.unwrap();
    let pool = store.database().pool();

    // Flip one character of the sealed data.
    let sealed: String =
        sqlx::query_scalar("SELECT access_token FROM portals WHERE member_id = 'alpha'").fetch_one(pool).await.unwrap();
    let mut bytes = sealed.into_bytes();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    sqlx::query("UPDATE portals SET access_token = $1 WHERE member_id = 'alpha'")
        .bind(String::from_utf8(bytes).unwrap())
        .execute(pool)
        .await
        .unwrap();
    let err = store.tokens(&a).await.unwrap_err();
    assert!(matches!(err, StoreError::Seal { source: SealError::Tampered(_), .. }), "got {err}");

    // Copy beta's sealed refresh token into its access column: bound to another field, it must not open.
    sqlx::query("UPDATE portals SET access_token = refresh_token WHERE member_id = 'beta'")
        .execute(pool)
        .await
        .unwrap();
    let err = store.tokens(&b).await.unwrap_err();
    assert!(matches!(err, StoreError::Seal { source: SealError::Tampered(_), .. }), "got {err}");
}
on_both_engines!(a_tampered_or_moved_value_does_not_open);

async fn no_token_is_stored_in_clear(db: TestDb) {
    let store = db.store(&keyring()).await;
    let id = member("clear");
    let (access, refresh, app) = (token(), token(), token());
    store.save_install(&install(&id, &access, &refresh, Some(&app))).await.unwrap();
    let swapped = (token(), token());
    let v = store.tokens(&id).await.unwrap().unwrap().version;
    store.swap_tokens(&id, v, &pair(&swapped.0, &swapped.1)).await.unwrap();

    let dump = match &db.sqlite_path {
        Some(path) => {
            store.database().close().await;
            let mut bytes = std::fs::read(path).unwrap();
            for suffix in ["-wal", "-shm"] {
                if let Ok(more) = std::fs::read(format!("{}{suffix}", path.display())) {
                    bytes.extend(more);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        None => {
            let rows = sqlx::query("SELECT CAST(p.* AS TEXT) AS row FROM portals p")
                .fetch_all(store.database().pool())
                .await
                .unwrap();
            rows.iter().map(|r| r.get::<String, _>("row")).collect::<Vec<_>>().join("\n")
        }
    };
    assert!(dump.contains("clear"), "the dump must hold the portal's row at all ({} bytes)", dump.len());
    for secret in [&access, &refresh, &app, &swapped.0, &swapped.1] {
        assert!(!dump.contains(secret.as_str()), "a token was found in clear in the {} database", db.engine);
    }
}
on_both_engines!(no_token_is_stored_in_clear);

async fn an_unknown_portal_has_no_tokens_and_cannot_be_swapped(db: TestDb) {
    let store = db.store(&keyring()).await;
    let id = member("ghost");
    assert!(store.tokens(&id).await.unwrap().is_none());
    assert!(matches!(store.swap_tokens(&id, 1, &pair("a", "b")).await, Err(StoreError::UnknownPortal(_))));
    assert!(!store.set_status(&id, PortalStatus::Active, "").await.unwrap());
}
on_both_engines!(an_unknown_portal_has_no_tokens_and_cannot_be_swapped);

#[tokio::test]
async fn the_sqlite_file_and_its_folder_are_created_in_wal_mode() {
    let db = TestDb::sqlite();
    let path = db.sqlite_path.clone().unwrap();
    assert!(!path.parent().unwrap().exists());
    let store = db.store(&keyring()).await;
    assert!(path.exists(), "the SQLite file is created on first start");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.database().pool()).await.unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(store.database().pool()).await.unwrap();
    assert!(timeout >= 1000, "a busy timeout is set, got {timeout}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let url = "postgres://postgres@127.0.0.1:1/none".parse().unwrap();
    let err = b24_calllist::store::Database::connect(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Unreachable(_)), "got {err}");
    assert!(err.to_string().starts_with("cannot reach the database"), "{err}");
}

#[tokio::test]
async fn a_sqlite_folder_that_cannot_be_created_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let url = b24_calllist::settings::DatabaseUrl::Sqlite { path: file.join("sub").join("b24.db") };
    let err = b24_calllist::store::Database::connect(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::CreateFolder { .. }), "got {err}");
}

async fn a_list_lease_is_held_by_one_save_and_runs_out_after_a_crash(db: TestDb) {
    let store = db.store(&keyring()).await;
    let m = member("leaseportal");
    let list = b24_calllist::domain::ListId::new(7).unwrap();
    let ms = std::time::Duration::from_millis;
    let first = store.take_list_lease(&m, list, ms(400), ms(0)).await.unwrap().expect("a free list's lease");
    assert!(
        store.take_list_lease(&m, list, ms(400), ms(100)).await.unwrap().is_none(),
        "held: the second waits, then gives up"
    );
    let other = b24_calllist::domain::ListId::new(8).unwrap();
    assert!(store.take_list_lease(&m, other, ms(400), ms(0)).await.unwrap().is_some(), "other lists are free");
    first.release().await;
    let second = store.take_list_lease(&m, list, ms(400), ms(0)).await.unwrap().expect("released, so free");
    // The holder "crashes": its lease is never released, and runs out.
    drop(second);
    let third = store.take_list_lease(&m, list, ms(400), ms(2_000)).await.unwrap().expect("taken once it ran out");
    assert!(third.renew().await.unwrap(), "the holder renews it");
    let stale = store.take_list_lease(&m, other, ms(50), ms(0)).await.unwrap().unwrap();
    tokio::time::sleep(ms(120)).await;
    let _newer = store.take_list_lease(&m, other, ms(400), ms(0)).await.unwrap().expect("the stale one ran out");
    assert!(!stale.renew().await.unwrap(), "a holder whose lease was taken over cannot renew it");
}
on_both_engines!(a_list_lease_is_held_by_one_save_and_runs_out_after_a_crash);

/// Two stores on one PostgreSQL (two instances) share each portal's bucket: the burst once, then the rate.
#[tokio::test]
async fn instances_on_postgres_share_each_portals_request_bucket() {
    let Some(db) = TestDb::postgres().await else { return };
    let keys = keyring();
    let a = db.store(&keys).await;
    let b = b24_calllist::store::Store::open(&db.url, &keys).await.unwrap();
    // A burst of 11 leaves 10 places to fill: one is kept spare for requests on their way.
    let limit = b24_calllist::bitrix::RateLimit { burst: 11, per_second: 1.0 };
    let started = std::time::Instant::now();
    let mut granted = 0;
    for i in 0..20 {
        let store = if i % 2 == 0 { &a } else { &b };
        if store.take_request("p1", "crm.item.list", limit).await.unwrap().is_ok() {
            granted += 1;
        }
    }
    // What drained while the requests were asked for (one a second) may be granted too, no more.
    let drained = started.elapsed().as_secs_f64() * limit.per_second;
    assert!(
        granted >= 10 && granted as f64 <= 10.0 + drained + 0.5,
        "one burst between the two, not one each: {granted}"
    );
    let wait = a.take_request("p1", "crm.item.list", limit).await.unwrap().unwrap_err();
    assert!(wait <= std::time::Duration::from_millis(1_050), "the next place frees up at the rate: {wait:?}");
    assert!(a.take_request("p2", "crm.item.list", limit).await.unwrap().is_ok(), "portals have their own buckets");
    // A method one instance saw blocked is held for the other too.
    b.block_method("p2", "crm.calllist.update", std::time::Duration::from_secs(30)).await.unwrap();
    let held = a.take_request("p2", "crm.calllist.update", limit).await.unwrap().unwrap_err();
    assert!(held >= std::time::Duration::from_secs(25), "held for the block's length: {held:?}");
    assert!(a.take_request("p2", "crm.item.list", limit).await.unwrap().is_ok(), "other methods are not held");
}

/// A burst of REST calls is written in statements of many lines each: the parameters of a full statement fit
/// both engines' limits, and nothing is lost between statements.
async fn a_burst_of_rest_log_lines_is_written_whole(db: TestDb) {
    use b24_calllist::bitrix::log::{RestCall, RestLog};
    let store = db.store(&keyring()).await;
    let id = member("a223c6b3710f85df22e9377d6c4f7553");
    let log = b24_calllist::store::spawn_rest_log(store.clone(), 7);
    let now = chrono::Utc::now().timestamp();
    for n in 0..1_203u64 {
        log.record(RestCall {
            member_id: id.to_string(),
            user_id: None,
            method: format!("m{n}"),
            params: "{\"LIST_ID\":1}".into(),
            http_status: 200,
            error: (n % 100 == 0).then(|| "QUERY_LIMIT_EXCEEDED".into()),
            duration_ms: n,
            at: now,
        });
    }
    log.flush().await;
    assert_eq!(log.dropped(), 0);
    let lines = store.recent_calls(&id, 10_000).await.unwrap();
    assert_eq!(lines.len(), 1_203, "every line written");
    let mut methods: Vec<u64> = lines.iter().map(|c| c.method[1..].parse().unwrap()).collect();
    methods.sort_unstable();
    assert_eq!(methods, (0..1_203).collect::<Vec<_>>(), "each line once");
    let m100 = lines.iter().find(|c| c.method == "m100").unwrap();
    assert_eq!((m100.error.as_deref(), m100.duration_ms), (Some("QUERY_LIMIT_EXCEEDED"), 100), "its own values");
}
on_both_engines!(a_burst_of_rest_log_lines_is_written_whole);
