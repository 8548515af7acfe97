//! Accepted connections that the service can close on purpose.
//!
//! Every connection is wrapped in a [`ClosableIo`], and every request on it
//! carries `ConnectInfo<`[`Peer`]`>`: the peer's address and a
//! [`ConnectionHandle`]. Closing the handle makes the connection read end
//! of stream and fail its writes, so the server drops it at once, whatever
//! runs on it (an HTTP exchange, a WebSocket). The chat-server uses this to
//! close one client's transport during a drain without a Socket.IO
//! `disconnect`, so the client reconnects by itself.

use axum::serve::Listener;
use futures::task::AtomicWaker;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

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
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.handle.is_closed() {
            return Poll::Ready(Err(closed_error()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
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

impl<T> ClosableIo<T> {
    /// The handle that closes this connection.
    pub fn handle(&self) -> &ConnectionHandle {
        &self.handle
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
    type Io = ClosableIo<TcpStream>;
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
            inner: stream,
            handle: ConnectionHandle::default(),
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
