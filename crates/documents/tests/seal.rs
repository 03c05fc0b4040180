//! Seal tests over a real rendered PDF.

mod common;

use chrono::{TimeZone, Utc};
use rtms_documents::render_conclusion;
use rtms_documents::seal::{self, canonical_json, PublicKey, Seal, SealKey, VerifyError};
use serde_json::{json, Value};

fn sealed() -> (SealKey, Value, Vec<u8>, Seal) {
    let key = SealKey::from_bytes(&[7; 32]);
    let mut doc = common::conclusion();
    doc.seal = None;
    let content = serde_json::to_value(&doc).unwrap();
    let pdf = render_conclusion(&doc).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 12, 12, 45, 0).unwrap();
    let s = seal::seal(&key, &content, &pdf, at);
    (key, content, pdf, s)
}

#[test]
fn untouched_document_verifies() {
    let (key, content, pdf, s) = sealed();
    assert_eq!(s.format, "rtms-seal-v1");
    assert_eq!(s.algorithm, "Ed25519");
    assert_eq!(s.key_id, key.key_id());
    assert_eq!(s.sealed_at, "2026-11-12T12:45:00Z");
    assert_eq!(
        seal::verify(&key.public(), &s, Some(&content), Some(&pdf)),
        Ok(())
    );
    assert_eq!(seal::verify(&key.public(), &s, None, None), Ok(()));

    // The seal survives a JSON round trip, and so does the public key.
    let stored: Seal = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    let public = PublicKey::from_base64(&key.public().to_base64()).unwrap();
    assert_eq!(
        seal::verify(&public, &stored, Some(&content), Some(&pdf)),
        Ok(())
    );
}

#[test]
fn one_flipped_pdf_byte_is_detected() {
    let (key, content, mut pdf, s) = sealed();
    let middle = pdf.len() / 2;
    pdf[middle] ^= 0x01;
    assert_eq!(
        seal::verify(&key.public(), &s, Some(&content), Some(&pdf)),
        Err(VerifyError::PdfChanged)
    );
    // Without the PDF, the content alone still verifies.
    assert_eq!(
        seal::verify(&key.public(), &s, Some(&content), None),
        Ok(())
    );
}

#[test]
fn one_changed_content_character_is_detected() {
    let (key, mut content, pdf, s) = sealed();
    content["patient"]["full_name"] = json!("Иванова Мария Петровнa"); // Latin "a" at the end
    assert_eq!(
        seal::verify(&key.public(), &s, Some(&content), Some(&pdf)),
        Err(VerifyError::ContentChanged)
    );
}

#[test]
fn another_key_is_a_mismatch() {
    let (_, content, pdf, s) = sealed();
    let other = SealKey::generate();
    assert_eq!(
        seal::verify(&other.public(), &s, Some(&content), Some(&pdf)),
        Err(VerifyError::KeyMismatch)
    );
}

#[test]
fn tampered_signature_or_fields_fail() {
    let (key, content, pdf, s) = sealed();

    let mut bad = s.clone();
    let mut signature = base64_decode(&bad.signature);
    signature[10] ^= 0x80;
    bad.signature = base64_encode(&signature);
    assert_eq!(
        seal::verify(&key.public(), &bad, Some(&content), Some(&pdf)),
        Err(VerifyError::BadSignature)
    );

    // Changing a signed field (here the time) breaks the signature too.
    let mut bad = s.clone();
    bad.sealed_at = "2026-11-13T12:45:00Z".into();
    assert_eq!(
        seal::verify(&key.public(), &bad, None, None),
        Err(VerifyError::BadSignature)
    );

    // Replacing both hashes with those of other content and PDF is caught by
    // the signature, not reported as a content change.
    let forged = seal::seal(&SealKey::generate(), &json!({"x": 1}), b"other", Utc::now());
    let mut bad = s.clone();
    bad.content_sha256 = forged.content_sha256;
    bad.pdf_sha256 = forged.pdf_sha256;
    assert_eq!(
        seal::verify(&key.public(), &bad, Some(&json!({"x": 1})), Some(b"other")),
        Err(VerifyError::BadSignature)
    );

    let mut bad = s.clone();
    bad.signature = "not base64!".into();
    assert_eq!(
        seal::verify(&key.public(), &bad, None, None),
        Err(VerifyError::BadSignature)
    );

    let mut bad = s.clone();
    bad.format = "rtms-seal-v0".into();
    assert!(matches!(
        seal::verify(&key.public(), &bad, None, None),
        Err(VerifyError::Malformed(_))
    ));

    let mut bad = s;
    bad.pdf_sha256 = "XYZ".into();
    assert!(matches!(
        seal::verify(&key.public(), &bad, None, None),
        Err(VerifyError::Malformed(_))
    ));
}

#[test]
fn canonical_json_ignores_key_order() {
    let a: Value = serde_json::from_str(
        r#"{"b": {"y": [1, 2, {"q": "Щ", "p": null}], "x": true}, "a": "текст #*$"}"#,
    )
    .unwrap();
    let b: Value = serde_json::from_str(
        r#"{ "a" : "текст #*$", "b": {"x": true, "y": [1, 2, {"p": null, "q": "Щ"}]} }"#,
    )
    .unwrap();
    assert_eq!(canonical_json(&a), canonical_json(&b));
    assert_eq!(
        String::from_utf8(canonical_json(&a)).unwrap(),
        r#"{"a":"текст #*$","b":{"x":true,"y":[1,2,{"p":null,"q":"Щ"}]}}"#
    );

    // Key order in the sealed content does not matter to verification.
    let key = SealKey::from_bytes(&[1; 32]);
    let s = seal::seal(&key, &a, b"%PDF", Utc::now());
    assert_eq!(
        seal::verify(&key.public(), &s, Some(&b), Some(b"%PDF")),
        Ok(())
    );
}

#[test]
fn key_ids_are_stable() {
    let key = SealKey::from_bytes(&[7; 32]);
    let id = key.key_id();
    assert_eq!(id.len(), 16);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(SealKey::from_bytes(&key.to_bytes()).key_id(), id);
    assert_ne!(SealKey::generate().key_id(), id);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
