//! Log files and console output.
//!
//! Under the service's log directory:
//! - `requests.log`: one Apache Combined Log Format line per HTTP request
//!   (events of target [`REQUEST_TARGET`], written as they are);
//! - `combined.log`: every event at `info` or above;
//! - `error.log`: every event at `error`.
//!
//! File lines read `level: message {"service":"store","timestamp":"..."}`,
//! with the id of the request being handled (`requestId`, see
//! `request_id`) and the event's other fields added to the JSON object. Writes go through
//! `tracing-appender`'s non-blocking workers: a slow disk never stalls a
//! request, and lines written in a burst are flushed together. The console follows `RUST_LOG`.

use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// The target of the events that carry a request-log line.
pub const REQUEST_TARGET: &str = "http_request";

/// Keeps the log writers alive; dropping it flushes what is buffered.
#[must_use = "logs are flushed and closed when the guard is dropped"]
pub struct LogGuard {
    _workers: Vec<WorkerGuard>,
}

/// Installs the global subscriber: three files under `dir` and the console.
///
/// `service` goes into every file line; `rust_log` filters the console only
/// (files always keep `info`/`error` and above, so operators see the same
/// files whatever the console shows).
pub fn init(service: &'static str, dir: &Path, rust_log: &str) -> std::io::Result<LogGuard> {
    std::fs::create_dir_all(dir)?;
    let mut workers = Vec::new();
    let mut open = |name: &str| {
        // Buffered: the appender's worker flushes whenever it has drained its
        // queue, so a burst of lines costs one write, not one per line.
        let file = std::io::BufWriter::new(tracing_appender::rolling::never(dir, name));
        let (writer, guard) = tracing_appender::non_blocking(file);
        workers.push(guard);
        writer
    };
    // Each file filter says the most verbose level it passes: the global
    // maximum then stays at `info` (or the console's level), so `debug` and
    // `trace` calls, and the `log` records of libraries, stop at their
    // call site instead of being offered to every filter.
    let requests = LineLayer::raw(open("requests.log")).with_filter(
        filter_fn(|meta| meta.target() == REQUEST_TARGET).with_max_level_hint(Level::INFO),
    );
    let combined = LineLayer::formatted(service, open("combined.log")).with_filter(
        filter_fn(|meta| {
            meta.target() != REQUEST_TARGET && *meta.level() <= Level::INFO && is_ours_or_loud(meta)
        })
        .with_max_level_hint(Level::INFO),
    );
    let errors = LineLayer::formatted(service, open("error.log")).with_filter(
        filter_fn(|meta| meta.target() != REQUEST_TARGET && *meta.level() == Level::ERROR)
            .with_max_level_hint(Level::ERROR),
    );
    let mut console_filter = EnvFilter::try_new(rust_log)
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(
            format!("{REQUEST_TARGET}=off")
                .parse()
                .expect("static directive"),
        );
    for directive in ENGINE_LIMITS {
        console_filter = console_filter.add_directive(directive.parse().expect("static directive"));
    }
    let console = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_filter(console_filter);
    tracing_subscriber::registry()
        .with(requests)
        .with(combined)
        .with(errors)
        .with(console)
        .try_init()
        .map_err(std::io::Error::other)?;
    Ok(LogGuard { _workers: workers })
}

/// The Socket.IO engine's events below `info` never reach the console,
/// whatever `RUST_LOG` says: they print handshake payloads and packets
/// whole, a user's token among them. (Request-log lines stay off the
/// console too: they have their file.)
const ENGINE_LIMITS: [&str; 2] = ["socketioxide=info", "engineioxide=info"];

/// Library chatter below `warn` stays out of `combined.log`.
fn is_ours_or_loud(meta: &tracing::Metadata<'_>) -> bool {
    let target = meta.target();
    let ours = ["store_server", "chat_server", "service_kit"]
        .iter()
        .any(|crate_name| target.starts_with(crate_name));
    ours || *meta.level() <= Level::WARN
}

/// Writes each event as one line to a non-blocking file.
struct LineLayer {
    service: Option<&'static str>,
    writer: NonBlocking,
}

impl LineLayer {
    fn raw(writer: NonBlocking) -> Self {
        Self {
            service: None,
            writer,
        }
    }

    fn formatted(service: &'static str, writer: NonBlocking) -> Self {
        Self {
            service: Some(service),
            writer,
        }
    }
}

impl<S: Subscriber> Layer<S> for LineLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = FieldCollector::default();
        event.record(&mut fields);
        let line = match self.service {
            None => fields.message,
            Some(service) => format_line(service, *event.metadata().level(), fields),
        };
        let mut writer = self.writer.clone();
        if let Err(err) = writeln!(writer, "{line}") {
            eprintln!("log write failed: {err}");
        }
    }
}

/// `level: message {"service":...,"timestamp":...,<other fields>}`.
fn format_line(service: &str, level: Level, fields: FieldCollector) -> String {
    let level = match level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    };
    let mut meta = Map::new();
    meta.insert("service".into(), Value::from(service));
    meta.insert(
        "timestamp".into(),
        Value::from(chat_wire::time::format(&chrono::Utc::now())),
    );
    if let Some(id) = crate::request_id::current()
        && let Ok(id) = id.to_str()
    {
        meta.insert("requestId".into(), Value::from(id));
    }
    for (key, value) in fields.extra {
        // An event may name its own service, as the "database" lines do
        // (docs/operations.md, Logs).
        meta.insert(key, value);
    }
    let mut line = format!("{level}: {}", fields.message);
    let _ = write!(line, " {}", Value::Object(meta));
    line
}

#[derive(Default)]
struct FieldCollector {
    message: String,
    extra: Vec<(String, Value)>,
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.extra
                .push((field.name().to_owned(), Value::from(value)));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.extra
            .push((field.name().to_owned(), Value::from(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.extra
            .push((field.name().to_owned(), Value::from(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.extra
            .push((field.name().to_owned(), Value::from(value)));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.extra
                .push((field.name().to_owned(), Value::from(format!("{value:?}"))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_level_message_service_and_timestamp() {
        let fields = FieldCollector {
            message: "app started listening on port 3000".into(),
            extra: vec![("port".into(), Value::from(3000))],
        };
        let line = format_line("store", Level::INFO, fields);
        let (head, json) = line.split_once(" {").unwrap();
        assert_eq!(head, "info: app started listening on port 3000");
        let meta: Value = serde_json::from_str(&format!("{{{json}")).unwrap();
        assert_eq!(meta["service"], "store");
        assert_eq!(meta["port"], 3000);
        assert!(chat_wire::time::parse(meta["timestamp"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn an_event_may_name_its_own_service() {
        let fields = FieldCollector {
            message: "connected to database".into(),
            extra: vec![("service".into(), Value::from("database"))],
        };
        assert!(
            format_line("store", Level::WARN, fields)
                .starts_with("warning: connected to database {\"service\":\"database\"")
        );
    }
}
