//! A single-member operation on a collection of a million members must not load the
//! collection: each one below is run against a 1M-member hash (and 100k-member set, sorted set
//! and list: building all four at 1M takes minutes on a 2-core machine, and 100k already shows
//! any whole-collection read), and the RocksDB entries it reads (point reads plus entries
//! visited by scans, counted per thread by `storage::engine::keys_read`) must stay a small
//! constant.

use bytes::Bytes;

use super::{execute, lookup, Handler, ReadCtx};
use crate::raft::{WriteOp, WriteRequest};
use crate::resp::Frame;
use crate::storage::engine::keys_read;
use crate::storage::keyspace::{KeyspaceState, WriteCtx};
use crate::storage::overlay::WriteOverlay;
use crate::storage::Storage;

const MEMBERS: usize = 1_000_000;
const SMALLER: usize = 100_000;
const CHUNK: usize = 20_000;
/// The most entries one single-member operation may read: metadata, the member, a neighbour
/// or two for the list ends. A load of the collection would read a million.
const MAX_READS: u64 = 16;

struct Db {
    _dir: tempfile::TempDir,
    s: Storage,
    state: KeyspaceState,
    index: u64,
}

impl Db {
    fn new() -> Db {
        let (dir, s) = Storage::open_temp();
        Db {
            _dir: dir,
            s,
            state: KeyspaceState::default(),
            index: 0,
        }
    }

    /// Applies one write through the state machine's executor and writes its batch.
    fn write(&mut self, argv: Vec<Bytes>) -> Frame {
        self.write_batch(vec![argv])
            .pop()
            .expect("one reply per command")
    }

    /// Applies several writes as the state machine applies a batch of log entries: each
    /// sees the ones before it through the overlay, and one RocksDB write ends the batch.
    fn write_batch(&mut self, cmds: Vec<Vec<Bytes>>) -> Vec<Frame> {
        let mut overlay = WriteOverlay::new(&self.s);
        let mut replies = Vec::new();
        for argv in cmds {
            self.index += 1;
            let mut ctx = WriteCtx::with_overlay(
                overlay,
                self.state.clone(),
                1_000,
                self.index,
                vec![(0, 16383)],
            );
            let req = WriteRequest {
                now_ms: 1_000,
                max_value_len: 512 << 20,
                op: WriteOp::Command { db: 0, argv },
            };
            replies.push(execute(&mut ctx, &req));
            ctx.overlay.commit_entry();
            self.state = ctx.state.clone();
            overlay = ctx.overlay;
        }
        self.s.write(overlay.into_batch()).expect("write the batch");
        replies
    }

    /// Runs a read command against the stored data.
    fn read(&self, argv: Vec<Bytes>) -> Frame {
        let ctx = WriteCtx::new(&self.s, self.state.clone(), 1_000, self.index + 1, vec![]);
        let rc = ReadCtx::in_apply(&ctx, 0);
        match lookup(&argv[0]).map(|s| s.handler) {
            Some(Handler::Read(f)) => f(&rc, &argv).unwrap_or_else(|e| e.to_frame()),
            _ => panic!("not a read command"),
        }
    }

    /// Fills `key` with a million members, `CHUNK` per command built by `args`.
    fn fill(&mut self, cmd: &str, key: &str, n: usize, member_args: impl Fn(usize) -> Vec<Bytes>) {
        for start in (0..n).step_by(CHUNK) {
            let mut argv = vec![Bytes::from(cmd.to_string()), Bytes::from(key.to_string())];
            for i in start..start + CHUNK {
                argv.extend(member_args(i));
            }
            let reply = self.write(argv);
            assert!(!reply.is_error(), "{cmd}: {reply:?}");
        }
    }
}

fn argv(parts: &[&str]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::from(p.to_string())).collect()
}

/// Runs `op` and returns how many RocksDB entries it read.
fn reads_of(op: impl FnOnce() -> Frame) -> (u64, Frame) {
    let before = keys_read();
    let reply = op();
    (keys_read() - before, reply)
}

fn member(i: usize) -> Bytes {
    Bytes::from(format!("member:{i:08}"))
}

#[test]
fn single_member_operations_on_a_million_members_read_a_handful_of_entries() {
    let mut db = Db::new();
    db.fill("hset", "h", MEMBERS, |i| {
        vec![member(i), Bytes::from_static(b"v")]
    });
    db.fill("sadd", "s", SMALLER, |i| vec![member(i)]);
    db.fill("zadd", "z", SMALLER, |i| {
        vec![Bytes::from(i.to_string()), member(i)]
    });
    db.fill("rpush", "l", SMALLER, |i| vec![member(i)]);

    let cases: Vec<(Vec<Bytes>, bool)> = vec![
        (argv(&["hset", "h", "new-field", "x"]), true),
        (argv(&["hget", "h", "member:00500000"]), false),
        (argv(&["hdel", "h", "member:00000007"]), true),
        (argv(&["hlen", "h"]), false),
        (argv(&["sadd", "s", "new-member"]), true),
        (argv(&["sismember", "s", "member:00099999"]), false),
        (argv(&["srem", "s", "member:00000003"]), true),
        (argv(&["scard", "s"]), false),
        (argv(&["zadd", "z", "5", "new-member"]), true),
        (argv(&["zscore", "z", "member:00123456"]), false),
        (argv(&["zincrby", "z", "1", "member:00000042"]), true),
        (argv(&["zrem", "z", "member:00000099"]), true),
        (argv(&["zcard", "z"]), false),
        (argv(&["lpush", "l", "head"]), true),
        (argv(&["rpush", "l", "tail"]), true),
        (argv(&["lindex", "l", "50000"]), false),
        (argv(&["lset", "l", "-2", "changed"]), true),
        (argv(&["lpop", "l"]), true),
        (argv(&["rpop", "l"]), true),
        (argv(&["llen", "l"]), false),
    ];
    for (cmd, is_write) in cases {
        let shown = String::from_utf8_lossy(&cmd[0]).into_owned();
        let (n, reply) = if is_write {
            reads_of(|| db.write(cmd))
        } else {
            reads_of(|| db.read(cmd))
        };
        assert!(!reply.is_error(), "{shown}: {reply:?}");
        assert!(
            n <= MAX_READS,
            "{shown} read {n} entries of a collection of at least {SMALLER} members"
        );
    }
    // The sizes are what the operations made them.
    assert_eq!(
        db.read(argv(&["hlen", "h"])),
        Frame::Integer(MEMBERS as i64)
    );
    assert_eq!(
        db.read(argv(&["scard", "s"])),
        Frame::Integer(SMALLER as i64)
    );
    assert_eq!(
        db.read(argv(&["zcard", "z"])),
        Frame::Integer(SMALLER as i64)
    );
    assert_eq!(
        db.read(argv(&["llen", "l"])),
        Frame::Integer(SMALLER as i64)
    );
}

/// SPOP empties a set one member at a time. Each pop must read a bounded number of entries
/// however many members were popped before: the pops leave RocksDB tombstones behind, and
/// the reads that find a random member must neither walk them nor (within one Raft batch)
/// walk the batch's pending deletes. Before sets kept member positions, pops found members
/// by seeking and read up to 2,268 entries each here (and more in RocksDB tombstones).
#[test]
fn spop_to_empty_reads_a_bounded_number_of_entries_per_pop() {
    const SET: usize = 20_000;
    // The metadata, the member at a random position, its entry, and the last member that
    // moves into its place.
    const MAX_POP_READS: u64 = MAX_READS;
    let mut db = Db::new();
    db.fill("sadd", "s", SET, |i| vec![member(i)]);
    let mut popped = std::collections::HashSet::new();
    let mut worst = 0;
    // Half the set one pop per batch, the other half 250 pops per batch (a pipelined load):
    // later pops of a batch walk the earlier ones' pending deletes.
    for _ in 0..SET / 2 {
        let (n, reply) = reads_of(|| db.write(argv(&["spop", "s"])));
        let Frame::Bulk(m) = reply else {
            panic!("SPOP of a non-empty set: {reply:?}")
        };
        assert!(popped.insert(m), "a member was popped twice");
        worst = worst.max(n);
    }
    const BATCH: usize = 250;
    for _ in 0..SET / 2 / BATCH {
        let before = keys_read();
        let replies = db.write_batch((0..BATCH).map(|_| argv(&["spop", "s"])).collect());
        let n = (keys_read() - before) / BATCH as u64;
        for reply in replies {
            let Frame::Bulk(m) = reply else {
                panic!("SPOP of a non-empty set: {reply:?}")
            };
            assert!(popped.insert(m), "a member was popped twice");
        }
        worst = worst.max(n);
    }
    assert!(
        worst <= MAX_POP_READS,
        "one SPOP read {worst} entries (the average of a batch at worst; at most \
         {MAX_POP_READS} expected)"
    );
    assert_eq!(db.read(argv(&["scard", "s"])), Frame::Integer(0));
    assert_eq!(db.write(argv(&["spop", "s"])), Frame::Null);
}
