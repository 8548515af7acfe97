//! A per-user rate: a token bucket per user, across all of the user's
//! sockets on this node. Two run: messages (`CHAT_MSG_RATE`,
//! `CHAT_MSG_BURST`) and client events of any kind (`CHAT_EVENT_RATE`,
//! `CHAT_EVENT_BURST`). A user over a rate gets `rate_limited`; nobody else
//! is slowed down.

use chat_wire::ids::Up;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use service_kit::ApiError;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// How often the state of users idle for a while is dropped.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);

/// A keyed token bucket per user; cheap to clone.
#[derive(Clone)]
pub struct UserRate {
    limiter: Arc<DefaultKeyedRateLimiter<Up>>,
    refusal: &'static str,
}

impl std::fmt::Debug for UserRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRate").finish_non_exhaustive()
    }
}

impl UserRate {
    /// `per_second` per second with `burst` at once (both at least 1; a
    /// burst below the rate is raised to it); `refusal` is the error text.
    pub fn new(per_second: u32, burst: u32, refusal: &'static str) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).expect("at least 1");
        let burst = NonZeroU32::new(burst.max(per_second).max(1)).expect("at least 1");
        Self {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            )),
            refusal,
        }
    }

    /// Takes one token from `up`'s bucket, or `rate_limited`.
    pub fn check(&self, up: &Up) -> Result<(), ApiError> {
        self.limiter
            .check_key(up)
            .map_err(|_| ApiError::RateLimited(self.refusal.into()))
    }

    /// Drops the buckets of users idle long enough to be full again, every
    /// minute, so memory follows the active users.
    pub fn spawn_cleanup(&self) {
        let limiter = Arc::downgrade(&self.limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CLEANUP_EVERY);
            loop {
                tick.tick().await;
                let Some(limiter) = limiter.upgrade() else {
                    return;
                };
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_sender_is_limited_and_others_are_not() {
        let rate = UserRate::new(1, 3, "slow down");
        let (fast, other) = (Up::parse("fast").unwrap(), Up::parse("other").unwrap());
        for _ in 0..3 {
            assert!(rate.check(&fast).is_ok());
        }
        let refused = rate.check(&fast).unwrap_err();
        assert_eq!(refused.code(), chat_wire::ErrorCode::RateLimited);
        assert!(rate.check(&other).is_ok());
    }
}
