//! Building and running the store-server: [`Application::build`] binds the
//! listener (port 0 picks a free one, for tests) and wires every part;
//! [`Application::run_until_stopped`] serves until the shutdown future ends.

use crate::attachments::sweep;
use crate::attachments::thumbnail::Thumbnailer;
use crate::attachments::upload::UploadLimits;
use crate::auth::ServiceToken;
use crate::config::StoreConfig;
use crate::db::Store;
use crate::message_writer::MessageWriter;
use crate::routes;
use crate::state::AppState;
use anyhow::Context;
use axum::Router;
use backon::{ExponentialBuilder, Retryable};
use prometheus_client::registry::Registry;
use service_kit::metrics::HttpMetrics;
use service_kit::server::{Limits, serve, with_common_layers};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

/// The largest request body, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The longest a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest pause between attempts at creating the indexes while
/// MongoDB is down.
const INDEX_RETRY: Duration = Duration::from_secs(2);

/// A store-server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    store: Store,
    /// Shared with the `/readyz` handler (see `AppState::draining`).
    draining: Arc<AtomicBool>,
    /// How long `/readyz` answers 503 before the store stops taking
    /// requests (`STORE_DRAIN_SECONDS`).
    drain_notice: Duration,
}

impl Application {
    /// Connects to MongoDB (without waiting for it), creates the indexes in
    /// the background, and binds `config.addr`.
    pub async fn build(config: StoreConfig) -> anyhow::Result<Self> {
        let store = Store::connect(
            config.mongodb_uri.expose(),
            &config.mongodb_db,
            config.write_concern.clone(),
        )
        .await
        .context("invalid MONGODB_URI")?;
        let indexes_ready = Arc::new(AtomicBool::new(false));
        let draining = Arc::new(AtomicBool::new(false));
        tokio::spawn(create_indexes(store.clone(), indexes_ready.clone()));
        tokio::spawn(sweep::run(store.clone()));
        tokio::spawn(crate::db::search_backfill::run(store.clone()));
        tokio::spawn(crate::retention::run(
            store.clone(),
            config.retention.clone(),
        ));
        let mut registry = Registry::with_prefix("store");
        let state = AppState {
            writer: MessageWriter::spawn(store.clone(), &mut registry),
            store: store.clone(),
            max_message_chars: config.max_message_chars,
            attachment_limits: UploadLimits {
                max_bytes: config.max_attachment_bytes,
                quota_bytes: config.attachment_quota_bytes,
            },
            thumbnailer: Thumbnailer::default(),
            retention: config.retention.clone(),
            indexes_ready,
            draining: draining.clone(),
        };
        let metrics = HttpMetrics::register(&mut registry);
        let (router, _) = routes::router(
            state,
            ServiceToken::new(&config.api_token),
            Arc::new(registry),
        );
        let limits = Limits {
            timeout: REQUEST_TIMEOUT,
            body_limit: BODY_LIMIT,
            streaming: routes::attachments::STREAMING_ROUTES,
        };
        let router = with_common_layers(router, metrics, limits);
        let listener = TcpListener::bind(&config.addr)
            .await
            .with_context(|| format!("cannot listen on STORE_ADDR={}", config.addr))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            router,
            port,
            store,
            draining,
            drain_notice: config.drain_notice(),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database handle (tests use it to set up and inspect data).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` resolves; then answers `/readyz` with 503
    /// for `STORE_DRAIN_SECONDS` while it still serves (callers with
    /// another instance move to it), stops taking requests, finishes those
    /// in flight (their messages' batches included) and writes the pending
    /// counts and read markers.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(
            port = self.port,
            "store-server listening on port {}",
            self.port
        );
        let (draining, notice) = (self.draining.clone(), self.drain_notice);
        let drained = async move {
            shutdown.await;
            draining.store(true, Ordering::Release);
            tracing::info!(
                seconds = notice.as_secs_f64(),
                "stopping: /readyz answers 503, then no new requests"
            );
            tokio::time::sleep(notice).await;
        };
        serve(self.listener, self.router, drained).await?;
        Ok(())
    }
}

/// Creates the indexes, retrying without end (jittered, so store
/// instances started together do not retry in step) while MongoDB is
/// unreachable: until then the store is not ready.
async fn create_indexes(store: Store, ready: Arc<AtomicBool>) {
    let backoff = ExponentialBuilder::new()
        .with_jitter()
        .with_min_delay(INDEX_RETRY / 4)
        .with_max_delay(INDEX_RETRY)
        .without_max_times();
    let created = (|| store.ensure_indexes())
        .retry(backoff)
        .notify(|err, wait| {
            tracing::warn!(service = "database", error = %err, retry_in = ?wait, "cannot create indexes yet; retrying");
        })
        .await;
    match created {
        Ok(()) => {
            ready.store(true, Ordering::Release);
            tracing::info!(service = "database", "indexes ready");
        }
        Err(err) => {
            tracing::error!(service = "database", error = %err, "cannot create the indexes");
        }
    }
}
