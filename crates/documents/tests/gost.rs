//! ГОСТ Р 34.10-2012 signatures checked for real: a test CA and signers made
//! with OpenSSL and the gost engine, each case its own verdicts, apart —
//! the signature over the document, the chain to the configured roots, the
//! dates at the signing time, the revocation list, and who the certificate
//! names (СНИЛС, surname, given names).

mod pki;

use chrono::Utc;
use pki::{Alg, Pki};
use rtms_documents::cms::{
    check_detached, CmsStatus, Integrity, Revocation, TimeValidity, Trust, TrustRoots,
};

const SNILS: &str = "11223344595";

fn roots_of(pki: &Pki, with_crl: bool) -> TrustRoots {
    let mut roots = TrustRoots::empty();
    assert_eq!(roots.add_pem(&pki.ca_pem()).unwrap(), 1);
    if with_crl {
        assert_eq!(roots.add_crl(pki.crl().as_bytes()).unwrap(), 1);
    }
    roots
}

#[test]
fn the_gost_engine_is_there() {
    rtms_documents::openssl::OpenSsl::default()
        .gost_available()
        .expect("the test command installs libengine-gost-openssl");
}

#[test]
fn a_gost_signature_by_a_trusted_unrevoked_signer_is_valid_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut pki = Pki::new(dir.path(), "Test UC GOST", Alg::Gost);
    let smirnov = pki.issue(
        "Смирнов Андрей Викторович",
        "Смирнов",
        "Андрей Викторович",
        SNILS,
        None,
    );
    let doc = b"%PDF-1.7 conclusion of request 17";
    let sig = pki.sign(&smirnov, doc);
    let roots = roots_of(&pki, true);

    let c = check_detached(&sig, doc, &roots, Utc::now()).unwrap();
    assert_eq!(
        (
            c.status,
            c.integrity,
            c.trust,
            c.time_validity,
            c.revocation
        ),
        (
            CmsStatus::Valid,
            Integrity::Ok,
            Trust::Trusted,
            TimeValidity::ValidAtSigning,
            Revocation::NotRevoked
        ),
        "{c:?}"
    );
    assert_eq!(c.algorithm, "ГОСТ Р 34.10-2012 (512)");
    assert_eq!(c.signer_snils.as_deref(), Some(SNILS));
    assert_eq!(c.signer_surname.as_deref(), Some("Смирнов"));
    assert_eq!(c.signer_given_name.as_deref(), Some("Андрей Викторович"));
    assert!(c.signed_at.is_some());

    // One byte of the document changed: the signature does not match it.
    let mut changed = doc.to_vec();
    changed[10] ^= 1;
    let c = check_detached(&sig, &changed, &roots, Utc::now()).unwrap();
    assert_eq!(
        (c.status, c.integrity),
        (CmsStatus::Invalid, Integrity::Bad),
        "{c:?}"
    );

    // No revocation list loaded: sound and trusted, but not "valid".
    let c = check_detached(&sig, doc, &roots_of(&pki, false), Utc::now()).unwrap();
    assert_eq!(
        (c.status, c.revocation),
        (CmsStatus::Untrusted, Revocation::Unknown),
        "{c:?}"
    );

    // No roots configured: nobody vouches for the signer.
    let c = check_detached(&sig, doc, &TrustRoots::empty(), Utc::now()).unwrap();
    assert_eq!(
        (c.status, c.integrity, c.trust),
        (CmsStatus::Untrusted, Integrity::Ok, Trust::UnknownRoot)
    );
}

#[test]
fn revoked_expired_and_self_signed_gost_certificates_are_each_told() {
    let dir = tempfile::tempdir().unwrap();
    let mut pki = Pki::new(dir.path(), "Test UC GOST", Alg::Gost);
    let doc = b"%PDF-1.7 another conclusion";

    let revoked = pki.issue("Revoked", "Петров", "Пётр Петрович", "12345678964", None);
    let sig = pki.sign(&revoked, doc);
    pki.revoke(&revoked);
    let c = check_detached(&sig, doc, &roots_of(&pki, true), Utc::now()).unwrap();
    assert_eq!(
        (c.status, c.integrity, c.trust, c.revocation),
        (
            CmsStatus::Untrusted,
            Integrity::Ok,
            Trust::Trusted,
            Revocation::Revoked
        ),
        "{c:?}"
    );

    // Valid in 2020 only; signed now.
    let old = pki.issue(
        "Expired",
        "Сидоров",
        "Иван",
        "12345678964",
        Some(("20200101000000Z", "20201231000000Z")),
    );
    let sig = pki.sign(&old, doc);
    let c = check_detached(&sig, doc, &roots_of(&pki, true), Utc::now()).unwrap();
    assert_eq!(
        (c.status, c.integrity, c.trust, c.time_validity),
        (
            CmsStatus::Untrusted,
            Integrity::Ok,
            Trust::Trusted,
            TimeValidity::Expired
        ),
        "{c:?}"
    );

    // Self-signed with a real-looking name: sound, but no root vouches for it.
    let fake = pki.self_signed(
        "Смирнов Андрей Викторович",
        "Смирнов",
        "Андрей Викторович",
        SNILS,
    );
    let sig = pki.sign(&fake, doc);
    let c = check_detached(&sig, doc, &roots_of(&pki, true), Utc::now()).unwrap();
    assert_eq!(
        (c.status, c.integrity, c.trust, c.revocation),
        (
            CmsStatus::Untrusted,
            Integrity::Ok,
            Trust::UnknownRoot,
            Revocation::Unknown
        ),
        "{c:?}"
    );

    // Issued by another ГОСТ CA of the same name: a broken link, not trusted.
    let other_dir = tempfile::tempdir().unwrap();
    let mut impostor = Pki::new(other_dir.path(), "Test UC GOST", Alg::Gost);
    let forged = impostor.issue(
        "Смирнов Андрей Викторович",
        "Смирнов",
        "Андрей Викторович",
        SNILS,
        None,
    );
    let sig = impostor.sign(&forged, doc);
    let c = check_detached(&sig, doc, &roots_of(&pki, true), Utc::now()).unwrap();
    assert_eq!(
        (c.status, c.integrity),
        (CmsStatus::Untrusted, Integrity::Ok),
        "{c:?}"
    );
    assert_ne!(c.trust, Trust::Trusted, "{c:?}");
}

#[test]
fn without_openssl_a_gost_signature_is_unchecked_never_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut pki = Pki::new(dir.path(), "Test UC GOST", Alg::Gost);
    let s = pki.issue("Смирнов", "Смирнов", "Андрей", SNILS, None);
    let doc = b"doc";
    let sig = pki.sign(&s, doc);
    let roots = roots_of(&pki, true).with_openssl(rtms_documents::openssl::OpenSsl::new(
        "/nonexistent/openssl",
    ));
    let c = check_detached(&sig, doc, &roots, Utc::now()).unwrap();
    assert_eq!(
        (c.status, c.integrity),
        (CmsStatus::Unsupported, Integrity::Unchecked),
        "{c:?}"
    );
}
