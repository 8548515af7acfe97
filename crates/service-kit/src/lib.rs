//! What both services share about being an HTTP service, and nothing about chat.
//!
//! - [`config`]: configuration with clap: one clear line when a variable is
//!   missing or invalid, and the types of secret settings.
//! - [`api_error`]: the one error type every handler returns, answered with the
//!   contract's error body; 5xx causes are logged, never sent.
//! - [`docs`]: operational routes, Swagger UI and the bearer scheme.
//! - [`extract`]: JSON and query extractors whose rejections use that body.
//! - [`logging`]: the three log files (`requests.log`, `combined.log`,
//!   `error.log`) and the console, written without blocking.
//! - [`request_log`]: one Apache Combined Log Format line per request;
//!   [`request_id`]: the `x-request-id` that follows a request through both
//!   services and into every log line written while it is handled.
//! - [`responses`]: the error answers the OpenAPI documents list per route.
//! - [`metrics`]: Prometheus request counters and latency histograms.
//! - [`health`]: `/healthz` and the `/readyz` answer.
//! - [`process`]: logging, running and the exit code of a service binary.
//! - [`server`]: the middleware stack, trailing-slash handling, graceful
//!   serving and the limits of a connection; [`activity`]: what a
//!   connection is doing; [`connection`]: accepted connections that can be
//!   closed on purpose; [`shutdown`]: the ctrl-c / SIGTERM future.

pub mod activity;
pub mod api_error;
pub mod config;
pub mod connection;
pub mod docs;
pub mod extract;
pub mod health;
pub mod linger;
pub mod logging;
pub mod metrics;
pub mod process;
pub mod request_id;
pub mod request_log;
pub mod responses;
pub mod server;
pub mod shutdown;

pub use api_error::ApiError;
pub use extract::{AppJson, AppQuery, JsonObject};
