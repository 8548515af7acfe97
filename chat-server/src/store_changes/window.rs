//! Where the next read of the change log starts, and which changes were
//! applied already: the reader's window over a log written by several
//! store instances, each stamping `at` with its own clock.
//!
//! A change may become visible with an `at` older than changes already
//! read (another instance's clock is behind, or its insert was slower).
//! So every read starts [`OVERLAP`] before the newest time the reader
//! knows of, and the ids applied in that span are remembered and skipped.
//! An id older than the start of the window can never be read again (reads
//! never start before it, and the window only moves forward), so it is
//! forgotten: the set holds the changes of a few seconds, and at most
//! [`MAX_REMEMBERED`].

use chat_wire::ids::EntityId;
use chat_wire::time::Timestamp;
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// How far before the newest known time each read starts: more than the
/// clock difference between store instances plus the time an insert takes
/// to become visible. A change that shows up later than that is missed
/// (its sockets learn it at their next connect).
pub const OVERLAP: Duration = Duration::from_secs(5);
/// The most change ids remembered; beyond, the oldest are forgotten first.
pub const MAX_REMEMBERED: usize = 100_000;

/// The reader's window.
#[derive(Debug)]
pub struct Window {
    overlap: chrono::TimeDelta,
    /// The newest time known of the store's clocks: the newest `at` read,
    /// or the newest `now` a store answered with.
    newest: Timestamp,
    /// The applied ids, by `at`, to forget the oldest first.
    by_time: BTreeSet<(Timestamp, EntityId)>,
    applied: HashSet<EntityId>,
    limit: usize,
}

impl Window {
    /// A window whose first read starts `overlap` before `start`.
    pub fn new(start: Timestamp, overlap: Duration, limit: usize) -> Self {
        Self {
            overlap: chrono::TimeDelta::from_std(overlap).unwrap_or(chrono::TimeDelta::zero()),
            newest: start,
            by_time: BTreeSet::new(),
            applied: HashSet::new(),
            limit,
        }
    }

    /// Where the next read starts (inclusive).
    pub fn since(&self) -> Timestamp {
        self.newest - self.overlap
    }

    /// Whether the change `id` stamped `at` is new, remembering it: `false`
    /// for a change applied before.
    pub fn admit(&mut self, id: &EntityId, at: Timestamp) -> bool {
        self.newest = self.newest.max(at);
        if !self.applied.insert(id.clone()) {
            return false;
        }
        self.by_time.insert((at, id.clone()));
        while self.by_time.len() > self.limit {
            if let Some((_, oldest)) = self.by_time.pop_first() {
                self.applied.remove(&oldest);
            }
        }
        true
    }

    /// A store instance read the log at `now` (its clock): every change
    /// it records from now on is stamped at or after it.
    pub fn saw_clock(&mut self, now: Timestamp) {
        self.newest = self.newest.max(now);
    }

    /// Forgets the ids that no read can return any more.
    pub fn forget_old(&mut self) {
        let since = self.since();
        while let Some((at, _)) = self.by_time.first()
            && *at < since
        {
            if let Some((_, id)) = self.by_time.pop_first() {
                self.applied.remove(&id);
            }
        }
    }

    /// How many ids are remembered.
    pub fn remembered(&self) -> usize {
        self.applied.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_wire::time;

    fn at(raw: &str) -> Timestamp {
        time::parse(raw).unwrap()
    }

    fn id(n: u32) -> EntityId {
        EntityId::parse(format!("{n:024x}")).unwrap()
    }

    #[test]
    fn the_first_read_starts_the_overlap_before_the_start() {
        let window = Window::new(at("2026-01-01T00:00:10Z"), OVERLAP, 10);
        assert_eq!(window.since(), at("2026-01-01T00:00:05Z"));
    }

    #[test]
    fn a_change_read_twice_is_applied_once() {
        let mut window = Window::new(at("2026-01-01T00:00:10Z"), OVERLAP, 10);
        assert!(window.admit(&id(1), at("2026-01-01T00:00:11Z")));
        assert!(!window.admit(&id(1), at("2026-01-01T00:00:11Z")));
        assert!(window.admit(&id(2), at("2026-01-01T00:00:11Z")));
    }

    #[test]
    fn a_late_change_older_than_the_newest_is_still_applied_within_the_overlap() {
        let mut window = Window::new(at("2026-01-01T00:00:10Z"), OVERLAP, 10);
        assert!(window.admit(&id(1), at("2026-01-01T00:00:20Z")));
        // Another instance, two seconds behind, records after it.
        assert_eq!(window.since(), at("2026-01-01T00:00:15Z"));
        assert!(window.admit(&id(2), at("2026-01-01T00:00:18Z")));
    }

    #[test]
    fn the_window_moves_with_the_stores_clock_and_forgets_what_it_cannot_read_again() {
        let mut window = Window::new(at("2026-01-01T00:00:10Z"), OVERLAP, 10);
        assert!(window.admit(&id(1), at("2026-01-01T00:00:11Z")));
        assert!(window.admit(&id(2), at("2026-01-01T00:00:14Z")));
        window.saw_clock(at("2026-01-01T00:00:17Z"));
        window.forget_old();
        assert_eq!(window.since(), at("2026-01-01T00:00:12Z"));
        assert_eq!(window.remembered(), 1, "the change of 11 s is out of reach");
        assert!(!window.admit(&id(2), at("2026-01-01T00:00:14Z")));
        // An older clock never moves the window back.
        window.saw_clock(at("2026-01-01T00:00:01Z"));
        assert_eq!(window.since(), at("2026-01-01T00:00:12Z"));
    }

    #[test]
    fn beyond_its_limit_the_oldest_ids_are_forgotten_first() {
        let mut window = Window::new(at("2026-01-01T00:00:10Z"), OVERLAP, 2);
        assert!(window.admit(&id(1), at("2026-01-01T00:00:11Z")));
        assert!(window.admit(&id(2), at("2026-01-01T00:00:12Z")));
        assert!(window.admit(&id(3), at("2026-01-01T00:00:13Z")));
        assert_eq!(window.remembered(), 2);
        assert!(!window.admit(&id(3), at("2026-01-01T00:00:13Z")));
        assert!(!window.admit(&id(2), at("2026-01-01T00:00:12Z")));
        assert!(
            window.admit(&id(1), at("2026-01-01T00:00:11Z")),
            "forgotten"
        );
    }
}
