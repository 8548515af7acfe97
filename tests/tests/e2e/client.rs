//! A thin wrapper over the `rust_socketio` client: received events go to a
//! channel, and acks are awaited.

use futures::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub struct TestClient {
    client: Client,
    events: mpsc::UnboundedReceiver<(String, Value)>,
}

fn first_value(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut values) if !values.is_empty() => values.remove(0),
        _ => Value::Null,
    }
}

impl TestClient {
    /// Connects as the holder of `token`, recording `events`.
    pub async fn connect(url: &str, token: &str, events: &[&str]) -> TestClient {
        let (sender, receiver) = mpsc::unbounded_channel();
        // The namespace CONNECT arrives after the transport is open.
        let (connected, namespace_connect) = oneshot::channel();
        let connected = std::sync::Mutex::new(Some(connected));
        let mut builder = ClientBuilder::new(url)
            .auth(json!({"token": token}))
            .reconnect(false)
            .on(Event::Connect, move |_, _| {
                if let Some(connected) = connected.lock().unwrap().take() {
                    let _ = connected.send(());
                }
                async {}.boxed()
            });
        for event in events {
            let sender = sender.clone();
            let name = (*event).to_owned();
            builder = builder.on(*event, move |payload, _| {
                let _ = sender.send((name.clone(), first_value(payload)));
                async {}.boxed()
            });
        }
        let client = builder.connect().await.expect("the client connects");
        tokio::time::timeout(Duration::from_secs(5), namespace_connect)
            .await
            .expect("the namespace CONNECT within 5 s")
            .expect("the connect callback");
        TestClient {
            client,
            events: receiver,
        }
    }

    /// Emits `event` and waits for its ack.
    pub async fn ack(&self, event: &str, payload: Value) -> Value {
        let (sender, receiver) = oneshot::channel();
        let sender = std::sync::Mutex::new(Some(sender));
        self.client
            .emit_with_ack(event, payload, Duration::from_secs(5), move |payload, _| {
                if let Some(sender) = sender.lock().unwrap().take() {
                    // An ack carries its arguments as one array.
                    let value = match first_value(payload) {
                        Value::Array(mut args) if !args.is_empty() => args.remove(0),
                        other => other,
                    };
                    let _ = sender.send(value);
                }
                async {}.boxed()
            })
            .await
            .expect("emit");
        tokio::time::timeout(Duration::from_secs(6), receiver)
            .await
            .expect("an ack within 6 s")
            .expect("ack callback")
    }

    /// The next recorded event, if one comes within `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Option<(String, Value)> {
        tokio::time::timeout(wait, self.events.recv())
            .await
            .ok()
            .flatten()
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }
}
