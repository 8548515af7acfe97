//! Store calls about messages: storing one, and changing one later.

use super::{Retry, StoreClient, read_response};
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::Message;
use chat_wire::requests::{EditMessage, NewMessage, NewReaction};
use reqwest::{Method, StatusCode};
use service_kit::ApiError;
use std::time::Instant;
use uuid::Uuid;

/// The store's header that makes a message without a nonce idempotent.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A message stored through the store, and whether this call created it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// The stored message.
    pub message: Message,
    /// `false` when the `(from, nonce)` had been stored before.
    pub created: bool,
}

impl StoreClient {
    /// Stores a message (or finds the one stored before with its nonce).
    ///
    /// Every message carries an idempotency key (its own, never shown, when
    /// the client gave no nonce), so it may go to another instance: the
    /// store answers a repeated key with the first message. When an
    /// earlier attempt of this very call may have stored it, nobody was told
    /// of that creation, so a "stored before" answer is taken as this
    /// call's creation: the message is broadcast once, late rather than
    /// never.
    pub async fn send_message(&self, new: &NewMessage) -> Result<SentMessage, ApiError> {
        let started = Instant::now();
        let result = async {
            let mut request = self.request(Method::POST, &["message"]).json(new);
            if new.nonce.is_none() {
                request = request.header(IDEMPOTENCY_KEY, Uuid::new_v4().simple().to_string());
            }
            let sent = self.send_counted(request, Retry::Safe).await?;
            let created = sent.response.status() == StatusCode::CREATED || sent.maybe_sent_before;
            let message = self.signed(read_response::<Message>(sent.response).await)?;
            Ok(SentMessage { message, created })
        }
        .await;
        self.observe("send_message", started, &result);
        result
    }

    /// One message.
    pub async fn message(&self, id: &EntityId) -> Result<Message, ApiError> {
        let request = self.request(Method::GET, &["message", id.as_str()]);
        self.signed(self.call("message", request).await)
    }

    /// Adds (`on`) or removes a reaction of `up`.
    pub async fn react(
        &self,
        message: &EntityId,
        up: &Up,
        emoji: &str,
        on: bool,
    ) -> Result<Message, ApiError> {
        let request = if on {
            let body = NewReaction {
                up: up.clone(),
                emoji: emoji.to_owned(),
            };
            self.request(Method::POST, &["message", message.as_str(), "reactions"])
                .json(&body)
        } else {
            let path = ["message", message.as_str(), "reactions", emoji, up.as_str()];
            self.request(Method::DELETE, &path)
        };
        self.signed(self.call("react", request).await)
    }

    /// Edits a message as `from`.
    pub async fn edit_message(
        &self,
        message: &EntityId,
        from: &Up,
        text: &str,
    ) -> Result<Message, ApiError> {
        let body = EditMessage {
            from: from.clone(),
            message: text.to_owned(),
        };
        let request = self
            .request(Method::PATCH, &["message", message.as_str()])
            .json(&body);
        self.signed(self.call("edit_message", request).await)
    }

    /// Deletes a message as `by`.
    pub async fn delete_message(&self, message: &EntityId, by: &Up) -> Result<Message, ApiError> {
        let request = self
            .request(Method::DELETE, &["message", message.as_str()])
            .query(&[("from", by.as_str())]);
        self.signed(self.call("delete_message", request).await)
    }
}
