//! Store calls about the store's change log: what other services changed
//! through the store, for this node to apply to its sockets.

use super::StoreClient;
use chat_wire::changes::ChangeList;
use chat_wire::time::{self, Timestamp};
use reqwest::Method;
use service_kit::ApiError;

impl StoreClient {
    /// The changes recorded at or after `since`, oldest first (a bounded
    /// page: `has_more` says more follow).
    pub async fn changes_since(&self, since: &Timestamp) -> Result<ChangeList, ApiError> {
        let request = self
            .request(Method::GET, &["changes"])
            .query(&[("since", time::format(since))]);
        self.signed(self.call("changes_since", request).await)
    }
}
