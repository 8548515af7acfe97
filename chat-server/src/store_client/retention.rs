//! Store calls about retention: an admin setting how long a group's
//! messages are kept.

use super::StoreClient;
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::Group;
use chat_wire::retention::Retention;
use reqwest::Method;
use service_kit::ApiError;

impl StoreClient {
    /// Sets the retention of `group` if `by` is one of its admins
    /// (`permission_denied` otherwise), in one step in the store.
    pub async fn set_retention(
        &self,
        group: &EntityId,
        retention: &Retention,
        by: &Up,
    ) -> Result<Group, ApiError> {
        let request = self
            .request(Method::POST, &["group", group.as_str(), "retention"])
            .query(&[("by", by.as_str())])
            .json(retention);
        self.call("set_retention", request).await
    }
}
