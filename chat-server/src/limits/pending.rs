//! What a peer may hold before it authenticates: engine sessions whose
//! Socket.IO CONNECT has not been accepted yet ("pending"), at most
//! `CHAT_MAX_PENDING_SESSIONS` on the node and
//! `CHAT_MAX_PENDING_PER_ADDRESS` per client address, each for at most
//! `CHAT_CONNECT_TIMEOUT_SECONDS` (the engine closes a session that has
//! not connected its socket by then).
//!
//! A new session is counted when its handshake is answered, and stops
//! counting when its socket connects, or at its deadline. A session
//! refused at the CONNECT (a bad token) and closed early still counts
//! until its deadline: the count is never below the truth, and a peer
//! that opens sessions with bad tokens as fast as it can holds at most
//! the per-address cap of them.
//!
//! The client address is the connection's peer, or, when the peer is one
//! of `CHAT_TRUSTED_PROXIES`, the last address of `X-Forwarded-For` that
//! proxy appended.

use axum::http::HeaderMap;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a new session was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingRefusal {
    /// This address holds `CHAT_MAX_PENDING_PER_ADDRESS` pending sessions.
    Address,
    /// The node holds `CHAT_MAX_PENDING_SESSIONS` pending sessions.
    Node,
}

/// The limits of [`PendingSessions`].
#[derive(Debug, Clone, Copy)]
pub struct PendingLimits {
    /// Pending sessions on the node.
    pub per_node: usize,
    /// Pending sessions per client address.
    pub per_address: usize,
    /// How long a session may stay pending.
    pub timeout: Duration,
}

/// The pending sessions of the node; cheap to clone.
#[derive(Debug, Clone)]
pub struct PendingSessions {
    limits: PendingLimits,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Deadlines of each address's pending sessions, oldest first.
    by_address: HashMap<IpAddr, VecDeque<Instant>>,
    /// Every deadline given out, oldest first (some already settled).
    deadlines: VecDeque<(Instant, IpAddr)>,
    total: usize,
}

impl PendingSessions {
    /// No session pending yet.
    pub fn new(limits: PendingLimits) -> Self {
        Self {
            limits,
            inner: Arc::default(),
        }
    }

    /// Counts a new session of `address`, unless a cap is reached.
    pub fn admit(&self, address: IpAddr) -> Result<(), PendingRefusal> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.expire(now);
        let held = inner.by_address.get(&address).map_or(0, VecDeque::len);
        if held >= self.limits.per_address {
            return Err(PendingRefusal::Address);
        }
        if inner.total >= self.limits.per_node {
            return Err(PendingRefusal::Node);
        }
        let deadline = now + self.limits.timeout;
        inner
            .by_address
            .entry(address)
            .or_default()
            .push_back(deadline);
        inner.deadlines.push_back((deadline, address));
        inner.total += 1;
        Ok(())
    }

    /// A session of `address` connected its socket (or was never opened):
    /// it no longer counts.
    pub fn settle(&self, address: IpAddr) {
        let mut inner = self.lock();
        let Inner {
            by_address, total, ..
        } = &mut *inner;
        let Some(held) = by_address.get_mut(&address) else {
            return;
        };
        if held.pop_front().is_some() {
            *total -= 1;
        }
        if held.is_empty() {
            by_address.remove(&address);
        }
    }

    /// Sessions pending now.
    pub fn count(&self) -> usize {
        let mut inner = self.lock();
        inner.expire(Instant::now());
        inner.total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// Stops counting the sessions whose deadline passed.
    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, address)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            let Some(held) = self.by_address.get_mut(&address) else {
                continue; // settled already
            };
            // Each address's deadlines are in order, and settling takes the
            // oldest: if the oldest left is still ahead, this one settled.
            if held.front().is_some_and(|&oldest| oldest <= now) {
                held.pop_front();
                self.total -= 1;
            }
            if held.is_empty() {
                self.by_address.remove(&address);
            }
        }
        if self.deadlines.is_empty() && self.deadlines.capacity() > 64 {
            self.deadlines.shrink_to_fit();
        }
    }
}

/// The address a request comes from: `peer`, or the address a trusted
/// proxy says it forwarded for (the last one of `X-Forwarded-For`).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|address| address.trim().parse::<IpAddr>().ok())
        .next_back()
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn limits(per_node: usize, per_address: usize, timeout_ms: u64) -> PendingLimits {
        PendingLimits {
            per_node,
            per_address,
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_holds_at_most_its_share_and_the_node_at_most_its_cap() {
        let pending = PendingSessions::new(limits(3, 2, 60_000));
        assert_eq!(pending.admit(ip("10.0.0.1")), Ok(()));
        assert_eq!(pending.admit(ip("10.0.0.1")), Ok(()));
        assert_eq!(pending.admit(ip("10.0.0.1")), Err(PendingRefusal::Address));
        assert_eq!(pending.admit(ip("10.0.0.2")), Ok(()));
        assert_eq!(pending.admit(ip("10.0.0.3")), Err(PendingRefusal::Node));
        pending.settle(ip("10.0.0.1"));
        assert_eq!(pending.count(), 2);
        assert_eq!(pending.admit(ip("10.0.0.3")), Ok(()));
    }

    #[test]
    fn a_session_stops_counting_at_its_deadline_even_if_it_never_settles() {
        let pending = PendingSessions::new(limits(100, 100, 20));
        for _ in 0..50 {
            pending.admit(ip("10.0.0.1")).unwrap();
        }
        pending.settle(ip("10.0.0.1"));
        assert_eq!(pending.count(), 49);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(pending.count(), 0);
        assert!(
            pending.lock().by_address.is_empty(),
            "nothing is left behind"
        );
        assert!(pending.lock().deadlines.is_empty());
        pending.settle(ip("10.0.0.1"));
        assert_eq!(pending.count(), 0, "a late settle changes nothing");
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 2.2.2.2"),
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("3.3.3.3"));
        let proxy = ip("10.0.0.9");
        assert_eq!(client_address(proxy, &headers, &[proxy]), ip("3.3.3.3"));
        assert_eq!(client_address(proxy, &headers, &[]), proxy);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
