//! The three verdicts of a signer's CMS signature, apart: integrity, trust
//! against configured roots, and the certificate's validity at signing time.
//! Certificates and signatures are made with the openssl command line.

use chrono::{Duration, Utc};
use rtms_documents::cms::{check_detached, CmsStatus, Integrity, TimeValidity, Trust, TrustRoots};

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem` in `dir`) and a 30-day certificate it issued (`cert.pem`).
fn issued(dir: &std::path::Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-nodes",
            "-days",
            "365",
            "-newkey",
            "rsa:2048",
            "-subj",
            "/CN=Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-subj",
            "/CN=Signer",
            "-keyout",
            "key.pem",
            "-out",
            "req.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "req.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "cert.pem",
        ],
    );
}

/// A detached signature of `doc` by `cert.pem`; `-noattr` leaves out the
/// signed attributes (and so the signing time).
fn sign(dir: &std::path::Path, doc: &[u8], extra: &[&str]) -> Vec<u8> {
    std::fs::write(dir.join("doc.bin"), doc).unwrap();
    let mut args = vec![
        "cms", "-sign", "-binary", "-in", "doc.bin", "-signer", "cert.pem", "-inkey", "key.pem",
        "-md", "sha256", "-outform", "DER", "-out", "doc.p7s",
    ];
    args.extend(extra);
    openssl(dir, &args);
    std::fs::read(dir.join("doc.p7s")).unwrap()
}

#[test]
fn trust_and_time_are_told_apart_from_integrity() {
    let dir = tempfile::tempdir().unwrap();
    issued(dir.path());
    let mut roots = TrustRoots::empty();
    let pem = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
    assert_eq!(roots.add_pem(&pem).unwrap(), 1);
    let doc = b"%PDF-1.7 a conclusion";
    let now = Utc::now();

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
        (c.status, c.trust, c.time_validity),
        (
            CmsStatus::Valid,
            Trust::Trusted,
            TimeValidity::ValidAtSigning
        )
    );
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
    issued(dir.path());
    let roots_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("ca.pem"),
        roots_dir.path().join("region.crt"),
    )
    .unwrap();
    std::fs::write(roots_dir.path().join("README.txt"), "not a certificate").unwrap();
    assert_eq!(TrustRoots::from_dir(roots_dir.path()).unwrap().len(), 1);
    std::fs::write(
        roots_dir.path().join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = TrustRoots::from_dir(roots_dir.path()).unwrap_err();
    assert!(err.contains("broken.pem"), "{err}");
}
