//! Reading answers: statuses, JSON bodies and the contract's error body.

use chat_wire::model::Message;
use chat_wire::paging::Page;
use mongodb::bson::oid::ObjectId;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Sends a request, panicking on transport errors.
pub async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("the request failed to send")
}

/// Asserts the status and reads the JSON body as `T`.
pub async fn parse<T: DeserializeOwned>(response: Response, status: StatusCode) -> T {
    let actual = response.status();
    let url = response.url().to_string();
    let text = response.text().await.expect("unreadable body");
    assert_eq!(actual, status, "unexpected status from {url}: {text}");
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("body of {url} is not the expected JSON ({err}): {text}"))
}

/// Asserts an error answer: the status, the exact `code`, and the contract's
/// body shape. Returns the error message.
pub async fn expect_error(response: Response, status: u16, code: &str) -> String {
    let body: Value = parse(response, StatusCode::from_u16(status).unwrap()).await;
    assert_eq!(body["error"]["code"], code, "unexpected error body: {body}");
    let object = body.as_object().expect("error body is an object");
    assert_eq!(object.len(), 1, "only `error` in the body: {body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error without a message: {body}"));
    assert!(!message.is_empty(), "empty error message: {body}");
    message.to_owned()
}

/// The ids of a page, in order.
pub fn ids(page: &Page<Message>) -> Vec<String> {
    page.items.iter().map(|m| m.id.to_string()).collect()
}

/// The texts of a page, in order.
pub fn texts(page: &Page<Message>) -> Vec<String> {
    page.items.iter().map(|m| m.message.clone()).collect()
}

/// An id that nothing has.
pub fn unknown_id() -> String {
    ObjectId::new().to_hex()
}
