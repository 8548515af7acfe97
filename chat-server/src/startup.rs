//! Building and running the chat-server: [`Application::build`] binds the
//! listener (port 0 picks a free one, for tests) and wires Socket.IO, the
//! REST gateway and the store client; [`Application::run_until_stopped`]
//! serves until the shutdown future ends, then closes every socket cleanly
//! (clients reconnect elsewhere) and drains in-flight requests.

use crate::config::ChatConfig;
use crate::http;
use crate::jwt::JwtKeys;
use crate::location::NodeLocator;
use crate::matchmaking::MatchQueues;
use crate::metrics::ChatMetrics;
use crate::notify::Notifier;
use crate::presence::Presence;
use crate::rate_limit::MessageRate;
use crate::socket;
use crate::state::AppState;
use crate::store_client::StoreClient;
use anyhow::Context;
use axum::Router;
use prometheus_client::registry::Registry;
use service_kit::metrics::HttpMetrics;
use service_kit::server::{Limits, serve, with_common_layers};
use socketioxide::SocketIo;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Layer;

/// The largest REST request body, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The longest a REST request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a stopping node tries to mark its users offline.
const OFFLINE_DEADLINE: Duration = Duration::from_secs(5);
/// The largest Socket.IO payload, in bytes (a 4000-character message fits).
const MAX_SOCKET_PAYLOAD: u64 = 64 * 1024;
/// Bytes each WebSocket reads at a time. Client frames are small (an event
/// is a few hundred bytes), and this buffer is held by every idle socket: a
/// quarter of engineioxide's 4 KiB default saves 3 KiB per connection. A
/// larger frame grows its own buffer to fit.
const WS_READ_BUFFER: usize = 1024;

/// A chat-server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    io: SocketIo,
    state: AppState,
    port: u16,
}

impl Application {
    /// Wires every part and binds `config.addr`.
    pub async fn build(config: ChatConfig) -> anyhow::Result<Self> {
        if config.adapter != "local" {
            anyhow::bail!(
                "CHAT_ADAPTER={} is not available in this version: run one chat node with CHAT_ADAPTER=local",
                config.adapter
            );
        }
        let mut registry = Registry::with_prefix("chat");
        let http_metrics = HttpMetrics::register(&mut registry);
        let store = StoreClient::new(&config.store_url, &config.store_token, &mut registry)
            .context("cannot build the store client")?;
        let presence = Presence::default();
        let notifier = Notifier::spawn(
            config.notify_url.clone(),
            store.clone(),
            presence.clone(),
            &mut registry,
        );
        let state = AppState {
            store,
            notifier,
            match_queues: MatchQueues::default(),
            jwt: JwtKeys::new(&config.jwt_secret),
            presence,
            metrics: ChatMetrics::register(&mut registry),
            locator: NodeLocator::new(config.nodes.clone(), config.public_url.clone()),
            rate_limit: MessageRate::new(config.msg_rate, config.msg_burst),
            max_message_chars: config.max_message_chars,
        };
        state.rate_limit.spawn_cleanup();
        let (socket_layer, io) = SocketIo::builder()
            .max_payload(MAX_SOCKET_PAYLOAD)
            .ws_max_message_size(MAX_SOCKET_PAYLOAD as usize)
            .ws_read_buffer_size(WS_READ_BUFFER)
            .with_state(state.clone())
            .build_layer();
        socket::register(&io);
        let (router, _) = http::router(state.clone(), Arc::new(registry));
        let limits = Limits {
            timeout: REQUEST_TIMEOUT,
            body_limit: BODY_LIMIT,
        };
        let router = with_common_layers(router, http_metrics, limits);
        // The Socket.IO layer owns the engine's sessions: it must wrap the
        // whole router exactly once (a per-route layer would give each route
        // its own engine and lose sessions between requests).
        let router = Router::new()
            .fallback_service(socket_layer.layer(router))
            .layer(axum::middleware::map_request(
                socket::request_head::own_socket_request_head,
            ));
        let listener = TcpListener::bind(&config.addr)
            .await
            .with_context(|| format!("cannot listen on CHAT_ADDR={}", config.addr))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            router,
            io,
            state,
            port,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves; then disconnects every socket and
    /// lets in-flight requests finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(
            port = self.port,
            "chat-server listening on port {}",
            self.port
        );
        let (io, state) = (self.io, self.state);
        let stop = async move {
            shutdown.await;
            tracing::info!("closing every socket");
            io.close().await;
            mark_everyone_offline(&state).await;
        };
        serve(self.listener, self.router, stop).await
    }
}

/// Records the users still counted online as offline, so that a stopped node
/// leaves no one online in the store; bounded by [`OFFLINE_DEADLINE`].
async fn mark_everyone_offline(state: &AppState) {
    let users = state.presence.drain();
    if users.is_empty() {
        return;
    }
    let updates =
        futures::future::join_all(users.iter().map(|up| state.store.set_online(up, false)));
    match tokio::time::timeout(OFFLINE_DEADLINE, updates).await {
        Ok(results) => {
            let failed = results.iter().filter(|r| r.is_err()).count();
            tracing::info!(
                users = users.len(),
                failed,
                "marked the remaining users offline"
            );
        }
        Err(_) => tracing::warn!(
            users = users.len(),
            "gave up marking the remaining users offline"
        ),
    }
}
