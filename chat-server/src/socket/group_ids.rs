//! The group ids of connecting users, read for many handshakes at once.
//!
//! Each handshake needs its user's group ids (the rooms its socket joins)
//! before the client gets its CONNECT. Read one user at a time, a connect
//! storm costs the database one query per socket, most of it the query's
//! own overhead; the store's `POST /group/ids` reads them for many users in
//! one query (docs/store-api.md).
//!
//! A handshake queues its user here and waits for the answer. One task
//! takes whatever is queued, up to [`MAX_USERS_PER_READ`], whenever fewer
//! than [`READS_IN_FLIGHT`] reads are out: a lone handshake is read at once,
//! alone, and handshakes that arrive while reads are out wait for the next
//! one, together. Nothing waits on a timer.

use crate::store_client::StoreClient;
use chat_wire::ids::{EntityId, Up};
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// The most users in one read.
const MAX_USERS_PER_READ: usize = 200;

/// Reads out at a time; more handshakes wait for the next.
const READS_IN_FLIGHT: usize = 4;

/// Handshakes queued at most; more wait to be queued (the pending-session
/// limits bound them anyway).
const QUEUE_CAPACITY: usize = 4096;

/// The group ids could not be read (the store is out of reach or failed;
/// the reader logged why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the store could not read the user's groups")]
pub struct Unread;

/// Asks for the group ids of connecting users; cheap to clone.
#[derive(Debug, Clone)]
pub struct GroupIdsReader {
    asks: mpsc::Sender<Ask>,
}

/// One handshake's question.
struct Ask {
    up: Up,
    answer: oneshot::Sender<Result<Vec<EntityId>, Unread>>,
}

impl GroupIdsReader {
    /// Starts the reading task, which asks `store`.
    pub fn spawn(store: StoreClient) -> Self {
        let (asks, queue) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(store, queue));
        Self { asks }
    }

    /// The ids of every group of `up`, oldest first.
    pub async fn group_ids(&self, up: &Up) -> Result<Vec<EntityId>, Unread> {
        let (answer, answered) = oneshot::channel();
        let ask = Ask {
            up: up.clone(),
            answer,
        };
        self.asks.send(ask).await.map_err(|_| Unread)?;
        answered.await.map_err(|_| Unread)?
    }
}

/// Takes the queued asks in reads of up to [`MAX_USERS_PER_READ`], at most
/// [`READS_IN_FLIGHT`] out at a time, until every reader is dropped.
async fn run(store: StoreClient, mut queue: mpsc::Receiver<Ask>) {
    let in_flight = Arc::new(Semaphore::new(READS_IN_FLIGHT));
    loop {
        let Ok(slot) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let mut asks = Vec::new();
        if queue.recv_many(&mut asks, MAX_USERS_PER_READ).await == 0 {
            return;
        }
        let store = store.clone();
        tokio::spawn(async move {
            read(&store, asks).await;
            drop(slot);
        });
    }
}

/// One read for `asks`, each answered with its own user's ids (matched by
/// user, never by position: a socket must never join another's rooms).
async fn read(store: &StoreClient, asks: Vec<Ask>) {
    let ups = asks.iter().map(|ask| ask.up.clone()).collect();
    match store.group_ids_of_users(ups).await {
        Ok(answer) => {
            let ids_of = answer.by_user();
            for ask in asks {
                let ids = ids_of.get(&ask.up).cloned().ok_or(Unread);
                if ids.is_err() {
                    tracing::warn!(up = %ask.up, "the store's answer left out a connecting user");
                }
                // A handshake that gave up no longer listens.
                let _ = ask.answer.send(ids);
            }
        }
        Err(err) => {
            tracing::warn!(users = asks.len(), error = %err, "cannot load the groups of connecting users");
            for ask in asks {
                let _ = ask.answer.send(Err(Unread));
            }
        }
    }
}
