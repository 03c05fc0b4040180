//! The region's report over a day of known activity: the numbers a ministry asks for.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{complete_request, next_json, ws_connect, TestApp};
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
    // A quiet day long after the demo's activity, from nine in the morning, so
    // that the day's activity does not run over midnight.
    let quiet = (clock.now() + Duration::days(100))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    clock.advance(quiet - clock.now());
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
            Some(json!({"diagnosis_main": "I21.0", "findings": "ОИМ", "recommendations": "ЧКВ", "patient_condition": "3"})),
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

    // A video session about the answered request: the doctor is in the room
    // for 20 minutes, the consultant for the middle 5. A second one is cancelled.
    let doctor_id = app.get(&doctor, "/api/v1/me").await["id"].as_i64().unwrap();
    let (s, booked) = app
        .call(
            Some(&dispatcher),
            Method::POST,
            "/api/v1/video",
            Some(json!({"starts_at": clock.now() + Duration::minutes(1),
                "participant_ids": [doctor_id, me], "consultation_ids": [answered]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{booked}");
    let session = booked["id"].as_i64().unwrap();
    let (s, other) = app
        .call(
            Some(&dispatcher),
            Method::POST,
            "/api/v1/video",
            Some(json!({"starts_at": clock.now() + Duration::hours(2),
                "participant_ids": [doctor_id, me]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    let (s, _) = app
        .call(
            Some(&dispatcher),
            Method::POST,
            &format!("/api/v1/video/{}/cancel", other["id"]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let logged = |n: usize| {
        let app = &app;
        let dispatcher = &dispatcher;
        async move {
            for _ in 0..100 {
                let v = app
                    .get(dispatcher, &format!("/api/v1/video/{session}"))
                    .await;
                if v["log"].as_array().unwrap().len() >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the room log did not reach {n} entries");
        }
    };
    let doctor_c = app.ui_login("doctor").await;
    let consultant_c = app.ui_login("consultant").await;
    let mut a = ws_connect(&app, session, &doctor_c).await;
    next_json(&mut a).await;
    logged(1).await;
    clock.advance(Duration::minutes(10));
    let mut b = ws_connect(&app, session, &consultant_c).await;
    next_json(&mut b).await;
    logged(2).await;
    clock.advance(Duration::minutes(5));
    futures_util::SinkExt::close(&mut b).await.unwrap();
    logged(3).await;
    clock.advance(Duration::minutes(5));
    futures_util::SinkExt::close(&mut a).await.unwrap();
    logged(4).await;

    let analyst = app.login("analyst").await;
    let r = app
        .get(&analyst, &format!("/api/v1/reports?from={day}&to={day}"))
        .await;
    assert_eq!(
        r["video"],
        json!({"booked": 1, "cancelled": 1, "held": 1, "minutes": 20, "participant_minutes": 25}),
        "{r}"
    );
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

    // The workbook opens and holds the CSV's tables, one sheet each.
    let xlsx = app
        .page(
            Method::GET,
            &format!("/reports.xlsx?from={day}&to={day}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let xlsx = xlsx.bytes().await.unwrap().to_vec();
    let sheets = workbook(&xlsx);
    let tables = csv_tables(&csv);
    assert_eq!(sheets.len(), tables.len(), "{csv}");
    assert_eq!(sheets.len(), 12, "one sheet per table: {sheets:?}");
    assert!(
        sheets
            .iter()
            .any(|(name, _)| name == "Экстренные вызовы дежурных"),
        "the duty calls have their sheet: {sheets:?}"
    );
    for ((name, cells), (title, rows)) in sheets.iter().zip(&tables) {
        assert!(title.starts_with(name.as_str()), "{name} / {title}");
        assert_eq!(cells, rows, "sheet {name}");
    }
    let sheet = |name: &str| &sheets.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(sheet("Сводка")[0], ["Показатель", "Значение"]);
    assert!(sheet("Сводка").contains(&vec!["Направлено".to_string(), "3".to_string()]));
    assert!(sheet("Отклонения по причинам")
        .contains(&vec!["Дубликат запроса".to_string(), "1".to_string()]));
    // Плановая: one answered, in time, in three hours.
    assert!(
        sheet("Соблюдение сроков").contains(
            &["Плановая", "1", "1", "100", "3", "3"]
                .map(String::from)
                .to_vec()
        ),
        "{:?}",
        sheet("Соблюдение сроков")
    );
    // The API gives the same workbook to a token.
    let (s, _) = app
        .call(
            Some(&analyst),
            Method::GET,
            &format!("/api/v1/reports.xlsx?from={day}&to={day}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // The printable report: the period, the key figures, the tables.
    let pdf = app
        .page(
            Method::GET,
            &format!("/reports.pdf?from={day}&to={day}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let text = pdf_text(&pdf.bytes().await.unwrap());
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("{day} — {day}")), "{flat}");
    assert!(
        flat.contains("Региональная телемедицинская система"),
        "{flat}"
    );
    for figure in [
        "Направлено 3",
        "С заключением 1",
        "Возвратов на доработку 1",
        "Ответ полезен 1",
        "Плановая 1 1 100 3 3",
        "Дубликат запроса 1",
        "Перевода удалось избежать 1",
        "Смирнов А. В. 1 1",
        "Проведено сеансов 1",
        "Минут в эфире 20",
    ] {
        assert!(flat.contains(figure), "{figure:?} not in {flat}");
    }
    assert!(!flat.contains("Тестов"), "no patient in a report");
    // Through the API too; a doctor gets none.
    let (s, _) = app
        .call(
            Some(&analyst),
            Method::GET,
            &format!("/api/v1/reports.pdf?from={day}&to={day}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .call(Some(&doctor), Method::GET, "/api/v1/reports.pdf", None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// The text of a PDF as poppler's pdftotext reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("rtms-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.pdf", rand_suffix()));
    std::fs::write(&file, pdf).unwrap();
    // In layout mode a table row stays on one line.
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// Every sheet of a workbook as its name and rows of displayed cell values.
fn workbook(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect();
            (name, rows)
        })
        .collect()
}

/// The CSV's tables: each is an empty line, a title, a header and rows.
fn csv_tables(text: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let mut tables: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    let mut i = 1;
    while i < records.len() {
        if records[i] == [""] {
            tables.push((records[i + 1][0].clone(), Vec::new()));
            i += 2;
            continue;
        }
        tables.last_mut().unwrap().1.push(records[i].clone());
        i += 1;
    }
    tables
}
both_backends!(
    a_day_of_activity_adds_up_in_the_report,
    super::monthly_numbers
);
