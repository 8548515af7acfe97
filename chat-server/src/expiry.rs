//! A socket outlives its token only until the token expires.
//!
//! At the handshake the token's `exp` becomes the socket's expiry. One task
//! per node watches every socket's expiry (a timer queue, not a task per
//! socket): at `exp` the socket gets `unauthenticated {}` and is
//! disconnected (a server disconnect: `socket.io-client` does not reconnect
//! with a token that no longer works). A client keeps its socket by sending
//! `refresh token {token}` before that (`events::refresh_token`), with a
//! newer valid token of the same user.
//!
//! The timer queue takes deadlines up to about two years away; a token may
//! say anything. A deadline is therefore at most [`LONGEST_WAIT`] away:
//! when it comes and the token still holds, the socket is simply queued
//! again. The task is essential (see `Lifecycle::spawn_essential`): if it
//! ever stopped, no socket would be disconnected at its expiry, so the node
//! would become unready and say why.

use crate::rooms::Rooms;
use crate::rooms::outgoing::Outgoing;
use chat_wire::events::Empty;
use socketioxide_core::Sid;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio_util::time::DelayQueue;
use tokio_util::time::delay_queue::Key;

/// What the expiry task is told.
#[derive(Debug)]
enum Change {
    /// Watch a socket whose token expires at the given second.
    Watch(Sid, u64),
    /// The socket is gone: forget it.
    Forget(Sid),
}

/// Hands sockets to the node's expiry task; cheap to clone.
#[derive(Debug, Clone)]
pub struct ExpiryWatch {
    changes: mpsc::UnboundedSender<Change>,
}

/// The receiving end, for [`run`].
#[derive(Debug)]
pub struct ExpiryQueue {
    changes: mpsc::UnboundedReceiver<Change>,
}

impl ExpiryWatch {
    /// A watch and the queue its task reads.
    pub fn new() -> (Self, ExpiryQueue) {
        let (changes, received) = mpsc::unbounded_channel();
        (Self { changes }, ExpiryQueue { changes: received })
    }

    /// Watches `socket`, whose token expires at `exp` (seconds since the
    /// Unix epoch).
    pub fn watch(&self, socket: Sid, exp: u64) {
        if self.changes.send(Change::Watch(socket, exp)).is_err() {
            tracing::warn!("the token expiry task is gone; a socket is not watched");
        }
    }

    /// Stops watching a socket that left, so its entry does not wait for
    /// a token expiry hours away.
    pub fn forget(&self, socket: Sid) {
        // Only fails when the task is gone, and then nothing is watched.
        let _ = self.changes.send(Change::Forget(socket));
    }
}

/// Seconds since the Unix epoch now.
fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The longest a socket waits in the timer queue before its expiry is
/// looked at again (the queue itself refuses deadlines past about two
/// years, and a token's `exp` may be anything).
pub const LONGEST_WAIT: Duration = Duration::from_secs(24 * 3600);

/// How long from now until `exp`, at most [`LONGEST_WAIT`].
fn until(exp: u64) -> Duration {
    Duration::from_secs(exp.saturating_sub(now_seconds())).min(LONGEST_WAIT)
}

/// The node's expiry task: disconnects each watched socket when its token
/// expires, unless it was refreshed meanwhile.
pub async fn run(rooms: Arc<dyn Rooms>, mut queue: ExpiryQueue) {
    let mut due: DelayQueue<Sid> = DelayQueue::new();
    let mut keys: HashMap<Sid, Key> = HashMap::new();
    loop {
        tokio::select! {
            change = queue.changes.recv() => match change {
                Some(Change::Watch(socket, exp)) => {
                    keys.insert(socket, due.insert(socket, until(exp)));
                }
                Some(Change::Forget(socket)) => {
                    if let Some(key) = keys.remove(&socket) {
                        due.try_remove(&key);
                    }
                }
                None => return,
            },
            Some(expired) = futures::StreamExt::next(&mut due), if !due.is_empty() => {
                let sid = expired.into_inner();
                keys.remove(&sid);
                let Some(session) = rooms.session(sid) else {
                    continue; // gone already
                };
                if session.expires() > now_seconds() {
                    keys.insert(sid, due.insert(sid, until(session.expires())));
                    continue;
                }
                if let Err(err) = rooms.emit_to(sid, &Outgoing::Unauthenticated(Empty {})) {
                    tracing::debug!(error = %err, "could not tell a socket its token expired");
                }
                tracing::debug!(up = %session.up, "disconnecting a socket whose token expired");
                rooms.disconnect(sid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiry_in_the_past_is_due_now_and_a_far_one_is_looked_at_again_within_a_day() {
        assert_eq!(until(1), Duration::ZERO);
        let later = until(now_seconds() + 100);
        assert!(later >= Duration::from_secs(99) && later <= Duration::from_secs(100));
        let far = now_seconds() + 900 * 24 * 3600;
        assert_eq!(until(far), LONGEST_WAIT);
        assert_eq!(until(u64::MAX), LONGEST_WAIT);
    }

    #[tokio::test]
    async fn a_token_years_away_does_not_stop_the_task() {
        let (watch, queue) = ExpiryWatch::new();
        let (_, io) = socketioxide::SocketIo::builder().build_svc();
        io.ns("/", async || {});
        let rooms: Arc<dyn Rooms> = Arc::new(crate::engine::sockets::EngineRooms::new(io, None));
        let task = tokio::spawn(run(rooms, queue));
        watch.watch(Sid::new(), u64::MAX);
        watch.watch(Sid::new(), now_seconds() + 900 * 24 * 3600);
        watch.watch(Sid::new(), 1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!task.is_finished(), "the expiry task is still running");
        task.abort();
    }
}
