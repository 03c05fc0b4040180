//! The conclusion document as the doctor receives it: a PDF with the patient
//! and the diagnosis in it, sealed by the server, verifiable online and
//! offline; one changed byte fails; a consilium's document waits for everyone.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use rtms_store::BackendKind;
use serde_json::{json, Value};

/// Drives a request to an in-progress consultation with the given consultants
/// and a written conclusion; returns its id.
async fn in_progress(app: &TestApp, consultants: &[&str]) -> i64 {
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    app.act(&dispatcher, id, "take", json!({})).await;
    let mut ids = Vec::new();
    for c in consultants {
        let t = app.login(c).await;
        ids.push(app.get(&t, "/api/v1/me").await["id"].as_i64().unwrap());
    }
    app.act(&dispatcher, id, "assign", json!({"consultant_ids": ids}))
        .await;
    let first = app.login(consultants[0]).await;
    // One acceptance moves the request on; the others join as they sign.
    app.act(&first, id, "accept", json!({})).await;
    app.act(&first, id, "start", json!({})).await;
    let (s, body) = app
        .call(
            Some(&first),
            Method::PUT,
            &format!("/api/v1/consultations/{id}/conclusion"),
            Some(json!({
                "diagnosis_main": "I21.0",
                "diagnosis_text": "Острый трансмуральный инфаркт передней стенки миокарда",
                "findings": "По данным ЭКГ — подъём ST в V1–V4 (#1 $ * [x]).",
                "recommendations": "Перевод в региональный сосудистый центр.",
            })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    id
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
        let hash = rtms_service::auth::hash_password("rtms-demo-password").unwrap();
        svc.insert_user_with_hash(
            &rtms_service::auth::NewUserSpec {
                login: "cardio2".into(),
                last_name: "Григорьев".into(),
                first_name: "Павел".into(),
                middle_name: "Андреевич".into(),
                position: "Врач-кардиолог".into(),
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
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
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
