//! Accepted connections that the service can close on purpose.
//!
//! Every connection is wrapped in a [`ClosableIo`], and every request on it
//! carries `ConnectInfo<`[`Peer`]`>`: the peer's address and a
//! [`ConnectionHandle`]. Closing the handle makes the connection read end
//! of stream and fail its writes, so the server drops it at once, whatever
//! runs on it (an HTTP exchange, a WebSocket). The chat-server uses this to
//! close one client's transport during a drain without a Socket.IO
//! `disconnect`, so the client reconnects by itself.
//!
//! A connection whose peer stops reading is closed the same way once a write
//! has waited [`WRITE_STALL_TIMEOUT`]: otherwise the task writing to it
//! waits for ever, and whatever it serves (a WebSocket session, its user's
//! presence) is never let go.
//!
//! A connection dropped with its client's data unread lingers before it
//! closes, so that the client reads the last answer instead of a reset
//! (`linger`).

use crate::linger::LingeringStream;
use axum::serve::Listener;
use futures::task::AtomicWaker;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::Sleep;

/// How long one write may wait for the peer to read before the connection
/// is closed.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Closes one accepted connection; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ConnectionHandle(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    closed: AtomicBool,
    reader: AtomicWaker,
}

impl ConnectionHandle {
    /// Closes the connection: a pending read ends at once.
    pub fn close(&self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.reader.wake();
    }

    /// Whether [`ConnectionHandle::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::Acquire)
    }
}

/// Who sent a request: the peer's address and a handle on its connection.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The client's address.
    pub addr: SocketAddr,
    /// Closes the connection the request came on.
    pub connection: ConnectionHandle,
}

/// A connection whose reads end and writes fail once its handle is closed.
#[derive(Debug)]
pub struct ClosableIo<T> {
    inner: T,
    handle: ConnectionHandle,
    /// Armed while a write waits for the peer (allocated only then).
    stall: Option<Pin<Box<Sleep>>>,
}

impl<T> ClosableIo<T> {
    /// The handle that closes this connection.
    pub fn handle(&self) -> &ConnectionHandle {
        &self.handle
    }

    /// Called when the inner write is pending: `true` once it has waited
    /// too long, and then the connection is closed.
    fn stalled(&mut self, cx: &mut Context<'_>) -> bool {
        let timer = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_STALL_TIMEOUT)));
        if timer.as_mut().poll(cx).is_ready() {
            self.stall = None;
            self.handle.close();
            return true;
        }
        false
    }

    fn stall_timeout_error() -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, "the peer stopped reading")
    }
}

fn closed_error() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "connection closed by the server")
}

impl<T: AsyncRead + Unpin> AsyncRead for ClosableIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.handle.is_closed() {
            return Poll::Ready(Ok(()));
        }
        self.handle.0.reader.register(cx.waker());
        // Closed between the check and the registration: no wake-up is due.
        if self.handle.is_closed() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ClosableIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.handle.is_closed() {
            return Poll::Ready(Err(closed_error()));
        }
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending if self.stalled(cx) => Poll::Ready(Err(Self::stall_timeout_error())),
            Poll::Pending => Poll::Pending,
            ready => {
                self.stall = None;
                ready
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.handle.is_closed() {
            return Poll::Ready(Err(closed_error()));
        }
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending if self.stalled(cx) => Poll::Ready(Err(Self::stall_timeout_error())),
            Poll::Pending => Poll::Pending,
            ready => {
                self.stall = None;
                ready
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A TCP listener whose connections are [`ClosableIo`]s with `TCP_NODELAY`.
#[derive(Debug)]
pub struct ClosableListener(TcpListener);

impl ClosableListener {
    /// Wraps a bound listener.
    pub fn new(listener: TcpListener) -> Self {
        Self(listener)
    }
}

impl Listener for ClosableListener {
    type Io = ClosableIo<LingeringStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        // Without TCP_NODELAY a reply written in two segments waits for the
        // peer's delayed ACK (40 ms on Linux) under load: every answer and
        // every WebSocket frame goes out at once instead.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::warn!(error = %err, "cannot set TCP_NODELAY on a connection");
        }
        let io = ClosableIo {
            inner: LingeringStream::new(stream),
            handle: ConnectionHandle::default(),
            stall: None,
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_does_not_read_for_too_long_closes_the_connection() {
        let (ours, _peer) = tokio::io::duplex(16);
        let mut io = ClosableIo {
            inner: ours,
            handle: ConnectionHandle::default(),
            stall: None,
        };
        io.write_all(&[0u8; 16]).await.unwrap();
        let blocked = io.write_all(&[0u8; 16]);
        let err = tokio::time::timeout(WRITE_STALL_TIMEOUT * 2, blocked)
            .await
            .expect("the write gave up")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(io.handle.is_closed(), "reads end too");
    }

    #[tokio::test]
    async fn closing_the_handle_ends_a_pending_read_and_fails_writes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = ClosableListener::new(listener);
        let client = tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await.map(|_| rest)
        });
        let (mut io, _) = listener.accept().await;
        let handle = io.handle.clone();
        let reading = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            let read = io.read(&mut buf).await.unwrap();
            (read, io.write_all(b"late").await)
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        handle.close();
        let (read, written) = reading.await.unwrap();
        assert_eq!(read, 0, "the pending read ends like end of stream");
        assert_eq!(written.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        let received = client.await.unwrap().unwrap_or_default();
        assert!(received.is_empty(), "the peer sees the connection end");
    }
}
