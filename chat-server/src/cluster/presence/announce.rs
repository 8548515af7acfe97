//! The `online` and `offline` notices of the transitions this node
//! announces: to the user's groups, but not to the user's own sockets, nor
//! to anyone while the user hides their presence, nor ever to the users
//! they blocked (`rooms::presence`).

use crate::metrics::ChatMetrics;
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{self, Rooms};
use chat_wire::cluster::PresenceAudience;
use chat_wire::events::{OfflineNotice, OnlineNotice};
use chat_wire::ids::Up;
use chat_wire::time::Timestamp;

/// Tells `groups` that `up` came online.
pub async fn online(
    rooms: &dyn Rooms,
    metrics: &ChatMetrics,
    up: &Up,
    groups: Vec<String>,
    who: &PresenceAudience,
) {
    let notice = Outgoing::Online(OnlineNotice { up: up.clone() });
    tell(rooms, metrics, up, groups, who, notice).await;
}

/// Tells `groups` that `up` went offline (`last_seen` is `None` when they
/// hid their presence: they look offline, with no time).
pub async fn offline(
    rooms: &dyn Rooms,
    metrics: &ChatMetrics,
    up: &Up,
    groups: Vec<String>,
    last_seen: Option<Timestamp>,
    who: &PresenceAudience,
) {
    let notice = Outgoing::Offline(OfflineNotice {
        up: up.clone(),
        last_seen,
    });
    tell(rooms, metrics, up, groups, who, notice).await;
}

async fn tell(
    rooms: &dyn Rooms,
    metrics: &ChatMetrics,
    up: &Up,
    groups: Vec<String>,
    who: &PresenceAudience,
    notice: Outgoing,
) {
    let Some(audience) = rooms::presence::audience(up, groups, who) else {
        return;
    };
    // A failure is logged by `send`; nothing else is owed.
    let _ = rooms::send(rooms, metrics, &audience, &notice).await;
}
