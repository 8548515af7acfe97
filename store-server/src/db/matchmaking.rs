//! Matchmaking rooms (docs/store-api.md): a place in a `match` group of a topic that
//! still has space, or a new group.
//!
//! The place is taken with one conditional update: the filter only matches a
//! group whose `users` array has no element at index `capacity - 1`, so two
//! users racing for the last place can never overfill it; the loser finds
//! another room or opens one. A pair's private room made by the queues is
//! never handed out, even when one of the pair has left it. A user is in at
//! most [`MAX_MATCH_ROOMS_PER_USER`] rooms.

use super::documents::GroupDoc;
use super::{Store, db_error};
use chat_wire::ids::Up;
use chat_wire::model::{Group, GroupKind};
use mongodb::bson::doc;
use mongodb::options::ReturnDocument;
use service_kit::ApiError;

/// The most matchmaking rooms one user may be in: random topics must not
/// let a user create groups without end.
pub const MAX_MATCH_ROOMS_PER_USER: u64 = 20;

impl Store {
    /// A `match` group of `topic` and `capacity` holding `up`; `true` when
    /// it was created for them.
    pub async fn find_match(
        &self,
        up: &Up,
        topic: &str,
        capacity: u32,
    ) -> Result<(Group, bool), ApiError> {
        let capacity = i64::from(capacity);
        let already_in = self
            .groups
            .find_one(
                doc! {"kind": "match", "topic": topic, "capacity": capacity, "pair": {"$ne": true}, "users": up.as_str()},
            )
            .await
            .map_err(db_error)?;
        if let Some(group) = already_in {
            return Ok((group.into(), false));
        }
        let held = self
            .groups
            .count_documents(doc! {"users": up.as_str(), "kind": "match", "pair": {"$ne": true}})
            .await
            .map_err(db_error)?;
        if held >= MAX_MATCH_ROOMS_PER_USER {
            // A quota, not a malformed request: the same request succeeds
            // once the user leaves a room.
            return Err(ApiError::RateLimited(format!(
                "{up} is in {held} matchmaking rooms already, the most allowed; leave one first"
            )));
        }
        let last_place = format!("users.{}", capacity - 1);
        let joined = self
            .groups
            .find_one_and_update(
                doc! {
                    "kind": "match",
                    "topic": topic,
                    "capacity": capacity,
                    "pair": {"$ne": true},
                    "users": {"$ne": up.as_str()},
                    last_place: {"$exists": false},
                },
                doc! {"$push": {"users": up.as_str()}},
            )
            .sort(doc! {"_id": 1})
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?;
        if let Some(group) = joined {
            return Ok((group.into(), false));
        }
        let doc = GroupDoc {
            topic: Some(topic.to_owned()),
            capacity: Some(capacity),
            ..GroupDoc::new(topic.to_owned(), GroupKind::Match, vec![up.clone()])
        };
        self.groups.insert_one(&doc).await.map_err(db_error)?;
        Ok((doc.into(), true))
    }
}
