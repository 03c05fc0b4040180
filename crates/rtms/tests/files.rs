//! Attachments as a user meets them: a resumable upload that survives a
//! dropped connection and a server restart, refusals by content, who may see
//! what, DICOM studies rendered, and the same upload on an S3-compatible store.

mod common;

use base64::Engine;
use common::*;
use reqwest::{Method, StatusCode};
use rtms_service::attachments::files::FileStore;
use rtms_store::BackendKind;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Bytes that look like a PDF and are not all alike.
fn pdf_bytes(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    let mut x: u32 = 12345;
    while v.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        v.push((x >> 16) as u8);
    }
    v
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

struct Tus<'a> {
    app: &'a TestApp,
    token: &'a str,
}

impl Tus<'_> {
    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, format!("{}{}", self.app.base, path))
            .bearer_auth(self.token)
            .header("Tus-Resumable", "1.0.0")
            .header("Accept-Language", "ru")
    }

    /// Creates an upload; returns (status, location, body).
    async fn create(&self, consultation: i64, name: &str, len: u64) -> (StatusCode, String, Value) {
        self.create_for(consultation, None, name, len).await
    }

    /// Creates an upload for the request, or for one message of its thread.
    async fn create_for(
        &self,
        consultation: i64,
        message: Option<i64>,
        name: &str,
        len: u64,
    ) -> (StatusCode, String, Value) {
        let mut meta = format!(
            "filename {},consultation {}",
            b64(name),
            b64(&consultation.to_string())
        );
        if let Some(m) = message {
            meta.push_str(&format!(",message {}", b64(&m.to_string())));
        }
        let r = self
            .req(Method::POST, "/api/v1/uploads")
            .header("Upload-Length", len.to_string())
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = r.text().await.unwrap();
        (
            status,
            loc,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }

    async fn patch(&self, url: &str, offset: u64, bytes: Vec<u8>) -> reqwest::Response {
        self.req(Method::PATCH, url)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    /// (status, offset, attachment id)
    async fn head(&self, url: &str) -> (StatusCode, u64, Option<i64>) {
        let r = self.req(Method::HEAD, url).send().await.unwrap();
        let h = |k: &str| {
            r.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (
            r.status(),
            h("upload-offset").and_then(|v| v.parse().ok()).unwrap_or(0),
            h("attachment-id").and_then(|v| v.parse().ok()),
        )
    }

    /// The offset to resume from once the server has finished with a dropped
    /// request (it may still be writing what arrived): asked until it settles,
    /// as a client does after a 409.
    async fn settled_offset(&self, url: &str) -> u64 {
        let mut last = self.head(url).await.1;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let now = self.head(url).await.1;
            if now == last {
                return now;
            }
            last = now;
        }
    }

    /// Sends `bytes` from `offset` and then drops the connection mid-body,
    /// as a district link does. Returns once the client gave up.
    async fn patch_and_drop(&self, url: &str, offset: u64, bytes: Vec<u8>) {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes
            .chunks(64 << 10)
            .map(|c| Ok(c.to_vec()))
            .chain(std::iter::once(Err(std::io::Error::other("link down"))))
            .collect();
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let r = self
            .req(Method::PATCH, url)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(body)
            .send()
            .await;
        assert!(r.is_err() || !r.unwrap().status().is_success());
    }
}

fn attachment_id(r: &reqwest::Response) -> Option<i64> {
    r.headers()
        .get("attachment-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn offset_of(r: &reqwest::Response) -> u64 {
    r.headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

async fn attachments(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    app.get(token, &format!("/api/v1/consultations/{id}/attachments"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// Uploads in three pieces, the second cut off mid-way; then a restart in the
/// middle; the file is invisible until complete and arrives byte-exact.
async fn resumable_upload(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestApp::seeded_database(backend).await;
    let app = TestApp::start_with_files(db.clone(), FileStore::local(dir.path()).unwrap()).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    // Big enough that the resumed request, starting at an unaligned offset,
    // brings the file to alignment, writes a whole block with direct I/O and
    // ends with a short tail (4 MiB blocks in `files::BlockWriter`).
    let data = pdf_bytes(13 * 1024 * 1024 + 123);
    let (status, url, body) = tus.create(id, "Эхо-КГ 12.11.pdf", data.len() as u64).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(url.starts_with("/api/v1/uploads/"), "{url}");

    // First megabyte arrives; the next piece is cut off by the network.
    let r = tus.patch(&url, 0, data[..1 << 20].to_vec()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset_of(&r), 1 << 20);
    assert_eq!(attachment_id(&r), None);
    tus.patch_and_drop(&url, 1 << 20, data[1 << 20..3 << 20].to_vec())
        .await;
    let offset = tus.settled_offset(&url).await;
    let (status, _, done) = tus.head(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        (1 << 20..=3 << 20).contains(&offset),
        "what arrived before the drop is kept: {offset}"
    );
    assert_eq!(done, None);
    // Nothing is visible half-way.
    assert!(attachments(&app, &doctor, id).await.is_empty());

    // A wrong offset is refused and changes nothing.
    let r = tus.patch(&url, 7, vec![1, 2, 3]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // The server restarts; the upload resumes from what the disk holds.
    let db = app.stop().await;
    let app = TestApp::start_with_files(db, FileStore::local(dir.path()).unwrap()).await;
    let doctor = app.login("doctor").await;
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    let (_, offset_after, _) = tus.head(&url).await;
    assert_eq!(offset_after, offset);
    let r = tus
        .patch(&url, offset, data[offset as usize..].to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let aid = attachment_id(&r).expect("complete: attachment id");

    let list = attachments(&app, &doctor, id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["file_name"], "Эхо-КГ 12.11.pdf");
    assert_eq!(list[0]["kind"], "pdf");
    assert_eq!(list[0]["size"], data.len() as u64);
    assert_eq!(list[0]["sha256"], sha(&data));
    // HEAD after completion still answers, with the attachment.
    assert_eq!(tus.head(&url).await.2, Some(aid));

    // The download is byte-exact, and a range is a range.
    let r = app
        .client
        .get(format!("{}/api/v1/attachments/{aid}", app.base))
        .bearer_auth(&doctor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''%D0%AD"));
    assert_eq!(sha(&r.bytes().await.unwrap()), sha(&data));
    let r = app
        .client
        .get(format!("{}/api/v1/attachments/{aid}", app.base))
        .bearer_auth(&doctor)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.bytes().await.unwrap()[..], &data[100..200]);

    // A doctor of another hospital sees neither the list nor the file, and
    // cannot add files or touch this upload.
    let stranger = app.login("doctor2").await;
    let (status, _) = app
        .call(
            Some(&stranger),
            Method::GET,
            &format!("/api/v1/consultations/{id}/attachments"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            Some(&stranger),
            Method::GET,
            &format!("/api/v1/attachments/{aid}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other = Tus {
        app: &app,
        token: &stranger,
    };
    assert_eq!(other.create(id, "x.pdf", 10).await.0, StatusCode::NOT_FOUND);
    // The dispatcher sees the request's files (the read is audited).
    let dispatcher = app.login("dispatcher").await;
    app.act(&doctor, id, "submit", json!({})).await;
    assert_eq!(attachments(&app, &dispatcher, id).await.len(), 1);
    let auditor = app.login("auditor").await;
    let audit = app
        .get(&auditor, "/api/v1/audit?action=read_attachment")
        .await;
    assert!(
        audit.to_string().contains(&format!("attachment {aid}")),
        "{audit}"
    );
}
both_backends!(
    resumable_upload_survives_drop_and_restart,
    super::resumable_upload
);

/// Content decides, not the name; every refusal says why, in Russian.
async fn refusals(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    // An executable named like a PDF.
    let fake = b"MZ\x90\x00 this is not a scan".repeat(20);
    let (_, url, _) = tus.create(id, "снимок.pdf", fake.len() as u64).await;
    let r = tus.patch(&url, 0, fake.clone()).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["title"].as_str().unwrap().contains("не принимается"),
        "{body}"
    );
    assert_eq!(tus.head(&url).await.0, StatusCode::NOT_FOUND);
    assert!(attachments(&app, &doctor, id).await.is_empty());

    // A ZIP of holiday photos is not a study.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("notes.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, b"hello").unwrap();
    let zbytes = zip.finish().unwrap().into_inner();
    let (_, url, _) = tus.create(id, "study.zip", zbytes.len() as u64).await;
    let r = tus.patch(&url, 0, zbytes).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = r.json().await.unwrap();
    assert!(body["title"].as_str().unwrap().contains("DICOM"), "{body}");

    // Too large is refused before a byte is sent; empty likewise.
    let (status, _, body) = tus.create(id, "ct.zip", 5u64 << 40).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["title"].as_str().unwrap().contains("больше"));
    let (status, _, _) = tus.create(id, "empty.pdf", 0).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // More bytes than announced are refused.
    let (_, url, _) = tus.create(id, "a.pdf", 10).await;
    let r = tus.patch(&url, 0, pdf_bytes(20)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A real PNG is accepted by its content; a name without an extension
    // says nothing against it (a name that disagrees: `active_content`).
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    let (_, url, _) = tus.create(id, "photo", png.len() as u64).await;
    let r = tus.patch(&url, 0, png).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let list = attachments(&app, &doctor, id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["kind"], "png");
    assert_eq!(list[0]["content_type"], "image/png");
    // A tus client's discovery.
    let r = app
        .client
        .request(Method::OPTIONS, format!("{}/api/v1/uploads", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["tus-version"], "1.0.0");
    assert!(r.headers()["tus-extension"]
        .to_str()
        .unwrap()
        .contains("creation"));
}
both_backends!(refused_by_content_with_a_reason, super::refusals);

/// A CT series in a ZIP: indexed on arrival, frames rendered with presets.
async fn dicom_study(backend: BackendKind) {
    use rtms_dicom::fixtures::*;
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("ct.zip");
    let entries: Vec<(String, Vec<u8>)> = (1..=4)
        .map(|n| (format!("CT/IM{n:04}"), to_bytes(&ct_object(&Spec::ct(n)))))
        .collect();
    let refs: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    write_zip(&zip_path, &refs);
    let bytes = std::fs::read(&zip_path).unwrap();
    let (_, url, _) = tus.create(id, "КТ ОГК.zip", bytes.len() as u64).await;
    let r = tus.patch(&url, 0, bytes).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let aid = attachment_id(&r).unwrap();

    let study = app
        .get(&doctor, &format!("/api/v1/attachments/{aid}/study"))
        .await;
    let s = &study["index"]["studies"][0];
    assert_eq!(s["patient_name"], "Иванов Пётр", "{study}");
    assert_eq!(s["series"][0]["modality"], "CT");
    assert_eq!(s["series"][0]["instances"].as_array().unwrap().len(), 4);

    let frame = |preset: &'static str, instance: usize| {
        let app = &app;
        let doctor = doctor.clone();
        async move {
            let r = app
                .client
                .get(format!(
                    "{}/api/v1/attachments/{aid}/frame?instance={instance}&preset={preset}",
                    app.base
                ))
                .bearer_auth(&doctor)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(r.headers()["content-type"], "image/png");
            image::load_from_memory(&r.bytes().await.unwrap())
                .unwrap()
                .to_luma8()
        }
    };
    let lung = frame("lung", 0).await;
    assert_eq!((lung.width(), lung.height()), (WIDTH as u32, HEIGHT as u32));
    let (min, max) = lung
        .pixels()
        .fold((255u8, 0u8), |(a, b), p| (a.min(p[0]), b.max(p[0])));
    assert!(max > min + 100, "not blank: {min}..{max}");
    let bone = frame("bone", 0).await;
    assert_ne!(lung.as_raw(), bone.as_raw(), "presets differ");
    // Paging: the last image of the series renders too; past it, 404.
    frame("default", 3).await;
    let (status, _) = app
        .call(
            Some(&doctor),
            Method::GET,
            &format!("/api/v1/attachments/{aid}/frame?instance=9"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The viewer page shows the patient and the series.
    let cookie = app.ui_login("doctor").await;
    let page = app
        .page(
            Method::GET,
            &format!("/attachments/{aid}/view"),
            Some(&cookie),
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Иванов Пётр"));
    assert!(html.contains("data-preset=\"lung\""));
    let stranger = app.ui_login("doctor2").await;
    let page = app
        .page(
            Method::GET,
            &format!("/attachments/{aid}/view"),
            Some(&stranger),
        )
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}
both_backends!(dicom_study_viewer, super::dicom_study);

/// A hostile study (sequences nested 20,000 deep, which overflowed the
/// indexing thread's stack and aborted the whole server, this test with it):
/// the server keeps answering, the file is kept as failed and the list says
/// why, in the user's language. Indexed in this process (behind the
/// structural pre-scan), then in the child process `rtms serve` uses.
async fn hostile_dicom(backend: BackendKind) {
    use rtms_dicom::fixtures::hostile::nested_sequences;
    use rtms_service::attachments::dicom::DicomWorker;
    let db = TestApp::seeded_database(backend).await;
    for worker in [false, true] {
        let app = TestApp::start_custom(
            db.clone(),
            std::sync::Arc::new(rtms_service::SystemClock),
            move |svc| {
                if worker {
                    svc.with_dicom_worker(DicomWorker::rtms(env!("CARGO_BIN_EXE_rtms").into()))
                } else {
                    svc
                }
            },
        )
        .await;
        let doctor = app.login("doctor").await;
        let id = app.create(&doctor, complete_request("planned")).await;
        let tus = Tus {
            app: &app,
            token: &doctor,
        };
        let bytes = nested_sequences(20_000);
        let (_, url, _) = tus.create(id, "nested.dcm", bytes.len() as u64).await;
        let r = tus.patch(&url, 0, bytes).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "worker {worker}");
        let aid = attachment_id(&r).unwrap();
        // Still serving.
        let request = app
            .get(&doctor, &format!("/api/v1/consultations/{id}"))
            .await;
        assert_eq!(request["id"], id);
        let list = attachments(&app, &doctor, id).await;
        let file = list.iter().find(|a| a["id"] == aid).unwrap();
        assert_eq!(file["kind"], "dicom");
        assert_eq!(file["dicom_error"], "nesting_too_deep", "{file}");
        // The request page's file list says why, in Russian and in English.
        let cookie = app.ui_login("doctor").await;
        let html = app
            .page(Method::GET, &format!("/requests/{id}"), Some(&cookie))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Исследование не удалось прочитать: вложенность последовательностей глубже 32 уровней."),
            "{html}"
        );
        let study = app
            .get(&doctor, &format!("/api/v1/attachments/{aid}/study"))
            .await;
        assert_eq!(study["error_code"], "nesting_too_deep", "{study}");
        app.stop().await;
    }
}
both_backends!(hostile_dicom_is_marked_failed, super::hostile_dicom);

/// The same resumable upload on an S3-compatible server (moto, from PyPI,
/// started here on a free port).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_to_s3_compatible_store() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(
        std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server (pip install 'moto[server]') must be on PATH"),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if http.get(&endpoint).send().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "moto_server did not start");
    let r = http
        .put(format!("{endpoint}/rtms-files"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "bucket: {}", r.status());

    let staging = tempfile::tempdir().unwrap();
    let store = FileStore::s3(
        "rtms-files",
        &rtms_service::attachments::files::S3Options {
            endpoint: Some(endpoint.clone()),
            region: "us-east-1".into(),
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
        },
        staging.path(),
    )
    .unwrap();
    let db = TestApp::seeded_database(BackendKind::Sqlite).await;
    let app = TestApp::start_with_files(db, store).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    // Larger than one multipart part, so the multipart path is taken.
    let data = pdf_bytes(12 * 1024 * 1024 + 7);
    let (_, url, _) = tus.create(id, "выписка.pdf", data.len() as u64).await;
    tus.patch_and_drop(&url, 0, data[..4 << 20].to_vec()).await;
    let offset = tus.settled_offset(&url).await;
    let r = tus
        .patch(&url, offset, data[offset as usize..].to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let aid = attachment_id(&r).unwrap();
    // The object is in the bucket, and the staging copy is gone.
    let listing = http
        .get(format!("{endpoint}/rtms-files?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains("attachments/"), "{listing}");
    assert_eq!(
        std::fs::read_dir(staging.path().join("uploads"))
            .unwrap()
            .count(),
        0
    );
    let r = app
        .client
        .get(format!("{}/api/v1/attachments/{aid}", app.base))
        .bearer_auth(&doctor)
        .send()
        .await
        .unwrap();
    assert_eq!(sha(&r.bytes().await.unwrap()), sha(&data));
    app.stop().await;
}

/// A consultant asks a question and attaches a file to it: the file belongs to
/// that message, the doctor is told, and the page shows it under the message.
/// Nobody attaches to somebody else's message.
async fn message_files(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let dispatcher = app.login("dispatcher").await;
    let consultant = app.login("consultant").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    app.act(&doctor, id, "submit", json!({})).await;
    app.act(&dispatcher, id, "take", json!({})).await;
    let me = app.get(&consultant, "/api/v1/me").await["id"]
        .as_i64()
        .unwrap();
    app.act(&dispatcher, id, "assign", json!({"consultant_id": me}))
        .await;
    app.act(&consultant, id, "accept", json!({})).await;
    app.act(&consultant, id, "start", json!({})).await;
    let (s, msg) = app
        .call(
            Some(&consultant),
            Method::POST,
            &format!("/api/v1/consultations/{id}/messages"),
            Some(json!({"body": "Пришлите, пожалуйста, ЭКГ в динамике"})),
        )
        .await;
    assert!(s.is_success(), "{msg}");
    let message = msg["id"].as_i64().unwrap();

    let tus = Tus {
        app: &app,
        token: &consultant,
    };
    let pdf = pdf_bytes(3000);
    let (s, url, body) = tus
        .create_for(id, Some(message), "образец.pdf", pdf.len() as u64)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let r = tus.patch(&url, 0, pdf.clone()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let list = attachments(&app, &doctor, id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["message_id"], message);
    let notes = app.get(&doctor, "/api/v1/notifications").await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["consultation_id"] == id && n["kind"] == "attachment"),
        "the doctor hears of the file: {notes}"
    );
    let cookie = app.ui_login("doctor").await;
    let html = app
        .page(Method::GET, &format!("/requests/{id}"), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let thread = &html[html.find("id=\"thread\"").unwrap()..];
    assert!(thread.contains("образец.pdf"), "under the message");

    // The doctor cannot hang a file on the consultant's message.
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    let (s, _, body) = tus
        .create_for(id, Some(message), "x.pdf", pdf.len() as u64)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
both_backends!(a_file_for_a_message, super::message_files);

/// A DOCX as Word writes it; with `macros`, a VBA project inside (a .docm
/// renamed to .docx).
fn docx_bytes(macros: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let mut part = |name: &str, body: &[u8]| {
        zip.start_file(name, opts).unwrap();
        std::io::Write::write_all(&mut zip, body).unwrap();
    };
    part("[Content_Types].xml", b"<Types/>");
    part("word/document.xml", b"<w:document/>");
    if macros {
        part("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 Attribute VB_Name");
    }
    zip.finish().unwrap().into_inner()
}

/// Active content is refused by its name before a byte is sent, and by its
/// content when it arrives; a name must agree with the content; downloads
/// are always saved, never shown in the site's origin, under a safe name.
async fn active_content(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    for name in [
        "выписка.hta",
        "report.HTML",
        "схема.svg",
        "protocol.docm",
        "table.xlsm",
        "run.js",
        "снимок.pdf.exe",
    ] {
        let (status, url, body) = tus.create(id, name, 1000).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}: {body}");
        assert!(url.is_empty(), "{name}: no upload created");
        assert!(
            body["title"].as_str().unwrap().contains("макрос"),
            "{name}: {body}"
        );
    }
    // A PNG called a JPEG: the name disagrees with the content.
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    let (_, url, _) = tus.create(id, "photo.jpeg", png.len() as u64).await;
    let r = tus.patch(&url, 0, png.clone()).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["title"].as_str().unwrap().contains("Расширение"),
        "{body}"
    );
    // A Word document with macros, named .docx, is refused by its content.
    let docm = docx_bytes(true);
    let (_, url, _) = tus.create(id, "заключение.docx", docm.len() as u64).await;
    let r = tus.patch(&url, 0, docm).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["title"].as_str().unwrap().contains("макросы"),
        "{body}"
    );
    assert!(attachments(&app, &doctor, id).await.is_empty());
    // The same document without macros is taken.
    let docx = docx_bytes(false);
    let (_, url, _) = tus.create(id, "заключение.docx", docx.len() as u64).await;
    let r = tus.patch(&url, 0, docx).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // A PNG under a name with quotes, a direction override and a path.
    let (_, url, _) = tus
        .create(id, "C:\\scans\\\"снимок\"\u{202E}gnp.png", png.len() as u64)
        .await;
    let r = tus.patch(&url, 0, png.clone()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let aid = attachment_id(&r).unwrap();
    let list = attachments(&app, &doctor, id).await;
    let shown = list.iter().find(|a| a["id"] == aid).unwrap();
    assert_eq!(shown["file_name"], "\"снимок\"gnp.png", "{shown}");
    let r = app
        .client
        .get(format!("{}/api/v1/attachments/{aid}", app.base))
        .bearer_auth(&doctor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    let disposition = h["content-disposition"].to_str().unwrap();
    assert_eq!(
        disposition,
        "attachment; filename=\"________gnp.png\"; filename*=UTF-8''_%D1%81%D0%BD%D0%B8%D0%BC%D0%BE%D0%BA_gnp.png",
        "{disposition}"
    );
    assert_eq!(&r.bytes().await.unwrap()[..], &png[..]);
}
both_backends!(active_content_refused, super::active_content);

/// The administrator's quotas: a user's and an organization's files plus
/// their uploads in progress; an upload past either is refused when it is
/// created, before a byte is sent, saying which quota and how much is used.
async fn quotas(backend: BackendKind) {
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let admin = app.login("admin").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    let set = |org: i64, user: i64| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let mut s = app.get(&admin, "/api/v1/admin/settings").await;
            s["upload_quota_org_mb"] = json!(org);
            s["upload_quota_user_mb"] = json!(user);
            let (status, body) = app
                .call(Some(&admin), Method::PUT, "/api/v1/admin/settings", Some(s))
                .await;
            assert!(status.is_success(), "{body}");
        }
    };
    // The defaults are named and shown.
    let s = app.get(&admin, "/api/v1/admin/settings").await;
    assert_eq!(s["upload_quota_org_mb"], 1 << 20);
    assert_eq!(s["upload_quota_user_mb"], 100 << 10);

    // A user's quota of 3 MB: 2 MB are stored, 2 MB more are refused.
    set(0, 3).await;
    let data = pdf_bytes(2 << 20);
    let (status, url, body) = tus.create(id, "первый.pdf", data.len() as u64).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        tus.patch(&url, 0, data).await.status(),
        StatusCode::NO_CONTENT
    );
    let (status, url, body) = tus.create(id, "второй.pdf", 2 << 20).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(url.is_empty());
    let title = body["title"].as_str().unwrap();
    assert!(title.contains("ваша квота"), "{title}");
    assert!(
        title.contains("3 МБ, уже занято 2 МБ, файл 2 МБ"),
        "{title}"
    );
    // An upload still in progress counts at its announced length.
    let (status, _, body) = tus.create(id, "третий.pdf", 1 << 20).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = tus.create(id, "четвёртый.pdf", 1).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    // The organization's quota counts what all its staff hold (the head of
    // the same hospital here has nothing of their own).
    set(3, 0).await;
    app.act(&doctor, id, "submit", json!({})).await;
    let head = app.login("head").await;
    let other = Tus {
        app: &app,
        token: &head,
    };
    let (status, _, body) = other.create(id, "пятый.pdf", 1 << 20).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["title"]
            .as_str()
            .unwrap()
            .contains("квота загрузок организации"),
        "{body}"
    );
    // Without quotas it is taken; a nonsense quota is refused.
    set(0, 0).await;
    assert_eq!(
        other.create(id, "пятый.pdf", 1 << 20).await.0,
        StatusCode::CREATED
    );
    let mut s = app.get(&admin, "/api/v1/admin/settings").await;
    s["upload_quota_user_mb"] = json!(-5);
    let (status, _) = app
        .call(Some(&admin), Method::PUT, "/api/v1/admin/settings", Some(s))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
both_backends!(upload_quotas_before_the_bytes, super::quotas);

/// Reads of DICOM frames and of a request's file list are in the audit log:
/// one entry per series viewed (not per frame), naming it.
async fn reads_audited(backend: BackendKind) {
    use rtms_dicom::fixtures::*;
    let app = TestApp::spawn(backend).await;
    let doctor = app.login("doctor").await;
    let auditor = app.login("auditor").await;
    let id = app.create(&doctor, complete_request("planned")).await;
    let tus = Tus {
        app: &app,
        token: &doctor,
    };
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("ct.zip");
    let entries: Vec<(String, Vec<u8>)> = (1..=3)
        .map(|n| (format!("CT/IM{n:04}"), to_bytes(&ct_object(&Spec::ct(n)))))
        .collect();
    let refs: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    write_zip(&zip_path, &refs);
    let bytes = std::fs::read(&zip_path).unwrap();
    let (_, url, _) = tus.create(id, "КТ.zip", bytes.len() as u64).await;
    let aid = attachment_id(&tus.patch(&url, 0, bytes).await).unwrap();
    let audit = |query: String| {
        let app = &app;
        let auditor = auditor.clone();
        async move {
            app.get(&auditor, &format!("/api/v1/audit?{query}")).await["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    // Paging through the series: three frames, one entry.
    for instance in 0..3 {
        let r = app
            .client
            .get(format!(
                "{}/api/v1/attachments/{aid}/frame?instance={instance}",
                app.base
            ))
            .bearer_auth(&doctor)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
    let reads = audit(format!(
        "action=read&object_type=attachment&object_id={aid}"
    ))
    .await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    let details: serde_json::Value =
        serde_json::from_str(reads[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["attachment"], aid, "{details}");
    assert_eq!(
        (details["study"].as_i64(), details["series"].as_i64()),
        (Some(0), Some(0))
    );
    assert!(
        details["title"].as_str().unwrap().starts_with("CT"),
        "{details}"
    );
    // The auditor reads it as a sentence, the series counted from one.
    let text = reads[0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("снимки файла № {aid}"))
            && text.contains("исследование 1, серия 1 CT"),
        "{text}"
    );
    assert_eq!(reads[0]["login"], "doctor");
    // The list of files is a read of the request's files.
    attachments(&app, &doctor, id).await;
    let lists = audit(format!(
        "action=read&object_type=attachment_list&object_id={id}"
    ))
    .await;
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert!(
        lists[0]["details"]
            .as_str()
            .unwrap()
            .contains(&format!("[{aid}]")),
        "{lists:?}"
    );
}
both_backends!(frames_and_file_lists_audited, super::reads_audited);
