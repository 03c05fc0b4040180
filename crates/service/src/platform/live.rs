//! Live updates: after a change commits, the services publish who should hear
//! about it; the web layer's SSE streams and video rooms listen.
//!
//! Inside one process this is a broadcast channel. Instances that share one
//! PostgreSQL database also pass every event to each other over LISTEN/NOTIFY
//! (`connect_cluster`), so a user whose browser is connected to another
//! instance hears of it too, and video signaling crosses instances.

use std::sync::{mpsc, Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use rtms_store::bus::{self, Payload};
use rtms_store::{BackendKind, Db};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Something happened to a consultation that some users should see at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveEvent {
    pub consultation_id: i64,
    /// Users who got a notification.
    pub users: Vec<i64>,
    /// Notification kind (`new_request`, `emergency`, `assigned`…).
    pub kind: String,
    /// Queues showing this request should refresh (status or deadline changed).
    pub queue_changed: bool,
}

/// A signaling message for the peers of one video room that are connected to
/// other instances: to one peer, or to all of them (`to` empty).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomSignal {
    pub session: i64,
    pub to: Option<i64>,
    pub msg: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "topic", content = "body", rename_all = "snake_case")]
enum Topic {
    Live(LiveEvent),
    Room(RoomSignal),
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The sending instance: it has delivered locally already.
    from: u64,
    #[serde(flatten)]
    topic: Topic,
}

struct Inner {
    tx: broadcast::Sender<LiveEvent>,
    rooms: broadcast::Sender<RoomSignal>,
    /// This instance, among those sharing the database.
    instance: u64,
    /// Messages for the other instances, sent in order by one thread.
    outbox: OnceLock<mpsc::Sender<String>>,
}

#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<Inner>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

/// How often the listener looks for notifications when it has none.
const POLL: Duration = Duration::from_millis(20);

impl LiveHub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        let (rooms, _) = broadcast::channel(1024);
        LiveHub {
            inner: Arc::new(Inner {
                tx,
                rooms,
                instance: rand::random::<u64>() >> 1,
                outbox: OnceLock::new(),
            }),
        }
    }

    /// Tells this instance's listeners, and the other instances'.
    pub fn publish(&self, event: LiveEvent) {
        // No subscribers is fine: nobody is looking right now.
        let _ = self.inner.tx.send(event.clone());
        self.to_cluster(Topic::Live(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.inner.tx.subscribe()
    }

    /// Passes a room's signaling message to the other instances (this one's
    /// peers are served directly by the caller).
    pub fn signal_rooms(&self, signal: RoomSignal) {
        self.to_cluster(Topic::Room(signal));
    }

    /// Room signaling that came from other instances.
    pub fn subscribe_rooms(&self) -> broadcast::Receiver<RoomSignal> {
        self.inner.rooms.subscribe()
    }

    /// True once events travel between instances.
    pub fn clustered(&self) -> bool {
        self.inner.outbox.get().is_some()
    }

    fn to_cluster(&self, topic: Topic) {
        if let Some(out) = self.inner.outbox.get() {
            let envelope = Envelope {
                from: self.inner.instance,
                topic,
            };
            if let Ok(text) = serde_json::to_string(&envelope) {
                let _ = out.send(text);
            }
        }
    }

    /// On PostgreSQL, joins the other instances of this database: one thread
    /// sends this instance's events, another listens for theirs. Both end when
    /// the hub is dropped. On SQLite (one instance) it does nothing.
    pub fn connect_cluster(&self, db: &Db) {
        if db.backend() != BackendKind::Postgres {
            return;
        }
        let (out_tx, out_rx) = mpsc::channel::<String>();
        if self.inner.outbox.set(out_tx).is_err() {
            return;
        }
        let sender_db = db.clone();
        let spawned = std::thread::Builder::new()
            .name("rtms-bus-send".into())
            .spawn(move || send_loop(sender_db, out_rx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cluster bus: cannot start the sender");
        }
        let weak = Arc::downgrade(&self.inner);
        let listen_db = db.clone();
        let spawned = std::thread::Builder::new()
            .name("rtms-bus-listen".into())
            .spawn(move || listen_loop(listen_db, weak));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cluster bus: cannot start the listener");
        }
    }
}

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Sends queued messages in order; ends when the hub is gone.
fn send_loop(db: Db, rx: mpsc::Receiver<String>) {
    while let Ok(text) = rx.recv() {
        let sent = db.conn().and_then(|mut c| bus::send(&mut c, &text, now()));
        if let Err(e) = sent {
            // A live update is a hint: the page shows the truth on its next load.
            tracing::warn!(error = %e, "cluster bus: a live update was not sent");
        }
    }
}

/// Listens for the other instances' messages and hands them to this one's
/// listeners; reconnects after an error; ends when the hub is gone.
fn listen_loop(db: Db, hub: Weak<Inner>) {
    let mut listener: Option<bus::Listener> = None;
    let mut pruned = Instant::now();
    loop {
        let Some(inner) = hub.upgrade() else {
            db.list_counts().listening(false);
            return;
        };
        if listener.is_none() {
            match bus::Listener::open(db.url()) {
                Ok(l) => {
                    listener = Some(l);
                    // Every change is heard from now on: list counts may be kept.
                    db.list_counts().listening(true);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cluster bus: cannot listen; retrying");
                    drop(inner);
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            }
        }
        let polled = listener
            .as_mut()
            .map(|l| l.poll())
            .unwrap_or(Ok(Vec::new()));
        let payloads = match polled {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cluster bus: listener lost; reconnecting");
                db.list_counts().listening(false);
                listener = None;
                continue;
            }
        };
        for heard in &payloads {
            let payload = match heard {
                bus::Heard::RequestsChanged => {
                    db.list_counts().changed();
                    continue;
                }
                bus::Heard::Message(p) => p,
            };
            let text = match bus::parse(payload) {
                Payload::Inline(t) => Some(t),
                Payload::Stored(id) => db
                    .conn()
                    .and_then(|mut c| bus::stored(&mut c, id))
                    .ok()
                    .flatten(),
            };
            let Some(envelope) = text.and_then(|t| serde_json::from_str::<Envelope>(&t).ok())
            else {
                continue;
            };
            if envelope.from == inner.instance {
                continue;
            }
            match envelope.topic {
                Topic::Live(ev) => {
                    let _ = inner.tx.send(ev);
                }
                Topic::Room(sig) => {
                    let _ = inner.rooms.send(sig);
                }
            }
        }
        if pruned.elapsed() > Duration::from_secs(60) {
            pruned = Instant::now();
            let before = now() - chrono::Duration::minutes(5);
            let _ = db.conn().and_then(|mut c| bus::prune(&mut c, before));
        }
        drop(inner);
        if payloads.is_empty() {
            std::thread::sleep(POLL);
        }
    }
}
