//! The visible horizon of a group's messages: the number up to which every
//! `seq` is taken, and so the newest message readers may see.
//!
//! Any store instance may number a group's messages: it reserves numbers
//! with an atomic `$inc` of the group's `messageCount`, then inserts. Two
//! instances' inserts land in any order, so for a moment number 11 may be
//! stored while 10 is not. A reader that saw 11 and then paged on with
//! `after` would miss 10 for ever. So readers see only messages up to the
//! group's `visibleSeq`, and `visibleSeq` moves only over numbers that are
//! taken:
//!
//! - a writer moves it after its insert ([`Store::advance_horizon`]), with a
//!   compare-and-set from the value it read, over the run of consecutive
//!   numbers stored after it, and answers its senders only once the horizon
//!   has passed their messages;
//! - a number reserved by a writer that failed or died is a hole. A writer
//!   waiting behind a hole for [`SEAL_AFTER`] fills it with a *void*
//!   ([`Store::seal`]): a document that takes the number and is never shown.
//!   The unique `{group, seq}` index decides between the void and a late
//!   insert of the real message: exactly one of them holds the number, and
//!   a writer whose message lost its number takes a new one.
//!
//! Voids are counted on the group (`voids`) as the horizon passes them, so
//! message counts and unread counts leave them out exactly.

use super::{Store, db_error, is_duplicate_key};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;
use std::time::Duration;

/// How long a writer waits behind a hole before it fills it with a void.
/// Longer than a healthy insert takes; shorter than a chat node waits for
/// its call to the store (5 s).
pub const SEAL_AFTER: Duration = Duration::from_millis(1500);

/// Numbers read per step when moving the horizon.
const WINDOW: i64 = 256;

/// The filter that leaves out voids; every read of messages adds it.
pub fn not_void() -> Document {
    doc! {"void": {"$exists": false}}
}

/// A group's horizon, as stored on the group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Horizon {
    /// Every number up to this one is taken: the newest a reader may see.
    pub visible: i64,
    /// Voids at or below `visible`.
    pub voids: i64,
}

impl Horizon {
    /// Reads `visibleSeq` and `voids` from a group document.
    pub fn of(group: &Document) -> Self {
        Self {
            visible: group.get_i64("visibleSeq").unwrap_or(0),
            voids: group.get_i64("voids").unwrap_or(0),
        }
    }

    /// The messages readers can see (deleted ones included).
    pub fn messages(&self) -> i64 {
        (self.visible - self.voids).max(0)
    }
}

/// Numbers `first..=last` taken by one writer, `voids` of them by voids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// The first number.
    pub first: i64,
    /// The last number.
    pub last: i64,
    /// How many of them voids took.
    pub voids: i64,
}

/// The end of the run of consecutive numbers after `from` in `seqs`
/// (ascending), and how many voids that run holds.
pub fn consecutive_run(from: i64, seqs: &[(i64, bool)]) -> (i64, i64) {
    let (mut end, mut voids) = (from, 0);
    for &(seq, void) in seqs {
        if seq != end + 1 {
            break;
        }
        end = seq;
        voids += i64::from(void);
    }
    (end, voids)
}

impl Store {
    /// The horizon of a group, or `not_found`.
    pub async fn horizon(&self, group: ObjectId) -> Result<Horizon, ApiError> {
        let found = self
            .groups_raw()
            .find_one(doc! {"_id": group})
            .projection(doc! {"visibleSeq": 1, "voids": 1})
            .await
            .map_err(db_error)?
            .ok_or_else(|| super::groups::group_not_found(group))?;
        Ok(Horizon::of(&found))
    }

    /// Moves the horizon of `group` over every number taken after it and
    /// returns where it stands. `known` is a value the horizon had (it
    /// only moves forward), so the first read starts there.
    pub async fn advance_horizon(&self, group: ObjectId, known: i64) -> Result<i64, ApiError> {
        let mut visible = known;
        loop {
            let taken = self.taken_after(group, visible).await?;
            let (end, voids) = consecutive_run(visible, &taken);
            if end == visible {
                // `visible + 1` is free, and everything up to the stored
                // horizon is taken: `visible` is the horizon.
                return Ok(visible);
            }
            // A group stored before horizons existed has none: it starts at 0.
            let at_visible = if visible == 0 {
                doc! {"_id": group, "$or": [{"visibleSeq": 0_i64}, {"visibleSeq": {"$exists": false}}]}
            } else {
                doc! {"_id": group, "visibleSeq": visible}
            };
            let moved = self
                .groups_raw()
                .update_one(
                    at_visible,
                    doc! {"$set": {"visibleSeq": end}, "$inc": {"voids": voids}},
                )
                .await
                .map_err(db_error)?;
            if moved.matched_count == 1 {
                visible = end;
                if (taken.len() as i64) < WINDOW {
                    return Ok(visible);
                }
            } else {
                // Someone else moved it: start again from where it is.
                visible = self.horizon(group).await?.visible.max(visible);
            }
        }
    }

    /// Moves the horizon of `group` over `run` if it stands just before it
    /// (everything up to `run.first - 1` is taken, and the run is): one
    /// update, no read. Without voids in the run, a horizon already inside
    /// it moves too (nothing is counted twice). Returns whether it moved.
    pub async fn move_horizon_over(&self, group: ObjectId, run: Run) -> Result<bool, ApiError> {
        let before_run = if run.voids == 0 {
            doc! {"$gte": run.first - 1, "$lt": run.last}
        } else {
            doc! {"$eq": run.first - 1}
        };
        let moved = self
            .groups_raw()
            .update_one(
                doc! {"_id": group, "visibleSeq": before_run},
                doc! {"$set": {"visibleSeq": run.last}, "$inc": {"voids": run.voids}},
            )
            .await
            .map_err(db_error)?;
        Ok(moved.matched_count == 1)
    }

    /// Fills number `seq` of `group` with a void, unless a message (or
    /// another void) already holds it.
    pub async fn seal(&self, group: ObjectId, seq: i64) -> Result<(), ApiError> {
        let void = doc! {"_id": ObjectId::new(), "group": group, "seq": seq, "void": true};
        match self.messages_raw().insert_one(void).await {
            Ok(_) => {
                tracing::info!(group = %group, seq, "filled a reserved message number nobody stored");
                Ok(())
            }
            Err(err) if is_duplicate_key(&err) => Ok(()),
            Err(err) => Err(db_error(err)),
        }
    }

    /// Voids of `group` numbered after `after` and up to `upto`.
    pub async fn voids_between(
        &self,
        group: ObjectId,
        after: i64,
        upto: i64,
    ) -> Result<i64, ApiError> {
        if upto <= after {
            return Ok(0);
        }
        let filter = doc! {"group": group, "seq": {"$gt": after, "$lte": upto}, "void": true};
        let count = self
            .messages_raw()
            .count_documents(filter)
            .await
            .map_err(db_error)?;
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }

    /// Messages of `group` after number `read_seq` that readers can see:
    /// its unread count for a reader whose marker is at `read_seq`. Costs a
    /// query only in a group that holds voids.
    pub async fn unread_after(
        &self,
        group: ObjectId,
        horizon: Horizon,
        read_seq: i64,
    ) -> Result<u64, ApiError> {
        if read_seq >= horizon.visible {
            return Ok(0);
        }
        let voids = if horizon.voids > 0 {
            self.voids_between(group, read_seq, horizon.visible).await?
        } else {
            0
        };
        Ok(u64::try_from(horizon.visible - read_seq - voids).unwrap_or(0))
    }

    /// Gives every group stored before horizons existed its horizon: its
    /// newest stored number (all of them were visible then). Idempotent, and
    /// safe while other instances do the same.
    pub async fn add_missing_horizons(&self) -> Result<(), ApiError> {
        let old: Vec<Document> = self
            .groups_raw()
            .find(doc! {"visibleSeq": {"$exists": false}})
            .projection(doc! {"messageCount": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        for group in old {
            let Ok(id) = group.get_object_id("_id") else {
                continue;
            };
            let counted = group.get_i64("messageCount").unwrap_or(0);
            let newest = self.newest_seq_above(id, counted).await?;
            self.groups_raw()
                .update_one(
                    doc! {"_id": id, "visibleSeq": {"$exists": false}},
                    doc! {"$set": {"visibleSeq": newest, "voids": 0_i64}, "$max": {"messageCount": newest}},
                )
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    /// The numbers taken after `after` (at most [`WINDOW`]), ascending, each
    /// with whether it is a void.
    async fn taken_after(&self, group: ObjectId, after: i64) -> Result<Vec<(i64, bool)>, ApiError> {
        let docs: Vec<Document> = self
            .messages_raw()
            .find(doc! {"group": group, "seq": {"$gt": after, "$lte": after + WINDOW}})
            .sort(doc! {"seq": 1})
            .projection(doc! {"seq": 1, "void": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        Ok(docs
            .iter()
            .filter_map(|d| Some((d.get_i64("seq").ok()?, d.get_bool("void").unwrap_or(false))))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_stops_at_the_first_free_number_and_counts_its_voids() {
        assert_eq!(consecutive_run(4, &[]), (4, 0));
        assert_eq!(consecutive_run(4, &[(6, false)]), (4, 0));
        assert_eq!(
            consecutive_run(4, &[(5, false), (6, true), (7, false), (9, true)]),
            (7, 1)
        );
    }

    #[test]
    fn voids_are_not_messages() {
        let horizon = Horizon {
            visible: 10,
            voids: 2,
        };
        assert_eq!(horizon.messages(), 8);
    }
}
