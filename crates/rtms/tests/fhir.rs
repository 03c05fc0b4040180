//! The FHIR R4 interface as a hospital information system (МИС) meets it: a
//! request sent as a transaction Bundle (once, however often it is sent), read
//! back as ServiceRequest, Task and Patient, found by search, followed to its
//! signed conclusion as a DiagnosticReport. Every resource the server emitted
//! is then checked by an independent R4 validator (`fhir.resources`, PyPI).

mod common;

use base64::Engine;
use common::{api_token, TestApp};
use reqwest::{Method, StatusCode};
use rtms_store::BackendKind;
use serde_json::{json, Value};

struct Fhir<'a> {
    app: &'a TestApp,
    token: String,
    /// Every resource the server sent, for the validator.
    seen: std::cell::RefCell<Vec<Value>>,
}

impl Fhir<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .app
            .client
            .request(method, format!("{}/fhir/r4{path}", self.app.base))
            .bearer_auth(&self.token)
            .header("accept", "application/fhir+json")
            .header("accept-language", "ru");
        if let Some(b) = body {
            req = req
                .header("content-type", "application/fhir+json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+json"),
            "{path}"
        );
        let v: Value = r.json().await.unwrap();
        self.seen.borrow_mut().push(v.clone());
        (status, v)
    }

    async fn get(&self, path: &str) -> Value {
        let (s, v) = self.call(Method::GET, path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v
    }
}

fn pdf() -> Vec<u8> {
    let mut b = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    b.resize(2048, b' ');
    b.extend_from_slice(b"\n%%EOF\n");
    b
}

fn bundle(business_id: &str) -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:7a0c1e5e-0000-4000-8000-000000000001", "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:oid:1.2.643.100.3", "value": "112-233-445 95"}],
                "name": [{"family": "Тестов", "given": ["Семён", "Ильич"]}],
                "gender": "male", "birthDate": "1958-03-12",
                "address": [{"text": "пос. Лесной, ул. Школьная, 4"}]
            }, "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": "urn:uuid:7a0c1e5e-0000-4000-8000-000000000002", "resource": {
                "resourceType": "Practitioner",
                "name": [{"family": "Петрова", "given": ["Анна"]}],
                "telecom": [{"system": "phone", "value": "+7 900 000-00-01"}]
            }, "request": {"method": "POST", "url": "Practitioner"}},
            {"fullUrl": "urn:uuid:7a0c1e5e-0000-4000-8000-000000000003", "resource": {
                "resourceType": "ServiceRequest",
                "identifier": [{"system": "urn:oid:1.2.643.5.1.13.13.12.2.77.1|mis", "value": business_id}],
                "status": "active", "intent": "order", "priority": "routine",
                "category": [{"coding": [{"system": "urn:oid:1.2.643.2.69.1.1.1.128", "code": "2"}]}],
                "code": {"coding": [{"system": "urn:rtms:profile", "code": "cardiology"}]},
                "subject": {"reference": "urn:uuid:7a0c1e5e-0000-4000-8000-000000000001"},
                "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I21.0"}], "text": "ОИМ передней стенки"}],
                "note": [{"text": "Показан ли перевод в сосудистый центр?"}, {"text": "Боли за грудиной с 6 утра."}]
            }, "request": {"method": "POST", "url": "ServiceRequest"}},
            {"fullUrl": "urn:uuid:7a0c1e5e-0000-4000-8000-000000000004", "resource": {
                "resourceType": "DocumentReference",
                "status": "current",
                "content": [{"attachment": {"contentType": "application/pdf", "title": "ЭКГ.pdf",
                    "data": base64::engine::general_purpose::STANDARD.encode(pdf())}}]
            }, "request": {"method": "POST", "url": "DocumentReference"}}
        ]
    })
}

/// The МИС's own endpoint for notifications: records what it is sent.
async fn receiver() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                store
                    .lock()
                    .unwrap()
                    .push((auth, serde_json::from_str(&body).unwrap_or(Value::Null)));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn mis_round_trip(backend: BackendKind) {
    let services = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = services.clone();
    let (hook, received) = receiver().await;
    // The МИС listens on 127.0.0.1: its origin allowed, inner addresses too.
    let origin = hook.trim_end_matches("/hook").to_string();
    let app = TestApp::spawn_custom(backend, move |svc| {
        let svc = svc.with_fhir_hooks(
            rtms_service::exchange::fhir_hooks::HookPolicy::from_origins(&[origin], true).unwrap(),
        );
        *keep.lock().unwrap() = Some(svc.clone());
        svc
    })
    .await;
    let svc: rtms_service::Services = services.lock().unwrap().clone().unwrap();

    // The capability statement is public and honest.
    let r = app
        .client
        .get(format!("{}/fhir/r4/metadata", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cap: Value = r.json().await.unwrap();
    assert_eq!(cap["fhirVersion"], "4.0.1");
    let types: Vec<&str> = cap["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Patient",
            "ServiceRequest",
            "Task",
            "DiagnosticReport",
            "Practitioner",
            "Organization",
            "Communication",
            "DocumentReference",
            "Binary",
            "Subscription"
        ]
    );

    // A token without the fhir scope is refused, in words.
    let plain = Fhir {
        app: &app,
        token: api_token(&app, "doctor", &["read", "write"]).await,
        seen: Default::default(),
    };
    let (s, oo) = plain.call(Method::GET, "/Task", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert!(oo.to_string().contains("fhir"), "{oo}");

    let mis = Fhir {
        app: &app,
        token: api_token(&app, "doctor", &["read", "write", "fhir"]).await,
        seen: Default::default(),
    };
    mis.seen.borrow_mut().push(cap);
    // The МИС asks to be told when its requests are answered.
    let (s, sub) = mis
        .call(
            Method::POST,
            "/Subscription",
            Some(json!({"resourceType": "Subscription", "status": "requested",
                "reason": "Ответы на запросы больницы", "criteria": "Task?status=completed",
                "channel": {"type": "rest-hook", "endpoint": hook, "payload": "application/fhir+json"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sub}");
    assert_eq!(sub["status"], "active");
    let (s, oo) = mis
        .call(
            Method::POST,
            "/Subscription",
            Some(json!({"resourceType": "Subscription", "criteria": "Observation", "channel": {"type": "email"}})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(oo.to_string().contains("rest-hook"), "{oo}");

    // A broken Bundle: an OperationOutcome that says what is wrong.
    let (s, oo) = mis
        .call(
            Method::POST,
            "",
            Some(json!({"resourceType": "Bundle", "type": "batch"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{oo}");
    assert!(oo.to_string().contains("transaction"), "{oo}");

    // The request with its patient and an ECG, submitted at once.
    let (s, resp) = mis
        .call(Method::POST, "", Some(bundle("MIS-2026-0042")))
        .await;
    assert_eq!(s, StatusCode::OK, "{resp}");
    assert_eq!(resp["type"], "transaction-response");
    assert_eq!(resp["entry"][1]["response"]["status"], "201 Created");
    let location = resp["entry"][1]["response"]["location"].as_str().unwrap();
    let id: i64 = location
        .trim_start_matches("ServiceRequest/")
        .parse()
        .unwrap();
    let sid = id.to_string();
    // Sent again (a retry after a timeout): the same request, not a second one.
    let (s, again) = mis
        .call(Method::POST, "", Some(bundle("MIS-2026-0042")))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["entry"][1]["response"]["location"], location);
    assert_eq!(again["entry"][1]["response"]["status"], "200 OK");

    let task = mis.get(&format!("/Task/{id}")).await;
    assert_eq!(task["status"], "requested");
    assert_eq!(task["businessStatus"]["coding"][0]["code"], "submitted");
    assert!(
        task["restriction"]["period"]["end"].is_string(),
        "the deadline"
    );
    let sr = mis.get(&format!("/ServiceRequest/{id}")).await;
    assert_eq!(sr["reasonCode"][0]["coding"][0]["code"], "I21.0");
    assert_eq!(sr["subject"]["reference"], "Patient/snils-11223344595");
    let patient = mis.get("/Patient/snils-11223344595").await;
    assert_eq!(patient["name"][0]["family"], "Тестов");
    assert_eq!(patient["birthDate"], "1958-03-12");
    // The ECG arrived as an attachment of the request.
    let doctor = app.login("doctor").await;
    let files = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/attachments"))
        .await;
    assert_eq!(files[0]["file_name"], "ЭКГ.pdf", "{files}");
    assert_eq!(files[0]["kind"], "pdf");

    // Searches: by state, by patient, by time; an unknown parameter is refused.
    let found = mis.get("/Task?status=requested").await;
    assert!(found["entry"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["resource"]["id"] == sid.as_str()));
    let none = mis
        .get("/Task?status=completed&_lastUpdated=gt2000-01-01")
        .await;
    assert!(!none.to_string().contains(&format!("\"id\":\"{id}\"")));
    let by_patient = mis
        .get("/ServiceRequest?patient=Patient/snils-11223344595")
        .await;
    assert_eq!(by_patient["total"], 1, "{by_patient}");
    let future = mis.get("/Task?_lastUpdated=gt2999-01-01").await;
    assert_eq!(future["total"], 0);
    let (s, oo) = mis.call(Method::GET, "/Task?color=blue", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(oo.to_string().contains("color"));
    // Another organization's system sees none of it.
    let other = Fhir {
        app: &app,
        token: api_token(&app, "doctor2", &["read", "fhir"]).await,
        seen: Default::default(),
    };
    let (s, _) = other.call(Method::GET, &format!("/Task/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The region answers; the МИС follows the Task to the signed conclusion.
    let dispatcher = app.login("dispatcher").await;
    let consultant = app.login("consultant").await;
    let me = app.get(&consultant, "/api/v1/me").await["id"]
        .as_i64()
        .unwrap();
    app.act(&dispatcher, id, "take", json!({})).await;
    app.act(&dispatcher, id, "assign", json!({"consultant_id": me}))
        .await;
    let owned = mis.get(&format!("/Task?owner=Practitioner/{me}")).await;
    assert!(
        owned["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resource"]["id"] == sid.as_str()),
        "the owner is now the consultant"
    );
    app.act(&consultant, id, "accept", json!({})).await;
    app.act(&consultant, id, "start", json!({})).await;
    // The consultant asks; the МИС reads the thread, the files, who is who.
    let (s, _) = app
        .call(
            Some(&consultant),
            Method::POST,
            &format!("/api/v1/consultations/{id}/messages"),
            Some(json!({"body": "Есть ли ЭКГ в динамике?"})),
        )
        .await;
    assert!(s.is_success());
    let thread = mis
        .get(&format!("/Communication?based-on=ServiceRequest/{id}"))
        .await;
    assert_eq!(
        thread["entry"][0]["resource"]["payload"][0]["contentString"],
        "Есть ли ЭКГ в динамике?"
    );
    let cid = thread["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = mis.get(&format!("/Communication/{cid}")).await;
    let sender = one["sender"]["reference"].as_str().unwrap().to_string();
    assert_eq!(sender, format!("Practitioner/{me}"));
    let who = mis.get(&format!("/{sender}")).await;
    assert_eq!(who["name"][0]["family"], "Смирнов");
    let docs = mis
        .get(&format!("/DocumentReference?related=ServiceRequest/{id}"))
        .await;
    let doc = &docs["entry"][0]["resource"];
    assert_eq!(doc["content"][0]["attachment"]["title"], "ЭКГ.pdf");
    let binary = doc["content"][0]["attachment"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    mis.get(&format!(
        "/DocumentReference/{}",
        doc["id"].as_str().unwrap()
    ))
    .await;
    let bytes = app
        .client
        .get(format!("{}/fhir/r4/{binary}", app.base))
        .bearer_auth(&mis.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], &pdf()[..], "the file as it was sent");
    let tkc = task_owner_org(&mis, id).await;
    let org = mis.get(&format!("/{tkc}")).await;
    assert!(org["name"].as_str().unwrap().len() > 3, "{org}");
    let (s, _) = other
        .call(Method::GET, &format!("/Communication/{cid}"), None)
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another organization reads no thread"
    );

    let (s, _) = app
        .call(
            Some(&consultant),
            Method::PUT,
            &format!("/api/v1/consultations/{id}/conclusion"),
            Some(json!({"diagnosis_main": "I21.0", "findings": "Подъём ST в V1–V4.", "recommendations": "Перевод в РСЦ.", "patient_condition": "3"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.act(&consultant, id, "sign", json!({})).await;
    let task = mis.get(&format!("/Task/{id}")).await;
    assert_eq!(task["status"], "completed");
    assert_eq!(
        task["output"][0]["valueReference"]["reference"],
        format!("DiagnosticReport/{id}")
    );
    // The notification: one, naming the completed Task (ids only, no header
    // of the МИС's); the МИС reads the Task with its own token.
    deliver(&svc).await;
    let got = received.lock().unwrap().clone();
    let task_ref = format!("Task/{id}");
    let ours: Vec<&(String, Value)> = got
        .iter()
        .filter(|(_, b)| b.to_string().contains(&format!("\"{task_ref}\"")))
        .collect();
    assert_eq!(
        ours.len(),
        1,
        "one notification, for the completed state: {got:?}"
    );
    assert_eq!(ours[0].0, "", "no Authorization header is relayed");
    assert_eq!(ours[0].1["type"], "history");
    assert_eq!(
        ours[0].1["entry"][0]["resource"]["parameter"][3]["part"][0]["valueReference"]["reference"],
        task_ref
    );
    mis.seen.borrow_mut().push(ours[0].1.clone());
    let task = mis.get(&format!("/{task_ref}")).await;
    assert_eq!(task["status"], "completed");
    let report = mis.get(&format!("/DiagnosticReport/{id}")).await;
    assert_eq!(report["status"], "final");
    assert!(report["conclusion"]
        .as_str()
        .unwrap()
        .contains("Перевод в РСЦ"));
    assert_eq!(report["presentedForm"][0]["contentType"], "application/pdf");

    // Everything the server said, through the independent validator.
    let all: Vec<Value> = mis
        .seen
        .borrow()
        .iter()
        .chain(other.seen.borrow().iter())
        .chain(plain.seen.borrow().iter())
        .cloned()
        .collect();
    let out = validate(&all);
    assert!(out.contains("valid   DiagnosticReport"));
    app.stop().await;
}
both_backends!(
    a_mis_sends_a_request_and_reads_the_answer,
    super::mis_round_trip
);

/// Runs the independent R4 validator over resources; its report.
fn validate(resources: &[Value]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        let p = dir.path().join(format!("{i:03}.json"));
        std::fs::write(&p, r.to_string()).unwrap();
        files.push(p);
    }
    let python = std::env::var("RTMS_FHIR_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/fhir-validate.py"
        ))
        .args(&files)
        .output()
        .expect("python for the FHIR validator");
    assert!(
        out.status.success(),
        "R4 validation failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The consultation centre the request is assigned to, from its ServiceRequest.
async fn task_owner_org(mis: &Fhir<'_>, id: i64) -> String {
    let sr = mis.get(&format!("/ServiceRequest/{id}")).await;
    sr["performer"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string()
}

// ---- Subscriptions as an attacker meets them (issue 21, item 1) ----------------

/// What a notification listener saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: axum::http::HeaderMap,
    body: String,
}

type SeenLog = std::sync::Arc<std::sync::Mutex<Vec<Seen>>>;

/// A listener on 127.0.0.1 that records every request. `/slow` answers after
/// a minute, `/fail` with HTTP 500 and a body of secrets, `/moved` redirects
/// to `redirect_to`; anything else answers 200.
async fn listener(redirect_to: Option<String>) -> (String, SeenLog) {
    let got: SeenLog = Default::default();
    let store = got.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
            let store = store.clone();
            let redirect_to = redirect_to.clone();
            async move {
                let path = uri.path().to_string();
                store.lock().unwrap().push(Seen {
                    path: path.clone(),
                    headers,
                    body,
                });
                use axum::response::IntoResponse;
                match path.as_str() {
                    "/slow" => {
                        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                        axum::http::StatusCode::OK.into_response()
                    }
                    "/fail" => (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "postgres://admin:hunter2@10.0.0.7/mis exploded",
                    )
                        .into_response(),
                    "/moved" => (
                        axum::http::StatusCode::FOUND,
                        [(
                            axum::http::header::LOCATION,
                            redirect_to.unwrap_or_default(),
                        )],
                    )
                        .into_response(),
                    _ => axum::http::StatusCode::OK.into_response(),
                }
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("127.0.0.1:{port}"), got)
}

/// A server whose subscriptions may go where `policy` says; its services too.
async fn app_with_hooks(
    backend: BackendKind,
    policy: rtms_service::exchange::fhir_hooks::HookPolicy,
) -> (TestApp, rtms_service::Services) {
    let services = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = services.clone();
    let app = TestApp::spawn_custom(backend, move |svc| {
        let svc = svc.with_fhir_hooks(policy);
        *keep.lock().unwrap() = Some(svc.clone());
        svc
    })
    .await;
    let svc = services.lock().unwrap().clone().unwrap();
    (app, svc)
}

fn policy(
    origins: &[String],
    allow_private: bool,
) -> rtms_service::exchange::fhir_hooks::HookPolicy {
    rtms_service::exchange::fhir_hooks::HookPolicy::from_origins(origins, allow_private).unwrap()
}

/// Runs the delivery worker once; how many deliveries it tried.
async fn deliver(svc: &rtms_service::Services) -> usize {
    let svc = svc.clone();
    tokio::task::spawn_blocking(move || svc.run_deliveries(50).unwrap())
        .await
        .unwrap()
}

async fn subscribe(mis: &Fhir<'_>, endpoint: &str, extra: Value) -> (StatusCode, Value) {
    let mut s = json!({"resourceType": "Subscription", "status": "requested",
        "reason": "проверка", "criteria": "Task",
        "channel": {"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json"}});
    if let (Some(s), Some(extra)) = (s["channel"].as_object_mut(), extra.as_object()) {
        s.extend(extra.clone());
    }
    mis.call(Method::POST, "/Subscription", Some(s)).await
}

/// A new request from the МИС (a change every subscription hears of).
async fn new_request(mis: &Fhir<'_>, business_id: &str) -> i64 {
    let (s, resp) = mis.call(Method::POST, "", Some(bundle(business_id))).await;
    assert_eq!(s, StatusCode::OK, "{resp}");
    resp["entry"][1]["response"]["location"]
        .as_str()
        .unwrap()
        .trim_start_matches("ServiceRequest/")
        .parse()
        .unwrap()
}

/// The subscription as stored (for what its owner can no longer read).
async fn stored(svc: &rtms_service::Services, id: &Value) -> rtms_store::fhir::Subscription {
    let id: i64 = id.as_str().unwrap().parse().unwrap();
    let svc = svc.clone();
    tokio::task::spawn_blocking(move || svc.db.read(|c| rtms_store::fhir::get(c, id)).unwrap())
        .await
        .unwrap()
}

/// Only origins the administrator allowed are accepted, and an allowed name
/// that resolves to a loopback address is refused when the server connects
/// (the DNS-rebinding case); the owner reads generic words, deletes the
/// subscription, and nobody else can.
async fn allowlist_and_private_ranges(backend: BackendKind) {
    let (addr, seen) = listener(None).await;
    let port = addr.rsplit(':').next().unwrap().to_string();
    // Allowed by name only; private addresses not allowed.
    let (app, svc) = app_with_hooks(
        backend,
        policy(&[format!("http://localhost:{port}")], false),
    )
    .await;
    let mis = Fhir {
        app: &app,
        token: api_token(&app, "doctor", &["read", "write", "fhir"]).await,
        seen: Default::default(),
    };
    // Not in the allowlist: refused at once, in words that say what to do.
    for endpoint in [
        format!("http://{addr}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "https://mis.example/hook".to_string(),
    ] {
        let (s, oo) = subscribe(&mis, &endpoint, json!({})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{endpoint}: {oo}");
        assert!(oo.to_string().contains("администратор"), "{oo}");
    }
    // Headers of the caller's choosing are not relayed.
    let (s, oo) = subscribe(
        &mis,
        &format!("http://localhost:{port}/hook"),
        json!({"header": ["Authorization: Bearer x"]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{oo}");
    assert!(oo.to_string().contains("channel.header"), "{oo}");

    // An allowed name that resolves to 127.0.0.1 / ::1.
    let (s, sub) = subscribe(&mis, &format!("http://localhost:{port}/hook"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{sub}");
    new_request(&mis, "SSRF-1").await;
    assert_eq!(deliver(&svc).await, 1);
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the loopback listener"
    );
    let got = mis
        .get(&format!("/Subscription/{}", sub["id"].as_str().unwrap()))
        .await;
    assert_eq!(got["status"], "error", "{got}");
    assert_eq!(got["error"], "the endpoint's address is not allowed");
    assert!(!got["channel"].to_string().contains("header"), "{got}");

    // Deleting: another system cannot (it is not found), the owner can.
    let path = format!("/Subscription/{}", sub["id"].as_str().unwrap());
    let other = Fhir {
        app: &app,
        token: api_token(&app, "doctor2", &["read", "write", "fhir"]).await,
        seen: Default::default(),
    };
    let (s, _) = other.call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = app
        .client
        .delete(format!("{}/fhir/r4{path}", app.base))
        .bearer_auth(&mis.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, _) = mis.call(Method::GET, &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    new_request(&mis, "SSRF-2").await;
    assert_eq!(
        deliver(&svc).await,
        0,
        "nothing is delivered to a deleted subscription"
    );
    app.stop().await;
}
both_backends!(
    subscriptions_go_only_to_allowed_public_addresses,
    super::allowlist_and_private_ranges
);

/// Where private addresses are allowed (the test's listeners are on
/// 127.0.0.1): a redirect is not followed, an error's body is not repeated,
/// and a notification names Tasks only, with no header of the caller's.
async fn redirects_errors_and_payload(backend: BackendKind) {
    let (elsewhere, stolen) = listener(None).await;
    let (addr, seen) = listener(Some(format!("http://{elsewhere}/stolen"))).await;
    let (app, svc) = app_with_hooks(
        backend,
        policy(
            &[format!("http://{addr}"), format!("http://{elsewhere}")],
            true,
        ),
    )
    .await;
    let mis = Fhir {
        app: &app,
        token: api_token(&app, "doctor", &["read", "write", "fhir"]).await,
        seen: Default::default(),
    };
    let mut subs = Vec::new();
    for path in ["/moved", "/fail", "/hook"] {
        let (s, sub) = subscribe(&mis, &format!("http://{addr}{path}"), json!({})).await;
        assert_eq!(s, StatusCode::CREATED, "{sub}");
        subs.push(sub["id"].as_str().unwrap().to_string());
    }
    let id = new_request(&mis, "SSRF-3").await;
    assert_eq!(deliver(&svc).await, 3);
    assert!(
        stolen.lock().unwrap().is_empty(),
        "the redirect was not followed"
    );
    let moved = mis.get(&format!("/Subscription/{}", subs[0])).await;
    assert_eq!(moved["error"], "the endpoint answered HTTP 302");
    let failed = mis.get(&format!("/Subscription/{}", subs[1])).await;
    assert_eq!(failed["error"], "the endpoint answered HTTP 500");
    assert!(!failed.to_string().contains("hunter2"), "{failed}");
    let ok = mis.get(&format!("/Subscription/{}", subs[2])).await;
    assert_eq!(ok["status"], "active", "{ok}");

    let got: Vec<Seen> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == "/hook")
        .cloned()
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    let n = &got[0];
    assert!(n.headers.get("authorization").is_none(), "{:?}", n.headers);
    assert!(n.headers.get("cookie").is_none(), "{:?}", n.headers);
    let body: Value = serde_json::from_str(&n.body).unwrap();
    assert_eq!(body["resourceType"], "Bundle");
    assert_eq!(body["type"], "history");
    assert!(n.body.contains(&format!("\"Task/{id}\"")), "{}", n.body);
    for secret in [
        "11223344595",
        "112-233-445 95",
        "Тестов",
        "Семён",
        "1958-03-12",
        "I21.0",
        "Школьная",
    ] {
        assert!(!n.body.contains(secret), "{secret} in {}", n.body);
    }
    mis.seen.borrow_mut().push(body);
    validate(&mis.seen.borrow());
    app.stop().await;
}
both_backends!(
    notifications_follow_no_redirect_and_carry_ids_only,
    super::redirects_errors_and_payload
);

/// Many changes, few deliveries; a subscription ends with its owner's
/// account or fhir token.
async fn coalesced_and_owned(backend: BackendKind) {
    let (addr, seen) = listener(None).await;
    let (app, svc) = app_with_hooks(backend, policy(&[format!("http://{addr}")], true)).await;
    let mis = Fhir {
        app: &app,
        token: api_token(&app, "doctor", &["read", "write", "fhir"]).await,
        seen: Default::default(),
    };
    let (s, sub) = subscribe(&mis, &format!("http://{addr}/hook"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{sub}");
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(new_request(&mis, &format!("SSRF-C{i}")).await);
    }
    // A thousand more changes of the same requests before the worker runs.
    let (svc2, ids2) = (svc.clone(), ids.clone());
    tokio::task::spawn_blocking(move || {
        for i in 0..1000 {
            svc2.db
                .write(|c| {
                    rtms_service::exchange::fhir_hooks::queue_notifications(
                        c,
                        ids2[i % 3],
                        chrono::Utc::now().naive_utc(),
                    )
                })
                .unwrap();
        }
    })
    .await
    .unwrap();
    assert_eq!(deliver(&svc).await, 1, "one delivery for every change");
    assert_eq!(deliver(&svc).await, 0, "and nothing left over");
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    for id in &ids {
        assert_eq!(
            got[0].body.matches(&format!("\"Task/{id}\"")).count(),
            2,
            "{}",
            got[0].body
        );
    }

    // The owner's system loses its fhir token: the next delivery ends the
    // subscription instead of posting.
    let owner = app.get(&app.login("doctor").await, "/api/v1/me").await["id"]
        .as_i64()
        .unwrap();
    let svc2 = svc.clone();
    tokio::task::spawn_blocking(move || {
        svc2.db
            .write(|c| {
                rtms_store::repo::revoke_tokens_of(
                    c,
                    owner,
                    "api",
                    None,
                    chrono::Utc::now().naive_utc(),
                )
            })
            .unwrap()
    })
    .await
    .unwrap();
    let consultant = app.login("dispatcher").await;
    app.act(&consultant, ids[0], "take", json!({})).await;
    deliver(&svc).await;
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "nothing sent for an owner without the scope"
    );
    let s1 = stored(&svc, &sub["id"]).await;
    assert!(!s1.active);

    // An administrator deactivates the owner of another subscription: it ends at once.
    let mis2 = Fhir {
        app: &app,
        token: api_token(&app, "doctor2", &["read", "write", "fhir"]).await,
        seen: Default::default(),
    };
    let (s, sub2) = subscribe(&mis2, &format!("http://{addr}/hook"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{sub2}");
    let doctor2 = app.get(&app.login("doctor2").await, "/api/v1/me").await["id"]
        .as_i64()
        .unwrap();
    let admin = app.login("admin").await;
    let (s, body) = app
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/admin/users/{doctor2}"),
            Some(json!({"last_name": "Иванов", "first_name": "Пётр", "active": false})),
        )
        .await;
    assert!(s.is_success(), "{body}");
    assert!(!stored(&svc, &sub2["id"]).await.active);
    app.act(&consultant, ids[1], "take", json!({})).await;
    deliver(&svc).await;
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "nothing sent for a deactivated owner"
    );
    app.stop().await;
}
both_backends!(
    deliveries_are_coalesced_and_end_with_their_owner,
    super::coalesced_and_owned
);

/// An endpoint that never answers costs one delivery its timeout; the job
/// queue (e-mail, escalations) does not wait for it, and other subscribers
/// still get theirs.
async fn slow_endpoint(backend: BackendKind) {
    let (addr, seen) = listener(None).await;
    let mut p = policy(&[format!("http://{addr}")], true);
    p.timeout = std::time::Duration::from_secs(2);
    let (app, svc) = app_with_hooks(backend, p).await;
    let mis = Fhir {
        app: &app,
        token: api_token(&app, "doctor", &["read", "write", "fhir"]).await,
        seen: Default::default(),
    };
    let (_, slow) = subscribe(&mis, &format!("http://{addr}/slow"), json!({})).await;
    let (_, fast) = subscribe(&mis, &format!("http://{addr}/hook"), json!({})).await;
    new_request(&mis, "SSRF-S").await;
    let started = std::time::Instant::now();
    let svc2 = svc.clone();
    tokio::task::spawn_blocking(move || svc2.run_jobs("test", 50).unwrap())
        .await
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "the job queue does not wait for subscribers: {:?}",
        started.elapsed()
    );
    let started = std::time::Instant::now();
    assert_eq!(deliver(&svc).await, 2);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    let slow = mis
        .get(&format!("/Subscription/{}", slow["id"].as_str().unwrap()))
        .await;
    assert_eq!(slow["error"], "the endpoint did not answer in time");
    let fast = mis
        .get(&format!("/Subscription/{}", fast["id"].as_str().unwrap()))
        .await;
    assert_eq!(fast["status"], "active");
    assert!(seen.lock().unwrap().iter().any(|s| s.path == "/hook"));
    // The slow one waits out its backoff rather than holding up the next round.
    new_request(&mis, "SSRF-S2").await;
    let started = std::time::Instant::now();
    assert_eq!(deliver(&svc).await, 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    app.stop().await;
}
both_backends!(a_slow_endpoint_holds_up_nothing_else, super::slow_endpoint);

/// Searches page in SQL: `_count` and `_offset` (and the `next` link) walk
/// every request the caller may see exactly once, and `total` is the number
/// of them, not the size of a page.
async fn paging(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let token = api_token(&app, "doctor", &["read", "fhir"]).await;
    for _ in 0..7 {
        app.create(&doctor, common::complete_request("planned"))
            .await;
    }
    let visible = app.get(&doctor, "/api/v1/consultations?per_page=200").await["total"]
        .as_i64()
        .unwrap();
    assert!(visible >= 7, "{visible}");
    let mut url = format!("{}/fhir/r4/ServiceRequest?_count=3", app.base);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let b: Value = app
            .client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(b["total"].as_i64().unwrap(), visible, "{b}");
        let entries = b["entry"].as_array().cloned().unwrap_or_default();
        assert!(entries.len() <= 3);
        for e in entries {
            seen.push(e["resource"]["id"].as_str().unwrap().to_string());
        }
        pages += 1;
        let next = b["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .and_then(|l| l["url"].as_str().map(str::to_string));
        match next {
            Some(n) => url = n,
            None => break,
        }
        assert!(pages < 100, "the next links end");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no request twice: {seen:?}");
    assert_eq!(seen.len() as i64, visible);
    assert_eq!(pages, (visible + 2) / 3);
    // Drafts are `draft` requests: a status filter counts only them.
    let b: Value = app
        .client
        .get(format!(
            "{}/fhir/r4/ServiceRequest?status=draft&_count=1",
            app.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(b["total"].as_i64().unwrap() >= 7, "{b}");
    assert_eq!(b["entry"].as_array().unwrap().len(), 1);
    app.stop().await;
}
both_backends!(searches_page_with_a_true_total, super::paging);
