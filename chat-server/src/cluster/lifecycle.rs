//! Where this node is in its life, shared by everything that must know:
//! registered in the node registry or not yet, serving or draining, whether
//! it hears the other nodes and every task it needs still runs (together:
//! whether it takes new sockets, see [`Lifecycle::accepts_sockets`]), and
//! the work in flight that a drain waits for before the process exits.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

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
    /// The adapter's change stream is down: other nodes are not heard.
    deaf: AtomicBool,
    /// Why a task the node needs has stopped, if one has.
    broken: Mutex<Option<String>>,
    stop: watch::Sender<Option<StopReason>>,
    /// The events being handled that a drain waits for.
    in_flight: TaskTracker,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                registered: AtomicBool::new(false),
                draining: AtomicBool::new(false),
                deaf: AtomicBool::new(false),
                broken: Mutex::new(None),
                stop: watch::Sender::new(None),
                in_flight: TaskTracker::new(),
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

    /// Enters the draining state; `true` only for the call that entered it
    /// (later calls change nothing).
    pub fn set_draining(&self) -> bool {
        !self.inner.draining.swap(true, Ordering::AcqRel)
    }

    /// Whether the node is draining: it takes no new sockets.
    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::Acquire)
    }

    /// Records whether the adapter's change stream is down.
    pub fn set_deaf(&self, deaf: bool) {
        self.inner.deaf.store(deaf, Ordering::Release);
    }

    /// Records that a task the node needs has stopped (`why` says which
    /// and how): the node stays unready from then on.
    pub fn set_broken(&self, why: String) {
        let mut broken = self
            .inner
            .broken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        broken.get_or_insert(why);
    }

    /// `Ok` when the node may take new sockets, else why not.
    pub fn accepts_sockets(&self) -> Result<(), String> {
        if let Some(why) = &*self
            .inner
            .broken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            return Err(why.clone());
        }
        if self.is_draining() {
            return Err("this chat node is draining: connect to another node".into());
        }
        if !self.is_registered() {
            return Err("this chat node is not in the node registry yet".into());
        }
        if self.inner.deaf.load(Ordering::Acquire) {
            return Err(
                "the adapter's change stream is down: this node does not hear the other nodes"
                    .into(),
            );
        }
        Ok(())
    }

    /// Spawns `task`, which must run as long as the node does: if it ends
    /// (it returned or panicked; an abort is not a failure), the node
    /// becomes unready with a reason naming `name`, and says so in the
    /// error log.
    pub fn spawn_essential(
        &self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
    ) -> AbortHandle {
        let running = tokio::spawn(task);
        let abort = running.abort_handle();
        let lifecycle = self.clone();
        tokio::spawn(async move {
            let why = match running.await {
                Err(err) if err.is_cancelled() => return,
                Err(err) => match err.try_into_panic() {
                    Ok(panic) => panic_text(panic.as_ref()),
                    Err(err) => err.to_string(),
                },
                Ok(()) => "it returned".to_owned(),
            };
            let why = format!("the {name} task stopped ({why}): this node cannot serve safely");
            tracing::error!(reason = %why, "a task the node needs has stopped");
            lifecycle.set_broken(why);
        });
        abort
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
    pub fn work(&self) -> TaskTrackerToken {
        self.inner.in_flight.token()
    }

    /// Waits until no work is in flight, at most `limit`; `false` if some
    /// was still running then.
    pub async fn settle(&self, limit: Duration) -> bool {
        self.inner.in_flight.close();
        let settled = tokio::time::timeout(limit, self.inner.in_flight.wait()).await;
        self.inner.in_flight.reopen();
        settled.is_ok()
    }
}

/// The message of a panic's payload.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic".to_owned()
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

    #[test]
    fn a_node_takes_sockets_only_registered_hearing_and_whole() {
        let lifecycle = Lifecycle::default();
        assert!(
            lifecycle
                .accepts_sockets()
                .unwrap_err()
                .contains("registry")
        );
        lifecycle.set_registered();
        assert_eq!(lifecycle.accepts_sockets(), Ok(()));
        lifecycle.set_deaf(true);
        assert!(
            lifecycle
                .accepts_sockets()
                .unwrap_err()
                .contains("change stream")
        );
        lifecycle.set_deaf(false);
        lifecycle.set_broken("the token expiry task stopped".into());
        lifecycle.set_broken("a second failure".into());
        assert_eq!(
            lifecycle.accepts_sockets().unwrap_err(),
            "the token expiry task stopped",
            "the first failure is the one reported"
        );
    }

    #[tokio::test]
    async fn an_essential_task_that_ends_makes_the_node_unready_but_an_abort_does_not() {
        let lifecycle = Lifecycle::default();
        lifecycle.set_registered();
        let aborted = lifecycle.spawn_essential("heartbeat", std::future::pending());
        aborted.abort();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(lifecycle.accepts_sockets(), Ok(()));
        lifecycle.spawn_essential("token expiry", async { panic!("deadline too far") });
        let why = loop {
            if let Err(why) = lifecycle.accepts_sockets() {
                break why;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert!(
            why.contains("token expiry") && why.contains("deadline too far"),
            "{why}"
        );
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
