use super::*;
use crate::rng::SystemRng;
use crate::server_url::ServerUrl;
use crate::uri::MAX_URI_LEN;

const QR: &str = "pia://container/SMPH0008F19E?issuer=privacyIDEA&ttl=10&nonce=8e1afc836697758b55388f9f441d256097c976f9&time=2026-12-01T21%3A17%3A26.235976%2B00%3A00&url=http%3A//127.0.0.1%3A5066/&serial=SMPH0008F19E&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify=False&passphrase=&send_passphrase=False";
const MADE: u64 = 1_796_159_846; // 2026-12-01T21:17:26Z

#[test]
fn server_time_is_read_with_and_without_fraction() {
    assert_eq!(
        parse_server_time("2026-12-01T21:17:26.235976+00:00"),
        Some(MADE)
    );
    assert_eq!(parse_server_time("2026-12-01T21:17:26+00:00"), Some(MADE));
    assert_eq!(parse_server_time("2026-12-01T22:17:26+01:00"), Some(MADE));
    assert_eq!(parse_server_time("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_server_time("2026-13-01T21:17:26+00:00"), None);
    assert_eq!(parse_server_time("yesterday"), None);
    assert_eq!(crate::clock::Utc::from_unix(MADE).hour, 21);
}

#[test]
fn endpoint_urls_keep_a_base_path() {
    assert_eq!(
        endpoint_url("http://127.0.0.1:5066/", path::SYNC),
        "http://127.0.0.1:5066/container/synchronize"
    );
    assert_eq!(
        endpoint_url("https://host/pi", path::CHALLENGE),
        "https://host/pi/container/challenge"
    );
}

#[test]
fn signed_strings() {
    assert_eq!(register_message("n", "t", "S", "u", "", "", ""), "n|t|S|u");
    assert_eq!(
        register_message("n", "t", "S", "u", "", "", "pw"),
        "n|t|S|u|pw"
    );
    assert_eq!(
        register_message("n", "t", "S", "u", "B", "M", "pw"),
        "n|t|S|u|B|M|pw"
    );
    assert_eq!(sync_message("n", "t", "S", "u", "k", "{}"), "n|t|S|u|k|{}");
    assert_eq!(rollover_message("n", "t", "S", "u"), "n|t|S|u");
    assert_eq!(unregister_message("n", "t", "S", "u"), "n|t|S|u");
    assert_eq!(
        container_dict_client("SMPH1", &[]),
        r#"{"container_serial":"SMPH1","type":"smartphone","tokens":[]}"#
    );
}

#[test]
fn registration_qr_is_parsed_and_checked() {
    let r = Registration::parse(QR, MADE).unwrap();
    assert_eq!(r.serial(), "SMPH0008F19E");
    assert_eq!(r.expires_at(), MADE + 600);
    assert!(!format!("{r:?}").contains("8e1afc83"), "no nonce in Debug");
    let key = ContainerKey::generate(&SystemRng::new()).unwrap();
    // Expired by the QR's time + ttl.
    assert!(matches!(
        r.clone().start(key.clone(), None, None, MADE + 601),
        Err(ContainerError::Expired { ttl_minutes: 10 })
    ));
    let p = r.start(key, None, None, MADE + 10).unwrap();
    assert_eq!(
        p.request().param("device_brand"),
        None,
        "no device info unless asked"
    );

    for (bad, want) in [
        (QR.replace("secp384r1", "secp256r1"), "secp256r1"),
        (QR.replace("SHA256", "SHA1"), "SHA1"),
        (QR.replace("nonce=", "x="), "nonce"),
        (QR.replace("url=http", "url=ftp"), "url"),
        (
            QR.replace("ssl_verify=False", "ssl_verify=maybe"),
            "ssl_verify",
        ),
        (
            QR.replace("serial=SMPH0008F19E", "serial=SM%7CPH"),
            "serial",
        ),
    ] {
        let e = Registration::parse(&bad, MADE).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
    assert_eq!(
        Registration::parse("otpauth://totp/x?secret=AA", 0).unwrap_err(),
        ContainerError::NotContainer
    );
    let long = format!("{QR}&x={}", "a".repeat(MAX_URI_LEN));
    assert!(Registration::parse(&long, 0).is_err());
}

#[test]
fn passphrases_are_signed_and_sent_only_for_the_user_store() {
    let key = ContainerKey::generate(&SystemRng::new()).unwrap();
    let own = QR.replace("passphrase=&", "passphrase=Your%20PIN%20letter&");
    let r = Registration::parse(&own, MADE).unwrap();
    assert_eq!(r.passphrase_prompt(), Some("Your PIN letter"));
    assert!(matches!(
        r.clone().start(key.clone(), None, None, MADE),
        Err(ContainerError::PassphraseRequired(p)) if p == "Your PIN letter"
    ));
    let p = r.start(key.clone(), None, Some("secret"), MADE).unwrap();
    assert_eq!(p.request().param("passphrase"), None, "signed, not sent");

    let user = QR
        .replace("passphrase=&", "passphrase=Please%20enter&")
        .replace("send_passphrase=False", "send_passphrase=True");
    let p = Registration::parse(&user, MADE)
        .unwrap()
        .start(key, None, Some("pw"), MADE)
        .unwrap();
    assert_eq!(p.request().param("passphrase"), Some("pw"));
}

fn container(policies: Policies) -> Container {
    Container {
        serial: "SMPH1".into(),
        issuer: "privacyIDEA".into(),
        server_url: ServerUrl::parse("https://pi.example/").unwrap(),
        verify_tls: true,
        key: ContainerKey::generate(&SystemRng::new()).unwrap(),
        policies,
        registered_at: 0,
        last_sync: None,
    }
}

#[test]
fn policies_are_obeyed_before_anything_is_sent() {
    let c = container(Policies::default());
    let ch = OpenChallenge::new(Operation::Rollover, "n", "t");
    assert_eq!(
        c.rollover(&ch).unwrap_err(),
        ContainerError::Forbidden("container_client_rollover (not set)")
    );
    let c = container(Policies {
        container_client_rollover: true,
        disable_client_container_unregister: true,
        ..Policies::default()
    });
    assert!(c.rollover(&ch).is_ok());
    let ch = OpenChallenge::new(Operation::Unregister, "n", "t");
    assert_eq!(
        c.unregister(&ch).unwrap_err(),
        ContainerError::Forbidden("disable_client_container_unregister")
    );
    // A challenge for one operation is not spent on another.
    assert!(c.rollover(&ch).is_err());
}

#[test]
fn challenge_and_errors_are_read() {
    let c = container(Policies::default());
    let r = c.challenge_request(Operation::Sync);
    assert_eq!(r.url, "https://pi.example/container/challenge");
    assert_eq!(
        r.param("scope"),
        Some("https://pi.example/container/synchronize")
    );
    let ok = br#"{"result":{"status":true,"value":{"enc_key_algorithm":"x25519","nonce":"abc","time_stamp":"2026-12-01T21:17:26.330334+00:00","transaction_id":"1"}}}"#;
    assert!(c.read_challenge(Operation::Sync, ok).is_ok());
    let err = br#"{"result":{"status":false,"error":{"code":3001,"message":"ERR3001: Container is not registered."}},"detail":null}"#;
    let e = c.read_challenge(Operation::Sync, err).unwrap_err();
    assert!(e.is_unregistered());
    assert!(c.read_challenge(Operation::Sync, b"<html>").is_err());
    // Unregister: "already unregistered" is done.
    let p = PendingUnregister { request: r.clone() };
    assert!(p.finish(err).is_ok());
    let p = PendingUnregister { request: r.clone() };
    assert!(p.finish_with_status(404, b"<html>Not Found</html>").is_ok());
    let p = PendingUnregister { request: r.clone() };
    assert!(
        p.finish_with_status(502, b"<html>Bad gateway</html>")
            .is_err()
    );
    let p = PendingUnregister { request: r };
    let forbidden = br#"{"result":{"status":false,"error":{"code":303,"message":"not allowed"}}}"#;
    assert!(p.finish(forbidden).is_err());
}

#[test]
fn sync_plaintext_is_capped_and_read() {
    let p = Policies::default();
    let many: Vec<String> = (0..=MAX_SYNC_TOKENS)
        .map(|i| format!("otpauth://totp/T{i}?secret=AA&serial=T{i}"))
        .collect();
    let body = serde_json::json!({"container": {"serial": "SMPH1"}, "tokens": {"add": many, "update": []}});
    assert!(matches!(
        read_sync_plaintext("SMPH1", body.to_string().as_bytes(), p),
        Err(ContainerError::TooLarge(_))
    ));
    let other =
        serde_json::json!({"container": {"serial": "SMPH2"}, "tokens": {"add": [], "update": []}});
    assert!(read_sync_plaintext("SMPH1", other.to_string().as_bytes(), p).is_err());
    let body = serde_json::json!({"container": {"serial": "SMPH1"}, "tokens": {
        "add": ["otpauth://daypassword/DYPW1?secret=GEZDGNBVGY3TQOJQ&period=86400&digits=6&serial=DYPW1",
                "otpauth://pipush/PIPU1?url=https%3A//pi/ttype/push&enrollment_credential=x&serial=PIPU1",
                "otpauth://spass/SP1?serial=SP1",
                "otpauth://totp/T1?secret=GEZDGNBVGY3TQOJQ",
                "otpauth://daypassword/DYPW1?secret=GEZDGNBVGY3TQOJQ&serial=DYPW1"],
        "update": [{"serial": "OATH1", "tokentype": "hotp", "counter": 2, "offline": false}],
        "offline": ["OATH9"]}});
    let r = read_sync_plaintext("SMPH1", body.to_string().as_bytes(), p).unwrap();
    assert_eq!(r.add.len(), 2);
    assert_eq!(r.add[0].tokentype, "daypassword");
    let day = r.add[0].otp_account().unwrap();
    assert_eq!(day.params.kind(), crate::Kind::Totp { period: 86400 });
    assert!(r.add[1].is_push());
    assert_eq!(r.skipped.len(), 3, "{:?}", r.skipped);
    assert_eq!(r.skipped[2].1, "listed twice in one reply");
    assert!(
        !format!("{:?}", r.add).contains("GEZDGNBV"),
        "no secret in Debug"
    );
    assert_eq!(r.update[0].counter, Some(2));
    assert_eq!(r.offline, vec!["OATH9".to_owned()]);
}

/// RFC 4226's secret: HOTP values 755224 (0), 287082 (1), 359152 (2), 969429 (3).
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn otp(uri: &str) -> crate::OtpAccount {
    crate::uri::parse(uri).unwrap()
}

#[test]
fn offered_otp_values_are_the_next_two_and_never_debugged() {
    // TOTP: the current and the next time step (RFC 6238 time 59 = step 1).
    let t = otp(&format!("otpauth://totp/a?secret={RFC_SECRET}"));
    let o = OfferedOtp::new("id1", &t, 59).unwrap();
    assert_eq!((o.tokentype.as_str(), o.counter), ("totp", None));
    assert_eq!([o.otp[0].as_str(), o.otp[1].as_str()], ["287082", "359152"]);
    assert!(!format!("{o:?}").contains("287082"), "no code in Debug");
    // HOTP: at the stored counter and the one after, with that counter.
    let h = otp(&format!("otpauth://hotp/a?secret={RFC_SECRET}&counter=2"));
    let o = OfferedOtp::new("id2", &h, 59).unwrap();
    assert_eq!((o.tokentype.as_str(), o.counter), ("hotp", Some(2)));
    assert_eq!([o.otp[0].as_str(), o.otp[1].as_str()], ["359152", "969429"]);
    // A day-long TOTP is privacyIDEA's daypassword; Steam has no privacyIDEA type.
    let d = otp(&format!(
        "otpauth://totp/a?secret={RFC_SECRET}&period=86400"
    ));
    assert_eq!(
        OfferedOtp::new("d", &d, 59).unwrap().tokentype,
        "daypassword"
    );
    let s = otp(&format!("steam://{RFC_SECRET}"));
    assert!(matches!(s.params.kind(), crate::Kind::Steam { .. }));
    assert!(OfferedOtp::new("s", &s, 59).is_none());
}

#[test]
fn the_dict_reports_serials_then_offers_by_values() {
    let h = otp(&format!("otpauth://hotp/a?secret={RFC_SECRET}&counter=2"));
    let t = otp(&format!("otpauth://totp/a?secret={RFC_SECRET}"));
    let offers = [
        OfferedOtp::new("h", &h, 59).unwrap(),
        OfferedOtp::new("t", &t, 59).unwrap(),
    ];
    let tokens = [ReportedToken {
        serial: "PIPU1".into(),
        tokentype: "push".into(),
    }];
    assert_eq!(
        container_dict_client_offering("SMPH1", &tokens, &offers),
        concat!(
            r#"{"container_serial":"SMPH1","type":"smartphone","tokens":["#,
            r#"{"serial":"PIPU1","tokentype":"push"},"#,
            r#"{"tokentype":"hotp","otp":["359152","969429"],"counter":"2"},"#,
            r#"{"tokentype":"totp","otp":["287082","359152"]}]}"#
        )
    );
    // Without offers: the dict as before (the golden vectors).
    assert_eq!(
        container_dict_client_offering("SMPH1", &tokens, &[]),
        container_dict_client("SMPH1", &tokens)
    );
}

#[test]
fn echoed_values_map_the_servers_serial_to_the_offered_account() {
    let h = otp(&format!("otpauth://hotp/a?secret={RFC_SECRET}&counter=2"));
    let t = otp(&format!("otpauth://totp/a?secret={RFC_SECRET}"));
    let offers = [
        OfferedOtp::new("h", &h, 59).unwrap(),
        OfferedOtp::new("t", &t, 59).unwrap(),
    ];
    let body = serde_json::json!({"container": {"serial": "SMPH1"}, "tokens": {"add": [],
        "update": [
            {"serial": "OATH9", "tokentype": "hotp", "counter": 2, "otp": ["359152", "969429"]},
            // The same values under another type, and values nobody offered: not mapped.
            {"serial": "TOTP8", "tokentype": "totp", "otp": ["359152", "969429"]},
            {"serial": "TOTP7", "tokentype": "totp", "otp": ["000000", "111111"]},
            {"serial": "PIPU1", "tokentype": "push"}]}});
    let mut reply =
        read_sync_plaintext("SMPH1", body.to_string().as_bytes(), Policies::default()).unwrap();
    assert_eq!(reply.update[0].otp, vec!["359152", "969429"]);
    assert!(!format!("{reply:?}").contains("359152"), "no code in Debug");
    assert!(reply.identified.is_empty(), "only with the offers sent");
    reply.identify(&offers);
    assert_eq!(
        reply.identified,
        vec![IdentifiedToken {
            account: "h".into(),
            serial: "OATH9".into()
        }]
    );
}

#[test]
fn origins_compare_scheme_host_and_port() {
    let same = |a: &str, b: &str| {
        ServerUrl::parse(a)
            .unwrap()
            .same_origin(&ServerUrl::parse(b).unwrap())
    };
    assert!(same(
        "https://PI.example.com/ttype/push",
        "https://pi.example.com:443/"
    ));
    assert!(same(
        "http://127.0.0.1:5066/ttype/push",
        "http://127.0.0.1:5066/"
    ));
    assert!(!same("http://127.0.0.1:5066/", "http://127.0.0.1:5067/"));
    assert!(!same("http://pi.example.com/", "https://pi.example.com/"));
    // Credentials in a URL are refused, not read past (a host before an `@` is no host).
    assert!(ServerUrl::parse("https://pi.example.com@evil.example/").is_err());
    assert!(ServerUrl::parse("ftp://pi/").is_err());
    assert_eq!(
        ServerUrl::parse("https://Host.example:8443/x?y")
            .unwrap()
            .origin(),
        "https://host.example:8443"
    );
}

/// `http://B\@A/`: the transport talks to B, a split at `/ ? #` and the last `@` reads A. Such
/// an address is refused at register with a typed error, before any request; so are user
/// information and control characters, and a query that would swallow the endpoint paths.
#[test]
fn an_ambiguous_server_address_is_refused_at_register() {
    use crate::server_url::{Ambiguity, ServerUrlError};
    let with_url = |url: &str| QR.replace("url=http%3A//127.0.0.1%3A5066/", &format!("url={url}"));
    for (url, why) in [
        (
            "http%3A//127.0.0.2%3A5066%5C%40127.0.0.1%3A5066/",
            Ambiguity::Backslash,
        ),
        (
            "http%3A//127.0.0.2%40127.0.0.1%3A5066/",
            Ambiguity::UserInfo,
        ),
        ("http%3A//u%3Ap%40127.0.0.1%3A5066/", Ambiguity::UserInfo),
        ("http%3A//127.0.0.1%3A5066/%0A", Ambiguity::ControlCharacter),
        ("http%3A//127.0.0.1%09%3A5066/", Ambiguity::ControlCharacter),
    ] {
        assert_eq!(
            Registration::parse(&with_url(url), MADE).unwrap_err(),
            ContainerError::Url(ServerUrlError::Ambiguous(why)),
            "{url}"
        );
    }
    assert!(matches!(
        Registration::parse(&with_url("http%3A//127.0.0.1%3A5066/%3Fx%3D1"), MADE),
        Err(ContainerError::Invalid { field: "url", .. })
    ));
    // What is kept is the transport's reading; the text is signed as the server gave it.
    let r = Registration::parse(&with_url("http%3A//127.0.0.1%3A5066/pi"), MADE).unwrap();
    assert_eq!(r.server_url().origin(), "http://127.0.0.1:5066");
    assert_eq!(r.server_url().as_str(), "http://127.0.0.1:5066/pi");
}
