//! Glue between the simulated network (turmoil TCP) and raftrocks' transport, plus the small
//! request protocol the simulated clients speak to the replicas.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use raftrocks::raft::grpc::GrpcTransport;
use raftrocks::raft::types::LogId;
use raftrocks::resp::Frame;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tonic::transport::server::Connected;
use tonic::transport::{Endpoint, Uri};

/// A Raft transport whose channels connect over the simulated network: the peer address
/// `host:port` is resolved by the simulator.
pub fn transport(secret: &str) -> GrpcTransport {
    GrpcTransport::with_connector(secret, |endpoint: &Endpoint| {
        endpoint.connect_with_connector_lazy(tower::service_fn(|uri: Uri| async move {
            let host = uri
                .host()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no host in uri"))?
                .to_string();
            let port = uri
                .port_u16()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no port in uri"))?;
            let stream = turmoil::net::TcpStream::connect((host.as_str(), port)).await?;
            Ok::<_, io::Error>(TokioIo::new(stream))
        }))
    })
    .expect("a printable secret")
}

/// An accepted simulated connection, as the gRPC server wants it.
pub struct Conn(pub turmoil::net::TcpStream);

impl Connected for Conn {
    type ConnectInfo = ();

    fn connect_info(&self) {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The connections a listener accepts, as a stream for `serve_with_incoming`.
pub fn incoming(
    listener: turmoil::net::TcpListener,
) -> impl futures::Stream<Item = io::Result<Conn>> {
    futures::stream::unfold(listener, |l| async move {
        let next = l.accept().await.map(|(s, _)| Conn(s));
        Some((next, l))
    })
}

/// A client's request to a replica.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    Set {
        key: Bytes,
        value: Bytes,
    },
    Incr {
        key: Bytes,
    },
    /// A linearizable read: ReadIndex on the leader, then the state machine.
    Get {
        key: Bytes,
    },
}

/// A replica's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response {
    /// Applied (a write's reply) or read (`Bulk` or `Null`), with the serving replica's
    /// account of it for failure reports, and a write's log id.
    Done(Frame, String, Option<LogId>),
    /// This replica does not lead; it believes `Some(replica)` does.
    NotLeader(Option<u64>),
    /// Definitely not executed (refused before it entered the log, or its entry was
    /// discarded).
    Failed(String),
    /// May or may not have taken effect.
    Unknown(String),
}

/// Writes one length-prefixed postcard message.
pub async fn send<T: Serialize>(s: &mut turmoil::net::TcpStream, msg: &T) -> io::Result<()> {
    let body =
        postcard::to_allocvec(msg).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "message too large"))?;
    s.write_all(&len.to_be_bytes()).await?;
    s.write_all(&body).await?;
    s.flush().await
}

/// Reads one message written by [`send`].
pub async fn recv<T: DeserializeOwned>(s: &mut turmoil::net::TcpStream) -> io::Result<T> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > 1 << 20 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "message too large",
        ));
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await?;
    postcard::from_bytes(&body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
