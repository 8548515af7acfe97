//! Store calls about blocks and the presence setting, and a group's
//! presence as one member may see it.

use super::StoreClient;
use chat_wire::cluster::GroupPresence;
use chat_wire::ids::{EntityId, Up};
use chat_wire::privacy::{BlockedList, Visibility, VisibilityUpdate};
use reqwest::Method;
use service_kit::ApiError;

impl StoreClient {
    /// The users `up` blocked, oldest first.
    pub async fn blocked_users(&self, up: &Up) -> Result<BlockedList, ApiError> {
        let path = ["user", up.as_str(), "blocked"];
        self.call("blocked_users", self.request(Method::GET, &path))
            .await
    }

    /// `up` blocks `other` (idempotent); the list after.
    pub async fn block(&self, up: &Up, other: &Up) -> Result<BlockedList, ApiError> {
        let path = ["user", up.as_str(), "blocked", other.as_str()];
        self.call("block", self.request(Method::PUT, &path)).await
    }

    /// `up` unblocks `other` (idempotent); the list after.
    pub async fn unblock(&self, up: &Up, other: &Up) -> Result<BlockedList, ApiError> {
        let path = ["user", up.as_str(), "blocked", other.as_str()];
        self.call("unblock", self.request(Method::DELETE, &path))
            .await
    }

    /// Whether `up` shows their presence.
    pub async fn presence_visibility(&self, up: &Up) -> Result<Visibility, ApiError> {
        let path = ["user", up.as_str(), "presence"];
        self.call("presence_visibility", self.request(Method::GET, &path))
            .await
    }

    /// Shows or hides the presence of `up`; `changed` when it was different.
    pub async fn set_presence_visible(
        &self,
        up: &Up,
        visible: bool,
    ) -> Result<Visibility, ApiError> {
        let path = ["user", up.as_str(), "presence"];
        let request = self
            .request(Method::PUT, &path)
            .json(&VisibilityUpdate { visible });
        self.call("set_presence_visible", request).await
    }

    /// A group and its members online whose presence `viewer` may see.
    pub async fn group_presence_for(
        &self,
        id: &EntityId,
        viewer: &Up,
    ) -> Result<GroupPresence, ApiError> {
        let path = ["group", id.as_str(), "presence"];
        let request = self
            .request(Method::GET, &path)
            .query(&[("viewer", viewer.as_str())]);
        self.call("group_presence", request).await
    }
}
