//! Offline notifications (docs/chat-api.md): each new message is posted to
//! `CHAT_NOTIFY_URL` as `{"to": up, "mention": bool, "message": Message}`
//! once for every member of its group who is offline, the hook for push
//! notifications; `mention` says the message names that member (`@up`).
//!
//! Messages wait in a bounded queue that never blocks delivery: when it is
//! full the notification is dropped, counted and logged. A few messages are
//! handled at once, at most 32 posts are in flight, each post has 5 s, and
//! a post is retried with a jittered back-off only when it may succeed
//! later (network errors, 5xx, 408, 429; not other 4xx), at most
//! [`TRIES`] times in all; an endpoint that stays down is counted and
//! logged, never fatal. Offline means "no socket on any live chat node":
//! the store answers who of the group is online when the message is
//! handled, and the node that stored the message is the one that notifies.
//!
//! A notification carries the message as its group's readers may see it:
//! while the group's history gate is closed, without its text
//! (`events::gate`). The URL may carry credentials: it is never logged.

use crate::store_client::StoreClient;
use backon::{ExponentialBuilder, Retryable};
use chat_wire::ids::Up;
use chat_wire::model::Message;
use futures::StreamExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::Serialize;
use service_kit::config::SecretUrl;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

/// Messages waiting to be notified.
const QUEUE_CAPACITY: usize = 10_000;
/// Posts in flight at once.
const CONCURRENT_POSTS: usize = 32;
/// Tries of one post, the first included.
const TRIES: usize = 4;
/// Time allowed for one post.
const POST_TIMEOUT: Duration = Duration::from_secs(5);
/// Messages whose group is read at the same time.
const CONCURRENT_LOOKUPS: usize = 8;

/// Whether a post answered `status` may succeed if tried again: a server
/// error, a timeout or a rate limit may pass; any other refusal will not.
fn may_succeed_later(status: reqwest::StatusCode) -> bool {
    status.is_server_error()
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// What is posted to the hook.
#[derive(Debug, Serialize)]
struct Notification<'a> {
    to: &'a Up,
    /// Whether the message names `to`: a push may say "mentioned you".
    mention: bool,
    message: &'a Message,
}

/// Outcome labels of the notification counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The sending side; cheap to clone. Without a URL it does nothing.
#[derive(Debug, Clone)]
pub struct Notifier {
    queue: Option<mpsc::Sender<Message>>,
    counts: Family<OutcomeLabels, Counter>,
}

impl Notifier {
    /// A notifier posting to `url` (none: disabled), registering its counters.
    pub fn spawn(
        url: Option<SecretUrl>,
        store: StoreClient,
        registry: &mut Registry,
    ) -> anyhow::Result<Self> {
        let counts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "notifications",
            "Offline notifications by outcome: sent, failed (after retries), dropped (queue full)",
            counts.clone(),
        );
        let Some(url) = url else {
            return Ok(Self {
                queue: None,
                counts,
            });
        };
        let (queue, messages) = mpsc::channel(QUEUE_CAPACITY);
        let worker = Worker {
            url,
            http: reqwest::Client::builder().timeout(POST_TIMEOUT).build()?,
            store,
            counts: counts.clone(),
            in_flight: Arc::new(Semaphore::new(CONCURRENT_POSTS)),
        };
        tokio::spawn(worker.run(messages));
        Ok(Self {
            queue: Some(queue),
            counts,
        })
    }

    /// Queues a new message for its offline members; never waits.
    pub fn notify(&self, message: &Message) {
        let Some(queue) = &self.queue else { return };
        if queue.try_send(message.clone()).is_err() {
            self.counts
                .get_or_create(&OutcomeLabels { outcome: "dropped" })
                .inc();
            tracing::warn!(id = %message.id, "notification queue full; notification dropped");
        }
    }
}

struct Worker {
    url: SecretUrl,
    http: reqwest::Client,
    store: StoreClient,
    counts: Family<OutcomeLabels, Counter>,
    in_flight: Arc<Semaphore>,
}

impl Worker {
    async fn run(self, messages: mpsc::Receiver<Message>) {
        let worker = Arc::new(self);
        // Messages are handled a few at a time: one slow lookup of a group
        // does not hold up the notifications of the others.
        futures::stream::unfold(messages, |mut messages| async move {
            messages.recv().await.map(|message| (message, messages))
        })
        .for_each_concurrent(CONCURRENT_LOOKUPS, |message| {
            let worker = worker.clone();
            async move { worker.notify_offline(message).await }
        })
        .await;
    }

    /// Posts a notification to each member of the message's group who has
    /// no socket on a live node.
    async fn notify_offline(self: Arc<Self>, message: Message) {
        let presence = match self.store.group_presence(&message.group).await {
            Ok(presence) => presence,
            Err(err) => {
                tracing::warn!(id = %message.id, error = %err, "cannot read who of a group is online to notify the others");
                self.counts
                    .get_or_create(&OutcomeLabels { outcome: "failed" })
                    .inc();
                return;
            }
        };
        // Who is named is read before the gate withholds the text (and
        // the mentions with it): being named is news even without the text.
        let mentioned: HashSet<Up> = message.mentions.iter().cloned().collect();
        let message = match presence.history_visible() {
            true => message,
            false => message.without_text(),
        };
        let online: HashSet<&Up> = presence.online.iter().collect();
        let message = Arc::new(message);
        let offline = presence
            .group
            .users
            .iter()
            .filter(|up| **up != message.from && !online.contains(up));
        for up in offline {
            let up = up.clone();
            let mention = mentioned.contains(&up);
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
                return;
            };
            let (worker, message) = (self.clone(), message.clone());
            tokio::spawn(async move {
                worker.post_with_retries(&up, mention, &message).await;
                drop(permit);
            });
        }
    }

    async fn post_with_retries(&self, to: &Up, mention: bool, message: &Message) {
        let body = Notification {
            to,
            mention,
            message,
        };
        let post = || async {
            match self.http.post(self.url.expose()).json(&body).send().await {
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) => Err(PostFailure {
                    why: format!("status {}", response.status()),
                    worth_retrying: may_succeed_later(response.status()),
                }),
                // Without the URL, which may carry credentials.
                Err(err) => Err(PostFailure {
                    why: err.without_url().to_string(),
                    worth_retrying: true,
                }),
            }
        };
        let backoff = ExponentialBuilder::new()
            .with_jitter()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(TRIES - 1);
        let outcome = match post
            .retry(backoff)
            .when(|failure| failure.worth_retrying)
            .await
        {
            Ok(()) => "sent",
            Err(failure) => {
                tracing::warn!(to = %to, id = %message.id, error = %failure.why, "notification failed after retries");
                "failed"
            }
        };
        self.counts.get_or_create(&OutcomeLabels { outcome }).inc();
    }
}

/// Why a post failed, and whether trying again may help.
struct PostFailure {
    why: String,
    worth_retrying: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answers_that_may_change_are_retried() {
        use reqwest::StatusCode;
        assert!(may_succeed_later(StatusCode::SERVICE_UNAVAILABLE));
        assert!(may_succeed_later(StatusCode::TOO_MANY_REQUESTS));
        assert!(may_succeed_later(StatusCode::REQUEST_TIMEOUT));
        assert!(!may_succeed_later(StatusCode::BAD_REQUEST));
        assert!(!may_succeed_later(StatusCode::NOT_FOUND));
        assert!(!may_succeed_later(StatusCode::UNAUTHORIZED));
    }
}
