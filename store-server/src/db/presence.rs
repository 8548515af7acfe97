//! Who is online across the chat cluster: each user document lists the
//! nodes where the user has a socket (`nodes`).
//!
//! A node adds itself when a user's first socket arrives on it and takes
//! itself out when the last one leaves, for many users at once: a node that
//! starts or drains moves thousands of users, and one statement per user
//! would keep MongoDB and the store busy for seconds while messages wait.
//! Each batch is one update of all its users and one read of them back (a
//! join that meets users never seen creates them with one insert more).
//!
//! The `online` flag marks the cluster-wide state. The update of a user
//! moves the node and, in the same pipeline, claims the transition the move
//! makes (online only from offline, offline only with no node left) by
//! stamping the document with the batch's own `presenceClaim`: the users
//! stamped by a batch are exactly those whose transition it made, so
//! exactly one node announces each. Queries of who is online count only
//! live nodes, so a node that died stops counting at once, before it is
//! reaped.

use super::blocks::is_hidden;
use super::{DUPLICATE_KEY, Store, db_error};
use crate::db::documents::{GroupDoc, to_chrono};
use chat_wire::cluster::{
    GroupPresence, MAX_PRESENCE_BATCH, NodeId, OfflineUser, PresenceAudience, PresenceBatch,
    PresenceChange,
};
use chat_wire::ids::Up;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::error::ErrorKind;
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Moves made of users that another batch was creating, at most.
const MOVE_ATTEMPTS: u32 = 5;
/// The pause before the second of those moves, and longer before each next.
const MOVE_RETRY_PAUSE: Duration = Duration::from_millis(10);

impl Store {
    /// Records a node's batch of presence changes: the joined users first,
    /// then the left ones. One change per listed user, in that order.
    pub async fn node_presence(
        &self,
        node: &NodeId,
        batch: &PresenceBatch,
    ) -> Result<Vec<PresenceChange>, ApiError> {
        let mut changes = self.users_joined_node(node, &batch.joined).await?;
        changes.extend(self.users_left_node(node, &batch.left).await?);
        Ok(changes)
    }

    /// `ups` have a socket on `node` now (users never seen are created).
    async fn users_joined_node(
        &self,
        node: &NodeId,
        ups: &[Up],
    ) -> Result<Vec<PresenceChange>, ApiError> {
        if ups.is_empty() {
            return Ok(Vec::new());
        }
        let moved = self.move_node(ups, NodeMove::Join(node)).await?;
        Ok(ups
            .iter()
            .map(|up| {
                let state = moved.get(up.as_str());
                PresenceChange {
                    up: up.clone(),
                    online: true,
                    changed: state.is_some_and(|p| p.claimed),
                    last_seen: None,
                    audience: audience_of(state),
                }
            })
            .collect())
    }

    /// `ups` have no socket left on `node`.
    async fn users_left_node(
        &self,
        node: &NodeId,
        ups: &[Up],
    ) -> Result<Vec<PresenceChange>, ApiError> {
        if ups.is_empty() {
            return Ok(Vec::new());
        }
        let now = DateTime::now();
        let moved = self
            .move_node(ups, NodeMove::Leave { node, at: now })
            .await?;
        Ok(ups
            .iter()
            .map(|up| {
                let state = moved.get(up.as_str());
                let changed = state.is_some_and(|p| p.claimed);
                PresenceChange {
                    up: up.clone(),
                    online: state.is_some_and(|p| p.online),
                    changed,
                    last_seen: changed.then(|| to_chrono(now)),
                    audience: audience_of(state),
                }
            })
            .collect())
    }

    /// Moves `ups` onto or off a node and, in the same update of each
    /// user, claims the online or offline transition the move makes,
    /// stamped with this call's own mark. Users never seen are created by
    /// a join, already moved and claimed. Answers each user's presence
    /// afterwards, `claimed` when this call made their transition.
    async fn move_node(
        &self,
        ups: &[Up],
        step: NodeMove<'_>,
    ) -> Result<HashMap<String, UserPresence>, ApiError> {
        let ids = ids_of(ups);
        let mark = ObjectId::new();
        let moved = self.move_existing(&ids, step, mark).await?;
        let NodeMove::Join(node) = step else {
            return Ok(moved);
        };
        if moved.len() == ids.len() {
            return Ok(moved);
        }
        let missing: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| !moved.contains_key(*id))
            .collect();
        match self.create_joined_users(&missing, node, mark).await? {
            // Created here: online on the node, their transition ours.
            Created::All => Ok(moved
                .into_iter()
                .chain(
                    missing
                        .iter()
                        .map(|id| ((*id).to_owned(), UserPresence::created())),
                )
                .collect()),
            // Someone created some of them meanwhile: move those too (the
            // move leaves the users created here as they are).
            Created::SomeExisted => self.move_all_existing(&ids, step, mark).await,
        }
    }

    /// [`Store::move_existing`] of users that all exist, some created by
    /// another batch at the same moment. A database may refuse a duplicate
    /// before the other batch's insert is visible to an update (seen once
    /// with the wire server), so the move is made again, a few times, until
    /// it has found them all. A user moved twice is unchanged by the second
    /// move.
    async fn move_all_existing(
        &self,
        ids: &[&str],
        step: NodeMove<'_>,
        mark: ObjectId,
    ) -> Result<HashMap<String, UserPresence>, ApiError> {
        let mut attempt = 1;
        loop {
            let moved = self.move_existing(ids, step, mark).await?;
            if moved.len() == ids.len() {
                return Ok(moved);
            }
            if attempt == MOVE_ATTEMPTS {
                return Err(ApiError::Unavailable(anyhow::anyhow!(
                    "{} users refused as existing were not found",
                    ids.len() - moved.len()
                )));
            }
            tracing::debug!(
                attempt,
                found = moved.len(),
                listed = ids.len(),
                "users refused as existing are not visible yet; moving them again"
            );
            tokio::time::sleep(MOVE_RETRY_PAUSE * attempt).await;
            attempt += 1;
        }
    }

    /// One update of the existing users among `ids`: the move and the
    /// claim of the transition it makes, in one pipeline so that each user
    /// changes at once. Answers their presence afterwards.
    async fn move_existing(
        &self,
        ids: &[&str],
        step: NodeMove<'_>,
        mark: ObjectId,
    ) -> Result<HashMap<String, UserPresence>, ApiError> {
        // In one `$set` stage every expression reads the document as it
        // was before the stage.
        let pipeline = match step {
            NodeMove::Join(node) => vec![doc! {"$set": {
                "presenceClaim": {"$cond": [{"$ne": ["$online", true]}, mark, "$presenceClaim"]},
                "online": true,
                "nodes": {"$setUnion": [{"$ifNull": ["$nodes", []]}, [node.as_str()]]},
            }}],
            // Offline only if no node is left: a node that came in first
            // has announced the user online, and they stay so.
            NodeMove::Leave { node, at } => {
                let goes_offline =
                    doc! {"$and": [{"$eq": [{"$size": "$nodes"}, 0]}, {"$eq": ["$online", true]}]};
                vec![
                    doc! {"$set": {"nodes": {"$setDifference": [{"$ifNull": ["$nodes", []]}, [node.as_str()]]}}},
                    doc! {"$set": {
                        "presenceClaim": {"$cond": [goes_offline.clone(), mark, "$presenceClaim"]},
                        "lastSeen": {"$cond": [goes_offline.clone(), at, "$lastSeen"]},
                        "online": {"$cond": [goes_offline, false, "$online"]},
                    }},
                ]
            }
        };
        self.users
            .clone_with_type::<Document>()
            .update_many(doc! {"_id": {"$in": ids}}, pipeline)
            .await
            .map_err(db_error)?;
        self.presence_of(ids, mark).await
    }

    /// Creates the users of `ids` online on `node`, their transition
    /// claimed with `mark`; a user created meanwhile by someone else is
    /// left as it is.
    async fn create_joined_users(
        &self,
        ids: &[&str],
        node: &NodeId,
        mark: ObjectId,
    ) -> Result<Created, ApiError> {
        let users: Vec<Document> = ids
            .iter()
            .map(|id| {
                doc! {
                    "_id": *id, "username": *id, "name": "",
                    "online": true, "nodes": [node.as_str()], "presenceClaim": mark,
                }
            })
            .collect();
        let inserted = self
            .users
            .clone_with_type::<Document>()
            .insert_many(users)
            .ordered(false)
            .await;
        match inserted {
            Ok(_) => Ok(Created::All),
            Err(err) if only_duplicates(&err) => Ok(Created::SomeExisted),
            Err(err) => Err(db_error(err)),
        }
    }

    /// The presence of the existing users among `ids`; `claimed` when
    /// their last transition carries `mark`, and then who may hear of it.
    async fn presence_of(
        &self,
        ids: &[&str],
        mark: ObjectId,
    ) -> Result<HashMap<String, UserPresence>, ApiError> {
        let found: Vec<Document> = self
            .users
            .clone_with_type::<Document>()
            .find(doc! {"_id": {"$in": ids}})
            .projection(doc! {"online": 1, "presenceClaim": 1, "presenceHidden": 1, "blocked": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        Ok(found
            .iter()
            .filter_map(|user| {
                let claimed = user.get_object_id("presenceClaim").ok() == Some(mark);
                let presence = UserPresence {
                    online: user.get_bool("online").unwrap_or(false),
                    claimed,
                    audience: match claimed {
                        true => audience_in(user),
                        false => PresenceAudience::default(),
                    },
                };
                Some((user.get_str("_id").ok()?.to_owned(), presence))
            })
            .collect())
    }

    /// Takes `node` out of every user's presence; returns who went offline.
    pub async fn clear_node_presence(&self, node: &NodeId) -> Result<Vec<OfflineUser>, ApiError> {
        let users: Vec<Document> = self
            .users
            .clone_with_type::<Document>()
            .find(doc! {"nodes": node.as_str()})
            .projection(doc! {"_id": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let ups: Vec<Up> = users
            .iter()
            .filter_map(|user| Up::parse(user.get_str("_id").ok()?).ok())
            .collect();
        let mut offline = Vec::new();
        for chunk in ups.chunks(MAX_PRESENCE_BATCH) {
            let changes = self.users_left_node(node, chunk).await?;
            offline.extend(changes.into_iter().filter_map(|change| {
                Some(OfflineUser {
                    last_seen: change.last_seen.filter(|_| change.changed)?,
                    up: change.up,
                    audience: change.audience,
                })
            }));
        }
        Ok(offline)
    }

    /// A group and its members online on a live node: all of them, or, for
    /// a `viewer`, those whose presence the viewer may see (the viewer
    /// too); and those every member may see (the history gate's count).
    pub async fn group_presence(
        &self,
        id: ObjectId,
        viewer: Option<&Up>,
    ) -> Result<GroupPresence, ApiError> {
        let group: GroupDoc = self.group(id).await?;
        let live = self.live_node_ids().await?;
        let members: Vec<&str> = group.users.iter().map(Up::as_str).collect();
        let online: Vec<Document> = self
            .users
            .clone_with_type::<Document>()
            .find(doc! {"_id": {"$in": &members}, "nodes": {"$in": live}})
            .projection(doc! {"_id": 1, "presenceHidden": 1, "blocked": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let seen = SeenOnline::read(&online, &members);
        // In the group's member order, which is stable for clients.
        let in_order = |keep: &dyn Fn(&str) -> bool| -> Vec<Up> {
            group
                .users
                .iter()
                .filter(|up| keep(up.as_str()))
                .cloned()
                .collect()
        };
        let online = in_order(&|up| match viewer {
            Some(viewer) => seen.seen_by(up, viewer.as_str()),
            None => seen.online.contains_key(up),
        });
        let visible_online = in_order(&|up| seen.seen_by_all(up));
        Ok(GroupPresence {
            group: group.into(),
            online,
            visible_online,
        })
    }
}

/// The members of a group who are online, and who of the group each of
/// them hides their presence from.
struct SeenOnline<'a> {
    /// Each online member: `None` when they hide their presence from
    /// everyone, else the members they blocked.
    online: HashMap<&'a str, Option<HashSet<&'a str>>>,
}

impl<'a> SeenOnline<'a> {
    /// From the online members' documents (`_id`, `presenceHidden`,
    /// `blocked`) and the group's members.
    fn read(online: &'a [Document], members: &[&str]) -> Self {
        let members: HashSet<&str> = members.iter().copied().collect();
        let online = online
            .iter()
            .filter_map(|user| {
                let up = user.get_str("_id").ok()?;
                if is_hidden(Some(user)) {
                    return Some((up, None));
                }
                let blocked = user
                    .get_array("blocked")
                    .map(|blocked| {
                        blocked
                            .iter()
                            .filter_map(|b| b.as_str())
                            .filter(|b| members.contains(b))
                            .collect()
                    })
                    .unwrap_or_default();
                Some((up, Some(blocked)))
            })
            .collect();
        Self { online }
    }

    /// Whether `viewer` may see that `up` is online.
    fn seen_by(&self, up: &str, viewer: &str) -> bool {
        match self.online.get(up) {
            None => false,
            Some(_) if up == viewer => true,
            Some(None) => false,
            Some(Some(blocked)) => !blocked.contains(viewer),
        }
    }

    /// Whether every member may see that `up` is online.
    fn seen_by_all(&self, up: &str) -> bool {
        matches!(self.online.get(up), Some(Some(blocked)) if blocked.is_empty())
    }
}

/// How a batch moves its users with respect to a node.
#[derive(Debug, Clone, Copy)]
enum NodeMove<'a> {
    /// The users have a socket on the node now: online if they were not.
    Join(&'a NodeId),
    /// The users have no socket left on the node: offline, last seen `at`,
    /// if no node is left.
    Leave { node: &'a NodeId, at: DateTime },
}

/// Whether a join created all the users it found missing.
enum Created {
    All,
    SomeExisted,
}

/// What a batch reads back of a user.
struct UserPresence {
    online: bool,
    /// Whether this batch made the user's last transition.
    claimed: bool,
    /// Who may hear of that transition (when claimed).
    audience: PresenceAudience,
}

impl UserPresence {
    /// A user a join has just created: online, the transition its own,
    /// heard by everyone (a new user hides nothing and blocked nobody).
    fn created() -> Self {
        Self {
            online: true,
            claimed: true,
            audience: PresenceAudience::default(),
        }
    }
}

/// Who may hear of a user's transition, as a batch read it back.
fn audience_of(state: Option<&UserPresence>) -> PresenceAudience {
    state
        .filter(|p| p.claimed)
        .map(|p| p.audience.clone())
        .unwrap_or_default()
}

/// Who may hear of the presence of the user of `user`: nobody while they
/// hide it, and never the users they blocked.
fn audience_in(user: &Document) -> PresenceAudience {
    let hidden_from = user
        .get_array("blocked")
        .map(|blocked| {
            blocked
                .iter()
                .filter_map(|up| up.as_str().and_then(|up| Up::parse(up).ok()))
                .collect()
        })
        .unwrap_or_default();
    PresenceAudience {
        hidden: is_hidden(Some(user)),
        hidden_from,
    }
}

fn ids_of(ups: &[Up]) -> Vec<&str> {
    ups.iter().map(Up::as_str).collect()
}

/// Whether an unordered insert failed only on documents already there.
fn only_duplicates(error: &mongodb::error::Error) -> bool {
    match &*error.kind {
        ErrorKind::InsertMany(insert) => {
            insert.write_concern_error.is_none()
                && insert.write_errors.as_ref().is_some_and(|errors| {
                    errors.iter().all(|refused| refused.code == DUPLICATE_KEY)
                })
        }
        _ => false,
    }
}
