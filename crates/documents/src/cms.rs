//! A signer's own detached CMS (PKCS#7) signature over a document, made with
//! their certificate and crypto provider (КриптоПро, a token, OpenSSL…).
//!
//! We read who signed and with which algorithm, and check three things apart:
//! - integrity: the signature matches the document and the certificate
//!   (RSA PKCS#1 v1.5 or ECDSA P-256/P-384 with SHA-256/384/512);
//! - trust: the certificate chains up to one of the configured trust roots
//!   (`TrustRoots`, a directory of PEM files), each link's signature checked;
//! - time: the certificates were valid when the document was signed (the
//!   signed `signingTime`, else the time of the check).
//!
//! - revocation: the signer's certificate is on none of the revocation lists
//!   (CRL files beside the trust roots) of its issuer.
//!
//! Only all four together make a signature `valid`; a mathematically sound
//! signature by a certificate nobody vouches for is `untrusted`. ГОСТ Р
//! 34.10-2012 signatures and chains, and every revocation check, go to the
//! `openssl` command with the gost engine (`crate::openssl`, ADR 0004);
//! RSA and ECDSA are checked here with `ring`. The certificate's СНИЛС and
//! name are read out so that the caller can hold them against the user.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use serde::Serialize;
use sha2::Digest;
use x509_cert::Certificate;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// The longest certificate chain followed from the signer to a root.
pub const MAX_CHAIN_DEPTH: usize = 8;
/// The most trust-root files read from the configured directory, and the
/// largest one (bytes): a directory of roots is small.
pub const MAX_TRUST_ROOT_FILES: usize = 1000;
pub const MAX_TRUST_ROOT_FILE_BYTES: u64 = 1 << 20;
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
/// СНИЛС in a qualified certificate's subject (Приказ ФСБ № 795).
const SNILS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.100.3");

/// What a CMS signature says, and whether it holds for a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CmsCheck {
    /// The overall verdict: `valid` only when integrity, trust and time all
    /// hold; `invalid` (does not match the document); `untrusted` (matches,
    /// but the certificate is not trusted or was not valid at signing);
    /// `unsupported` (kept, but the algorithm is not checked here, e.g. ГОСТ).
    pub status: CmsStatus,
    /// Does the signature match the document and the certificate?
    pub integrity: Integrity,
    /// Does the certificate chain up to a configured trust root?
    pub trust: Trust,
    /// Was the certificate (and its chain) valid at the time of signing?
    pub time_validity: TimeValidity,
    /// Is the signer's certificate on a revocation list of its issuer?
    pub revocation: Revocation,
    /// The signing time the signature claims (`signingTime`), RFC 3339.
    pub signed_at: Option<String>,
    /// The signer as the certificate names them.
    pub signer: String,
    /// The signer's surname and given names (SN, GN), when the certificate has them.
    pub signer_surname: Option<String>,
    pub signer_given_name: Option<String>,
    /// The signer's СНИЛС (11 digits), when the certificate has it.
    pub signer_snils: Option<String>,
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
    Untrusted,
    Unsupported,
}

impl CmsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CmsStatus::Valid => "valid",
            CmsStatus::Invalid => "invalid",
            CmsStatus::Untrusted => "untrusted",
            CmsStatus::Unsupported => "unsupported",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Integrity {
    Ok,
    Bad,
    /// The algorithm is not checked here (ГОСТ, SHA-1…).
    Unchecked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Chains up to a configured root, every link checked.
    Trusted,
    /// A link of the chain does not hold (a forged or broken certificate).
    Untrusted,
    /// No configured root issued it (a self-signed certificate, or an
    /// issuer nobody configured).
    UnknownRoot,
    /// The chain's algorithm is not checked here (ГОСТ).
    Unchecked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// Checked against its issuer's list: not on it.
    NotRevoked,
    Revoked,
    /// No list of its issuer is loaded, or the chain itself does not hold.
    Unknown,
}

impl Revocation {
    pub fn as_str(self) -> &'static str {
        match self {
            Revocation::NotRevoked => "not_revoked",
            Revocation::Revoked => "revoked",
            Revocation::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeValidity {
    ValidAtSigning,
    Expired,
    NotYetValid,
}

impl Integrity {
    pub fn as_str(self) -> &'static str {
        match self {
            Integrity::Ok => "ok",
            Integrity::Bad => "bad",
            Integrity::Unchecked => "unchecked",
        }
    }
}

impl Trust {
    pub fn as_str(self) -> &'static str {
        match self {
            Trust::Trusted => "trusted",
            Trust::Untrusted => "untrusted",
            Trust::UnknownRoot => "unknown_root",
            Trust::Unchecked => "unchecked",
        }
    }
}

impl TimeValidity {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeValidity::ValidAtSigning => "valid_at_signing",
            TimeValidity::Expired => "expired",
            TimeValidity::NotYetValid => "not_yet_valid",
        }
    }
}

/// The certificates signers' chains must reach (the region's accredited
/// CAs), their revocation lists, and the `openssl` that checks ГОСТ.
#[derive(Debug, Clone, Default)]
pub struct TrustRoots {
    roots: Vec<Certificate>,
    /// Certificate revocation lists (DER), checked by `openssl`.
    crls: Vec<Vec<u8>>,
    tool: crate::openssl::OpenSsl,
}

impl TrustRoots {
    /// No roots: no signature is trusted.
    pub fn empty() -> Self {
        TrustRoots::default()
    }

    pub fn len(&self) -> usize {
        self.roots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// How many revocation lists are loaded.
    pub fn crl_count(&self) -> usize {
        self.crls.len()
    }

    /// Checks with this `openssl` (tests; by default `$RTMS_OPENSSL` or `openssl`).
    pub fn with_openssl(mut self, tool: crate::openssl::OpenSsl) -> Self {
        self.tool = tool;
        self
    }

    /// The `openssl` that checks ГОСТ signatures and revocation.
    pub fn openssl(&self) -> &crate::openssl::OpenSsl {
        &self.tool
    }

    /// A revocation list, PEM (`X509 CRL` blocks) or DER. Its signature is
    /// checked when it is used (a list that does not verify counts as none).
    pub fn add_crl(&mut self, bytes: &[u8]) -> Result<usize, CmsError> {
        let text = std::str::from_utf8(bytes).ok();
        if let Some(t) = text.filter(|t| t.trim_start().starts_with("-----BEGIN")) {
            let mut added = 0;
            let mut body: Option<String> = None;
            for line in t.lines().map(str::trim) {
                if line == "-----BEGIN X509 CRL-----" {
                    body = Some(String::new());
                } else if line == "-----END X509 CRL-----" {
                    use base64::Engine;
                    let der = base64::engine::general_purpose::STANDARD
                        .decode(body.take().unwrap_or_default())
                        .map_err(malformed)?;
                    x509_cert::crl::CertificateList::from_der(&der).map_err(malformed)?;
                    self.crls.push(der);
                    added += 1;
                } else if let Some(b) = body.as_mut() {
                    b.push_str(line);
                }
            }
            return Ok(added);
        }
        x509_cert::crl::CertificateList::from_der(bytes).map_err(malformed)?;
        self.crls.push(bytes.to_vec());
        Ok(1)
    }

    fn root_ders(&self) -> Vec<Vec<u8>> {
        self.roots.iter().filter_map(|c| c.to_der().ok()).collect()
    }

    /// Every certificate in PEM text (one or more `CERTIFICATE` blocks).
    pub fn add_pem(&mut self, text: &str) -> Result<usize, CmsError> {
        let mut added = 0;
        let mut body: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line == "-----BEGIN CERTIFICATE-----" {
                body = Some(String::new());
            } else if line == "-----END CERTIFICATE-----" {
                let b64 = body.take().unwrap_or_default();
                use base64::Engine;
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(malformed)?;
                self.roots
                    .push(Certificate::from_der(&der).map_err(malformed)?);
                added += 1;
            } else if let Some(b) = body.as_mut() {
                b.push_str(line);
            }
        }
        Ok(added)
    }

    /// Every `*.pem`, `*.crt` and `*.cer` (PEM) file in a directory, and
    /// every `*.crl` (PEM or DER) as a revocation list.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, String> {
        let mut roots = TrustRoots::empty();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read the trust roots {}: {e}", dir.display()))?;
        let mut files = 0;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !["pem", "crt", "cer", "crl"].contains(&ext) {
                continue;
            }
            files += 1;
            if files > MAX_TRUST_ROOT_FILES {
                return Err(format!(
                    "more than {MAX_TRUST_ROOT_FILES} files in {}",
                    dir.display()
                ));
            }
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if len > MAX_TRUST_ROOT_FILE_BYTES {
                return Err(format!(
                    "{} is larger than {MAX_TRUST_ROOT_FILE_BYTES} bytes",
                    path.display()
                ));
            }
            if ext == "crl" {
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                roots
                    .add_crl(&bytes)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            roots
                .add_pem(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(roots)
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
                if let Ok(s) = atv.value.decode_as::<der::asn1::Ia5StringRef<'_>>() {
                    return Some(s.as_str().to_string());
                }
                // NumericString (СНИЛС, ИНН): digits and spaces only.
                if der::Tagged::tag(&atv.value) == der::Tag::NumericString {
                    let v = atv.value.value();
                    if v.iter().all(|b| b.is_ascii_digit() || *b == b' ') {
                        return Some(String::from_utf8_lossy(v).into_owned());
                    }
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

/// A `ring` verifier for a signature by `key_info`'s key with `sig_oid`.
fn verifier(
    key_info: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    sig_oid: ObjectIdentifier,
) -> Option<&'static dyn ring::signature::VerificationAlgorithm> {
    use ring::signature as rs;
    let key_oid = key_info.algorithm.oid;
    let curve = key_info
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    Some(match (key_oid, sig_oid, curve) {
        (k, s, _) if k == RSA && s == RSA_SHA256 => &rs::RSA_PKCS1_2048_8192_SHA256,
        (k, s, _) if k == RSA && s == RSA_SHA384 => &rs::RSA_PKCS1_2048_8192_SHA384,
        (k, s, _) if k == RSA && s == RSA_SHA512 => &rs::RSA_PKCS1_2048_8192_SHA512,
        (k, s, Some(c)) if k == EC_PUBLIC_KEY && s == ECDSA_SHA256 && c == P256 => {
            &rs::ECDSA_P256_SHA256_ASN1
        }
        (k, s, Some(c)) if k == EC_PUBLIC_KEY && s == ECDSA_SHA384 && c == P384 => {
            &rs::ECDSA_P384_SHA384_ASN1
        }
        (k, s, Some(c)) if k == EC_PUBLIC_KEY && s == ECDSA_SHA256 && c == P384 => {
            &rs::ECDSA_P384_SHA256_ASN1
        }
        (k, s, Some(c)) if k == EC_PUBLIC_KEY && s == ECDSA_SHA384 && c == P256 => {
            &rs::ECDSA_P256_SHA384_ASN1
        }
        _ => return None,
    })
}

/// Did `issuer` sign `cert`? None: the algorithm is not checked here.
fn issued_by(cert: &Certificate, issuer: &Certificate) -> Option<bool> {
    let alg = verifier(
        &issuer.tbs_certificate.subject_public_key_info,
        cert.signature_algorithm.oid,
    )?;
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .as_bytes()?;
    let tbs = cert.tbs_certificate.to_der().ok()?;
    let sig = cert.signature.as_bytes()?;
    Some(
        ring::signature::UnparsedPublicKey::new(alg, key)
            .verify(&tbs, sig)
            .is_ok(),
    )
}

/// May this certificate issue others (basicConstraints cA)?
fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == BASIC_CONSTRAINTS)
        .and_then(|e| {
            x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes()).ok()
        })
        .is_some_and(|bc| bc.ca)
}

/// Follows the chain from `leaf` through the signature's own certificates
/// to a configured root. Returns the trust and the chain (leaf first).
fn chain_trust<'a>(
    leaf: &'a Certificate,
    pool: &[&'a Certificate],
    roots: &'a TrustRoots,
) -> (Trust, Vec<&'a Certificate>) {
    let mut chain = vec![leaf];
    let mut current = leaf;
    for _ in 0..MAX_CHAIN_DEPTH {
        if roots.roots.iter().any(|r| r == current) {
            return (Trust::Trusted, chain);
        }
        let issuer_name = &current.tbs_certificate.issuer;
        let mut named = false;
        for root in roots
            .roots
            .iter()
            .filter(|r| &r.tbs_certificate.subject == issuer_name)
        {
            named = true;
            match issued_by(current, root) {
                Some(true) => {
                    chain.push(root);
                    return (Trust::Trusted, chain);
                }
                None => return (Trust::Unchecked, chain),
                Some(false) => {}
            }
        }
        if named {
            return (Trust::Untrusted, chain);
        }
        let next = pool.iter().copied().find(|c| {
            *c != current
                && &c.tbs_certificate.subject == issuer_name
                && !chain.contains(c)
                && is_ca(c)
        });
        match next {
            Some(up) => match issued_by(current, up) {
                Some(true) => {
                    chain.push(up);
                    current = up;
                }
                Some(false) => return (Trust::Untrusted, chain),
                None => return (Trust::Unchecked, chain),
            },
            None => return (Trust::UnknownRoot, chain),
        }
    }
    (Trust::UnknownRoot, chain)
}

/// The chain from `leaf` up by issuer names only (links not checked): for
/// judging dates when `openssl` has judged the links.
fn chain_by_names<'a>(
    leaf: &'a Certificate,
    pool: &[&'a Certificate],
    roots: &'a TrustRoots,
) -> Vec<&'a Certificate> {
    let mut chain = vec![leaf];
    let mut current = leaf;
    for _ in 0..MAX_CHAIN_DEPTH {
        let issuer = &current.tbs_certificate.issuer;
        if &current.tbs_certificate.subject == issuer {
            break;
        }
        let next = roots
            .roots
            .iter()
            .chain(pool.iter().copied())
            .find(|c| &c.tbs_certificate.subject == issuer && !chain.contains(c));
        match next {
            Some(up) => {
                chain.push(up);
                current = up;
            }
            None => break,
        }
    }
    chain
}

/// Were all the chain's certificates valid at `at` (seconds since 1970)?
fn time_validity(chain: &[&Certificate], at: u64) -> TimeValidity {
    for c in chain {
        let v = &c.tbs_certificate.validity;
        if at < v.not_before.to_unix_duration().as_secs() {
            return TimeValidity::NotYetValid;
        }
        if at > v.not_after.to_unix_duration().as_secs() {
            return TimeValidity::Expired;
        }
    }
    TimeValidity::ValidAtSigning
}

/// The overall verdict from the four separate ones.
fn overall(c: &CmsCheck) -> CmsStatus {
    match (c.integrity, c.trust, c.time_validity, c.revocation) {
        (Integrity::Bad, ..) => CmsStatus::Invalid,
        (Integrity::Unchecked, ..) => CmsStatus::Unsupported,
        (Integrity::Ok, Trust::Trusted, TimeValidity::ValidAtSigning, Revocation::NotRevoked) => {
            CmsStatus::Valid
        }
        (Integrity::Ok, ..) => CmsStatus::Untrusted,
    }
}

/// The certificate's and its chain's checks by `openssl`, where `ring`
/// cannot judge them (ГОСТ), and every revocation check. Run only for a
/// signature that matches its document: the others are refused or
/// unchecked anyway, and each check is a process.
fn openssl_checks(
    out: &mut CmsCheck,
    cert: &Certificate,
    certs: &[&Certificate],
    roots: &TrustRoots,
    at: u64,
) {
    use crate::openssl::{Chain, Revocation as R};
    let Ok(leaf) = cert.to_der() else {
        return;
    };
    let others: Vec<Vec<u8>> = certs
        .iter()
        .filter(|c| **c != cert)
        .filter_map(|c| c.to_der().ok())
        .collect();
    let root_ders = roots.root_ders();
    if out.trust == Trust::Unchecked {
        match roots.tool.chain(&leaf, &others, &root_ders) {
            Ok(Chain::Trusted) => out.trust = Trust::Trusted,
            Ok(Chain::UnknownRoot) => out.trust = Trust::UnknownRoot,
            Ok(Chain::Broken) => out.trust = Trust::Untrusted,
            Err(_) => {}
        }
        out.time_validity = time_validity(&chain_by_names(cert, certs, roots), at);
    }
    if out.trust == Trust::Trusted && !roots.crls.is_empty() {
        out.revocation = match roots
            .tool
            .revocation(&leaf, &others, &root_ders, &roots.crls)
        {
            Ok(R::NotRevoked) => Revocation::NotRevoked,
            Ok(R::Revoked) => Revocation::Revoked,
            Ok(R::Unknown) | Err(_) => Revocation::Unknown,
        };
    }
}

/// Checks a detached CMS signature against the document it signs: its
/// integrity, its signer's trust against `roots`, and the certificates'
/// validity at the signing time (or at `now`, when the signature names none).
pub fn check_detached(
    signature: &[u8],
    document: &[u8],
    roots: &TrustRoots,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CmsCheck, CmsError> {
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
    let signing_time = signer
        .signed_attrs
        .as_ref()
        .and_then(|attrs| attrs.iter().find(|a| a.oid == ID_SIGNING_TIME))
        .and_then(|a| a.values.iter().next())
        .and_then(|v| x509_cert::time::Time::from_der(&v.to_der().ok()?).ok())
        .map(|t| t.to_unix_duration().as_secs());
    let at = signing_time.unwrap_or(now.timestamp().max(0) as u64);
    let (trust, chain) = chain_trust(cert, &certs, roots);
    let time = time_validity(&chain, at);
    let mut out = CmsCheck {
        status: CmsStatus::Unsupported,
        integrity: Integrity::Unchecked,
        trust,
        time_validity: time,
        revocation: Revocation::Unknown,
        signed_at: signing_time
            .and_then(|s| chrono::DateTime::from_timestamp(s as i64, 0).map(|t| t.to_rfc3339())),
        signer: signer_name,
        signer_surname: name_attr(subject, SURNAME),
        signer_given_name: name_attr(subject, GIVEN_NAME),
        signer_snils: name_attr(subject, SNILS)
            .map(|s| s.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|s| s.len() == 11),
        serial: hex::encode(tbs.serial_number.as_bytes()),
        issuer: name_attr(&tbs.issuer, CN).unwrap_or_else(|| tbs.issuer.to_string()),
        algorithm: String::new(),
        not_before: date(tbs.validity.not_before),
        not_after: date(tbs.validity.not_after),
    };
    if key_oid.to_string().starts_with(GOST_PREFIX) || sig_oid.to_string().starts_with(GOST_PREFIX)
    {
        out.algorithm = match key_oid.to_string().as_str() {
            "1.2.643.7.1.1.1.1" => "ГОСТ Р 34.10-2012 (256)".into(),
            "1.2.643.7.1.1.1.2" => "ГОСТ Р 34.10-2012 (512)".into(),
            _ => "ГОСТ Р 34.10-2012".into(),
        };
        // The signature over the document: by openssl with the gost engine.
        out.integrity = match roots.tool.signature_matches(&der, document) {
            Ok(true) => Integrity::Ok,
            Ok(false) => Integrity::Bad,
            Err(_) => Integrity::Unchecked,
        };
        if out.integrity == Integrity::Ok {
            openssl_checks(&mut out, cert, &certs, roots, at);
        }
        out.status = overall(&out);
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
                out.integrity = Integrity::Bad;
                out.status = overall(&out);
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
    out.integrity =
        match rs::UnparsedPublicKey::new(alg, key).verify(&signed, signer.signature.as_bytes()) {
            Ok(()) => Integrity::Ok,
            Err(_) => Integrity::Bad,
        };
    if out.integrity == Integrity::Ok {
        openssl_checks(&mut out, cert, &certs, roots, at);
    }
    out.status = overall(&out);
    Ok(out)
}
