//! A lean Socket.IO v4 client over one WebSocket, for holding tens of
//! thousands of connections on a small machine.
//!
//! It speaks just what the load generator needs: the Engine.IO open packet,
//! the Socket.IO CONNECT with `auth: {token}`, pings answered with pongs,
//! events with acks, and incoming events and acks handed back as text. It
//! never parses JSON it does not have to. Correctness against the protocol is
//! proven elsewhere with the official clients; this one only has to be cheap.

use futures::{SinkExt, StreamExt};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// How long the handshake may take before the connection counts as failed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a connection could not be opened or went away.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// TCP or WebSocket failure.
    #[error("transport: {0}")]
    Transport(String),
    /// The server refused the Socket.IO CONNECT (the `connect_error` text).
    #[error("refused: {0}")]
    Refused(String),
    /// The server answered something this client does not expect.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The handshake took longer than [`HANDSHAKE_TIMEOUT`].
    #[error("handshake timed out")]
    Timeout,
    /// The server closed the connection.
    #[error("closed by the server")]
    Closed,
}

impl From<tokio_tungstenite::tungstenite::Error> for ClientError {
    fn from(err: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::Transport(err.to_string())
    }
}

impl From<std::io::Error> for ClientError {
    fn from(err: std::io::Error) -> Self {
        Self::Transport(err.to_string())
    }
}

/// A Socket.IO packet the caller cares about.
#[derive(Debug)]
pub enum Incoming {
    /// An event: the text after `42`, e.g. `["chat message",{...}]`.
    Event(Utf8Bytes),
    /// An answer to one of our acks: its id and the text after the id.
    Ack(u64, Utf8Bytes),
}

/// One connected Socket.IO client on the `/` namespace.
pub struct Connection {
    ws: WebSocketStream<TcpStream>,
    next_ack: u64,
}

impl Connection {
    /// Connects from `source` to the server at `server`, sends `token` in the
    /// CONNECT packet and waits until the namespace accepts it.
    pub async fn open(
        server: SocketAddr,
        source: IpAddr,
        token: &str,
    ) -> Result<Self, ClientError> {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, Self::handshake(server, source, token))
            .await
            .map_err(|_| ClientError::Timeout)?
    }

    async fn handshake(
        server: SocketAddr,
        source: IpAddr,
        token: &str,
    ) -> Result<Self, ClientError> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source, 0))?;
        let stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        let url = format!("ws://{server}/socket.io/?EIO=4&transport=websocket");
        // Small buffers: most connections are idle, and there are many.
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0);
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
        let mut connection = Self { ws, next_ack: 0 };
        let open = connection.next_text().await?;
        if !open.starts_with('0') {
            return Err(ClientError::Protocol(format!("expected OPEN, got {open}")));
        }
        let connect = format!("40{}", serde_json::json!({ "token": token }));
        connection.ws.send(Message::text(connect)).await?;
        loop {
            let text = connection.next_text().await?;
            if text.starts_with("40") {
                return Ok(connection);
            }
            if let Some(error) = text.strip_prefix("44") {
                return Err(ClientError::Refused(error.to_owned()));
            }
            if text.as_str() == "2" {
                connection.ws.send(Message::text("3")).await?;
                continue;
            }
            // The server joins the socket to its rooms before it answers
            // CONNECT, so a room's broadcast can come first; the official
            // client keeps such events until it is connected. The load
            // generator has no use for them.
            if text.starts_with("42") {
                continue;
            }
            return Err(ClientError::Protocol(format!(
                "expected CONNECT, got {text}"
            )));
        }
    }

    /// Sends `event` with `data` (already JSON) and asks for an ack; returns
    /// the ack id that [`Incoming::Ack`] will carry.
    pub async fn emit_with_ack(
        &mut self,
        event: &str,
        data_json: &str,
    ) -> Result<u64, ClientError> {
        let id = self.next_ack;
        self.next_ack += 1;
        let frame = format!("42{id}[\"{event}\",{data_json}]");
        self.ws.send(Message::text(frame)).await?;
        Ok(id)
    }

    /// The next event or ack; pings are answered on the way. Cancel-safe
    /// between packets: the read itself is, and a pong cut short by a cancel
    /// stays queued and goes out with the next write.
    pub async fn next(&mut self) -> Result<Incoming, ClientError> {
        loop {
            let text = self.next_text().await?;
            let bytes = text.as_bytes();
            match bytes {
                [b'2'] => self.ws.send(Message::text("3")).await?,
                [b'4', b'2', ..] => return Ok(Incoming::Event(slice_from(&text, 2))),
                [b'4', b'3', ..] => return parse_ack(&text),
                [b'1', ..] | [b'4', b'1', ..] => return Err(ClientError::Closed),
                _ => {}
            }
        }
    }

    /// Closes the WebSocket politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    async fn next_text(&mut self) -> Result<Utf8Bytes, ClientError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text),
                Some(Ok(Message::Close(_))) | None => return Err(ClientError::Closed),
                Some(Ok(_)) => continue,
                Some(Err(err)) => return Err(err.into()),
            }
        }
    }
}

/// `43<id>[...]` as the id and the text after it.
fn parse_ack(text: &Utf8Bytes) -> Result<Incoming, ClientError> {
    let rest = &text.as_str()[2..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = rest[..digits]
        .parse()
        .map_err(|_| ClientError::Protocol(format!("ack without id: {text}")))?;
    Ok(Incoming::Ack(id, slice_from(text, 2 + digits)))
}

/// The part of `text` from byte `start`, without copying.
fn slice_from(text: &Utf8Bytes, start: usize) -> Utf8Bytes {
    let bytes: tokio_tungstenite::tungstenite::Bytes = text.clone().into();
    Utf8Bytes::try_from(bytes.slice(start..)).expect("cut at an ASCII boundary")
}

/// Whether an ack's text (`[{...}]`) carries `data` rather than `error`.
pub fn ack_is_data(text: &str) -> bool {
    text.starts_with("[{\"data\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_frame_gives_its_id_and_payload() {
        let frame = Utf8Bytes::from_static("4312[{\"data\":{\"id\":\"x\"}}]");
        match parse_ack(&frame).unwrap() {
            Incoming::Ack(id, payload) => {
                assert_eq!(id, 12);
                assert_eq!(payload.as_str(), "[{\"data\":{\"id\":\"x\"}}]");
                assert!(ack_is_data(&payload));
            }
            other => panic!("not an ack: {other:?}"),
        }
    }

    #[test]
    fn an_error_ack_is_not_data() {
        assert!(!ack_is_data("[{\"error\":{\"code\":\"rate_limited\"}}]"));
    }
}
