//! Detached Ed25519 seals over a document's content and its PDF.
//!
//! A [`Seal`] binds three things with one Ed25519 signature: the sealing
//! key's id, the SHA-256 of the document's content in [canonical
//! JSON](canonical_json), and the SHA-256 of the rendered PDF bytes. The PDF
//! cannot contain its own hash, so the seal is detached: the caller stores it
//! next to the PDF and offers it for download as JSON, while the PDF itself
//! prints a seal mark (key id, content hash, verification URL).
//!
//! The signed message is the UTF-8 text
//!
//! ```text
//! rtms-seal-v1\n<key_id>\n<content_sha256>\n<pdf_sha256>\n<sealed_at>
//! ```
//!
//! with the fields exactly as they appear in the [`Seal`] (lower-case hex
//! hashes, `sealed_at` in RFC 3339) and no trailing newline.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The seal format written into [`Seal::format`] and the signed message.
pub const FORMAT: &str = "rtms-seal-v1";
/// The signature algorithm written into [`Seal::algorithm`].
pub const ALGORITHM: &str = "Ed25519";

/// A private sealing key (Ed25519).
///
/// Its `Debug` output shows only the key id, never the secret.
#[derive(Clone)]
pub struct SealKey {
    signing: SigningKey,
}

impl SealKey {
    /// Generates a new key from the operating system's random source.
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// Restores a key from its 32-byte secret (as given by [`Self::to_bytes`]).
    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(secret),
        }
    }

    /// The 32-byte secret; store it as carefully as a password.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The public half, used to verify seals.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            verifying: self.signing.verifying_key(),
        }
    }

    /// The key id: the first 16 hex characters of the SHA-256 of the public key.
    pub fn key_id(&self) -> String {
        self.public().key_id()
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

/// A public key that verifies seals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    verifying: VerifyingKey,
}

impl PublicKey {
    /// The 32 raw key bytes in standard base64 (with padding).
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.verifying.as_bytes())
    }

    /// Reads a key written by [`Self::to_base64`].
    pub fn from_base64(text: &str) -> Result<Self, VerifyError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|e| VerifyError::Malformed(format!("public key is not base64: {e}")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| VerifyError::Malformed("public key is not 32 bytes long".into()))?;
        let verifying = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| VerifyError::Malformed("not a valid Ed25519 public key".into()))?;
        Ok(Self { verifying })
    }

    /// The key id: the first 16 hex characters of the SHA-256 of the 32 raw
    /// public key bytes.
    pub fn key_id(&self) -> String {
        let mut id = sha256_hex(self.verifying.as_bytes());
        id.truncate(16);
        id
    }
}

/// A detached seal over a document's content and PDF.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Seal {
    /// Always [`FORMAT`] (`"rtms-seal-v1"`).
    pub format: String,
    /// Id of the sealing key ([`PublicKey::key_id`]).
    pub key_id: String,
    /// Always [`ALGORITHM`] (`"Ed25519"`).
    pub algorithm: String,
    /// Lower-case hex SHA-256 of the [canonical JSON](canonical_json) content.
    pub content_sha256: String,
    /// Lower-case hex SHA-256 of the PDF bytes.
    pub pdf_sha256: String,
    /// When the document was sealed, RFC 3339 in UTC (`2026-11-12T11:05:00Z`).
    pub sealed_at: String,
    /// Standard base64 of the 64-byte Ed25519 signature.
    pub signature: String,
}

/// Why a seal did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The seal names another key than the one given.
    #[error("the seal was made with another key")]
    KeyMismatch,
    /// The signature does not match the seal's fields.
    #[error("the seal's signature is not valid")]
    BadSignature,
    /// The content differs from the content that was sealed.
    #[error("the document content changed after sealing")]
    ContentChanged,
    /// The PDF differs from the PDF that was sealed.
    #[error("the PDF changed after sealing")]
    PdfChanged,
    /// The seal or key is not well formed.
    #[error("malformed seal or key: {0}")]
    Malformed(String),
}

/// Serializes `value` in the canonical form that seals hash.
///
/// The canonical form is compact JSON in UTF-8:
/// - object keys are sorted by their UTF-8 bytes, recursively, at every level
///   (duplicate keys cannot occur in a [`Value`]);
/// - no whitespace anywhere outside strings;
/// - strings are written as `serde_json` writes them: `"` and `\` escaped,
///   control characters as `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`, and every
///   other character (Cyrillic included) as raw UTF-8, never `\u` escaped;
/// - numbers as `serde_json` prints them (integers in plain decimal);
/// - `true`, `false`, `null` and arrays (in their given order) as usual.
///
/// For content made of strings, integers, booleans and null this matches
/// RFC 8785 (JCS) byte for byte; floating point numbers may differ from JCS.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::String(text) => write_string(text, out),
        // Scalars have a single compact serde_json form.
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

fn write_string(text: &str, out: &mut Vec<u8>) {
    // serde_json's string escaping: minimal, UTF-8 kept as is.
    out.extend_from_slice(Value::String(text.to_owned()).to_string().as_bytes());
}

/// Seals `content` (hashed in [canonical form](canonical_json)) and `pdf`
/// with `key` at `sealed_at`.
pub fn seal(key: &SealKey, content: &Value, pdf: &[u8], sealed_at: DateTime<Utc>) -> Seal {
    let key_id = key.key_id();
    let content_sha256 = sha256_hex(&canonical_json(content));
    let pdf_sha256 = sha256_hex(pdf);
    let sealed_at = sealed_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let message = signed_message(&key_id, &content_sha256, &pdf_sha256, &sealed_at);
    let signature = key.signing.sign(&message);
    Seal {
        format: FORMAT.to_owned(),
        key_id,
        algorithm: ALGORITHM.to_owned(),
        content_sha256,
        pdf_sha256,
        sealed_at,
        signature: BASE64.encode(signature.to_bytes()),
    }
}

/// Verifies `seal` with `key`, and the content and PDF when they are given.
///
/// Checks, in this order: the seal's format and algorithm and the form of its
/// fields ([`VerifyError::Malformed`]), that the seal names this key
/// ([`VerifyError::KeyMismatch`]), the signature over the seal's fields
/// ([`VerifyError::BadSignature`]), then the hash of `content`
/// ([`VerifyError::ContentChanged`]) and of `pdf` ([`VerifyError::PdfChanged`]).
pub fn verify(
    key: &PublicKey,
    seal: &Seal,
    content: Option<&Value>,
    pdf: Option<&[u8]>,
) -> Result<(), VerifyError> {
    if seal.format != FORMAT {
        return Err(VerifyError::Malformed(format!(
            "unknown seal format {:?}",
            seal.format
        )));
    }
    if seal.algorithm != ALGORITHM {
        return Err(VerifyError::Malformed(format!(
            "unknown algorithm {:?}",
            seal.algorithm
        )));
    }
    for (name, hash) in [
        ("content_sha256", &seal.content_sha256),
        ("pdf_sha256", &seal.pdf_sha256),
    ] {
        if !is_sha256_hex(hash) {
            return Err(VerifyError::Malformed(format!(
                "{name} is not a lower-case hex SHA-256"
            )));
        }
    }
    if DateTime::parse_from_rfc3339(&seal.sealed_at).is_err() {
        return Err(VerifyError::Malformed(
            "sealed_at is not an RFC 3339 time".into(),
        ));
    }
    if seal.key_id != key.key_id() {
        return Err(VerifyError::KeyMismatch);
    }
    let signature = BASE64
        .decode(seal.signature.trim())
        .map_err(|_| VerifyError::BadSignature)
        .and_then(|bytes| Signature::from_slice(&bytes).map_err(|_| VerifyError::BadSignature))?;
    let message = signed_message(
        &seal.key_id,
        &seal.content_sha256,
        &seal.pdf_sha256,
        &seal.sealed_at,
    );
    key.verifying
        .verify_strict(&message, &signature)
        .map_err(|_| VerifyError::BadSignature)?;
    if let Some(content) = content {
        if sha256_hex(&canonical_json(content)) != seal.content_sha256 {
            return Err(VerifyError::ContentChanged);
        }
    }
    if let Some(pdf) = pdf {
        if sha256_hex(pdf) != seal.pdf_sha256 {
            return Err(VerifyError::PdfChanged);
        }
    }
    Ok(())
}

/// The exact bytes that a seal's signature covers.
fn signed_message(
    key_id: &str,
    content_sha256: &str,
    pdf_sha256: &str,
    sealed_at: &str,
) -> Vec<u8> {
    format!("{FORMAT}\n{key_id}\n{content_sha256}\n{pdf_sha256}\n{sealed_at}").into_bytes()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_is_documented_form() {
        let value = json!({"b": [1, {"d": null, "c": true}], "a": "Иванова \"М\"\n", "aa": -3});
        assert_eq!(
            String::from_utf8(canonical_json(&value)).unwrap(),
            r#"{"a":"Иванова \"М\"\n","aa":-3,"b":[1,{"c":true,"d":null}]}"#
        );
    }

    #[test]
    fn key_survives_a_round_trip() {
        let key = SealKey::generate();
        let again = SealKey::from_bytes(&key.to_bytes());
        assert_eq!(key.public(), again.public());
        assert_eq!(key.key_id().len(), 16);
        let public = PublicKey::from_base64(&key.public().to_base64()).unwrap();
        assert_eq!(public.key_id(), key.key_id());
        assert!(!format!("{key:?}").contains(&hex::encode(key.to_bytes())));
        assert!(matches!(
            PublicKey::from_base64("not base64!"),
            Err(VerifyError::Malformed(_))
        ));
    }
}
