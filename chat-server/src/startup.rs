//! Building and running the chat-server: [`Application::build`] binds the
//! listener (port 0 picks a free one, for tests) and wires Socket.IO, the
//! REST gateway and the store client; [`Application::run_until_stopped`]
//! serves until it is asked to stop, then drains: every client moves to
//! another node, every acked message is stored, and the node leaves the
//! registry.

use crate::cluster::adapter::AdapterHealth;
use crate::cluster::lifecycle::{Lifecycle, StopReason};
use crate::cluster::presence::Presence;
use crate::cluster::transports::Transports;
use crate::config::ChatConfig;
use crate::http;
use crate::jwt::JwtKeys;
use crate::limits::rate::UserRate;
use crate::limits::sockets::SocketQuota;
use crate::location::NodeLocator;
use crate::metrics::ChatMetrics;
use crate::notify::Notifier;
use crate::socket::expiry::ExpiryWatch;
use crate::socket::server::SocketServer;
use crate::state::AppState;
use crate::store_client::StoreClient;
use anyhow::Context;
use axum::Router;
use prometheus_client::registry::Registry;
use service_kit::metrics::HttpMetrics;
use service_kit::server::{Limits, serve, with_common_layers};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The largest REST request body, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The longest a REST request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A chat-server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    sockets: SocketServer,
    state: AppState,
    drain_spread: Duration,
    port: u16,
}

impl Application {
    /// Wires every part and binds `config.addr`.
    pub async fn build(config: ChatConfig) -> anyhow::Result<Self> {
        let mut registry = Registry::with_prefix("chat");
        let http_metrics = HttpMetrics::register(&mut registry);
        let store = StoreClient::new(&config.store_url, &config.store_token, &mut registry)
            .context("cannot build the store client")?;
        let notifier = Notifier::spawn(config.notify_url.clone(), store.clone(), &mut registry);
        let (expiry, expiry_queue) = ExpiryWatch::new();
        let state = AppState {
            store,
            notifier,
            jwt: JwtKeys::new(&config.jwt_secret),
            presence: Presence::new(config.node_id.clone()),
            metrics: ChatMetrics::register(&mut registry),
            locator: NodeLocator::new(config.nodes.clone(), config.public_url.clone()),
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
            max_message_chars: config.max_message_chars,
            lifecycle: Lifecycle::default(),
            transports: Transports::default(),
            adapter: AdapterHealth::default(),
            admin_token: config.admin_token.clone(),
            expiry,
        };
        state.message_rate.spawn_cleanup();
        state.event_rate.spawn_cleanup();
        let (router, _) = http::router(state.clone(), Arc::new(registry));
        let limits = Limits {
            timeout: REQUEST_TIMEOUT,
            body_limit: BODY_LIMIT,
        };
        let router = with_common_layers(router, http_metrics, limits);
        let (sockets, router) = SocketServer::build(&config, &state, router).await?;
        sockets.spawn_expiry(expiry_queue);
        let listener = TcpListener::bind(&config.addr)
            .await
            .with_context(|| format!("cannot listen on CHAT_ADDR={}", config.addr))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            router,
            sockets,
            state,
            drain_spread: config.drain_spread,
            port,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves or the node is asked to stop
    /// (`POST /admin/drain`, or a fault that leaves it unable to work with
    /// the other nodes); then drains and lets in-flight requests finish.
    /// Fails only on such a fault.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(
            port = self.port,
            node = %self.state.presence.node(),
            "chat-server listening on port {}",
            self.port
        );
        let (sockets, state, spread) = (self.sockets, self.state, self.drain_spread);
        let registry = sockets.spawn_registry(&state);
        let lifecycle = state.lifecycle.clone();
        let stop = async move {
            tokio::select! {
                () = shutdown => {}
                reason = state.lifecycle.stop_requested() => {
                    if let StopReason::Fatal(why) = &reason {
                        tracing::error!(reason = %why, "this node cannot go on; draining it");
                    }
                }
            }
            sockets.drain(&state, spread, registry).await;
            sockets.close().await;
        };
        serve(self.listener, self.router, stop).await?;
        match lifecycle.stop_reason() {
            Some(StopReason::Fatal(why)) => Err(anyhow::anyhow!(why)),
            _ => Ok(()),
        }
    }
}
