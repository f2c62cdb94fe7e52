//! The vault's side of token containers: registration, what a sync sends, a sync's reply
//! applied all or nothing, removal (`vault::container`, `vault::container_sync`).

use super::*;
use crate::container::{
    Container, ContainerKey, Policies, ReportedToken, SyncReply, read_sync_plaintext,
};
use crate::rng::SystemRng;
use crate::server_url::ServerUrl;

fn vault() -> Vault {
    let rng = SystemRng::new();
    let mut v = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
    v.add_container(Container {
        serial: "SMPH1".into(),
        issuer: "privacyIDEA".into(),
        server_url: ServerUrl::parse("https://pi.example.com/").unwrap(),
        verify_tls: true,
        key: ContainerKey::generate(&rng).unwrap(),
        policies: Policies::default(),
        registered_at: 1,
        last_sync: None,
    });
    v
}

fn reply(add: &[&str], update: serde_json::Value, policies: Policies) -> SyncReply {
    let body = serde_json::json!({"container": {"serial": "SMPH1"},
        "tokens": {"add": add, "update": update}});
    read_sync_plaintext("SMPH1", body.to_string().as_bytes(), policies).unwrap()
}

const TOTP: &str = "otpauth://totp/TOTP1?secret=GEZDGNBVGY3TQOJQ&period=30&digits=6&issuer=privacyIDEA&serial=TOTP1";
const TOTP_REKEYED: &str = "otpauth://totp/TOTP1?secret=JBSWY3DPEHPK3PXP&period=30&digits=6&issuer=privacyIDEA&serial=TOTP1";
const HOTP: &str = "otpauth://hotp/OATH1?secret=JBSWY3DPEHPK3PXP&counter=1&digits=6&issuer=privacyIDEA&serial=OATH1";

#[test]
fn sync_adds_updates_rekeys_and_removes() {
    let rng = SystemRng::new();
    let mut v = vault();
    let r = v
        .apply_container_sync(
            &reply(&[TOTP, HOTP], serde_json::json!([]), Policies::default()),
            vec![],
            10,
            &rng,
        )
        .unwrap();
    assert_eq!(r.added.len(), 2);
    assert_eq!(v.accounts().len(), 2);
    let report = v.container_report("SMPH1").unwrap();
    assert_eq!(report.len(), 2);
    let totp_id = v.container("SMPH1").unwrap().tokens[0]
        .account
        .clone()
        .unwrap();
    // Nothing new: secrets kept, the HOTP counter set to the server's.
    let before = v.account(&totp_id).unwrap().otp.clone();
    let upd = serde_json::json!([{"serial": "TOTP1", "tokentype": "totp", "counter": 5},
                                 {"serial": "OATH1", "tokentype": "hotp", "counter": 4}]);
    let r = v
        .apply_container_sync(&reply(&[], upd, Policies::default()), vec![], 20, &rng)
        .unwrap();
    assert_eq!(r.updated, vec!["TOTP1", "OATH1"]);
    assert_eq!(v.account(&totp_id).unwrap().otp, before);
    let hotp = v.accounts().iter().find(|a| a.id != totp_id).unwrap();
    assert_eq!(hotp.otp.params.kind(), crate::Kind::Hotp { counter: 4 });
    // Re-keyed in place (same id); OATH1 left the container: removed here.
    let r = v
        .apply_container_sync(
            &reply(&[TOTP_REKEYED], serde_json::json!([]), Policies::default()),
            vec![],
            30,
            &rng,
        )
        .unwrap();
    assert_eq!(r.removed, vec!["OATH1"]);
    assert_eq!(v.accounts().len(), 1);
    assert_eq!(v.accounts()[0].id, totp_id);
    assert_ne!(v.accounts()[0].otp.secret, before.secret);
    assert_eq!(v.container("SMPH1").unwrap().container.last_sync, Some(30));
}

/// A vault whose container manages one TOTP account and forbids deleting it; its id.
fn vault_with_a_managed_totp() -> (Vault, String) {
    let rng = SystemRng::new();
    let mut v = vault();
    let forbid = Policies {
        disable_client_token_deletion: true,
        ..Policies::default()
    };
    v.apply_container_sync(
        &reply(&[TOTP], serde_json::json!([]), forbid),
        vec![],
        10,
        &rng,
    )
    .unwrap();
    let id = v.accounts()[0].id.clone();
    (v, id)
}

#[test]
fn a_stored_container_with_an_ambiguous_address_is_dropped_and_its_accounts_kept() {
    let (v, id) = vault_with_a_managed_totp();
    // As a vault written before addresses were read once could hold it.
    let mut json: serde_json::Value = serde_json::from_slice(&v.db.to_json()).unwrap();
    json["containers"][0]["server_url"] = "http://evil.example\\@pi.example.com/".into();
    let db = super::model::Database::from_json(json.to_string().as_bytes())
        .expect("the vault still opens");
    assert!(db.containers.is_empty());
    assert_eq!(db.accounts.len(), 1);
    assert_eq!(db.accounts[0].id, id);
    assert_eq!(db.accounts[0].otp, v.accounts()[0].otp);
    // A damaged key is still a damaged vault.
    json["containers"][0]["server_url"] = "https://pi.example.com/".into();
    json["containers"][0]["key"] = "not base64!".into();
    assert!(super::model::Database::from_json(json.to_string().as_bytes()).is_err());
}

#[test]
fn policies_deletion_export_and_storage() {
    let rng = SystemRng::new();
    let (mut v, id) = vault_with_a_managed_totp();
    assert_eq!(
        v.remove(&id, 1_700_000_100).unwrap_err(),
        VaultError::ManagedDeletion("SMPH1".into())
    );
    // Export marks it; sync never takes it.
    assert_eq!(
        v.export_entries()[0].groups,
        vec!["Managed: SMPH1".to_owned()]
    );
    assert!(v.sync_local().is_empty());
    // Stored and read back with its key and links.
    let w = Vault::open(&v.to_bytes(&rng).unwrap(), b"pw").unwrap();
    assert_eq!(w.containers(), v.containers());
    assert!(w.managed_account(&id).is_some());
    // Allowed by the newest policies: removed and unlinked.
    v.apply_container_sync(
        &reply(
            &[],
            serde_json::json!([{"serial": "TOTP1", "tokentype": "totp"}]),
            Policies::default(),
        ),
        vec![],
        20,
        &rng,
    )
    .unwrap();
    v.remove(&id, 1_700_000_100).unwrap();
    assert!(v.container_report("SMPH1").unwrap().is_empty());
    // Unregistered: the container and its tokens leave.
    v.apply_container_sync(
        &reply(&[TOTP], serde_json::json!([]), Policies::default()),
        vec![],
        30,
        &rng,
    )
    .unwrap();
    v.remove_container("SMPH1", 1_700_000_100).unwrap();
    assert!(v.accounts().is_empty() && v.containers().is_empty());
}

#[test]
fn a_removed_push_token_is_released_from_its_container() {
    let rng = SystemRng::new();
    let mut v = vault();
    let push = crate::vault::tests::push::push_account();
    let serial = push.serial.clone();
    let uri = format!(
        "otpauth://pipush/{serial}?url=https%3A//pi.example.com/ttype/push&enrollment_credential=x&serial={serial}"
    );
    let forbid = Policies {
        disable_client_token_deletion: true,
        ..Policies::default()
    };
    v.apply_container_sync(
        &reply(&[&uri, TOTP], serde_json::json!([]), forbid),
        vec![push],
        10,
        &rng,
    )
    .unwrap();
    assert_eq!(
        v.managed_push_account(&serial).unwrap().container.serial,
        "SMPH1"
    );
    assert_eq!(v.container_report("SMPH1").unwrap().len(), 2);
    assert_eq!(
        v.containers_of_push([serial.as_str(), "TOTP1", "PIPU404"]),
        vec!["SMPH1".to_owned()]
    );
    assert!(v.containers_of_push(["TOTP1"]).is_empty());
    // Forbidden: refused, still held and still reported.
    assert_eq!(
        v.remove_push_account(&serial).unwrap_err(),
        VaultError::ManagedDeletion("SMPH1".into())
    );
    assert!(v.push_account(&serial).is_some());
    assert_eq!(v.container_report("SMPH1").unwrap().len(), 2);
    // Allowed by the newest policies: removed and no longer reported.
    let both = serde_json::json!([{"serial": serial, "tokentype": "push"},
                                  {"serial": "TOTP1", "tokentype": "totp"}]);
    v.apply_container_sync(&reply(&[], both, Policies::default()), vec![], 20, &rng)
        .unwrap();
    v.remove_push_account(&serial).unwrap();
    assert!(v.push_account(&serial).is_none());
    assert!(v.managed_push_account(&serial).is_none());
    assert!(v.containers_of_push([serial.as_str()]).is_empty());
    let report = v.container_report("SMPH1").unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].serial, "TOTP1");
    // The server then re-keys it (it was not reported) and the next sync brings it back.
    assert_eq!(
        v.remove_push_account(&serial).unwrap_err(),
        VaultError::NotFound(serial.clone())
    );
}

#[test]
fn unreadable_entries_are_skipped_not_dropped() {
    let rng = SystemRng::new();
    let mut v = vault();
    let bad = "otpauth://totp/T2?secret=!!!&serial=T2";
    let push =
        "otpauth://pipush/PIPU1?url=https%3A//pi/ttype/push&enrollment_credential=x&serial=PIPU1";
    let r = v
        .apply_container_sync(
            &reply(
                &[bad, push, TOTP],
                serde_json::json!([]),
                Policies::default(),
            ),
            vec![],
            10,
            &rng,
        )
        .unwrap();
    assert_eq!(r.added, vec![("TOTP1".to_owned(), "totp".to_owned())]);
    assert_eq!(r.skipped.len(), 2, "{:?}", r.skipped);
}

// -- Origin: a container takes only what is its own.

fn pipush(serial: &str, server: &str) -> String {
    format!(
        "otpauth://pipush/{serial}?url={server}ttype/push&enrollment_credential=x&serial={serial}"
    )
}

/// A PUSH token of another server than the container's is neither enrolled nor taken,
/// whatever the caller enrolled: skipped with the reason.
#[test]
fn a_push_token_on_another_server_is_skipped() {
    let rng = SystemRng::new();
    let mut v = vault();
    let mut other = crate::vault::tests::push::push_account();
    other.url = "https://other.example/ttype/push".into();
    let elsewhere = pipush(&other.serial, "https%3A//other.example/");
    let ambiguous = pipush("PIPU2", "https%3A//other.example%5C%40pi.example.com/");
    let r = reply(
        &[&elsewhere, &ambiguous, TOTP],
        serde_json::json!([]),
        Policies::default(),
    );
    assert!(v.container_push_to_enrol(&r).is_empty());
    let report = v.apply_container_sync(&r, vec![other], 10, &rng).unwrap();
    assert_eq!(report.added, vec![("TOTP1".to_owned(), "totp".to_owned())]);
    assert_eq!(report.skipped.len(), 2, "{:?}", report.skipped);
    assert!(
        report.skipped[0]
            .1
            .contains("another server (https://other.example)"),
        "{:?}",
        report.skipped
    );
    assert!(
        report.skipped[1].1.contains("backslash"),
        "{:?}",
        report.skipped
    );
    assert!(v.push_accounts().is_empty());
    assert_eq!(v.container_report("SMPH1").unwrap().len(), 1);
    // Its own server's PUSH token is enrolled and taken.
    let own = crate::vault::tests::push::push_account();
    let here = pipush(&own.serial, "https%3A//pi.example.com/");
    let r = reply(
        &[&here],
        serde_json::json!([{"serial": "TOTP1", "tokentype": "totp"}]),
        Policies::default(),
    );
    assert_eq!(v.container_push_to_enrol(&r).len(), 1);
    let report = v
        .apply_container_sync(&r, vec![own.clone()], 20, &rng)
        .unwrap();
    assert_eq!(report.added, vec![(own.serial.clone(), "push".to_owned())]);
    assert!(v.managed_push_account(&own.serial).is_some());
}

/// A push account the container does not hold, with the serial of a token the sync adds,
/// is left as it is (not replaced, not taken over, not removed later); one it holds is
/// replaced by the re-keyed enrolment.
#[test]
fn a_container_never_replaces_or_takes_over_a_push_account_it_does_not_hold() {
    let rng = SystemRng::new();
    let mut v = vault();
    let mine = crate::vault::tests::push::push_account();
    v.add_push_account(mine.clone());
    let mut enrolled = mine.clone();
    enrolled.enrolled_at = 99;
    let same_serial = pipush(&mine.serial, "https%3A//pi.example.com/");
    let r = reply(&[&same_serial], serde_json::json!([]), Policies::default());
    assert!(v.container_push_to_enrol(&r).is_empty());
    let report = v
        .apply_container_sync(&r, vec![enrolled.clone()], 10, &rng)
        .unwrap();
    assert!(report.added.is_empty());
    assert!(
        report.skipped[0].1.contains("does not manage"),
        "{:?}",
        report.skipped
    );
    assert_eq!(v.push_account(&mine.serial), Some(&mine), "not replaced");
    assert!(
        v.managed_push_account(&mine.serial).is_none(),
        "not taken over"
    );
    // The serial in `update` does not make it the container's either, and a sync that
    // no longer lists it removes nothing.
    let upd = serde_json::json!([{"serial": mine.serial, "tokentype": "push"}]);
    let report = v
        .apply_container_sync(&reply(&[], upd, Policies::default()), vec![], 20, &rng)
        .unwrap();
    assert!(report.updated.is_empty() && report.joined.is_empty());
    let report = v
        .apply_container_sync(
            &reply(&[], serde_json::json!([]), Policies::default()),
            vec![],
            30,
            &rng,
        )
        .unwrap();
    assert!(report.removed.is_empty());
    assert_eq!(v.push_account(&mine.serial), Some(&mine));
    // Once the user removed it, the container's copy is taken; later re-keys replace it.
    v.remove_push_account(&mine.serial).unwrap();
    let report = v
        .apply_container_sync(&r, vec![enrolled.clone()], 40, &rng)
        .unwrap();
    assert_eq!(report.added.len(), 1);
    assert_eq!(v.push_account(&mine.serial).unwrap().enrolled_at, 99);
    let mut rekeyed = enrolled;
    rekeyed.enrolled_at = 100;
    v.apply_container_sync(&r, vec![rekeyed], 50, &rng).unwrap();
    assert_eq!(v.push_account(&mine.serial).unwrap().enrolled_at, 100);
    assert_eq!(v.push_accounts().len(), 1);
}

/// The initial transfer reports by serial only push accounts whose server is the
/// container's as the transport reads it.
#[test]
fn the_initial_transfer_reports_only_push_accounts_of_the_transports_host() {
    let (mut v, _, _, _) = transfer_vault(true);
    // Another server's push account whose URL a naive split would read as this server's.
    let mut sneaky = crate::vault::tests::push::push_account();
    sneaky.serial = "PIPUB".into();
    sneaky.url = "https://other.example\\@pi.example.com/ttype/push".into();
    v.add_push_account(sneaky);
    let sent = v.container_sync_tokens("SMPH1", &[], 59).unwrap();
    let serials: Vec<&str> = sent.report.iter().map(|r| r.serial.as_str()).collect();
    assert_eq!(serials, vec!["PIPU0001A2B3"]);
}

// -- The initial transfer (policy initially_add_tokens_to_container).

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn transfer_vault(policy: bool) -> (Vault, String, String, String) {
    let rng = SystemRng::new();
    let mut v = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
    v.add_container(Container {
        serial: "SMPH1".into(),
        issuer: "privacyIDEA".into(),
        server_url: ServerUrl::parse("https://pi.example.com/").unwrap(),
        verify_tls: true,
        key: ContainerKey::generate(&rng).unwrap(),
        policies: Policies {
            initially_add_tokens_to_container: policy,
            ..Policies::default()
        },
        registered_at: 1,
        last_sync: None,
    });
    // A push account of this server, one of another server.
    v.add_push_account(crate::vault::tests::push::push_account());
    let mut other = crate::vault::tests::push::push_account();
    other.serial = "PIPU0THER".into();
    other.url = "https://other.example/ttype/push".into();
    v.add_push_account(other);
    let add =
        |v: &mut Vault, uri: &str| match v.add(crate::uri::parse(uri).unwrap(), 1, &rng).unwrap() {
            crate::vault::AddOutcome::Added(id) => id,
            crate::vault::AddOutcome::Duplicate(id) => id,
        };
    let hotp = add(
        &mut v,
        &format!("otpauth://hotp/pi:alice-hotp?secret={SECRET}&counter=2"),
    );
    let totp = add(&mut v, &format!("otpauth://totp/pi:alice?secret={SECRET}"));
    let mail = add(
        &mut v,
        "otpauth://totp/Mail:alice?secret=JBSWY3DPEHPK3PXP&issuer=Mail",
    );
    (v, hotp, totp, mail)
}

#[test]
fn the_first_sync_offers_own_push_tokens_and_only_the_chosen_otp_accounts() {
    let rng = SystemRng::new();
    let (mut v, hotp, totp, mail) = transfer_vault(true);
    assert!(v.initial_transfer_open("SMPH1"));
    let sent = v
        .container_sync_tokens("SMPH1", &[hotp.clone(), totp.clone()], 59)
        .unwrap();
    // The push account of this server by serial; the other server's never.
    assert_eq!(
        sent.report,
        vec![ReportedToken {
            serial: "PIPU0001A2B3".into(),
            tokentype: "push".into()
        }]
    );
    // The chosen OTP accounts by their next two values; the mail account is not chosen.
    let offered: Vec<&str> = sent.offers.iter().map(|o| o.account.as_str()).collect();
    assert_eq!(offered, vec![hotp.as_str(), totp.as_str()]);
    assert!(!sent.offers.iter().any(|o| o.account == mail));
    assert_eq!(sent.offers[0].otp[0].as_str(), "359152");
    assert_eq!(sent.offers[0].counter, Some(2));
    // The server takes the push token and the HOTP (echoing its values); it did not
    // find the TOTP. It also names the other server's push token, never reported: ignored.
    let upd = serde_json::json!([
        {"serial": "PIPU0001A2B3", "tokentype": "push"},
        {"serial": "OATH7", "tokentype": "hotp", "counter": 3, "otp": ["359152", "969429"]},
        {"serial": "PIPU0THER", "tokentype": "push"}]);
    let mut r = reply(&[], upd, Policies::default());
    r.identify(&sent.offers);
    let report = v.apply_container_sync(&r, vec![], 10, &rng).unwrap();
    assert_eq!(report.joined, vec!["PIPU0001A2B3", "OATH7"]);
    assert_eq!(report.updated, vec!["PIPU0001A2B3", "OATH7"]);
    assert!(report.removed.is_empty() && report.added.is_empty());
    // Now managed: the HOTP with the server's serial and counter, the push account too.
    let (c, t) = v.managed_account(&hotp).unwrap();
    assert_eq!(
        (c.container.serial.as_str(), t.serial.as_str()),
        ("SMPH1", "OATH7")
    );
    assert_eq!(
        v.account(&hotp).unwrap().otp.params.kind(),
        crate::Kind::Hotp { counter: 3 }
    );
    assert!(v.managed_push_account("PIPU0001A2B3").is_some());
    assert!(v.managed_push_account("PIPU0THER").is_none());
    assert!(v.managed_account(&totp).is_none());
    assert_eq!(v.accounts().len(), 3, "nothing added or lost");
    // Once only: the next sync reports the joined tokens by serial and offers nothing.
    assert!(!v.initial_transfer_open("SMPH1"));
    let again = v
        .container_sync_tokens("SMPH1", std::slice::from_ref(&totp), 99)
        .unwrap();
    assert!(again.offers.is_empty());
    let serials: Vec<&str> = again.report.iter().map(|r| r.serial.as_str()).collect();
    assert_eq!(serials, vec!["PIPU0001A2B3", "OATH7"]);
    // Kept in the vault file.
    let w = Vault::open(&v.to_bytes(&rng).unwrap(), b"pw").unwrap();
    assert!(w.container("SMPH1").unwrap().initial_transfer_done);
    assert!(!w.initial_transfer_open("SMPH1"));
}

#[test]
fn without_the_policy_nothing_extra_is_sent_or_taken() {
    let rng = SystemRng::new();
    let (mut v, hotp, totp, _) = transfer_vault(false);
    assert!(!v.initial_transfer_open("SMPH1"));
    let sent = v.container_sync_tokens("SMPH1", &[hotp, totp], 59).unwrap();
    assert_eq!(sent, ContainerSyncTokens::default());
    // A reply naming the vault's push token anyway does not link it.
    let upd = serde_json::json!([{"serial": "PIPU0001A2B3", "tokentype": "push"}]);
    let r = v
        .apply_container_sync(&reply(&[], upd, Policies::default()), vec![], 10, &rng)
        .unwrap();
    assert!(r.joined.is_empty() && r.updated.is_empty());
    assert!(v.managed_push_account("PIPU0001A2B3").is_none());
}

#[test]
fn offers_are_checked_and_a_rollover_in_place_keeps_the_transfer_closed() {
    let rng = SystemRng::new();
    let (mut v, hotp, _, _) = transfer_vault(true);
    assert_eq!(
        v.container_sync_tokens("SMPH1", &["nope".into()], 59)
            .unwrap_err(),
        VaultError::NotFound("nope".into())
    );
    let steam = match v
        .add(
            crate::uri::parse(&format!("steam://{SECRET}")).unwrap(),
            1,
            &rng,
        )
        .unwrap()
    {
        crate::vault::AddOutcome::Added(id) => id,
        crate::vault::AddOutcome::Duplicate(id) => id,
    };
    assert!(matches!(
        v.check_offerable(&steam),
        Err(VaultError::NotOfferable { .. })
    ));
    // A token another container manages is neither offered nor reported.
    v.add_container(Container {
        serial: "SMPH2".into(),
        ..v.container("SMPH1").unwrap().container.clone()
    });
    v.apply_container_sync(
        &{
            let mut r = read_sync_plaintext(
                "SMPH2",
                serde_json::json!({"tokens": {"add": [TOTP]}})
                    .to_string()
                    .as_bytes(),
                Policies::default(),
            )
            .unwrap();
            r.serial = "SMPH2".into();
            r
        },
        vec![],
        5,
        &rng,
    )
    .unwrap();
    let managed = v.container("SMPH2").unwrap().tokens[0]
        .account
        .clone()
        .unwrap();
    assert!(matches!(
        v.container_sync_tokens("SMPH1", &[managed], 59),
        Err(VaultError::NotOfferable { .. })
    ));
    // After the first sync (even one that took nothing) a re-registration of the same
    // serial (a rollover in place) keeps the transfer closed.
    v.apply_container_sync(
        &reply(&[], serde_json::json!([]), Policies::default()),
        vec![],
        10,
        &rng,
    )
    .unwrap();
    let renewed = Container {
        key: ContainerKey::generate(&rng).unwrap(),
        last_sync: None,
        policies: Policies {
            initially_add_tokens_to_container: true,
            ..Policies::default()
        },
        ..v.container("SMPH1").unwrap().container.clone()
    };
    v.add_container(renewed);
    assert!(!v.initial_transfer_open("SMPH1"));
    assert!(
        v.container_sync_tokens("SMPH1", &[hotp], 59)
            .unwrap()
            .offers
            .is_empty()
    );
}
