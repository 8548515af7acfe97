//! Store calls about search: a user's messages found by words.

use super::{Signed, StoreClient};
use crate::attachments::urls::UrlSigner;
use chat_wire::ids::{EntityId, Up};
use chat_wire::search::{SearchPage, SearchQuery};
use reqwest::Method;
use service_kit::ApiError;

impl Signed for SearchPage {
    fn sign(&mut self, urls: &UrlSigner) {
        for hit in &mut self.items {
            urls.sign_message(&mut hit.message);
        }
    }
}

impl StoreClient {
    /// A page of `up`'s search `query` (validated by the caller), leaving
    /// out every group with a history gate but those of `open_gated`.
    pub async fn search(
        &self,
        up: &Up,
        query: &SearchQuery,
        open_gated: &[EntityId],
    ) -> Result<SearchPage, ApiError> {
        let mut params: Vec<(&str, String)> =
            vec![("up", up.to_string()), ("skipGated", "true".to_owned())];
        let given = [
            ("q", &query.q),
            ("group", &query.group),
            ("cursor", &query.cursor),
            ("perPage", &query.per_page),
        ];
        params.extend(
            given
                .into_iter()
                .filter_map(|(name, value)| value.clone().map(|value| (name, value))),
        );
        if !open_gated.is_empty() {
            let ids: Vec<&str> = open_gated.iter().map(EntityId::as_str).collect();
            params.push(("openGated", ids.join(",")));
        }
        let request = self
            .request(Method::GET, &["message", "search"])
            .query(&params);
        self.signed(self.call("search", request).await)
    }
}
