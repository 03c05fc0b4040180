//! The three verdicts of a signer's CMS signature, apart: integrity, trust
//! against configured roots, and the certificate's validity at signing time.
//! Certificates, revocation lists and signatures are made with the openssl
//! command line (`pki`). ГОСТ ones: tests/gost.rs.

use chrono::{Duration, Utc};
mod pki;

use pki::{Alg, Pki};
use rtms_documents::cms::{
    check_detached, CmsStatus, Integrity, Revocation, TimeValidity, Trust, TrustRoots,
};

#[test]
fn trust_and_time_are_told_apart_from_integrity() {
    let dir = tempfile::tempdir().unwrap();
    let mut pki = Pki::new(dir.path(), "Test CA", Alg::Rsa);
    // After the CA exists: its certificate starts at the second it was made,
    // and a check at an earlier second would rightly find it not yet valid.
    let now = Utc::now();
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y%m%d%H%M%SZ").to_string();
    let (start, end) = (fmt(now - Duration::days(1)), fmt(now + Duration::days(30)));
    let signer = pki.issue(
        "Signer",
        "Signer",
        "Test",
        "11223344595",
        Some((&start, &end)),
    );
    let mut roots = TrustRoots::empty();
    assert_eq!(roots.add_pem(&pki.ca_pem()).unwrap(), 1);
    assert_eq!(roots.add_crl(pki.crl().as_bytes()).unwrap(), 1);
    let doc = b"%PDF-1.7 a conclusion";
    let sign =
        |_dir: &std::path::Path, doc: &[u8], extra: &[&str]| pki.sign_with(&signer, doc, extra);

    // Without the root configured: sound, but nobody vouches for it.
    let sig = sign(dir.path(), doc, &[]);
    let c = check_detached(&sig, doc, &TrustRoots::empty(), now).unwrap();
    assert_eq!(
        (c.status, c.integrity, c.trust),
        (CmsStatus::Untrusted, Integrity::Ok, Trust::UnknownRoot)
    );
    // With it: valid; the signing time is the signature's own.
    let c = check_detached(&sig, doc, &roots, now).unwrap();
    assert_eq!(
        (c.status, c.trust, c.time_validity, c.revocation),
        (
            CmsStatus::Valid,
            Trust::Trusted,
            TimeValidity::ValidAtSigning,
            Revocation::NotRevoked
        ),
        "{c:?}"
    );
    assert_eq!(c.signer_snils.as_deref(), Some("11223344595"));
    assert!(c.signed_at.is_some());
    // Checked two months later, it was still made while the certificate was valid.
    let later = now + Duration::days(60);
    let c = check_detached(&sig, doc, &roots, later).unwrap();
    assert_eq!(c.status, CmsStatus::Valid, "{c:?}");
    // Another document: integrity fails whatever the trust.
    let c = check_detached(&sig, b"another", &roots, now).unwrap();
    assert_eq!(
        (c.status, c.integrity),
        (CmsStatus::Invalid, Integrity::Bad)
    );

    // No signing time in the signature: the time of the check counts.
    let bare = sign(dir.path(), doc, &["-noattr"]);
    let c = check_detached(&bare, doc, &roots, now).unwrap();
    assert_eq!(c.status, CmsStatus::Valid, "{c:?}");
    assert_eq!(c.signed_at, None);
    let c = check_detached(&bare, doc, &roots, later).unwrap();
    assert_eq!(
        (c.status, c.integrity, c.time_validity),
        (CmsStatus::Untrusted, Integrity::Ok, TimeValidity::Expired)
    );
    let c = check_detached(&bare, doc, &roots, now - Duration::days(2)).unwrap();
    assert_eq!(c.time_validity, TimeValidity::NotYetValid);
}

#[test]
fn trust_roots_come_from_a_directory_of_pem_files() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Region CA", Alg::Rsa);
    let roots_dir = tempfile::tempdir().unwrap();
    std::fs::write(roots_dir.path().join("region.crt"), pki.ca_pem()).unwrap();
    std::fs::write(roots_dir.path().join("region.crl"), pki.crl()).unwrap();
    std::fs::write(roots_dir.path().join("README.txt"), "not a certificate").unwrap();
    let roots = TrustRoots::from_dir(roots_dir.path()).unwrap();
    assert_eq!((roots.len(), roots.crl_count()), (1, 1));
    std::fs::write(
        roots_dir.path().join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = TrustRoots::from_dir(roots_dir.path()).unwrap_err();
    assert!(err.contains("broken.pem"), "{err}");
    // A revocation list that is not one is refused by name too.
    std::fs::remove_file(roots_dir.path().join("broken.pem")).unwrap();
    std::fs::write(roots_dir.path().join("stale.crl"), b"\x30\x03\x02\x01\x00").unwrap();
    let err = TrustRoots::from_dir(roots_dir.path()).unwrap_err();
    assert!(err.contains("stale.crl"), "{err}");
}
