//! Node statistics for INFO stats and INFO commandstats.

use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

/// Calls, time and failures of one command.
#[derive(Default)]
pub struct CommandStat {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub expired_keys: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub output_limit_disconnections: AtomicU64,
    commands: OnceLock<FxHashMap<&'static str, CommandStat>>,
}

impl Stats {
    fn commands(&self) -> &FxHashMap<&'static str, CommandStat> {
        self.commands.get_or_init(|| {
            crate::cmd::all_commands()
                .into_iter()
                .map(|s| (s.name, CommandStat::default()))
                .collect()
        })
    }

    pub fn command(&self, name: &str) -> Option<&CommandStat> {
        self.commands().get(name)
    }

    /// (name, stat) for every command called at least once or rejected, sorted by name.
    pub fn used_commands(&self) -> Vec<(&'static str, &CommandStat)> {
        let mut v: Vec<_> = self
            .commands()
            .iter()
            .filter(|(_, s)| {
                s.calls.load(Relaxed) > 0
                    || s.rejected.load(Relaxed) > 0
                    || s.failed.load(Relaxed) > 0
            })
            .map(|(n, s)| (*n, s))
            .collect();
        v.sort_by_key(|(n, _)| *n);
        v
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for c in [
            &self.connections_received,
            &self.commands_processed,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.expired_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.total_error_replies,
            &self.output_limit_disconnections,
        ] {
            c.store(0, Relaxed);
        }
        for s in self.commands().values() {
            s.calls.store(0, Relaxed);
            s.usec.store(0, Relaxed);
            s.rejected.store(0, Relaxed);
            s.failed.store(0, Relaxed);
        }
    }
}
