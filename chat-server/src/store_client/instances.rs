//! The store instances of `STORE_URL` (one URL, or a comma-separated list)
//! and which of them are in use. Any instance serves any call
//! (docs/architecture.md, "Several store instances"), so calls are spread
//! over the instances in use in turn. One that refuses a connection, times
//! out or fails its `/readyz` is left out for [`REST`], and checked again
//! every [`CHECK_EVERY`] while there are several.

use reqwest::Url;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long an instance that failed is left out of the rotation.
pub const REST: Duration = Duration::from_secs(1);
/// How often every instance's `/readyz` is asked, with several instances.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// One store instance.
#[derive(Debug)]
struct Instance {
    /// Its base URL, ending with `/`.
    base: Url,
    /// Until when it is left out, in milliseconds since `Instances::epoch`
    /// (0: it is in use).
    resting_until: AtomicU64,
}

/// The store instances; cheap to clone.
#[derive(Debug, Clone)]
pub struct Instances {
    all: Arc<[Instance]>,
    epoch: Instant,
    /// Where the next call starts in the list.
    turn: Arc<AtomicUsize>,
}

impl Instances {
    /// The instances at `bases`, all in use. `bases` must not be empty.
    pub fn new(bases: Vec<Url>) -> Self {
        assert!(!bases.is_empty(), "at least one store URL");
        let all = bases
            .into_iter()
            .map(|mut base| {
                if !base.path().ends_with('/') {
                    let path = format!("{}/", base.path());
                    base.set_path(&path);
                }
                Instance {
                    base,
                    resting_until: AtomicU64::new(0),
                }
            })
            .collect();
        Self {
            all,
            epoch: Instant::now(),
            turn: Arc::default(),
        }
    }

    /// How many instances there are.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// The first instance's base URL: requests are built on it, then
    /// moved to the instance that serves them ([`Instances::rebase`]).
    pub fn first(&self) -> &Url {
        &self.all[0].base
    }

    /// The base URL of instance `index`.
    pub fn base(&self, index: usize) -> &Url {
        &self.all[index].base
    }

    /// The order in which to try the instances for one call: those in use,
    /// starting one further along the list than the previous call, then
    /// those left out (a call is never refused only because every instance
    /// failed a moment ago).
    pub fn order(&self) -> Vec<usize> {
        let now = self.now();
        let resting = |index: &usize| self.all[*index].resting_until.load(Ordering::Relaxed) > now;
        let count = self.all.len();
        let start = self.turn.fetch_add(1, Ordering::Relaxed) % count;
        let rotated = || (0..count).map(|offset| (start + offset) % count);
        let mut order = Vec::with_capacity(count);
        order.extend(rotated().filter(|index| !resting(index)));
        order.extend(rotated().filter(resting));
        order
    }

    /// `url`, built on the first instance, moved to instance `index`.
    pub fn rebase(&self, url: &Url, index: usize) -> Url {
        let relative = url
            .as_str()
            .strip_prefix(self.first().as_str())
            .expect("store URLs are built on the first instance");
        self.all[index]
            .base
            .join(relative)
            .expect("a relative path and query join any base")
    }

    /// Leaves instance `index` out for [`REST`].
    pub fn rest(&self, index: usize) {
        let until = self.now() + REST.as_millis() as u64;
        self.all[index]
            .resting_until
            .store(until, Ordering::Relaxed);
    }

    /// Puts instance `index` back in use.
    pub fn restore(&self, index: usize) {
        self.all[index].resting_until.store(0, Ordering::Relaxed);
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instances(bases: &[&str]) -> Instances {
        Instances::new(bases.iter().map(|b| Url::parse(b).unwrap()).collect())
    }

    #[test]
    fn calls_take_the_instances_in_use_in_turn_and_a_resting_one_comes_last() {
        let store = instances(&["http://a:1", "http://b:2", "http://c:3"]);
        assert_eq!(store.order(), vec![0, 1, 2]);
        assert_eq!(store.order(), vec![1, 2, 0], "the next call starts at b");
        assert_eq!(store.order(), vec![2, 0, 1]);
        store.rest(0);
        assert_eq!(store.order(), vec![1, 2, 0], "a is tried last");
        assert_eq!(store.order(), vec![1, 2, 0], "a is skipped while resting");
        assert_eq!(store.order(), vec![2, 1, 0]);
        store.rest(1);
        assert_eq!(store.order(), vec![2, 0, 1]);
        store.restore(0);
        assert_eq!(
            store.order(),
            vec![2, 0, 1],
            "b rests; the turn starts at b"
        );
    }

    #[test]
    fn a_url_moves_to_another_instance_with_its_path_and_query() {
        let store = instances(&["http://a:1/api", "http://b:2/"]);
        let url = store
            .first()
            .join("group/messages?groupID=x&page=2")
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://a:1/api/group/messages?groupID=x&page=2"
        );
        assert_eq!(
            store.rebase(&url, 1).as_str(),
            "http://b:2/group/messages?groupID=x&page=2"
        );
        assert_eq!(store.rebase(&url, 0), url);
    }
}
