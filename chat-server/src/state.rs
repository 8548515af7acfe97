//! The state shared by socket handlers and HTTP handlers: cheap clones.

use crate::cluster::adapter::AdapterHealth;
use crate::cluster::lifecycle::Lifecycle;
use crate::cluster::presence::Presence;
use crate::cluster::transports::Transports;
use crate::jwt::JwtKeys;
use crate::limits::rate::UserRate;
use crate::limits::sockets::SocketQuota;
use crate::location::NodeLocator;
use crate::metrics::ChatMetrics;
use crate::notify::Notifier;
use crate::store_client::StoreClient;

/// Shared handles of the running chat-server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: StoreClient,
    /// User-token verification.
    pub jwt: JwtKeys,
    /// Who is online, here and in the cluster.
    pub presence: Presence,
    /// Real-time metrics.
    pub metrics: ChatMetrics,
    /// Node assignment for `/chat/location` and `migrate`.
    pub locator: NodeLocator,
    /// Offline notifications.
    pub notifier: Notifier,
    /// Per-user message rate.
    pub message_rate: UserRate,
    /// Per-user rate of client events of any kind.
    pub event_rate: UserRate,
    /// Sockets per user.
    pub socket_quota: SocketQuota,
    /// Longest message, in characters.
    pub max_message_chars: usize,
    /// Registered, draining, stopping; work in flight.
    pub lifecycle: Lifecycle,
    /// The connections of the sockets' transports, for drains.
    pub transports: Transports,
    /// Whether the adapter hears the other nodes (always, on one node).
    pub adapter: AdapterHealth,
    /// Sockets whose token expiry is watched.
    pub expiry: crate::socket::expiry::ExpiryWatch,
    /// The bearer token of the admin routes; `None`: they answer 404.
    pub admin_token: Option<String>,
}

impl AppState {
    /// `Ok` when the node may take new sockets, else why not.
    pub fn accepts_sockets(&self) -> Result<(), &'static str> {
        if self.lifecycle.is_draining() {
            return Err("this chat node is draining: connect to another node");
        }
        if !self.lifecycle.is_registered() {
            return Err("this chat node is not in the node registry yet");
        }
        self.adapter.check()
    }
}
