//! Who made a data request, for the change log: a chat node (it sends
//! `X-Chat-Node: <node id>` and applies its own changes to its sockets
//! live) or any other caller, whose group and message changes are recorded
//! for the chat nodes to apply (docs/store-api.md, "The change log").

use crate::db::changes::NewChange;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chat_wire::changes::CHAT_NODE_HEADER;
use std::convert::Infallible;

/// The caller of a request that may change a group or a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A chat node: it applies the change to its sockets itself.
    ChatNode,
    /// Another service: the chat nodes learn the change from the log.
    Service,
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.headers.contains_key(CHAT_NODE_HEADER) {
            true => Self::ChatNode,
            false => Self::Service,
        })
    }
}

impl Origin {
    /// Records `change` in the log unless a chat node made it. The change
    /// itself is done: a failure to record it is logged and the request
    /// still succeeds (the sockets then learn it at their next connect).
    pub async fn record(self, state: &AppState, change: NewChange<'_>) {
        if self == Self::ChatNode {
            return;
        }
        let (kind, room) = change.summary();
        if let Err(err) = state.store.record_change(change).await {
            tracing::error!(error = %err, ?kind, %room, "a change was made but could not be recorded in the change log; live sockets will not learn it until they reconnect");
        }
    }
}
