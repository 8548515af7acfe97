//! The state shared by socket events and HTTP handlers: cheap clones of
//! the node's handles, built once from the configuration
//! ([`AppState::build`]).

use crate::attachments::urls::UrlSigner;
use crate::cluster::Node;
use crate::cluster::lifecycle::Lifecycle;
use crate::cluster::presence::Presence;
use crate::cluster::transports::Transports;
use crate::config::ChatConfig;
use crate::expiry::{ExpiryQueue, ExpiryWatch};
use crate::jwt::JwtKeys;
use crate::limits::pending::{PendingLimits, PendingSessions};
use crate::limits::rate::UserRate;
use crate::limits::sockets::SocketQuota;
use crate::location::NodeLocator;
use crate::metrics::ChatMetrics;
use crate::notify::Notifier;
use crate::socket::group_ids::GroupIdsReader;
use crate::store_client::StoreClient;
use anyhow::Context;
use prometheus_client::registry::Registry;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;

/// The bounds of an upload.
#[derive(Debug, Clone, Copy)]
pub struct AttachmentLimits {
    /// The largest file, in bytes.
    pub max_bytes: u64,
    /// What one user may keep in all, in bytes.
    pub quota_bytes: u64,
}

/// Shared handles of the running chat-server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: StoreClient,
    /// The handshakes' reads of group ids, many at once.
    pub group_ids: GroupIdsReader,
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
    /// The bounds of an upload: `CHAT_MAX_ATTACHMENT_BYTES` and
    /// `CHAT_ATTACHMENT_QUOTA_BYTES`.
    pub attachment_limits: AttachmentLimits,
    /// Signs and checks attachment download links.
    pub urls: UrlSigner,
    /// Sockets whose token expiry is watched.
    pub expiry: ExpiryWatch,
    /// The bearer token of the admin routes; `None`: they do not exist.
    pub admin_token: Option<SecretString>,
    /// This node's part in the cluster: presence, lifecycle, locator,
    /// transports.
    pub node: Node,
}

impl AppState {
    /// Every handle `config` describes, their metrics registered in
    /// `registry`; also the queue the token-expiry task reads (see
    /// `expiry::run`). Spawns the notifier; nothing is connected yet.
    pub fn build(
        config: &ChatConfig,
        registry: &mut Registry,
    ) -> anyhow::Result<(Self, ExpiryQueue)> {
        let metrics = ChatMetrics::register(registry);
        // Drawn once: without `CHAT_NODE_ID` each call draws a random id.
        let node_id = config.node_id();
        let urls = UrlSigner::new(config.jwt_secret.expose_secret().as_bytes());
        let store = StoreClient::new(
            &config.store_url,
            &config.store_token,
            &node_id,
            urls.clone(),
            registry,
        )
        .context("cannot build the store client")?;
        let notifier = Notifier::spawn(config.notify_url.clone(), store.clone(), registry)
            .context("cannot build the notification client")?;
        let (expiry, expiry_queue) = ExpiryWatch::new();
        let node = Node {
            presence: Presence::new(node_id),
            lifecycle: Lifecycle::default(),
            locator: NodeLocator::new(config.nodes.clone(), config.public_url.clone()),
            transports: Transports::new(config.connect_timeout()),
        };
        let state = Self {
            group_ids: GroupIdsReader::spawn(store.clone()),
            store,
            notifier,
            jwt: JwtKeys::new(config.jwt_secret.expose_secret()),
            metrics,
            message_rate: UserRate::new(
                config.msg_rate,
                config.msg_burst,
                "you are sending messages too fast; slow down",
            ),
            event_rate: UserRate::new(
                config.event_rate,
                config.event_burst,
                "you are sending events too fast; slow down",
            ),
            socket_quota: SocketQuota::new(config.max_sockets_per_user),
            pending: PendingSessions::new(PendingLimits {
                per_node: config.max_pending_sessions,
                per_address: config.max_pending_per_address,
                timeout: config.connect_timeout(),
            }),
            trusted_proxies: config.trusted_proxies.clone().into(),
            max_message_chars: config.max_message_chars,
            attachment_limits: AttachmentLimits {
                max_bytes: config.max_attachment_bytes,
                quota_bytes: config.attachment_quota_bytes,
            },
            urls,
            expiry,
            admin_token: config.admin_token.clone(),
            node,
        };
        Ok((state, expiry_queue))
    }
}
