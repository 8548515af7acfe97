//! Store calls about users: the names of those who share a group with
//! someone, and setting one's own name.

use super::StoreClient;
use chat_wire::ids::Up;
use chat_wire::model::User;
use chat_wire::names::UserNames;
use chat_wire::requests::UserUpdate;
use reqwest::Method;
use service_kit::ApiError;

impl StoreClient {
    /// The names of the users of `ups` who share a group with `asker`.
    pub async fn user_names(&self, asker: &Up, ups: &[Up]) -> Result<UserNames, ApiError> {
        let list = ups.iter().map(Up::as_str).collect::<Vec<_>>().join(",");
        let request = self
            .request(Method::GET, &["user", asker.as_str(), "names"])
            .query(&[("ups", list)]);
        self.call("user_names", request).await
    }

    /// Sets the display name of `up` (creating the user if needed).
    pub async fn set_name(&self, up: &Up, name: &str) -> Result<User, ApiError> {
        let body = UserUpdate {
            name: Some(name.to_owned()),
            ..UserUpdate::default()
        };
        let request = self
            .request(Method::POST, &["user", up.as_str()])
            .json(&body);
        self.call("set_name", request).await
    }
}
