//! The state shared by socket events and HTTP handlers: cheap clones of
//! the node's handles, built once in `startup`.

use crate::cluster::Node;
use crate::expiry::ExpiryWatch;
use crate::jwt::JwtKeys;
use crate::limits::pending::PendingSessions;
use crate::limits::rate::UserRate;
use crate::limits::sockets::SocketQuota;
use crate::metrics::ChatMetrics;
use crate::notify::Notifier;
use crate::store_client::StoreClient;
use secrecy::SecretString;
use std::net::IpAddr;
use std::sync::Arc;

/// Shared handles of the running chat-server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: StoreClient,
    /// User-token verification.
    pub jwt: JwtKeys,
    /// Real-time metrics.
    pub metrics: ChatMetrics,
    /// Offline notifications.
    pub notifier: Notifier,
    /// Per-user message rate.
    pub message_rate: UserRate,
    /// Per-user rate of client events of any kind.
    pub event_rate: UserRate,
    /// Sockets per user.
    pub socket_quota: SocketQuota,
    /// Engine sessions that have not connected their socket yet.
    pub pending: PendingSessions,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<[IpAddr]>,
    /// Longest message, in characters.
    pub max_message_chars: usize,
    /// Sockets whose token expiry is watched.
    pub expiry: ExpiryWatch,
    /// The bearer token of the admin routes; `None`: they do not exist.
    pub admin_token: Option<SecretString>,
    /// This node's part in the cluster: presence, lifecycle, locator,
    /// transports.
    pub node: Node,
}
