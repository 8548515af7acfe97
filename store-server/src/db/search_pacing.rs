//! The stretches of time a search reads, newest first, and how much one
//! call may read (docs/architecture.md, "Search").
//!
//! A search reads the index `{terms, group, _id}` one window of ids at a
//! time: ids are ObjectIds, which start with their second, so a window is
//! a stretch of time. The MongoDB-wire server used in development walks
//! the whole range of an index scan before it applies `limit`, so an open
//! range would cost as much as every message holding the word; a window
//! costs what it holds. Each window is sized from what the one before it
//! held, aiming at [`TARGET_ROWS`] index entries of its densest word, and
//! one call reads at most [`MAX_WINDOWS`] windows or [`MAX_SCANNED`]
//! entries (every word's), then answers what it found with a cursor to go
//! on from.

use mongodb::bson::oid::ObjectId;

/// Index entries a window aims at.
pub const TARGET_ROWS: u64 = 256;
/// The most entries read from one window (its newest ones); a window that
/// holds more is read on from where this stopped.
pub const WINDOW_LIMIT: i64 = 1024;
/// The most windows one call reads.
pub const MAX_WINDOWS: usize = 12;
/// The most index entries one call reads.
pub const MAX_SCANNED: u64 = 4096;
/// The longest window, in seconds.
const MAX_SPAN: u64 = 9_999_999_999;
/// How much longer a window may be than the one before.
const GROWTH: u64 = 8;

/// A stretch of ids: `lower <= _id < upper`, a missing bound is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive; `None` reads to the oldest message.
    pub lower: Option<ObjectId>,
    /// Exclusive; `None` reads to the newest message.
    pub upper: Option<ObjectId>,
}

/// Where a search is in time, and what it has spent.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Everything at or above it was read (exclusive bound of the next window).
    upper: Option<ObjectId>,
    /// Seconds the next window spans.
    span: u64,
    /// No message is expected below this second: the window that reaches
    /// it is open below, and the last.
    floor: u64,
    /// The present, in seconds: the top of the first window.
    now: u64,
    windows: usize,
    scanned: u64,
    exhausted: bool,
}

impl Pacer {
    /// A search from `upper` (exclusive; `None` for the newest) whose
    /// first window spans `span` seconds.
    pub fn new(upper: Option<ObjectId>, span: u64, floor: u64, now: u64) -> Self {
        Self {
            upper,
            span: span.clamp(1, MAX_SPAN),
            floor,
            now,
            windows: 0,
            scanned: 0,
            exhausted: false,
        }
    }

    /// The first window's span: about [`TARGET_ROWS`] messages at the
    /// groups' average rate (`messages` since `oldest`, in seconds).
    pub fn first_span(messages: u64, oldest: u64, now: u64) -> u64 {
        let age = now.saturating_sub(oldest).max(1);
        (TARGET_ROWS.saturating_mul(age) / messages.max(1)).clamp(1, MAX_SPAN)
    }

    /// The next window to read, or `None` once everything was read or this
    /// call's budget is spent.
    pub fn next(&self) -> Option<Window> {
        if self.exhausted || self.windows >= MAX_WINDOWS || self.scanned >= MAX_SCANNED {
            return None;
        }
        let bottom = self.top().saturating_sub(self.span);
        let lower = (bottom > self.floor).then(|| at_second(bottom));
        Some(Window {
            lower,
            upper: self.upper,
        })
    }

    /// Takes in what `window` gave: `densest`, the most entries one term
    /// has in what was read of it, and `scanned` entries read in all. A
    /// window read only down to `stopped_at` (one term had more entries
    /// than a read takes) is read on below it; any other is done.
    pub fn observe(
        &mut self,
        window: Window,
        densest: u64,
        scanned: u64,
        stopped_at: Option<ObjectId>,
    ) {
        self.windows += 1;
        self.scanned += scanned;
        let top = self.top();
        match stopped_at {
            Some(last) => {
                let covered = top.saturating_sub(seconds(last)).max(1);
                self.span = (TARGET_ROWS * covered / densest.max(1)).clamp(1, MAX_SPAN);
                self.upper = Some(last);
            }
            None => {
                let grown = self.span.saturating_mul(GROWTH);
                self.span = match densest {
                    0 => grown,
                    _ => (self.span.saturating_mul(TARGET_ROWS) / densest).clamp(1, grown),
                }
                .min(MAX_SPAN);
                match window.lower {
                    Some(lower) => self.upper = Some(lower),
                    None => self.exhausted = true,
                }
            }
        }
    }

    /// Whether every message was read.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// Where the next call goes on: below this id (exclusive) …
    pub fn upper(&self) -> Option<ObjectId> {
        self.upper
    }

    /// … with a first window of this many seconds.
    pub fn span(&self) -> u64 {
        self.span
    }

    /// The second the next window ends at.
    fn top(&self) -> u64 {
        self.upper.map_or(self.now, seconds)
    }
}

/// The second an ObjectId was made in.
pub fn seconds(id: ObjectId) -> u64 {
    u64::from(u32::from_be_bytes(
        id.bytes()[..4].try_into().expect("4 bytes"),
    ))
}

/// The smallest ObjectId of second `second`.
pub fn at_second(second: u64) -> ObjectId {
    let mut bytes = [0u8; 12];
    let second = u32::try_from(second).unwrap_or(u32::MAX);
    bytes[..4].copy_from_slice(&second.to_be_bytes());
    ObjectId::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 2_000_000_000;

    #[test]
    fn the_first_span_holds_about_the_target_at_the_average_rate() {
        // 1,000,000 messages over 1,000,000 s: one a second.
        assert_eq!(Pacer::first_span(1_000_000, NOW - 1_000_000, NOW), 256);
        assert_eq!(Pacer::first_span(0, NOW, NOW), 256);
        assert_eq!(Pacer::first_span(u64::MAX, 0, NOW), 1);
    }

    #[test]
    fn windows_tile_time_downwards_and_the_last_is_open_below() {
        let mut pacer = Pacer::new(None, 100, NOW - 1000, NOW);
        let first = pacer.next().unwrap();
        assert_eq!(first.upper, None);
        assert_eq!(first.lower, Some(at_second(NOW - 100)));
        pacer.observe(first, 0, 0, None);
        let second = pacer.next().unwrap();
        assert_eq!(second.upper, first.lower, "no gap between windows");
        assert_eq!(second.lower, Some(at_second(NOW - 100 - 800)));
        pacer.observe(second, 0, 0, None);
        let last = pacer.next().unwrap();
        assert_eq!(last.lower, None, "the floor is reached: open below");
        pacer.observe(last, 3, 3, None);
        assert!(pacer.exhausted());
        assert_eq!(pacer.next(), None);
    }

    #[test]
    fn a_full_window_is_read_on_below_its_oldest_entry_with_a_narrower_span() {
        let mut pacer = Pacer::new(Some(at_second(NOW)), 1000, 0, NOW);
        let window = pacer.next().unwrap();
        let oldest = at_second(NOW - 100);
        pacer.observe(
            window,
            WINDOW_LIMIT as u64,
            WINDOW_LIMIT as u64,
            Some(oldest),
        );
        assert!(!pacer.exhausted());
        assert_eq!(pacer.upper(), Some(oldest));
        // 1024 entries in 100 s: 256 take 25 s.
        assert_eq!(pacer.span(), 25);
    }

    #[test]
    fn the_span_follows_the_density_and_grows_at_most_eightfold() {
        let mut pacer = Pacer::new(None, 100, 0, NOW);
        let window = pacer.next().unwrap();
        pacer.observe(window, 512, 512, None);
        assert_eq!(pacer.span(), 50);
        let window = pacer.next().unwrap();
        pacer.observe(window, 1, 1, None);
        assert_eq!(pacer.span(), 400);
    }

    #[test]
    fn a_call_stops_at_its_budget() {
        // Windows of a second, each holding what a window aims at.
        let mut pacer = Pacer::new(None, 1, 0, NOW);
        for _ in 0..MAX_WINDOWS {
            let window = pacer.next().unwrap();
            pacer.observe(window, TARGET_ROWS, TARGET_ROWS, None);
            assert_eq!(pacer.span(), 1);
        }
        assert_eq!(pacer.next(), None);
        assert!(!pacer.exhausted());
        let mut pacer = Pacer::new(None, 1_000_000, 0, NOW);
        for _ in 0..(MAX_SCANNED / WINDOW_LIMIT as u64) {
            let window = pacer.next().unwrap();
            let last = at_second(seconds(window.upper.unwrap_or(at_second(NOW))) - 1);
            pacer.observe(window, WINDOW_LIMIT as u64, WINDOW_LIMIT as u64, Some(last));
        }
        assert_eq!(pacer.next(), None);
    }

    #[test]
    fn ids_and_seconds_convert_both_ways() {
        let id = ObjectId::new();
        assert!(at_second(seconds(id)) <= id);
        assert!(at_second(seconds(id) + 1) > id);
    }
}
