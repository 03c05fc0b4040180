//! FHIR rest-hook Subscriptions, made safe to offer to any signed-in system:
//! the server only ever calls origins an administrator allowed, never an
//! address inside the network (checked on the addresses it connects to, so a
//! name that resolves somewhere else later is refused too), follows no
//! redirect, sends no header the caller chose and no patient data, and keeps
//! one delivery per subscription in flight whatever the number of changes.
//! See docs/SECURITY.md, "FHIR subscriptions (outbound calls)".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, SecondsFormat, Utc};
use reqwest::Url;
use rtms_domain::{FieldError, Lang};
use serde_json::{json, Value};

use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

/// Time allowed to open the connection to a subscriber's endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for a whole delivery (connect, send, the answer's status).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most requests one notification names; more go in the next delivery.
pub const MAX_EVENTS_PER_DELIVERY: i64 = 100;
/// Failed deliveries in a row after which a subscription is switched off.
pub const MAX_DELIVERY_FAILURES: i32 = 10;
/// Active subscriptions one user may hold.
pub const MAX_SUBSCRIPTIONS_PER_USER: i64 = 10;
/// The longest endpoint address accepted, in bytes.
pub const MAX_ENDPOINT_LEN: usize = 2048;
/// The longest `reason` kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// How long a worker holds a subscription it delivers to.
const LEASE_SECONDS: i64 = 60;

/// What the owner reads in `Subscription.error`: generic words, never the
/// answer's body or the network's own error text.
pub const ERR_CONNECT: &str = "could not connect to the endpoint";
pub const ERR_TIMEOUT: &str = "the endpoint did not answer in time";
pub const ERR_ADDRESS: &str = "the endpoint's address is not allowed";
pub const ERR_NOT_ALLOWED: &str = "the endpoint is no longer allowed by the administrator";
pub use crate::directory::admin::ERR_OWNER;
pub const ERR_GAVE_UP: &str = "switched off after repeated failed deliveries";

/// Where subscriptions may send notifications: set by whoever runs the
/// server (`--fhir-subscription-origins`, `--fhir-subscription-allow-private`).
#[derive(Debug, Clone)]
pub struct HookPolicy {
    /// Allowed origins (`https://mis.example:443`); empty: no subscriptions.
    pub origins: Vec<Origin>,
    /// Whether endpoints inside the network (loopback, private, link-local,
    /// CGNAT…) may be called. Off unless explicitly set.
    pub allow_private: bool,
    pub connect_timeout: Duration,
    pub timeout: Duration,
}

impl Default for HookPolicy {
    fn default() -> Self {
        HookPolicy {
            origins: Vec::new(),
            allow_private: false,
            connect_timeout: CONNECT_TIMEOUT,
            timeout: DELIVERY_TIMEOUT,
        }
    }
}

/// A scheme, host and port: what the allowlist holds and endpoints are matched by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

impl Origin {
    fn of(url: &Url) -> Option<Origin> {
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        Some(Origin {
            scheme: scheme.to_string(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// Parses an allowlist entry: `scheme://host[:port]`, nothing more.
    pub fn parse(text: &str) -> Result<Origin, String> {
        let text = text.trim();
        let url = Url::parse(text).map_err(|e| format!("{text}: {e}"))?;
        if !url.username().is_empty()
            || url.password().is_some()
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || text.trim_end_matches('/').matches('/').count() != 2
        {
            return Err(format!(
                "{text}: an origin is scheme://host[:port], without a path"
            ));
        }
        Origin::of(&url).ok_or_else(|| format!("{text}: only http and https origins"))
    }
}

impl HookPolicy {
    /// The policy from the configuration's list of origins.
    pub fn from_origins(origins: &[String], allow_private: bool) -> Result<HookPolicy, String> {
        Ok(HookPolicy {
            origins: origins
                .iter()
                .filter(|o| !o.trim().is_empty())
                .map(|o| Origin::parse(o))
                .collect::<Result<_, _>>()?,
            allow_private,
            ..HookPolicy::default()
        })
    }

    /// An endpoint a subscription may name: its code when it may not.
    pub fn check_endpoint(&self, endpoint: &str) -> Result<Url, &'static str> {
        if endpoint.len() > MAX_ENDPOINT_LEN {
            return Err("fhir_endpoint_form");
        }
        let url = Url::parse(endpoint).map_err(|_| "fhir_channel")?;
        let origin = Origin::of(&url).ok_or("fhir_channel")?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err("fhir_endpoint_form");
        }
        if !self.origins.contains(&origin) {
            return Err("fhir_endpoint_not_allowed");
        }
        if !self.allow_private {
            let host = origin.host.trim_start_matches('[').trim_end_matches(']');
            if host.parse::<IpAddr>().is_ok_and(|ip| !is_public(ip)) {
                return Err("fhir_endpoint_private");
            }
        }
        Ok(url)
    }
}

/// Whether an address is on the public internet: not loopback, private
/// (RFC 1918, fc00::/7), link-local (169.254/16 with the cloud metadata
/// address, fe80::/10), unspecified, multicast, broadcast, CGNAT (100.64/10),
/// reserved or documentation ranges, nor one of those inside IPv6 (mapped,
/// compatible, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [x, y, z, _] = a.octets();
    !(x == 0                                   // "this network", 0.0.0.0
        || x == 10                             // private
        || x == 127                            // loopback
        || (x == 100 && (64..128).contains(&y)) // CGNAT 100.64/10
        || (x == 169 && y == 254)              // link-local, cloud metadata
        || (x == 172 && (16..32).contains(&y)) // private
        || (x == 192 && y == 168)              // private
        || (x == 192 && y == 0 && z == 0)      // IETF protocol assignments
        || (x == 192 && y == 0 && z == 2)      // documentation
        || (x == 198 && (18..20).contains(&y)) // benchmarking
        || (x == 198 && y == 51 && z == 100)   // documentation
        || (x == 203 && y == 0 && z == 113)    // documentation
        || x >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    let embedded_v4 =
        || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if a.is_unspecified() || a.is_loopback() {
        return false;
    }
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        return is_public_v4(embedded_v4());
    }
    // NAT64 64:ff9b::/96 reaches the IPv4 address inside.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4());
    }
    // 6to4 2002:a.b.c.d::/48.
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return is_public_v4(v4);
    }
    !((s[0] & 0xfe00) == 0xfc00        // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80   // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0   // site-local (deprecated) fec0::/10
        || (s[0] & 0xff00) == 0xff00   // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])) // discard-only 100::/64
}

/// The resolver every delivery connects through: the name is resolved here
/// and only public addresses are handed to the connector, so the address
/// checked is the address connected to (a name that answers differently the
/// second time gains nothing).
struct PublicOnly;

#[derive(Debug)]
struct Blocked;

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the endpoint resolves to no public address")
    }
}

impl std::error::Error for Blocked {}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(Blocked) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why a delivery failed, in words fit for the subscription's owner.
fn generic(e: &reqwest::Error) -> &'static str {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if s.is::<Blocked>() {
            return ERR_ADDRESS;
        }
        source = s.source();
    }
    if e.is_timeout() {
        ERR_TIMEOUT
    } else {
        ERR_CONNECT
    }
}

impl HookPolicy {
    /// POSTs a notification: no redirect followed, no proxy, no header but
    /// the content type, the answer's body never read. Err: generic words.
    fn post(&self, endpoint: &str, body: String) -> Result<(), String> {
        let url = self.check_endpoint(endpoint).map_err(|code| {
            if code == "fhir_endpoint_private" {
                ERR_ADDRESS.to_string()
            } else {
                ERR_NOT_ALLOWED.to_string()
            }
        })?;
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent("RTMS FHIR subscription");
        if !self.allow_private {
            client = client.dns_resolver(Arc::new(PublicOnly));
        }
        let client = client.build().map_err(|e| e.to_string())?;
        crate::platform::outbound::block_on(async move {
            let resp = client
                .post(url)
                .header("content-type", "application/fhir+json; charset=utf-8")
                .body(body)
                .send()
                .await
                .map_err(|e| {
                    tracing::info!(error = %e, "FHIR notification not delivered");
                    generic(&e).to_string()
                })?;
            let status = resp.status();
            drop(resp);
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("the endpoint answered HTTP {}", status.as_u16()))
            }
        })
    }
}

/// `Task` or `Task?status=a,b`: what a subscription asks for.
pub(crate) fn criteria_status(criteria: &str) -> Result<Option<Vec<String>>, ()> {
    let rest = criteria.strip_prefix("Task").ok_or(())?;
    if rest.is_empty() {
        return Ok(None);
    }
    let query = rest.strip_prefix('?').ok_or(())?;
    let mut statuses = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("status", v)) => {
                statuses = Some(v.split(',').map(|s| s.trim().to_string()).collect())
            }
            _ => return Err(()),
        }
    }
    Ok(statuses)
}

/// Notes a change of a request for every active subscription (in the
/// transaction of the change, so none is lost): one row per subscription
/// and request, however many changes come before the delivery.
pub fn queue_notifications(
    conn: &mut rtms_store::DbConn,
    consultation_id: i64,
    now: NaiveDateTime,
) -> Result<(), rtms_store::StoreError> {
    for sid in rtms_store::fhir::active_ids(conn)? {
        rtms_store::fhir::note_change(conn, sid, consultation_id, now)?;
    }
    Ok(())
}

/// A change hook (`crate::CHANGE_HOOKS`): every change to a request is news
/// for the subscriptions.
pub(crate) fn on_change(
    _svc: &Services,
    conn: &mut rtms_store::DbConn,
    change: &crate::lifecycle::Change,
) -> Result<(), rtms_store::StoreError> {
    queue_notifications(conn, change.consultation, change.at)
}

/// Whether a user may hold subscriptions: active, with a live API token
/// carrying the `fhir` scope (the hospital system's credential).
fn owner_may_subscribe(
    conn: &mut rtms_store::DbConn,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<bool, rtms_store::StoreError> {
    let user = rtms_store::repo::user(conn, user_id)?;
    if !user.active {
        return Ok(false);
    }
    Ok(rtms_store::repo::tokens_of(conn, user_id, "api", now)?
        .iter()
        .any(|t| t.scopes.split(',').any(|s| s.trim() == "fhir")))
}

/// The notification: a FHIR `history` Bundle whose first entry is the
/// subscription's status (as Parameters) and whose other entries name the
/// changed Tasks without content. The receiver reads them with its own token.
fn notification(
    sub: &rtms_store::fhir::Subscription,
    tasks: &[i64],
    now: chrono::DateTime<Utc>,
) -> Value {
    let mut params = vec![
        json!({"name": "subscription", "valueReference": {"reference": format!("Subscription/{}", sub.id)}}),
        json!({"name": "status", "valueCode": "active"}),
        json!({"name": "type", "valueCode": "event-notification"}),
    ];
    for id in tasks {
        params.push(json!({"name": "notification-event", "part": [
            {"name": "focus", "valueReference": {"reference": format!("Task/{id}")}}
        ]}));
    }
    let mut entries = vec![json!({
        "resource": {"resourceType": "Parameters", "parameter": params},
        "request": {"method": "GET", "url": format!("Subscription/{}/$status", sub.id)},
        "response": {"status": "200"},
    })];
    for id in tasks {
        entries.push(json!({
            "request": {"method": "PUT", "url": format!("Task/{id}")},
            "response": {"status": "200"},
        }));
    }
    json!({
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "entry": entries,
    })
}

impl Services {
    pub fn with_fhir_hooks(mut self, policy: HookPolicy) -> Self {
        self.fhir_hooks = Arc::new(policy);
        self
    }

    /// Registers an R4 rest-hook Subscription (`criteria` `Task` or
    /// `Task?status=…`, `channel.type` `rest-hook`, an endpoint whose origin
    /// the administrator allowed, no `channel.header`). Notifications name
    /// only requests the subscriber may read, and carry no content.
    pub fn fhir_subscribe(&self, actor: &Actor, s: &Value) -> SResult<i64> {
        if !actor.has_clinical_role() {
            return Err(ServiceError::Forbidden);
        }
        let criteria = s["criteria"].as_str().unwrap_or("").trim().to_string();
        let endpoint = s["channel"]["endpoint"]
            .as_str()
            .unwrap_or("")
            .trim()
            .to_string();
        let mut errors = Vec::new();
        if s["resourceType"] != "Subscription" {
            errors.push(FieldError::new("resourceType", "fhir_subscription"));
        }
        if criteria_status(&criteria).is_err() {
            errors.push(FieldError::new("criteria", "fhir_criteria"));
        }
        if s["channel"]["type"] != "rest-hook" {
            errors.push(FieldError::new("channel", "fhir_channel"));
        } else if let Err(code) = self.fhir_hooks.check_endpoint(&endpoint) {
            errors.push(FieldError::new("channel.endpoint", code));
        }
        if s["channel"]["header"]
            .as_array()
            .is_some_and(|h| !h.is_empty())
        {
            errors.push(FieldError::new("channel.header", "fhir_channel_header"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let reason: String = s["reason"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(MAX_REASON_CHARS)
            .collect();
        let now = self.clock.now().naive_utc();
        self.db.write(|conn| {
            if !owner_may_subscribe(conn, actor.user.id, now)? {
                return Err(ServiceError::field("channel", "fhir_subscription_owner"));
            }
            if rtms_store::fhir::active_count_of(conn, actor.user.id)? >= MAX_SUBSCRIPTIONS_PER_USER
            {
                return Err(ServiceError::field(
                    "channel",
                    "fhir_too_many_subscriptions",
                ));
            }
            let id =
                rtms_store::fhir::insert(conn, actor.user.id, &criteria, &endpoint, &reason, now)?;
            self.audit_in(
                conn,
                actor,
                None,
                "fhir_subscribe",
                ("fhir_subscription", &id.to_string()),
                &format!("{criteria} -> {endpoint}"),
            )?;
            Ok(id)
        })
    }

    /// A subscription as a FHIR resource (its owner only).
    pub fn fhir_subscription(&self, actor: &Actor, id: i64) -> SResult<Value> {
        let mut conn = self.db.conn()?;
        let s = rtms_store::fhir::get(&mut conn, id)?;
        if s.user_id != actor.user.id {
            return Err(ServiceError::NotFound);
        }
        let reason = if s.reason.is_empty() {
            rtms_i18n::tr(Lang::Ru, "fhir-subscription-reason")
        } else {
            s.reason.clone()
        };
        let mut r = json!({
            "resourceType": "Subscription",
            "id": s.id.to_string(),
            "status": if !s.active { "off" } else if s.last_error.is_empty() { "active" } else { "error" },
            "reason": reason,
            "criteria": s.criteria,
            "channel": {"type": "rest-hook", "endpoint": s.endpoint, "payload": "application/fhir+json"},
        });
        if !s.last_error.is_empty() {
            r["error"] = json!(s.last_error);
        }
        Ok(r)
    }

    /// Deletes a subscription (its owner only; anyone else is told it does
    /// not exist). Nothing more is sent to it.
    pub fn fhir_unsubscribe(&self, actor: &Actor, id: i64) -> SResult<()> {
        self.db.write(|conn| {
            let s = rtms_store::fhir::get(conn, id)?;
            if s.user_id != actor.user.id {
                return Err(ServiceError::NotFound);
            }
            rtms_store::fhir::delete(conn, id)?;
            self.audit_in(
                conn,
                actor,
                None,
                "fhir_unsubscribe",
                ("fhir_subscription", &id.to_string()),
                &s.endpoint,
            )
        })
    }

    /// Delivers due notifications, one subscription at a time, until none is
    /// due (or `max` were tried); returns how many were tried. This runs
    /// apart from `run_jobs`, so a slow endpoint never holds up e-mail or
    /// escalations; each delivery is bounded by the policy's timeouts.
    pub fn run_deliveries(&self, max: usize) -> SResult<usize> {
        let mut ran = 0;
        while ran < max {
            let now = self.clock.now().naive_utc();
            let Some(sub) = self.db.write(|c| {
                rtms_store::fhir::claim_due(c, now, chrono::Duration::seconds(LEASE_SECONDS))
            })?
            else {
                break;
            };
            self.deliver_to(&sub)?;
            ran += 1;
        }
        Ok(ran)
    }

    /// One delivery: the changes noted for a subscription, those the owner
    /// may see and asked for, named in one notification.
    fn deliver_to(&self, sub: &rtms_store::fhir::Subscription) -> SResult<()> {
        let now = self.clock.now();
        let naive = now.naive_utc();
        if !self
            .db
            .read(|c| owner_may_subscribe(c, sub.user_id, naive))?
        {
            return Ok(self
                .db
                .write(|c| rtms_store::fhir::switch_off(c, sub.id, ERR_OWNER))?);
        }
        if self.fhir_hooks.check_endpoint(&sub.endpoint) == Err("fhir_endpoint_not_allowed") {
            return Ok(self
                .db
                .write(|c| rtms_store::fhir::switch_off(c, sub.id, ERR_NOT_ALLOWED))?);
        }
        let changes = self
            .db
            .read(|c| rtms_store::fhir::changes(c, sub.id, MAX_EVENTS_PER_DELIVERY))?;
        let actor = {
            let mut conn = self.db.conn()?;
            Actor::load(&mut conn, sub.user_id)?
        };
        let wanted = criteria_status(&sub.criteria).ok().flatten();
        let mut tasks = Vec::new();
        for (cid, _) in &changes {
            let v = match self.consultation(&actor, *cid, Lang::Ru) {
                Ok(v) => v,
                // Not this subscriber's request: nothing to tell them.
                Err(ServiceError::NotFound | ServiceError::Forbidden) => continue,
                Err(e) => return Err(e),
            };
            let status = crate::exchange::fhir::task_status(v.status);
            if wanted
                .as_ref()
                .is_none_or(|w| w.iter().any(|s| s == status))
            {
                tasks.push(*cid);
            }
        }
        let sent = if tasks.is_empty() {
            Ok(())
        } else {
            self.fhir_hooks
                .post(&sub.endpoint, notification(sub, &tasks, now).to_string())
        };
        let after = self.clock.now().naive_utc();
        self.db.write(|c| match &sent {
            Ok(()) => {
                rtms_store::fhir::forget_changes(c, sub.id, &changes)?;
                rtms_store::fhir::finish(c, sub.id, "", 0, after)
            }
            Err(error) => {
                let failures = sub.failures + 1;
                if failures >= MAX_DELIVERY_FAILURES {
                    return rtms_store::fhir::switch_off(c, sub.id, ERR_GAVE_UP);
                }
                let next = after + crate::platform::jobs::backoff(failures);
                rtms_store::fhir::finish(c, sub.id, error, failures, next)
            }
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn inner_addresses_are_not_public() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
        ] {
            assert!(!is_public(ip(s)), "{s}");
        }
        for s in [
            "8.8.8.8",
            "95.173.136.70",
            "172.32.0.1",
            "100.128.0.1",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn origins_are_exact() {
        let p = HookPolicy::from_origins(
            &["https://mis.example".into(), "http://10.0.0.5:8080".into()],
            false,
        )
        .unwrap();
        assert!(p.check_endpoint("https://mis.example/fhir/hook").is_ok());
        assert!(p.check_endpoint("https://mis.example:443/x").is_ok());
        assert_eq!(
            p.check_endpoint("https://mis.example:8443/x"),
            Err("fhir_endpoint_not_allowed")
        );
        assert_eq!(
            p.check_endpoint("http://mis.example/x"),
            Err("fhir_endpoint_not_allowed")
        );
        assert_eq!(
            p.check_endpoint("https://mis.example.evil/x"),
            Err("fhir_endpoint_not_allowed")
        );
        assert_eq!(
            p.check_endpoint("https://u:p@mis.example/x"),
            Err("fhir_endpoint_form")
        );
        assert_eq!(
            p.check_endpoint("http://10.0.0.5:8080/x"),
            Err("fhir_endpoint_private")
        );
        assert_eq!(p.check_endpoint("ftp://mis.example/x"), Err("fhir_channel"));
        assert!(Origin::parse("https://mis.example/path").is_err());
        assert!(Origin::parse("mis.example").is_err());
        let empty = HookPolicy::default();
        assert_eq!(
            empty.check_endpoint("https://mis.example/x"),
            Err("fhir_endpoint_not_allowed")
        );
    }
}
