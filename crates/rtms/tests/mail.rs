//! E-mail through a real SMTP server (Python's aiosmtpd, writing a maildir):
//! notifications arrive in the recipient's language, a relay that is down is
//! retried later, and two workers never send one job twice.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use common::{complete_request, TestApp};
use rtms_service::platform::mail::{MailConfig, SmtpTls};
use rtms_service::{Clock, ManualClock, Services};
use rtms_store::BackendKind;
use serde_json::json;

struct Smtp {
    child: Child,
    dir: PathBuf,
}

impl Smtp {
    fn start(port: u16) -> Smtp {
        let dir = std::env::temp_dir().join(format!("rtms-mail-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(dir.join("maildir"))
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < StdDuration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(StdDuration::from_millis(100));
        }
        Smtp { child, dir }
    }

    fn messages(&self) -> Vec<String> {
        let new = self.dir.join("maildir").join("new");
        let mut out: Vec<String> = std::fs::read_dir(&new)
            .map(|d| {
                d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn mail(port: u16) -> MailConfig {
    MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        from: "rtms@region.example".into(),
        public_url: "https://rtms.region.example".into(),
        // aiosmtpd as started by `Smtp::start` speaks plain SMTP.
        tls: SmtpTls::None,
        ..Default::default()
    }
}

fn worker(url: &str, clock: Arc<ManualClock>, port: u16) -> Services {
    Services::new(rtms_store::Db::connect(url, 2).unwrap(), clock).with_mail(mail(port))
}

/// The subject (RFC 2047 base64 words, folded over lines) and the body (base64) of a message, as text.
fn decoded(raw: &str) -> (String, String) {
    use base64::Engine;
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .unwrap_or_default()
    };
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    // Unfold the header: a line starting with white space continues the previous one.
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let subject_line = unfolded
        .lines()
        .find(|l| l.starts_with("Subject: "))
        .unwrap_or("");
    let mut bytes = Vec::new();
    for w in subject_line["Subject: ".len()..].split_whitespace() {
        match w
            .strip_prefix("=?utf-8?b?")
            .and_then(|w| w.strip_suffix("?="))
        {
            Some(enc) => bytes.extend(b64(enc)),
            None => {
                bytes.push(b' ');
                bytes.extend(w.as_bytes());
            }
        }
    }
    (
        String::from_utf8_lossy(&bytes).into_owned(),
        String::from_utf8_lossy(&b64(&body.replace('\n', ""))).into_owned(),
    )
}

async fn mail_flow(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let port = free_port();
    let app = TestApp::spawn_configured(backend, clock.clone(), Some(mail(port))).await;
    let url = app.db.url.clone();
    // The relay is down at first: the job waits and is retried.
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    let (w, c) = (url.clone(), clock.clone());
    let ran = tokio::task::spawn_blocking(move || worker(&w, c, port).run_jobs("w1", 10).unwrap())
        .await
        .unwrap();
    assert!(ran >= 1, "the new-request e-mail was queued and tried");

    let smtp = Smtp::start(port);
    // Not yet due: nothing is sent before the backoff passes.
    let (w, c) = (url.clone(), clock.clone());
    tokio::task::spawn_blocking(move || worker(&w, c, port).run_jobs("w1", 10).unwrap())
        .await
        .unwrap();
    assert!(smtp.messages().is_empty());
    clock.advance(Duration::minutes(3));
    let (w, c) = (url.clone(), clock.clone());
    tokio::task::spawn_blocking(move || worker(&w, c, port).run_jobs("w1", 10).unwrap())
        .await
        .unwrap();
    let messages = smtp.messages();
    let to_dispatcher = messages
        .iter()
        .find(|m| m.contains("To: dispatcher@rtms-demo.example"))
        .expect("the dispatcher's e-mail arrived after the retry");
    let (subject, body) = decoded(to_dispatcher);
    assert!(
        subject.starts_with("РТМС: Новый запрос"),
        "in the recipient's language: {subject}"
    );
    assert!(subject.contains(&id.to_string()), "{subject}");
    assert!(
        body.contains(&format!("https://rtms.region.example/requests/{id}")),
        "{body}"
    );
    assert!(
        !body.contains("Тестов") && !subject.contains("Тестов"),
        "no patient data in e-mail"
    );

    // The dispatcher turns e-mail off: the next request is in-app only.
    let cookie = app.ui_login("dispatcher").await;
    let resp = app
        .browser
        .post(format!("{}/settings/email", app.base))
        .header("cookie", &cookie)
        .form(&[("x", "")])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection());
    let before = smtp
        .messages()
        .iter()
        .filter(|m| m.contains("To: dispatcher@"))
        .count();
    let doctor = app.login("doctor").await;
    let second = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, second, "submit", json!({})).await;
    // …while the doctor, who kept it on, hears by e-mail that the request came back.
    let dispatcher = app.login("dispatcher").await;
    app.act(&dispatcher, second, "take", json!({})).await;
    app.act(&dispatcher, second, "return", json!({"comment": "ЭКГ?"}))
        .await;
    let (w, c) = (url.clone(), clock.clone());
    tokio::task::spawn_blocking(move || worker(&w, c, port).run_jobs("w1", 10).unwrap())
        .await
        .unwrap();
    assert_eq!(
        smtp.messages()
            .iter()
            .filter(|m| m.contains("To: dispatcher@"))
            .count(),
        before
    );
    assert!(
        smtp.messages()
            .iter()
            .any(|m| m.contains("To: doctor@") && decoded(m).0.contains("Возвращён на доработку")),
        "the doctor's e-mail"
    );
    drop(app);
    drop(smtp);
}
both_backends!(
    notifications_go_out_by_email_and_survive_a_relay_outage,
    super::mail_flow
);

async fn two_workers(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let port = free_port();
    let smtp = Smtp::start(port);
    let app = TestApp::spawn_configured(backend, clock.clone(), None).await;
    let db = rtms_store::Db::connect(&app.db.url, 2).unwrap();
    let now = clock.now().naive_utc();
    for i in 0..20 {
        let payload = json!({"to": format!("n{i}@region.example"), "subject": format!("job {i}"), "body": "x"}).to_string();
        db.write(|c| rtms_store::jobs::enqueue(c, "email", &payload, now, now))
            .unwrap();
    }
    // Two workers of one instance (one SQLite writer; on PostgreSQL, two connections racing).
    let shared = worker(&app.db.url, clock.clone(), port);
    let handles: Vec<_> = (0..2)
        .map(|n| {
            let svc = shared.clone();
            std::thread::spawn(move || svc.run_jobs(&format!("w{n}"), 100).unwrap())
        })
        .collect();
    let ran: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(ran, 20, "every job ran once, across both workers");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 20);
    for i in 0..20 {
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.contains(&format!("To: n{i}@region.example")))
                .count(),
            1,
            "job {i}"
        );
    }
    assert_eq!(db.read(rtms_store::jobs::pending).unwrap(), 0);
}
both_backends!(two_workers_never_send_one_job_twice, super::two_workers);

/// Sets a user's e-mail preferences through the settings form.
async fn choose(app: &TestApp, login: &str, mode: &str, kinds: &[&str]) {
    let cookie = app.ui_login(login).await;
    let mut form = vec![
        ("email_mode".to_string(), mode.to_string()),
        ("kinds".into(), "1".into()),
    ];
    form.extend(
        kinds
            .iter()
            .map(|k| (format!("kind_{k}"), "on".to_string())),
    );
    let resp = app
        .browser
        .post(format!("{}/settings/email", app.base))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection());
    // The form shows the choice back.
    let page = app
        .page(reqwest::Method::GET, "/sessions", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("value=\"{mode}\" checked")),
        "{login}: {mode}"
    );
}

async fn digest_and_kinds(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let port = free_port();
    let smtp = Smtp::start(port);
    let app = TestApp::spawn_configured(backend, clock.clone(), Some(mail(port))).await;
    let url = app.db.url.clone();
    // A quiet day long after the demo's activity.
    clock.advance(Duration::days(100));
    // The doctor wants a daily digest of returns and rejections only; the
    // dispatcher wants emergencies at once, not ordinary new requests.
    choose(&app, "doctor", "digest", &["returned", "rejected"]).await;
    choose(&app, "dispatcher", "instant", &["emergency"]).await;

    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let returned = app.create(&doctor, complete_request("planned")).await;
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
    // In the app the dispatcher still hears of the new requests.
    let feed = app
        .get(&dispatcher, "/api/v1/notifications")
        .await
        .to_string();
    assert!(feed.contains("new_request"), "{feed}");

    let run = |n: usize| {
        let (w, c) = (url.clone(), clock.clone());
        tokio::task::spawn_blocking(move || {
            worker(&w, c, port).run_jobs(&format!("w{n}"), 50).unwrap()
        })
    };
    run(1).await.unwrap();
    // Nothing by e-mail during the day: the dispatcher unchecked new requests,
    // the doctor waits for the digest.
    let to = |who: &str| {
        smtp.messages()
            .into_iter()
            .filter(|m| m.contains(&format!("To: {who}@")))
            .collect::<Vec<_>>()
    };
    assert!(
        to("dispatcher").is_empty(),
        "an unchecked kind is not mailed"
    );
    assert!(to("doctor").is_empty(), "digest, not instant");

    // Next day: two instances look for digests at once, two workers send.
    // (Two instances exist only on PostgreSQL; SQLite is one process, whose
    // threads share one database handle and its single writer.)
    clock.advance(Duration::days(1));
    let shared = worker(&url, clock.clone(), port);
    let queue = || {
        let (w, c, s) = (url.clone(), clock.clone(), shared.clone());
        std::thread::spawn(move || match backend {
            BackendKind::Postgres => worker(&w, c, port).queue_digests().unwrap(),
            BackendKind::Sqlite => s.queue_digests().unwrap(),
        })
    };
    let (a, b) = (queue(), queue());
    let queued = a.join().unwrap() + b.join().unwrap();
    assert!(queued >= 1);
    let (r1, r2) = (run(1), run(2));
    r1.await.unwrap();
    r2.await.unwrap();
    let digests = to("doctor");
    assert_eq!(digests.len(), 1, "one digest a day");
    let (subject, body) = decoded(&digests[0]);
    assert!(subject.starts_with("РТМС: сводка за"), "{subject}");
    assert!(subject.contains("уведомлений: 2"), "{subject}");
    for (id, what) in [
        (returned, "Возвращён на доработку"),
        (rejected, "Запрос отклонён"),
    ] {
        assert!(
            body.contains(&format!("{what}: запрос № {id}")),
            "{what} {id}: {body}"
        );
    }
    assert!(!body.contains("Тестов"), "no patient data in e-mail");
    // Asking again the same day queues nothing more.
    let (w, c) = (url.clone(), clock.clone());
    let again = tokio::task::spawn_blocking(move || worker(&w, c, port).queue_digests().unwrap())
        .await
        .unwrap();
    assert_eq!(again, 0);
    run(1).await.unwrap();
    assert_eq!(to("doctor").len(), 1);
    assert!(to("dispatcher").is_empty());
    drop(app);
    drop(smtp);
}
both_backends!(
    a_daily_digest_arrives_once_and_unchecked_kinds_stay_in_the_app,
    super::digest_and_kinds
);

/// aiosmtpd requiring TLS (STARTTLS, or TLS from the first byte) and AUTH
/// with one user, writing what it accepts to a maildir.
const SECURED_RELAY: &str = r#"
import sys, ssl, time
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword
port, maildir, cert, key, user, password, mode = sys.argv[1:8]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
def check(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == password.encode()
    return AuthResult(success=ok, handled=False)
common = dict(hostname="127.0.0.1", port=int(port), authenticator=check, auth_required=True)
if mode == "starttls":
    c = Controller(Mailbox(maildir), tls_context=ctx, require_starttls=True, **common)
else:
    c = Controller(Mailbox(maildir), ssl_context=ctx, auth_require_tls=False, **common)
c.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"#;

/// A CA and a certificate for 127.0.0.1 it issued, made with openssl in `dir`.
fn relay_certificates(dir: &std::path::Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl must be installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-nodes",
        "-days",
        "2",
        "-newkey",
        "rsa:2048",
        "-subj",
        "/CN=Test relay CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "rsa:2048",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "relay.key",
        "-out",
        "relay.csr",
    ]);
    std::fs::write(
        dir.join("relay.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "relay.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "relay.ext",
        "-out",
        "relay.pem",
    ]);
}

struct SecuredRelay {
    child: Child,
    maildir: PathBuf,
}

impl SecuredRelay {
    fn start(dir: &std::path::Path, port: u16, mode: &str) -> SecuredRelay {
        let maildir = dir.join(format!("maildir-{mode}"));
        let child = Command::new("python3")
            .arg("-c")
            .arg(SECURED_RELAY)
            .arg(port.to_string())
            .arg(&maildir)
            .arg(dir.join("relay.pem"))
            .arg(dir.join("relay.key"))
            .args(["rtms-mailer", "s3cret-relay-password", mode])
            // Its warnings and the refused handshakes are expected here.
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < StdDuration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(StdDuration::from_millis(100));
        }
        SecuredRelay { child, maildir }
    }

    fn count(&self) -> usize {
        std::fs::read_dir(self.maildir.join("new"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for SecuredRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A relay that requires TLS and a login: mail goes out over STARTTLS and
/// over implicit TLS with the right password and the relay's CA; plain SMTP,
/// a wrong password and an untrusted certificate each send nothing.
async fn secured_relay(backend: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let dir = tempfile::tempdir().unwrap();
    relay_certificates(dir.path());
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let (port, port_tls) = (free_port(), free_port());
    let starttls = SecuredRelay::start(dir.path(), port, "starttls");
    let implicit = SecuredRelay::start(dir.path(), port_tls, "tls");
    let app = TestApp::spawn_configured(backend, clock.clone(), None).await;
    let url = app.db.url.clone();
    let config = |port: u16, tls: SmtpTls, password: &str, ca: Option<Vec<u8>>| MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        from: "rtms@region.example".into(),
        public_url: "https://rtms.region.example".into(),
        tls,
        user: Some("rtms-mailer".into()).filter(|_| tls != SmtpTls::None),
        password: Some(password.to_string()),
        ca_pem: ca,
    };
    // One job, one worker run; true when the relay got it.
    let attempt = |cfg: MailConfig, n: usize| {
        let (url, clock) = (url.clone(), clock.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let svc = Services::new(rtms_store::Db::connect(&url, 2).unwrap(), clock.clone())
                    .with_mail(cfg);
                let now = clock.now().naive_utc();
                let payload = json!({"to": format!("n{n}@region.example"), "subject": format!("job {n}"), "body": "x"}).to_string();
                svc.db
                    .write(|c| rtms_store::jobs::enqueue(c, "email", &payload, now, now))
                    .unwrap();
                svc.run_jobs("w", 1).unwrap();
                // Whatever failed waits for a retry; the next attempt starts clean.
                clock.advance(Duration::days(1));
                svc.db
                    .write(|c| {
                        use diesel::prelude::*;
                        diesel::delete(rtms_store::schema::jobs::table)
                            .execute(c)
                            .map_err(rtms_store::StoreError::from)
                    })
                    .unwrap();
            })
            .await
            .unwrap();
        }
    };
    let pw = "s3cret-relay-password";
    attempt(config(port, SmtpTls::None, pw, Some(ca.clone())), 1).await;
    assert_eq!(starttls.count(), 0, "plain SMTP is refused by the relay");
    attempt(
        config(port, SmtpTls::StartTls, "wrong", Some(ca.clone())),
        2,
    )
    .await;
    assert_eq!(starttls.count(), 0, "a wrong password sends nothing");
    attempt(config(port, SmtpTls::StartTls, pw, None), 3).await;
    assert_eq!(
        starttls.count(),
        0,
        "a certificate nobody trusts sends nothing"
    );
    attempt(config(port, SmtpTls::StartTls, pw, Some(ca.clone())), 4).await;
    assert_eq!(starttls.count(), 1, "STARTTLS with AUTH");
    attempt(config(port_tls, SmtpTls::Tls, pw, Some(ca.clone())), 5).await;
    assert_eq!(implicit.count(), 1, "implicit TLS with AUTH");
    // The configuration refuses a password over plain SMTP.
    let out = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args([
            "--database-url",
            &url,
            "--smtp-host",
            "127.0.0.1",
            "--smtp-tls",
            "none",
        ])
        .args(["--smtp-user", "rtms-mailer", "migrate"])
        .env("RTMS_SMTP_PASSWORD", pw)
        .env("RTMS_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("never sent in plain text"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(app);
}
both_backends!(mail_goes_out_over_tls_with_a_login, super::secured_relay);
