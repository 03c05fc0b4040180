//! The deadline monitor with a moved clock: alerts at 75 % and when overdue,
//! once each, to the dispatchers and the responsible centre; none while paused.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{complete_request, TestApp};
use reqwest::Method;
use rtms_service::{Clock, ManualClock, Services};
use rtms_store::BackendKind;
use serde_json::json;

async fn deadline_alerts(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    let url = app.db.url.clone();
    let monitor_clock = clock.clone();
    let monitor = move || {
        let svc = Services::new(
            rtms_store::Db::connect(&url, 2).unwrap(),
            monitor_clock.clone(),
        );
        svc.run_deadline_monitor().unwrap()
    };
    // The demo's own requests raise their alerts first; then only ours matter.
    let monitor_now = monitor.clone();
    tokio::task::spawn_blocking(monitor_now).await.unwrap();

    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let urgent = app.create(&doctor, complete_request("urgent")).await;
    app.act(&doctor, urgent, "submit", json!({})).await;
    let returned = app.create(&doctor, complete_request("urgent")).await;
    app.act(&doctor, returned, "submit", json!({})).await;
    app.act(&dispatcher, returned, "take", json!({})).await;
    app.act(
        &dispatcher,
        returned,
        "return",
        json!({"comment": "Нужна ЭКГ"}),
    )
    .await;

    // 17 hours of 24: nothing yet.
    clock.advance(Duration::hours(17));
    tokio::task::spawn_blocking(monitor.clone()).await.unwrap();
    assert!(app
        .notification_kinds("dispatcher", urgent)
        .await
        .iter()
        .all(|k| !k.starts_with("deadline")));

    // 18 hours and a minute: three quarters gone.
    clock.advance(Duration::minutes(61));
    // (Demo requests cross their own thresholds as the clock moves too: count ours by what arrived.)
    let sent = tokio::task::spawn_blocking(monitor.clone()).await.unwrap();
    assert!(sent >= 1);
    assert!(app
        .notification_kinds("dispatcher", urgent)
        .await
        .contains(&"deadline_near".to_string()));
    assert!(
        app.notification_kinds("dispatcher", returned)
            .await
            .iter()
            .all(|k| !k.starts_with("deadline")),
        "a returned request's clock is paused"
    );
    // Running again sends nothing new.
    assert_eq!(
        tokio::task::spawn_blocking(monitor.clone()).await.unwrap(),
        0
    );

    // Past the deadline: overdue, once.
    clock.advance(Duration::hours(6));
    assert!(tokio::task::spawn_blocking(monitor.clone()).await.unwrap() >= 1);
    assert_eq!(
        tokio::task::spawn_blocking(monitor.clone()).await.unwrap(),
        0
    );
    let kinds = app.notification_kinds("dispatcher", urgent).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "deadline_over").count(),
        1,
        "{kinds:?}"
    );
    let dispatcher = app.login("dispatcher").await;
    let (_, list) = app
        .call(
            Some(&dispatcher),
            Method::GET,
            "/api/v1/consultations?overdue=true&q=тестов",
            None,
        )
        .await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == urgent),
        "{list}"
    );
    // The doctor who asked is not alarmed by the region's deadline.
    assert!(app
        .notification_kinds("doctor", urgent)
        .await
        .iter()
        .all(|k| !k.starts_with("deadline")));
}
both_backends!(
    near_and_overdue_deadlines_are_announced_once,
    super::deadline_alerts
);

/// E-mails queued for an address that mention a request.
fn queued_mail(url: &str, to: &str, id: i64) -> Vec<String> {
    use diesel::prelude::*;
    use rtms_store::schema::jobs;
    let db = rtms_store::Db::connect(url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let payloads: Vec<String> = jobs::table
        .filter(jobs::kind.eq("email"))
        .select(jobs::payload)
        .load(&mut *conn)
        .unwrap();
    payloads
        .into_iter()
        .filter(|p| {
            let v: serde_json::Value = serde_json::from_str(p).unwrap();
            v["to"].as_str().unwrap_or("").starts_with(to)
                && v["subject"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with(&format!("№ {id}"))
        })
        .collect()
}

async fn escalation_to_ktc_head(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let mail = rtms_service::platform::mail::MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: 9,
        from: "rtms@region.example".into(),
        public_url: "https://rtms.region.example".into(),
        ..Default::default()
    };
    let app = TestApp::spawn_configured(backend, clock.clone(), Some(mail.clone())).await;
    let url = app.db.url.clone();
    let (monitor_url, monitor_clock) = (url.clone(), clock.clone());
    let monitor = move || {
        Services::new(
            rtms_store::Db::connect(&monitor_url, 2).unwrap(),
            monitor_clock.clone(),
        )
        .with_mail(mail.clone())
        .run_deadline_monitor()
        .unwrap()
    };

    // The demo head also heads the КТЦ; the region escalates an hour after overdue.
    let admin = app.login("admin").await;
    let orgs = app.get(&admin, "/api/v1/admin/organizations").await;
    let ktc = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "ktc")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let users = app.get(&admin, "/api/v1/admin/users").await;
    let head = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "head")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, body) = app
        .call(
            Some(&admin),
            Method::POST,
            &format!("/api/v1/admin/users/{head}/roles"),
            Some(json!({"role": "head", "organization_id": ktc})),
        )
        .await;
    assert!(s.is_success(), "{body}");
    assert_eq!(
        app.get(&admin, "/api/v1/admin/settings").await["escalate_head_minutes"],
        serde_json::Value::Null
    );
    app.change_settings(&admin, json!({"escalate_head_minutes": 60}))
        .await;
    assert_eq!(
        app.get(&admin, "/api/v1/admin/settings").await["escalate_head_minutes"],
        60
    );
    // The demo's own requests first.
    tokio::task::spawn_blocking(monitor.clone()).await.unwrap();

    let doctor = app.login("doctor").await;
    let urgent = app.create(&doctor, complete_request("urgent")).await;
    app.act(&doctor, urgent, "submit", json!({})).await;
    let escalated =
        |kinds: Vec<String>| kinds.iter().filter(|k| *k == "deadline_escalated").count();

    // Overdue by a minute: the dispatcher knows, the head not yet.
    clock.advance(Duration::hours(24) + Duration::minutes(1));
    tokio::task::spawn_blocking(monitor.clone()).await.unwrap();
    assert_eq!(
        app.notification_kinds("dispatcher", urgent)
            .await
            .iter()
            .filter(|k| *k == "deadline_over")
            .count(),
        1
    );
    assert_eq!(escalated(app.notification_kinds("head", urgent).await), 0);
    // Overdue by 59 minutes: still not.
    clock.advance(Duration::minutes(58));
    tokio::task::spawn_blocking(monitor.clone()).await.unwrap();
    assert_eq!(escalated(app.notification_kinds("head", urgent).await), 0);
    // An hour and more: the head is told, in the app and by e-mail, once.
    clock.advance(Duration::minutes(2));
    tokio::task::spawn_blocking(monitor.clone()).await.unwrap();
    tokio::task::spawn_blocking(monitor.clone()).await.unwrap();
    clock.advance(Duration::hours(5));
    tokio::task::spawn_blocking(monitor.clone()).await.unwrap();
    assert_eq!(escalated(app.notification_kinds("head", urgent).await), 1);
    let mails = queued_mail(&url, "head@", urgent);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("руководителю КТЦ"), "{}", mails[0]);
    // The dispatcher is not told twice, nor escalated to.
    assert_eq!(
        escalated(app.notification_kinds("dispatcher", urgent).await),
        0
    );
    // As the КТЦ's head, the head reads the region's report.
    let head = app.login("head").await;
    let day = clock.now().date_naive().format("%d.%m.%Y");
    let report = app
        .get(&head, &format!("/api/v1/reports?from=01.01.2000&to={day}"))
        .await;
    assert!(
        report["by_organization"].as_array().unwrap().len() > 1,
        "{report}"
    );
}
both_backends!(
    an_overdue_request_escalates_to_the_ktc_head_once,
    super::escalation_to_ktc_head
);
