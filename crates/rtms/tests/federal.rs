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
use rtms_service::exchange::federal::FederalConfig;
use rtms_service::{Clock, ManualClock, Services};
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
        let svc = svc.with_federal(FederalConfig::new(federal_url, region_token));
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
    // The first attempt failed, and the outbox set its own next attempt.
    let api = escalation_api(&region, &dispatcher, id).await;
    assert_eq!(api["state"], "failed", "{api}");
    assert_eq!(api["attempts"], 1, "one failed attempt: {api}");
    assert!(!api["last_error"].as_str().unwrap().is_empty(), "{api}");
    let retry_at: chrono::DateTime<Utc> = api["next_attempt_at"]
        .as_str()
        .expect("a failed attempt has a next one")
        .parse()
        .unwrap();
    assert!(
        retry_at > clock.now() && retry_at <= clock.now() + Duration::minutes(15),
        "the retry is ahead, within the default cap: {api}"
    );
    // The dispatcher's page says so, with that time (the demo region's
    // organizations keep Moscow time, UTC+3).
    let state = escalation(&region, &dispatcher, id).await;
    let shown = retry_at
        .with_timezone(&chrono::FixedOffset::east_opt(3 * 3600).unwrap())
        .format("%d.%m.%Y %H:%M")
        .to_string();
    assert!(
        state.contains("не доставлен")
            && state.contains("нет связи с федеральным уровнем")
            && state.contains(&format!("следующая попытка {shown}")),
        "the dispatcher sees the failure and the next attempt ({shown}): {state}"
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

    // Up again. Until the retry time nothing is sent; at that time the
    // second attempt delivers. A third (as after a lost answer) does not make
    // a second federal request.
    let federal = TestApp::start(federal_db).await;
    let fed_dispatcher = federal.login("dispatcher").await;
    let url = federal.base.clone();
    assert_eq!(federal_requests(&federal, &fed_dispatcher).await.len(), 0);
    // The federal instance came back on another port: the region is told so.
    let mut svc = svc;
    svc.federal = Some(Arc::new(FederalConfig::new(
        url,
        svc.federal.as_ref().unwrap().token.clone(),
    )));
    clock.advance(retry_at - clock.now() - Duration::seconds(1));
    jobs(&svc).await;
    assert_eq!(federal_requests(&federal, &fed_dispatcher).await.len(), 0);
    assert_eq!(
        escalation_api(&region, &dispatcher, id).await["state"],
        "failed",
        "no attempt before the time shown"
    );
    clock.advance(Duration::seconds(1));
    jobs(&svc).await;
    let arrived = federal_requests(&federal, &fed_dispatcher).await;
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    let fid = arrived[0]["id"].as_i64().unwrap();
    assert_eq!(
        arrived[0]["status"], "submitted",
        "in the federal dispatcher's queue"
    );
    let api = escalation_api(&region, &dispatcher, id).await;
    assert_eq!(api["state"], "delivered", "{api}");
    // `attempts` counts the failed ones: the first stays counted.
    assert_eq!(api["attempts"], 1, "{api}");
    assert_eq!(api["last_error"], "", "{api}");
    assert_eq!(api["next_attempt_at"], Value::Null, "{api}");
    let state = escalation(&region, &dispatcher, id).await;
    assert!(state.contains("доставлен, ждём ответа"), "{state}");
    assert!(state.contains(&fid.to_string()), "{state}");
    assert!(
        !state.contains("нет связи") && !state.contains("следующая попытка"),
        "the failure is no longer shown: {state}"
    );
    send_again(&svc, id).await;
    jobs(&svc).await;
    assert_eq!(federal_requests(&federal, &fed_dispatcher).await.len(), 1);

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
            Some(json!({"diagnosis_main": "Q21.0", "findings": "Дефект межжелудочковой перегородки.", "recommendations": "Плановая операция в федеральном центре.", "patient_condition": "2"})),
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
    // The signed federal protocol itself came home, as a file of the case.
    let files = region
        .get(&doctor, &format!("/api/v1/consultations/{id}/attachments"))
        .await;
    assert!(
        files.to_string().contains("Протокол федерального уровня"),
        "{files}"
    );
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

/// Queues one more sending of the case, due at once: what a lost answer
/// to a delivered sending leads to.
async fn send_again(svc: &Services, id: i64) {
    let svc = svc.clone();
    tokio::task::spawn_blocking(move || {
        svc.db
            .write(|c| {
                rtms_store::jobs::enqueue_persistent(
                    c,
                    rtms_service::exchange::federal::SEND_JOB,
                    &json!({"consultation": id}).to_string(),
                    chrono::Utc::now().naive_utc() - Duration::days(1),
                    chrono::Utc::now().naive_utc(),
                )
            })
            .unwrap()
    })
    .await
    .unwrap();
}

/// The escalation's state as the API gives it.
async fn escalation_api(app: &TestApp, token: &str, id: i64) -> Value {
    app.get(token, &format!("/api/v1/consultations/{id}/escalation"))
        .await
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
    assert_eq!(s, StatusCode::CONFLICT, "not escalated yet");
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
    tus_upload(&app, &dispatcher, id, "Протокол НМИЦ.pdf", protocol).await;
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

/// Sends `bytes` as one tus upload to request `id`; the attachment's id.
async fn tus_upload(app: &TestApp, token: &str, id: i64, name: &str, bytes: Vec<u8>) -> i64 {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let r = app
        .client
        .post(format!("{}/api/v1/uploads", app.base))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header(
            "Upload-Metadata",
            format!(
                "filename {},consultation {}",
                b64(name),
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
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    r.headers()["attachment-id"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A 3 MB PDF and a 30 MB video clip: what the old outbox could not send.
fn case_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut video = vec![0, 0, 0, 0x18];
    video.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    let mut x: u32 = 0x9E37_79B9;
    let mut noise = |out: &mut Vec<u8>, n: usize| {
        while out.len() < n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.truncate(n);
    };
    noise(&mut pdf, 3_000_000);
    noise(&mut video, 30_000_000);
    vec![("Эхо-КГ.pdf", pdf), ("УЗИ сердца.mp4", video)]
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// The federal level is down for longer than the old outbox's give-up time
/// (8 attempts, about 4 hours): the region keeps trying, the coordinator is
/// alarmed and can re-send; once it is up, the case arrives exactly once
/// with both files byte for byte, however often it is sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_with_large_files_survives_a_long_outage() {
    let federal_db = TestApp::seeded_database(BackendKind::Postgres).await;
    let federal = TestApp::start(federal_db.clone()).await;
    let region_token = api_token(&federal, "doctor", &["read", "write", "fhir"]).await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let slot = Arc::new(Mutex::new(None));
    let keep = slot.clone();
    let url = federal.base.clone();
    let token = region_token.clone();
    let regional_db = TestApp::seeded_database(BackendKind::Sqlite).await;
    let region = TestApp::start_custom(regional_db, clock.clone(), move |svc| {
        let mut f = FederalConfig::new(url, token);
        f.retry_cap_minutes = 10;
        f.alarm_minutes = 30;
        let svc = svc.with_federal(f);
        *keep.lock().unwrap() = Some(svc.clone());
        svc
    })
    .await;
    let mut svc: Services = slot.lock().unwrap().clone().unwrap();

    let doctor = region.login("doctor").await;
    let dispatcher = region.login("dispatcher").await;
    let id = region.create(&doctor, complete_request("planned")).await;
    let files = case_files();
    for (name, bytes) in &files {
        tus_upload(&region, &doctor, id, name, bytes.clone()).await;
    }
    app_act(&region, &doctor, id, "submit", json!({})).await;
    app_act(&region, &dispatcher, id, "take", json!({})).await;

    let federal_db = federal.stop().await;
    app_act(
        &region,
        &dispatcher,
        id,
        "escalate",
        json!({"reason_code": "no_specialist"}),
    )
    .await;
    // Twelve failed attempts over more than two hours: never given up.
    for _ in 0..12 {
        jobs(&svc).await;
        clock.advance(Duration::minutes(11));
    }
    jobs(&svc).await;
    let state = region
        .get(
            &dispatcher,
            &format!("/api/v1/consultations/{id}/escalation"),
        )
        .await;
    assert_eq!(state["state"], "failed", "{state}");
    assert!(state["attempts"].as_i64().unwrap() >= 12, "{state}");
    assert_eq!(state["overdue"], true, "{state}");
    // The next attempt the page shows is the outbox's own: within the cap, ahead.
    let next: chrono::DateTime<Utc> = state["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert!(
        next > clock.now() && next <= clock.now() + Duration::minutes(10),
        "{state}"
    );
    let alarms = region.get(&dispatcher, "/api/v1/federal/alarms").await;
    assert_eq!(alarms[0]["consultation_id"], id, "{alarms}");
    assert!(
        region.get(&doctor, "/api/v1/federal/alarms").await == json!([]),
        "the alarm is the coordinator's"
    );
    let cookie = region.ui_login("dispatcher").await;
    let queue = region
        .page(Method::GET, "/queue", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        queue.contains("Не доставлены на федеральный уровень"),
        "the dispatcher's queue raises the alarm"
    );
    let card = escalation(&region, &dispatcher, id).await;
    assert!(card.contains("Отправить сейчас"), "{card}");
    assert!(
        card.contains("Не доставлен на федеральный уровень с"),
        "{card}"
    );

    // Up again; the dispatcher does not wait for the next attempt.
    let federal = TestApp::start(federal_db).await;
    let fed_dispatcher = federal.login("dispatcher").await;
    let mut f = FederalConfig::new(federal.base.clone(), region_token.clone());
    f.retry_cap_minutes = 10;
    svc.federal = Some(Arc::new(f));
    let (s, _) = region
        .call(
            Some(&dispatcher),
            Method::POST,
            &format!("/api/v1/consultations/{id}/escalation/resend"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    jobs(&svc).await;
    let arrived = federal_requests(&federal, &fed_dispatcher).await;
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(arrived[0]["status"], "submitted");
    let fid = arrived[0]["id"].as_i64().unwrap();
    let there = federal
        .get(
            &fed_dispatcher,
            &format!("/api/v1/consultations/{fid}/attachments"),
        )
        .await;
    let mut got: Vec<(String, String, i64)> = there
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["file_name"].as_str().unwrap().to_string(),
                a["sha256"].as_str().unwrap().to_string(),
                a["size"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String, i64)> = files
        .iter()
        .map(|(n, b)| (n.to_string(), sha256_hex(b), b.len() as i64))
        .collect();
    want.sort();
    assert_eq!(got, want, "every file, byte for byte");
    let state = region
        .get(
            &dispatcher,
            &format!("/api/v1/consultations/{id}/escalation"),
        )
        .await;
    assert_eq!(state["state"], "delivered", "{state}");
    assert_eq!(state["overdue"], false);
    assert_eq!(
        region.get(&dispatcher, "/api/v1/federal/alarms").await,
        json!([])
    );

    // Sent again (a lost answer, a second click): still one request, two files.
    let (s, _) = region
        .call(
            Some(&dispatcher),
            Method::POST,
            &format!("/api/v1/consultations/{id}/escalation/resend"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    send_again(&svc, id).await;
    jobs(&svc).await;
    assert_eq!(federal_requests(&federal, &fed_dispatcher).await.len(), 1);
    let there = federal
        .get(
            &fed_dispatcher,
            &format!("/api/v1/consultations/{fid}/attachments"),
        )
        .await;
    assert_eq!(there.as_array().unwrap().len(), 2, "{there}");
    region.stop().await;
    federal.stop().await;
}

/// The receiving side: a Bundle is all or nothing. A request whose announced
/// files have not arrived stays a draft only its sender sees (409 naming
/// them); once they have, the same Bundle submits it, once. A Bundle over
/// the limit gets an OperationOutcome naming the limit.
async fn receiving_is_all_or_nothing(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let token = api_token(&app, "doctor", &["read", "write", "fhir"]).await;
    let dispatcher = app.login("dispatcher").await;
    let pdf = {
        let mut b = b"%PDF-1.4\n".to_vec();
        b.resize(200_000, b'x');
        b
    };
    let bundle = |status: &str| {
        json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient",
                "identifier": [{"system": "urn:oid:1.2.643.100.3", "value": "112-233-445 95"}],
                "name": [{"family": "Тестов", "given": ["Семён", "Ильич"]}],
                "gender": "male", "birthDate": "1958-03-12"},
             "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": "urn:uuid:pr", "resource": {"resourceType": "Practitioner",
                "name": [{"family": "Петрова", "given": ["Анна"]}],
                "telecom": [{"system": "phone", "value": "+7 900 000-00-01"}]},
             "request": {"method": "POST", "url": "Practitioner"}},
            {"fullUrl": "urn:uuid:r", "resource": {"resourceType": "ServiceRequest",
                "status": status, "intent": "order", "priority": "routine",
                "identifier": [{"system": "urn:test:mis", "value": "A-1"}],
                "category": [{"coding": [{"system": "urn:oid:1.2.643.2.69.1.1.1.128", "code": "2"}]}],
                "code": {"coding": [{"system": "urn:rtms:profile", "code": "cardiology"}]},
                "subject": {"reference": "urn:uuid:p"},
                "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I21.0"}], "text": "ОИМ"}],
                "note": [{"text": "Показан ли перевод в сосудистый центр?"}]},
             "request": {"method": "POST", "url": "ServiceRequest"}},
            {"fullUrl": "urn:uuid:d", "resource": {"resourceType": "DocumentReference", "status": "current",
                "content": [{"attachment": {"contentType": "application/pdf", "title": "ЭКГ.pdf",
                    "size": pdf.len(),
                    "extension": [{"url": "urn:rtms:attachment-sha256", "valueString": sha256_hex(&pdf)}]}}]},
             "request": {"method": "POST", "url": "DocumentReference"}}
        ]})
    };
    let post = |b: Value| {
        app.client
            .post(format!("{}/fhir/r4", app.base))
            .bearer_auth(&token)
            .header("content-type", "application/fhir+json")
            .header("accept-language", "ru")
            .body(b.to_string())
            .send()
    };
    let r = post(bundle("active")).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["resourceType"], "OperationOutcome");
    assert!(
        out["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("ЭКГ.pdf"),
        "{out}"
    );
    let queue = app
        .get(&dispatcher, "/api/v1/consultations?per_page=200")
        .await;
    let before = queue["total"].as_i64().unwrap();
    // A draft, found again by the same identifier: the file goes to it by tus.
    let r = post(bundle("draft")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let b: Value = r.json().await.unwrap();
    let fid: i64 = b["entry"][1]["response"]["location"]
        .as_str()
        .unwrap()
        .trim_start_matches("ServiceRequest/")
        .parse()
        .unwrap();
    tus_upload(&app, &token, fid, "ЭКГ.pdf", pdf.clone()).await;
    for _ in 0..2 {
        let r = post(bundle("active")).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    let v = app
        .get(&dispatcher, &format!("/api/v1/consultations/{fid}"))
        .await;
    assert_eq!(v["status"], "submitted", "{v}");
    let queue = app
        .get(&dispatcher, "/api/v1/consultations?per_page=200")
        .await;
    assert_eq!(
        queue["total"].as_i64().unwrap(),
        before + 1,
        "exactly one request"
    );
    let files = app
        .get(
            &dispatcher,
            &format!("/api/v1/consultations/{fid}/attachments"),
        )
        .await;
    assert_eq!(files.as_array().unwrap().len(), 1);
    assert_eq!(files[0]["sha256"], sha256_hex(&pdf));

    // Over the limit: an OperationOutcome that names it, in words.
    let mut big = bundle("active");
    big["entry"][2]["resource"]["note"][0]["text"] = json!("ж".repeat(600_000));
    let r = post(big).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["resourceType"], "OperationOutcome");
    let text = out["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(text.contains("1 МБ") && text.contains("tus"), "{text}");
    app.stop().await;
}
both_backends!(
    a_received_bundle_is_all_or_nothing,
    super::receiving_is_all_or_nothing
);
