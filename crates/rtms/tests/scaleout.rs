//! Scale-out as deployed: two `rtms serve` processes on one PostgreSQL and one
//! S3-compatible store (moto_server), behind Debian's nginx configured as
//! docs/DEPLOYMENT.md says (round robin, SSE unbuffered, tus uploads pinned by
//! `ip_hash`). Sessions, live updates and files work whichever instance
//! answers. Needs `nginx` and `moto_server` on PATH (.ci/run installs both).

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;

use base64::Engine;
use common::complete_request;
use reqwest::{Method, StatusCode};
use rtms_store::testing::TestDatabase;
use rtms_store::BackendKind;
use serde_json::{json, Value};

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
        || Path::new("/usr/sbin").join(program).is_file()
}

async fn wait_up(http: &reqwest::Client, url: &str, what: &str) {
    for _ in 0..300 {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not come up at {url}");
}

fn instance(db: &TestDatabase, dir: &Path, port: u16, s3: &str, demo: bool) -> Kill {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtms"));
    cmd.args(["--database-url", &db.url])
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--storage-url", "s3://rtms-files"])
        .arg("serve")
        .env("AWS_ENDPOINT", s3)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("RTMS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if demo {
        cmd.arg("--demo");
    }
    Kill(cmd.spawn().unwrap())
}

/// nginx in front of both: `front` balances, `via_one` and `via_two` reach
/// one instance each (so the test knows where an action lands).
fn nginx_conf(dir: &Path, a: u16, b: u16, front: u16, via_one: u16, via_two: u16) -> String {
    let d = dir.display();
    // As root, nginx's workers would drop to `nobody` and lose the temp dir.
    let user = if std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1)
        == 0
    {
        "user root;"
    } else {
        ""
    };
    let locations = |upstream: &str, uploads: &str| {
        format!(
            r#"
        proxy_http_version 1.1;
        add_header X-Upstream $upstream_addr always;
        location / {{ proxy_pass http://{upstream}; proxy_set_header Connection ""; }}
        location = /live {{ proxy_pass http://{upstream}; proxy_buffering off; proxy_read_timeout 1h; proxy_set_header Connection ""; }}
        location /api/v1/uploads {{
            proxy_pass http://{uploads};
            proxy_request_buffering off;
            client_max_body_size 0;
            proxy_set_header Connection "";
        }}"#
        )
    };
    format!(
        r#"{user}
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream rtms {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; keepalive 8; }}
    upstream rtms_uploads {{ ip_hash; server 127.0.0.1:{a}; server 127.0.0.1:{b}; }}
    upstream one {{ server 127.0.0.1:{a}; }}
    upstream two {{ server 127.0.0.1:{b}; }}
    server {{ listen 127.0.0.1:{front}; {} }}
    server {{ listen 127.0.0.1:{via_one}; {} }}
    server {{ listen 127.0.0.1:{via_two}; {} }}
}}
"#,
        locations("rtms", "rtms_uploads"),
        locations("one", "one"),
        locations("two", "two"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_share_sessions_live_updates_and_files() {
    // Never skipped: a missing tool fails the test (.ci/run installs both).
    for tool in ["nginx", "moto_server"] {
        assert!(
            on_path(tool),
            "{tool} is needed for the scale-out test (.ci/run installs it)"
        );
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // One S3-compatible store.
    let s3_port = free_port();
    let _s3 = Kill(
        Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &s3_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let s3 = format!("http://127.0.0.1:{s3_port}");
    for _ in 0..100 {
        if http.get(&s3).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = http.put(format!("{s3}/rtms-files")).send().await.unwrap();
    assert!(r.status().is_success(), "bucket: {}", r.status());

    // One PostgreSQL database, two instances (the first seeds the demo region).
    let db = TestDatabase::new(BackendKind::Postgres);
    let dirs = tempfile::tempdir().unwrap();
    let (a, b) = (free_port(), free_port());
    let _one = instance(&db, &dirs.path().join("a"), a, &s3, true);
    wait_up(
        &http,
        &format!("http://127.0.0.1:{a}/healthz"),
        "instance one",
    )
    .await;
    // A demo database: without `--demo` an instance refuses the demo
    // passwords; seeded already, the second instance seeds nothing.
    let _two = instance(&db, &dirs.path().join("b"), b, &s3, true);
    wait_up(
        &http,
        &format!("http://127.0.0.1:{b}/healthz"),
        "instance two",
    )
    .await;

    let (front, via_one, via_two) = (free_port(), free_port(), free_port());
    let conf = dirs.path().join("nginx.conf");
    std::fs::write(
        &conf,
        nginx_conf(dirs.path(), a, b, front, via_one, via_two),
    )
    .unwrap();
    let nginx = if on_path("nginx") && Command::new("nginx").arg("-v").output().is_ok() {
        "nginx"
    } else {
        "/usr/sbin/nginx"
    };
    let _nginx = Kill(
        Command::new(nginx)
            .arg("-p")
            .arg(dirs.path())
            .arg("-e")
            .arg(dirs.path().join("error.log"))
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let front = format!("http://127.0.0.1:{front}");
    let (via_one, via_two) = (
        format!("http://127.0.0.1:{via_one}"),
        format!("http://127.0.0.1:{via_two}"),
    );
    wait_up(&http, &format!("{front}/healthz"), "nginx").await;

    // A sign-in through the balancer holds on both instances.
    let login = |who: &'static str| {
        let (http, front) = (http.clone(), front.clone());
        async move {
            let r = http
                .post(format!("{front}/api/v1/auth/login"))
                .json(&json!({"login": who, "password": "rtms-demo-password"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let doctor = login("doctor").await;
    let mut answered_by = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let r = http
            .get(format!("{front}/api/v1/me"))
            .bearer_auth(&doctor)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "the session holds on every instance"
        );
        answered_by.insert(r.headers()["x-upstream"].to_str().unwrap().to_string());
        let me: Value = r.json().await.unwrap();
        assert_eq!(me["login"], "doctor");
    }
    assert_eq!(
        answered_by,
        [format!("127.0.0.1:{a}"), format!("127.0.0.1:{b}")]
            .into_iter()
            .collect(),
        "the balancer used both instances"
    );

    // The web interface's session, signed in through one, opens the queue on the other.
    let r = http
        .post(format!("{via_one}/login"))
        .form(&[
            ("login", "dispatcher"),
            ("password", "rtms-demo-password"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rtms_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a session cookie");
    let queue = http
        .get(format!("{via_two}/queue"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), StatusCode::OK);
    assert!(queue.text().await.unwrap().contains("Запросы"));

    // The dispatcher's live updates come through nginx from instance one; the
    // doctor submits through instance two.
    let mut live = http
        .get(format!("{via_one}/live"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let body = complete_request("planned");
    let created: Value = http
        .post(format!("{via_two}/api/v1/consultations"))
        .bearer_auth(&doctor)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().expect("created");
    let r = http
        .post(format!(
            "{via_two}/api/v1/consultations/{id}/actions/submit"
        ))
        .bearer_auth(&doctor)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    // The dispatcher hears of a new request as a notification.
    while !seen.contains(&format!("\"consultation_id\":{id}")) {
        let chunk = tokio::time::timeout_at(deadline, live.chunk())
            .await
            .unwrap_or_else(|_| panic!("no live update for request {id} on instance one: {seen}"))
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: notification"), "{seen}");
    drop(live);

    // A resumable upload through the balancer lands in the shared store; both
    // instances hand out the same bytes.
    let data: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..3 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8))
        .collect();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let tus = |method: Method, url: String| {
        http.request(method, url)
            .bearer_auth(&doctor)
            .header("Tus-Resumable", "1.0.0")
    };
    let r = tus(Method::POST, format!("{front}/api/v1/uploads"))
        .header("Upload-Length", data.len().to_string())
        .header(
            "Upload-Metadata",
            format!(
                "filename {},consultation {}",
                b64("выписка.pdf"),
                b64(&id.to_string())
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let url = if location.starts_with("http") {
        location
    } else {
        format!("{front}{location}")
    };
    let half = data.len() / 2;
    for (offset, part) in [(0, &data[..half]), (half, &data[half..])] {
        let r = tus(Method::PATCH, url.clone())
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(part.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "PATCH at {offset}");
        if offset == half {
            let attachment = r.headers()["attachment-id"].to_str().unwrap().to_string();
            for via in [&via_one, &via_two] {
                let got = http
                    .get(format!("{via}/api/v1/attachments/{attachment}"))
                    .bearer_auth(&doctor)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(got.status(), StatusCode::OK, "download through {via}");
                assert!(
                    got.bytes().await.unwrap() == data,
                    "the same bytes through {via}"
                );
            }
        }
    }
    // The object is in the bucket, not on either instance's disk.
    let listing = http
        .get(format!("{s3}/rtms-files?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains("<Key>"), "{listing}");
}
