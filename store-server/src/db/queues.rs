//! The pairing queues (`vent` with `listen`, `talk` with `talk`), shared by
//! every chat node.
//!
//! Each pair of queues that pair with each other is one document
//! (`{_id: "talk" | "vent", version, waiting}`), changed only by
//! compare-and-set on `version`: a socket is either paired with the oldest
//! partner waiting or added at the end, in one atomic step, so two users
//! queued at the same moment on different nodes are always paired, never
//! both left waiting. A place is per socket; queueing again moves it.

use super::{Store, db_error, is_duplicate_key};
use crate::db::groups::GroupSpec;
use chat_wire::cluster::{JoinQueue, NodeId, QueueOutcome, QueuePartner, SocketId};
use chat_wire::events::QueueKind;
use chat_wire::ids::Up;
use chat_wire::model::GroupKind;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};
use service_kit::ApiError;

/// Attempts of a compare-and-set before giving up as `unavailable`.
const MAX_ATTEMPTS: usize = 50;

/// A queue document: one per pair of queues.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueDoc {
    /// `talk` or `vent` (which holds `vent` and `listen`).
    #[serde(rename = "_id")]
    pub id: String,
    /// Bumped by every change; the compare-and-set key.
    pub version: i64,
    /// Who waits, oldest first.
    pub waiting: Vec<WaitingDoc>,
}

/// One waiting socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingDoc {
    /// The queue it waits in.
    pub kind: QueueKind,
    /// The user.
    pub up: Up,
    /// The socket.
    pub socket: SocketId,
    /// The socket's node.
    pub node: NodeId,
    /// Since when.
    pub since: DateTime,
}

/// The document holding `kind` and its partner queue.
fn family(kind: QueueKind) -> &'static str {
    match kind {
        QueueKind::Talk => "talk",
        QueueKind::Vent | QueueKind::Listen => "vent",
    }
}

/// The topic of the room a pair of `kind` gets.
fn topic(kind: QueueKind) -> &'static str {
    family(kind)
}

const FAMILIES: [&str; 2] = ["talk", "vent"];

impl Store {
    /// Queues a socket, or pairs it with the oldest partner waiting and
    /// creates their room.
    pub async fn enqueue(&self, request: &JoinQueue) -> Result<QueueOutcome, ApiError> {
        self.leave_queues(|w| w.socket == request.socket).await?;
        let me = WaitingDoc {
            kind: request.queue,
            up: request.up.clone(),
            socket: request.socket.clone(),
            node: request.node.clone(),
            since: DateTime::now(),
        };
        let partner_kind = request.queue.partner();
        let mut partner = None;
        self.change_queue(family(request.queue), |waiting| {
            partner = None;
            match waiting
                .iter()
                .position(|w| w.kind == partner_kind && w.up != me.up)
            {
                Some(index) => partner = Some(waiting.remove(index)),
                None => waiting.push(me.clone()),
            }
            true
        })
        .await?;
        let Some(partner) = partner else {
            return Ok(QueueOutcome {
                queued: true,
                room: None,
                partner: None,
            });
        };
        let spec = GroupSpec {
            name: topic(request.queue).to_owned(),
            kind: GroupKind::Match,
            users: vec![partner.up.clone(), me.up.clone()],
            admins: Vec::new(),
            open: false,
            history_min_online: 0,
            matching: Some((topic(request.queue).to_owned(), 2)),
            pair: true,
        };
        match self.create_group(spec).await {
            Ok(room) => Ok(QueueOutcome {
                queued: false,
                room: Some(room),
                partner: Some(QueuePartner {
                    up: partner.up,
                    socket: partner.socket,
                }),
            }),
            Err(err) => {
                // The partner keeps their turn; this socket was never added.
                let first = partner.clone();
                if let Err(back) = self
                    .change_queue(family(request.queue), |waiting| {
                        waiting.insert(0, first.clone());
                        true
                    })
                    .await
                {
                    tracing::error!(socket = %partner.socket, error = %back, "a partner lost their place in the queue");
                }
                Err(err)
            }
        }
    }

    /// Takes a socket out of the queues; `true` if it was waiting.
    pub async fn dequeue(&self, socket: &SocketId) -> Result<bool, ApiError> {
        self.leave_queues(|w| w.socket == *socket).await
    }

    /// Takes every socket of a node out of the queues.
    pub async fn leave_queues_of_node(&self, node: &NodeId) -> Result<bool, ApiError> {
        self.leave_queues(|w| w.node == *node).await
    }

    /// Removes the waiting sockets that `matches` picks from both documents.
    async fn leave_queues(&self, matches: impl Fn(&WaitingDoc) -> bool) -> Result<bool, ApiError> {
        let mut removed = false;
        for id in FAMILIES {
            self.change_queue(id, |waiting| {
                let before = waiting.len();
                waiting.retain(|w| !matches(w));
                removed |= waiting.len() != before;
                waiting.len() != before
            })
            .await?;
        }
        Ok(removed)
    }

    /// Applies `change` to a queue document by compare-and-set, retrying on
    /// a concurrent change. `change` returns whether it changed anything;
    /// it may run several times, each on the latest state.
    async fn change_queue(
        &self,
        id: &str,
        mut change: impl FnMut(&mut Vec<WaitingDoc>) -> bool,
    ) -> Result<(), ApiError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .queues
                .find_one(doc! {"_id": id})
                .await
                .map_err(db_error)?;
            let (version, mut waiting) = match current {
                Some(doc) => (doc.version, doc.waiting),
                None => (0, Vec::new()),
            };
            if !change(&mut waiting) {
                return Ok(());
            }
            let next = QueueDoc {
                id: id.to_owned(),
                version: version + 1,
                waiting,
            };
            let written = if version == 0 {
                match self.queues.insert_one(&next).await {
                    Ok(_) => true,
                    Err(err) if is_duplicate_key(&err) => false,
                    Err(err) => return Err(db_error(err)),
                }
            } else {
                let waiting = mongodb::bson::to_bson(&next.waiting).map_err(|err| {
                    ApiError::Internal(anyhow::Error::new(err).context("encoding a queue"))
                })?;
                self.queues
                    .update_one(
                        doc! {"_id": id, "version": version},
                        doc! {"$set": {"version": next.version, "waiting": waiting}},
                    )
                    .await
                    .map_err(db_error)?
                    .matched_count
                    == 1
            };
            if written {
                return Ok(());
            }
        }
        Err(ApiError::Unavailable(anyhow::anyhow!(
            "the {id} queue changed {MAX_ATTEMPTS} times under this request"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_queues_share_a_document() {
        assert_eq!(family(QueueKind::Vent), family(QueueKind::Listen));
        assert_ne!(family(QueueKind::Talk), family(QueueKind::Vent));
    }
}
