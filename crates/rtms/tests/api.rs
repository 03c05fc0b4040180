//! The REST API as a hospital information system uses it: a real server on
//! port 0, a real database (SQLite and PostgreSQL), the demo region's users.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{complete_request, TestApp};
use reqwest::{Method, StatusCode};
use rtms_store::BackendKind;
use serde_json::{json, Value};

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

async fn planned_path(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let coordinator = app.login("coordinator").await;
    let consultant = app.login("consultant").await;

    let id = app.create(&doctor, complete_request("planned")).await;
    assert_eq!(app.act(&doctor, id, "submit", json!({})).await, "submitted");
    let c = app
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(
        time(&c["deadline"]) - time(&c["submitted_at"]),
        Duration::days(14)
    );
    assert_eq!(c["overdue"], false);

    // The dispatcher finds it in the queue.
    let queue = app
        .get(
            &dispatcher,
            "/api/v1/consultations?status=submitted&q=тестов",
        )
        .await;
    assert_eq!(queue["total"], 1, "{queue}");
    assert_eq!(queue["items"][0]["id"], id);

    assert_eq!(
        app.act(&dispatcher, id, "take", json!({})).await,
        "in_review"
    );
    let okb = app.get(&coordinator, "/api/v1/me").await["roles"][0]["organization"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.act(&dispatcher, id, "assign", json!({"tkc_id": okb}))
            .await,
        "assigned"
    );
    // The centre's coordinator picks the consultant, least loaded first.
    let consultants = app
        .get(&coordinator, "/api/v1/consultants?profile=cardiology")
        .await;
    let smirnov = consultants
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Смирнов А. В.")
        .expect("consultant listed");
    assert!(smirnov["open_consultations"].as_i64().unwrap() > 0);
    let consultant_id = smirnov["id"].as_i64().unwrap();
    assert_eq!(
        app.act(
            &coordinator,
            id,
            "assign",
            json!({"consultant_id": consultant_id})
        )
        .await,
        "assigned"
    );

    assert_eq!(
        app.act(&consultant, id, "accept", json!({})).await,
        "accepted"
    );
    assert_eq!(
        app.act(&consultant, id, "start", json!({})).await,
        "in_progress"
    );

    let (s, q) = app
        .call(
            Some(&consultant),
            Method::POST,
            &format!("/api/v1/consultations/{id}/messages"),
            Some(json!({"body": "Есть ли ЭКГ в динамике?"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{q}");
    assert_eq!(q["kind"], "question");
    let (s, a) = app
        .call(
            Some(&doctor),
            Method::POST,
            &format!("/api/v1/consultations/{id}/messages"),
            Some(json!({"body": "Да, прикладываю."})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["kind"], "answer");
    let thread = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/messages"))
        .await;
    assert_eq!(thread.as_array().unwrap().len(), 2);

    // The requesting side does not see a draft conclusion.
    let conclusion = json!({
        "diagnosis_main": "I21.0",
        "findings": "ОИМ с подъёмом ST передней стенки.",
        "recommendations": "Экстренный перевод в РСЦ для ЧКВ.",
        "transfer": "РСЦ ОКБ",
        "follow_up_needed": false,
        "patient_condition": "3"
    });
    let (s, k) = app
        .call(
            Some(&consultant),
            Method::PUT,
            &format!("/api/v1/consultations/{id}/conclusion"),
            Some(conclusion.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{k}");
    assert_eq!(k["signed_at"], Value::Null);
    let (s, _) = app
        .call(
            Some(&doctor),
            Method::GET,
            &format!("/api/v1/consultations/{id}/conclusion"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    assert_eq!(
        app.act(&consultant, id, "sign", json!({})).await,
        "completed"
    );
    // A signed conclusion is never changed.
    let (s, body) = app
        .call(
            Some(&consultant),
            Method::PUT,
            &format!("/api/v1/consultations/{id}/conclusion"),
            Some(conclusion),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");

    let k = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/conclusion"))
        .await;
    assert_eq!(k["recommendations"], "Экстренный перевод в РСЦ для ЧКВ.");
    assert_eq!(k["content_hash"].as_str().unwrap().len(), 64);
    assert_eq!(k["signatures"].as_array().unwrap().len(), 1);

    assert_eq!(
        app.act(
            &doctor,
            id,
            "acknowledge",
            json!({"useful": true, "effect": "transfer_arranged"})
        )
        .await,
        "closed"
    );

    let events = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/events"))
        .await;
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "submit",
            "take",
            "assign",
            "assign",
            "accept",
            "start",
            "ask",
            "answer",
            "sign",
            "acknowledge"
        ]
    );
    let take = &events[2];
    assert_eq!(take["actor_role"], "dispatcher");
    assert_eq!(take["actor_organization"]["name"], "КТЦ МИАЦ");
    assert_eq!(take["action_label"], "Взят в работу");
}
both_backends!(
    planned_consultation_from_draft_to_acknowledged_conclusion,
    super::planned_path
);

async fn emergency_path(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let consultant = app.login("consultant").await;
    let id = app.create(&doctor, complete_request("emergency")).await;
    // No dispatcher pre-check: the route table sends it to the on-duty cardiologist.
    assert_eq!(app.act(&doctor, id, "submit", json!({})).await, "assigned");
    let c = app
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(c["assigned_tkc"]["name"], "ТКЦ ОКБ");
    assert_eq!(c["consultants"][0]["name"], "Смирнов А. В.");
    assert_eq!(
        time(&c["deadline"]) - time(&c["submitted_at"]),
        Duration::hours(2)
    );
    let events = app
        .get(&doctor, &format!("/api/v1/consultations/{id}/events"))
        .await;
    assert_eq!(events[1]["details"]["routed"], true);
    // The consultant sees it among their requests and can accept it at once.
    let mine = app
        .get(
            &consultant,
            "/api/v1/consultations?form_of_care=emergency&status=assigned",
        )
        .await;
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id),
        "{mine}"
    );
    assert_eq!(
        app.act(&consultant, id, "accept", json!({})).await,
        "accepted"
    );
}
both_backends!(
    emergency_request_is_routed_by_the_route_table,
    super::emergency_path
);

async fn illegal_and_forbidden(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let consultant2 = app.login("consultant2").await;
    let doctor2 = app.login("doctor2").await;
    let analyst = app.login("analyst").await;
    let id = app.create(&doctor, complete_request("urgent")).await;

    // A state that does not allow the action: 409, with the status named in Russian.
    let (s, body) = app.act_status(&doctor, id, "acknowledge", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("Черновик"),
        "{body}"
    );

    app.act(&doctor, id, "submit", json!({})).await;
    // A role that may not: 403.
    let (s, body) = app.act_status(&doctor, id, "take", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["title"], "Недостаточно прав для этого действия");
    // Another organization's doctor does not even see it.
    let (s, _) = app
        .call(
            Some(&doctor2),
            Method::GET,
            &format!("/api/v1/consultations/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A consultant not assigned to it neither.
    let (s, _) = app.act_status(&consultant2, id, "accept", json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An analyst sees no personal data.
    let (s, _) = app
        .call(Some(&analyst), Method::GET, "/api/v1/consultations", None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Without a token: 401.
    let (s, body) = app
        .call(None, Method::GET, "/api/v1/consultations", None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");

    app.act(&dispatcher, id, "take", json!({})).await;
    let (s, _) = app.act_status(&dispatcher, id, "take", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Reject needs a reason code from the list; return needs a comment.
    let (s, body) = app.act_status(&dispatcher, id, "reject", json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "reason_code");
    let (s, body) = app
        .act_status(&dispatcher, id, "return", json!({"comment": "  "}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "comment");
    // An unknown action is not a route.
    let (s, _) = app.act_status(&dispatcher, id, "teleport", json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
both_backends!(
    illegal_transitions_conflict_and_wrong_roles_are_forbidden,
    super::illegal_and_forbidden
);

async fn return_pauses_the_deadline(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let id = app.create(&doctor, complete_request("urgent")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    app.act(&dispatcher, id, "take", json!({})).await;
    assert_eq!(
        app.act(
            &dispatcher,
            id,
            "return",
            json!({"comment": "Приложите ЭКГ"})
        )
        .await,
        "returned"
    );
    let c = app
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(c["deadline_paused"], true);
    assert!(
        c["available_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("resubmit")),
        "{c}"
    );
    let before = time(&c["deadline"]);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The doctor edits the returned request and sends it again; the pause moved the deadline.
    let (s, body) = app
        .call(
            Some(&doctor),
            Method::PATCH,
            &format!("/api/v1/consultations/{id}"),
            Some(json!({"instrumental_results": "ЭКГ от 28.11.2026: подъём ST в V1–V4"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        app.act(&doctor, id, "resubmit", json!({})).await,
        "submitted"
    );
    let c = app
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(c["deadline_paused"], false);
    assert!(
        time(&c["deadline"]) >= before + Duration::seconds(1),
        "deadline {} did not move from {before}",
        c["deadline"]
    );
    assert_eq!(
        c["instrumental_results"],
        "ЭКГ от 28.11.2026: подъём ST в V1–V4"
    );
}
both_backends!(
    return_for_revision_pauses_the_deadline,
    super::return_pauses_the_deadline
);

async fn validation_errors(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let mut bad = complete_request("planned");
    bad["patient"]["snils"] = json!("112-233-445 96");
    bad["patient"]["birth_date"] = json!("01.01.2090");
    bad["diagnosis"]["main"] = json!("I2");
    let (s, body) = app
        .call(
            Some(&doctor),
            Method::POST,
            "/api/v1/consultations",
            Some(bad.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["title"], "Проверьте заполнение полей");
    let errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let message = |field: &str| {
        errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("no error for {field}: {errors:?}"))
    };
    assert!(message("patient.snils").contains("контрольное число СНИЛС"));
    assert!(message("patient.birth_date").contains("в будущем"));
    assert!(message("diagnosis.main").contains("МКБ-10"));

    // A well-formed code that is not in the reference.
    let mut unknown = complete_request("planned");
    unknown["diagnosis"]["main"] = json!("X99.99");
    let (s, body) = app
        .call(
            Some(&doctor),
            Method::POST,
            "/api/v1/consultations",
            Some(unknown),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "diagnosis.main");
    assert_eq!(
        body["errors"][0]["message"],
        "Такого кода нет в справочнике МКБ-10"
    );

    // In English when asked.
    let (s, body) = app
        .call_lang(
            Some(&doctor),
            Method::POST,
            "/api/v1/consultations",
            Some(bad),
            "en-GB,en;q=0.9",
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["title"], "Please check the fields");

    // A draft may be incomplete, but submission says what is missing.
    let id = app
        .create(&doctor, json!({"patient": {"last_name": "Неполный"}}))
        .await;
    let (s, body) = app.act_status(&doctor, id, "submit", json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "patient.first_name",
        "patient.birth_date",
        "form_of_care",
        "profile",
        "diagnosis.main",
        "question",
    ] {
        assert!(fields.contains(&f), "{f} not reported: {fields:?}");
    }
    // Nothing was lost: the draft keeps what was typed.
    let c = app
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(c["patient"]["last_name"], "Неполный");
    assert_eq!(c["status"], "draft");

    // Malformed JSON is a problem document too.
    let resp = app
        .client
        .post(format!("{}/api/v1/consultations", app.base))
        .bearer_auth(&doctor)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}
both_backends!(
    invalid_snils_icd10_and_dates_are_named_in_russian,
    super::validation_errors
);

async fn survives_restart(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    let db = app.stop().await;

    let app = TestApp::start(db).await;
    // The old token still works: sessions live in the database, not in the process.
    let c = app
        .get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(c["status"], "submitted");
    assert_eq!(c["patient"]["snils"], "11223344595");
    assert_eq!(c["diagnosis"]["comorbidities"][0], "E11.9");
}
both_backends!(
    a_submitted_request_survives_a_server_restart,
    super::survives_restart
);

/// A dispatcher looks a patient up the way people type: a surname's start,
/// `е` for `ё`, any case, a СНИЛС with or without its dashes or only a part of it.
async fn search_by_name_and_number(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let mut body = complete_request("planned");
    body["patient"]["last_name"] = json!("Фёдорова");
    body["patient"]["first_name"] = json!("Алёна");
    body["patient"]["sex"] = json!("female");
    let fedorova = app.create(&doctor, body).await;
    app.act(&doctor, fedorova, "submit", json!({})).await;
    let testov = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, testov, "submit", json!({})).await;

    let found = |q: &'static str| {
        let app = &app;
        let dispatcher = &dispatcher;
        async move {
            let page = app
                .get(
                    dispatcher,
                    &format!(
                        "/api/v1/consultations?per_page=200&q={}",
                        q.replace(' ', "%20")
                    ),
                )
                .await;
            // The demo region has patients of its own (a Фёдор among them):
            // only these two requests are looked at.
            let mut ids: Vec<i64> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap())
                .filter(|id| *id == fedorova || *id == testov)
                .collect();
            ids.sort_unstable();
            ids
        }
    };
    let both = {
        let mut v = vec![fedorova, testov];
        v.sort_unstable();
        v
    };
    assert_eq!(found("федорова алена").await, vec![fedorova], "е for ё");
    assert_eq!(
        found("ФЁДОР").await,
        vec![fedorova],
        "the start of a surname, any case"
    );
    assert_eq!(found("алён федор").await, vec![fedorova], "any order");
    assert_eq!(
        found("дорова").await,
        Vec::<i64>::new(),
        "not from the middle of a word"
    );
    assert_eq!(found("112-233-445 95").await, both, "СНИЛС as printed");
    assert_eq!(found("44595").await, both, "the end of a СНИЛС");
    assert_eq!(
        found("тестов 2233").await,
        vec![testov],
        "a name and a number"
    );
    assert_eq!(found("федорова 9999").await, Vec::<i64>::new());
}
both_backends!(
    search_finds_names_by_their_start_and_numbers_by_any_part,
    super::search_by_name_and_number
);

/// The scrape token the probes test configures.
const SCRAPE_TOKEN: &str = "prometheus-scrape-secret";

async fn reference_and_probes(backend: BackendKind) {
    let app = TestApp::spawn_custom(backend, |mut svc| {
        svc.metrics_access = std::sync::Arc::new(rtms_service::MetricsAccess {
            token: Some(SCRAPE_TOKEN.into()),
            allow: vec![],
        });
        svc
    })
    .await;
    let doctor = app.login("doctor").await;
    let found = app.get(&doctor, "/api/v1/reference/icd10?q=%D0%B8%D0%BD%D1%84%D0%B0%D1%80%D0%BA%D1%82%20%D0%BC%D0%B8%D0%BE%D0%BA%D0%B0%D1%80%D0%B4%D0%B0").await;
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "I21.0"),
        "{found}"
    );
    let by_code = app.get(&doctor, "/api/v1/reference/icd10?q=i21.").await;
    assert!(
        by_code
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["code"].as_str().unwrap().starts_with("I21.")),
        "{by_code}"
    );
    let profiles = app.get(&doctor, "/api/v1/reference/profiles").await;
    let cardio = profiles
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "cardiology")
        .unwrap();
    assert_eq!(cardio["name"], "Кардиология");
    assert!(cardio["hint"].as_str().unwrap().contains("ЭКГ"));

    let (s, _) = app.call(None, Method::GET, "/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.call(None, Method::GET, "/readyz", None).await;
    assert_eq!(s, StatusCode::OK);
    // Operations: counts by route and by state, for Prometheus on this host.
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth(SCRAPE_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "rtms_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("rtms_http_request_duration_seconds_bucket{route=\"/api/v1/reference/icd10\",method=\"GET\",le=\"+Inf\"} 2"), "{metrics}");
    assert!(
        metrics.contains("rtms_consultations{status=\"in_progress\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("rtms_consultations_overdue "));
    assert!(metrics.contains("rtms_database_up 1"));
}
both_backends!(
    reference_search_and_health_probes,
    super::reference_and_probes
);

/// `/metrics` answers only a scraper with the configured token or one calling
/// from a configured address; by default nobody, loopback included (a reverse
/// proxy on the same host makes every visitor a loopback client).
async fn metrics_access(backend: BackendKind) {
    let scrape = |app: &TestApp, token: Option<&'static str>| {
        let mut req = app.client.get(format!("{}/metrics", app.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let app = TestApp::spawn(backend).await;
    let resp = scrape(&app, None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "served by default");
    assert!(resp.text().await.unwrap().contains("--metrics-token"));
    let db = app.stop().await;
    let with_token = |allow: Vec<std::net::IpAddr>| {
        move |mut svc: rtms_service::Services| {
            svc.metrics_access = std::sync::Arc::new(rtms_service::MetricsAccess {
                token: Some(SCRAPE_TOKEN.into()),
                allow,
            });
            svc
        }
    };
    let app = TestApp::start_custom(
        db,
        std::sync::Arc::new(rtms_service::SystemClock),
        with_token(vec![]),
    )
    .await;
    for wrong in [None, Some("prometheus-scrape-secreT"), Some("")] {
        assert_eq!(
            scrape(&app, wrong).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "token {wrong:?}"
        );
    }
    let resp = scrape(&app, Some(SCRAPE_TOKEN)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("rtms_database_up 1"));
    // A listed address needs no token; an unlisted one does.
    let db = app.stop().await;
    let app = TestApp::start_custom(
        db,
        std::sync::Arc::new(rtms_service::SystemClock),
        with_token(vec!["127.0.0.1".parse().unwrap()]),
    )
    .await;
    assert_eq!(scrape(&app, None).await.unwrap().status(), StatusCode::OK);
    let db = app.stop().await;
    let app = TestApp::start_custom(
        db,
        std::sync::Arc::new(rtms_service::SystemClock),
        with_token(vec!["10.1.2.3".parse().unwrap()]),
    )
    .await;
    assert_eq!(
        scrape(&app, None).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}
both_backends!(
    metrics_need_a_token_or_a_listed_address,
    super::metrics_access
);

#[tokio::test]
async fn openapi_lists_every_route() {
    let app = TestApp::spawn(BackendKind::Sqlite).await;
    let (s, doc) = app.call(None, Method::GET, "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/auth/login", &["post"][..]),
        ("/api/v1/consultations", &["get", "post"]),
        ("/api/v1/consultations/{id}", &["get", "patch"]),
        ("/api/v1/consultations/{id}/actions/{action}", &["post"]),
        ("/api/v1/consultations/{id}/events", &["get"]),
        ("/api/v1/consultations/{id}/messages", &["get", "post"]),
        ("/api/v1/consultations/{id}/conclusion", &["get", "put"]),
        ("/api/v1/consultants", &["get"]),
        ("/api/v1/reference/icd10", &["get"]),
        ("/api/v1/video", &["get", "post"]),
        ("/api/v1/video/{id}", &["get"]),
        ("/api/v1/video/{id}/ice", &["get"]),
    ] {
        let entry = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from the OpenAPI document"));
        for m in methods {
            assert!(entry.get(*m).is_some(), "{m} {path} missing");
        }
    }
    assert!(doc["components"]["schemas"]["ConsultationPatch"].is_object());
}

/// The served document passes an independent validator of the OpenAPI
/// specification (openapi-spec-validator from PyPI, in the test tools' venv
/// that scripts/python-env.sh makes): what a МИС vendor's generator reads
/// first. It states its version, and operation ids are unique (a generated
/// client names its methods by them).
#[tokio::test]
async fn the_openapi_document_is_valid_and_versioned() {
    let app = TestApp::spawn(BackendKind::Sqlite).await;
    let (s, doc) = app.call(None, Method::GET, "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["info"]["version"], "1.6.0");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let python = std::env::var("RTMS_SEMD_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e} (run scripts/python-env.sh)"));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each lifecycle action is an operation of its own (`act_<action>`) whose
/// body is exactly what that action reads, required where the service
/// requires it; the generic `{action}` operation is deprecated, and no
/// longer offers `ask`/`answer` (messages, not actions). A draft's creation
/// links to them, for clients that follow OpenAPI links.
#[tokio::test]
async fn each_action_is_an_operation_with_its_own_parameters() {
    let app = TestApp::spawn(BackendKind::Sqlite).await;
    let (_, doc) = app.call(None, Method::GET, "/api/openapi.json", None).await;
    let op =
        |a: &str| doc["paths"][format!("/api/v1/consultations/{{id}}/actions/{a}")]["post"].clone();
    let reject = op("reject");
    assert_eq!(reject["operationId"], "act_reject");
    let body = &reject["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["required"], json!(["reason_code"]));
    assert_eq!(body["additionalProperties"], json!(false));
    assert!(body["properties"]["reason_code"]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("duplicate")));
    assert_eq!(
        op("return")["requestBody"]["content"]["application/json"]["schema"]["required"],
        json!(["comment"])
    );
    assert_eq!(op("sign")["requestBody"]["required"], json!(false));
    assert!(op("ask").is_null() && op("answer").is_null());
    let generic = op("{action}");
    assert_eq!(generic["deprecated"], json!(true));
    let names = generic["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "action")
        .unwrap()["schema"]["enum"]
        .clone();
    assert!(
        !names.as_array().unwrap().contains(&json!("ask")),
        "{names}"
    );
    let links = &doc["paths"]["/api/v1/consultations"]["post"]["responses"]["201"]["links"];
    assert_eq!(links["act_submit"]["operationId"], "act_submit");
    assert_eq!(
        links["act_submit"]["parameters"]["id"],
        "$response.body#/id"
    );

    // The server holds to the documents' words: a reject without its reason
    // and a list filtered by a misspelt status are refused, naming the field.
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    app.act(&dispatcher, id, "take", json!({})).await;
    let (s, p) = app
        .call(
            Some(&dispatcher),
            Method::POST,
            &format!("/api/v1/consultations/{id}/actions/reject"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "reason_code", "{p}");
    let (s, p) = app
        .call(
            Some(&dispatcher),
            Method::GET,
            "/api/v1/consultations?status=submitted,%20closed",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    // A page far past the end is empty, not a server error.
    let (s, p) = app
        .call(
            Some(&dispatcher),
            Method::GET,
            "/api/v1/consultations?page=9223372036854775806&per_page=200",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["items"], json!([]), "{p}");
}

/// Every error the API can give is declared where a generated client looks:
/// problem+json with the Problem schema, 401/403 on every operation that
/// needs a token, 404 where the path names an object, 400/422 where input is
/// read. And the server keeps to it: an unreadable query or path is a 422 problem
/// document in the caller's language, not plain text; an empty body to
/// verify is refused, not verified.
#[tokio::test]
async fn errors_are_declared_and_answered_as_problems() {
    let app = TestApp::spawn(BackendKind::Sqlite).await;
    let (_, doc) = app.call(None, Method::GET, "/api/openapi.json", None).await;
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op["responses"].as_object() else {
                continue;
            };
            operations += 1;
            let at = format!("{method} {path}");
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{at} {status}: {r}"
                    );
                    assert!(
                        r["content"].get("application/json").is_none(),
                        "{at} {status}"
                    );
                }
            }
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(status),
                        "{at} does not declare {status}"
                    );
                }
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{at} does not declare 404");
            }
        }
    }
    assert!(operations >= 60, "{operations} operations");

    let doctor = app.login("doctor").await;
    for (path, lang, words) in [
        (
            "/api/v1/consultations?page=first",
            "ru",
            "Неверные параметры запроса",
        ),
        (
            "/api/v1/consultations?page=first",
            "en",
            "Invalid query parameters",
        ),
        ("/api/v1/consultations/first", "en", "Invalid address"),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&doctor)
            .header("Accept-Language", lang)
            .send()
            .await
            .unwrap();
        // Unreadable input is 422, as an unreadable JSON body always was.
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], 422);
        assert!(body.to_string().contains(words), "{path} {lang}: {body}");
    }
    // A whole number written 5.0 is an integer to JSON Schema: accepted.
    let admin = app.login("admin").await;
    app.change_settings(&admin, json!({"emergency_minutes": 90.0}))
        .await;
    assert_eq!(
        app.get(&admin, "/api/v1/admin/settings").await["emergency_minutes"],
        90
    );
    // An empty choice in the list's filter means "any".
    let page = app
        .get(&doctor, "/api/v1/consultations?form_of_care=&profile=")
        .await;
    assert!(
        page["items"].as_array().is_some_and(|i| !i.is_empty()),
        "{page}"
    );
    let r = app
        .client
        .post(format!("{}/api/v1/verify", app.base))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(body.to_string().contains("No file received"), "{body}");
}

/// What the audit log keeps of a search: who searched and what was found,
/// not the name that was typed (a patient's name).
async fn search_terms_not_in_the_audit_log(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let auditor = app.login("auditor").await;
    let mut body = complete_request("planned");
    body["patient"]["last_name"] = json!("Пржевальская");
    app.create(&doctor, body).await;
    let page = app
        .get(
            &doctor,
            "/api/v1/consultations?q=%D0%BF%D1%80%D0%B6%D0%B5%D0%B2%D0%B0%D0%BB%D1%8C%D1%81%D0%BA%D0%B0%D1%8F",
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    app.get(&doctor, "/api/v1/consultations?q=112-233-445%2095")
        .await;
    let log = app
        .get(
            &auditor,
            "/api/v1/audit?action=read&object_type=consultation_list&login=doctor",
        )
        .await;
    let entries = log["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{log}");
    let all = log.to_string().to_lowercase();
    assert!(!all.contains("пржевальская"), "{all}");
    assert!(!all.contains("112-233-445"), "{all}");
    // The record keeps the search's shape; the auditor reads it in words.
    let texts: Vec<&str> = entries
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("поиск по имени: 1 слово, 12 знаков")
                && t.contains("показан 1 запрос: № ")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("поиск по номеру: 11 цифр")),
        "{texts:?}"
    );
    let details: serde_json::Value =
        serde_json::from_str(entries[0]["details"].as_str().unwrap()).unwrap();
    assert!(details["search"]["by"].is_string(), "{details}");
}
both_backends!(
    the_audit_log_keeps_no_search_text,
    super::search_terms_not_in_the_audit_log
);

/// The auditor reads the journal as sentences, in their language: who (role
/// and name, the verb in the person's gender), what, which request; a list's
/// filter and a draft's changed fields in words. The record stays data.
async fn audit_log_reads_as_sentences(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let admin = app.login("admin").await;
    let auditor = app.login("auditor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let (s, body) = app
        .call(
            Some(&doctor),
            Method::PATCH,
            &format!("/api/v1/consultations/{id}"),
            Some(json!({"question": "Нужна ли коронарография?", "patient": {"last_name": "Сидорова"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    app.act(&doctor, id, "submit", json!({})).await;
    app.get(&dispatcher, &format!("/api/v1/consultations/{id}"))
        .await;
    app.get(
        &dispatcher,
        "/api/v1/consultations?status=submitted&form_of_care=planned",
    )
    .await;
    app.change_settings(&admin, json!({"emergency_minutes": 90}))
        .await;

    let texts = |lang: &'static str, query: &'static str| {
        let app = &app;
        let auditor = auditor.clone();
        async move {
            let (s, log) = app
                .call_lang(
                    Some(&auditor),
                    Method::GET,
                    &format!("/api/v1/audit?{query}"),
                    None,
                    lang,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{log}");
            log["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["text"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let has = |texts: &[String], want: &str| {
        assert!(
            texts.iter().any(|t| t.contains(want)),
            "no «{want}» in {texts:#?}"
        )
    };
    let opened = texts(
        "ru",
        "login=dispatcher&action=read&object_type=consultation",
    )
    .await;
    has(
        &opened,
        &format!("Диспетчер КТЦ Орлова М. И. открыла запрос № {id}"),
    );
    let lists = texts("ru", "login=dispatcher&object_type=consultation_list").await;
    has(&lists, "Диспетчер КТЦ Орлова М. И. просмотрела список запросов: статус: Направлен; форма помощи: Плановая — показан");
    let edits = texts("ru", "login=doctor&action=update").await;
    has(&edits, &format!("Лечащий врач Петрова А. С. изменила черновик запроса № {id}: поля Фамилия, Вопрос(ы) к консультанту"));
    let submits = texts("ru", "login=doctor&action=submit").await;
    has(
        &submits,
        &format!("отправила запрос № {id}: «Черновик» → «Направлен»"),
    );
    let settings = texts("ru", "login=admin&action=settings_update").await;
    has(
        &settings,
        "Администратор Кузнецов О. П. изменил настройки региона: Экстренная 120 → 90",
    );
    // The same rows for an English-speaking auditor.
    let opened = texts(
        "en",
        "login=dispatcher&action=read&object_type=consultation",
    )
    .await;
    has(
        &opened,
        &format!("Dispatcher Орлова М. И. opened request No. {id}"),
    );
    let lists = texts("en", "login=dispatcher&object_type=consultation_list").await;
    has(
        &lists,
        "viewed the list of requests: status: Submitted; form of care: Planned — ",
    );
    has(&lists, " requests shown: No. ");
    // No row is Rust's debug output or a bare code.
    let all = texts("ru", "").await;
    for t in &all {
        assert!(
            !t.contains("Filter {") && !t.contains('⟦') && !t.contains("Some("),
            "{t}"
        );
    }
}
both_backends!(
    the_audit_log_reads_as_sentences,
    super::audit_log_reads_as_sentences
);

/// Nothing with patient data is kept by a browser or proxy (`no-store` on
/// every page and API answer; static assets stay cacheable); HSTS only when
/// the server itself speaks TLS.
async fn caching_and_transport_headers(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let cookie = app.ui_login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let api = app
        .client
        .get(format!("{}/api/v1/consultations/{id}", app.base))
        .bearer_auth(&doctor)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert!(api.headers().get("strict-transport-security").is_none());
    for path in ["/queue".to_string(), format!("/requests/{id}")] {
        let page = app.page(Method::GET, &path, Some(&cookie)).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(page.headers()["cache-control"], "no-store", "{path}");
        assert!(page.headers().get("strict-transport-security").is_none());
    }
    let css = app.page(Method::GET, "/static/app.css", None).await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
    let db = app.stop().await;

    // The same database served over HTTPS.
    let dir = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .current_dir(dir.path())
        .output()
        .expect("openssl is installed");
    assert!(made.status.success());
    let store = rtms_store::Db::connect(&db.url, 4).unwrap();
    let svc = rtms_service::Services::new(store, std::sync::Arc::new(rtms_service::SystemClock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let server = tokio::spawn(async move {
        rtms_web::serve_tls(listener, svc, vec![], &cert, &key, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    // The headers are the point here, not the certificate (a self-signed one
    // is no CA for rustls): it is taken as it is.
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let base = format!("https://localhost:{}", addr.port());
    let r = client
        .get(format!("{base}/api/v1/consultations/{id}"))
        .bearer_auth(&doctor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let _ = stop.send(());
    server.await.unwrap();
}
both_backends!(
    no_store_everywhere_and_hsts_over_tls,
    super::caching_and_transport_headers
);

/// A NUL character (which no person types, and PostgreSQL cannot store) in a
/// query, a path or a JSON body is refused with a problem in the caller's
/// language, on both backends — it was a server error on PostgreSQL.
async fn nul_is_refused(kind: BackendKind) {
    let app = TestApp::spawn(kind).await;
    let doctor = app.login("doctor").await;
    let (s, p) = app
        .call(
            Some(&doctor),
            Method::GET,
            "/api/v1/reference/icd10?q=I2%001",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap_or("").contains("NUL"), "{p}");
    let (s, p) = app
        .call(
            Some(&doctor),
            Method::POST,
            "/api/v1/consultations",
            Some(json!({"question": "a\u{0}b"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap_or("").contains("NUL"), "{p}");
    let (s, p) = app
        .call(
            Some(&doctor),
            Method::GET,
            "/api/v1/consultations/1%00",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap_or("").contains("NUL"), "{p}");
}
both_backends!(a_nul_character_is_refused, super::nul_is_refused);

/// What schemathesis found once the schemas stated the fields' rules (so
/// that it made valid organizations and drafts): a role for a user who does
/// not exist was a broken foreign key (500), now a 404; a patient's name
/// holding characters no font can draw stopped the request's PDF (500), now
/// the PDF marks them.
async fn found_by_the_contract_test(kind: BackendKind) {
    let app = TestApp::spawn(kind).await;
    let admin = app.login("admin").await;
    let (s, p) = app
        .call(
            Some(&admin),
            Method::POST,
            "/api/v1/admin/users/9223372036854775806/roles",
            Some(json!({"organization_id": 1, "role": "admin"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{p}");

    let doctor = app.login("doctor").await;
    let (s, created) = app
        .call(
            Some(&doctor),
            Method::POST,
            "/api/v1/consultations",
            Some(json!({"patient": {"last_name": "A\u{1b}\u{f25b1}\u{b11e}", "first_name": "B"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (s, pdf) = app
        .call(
            Some(&doctor),
            Method::GET,
            &format!("/api/v1/consultations/{id}/summary.pdf"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{pdf}");
    assert!(pdf.as_str().is_some_and(|t| t.starts_with("%PDF-")));
}
both_backends!(
    what_the_contract_test_found_is_answered,
    super::found_by_the_contract_test
);

/// Browsers report CSP violations and script errors to `/browser-report`
/// (named in every page's policy); hostile reports are refused by size and
/// form, and an address that floods is limited.
async fn browser_reports(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let page = app
        .browser
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("report-uri /browser-report"), "{csp}");
    let url = format!("{}/browser-report", app.base);
    let client = reqwest::Client::new();
    let post = |ctype: &'static str, body: Vec<u8>| {
        client
            .post(&url)
            .header("Content-Type", ctype)
            .body(body)
            .send()
    };
    // As a browser sends it: no session, no Origin.
    let r = post(
        "application/csp-report",
        br#"{"csp-report":{"document-uri":"http://x/queue","effective-directive":"style-src-attr","blocked-uri":"inline"}}"#.to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = post(
        "application/json",
        br#"{"script-error":{"page":"/queue","message":"boom","source":"/static/app.js","line":3}}"#.to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Not a report; over the size limit (refused on the announced length).
    let r = post("application/json", b"{\"a\":1}".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let big = vec![b' '; rtms_web::limits::BROWSER_REPORT_MAX_BYTES + 1];
    let r = post("application/csp-report", big).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A flood is cut off.
    let mut limited = false;
    for _ in 0..rtms_web::browser_report::BURST {
        let r = post("application/json", b"{}".to_vec()).await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    assert!(limited, "an address posting reports without end is limited");
}
both_backends!(browsers_report_to_the_server, super::browser_reports);
