//! The connection each socket's transport runs on, so that a drain can
//! close it and the client reconnects by itself.
//!
//! socketioxide closes transports only all at once (`SocketIo::close`), and
//! `disconnect` sends a Socket.IO DISCONNECT, after which `socket.io-client`
//! does not reconnect. A drain needs neither: it closes the connection a
//! socket's transport runs on (see `service_kit::connection`), which the
//! client sees as "transport close" and answers by reconnecting.
//!
//! Which connection that is: for a socket opened straight on a WebSocket,
//! the one of its handshake request, which the socket keeps; for a socket
//! that upgraded from long-polling, the one of the upgrade request; for a
//! long-polling socket, the one of its latest poll. The last two are
//! remembered here, from the requests themselves (`socket::gate`).
//!
//! Nothing here outlives its session: a session that has not connected its
//! socket yet is held only until its deadline (an engine session that is
//! refused, or never sends its CONNECT, is closed by then), and a
//! connected socket's entry goes when the socket leaves ([`Transports::forget`]).

use service_kit::connection::ConnectionHandle;
use socketioxide_core::Sid;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The connection carrying a socket's transport.
#[derive(Debug, Clone)]
pub enum Carrier {
    /// A long-polling socket's latest poll.
    Poll(ConnectionHandle),
    /// An upgraded socket's WebSocket: final, whatever polls come after.
    WebSocket(ConnectionHandle),
}

impl Carrier {
    fn connection(&self) -> &ConnectionHandle {
        match self {
            Carrier::Poll(connection) | Carrier::WebSocket(connection) => connection,
        }
    }
}

/// The carriers of the sessions of this node; cheap to clone.
#[derive(Debug, Clone)]
pub struct Transports {
    inner: Arc<Mutex<Inner>>,
    /// How long an engine session may stay without a connected socket.
    pending_for: Duration,
}

#[derive(Debug, Default)]
struct Inner {
    /// Sessions whose socket is connected, with their latest carrier.
    connected: HashMap<Sid, Option<Carrier>>,
    /// Sessions whose socket is not connected (yet), until their deadline.
    pending: HashMap<Sid, Carrier>,
    /// Deadlines of the pending sessions, oldest first.
    deadlines: VecDeque<(Instant, Sid)>,
}

impl Transports {
    /// Carriers of this node; a session without a connected socket is held
    /// at most `pending_for`.
    pub fn new(pending_for: Duration) -> Self {
        Self {
            inner: Arc::default(),
            pending_for,
        }
    }

    /// Records the connection of a request of session `sid`. A poll that
    /// arrives after the upgrade (the client's last one races the
    /// WebSocket's handshake) does not replace the WebSocket.
    pub fn remember(&self, sid: Sid, carrier: Carrier) {
        let mut inner = self.lock();
        let now = Instant::now();
        inner.expire(now);
        if let Some(current) = inner.connected.get_mut(&sid) {
            if !is_late_poll(&carrier, current.as_ref()) {
                *current = Some(carrier);
            }
            return;
        }
        let current = inner.pending.get(&sid);
        if current.is_none() {
            inner.deadlines.push_back((now + self.pending_for, sid));
        } else if is_late_poll(&carrier, current) {
            return;
        }
        inner.pending.insert(sid, carrier);
    }

    /// The socket of session `sid` connected: its carrier is kept until
    /// it leaves.
    pub fn adopt(&self, sid: Sid) {
        let mut inner = self.lock();
        let carrier = inner.pending.remove(&sid);
        inner.connected.insert(sid, carrier);
    }

    /// Forgets session `sid` (its socket left, or a request of it failed).
    pub fn forget(&self, sid: Sid) {
        let mut inner = self.lock();
        inner.connected.remove(&sid);
        inner.pending.remove(&sid);
    }

    /// Closes the connection of `socket`'s transport, or else the one of
    /// its handshake; `false` when neither is known (the socket then goes
    /// when the node closes).
    pub fn close(&self, socket: Sid, handshake: impl FnOnce() -> Option<ConnectionHandle>) -> bool {
        let remembered = self
            .lock()
            .connected
            .get(&socket)
            .and_then(|carrier| carrier.as_ref().map(|c| c.connection().clone()));
        match remembered.or_else(handshake) {
            Some(connection) => {
                connection.close();
                true
            }
            None => false,
        }
    }

    /// Sessions held: `(connected, pending)`.
    pub fn held(&self) -> (usize, usize) {
        let mut inner = self.lock();
        inner.expire(Instant::now());
        (inner.connected.len(), inner.pending.len())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether `carrier` is a poll arriving after the session's WebSocket.
fn is_late_poll(carrier: &Carrier, current: Option<&Carrier>) -> bool {
    matches!(
        (carrier, current),
        (Carrier::Poll(_), Some(Carrier::WebSocket(_)))
    )
}

impl Inner {
    /// Drops the pending sessions whose deadline passed.
    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, sid)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            self.pending.remove(&sid);
        }
        if self.pending.is_empty() && self.deadlines.capacity() > 64 {
            self.deadlines.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid() -> Sid {
        Sid::new()
    }

    #[test]
    fn a_late_poll_does_not_replace_the_websocket() {
        let transports = Transports::new(Duration::from_secs(10));
        let s1 = sid();
        let (poll, websocket) = (ConnectionHandle::default(), ConnectionHandle::default());
        transports.remember(s1, Carrier::Poll(poll.clone()));
        transports.adopt(s1);
        transports.remember(s1, Carrier::WebSocket(websocket.clone()));
        transports.remember(s1, Carrier::Poll(poll.clone()));
        assert!(transports.close(s1, || None));
        assert!(
            websocket.is_closed(),
            "the WebSocket's connection is closed"
        );
        assert!(!poll.is_closed());
    }

    #[test]
    fn a_session_that_never_connects_is_let_go_at_its_deadline() {
        let transports = Transports::new(Duration::from_millis(20));
        for _ in 0..100 {
            transports.remember(sid(), Carrier::Poll(ConnectionHandle::default()));
        }
        let connected = sid();
        transports.remember(connected, Carrier::Poll(ConnectionHandle::default()));
        transports.adopt(connected);
        assert_eq!(transports.held(), (1, 100));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            transports.held(),
            (1, 0),
            "only the connected socket is held"
        );
        transports.forget(connected);
        assert_eq!(transports.held(), (0, 0));
    }

    #[test]
    fn a_poll_after_the_connect_is_kept_for_the_socket() {
        let transports = Transports::new(Duration::from_millis(20));
        let s1 = sid();
        transports.adopt(s1);
        let poll = ConnectionHandle::default();
        transports.remember(s1, Carrier::Poll(poll.clone()));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(transports.held(), (1, 0));
        assert!(transports.close(s1, || None));
        assert!(poll.is_closed());
    }

    #[test]
    fn a_pending_session_is_not_closed_by_a_drain() {
        let transports = Transports::new(Duration::from_secs(10));
        let pending = sid();
        let poll = ConnectionHandle::default();
        transports.remember(pending, Carrier::Poll(poll.clone()));
        assert!(
            !transports.close(pending, || None),
            "drains close sockets only"
        );
        assert!(!poll.is_closed());
    }
}
