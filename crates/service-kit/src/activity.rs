//! What one accepted connection is doing, as its requests show it: whether
//! it has sent a whole request head yet, whether it speaks HTTP/2, and how
//! many of its exchanges are open. `server` reads it to close connections
//! that never send a request, and HTTP/2 connections left idle.
//!
//! An exchange is open from the moment its request head arrives until its
//! response body is dropped (sent, or abandoned). An HTTP/2 extended
//! CONNECT (a WebSocket over HTTP/2) keeps its stream for as long as the
//! WebSocket lives, which its response does not show: such a connection
//! counts as never idle, and only its keep-alive pings tell whether the
//! peer is still there.

use axum::body::Body;
use axum::http::{Method, Request, Response, Version};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// The activity of one connection; shared by its requests.
#[derive(Debug)]
pub struct Activity {
    seen_request: AtomicBool,
    http2: AtomicBool,
    tunnel: AtomicBool,
    open: AtomicUsize,
    /// Since when no exchange is open.
    idle_since: Mutex<Instant>,
}

impl Activity {
    /// A connection just accepted.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            seen_request: AtomicBool::new(false),
            http2: AtomicBool::new(false),
            tunnel: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        })
    }

    /// Whether a whole request head has arrived on the connection.
    pub fn seen_request(&self) -> bool {
        self.seen_request.load(Ordering::Acquire)
    }

    /// Whether the connection speaks HTTP/2.
    pub fn is_http2(&self) -> bool {
        self.http2.load(Ordering::Acquire)
    }

    /// How long the connection has had no exchange open, if it has none;
    /// a connection carrying a tunnel is never idle.
    pub fn idle_for(&self, now: Instant) -> Option<std::time::Duration> {
        if self.tunnel.load(Ordering::Acquire) || self.open.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = *self
            .idle_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Some(now.saturating_duration_since(since))
    }

    /// Records a request head; the returned guard closes the exchange.
    pub fn exchange<B>(self: &Arc<Self>, request: &Request<B>) -> Exchange {
        self.seen_request.store(true, Ordering::Release);
        if request.version() == Version::HTTP_2 {
            self.http2.store(true, Ordering::Release);
            if request.method() == Method::CONNECT {
                self.tunnel.store(true, Ordering::Release);
            }
        }
        self.open.fetch_add(1, Ordering::AcqRel);
        Exchange {
            activity: self.clone(),
        }
    }
}

/// An open exchange; dropping it closes it.
#[derive(Debug)]
pub struct Exchange {
    activity: Arc<Activity>,
}

impl Exchange {
    /// `response`, whose body holds the exchange open until it is dropped.
    pub fn hold_until_sent(self, response: Response<Body>) -> Response<Body> {
        response.map(|body| {
            Body::new(body.map_frame(move |frame| {
                let _held = &self;
                frame
            }))
        })
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let mut since = self
            .activity
            .idle_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.activity.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            *since = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn request(version: Version, method: Method) -> Request<()> {
        Request::builder()
            .version(version)
            .method(method)
            .uri("/")
            .body(())
            .unwrap()
    }

    #[test]
    fn a_connection_is_idle_only_with_no_exchange_open_and_no_tunnel() {
        let activity = Activity::new();
        assert!(!activity.seen_request());
        let exchange = activity.exchange(&request(Version::HTTP_2, Method::GET));
        assert!(activity.seen_request() && activity.is_http2());
        assert_eq!(activity.idle_for(Instant::now()), None);
        let response = exchange.hold_until_sent(Response::new(Body::empty()));
        assert_eq!(
            activity.idle_for(Instant::now()),
            None,
            "the body is not sent yet"
        );
        drop(response);
        let later = Instant::now() + Duration::from_secs(5);
        assert!(activity.idle_for(later).unwrap() >= Duration::from_secs(4));
        drop(activity.exchange(&request(Version::HTTP_2, Method::CONNECT)));
        assert_eq!(
            activity.idle_for(later),
            None,
            "a tunnel pins the connection"
        );
    }
}
