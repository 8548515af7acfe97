//! Where this node is in its life, shared by everything that must know:
//! registered in the node registry or not yet, serving or draining, and
//! the work in flight that a drain waits for before the process exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Why the node must stop serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// `POST /admin/drain`: drain, then exit cleanly.
    DrainRequested,
    /// The node cannot work as part of the cluster any more: drain what can
    /// be drained, then exit with an error.
    Fatal(String),
}

/// The node's state; cheap to clone.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registered: AtomicBool,
    draining: AtomicBool,
    stop: watch::Sender<Option<StopReason>>,
    in_flight: AtomicUsize,
    idle: Notify,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                registered: AtomicBool::new(false),
                draining: AtomicBool::new(false),
                stop: watch::Sender::new(None),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
            }),
        }
    }
}

impl Lifecycle {
    /// Records that the registry knows this node: it may take sockets.
    pub fn set_registered(&self) {
        self.inner.registered.store(true, Ordering::Release);
    }

    /// Whether the registry has known this node since it started.
    pub fn is_registered(&self) -> bool {
        self.inner.registered.load(Ordering::Acquire)
    }

    /// Enters the draining state (once; later calls change nothing).
    pub fn set_draining(&self) {
        self.inner.draining.store(true, Ordering::Release);
    }

    /// Whether the node is draining: it takes no new sockets.
    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::Acquire)
    }

    /// Asks the node to stop; the first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        self.inner.stop.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        });
    }

    /// Resolves with the reason once the node is asked to stop.
    pub async fn stop_requested(&self) -> StopReason {
        let mut stop = self.inner.stop.subscribe();
        let reason = match stop.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            // The sender lives in `self`: it cannot be gone.
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            None => std::future::pending().await,
        }
    }

    /// The reason the node was asked to stop, if it was.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.inner.stop.borrow().clone()
    }

    /// Counts a piece of work in flight until the guard drops.
    pub fn work(&self) -> Work {
        self.inner.in_flight.fetch_add(1, Ordering::AcqRel);
        Work {
            inner: self.inner.clone(),
        }
    }

    /// Waits until no work is in flight, at most `limit`; `false` if some
    /// was still running then.
    pub async fn settle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let idle = self.inner.idle.notified();
                if self.inner.in_flight.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

/// Work in flight (see [`Lifecycle::work`]).
#[derive(Debug)]
pub struct Work {
    inner: Arc<Inner>,
}

impl Drop for Work {
    fn drop(&mut self) {
        if self.inner.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settling_waits_for_the_work_in_flight() {
        let lifecycle = Lifecycle::default();
        assert!(lifecycle.settle(Duration::from_millis(10)).await);
        let work = lifecycle.work();
        assert!(!lifecycle.settle(Duration::from_millis(20)).await);
        let waiting = tokio::spawn({
            let lifecycle = lifecycle.clone();
            async move { lifecycle.settle(Duration::from_secs(5)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(work);
        assert!(waiting.await.unwrap());
    }

    #[tokio::test]
    async fn the_first_stop_reason_wins() {
        let lifecycle = Lifecycle::default();
        assert_eq!(lifecycle.stop_reason(), None);
        lifecycle.stop(StopReason::Fatal("adapter".into()));
        lifecycle.stop(StopReason::DrainRequested);
        assert_eq!(
            lifecycle.stop_requested().await,
            StopReason::Fatal("adapter".into())
        );
    }
}
