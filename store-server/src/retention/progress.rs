//! What the sweep keeps on a group (`sweep` in its document): how far it
//! has deleted, the newest time it deleted, and when the group's messages
//! became read by every member ([`ReadByAll`]), which the grace of
//! `untilRead` counts from.
//!
//! The rules here are pure, and unit-tested: the sweep (`sweep.rs`) reads
//! the group, asks these what is due, and writes back what they answer.

use crate::db::documents::GroupDoc;
use mongodb::bson::DateTime;
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The `sweep` sub-document of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepDoc {
    /// Every message numbered up to this was deleted by the sweep (0:
    /// none). Messages are only ever swept from the oldest on, so this one
    /// number says which are gone; it only grows.
    #[serde(default)]
    pub through: i64,
    /// The newest of the swept messages' times (their `timestamp`, or the
    /// time in their id if later): an id no message has, but whose time is
    /// no later than this, may be a swept message of the group
    /// ([`SweepDoc::may_hold`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime>,
    /// When the group's messages up to a number were first seen read by
    /// every member, oldest first (`untilRead` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_by_all: Vec<ReadByAll>,
}

/// The messages up to `seq` were read by every member at `at` or before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadByAll {
    /// The newest message every member had read.
    pub seq: i64,
    /// When a sweep saw it so.
    pub at: DateTime,
}

impl SweepDoc {
    /// Whether `id`, which names no stored message, may have been one of
    /// the swept messages: some were swept, and the id was made no later
    /// than the newest of them. (An id is made when its message is sent,
    /// never after its `timestamp`.)
    pub fn may_hold(&self, id: ObjectId) -> bool {
        self.through > 0 && self.until.is_some_and(|until| id.timestamp() <= until)
    }
}

impl GroupDoc {
    /// The number of the newest message the sweep deleted (0: none).
    pub fn swept_through(&self) -> i64 {
        self.sweep.as_ref().map_or(0, |sweep| sweep.through)
    }
}

/// What the `untilRead` rule allows now, and the checkpoints to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRule {
    /// Messages up to this number were read by every member at least the
    /// grace ago (never above what every member has read now).
    pub read_through: i64,
    /// The checkpoints to store, when they changed.
    pub checkpoints: Option<Vec<ReadByAll>>,
}

/// How many checkpoints a grace holds at most: a new one is recorded only
/// once the newest is older than a sixteenth of the grace, so a message
/// read by all may wait up to that much longer than its grace, never less.
const CHECKPOINTS_PER_GRACE: u32 = 16;

/// Applies what a sweep sees now, `min_read` (the newest number every
/// current member has read), to the `checkpoints` of a group swept through
/// `through`, with a grace of `grace`.
///
/// - With no grace, everything read by all is due at once.
/// - When `min_read` went back (a member joined, and has read less), the
///   checkpoints no longer say when the current members all read: they are
///   dropped, and counting starts again from now.
/// - A new checkpoint `(min_read, now)` is recorded when it says something
///   new, at most every `grace / 16`.
/// - Checkpoints older than the grace collapse into the newest of them;
///   those at or below `through` are dropped.
pub fn read_rule(
    checkpoints: &[ReadByAll],
    min_read: i64,
    through: i64,
    now: DateTime,
    grace: Duration,
) -> ReadRule {
    if grace.is_zero() {
        return ReadRule {
            read_through: min_read,
            checkpoints: (!checkpoints.is_empty()).then(Vec::new),
        };
    }
    let mut kept: Vec<ReadByAll> = if checkpoints.last().is_some_and(|c| c.seq > min_read) {
        Vec::new()
    } else {
        checkpoints.to_vec()
    };
    let newest = kept.last().map_or(through, |c| c.seq.max(through));
    let spacing = grace / CHECKPOINTS_PER_GRACE;
    let spaced = kept.last().is_none_or(|c| elapsed(c.at, now) >= spacing);
    if min_read > newest && spaced {
        kept.push(ReadByAll {
            seq: min_read,
            at: now,
        });
    }
    let due = kept
        .iter()
        .filter(|c| elapsed(c.at, now) >= grace)
        .map(|c| c.seq)
        .max()
        .unwrap_or(0);
    let read_through = due.min(min_read);
    kept.retain(|c| c.seq > through && (c.seq >= due || elapsed(c.at, now) < grace));
    ReadRule {
        read_through,
        checkpoints: (kept != checkpoints).then_some(kept),
    }
}

/// Time from `then` to `now` (none when `then` is later).
fn elapsed(then: DateTime, now: DateTime) -> Duration {
    let millis = now
        .timestamp_millis()
        .saturating_sub(then.timestamp_millis());
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn at(hours: f64) -> DateTime {
        DateTime::from_millis((hours * 3_600_000.0) as i64 + 1_700_000_000_000)
    }

    fn mark(seq: i64, hours: f64) -> ReadByAll {
        ReadByAll { seq, at: at(hours) }
    }

    #[test]
    fn without_grace_everything_read_by_all_is_due_and_nothing_is_kept() {
        let rule = read_rule(&[], 12, 0, at(0.0), Duration::ZERO);
        assert_eq!(rule.read_through, 12);
        assert_eq!(rule.checkpoints, None, "nothing to write");
        let rule = read_rule(&[mark(3, 0.0)], 12, 0, at(1.0), Duration::ZERO);
        assert_eq!(rule.checkpoints, Some(Vec::new()), "stale ones are dropped");
    }

    #[test]
    fn the_grace_counts_from_when_all_had_read() {
        // First seen read by all at hour 0: recorded, not due.
        let rule = read_rule(&[], 10, 0, at(0.0), 2 * HOUR);
        assert_eq!(rule.read_through, 0);
        assert_eq!(rule.checkpoints, Some(vec![mark(10, 0.0)]));
        // Hour 1: more read; a new checkpoint (spacing is 7.5 minutes).
        let rule = read_rule(&[mark(10, 0.0)], 15, 0, at(1.0), 2 * HOUR);
        assert_eq!(rule.read_through, 0);
        assert_eq!(rule.checkpoints, Some(vec![mark(10, 0.0), mark(15, 1.0)]));
        // Hour 2: the first is due, the second not yet.
        let rule = read_rule(&[mark(10, 0.0), mark(15, 1.0)], 15, 0, at(2.0), 2 * HOUR);
        assert_eq!(rule.read_through, 10);
        assert_eq!(rule.checkpoints, None);
        // Once swept through 10, the first is dropped.
        let rule = read_rule(&[mark(10, 0.0), mark(15, 1.0)], 15, 10, at(2.5), 2 * HOUR);
        assert_eq!(rule.read_through, 10);
        assert_eq!(rule.checkpoints, Some(vec![mark(15, 1.0)]));
        // Hour 3: the second is due.
        let rule = read_rule(&[mark(15, 1.0)], 15, 10, at(3.0), 2 * HOUR);
        assert_eq!(rule.read_through, 15);
    }

    #[test]
    fn checkpoints_are_spaced_so_they_stay_few() {
        let mut kept = Vec::new();
        // A sweep a minute for a day, and a new message read by all each time.
        for minute in 0..(24 * 60) {
            let rule = read_rule(
                &kept,
                i64::from(minute) + 1,
                0,
                at(f64::from(minute) / 60.0),
                24 * HOUR,
            );
            if let Some(checkpoints) = rule.checkpoints {
                kept = checkpoints;
            }
            assert!(kept.len() <= 17, "{} checkpoints", kept.len());
        }
    }

    #[test]
    fn a_member_who_reads_less_starts_the_count_again() {
        // Read by all through 20 at hour 0; at hour 3 a new member has read
        // only through 5.
        let rule = read_rule(&[mark(20, 0.0)], 5, 0, at(3.0), 2 * HOUR);
        assert_eq!(rule.read_through, 0, "not due: the newcomer read just now");
        assert_eq!(rule.checkpoints, Some(vec![mark(5, 3.0)]));
    }

    #[test]
    fn nothing_is_due_above_what_all_have_read_now() {
        let rule = read_rule(&[mark(20, 0.0)], 20, 0, at(5.0), 2 * HOUR);
        assert_eq!(rule.read_through, 20);
        let rule = read_rule(&[mark(20, 0.0), mark(30, 0.5)], 25, 0, at(5.0), 2 * HOUR);
        assert_eq!(
            rule.read_through, 0,
            "a member now reads less than the checkpoints say: counted again"
        );
    }

    #[test]
    fn an_unknown_id_may_be_swept_only_if_made_before_the_newest_swept() {
        let newest = DateTime::from_millis(1_700_000_000_000);
        let sweep = SweepDoc {
            through: 4,
            until: Some(newest),
            read_by_all: Vec::new(),
        };
        let made_at = |seconds: u32| {
            let mut bytes = [0u8; 12];
            bytes[..4].copy_from_slice(&seconds.to_be_bytes());
            ObjectId::from_bytes(bytes)
        };
        let (old, new) = (made_at(1_699_999_000), made_at(1_700_000_100));
        assert!(sweep.may_hold(old));
        assert!(!sweep.may_hold(new));
        assert!(!SweepDoc::default().may_hold(old), "nothing was swept");
    }
}
