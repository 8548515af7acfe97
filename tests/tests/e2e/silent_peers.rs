//! Connections that never send a request, whatever protocol they pretend
//! to speak, are closed by both servers after 30 s (docs/reliability.md,
//! "Threat model"): with their real, default limits.

use crate::stack::spawn_stack;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const EMPTY_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];
/// The servers' limit (30 s) and some slack for a loaded machine.
const CLOSED_WITHIN: Duration = Duration::from_secs(40);

/// Opens a connection to `url`'s host and sends `bytes`.
async fn open(url: &str, bytes: &[&[u8]]) -> TcpStream {
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.unwrap();
    for chunk in bytes {
        stream.write_all(chunk).await.unwrap();
    }
    stream
}

#[tokio::test]
async fn silent_and_half_open_http2_connections_are_closed_by_both_servers() {
    let stack = spawn_stack().await;
    let mut waiting = Vec::new();
    for (server, url) in [("chat", &stack.chat_url), ("store", &stack.store_url)] {
        for (kind, bytes) in [
            ("nothing sent", vec![]),
            ("part of the HTTP/2 preface", vec![&PREFACE[..12]]),
            (
                "the preface and an empty SETTINGS",
                vec![PREFACE, EMPTY_SETTINGS],
            ),
        ] {
            let mut stream = open(url, &bytes).await;
            waiting.push(tokio::spawn(async move {
                let mut rest = Vec::new();
                let closed =
                    tokio::time::timeout(CLOSED_WITHIN, stream.read_to_end(&mut rest)).await;
                (server, kind, closed.is_ok())
            }));
        }
    }
    for waited in waiting {
        let (server, kind, closed) = waited.await.unwrap();
        assert!(
            closed,
            "{server}: a connection with {kind} was still open after {CLOSED_WITHIN:?}"
        );
    }
}
