//! `rtms admin generate`: the generated region is one the product serves like
//! its own: the dispatcher's list sees every request, each has the history the
//! services would have written, search finds a patient by СНИЛС, and the
//! report counts them.

mod common;

use std::sync::Arc;

use common::TestApp;
use rtms_service::seed::generate::GenerateSpec;
use rtms_service::{Services, SystemClock};
use rtms_store::BackendKind;

async fn generated_region(backend: BackendKind) {
    let db = TestApp::seeded_database(backend).await;
    let app = TestApp::start(db.clone()).await;
    let dispatcher = app.login("dispatcher").await;
    let before = app
        .get(&dispatcher, "/api/v1/consultations?per_page=1")
        .await["total"]
        .as_i64()
        .unwrap();

    let (done, progress) = generate(&db.url).await;
    assert_eq!(done.consultations, 600);
    assert_eq!(progress, vec![600], "one batch, reported once");
    assert_eq!(done.organizations, 3);

    // None is a draft: the dispatcher sees every one.
    let page = app
        .get(&dispatcher, "/api/v1/consultations?per_page=50")
        .await;
    assert_eq!(page["total"].as_i64().unwrap(), before + 600);
    assert_eq!(page["total_exact"], true);
    // The open queue holds the newest, still being worked on.
    let open = app
        .get(
            &dispatcher,
            "/api/v1/consultations?status=open&per_page=200",
        )
        .await;
    assert!(open["total"].as_i64().unwrap() > 0);

    // A closed request's history runs from creation to acknowledgement.
    let closed = app
        .get(
            &dispatcher,
            "/api/v1/consultations?status=closed&per_page=1",
        )
        .await;
    let id = closed["items"][0]["id"].as_i64().expect("a closed request");
    let events = app
        .get(&dispatcher, &format!("/api/v1/consultations/{id}/events"))
        .await;
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.first(), Some(&"create"), "{actions:?}");
    assert_eq!(actions.last(), Some(&"acknowledge"), "{actions:?}");
    assert!(actions.contains(&"sign"), "{actions:?}");
    let request = app
        .get(&dispatcher, &format!("/api/v1/consultations/{id}"))
        .await;
    let conclusion = app
        .get(
            &dispatcher,
            &format!("/api/v1/consultations/{id}/conclusion"),
        )
        .await;
    assert!(conclusion["signed_at"].is_string(), "{conclusion}");

    // Its patient is found by СНИЛС.
    let snils = request["patient"]["snils"]
        .as_str()
        .unwrap()
        .replace(['-', ' '], "");
    let found = app
        .get(
            &dispatcher,
            &format!("/api/v1/consultations?q={snils}&per_page=50"),
        )
        .await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"].as_i64() == Some(id)),
        "{found}"
    );

    // The report over the year counts them.
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(366);
    let report = app
        .get(
            &dispatcher,
            &format!("/api/v1/reports?from={from}&to={today}"),
        )
        .await;
    assert!(report["submitted"].as_i64().unwrap() >= 600, "{report}");
    assert!(report["answered"].as_i64().unwrap() > 300, "{report}");

    // A second run on the same database adds as many again, with users of
    // its own (the same seed once picked the same logins and stopped).
    let (again, _) = generate(&db.url).await;
    assert_eq!(again.consultations, 600);
    let report = app
        .get(
            &dispatcher,
            &format!("/api/v1/reports?from={from}&to={today}"),
        )
        .await;
    assert!(report["submitted"].as_i64().unwrap() >= 1200, "{report}");
}

/// Generates 600 requests in three district hospitals with seed 7.
async fn generate(url: &str) -> (rtms_service::seed::generate::Generated, Vec<u64>) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let svc = Services::new(
            rtms_store::Db::connect(&url, 4).unwrap(),
            Arc::new(SystemClock),
        );
        let mut seen = Vec::new();
        let done = svc
            .generate(
                &GenerateSpec {
                    count: 600,
                    years: 1,
                    districts: 3,
                    consultants_per_centre: 2,
                    seed: 7,
                },
                |n| seen.push(n),
            )
            .unwrap();
        (done, seen)
    })
    .await
    .unwrap()
}
both_backends!(
    generated_region_is_served_like_a_real_one,
    super::generated_region
);
