//! Answering a stored batch: once readers can see it.
//!
//! A sender is answered only when its group's horizon (`db::horizon`) has
//! passed its message, so an acked message is one that every reader paging
//! with `after` will find, and never behind a number still empty. Meanwhile
//! the senders' read markers move to their messages (sending means having
//! read the group up to there), in one `update` for the whole batch.
//!
//! Waiting behind a number another writer reserved: the horizon is tried
//! again, a little later each time; a number still free after
//! [`SEAL_AFTER`] is filled with a void. A batch waits at most
//! [`MAX_WAIT`]; past it, its senders are told `unavailable` (their
//! messages are stored, and a retry finds them).

use super::insert::{Done, Inserted};
use super::orphans::Orphans;
use super::{Outcome, Stored};
use crate::db::Store;
use crate::db::horizon::Run;
use crate::db::horizon::SEAL_AFTER;
use crate::db::reads::ReadMarker;
use chat_wire::ids::Up;
use chat_wire::model::Message;
use futures::future::join_all;
use mongodb::bson::oid::ObjectId;
use service_kit::ApiError;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// The longest a batch waits for readers to see it.
pub const MAX_WAIT: Duration = Duration::from_secs(3);
/// The first pause behind a number another writer holds; it doubles up to
/// [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(2);
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// Makes the batch visible, moves the senders' markers, and answers.
/// `horizons` holds, per group, a value its horizon had.
pub async fn publish(
    store: &Store,
    inserted: Inserted,
    horizons: &HashMap<ObjectId, i64>,
    orphans: &Orphans,
) {
    let Inserted {
        done,
        unfilled,
        taken,
    } = inserted;
    if done.is_empty() {
        return;
    }
    let mut targets: HashMap<ObjectId, i64> = HashMap::new();
    for item in &done {
        let target = targets.entry(item.doc.group).or_default();
        *target = (*target).max(item.doc.seq);
    }
    let visible = join_all(targets.iter().map(|(group, target)| {
        let known = horizons.get(group).copied().unwrap_or(0);
        let run = taken
            .get(group)
            .filter(|_| !unfilled.iter().any(|(g, _)| g == group))
            .and_then(|numbers| own_run(numbers));
        async move {
            if let Some(run) = run {
                match store.move_horizon_over(*group, run).await {
                    Ok(true) if run.last >= *target => return (*group, Ok(())),
                    Ok(_) => {}
                    Err(err) => return (*group, Err(err)),
                }
            }
            (*group, wait_visible(store, *group, known, *target).await)
        }
    }));
    let (visible, markers) = tokio::join!(visible, move_markers(store, &done));
    if let Err(err) = markers {
        // The messages are stored and visible; the marker moves again at
        // the sender's next message or read.
        tracing::warn!(error = %err, "could not move the senders' read markers");
    }
    let visible: HashMap<ObjectId, Result<(), ApiError>> = visible.into_iter().collect();
    for item in done {
        match visible.get(&item.doc.group) {
            Some(Ok(())) => {
                let stored = Stored {
                    message: Message::from(item.doc),
                    created: item.created,
                };
                item.pending.answer(Outcome::Stored(stored), orphans);
            }
            Some(Err(err)) => {
                let err = ApiError::from_code(err.code(), err.to_string());
                item.pending.answer_unknown(err, orphans);
            }
            None => unreachable!("every group of the batch has a target"),
        }
    }
}

/// The numbers a batch took in a group, when they are one unbroken run:
/// then, if the horizon stands just before it, the batch can move it to
/// the run's end in one update, without reading what is stored.
fn own_run(numbers: &[(i64, bool)]) -> Option<Run> {
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    let (first, last) = (sorted.first()?.0, sorted.last()?.0);
    let unbroken = sorted.windows(2).all(|pair| pair[1].0 == pair[0].0 + 1);
    unbroken.then(|| Run {
        first,
        last,
        voids: sorted.iter().filter(|(_, void)| *void).count() as i64,
    })
}

/// Waits until the horizon of `group` reaches `target`, filling numbers
/// left free for [`SEAL_AFTER`].
async fn wait_visible(
    store: &Store,
    group: ObjectId,
    known: i64,
    target: i64,
) -> Result<(), ApiError> {
    let give_up = Instant::now() + MAX_WAIT;
    let mut visible = known;
    let mut blocked_since = Instant::now();
    let mut pause = FIRST_PAUSE;
    loop {
        let now_visible = store.advance_horizon(group, visible).await?;
        if now_visible >= target {
            return Ok(());
        }
        if now_visible > visible {
            blocked_since = Instant::now();
            pause = FIRST_PAUSE;
        }
        visible = now_visible;
        if blocked_since.elapsed() >= SEAL_AFTER {
            store.seal(group, visible + 1).await?;
            continue;
        }
        if Instant::now() + pause > give_up {
            return Err(ApiError::Unavailable(anyhow::anyhow!(
                "message {} of the group is not visible yet",
                visible + 1
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Moves each sender's read marker forward to their newest message of the
/// batch, in one write.
async fn move_markers(store: &Store, done: &[Done]) -> Result<(), ApiError> {
    let mut newest: HashMap<(ObjectId, &Up), (i64, ObjectId)> = HashMap::new();
    for item in done.iter().filter(|item| item.created) {
        let doc = &item.doc;
        let marker = (doc.seq, doc.id);
        newest
            .entry((doc.group, &doc.from))
            .and_modify(|current| *current = (*current).max(marker))
            .or_insert(marker);
    }
    let markers: Vec<ReadMarker> = newest
        .into_iter()
        .map(|((group, up), (seq, message))| ReadMarker {
            group,
            up,
            seq,
            message,
        })
        .collect();
    store.advance_read_markers(&markers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unbroken_run_of_numbers_can_move_the_horizon_at_once() {
        let run = own_run(&[(7, false), (5, false), (6, true)]).unwrap();
        assert_eq!((run.first, run.last, run.voids), (5, 7, 1));
        assert!(
            own_run(&[(5, false), (7, false)]).is_none(),
            "6 is someone else's"
        );
        assert!(own_run(&[]).is_none());
    }
}
