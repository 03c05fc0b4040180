//! The deadline monitor with a moved clock: alerts at 75 % and when overdue,
//! once each, to the dispatchers and the responsible centre; none while paused.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{complete_request, TestApp};
use reqwest::Method;
use rtms_service::{ManualClock, Services};
use rtms_store::BackendKind;
use serde_json::json;

/// The kinds of a user's notifications about one request (signing in afresh: the clock moves by hours).
async fn kinds_for(app: &TestApp, login: &str, id: i64) -> Vec<String> {
    let token = app.login(login).await;
    let list = app.get(&token, "/api/v1/notifications").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["consultation_id"] == id)
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

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
    assert!(kinds_for(&app, "dispatcher", urgent)
        .await
        .iter()
        .all(|k| !k.starts_with("deadline")));

    // 18 hours and a minute: three quarters gone.
    clock.advance(Duration::minutes(61));
    // (Demo requests cross their own thresholds as the clock moves too: count ours by what arrived.)
    let sent = tokio::task::spawn_blocking(monitor.clone()).await.unwrap();
    assert!(sent >= 1);
    assert!(kinds_for(&app, "dispatcher", urgent)
        .await
        .contains(&"deadline_near".to_string()));
    assert!(
        kinds_for(&app, "dispatcher", returned)
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
    let kinds = kinds_for(&app, "dispatcher", urgent).await;
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
    assert!(kinds_for(&app, "doctor", urgent)
        .await
        .iter()
        .all(|k| !k.starts_with("deadline")));
}
both_backends!(
    near_and_overdue_deadlines_are_announced_once,
    super::deadline_alerts
);
