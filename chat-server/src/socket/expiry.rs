//! A socket outlives its token only until the token expires.
//!
//! At the handshake the token's `exp` becomes the socket's expiry. One task
//! per node watches every socket's expiry (a timer queue, not a task per
//! socket): at `exp` the socket gets `unauthenticated {}` and is
//! disconnected (a server disconnect: `socket.io-client` does not reconnect
//! with a token that no longer works). A client keeps its socket by sending
//! `refresh token {token}` before that, with a newer valid token of the
//! same user; the ack is `{exp}`.

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::session::Session;
use crate::state::AppState;
use chat_wire::events::{Empty, RefreshToken, TokenExpiry};
use service_kit::ApiError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, State, TryData};
use socketioxide_core::Sid;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
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

/// How long from now until `exp`.
fn until(exp: u64) -> Duration {
    Duration::from_secs(exp.saturating_sub(now_seconds()))
}

/// The node's expiry task: disconnects each watched socket when its token
/// expires, unless it was refreshed meanwhile.
pub async fn run<A: Adapter>(io: SocketIo<A>, mut queue: ExpiryQueue) {
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
                let Some(socket) = io.get_socket(sid) else {
                    continue; // gone already
                };
                let Some(session) = socket.extensions.get::<Session>() else {
                    continue;
                };
                if session.expires() > now_seconds() {
                    keys.insert(sid, due.insert(sid, until(session.expires())));
                    continue;
                }
                if let Err(err) = socket.emit("unauthenticated", &Empty {}) {
                    tracing::debug!(error = %err, "could not tell a socket its token expired");
                }
                tracing::debug!(up = %session.up, "disconnecting a socket whose token expired");
                if let Err(err) = socket.disconnect() {
                    tracing::debug!(error = %err, "could not disconnect an expired socket");
                }
            }
        }
    }
}

/// `refresh token {token}`: a newer valid token of the same user extends
/// the socket's life; answers `{exp}`.
pub async fn refresh_token<A: Adapter>(
    budget: EventBudget,
    TryData(payload): TryData<RefreshToken>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let result = payload
        .map_err(|e| bad_payload("refresh token", e))
        .and_then(|RefreshToken { token }| {
            let verified = state
                .jwt
                .verify(&token)
                .map_err(|_| ApiError::Unauthenticated("the token is invalid or expired".into()))?;
            if verified.up != session.up {
                return Err(ApiError::PermissionDenied(
                    "the token is another user's".into(),
                ));
            }
            Ok(TokenExpiry {
                exp: session.extend(verified.exp),
            })
        });
    answer(ack, &state.metrics, "refresh token", started, result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiry_in_the_past_is_due_now() {
        assert_eq!(until(1), Duration::ZERO);
        let later = until(now_seconds() + 100);
        assert!(later >= Duration::from_secs(99) && later <= Duration::from_secs(100));
    }
}
