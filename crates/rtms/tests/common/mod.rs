//! A real server on port 0 over a fresh database, with the demo region seeded.

#![allow(dead_code)]

use std::sync::Arc;

use reqwest::{Client, Method, StatusCode};
use rtms_service::{Clock, Services, SystemClock};
use rtms_store::testing::TestDatabase;
use rtms_store::BackendKind;
use serde_json::{json, Value};

pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// For pages: follows no redirects, so a test sees where it is sent.
    pub browser: Client,
    pub db: Arc<TestDatabase>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// A new database with the demo region, and a server on it.
    pub async fn spawn(backend: BackendKind) -> TestApp {
        TestApp::spawn_with_clock(backend, Arc::new(SystemClock)).await
    }

    /// The same, with a clock the test moves.
    pub async fn spawn_with_clock(backend: BackendKind, clock: Arc<dyn Clock>) -> TestApp {
        TestApp::spawn_configured(backend, clock, None).await
    }

    /// The same, with e-mail going to an SMTP relay.
    pub async fn spawn_configured(
        backend: BackendKind,
        clock: Arc<dyn Clock>,
        mail: Option<rtms_service::platform::mail::MailConfig>,
    ) -> TestApp {
        let db = TestApp::seeded_database(backend).await;
        TestApp::start_configured(db, clock, mail).await
    }

    /// A new database with the demo region, for a server started separately.
    pub async fn seeded_database(backend: BackendKind) -> Arc<TestDatabase> {
        let db = Arc::new(TestDatabase::new(backend));
        let url = db.url.clone();
        tokio::task::spawn_blocking(move || {
            let svc = Services::new(
                rtms_store::Db::connect(&url, 4).unwrap(),
                Arc::new(SystemClock),
            );
            svc.db.migrate().unwrap();
            svc.db.write(rtms_store::reference::ensure_loaded).unwrap();
            rtms_service::seed::demo::seed_if_empty(&svc).unwrap();
        })
        .await
        .unwrap();
        db
    }

    /// A new database with the demo region, and a server whose services `customize` adjusts.
    pub async fn spawn_custom(
        backend: BackendKind,
        customize: impl FnOnce(Services) -> Services,
    ) -> TestApp {
        let db = Arc::new(TestDatabase::new(backend));
        let url = db.url.clone();
        tokio::task::spawn_blocking(move || {
            let svc = Services::new(
                rtms_store::Db::connect(&url, 4).unwrap(),
                Arc::new(SystemClock),
            );
            svc.db.migrate().unwrap();
            svc.db.write(rtms_store::reference::ensure_loaded).unwrap();
            rtms_service::seed::demo::seed_if_empty(&svc).unwrap();
        })
        .await
        .unwrap();
        TestApp::start_custom(db, Arc::new(SystemClock), customize).await
    }

    /// A server on an existing database (as after a restart).
    pub async fn start(db: Arc<TestDatabase>) -> TestApp {
        TestApp::start_with_clock(db, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(db: Arc<TestDatabase>, clock: Arc<dyn Clock>) -> TestApp {
        TestApp::start_configured(db, clock, None).await
    }

    pub async fn start_configured(
        db: Arc<TestDatabase>,
        clock: Arc<dyn Clock>,
        mail: Option<rtms_service::platform::mail::MailConfig>,
    ) -> TestApp {
        TestApp::start_custom(db, clock, move |svc| match mail {
            Some(m) => svc.with_mail(m),
            None => svc,
        })
        .await
    }

    /// A server whose attachments go to the given store (a directory kept
    /// across restarts, or S3).
    pub async fn start_with_files(
        db: Arc<TestDatabase>,
        files: rtms_service::attachments::files::FileStore,
    ) -> TestApp {
        TestApp::start_custom(db, Arc::new(SystemClock), move |svc| svc.with_files(files)).await
    }

    pub async fn start_custom(
        db: Arc<TestDatabase>,
        clock: Arc<dyn Clock>,
        customize: impl FnOnce(Services) -> Services,
    ) -> TestApp {
        let store = rtms_store::Db::connect(&db.url, 4).unwrap();
        store.migrate().unwrap();
        let svc = customize(Services::new(store, clock));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            rtms_web::serve(listener, svc, vec![], async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        // Like a browser on the site itself: an Origin on every request (the CSRF guard wants one).
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("origin", base.parse().unwrap());
        let browser = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        TestApp {
            base,
            client: Client::new(),
            browser,
            db,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(mut self) -> Arc<TestDatabase> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
        self.db.clone()
    }

    pub async fn login(&self, login: &str) -> String {
        let (status, body) = self
            .call(
                None,
                Method::POST,
                "/api/v1/auth/login",
                Some(json!({"login": login, "password": "rtms-demo-password"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {login}: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_lang(token, method, path, body, "ru").await
    }

    pub async fn call_lang(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
        lang: &str,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("Accept-Language", lang);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Changes the region's settings as an administrator would: reads them,
    /// sets the fields of `changes`, puts them back; panics unless accepted.
    pub async fn change_settings(&self, admin: &str, changes: Value) {
        let mut settings = self.get(admin, "/api/v1/admin/settings").await;
        for (k, v) in changes.as_object().expect("an object of settings") {
            settings[k] = v.clone();
        }
        let (s, body) = self
            .call(
                Some(admin),
                Method::PUT,
                "/api/v1/admin/settings",
                Some(settings),
            )
            .await;
        assert!(s.is_success(), "settings refused: {body}");
    }

    /// The kinds of a user's notifications about one request (signing in
    /// afresh: a test's clock may have moved past the last session).
    pub async fn notification_kinds(&self, login: &str, id: i64) -> Vec<String> {
        let token = self.login(login).await;
        let list = self.get(&token, "/api/v1/notifications").await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["consultation_id"] == id)
            .map(|n| n["kind"].as_str().unwrap().to_string())
            .collect()
    }

    /// A demo organization's id, by its short name.
    pub async fn org_id(&self, short_name: &str) -> i64 {
        let admin = self.login("admin").await;
        let orgs = self.get(&admin, "/api/v1/admin/organizations").await;
        orgs.as_array()
            .unwrap()
            .iter()
            .find(|o| o["short_name"] == short_name)
            .unwrap_or_else(|| panic!("no organization {short_name}"))["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.call(Some(token), Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Takes an action and expects it to succeed; returns the new status.
    pub async fn act(&self, token: &str, id: i64, action: &str, params: Value) -> String {
        let (status, body) = self
            .call(
                Some(token),
                Method::POST,
                &format!("/api/v1/consultations/{id}/actions/{action}"),
                Some(params),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{action} on {id}: {body}");
        body["status"].as_str().unwrap().to_string()
    }

    pub async fn act_status(
        &self,
        token: &str,
        id: i64,
        action: &str,
        params: Value,
    ) -> (StatusCode, Value) {
        self.call(
            Some(token),
            Method::POST,
            &format!("/api/v1/consultations/{id}/actions/{action}"),
            Some(params),
        )
        .await
    }

    /// Creates a draft and returns its id.
    pub async fn create(&self, token: &str, body: Value) -> i64 {
        let (status, created) = self
            .call(
                Some(token),
                Method::POST,
                "/api/v1/consultations",
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create: {created}");
        assert_eq!(created["status"], "draft");
        created["id"].as_i64().unwrap()
    }
}

impl TestApp {
    /// Signs in through the sign-in page; returns the session cookie (`rtms_session=…`).
    pub async fn ui_login(&self, login: &str) -> String {
        let resp = self
            .browser
            .post(format!("{}/login", self.base))
            .form(&[("login", login), ("password", "rtms-demo-password")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in of {login}");
        session_cookie(&resp).unwrap_or_else(|| panic!("no session cookie for {login}"))
    }

    /// A page request with a session cookie (or none); no redirects followed.
    pub async fn page(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .browser
            .request(method, format!("{}{}", self.base, path));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }
}

/// The `rtms_session=…` pair a response sets.
pub fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rtms_session=") && !v.starts_with("rtms_session=;"))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

/// A complete planned cardiology request as a doctor would fill it in.
pub fn complete_request(form: &str) -> Value {
    json!({
        "patient": {
            "last_name": "Тестов", "first_name": "Семён", "middle_name": "Ильич",
            "birth_date": "12.03.1958", "sex": "male",
            "snils": "112-233-445 95", "oms_policy": "1234567890123456",
            "address": "пос. Лесной, ул. Школьная, 4"
        },
        "form_of_care": form,
        "mode": "deferred",
        "purpose": "treatment_tactics",
        "profile": "cardiology",
        "diagnosis": {"main": "I21.0", "comorbidities": ["E11.9"], "text": "ОИМ передней стенки"},
        "question": "Показан ли перевод в региональный сосудистый центр?",
        "anamnesis_morbi": "Боли за грудиной с 6 утра.",
        "objective_status": "Состояние тяжёлое.",
        "vitals": {"bp_systolic": 100, "bp_diastolic": 60, "heart_rate": 104, "spo2": 93, "temperature": 36.8},
        "consent_given": true,
        "contact_phone": "+7 900 000-00-01"
    })
}

/// One test per backend: `both_backends!(name, async_fn)`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body(rtms_store::BackendKind::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body(rtms_store::BackendKind::Postgres).await;
            }
        }
    };
}

/// A participant's signaling socket in a video room, opened with their cookie.
pub async fn ws_connect(
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

/// The next JSON message on a socket (ten seconds at most).
pub async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        let msg = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            futures_util::StreamExt::next(ws),
        )
        .await
        .expect("a signaling message")
        .unwrap()
        .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

/// An API token of `login` with these scopes, made on the sessions page as a
/// user would (it is shown once).
pub async fn api_token(app: &TestApp, login: &str, scopes: &[&str]) -> String {
    let cookie = app.ui_login(login).await;
    let mut form: Vec<(&str, &str)> = vec![("name", "Интеграция"), ("days", "30")];
    form.extend(scopes.iter().map(|s| ("scope", *s)));
    let html = app
        .browser
        .post(format!("{}/tokens", app.base))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html
        .find("id=\"new-token\">")
        .expect("the new token is shown")
        + 15;
    html[start..start + html[start..].find('<').unwrap()].to_string()
}
