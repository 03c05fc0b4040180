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
    let app = TestApp::spawn_custom(backend, move |svc| {
        *keep.lock().unwrap() = Some(svc.clone());
        svc
    })
    .await;
    let svc: rtms_service::Services = services.lock().unwrap().clone().unwrap();
    let run_jobs = || {
        let svc = svc.clone();
        async move {
            tokio::task::spawn_blocking(move || svc.run_jobs("test", 500).unwrap())
                .await
                .unwrap()
        }
    };
    let (hook, received) = receiver().await;

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
                "channel": {"type": "rest-hook", "endpoint": hook, "payload": "application/fhir+json",
                            "header": ["Authorization: Bearer mis-secret"]}})),
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
            Some(json!({"diagnosis_main": "I21.0", "findings": "Подъём ST в V1–V4.", "recommendations": "Перевод в РСЦ."})),
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
    // The notification: the completed Task, posted to the МИС with its header.
    run_jobs().await;
    let got = received.lock().unwrap().clone();
    let ours: Vec<&(String, Value)> = got
        .iter()
        .filter(|(_, t)| t["id"] == sid.as_str())
        .collect();
    assert_eq!(
        ours.len(),
        1,
        "one notification, for the completed state: {got:?}"
    );
    assert_eq!(ours[0].0, "Bearer mis-secret");
    assert_eq!(ours[0].1["status"], "completed");
    assert_eq!(
        ours[0].1["output"][0]["valueReference"]["reference"],
        format!("DiagnosticReport/{id}")
    );
    mis.seen.borrow_mut().push(ours[0].1.clone());
    let report = mis.get(&format!("/DiagnosticReport/{id}")).await;
    assert_eq!(report["status"], "final");
    assert!(report["conclusion"]
        .as_str()
        .unwrap()
        .contains("Перевод в РСЦ"));
    assert_eq!(report["presentedForm"][0]["contentType"], "application/pdf");

    // Everything the server said, through the independent validator.
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, r) in mis
        .seen
        .borrow()
        .iter()
        .chain(other.seen.borrow().iter())
        .chain(plain.seen.borrow().iter())
        .enumerate()
    {
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
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid   DiagnosticReport"));
    app.stop().await;
}
both_backends!(
    a_mis_sends_a_request_and_reads_the_answer,
    super::mis_round_trip
);

/// The consultation centre the request is assigned to, from its ServiceRequest.
async fn task_owner_org(mis: &Fhir<'_>, id: i64) -> String {
    let sr = mis.get(&format!("/ServiceRequest/{id}")).await;
    sr["performer"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string()
}
