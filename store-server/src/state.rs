//! The state every handler receives: cheap clones of shared handles.

use crate::attachments::thumbnail::Thumbnailer;
use crate::attachments::upload::UploadLimits;
use crate::db::Store;
use crate::message_writer::MessageWriter;
use crate::retention::settings::RetentionSettings;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared handles of the running store-server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The collections.
    pub store: Store,
    /// The group-commit writer of new messages.
    pub writer: MessageWriter,
    /// Longest message, in characters.
    pub max_message_chars: usize,
    /// The bounds of an upload whose caller gives none.
    pub attachment_limits: UploadLimits,
    /// Image decoding, one at a time.
    pub thumbnailer: Thumbnailer,
    /// The retention sweep's settings (`POST /retention/sweep` sweeps with them).
    pub retention: RetentionSettings,
    /// Set once every index exists; until then the store is not ready.
    pub indexes_ready: Arc<AtomicBool>,
    /// Set when the store is asked to stop: `/readyz` answers 503 while it
    /// still serves, so that callers move to another instance first.
    pub draining: Arc<AtomicBool>,
}

impl AppState {
    /// Whether the indexes have been created.
    pub fn indexes_ready(&self) -> bool {
        self.indexes_ready.load(Ordering::Acquire)
    }

    /// Whether the store has been asked to stop.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}
