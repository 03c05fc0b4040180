//! Access control, sign-in protection, web security and the audit trail, as a
//! user (or an attacker) meets them: a real server, a real database.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{complete_request, session_cookie, TestApp};
use reqwest::{Method, StatusCode};
use rtms_service::{Clock, ManualClock};
use rtms_store::BackendKind;
use serde_json::{json, Value};

const ROLES: &[&str] = &[
    "admin",
    "dispatcher",
    "doctor",
    "head",
    "coordinator",
    "consultant",
    "consultant2",
    "analyst",
    "auditor",
];

/// Who may use a route: a list of demo logins, or everybody signed in, or everybody.
#[derive(Clone, Copy)]
enum Who {
    Public,
    SignedIn,
    Only(&'static [&'static str]),
}

const CLINICAL: &[&str] = &[
    "dispatcher",
    "doctor",
    "head",
    "coordinator",
    "consultant",
    "consultant2",
];
/// Who has video sessions: the roles that meet in them.
const VIDEO: &[&str] = &[
    "dispatcher",
    "doctor",
    "coordinator",
    "consultant",
    "consultant2",
];
/// Who reads the duty board: everyone working with requests, and administrators.
const DUTY: &[&str] = &[
    "admin",
    "dispatcher",
    "doctor",
    "head",
    "coordinator",
    "consultant",
    "consultant2",
];
/// Who edits the ТКЦ ОКБ's roster: its coordinator and administrators.
const ROSTER: &[&str] = &["admin", "coordinator"];
/// Who sees the fixture request: its organization (doctor, head), the region (dispatcher),
/// its centre (coordinator), its consultant.
const SEES_REQUEST: &[&str] = &["dispatcher", "doctor", "head", "coordinator", "consultant"];

fn allows(who: Who, role: Option<&str>) -> bool {
    match (who, role) {
        (Who::Public, _) => true,
        (_, None) => false,
        (Who::SignedIn, Some(_)) => true,
        (Who::Only(list), Some(r)) => list.contains(&r),
    }
}

/// Denied means: not signed in (401, or sent to the sign-in page), forbidden (403), or
/// not even shown to exist (404).
fn denied(resp: &reqwest::Response) -> bool {
    let s = resp.status();
    // The sign-in redirect carries where the user wanted to go; signing out goes to plain /login.
    let to_login = s.is_redirection()
        && resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/login?"));
    matches!(
        s,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ) || to_login
}

/// An in-progress request of the doctor's organization, assigned to `consultant`,
/// with a draft conclusion when asked.
async fn fixture(app: &TestApp, with_conclusion: bool) -> i64 {
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let consultant = app.login("consultant").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    app.act(&dispatcher, id, "take", json!({})).await;
    let me = app.get(&consultant, "/api/v1/me").await;
    let consultant_id = me["id"].as_i64().unwrap();
    app.act(
        &dispatcher,
        id,
        "assign",
        json!({"consultant_id": consultant_id}),
    )
    .await;
    app.act(&consultant, id, "accept", json!({})).await;
    app.act(&consultant, id, "start", json!({})).await;
    if !with_conclusion {
        return id;
    }
    let (s, _) = app
        .call(
            Some(&consultant),
            Method::PUT,
            &format!("/api/v1/consultations/{id}/conclusion"),
            Some(json!({"diagnosis_main": "I21.0", "findings": "—", "recommendations": "—", "patient_condition": "2"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    id
}

/// A tus upload by `token` of `bytes` to request `id`: its address, and the
/// attachment id when `complete`.
async fn upload(
    app: &TestApp,
    token: &str,
    id: i64,
    bytes: &[u8],
    complete: bool,
) -> (String, Option<i64>) {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let r = app
        .client
        .post(format!("{}/api/v1/uploads", app.base))
        .bearer_auth(token)
        .header("Upload-Length", bytes.len().to_string())
        .header(
            "Upload-Metadata",
            format!(
                "filename {},consultation {}",
                b64("f.dcm"),
                b64(&id.to_string())
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let url = r.headers()["location"].to_str().unwrap().to_string();
    if !complete {
        return (url, None);
    }
    let r = app
        .client
        .patch(format!("{}{url}", app.base))
        .bearer_auth(token)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let aid = r.headers()["attachment-id"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (url, Some(aid))
}

/// Every page route and every API route, for every role: allowed or denied as
/// the access rules say. A route added without a line here fails the test.
async fn route_role_matrix(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let req = fixture(&app, true).await;
    // Signing needs a conclusion: here the consultant's attempt fails on content, not on access.
    let unsigned = fixture(&app, false).await;
    let admin_token = app.login("admin").await;
    // A CT image attached by the doctor, and two uploads still in progress.
    let doctor_token = app.login("doctor").await;
    let dicom = rtms_dicom::fixtures::to_bytes(&rtms_dicom::fixtures::ct_object(
        &rtms_dicom::fixtures::Spec::ct(1),
    ));
    let (_, att) = upload(&app, &doctor_token, req, &dicom, true).await;
    let att = att.unwrap();
    let (pending, _) = upload(&app, &doctor_token, req, &dicom, false).await;
    let (doomed, _) = upload(&app, &doctor_token, req, &dicom, false).await;
    let users = app.get(&admin_token, "/api/v1/admin/users").await;
    let doctor4 = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "doctor4")
        .unwrap();
    let (d4, d4_membership) = (
        doctor4["id"].as_i64().unwrap(),
        doctor4["roles"][0]["id"].as_i64().unwrap(),
    );

    // A video session of the doctor and the consultant, booked by the dispatcher.
    let dispatcher_token = app.login("dispatcher").await;
    let mut people = Vec::new();
    for login in ["doctor", "consultant"] {
        let t = app.login(login).await;
        people.push(app.get(&t, "/api/v1/me").await["id"].as_i64().unwrap());
    }
    let (s, booked) = app
        .call(
            Some(&dispatcher_token),
            Method::POST,
            "/api/v1/video",
            Some(json!({"starts_at": Utc::now() + Duration::days(2), "participant_ids": people})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{booked}");
    let video = booked["id"].as_i64().unwrap();
    // Two more that the matrix cancels, one through the page and one through the API.
    let mut doomed_video = Vec::new();
    for days in [3, 4] {
        let (s, booked) = app
            .call(
                Some(&dispatcher_token),
                Method::POST,
                "/api/v1/video",
                Some(json!({"starts_at": Utc::now() + Duration::days(days), "participant_ids": people})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{booked}");
        doomed_video.push(booked["id"].as_i64().unwrap());
    }
    let (s, feed) = app
        .call(
            Some(&app.login("consultant").await),
            Method::POST,
            "/api/v1/video/feed",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{feed}");
    let feed = feed["path"].as_str().unwrap().to_string();

    // The centre whose roster the coordinator edits.
    let okb = app.org_id("ТКЦ ОКБ").await;

    // ---- pages --------------------------------------------------------------------
    let ui: BTreeMap<(&str, &str), (String, Who)> = [
        (("GET", "/duty"), ("/duty".to_string(), Who::Only(DUTY))),
        (
            ("GET", "/duty/roster"),
            ("/duty/roster".into(), Who::Only(ROSTER)),
        ),
        (
            ("POST", "/duty/roster/{tkc}/shifts"),
            (format!("/duty/roster/{okb}/shifts"), Who::Only(ROSTER)),
        ),
        (
            ("POST", "/duty/roster/{tkc}/shifts/{id}/delete"),
            (
                format!("/duty/roster/{okb}/shifts/999999/delete"),
                Who::Only(ROSTER),
            ),
        ),
        (
            ("POST", "/duty/roster/{tkc}/copy-week"),
            (format!("/duty/roster/{okb}/copy-week"), Who::Only(ROSTER)),
        ),
        (
            ("POST", "/duty/roster/{tkc}/import"),
            (format!("/duty/roster/{okb}/import"), Who::Only(ROSTER)),
        ),
        (
            ("GET", "/duty/roster/{tkc}/roster.csv"),
            (format!("/duty/roster/{okb}/roster.csv"), Who::Only(ROSTER)),
        ),
        (
            ("GET", "/duty/roster/{tkc}/roster.xlsx"),
            (format!("/duty/roster/{okb}/roster.xlsx"), Who::Only(ROSTER)),
        ),
        (
            ("POST", "/duty/roster/{tkc}/absences"),
            (format!("/duty/roster/{okb}/absences"), Who::Only(ROSTER)),
        ),
        (
            ("POST", "/duty/roster/{tkc}/absences/{id}/delete"),
            (
                format!("/duty/roster/{okb}/absences/999999/delete"),
                Who::Only(ROSTER),
            ),
        ),
        (
            ("POST", "/duty/roster/{tkc}/phones"),
            (format!("/duty/roster/{okb}/phones"), Who::Only(ROSTER)),
        ),
        (
            ("POST", "/duty/calendar"),
            ("/duty/calendar".into(), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/requests/{id}/duty-ack"),
            (format!("/requests/{req}/duty-ack"), Who::Only(SEES_REQUEST)),
        ),
        (("GET", "/"), ("/".to_string(), Who::SignedIn)),
        (("GET", "/login"), ("/login".into(), Who::Public)),
        (("POST", "/login"), ("/login".into(), Who::Public)),
        (("POST", "/login/code"), ("/login/code".into(), Who::Public)),
        (("POST", "/logout"), ("/logout".into(), Who::SignedIn)),
        (("GET", "/lang/{lang}"), ("/lang/en".into(), Who::Public)),
        (("GET", "/password"), ("/password".into(), Who::SignedIn)),
        (("POST", "/password"), ("/password".into(), Who::SignedIn)),
        (("GET", "/sessions"), ("/sessions".into(), Who::SignedIn)),
        (
            ("POST", "/sessions/{id}/end"),
            ("/sessions/999999/end".into(), Who::SignedIn),
        ),
        (
            ("POST", "/sessions/end-others"),
            ("/sessions/end-others".into(), Who::SignedIn),
        ),
        (("POST", "/tokens"), ("/tokens".into(), Who::SignedIn)),
        (
            ("POST", "/settings/email"),
            ("/settings/email".into(), Who::SignedIn),
        ),
        (("GET", "/totp"), ("/totp".into(), Who::SignedIn)),
        (("POST", "/totp"), ("/totp".into(), Who::SignedIn)),
        (
            ("POST", "/totp/begin"),
            ("/totp/begin".into(), Who::SignedIn),
        ),
        (("GET", "/queue"), ("/queue".into(), Who::Only(CLINICAL))),
        (
            ("POST", "/requests"),
            ("/requests".into(), Who::Only(&["doctor"])),
        ),
        (
            ("GET", "/requests/{id}"),
            (format!("/requests/{req}"), Who::Only(SEES_REQUEST)),
        ),
        (
            ("GET", "/requests/{id}/edit"),
            (format!("/requests/{req}/edit"), Who::Only(SEES_REQUEST)),
        ),
        (
            ("POST", "/requests/{id}/edit"),
            (format!("/requests/{req}/edit"), Who::Only(&["doctor"])),
        ),
        (
            ("POST", "/requests/{id}/autosave"),
            (format!("/requests/{req}/autosave"), Who::Only(&["doctor"])),
        ),
        (
            ("POST", "/requests/{id}/act/{action}"),
            (
                format!("/requests/{unsigned}/act/sign"),
                Who::Only(&["consultant"]),
            ),
        ),
        (
            ("POST", "/requests/{id}/messages"),
            (
                format!("/requests/{req}/messages"),
                Who::Only(&["doctor", "consultant"]),
            ),
        ),
        (
            ("POST", "/requests/{id}/conclusion"),
            (
                format!("/requests/{req}/conclusion"),
                Who::Only(&["consultant"]),
            ),
        ),
        (("GET", "/icd10"), ("/icd10?q=I21".into(), Who::SignedIn)),
        (
            ("GET", "/notifications"),
            ("/notifications".into(), Who::SignedIn),
        ),
        (
            ("POST", "/notifications/read"),
            ("/notifications/read".into(), Who::SignedIn),
        ),
        (("GET", "/live"), ("/live".into(), Who::SignedIn)),
        (("GET", "/admin"), ("/admin".into(), Who::Public)), // a plain redirect to /admin/users, which is guarded
        (
            ("GET", "/admin/orgs"),
            ("/admin/orgs".into(), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/orgs"),
            ("/admin/orgs".into(), Who::Only(&["admin"])),
        ),
        (
            ("GET", "/admin/users"),
            ("/admin/users".into(), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/users"),
            ("/admin/users".into(), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/users/import"),
            ("/admin/users/import".into(), Who::Only(&["admin"])),
        ),
        (
            ("GET", "/admin/users/{id}"),
            (format!("/admin/users/{d4}"), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/users/{id}"),
            (format!("/admin/users/{d4}"), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/users/{id}/roles"),
            (format!("/admin/users/{d4}/roles"), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/users/{id}/roles/{membership}/remove"),
            (
                format!("/admin/users/{d4}/roles/{d4_membership}/remove"),
                Who::Only(&["admin"]),
            ),
        ),
        (
            ("POST", "/admin/users/{id}/unlock"),
            (format!("/admin/users/{d4}/unlock"), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/users/{id}/reset-password"),
            (
                format!("/admin/users/{d4}/reset-password"),
                Who::Only(&["admin"]),
            ),
        ),
        (
            ("GET", "/admin/routes"),
            ("/admin/routes".into(), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/routes/{profile}"),
            ("/admin/routes/geriatrics".into(), Who::Only(&["admin"])),
        ),
        (
            ("GET", "/admin/settings"),
            ("/admin/settings".into(), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/settings"),
            ("/admin/settings".into(), Who::Only(&["admin"])),
        ),
        (
            ("POST", "/admin/reference/icd10"),
            ("/admin/reference/icd10".into(), Who::Only(&["admin"])),
        ),
        (
            ("GET", "/audit"),
            ("/audit".into(), Who::Only(&["auditor"])),
        ),
        (
            ("GET", "/audit.csv"),
            ("/audit.csv".into(), Who::Only(&["auditor"])),
        ),
        (
            ("GET", "/reports"),
            (
                "/reports".into(),
                Who::Only(&["analyst", "dispatcher", "head"]),
            ),
        ),
        (
            ("GET", "/reports.csv"),
            (
                "/reports.csv".into(),
                Who::Only(&["analyst", "dispatcher", "head"]),
            ),
        ),
        (("GET", "/verify"), ("/verify".into(), Who::Public)),
        (("POST", "/verify"), ("/verify".into(), Who::Public)),
        (
            ("GET", "/attachments/{id}/view"),
            (format!("/attachments/{att}/view"), Who::Only(SEES_REQUEST)),
        ),
        (
            ("GET", "/reports.xlsx"),
            (
                "/reports.xlsx".into(),
                Who::Only(&["analyst", "dispatcher", "head"]),
            ),
        ),
        (
            ("GET", "/reports.pdf"),
            (
                "/reports.pdf".into(),
                Who::Only(&["analyst", "dispatcher", "head"]),
            ),
        ),
        (
            ("POST", "/requests/{id}/federal"),
            (
                format!("/requests/{req}/federal"),
                Who::Only(&["dispatcher"]),
            ),
        ),
        (
            ("POST", "/requests/{id}/federal-resend"),
            (
                format!("/requests/{req}/federal-resend"),
                Who::Only(&["dispatcher"]),
            ),
        ),
        (
            ("POST", "/requests/{id}/correct"),
            (
                format!("/requests/{req}/correct"),
                Who::Only(&["consultant"]),
            ),
        ),
        (
            ("POST", "/requests/{id}/cms"),
            (format!("/requests/{req}/cms"), Who::Only(&["consultant"])),
        ),
        (
            ("GET", "/requests/{id}/semd"),
            (format!("/requests/{req}/semd"), Who::Only(&["consultant"])),
        ),
        (
            ("POST", "/requests/{id}/video-now"),
            (
                format!("/requests/{req}/video-now"),
                Who::Only(&["doctor", "consultant"]),
            ),
        ),
        (("GET", "/video"), ("/video".into(), Who::Only(VIDEO))),
        (
            ("POST", "/video/feed"),
            ("/video/feed".into(), Who::Only(VIDEO)),
        ),
        (
            ("POST", "/video/feed/revoke"),
            ("/video/feed/revoke".into(), Who::Only(VIDEO)),
        ),
        (
            ("GET", "/video/check"),
            ("/video/check".into(), Who::Only(VIDEO)),
        ),
        (
            ("GET", "/video/{id}"),
            (
                format!("/video/{video}"),
                Who::Only(&["doctor", "consultant"]),
            ),
        ),
        (
            ("POST", "/video/{id}/cancel"),
            (
                format!("/video/{}/cancel", doomed_video[0]),
                Who::Only(&["dispatcher"]),
            ),
        ),
        (
            ("GET", "/video/{id}/ws"),
            (
                format!("/video/{video}/ws"),
                Who::Only(&["doctor", "consultant"]),
            ),
        ),
        (("GET", "/ics/{token}"), (feed.clone(), Who::Public)),
        (
            ("GET", "/static/{file}"),
            ("/static/app.css".into(), Who::Public),
        ),
        (
            ("GET", "/favicon.ico"),
            ("/favicon.ico".into(), Who::Public),
        ),
    ]
    .into_iter()
    .collect();

    let registered: Vec<(&str, &str)> = rtms_web::ui::ui_routes()
        .iter()
        .flat_map(|r| r.methods.iter().map(move |m| (*m, r.path)))
        .collect();
    for key in &registered {
        assert!(
            ui.contains_key(key),
            "page route {key:?} is not in the access matrix"
        );
    }
    assert_eq!(
        registered.len(),
        ui.len(),
        "the matrix names routes the server does not have"
    );

    let mut cookies: BTreeMap<&str, String> = BTreeMap::new();
    for role in ROLES {
        cookies.insert(role, app.ui_login(role).await);
    }
    let mut failures = Vec::new();
    for ((method, _), (path, who)) in &ui {
        for role in std::iter::once(None).chain(ROLES.iter().map(|r| Some(*r))) {
            // Signing out ends the session: give it a session of its own.
            let cookie = match (role, *path == "/logout") {
                (Some(r), true) => Some(app.ui_login(r).await),
                (Some(r), false) => Some(cookies[r].clone()),
                (None, _) => None,
            };
            let mut req = app
                .browser
                .request(method.parse().unwrap(), format!("{}{}", app.base, path));
            if let Some(c) = &cookie {
                req = req.header("cookie", c);
            }
            if path.ends_with("/import")
                || *path == "/duty/calendar"
                || path.ends_with("/icd10") && *method == "POST"
            {
                req = req.multipart(reqwest::multipart::Form::new().text("file", ""));
            } else if *method == "POST" {
                req = req.form(&[("x", "")]);
            }
            let resp = req.send().await.unwrap();
            assert!(
                !resp.status().is_server_error(),
                "{method} {path} as {role:?}: {}",
                resp.status()
            );
            assert_ne!(
                resp.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is registered but not answered"
            );
            let expected = allows(*who, role);
            if denied(&resp) == expected {
                failures.push(format!(
                    "{method} {path} as {}: {} (expected {})",
                    role.unwrap_or("anonymous"),
                    resp.status(),
                    if expected { "allowed" } else { "denied" }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "page access wrong:\n{}",
        failures.join("\n")
    );

    // ---- the API ----------------------------------------------------------------------
    // The page matrix took doctor4's role away; give it back to take it away again.
    let d4_org = doctor4["roles"][0]["organization_id"].as_i64().unwrap();
    let (s, _) = app
        .call(
            Some(&admin_token),
            Method::POST,
            &format!("/api/v1/admin/users/{d4}/roles"),
            Some(json!({"role": "doctor", "organization_id": d4_org})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let users = app.get(&admin_token, "/api/v1/admin/users").await;
    let d4_membership = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "doctor4")
        .unwrap()["roles"][0]["id"]
        .as_i64()
        .unwrap();
    let org_body =
        json!({"name": "", "short_name": "", "kind": "mo", "time_zone": "Europe/Moscow"});
    let shift_body = json!({"profile": "nope", "date": "2030-01-01", "kind": "day", "start": "08:00", "end": "20:00", "primary": "nobody"});
    let absence_body =
        json!({"user_id": 0, "kind": "nope", "from": "2030-01-01", "to": "2030-01-02"});
    let api: BTreeMap<(&str, &str), (String, Who, Option<Value>)> = [
        (("get", "/api/v1/duty/now"), ("/api/v1/duty/now".to_string(), Who::Only(DUTY), None)),
        (("get", "/api/v1/duty/centres/{tkc}/roster"), (format!("/api/v1/duty/centres/{okb}/roster"), Who::Only(ROSTER), None)),
        (("put", "/api/v1/duty/centres/{tkc}/roster"), (format!("/api/v1/duty/centres/{okb}/roster"), Who::Only(ROSTER), None)),
        (("get", "/api/v1/duty/centres/{tkc}/roster.csv"), (format!("/api/v1/duty/centres/{okb}/roster.csv"), Who::Only(ROSTER), None)),
        (("get", "/api/v1/duty/centres/{tkc}/roster.xlsx"), (format!("/api/v1/duty/centres/{okb}/roster.xlsx"), Who::Only(ROSTER), None)),
        (("post", "/api/v1/duty/centres/{tkc}/shifts"), (format!("/api/v1/duty/centres/{okb}/shifts"), Who::Only(ROSTER), Some(shift_body))),
        (("delete", "/api/v1/duty/centres/{tkc}/shifts/{id}"), (format!("/api/v1/duty/centres/{okb}/shifts/999999"), Who::Only(ROSTER), None)),
        (("post", "/api/v1/duty/centres/{tkc}/absences"), (format!("/api/v1/duty/centres/{okb}/absences"), Who::Only(ROSTER), Some(absence_body))),
        (("delete", "/api/v1/duty/centres/{tkc}/absences/{id}"), (format!("/api/v1/duty/centres/{okb}/absences/999999"), Who::Only(ROSTER), None)),
        (("put", "/api/v1/duty/calendar"), ("/api/v1/duty/calendar?source=x".into(), Who::Only(&["admin"]), None)),
        (("get", "/api/v1/consultations/{id}/duty"), (format!("/api/v1/consultations/{req}/duty"), Who::Only(SEES_REQUEST), None)),
        (("post", "/api/v1/consultations/{id}/duty/ack"), (format!("/api/v1/consultations/{req}/duty/ack"), Who::Only(SEES_REQUEST), None)),
        (("post", "/api/v1/auth/login"), ("/api/v1/auth/login".to_string(), Who::SignedIn, None)),
        (("get", "/api/v1/me"), ("/api/v1/me".into(), Who::SignedIn, None)),
        (("get", "/api/v1/consultations"), ("/api/v1/consultations".into(), Who::Only(CLINICAL), None)),
        (("post", "/api/v1/consultations"), ("/api/v1/consultations".into(), Who::Only(&["doctor"]), Some(json!({})))),
        (("get", "/api/v1/consultations/{id}"), (format!("/api/v1/consultations/{req}"), Who::Only(SEES_REQUEST), None)),
        (("patch", "/api/v1/consultations/{id}"), (format!("/api/v1/consultations/{req}"), Who::Only(&["doctor"]), Some(json!({})))),
        (("post", "/api/v1/consultations/{id}/actions/{action}"), (format!("/api/v1/consultations/{unsigned}/actions/sign"), Who::Only(&["consultant"]), Some(json!({})))),
        (("get", "/api/v1/consultations/{id}/events"), (format!("/api/v1/consultations/{req}/events"), Who::Only(SEES_REQUEST), None)),
        (("get", "/api/v1/consultations/{id}/messages"), (format!("/api/v1/consultations/{req}/messages"), Who::Only(SEES_REQUEST), None)),
        (("post", "/api/v1/consultations/{id}/messages"), (format!("/api/v1/consultations/{req}/messages"), Who::Only(&["doctor", "consultant"]), Some(json!({"body": "?"})))),
        (("get", "/api/v1/consultations/{id}/conclusion"), (format!("/api/v1/consultations/{req}/conclusion"), Who::Only(&["consultant"]), None)),
        (("put", "/api/v1/consultations/{id}/conclusion"), (format!("/api/v1/consultations/{req}/conclusion"), Who::Only(&["consultant"]), Some(json!({"diagnosis_main": "I21.0", "findings": "", "recommendations": ""})))),
        (("get", "/api/v1/consultants"), ("/api/v1/consultants".into(), Who::Only(&["admin", "dispatcher", "doctor", "head", "coordinator", "consultant", "consultant2"]), None)),
        (("get", "/api/v1/reference/icd10"), ("/api/v1/reference/icd10?q=I21".into(), Who::SignedIn, None)),
        (("get", "/api/v1/reference/profiles"), ("/api/v1/reference/profiles".into(), Who::Public, None)),
        (("get", "/api/v1/reference/purposes"), ("/api/v1/reference/purposes".into(), Who::Public, None)),
        (("get", "/api/v1/notifications"), ("/api/v1/notifications".into(), Who::SignedIn, None)),
        (("post", "/api/v1/notifications/read"), ("/api/v1/notifications/read".into(), Who::SignedIn, None)),
        (("get", "/api/v1/admin/organizations"), ("/api/v1/admin/organizations".into(), Who::Only(&["admin"]), None)),
        (("post", "/api/v1/admin/organizations"), ("/api/v1/admin/organizations".into(), Who::Only(&["admin"]), Some(org_body.clone()))),
        (("put", "/api/v1/admin/organizations/{id}"), ("/api/v1/admin/organizations/1".into(), Who::Only(&["admin"]), Some(org_body))),
        (("get", "/api/v1/admin/users"), ("/api/v1/admin/users".into(), Who::Only(&["admin"]), None)),
        (("post", "/api/v1/admin/users"), ("/api/v1/admin/users".into(), Who::Only(&["admin"]), Some(json!({"login": "", "last_name": "", "first_name": ""})))),
        (("put", "/api/v1/admin/users/{id}"), (format!("/api/v1/admin/users/{d4}"), Who::Only(&["admin"]), Some(json!({"last_name": "", "first_name": "", "active": true})))),
        (("post", "/api/v1/admin/users/{id}/roles"), (format!("/api/v1/admin/users/{d4}/roles"), Who::Only(&["admin"]), Some(json!({"role": "doctor", "organization_id": 1})))),
        (("delete", "/api/v1/admin/users/{id}/roles/{membership_id}"), (format!("/api/v1/admin/users/{d4}/roles/{d4_membership}"), Who::Only(&["admin"]), None)),
        (("post", "/api/v1/admin/users/{id}/reset-password"), (format!("/api/v1/admin/users/{d4}/reset-password"), Who::Only(&["admin"]), None)),
        (("post", "/api/v1/admin/users/import"), ("/api/v1/admin/users/import".into(), Who::Only(&["admin"]), None)),
        (("get", "/api/v1/admin/routes"), ("/api/v1/admin/routes".into(), Who::Only(&["admin"]), None)),
        (("put", "/api/v1/admin/routes"), ("/api/v1/admin/routes".into(), Who::Only(&["admin"]), Some(json!({"profile": "nope", "form_of_care": "planned", "tkc_id": null})))),
        (("get", "/api/v1/admin/settings"), ("/api/v1/admin/settings".into(), Who::Only(&["admin"]), None)),
        (("put", "/api/v1/admin/settings"), ("/api/v1/admin/settings".into(), Who::Only(&["admin"]), Some(json!({"emergency_minutes": 0, "urgent_minutes": 0, "planned_minutes": 0, "require_totp_admins": false, "session_idle_minutes": 0})))),
        (("post", "/api/v1/admin/reference/icd10"), ("/api/v1/admin/reference/icd10".into(), Who::Only(&["admin"]), None)),
        (("get", "/api/v1/audit"), ("/api/v1/audit".into(), Who::Only(&["auditor"]), None)),
        (("get", "/api/v1/reports"), ("/api/v1/reports".into(), Who::Only(&["analyst", "dispatcher", "head"]), None)),
        (("get", "/api/v1/consultations/{id}/conclusion/pdf"), (format!("/api/v1/consultations/{req}/conclusion/pdf"), Who::Only(&["consultant"]), None)),
        (("post", "/api/v1/consultations/{id}/federal"), (format!("/api/v1/consultations/{req}/federal"), Who::Only(&["dispatcher"]), Some(json!({"number": "Ф-1"})))),
        (("get", "/api/v1/consultations/{id}/escalation"), (format!("/api/v1/consultations/{req}/escalation"), Who::Only(SEES_REQUEST), None)),
        (("post", "/api/v1/consultations/{id}/escalation/resend"), (format!("/api/v1/consultations/{req}/escalation/resend"), Who::Only(&["dispatcher"]), None)),
        (("get", "/api/v1/federal/alarms"), ("/api/v1/federal/alarms".into(), Who::SignedIn, None)),
        (("get", "/api/v1/consultations/{id}/package.zip"), (format!("/api/v1/consultations/{req}/package.zip"), Who::Only(&["dispatcher"]), None)),
        (("get", "/api/v1/consultations/{id}/summary.pdf"), (format!("/api/v1/consultations/{req}/summary.pdf"), Who::Only(SEES_REQUEST), None)),
        (("post", "/api/v1/consultations/{id}/conclusion/correction"), (format!("/api/v1/consultations/{req}/conclusion/correction"), Who::Only(&["consultant"]), Some(json!({"comment": "опечатка"})))),
        (("post", "/api/v1/consultations/{id}/conclusion/correction/sign"), (format!("/api/v1/consultations/{req}/conclusion/correction/sign"), Who::Only(&["consultant"]), None)),
        (("get", "/api/v1/consultations/{id}/conclusion/signatures"), (format!("/api/v1/consultations/{req}/conclusion/signatures"), Who::Only(&["consultant"]), None)),
        (("post", "/api/v1/consultations/{id}/conclusion/signatures"), (format!("/api/v1/consultations/{req}/conclusion/signatures"), Who::Only(&["consultant"]), None)),
        (("get", "/api/v1/consultations/{id}/conclusion/seal"), (format!("/api/v1/consultations/{req}/conclusion/seal"), Who::Only(&["consultant"]), None)),
        (("get", "/api/v1/consultations/{id}/semd"), (format!("/api/v1/consultations/{req}/semd"), Who::Only(&["consultant"]), None)),
        (("get", "/api/v1/consultations/{id}/semd/info"), (format!("/api/v1/consultations/{req}/semd/info"), Who::Only(&["consultant"]), None)),
        (("get", "/api/v1/seal/key"), ("/api/v1/seal/key".into(), Who::Public, None)),
        (("post", "/api/v1/verify"), ("/api/v1/verify".into(), Who::Public, None)),
        (("options", "/api/v1/uploads"), ("/api/v1/uploads".into(), Who::Public, None)),
        (("post", "/api/v1/uploads"), ("/api/v1/uploads".into(), Who::Only(&["doctor", "head", "consultant"]), None)),
        (("head", "/api/v1/uploads/{id}"), (pending.clone(), Who::Only(&["doctor"]), None)),
        (("patch", "/api/v1/uploads/{id}"), (pending.clone(), Who::Only(&["doctor"]), None)),
        (("delete", "/api/v1/uploads/{id}"), (doomed.clone(), Who::Only(&["doctor"]), None)),
        (("get", "/api/v1/consultations/{id}/attachments"), (format!("/api/v1/consultations/{req}/attachments"), Who::Only(SEES_REQUEST), None)),
        (("get", "/api/v1/attachments/{id}"), (format!("/api/v1/attachments/{att}"), Who::Only(SEES_REQUEST), None)),
        (("get", "/api/v1/attachments/{id}/study"), (format!("/api/v1/attachments/{att}/study"), Who::Only(SEES_REQUEST), None)),
        (("get", "/api/v1/attachments/{id}/frame"), (format!("/api/v1/attachments/{att}/frame"), Who::Only(SEES_REQUEST), None)),
        (("get", "/api/v1/reports.xlsx"), ("/api/v1/reports.xlsx".into(), Who::Only(&["analyst", "dispatcher", "head"]), None)),
        (("get", "/api/v1/reports.pdf"), ("/api/v1/reports.pdf".into(), Who::Only(&["analyst", "dispatcher", "head"]), None)),
        (("get", "/api/v1/reports"), ("/api/v1/reports".into(), Who::Only(&["analyst", "dispatcher", "head"]), None)),
        (("post", "/api/v1/video"), ("/api/v1/video".into(), Who::Only(&["dispatcher", "coordinator"]), Some(json!({"starts_at": Utc::now() + Duration::days(9), "participant_ids": []})))),
        (("get", "/api/v1/video"), ("/api/v1/video".into(), Who::Only(VIDEO), None)),
        (("get", "/api/v1/video/feed"), ("/api/v1/video/feed".into(), Who::Only(VIDEO), None)),
        (("post", "/api/v1/video/feed"), ("/api/v1/video/feed".into(), Who::Only(VIDEO), None)),
        (("delete", "/api/v1/video/feed"), ("/api/v1/video/feed".into(), Who::Only(VIDEO), None)),
        (("get", "/api/v1/video/{id}"), (format!("/api/v1/video/{video}"), Who::Only(&["dispatcher", "doctor", "consultant"]), None)),
        (("post", "/api/v1/video/{id}/cancel"), (format!("/api/v1/video/{}/cancel", doomed_video[1]), Who::Only(&["dispatcher"]), None)),
        (("get", "/api/v1/video/{id}/ice"), (format!("/api/v1/video/{video}/ice"), Who::Only(&["doctor", "consultant"]), None)),
    ]
    .into_iter()
    .collect();
    let (_, doc) = app.call(None, Method::GET, "/api/openapi.json", None).await;
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        // `…/actions/<action>` (one operation per action in the document) is
        // the one route `…/actions/{action}`, checked above with `sign`; who
        // may take each action in each state is the lifecycle's tests' part.
        if path.starts_with("/api/v1/consultations/{id}/actions/") && !path.ends_with("{action}") {
            assert_eq!(
                item["post"]["operationId"],
                format!("act_{}", path.rsplit('/').next().unwrap())
            );
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    for (m, p) in &documented {
        assert!(
            api.contains_key(&(m.as_str(), p.as_str())),
            "API route {m} {p} is not in the access matrix"
        );
    }
    assert_eq!(
        documented.len(),
        api.len(),
        "the matrix names API routes the server does not have"
    );

    let mut tokens: BTreeMap<&str, String> = BTreeMap::new();
    for role in ROLES {
        tokens.insert(role, app.login(role).await);
    }
    let req_id = req;
    for ((method, template), (path, who, body)) in &api {
        for role in std::iter::once(None).chain(ROLES.iter().map(|r| Some(*r))) {
            let mut req = app.client.request(
                method.to_uppercase().parse().unwrap(),
                format!("{}{}", app.base, path),
            );
            if *template == "/api/v1/auth/login" {
                // Signing in is the route that checks the password itself.
                req = req.json(
                    &json!({"login": role.unwrap_or("nobody"), "password": "rtms-demo-password"}),
                );
            } else if let Some(r) = role {
                req = req.bearer_auth(&tokens[r]);
            }
            if *template == "/api/v1/uploads" && *method == "post" {
                use base64::Engine;
                let meta = format!(
                    "filename {},consultation {}",
                    base64::engine::general_purpose::STANDARD.encode("x.pdf"),
                    base64::engine::general_purpose::STANDARD.encode(req_id.to_string())
                );
                req = req
                    .header("Upload-Length", "10")
                    .header("Upload-Metadata", meta);
            }
            if *template == "/api/v1/uploads/{id}" && *method == "patch" {
                req = req
                    .header("Upload-Offset", "0")
                    .header("Content-Type", "application/offset+octet-stream");
            }
            if let Some(b) = body {
                req = req.json(b);
            } else if template.ends_with("/import")
                || template.ends_with("/icd10") && *method == "post"
            {
                req = req.header("content-type", "text/csv").body("");
            }
            let resp = req.send().await.unwrap();
            assert!(
                !resp.status().is_server_error(),
                "{method} {path} as {role:?}: {}",
                resp.status()
            );
            let expected = allows(*who, role);
            if denied(&resp) == expected {
                failures.push(format!(
                    "{method} {path} as {}: {} (expected {})",
                    role.unwrap_or("anonymous"),
                    resp.status(),
                    if expected { "allowed" } else { "denied" }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "API access wrong:\n{}",
        failures.join("\n")
    );
}
both_backends!(
    every_route_allows_exactly_the_roles_it_should,
    super::route_role_matrix
);

/// The FHIR interface: its capability statement is public, everything else
/// needs a token (anonymous callers get an OperationOutcome, never data).
async fn fhir_routes_need_a_token(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    for (method, path) in rtms_web::fhir::FHIR_ROUTES {
        let url = format!("{}{}", app.base, path.replace("{id}", "1"));
        let resp = app
            .client
            .request(method.parse().unwrap(), url)
            .header("content-type", "application/fhir+json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        if *path == "/fhir/r4/metadata" {
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body["resourceType"], "CapabilityStatement");
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(body["resourceType"], "OperationOutcome", "{method} {path}");
        }
    }
    app.stop().await;
}
both_backends!(fhir_needs_a_token, super::fhir_routes_need_a_token);

async fn cross_organization(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    // A doctor of another organization guesses the id: neither the API nor the page shows it.
    let doctor2 = app.login("doctor2").await;
    let (s, body) = app
        .call(
            Some(&doctor2),
            Method::GET,
            &format!("/api/v1/consultations/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    let cookie = app.ui_login("doctor2").await;
    let resp = app
        .page(Method::GET, &format!("/requests/{id}"), Some(&cookie))
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let html = resp.text().await.unwrap();
    assert!(
        !html.contains("Тестов"),
        "the patient's name leaked into the page"
    );
    // Nor does it appear in their list.
    let list = app.get(&doctor2, "/api/v1/consultations?q=тестов").await;
    assert_eq!(list["total"], 0);
}
both_backends!(
    a_doctor_cannot_open_another_organizations_request,
    super::cross_organization
);

async fn lockout(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let wrong = json!({"login": "doctor", "password": "not-the-password"});
    // The fifth failure locks, but the answer stays the one an unknown login
    // gets: the lock tells nobody that the login exists.
    for attempt in 1..=6 {
        let (s, body) = app
            .call(
                None,
                Method::POST,
                "/api/v1/auth/login",
                Some(wrong.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {attempt}: {body}");
        assert_eq!(body["title"], "Неверный логин или пароль", "{body}");
    }
    // Even the right password is refused while locked, in the same words.
    let right = json!({"login": "doctor", "password": "rtms-demo-password"});
    let (s, body) = app
        .call(
            None,
            Method::POST,
            "/api/v1/auth/login",
            Some(right.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["title"], "Неверный логин или пароль", "{body}");
    let resp = app
        .browser
        .post(format!("{}/login", app.base))
        .form(&[("login", "doctor"), ("password", "rtms-demo-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Неверный логин или пароль"));
    // The lock is in the database: a second server on the same database refuses too.
    let db = app.stop().await;
    let again = TestApp::start(db).await;
    let (s, _) = again
        .call(
            None,
            Method::POST,
            "/api/v1/auth/login",
            Some(right.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Others are not affected; an administrator sees the lock and lifts it.
    let admin = again.ui_login("admin").await;
    let admin_token = again.login("admin").await;
    let users = again.get(&admin_token, "/api/v1/admin/users").await;
    let doctor_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "doctor")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let page = again
        .page(
            Method::GET,
            &format!("/admin/users/{doctor_id}"),
            Some(&admin),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Вход заблокирован"), "the lock is not shown");
    assert!(page.contains("id=\"unlock\""), "no way to unlock");
    let resp = again
        .page(
            Method::POST,
            &format!("/admin/users/{doctor_id}/unlock"),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    again.login("doctor").await;
    // The unlock is in the journal, with who did it.
    let auditor = again.login("auditor").await;
    let journal = again.get(&auditor, "/api/v1/audit?login=admin").await;
    assert!(
        journal.to_string().contains("user_unlock"),
        "the unlock is not audited: {journal}"
    );
}
both_backends!(
    repeated_failures_lock_the_account_across_restarts,
    super::lockout
);

async fn csrf(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.ui_login("doctor").await;
    let foreign = |req: reqwest::RequestBuilder| {
        req.header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
    };
    let resp = foreign(app.browser.post(format!("{}/requests", app.base)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app
        .browser
        .post(format!("{}/logout", app.base))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "Origin alone must be checked when Fetch Metadata is absent"
    );
    // The session survived both attempts, and the same request from the site itself works.
    let resp = app
        .browser
        .post(format!("{}/requests", app.base))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/edit"));
    // A cookie-carrying POST that says nothing of where it comes from is refused too.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = bare
        .post(format!("{}/requests", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // No open redirects: a back-slashed "path" leaves the site in browsers.
    for evil in ["/%5Cevil.example", "//evil.example", "https://evil.example"] {
        let resp = app
            .page(Method::GET, &format!("/lang/ru?back={evil}"), None)
            .await;
        assert_eq!(resp.headers()["location"], "/", "back={evil}");
    }
    // Every page carries the strict policy.
    let resp = app.page(Method::GET, "/queue", Some(&cookie)).await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
}
both_backends!(cross_site_requests_are_refused, super::csrf);

async fn session_expiry(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    let cookie = app.ui_login("dispatcher").await;
    assert_eq!(
        app.page(Method::GET, "/queue", Some(&cookie))
            .await
            .status(),
        StatusCode::OK
    );
    // Active use keeps it alive…
    for _ in 0..3 {
        clock.advance(Duration::minutes(20));
        assert_eq!(
            app.page(Method::GET, "/queue", Some(&cookie))
                .await
                .status(),
            StatusCode::OK
        );
    }
    // …half an hour of silence ends it.
    clock.advance(Duration::minutes(31));
    let resp = app.page(Method::GET, "/queue", Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    // And a session never outlives its absolute limit, however active.
    let cookie = app.ui_login("dispatcher").await;
    for _ in 0..26 {
        clock.advance(Duration::minutes(29));
        let _ = app.page(Method::GET, "/queue", Some(&cookie)).await;
    }
    assert_eq!(
        app.page(Method::GET, "/queue", Some(&cookie))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
both_backends!(idle_and_absolute_session_timeouts, super::session_expiry);

async fn totp(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    let cookie = app.ui_login("admin").await;
    assert_eq!(
        app.page(Method::POST, "/totp/begin", Some(&cookie))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let page = app
        .page(Method::GET, "/totp", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("secret shown")
        .to_string();
    let key = rtms_service::access::totp::base32_decode(&secret).unwrap();
    let code = |at: i64| format!("{:06}", rtms_service::access::totp::totp(&key, at));
    // A wrong code does not enrol.
    let resp = app
        .browser
        .post(format!("{}/totp", app.base))
        .header("cookie", &cookie)
        .form(&[("code", "000000"), ("secret", &secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app
        .browser
        .post(format!("{}/totp", app.base))
        .header("cookie", &cookie)
        .form(&[("code", code(clock.now().timestamp()).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(app
        .page(Method::GET, "/totp", Some(&cookie))
        .await
        .text()
        .await
        .unwrap()
        .contains("включён"));

    // Signing in now asks for the code after the password.
    let resp = app
        .browser
        .post(format!("{}/login", app.base))
        .form(&[("login", "admin"), ("password", "rtms-demo-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        session_cookie(&resp).is_none(),
        "no session before the second factor"
    );
    let html = resp.text().await.unwrap();
    let pending = html
        .split("name=\"pending\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let resp = app
        .browser
        .post(format!("{}/login/code", app.base))
        .form(&[("pending", pending.as_str()), ("code", "123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    clock.advance(Duration::seconds(30));
    let resp = app
        .browser
        .post(format!("{}/login/code", app.base))
        .form(&[
            ("pending", pending.as_str()),
            ("code", code(clock.now().timestamp()).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let session = session_cookie(&resp).expect("signed in after the code");
    assert_eq!(
        app.page(Method::GET, "/admin/users", Some(&session))
            .await
            .status(),
        StatusCode::OK
    );
    // The API has no second step, so the password alone opens nothing there.
    let (s, body) = app
        .call(
            None,
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"login": "admin", "password": "rtms-demo-password"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ключ API"),
        "{body}"
    );
    // Nor can codes be guessed forever by signing in again and again: wrong
    // codes across fresh sign-ins lock the account (answered like any wrong password).
    for _ in 0..3 {
        let resp = app
            .browser
            .post(format!("{}/login", app.base))
            .form(&[("login", "admin"), ("password", "rtms-demo-password")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let html = resp.text().await.unwrap();
        let p = html
            .split("name=\"pending\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        for _ in 0..2 {
            let r = app
                .browser
                .post(format!("{}/login/code", app.base))
                .form(&[("pending", p.as_str()), ("code", "000001")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let resp = app
        .browser
        .post(format!("{}/login", app.base))
        .form(&[("login", "admin"), ("password", "rtms-demo-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "wrong codes across fresh sign-ins must lock the account"
    );
    // The pending step cannot be replayed.
    let resp = app
        .browser
        .post(format!("{}/login/code", app.base))
        .form(&[
            ("pending", pending.as_str()),
            ("code", code(clock.now().timestamp()).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_ne!(resp.status(), StatusCode::SEE_OTHER);
}
both_backends!(second_factor_enrolment_and_sign_in, super::totp);

/// Password attempts are throttled per login and per client address, before
/// any password is hashed, and alike for logins that exist and logins that do
/// not: the answers tell an attacker nothing, and a window later they work again.
async fn throttle(backend: BackendKind) {
    use rtms_service::access::sessions::{
        LOGIN_ATTEMPTS_PER_ADDRESS, LOGIN_ATTEMPTS_PER_LOGIN, LOGIN_WINDOW_SECONDS,
    };
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    let attempt = |login: &str, password: &str| {
        app.client
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({"login": login, "password": password}))
            .send()
    };
    let mut spent = 0;
    let mut seen: Vec<Vec<u16>> = Vec::new();
    for login in ["consultant2", "nobody-at-all"] {
        let mut statuses = Vec::new();
        for _ in 0..=LOGIN_ATTEMPTS_PER_LOGIN {
            statuses.push(
                attempt(login, "a-wrong-password")
                    .await
                    .unwrap()
                    .status()
                    .as_u16(),
            );
            spent += 1;
        }
        seen.push(statuses);
        // Over the limit, even the right password is not looked at.
        let resp = attempt(login, "rtms-demo-password").await.unwrap();
        spent += 1;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{login}");
        let retry: i64 = resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            retry > 0 && retry <= LOGIN_WINDOW_SECONDS,
            "Retry-After {retry}"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["title"], "Слишком много попыток входа", "{body}");
    }
    let mut expected = vec![401u16; LOGIN_ATTEMPTS_PER_LOGIN as usize];
    expected.push(429);
    assert_eq!(seen[0], expected, "a known login's answers");
    assert_eq!(seen[1], seen[0], "an unknown login is answered differently");
    // The sign-in page says it in words, with Retry-After.
    let resp = app
        .browser
        .post(format!("{}/login", app.base))
        .form(&[("login", "consultant2"), ("password", "rtms-demo-password")])
        .send()
        .await
        .unwrap();
    spent += 1;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Слишком много попыток входа"));
    // Another login from the same address still signs in; doing so costs the address nothing.
    for _ in 0..3 {
        app.login("doctor").await;
    }
    // Spread over many logins, one address runs out too, and then nobody
    // signs in from it, with the right password or not.
    let mut n = 0;
    loop {
        let s = attempt(&format!("spray-{n}"), "a-wrong-password")
            .await
            .unwrap()
            .status();
        spent += 1;
        n += 1;
        if s == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(
            spent <= LOGIN_ATTEMPTS_PER_ADDRESS,
            "the address is never throttled"
        );
    }
    assert_eq!(
        spent,
        LOGIN_ATTEMPTS_PER_ADDRESS + 1,
        "throttled at the wrong count"
    );
    let resp = attempt("doctor", "rtms-demo-password").await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // A window later (and the longest lock later: ten failures locked
    // consultant2), all is forgiven.
    clock.advance(
        Duration::seconds(LOGIN_WINDOW_SECONDS + 1).max(Duration::minutes(
            rtms_service::access::sessions::MAX_LOCK_MINUTES + 1,
        )),
    );
    app.login("consultant2").await;
    app.login("doctor").await;
}
both_backends!(
    sign_in_attempts_are_throttled_alike_for_known_and_unknown_logins,
    super::throttle
);

/// Enrols `login`'s second factor through the page as a user would (the
/// secret from the page, a code from it); returns the key and the session.
async fn enrol_totp(app: &TestApp, clock: &ManualClock, login: &str) -> (Vec<u8>, String) {
    let cookie = app.ui_login(login).await;
    let resp = app.page(Method::POST, "/totp/begin", Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = app
        .page(Method::GET, "/totp", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("secret shown")
        .to_string();
    let key = rtms_service::access::totp::base32_decode(&secret).unwrap();
    let code = format!(
        "{:06}",
        rtms_service::access::totp::totp(&key, clock.now().timestamp())
    );
    let resp = app
        .browser
        .post(format!("{}/totp", app.base))
        .header("cookie", &cookie)
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "enrolment");
    (key, cookie)
}

/// The password step of a sign-in with a second factor: the pending token.
async fn password_step(app: &TestApp, login: &str) -> String {
    let resp = app
        .browser
        .post(format!("{}/login", app.base))
        .form(&[("login", login), ("password", "rtms-demo-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text()
        .await
        .unwrap()
        .split("name=\"pending\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the code is asked for")
        .to_string()
}

/// A second-factor code signs in once: seen over a shoulder or replayed from
/// a proxy log, the same code does not open a second session.
async fn totp_once(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    let (key, _) = enrol_totp(&app, &clock, "dispatcher").await;
    clock.advance(Duration::seconds(30));
    let code = format!(
        "{:06}",
        rtms_service::access::totp::totp(&key, clock.now().timestamp())
    );
    let send = |pending: String, code: String| {
        app.browser
            .post(format!("{}/login/code", app.base))
            .form(&[("pending", pending), ("code", code)])
            .send()
    };
    let first = send(password_step(&app, "dispatcher").await, code.clone())
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(&first).is_some());
    // The same code again, within its 30 seconds, in a fresh sign-in: refused.
    let replay = send(password_step(&app, "dispatcher").await, code.clone())
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert!(
        session_cookie(&replay).is_none(),
        "a replayed code signed in"
    );
    // Nor the code of the step before (still inside the drift window).
    clock.advance(Duration::seconds(30));
    let replay = send(password_step(&app, "dispatcher").await, code)
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    // The next step's code works.
    let next = format!(
        "{:06}",
        rtms_service::access::totp::totp(&key, clock.now().timestamp())
    );
    let resp = send(password_step(&app, "dispatcher").await, next)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(&resp).is_some());
}
both_backends!(a_second_factor_code_signs_in_once, super::totp_once);

/// Reading the second-factor page changes nothing: a link or an image on
/// another site cannot replace a secret being enrolled.
async fn totp_page_reads(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.ui_login("analyst").await;
    let secret_of = |html: String| {
        html.split("id=\"totp-secret\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .map(str::to_string)
    };
    let page = app.page(Method::GET, "/totp", Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        secret_of(page.text().await.unwrap()),
        None,
        "GET made a secret"
    );
    assert_eq!(
        app.page(Method::POST, "/totp/begin", Some(&cookie))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let first = secret_of(
        app.page(Method::GET, "/totp", Some(&cookie))
            .await
            .text()
            .await
            .unwrap(),
    )
    .expect("the secret begun is shown");
    let again = secret_of(
        app.page(Method::GET, "/totp", Some(&cookie))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        again.as_deref(),
        Some(first.as_str()),
        "GET replaced the secret"
    );
    // The state change is a POST, and from this site only.
    let resp = app
        .client
        .post(format!("{}/totp/begin", app.base))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}
both_backends!(
    the_second_factor_page_changes_nothing_on_get,
    super::totp_page_reads
);

/// The live stream (SSE) of a session that ends, ends too: within the
/// recheck period after signing out.
async fn live_stream_ends(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.ui_login("dispatcher").await;
    let mut live = app.page(Method::GET, "/live", Some(&cookie)).await;
    assert_eq!(live.status(), StatusCode::OK);
    let resp = app.page(Method::POST, "/logout", Some(&cookie)).await;
    assert!(resp.status().is_redirection());
    let bound =
        std::time::Duration::from_secs(rtms_service::access::sessions::STREAM_RECHECK_SECONDS + 3);
    let started = std::time::Instant::now();
    let ended = tokio::time::timeout(bound, async {
        while let Ok(Some(_)) = live.chunk().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the live stream outlived its session by more than {bound:?}"
    );
    eprintln!("live stream ended {:?} after sign-out", started.elapsed());
    // An administrator switching a user off ends that user's stream the same way.
    let cookie = app.ui_login("doctor").await;
    let mut live = app.page(Method::GET, "/live", Some(&cookie)).await;
    assert_eq!(live.status(), StatusCode::OK);
    let admin = app.login("admin").await;
    let users = app.get(&admin, "/api/v1/admin/users").await;
    let doctor = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "doctor")
        .unwrap()
        .clone();
    let id = doctor["id"].as_i64().unwrap();
    let db = rtms_store::Db::connect(&app.db.url, 1).unwrap();
    tokio::task::spawn_blocking(move || {
        db.write(|c| rtms_store::signin::set_user_active(c, id, false))
            .unwrap()
    })
    .await
    .unwrap();
    let ended = tokio::time::timeout(bound, async {
        while let Ok(Some(_)) = live.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "a switched-off user's stream went on");
}
both_backends!(a_live_stream_ends_with_its_session, super::live_stream_ends);

/// File doors taking the session cookie (downloads, uploads) apply the gates
/// pages apply: a temporary password is changed first.
async fn file_gates(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let req = fixture(&app, false).await;
    let doctor_token = app.login("doctor").await;
    let dicom = rtms_dicom::fixtures::to_bytes(&rtms_dicom::fixtures::ct_object(
        &rtms_dicom::fixtures::Spec::ct(1),
    ));
    let (_, att) = upload(&app, &doctor_token, req, &dicom, true).await;
    let att = att.unwrap();
    let doctor_id = app.get(&doctor_token, "/api/v1/me").await["id"]
        .as_i64()
        .unwrap();
    // The administrator gives the doctor a temporary password.
    let admin = app.ui_login("admin").await;
    let html = app
        .page(
            Method::POST,
            &format!("/admin/users/{doctor_id}/reset-password"),
            Some(&admin),
        )
        .await
        .text()
        .await
        .unwrap();
    let temporary = html
        .split("id=\"temp-password\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the temporary password is shown")
        .to_string();
    let resp = app
        .browser
        .post(format!("{}/login", app.base))
        .form(&[("login", "doctor"), ("password", temporary.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&resp).unwrap();
    // Pages send such a session to change the password; files refuse it, saying why.
    let dl = app
        .page(
            Method::GET,
            &format!("/api/v1/attachments/{att}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(dl.status(), StatusCode::FORBIDDEN);
    let body: Value = dl.json().await.unwrap();
    assert!(
        body["title"].as_str().unwrap().contains("временный пароль"),
        "{body}"
    );
    let up = app
        .browser
        .post(format!("{}/api/v1/uploads", app.base))
        .header("cookie", &cookie)
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), StatusCode::FORBIDDEN);
    // Once changed, the file comes.
    let resp = app
        .browser
        .post(format!("{}/password", app.base))
        .header("cookie", &cookie)
        .form(&[
            ("current_password", temporary.as_str()),
            ("new_password", "Новый-пароль-2026"),
            ("repeat_password", "Новый-пароль-2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let dl = app
        .page(
            Method::GET,
            &format!("/api/v1/attachments/{att}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(dl.status(), StatusCode::OK);
}
both_backends!(file_doors_apply_the_page_gates, super::file_gates);

async fn temporary_password_flow(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let admin = app.login("admin").await;
    let orgs = app.get(&admin, "/api/v1/admin/organizations").await;
    let org_id = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["short_name"] == "Лесновская РБ")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, created) = app
        .call(Some(&admin), Method::POST, "/api/v1/admin/users", Some(json!({"login": "sidorova", "last_name": "Сидорова", "first_name": "Анна", "roles": [{"role": "doctor", "organization_id": org_id}]})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let temp = created["temporary_password"].as_str().unwrap().to_string();
    // The new user is sent to change the password before anything else.
    let resp = app
        .browser
        .post(format!("{}/login", app.base))
        .form(&[("login", "sidorova"), ("password", temp.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["location"], "/password");
    let cookie = session_cookie(&resp).unwrap();
    let resp = app.page(Method::GET, "/queue", Some(&cookie)).await;
    assert_eq!(resp.headers()["location"], "/password");
    let resp = app
        .browser
        .post(format!("{}/password", app.base))
        .header("cookie", &cookie)
        .form(&[
            ("current_password", temp.as_str()),
            ("new_password", "qwerty1234"),
            ("repeat_password", "qwerty1234"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a common password is refused"
    );
    assert!(resp.text().await.unwrap().contains("слишком простой"));
    let resp = app
        .browser
        .post(format!("{}/password", app.base))
        .header("cookie", &cookie)
        .form(&[
            ("current_password", temp.as_str()),
            ("new_password", "Лесная-тропа-2026"),
            ("repeat_password", "Лесная-тропа-2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Now she sees exactly her organization's requests: none yet, and the queue opens.
    assert_eq!(
        app.page(Method::GET, "/queue", Some(&cookie))
            .await
            .status(),
        StatusCode::OK
    );
    // Her reads are in the auditor's journal.
    let auditor = app.login("auditor").await;
    let journal = app.get(&auditor, "/api/v1/audit?login=sidorova").await;
    let actions: Vec<&str> = journal["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"login")
            && actions.contains(&"password_change")
            && actions.contains(&"read"),
        "{actions:?}"
    );
    // Deactivating keeps history and ends her sessions.
    let (s, _) = app
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/admin/users/{}", created["id"]),
            Some(json!({"last_name": "Сидорова", "first_name": "Анна", "active": false})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        app.page(Method::GET, "/queue", Some(&cookie))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let journal = app.get(&auditor, "/api/v1/audit?login=sidorova").await;
    assert!(journal["total"].as_i64().unwrap() >= 3);
}
both_backends!(
    a_new_user_changes_the_temporary_password_first,
    super::temporary_password_flow
);

async fn audit_tamper(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rtms"))
            .args(["--database-url", &app.db.url, "audit", "verify"])
            .env("RTMS_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let out = verify();
    assert!(
        out.status.success(),
        "{:?} {} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));

    // Someone with database access rewrites who read the record: triggers off, row changed.
    let rows = app
        .get(
            &app.login("auditor").await,
            &format!("/api/v1/audit?object_type=consultation&object_id={id}&action=read"),
        )
        .await;
    let row_id = rows["items"][0]["id"].as_i64().unwrap();
    let db = rtms_store::Db::connect(&app.db.url, 1).unwrap();
    db.write(|c| {
        use diesel::connection::SimpleConnection;
        let sql = match c {
            rtms_store::DbConn::Pg(_) => format!(
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; UPDATE audit_log SET login = 'someone_else' WHERE id = {row_id}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;"
            ),
            rtms_store::DbConn::Sqlite(_) => format!("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET login = 'someone_else' WHERE id = {row_id};"),
        };
        c.batch_execute(&sql).map_err(rtms_store::StoreError::from)
    })
    .unwrap();
    let tampered = app
        .get(
            &app.login("auditor").await,
            "/api/v1/audit?login=someone_else",
        )
        .await;
    assert_eq!(
        tampered["total"], 1,
        "the tampering itself worked: {tampered}"
    );
    let out = verify();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "verify must fail: {stdout}");
    assert!(
        stdout.contains(&format!("row {row_id}")),
        "it names the first broken row: {stdout}"
    );
}
both_backends!(
    tampering_with_the_audit_log_is_detected,
    super::audit_tamper
);

/// A database with the demo region whose audit chain is keyed by `rtms`
/// itself (key and anchors in `dir`), and a server appending with that key.
async fn keyed_audit_app(backend: BackendKind, dir: &std::path::Path) -> (TestApp, Vec<String>) {
    let db = TestApp::seeded_database(backend).await;
    let args: Vec<String> = vec![
        "--database-url".into(),
        db.url.clone(),
        "--audit-key-file".into(),
        dir.join("audit.key").display().to_string(),
        "--audit-anchor-file".into(),
        dir.join("anchors.log").display().to_string(),
        "--data-dir".into(),
        dir.display().to_string(),
    ];
    // An administration command keys the chain: the key file appears, 0600.
    let out = rtms_cli(&args, &["admin", "orgs"]);
    assert!(out.0.success(), "{}", out.1);
    let key_file = dir.join("audit.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key = rtms_store::audit::ChainKey::from_hex(&std::fs::read_to_string(&key_file).unwrap())
        .unwrap();
    let app = TestApp::start_custom(db, Arc::new(rtms_service::SystemClock), move |svc| {
        svc.with_audit_key(key).unwrap()
    })
    .await;
    (app, args)
}

fn rtms_cli(config: &[String], args: &[&str]) -> (std::process::ExitStatus, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(config)
        .args(args)
        .env("RTMS_DATA_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    (
        out.status,
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// What someone with write access to the database (but not the key file)
/// can do: rows from `from` on are deleted (triggers off) and appended again,
/// `change` applied to each, chained with `key` (None: plain SHA-256).
fn rechain(
    url: &str,
    from: i64,
    key: Option<&rtms_store::audit::ChainKey>,
    change: impl Fn(&mut rtms_store::models::AuditRow),
) {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use rtms_store::schema::audit_log;
    let db = rtms_store::Db::connect(url, 1).unwrap();
    db.write(|c| {
        let rows: Vec<rtms_store::models::AuditRow> = audit_log::table
            .filter(audit_log::id.ge(from))
            .order(audit_log::id.asc())
            .select(rtms_store::models::AuditRow::as_select())
            .load(c)?;
        let sql = match c {
            rtms_store::DbConn::Pg(_) => format!(
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; DELETE FROM audit_log WHERE id >= {from}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;"
            ),
            rtms_store::DbConn::Sqlite(_) => format!(
                "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id >= {from};"
            ),
        };
        c.batch_execute(&sql)?;
        for mut r in rows {
            change(&mut r);
            let e = rtms_store::audit::AuditEntry {
                at: Some(r.at),
                user_id: r.user_id,
                login: r.login,
                org_id: r.org_id,
                role: r.role,
                ip: r.ip,
                action: r.action,
                object_type: r.object_type,
                object_id: r.object_id,
                details: r.details,
            };
            rtms_store::audit::append(c, &e, r.at, key)?;
        }
        Ok::<_, rtms_store::StoreError>(())
    })
    .unwrap();
}

/// The audit chain is keyed with a key outside the database and its head is
/// anchored outside it: rewriting a row and re-chaining everything after it,
/// rebuilding the whole log with another key, and deleting the newest rows
/// are each found by `rtms audit verify`, which names the row (exit code 2).
async fn keyed_audit_chain(backend: BackendKind) {
    // 1. One read's row rewritten, every later row re-chained (without the key).
    let dir = tempfile::tempdir().unwrap();
    let (app, cfg) = keyed_audit_app(backend, dir.path()).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    let (ok, text) = rtms_cli(&cfg, &["audit", "verify"]);
    assert!(ok.success(), "{text}");
    assert!(
        text.contains("intact") && text.contains("keyed from row"),
        "{text}"
    );
    let rows = app
        .get(
            &app.login("auditor").await,
            &format!("/api/v1/audit?object_type=consultation&object_id={id}&action=read"),
        )
        .await;
    let row_id = rows["items"][0]["id"].as_i64().unwrap();
    rechain(&app.db.url, row_id, None, |r| {
        if r.id == row_id {
            r.login = "someone_else".into();
        }
    });
    let (ok, text) = rtms_cli(&cfg, &["audit", "verify"]);
    assert_eq!(ok.code(), Some(2), "{text}");
    assert!(text.contains(&format!("BROKEN at row {row_id}")), "{text}");
    app.stop().await;

    // 2. The keyed log rebuilt with another key.
    let dir = tempfile::tempdir().unwrap();
    let (app, cfg) = keyed_audit_app(backend, dir.path()).await;
    let doctor = app.login("doctor").await;
    app.get(&doctor, "/api/v1/consultations").await;
    let keyed_from: i64 = {
        let (_, text) = rtms_cli(&cfg, &["audit", "verify"]);
        text.split("keyed from row ")
            .nth(1)
            .unwrap()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let theirs = rtms_store::audit::ChainKey::generate();
    rechain(&app.db.url, keyed_from, Some(&theirs), |_| {});
    let (ok, text) = rtms_cli(&cfg, &["audit", "verify"]);
    assert_eq!(ok.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!("BROKEN at row {keyed_from}")),
        "{text}"
    );
    app.stop().await;

    // 3. The newest rows deleted after their head was anchored.
    let dir = tempfile::tempdir().unwrap();
    let (app, cfg) = keyed_audit_app(backend, dir.path()).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let (ok, text) = rtms_cli(&cfg, &["audit", "anchor"]);
    assert!(ok.success() && text.contains("anchored row"), "{text}");
    let head: i64 = text.split_whitespace().nth(2).unwrap().parse().unwrap();
    app.get(&doctor, &format!("/api/v1/consultations/{id}"))
        .await;
    let (ok, text) = rtms_cli(&cfg, &["audit", "verify"]);
    assert!(
        ok.success() && text.contains("1 anchors in place"),
        "{text}"
    );
    // Everything from two rows before the anchored head on is gone: what is
    // left is a perfect chain, only the anchor knows better.
    {
        use diesel::connection::SimpleConnection;
        let db = rtms_store::Db::connect(&app.db.url, 1).unwrap();
        db.write(|c| {
            let sql = match c {
                rtms_store::DbConn::Pg(_) => format!("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; DELETE FROM audit_log WHERE id >= {}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;", head - 1),
                rtms_store::DbConn::Sqlite(_) => format!("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id >= {};", head - 1),
            };
            c.batch_execute(&sql).map_err(rtms_store::StoreError::from)
        })
        .unwrap();
    }
    let (ok, text) = rtms_cli(&cfg, &["audit", "verify"]);
    assert_eq!(ok.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!("BROKEN at row {head}")) && text.contains("gone"),
        "{text}"
    );
    // Without the key, a keyed log is not called intact.
    let mut keyless = cfg.clone();
    keyless[3] = dir.path().join("absent.key").display().to_string();
    let (ok, text) = rtms_cli(&keyless, &["audit", "verify"]);
    assert!(!ok.success(), "{text}");
    assert!(text.contains("its key is needed"), "{text}");
    app.stop().await;
}
both_backends!(
    the_keyed_audit_chain_detects_rewrites_rebuilds_and_deletions,
    super::keyed_audit_chain
);

/// Separation of duties: an administrator cannot grant themself a clinical
/// role (nor the auditor's), in words and with 403; holding only the
/// administrator's role they see no request; a role they grant someone else
/// is audited and listed for every administrator, another one included.
async fn admin_separation(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let admin = app.login("admin").await;
    let me = app.get(&admin, "/api/v1/me").await;
    let my_id = me["id"].as_i64().unwrap();
    let users = app.get(&admin, "/api/v1/admin/users").await;
    let doctor_org = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "doctor")
        .unwrap()["roles"][0]["organization_id"]
        .as_i64()
        .unwrap();
    let admin_org = me["roles"][0]["organization"]["id"]
        .as_i64()
        .or_else(|| me["roles"][0]["organization_id"].as_i64())
        .unwrap_or_else(|| panic!("the admin's organization: {me}"));
    // The demo has requests; the administrator lists none of them.
    let sees_none = || async {
        let (s, list) = app
            .call(Some(&admin), Method::GET, "/api/v1/consultations", None)
            .await;
        assert!(
            s == StatusCode::FORBIDDEN || (s == StatusCode::OK && list["total"] == 0),
            "{s} {list}"
        );
    };
    sees_none().await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let (s, _) = app
        .call(
            Some(&admin),
            Method::GET,
            &format!("/api/v1/consultations/{id}"),
            None,
        )
        .await;
    assert!(
        s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
        "{s}"
    );
    for (role, org) in [("doctor", doctor_org), ("auditor", admin_org)] {
        let (s, body) = app
            .call(
                Some(&admin),
                Method::POST,
                &format!("/api/v1/admin/users/{my_id}/roles"),
                Some(json!({"role": role, "organization_id": org})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}: {body}");
        assert!(
            body.to_string()
                .contains("Нельзя назначить себе клиническую роль"),
            "{body}"
        );
    }
    sees_none().await;
    // Granting another user a role works, and every administrator sees it.
    let d4 = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "doctor4")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, body) = app
        .call(
            Some(&admin),
            Method::POST,
            &format!("/api/v1/admin/users/{d4}/roles"),
            Some(json!({"role": "analyst", "organization_id": admin_org})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        let svc = rtms_service::Services::new(
            rtms_store::Db::connect(&url, 1).unwrap(),
            Arc::new(rtms_service::SystemClock),
        );
        svc.create_user(&rtms_service::access::auth::NewUserSpec {
            login: "admin2".into(),
            password: "rtms-demo-password".into(),
            last_name: "Второй".into(),
            first_name: "Админ".into(),
            middle_name: String::new(),
            position: String::new(),
            phone: String::new(),
            email: String::new(),
            roles: vec![(rtms_domain::Role::Admin, admin_org)],
            profiles: vec![],
            must_change_password: false,
            snils: None,
            position_code: None,
        })
        .unwrap();
    })
    .await
    .unwrap();
    let cookie = app.ui_login("admin2").await;
    let html = app
        .page(Method::GET, "/admin/users", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let section = html
        .split("id=\"role-changes\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no role changes on the page: {html}"));
    assert!(
        section.contains("doctor4") && section.contains("назначена роль: analyst@"),
        "{section}"
    );
    let auditor = app.login("auditor").await;
    let journal = app
        .get(
            &auditor,
            &format!("/api/v1/audit?action=role_add&object_id={d4}"),
        )
        .await;
    assert_eq!(journal["total"], 1, "{journal}");
    app.stop().await;
}
both_backends!(
    administrators_do_not_grant_themselves_clinical_roles,
    super::admin_separation
);

/// The request page offers exactly what the service accepts: for every
/// request of the demo region (all states) and every demo user who can open
/// it, the page's controls match what the caller may do (`Allowed`), every
/// lifecycle action the page does not offer is refused by the API, and every
/// other control it does not offer (conclusion, correction, its signature,
/// a message, video now) is refused too. Then one offered control per
/// request is used and must be accepted.
async fn page_offers_what_the_api_accepts(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let logins = [
        "doctor",
        "doctor2",
        "dispatcher",
        "coordinator",
        "head",
        "consultant",
        "consultant2",
        "analyst",
        "auditor",
    ];
    let mut people = Vec::new();
    for l in logins {
        people.push((l, app.login(l).await, app.ui_login(l).await));
    }
    // Every request somebody can list, drafts included.
    let mut ids = std::collections::BTreeSet::new();
    for (_, token, _) in &people {
        // Analysts and auditors list no requests (403): nothing to add.
        let (_, list) = app
            .call(
                Some(token),
                Method::GET,
                "/api/v1/consultations?per_page=200",
                None,
            )
            .await;
        if let Some(items) = list["items"].as_array() {
            ids.extend(items.iter().filter_map(|i| i["id"].as_i64()));
        }
    }
    assert!(ids.len() >= 10, "the demo region has requests: {ids:?}");
    // The demo reaches «ВКС запланирована» as the dispatcher's page does:
    // each scheduled request has its video session (checked before
    // the walk below opens rooms of its own).
    let dispatcher = &people[2].1;
    let scheduled = app
        .get(
            dispatcher,
            "/api/v1/consultations?status=scheduled&per_page=200",
        )
        .await;
    let scheduled: Vec<i64> = scheduled["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert!(!scheduled.is_empty(), "the demo has scheduled requests");
    let dispatcher_cookie = &people[2].2;
    for id in &scheduled {
        let html = app
            .page(
                Method::GET,
                &format!("/requests/{id}"),
                Some(dispatcher_cookie),
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("class=\"video-card\""),
            "scheduled request #{id} has no video session on its page"
        );
    }
    let mut states = std::collections::BTreeSet::new();
    let mut probed = 0;
    let mut accepted = 0;
    for &id in &ids {
        let mut offered_somewhere: Option<(usize, &'static str)> = None;
        for (n, (login, token, cookie)) in people.iter().enumerate() {
            let resp = app
                .page(Method::GET, &format!("/requests/{id}"), Some(cookie))
                .await;
            if resp.status() != StatusCode::OK {
                continue;
            }
            let html = resp.text().await.unwrap();
            let view = app.get(token, &format!("/api/v1/consultations/{id}")).await;
            let status = view["status"].as_str().unwrap().to_string();
            states.insert(status.clone());
            let available: Vec<String> = view["available_actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            let on_page: std::collections::BTreeSet<String> = html
                .split(&format!("/requests/{id}/act/"))
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap().to_string())
                .collect();
            let conclusion_form = html.contains("id=\"conclusion-form\"");
            let who = format!("{login} on #{id} ({status})");
            // Lifecycle actions: the page shows the table's, except those
            // done by a form (submit by the request form, sign by the
            // conclusion form while it is open).
            for a in &on_page {
                assert!(
                    available.contains(a),
                    "{who}: the page offers {a}, the API does not"
                );
            }
            for a in &available {
                let by_form =
                    matches!(a.as_str(), "submit" | "resubmit") || (a == "sign" && conclusion_form);
                assert!(
                    on_page.contains(a) || by_form,
                    "{who}: the API offers {a}, the page does not"
                );
            }
            for a in rtms_domain::Action::ALL {
                // Questions and answers go by the thread (probed below).
                let by_thread = matches!(a, rtms_domain::Action::Ask | rtms_domain::Action::Answer);
                if by_thread || available.iter().any(|x| x == a.as_str()) {
                    continue;
                }
                let (s, body) = app.act_status(token, id, a.as_str(), json!({})).await;
                assert!(
                    matches!(
                        s,
                        StatusCode::FORBIDDEN | StatusCode::CONFLICT | StatusCode::NOT_FOUND
                    ),
                    "{who}: {} not offered but answered {s}: {body}",
                    a.as_str()
                );
                probed += 1;
            }
            // The other controls: not offered → refused, and nothing changes.
            let controls: [(&'static str, bool); 5] = [
                ("conclusion", conclusion_form),
                ("correct", html.contains("id=\"correction-form\"")),
                (
                    "correct_sign",
                    html.contains("id=\"correction-sign\"") || conclusion_form,
                ),
                (
                    "message",
                    html.contains(&format!("action=\"/requests/{id}/messages\"")),
                ),
                (
                    "video_now",
                    html.contains(&format!("action=\"/requests/{id}/video-now\"")),
                ),
            ];
            for (control, offered) in controls {
                if offered {
                    if offered_somewhere.is_none() && control != "correct_sign" {
                        offered_somewhere = Some((n, control));
                    }
                    continue;
                }
                let (s, to) = use_control(&app, token, cookie, id, control).await;
                assert!(to.is_none(), "{who}: {control} sent to {to:?}");
                assert!(
                    s.is_client_error(),
                    "{who}: {control} is not offered but answered {s}"
                );
                probed += 1;
            }
        }
        // One control a page offered is accepted when used.
        if let Some((n, control)) = offered_somewhere {
            let (login, token, cookie) = &people[n];
            let (s, _) = use_control(&app, token, cookie, id, control).await;
            // Video now may clash with a room this walk already opened for the
            // same people (409: the calendar's rule, not the request's).
            let ok = s.is_success()
                || (control == "video_now"
                    && matches!(s, StatusCode::SEE_OTHER | StatusCode::CONFLICT));
            assert!(ok, "{login} on #{id}: {control} offered but refused");
            accepted += 1;
        }
    }
    for s in [
        "draft",
        "submitted",
        "assigned",
        "accepted",
        "in_progress",
        "completed",
        "closed",
    ] {
        assert!(
            states.contains(s),
            "the walk reached no {s} request: {states:?}"
        );
    }
    assert!(
        probed > 200 && accepted >= 5,
        "probed {probed}, accepted {accepted}"
    );
}
/// Uses one of the request page's controls other than lifecycle actions, as
/// the API (or, for video now, the page route) receives it: its status, and
/// where a page answer sends the browser.
async fn use_control(
    app: &TestApp,
    token: &str,
    cookie: &str,
    id: i64,
    control: &str,
) -> (StatusCode, Option<String>) {
    let api = |method: Method, path: &str, body: Option<Value>| {
        let path = format!("/api/v1/consultations/{id}/{path}");
        async move { app.call(Some(token), method, &path, body).await }
    };
    let s = match control {
        "conclusion" => {
            let body = json!({"diagnosis_main": "I63.9", "findings": "x", "recommendations": "y"});
            api(Method::PUT, "conclusion", Some(body)).await.0
        }
        "correct" => {
            let body = json!({"comment": "a typo"});
            api(Method::POST, "conclusion/correction", Some(body))
                .await
                .0
        }
        "correct_sign" => {
            api(Method::POST, "conclusion/correction/sign", None)
                .await
                .0
        }
        "message" => {
            let body = json!({"body": "a question"});
            api(Method::POST, "messages", Some(body)).await.0
        }
        _ => {
            let r = app
                .browser
                .post(format!("{}/requests/{id}/video-now", app.base))
                .header("cookie", cookie)
                .header("sec-fetch-site", "same-origin")
                .send()
                .await
                .unwrap();
            let to = r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
            return (r.status(), to);
        }
    };
    (s, None)
}

both_backends!(
    the_page_offers_what_the_api_accepts,
    super::page_offers_what_the_api_accepts
);
