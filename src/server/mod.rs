//! The RESP server: listener, connections, per-connection sessions, dispatch to commands.

pub mod blocking;
pub mod clients;
pub mod connection;
pub mod dispatch;
pub mod listener;
pub mod pubsub;
pub mod session;
pub mod stats;

use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::node::Node;

/// Runs a node until SIGINT/SIGTERM: opens storage and slot groups, serves RESP, then shuts
/// down gracefully (stops accepting, stops the Raft groups, syncs the WAL).
pub async fn run(config: Config) -> anyhow::Result<()> {
    let resp_addr = config.resp_addr.clone();
    tracing::info!(
        data_dir = %config.data_dir.display(),
        slot_groups = ?config.raft.slot_groups,
        cluster = crate::node::cluster::enabled(&config),
        auth = !config.runtime.requirepass.is_empty(),
        "starting raftrocks {}",
        env!("CARGO_PKG_VERSION")
    );
    let listener = tokio::net::TcpListener::bind(&resp_addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {resp_addr} (is another server using this port? set --resp-addr)"
            )
        })?;
    let node: Arc<Node> = Node::open(config).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let accept = tokio::spawn(listener::run(node.clone(), listener, stop_rx.clone()));
    let expiry = tokio::spawn(crate::cmd::expire::run_active_expiry(node.clone(), stop_rx));
    tracing::info!(addr = %resp_addr, "ready to accept connections");

    tokio::select! {
        _ = wait_for_signal() => {}
        _ = node.shutdown_requested.notified() => tracing::info!("SHUTDOWN requested by a client"),
    }
    tracing::info!("shutting down: no new connections; stopping slot groups");
    let _ = stop_tx.send(true);
    let _ = accept.await;
    let _ = expiry.await;
    for c in node.clients.all() {
        c.kill();
    }
    node.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops the server");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
