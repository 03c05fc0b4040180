//! A signer's own detached CMS (PKCS#7) signature over a document, made with
//! their certificate and crypto provider (КриптоПро, a token, OpenSSL…).
//!
//! We read who signed and with which algorithm, and check the signature where
//! the algorithm is a standard one (RSA PKCS#1 v1.5 or ECDSA P-256/P-384 with
//! SHA-256/384/512). ГОСТ Р 34.10-2012 signatures are kept and described but
//! not checked here: that takes a certified provider. The certificate chain
//! and revocation are not checked either (no trust store in the region yet):
//! the result says "the signature matches this document and this certificate".

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use serde::Serialize;
use sha2::Digest;
use x509_cert::Certificate;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// ГОСТ Р 34.10-2012 keys and signatures, and ГОСТ Р 34.11-2012 digests.
const GOST_PREFIX: &str = "1.2.643.7.1.1.";
/// CN and SNILS in a certificate's subject.
const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const SURNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.4");
const GIVEN_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.42");

/// What a CMS signature says, and whether it holds for a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CmsCheck {
    /// `valid`, `invalid` (does not match the document) or `unsupported`
    /// (kept, but the algorithm is not checked here, e.g. ГОСТ).
    pub status: CmsStatus,
    /// The signer as the certificate names them.
    pub signer: String,
    /// The certificate's serial number (hex) and issuer.
    pub serial: String,
    pub issuer: String,
    /// The signature algorithm, readable (`RSA/SHA-256`, `ГОСТ Р 34.10-2012`…).
    pub algorithm: String,
    /// The certificate's validity, `YYYY-MM-DD`.
    pub not_before: String,
    pub not_after: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmsStatus {
    Valid,
    Invalid,
    Unsupported,
}

impl CmsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CmsStatus::Valid => "valid",
            CmsStatus::Invalid => "invalid",
            CmsStatus::Unsupported => "unsupported",
        }
    }
}

/// Why a file is not a detached CMS signature we can read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CmsError {
    #[error("not a CMS signature: {0}")]
    Malformed(String),
    #[error("the signature does not carry the signer's certificate")]
    NoCertificate,
    #[error("the signature is not detached: it carries a document of its own")]
    NotDetached,
}

fn malformed(e: impl std::fmt::Display) -> CmsError {
    CmsError::Malformed(e.to_string())
}

/// Reads PEM ("-----BEGIN PKCS7-----" / "CMS") or DER.
fn der_of(bytes: &[u8]) -> Result<Vec<u8>, CmsError> {
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    match text {
        Some(t) if t.starts_with("-----BEGIN") => {
            let body: String = t
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<Vec<_>>()
                .join("");
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(body.trim())
                .map_err(malformed)
        }
        _ => Ok(bytes.to_vec()),
    }
}

fn name_attr(name: &x509_cert::name::Name, oid: ObjectIdentifier) -> Option<String> {
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == oid {
                if let Ok(s) = atv.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                    return Some(s.as_str().to_string());
                }
                if let Ok(s) = atv.value.decode_as::<der::asn1::PrintableStringRef<'_>>() {
                    return Some(s.as_str().to_string());
                }
            }
        }
    }
    None
}

fn date(t: x509_cert::time::Time) -> String {
    let d = t.to_date_time();
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Checks a detached CMS signature against the document it signs.
pub fn check_detached(signature: &[u8], document: &[u8]) -> Result<CmsCheck, CmsError> {
    let der = der_of(signature)?;
    let info = ContentInfo::from_der(&der).map_err(malformed)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(CmsError::Malformed("not SignedData".into()));
    }
    let sd: SignedData = info.content.decode_as().map_err(malformed)?;
    if sd.encap_content_info.econtent.is_some() {
        return Err(CmsError::NotDetached);
    }
    let signer = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| CmsError::Malformed("no signer".into()))?;
    let certs: Vec<&Certificate> = sd
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    cms::cert::CertificateChoices::Certificate(c) => Some(c),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let cert = match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => certs.iter().find(|c| {
            c.tbs_certificate.issuer == ias.issuer
                && c.tbs_certificate.serial_number == ias.serial_number
        }),
        SignerIdentifier::SubjectKeyIdentifier(_) => certs.first(),
    }
    .copied()
    .ok_or(CmsError::NoCertificate)?;
    let tbs = &cert.tbs_certificate;
    let subject = &tbs.subject;
    let signer_name = match (name_attr(subject, SURNAME), name_attr(subject, GIVEN_NAME)) {
        (Some(s), Some(g)) => format!("{s} {g}"),
        _ => name_attr(subject, CN).unwrap_or_else(|| subject.to_string()),
    };
    let digest_oid = signer.digest_alg.oid;
    let sig_oid = signer.signature_algorithm.oid;
    let key_oid = tbs.subject_public_key_info.algorithm.oid;
    let mut out = CmsCheck {
        status: CmsStatus::Unsupported,
        signer: signer_name,
        serial: hex::encode(tbs.serial_number.as_bytes()),
        issuer: name_attr(&tbs.issuer, CN).unwrap_or_else(|| tbs.issuer.to_string()),
        algorithm: String::new(),
        not_before: date(tbs.validity.not_before),
        not_after: date(tbs.validity.not_after),
    };
    if key_oid.to_string().starts_with(GOST_PREFIX) || sig_oid.to_string().starts_with(GOST_PREFIX)
    {
        out.algorithm = "ГОСТ Р 34.10-2012".into();
        return Ok(out);
    }
    let (digest, digest_name): (Vec<u8>, &str) = match digest_oid {
        d if d == SHA256 => (sha2::Sha256::digest(document).to_vec(), "SHA-256"),
        d if d == SHA384 => (sha2::Sha384::digest(document).to_vec(), "SHA-384"),
        d if d == SHA512 => (sha2::Sha512::digest(document).to_vec(), "SHA-512"),
        other => {
            out.algorithm = other.to_string();
            return Ok(out);
        }
    };
    let curve = tbs
        .subject_public_key_info
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let rsa = key_oid == RSA && [RSA, RSA_SHA256, RSA_SHA384, RSA_SHA512].contains(&sig_oid);
    let ec = key_oid == EC_PUBLIC_KEY && [ECDSA_SHA256, ECDSA_SHA384].contains(&sig_oid);
    use ring::signature as rs;
    let alg: &'static dyn rs::VerificationAlgorithm = match (rsa, ec, digest_name, curve) {
        (true, _, "SHA-256", _) => &rs::RSA_PKCS1_2048_8192_SHA256,
        (true, _, "SHA-384", _) => &rs::RSA_PKCS1_2048_8192_SHA384,
        (true, _, "SHA-512", _) => &rs::RSA_PKCS1_2048_8192_SHA512,
        (_, true, "SHA-256", Some(c)) if c == P256 => &rs::ECDSA_P256_SHA256_ASN1,
        (_, true, "SHA-384", Some(c)) if c == P384 => &rs::ECDSA_P384_SHA384_ASN1,
        (_, true, "SHA-256", Some(c)) if c == P384 => &rs::ECDSA_P384_SHA256_ASN1,
        (_, true, "SHA-384", Some(c)) if c == P256 => &rs::ECDSA_P256_SHA384_ASN1,
        _ => {
            out.algorithm = format!("{sig_oid}/{digest_name}");
            return Ok(out);
        }
    };
    out.algorithm = format!("{}/{digest_name}", if rsa { "RSA" } else { "ECDSA" });
    // With signed attributes, the signature covers them (DER, as a SET) and
    // their message digest must be the document's; without, the document itself.
    let signed: Vec<u8> = match &signer.signed_attrs {
        Some(attrs) => {
            let md = attrs
                .iter()
                .find(|a| a.oid == ID_MESSAGE_DIGEST)
                .and_then(|a| a.values.iter().next())
                .and_then(|v| v.decode_as::<OctetString>().ok());
            if md.as_ref().map(|m| m.as_bytes()) != Some(digest.as_slice()) {
                out.status = CmsStatus::Invalid;
                return Ok(out);
            }
            attrs.to_der().map_err(malformed)?
        }
        None => document.to_vec(),
    };
    let key = tbs
        .subject_public_key_info
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| CmsError::Malformed("public key".into()))?;
    out.status =
        match rs::UnparsedPublicKey::new(alg, key).verify(&signed, signer.signature.as_bytes()) {
            Ok(()) => CmsStatus::Valid,
            Err(_) => CmsStatus::Invalid,
        };
    Ok(out)
}
