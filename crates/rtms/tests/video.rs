//! Video sessions as their users meet them: booking refuses double bookings,
//! invitations and one reminder, the room and its signaling only for the
//! participants, the calendar feed, and TURN credentials coturn accepts.

mod common;

use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::{complete_request, next_json, ws_connect, TestApp};
use futures_util::SinkExt;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use rtms_service::scheduling::video::TurnConfig;
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
    assert!(app
        .notification_kinds("doctor", id)
        .await
        .contains(&"video_invite".to_string()));
    assert!(app
        .notification_kinds("consultant", id)
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
        let kinds = app.notification_kinds(who, id).await;
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
    assert!(app
        .notification_kinds("consultant", id)
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
    let (s, feed) = app
        .call(Some(&token), Method::POST, "/api/v1/video/feed", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{feed}");
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
    // The link is given once (only its hash is kept); another user's link
    // shows another calendar; a guess, nothing.
    let state = app.get(&token, "/api/v1/video/feed").await;
    assert_eq!(state["active"], true);
    assert!(state.get("path").is_none(), "{state}");
    let (_, other) = app
        .call(
            Some(&app.login("consultant2").await),
            Method::POST,
            "/api/v1/video/feed",
            None,
        )
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

/// Calendar feed links are kept as SHA-256 only, say until when they work,
/// expire, and can be revoked or replaced by their owner.
async fn feed_tokens(backend: BackendKind) {
    use rtms_service::Clock;
    use sha2::{Digest, Sha256};
    let clock = Arc::new(rtms_service::ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    let cookie = app.ui_login("consultant").await;
    // Made on the calendar page, shown there once.
    let html = app
        .page(Method::POST, "/video/feed", Some(&cookie))
        .await
        .text()
        .await
        .unwrap()
        .replace("&#x2f;", "/");
    let path = html
        .split("id=\"feed-link\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the new link is shown")
        .to_string();
    let token = path.trim_start_matches("/ics/").to_string();
    // Shown as the organization's date: the UTC date or the next one.
    let expires = clock.now() + Duration::days(rtms_service::scheduling::video::CALENDAR_FEED_DAYS);
    let until = [expires, expires + Duration::days(1)]
        .iter()
        .map(|d| d.format("%d.%m.%Y").to_string())
        .find(|d| html.contains(&format!("id=\"feed-until\">{d}")))
        .expect("the expiry is shown");
    let later = app
        .page(Method::GET, "/video", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(!later.contains(&token), "the link is shown again");
    assert!(later.contains(&until));
    // The database holds its hash, never the token.
    let url = app.db.url.clone();
    let kept: Vec<String> = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use rtms_store::schema::calendar_tokens;
        let db = rtms_store::Db::connect(&url, 1).unwrap();
        db.read(|c| {
            Ok(calendar_tokens::table
                .select(calendar_tokens::token_hash)
                .load::<String>(c)?)
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(kept, vec![hex::encode(Sha256::digest(token.as_bytes()))]);
    let feed = |path: String| {
        let app = &app;
        async move {
            app.client
                .get(format!("{}{}", app.base, path))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(feed(path.clone()).await, StatusCode::OK);
    // A new link replaces the old one.
    let html = app
        .page(Method::POST, "/video/feed", Some(&cookie))
        .await
        .text()
        .await
        .unwrap()
        .replace("&#x2f;", "/");
    let path2 = html
        .split("id=\"feed-link\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert_ne!(path2, path);
    assert_eq!(feed(path.clone()).await, StatusCode::NOT_FOUND);
    assert_eq!(feed(path2.clone()).await, StatusCode::OK);
    // Revoked, it stops at once.
    let resp = app
        .page(Method::POST, "/video/feed/revoke", Some(&cookie))
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(feed(path2).await, StatusCode::NOT_FOUND);
    // And a link expires by itself.
    let token = app.login("consultant").await;
    let (s, made) = app
        .call(Some(&token), Method::POST, "/api/v1/video/feed", None)
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let path3 = made["path"].as_str().unwrap().to_string();
    assert_eq!(feed(path3.clone()).await, StatusCode::OK);
    clock.advance(
        Duration::days(rtms_service::scheduling::video::CALENDAR_FEED_DAYS) + Duration::minutes(1),
    );
    assert_eq!(feed(path3).await, StatusCode::NOT_FOUND);
}
both_backends!(
    feed_links_are_hashed_shown_once_revocable_and_expire,
    super::feed_tokens
);

/// A link made before feed tokens were hashed still works once `migrate`
/// has run: the stored token is replaced by its hash.
async fn legacy_feed_token(backend: BackendKind) {
    use sha2::{Digest, Sha256};
    let app = TestApp::spawn(backend).await;
    let consultant = user_id(&app, "consultant").await;
    let raw = "0123456789abcdef0123456789abcdef0123456789abcdef";
    let url = app.db.url.clone();
    let kept = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use rtms_store::schema::calendar_tokens;
        let db = rtms_store::Db::connect(&url, 1).unwrap();
        let now = Utc::now().naive_utc();
        // As migration 24 leaves a token it could not hash in SQL (SQLite).
        db.write(|c| {
            diesel::insert_into(calendar_tokens::table)
                .values((
                    calendar_tokens::user_id.eq(consultant),
                    calendar_tokens::token_hash.eq(raw),
                    calendar_tokens::created_at.eq(now),
                    calendar_tokens::expires_at.eq(now + Duration::days(365)),
                ))
                .execute(c)
                .map_err(rtms_store::StoreError::from)
        })
        .unwrap();
        db.migrate().unwrap();
        db.read(|c| {
            Ok(calendar_tokens::table
                .select(calendar_tokens::token_hash)
                .load::<String>(c)?)
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(kept, vec![hex::encode(Sha256::digest(raw.as_bytes()))]);
    let resp = app
        .client
        .get(format!("{}/ics/{raw}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}
both_backends!(
    an_old_feed_link_works_after_hashing,
    super::legacy_feed_token
);

/// The signaling socket ends within the recheck period once its session is
/// signed out, so a revoked session stops relaying.
async fn socket_ends_with_session(backend: BackendKind) {
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
    let cookie = app.ui_login("doctor").await;
    let mut ws = ws_connect(&app, id, &cookie).await;
    assert_eq!(next_json(&mut ws).await["type"], "welcome");
    let resp = app.page(Method::POST, "/logout", Some(&cookie)).await;
    assert!(resp.status().is_redirection());
    let bound =
        std::time::Duration::from_secs(rtms_service::access::sessions::STREAM_RECHECK_SECONDS + 3);
    let ended = tokio::time::timeout(bound, async {
        loop {
            match futures_util::StreamExt::next(&mut ws).await {
                None | Some(Err(_)) => break,
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the socket outlived its session by more than {bound:?}"
    );
}
both_backends!(
    a_signaling_socket_ends_with_its_session,
    super::socket_ends_with_session
);

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

/// Two instances of the server on one PostgreSQL: a participant on each meets
/// the other in the room (signaling crosses instances), and a change made
/// through one instance reaches a browser connected to the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_rooms_and_live_updates() {
    let db = TestApp::seeded_database(BackendKind::Postgres).await;
    let one = TestApp::start(db.clone()).await;
    let two = TestApp::start(db.clone()).await;
    let dispatcher = one.login("dispatcher").await;
    let (doctor, consultant) = (
        user_id(&one, "doctor").await,
        user_id(&one, "consultant").await,
    );
    let (s, booked) = book(
        &one,
        &dispatcher,
        json!({"starts_at": Utc::now() + Duration::minutes(1), "participant_ids": [doctor, consultant]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{booked}");
    let id = booked["id"].as_i64().unwrap();

    let mut a = ws_connect(&one, id, &one.ui_login("doctor").await).await;
    let welcome_a = next_json(&mut a).await;
    assert_eq!(welcome_a["peers"], json!([]));
    let mut b = ws_connect(&two, id, &two.ui_login("consultant").await).await;
    let welcome_b = next_json(&mut b).await;
    assert_eq!(
        welcome_b["peers"][0]["user_id"], doctor,
        "the newcomer on the second instance finds the doctor on the first: {welcome_b}"
    );
    let joined = next_json(&mut a).await;
    assert_eq!(joined["type"], "peer-joined");
    assert_eq!(joined["id"], welcome_b["id"]);
    // An offer (large, as real ones with many candidates are) and its answer cross over.
    let big_sdp = format!("v=0\r\n{}", "a=candidate:x\r\n".repeat(800));
    b.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"type": "offer", "to": welcome_a["id"], "sdp": {"type": "offer", "sdp": big_sdp}})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let offer = next_json(&mut a).await;
    assert_eq!(offer["type"], "offer");
    assert_eq!(offer["from"], welcome_b["id"]);
    assert_eq!(offer["sdp"]["sdp"], big_sdp);
    a.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"type": "answer", "to": welcome_b["id"], "sdp": {"type": "answer", "sdp": "v=0"}})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let answer = next_json(&mut b).await;
    assert_eq!(answer["type"], "answer");
    assert_eq!(answer["from"], welcome_a["id"]);
    b.close(None).await.unwrap();
    assert_eq!(next_json(&mut a).await["type"], "peer-left");
    a.close(None).await.unwrap();

    // The dispatcher's browser listens on the second instance; the doctor submits
    // through the first.
    let cookie = two.ui_login("dispatcher").await;
    let mut live = two
        .browser
        .get(format!("{}/live", two.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let doctor_token = one.login("doctor").await;
    let request = one
        .create(&doctor_token, complete_request("emergency"))
        .await;
    one.act(&doctor_token, request, "submit", json!({})).await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains(&format!("\"consultation_id\":{request}")) {
        let chunk = tokio::time::timeout_at(deadline, live.chunk())
            .await
            .expect("the live update crosses instances")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: notification"), "{seen}");
    drop(live);
    one.stop().await;
    two.stop().await;
}

/// A booking cancelled by the dispatcher: the participants are told, the room
/// is closed, a second cancel is refused in words; the connection test page is
/// there for every participant. An organization with hardware terminals sends
/// its users to the external system instead of the built-in room.
async fn cancel_and_external_rooms(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let dispatcher = app.login("dispatcher").await;
    let (doctor, consultant) = (
        user_id(&app, "doctor").await,
        user_id(&app, "consultant").await,
    );
    let id = accepted_request(&app).await;
    let (s, booked) = book(
        &app,
        &dispatcher,
        json!({"starts_at": slot(5, 9), "participant_ids": [doctor, consultant],
               "room": "Студия 2", "title": "Разбор КТ", "consultation_ids": [id]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{booked}");
    let session = booked["id"].as_i64().unwrap();

    // The doctor's hospital uses hardware terminals: its users get its link.
    let admin = app.login("admin").await;
    let doctor_token = app.login("doctor").await;
    let me = app.get(&doctor_token, "/api/v1/me").await;
    let org = me["roles"][0]["organization"]["id"].as_i64().unwrap();
    let orgs = app.get(&admin, "/api/v1/admin/organizations").await;
    let mut o = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == org)
        .unwrap()
        .clone();
    o.as_object_mut().unwrap().remove("id");
    o["video_link_template"] = json!("ftp://nope");
    let (s, body) = app
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/admin/organizations/{org}"),
            Some(o.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("https://"), "{body}");
    o["video_link_template"] = json!("https://vcs.example.ru/join?room={room}&id={session}");
    let (s, body) = app
        .call(
            Some(&admin),
            Method::PUT,
            &format!("/api/v1/admin/organizations/{org}"),
            Some(o),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let link = format!("https://vcs.example.ru/join?room=%D0%A1%D1%82%D1%83%D0%B4%D0%B8%D1%8F%202&#38;id={session}");
    let doctor_c = app.ui_login("doctor").await;
    let consultant_c = app.ui_login("consultant").await;
    let page = |path: String, cookie: String| {
        let app = &app;
        async move {
            app.page(Method::GET, &path, Some(&cookie))
                .await
                .text()
                .await
                .unwrap()
        }
    };
    let room = page(format!("/video/{session}"), doctor_c.clone()).await;
    assert!(room.contains(&link), "{room}");
    assert!(!room.contains("/static/video.js"));
    let request = page(format!("/requests/{id}"), doctor_c.clone()).await;
    assert!(request.contains(&link));
    // The consultant's centre has no terminals: the built-in room.
    let room = page(format!("/video/{session}"), consultant_c.clone()).await;
    assert!(room.contains("/static/video.js") && !room.contains("vcs.example.ru"));
    // The doctor may still choose the built-in room.
    let room = page(format!("/video/{session}?builtin=1"), doctor_c.clone()).await;
    assert!(room.contains("/static/video.js"));

    // The connection test, with TURN not configured here: it says so.
    let check = page("/video/check".into(), doctor_c.clone()).await;
    assert!(check.contains("/static/video_check.js"));
    assert!(check.contains("сервер TURN не настроен"), "{check}");

    // A participant cannot cancel; the dispatcher can, once.
    let (s, _) = app
        .call(
            Some(&doctor_token),
            Method::POST,
            &format!("/api/v1/video/{session}/cancel"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .call(
            Some(&dispatcher),
            Method::POST,
            &format!("/api/v1/video/{session}/cancel"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = app
        .call(
            Some(&dispatcher),
            Method::POST,
            &format!("/api/v1/video/{session}/cancel"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.to_string().contains("отменён"), "{body}");
    assert!(app
        .notification_kinds("doctor", id)
        .await
        .contains(&"video_cancelled".to_string()));
    assert!(app
        .notification_kinds("consultant", id)
        .await
        .contains(&"video_cancelled".to_string()));
    let room = app
        .page(
            Method::GET,
            &format!("/video/{session}"),
            Some(&consultant_c),
        )
        .await;
    assert_eq!(
        room.status(),
        StatusCode::NOT_FOUND,
        "a cancelled room is closed"
    );
    // The people are free again at that time.
    let (s, _) = book(
        &app,
        &dispatcher,
        json!({"starts_at": slot(5, 9), "participant_ids": [doctor, consultant]}),
        "ru",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    app.stop().await;
}
both_backends!(
    cancelled_sessions_and_external_rooms,
    super::cancel_and_external_rooms
);
