//! Who is online across the chat cluster: each user document lists the
//! nodes where the user has a socket (`nodes`).
//!
//! A node adds itself when a user's first socket arrives on it and takes
//! itself out when the last one leaves, for many users at once: a node that
//! starts or drains moves thousands of users, and one statement per user
//! would keep MongoDB and the store busy for seconds while messages wait.
//! Each batch is a few statements whatever its size.
//!
//! The `online` flag marks the cluster-wide state, and each transition is
//! claimed by one conditional update of it (online only from offline,
//! offline only with no node left), which stamps the document with the
//! batch's own `presenceClaim`: the users stamped by a batch are exactly
//! those whose transition it made, so exactly one node announces each.
//! Queries of who is online count only live nodes, so a node that died
//! stops counting at once, before it is reaped.

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

    /// Moves `ups` onto or off a node, then claims the online or offline
    /// transition of those it applies to, stamped with this call's own
    /// mark. Answers each existing user's presence afterwards, `claimed`
    /// when this call made their transition.
    async fn move_node(
        &self,
        ups: &[Up],
        step: NodeMove<'_>,
    ) -> Result<HashMap<String, UserPresence>, ApiError> {
        // The users to move, the move, the users whose transition it
        // makes, and that transition.
        let (filter, update, claim, mut transition) = match step {
            NodeMove::Join(node) => (
                doc! {},
                doc! {"$addToSet": {"nodes": node.as_str()}},
                doc! {"nodes": node.as_str(), "online": {"$ne": true}},
                doc! {"online": true},
            ),
            // Offline only if no node is left, nor came in since the pull
            // (the node that came in has announced the user online).
            NodeMove::Leave { node, at } => (
                doc! {"nodes": node.as_str()},
                doc! {"$pull": {"nodes": node.as_str()}},
                doc! {"nodes": {"$size": 0}, "online": true},
                doc! {"online": false, "lastSeen": at},
            ),
        };
        let ids = ids_of(ups);
        let users = self.users.clone_with_type::<Document>();
        let among = |condition: Document| {
            let mut filter = doc! {"_id": {"$in": &ids}};
            filter.extend(condition);
            filter
        };
        let matched = users
            .update_many(among(filter.clone()), update.clone())
            .await
            .map_err(db_error)?
            .matched_count;
        if matches!(step, NodeMove::Join(_)) && matched < ids.len() as u64 {
            // Users never seen: created, then moved like the others (the
            // move is idempotent for those moved already).
            self.create_missing_users(&ids).await?;
            users
                .update_many(among(filter), update)
                .await
                .map_err(db_error)?;
        }
        let mark = ObjectId::new();
        transition.insert("presenceClaim", mark);
        users
            .update_many(among(claim), doc! {"$set": transition})
            .await
            .map_err(db_error)?;
        self.presence_of(&ids, Some(mark)).await
    }

    /// Creates the users of `ids` that do not exist yet, offline; a user
    /// created meanwhile by someone else is left as it is.
    async fn create_missing_users(&self, ids: &[&str]) -> Result<(), ApiError> {
        let known = self.presence_of(ids, None).await?;
        let missing: Vec<Document> = ids
            .iter()
            .filter(|id| !known.contains_key(**id))
            .map(|id| doc! {"_id": *id, "username": *id, "name": "", "online": false, "nodes": []})
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let inserted = self
            .users
            .clone_with_type::<Document>()
            .insert_many(missing)
            .ordered(false)
            .await;
        match inserted {
            Err(err) if !only_duplicates(&err) => Err(db_error(err)),
            _ => Ok(()),
        }
    }

    /// The presence of the existing users among `ids`; `claimed` when
    /// their last transition carries `mark`, and then who may hear of it.
    async fn presence_of(
        &self,
        ids: &[&str],
        mark: Option<ObjectId>,
    ) -> Result<HashMap<String, UserPresence>, ApiError> {
        let projection = match mark {
            Some(_) => doc! {"online": 1, "presenceClaim": 1, "presenceHidden": 1, "blocked": 1},
            None => doc! {"online": 1},
        };
        let found: Vec<Document> = self
            .users
            .clone_with_type::<Document>()
            .find(doc! {"_id": {"$in": ids}})
            .projection(projection)
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        Ok(found
            .iter()
            .filter_map(|user| {
                let claim = user.get_object_id("presenceClaim").ok();
                let claimed = mark.is_some() && claim == mark;
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

/// What a batch reads back of a user.
struct UserPresence {
    online: bool,
    /// Whether this batch made the user's last transition.
    claimed: bool,
    /// Who may hear of that transition (when claimed).
    audience: PresenceAudience,
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
