//! The conclusion document as the doctor receives it: a PDF with the patient
//! and the diagnosis in it, sealed by the server, verifiable online and
//! offline; one changed byte fails; a consilium's document waits for everyone.

mod common;
#[path = "../../documents/tests/pki/mod.rs"]
mod pki;

use pki::{openssl, Alg, Pki};

use common::*;
use reqwest::{Method, StatusCode};
use rtms_store::BackendKind;
use serde_json::{json, Value};

/// Drives a request to an in-progress consultation with the given consultants
/// and a written conclusion; returns its id.
async fn in_progress(app: &TestApp, consultants: &[&str]) -> i64 {
    written_with(
        app,
        "planned",
        json!({}),
        consultants,
        json!({
            "diagnosis_main": "I21.0",
            "diagnosis_text": "Острый трансмуральный инфаркт передней стенки миокарда",
            "findings": "По данным ЭКГ — подъём ST в V1–V4 (#1 $ * [x]).",
            "recommendations": "Перевод в региональный сосудистый центр.",
            "patient_condition": "3",
        }),
    )
    .await
}

async fn fetch(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.pdf");
    std::fs::write(&p, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", p.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn verify_online(app: &TestApp, pdf: Vec<u8>) -> Value {
    app.client
        .post(format!("{}/api/v1/verify", app.base))
        .header("Content-Type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn signed_document(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let id = in_progress(&app, &["consultant"]).await;
    let doctor = app.login("doctor").await;
    let consultant = app.login("consultant").await;
    // Not signed yet: the doctor has no document.
    assert_eq!(
        fetch(
            &app,
            &doctor,
            &format!("/api/v1/consultations/{id}/conclusion/pdf")
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    app.act(&consultant, id, "sign", json!({})).await;

    let r = fetch(
        &app,
        &doctor,
        &format!("/api/v1/consultations/{id}/conclusion/pdf"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf);
    assert!(text.contains("Тестов Семён Ильич"), "{text}");
    assert!(text.contains("I21.0"), "{text}");
    assert!(text.contains("Острый трансмуральный инфаркт"), "{text}");
    assert!(
        text.contains("(#1 $ * [x])"),
        "markup printed literally: {text}"
    );
    assert!(text.contains("Смирнов"), "the signer: {text}");
    // Asked again, the same bytes (the document is kept, not re-rendered differently).
    let again = fetch(
        &app,
        &doctor,
        &format!("/api/v1/consultations/{id}/conclusion/pdf"),
    )
    .await
    .bytes()
    .await
    .unwrap();
    assert_eq!(&again[..], &pdf[..]);

    // Online: the untouched PDF is valid; one changed byte is not.
    let v = verify_online(&app, pdf.clone()).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["consultation_id"], id);
    let mut tampered = pdf.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x01;
    let v = verify_online(&app, tampered.clone()).await;
    assert_eq!(v["valid"], false, "{v}");
    assert!(v["reason"].as_str().unwrap().contains("изменён"), "{v}");

    // Offline: the PDF, the detached seal and the published key.
    let seal = fetch(
        &app,
        &doctor,
        &format!("/api/v1/consultations/{id}/conclusion/seal"),
    )
    .await
    .text()
    .await
    .unwrap();
    let key: Value = app.get(&doctor, "/api/v1/seal/key").await;
    let dir = tempfile::tempdir().unwrap();
    let (pdf_path, bad_path, seal_path) = (
        dir.path().join("c.pdf"),
        dir.path().join("bad.pdf"),
        dir.path().join("c.seal.json"),
    );
    std::fs::write(&pdf_path, &pdf).unwrap();
    std::fs::write(&bad_path, &tampered).unwrap();
    std::fs::write(&seal_path, &seal).unwrap();
    let run = |p: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rtms"))
            .arg("verify")
            .arg(p)
            .arg("--seal")
            .arg(&seal_path)
            .arg("--key")
            .arg(key["public_key"].as_str().unwrap())
            .output()
            .unwrap()
    };
    let ok = run(&pdf_path);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("VALID"));
    let bad = run(&bad_path);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stdout).starts_with("INVALID"));

    // A stranger gets nothing.
    let stranger = app.login("doctor2").await;
    assert_eq!(
        fetch(
            &app,
            &stranger,
            &format!("/api/v1/consultations/{id}/conclusion/pdf")
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    // The public verification page says the same as the API.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf.clone()).file_name("c.pdf"),
    );
    let page = app
        .browser
        .post(format!("{}/verify", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Документ подлинный"), "{page}");
}
both_backends!(signed_conclusion_document, super::signed_document);

/// A second cardiologist in the regional hospital's centre, for a consilium.
async fn add_colleague(app: &TestApp) {
    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        use rtms_domain::Role;
        let svc = rtms_service::Services::new(
            rtms_store::Db::connect(&url, 1).unwrap(),
            std::sync::Arc::new(rtms_service::SystemClock),
        );
        let okb = svc
            .db
            .read(|conn| {
                let me = rtms_store::repo::user_by_login(conn, "consultant")?.unwrap();
                rtms_store::repo::memberships_of(conn, me.id)
            })
            .unwrap()[0]
            .organization_id;
        let hash = rtms_service::access::auth::hash_password("rtms-demo-password").unwrap();
        svc.insert_user_with_hash(
            &rtms_service::access::auth::NewUserSpec {
                login: "cardio2".into(),
                last_name: "Григорьев".into(),
                first_name: "Павел".into(),
                middle_name: "Андреевич".into(),
                position: "Врач-кардиолог".into(),
                position_code: Some("34".into()),
                snils: Some(rtms_service::seed::demo::demo_snils(900)),
                roles: vec![(Role::Consultant, okb)],
                profiles: vec!["cardiology".into()],
                ..Default::default()
            },
            &hash,
        )
        .unwrap();
    })
    .await
    .unwrap();
}

/// A consilium's document exists only once every participant has signed.
async fn consilium(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    add_colleague(&app).await;
    let id = in_progress(&app, &["consultant", "cardio2"]).await;
    let first = app.login("consultant").await;
    let second = app.login("cardio2").await;
    app.act(&first, id, "sign", json!({})).await;
    let r = fetch(
        &app,
        &first,
        &format!("/api/v1/consultations/{id}/conclusion/pdf"),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "not ready: a conflict with the present state"
    );
    let body: Value = r.json().await.unwrap();
    assert!(
        body["title"].as_str().unwrap().contains("все участники"),
        "{body}"
    );
    app.act(&second, id, "sign", json!({})).await;
    let r = fetch(
        &app,
        &first,
        &format!("/api/v1/consultations/{id}/conclusion/pdf"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = pdftotext(&r.bytes().await.unwrap());
    assert!(text.contains("Смирнов"), "{text}");
    assert!(text.contains("Григорьев"), "{text}");
    assert!(
        text.matches("Подписано").count() >= 2,
        "both signatures: {text}"
    );
}
both_backends!(
    consilium_document_waits_for_every_signature,
    super::consilium
);

/// The consultant prints the request: a PDF/A summary with the patient, the
/// question and the history, headed by the region's name as the administrator
/// set it. The conclusion printed for the same region carries the full address
/// of the verification page and СНИЛС in its printed form.
async fn request_summary(backend: BackendKind) {
    let app = TestApp::spawn_custom(backend, |mut svc| {
        svc.public_url = Some("https://rtms.example.ru/".into());
        svc
    })
    .await;
    let admin = app.login("admin").await;
    app.change_settings(
        &admin,
        json!({"region_name": "Министерство здравоохранения Н-ской области"}),
    )
    .await;

    let id = in_progress(&app, &["consultant"]).await;
    let consultant = app.login("consultant").await;
    let r = fetch(
        &app,
        &consultant,
        &format!("/api/v1/consultations/{id}/summary.pdf"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let text = pdftotext(&r.bytes().await.unwrap());
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Министерство здравоохранения Н-ской области",
        "Тестов Семён Ильич",
        "112-233-445 95",
        "I21.0",
        "Показан ли перевод в региональный сосудистый центр?",
        "Боли за грудиной с 6 утра.",
        "ЧСС 104",
        "Кардиология",
    ] {
        assert!(
            flat.to_lowercase().contains(&expected.to_lowercase()),
            "{expected:?} not in {flat}"
        );
    }
    // Another organization's doctor gets nothing.
    let stranger = app.login("doctor2").await;
    assert_eq!(
        fetch(
            &app,
            &stranger,
            &format!("/api/v1/consultations/{id}/summary.pdf")
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );

    app.act(&consultant, id, "sign", json!({})).await;
    let doctor = app.login("doctor").await;
    let pdf = fetch(
        &app,
        &doctor,
        &format!("/api/v1/consultations/{id}/conclusion/pdf"),
    )
    .await
    .bytes()
    .await
    .unwrap();
    let flat = pdftotext(&pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("https://rtms.example.ru/verify"), "{flat}");
    assert!(
        flat.contains("Министерство здравоохранения Н-ской области"),
        "{flat}"
    );
    assert!(flat.contains("112-233-445 95"), "{flat}");
    app.stop().await;
}
both_backends!(printable_request_summary, super::request_summary);

/// A detached CMS signature of `pdf` by a fresh certificate of `key_args`.
fn cms_sign(dir: &std::path::Path, pdf: &[u8], key_args: &[&str], md: &str) -> Vec<u8> {
    std::fs::write(dir.join("doc.pdf"), pdf).unwrap();
    let mut args = vec!["req", "-x509", "-nodes", "-days", "30", "-subj"];
    args.push("/CN=Смирнов Андрей Викторович/O=ОКБ");
    args.extend(["-utf8", "-keyout", "key.pem", "-out", "cert.pem"]);
    args.extend(key_args);
    openssl(dir, &args);
    openssl(
        dir,
        &[
            "cms", "-sign", "-binary", "-in", "doc.pdf", "-signer", "cert.pem", "-inkey",
            "key.pem", "-md", md, "-outform", "DER", "-out", "doc.p7s",
        ],
    );
    std::fs::read(dir.join("doc.p7s")).unwrap()
}

/// A certification authority `name` (its certificate `name.pem`, key `name.key`).
fn make_ca(dir: &std::path::Path, name: &str, subject: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-nodes",
            "-days",
            "30",
            "-newkey",
            "rsa:2048",
            "-utf8",
            "-subj",
            subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// A detached CMS signature of `pdf` by a fresh certificate issued by the CA `ca`.
fn cms_sign_issued(dir: &std::path::Path, pdf: &[u8], ca: &str) -> Vec<u8> {
    std::fs::write(dir.join("doc.pdf"), pdf).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-utf8",
            "-subj",
            "/CN=Смирнов Андрей Викторович/O=ОКБ",
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
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "cert.pem",
        ],
    );
    openssl(
        dir,
        &[
            "cms", "-sign", "-binary", "-in", "doc.pdf", "-signer", "cert.pem", "-inkey",
            "key.pem", "-md", "sha256", "-outform", "DER", "-out", "doc.p7s",
        ],
    );
    std::fs::read(dir.join("doc.p7s")).unwrap()
}

/// The consultant signs the downloaded PDF with their own certificate and
/// attaches the signature. Integrity, trust and time are told apart: a
/// self-signed certificate's signature is mathematically sound but not
/// trusted (never "valid"); one by a certificate of the configured root is
/// valid; one by a certificate forged in the root's name is not trusted. A
/// signature of another file or a file that is no signature is refused in
/// words; an algorithm not checked here is kept as such; only a signer may
/// attach one.
/// The demo consultant's СНИЛС and names (the sixth demo user, demo.rs);
/// checked against the database once the server runs.
fn demo_identity() -> (String, String, String, String) {
    (
        rtms_service::seed::demo::demo_snils(6),
        "Смирнов".into(),
        "Алексей".into(),
        "Викторович".into(),
    )
}

async fn signers_own_signatures(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let roots_dir = tempfile::tempdir().unwrap();
    make_ca(dir.path(), "ca", "/CN=Доверенный УЦ/O=Минздрав");
    std::fs::copy(dir.path().join("ca.pem"), roots_dir.path().join("ca.pem")).unwrap();
    // An accredited ГОСТ CA with its revocation list: three certificates for
    // the consultant (one revoked), one for somebody else's СНИЛС.
    let gost_dir = tempfile::tempdir().unwrap();
    let mut gost = Pki::new(gost_dir.path(), "Test UC GOST", Alg::Gost);
    let (snils, last, first, middle) = demo_identity();
    let given = format!("{first} {middle}");
    let full = format!("{last} {given}");
    let good = gost.issue(&full, &last, &given, &snils, None);
    let revoked = gost.issue(&full, &last, &given, &snils, None);
    gost.revoke(&revoked);
    let stranger = gost.issue(&full, &last, &given, "12345678964", None);
    std::fs::write(roots_dir.path().join("gost-uc.crt"), gost.ca_pem()).unwrap();
    std::fs::write(roots_dir.path().join("gost-uc.crl"), gost.crl()).unwrap();
    let roots = rtms_service::documents::TrustRoots::from_dir(roots_dir.path()).unwrap();
    assert_eq!((roots.len(), roots.crl_count()), (2, 1));
    let app = TestApp::spawn_custom(backend, move |svc| svc.with_trust_roots(roots)).await;
    let id = in_progress(&app, &["consultant"]).await;
    let consultant = app.login("consultant").await;
    let admin = app.login("admin").await;
    let users = app.get(&admin, "/api/v1/admin/users").await;
    let me = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "consultant")
        .unwrap();
    assert_eq!(
        (&me["snils"], &me["last_name"], &me["first_name"]),
        (&json!(snils), &json!(last), &json!(first)),
        "the demo consultant's identity"
    );
    app.act(&consultant, id, "sign", json!({})).await;
    let pdf = fetch(
        &app,
        &consultant,
        &format!("/api/v1/consultations/{id}/conclusion/pdf"),
    )
    .await
    .bytes()
    .await
    .unwrap()
    .to_vec();
    let path = format!("/api/v1/consultations/{id}/conclusion/signatures");
    let post = |token: String, body: Vec<u8>| {
        let app = &app;
        let path = path.clone();
        async move {
            let r = app
                .client
                .post(format!("{}{path}", app.base))
                .bearer_auth(token)
                .header("content-type", "application/pkcs7-signature")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let rsa = cms_sign(dir.path(), &pdf, &["-newkey", "rsa:2048"], "sha256");
    let (s, v) = post(consultant.clone(), rsa.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Self-signed: the mathematics holds, nobody vouches for the certificate.
    assert_eq!(v["status"], "untrusted", "{v}");
    assert_eq!(v["integrity"], "ok", "{v}");
    assert_eq!(v["trust"], "unknown_root", "{v}");
    assert_eq!(v["time_validity"], "valid_at_signing", "{v}");
    assert!(v["signed_at"].is_string(), "{v}");
    assert_eq!(v["algorithm"], "RSA/SHA-256");
    assert_eq!(v["signer"], "Смирнов Андрей Викторович");

    let ec = cms_sign(
        dir.path(),
        &pdf,
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "sha256",
    );
    let (s, v) = post(consultant.clone(), ec).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["algorithm"].as_str()),
        (Some("untrusted"), Some("ECDSA/SHA-256"))
    );

    // A signature of something else: refused, with what to do.
    let mut other = pdf.clone();
    other.extend_from_slice(b"\n% changed");
    let wrong = cms_sign(dir.path(), &other, &["-newkey", "rsa:2048"], "sha256");
    let (s, v) = post(consultant.clone(), wrong).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v.to_string().contains("не соответствует этому документу"),
        "{v}"
    );
    let (s, v) = post(consultant.clone(), b"not a signature".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("открепленную подпись"), "{v}");

    // SHA-1 is not checked here: kept, and said so.
    let old = cms_sign(dir.path(), &pdf, &["-newkey", "rsa:2048"], "sha1");
    let (s, v) = post(consultant.clone(), old).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["status"], "unsupported");

    // Issued by a configured root that published no revocation list, to a
    // certificate without СНИЛС: sound and trusted, but not valid.
    let issued = cms_sign_issued(dir.path(), &pdf, "ca");
    let (s, v) = post(consultant.clone(), issued).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (
            v["status"].as_str(),
            v["integrity"].as_str(),
            v["trust"].as_str(),
            v["revocation"].as_str(),
            v["signer_match"].as_str()
        ),
        (
            Some("untrusted"),
            Some("ok"),
            Some("trusted"),
            Some("unknown"),
            Some("unknown")
        ),
        "{v}"
    );
    // ГОСТ Р 34.10-2012 by the consultant's own certificate of the
    // accredited CA, not revoked: valid on every count.
    let (s, v) = post(consultant.clone(), gost.sign(&good, &pdf)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let verdicts = |v: &Value| {
        [
            "status",
            "integrity",
            "trust",
            "time_validity",
            "revocation",
            "signer_match",
        ]
        .map(|k| v[k].as_str().unwrap_or("-").to_string())
    };
    assert_eq!(
        verdicts(&v),
        [
            "valid",
            "ok",
            "trusted",
            "valid_at_signing",
            "not_revoked",
            "matches"
        ],
        "{v}"
    );
    assert_eq!(v["algorithm"], "ГОСТ Р 34.10-2012 (512)");
    // Revoked by the CA: everything else holds, not valid.
    let (s, v) = post(consultant.clone(), gost.sign(&revoked, &pdf)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        verdicts(&v),
        [
            "untrusted",
            "ok",
            "trusted",
            "valid_at_signing",
            "revoked",
            "matches"
        ],
        "{v}"
    );
    // A real certificate of somebody else's СНИЛС: not the consultant's signature.
    let (s, v) = post(consultant.clone(), gost.sign(&stranger, &pdf)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        verdicts(&v),
        [
            "untrusted",
            "ok",
            "trusted",
            "valid_at_signing",
            "not_revoked",
            "mismatch"
        ],
        "{v}"
    );
    // A ГОСТ signature of another document: refused like any other.
    let (s, _) = post(consultant.clone(), gost.sign(&good, &other)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A CA of the same name made by someone else: the link does not hold.
    let forger = tempfile::tempdir().unwrap();
    make_ca(forger.path(), "ca", "/CN=Доверенный УЦ/O=Минздрав");
    let forged = cms_sign_issued(forger.path(), &pdf, "ca");
    let (s, v) = post(consultant.clone(), forged).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["trust"].as_str()),
        (Some("untrusted"), Some("untrusted")),
        "{v}"
    );

    // The doctor is no signer; everyone who reads the conclusion sees the list.
    let doctor = app.login("doctor").await;
    let (s, _) = post(doctor.clone(), rsa).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let list = app.get(&doctor, &path).await;
    let statuses: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "untrusted",
            "untrusted",
            "unsupported",
            "untrusted",
            "valid",
            "untrusted",
            "untrusted",
            "untrusted"
        ]
    );
    let cookie = app.ui_login("doctor").await;
    let html = app
        .page(Method::GET, &format!("/requests/{id}"), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"cms-signatures\""));
    // Each signature with its verdicts, apart.
    assert!(html.contains("подпись действительна: все проверки ниже пройдены"));
    assert!(html.contains("сертификат отозван удостоверяющим центром"));
    assert!(html.contains("сертификат выдан другому лицу"));
    assert!(html.contains("сертификат выдан не доверенным удостоверяющим центром"));
    assert!(html.contains("отзыв не проверен: нет списка отзыва"));
    // Anyone holding the PDF sees the same verdicts at /verify, in either language.
    for (lang, says) in [
        (
            "ru",
            [
                "сертификат выдан этому пользователю",
                "сертификат отозван удостоверяющим центром",
            ],
        ),
        (
            "en",
            [
                "the certificate was issued to this user",
                "the certificate was revoked by its authority",
            ],
        ),
    ] {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pdf.clone()).file_name("conclusion.pdf"),
        );
        let html = app
            .browser
            .post(format!("{}/verify", app.base))
            .header("Accept-Language", lang)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"cms-signatures\""), "{lang}");
        for text in says {
            assert!(html.contains(text), "{lang}: {text}");
        }
        if lang == "en" {
            assert!(html.contains("GOST R 34.10-2012 (512)") && !html.contains("ГОСТ Р"));
        }
    }
    app.stop().await;
}
both_backends!(signers_own_cms_signatures, super::signers_own_signatures);

/// A signed conclusion is corrected: a new version referencing the original,
/// signed again; the doctor reads the original until the correction is signed,
/// then the new one, and both documents stay downloadable and verify.
async fn correction(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let id = in_progress(&app, &["consultant"]).await;
    let consultant = app.login("consultant").await;
    let doctor = app.login("doctor").await;
    app.act(&consultant, id, "sign", json!({})).await;
    app.act(&doctor, id, "acknowledge", json!({})).await;
    let pdf = |version: Option<i32>| {
        let app = &app;
        let doctor = doctor.clone();
        async move {
            let q = version.map(|v| format!("?version={v}")).unwrap_or_default();
            let r = fetch(
                app,
                &doctor,
                &format!("/api/v1/consultations/{id}/conclusion/pdf{q}"),
            )
            .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.bytes().await.unwrap().to_vec()
        }
    };
    let original = pdf(None).await;
    let first = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/conclusion"))
        .await;

    // Only a member opens it, with a reason; the request stays closed.
    let path = format!("/api/v1/consultations/{id}/conclusion/correction");
    let (s, _) = app
        .call(
            Some(&doctor),
            Method::POST,
            &path,
            Some(json!({"comment": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = app
        .call(
            Some(&consultant),
            Method::POST,
            &path,
            Some(json!({"comment": " "})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, draft) = app
        .call(
            Some(&consultant),
            Method::POST,
            &path,
            Some(json!({"comment": "Опечатка в рекомендациях"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{draft}");
    assert_eq!(draft["version"], 2);
    assert_eq!(draft["supersedes_id"], first["id"]);
    let (s, body) = app
        .call(
            Some(&consultant),
            Method::POST,
            &path,
            Some(json!({"comment": "ещё"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "one open correction: {body}");
    let (s, body) = app
        .call(
            Some(&consultant),
            Method::PUT,
            &format!("/api/v1/consultations/{id}/conclusion"),
            Some(json!({
                "diagnosis_main": "I21.0",
                "findings": "По данным ЭКГ — подъём ST в V1–V4.",
                "recommendations": "Перевод в региональный сосудистый центр в течение 2 часов.",
                "patient_condition": "3",
            })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // Meanwhile the doctor still reads the signed version, and its document.
    let now = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/conclusion"))
        .await;
    assert_eq!(now["version"], 1);
    assert_eq!(pdf(None).await, original);
    let status = app
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await["status"]
        .clone();
    assert_eq!(status, "closed");

    let (s, body) = app
        .call(
            Some(&consultant),
            Method::POST,
            &format!("{path}/sign"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let now = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/conclusion"))
        .await;
    assert_eq!(now["version"], 2);
    assert!(now["recommendations"]
        .as_str()
        .unwrap()
        .contains("в течение 2 часов"));
    let list = app.get(&doctor, "/api/v1/notifications").await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["consultation_id"] == id && n["kind"] == "conclusion_corrected"),
        "{list}"
    );
    let corrected = pdf(None).await;
    assert_ne!(corrected, original);
    let flat = pdftotext(&corrected)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("Исправленная версия 2"), "{flat}");
    assert!(flat.contains("Заменяет версию 1"), "{flat}");
    assert!(flat.contains("в течение 2 часов"), "{flat}");
    assert_eq!(pdf(Some(1)).await, original, "the original stays as issued");
    assert_eq!(pdf(Some(2)).await, corrected);
    for doc in [original, corrected] {
        let v = verify_online(&app, doc).await;
        assert_eq!(v["valid"], true, "{v}");
    }
    let events = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/events"))
        .await;
    let text = events.to_string();
    assert!(text.contains("Опечатка в рекомендациях"), "{text}");
    assert!(text.contains("Исправление подписано"), "{text}");
    app.stop().await;
}
both_backends!(a_correction_is_a_new_version, super::correction);

/// A POST that announces `length` bytes and sends none of them: the answer
/// must come from the announcement alone. (status line, body)
async fn announce_only(
    app: &TestApp,
    path: &str,
    content_type: &str,
    length: usize,
) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\nContent-Type: {content_type}\r\nAccept-Language: ru\r\nContent-Length: {length}\r\n\r\n",
        app.base
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    // Up to the end of the answer's body (the server closes, or it is all here).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&got);
            if let Some((h, b)) = text.split_once("\r\n\r\n") {
                let len = h
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_string)
                    })
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if len.is_some_and(|n| b.len() >= n) {
                    break;
                }
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// The public verification takes no more than its named limit (20 MiB),
/// refused on the announced length before a byte is read, or while the body
/// streams in, with a clear answer; and one address may not post to it
/// without pause.
async fn verify_limits(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let limit = rtms_web::limits::VERIFY_MAX_BYTES;
    // The API and the page, announcing a PDF past the limit.
    let (status, body) = announce_only(&app, "/api/v1/verify", "application/pdf", limit + 1).await;
    assert!(status.contains("413"), "{status}: {body}");
    assert!(body.contains("не больше 20 МБ"), "{body}");
    let (status, body) = announce_only(
        &app,
        "/verify",
        "multipart/form-data; boundary=x",
        limit + rtms_web::limits::FORM_OVERHEAD_BYTES + 1,
    )
    .await;
    assert!(status.contains("413"), "{status}: {body}");
    assert!(body.contains("Файл больше 20 МБ"), "{body}");
    // Streamed without a length: cut at the limit.
    let big = vec![b'%'; limit + (1 << 20)];
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(1 << 20).map(|c| Ok(c.to_vec())).collect();
    let r = app
        .client
        .post(format!("{}/api/v1/verify", app.base))
        .header("Content-Type", "application/pdf")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    // A small PDF is answered as before, until the address has posted too often.
    let mut limited = None;
    // A client of its own: the one above may keep a connection the server
    // closed after refusing the streamed body.
    let client = reqwest::Client::new();
    for n in 0..rtms_web::limits::PUBLIC_POST_BURST + 2 {
        let r = client
            .post(format!("{}/api/v1/verify", app.base))
            .header("Content-Type", "application/pdf")
            .header("Accept-Language", "ru")
            .body(b"%PDF-1.7 not ours".to_vec())
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((n, r));
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (n, r) = limited.expect("an address is limited");
    assert!(n + 3 >= rtms_web::limits::PUBLIC_POST_BURST, "after {n}");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = r.json().await.unwrap();
    assert!(
        body["title"].as_str().unwrap().contains("Слишком много"),
        "{body}"
    );
    // The page is limited too, and says so.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"%PDF-1.7".to_vec()).file_name("c.pdf"),
    );
    let r = app
        .browser
        .post(format!("{}/verify", app.base))
        .header("Accept-Language", "ru")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("Повторите через"));
}
both_backends!(verify_is_capped_and_rate_limited, super::verify_limits);
/// The document is what was signed: data changed after the last signature
/// (the patient's name, the signer's name, the region's name) does not reach
/// the PDF, which is fixed and stored at signing and still verifies. The
/// seal's secret key is nowhere in the database.
async fn fixed_at_signing(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let id = in_progress(&app, &["consultant"]).await;
    let consultant = app.login("consultant").await;
    app.act(&consultant, id, "sign", json!({})).await;
    // Someone changes the data right after the signature, before anyone downloads.
    let db = rtms_store::Db::connect(&app.db.url, 1).unwrap();
    db.write(|c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&format!(
            "UPDATE consultations SET clinical = REPLACE(clinical, 'Тестов', 'Подменов') WHERE id = {id};
             UPDATE users SET last_name = 'Подставной' WHERE last_name = 'Смирнов';"
        ))
        .map_err(rtms_store::StoreError::from)
    })
    .unwrap();
    let doctor = app.login("doctor").await;
    let r = fetch(
        &app,
        &doctor,
        &format!("/api/v1/consultations/{id}/conclusion/pdf"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = r.bytes().await.unwrap().to_vec();
    let text = pdftotext(&pdf);
    assert!(text.contains("Тестов Семён Ильич"), "{text}");
    assert!(text.contains("Смирнов"), "{text}");
    assert!(
        !text.contains("Подменов"),
        "data changed after signing: {text}"
    );
    assert!(
        !text.contains("Подставной"),
        "data changed after signing: {text}"
    );
    let v = verify_online(&app, pdf.clone()).await;
    assert_eq!(v["valid"], true, "{v}");
    let held: Option<String> = db
        .read(|c| rtms_store::repo::setting(c, "seal.secret_key"))
        .unwrap();
    assert_eq!(held, None, "the seal key is not kept in the database");
    app.stop().await;
}
both_backends!(the_document_is_fixed_at_signing, super::fixed_at_signing);

/// A seal key an earlier version kept in the database moves to its own file
/// (mode 0600) on start and leaves the database; documents it sealed keep
/// verifying with the same key.
async fn seal_key_moves_out(backend: BackendKind) {
    let db = TestApp::seeded_database(backend).await;
    let old = "07".repeat(32);
    rtms_store::Db::connect(&db.url, 1)
        .unwrap()
        .write(|c| rtms_store::repo::set_setting(c, "seal.secret_key", &old))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("seal.key");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["--database-url", &db.url, "--seal-key-file"])
        .arg(&key_file)
        .args(["--audit-key-file"])
        .arg(dir.path().join("audit.key"))
        .args(["admin", "orgs"])
        .env("RTMS_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), old);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let held: Option<String> = rtms_store::Db::connect(&db.url, 1)
        .unwrap()
        .read(|c| rtms_store::repo::setting(c, "seal.secret_key"))
        .unwrap();
    assert_eq!(held, None);
    // A key file others may read is refused, in words.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rtms"))
            .args(["--database-url", &db.url, "--seal-key-file"])
            .arg(&key_file)
            .args(["--audit-key-file"])
            .arg(dir.path().join("audit.key"))
            .args(["admin", "orgs"])
            .env("RTMS_DATA_DIR", dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("make it 0600"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
both_backends!(
    a_seal_key_in_the_database_moves_to_its_file,
    super::seal_key_moves_out
);

// ---- СЭМД «Протокол консультации» (ред. 7) ----------------------------------

/// A request of `form` with `patient` (merged over the complete one) driven to
/// an in-progress consultation of `consultants` with `conclusion` written;
/// returns its id.
async fn written_with(
    app: &TestApp,
    form: &str,
    patient: Value,
    consultants: &[&str],
    conclusion: Value,
) -> i64 {
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let mut body = complete_request(form);
    for (k, v) in patient.as_object().unwrap() {
        body["patient"][k] = v.clone();
    }
    let id = app.create(&doctor, body).await;
    let (s, b) = app
        .call(
            Some(&doctor),
            Method::POST,
            &format!("/api/v1/consultations/{id}/actions/submit"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "submit: {b}");
    // An emergency goes straight to the consultant on duty by the route table.
    if b["status"] != "assigned" {
        app.act(&dispatcher, id, "take", json!({})).await;
        let mut ids = Vec::new();
        for c in consultants {
            let t = app.login(c).await;
            ids.push(app.get(&t, "/api/v1/me").await["id"].as_i64().unwrap());
        }
        app.act(&dispatcher, id, "assign", json!({"consultant_ids": ids}))
            .await;
    }
    let first = app.login(consultants[0]).await;
    app.act(&first, id, "accept", json!({})).await;
    app.act(&first, id, "start", json!({})).await;
    let (s, b) = app
        .call(
            Some(&first),
            Method::PUT,
            &format!("/api/v1/consultations/{id}/conclusion"),
            Some(conclusion),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    id
}

/// The same, signed by every consultant.
async fn signed_with(
    app: &TestApp,
    form: &str,
    patient: Value,
    consultants: &[&str],
    conclusion: Value,
) -> i64 {
    let id = written_with(app, form, patient, consultants, conclusion).await;
    for c in consultants {
        let t = app.login(c).await;
        app.act(&t, id, "sign", json!({})).await;
    }
    id
}

/// The stored СЭМД as the doctor downloads it; checks what the headers promise.
async fn semd_of(app: &TestApp, id: i64, query: &str) -> String {
    let doctor = app.login("doctor").await;
    let r = fetch(
        app,
        &doctor,
        &format!("/api/v1/consultations/{id}/semd{query}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    let sha = r.headers()["x-content-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    let xml = r.text().await.unwrap();
    assert_eq!(
        sha,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(xml.as_bytes())),
        "the header names the SHA-256 of the bytes served"
    );
    xml
}

fn conclusion(findings: &str, recommendations: &str, condition: &str) -> Value {
    json!({
        "diagnosis_main": "I21.0",
        "diagnosis_text": "Острый трансмуральный инфаркт передней стенки миокарда",
        "findings": findings,
        "recommendations": recommendations,
        "patient_condition": condition,
    })
}

/// Runs a project Python tool (scripts/…) with the test environment's Python
/// (`RTMS_SEMD_PYTHON`, made by scripts/python-env.sh); its output and success.
fn python_tool(script: &str, files: &[std::path::PathBuf]) -> (bool, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var("RTMS_SEMD_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(root.join("scripts").join(script))
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("{python} {script}: {e} (run scripts/python-env.sh)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every signed conclusion has its СЭМД 290, and every one passes the
/// official XSD and Schematron v1.7 (as РЭМД checks them) and the guide's
/// field→XPath checklist: every form of care, a consilium, a patient the
/// emergency team could not identify, long Russian text with markup
/// characters, and a corrected version; the Ministry's own example is run
/// in the same batch as a control.
async fn semd_documents(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    add_colleague(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut keep = |name: &str, xml: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, xml).unwrap();
        files.push(p);
    };
    let passport = json!({
        "id_doc_type": "1", "id_doc_series": "4509", "id_doc_number": "395643",
        "id_doc_issuer": "Отделом УФМС России по Заречному району", "id_doc_issued": "18.02.2005",
        "oms_policy_type": "2"
    });

    for (form, condition) in [("planned", "1"), ("urgent", "2"), ("emergency", "4")] {
        let id = signed_with(
            &app,
            form,
            passport.clone(),
            &["consultant"],
            conclusion("Подъём ST в V1–V4.", "Перевод в РСЦ.", condition),
        )
        .await;
        let xml = semd_of(&app, id, "").await;
        assert!(xml.contains(r#"<templateId root="1.2.643.5.1.13.13.15.13.7"/>"#));
        assert!(xml.contains(r#"<code code="290""#), "the kind of document");
        assert!(
            xml.contains(r#"extension="11223344595""#),
            "the patient's СНИЛС"
        );
        assert!(xml.contains("<identity:Number>395643</identity:Number>"));
        assert!(xml.contains(r#"code="I21.0""#), "the diagnosis");
        assert!(
            xml.contains(r#"code="8" codeSystem="1.2.643.5.1.13.13.11.1008""#),
            "remote"
        );
        let form_code = match form {
            "planned" => "1",
            "emergency" => "2",
            _ => "3",
        };
        assert!(
            xml.contains(&format!(
                r#"<medService:serviceForm code="{form_code}" codeSystem="1.2.643.5.1.13.13.11.1551""#
            )),
            "{form}"
        );
        assert!(xml.contains(&format!(
            r#"code="{condition}" codeSystem="1.2.643.5.1.13.13.11.1006""#
        )));
        keep(&format!("form-{form}.xml"), &xml);
        let info = app
            .get(
                &app.login("doctor").await,
                &format!("/api/v1/consultations/{id}/semd/info"),
            )
            .await;
        assert_eq!(info["status"], "created", "{info}");
        assert_eq!(info["version"], 1);
    }

    // A consilium: both consultants take part (performers), one writes.
    let id = signed_with(
        &app,
        "planned",
        json!({}),
        &["consultant", "cardio2"],
        conclusion("Коллегиальное решение.", "Коронарография.", "2"),
    )
    .await;
    let xml = semd_of(&app, id, "").await;
    assert_eq!(xml.matches(r#"<performer typeCode="PPRF">"#).count(), 2);
    assert!(xml.contains("<family>Григорьев</family>"));
    keep("consilium.xml", &xml);

    // An emergency patient nobody could identify yet: no name, no СНИЛС, no
    // policy, no document — written as not given, never invented.
    let id = signed_with(
        &app,
        "emergency",
        json!({
            "last_name": "", "first_name": "", "middle_name": "", "birth_date": null,
            "sex": "unknown", "snils": null, "oms_policy": null, "address": "",
            "unidentified": true, "description": "Мужчина около 60 лет, доставлен СМП с улицы"
        }),
        &["consultant"],
        conclusion("Подъём ST.", "Перевод в РСЦ.", "4"),
    )
    .await;
    let xml = semd_of(&app, id, "").await;
    assert!(xml.contains(r#"<family nullFlavor="UNK"/>"#));
    assert!(xml.contains(r#"<identity:IdentityDoc nullFlavor="NI"/>"#));
    assert!(!xml.contains(r#"root="1.2.643.100.3" extension="11223344595""#));
    keep("unidentified.xml", &xml);

    // Long Russian text with quotes, <, &, line breaks and a tab survives
    // exactly (read back as text).
    let para = "Пациент осмотрен дистанционно: «давящие» боли > 2 этажей, АД < 140/90 & ЧСС 104; \"ночные\" эпизоды.\n";
    let long = format!("{}\tКонец.", para.repeat(60));
    let id = signed_with(
        &app,
        "planned",
        json!({}),
        &["consultant"],
        conclusion(&long, &format!("Рекомендации:\n{long}"), "2"),
    )
    .await;
    let xml = semd_of(&app, id, "").await;
    assert!(xml.contains("АД &lt; 140/90 &amp; ЧСС 104"));
    assert!(
        xml.contains("&#10;"),
        "line breaks kept as character references"
    );
    keep("long.xml", &xml);

    // A correction: version 2 is a new document of the same set.
    let consultant = app.login("consultant").await;
    let (s, b) = app
        .call(
            Some(&consultant),
            Method::POST,
            &format!("/api/v1/consultations/{id}/conclusion/correction"),
            Some(json!({"comment": "Уточнение рекомендаций"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .call(
            Some(&consultant),
            Method::POST,
            &format!("/api/v1/consultations/{id}/conclusion/correction/sign"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v2 = semd_of(&app, id, "").await;
    let v1 = semd_of(&app, id, "?version=1").await;
    let set_of = |x: &str| {
        x.split("<setId ")
            .nth(1)
            .unwrap()
            .split("/>")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(set_of(&v1), set_of(&v2), "one set of versions");
    assert!(v2.contains(r#"<versionNumber value="2"/>"#));
    assert_eq!(v1, xml, "version 1 is kept unchanged");
    keep("correction-v2.xml", &v2);

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut batch = files.clone();
    batch.push(root.join("reference/semd-290/xml/example.xml"));
    let (ok, out) = python_tool("semd-validate.py", &batch);
    assert!(ok, "XSD + Schematron:\n{out}");
    assert!(
        out.contains(&format!("{} passed, 0 failed", batch.len())),
        "{out}"
    );
    let (ok, out) = python_tool("semd-checklist.py", &batch);
    assert!(ok, "the guide's field→XPath checklist:\n{out}");
}
both_backends!(
    every_signed_conclusion_has_a_valid_semd,
    super::semd_documents
);

/// The validator in the test command really fails a broken document (the
/// control that the check above can fail).
#[test]
fn the_validator_refuses_a_document_without_its_title() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let example = std::fs::read_to_string(root.join("reference/semd-290/xml/example.xml")).unwrap();
    let start = example.find("<title>").unwrap();
    let end = example.find("</title>").unwrap() + "</title>".len();
    let broken = format!("{}{}", &example[..start], &example[end..]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("no-title.xml");
    std::fs::write(&p, broken).unwrap();
    let (ok, out) = python_tool("semd-validate.py", &[p]);
    assert!(!ok, "{out}");
    assert!(out.contains("0 passed, 1 failed"), "{out}");
}

/// What the document needs of the staff is asked for before it is missing
/// at 3 a.m.: a consultant without СНИЛС cannot sign while the region
/// requires the СЭМД (the refusal says what to do); with the СНИЛС entered the
/// same signature goes through. A region that switches the requirement off
/// gets its conclusions signed and no СЭМД for them (409 says why).
async fn semd_needs_staff_data(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let admin = app.login("admin").await;
    let consultant = app.login("consultant").await;
    let me = app.get(&consultant, "/api/v1/me").await;
    let uid = me["id"].as_i64().unwrap();
    let users = app.get(&admin, "/api/v1/admin/users").await;
    let card = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == uid)
        .unwrap()
        .clone();
    assert_eq!(card["position_code"], "34");
    let update = |snils: Value| {
        json!({
            "last_name": card["last_name"], "first_name": card["first_name"],
            "middle_name": card["middle_name"], "position": card["position"],
            "phone": card["phone"], "email": card["email"], "active": true,
            "profiles": card["profiles"], "position_code": "34", "snils": snils,
        })
    };
    let (s, b) = app
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/admin/users/{uid}"),
            Some(update(json!(""))),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");

    let id = in_progress(&app, &["consultant"]).await;
    let (s, body) = app.act_status(&consultant, id, "sign", json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("СНИЛС"), "{body}");
    // Nothing was signed.
    let k = app
        .get(
            &consultant,
            &format!("/api/v1/consultations/{id}/conclusion"),
        )
        .await;
    assert!(k["signed_at"].is_null(), "{k}");

    let (s, b) = app
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/admin/users/{uid}"),
            Some(update(json!("112-233-445 95"))),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    app.act(&consultant, id, "sign", json!({})).await;
    let xml = semd_of(&app, id, "").await;
    assert!(xml.contains(r#"<id root="1.2.643.100.3" extension="11223344595"/>"#));

    // The region lets conclusions be signed without one.
    let mut settings = app.get(&admin, "/api/v1/admin/settings").await;
    assert_eq!(settings["semd_required"], true);
    settings["semd_required"] = json!(false);
    let (s, b) = app
        .call(
            Some(&admin),
            Method::PUT,
            "/api/v1/admin/settings",
            Some(settings),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    app.call(
        Some(&admin),
        Method::PUT,
        &format!("/api/v1/admin/users/{uid}"),
        Some(update(json!(""))),
    )
    .await;
    let id = in_progress(&app, &["consultant"]).await;
    app.act(&consultant, id, "sign", json!({})).await;
    let doctor = app.login("doctor").await;
    let r = fetch(&app, &doctor, &format!("/api/v1/consultations/{id}/semd")).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert!(body["title"].as_str().unwrap().contains("СЭМД"), "{body}");
}
both_backends!(
    semd_needs_the_staff_data_it_names,
    super::semd_needs_staff_data
);

/// The consultant's own signature over the СЭМД covers its exact stored
/// bytes: one over the XML is kept (target `semd`) and moves the document to
/// `signed`; the same signature offered as one of the PDF is refused.
async fn semd_signed_by_the_consultant(backend: BackendKind) {
    // The consultant's УКЭП: ГОСТ Р 34.10-2012 by an accredited CA with its list.
    let gost_dir = tempfile::tempdir().unwrap();
    let mut gost = Pki::new(gost_dir.path(), "Test UC GOST", Alg::Gost);
    let (snils, last, first, middle) = demo_identity();
    let given = format!("{first} {middle}");
    let signer = gost.issue(&format!("{last} {given}"), &last, &given, &snils, None);
    let roots_dir = tempfile::tempdir().unwrap();
    std::fs::write(roots_dir.path().join("uc.crt"), gost.ca_pem()).unwrap();
    std::fs::write(roots_dir.path().join("uc.crl"), gost.crl()).unwrap();
    let roots = rtms_service::documents::TrustRoots::from_dir(roots_dir.path()).unwrap();
    let app = TestApp::spawn_custom(backend, move |svc| svc.with_trust_roots(roots)).await;
    let id = in_progress(&app, &["consultant"]).await;
    let consultant = app.login("consultant").await;
    app.act(&consultant, id, "sign", json!({})).await;
    let xml = semd_of(&app, id, "").await;
    let sig = gost.sign(&signer, xml.as_bytes());
    let post = |target: &str| {
        let (app, consultant, sig) = (&app, consultant.clone(), sig.clone());
        let path = format!("/api/v1/consultations/{id}/conclusion/signatures?target={target}");
        async move {
            let r = app
                .client
                .post(format!("{}{path}", app.base))
                .bearer_auth(consultant)
                .header("content-type", "application/pkcs7-signature")
                .body(sig)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = post("pdf").await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a signature of the PDF: {v}"
    );
    let info = app
        .get(
            &consultant,
            &format!("/api/v1/consultations/{id}/semd/info"),
        )
        .await;
    assert_eq!(info["status"], "created");
    let (s, v) = post("semd").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["target"], "semd");
    assert_eq!(v["status"], "valid", "{v}");
    assert_eq!(v["algorithm"], "ГОСТ Р 34.10-2012 (512)", "{v}");
    let info = app
        .get(
            &consultant,
            &format!("/api/v1/consultations/{id}/semd/info"),
        )
        .await;
    assert_eq!(info["status"], "signed", "{info}");
    let (s, v) = post("xml").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}
both_backends!(
    a_signature_over_the_semd_covers_its_bytes,
    super::semd_signed_by_the_consultant
);
