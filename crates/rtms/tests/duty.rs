//! Duty rosters and the emergency call chain, with a controlled clock, on
//! both backends: a holiday night with two profiles; an emergency at 03:00
//! goes to whoever is on duty (an absent primary skipped); unanswered calls
//! pass to the backup, then to the dispatchers, each told once; a roster
//! import with errors is refused row by row and changes nothing.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{complete_request, TestApp};
use reqwest::{Method, StatusCode};
use rtms_domain::Role;
use rtms_service::access::auth::NewUserSpec;
use rtms_service::{ManualClock, Services};
use rtms_store::BackendKind;
use serde_json::{json, Value};

async fn put_csv(app: &TestApp, token: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let resp = app
        .client
        .put(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .header("accept-language", "ru")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Who is assigned to a request, by login-independent surname.
async fn assigned(app: &TestApp, token: &str, id: i64) -> Vec<String> {
    let c = app.get(token, &format!("/api/v1/consultations/{id}")).await;
    c["consultants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["name"]
                .as_str()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn emergency(app: &TestApp, doctor: &str, profile: &str) -> i64 {
    let mut body = complete_request("emergency");
    body["profile"] = json!(profile);
    if profile == "neurology" {
        body["diagnosis"]["main"] = json!("I63.9");
    }
    let id = app.create(doctor, body).await;
    assert_eq!(app.act(doctor, id, "submit", json!({})).await, "assigned");
    id
}

async fn night_with_two_profiles(backend: BackendKind) {
    // 23 February 2027, a Tuesday and a public holiday; 03:00 in Moscow.
    let night: DateTime<Utc> = "2027-02-23T00:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(night));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    let url = app.db.url.clone();
    let svc = Services::new(rtms_store::Db::connect(&url, 2).unwrap(), clock.clone());
    let okb = app.org_id("ТКЦ ОКБ").await;
    // The vascular centre's night people.
    let people = [
        ("kardio_noch", "Ночной"),
        ("kardio_rezerv", "Резервный"),
        ("nevro_bolen", "Болеющий"),
        ("nevro_rezerv", "Запасной"),
    ];
    let maker = svc.clone();
    tokio::task::spawn_blocking(move || {
        for (login, surname) in people {
            maker
                .create_user(&NewUserSpec {
                    login: login.into(),
                    password: "rtms-demo-password".into(),
                    last_name: surname.into(),
                    first_name: "Иван".into(),
                    middle_name: "Петрович".into(),
                    position: "Врач".into(),
                    phone: "+7 900 111-22-33".into(),
                    email: String::new(),
                    roles: vec![(Role::Consultant, okb)],
                    profiles: vec!["cardiology".into(), "neurology".into()],
                    must_change_password: false,
                    snils: None,
                    position_code: None,
                })
                .unwrap();
        }
    })
    .await
    .unwrap();

    // The production calendar: 23 February is a holiday.
    let admin = app.login("admin").await;
    let (status, body) = put_csv(
        &app,
        &admin,
        "/api/v1/duty/calendar?source=%D0%9F%D0%BE%D1%81%D1%82%D0%B0%D0%BD%D0%BE%D0%B2%D0%BB%D0%B5%D0%BD%D0%B8%D0%B5",
        "date;kind\n23.02.2027;holiday\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let coordinator = app.login("coordinator").await;
    let roster_path = format!("/api/v1/duty/centres/{okb}/roster");
    // A roster with errors: refused, each bad row named, nothing imported.
    let bad = "date;profile;kind;start;end;primary;backups\n\
               22.02.2027;cardiology;night;20:00;08:00;kardio_noch;kardio_rezerv\n\
               24.02.2027;cardiology;weekend;08:00;08:00;consultant;\n\
               22.02.2027;neurology;night;20:00;08:00;nikto;nevro_rezerv\n\
               22.02.2027;neurology;night;25:00;08:00;nevro_bolen;\n";
    let (status, body) = put_csv(&app, &coordinator, &roster_path, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
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
    assert!(
        errors.contains(&(
            "rows[3].kind".into(),
            "Смена «выходной» ставится только на выходной или праздничный день".into()
        )),
        "{errors:?}"
    );
    assert!(
        errors.contains(&(
            "rows[4].primary".into(),
            "Нет пользователя с таким логином".into()
        )),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("rows[5].start".into(), "Время в формате ЧЧ:ММ".into())),
        "{errors:?}"
    );
    assert!(
        errors.iter().all(|(f, _)| !f.starts_with("rows[2]")),
        "row 2 is good: {errors:?}"
    );
    let roster = app
        .get(
            &coordinator,
            &format!("{roster_path}?from=2027-02-22&days=3"),
        )
        .await;
    assert_eq!(
        roster["shifts"],
        json!([]),
        "nothing of a refused file is kept"
    );

    // The good roster: the holiday's night, then its day shift (a weekend
    // shift, allowed because the calendar makes the day a holiday).
    let good = "date;profile;kind;start;end;primary;backups\n\
                22.02.2027;cardiology;night;20:00;08:00;kardio_noch;kardio_rezerv\n\
                23.02.2027;cardiology;weekend;08:00;08:00;consultant;kardio_rezerv\n\
                22.02.2027;neurology;night;20:00;08:00;nevro_bolen;nevro_rezerv\n";
    let (status, body) = put_csv(&app, &coordinator, &roster_path, good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["shifts"], 3);
    let roster = app
        .get(
            &coordinator,
            &format!("{roster_path}?from=2027-02-22&days=3"),
        )
        .await;
    assert_eq!(roster["shifts"].as_array().unwrap().len(), 3);
    let tuesday = &roster["days"][1];
    assert_eq!(
        (tuesday["holiday"].clone(), tuesday["day_off"].clone()),
        (json!(true), json!(true))
    );
    // The neurologist on duty is on sick leave.
    let sick = {
        let users = app.get(&admin, "/api/v1/admin/users").await;
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["login"] == "nevro_bolen")
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (status, body) = app
        .call(
            Some(&coordinator),
            Method::POST,
            &format!("/api/v1/duty/centres/{okb}/absences"),
            Some(
                json!({"user_id": sick, "kind": "sick", "from": "2027-02-20", "to": "2027-02-26"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The dispatcher's assignment list says who is on duty and who is away,
    // and suggests the least loaded of those here.
    let dispatcher = app.login("dispatcher").await;
    let list = app
        .get(&dispatcher, "/api/v1/consultants?profile=neurology")
        .await;
    let person = |surname: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str().unwrap().starts_with(surname))
            .cloned()
            .unwrap_or_else(|| panic!("{surname} in {list}"))
    };
    assert_eq!(person("Болеющий")["absent"], true);
    assert_eq!(
        person("Болеющий")["on_duty"],
        true,
        "on the roster, though away"
    );
    assert_eq!(person("Ночной")["on_duty"], true);
    assert_eq!(person("Смирнов")["on_duty"], false);
    let suggested: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["suggested"] == true)
        .collect();
    assert_eq!(suggested.len(), 1, "{list}");
    assert_eq!(suggested[0]["absent"], false);
    assert_eq!(suggested[0]["open_consultations"], 0, "{list}");

    // «Кто дежурит сейчас»: the doctor sees both profiles, now and next.
    let doctor = app.login("doctor").await;
    let board = app.get(&doctor, "/api/v1/duty/now").await;
    let row = |code: &str| {
        board
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["profile"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("{code} on the board: {board}"))
    };
    let cardio = row("cardiology");
    assert_eq!(cardio["now"]["people"][0]["name"], "Ночной И. П.");
    assert_eq!(cardio["next"]["people"][0]["name"], "Смирнов А. В.");
    assert_eq!(cardio["next"]["kind"], "weekend");
    let neuro = row("neurology");
    assert_eq!(neuro["now"]["people"][0]["absent"], true);
    assert_eq!(neuro["now"]["people"][1]["absent"], false);
    assert_eq!(
        neuro["now"]["people"][0]["phone"],
        Value::Null,
        "phones are hidden unless the centre shows them"
    );

    let run = {
        let svc = svc.clone();
        move || {
            let svc = svc.clone();
            async move {
                tokio::task::spawn_blocking(move || svc.run_duty_calls().unwrap())
                    .await
                    .unwrap()
            }
        }
    };
    // The demo's own emergencies, left unacknowledged since it was seeded,
    // pass first; then only ours matter.
    run().await;

    // Neurology has no emergency route any more: the roster alone finds the centre.
    let (status, body) = app
        .call(
            Some(&admin),
            Method::PUT,
            "/api/v1/admin/routes",
            Some(json!({"profile": "neurology", "form_of_care": "emergency", "tkc_id": null})),
        )
        .await;
    assert!(status.is_success(), "{body}");

    // 03:00: two emergencies. Cardiology goes to the night cardiologist,
    // neurology past the sick primary to the backup.
    let heart = emergency(&app, &doctor, "cardiology").await;
    let brain = emergency(&app, &doctor, "neurology").await;
    assert_eq!(assigned(&app, &doctor, heart).await, ["Ночной"]);
    assert_eq!(assigned(&app, &doctor, brain).await, ["Запасной"]);
    let night_token = app.login("kardio_noch").await;
    let chain = app
        .get(&night_token, &format!("/api/v1/consultations/{heart}/duty"))
        .await;
    assert_eq!(chain["may_ack"], true, "{chain}");
    assert_eq!(chain["open"]["name"], "Ночной И. П.");

    // Nine minutes: nothing passes.
    clock.advance(Duration::minutes(9));
    assert_eq!(run().await, 0);
    // Ten: both pass — cardiology to its backup, neurology (its backup was
    // the one called) to the dispatchers.
    clock.advance(Duration::minutes(1));
    assert_eq!(run().await, 2);
    assert_eq!(run().await, 0, "a call passes once");
    let doctor = app.login("doctor").await;
    assert_eq!(assigned(&app, &doctor, heart).await, ["Резервный"]);
    assert_eq!(
        app.notification_kinds("kardio_rezerv", heart).await,
        ["duty_call"]
    );
    assert_eq!(
        app.notification_kinds("dispatcher", brain)
            .await
            .iter()
            .filter(|k| *k == "duty_alarm")
            .count(),
        1
    );
    assert!(app
        .notification_kinds("dispatcher", heart)
        .await
        .iter()
        .all(|k| k != "duty_alarm"));
    // The primary can no longer acknowledge; the backup can.
    let night_token = app.login("kardio_noch").await;
    let (status, _) = app
        .call(
            Some(&night_token),
            Method::POST,
            &format!("/api/v1/consultations/{heart}/duty/ack"),
            None,
        )
        .await;
    assert_ne!(status, StatusCode::NO_CONTENT);

    // Ten more minutes and the backup did not answer either: the dispatchers.
    clock.advance(Duration::minutes(10));
    assert_eq!(
        run().await,
        1,
        "the dispatchers' alarm waits for them, it does not pass again"
    );
    assert_eq!(
        app.notification_kinds("dispatcher", heart)
            .await
            .iter()
            .filter(|k| *k == "duty_alarm")
            .count(),
        1
    );
    assert_eq!(
        app.notification_kinds("kardio_rezerv", heart).await,
        ["duty_call"],
        "told once"
    );

    // The dispatcher acknowledges the alarm with one click; a second is a conflict.
    let dispatcher = app.login("dispatcher").await;
    let ack = format!("/api/v1/consultations/{heart}/duty/ack");
    let (status, body) = app.call(Some(&dispatcher), Method::POST, &ack, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.call(Some(&dispatcher), Method::POST, &ack, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["title"],
        "Нечего подтверждать: вызов уже подтверждён или передан дальше"
    );

    // The request's history tells the chain.
    let events = app
        .get(
            &dispatcher,
            &format!("/api/v1/consultations/{heart}/events"),
        )
        .await;
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.starts_with("duty_"))
            .copied()
            .collect::<Vec<_>>(),
        ["duty_pass", "duty_alarm", "duty_ack"]
    );

    // Accepting acknowledges: a third emergency, taken on in time, passes nowhere.
    let doctor = app.login("doctor").await;
    let third = emergency(&app, &doctor, "cardiology").await;
    let night_token = app.login("kardio_noch").await;
    assert_eq!(
        app.act(&night_token, third, "accept", json!({})).await,
        "accepted"
    );
    clock.advance(Duration::minutes(30));
    assert_eq!(run().await, 0);
    let chain = app
        .get(&night_token, &format!("/api/v1/consultations/{third}/duty"))
        .await;
    assert!(chain["calls"][0]["acked_at"].is_string(), "{chain}");

    // A neurology emergency the backup (the sick primary skipped) acknowledges.
    let doctor = app.login("doctor").await;
    let fourth = emergency(&app, &doctor, "neurology").await;
    clock.advance(Duration::minutes(3));
    let backup = app.login("nevro_rezerv").await;
    let (status, body) = app
        .call(
            Some(&backup),
            Method::POST,
            &format!("/api/v1/consultations/{fourth}/duty/ack"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Urgent requests go to the dispatcher, until the region routes them too.
    let mut urgent_body = complete_request("urgent");
    urgent_body["profile"] = json!("cardiology");
    let doctor = app.login("doctor").await;
    let urgent = app.create(&doctor, urgent_body.clone()).await;
    assert_eq!(
        app.act(&doctor, urgent, "submit", json!({})).await,
        "submitted"
    );
    let admin = app.login("admin").await;
    app.change_settings(&admin, json!({"duty_auto_urgent": true}))
        .await;
    let doctor = app.login("doctor").await;
    let urgent = app.create(&doctor, urgent_body).await;
    assert_eq!(
        app.act(&doctor, urgent, "submit", json!({})).await,
        "assigned"
    );
    assert_eq!(assigned(&app, &doctor, urgent).await, ["Ночной"]);
    assert_eq!(
        app.notification_kinds("kardio_noch", urgent).await,
        ["assigned"]
    );

    // The report: time to the first acknowledgement and who answered, by
    // form of care, centre and profile.
    let analyst = app.login("analyst").await;
    let report = app.get(&analyst, "/api/v1/reports").await;
    let line = |profile: &str| {
        report["duty"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["profile"] == profile)
            .cloned()
            .unwrap_or_else(|| panic!("{profile} in {}", report["duty"]))
    };
    let heart_line = report["duty"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["profile"] == "Кардиология" && d["form_of_care"] == "Экстренная")
        .cloned()
        .unwrap();
    assert_eq!(heart_line["form_of_care"], "Экстренная");
    assert_eq!(heart_line["centre"], "ТКЦ ОКБ");
    assert_eq!(
        (
            &heart_line["called"],
            &heart_line["acknowledged"],
            &heart_line["by_backup"],
            &heart_line["alarms"]
        ),
        (&json!(2), &json!(2), &json!(0), &json!(1)),
        "{heart_line}"
    );
    // Acknowledged after 20 minutes (the dispatcher) and at once (accepted):
    // of two, the reports' percentiles take the upper.
    assert_eq!(heart_line["ack_minutes_median"], 20.0, "{heart_line}");
    assert_eq!(heart_line["ack_minutes_p90"], 20.0, "{heart_line}");
    let brain_line = line("Неврология");
    assert_eq!(
        (
            &brain_line["called"],
            &brain_line["acknowledged"],
            &brain_line["by_backup"],
            &brain_line["alarms"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(1)),
        "{brain_line}"
    );
    assert_eq!(brain_line["ack_minutes_median"], 3.0, "{brain_line}");
}

both_backends!(
    night_with_two_profiles_and_a_holiday,
    crate::night_with_two_profiles
);

/// The region's SMS gateway: a real HTTP endpoint that keeps what it is sent.
async fn gateway() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
) {
    use axum::routing::post;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let signature = headers
                    .get("x-rtms-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let _ = tx.send((signature, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn webhook_signed(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    let svc = Services::new(
        rtms_store::Db::connect(&app.db.url, 2).unwrap(),
        clock.clone(),
    );
    let (url, mut received) = gateway().await;
    let admin = app.login("admin").await;
    // A hostile address is refused with the reason; the gateway's is kept.
    let mut bad = app.get(&admin, "/api/v1/admin/settings").await;
    bad["duty_webhook_url"] = json!("file:///etc/passwd");
    let (status, body) = app
        .call(
            Some(&admin),
            Method::PUT,
            "/api/v1/admin/settings",
            Some(bad),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "duty_webhook_url");
    assert_eq!(
        body["errors"][0]["message"],
        "Адрес должен начинаться с http:// или https://"
    );
    app.change_settings(
        &admin,
        json!({
            "duty_webhook_url": url,
            "duty_webhook_template": "Экстренный запрос {id}, шаг {step}: {link}",
            "duty_webhook_secret": "gateway-key",
        }),
    )
    .await;
    // The key is never read back, nor written to the audit trail.
    let settings = app.get(&admin, "/api/v1/admin/settings").await;
    assert_eq!(settings["duty_webhook_secret"], "");
    assert_eq!(settings["duty_ack_minutes"], 10);
    let auditor = app.login("auditor").await;
    let audit = app
        .get(&auditor, "/api/v1/audit?action=settings_update")
        .await;
    assert!(!audit.to_string().contains("gateway-key"), "{audit}");

    // The demo's roster puts the cardiologist on duty now.
    let doctor = app.login("doctor").await;
    let id = emergency(&app, &doctor, "cardiology").await;
    let worker = svc.clone();
    tokio::task::spawn_blocking(move || worker.run_jobs("test", 100).unwrap())
        .await
        .unwrap();
    let (signature, body) =
        tokio::time::timeout(std::time::Duration::from_secs(10), received.recv())
            .await
            .expect("the gateway hears of the call")
            .unwrap();
    let expected = {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"gateway-key").unwrap();
        mac.update(body.as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    assert_eq!(signature, expected, "signed with the region's key");
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["event"], "duty_call");
    assert_eq!(sent["consultation_id"], id);
    assert_eq!(sent["step"], 0);
    assert_eq!(
        sent["text"],
        format!("Экстренный запрос {id}, шаг 0: /requests/{id}")
    );
    // Ids only: nothing of the patient travels.
    assert!(!body.contains("Тестов") && !body.contains("I21"), "{body}");
    let keys: Vec<&String> = sent.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "consultation_id",
            "event",
            "link",
            "step",
            "text",
            "user_id"
        ]
    );
}

both_backends!(
    the_webhook_is_signed_and_names_no_patient,
    crate::webhook_signed
);

/// Uploads a roster file on the coordinator's page; the page's text.
async fn upload_roster(
    app: &TestApp,
    cookie: &str,
    okb: i64,
    name: &str,
    bytes: Vec<u8>,
) -> String {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let resp = app
        .browser
        .post(format!("{}/duty/roster/{okb}/import", app.base))
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.unwrap()
}

/// A ZIP whose one part unpacks to `size` zero bytes (a few kilobytes packed).
fn zip_of_zeros(size: usize) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..size / block.len() {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

async fn roster_files(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let okb = app.org_id("ТКЦ ОКБ").await;
    let coordinator = app.login("coordinator").await;
    let cookie = app.ui_login("coordinator").await;
    // The demo's dates are Moscow's (UTC+3 all year).
    let today = (Utc::now() + Duration::hours(3)).date_naive();
    let from = today + Duration::days(1);
    let csv_of = |app: &TestApp| {
        let url = format!(
            "{}/api/v1/duty/centres/{okb}/roster.csv?from={from}&days=7",
            app.base
        );
        let token = coordinator.clone();
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let before = csv_of(&app).await;
    // The demo's fortnight: two profiles, day and night, a week.
    assert_eq!(before.lines().count(), 1 + 2 * 2 * 7, "{before}");

    // The week as a workbook, loaded back: the roster is what it was.
    let xlsx = app
        .client
        .get(format!(
            "{}/api/v1/duty/centres/{okb}/roster.xlsx?from={from}&days=7",
            app.base
        ))
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let xlsx = xlsx.bytes().await.unwrap().to_vec();
    assert!(xlsx.starts_with(b"PK\x03\x04"));
    let page = upload_roster(&app, &cookie, okb, "roster.xlsx", xlsx).await;
    assert!(page.contains("Загружено смен: 28"), "{page}");
    assert_eq!(
        csv_of(&app).await,
        before,
        "an exported week loads back as it was"
    );

    // The week after the demo's fortnight is copied from the week before it,
    // once: a second copy would mix with what is there.
    let copy = |week: chrono::NaiveDate| {
        let url = format!("{}/duty/roster/{okb}/copy-week", app.base);
        let request = app
            .browser
            .post(url)
            .header("cookie", cookie.clone())
            .form(&[("from", week.to_string())]);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let target = today + Duration::days(14);
    let page = copy(target).await;
    assert!(page.contains("Скопировано смен: 28"), "{page}");
    let page = copy(target).await;
    assert!(
        page.contains("На эту неделю уже есть смены: копия не смешивается с ними"),
        "{page}"
    );
    let page = copy(today + Duration::days(60)).await;
    assert!(page.contains("В прошлой неделе нет смен"), "{page}");

    // Hostile and broken files are refused with the reason; nothing changes.
    let bomb = zip_of_zeros(17 << 20);
    assert!(bomb.len() < 200 << 10, "packed: {} bytes", bomb.len());
    let page = upload_roster(&app, &cookie, okb, "bomb.xlsx", bomb).await;
    assert!(
        page.contains(
            "Книга Excel слишком велика: не больше 16 МБ в распакованном виде и 200 частей"
        ),
        "{page}"
    );
    let mut broken = b"PK\x03\x04".to_vec();
    broken.extend_from_slice(&[0x55; 4000]);
    let page = upload_roster(&app, &cookie, okb, "broken.xlsx", broken).await;
    assert!(
        page.contains("Файл не удалось прочитать как книгу Excel (XLSX)"),
        "{page}"
    );
    // «Смирнов» in Windows-1251.
    let mut cp1251 = b"date;profile;kind;start;end;primary;backups\n01.03.2027;cardiology;day;08:00;20:00;consultant;".to_vec();
    cp1251.extend_from_slice(&[0xd1, 0xec, 0xe8, 0xf0, 0xed, 0xee, 0xe2, b'\n']);
    let page = upload_roster(&app, &cookie, okb, "roster.csv", cp1251).await;
    assert!(page.contains("Файл не в кодировке UTF-8"), "{page}");
    let too_big = vec![b'a'; (1 << 20) + 10];
    let page = upload_roster(&app, &cookie, okb, "big.csv", too_big).await;
    assert!(page.contains("1 МБ") || page.contains("1,0 МБ"), "{page}");
    assert_eq!(
        csv_of(&app).await,
        before,
        "nothing of a refused file is kept"
    );
}

both_backends!(
    a_roster_round_trips_as_xlsx_and_hostile_files_are_refused,
    crate::roster_files
);
