//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, six
//! digits), as phone authenticator apps expect, and the base32 their keys use.

use hmac::{Hmac, Mac};
use sha1::Sha1;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const STEP_SECONDS: i64 = 30;

/// RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = ALPHABET
            .iter()
            .position(|a| *a as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The code for a counter (RFC 4226 HOTP with dynamic truncation).
pub fn hotp(key: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let value = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    value % 1_000_000
}

pub fn totp(key: &[u8], unix_seconds: i64) -> u32 {
    hotp(key, (unix_seconds / STEP_SECONDS) as u64)
}

/// Accepts the current step and one on either side (clock drift of a phone).
pub fn verify(secret_base32: &str, code: &str, unix_seconds: i64) -> bool {
    verify_step(secret_base32, code, unix_seconds).is_some()
}

/// Like [`verify`], naming the time step the code belongs to, so the caller
/// can refuse a step already spent (a code is good once).
pub fn verify_step(secret_base32: &str, code: &str, unix_seconds: i64) -> Option<i64> {
    let key = base32_decode(secret_base32)?;
    let code = code.trim().replace(' ', "");
    if code.len() != 6 {
        return None;
    }
    let code = code.parse::<u32>().ok()?;
    (-1..=1)
        .map(|d| unix_seconds / STEP_SECONDS + d)
        .filter(|step| *step >= 0)
        .find(|step| hotp(&key, *step as u64) == code)
}

/// The `otpauth://` address an authenticator app reads (from a QR code or typed).
pub fn otpauth_uri(secret_base32: &str, login: &str, issuer: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(login),
        secret_base32,
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 key "12345678901234567890", 8-digit values truncated to 6.
    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        assert_eq!(totp(key, 59), 287_082);
        assert_eq!(totp(key, 1_111_111_109), 81_804);
        assert_eq!(totp(key, 1_234_567_890), 5_924);
        assert_eq!(totp(key, 2_000_000_000), 279_037);
    }

    #[test]
    fn base32_round_trips_and_verifies_with_drift() {
        let key = b"12345678901234567890";
        let secret = base32_encode(key);
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode(&secret).unwrap(), key);
        assert!(verify(&secret, "287082", 59));
        assert!(verify(&secret, "287 082", 59 + 30));
        assert!(!verify(&secret, "287082", 59 + 90));
        assert!(!verify(&secret, "000000", 59));
        // The step a code belongs to, for spending it once.
        assert_eq!(verify_step(&secret, "287082", 59), Some(1));
        assert_eq!(verify_step(&secret, "287082", 59 + 30), Some(1));
        assert_eq!(verify_step(&secret, "2870820", 59), None);
    }
}
