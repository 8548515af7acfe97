//! The state shared by socket handlers and HTTP handlers: cheap clones.

use crate::jwt::JwtKeys;
use crate::location::NodeLocator;
use crate::matchmaking::MatchQueues;
use crate::metrics::ChatMetrics;
use crate::notify::Notifier;
use crate::presence::Presence;
use crate::rate_limit::MessageRate;
use crate::store_client::StoreClient;

/// Shared handles of the running chat-server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: StoreClient,
    /// User-token verification.
    pub jwt: JwtKeys,
    /// Online users of this node.
    pub presence: Presence,
    /// Real-time metrics.
    pub metrics: ChatMetrics,
    /// Node assignment for `/chat/location`.
    pub locator: NodeLocator,
    /// Matchmaking queues.
    pub match_queues: MatchQueues,
    /// Offline notifications.
    pub notifier: Notifier,
    /// Per-user message rate.
    pub rate_limit: MessageRate,
    /// Longest message, in characters.
    pub max_message_chars: usize,
}
