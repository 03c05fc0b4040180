//! The region's report over a day of known activity: the numbers a ministry asks for.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{complete_request, TestApp};
use reqwest::{Method, StatusCode};
use rtms_service::{Clock, ManualClock};
use rtms_store::BackendKind;
use serde_json::{json, Value};

fn count(lines: &Value, name: &str) -> i64 {
    lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .map(|l| l["count"].as_i64().unwrap())
        .unwrap_or(0)
}

async fn monthly_numbers(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    // A quiet day long after the demo's activity.
    clock.advance(Duration::days(100));
    let day = clock.now().date_naive().format("%d.%m.%Y").to_string();
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let consultant = app.login("consultant").await;
    let me = app.get(&consultant, "/api/v1/me").await["id"]
        .as_i64()
        .unwrap();

    let answered = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, answered, "submit", json!({})).await;
    app.act(&dispatcher, answered, "take", json!({})).await;
    app.act(
        &dispatcher,
        answered,
        "assign",
        json!({"consultant_id": me}),
    )
    .await;
    app.act(&consultant, answered, "accept", json!({})).await;
    app.act(&consultant, answered, "start", json!({})).await;
    let (s, _) = app
        .call(
            Some(&consultant),
            Method::PUT,
            &format!("/api/v1/consultations/{answered}/conclusion"),
            Some(json!({"diagnosis_main": "I21.0", "findings": "ОИМ", "recommendations": "ЧКВ"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    clock.advance(Duration::hours(3));
    app.act(&consultant, answered, "sign", json!({})).await;
    app.act(
        &doctor,
        answered,
        "acknowledge",
        json!({"useful": true, "effect": "transfer_avoided"}),
    )
    .await;

    let returned = app.create(&doctor, complete_request("urgent")).await;
    app.act(&doctor, returned, "submit", json!({})).await;
    app.act(&dispatcher, returned, "take", json!({})).await;
    app.act(&dispatcher, returned, "return", json!({"comment": "ЭКГ?"}))
        .await;

    let rejected = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, rejected, "submit", json!({})).await;
    app.act(&dispatcher, rejected, "take", json!({})).await;
    app.act(
        &dispatcher,
        rejected,
        "reject",
        json!({"reason_code": "duplicate"}),
    )
    .await;

    let analyst = app.login("analyst").await;
    let r = app
        .get(&analyst, &format!("/api/v1/reports?from={day}&to={day}"))
        .await;
    assert_eq!(r["submitted"], 3, "{r}");
    assert_eq!(r["answered"], 1);
    assert_eq!(count(&r["by_form"], "Плановая"), 2);
    assert_eq!(count(&r["by_form"], "Неотложная"), 1);
    assert_eq!(count(&r["by_profile"], "Кардиология"), 3);
    assert_eq!(count(&r["by_organization"], "Заречная ЦРБ"), 3);
    assert_eq!(count(&r["rejections"], "Дубликат запроса"), 1);
    assert_eq!(r["returned"], 1);
    let planned = r["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["form"] == "Плановая")
        .unwrap();
    assert_eq!(
        (planned["answered"].as_i64(), planned["in_time"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(planned["in_time_percent"], 100.0);
    assert_eq!(planned["median_hours"], 3.0);
    assert_eq!(
        (r["acknowledged"].as_i64(), r["useful_yes"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(count(&r["effects"], "Перевода удалось избежать"), 1);
    let w = &r["workload"][0];
    assert_eq!(
        (
            w["consultant"].as_str(),
            w["assigned"].as_i64(),
            w["answered"].as_i64()
        ),
        (Some("Смирнов А. В."), Some(1), Some(1))
    );
    // Aggregates only: no patient anywhere in the report.
    assert!(!r.to_string().contains("Тестов"));

    // A head sees their own organization, another head none of it; a doctor no report.
    let head = app.login("head").await;
    assert_eq!(
        app.get(&head, &format!("/api/v1/reports?from={day}&to={day}"))
            .await["submitted"],
        3
    );
    let head2 = app.login("head2").await;
    assert_eq!(
        app.get(&head2, &format!("/api/v1/reports?from={day}&to={day}"))
            .await["submitted"],
        0
    );
    let (s, _) = app
        .call(Some(&doctor), Method::GET, "/api/v1/reports", None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The page and its CSV show the same numbers.
    let cookie = app.ui_login("analyst").await;
    let html = app
        .page(
            Method::GET,
            &format!("/reports?from={day}&to={day}"),
            Some(&cookie),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<b id=\"kpi-submitted\">3</b>"));
    let csv = app
        .page(
            Method::GET,
            &format!("/reports.csv?from={day}&to={day}"),
            Some(&cookie),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("Дубликат запроса;1"), "{csv}");
}
both_backends!(
    a_day_of_activity_adds_up_in_the_report,
    super::monthly_numbers
);
