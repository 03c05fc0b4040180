//! Video sessions as their users meet them: booking refuses double bookings,
//! invitations and one reminder, the room and its signaling only for the
//! participants, the calendar feed, and TURN credentials coturn accepts.

mod common;

use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::{complete_request, TestApp};
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use rtms_service::video::TurnConfig;
use rtms_service::{Services, SystemClock};
use rtms_store::BackendKind;
use serde_json::{json, Value};

async fn user_id(app: &TestApp, login: &str) -> i64 {
    let token = app.login(login).await;
    app.get(&token, "/api/v1/me").await["id"].as_i64().unwrap()
}

/// A whole minute some days ahead, so that nothing else in the demo is near it.
fn slot(days: i64, hour: i64) -> DateTime<Utc> {
    (Utc::now() + Duration::days(days))
        .duration_trunc(Duration::days(1))
        .unwrap()
        + Duration::hours(hour)
}

async fn book(app: &TestApp, token: &str, body: Value, lang: &str) -> (StatusCode, Value) {
    app.call_lang(Some(token), Method::POST, "/api/v1/video", Some(body), lang)
        .await
}

/// A request accepted by `consultant`: the state in which a session is scheduled.
async fn accepted_request(app: &TestApp) -> i64 {
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let consultant = app.login("consultant").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    app.act(&dispatcher, id, "take", json!({})).await;
    let cid = user_id(app, "consultant").await;
    app.act(&dispatcher, id, "assign", json!({"consultant_id": cid}))
        .await;
    app.act(&consultant, id, "accept", json!({})).await;
    id
}

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

async fn conflicts_refused(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let dispatcher = app.login("dispatcher").await;
    let (doctor, consultant, consultant2) = (
        user_id(&app, "doctor").await,
        user_id(&app, "consultant").await,
        user_id(&app, "consultant2").await,
    );
    let at = slot(3, 9);
    let (s, first) = book(
        &app,
        &dispatcher,
        json!({"starts_at": at, "duration_minutes": 30, "participant_ids": [doctor, consultant]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");

    // The consultant is busy until 9:30: a session at 9:15 is refused, in words.
    let overlapping = json!({"starts_at": at + Duration::minutes(15), "duration_minutes": 30, "participant_ids": [consultant, consultant2]});
    let (s, problem) = book(&app, &dispatcher, overlapping.clone(), "ru").await;
    assert_eq!(s, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["title"].as_str().unwrap().contains("уже заняты"),
        "{problem}"
    );
    let (s, problem) = book(&app, &dispatcher, overlapping, "en").await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        problem["title"]
            .as_str()
            .unwrap()
            .contains("already booked"),
        "{problem}"
    );
    // Back to back is fine.
    let (s, _) = book(
        &app,
        &dispatcher,
        json!({"starts_at": at + Duration::minutes(30), "duration_minutes": 30, "participant_ids": [consultant, consultant2]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // A room is booked like a person.
    let later = slot(3, 13);
    let (s, _) = book(
        &app,
        &dispatcher,
        json!({"starts_at": later, "participant_ids": [doctor], "room": "Студия ТКЦ"}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = book(
        &app,
        &dispatcher,
        json!({"starts_at": later + Duration::minutes(10), "participant_ids": [consultant2], "room": "Студия ТКЦ"}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Only the dispatcher or a centre's coordinator books; seven people do not fit.
    let doctor_token = app.login("doctor").await;
    let (s, _) = book(
        &app,
        &doctor_token,
        json!({"starts_at": slot(4, 9), "participant_ids": [consultant]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, problem) = book(
        &app,
        &dispatcher,
        json!({"starts_at": slot(4, 9), "participant_ids": [1, 2, 3, 4, 5, 6, 7]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["code"], "video_too_many");

    // The calendars: the consultant's week holds both of theirs, the doctor's only one.
    let from = at.date_naive();
    let consultant_token = app.login("consultant").await;
    let week = app
        .get(
            &consultant_token,
            &format!("/api/v1/video?from={from}&days=7"),
        )
        .await;
    assert_eq!(week.as_array().unwrap().len(), 2);
    let day = app
        .get(&doctor_token, &format!("/api/v1/video?from={from}&days=1"))
        .await;
    assert_eq!(
        day.as_array().unwrap().len(),
        2,
        "the session and the studio"
    );
    app.stop().await;
}
both_backends!(booking_refuses_conflicts, super::conflicts_refused);

async fn booking_for_a_request(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let id = accepted_request(&app).await;
    let dispatcher = app.login("dispatcher").await;
    let (doctor, consultant) = (
        user_id(&app, "doctor").await,
        user_id(&app, "consultant").await,
    );
    let (s, booked) = book(
        &app,
        &dispatcher,
        json!({"starts_at": Utc::now() + Duration::minutes(10), "duration_minutes": 40,
               "participant_ids": [doctor, consultant], "consultation_ids": [id]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{booked}");
    let session = booked["id"].as_i64().unwrap();

    // The request is scheduled, and its timeline says so.
    let doctor_token = app.login("doctor").await;
    let c = app
        .get(&doctor_token, &format!("/api/v1/consultations/{id}"))
        .await;
    assert_eq!(c["status"], "scheduled");
    let events = app
        .get(&doctor_token, &format!("/api/v1/consultations/{id}/events"))
        .await;
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "schedule"));

    // Both are invited; the reminder goes out once, whichever instance sends it.
    assert!(kinds_for(&app, "doctor", id)
        .await
        .contains(&"video_invite".to_string()));
    assert!(kinds_for(&app, "consultant", id)
        .await
        .contains(&"video_invite".to_string()));
    let url = app.db.url.clone();
    let sent = tokio::task::spawn_blocking(move || {
        let a = Services::new(
            rtms_store::Db::connect(&url, 2).unwrap(),
            Arc::new(SystemClock),
        );
        let b = Services::new(
            rtms_store::Db::connect(&url, 2).unwrap(),
            Arc::new(SystemClock),
        );
        a.run_video_reminders().unwrap() + b.run_video_reminders().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(sent, 1);
    for who in ["doctor", "consultant"] {
        let kinds = kinds_for(&app, who, id).await;
        assert_eq!(
            kinds.iter().filter(|k| *k == "video_reminder").count(),
            1,
            "{who}: {kinds:?}"
        );
    }
    let view = app
        .get(&doctor_token, &format!("/api/v1/video/{session}"))
        .await;
    assert_eq!(view["consultation_ids"], json!([id]));
    assert_eq!(view["participants"].as_array().unwrap().len(), 2);
    app.stop().await;
}
both_backends!(
    booking_for_a_request_schedules_it,
    super::booking_for_a_request
);

async fn video_now(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let id = accepted_request(&app).await;
    let doctor_c = app.ui_login("doctor").await;
    let resp = app
        .page(
            Method::POST,
            &format!("/requests/{id}/video-now"),
            Some(&doctor_c),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let room = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(room.starts_with("/video/"), "{room}");
    // The consultant is rung, and pressing the same button lands in the same room.
    assert!(kinds_for(&app, "consultant", id)
        .await
        .contains(&"video_now".to_string()));
    let consultant_c = app.ui_login("consultant").await;
    let resp = app
        .page(
            Method::POST,
            &format!("/requests/{id}/video-now"),
            Some(&consultant_c),
        )
        .await;
    assert_eq!(resp.headers()["location"].to_str().unwrap(), room);
    let page = app.page(Method::GET, &room, Some(&consultant_c)).await;
    assert_eq!(page.status(), StatusCode::OK);
    // Somebody from another hospital cannot call.
    let other = app.ui_login("doctor2").await;
    let resp = app
        .page(
            Method::POST,
            &format!("/requests/{id}/video-now"),
            Some(&other),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
both_backends!(video_now_opens_a_room_and_rings, super::video_now);

fn ws_request(app: &TestApp, path: &str, cookie: &str) -> reqwest::RequestBuilder {
    app.browser
        .get(format!("{}{}", app.base, path))
        .header("cookie", cookie)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
}

async fn ws_connect(
    app: &TestApp,
    session: i64,
    cookie: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!(
        "{}/video/{session}/ws",
        app.base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req.headers_mut()
        .insert("origin", app.base.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws
}

async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a signaling message")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn room_for_participants_only(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let dispatcher = app.login("dispatcher").await;
    let (doctor, consultant) = (
        user_id(&app, "doctor").await,
        user_id(&app, "consultant").await,
    );
    let (s, booked) = book(
        &app,
        &dispatcher,
        json!({"starts_at": Utc::now() + Duration::minutes(1), "participant_ids": [doctor, consultant]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = booked["id"].as_i64().unwrap();
    let doctor_c = app.ui_login("doctor").await;
    let consultant_c = app.ui_login("consultant").await;
    let outsider_c = app.ui_login("consultant2").await;
    let dispatcher_c = app.ui_login("dispatcher").await;

    // The page: the participants get the room and its script; the others, nothing.
    let page = app
        .page(Method::GET, &format!("/video/{id}"), Some(&doctor_c))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("/static/video.js"));
    assert!(html.contains(&format!("/video/{id}/ws")));
    for c in [&outsider_c, &dispatcher_c] {
        let page = app
            .page(Method::GET, &format!("/video/{id}"), Some(c))
            .await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        let sock = ws_request(&app, &format!("/video/{id}/ws"), c)
            .send()
            .await
            .unwrap();
        assert_eq!(sock.status(), StatusCode::NOT_FOUND);
    }
    // Another site cannot open the socket with a participant's cookie.
    let sock = ws_request(&app, &format!("/video/{id}/ws"), &doctor_c)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(sock.status(), StatusCode::FORBIDDEN);

    // Two participants meet: the second is told who is there, the first hears of the
    // second, and an offer goes from one to the other stamped with its sender.
    let mut a = ws_connect(&app, id, &doctor_c).await;
    let welcome_a = next_json(&mut a).await;
    assert_eq!(welcome_a["type"], "welcome");
    assert_eq!(welcome_a["peers"], json!([]));
    let mut b = ws_connect(&app, id, &consultant_c).await;
    let welcome_b = next_json(&mut b).await;
    assert_eq!(welcome_b["peers"][0]["user_id"], doctor);
    let joined = next_json(&mut a).await;
    assert_eq!(joined["type"], "peer-joined");
    assert_eq!(joined["user_id"], consultant);
    let to = welcome_a["id"].clone();
    b.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"type": "offer", "to": to, "sdp": {"type": "offer", "sdp": "v=0"}, "from": 999})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let offer = next_json(&mut a).await;
    assert_eq!(offer["type"], "offer");
    assert_eq!(
        offer["from"], welcome_b["id"],
        "the sender cannot be forged"
    );
    b.close(None).await.unwrap();
    let left = next_json(&mut a).await;
    assert_eq!(left["type"], "peer-left");
    a.close(None).await.unwrap();

    // The log has both visits, with durations.
    let token = app.login("doctor").await;
    let mut view = Value::Null;
    for _ in 0..50 {
        view = app.get(&token, &format!("/api/v1/video/{id}")).await;
        if view["log"].as_array().unwrap().len() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut events: Vec<&str> = view["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    events.sort_unstable();
    assert_eq!(events, ["join", "join", "leave", "leave"]);
    assert_eq!(view["attendance"].as_array().unwrap().len(), 2);
    app.stop().await;
}
both_backends!(
    room_admits_participants_only,
    super::room_for_participants_only
);

async fn ics_feed(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let dispatcher = app.login("dispatcher").await;
    let (doctor, consultant) = (
        user_id(&app, "doctor").await,
        user_id(&app, "consultant").await,
    );
    let at = slot(5, 10);
    let (s, booked) = book(
        &app,
        &dispatcher,
        json!({"starts_at": at, "duration_minutes": 45, "participant_ids": [doctor, consultant],
               "title": "Консилиум; кардиология, срочно", "room": "Студия 2"}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = booked["id"].as_i64().unwrap();
    let token = app.login("consultant").await;
    let feed = app.get(&token, "/api/v1/video/feed").await;
    let path = feed["path"].as_str().unwrap().to_string();
    // A calendar program has no session: the secret link is enough.
    let resp = app
        .client
        .get(format!("{}{}", app.base, path))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let body = resp.text().await.unwrap();
    let unfolded = body.replace("\r\n ", "");
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    assert!(unfolded.contains(&format!("UID:video-{id}@rtms\r\n")));
    let start = at.format("%Y%m%dT%H%M%SZ").to_string();
    let end = (at + Duration::minutes(45))
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    assert!(unfolded.contains(&format!("DTSTART:{start}\r\n")), "{body}");
    assert!(unfolded.contains(&format!("DTEND:{end}\r\n")), "{body}");
    assert!(
        unfolded.contains("SUMMARY:Консилиум\\; кардиология\\, срочно\r\n"),
        "{body}"
    );
    assert!(unfolded.contains("LOCATION:Студия 2\r\n"));
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "an unfolded line: {line}");
    }
    // The same link each time; another user's link shows another calendar; a guess, nothing.
    assert_eq!(app.get(&token, "/api/v1/video/feed").await["path"], path);
    let other = app
        .get(&app.login("consultant2").await, "/api/v1/video/feed")
        .await;
    let other_body = app
        .client
        .get(format!("{}{}", app.base, other["path"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!other_body.contains(&format!("UID:video-{id}@rtms")));
    let guess = app
        .client
        .get(format!("{}/ics/0123456789abcdef", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(guess.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
both_backends!(ics_feed_lists_the_users_sessions, super::ics_feed);

async fn ice_credentials(backend: BackendKind) {
    let secret = "coturn-shared-secret";
    let app = TestApp::spawn_custom(backend, |svc| {
        svc.with_turn(TurnConfig {
            urls: vec![
                "turn:127.0.0.1:3478?transport=udp".into(),
                "turn:127.0.0.1:3478?transport=tcp".into(),
            ],
            secret: secret.into(),
        })
    })
    .await;
    let dispatcher = app.login("dispatcher").await;
    let (doctor, consultant) = (
        user_id(&app, "doctor").await,
        user_id(&app, "consultant").await,
    );
    let (_, booked) = book(
        &app,
        &dispatcher,
        json!({"starts_at": slot(2, 8), "participant_ids": [doctor, consultant]}),
        "ru",
    )
    .await;
    let id = booked["id"].as_i64().unwrap();
    let token = app.login("doctor").await;
    let ice = app.get(&token, &format!("/api/v1/video/{id}/ice")).await;
    let server = &ice["ice_servers"][0];
    assert_eq!(server["urls"][0], "turn:127.0.0.1:3478?transport=udp");
    let username = server["username"].as_str().unwrap();
    let (expiry, user) = username.split_once(':').unwrap();
    assert_eq!(user, doctor.to_string());
    let expiry: i64 = expiry.parse().unwrap();
    let now = Utc::now().timestamp();
    assert!(
        expiry > now + 3600 && expiry < now + 25 * 3600,
        "valid for hours, not forever: {expiry} vs {now}"
    );
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(server["credential"], expected);

    // Somebody who is not in the session gets no credential for it.
    let outsider = app.login("consultant2").await;
    let (s, _) = app
        .call(
            Some(&outsider),
            Method::GET,
            &format!("/api/v1/video/{id}/ice"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.stop().await;
}
both_backends!(
    ice_servers_carry_valid_turn_credentials,
    super::ice_credentials
);
