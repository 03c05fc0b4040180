//! The `rtms` binary as an operator runs it: HTTPS with a certificate, one
//! instance per SQLite file, configuration precedence.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rtms-bin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rtms(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(args)
        .current_dir(dir)
        .env_remove("RTMS_DATABASE_URL")
        .env_remove("RTMS_LISTEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn curl(args: &[&str]) -> (bool, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "5"])
        .args(args)
        .output()
        .expect("curl is installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn wait_until(mut ok: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn serves_https_with_the_given_certificate() {
    let dir = temp_dir("tls");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .current_dir(&dir)
        .output()
        .expect("openssl is installed");
    assert!(made.status.success());
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = rtms(
        &dir,
        &[
            "serve",
            "--listen",
            &listen,
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
        ],
    );
    let url = format!("https://localhost:{port}/healthz");
    let ca = dir.join("cert.pem").to_string_lossy().into_owned();
    let up = wait_until(|| {
        curl(&[
            "--cacert",
            &ca,
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            &url,
        ])
        .1 == "ok"
    });
    // Plain HTTP on the same port is not served.
    let plain = curl(&[&format!("http://127.0.0.1:{port}/healthz")]);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(up, "no HTTPS answer verified against the certificate");
    assert_ne!(plain.1, "ok");
}

#[test]
fn a_second_instance_on_one_sqlite_file_is_refused() {
    let dir = temp_dir("lock");
    let port = free_port();
    let mut first = rtms(&dir, &["serve", "--listen", &format!("127.0.0.1:{port}")]);
    assert!(wait_until(|| curl(&[&format!(
        "http://127.0.0.1:{port}/readyz"
    )])
    .1 == "ready"));
    let second = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .current_dir(&dir)
        .env_remove("RTMS_DATABASE_URL")
        .output()
        .unwrap();
    let _ = first.kill();
    let _ = first.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another rtms instance is already using"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
}

#[test]
fn flags_beat_environment_beat_the_configuration_file() {
    let dir = temp_dir("config");
    let (p_file, p_env, p_flag) = (free_port(), free_port(), free_port());
    std::fs::write(
        dir.join("rtms.toml"),
        format!("listen = \"127.0.0.1:{p_file}\"\n"),
    )
    .unwrap();
    let check = |extra_env: Option<u16>, flag: Option<u16>, expect: u16| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtms"));
        cmd.arg("serve")
            .current_dir(&dir)
            .env_remove("RTMS_LISTEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(p) = extra_env {
            cmd.env("RTMS_LISTEN", format!("127.0.0.1:{p}"));
        }
        if let Some(p) = flag {
            cmd.args(["--listen", &format!("127.0.0.1:{p}")]);
        }
        let mut child = cmd.spawn().unwrap();
        let up = wait_until(|| curl(&[&format!("http://127.0.0.1:{expect}/healthz")]).1 == "ok");
        let _ = child.kill();
        let _ = child.wait();
        // The lock file is released with the process.
        std::thread::sleep(Duration::from_millis(200));
        up
    };
    let file_wins = check(None, None, p_file);
    let env_wins = check(Some(p_env), None, p_env);
    let flag_wins = check(Some(p_env), Some(p_flag), p_flag);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        file_wins && env_wins && flag_wins,
        "file {file_wins}, env {env_wins}, flag {flag_wins}"
    );
}

/// The federal level as the README starts it: `--level federal` refuses to
/// escalate further, and `rtms admin token` gives the region a FHIR token that
/// the federal instance accepts.
#[test]
fn a_federal_instance_and_the_regions_token() {
    let dir = temp_dir("federal");
    let seeded = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["admin", "orgs"])
        .current_dir(&dir)
        .env_remove("RTMS_DATABASE_URL")
        .output()
        .unwrap();
    assert!(seeded.status.success());
    let port = free_port();
    let mut server = rtms(
        &dir,
        &[
            "serve",
            "--demo",
            "--level",
            "federal",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_until(
        || curl(&[&format!("{base}/readyz")]).1 == "ready"
    ));
    // While it serves, as the README does it.
    let token = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["admin", "token", "--login", "doctor", "--name", "Регион"])
        .current_dir(&dir)
        .env_remove("RTMS_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    assert!(token.len() >= 32, "{token}");
    let (_, tasks) = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("{base}/fhir/r4/Task?_count=1"),
    ]);
    // The federal dispatcher cannot escalate further.
    let (_, login) = curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"login":"dispatcher","password":"rtms-demo-password"}"#,
        &format!("{base}/api/v1/auth/login"),
    ]);
    let login: serde_json::Value = serde_json::from_str(&login).unwrap();
    let dispatcher = format!("Authorization: Bearer {}", login["token"].as_str().unwrap());
    let (_, list) = curl(&[
        "-H",
        &dispatcher,
        &format!("{base}/api/v1/consultations?status=in_review"),
    ]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let id = list["items"][0]["id"]
        .as_i64()
        .expect("a demo request in review");
    let (_, refused) = curl(&[
        "-H",
        &dispatcher,
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"reason_code":"no_specialist"}"#,
        &format!("{base}/api/v1/consultations/{id}/actions/escalate"),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(tasks.contains("\"searchset\""), "{tasks}");
    assert!(refused.contains("федеральный уровень"), "{refused}");
}

/// `rtms backup` copies the database of a running SQLite instance; the copy
/// serves the same region after a restore.
#[test]
fn backup_of_a_running_instance_restores() {
    let dir = temp_dir("backup");
    let port = free_port();
    let mut server = rtms(
        &dir,
        &["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")],
    );
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_until(
        || curl(&[&format!("{base}/readyz")]).1 == "ready"
    ));
    let copy = dir.join("copy.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["backup", copy.to_str().unwrap()])
        .current_dir(&dir)
        .env_remove("RTMS_DATABASE_URL")
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Restore: the copy as the database of a new data directory.
    let restored = dir.join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&copy, restored.join("rtms.sqlite")).unwrap();
    let orgs = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["admin", "orgs", "--data-dir", restored.to_str().unwrap()])
        .current_dir(&dir)
        .env_remove("RTMS_DATABASE_URL")
        .output()
        .unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["backup", copy.to_str().unwrap()])
        .current_dir(&dir)
        .env_remove("RTMS_DATABASE_URL")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let listing = String::from_utf8_lossy(&orgs.stdout);
    assert!(
        listing.contains("Заречная"),
        "the demo region is in the copy: {listing}"
    );
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
}

/// A database with the demo region seeded (its accounts have the demo password).
fn demo_database(backend: rtms_store::BackendKind) -> rtms_store::testing::TestDatabase {
    let db = rtms_store::testing::TestDatabase::new(backend);
    let svc = rtms_service::Services::new(db.db(), std::sync::Arc::new(rtms_service::SystemClock));
    svc.db.write(rtms_store::reference::ensure_loaded).unwrap();
    assert!(rtms_service::seed::demo::seed_if_empty(&svc).unwrap());
    db
}

/// Without `--demo`, `serve` refuses a database whose demo accounts still
/// have the published password, says why and what to do, and exits non-zero;
/// `--disable-demo-accounts` switches them off and serves.
fn demo_passwords_outside_demo_mode(backend: rtms_store::BackendKind) {
    let db = demo_database(backend);
    let dir = temp_dir(&format!("demo-{backend:?}"));
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut refused = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["serve", "--listen", &listen, "--database-url", &db.url])
        .current_dir(&dir)
        .env_remove("RTMS_DEMO")
        .env_remove("RTMS_DISABLE_DEMO_ACCOUNTS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It must stop by itself: a server that comes up has accepted the demo passwords.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = refused.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = refused.kill();
            let _ = refused.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(refused.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let status = status.unwrap_or_else(|| panic!("served with demo passwords: {stderr}"));
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("demo password")
            && stderr.contains("doctor")
            && stderr.contains("--disable-demo-accounts"),
        "{stderr}"
    );
    // Switched off, they cannot sign in; the server runs.
    let mut server = rtms(
        &dir,
        &[
            "serve",
            "--listen",
            &listen,
            "--database-url",
            &db.url,
            "--disable-demo-accounts",
        ],
    );
    let up = wait_until(|| curl(&[&format!("http://127.0.0.1:{port}/readyz")]).1 == "ready");
    let (_, login) = curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"login":"doctor","password":"rtms-demo-password"}"#,
        &format!("http://127.0.0.1:{port}/api/v1/auth/login"),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    std::thread::sleep(Duration::from_millis(200));
    assert!(up, "not served with --disable-demo-accounts");
    assert!(
        !login.contains("token"),
        "a switched-off demo account signed in: {login}"
    );
    // Nothing left to refuse: a plain start serves.
    let mut server = rtms(
        &dir,
        &["serve", "--listen", &listen, "--database-url", &db.url],
    );
    let up = wait_until(|| curl(&[&format!("http://127.0.0.1:{port}/readyz")]).1 == "ready");
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(up, "a database without demo passwords was refused");
}

#[test]
fn demo_passwords_refuse_a_non_demo_start_sqlite() {
    demo_passwords_outside_demo_mode(rtms_store::BackendKind::Sqlite);
}

#[test]
fn demo_passwords_refuse_a_non_demo_start_postgres() {
    demo_passwords_outside_demo_mode(rtms_store::BackendKind::Postgres);
}

fn wait_for(seconds: u64, mut ok: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(seconds) {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The files being received at `dir`'s staging area: (name, size).
fn staged(dir: &Path) -> Vec<(String, u64)> {
    std::fs::read_dir(dir.join("rtms-data").join("uploads"))
        .map(|r| {
            r.filter_map(|e| e.ok())
                .filter_map(|e| {
                    Some((
                        e.file_name().to_string_lossy().into_owned(),
                        e.metadata().ok()?.len(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn login(base: &str, who: &str) -> String {
    let (_, out) = curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        &format!(r#"{{"login":"{who}","password":"rtms-demo-password"}}"#),
        &format!("{base}/api/v1/auth/login"),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    format!("Authorization: Bearer {}", v["token"].as_str().unwrap())
}

fn get_json(base: &str, auth: &str, path: &str) -> serde_json::Value {
    let (_, out) = curl(&["-H", auth, &format!("{base}{path}")]);
    serde_json::from_str(&out).unwrap_or(serde_json::Value::Null)
}

/// Issue 22's fault test, real processes: a 500 MB study on its way to the
/// federal level (on PostgreSQL) from a region (on SQLite). The sender is
/// killed (-9) mid-transfer and restarted: the upload goes on from where it
/// stopped, not from zero. The receiver is killed (-9) mid-transfer and
/// restarted: its dispatcher sees no half-made request. In the end the
/// federal level holds exactly one request with the file, SHA-256 equal.
#[test]
fn an_escalation_survives_kill_9_of_either_side() {
    use sha2::Digest;
    let fdir = temp_dir("kill-federal");
    let rdir = temp_dir("kill-region");
    let fdb = demo_database(rtms_store::BackendKind::Postgres);
    let fport = free_port();
    let fbase = format!("http://127.0.0.1:{fport}");
    let federal_args = [
        "serve",
        "--demo",
        "--level",
        "federal",
        "--listen",
        &format!("127.0.0.1:{fport}"),
        "--database-url",
        &fdb.url,
    ];
    let mut federal = rtms(&fdir, &federal_args);
    assert!(wait_until(
        || curl(&[&format!("{fbase}/readyz")]).1 == "ready"
    ));
    let token = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["admin", "token", "--login", "doctor", "--name", "Регион"])
        .args(["--database-url", &fdb.url])
        .current_dir(&fdir)
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();

    let seeded = Command::new(env!("CARGO_BIN_EXE_rtms"))
        .args(["admin", "orgs"])
        .current_dir(&rdir)
        .env_remove("RTMS_DATABASE_URL")
        .output()
        .unwrap();
    assert!(seeded.status.success());
    let rport = free_port();
    let rbase = format!("http://127.0.0.1:{rport}");
    let region_args = [
        "serve",
        "--demo",
        "--listen",
        &format!("127.0.0.1:{rport}"),
        "--federal-url",
        &fbase,
        "--federal-token",
        &token,
        "--federal-retry-cap-minutes",
        "1",
    ];
    let mut region = rtms(&rdir, &region_args);
    assert!(wait_until(
        || curl(&[&format!("{rbase}/readyz")]).1 == "ready"
    ));

    // A 500 MB study (a video clip here), every MiB different.
    let size: u64 = 500 << 20;
    let study = rdir.join("study.mp4");
    let mut hasher = sha2::Sha256::new();
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&study).unwrap());
        let mut block = vec![0u8; 1 << 20];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..(size >> 20) {
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            if i == 0 {
                block[..24].copy_from_slice(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2");
            }
            hasher.update(&block);
            f.write_all(&block).unwrap();
        }
    }
    let want = hex::encode(hasher.finalize());

    let dispatcher = login(&rbase, "dispatcher");
    let doctor = login(&rbase, "doctor");
    // One of the doctor's demo requests the dispatcher has in review; the
    // doctor attaches the study.
    let list = get_json(&rbase, &doctor, "/api/v1/consultations?status=in_review");
    let id = list["items"][0]["id"]
        .as_i64()
        .expect("a demo request in review");
    // The dispatcher attaches it (tus: create, then one streamed PATCH).
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (_, head) = curl(&[
        "-i",
        "-X",
        "POST",
        "-H",
        &doctor,
        "-H",
        "Tus-Resumable: 1.0.0",
        "-H",
        &format!("Upload-Length: {size}"),
        "-H",
        &format!(
            "Upload-Metadata: filename {},consultation {}",
            b64("КТ грудной клетки.mp4"),
            b64(&id.to_string())
        ),
        &format!("{rbase}/api/v1/uploads"),
    ]);
    let location = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("location:")
                .then(|| l[9..].trim().to_string())
        })
        .unwrap_or_else(|| panic!("an upload address: {head}"));
    let put = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "PATCH",
            "-H",
            &doctor,
        ])
        .args(["-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0"])
        .args(["-H", "Content-Type: application/offset+octet-stream", "-T"])
        .arg(&study)
        .arg(format!("{rbase}{location}"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&put.stdout), "204");

    let federal_dispatcher = login(&fbase, "dispatcher");
    let before = get_json(
        &fbase,
        &federal_dispatcher,
        "/api/v1/consultations?per_page=1",
    )["total"]
        .as_i64()
        .unwrap();
    let (_, escalated) = curl(&[
        "-H",
        &dispatcher,
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"reason_code":"no_specialist"}"#,
        &format!("{rbase}/api/v1/consultations/{id}/actions/escalate"),
    ]);
    assert!(escalated.contains("escalated"), "{escalated}");

    // The sender dies mid-transfer.
    let partial = |dir: &Path| staged(dir).into_iter().find(|(_, n)| *n > 0 && *n < size);
    assert!(
        wait_for(120, || partial(&fdir).is_some()),
        "the transfer starts"
    );
    region.kill().unwrap();
    region.wait().unwrap();
    let (upload, at_kill) = partial(&fdir).expect("a partial upload at the federal level");
    let mut region = rtms(&rdir, &region_args);
    // …and on restart resumes the same upload past where it was.
    assert!(
        wait_for(120, || staged(&fdir)
            .iter()
            .any(|(name, n)| *name == upload && *n > at_kill && *n < size)),
        "the transfer resumes from {at_kill} bytes"
    );
    assert_eq!(staged(&fdir).len(), 1, "one upload, not a second from zero");

    // The receiver dies mid-transfer.
    federal.kill().unwrap();
    federal.wait().unwrap();
    let mut federal = rtms(&fdir, &federal_args);
    assert!(wait_until(
        || curl(&[&format!("{fbase}/readyz")]).1 == "ready"
    ));
    let federal_dispatcher = login(&fbase, "dispatcher");
    let now = get_json(
        &fbase,
        &federal_dispatcher,
        "/api/v1/consultations?per_page=1",
    )["total"]
        .as_i64()
        .unwrap();
    assert_eq!(now, before, "no half-made request is visible");
    // The coordinator does not wait for the next attempt.
    let (_, _) = curl(&[
        "-X",
        "POST",
        "-H",
        &dispatcher,
        &format!("{rbase}/api/v1/consultations/{id}/escalation/resend"),
    ]);
    assert!(
        wait_for(300, || get_json(
            &fbase,
            &federal_dispatcher,
            "/api/v1/consultations?per_page=1"
        )["total"]
            .as_i64()
            == Some(before + 1)),
        "the case arrives"
    );
    let newest = get_json(
        &fbase,
        &federal_dispatcher,
        "/api/v1/consultations?status=submitted&per_page=200",
    );
    let fid = newest["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .max()
        .unwrap();
    let files = get_json(
        &fbase,
        &federal_dispatcher,
        &format!("/api/v1/consultations/{fid}/attachments"),
    );
    let state = get_json(
        &rbase,
        &dispatcher,
        &format!("/api/v1/consultations/{id}/escalation"),
    );
    let _ = region.kill();
    let _ = region.wait();
    let _ = federal.kill();
    let _ = federal.wait();
    let _ = std::fs::remove_dir_all(&fdir);
    let _ = std::fs::remove_dir_all(&rdir);
    let study_there = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["size"].as_u64() == Some(size))
        .unwrap_or_else(|| panic!("the study at the federal level: {files}"));
    assert_eq!(study_there["sha256"], want.as_str());
    assert_eq!(state["state"], "delivered", "{state}");
}
