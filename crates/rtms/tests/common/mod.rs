//! A real server on port 0 over a fresh database, with the demo region seeded.

#![allow(dead_code)]

use std::sync::Arc;

use reqwest::{Client, Method, StatusCode};
use rtms_service::{Services, SystemClock};
use rtms_store::testing::TestDatabase;
use rtms_store::BackendKind;
use serde_json::{json, Value};

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: Arc<TestDatabase>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// A new database with the demo region, and a server on it.
    pub async fn spawn(backend: BackendKind) -> TestApp {
        let db = Arc::new(TestDatabase::new(backend));
        let url = db.url.clone();
        tokio::task::spawn_blocking(move || {
            let svc = Services::new(
                rtms_store::Db::connect(&url, 4).unwrap(),
                Arc::new(SystemClock),
            );
            svc.db.migrate().unwrap();
            svc.db.write(rtms_store::reference::ensure_loaded).unwrap();
            rtms_service::demo::seed_if_empty(&svc).unwrap();
        })
        .await
        .unwrap();
        TestApp::start(db).await
    }

    /// A server on an existing database (as after a restart).
    pub async fn start(db: Arc<TestDatabase>) -> TestApp {
        let store = rtms_store::Db::connect(&db.url, 4).unwrap();
        store.migrate().unwrap();
        let svc = Services::new(store, Arc::new(SystemClock));
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
        TestApp {
            base,
            client: Client::new(),
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
