//! The sweep: deletes the messages of each group whose retention has run
//! out, from the oldest on, in bounded batches with a pause between them.
//!
//! For one group:
//!
//! 1. Read the group: its retention, members, count and `sweep`.
//! 2. What is due ([`Due`]): for `days`, what was sent before `now − days`;
//!    for `untilRead`, what every current member has read and has been
//!    read by all for the grace (`progress::read_rule`, from the read
//!    markers), and anything older than 30 days. Nothing younger than the
//!    minimum age, and nothing past the group's count.
//! 3. Read the next batch by number after `sweep.through` on the
//!    `{group, seq}` index (a single message first: when it is not due, the
//!    group costs one index probe), and take the longest run from the
//!    oldest that is due. A number that is missing is gone already.
//! 4. Mark their attachments `removing`, empty the quotes of them that
//!    replies hold (they read as deleted), raise `sweep.through` (from then
//!    on no page, cursor or change feed returns them), delete the
//!    messages with one `deleteMany` on the index range, then erase the
//!    attachments' bytes. Pause, and go on with the next batch.
//!
//! Every step is idempotent, so any number of store instances may sweep at
//! once: two sweeps of a group delete the same range (the second finds
//! nothing), `through` only grows (`$max`), and erasing bytes twice is
//! harmless. A sweep stopped between two steps leaves what the next one
//! finishes: messages at or below `through` are deleted at the start of
//! every group's sweep, and attachments left `removing` are erased by the
//! attachment sweep.

use super::progress::{SweepDoc, read_rule};
use super::settings::RetentionSettings;
use crate::db::documents::{GroupDoc, entity_id, read_key};
use crate::db::{Store, db_error};
use chat_wire::retention::{Retention, UNTIL_READ_CAP_DAYS};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use serde::{Deserialize, Serialize};
use service_kit::ApiError;
use std::time::Duration;
use utoipa::ToSchema;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);

/// What a sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Groups with a retention other than `forever` that were looked at.
    pub groups: u64,
    /// Messages deleted.
    pub messages: u64,
    /// Attachments whose bytes were deleted with their messages.
    pub attachments: u64,
}

impl std::ops::AddAssign for SweepReport {
    fn add_assign(&mut self, other: Self) {
        self.groups += other.groups;
        self.messages += other.messages;
        self.attachments += other.attachments;
    }
}

/// Sweeps every group whose retention is not `forever`, as at `now`.
/// Such groups are found with the sparse `{retention.mode}` index: the
/// groups that keep their messages forever cost nothing. A group that
/// fails is logged and left for the next sweep.
pub async fn sweep_all(
    store: &Store,
    settings: &RetentionSettings,
    now: DateTime,
) -> Result<SweepReport, ApiError> {
    let ids: Vec<Document> = store
        .groups_raw()
        .find(doc! {"retention.mode": {"$in": ["days", "untilRead"]}})
        .projection(doc! {"_id": 1})
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)?;
    let mut report = SweepReport::default();
    for id in ids.iter().filter_map(|d| d.get_object_id("_id").ok()) {
        // One group that cannot be swept does not hold the others back.
        match sweep_group(store, settings, id, now).await {
            Ok(swept) => report += swept,
            Err(err) => {
                tracing::warn!(group = %entity_id(id), error = %err, "a group could not be swept; it is tried again next time");
            }
        }
    }
    Ok(report)
}

/// Sweeps one group, as at `now` (see the module documentation).
pub async fn sweep_group(
    store: &Store,
    settings: &RetentionSettings,
    group: ObjectId,
    now: DateTime,
) -> Result<SweepReport, ApiError> {
    let doc = store.group(group).await?;
    let mut report = SweepReport::default();
    if doc.retention.is_forever() {
        return Ok(report);
    }
    report.groups = 1;
    let mut sweep = doc.sweep.clone().unwrap_or_default();
    if sweep.through > 0 {
        // What a sweep stopped after raising `through` left behind.
        let left = store
            .messages
            .delete_many(doc! {"group": group, "seq": {"$lte": sweep.through}})
            .await
            .map_err(db_error)?;
        report.messages += left.deleted_count;
    }
    let mut doc = doc;
    let mut due = due(store, &doc, &sweep, now, settings.min_age()).await?;
    let mut limit = 1;
    loop {
        let floor = sweep.through;
        let end = doc
            .message_count
            .min(floor.saturating_add(i64::from(settings.batch)));
        if end <= floor {
            break;
        }
        let batch = read_batch(store, group, floor, end, limit).await?;
        let (through, stopped) = due.run(&batch, floor, end, limit);
        if through == floor {
            break;
        }
        if limit == 1 && !stopped {
            // The first message is due: read the whole batch.
            limit = i64::from(settings.batch);
            continue;
        }
        report += delete_through(store, group, &batch, floor, through).await?;
        if stopped {
            break;
        }
        tokio::time::sleep(settings.pause()).await;
        // A backlog takes many batches: the group is read again before
        // each, so that a member who joined meanwhile (and has read
        // nothing), a marker that moved or a retention changed by an admin
        // applies from the next batch on.
        doc = store.group(group).await?;
        if doc.retention.is_forever() {
            break;
        }
        sweep = doc.sweep.clone().unwrap_or_default();
        due = self::due(store, &doc, &sweep, now, settings.min_age()).await?;
    }
    Ok(report)
}

/// A message of a batch: what the sweep needs of it.
#[derive(Debug, Clone, Deserialize)]
struct Candidate {
    #[serde(rename = "_id")]
    id: ObjectId,
    seq: i64,
    timestamp: DateTime,
    #[serde(default)]
    attachments: Vec<CandidateFile>,
}

/// An attachment of a candidate.
#[derive(Debug, Clone, Deserialize)]
struct CandidateFile {
    #[serde(rename = "_id")]
    id: ObjectId,
}

/// Up to `limit` messages numbered `floor + 1 ..= end`, oldest first.
async fn read_batch(
    store: &Store,
    group: ObjectId,
    floor: i64,
    end: i64,
    limit: i64,
) -> Result<Vec<Candidate>, ApiError> {
    store
        .messages
        .clone_with_type::<Candidate>()
        .find(doc! {"group": group, "seq": {"$gt": floor, "$lte": end}})
        .sort(doc! {"seq": 1})
        .projection(doc! {"_id": 1, "seq": 1, "timestamp": 1, "attachments._id": 1})
        .limit(limit)
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)
}

/// Deletes the messages of `batch` numbered `floor + 1 ..= through` and
/// their attachments.
async fn delete_through(
    store: &Store,
    group: ObjectId,
    batch: &[Candidate],
    floor: i64,
    through: i64,
) -> Result<SweepReport, ApiError> {
    let gone: Vec<&Candidate> = batch.iter().filter(|m| m.seq <= through).collect();
    let files: Vec<ObjectId> = gone
        .iter()
        .flat_map(|m| m.attachments.iter().map(|a| a.id))
        .collect();
    // Nothing serves or claims them from now on; if this sweep stops, the
    // attachment sweep erases them.
    store.mark_removing(&files).await?;
    let ids: Vec<ObjectId> = gone.iter().map(|m| m.id).collect();
    store.forget_quotes(&ids, DateTime::now()).await?;
    let until = gone
        .iter()
        .map(|m| m.timestamp.max(m.id.timestamp()))
        .max()
        .unwrap_or(DateTime::MIN);
    store
        .groups
        .update_one(
            doc! {"_id": group},
            doc! {"$max": {"sweep.through": through, "sweep.until": until}},
        )
        .await
        .map_err(db_error)?;
    let deleted = store
        .messages
        .delete_many(doc! {"group": group, "seq": {"$gt": floor, "$lte": through}})
        .await
        .map_err(db_error)?;
    store.remove_attachments(&files).await?;
    Ok(SweepReport {
        groups: 0,
        messages: deleted.deleted_count,
        attachments: files.len() as u64,
    })
}

/// Which messages of a group are due now.
#[derive(Debug, Clone, Copy)]
struct Due {
    /// Messages up to this number may go (`untilRead`: read by all, and
    /// the grace passed).
    read_through: i64,
    /// Messages sent before this may go (`days`, and the cap of `untilRead`).
    sent_before: Option<DateTime>,
    /// Messages sent after this may not go, whatever the rest says.
    young_after: DateTime,
}

impl Due {
    fn expired(&self, message: &Candidate) -> bool {
        message.timestamp <= self.young_after
            && (message.seq <= self.read_through
                || self.sent_before.is_some_and(|t| message.timestamp < t))
    }

    /// The newest number of the run of due messages from `floor + 1` on,
    /// and whether a message that is not due stopped it. Missing numbers
    /// are gone already; a batch that came back whole (fewer than `limit`)
    /// ends at `end`.
    fn run(&self, batch: &[Candidate], floor: i64, end: i64, limit: i64) -> (i64, bool) {
        let mut through = floor;
        for message in batch {
            if !self.expired(message) {
                return (through, true);
            }
            through = message.seq;
        }
        if (batch.len() as i64) < limit {
            through = end;
        }
        (through, false)
    }
}

/// What is due in `group` at `now`; for `untilRead`, stores the group's
/// new read-by-all checkpoints.
async fn due(
    store: &Store,
    group: &GroupDoc,
    sweep: &SweepDoc,
    now: DateTime,
    min_age: Duration,
) -> Result<Due, ApiError> {
    let young_after = before(now, min_age);
    Ok(match group.retention {
        Retention::Forever => Due {
            read_through: 0,
            sent_before: None,
            young_after: DateTime::MIN,
        },
        Retention::Days { days } => Due {
            read_through: 0,
            sent_before: Some(before(now, DAY * days)),
            young_after,
        },
        Retention::UntilRead { grace_hours } => {
            let min_read = min_read(store, group).await?;
            let rule = read_rule(
                &sweep.read_by_all,
                min_read,
                sweep.through,
                now,
                HOUR * grace_hours,
            );
            if let Some(checkpoints) = rule.checkpoints {
                let checkpoints = mongodb::bson::to_bson(&checkpoints)
                    .map_err(|err| ApiError::Internal(anyhow::Error::new(err)))?;
                store
                    .groups
                    .update_one(
                        doc! {"_id": group.id},
                        doc! {"$set": {"sweep.readByAll": checkpoints}},
                    )
                    .await
                    .map_err(db_error)?;
            }
            Due {
                read_through: rule.read_through,
                sent_before: Some(before(now, DAY * UNTIL_READ_CAP_DAYS)),
                young_after,
            }
        }
    })
}

/// The newest number every current member has read: the smallest of their
/// read markers, 0 if one has none. A group without members has nobody
/// left to read: all of it counts as read.
async fn min_read(store: &Store, group: &GroupDoc) -> Result<i64, ApiError> {
    if group.users.is_empty() {
        return Ok(group.message_count);
    }
    let keys: Vec<String> = group
        .users
        .iter()
        .map(|up| read_key(&group.id, up))
        .collect();
    let markers: Vec<Document> = store
        .reads
        .clone_with_type::<Document>()
        .find(doc! {"_id": {"$in": keys}})
        .projection(doc! {"seq": 1})
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)?;
    if markers.len() < group.users.len() {
        return Ok(0);
    }
    Ok(markers
        .iter()
        .map(|m| m.get_i64("seq").unwrap_or(0))
        .min()
        .unwrap_or(0))
}

/// `now` minus `age`.
fn before(now: DateTime, age: Duration) -> DateTime {
    let millis = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    DateTime::from_millis(now.timestamp_millis().saturating_sub(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: i64, minutes_ago: i64) -> Candidate {
        Candidate {
            id: ObjectId::new(),
            seq,
            timestamp: DateTime::from_millis(1_700_000_000_000 - minutes_ago * 60_000),
            attachments: Vec::new(),
        }
    }

    fn at(minutes_ago: i64) -> DateTime {
        DateTime::from_millis(1_700_000_000_000 - minutes_ago * 60_000)
    }

    #[test]
    fn the_run_stops_at_the_first_message_not_due() {
        let due = Due {
            read_through: 3,
            sent_before: None,
            young_after: at(0),
        };
        let batch: Vec<_> = (1..=5).map(|seq| message(seq, 10)).collect();
        assert_eq!(due.run(&batch, 0, 5, 500), (3, true));
    }

    #[test]
    fn missing_numbers_are_gone_already_and_a_whole_batch_ends_at_its_end() {
        let due = Due {
            read_through: 10,
            sent_before: None,
            young_after: at(0),
        };
        let batch = vec![message(3, 10), message(4, 10)];
        assert_eq!(due.run(&batch, 0, 6, 500), (6, false));
        assert_eq!(due.run(&[], 2, 6, 500), (6, false));
        // A full batch (as many as asked for) ends at its last message.
        assert_eq!(due.run(&batch, 0, 6, 2), (4, false));
    }

    #[test]
    fn young_messages_are_never_due() {
        let due = Due {
            read_through: 10,
            sent_before: Some(at(0)),
            young_after: at(5),
        };
        let batch = vec![message(1, 10), message(2, 1)];
        assert_eq!(due.run(&batch, 0, 2, 500), (1, true));
    }

    #[test]
    fn the_cap_sweeps_what_nobody_read() {
        let due = Due {
            read_through: 0,
            sent_before: Some(at(60)),
            young_after: at(0),
        };
        let batch = vec![message(1, 90), message(2, 61), message(3, 30)];
        assert_eq!(due.run(&batch, 0, 3, 500), (2, true));
    }
}
