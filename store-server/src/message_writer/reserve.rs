//! Reserving message numbers, with the membership check in the same atomic
//! step.
//!
//! One `findOneAndUpdate` per group of a batch raises the group's
//! `messageCount` by the number of its messages, on the condition that
//! every sender is a member right now. So a leave or a join through any
//! store instance applies to the very next reservation: nothing about
//! membership is cached. When a sender is not a member, one read learns
//! who is, their messages are refused, and the others reserve again.

use crate::db::horizon::Horizon;
use crate::db::{Store, db_error};
use chat_wire::ids::Up;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::options::ReturnDocument;
use service_kit::ApiError;
use std::collections::HashSet;

/// Reservations tried per group and batch while its members keep changing.
const MAX_TRIES: usize = 4;

/// What a group's reservation gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The group does not exist.
    NoGroup,
    /// Numbers `first..first + count` are reserved for the messages of
    /// `senders`; the others are not members.
    Numbers {
        /// The first number.
        first: i64,
        /// The senders who are members.
        senders: HashSet<Up>,
        /// The group's horizon when the numbers were reserved.
        horizon: Horizon,
    },
}

/// Reserves numbers in `group` for the messages of members among
/// `messages` (one sender per message). Returns the reservation, counted
/// for exactly the members' messages.
pub async fn reserve(
    store: &Store,
    group: ObjectId,
    messages: &[&Up],
) -> Result<Reservation, ApiError> {
    let mut senders: HashSet<Up> = messages.iter().map(|up| (*up).clone()).collect();
    for _ in 0..MAX_TRIES {
        let count = messages.iter().filter(|up| senders.contains(**up)).count() as i64;
        if count == 0 {
            return Ok(Reservation::Numbers {
                first: 0,
                senders,
                horizon: Horizon::default(),
            });
        }
        let members: Vec<&str> = senders.iter().map(Up::as_str).collect();
        let reserved = store
            .groups_raw()
            .find_one_and_update(
                doc! {"_id": group, "users": {"$all": members}},
                doc! {"$inc": {"messageCount": count}},
            )
            .projection(doc! {"messageCount": 1, "visibleSeq": 1, "voids": 1})
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?;
        if let Some(found) = reserved {
            let last = found.get_i64("messageCount").unwrap_or(count);
            return Ok(Reservation::Numbers {
                first: last - count + 1,
                senders,
                horizon: Horizon::of(&found),
            });
        }
        let Some(current) = store
            .groups_raw()
            .find_one(doc! {"_id": group})
            .projection(doc! {"users": 1})
            .await
            .map_err(db_error)?
        else {
            return Ok(Reservation::NoGroup);
        };
        let users: HashSet<&str> = current
            .get_array("users")
            .map(|users| users.iter().filter_map(|u| u.as_str()).collect())
            .unwrap_or_default();
        senders.retain(|up| users.contains(up.as_str()));
    }
    Err(ApiError::Unavailable(anyhow::anyhow!(
        "the members of group {group} kept changing"
    )))
}

/// Raises the group's counter to its newest stored number, after a
/// reserved number turned out taken (a group whose counter fell behind its
/// messages, as an earlier version could leave it after a crash).
pub async fn catch_up_counter(store: &Store, group: ObjectId, taken: i64) -> Result<(), ApiError> {
    let newest = store.newest_seq_above(group, taken).await?;
    store
        .groups_raw()
        .update_one(doc! {"_id": group}, doc! {"$max": {"messageCount": newest}})
        .await
        .map_err(db_error)?;
    Ok(())
}
