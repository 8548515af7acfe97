//! Closing a connection without losing its last answer to a reset.
//!
//! A server that answers before reading the whole request (a `413` to an
//! upload past its limit, a `401` to a request with a body) then closes the
//! connection with the rest of the body unread. The kernel answers a close
//! with unread data, and every segment the client still sends, with a
//! reset, and a client that gets the reset while it is still sending loses
//! the answer it had not read yet: it sees `ECONNRESET` or `EPIPE` instead
//! of the status.
//!
//! So a connection dropped with data waiting in its receive buffer is not
//! closed at once: its write side is shut (the client reads the answer and
//! then the end of stream), and what the client still sends is read and
//! thrown away until it closes its side, for at most [`LINGER_TIME`], as
//! nginx's `lingering_close` does. A connection with nothing unread is
//! closed at once. At most [`MAX_LINGERING`] connections linger at once,
//! so that a flood of them cannot hold the process's file descriptors.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How long a closed connection may keep reading what its client sends.
pub const LINGER_TIME: Duration = Duration::from_secs(2);
/// Connections lingering at once, at most; past it they close at once.
pub const MAX_LINGERING: usize = 1024;

/// Connections lingering now.
static LINGERING: AtomicUsize = AtomicUsize::new(0);

/// A TCP stream that lingers when dropped with unread data (see the module
/// documentation).
#[derive(Debug)]
pub struct LingeringStream {
    /// `Some` until dropped.
    stream: Option<TcpStream>,
}

impl LingeringStream {
    /// Wraps an accepted stream.
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream: Some(stream),
        }
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(
            self.stream
                .as_mut()
                .expect("a stream is only taken on drop"),
        )
    }
}

impl Drop for LingeringStream {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            close(stream);
        }
    }
}

/// Closes `stream`, lingering if the client's data is waiting unread.
fn close(stream: TcpStream) {
    let mut probe = [0u8; 1];
    if !matches!(stream.try_read(&mut probe), Ok(read) if read > 0) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if LINGERING.fetch_add(1, Ordering::AcqRel) >= MAX_LINGERING {
        LINGERING.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    runtime.spawn(async move {
        let _ = tokio::time::timeout(LINGER_TIME, drain(stream)).await;
        LINGERING.fetch_sub(1, Ordering::AcqRel);
    });
}

/// Shuts the write side, then reads until the client closes its side or
/// an error.
async fn drain(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(1..) = stream.read(&mut buf).await {}
}

impl AsyncRead for LingeringStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for LingeringStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers after reading only the first bytes of a
    /// request, and drops the connection.
    async fn answer_early_and_drop(
        listener: TcpListener,
        wrap: impl FnOnce(TcpStream) -> Box<dyn AsyncReadWrite>,
    ) {
        let (stream, _) = listener.accept().await.unwrap();
        let mut io = wrap(stream);
        let mut head = [0u8; 64];
        io.read_exact(&mut head).await.unwrap();
        io.write_all(
            b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        io.shutdown().await.unwrap();
    }

    trait AsyncReadWrite: AsyncRead + AsyncWrite + Unpin + Send {}
    impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncReadWrite for T {}

    /// A client that keeps sending 2 MiB after the answer has come, then
    /// reads: what it gets back.
    async fn upload_too_much(addr: std::net::SocketAddr) -> io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(addr).await?;
        let chunk = vec![b'x'; 64 * 1024];
        stream.write_all(&chunk).await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        for _ in 0..32 {
            stream.write_all(&chunk).await?;
        }
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test]
    async fn a_client_still_sending_reads_the_answer_instead_of_a_reset() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(answer_early_and_drop(listener, |stream| {
            Box::new(LingeringStream::new(stream))
        }));
        let answer = upload_too_much(addr).await.expect("no reset");
        assert!(answer.starts_with(b"HTTP/1.1 413"), "{answer:?}");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn without_lingering_the_same_client_gets_a_reset() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(answer_early_and_drop(listener, |stream| Box::new(stream)));
        let err = upload_too_much(addr).await.expect_err("a reset");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "{err}"
        );
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_connection_with_nothing_unread_closes_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await.unwrap();
            // Closed, not lingering: what the client sends now is refused.
            let mut refused = Ok(());
            for _ in 0..10 {
                refused = stream.write_all(b"late").await;
                if refused.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (rest, refused)
        });
        let (stream, _) = listener.accept().await.unwrap();
        drop(LingeringStream::new(stream));
        let (rest, refused) = tokio::time::timeout(Duration::from_secs(2), client)
            .await
            .expect("the client sees the end at once")
            .unwrap();
        assert!(rest.is_empty());
        assert!(
            refused.is_err(),
            "the connection is closed, not shut for writes only"
        );
    }
}
