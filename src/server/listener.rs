//! Accepts client connections, enforces `maxclients`, and isolates each connection in its own
//! task (a panic there closes that connection only).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::node::Node;

pub async fn run(node: Arc<Node>, listener: TcpListener, mut shutdown: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => return,
        };
        let (mut stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed (raise the open-files limit with ulimit -n if this says 'Too many open files')");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        node.stats.connections_received.fetch_add(1, Relaxed);
        let maxclients = node.runtime.read().maxclients;
        if node.clients.count() >= maxclients {
            node.stats.rejected_connections.fetch_add(1, Relaxed);
            tracing::warn!(%peer, maxclients, "connection refused: maxclients reached (CONFIG SET maxclients to raise it)");
            tokio::spawn(async move {
                let _ = stream
                    .write_all(b"-ERR max number of clients reached\r\n")
                    .await;
                let _ = stream.shutdown().await;
            });
            continue;
        }
        let laddr = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let info = node.clients.register(peer.to_string(), laddr);
        let node = node.clone();
        tokio::spawn(async move {
            let id = info.id;
            let task = tokio::spawn(super::connection::serve(node.clone(), stream, info));
            if let Err(e) = task.await {
                if e.is_panic() {
                    tracing::error!(%peer, "connection task panicked; only this connection was closed");
                }
            }
            node.clients.unregister(id);
        });
    }
}
