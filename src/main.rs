//! The `raftrocks` binary: `raftrocks server` runs a node.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use raftrocks::config::{Config, Overrides};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "raftrocks",
    version,
    about = "Redis-compatible, disk-native key-value service replicated with Raft"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node. With no flags: RESP on 127.0.0.1:6379, data in ./data, every slot local.
    Server(ServerArgs),
}

/// Flags override RAFTROCKS_* environment variables, which override the TOML file.
#[derive(clap::Args)]
struct ServerArgs {
    /// TOML configuration file (see deploy/raftrocks.example.toml).
    #[arg(long, env = "RAFTROCKS_CONFIG")]
    config: Option<PathBuf>,
    /// Address for Redis clients, e.g. 0.0.0.0:6379.
    #[arg(long, env = "RAFTROCKS_RESP_ADDR")]
    resp_addr: Option<String>,
    /// Address announced to clients (MOVED, CLUSTER SLOTS) if it differs from --resp-addr.
    #[arg(long, env = "RAFTROCKS_ANNOUNCE_ADDR")]
    announce_addr: Option<String>,
    /// Data directory.
    #[arg(long, env = "RAFTROCKS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Require this password (AUTH / HELLO AUTH). Empty: no authentication.
    #[arg(long, env = "RAFTROCKS_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Log filter: error, warn, info, debug, trace, or a tracing directive list.
    #[arg(long, env = "RAFTROCKS_LOG_LEVEL")]
    log_level: Option<String>,
    /// Number of slot groups for a new data directory.
    #[arg(long, env = "RAFTROCKS_SLOT_GROUPS")]
    slot_groups: Option<u16>,
    /// Maximum number of client connections.
    #[arg(long, env = "RAFTROCKS_MAXCLIENTS")]
    maxclients: Option<usize>,
    /// Cluster mode: this node's id in --initial-cluster.
    #[arg(long, env = "RAFTROCKS_NODE_ID")]
    node_id: Option<u64>,
    /// Cluster mode: the nodes of a new cluster, `1=HOST:GRPCPORT,2=HOST:GRPCPORT,...` (the
    /// same on every node; ignored once the data directory holds a cluster).
    #[arg(long, env = "RAFTROCKS_INITIAL_CLUSTER")]
    initial_cluster: Option<String>,
    /// Cluster mode: address for Raft traffic from other nodes (default: this node's
    /// address in --initial-cluster).
    #[arg(long, env = "RAFTROCKS_GRPC_ADDR")]
    grpc_addr: Option<String>,
    /// Cluster mode: secret every node presents to the others.
    #[arg(long, env = "RAFTROCKS_CLUSTER_SECRET", hide_env_values = true)]
    cluster_secret: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Server(args) => server(args),
    }
}

fn server(args: ServerArgs) -> ExitCode {
    let overrides = Overrides {
        resp_addr: args.resp_addr,
        announce_addr: args.announce_addr,
        data_dir: args.data_dir,
        password: args.password,
        log_level: args.log_level,
        slot_groups: args.slot_groups,
        maxclients: args.maxclients,
        node_id: args.node_id,
        initial_cluster: args.initial_cluster,
        grpc_addr: args.grpc_addr,
        cluster_secret: args.cluster_secret,
    };
    let config = match Config::load(args.config.as_deref(), overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("raftrocks: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|e| {
        eprintln!(
            "raftrocks: invalid log level {:?} ({e}); using info",
            config.log_level
        );
        EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();

    // Two cores are the norm for our users: the runtime gets as many workers as cores, and
    // blocking work (fsync) lives on its own thread (raft::syncer).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("raftrocks")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("raftrocks: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(raftrocks::server::run(config));
    // Let every task (and with them the last handles on RocksDB) finish before the process
    // exits: exiting with the database still open can crash in RocksDB's static destructors.
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("raftrocks: {e:#}");
            ExitCode::FAILURE
        }
    }
}
