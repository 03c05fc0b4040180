//! The shipped coturn configuration (`deploy/turnserver.conf`) refuses to relay
//! into private networks: a real coturn started with that file, a TURN client
//! holding a credential minted by `rtms_service::scheduling::video::turn_credential`,
//! and CreatePermission asked for a public, a private and a metadata address.

use std::io::Write;
use std::net::{Ipv4Addr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use rtms_service::scheduling::video::turn_credential;
use sha1::Sha1;

const MAGIC: u32 = 0x2112_A442;
const ALLOCATE: u16 = 0x0003;
const CREATE_PERMISSION: u16 = 0x0008;
const SECRET: &str = "turn-test-shared-secret";
const REALM: &str = "rtms-test";

struct Coturn(Child);

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The shipped file with what a test must change: loopback ports, no TLS, a known secret.
fn test_config(port: u16) -> String {
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/turnserver.conf"
    ))
    .expect("deploy/turnserver.conf is shipped");
    let replaced = [
        "listening-port",
        "tls-listening-port",
        "cert",
        "pkey",
        "static-auth-secret",
        "realm",
    ];
    let mut out: Vec<String> = shipped
        .lines()
        .filter(|l| {
            let key = l.split('=').next().unwrap_or("").trim();
            !replaced.contains(&key)
        })
        .map(str::to_owned)
        .collect();
    out.extend([
        format!("listening-port={port}"),
        "listening-ip=127.0.0.1".into(),
        "relay-ip=127.0.0.1".into(),
        "min-port=49152".into(),
        "max-port=65535".into(),
        "no-tls".into(),
        "no-dtls".into(),
        format!("static-auth-secret={SECRET}"),
        format!("realm={REALM}"),
        "log-file=stdout".into(),
    ]);
    out.join("\n") + "\n"
}

fn start_coturn() -> (Coturn, u16, tempfile::NamedTempFile) {
    let port = {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(test_config(port).as_bytes()).unwrap();
    let child = Command::new("turnserver")
        .arg("-c")
        .arg(file.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("coturn's turnserver is installed (.ci/run installs Debian's coturn)");
    (Coturn(child), port, file)
}

fn attr(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
    buf.extend(kind.to_be_bytes());
    buf.extend((value.len() as u16).to_be_bytes());
    buf.extend(value);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// A STUN message's attributes: (type, value).
type Attributes = Vec<(u16, Vec<u8>)>;

struct Auth {
    username: String,
    nonce: Vec<u8>,
    key: Vec<u8>,
}

fn message(kind: u16, attrs: &[(u16, Vec<u8>)], auth: Option<&Auth>) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in attrs {
        attr(&mut body, *k, v);
    }
    if let Some(a) = auth {
        attr(&mut body, 0x0006, a.username.as_bytes());
        attr(&mut body, 0x0014, REALM.as_bytes());
        attr(&mut body, 0x0015, &a.nonce);
    }
    let mut msg = Vec::new();
    msg.extend(kind.to_be_bytes());
    let with_integrity = body.len() + if auth.is_some() { 24 } else { 0 };
    msg.extend((with_integrity as u16).to_be_bytes());
    msg.extend(MAGIC.to_be_bytes());
    msg.extend(rand::random::<[u8; 12]>());
    msg.extend(&body);
    if let Some(a) = auth {
        let mut mac = Hmac::<Sha1>::new_from_slice(&a.key).unwrap();
        mac.update(&msg);
        let tag = mac.finalize().into_bytes();
        attr(&mut msg, 0x0008, &tag);
    }
    msg
}

/// The answer's class (true: success) and its attributes; None when nothing came back in time.
fn exchange(sock: &UdpSocket, msg: &[u8]) -> Option<(bool, Attributes)> {
    sock.send(msg).unwrap();
    let mut buf = [0u8; 2048];
    let n = sock.recv(&mut buf).ok()?;
    let reply = &buf[..n];
    assert_eq!(reply[8..20], msg[8..20], "the answer to our transaction");
    let kind = u16::from_be_bytes([reply[0], reply[1]]);
    let mut attrs = Vec::new();
    let mut at = 20;
    while at + 4 <= n {
        let k = u16::from_be_bytes([reply[at], reply[at + 1]]);
        let len = u16::from_be_bytes([reply[at + 2], reply[at + 3]]) as usize;
        attrs.push((k, reply[at + 4..at + 4 + len].to_vec()));
        at += 4 + len.div_ceil(4) * 4;
    }
    Some((kind & 0x0110 == 0x0100, attrs))
}

fn error_code(attrs: &Attributes) -> Option<u16> {
    attrs
        .iter()
        .find(|(k, _)| *k == 0x0009)
        .map(|(_, v)| u16::from(v[2] & 7) * 100 + u16::from(v[3]))
}

fn xor_peer(ip: Ipv4Addr) -> Vec<u8> {
    let mut v = vec![0, 1];
    v.extend((4000u16 ^ (MAGIC >> 16) as u16).to_be_bytes());
    v.extend((u32::from(ip) ^ MAGIC).to_be_bytes());
    v
}

#[test]
fn the_shipped_relay_refuses_private_networks() {
    let (_coturn, port, _config) = start_coturn();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();

    // coturn needs a moment to listen; the unauthenticated Allocate asks for a nonce.
    let udp = vec![17, 0, 0, 0];
    let first = message(ALLOCATE, &[(0x0019, udp.clone())], None);
    let challenge = (0..40).find_map(|_| {
        let answer = exchange(&sock, &first);
        if answer.is_none() {
            std::thread::sleep(Duration::from_millis(250));
        }
        answer
    });
    let (ok, attrs) = challenge.expect("coturn started with the shipped configuration");
    assert!(!ok);
    assert_eq!(error_code(&attrs), Some(401));
    let nonce = attrs.iter().find(|(k, _)| *k == 0x0015).unwrap().1.clone();

    // The credential rtms hands to a browser (coturn's REST scheme).
    let (username, password) =
        turn_credential(SECRET, 7, chrono::Utc::now() + chrono::Duration::hours(1));
    let key = Md5::digest(format!("{username}:{REALM}:{password}")).to_vec();
    let auth = Auth {
        username,
        nonce,
        key,
    };
    let (ok, attrs) =
        exchange(&sock, &message(ALLOCATE, &[(0x0019, udp)], Some(&auth))).expect("an answer");
    assert!(ok, "allocation refused: {:?}", error_code(&attrs));

    let permit = |ip: Ipv4Addr| {
        let (ok, attrs) = exchange(
            &sock,
            &message(CREATE_PERMISSION, &[(0x0012, xor_peer(ip))], Some(&auth)),
        )
        .expect("an answer");
        (ok, error_code(&attrs))
    };
    // A public address: a browser's peer may be anywhere on the internet.
    assert_eq!(permit(Ipv4Addr::new(93, 184, 216, 34)), (true, None));
    for private in [
        Ipv4Addr::new(10, 1, 2, 3),
        Ipv4Addr::new(172, 20, 0, 5),
        Ipv4Addr::new(192, 168, 1, 10),
        Ipv4Addr::new(169, 254, 169, 254),
        Ipv4Addr::new(100, 64, 0, 1),
        Ipv4Addr::new(127, 0, 0, 1),
    ] {
        assert_eq!(
            permit(private),
            (false, Some(403)),
            "the relay must refuse {private}"
        );
    }
}
