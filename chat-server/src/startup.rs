//! Building and running the chat-server: [`Application::build`] binds the
//! listeners (port 0 picks a free one, for tests) and wires Socket.IO, the
//! REST gateway and the store client; [`Application::run_until_stopped`]
//! starts the node's tasks and serves until it is asked to stop, then
//! drains: every client moves to another node, every acked message is
//! stored, and the node leaves the registry.

use crate::cluster::drain::drain;
use crate::cluster::lifecycle::StopReason;
use crate::cluster::presence;
use crate::cluster::{Cluster, registry};
use crate::config::{AdapterKind, ChatConfig};
use crate::engine::Engine;
use crate::expiry;
use crate::http;
use crate::metrics::ChatMetrics;
use crate::state::AppState;
use crate::store_changes;
use anyhow::Context;
use axum::{Extension, Router};
use prometheus_client::registry::Registry;
use service_kit::metrics::HttpMetrics;
use service_kit::server::{Limits, serve, with_common_layers};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The largest REST request body, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The longest a REST request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A chat-server bound to its ports, ready to run.
pub struct Application {
    public: Listening,
    internal: Option<Listening>,
    engine: Engine,
    cluster: Cluster,
    drain_spread: Duration,
}

/// A bound listener and the routes it serves.
struct Listening {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Wires every part and binds `config.addr` (and
    /// `config.internal_addr`, when set).
    pub async fn build(config: ChatConfig) -> anyhow::Result<Self> {
        let mut registry = Registry::with_prefix("chat");
        let http_metrics = HttpMetrics::register(&mut registry);
        let (state, expiry_queue) = AppState::build(&config, &mut registry)?;
        state.store.spawn_health_checks();
        let (node, store, metrics) = (
            state.node.clone(),
            state.store.clone(),
            state.metrics.clone(),
        );
        state.message_rate.spawn_cleanup();
        state.event_rate.spawn_cleanup();
        let pending = state.pending.clone();
        ChatMetrics::register_reading(
            &mut registry,
            "sessions_pending",
            "Engine sessions whose socket has not connected yet (new ones are refused beyond CHAT_MAX_PENDING_SESSIONS)",
            move || pending.count(),
        );
        let transports = node.transports.clone();
        ChatMetrics::register_reading(
            &mut registry,
            "transports_tracked",
            "Sessions whose transport's connection is remembered for drains: connected sockets, and sessions not connected yet until their deadline",
            move || {
                let (connected, pending) = transports.held();
                connected + pending
            },
        );
        let (routes, _) = http::routes(state.clone(), Arc::new(registry));
        let limits = Limits {
            timeout: REQUEST_TIMEOUT,
            body_limit: BODY_LIMIT,
            streaming: http::attachments::STREAMING_ROUTES,
        };
        let layered = |router: Router| with_common_layers(router, http_metrics.clone(), limits);
        let (public, internal) = match &config.internal_addr {
            Some(_) => (
                routes.public.merge(routes.probes.clone()),
                Some(routes.operators.merge(routes.probes)),
            ),
            None => (
                routes.public.merge(routes.probes).merge(routes.operators),
                None,
            ),
        };
        let (engine, public) = Engine::build(&config, &state, layered(public)).await?;
        // What the gateway's routes use to tell sockets of a change.
        let public = public.layer(Extension(engine.rooms.clone()));
        node.lifecycle.spawn_essential(
            "token expiry",
            expiry::run(engine.rooms.clone(), expiry_queue),
        );
        node.lifecycle.spawn_essential(
            "store changes",
            store_changes::run(
                state.clone(),
                engine.rooms.clone(),
                config.adapter == AdapterKind::Local,
            ),
        );
        let public = Listening {
            listener: bind(&config.addr, "CHAT_ADDR").await?,
            router: public,
        };
        let internal = match (&config.internal_addr, internal) {
            (Some(addr), Some(router)) => Some(Listening {
                listener: bind(addr, "CHAT_INTERNAL_ADDR").await?,
                router: layered(router),
            }),
            _ => None,
        };
        let cluster = Cluster {
            node,
            store,
            metrics,
            rooms: engine.rooms.clone(),
        };
        Ok(Self {
            public,
            internal,
            engine,
            cluster,
            drain_spread: config.drain_spread(),
        })
    }

    /// The port of the public listener.
    pub fn port(&self) -> u16 {
        port_of(&self.public.listener)
    }

    /// The port of the internal listener, when there is one.
    pub fn internal_port(&self) -> Option<u16> {
        self.internal.as_ref().map(|l| port_of(&l.listener))
    }

    /// Serves until `shutdown` resolves or the node is asked to stop
    /// (`POST /admin/drain`, or a fault that leaves it unable to work with
    /// the other nodes); then drains and lets in-flight requests finish.
    /// The internal listener serves until the drain is over. Fails only on
    /// such a fault.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            public,
            internal,
            engine,
            cluster,
            drain_spread,
        } = self;
        let lifecycle = cluster.node.lifecycle.clone();
        tracing::info!(
            port = port_of(&public.listener),
            internal_port = internal.as_ref().map(|l| port_of(&l.listener)),
            node = %cluster.node.presence.node(),
            "chat-server listening on port {}",
            port_of(&public.listener)
        );
        let heartbeat = lifecycle.spawn_essential("node registry", registry::run(cluster.clone()));
        lifecycle.spawn_essential("presence writer", presence::writer::run(cluster.clone()));
        let drained = CancellationToken::new();
        let stop = {
            let drained = drained.clone();
            async move {
                tokio::select! {
                    () = shutdown => {}
                    reason = cluster.node.lifecycle.stop_requested() => {
                        if let StopReason::Fatal(why) = &reason {
                            tracing::error!(reason = %why, "this node cannot go on; draining it");
                        }
                    }
                }
                drain(&cluster, drain_spread, heartbeat).await;
                engine.close().await;
                drained.cancel();
            }
        };
        let internal = async move {
            match internal {
                Some(Listening { listener, router }) => {
                    serve(listener, router, drained.cancelled_owned()).await
                }
                None => Ok(()),
            }
        };
        tokio::try_join!(serve(public.listener, public.router, stop), internal)?;
        match lifecycle.stop_reason() {
            Some(StopReason::Fatal(why)) => Err(anyhow::anyhow!(why)),
            _ => Ok(()),
        }
    }
}

async fn bind(addr: &str, variable: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {variable}={addr}"))
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().map(|addr| addr.port()).unwrap_or(0)
}
