//! Retention: how long a group's messages are kept, and the sweep that
//! deletes them when that time is over (docs/architecture.md, "Retention").
//!
//! A group's `retention` is `forever` (the default), `days` or `untilRead`
//! (`chat_wire::retention`). Every store instance runs a sweep every
//! `STORE_RETENTION_SWEEP_SECONDS` that hard-deletes, from the oldest on,
//! the messages whose time is over, with their attachments' bytes.
//!
//! - [`settings`]: how often, how much per batch, how gently.
//! - [`policy`]: setting a group's retention.
//! - [`progress`]: what the sweep keeps on a group (`sweep`: how far it
//!   deleted, when messages became read by all) and the `untilRead` rule.
//! - [`sweep`]: one sweep of every group, or of one.
//! - [`history`]: which messages a group still holds; what a cursor naming
//!   a swept message means.

pub mod history;
pub mod policy;
pub mod progress;
pub mod settings;
pub mod sweep;

use crate::db::Store;
use mongodb::bson::DateTime;
use settings::RetentionSettings;
use std::time::Duration;

/// Sweeps every [`RetentionSettings::every`] (jittered by up to a tenth,
/// so that instances started together do not sweep in step) until the
/// runtime stops; never when the background sweep is off.
pub async fn run(store: Store, settings: RetentionSettings) {
    let Some(every) = settings.every() else {
        tracing::info!("the retention sweep is off (STORE_RETENTION_SWEEP_SECONDS=0)");
        return;
    };
    loop {
        let tenth = u64::try_from(every.as_millis() / 10)
            .unwrap_or(u64::MAX)
            .max(1);
        let jitter = DateTime::now().timestamp_millis().unsigned_abs() % tenth;
        tokio::time::sleep(every + Duration::from_millis(jitter)).await;
        match sweep::sweep_all(&store, &settings, DateTime::now()).await {
            Ok(report) if report.messages > 0 => {
                tracing::info!(
                    groups = report.groups,
                    messages = report.messages,
                    attachments = report.attachments,
                    "retention sweep deleted messages"
                );
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "the retention sweep stopped; it runs again later");
            }
        }
    }
}
