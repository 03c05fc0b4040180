//! Escalation across two instances in one test: a regional one on SQLite and a
//! federal one on PostgreSQL. The regional dispatcher escalates; the outbox
//! delivers the case (exactly once, though the federal instance is down at
//! first); the federal consultant concludes; the regional doctor sees the
//! federal conclusion in the case.

mod common;

use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use common::{api_token, complete_request, TestApp};
use reqwest::{Method, StatusCode};
use rtms_service::federal::FederalConfig;
use rtms_service::{ManualClock, Services};
use rtms_store::BackendKind;
use serde_json::{json, Value};

async fn jobs(svc: &Services) -> usize {
    let svc = svc.clone();
    tokio::task::spawn_blocking(move || svc.run_jobs("test", 100).unwrap())
        .await
        .unwrap()
}

/// The federal requests whose patient is ours.
async fn federal_requests(federal: &TestApp, token: &str) -> Vec<Value> {
    let list = federal
        .get(token, "/api/v1/consultations?q=11223344595&per_page=200")
        .await;
    list["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_reaches_the_federal_level_and_comes_back() {
    // The federal level, on PostgreSQL; the region has an account and a token there.
    let federal_db = TestApp::seeded_database(BackendKind::Postgres).await;
    let federal = TestApp::start(federal_db.clone()).await;
    let region_token = api_token(&federal, "doctor", &["read", "write", "fhir"]).await;
    let federal_url = federal.base.clone();

    // The region, on SQLite, with a clock the test moves.
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let slot = Arc::new(Mutex::new(None));
    let keep = slot.clone();
    let regional_db = TestApp::seeded_database(BackendKind::Sqlite).await;
    let region = TestApp::start_custom(regional_db, clock.clone(), move |svc| {
        let svc = svc.with_federal(FederalConfig {
            url: federal_url,
            token: region_token,
        });
        *keep.lock().unwrap() = Some(svc.clone());
        svc
    })
    .await;
    let svc: Services = slot.lock().unwrap().clone().unwrap();

    let doctor = region.login("doctor").await;
    let dispatcher = region.login("dispatcher").await;
    let id = region.create(&doctor, complete_request("planned")).await;
    app_act(&region, &doctor, id, "submit", json!({})).await;
    app_act(&region, &dispatcher, id, "take", json!({})).await;

    // The federal instance is down when the dispatcher escalates.
    let federal_db = federal.stop().await;
    app_act(
        &region,
        &dispatcher,
        id,
        "escalate",
        json!({"reason_code": "no_specialist", "comment": "Нет детского кардиохирурга"}),
    )
    .await;
    assert_eq!(jobs(&svc).await, 1);
    let state = escalation(&region, &dispatcher, id).await;
    assert!(
        state.contains("не доставлен") && state.contains("unreachable"),
        "the dispatcher sees the failure and the next attempt: {state}"
    );

    // Manual mode meanwhile: the dispatcher can take the case out as a package.
    let r = region
        .client
        .get(format!(
            "{}/api/v1/consultations/{id}/package.zip",
            region.base
        ))
        .bearer_auth(&dispatcher)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert!(names.contains(&format!("Запрос № {id}.pdf")), "{names:?}");
    let mut bundle = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("bundle.json").unwrap(), &mut bundle).unwrap();
    let bundle: Value = serde_json::from_str(&bundle).unwrap();
    assert_eq!(
        bundle["entry"][1]["resource"]["resourceType"],
        "ServiceRequest"
    );
    assert_eq!(
        bundle["entry"][2]["resource"]["businessStatus"]["coding"][0]["code"],
        "escalated"
    );
    let (s, _) = region
        .call(
            Some(&doctor),
            Method::GET,
            &format!("/api/v1/consultations/{id}/package.zip"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "dispatchers only");

    // Up again, and time for the retry: delivered. A second attempt (as after a
    // lost answer) does not make a second federal request.
    let federal = TestApp::start(federal_db).await;
    let fed_dispatcher = federal.login("dispatcher").await;
    let url = federal.base.clone();
    assert_eq!(federal_requests(&federal, &fed_dispatcher).await.len(), 0);
    // The federal instance came back on another port: the region is told so.
    let mut svc = svc;
    svc.federal = Some(Arc::new(FederalConfig {
        url,
        token: svc.federal.as_ref().unwrap().token.clone(),
    }));
    clock.advance(Duration::minutes(5));
    jobs(&svc).await;
    let arrived = federal_requests(&federal, &fed_dispatcher).await;
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    let fid = arrived[0]["id"].as_i64().unwrap();
    assert_eq!(
        arrived[0]["status"], "submitted",
        "in the federal dispatcher's queue"
    );
    let state = escalation(&region, &dispatcher, id).await;
    assert!(state.contains("доставлен, ждём ответа"), "{state}");
    assert!(state.contains(&fid.to_string()), "{state}");

    // Not answered yet: a poll finds it open and leaves the region's case escalated.
    clock.advance(Duration::minutes(2));
    jobs(&svc).await;
    let v = region
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(v["status"], "escalated");

    // The federal level answers.
    let consultant = federal.login("consultant").await;
    let me = federal.get(&consultant, "/api/v1/me").await["id"]
        .as_i64()
        .unwrap();
    federal.act(&fed_dispatcher, fid, "take", json!({})).await;
    federal
        .act(&fed_dispatcher, fid, "assign", json!({"consultant_id": me}))
        .await;
    federal.act(&consultant, fid, "accept", json!({})).await;
    federal.act(&consultant, fid, "start", json!({})).await;
    let (s, _) = federal
        .call(
            Some(&consultant),
            Method::PUT,
            &format!("/api/v1/consultations/{fid}/conclusion"),
            Some(json!({"diagnosis_main": "Q21.0", "findings": "Дефект межжелудочковой перегородки.", "recommendations": "Плановая операция в федеральном центре."})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    federal.act(&consultant, fid, "sign", json!({})).await;

    clock.advance(Duration::minutes(2));
    jobs(&svc).await;
    let v = region
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(v["status"], "completed", "{v}");
    let events = region
        .get(&doctor, &format!("/api/v1/consultations/{id}/events"))
        .await
        .to_string();
    assert!(
        events.contains("Плановая операция в федеральном центре"),
        "the federal conclusion is in the regional timeline: {events}"
    );
    assert!(events.contains("Q21.0"));
    assert!(
        events.contains("Доставлен на федеральный уровень"),
        "{events}"
    );
    assert!(
        events.contains("Состояние на федеральном уровне"),
        "{events}"
    );
    let state = escalation(&region, &dispatcher, id).await;
    assert!(state.contains("ответ получен"), "{state}");
    // Still exactly one request at the federal level.
    assert_eq!(federal_requests(&federal, &fed_dispatcher).await.len(), 1);
    region.stop().await;
    federal.stop().await;
}

async fn app_act(app: &TestApp, token: &str, id: i64, action: &str, params: Value) {
    app.act(token, id, action, params).await;
}

/// The escalation card of the request page, as the dispatcher reads it.
async fn escalation(app: &TestApp, _token: &str, id: i64) -> String {
    let cookie = app.ui_login("dispatcher").await;
    let html = app
        .page(Method::GET, &format!("/requests/{id}"), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let Some(start) = html.find("id=\"escalation\"") else {
        return String::new();
    };
    let end = html[start..].find("</section>").unwrap() + start;
    html[start..end].to_string()
}

/// A region not connected to the federal system: the dispatcher escalates,
/// records the federal number and state by hand, attaches the protocol the
/// federal level returned, and records its conclusion; the doctor sees it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_escalation() {
    let app = TestApp::spawn(BackendKind::Sqlite).await;
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    app.act(&dispatcher, id, "take", json!({})).await;
    let path = format!("/api/v1/consultations/{id}/federal");
    let (s, _) = app
        .call(
            Some(&dispatcher),
            Method::POST,
            &path,
            Some(json!({"number": "Ф-77"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not escalated yet");
    app.act(
        &dispatcher,
        id,
        "escalate",
        json!({"reason_code": "insufficient_qualification"}),
    )
    .await;
    let (s, body) = app
        .call(
            Some(&dispatcher),
            Method::POST,
            &path,
            Some(json!({"number": "ФЦ-2026-0042", "state": "принят НМИЦ"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let (s, _) = app
        .call(
            Some(&doctor),
            Method::POST,
            &path,
            Some(json!({"number": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The returned protocol, attached by the dispatcher (tus, one PATCH).
    let mut protocol = b"%PDF-1.4\n".to_vec();
    protocol.resize(4096, b' ');
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let r = app
        .client
        .post(format!("{}/api/v1/uploads", app.base))
        .bearer_auth(&dispatcher)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", protocol.len().to_string())
        .header(
            "Upload-Metadata",
            format!(
                "filename {},consultation {}",
                b64("Протокол НМИЦ.pdf"),
                b64(&id.to_string())
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let url = r.headers()["location"].to_str().unwrap().to_string();
    let r = app
        .client
        .patch(format!("{}{url}", app.base))
        .bearer_auth(&dispatcher)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(protocol)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    app.act(
        &dispatcher,
        id,
        "record_federal_conclusion",
        json!({"comment": "Оперативное лечение в НМИЦ, госпитализация 12.12."}),
    )
    .await;

    let files = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/attachments"))
        .await;
    assert_eq!(files[0]["file_name"], "Протокол НМИЦ.pdf");
    let events = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/events"))
        .await
        .to_string();
    assert!(events.contains("ФЦ-2026-0042: принят НМИЦ"), "{events}");
    assert!(events.contains("Оперативное лечение в НМИЦ"), "{events}");
    let v = app
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(v["status"], "completed");
    app.stop().await;
}
