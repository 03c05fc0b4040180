//! Live updates inside one process: after a change commits, the services
//! publish who should hear about it; the web layer's SSE streams listen.

use tokio::sync::broadcast;

/// Something happened to a consultation that some users should see at once.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub consultation_id: i64,
    /// Users who got a notification.
    pub users: Vec<i64>,
    /// Notification kind (`new_request`, `emergency`, `assigned`…).
    pub kind: String,
    /// Queues showing this request should refresh (status or deadline changed).
    pub queue_changed: bool,
}

#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<LiveEvent>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        LiveHub { tx }
    }

    pub fn publish(&self, event: LiveEvent) {
        // No subscribers is fine: nobody is looking right now.
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }
}
