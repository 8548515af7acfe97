//! One client of a draining node, following it the way an app does: it
//! reads until its connection closes, remembering where the node's
//! `migrate {url}` event told it to go, then opens a new connection there
//! (a new handshake, same user and token) and holds it until the run ends.
//!
//! Each client reports what happened to it once, when it has reconnected,
//! given up, or the run ended first; the `drain` scenario adds those up.

use super::client::{Connection, Incoming};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Handshakes tried before a client counts as failed to reconnect: a node
/// that is still registering answers 503 for a moment, and real clients
/// retry too.
const ATTEMPTS: u32 = 10;
/// Pause between two handshakes of one client.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// Who one client is and where it goes when no `migrate` came.
pub struct Client {
    /// Its user's index in the population.
    pub index: usize,
    /// Its user's token, sent again in the new handshake.
    pub token: String,
    /// The local address its connections start from.
    pub source: IpAddr,
    /// Where it reconnects without a (usable) `migrate` event.
    pub fallback: SocketAddr,
}

/// What happened to one client.
#[derive(Debug)]
pub struct Outcome {
    /// Its user's index.
    pub index: usize,
    /// The URL of the `migrate` event it received, if any.
    pub migrate_url: Option<String>,
    /// When the node closed its connection (none: not before the run ended).
    pub closed_at: Option<Instant>,
    /// Where and when its new connection was accepted.
    pub reconnected: Option<(SocketAddr, Instant)>,
    /// Whether it went where `migrate` said (not to the fallback).
    pub followed_migrate: bool,
    /// Handshakes it tried after the close.
    pub attempts: u32,
    /// Why it could not reconnect, or why its connection ended.
    pub error: Option<String>,
}

/// Follows one client through the drain; reports its [`Outcome`] on
/// `outcomes`, then holds its new connection (answering pings) until
/// `stop` turns true.
pub async fn follow(
    mut connection: Connection,
    client: Client,
    outcomes: mpsc::UnboundedSender<Outcome>,
    mut stop: watch::Receiver<bool>,
) {
    let mut outcome = Outcome {
        index: client.index,
        migrate_url: None,
        closed_at: None,
        reconnected: None,
        followed_migrate: false,
        attempts: 0,
        error: None,
    };
    loop {
        tokio::select! {
            incoming = connection.next() => match incoming {
                Ok(Incoming::Event(text)) => {
                    if let Some(url) = migrate_url(&text) {
                        outcome.migrate_url = Some(url);
                    }
                }
                Ok(Incoming::Ack(..)) => {}
                Err(_) => break,
            },
            () = stopped(&mut stop) => {
                // The run ended with this client still on the drained node.
                let _ = outcomes.send(outcome);
                connection.close().await;
                return;
            }
        }
    }
    let closed_at = Instant::now();
    outcome.closed_at = Some(closed_at);
    let migrate_to = match &outcome.migrate_url {
        Some(url) => address_of(url).await,
        None => None,
    };
    outcome.followed_migrate = migrate_to.is_some();
    let to = migrate_to.unwrap_or(client.fallback);
    let mut reconnected = None;
    while outcome.attempts < ATTEMPTS && reconnected.is_none() {
        if outcome.attempts > 0 {
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        outcome.attempts += 1;
        tokio::select! {
            result = Connection::open(to, client.source, &client.token) => match result {
                Ok(new) => {
                    outcome.reconnected = Some((to, Instant::now()));
                    outcome.error = None;
                    reconnected = Some(new);
                }
                Err(err) => outcome.error = Some(err.to_string()),
            },
            () = stopped(&mut stop) => {
                outcome.error.get_or_insert_with(|| "the run ended while reconnecting".into());
                break;
            }
        }
    }
    let _ = outcomes.send(outcome);
    let Some(mut connection) = reconnected else {
        return;
    };
    loop {
        tokio::select! {
            incoming = connection.next() => if incoming.is_err() { return },
            () = stopped(&mut stop) => break,
        }
    }
    connection.close().await;
}

/// Resolves once the run ends (`stop` turned true, or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// The `url` of a `migrate` event's text (`["migrate",{"url":"..."}]`).
fn migrate_url(event: &str) -> Option<String> {
    if !event.starts_with("[\"migrate\"") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(event).ok()?;
    value.get(1)?.get("url")?.as_str().map(str::to_owned)
}

/// The IPv4 address of `http://host:port` (the load generator's sources
/// are IPv4 loopback addresses, so an IPv6 answer is of no use).
async fn address_of(url: &str) -> Option<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("ws://"))
        .unwrap_or(url);
    let authority = rest.split('/').next()?;
    if let Ok(address) = authority.parse::<SocketAddr>() {
        return Some(address);
    }
    let with_port = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    tokio::net::lookup_host(with_port)
        .await
        .ok()?
        .find(SocketAddr::is_ipv4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_read_from_a_migrate_event_only() {
        let event = r#"["migrate",{"url":"http://127.0.0.1:4001"}]"#;
        assert_eq!(migrate_url(event).as_deref(), Some("http://127.0.0.1:4001"));
        assert_eq!(migrate_url(r#"["chat message",{"url":"x"}]"#), None);
        assert_eq!(migrate_url(r#"["migrate",{}]"#), None);
    }

    #[tokio::test]
    async fn a_public_url_gives_an_ipv4_address() {
        let expected: SocketAddr = "127.0.0.1:4001".parse().unwrap();
        assert_eq!(address_of("http://127.0.0.1:4001").await, Some(expected));
        assert_eq!(address_of("http://127.0.0.1:4001/").await, Some(expected));
        assert_eq!(address_of("http://localhost:4001").await, Some(expected));
    }
}
