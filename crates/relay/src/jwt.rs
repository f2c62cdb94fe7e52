//! The JWTs the relay signs (RFC 7519, compact JWS per RFC 7515 §7.1): ES256 for VAPID
//! (RFC 8292) and the APNs provider token, RS256 for the FCM service account's grant
//! (RFC 7523).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer as _;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing the JWT failed")]
pub struct SignError;

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

/// ES256: ECDSA P-256 with SHA-256, the signature as r || s (RFC 7518 §3.4).
pub fn es256(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = signing_input(header, claims);
    let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(signature.to_bytes()))
}

/// RS256: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
pub fn rs256(key: &RsaKeyPair, header: &Value, claims: &Value) -> Result<String, SignError> {
    let input = signing_input(header, claims);
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| SignError)?;
    Ok(format!("{input}.{}", B64.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
    use serde_json::json;

    /// Signed with RustCrypto, verified with ring: an independent implementation.
    #[test]
    fn es256_verifies_with_ring() {
        let key = SigningKey::from_slice(&[0x42; 32]).unwrap();
        let token = es256(
            &key,
            &json!({"typ": "JWT", "alg": "ES256"}),
            &json!({"aud": "https://push.example.org", "exp": 1, "sub": "mailto:a@b.c"}),
        );
        let (input, sig) = token.rsplit_once('.').unwrap();
        let public = key.verifying_key().to_sec1_bytes();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
            .verify(input.as_bytes(), &B64.decode(sig).unwrap())
            .unwrap();
        let (header, claims) = input.split_once('.').unwrap();
        let header: Value = serde_json::from_slice(&B64.decode(header).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        let claims: Value = serde_json::from_slice(&B64.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.org");
    }
}
