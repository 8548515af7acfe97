//! The `online` and `offline` notices: to the user's groups, but not to the
//! user's own sockets.

use crate::metrics::ChatMetrics;
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{self, Audience, Rooms};
use chat_wire::events::{OfflineNotice, OnlineNotice};
use chat_wire::ids::Up;
use chat_wire::time::Timestamp;

/// Tells `groups` that `up` came online.
pub async fn online(rooms: &dyn Rooms, metrics: &ChatMetrics, up: &Up, groups: Vec<String>) {
    let notice = Outgoing::Online(OnlineNotice { up: up.clone() });
    tell(rooms, metrics, up, groups, notice).await;
}

/// Tells `groups` that `up` went offline.
pub async fn offline(
    rooms: &dyn Rooms,
    metrics: &ChatMetrics,
    up: &Up,
    groups: Vec<String>,
    last_seen: Timestamp,
) {
    let notice = Outgoing::Offline(OfflineNotice {
        up: up.clone(),
        last_seen,
    });
    tell(rooms, metrics, up, groups, notice).await;
}

async fn tell(
    rooms: &dyn Rooms,
    metrics: &ChatMetrics,
    up: &Up,
    groups: Vec<String>,
    notice: Outgoing,
) {
    if groups.is_empty() {
        return;
    }
    let audience = Audience::rooms(groups).except_user(up);
    // A failure is logged by `send`; nothing else is owed.
    let _ = rooms::send(rooms, metrics, &audience, &notice).await;
}
