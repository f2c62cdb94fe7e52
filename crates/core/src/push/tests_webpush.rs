//! RFC 8291 (Appendix A) both ways, and this device's push registration (`push::webpush`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::SecretKey;
use zeroize::Zeroizing;

use super::device_token::{DeviceToken, TokenError};
use super::webpush::*;

fn b(s: &str) -> Vec<u8> {
    B64.decode(s).unwrap()
}

const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
const UA_PUBLIC: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
const RFC_BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml\
                        mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT\
                        pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";
const RFC_PLAINTEXT: &[u8] = b"When I grow up, I want to be a watermelon";

/// The RFC 8291 Appendix A user agent as a registration.
fn rfc_device() -> PushRegistration {
    let mut secret = Zeroizing::new([0u8; 32]);
    secret.copy_from_slice(&b(UA_PRIVATE));
    let mut auth = Zeroizing::new([0u8; 16]);
    auth.copy_from_slice(&b(AUTH));
    PushRegistration {
        secret,
        auth,
        connection: "c".into(),
        endpoint: None,
        native: None,
    }
}

/// RFC 8291 §5 and Appendix A: the published keys, salt and message give exactly the
/// published body.
#[test]
fn rfc_8291_appendix_a() {
    let as_secret =
        SecretKey::from_slice(&b("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
    assert_eq!(
        B64.encode(as_secret.public_key().to_sec1_bytes()),
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
    );
    let ua: [u8; 65] = b(UA_PUBLIC).try_into().unwrap();
    let auth: [u8; 16] = b(AUTH).try_into().unwrap();
    let salt: [u8; 16] = b("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
    let body = encrypt_with(
        &as_secret,
        &salt,
        &ua,
        &auth,
        RFC_PLAINTEXT,
        RFC_PLAINTEXT.len() + 1,
    )
    .unwrap();
    assert_eq!(B64.encode(body), RFC_BODY);
}

/// The receiving side of the same vector: the user agent's private key and auth secret
/// open the published body to the published plaintext.
#[test]
fn rfc_8291_appendix_a_decrypts() {
    let device = rfc_device();
    assert_eq!(device.public_key().unwrap().to_vec(), b(UA_PUBLIC));
    let plain = device.decrypt(&b(RFC_BODY)).unwrap();
    assert_eq!(plain.as_slice(), RFC_PLAINTEXT);
}

#[test]
fn refuses_altered_foreign_and_hostile_messages() {
    let device = rfc_device();
    let body = b(RFC_BODY);
    // The salt, the key id (the sender's key), the ciphertext, the tag. (The record size
    // is not authenticated: any size that holds the one record reads the same.)
    for i in [0, 15, 21, 60, 86, 100, body.len() - 1] {
        let mut altered = body.clone();
        altered[i] ^= 1;
        assert!(device.decrypt(&altered).is_err(), "byte {i}");
    }
    let other = PushRegistration::generate(&crate::rng::SystemRng::new()).unwrap();
    assert_eq!(other.decrypt(&body), Err(EceError::Decrypt));
    assert_eq!(
        device.decrypt(&vec![0u8; MAX_MESSAGE_BYTES + 1]),
        Err(EceError::Malformed("longer than 4096 bytes"))
    );
    assert_eq!(
        device.decrypt(&body[..50]),
        Err(EceError::Malformed("too short"))
    );
    // A record size smaller than the ciphertext: more than one record.
    let mut split = body.clone();
    split[16..20].copy_from_slice(&40u32.to_be_bytes());
    assert_eq!(
        device.decrypt(&split),
        Err(EceError::Malformed("more than one record"))
    );
}

#[test]
fn round_trip_with_padding_and_a_fresh_key_each_time() {
    let rng = crate::rng::SystemRng::new();
    let device = PushRegistration::generate(&rng).unwrap();
    let public = device.public_key().unwrap();
    let message = br#"{"nonce":"N","question":"Sign in?"}"#;
    let sealed = encrypt(message, &public, &device.auth, &rng).unwrap();
    assert_eq!(sealed.len(), HEADER_LEN + PAD_BLOCK + TAG_LEN);
    assert_eq!(device.decrypt(&sealed).unwrap().as_slice(), message);
    let longest = vec![b'a'; MAX_PLAINTEXT];
    let sealed = encrypt(&longest, &public, &device.auth, &rng).unwrap();
    assert_eq!(sealed.len(), 4096);
    assert_eq!(device.decrypt(&sealed).unwrap().as_slice(), longest);
    assert_eq!(
        encrypt(&vec![b'a'; MAX_PLAINTEXT + 1], &public, &device.auth, &rng),
        Err(EceError::TooLarge(MAX_PLAINTEXT + 1))
    );
    assert_ne!(
        encrypt(b"{}", &public, &device.auth, &rng).unwrap(),
        encrypt(b"{}", &public, &device.auth, &rng).unwrap()
    );
}

#[test]
fn a_phone_token_is_the_device_token_and_survives_storage() {
    let rng = crate::rng::SystemRng::new();
    let mut device = PushRegistration::generate(&rng).unwrap();
    let fcm = DeviceToken::fcm("dE4k:APA91bH-reg_token").unwrap();
    assert!(device.set_native_token(fcm.clone()).unwrap());
    assert!(!device.set_native_token(fcm.clone()).unwrap());
    assert_eq!(
        device.device_token().unwrap(),
        r#"{"v":1,"kind":"fcm","token":"dE4k:APA91bH-reg_token"}"#
    );
    // Kept before a distributor's endpoint, had there been one.
    device
        .set_endpoint("https://ntfy.example.org/upABC")
        .unwrap();
    assert_eq!(device.device_token().unwrap(), fcm.to_token().unwrap());
    let stored = serde_json::to_string(&device).unwrap();
    let back: PushRegistration = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, device);
    assert_eq!(back.native_token(), Some(&fcm));
    assert!(!format!("{device:?}").contains("APA91"));
    // A Web Push token comes through the endpoint only.
    let web = super::device_token::parse(&{
        let mut other = PushRegistration::generate(&rng).unwrap();
        other.set_endpoint("https://push.example.org/x").unwrap();
        other.device_token().unwrap()
    })
    .unwrap();
    assert_eq!(device.set_native_token(web), Err(TokenError::Field("kind")));
    // A stored token that is not a phone's is refused on reading.
    let tampered = stored.replace(r#"\"kind\":\"fcm\""#, r#"\"kind\":\"webpush\""#);
    assert_ne!(tampered, stored);
    assert!(serde_json::from_str::<PushRegistration>(&tampered).is_err());
}

#[test]
fn the_device_token_holds_the_endpoint_and_public_keys_only() {
    let mut device = rfc_device();
    assert!(device.device_token().is_err());
    assert!(
        device
            .set_endpoint("https://ntfy.example.org/upABC?up=1")
            .unwrap()
    );
    assert!(
        !device
            .set_endpoint("https://ntfy.example.org/upABC?up=1")
            .unwrap()
    );
    let token = device.device_token().unwrap();
    assert_eq!(
        token,
        format!(
            r#"{{"v":1,"kind":"webpush","endpoint":"https://ntfy.example.org/upABC?up=1","p256dh":"{UA_PUBLIC}","auth":"{AUTH}"}}"#
        )
    );
    assert!(!token.contains(UA_PRIVATE));
    assert_eq!(
        device.set_endpoint("ftp://x.org/a"),
        Err(TokenError::Field("endpoint"))
    );
    let shown = format!("{device:?}");
    assert!(
        shown.contains("ntfy.example.org") && !shown.contains("upABC"),
        "{shown}"
    );
    assert!(
        !shown.contains(UA_PRIVATE) && !shown.contains(AUTH),
        "{shown}"
    );
    // Stored and read back whole; the stored form holds the private key, so it lives
    // only inside the encrypted vault.
    let stored = serde_json::to_string(&device).unwrap();
    let back: PushRegistration = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, device);
    assert!(
        serde_json::from_str::<PushRegistration>(
            r#"{"secret":"AAAA","auth":"AAAA","connection":"c"}"#
        )
        .is_err()
    );
}
