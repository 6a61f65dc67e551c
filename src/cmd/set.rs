//! Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER
//! SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
//!
//! A set is collection metadata plus, per member, one `Cf::Subkey` entry (suffix = the
//! member's bytes, value = its position) and one `Cf::ZScore` entry (suffix = the position,
//! value = the member); positions are exactly `0..size` (docs/encoding.md). Members come out
//! of walks in byte order (Redis' own order is unspecified, so clients cannot tell the
//! difference); the positions make SPOP and SRANDMEMBER uniform and O(1) per member: a random
//! position is a point read, and removing a member moves the last one into its place.
//!
//! Also home of two helpers the hash family shares: random member selection without loading
//! the collection ([`sample`]) and the SSCAN/HSCAN cursor walk ([`scan_collection`]).

use std::collections::BTreeSet;

use bytes::Bytes;

use super::args::{is, parse_i64, parse_i64_opt};
use super::coll::{CollRead, CollWrite};
use super::glob::glob_match;
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, RedisType};

use sample::Rng;

// ------------------------------------------------------------------------- helpers

fn open_read(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Option<CollRead>, CmdError> {
    CollRead::open(ctx, key, RedisType::Set)
}

/// Opens `key` for a write, creating an empty set if it does not exist.
fn open_or_create(ctx: &mut WriteCtx<'_>, pdb: u8, key: &[u8]) -> Result<CollWrite, CmdError> {
    CollWrite::open(ctx, pdb, key, RedisType::Set, true)?
        .ok_or_else(|| CmdError::raw("ERR internal: collection not created"))
}

fn is_member(ctx: &ReadCtx<'_>, set: &CollRead, member: &[u8]) -> Result<bool, CmdError> {
    Ok(set.get(ctx, Cf::Subkey, member)?.is_some())
}

/// Every member, in byte order.
fn all_members(ctx: &ReadCtx<'_>, set: &CollRead) -> Result<Vec<Frame>, CmdError> {
    let mut out = Vec::new();
    set.scan(ctx, Cf::Subkey, b"", None, false, |m, _| {
        out.push(Frame::Bulk(Bytes::copy_from_slice(m)));
        true
    })?;
    Ok(out)
}

// ------------------------------------------------------------------ members by position

/// A position as stored: 8 bytes big-endian (as a `Cf::ZScore` suffix and a member's value).
fn pos_bytes(pos: u64) -> [u8; 8] {
    pos.to_be_bytes()
}

fn parse_pos(raw: &[u8]) -> Result<u64, CmdError> {
    <[u8; 8]>::try_from(raw)
        .map(u64::from_be_bytes)
        .map_err(|_| CmdError::raw("ERR internal: a set member without a valid position"))
}

/// Adds `member` at the end (position `size`); false if it is already a member. Reads
/// through the entry's own writes: `SADD s a a` adds one member.
pub fn add_member(
    ctx: &mut WriteCtx<'_>,
    set: &mut CollWrite,
    member: &[u8],
) -> Result<bool, CmdError> {
    if set.get(ctx, Cf::Subkey, member)?.is_some() {
        return Ok(false);
    }
    push_new_member(ctx, set, member);
    Ok(true)
}

/// Adds a member the caller knows is not in the set (a new set filled with distinct ones).
pub fn push_new_member(ctx: &mut WriteCtx<'_>, set: &mut CollWrite, member: &[u8]) {
    let pos = set.meta.size;
    set.put(ctx, Cf::Subkey, member, pos_bytes(pos).to_vec());
    set.put(ctx, Cf::ZScore, &pos_bytes(pos), member.to_vec());
    set.meta.size += 1;
}

/// Removes `member`; false if it is not one. The last member moves into its position, so
/// positions stay `0..size`.
fn remove_member(
    ctx: &mut WriteCtx<'_>,
    set: &mut CollWrite,
    member: &[u8],
) -> Result<bool, CmdError> {
    let Some(raw) = set.get(ctx, Cf::Subkey, member)? else {
        return Ok(false);
    };
    let pos = parse_pos(&raw)?;
    let last = set.meta.size.saturating_sub(1);
    if pos != last {
        let moved = set
            .get(ctx, Cf::ZScore, &pos_bytes(last))?
            .ok_or_else(missing_position)?;
        set.put(ctx, Cf::Subkey, &moved, pos_bytes(pos).to_vec());
        set.put(ctx, Cf::ZScore, &pos_bytes(pos), moved);
    }
    set.delete(ctx, Cf::ZScore, &pos_bytes(last));
    set.delete(ctx, Cf::Subkey, member);
    set.meta.size = last;
    Ok(true)
}

/// The member at `pos` (`pos < size`).
fn member_at(ctx: &ReadCtx<'_>, set: &CollRead, pos: u64) -> Result<Bytes, CmdError> {
    set.get(ctx, Cf::ZScore, &pos_bytes(pos))?
        .map(Bytes::from)
        .ok_or_else(missing_position)
}

fn missing_position() -> CmdError {
    CmdError::raw("ERR internal: a set position without its member")
}

/// `count` distinct positions of `0..size` (`count <= size`), uniformly, in random order
/// (Floyd's algorithm, then a shuffle: O(count) whatever the size).
fn distinct_positions(rng: &mut Rng, size: u64, count: u64) -> Vec<u64> {
    let mut chosen = std::collections::HashSet::with_capacity(count as usize);
    let mut out = Vec::with_capacity(count as usize);
    for j in size - count..size {
        let t = rng.below(j + 1);
        let pick = if chosen.contains(&t) { j } else { t };
        chosen.insert(pick);
        out.push(pick);
    }
    for i in (1..out.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    out
}

// ------------------------------------------------------------------ single-set commands

fn sadd_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let mut set = open_or_create(ctx, pdb, &args[1])?;
    let mut added = 0;
    for m in &args[2..] {
        added += i64::from(add_member(ctx, &mut set, m)?);
    }
    set.save(ctx);
    Ok(Frame::Integer(added))
}

fn srem_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let Some(mut set) = CollWrite::open(ctx, pdb, &args[1], RedisType::Set, false)? else {
        return Ok(Frame::Integer(0));
    };
    let mut removed = 0;
    for m in &args[2..] {
        removed += i64::from(remove_member(ctx, &mut set, m)?);
    }
    set.save(ctx);
    Ok(Frame::Integer(removed))
}

fn smembers(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(Frame::Set(match open_read(ctx, &args[1])? {
        Some(set) => all_members(ctx, &set)?,
        None => Vec::new(),
    }))
}

fn sismember(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let found = match open_read(ctx, &args[1])? {
        Some(set) => is_member(ctx, &set, &args[2])?,
        None => false,
    };
    Ok(Frame::Integer(found as i64))
}

fn smismember(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let set = open_read(ctx, &args[1])?;
    let mut out = Vec::with_capacity(args.len() - 2);
    for m in &args[2..] {
        let found = match &set {
            Some(s) => is_member(ctx, s, m)?,
            None => false,
        };
        out.push(Frame::Integer(found as i64));
    }
    Ok(Frame::Array(out))
}

fn scard(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let n = open_read(ctx, &args[1])?.map_or(0, |s| s.meta.size);
    Ok(Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX)))
}

// ------------------------------------------------------------------- SPOP, SRANDMEMBER

/// SPOP's optional count: Redis `getPositiveLongFromObjectOrReply` (one message for a
/// non-integer and a negative value).
fn spop_count(args: &[Bytes]) -> Result<Option<u64>, CmdError> {
    match args.len() {
        2 => Ok(None),
        3 => parse_i64_opt(&args[2])
            .filter(|n| *n >= 0)
            .map(|n| Some(n as u64))
            .ok_or_else(|| CmdError::raw("ERR value is out of range, must be positive")),
        _ => Err(CmdError::Syntax),
    }
}

fn spop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    spop_count(args).map(|_| ())
}

fn spop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let count = spop_count(args)?;
    let pdb = ctx.pdb(db);
    let Some(mut set) = CollWrite::open(ctx, pdb, &args[1], RedisType::Set, false)? else {
        return Ok(match count {
            Some(_) => Frame::Set(Vec::new()),
            None => Frame::Null,
        });
    };
    // One draw from the entry's deterministic sequence seeds every choice below, so all
    // replicas pop the same members.
    let mut rng = Rng::new(ctx.random_u64());
    let size = set.meta.size;
    let popped: Vec<Bytes> = match count {
        Some(0) => return Ok(Frame::Set(Vec::new())),
        Some(n) if n >= size => {
            // Everything goes: the metadata is removed and the members become garbage of an
            // unreachable version, as with DEL (no per-member deletes).
            let mut all = Vec::new();
            set.scan(ctx, Cf::Subkey, b"", None, false, |m, _| {
                all.push(Bytes::copy_from_slice(m));
                true
            })?;
            set.meta.size = 0;
            set.touch();
            set.save(ctx);
            return Ok(Frame::Set(all.into_iter().map(Frame::Bulk).collect()));
        }
        // A uniform position each time among those left: n distinct members, uniformly.
        Some(n) => (0..n)
            .map(|_| pop_random(ctx, &mut set, &mut rng))
            .collect::<Result<_, _>>()?,
        None => vec![pop_random(ctx, &mut set, &mut rng)?],
    };
    set.save(ctx);
    Ok(match count {
        Some(_) => Frame::Set(popped.into_iter().map(Frame::Bulk).collect()),
        None => popped.into_iter().next().map_or(Frame::Null, Frame::Bulk),
    })
}

/// Removes and returns the member at a random position (the set is not empty).
fn pop_random(
    ctx: &mut WriteCtx<'_>,
    set: &mut CollWrite,
    rng: &mut Rng,
) -> Result<Bytes, CmdError> {
    let pos = rng.below(set.meta.size);
    let member = set
        .get(ctx, Cf::ZScore, &pos_bytes(pos))?
        .ok_or_else(missing_position)?;
    remove_member(ctx, set, &member)?;
    Ok(Bytes::from(member))
}

fn srandmember(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let mut rng = Rng::new(rand::random());
    if args.len() == 2 {
        return Ok(match open_read(ctx, &args[1])? {
            Some(set) if set.meta.size > 0 => {
                Frame::Bulk(member_at(ctx, &set, rng.below(set.meta.size))?)
            }
            _ => Frame::Null,
        });
    }
    let count = sample::parse_count(&args[2])?;
    let Some(set) = open_read(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let size = set.meta.size;
    let positions = if count < 0 {
        let want = count.unsigned_abs();
        if want > sample::MAX_REPEATED {
            return Err(sample::too_many_repeated());
        }
        (0..want).map(|_| rng.below(size)).collect()
    } else if count as u64 >= size {
        return Ok(Frame::Array(all_members(ctx, &set)?));
    } else {
        distinct_positions(&mut rng, size, count as u64)
    };
    let mut out = Vec::with_capacity(positions.len());
    for pos in positions {
        out.push(Frame::Bulk(member_at(ctx, &set, pos)?));
    }
    Ok(Frame::Array(out))
}

// ------------------------------------------------------------------------------ SMOVE

fn smove_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let (src_key, dst_key, member) = (&args[1], &args[2], &args[3]);
    let pdb = ctx.pdb(db);
    // Redis order: a missing source is 0 whatever the destination holds; then both types.
    let Some(mut src) = CollWrite::open(ctx, pdb, src_key, RedisType::Set, false)? else {
        return Ok(Frame::Integer(0));
    };
    if src_key == dst_key {
        let found = src.get(ctx, Cf::Subkey, member)?.is_some();
        return Ok(Frame::Integer(found as i64));
    }
    let mut dst = open_or_create(ctx, pdb, dst_key)?;
    if !remove_member(ctx, &mut src, member)? {
        return Ok(Frame::Integer(0));
    }
    src.save(ctx);
    add_member(ctx, &mut dst, member)?;
    dst.save(ctx);
    Ok(Frame::Integer(1))
}

// ------------------------------------------------------------------------ set algebra

#[derive(Clone, Copy, PartialEq, Eq)]
enum Algebra {
    Inter,
    Union,
    Diff,
}

/// Opens every key of a multi-set command: WRONGTYPE if any holds another type (Redis 7.0
/// checks all of them before computing), None for missing ones (empty sets).
fn open_all(ctx: &ReadCtx<'_>, keys: &[Bytes]) -> Result<Vec<Option<CollRead>>, CmdError> {
    keys.iter().map(|k| open_read(ctx, k)).collect()
}

/// Calls `emit(member)` for each member of the result, in byte order for UNION and DIFF
/// and in the smallest set's order for INTER, until it returns false. Intersections and
/// differences stream one set and probe the others with point reads; a union collects the
/// distinct members first.
fn algebra(
    ctx: &ReadCtx<'_>,
    keys: &[Bytes],
    op: Algebra,
    mut emit: impl FnMut(&[u8]) -> bool,
) -> Result<(), CmdError> {
    let sets = open_all(ctx, keys)?;
    let mut err = None;
    match op {
        Algebra::Inter => {
            let Some(mut sets) = sets.into_iter().collect::<Option<Vec<_>>>() else {
                return Ok(()); // an empty set empties the intersection
            };
            sets.sort_by_key(|s| s.meta.size);
            let Some((first, rest)) = sets.split_first() else {
                return Ok(());
            };
            first.scan(ctx, Cf::Subkey, b"", None, false, |m, _| {
                for other in rest {
                    match is_member(ctx, other, m) {
                        Ok(true) => {}
                        Ok(false) => return true,
                        Err(e) => {
                            err = Some(e);
                            return false;
                        }
                    }
                }
                emit(m)
            })?;
        }
        Algebra::Diff => {
            let mut sets = sets.into_iter();
            let Some(Some(first)) = sets.next() else {
                return Ok(());
            };
            let rest: Vec<CollRead> = sets.flatten().collect();
            first.scan(ctx, Cf::Subkey, b"", None, false, |m, _| {
                for other in &rest {
                    match is_member(ctx, other, m) {
                        Ok(false) => {}
                        Ok(true) => return true,
                        Err(e) => {
                            err = Some(e);
                            return false;
                        }
                    }
                }
                emit(m)
            })?;
        }
        Algebra::Union => {
            let mut all: BTreeSet<Vec<u8>> = BTreeSet::new();
            for set in sets.iter().flatten() {
                set.scan(ctx, Cf::Subkey, b"", None, false, |m, _| {
                    if !all.contains(m) {
                        all.insert(m.to_vec());
                    }
                    true
                })?;
            }
            for m in &all {
                if !emit(m) {
                    break;
                }
            }
        }
    }
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn algebra_members(ctx: &ReadCtx<'_>, keys: &[Bytes], op: Algebra) -> Result<Vec<Bytes>, CmdError> {
    let mut out = Vec::new();
    algebra(ctx, keys, op, |m| {
        out.push(Bytes::copy_from_slice(m));
        true
    })?;
    Ok(out)
}

fn algebra_read(ctx: &ReadCtx<'_>, args: &[Bytes], op: Algebra) -> CmdResult {
    let members = algebra_members(ctx, &args[1..], op)?;
    Ok(Frame::Set(members.into_iter().map(Frame::Bulk).collect()))
}

fn sinter(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    algebra_read(ctx, args, Algebra::Inter)
}

fn sunion(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    algebra_read(ctx, args, Algebra::Union)
}

fn sdiff(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    algebra_read(ctx, args, Algebra::Diff)
}

/// SINTERSTORE / SUNIONSTORE / SDIFFSTORE: the sources are read through the entry's pending
/// writes, then the destination is replaced (whatever type it held, its TTL gone) or deleted
/// if the result is empty.
fn algebra_store(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], op: Algebra) -> CmdResult {
    let members = {
        let read = ReadCtx::in_apply(ctx, db);
        algebra_members(&read, &args[2..], op)?
    };
    let pdb = ctx.pdb(db);
    let mut dst = CollWrite::replace(ctx, pdb, &args[1], RedisType::Set)?;
    // Distinct members into a new version: nothing to look up.
    for m in &members {
        push_new_member(ctx, &mut dst, m);
    }
    dst.save(ctx);
    Ok(Frame::from(members.len()))
}

fn sinterstore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    algebra_store(ctx, db, args, Algebra::Inter)
}

fn sunionstore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    algebra_store(ctx, db, args, Algebra::Union)
}

fn sdiffstore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    algebra_store(ctx, db, args, Algebra::Diff)
}

/// SINTERCARD's keys: `numkeys` parsed as Redis does (one message for anything that is not
/// a positive integer), at most the arguments that follow it.
fn sintercard_keys(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    let n = parse_i64_opt(&args[1])
        .filter(|n| *n > 0)
        .ok_or_else(|| CmdError::raw("ERR numkeys should be greater than 0"))?;
    let available = args.len().saturating_sub(2);
    if n as u64 > available as u64 {
        return Err(CmdError::raw(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok((2..2 + n as usize).collect())
}

fn sintercard(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let keys = sintercard_keys(args)?;
    let end = 2 + keys.len();
    let mut limit: u64 = 0;
    let mut i = end;
    while i < args.len() {
        if is(&args[i], "limit") && i + 1 < args.len() {
            limit = parse_i64_opt(&args[i + 1])
                .filter(|n| *n >= 0)
                .ok_or_else(|| CmdError::raw("ERR LIMIT can't be negative"))?
                as u64;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut n: u64 = 0;
    algebra(ctx, &args[2..end], Algebra::Inter, |_| {
        n += 1;
        limit == 0 || n < limit
    })?;
    Ok(Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX)))
}

// ------------------------------------------------------------------------------ SSCAN

fn sscan(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    scan_collection(ctx, args, RedisType::Set, false)
}

/// A SCAN cursor as Redis' `parseScanCursorOrReply` accepts it (`strtoul`: optional sign,
/// decimal digits, nothing else; a negative number wraps).
fn parse_cursor(a: &[u8]) -> Option<u64> {
    let (neg, digits) = match a.first() {
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        _ => (false, a),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Collections up to this size answer a scan in one call whatever COUNT says, as Redis
/// does for its compact encodings (listpack, intset): fewer round trips, no cursor to keep.
const SCAN_WHOLE: u64 = 128;

/// SSCAN / HSCAN `key cursor [MATCH pattern] [COUNT count]`.
///
/// Cursors are opaque numbers from the node's `CursorStore` (like SCAN's), each remembering
/// the member suffix to continue at. A page examines COUNT members (MATCH filters after
/// that, as in Redis); members added or removed between calls may or may not be seen, and
/// every member present for the whole iteration is returned exactly once.
/// The options of SSCAN/HSCAN/ZSCAN after the cursor: `COUNT n` (n >= 1, default 10) and
/// `MATCH pattern` (None for `*`, which matches everything), in any order, as Redis parses
/// them.
pub(crate) fn scan_options(opts: &[Bytes]) -> Result<(u64, Option<&[u8]>), CmdError> {
    let mut count: u64 = 10;
    let mut pattern: Option<&[u8]> = None;
    for pair in opts.chunks(2) {
        let [name, v] = pair else {
            return Err(CmdError::Syntax);
        };
        if is(name, "count") {
            let n = parse_i64(v)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = n as u64;
        } else if is(name, "match") {
            pattern = (&v[..] != b"*").then_some(&v[..]);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((count, pattern))
}

pub(crate) fn scan_collection(
    ctx: &ReadCtx<'_>,
    args: &[Bytes],
    typ: RedisType,
    with_values: bool,
) -> CmdResult {
    let invalid = || CmdError::raw("ERR invalid cursor");
    let cursor = parse_cursor(&args[2]).ok_or_else(invalid)?;
    let Some(coll) = CollRead::open(ctx, &args[1], typ)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let (count, pattern) = scan_options(&args[3..])?;
    let from = if cursor == 0 {
        Vec::new()
    } else {
        ctx.node()?.cursors.load(cursor).ok_or_else(invalid)?
    };
    let page = if coll.meta.size <= SCAN_WHOLE {
        u64::MAX
    } else {
        count
    };
    let mut out = Vec::new();
    let mut seen: u64 = 0;
    let mut next: Option<Vec<u8>> = None;
    coll.scan(ctx, Cf::Subkey, &from, None, false, |k, v| {
        if seen == page {
            next = Some(k.to_vec());
            return false;
        }
        seen += 1;
        if pattern.is_none_or(|p| glob_match(p, k, false)) {
            out.push(Frame::Bulk(Bytes::copy_from_slice(k)));
            if with_values {
                out.push(Frame::Bulk(Bytes::copy_from_slice(v)));
            }
        }
        true
    })?;
    let next = match next {
        Some(pos) => ctx.node()?.cursors.save(pos),
        None => 0,
    };
    Ok(scan_reply(next, out))
}

fn scan_reply(cursor: u64, items: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(cursor.to_string())),
        Frame::Array(items),
    ])
}

// ------------------------------------------------------------------- random selection

/// Random members of a collection without loading it.
///
/// Small collections (up to [`SMALL`](sample::SMALL) members) are walked and chosen from
/// uniformly. Larger ones are sampled by seeking: take the first and last member, their
/// common prefix and the next 8 bytes of each as numbers `a <= b`, draw a point in
/// `[a - g, b]` (`g` the average gap, `(b - a) / (size - 1)`, so the first member gets a
/// typical share), and take the first member at or after it. Each member's chance is the
/// width of the gap before it: uniform for members spread evenly over their byte range
/// (random ids, hashes), skewed otherwise (members that differ only after those 8 bytes
/// share one gap). Picks without repetition fall back to a streaming selection (Knuth's
/// algorithm S, uniform) when the count is a large part of the collection or seeking keeps
/// hitting members already chosen.
pub mod sample {
    use std::collections::BTreeMap;

    use bytes::Bytes;

    use super::super::coll::CollRead;
    use super::super::{CmdError, ReadCtx};
    use crate::storage::{Cf, StorageError};

    /// Collections up to this size are walked rather than sampled by seeking.
    pub const SMALL: u64 = 128;
    /// The largest reply a negative count (repeats allowed) may ask for: the reply is built in
    /// memory before it is sent, and Redis' own limit (`LONG_MAX`) would exhaust it.
    pub const MAX_REPEATED: u64 = 1 << 20;

    /// SplitMix64, a fixed algorithm: in a write it is seeded from the entry's deterministic
    /// sequence and replicas running different builds must still make the same choices.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(seed)
        }

        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform in `0..n` (`n > 0`; 0 gives 0).
        pub fn below(&mut self, n: u64) -> u64 {
            if n == 0 {
                return 0;
            }
            let zone = u64::MAX - (u64::MAX % n);
            loop {
                let r = self.next_u64();
                if r < zone {
                    return r % n;
                }
            }
        }

        /// Close to uniform in `0..n` for `n` up to 2^65 (the bias of one 128-bit modulo is
        /// below 2^-63).
        fn below_u128(&mut self, n: u128) -> u128 {
            let r = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
            r % n.max(1)
        }
    }

    /// A member and its value (empty for sets).
    pub type Entry = (Bytes, Bytes);

    /// What sampling needs from a collection, for reads and for writes.
    pub trait Source {
        /// The member count from the metadata.
        fn size(&self) -> u64;
        /// The first member at or after suffix `from`, or the last member if `last`.
        fn seek(&self, from: &[u8], last: bool) -> Result<Option<Entry>, StorageError>;
        /// Every member in order until `f` returns false.
        fn walk(&self, f: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> Result<(), StorageError>;
    }

    fn entry(k: &[u8], v: &[u8]) -> Entry {
        (Bytes::copy_from_slice(k), Bytes::copy_from_slice(v))
    }

    pub struct ReadSource<'x, 'a> {
        pub coll: &'x CollRead,
        pub ctx: &'x ReadCtx<'a>,
    }

    impl Source for ReadSource<'_, '_> {
        fn size(&self) -> u64 {
            self.coll.meta.size
        }
        fn seek(&self, from: &[u8], last: bool) -> Result<Option<Entry>, StorageError> {
            let mut found = None;
            self.coll
                .scan(self.ctx, Cf::Subkey, from, None, last, |k, v| {
                    found = Some(entry(k, v));
                    false
                })?;
            Ok(found)
        }
        fn walk(&self, f: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> Result<(), StorageError> {
            self.coll.scan(self.ctx, Cf::Subkey, b"", None, false, f)
        }
    }

    /// The count argument of SRANDMEMBER / HRANDFIELD: Redis accepts -LONG_MAX..LONG_MAX.
    pub fn parse_count(arg: &[u8]) -> Result<i64, CmdError> {
        let n = super::parse_i64(arg)?;
        if n == i64::MIN {
            return Err(CmdError::raw(
                "ERR value is out of range, value must between -9223372036854775807 and \
                 9223372036854775807",
            ));
        }
        Ok(n)
    }

    fn walk_all(src: &dyn Source) -> Result<Vec<Entry>, StorageError> {
        let mut all = Vec::new();
        src.walk(&mut |k, v| {
            all.push(entry(k, v));
            true
        })?;
        Ok(all)
    }

    /// Draws per seek pick before taking whatever the last one found.
    const MAX_TRIES: usize = 16;

    /// Seeks a random member of a large collection (see the module doc).
    struct Seeker {
        first: Entry,
        common: Vec<u8>,
        a: u64,
        b: u64,
        gap: u64,
    }

    fn next8(k: &[u8], skip: usize) -> u64 {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(k.iter().skip(skip)) {
            *d = *s;
        }
        u64::from_be_bytes(b)
    }

    impl Seeker {
        fn new(src: &dyn Source) -> Result<Option<Seeker>, StorageError> {
            let (Some(first), Some(last)) = (src.seek(b"", false)?, src.seek(b"", true)?) else {
                return Ok(None);
            };
            let common = first
                .0
                .iter()
                .zip(last.0.iter())
                .take_while(|(x, y)| x == y)
                .count();
            let (a, b) = (next8(&first.0, common), next8(&last.0, common));
            let b = b.max(a);
            let gap = (b - a) / src.size().saturating_sub(1).max(1);
            Ok(Some(Seeker {
                common: first.0[..common].to_vec(),
                first,
                a,
                b,
                gap,
            }))
        }

        /// One pick. A member found by seeking owns the gap before it, so landing on it has a
        /// chance proportional to that gap. The pick is accepted only if the point landed
        /// within one average gap of the member (`found - x < gap`): a member whose gap is
        /// wider than the average is then accepted with probability average/gap, which
        /// evens out members after large empty stretches of the byte space (the jump from
        /// '9' to 'a' in hex ids, say), and no backward seek is needed to measure the gap
        /// (a backward step over tombstones is much dearer than a forward one in RocksDB).
        fn pick(&self, src: &dyn Source, rng: &mut Rng) -> Result<Entry, StorageError> {
            let span = u128::from(self.b - self.a) + u128::from(self.gap) + 1;
            // The candidate that landed closest, if every draw is rejected.
            let mut best: Option<(u64, Entry)> = None;
            for _ in 0..MAX_TRIES {
                let r = rng.below_u128(span);
                if r < u128::from(self.gap) {
                    return Ok(self.first.clone());
                }
                // a + (r - gap) <= b: fits u64.
                let x = self.a + (r - u128::from(self.gap)) as u64;
                let mut point = self.common.clone();
                point.extend_from_slice(&x.to_be_bytes());
                // The point is at most the last member, so something is always found.
                let Some(found) = src.seek(&point, false)? else {
                    return Ok(self.first.clone());
                };
                let distance = next8(&found.0, self.common.len()).saturating_sub(x);
                if distance < self.gap.max(1) {
                    return Ok(found);
                }
                if best.as_ref().is_none_or(|(d, _)| distance < *d) {
                    best = Some((distance, found));
                }
            }
            Ok(best.map_or_else(|| self.first.clone(), |(_, e)| e))
        }
    }

    /// One random member, None if the collection is empty.
    pub fn pick_one(src: &dyn Source, rng: &mut Rng) -> Result<Option<Entry>, StorageError> {
        let n = src.size();
        if n == 0 {
            return Ok(None);
        }
        if n <= SMALL {
            let mut all = walk_all(src)?;
            if all.is_empty() {
                return Ok(None);
            }
            let i = rng.below(all.len() as u64) as usize;
            return Ok(Some(all.swap_remove(i)));
        }
        match Seeker::new(src)? {
            Some(s) => s.pick(src, rng).map(Some),
            None => Ok(None),
        }
    }

    /// The error for a negative count beyond [`MAX_REPEATED`].
    pub fn too_many_repeated() -> CmdError {
        CmdError::Raw(
            format!(
                "ERR value is out of range, a negative count may ask for at most \
                 {MAX_REPEATED} elements"
            )
            .into(),
        )
    }

    /// `count` members with repetition (each an independent pick).
    pub fn pick_repeated(
        src: &dyn Source,
        rng: &mut Rng,
        count: u64,
    ) -> Result<Vec<Entry>, StorageError> {
        let n = src.size();
        if n == 0 || count == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        if n <= SMALL {
            let all = walk_all(src)?;
            if all.is_empty() {
                return Ok(out);
            }
            for _ in 0..count {
                out.push(all[rng.below(all.len() as u64) as usize].clone());
            }
            return Ok(out);
        }
        let Some(seeker) = Seeker::new(src)? else {
            return Ok(out);
        };
        for _ in 0..count {
            out.push(seeker.pick(src, rng)?);
        }
        Ok(out)
    }

    /// `count` distinct members (`count < size`), in random order.
    pub fn pick_distinct(
        src: &dyn Source,
        rng: &mut Rng,
        count: u64,
    ) -> Result<Vec<Entry>, StorageError> {
        let n = src.size();
        let mut chosen: BTreeMap<Bytes, Bytes> = BTreeMap::new();
        if n > SMALL && count.saturating_mul(4) < n {
            if let Some(seeker) = Seeker::new(src)? {
                let mut attempts = count.saturating_mul(3).saturating_add(32);
                while (chosen.len() as u64) < count && attempts > 0 {
                    let (k, v) = seeker.pick(src, rng)?;
                    chosen.entry(k).or_insert(v);
                    attempts -= 1;
                }
            }
        }
        let mut out: Vec<Entry> = chosen.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        // Algorithm S over the members not chosen yet: each is taken with probability
        // needed / remaining, which picks exactly `needed` of them uniformly.
        let mut needed = count.saturating_sub(out.len() as u64);
        let mut remaining = n.saturating_sub(out.len() as u64);
        if needed > 0 {
            src.walk(&mut |k, v| {
                if chosen.contains_key(k) {
                    return true;
                }
                if rng.below(remaining.max(1)) < needed {
                    out.push(entry(k, v));
                    needed -= 1;
                }
                remaining = remaining.saturating_sub(1);
                needed > 0
            })?;
        }
        // Fisher-Yates: the walk produced them in member order.
        for i in (1..out.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            out.swap(i, j);
        }
        Ok(out)
    }

    /// SRANDMEMBER / HRANDFIELD with a count: positive = distinct members (all of them if
    /// the count reaches the size), negative = `-count` picks with repetition.
    pub fn pick_counted(
        src: &dyn Source,
        rng: &mut Rng,
        count: i64,
    ) -> Result<Vec<Entry>, CmdError> {
        if count < 0 {
            let want = count.unsigned_abs();
            if want > MAX_REPEATED {
                return Err(too_many_repeated());
            }
            return Ok(pick_repeated(src, rng, want)?);
        }
        let count = count as u64;
        if count == 0 {
            return Ok(Vec::new());
        }
        if count >= src.size() {
            return Ok(walk_all(src)?);
        }
        Ok(pick_distinct(src, rng, count)?)
    }
}

// ------------------------------------------------------------------------------ table

const RF: &[&str] = &["readonly", "fast"];
const R: &[&str] = &["readonly"];
const WDF: &[&str] = &["write", "denyoom", "fast"];
const WF: &[&str] = &["write", "fast"];
const WD: &[&str] = &["write", "denyoom"];
const ACL_RF: &[&str] = &["read", "set", "fast"];
const ACL_RS: &[&str] = &["read", "set", "slow"];
const ACL_WF: &[&str] = &["write", "set", "fast"];
const ACL_WS: &[&str] = &["write", "set", "slow"];

use super::atomic_write as write;

/// A set command row.
#[allow(clippy::too_many_arguments)]
const fn row(
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    keys: (i32, i32, i32),
    acl: &'static [&'static str],
    summary: &'static str,
    since: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec::row(
        "set", name, arity, flags, keys, acl, summary, since, handler,
    )
}

use super::no_validation as none;

const ONE: (i32, i32, i32) = (1, 1, 1);
const ALL: (i32, i32, i32) = (1, -1, 1);

pub static SPECS: &[CommandSpec] = &[
    row(
        "sadd",
        -3,
        WDF,
        ONE,
        ACL_WF,
        "Add one or more members to a set",
        "1.0.0",
        write(none, sadd_apply),
    ),
    row(
        "srem",
        -3,
        WF,
        ONE,
        ACL_WF,
        "Remove one or more members from a set",
        "1.0.0",
        write(none, srem_apply),
    ),
    row(
        "smembers",
        2,
        R,
        ONE,
        ACL_RS,
        "Get all the members in a set",
        "1.0.0",
        Handler::Read(smembers),
    ),
    row(
        "sismember",
        3,
        RF,
        ONE,
        ACL_RF,
        "Determine if a given value is a member of a set",
        "1.0.0",
        Handler::Read(sismember),
    ),
    row(
        "smismember",
        -3,
        RF,
        ONE,
        ACL_RF,
        "Returns the membership associated with the given elements for a set",
        "6.2.0",
        Handler::Read(smismember),
    ),
    row(
        "scard",
        2,
        RF,
        ONE,
        ACL_RF,
        "Get the number of members in a set",
        "1.0.0",
        Handler::Read(scard),
    ),
    row(
        "spop",
        -2,
        WF,
        ONE,
        ACL_WF,
        "Remove and return one or multiple random members from a set",
        "1.0.0",
        write(spop_validate, spop_apply),
    ),
    row(
        "srandmember",
        -2,
        R,
        ONE,
        ACL_RS,
        "Get one or multiple random members from a set",
        "1.0.0",
        Handler::Read(srandmember),
    ),
    row(
        "smove",
        4,
        WF,
        (1, 2, 1),
        ACL_WF,
        "Move a member from one set to another",
        "1.0.0",
        write(none, smove_apply),
    ),
    row(
        "sinter",
        -2,
        R,
        ALL,
        ACL_RS,
        "Intersect multiple sets",
        "1.0.0",
        Handler::Read(sinter),
    ),
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: &["readonly", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(sintercard_keys),
        acl: ACL_RS,
        group: "set",
        summary: "Intersect multiple sets and return the cardinality of the result",
        since: "7.0.0",
        handler: Handler::Read(sintercard),
    },
    row(
        "sinterstore",
        -3,
        WD,
        ALL,
        ACL_WS,
        "Intersect multiple sets and store the resulting set in a key",
        "1.0.0",
        write(none, sinterstore_apply),
    ),
    row(
        "sunion",
        -2,
        R,
        ALL,
        ACL_RS,
        "Add multiple sets",
        "1.0.0",
        Handler::Read(sunion),
    ),
    row(
        "sunionstore",
        -3,
        WD,
        ALL,
        ACL_WS,
        "Add multiple sets and store the resulting set in a key",
        "1.0.0",
        write(none, sunionstore_apply),
    ),
    row(
        "sdiff",
        -2,
        R,
        ALL,
        ACL_RS,
        "Subtract multiple sets",
        "1.0.0",
        Handler::Read(sdiff),
    ),
    row(
        "sdiffstore",
        -3,
        WD,
        ALL,
        ACL_WS,
        "Subtract multiple sets and store the resulting set in a key",
        "1.0.0",
        write(none, sdiffstore_apply),
    ),
    row(
        "sscan",
        -3,
        R,
        ONE,
        ACL_RS,
        "Incrementally iterate Set elements",
        "2.8.0",
        Handler::Read(sscan),
    ),
];

#[cfg(test)]
mod tests {
    use super::sample::{self, ReadSource, Rng};
    use super::*;
    use crate::cmd::string::testing::Harness;
    use crate::cmd::ReadCtx;

    fn bulks(f: Frame) -> Vec<Vec<u8>> {
        match f {
            Frame::Set(items) | Frame::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Frame::Bulk(b) => b.to_vec(),
                    other => panic!("not a bulk: {other:?}"),
                })
                .collect(),
            other => panic!("not an aggregate: {other:?}"),
        }
    }

    fn fill(h: &mut Harness, key: &str, n: usize, name: impl Fn(usize) -> String) {
        let names: Vec<String> = (0..n).map(name).collect();
        for chunk in names.chunks(100) {
            let mut argv = vec!["sadd", key];
            argv.extend(chunk.iter().map(String::as_str));
            h.run(&argv);
        }
    }

    type ByMember = Vec<(Vec<u8>, u64)>;
    type ByPosition = Vec<(u64, Vec<u8>)>;

    /// Both indexes of a set, read back raw: (member -> position, position -> member).
    fn indexes(h: &Harness, key: &str) -> (ByMember, ByPosition) {
        let Some(meta) = h.stored(0, key) else {
            return (Vec::new(), Vec::new());
        };
        let slot = crate::cluster::key_slot(key.as_bytes());
        let prefix = crate::storage::keys::subkey_prefix(slot, 0, key.as_bytes(), meta.version);
        let mut end = prefix.clone();
        end.push(0xff);
        let mut by_member = Vec::new();
        h.s.scan(Cf::Subkey, &prefix, &end, |k, v| {
            by_member.push((k[prefix.len()..].to_vec(), parse_pos(v).unwrap()));
            true
        })
        .unwrap();
        let mut by_pos = Vec::new();
        h.s.scan(Cf::ZScore, &prefix, &end, |k, v| {
            by_pos.push((parse_pos(&k[prefix.len()..]).unwrap(), v.to_vec()));
            true
        })
        .unwrap();
        (by_member, by_pos)
    }

    /// Whatever SADD, SREM, SPOP, SMOVE and the STORE commands do, positions are exactly
    /// `0..size` and the two indexes describe the same members.
    #[test]
    fn positions_stay_dense_and_both_indexes_agree() {
        let mut h = Harness::new();
        let mut rng = Rng::new(7);
        let name = |i: u64| format!("m{}", i % 60);
        for step in 0..3000 {
            let m = name(rng.next_u64());
            let n = (rng.below(5) + 1).to_string();
            let key = if rng.below(4) == 0 { "t" } else { "s" };
            let reply = match rng.below(9) {
                0..=2 => h.run(&["sadd", key, &m, &name(rng.next_u64())]),
                3 => h.run(&["srem", key, &m, &name(rng.next_u64())]),
                4 => h.run(&["spop", key]),
                5 => h.run(&["spop", key, &n]),
                6 => h.run(&["smove", "s", "t", &m]),
                7 => h.run(&["smove", "t", "s", &m]),
                _ => h.run(&["sunionstore", "u", "s", "t"]),
            };
            assert!(!reply.is_error(), "step {step}: {reply:?}");
            for key in ["s", "t", "u"] {
                let size = h.stored(0, key).map_or(0, |m| m.size);
                let (by_member, mut by_pos) = indexes(&h, key);
                assert_eq!(by_member.len() as u64, size, "step {step}: {key} members");
                by_pos.sort();
                let positions: Vec<u64> = by_pos.iter().map(|(p, _)| *p).collect();
                assert_eq!(
                    positions,
                    (0..size).collect::<Vec<_>>(),
                    "step {step}: {key}"
                );
                for (member, pos) in &by_member {
                    assert_eq!(&by_pos[*pos as usize].1, member, "step {step}: {key}");
                }
            }
        }
    }

    /// SPOP with a count over a small set picks every member about equally often (a
    /// position is drawn uniformly; seeking made some members many times likelier).
    #[test]
    fn spop_picks_are_uniform() {
        let mut counts = std::collections::HashMap::new();
        let mut h = Harness::new();
        for _ in 0..400 {
            fill(&mut h, "s", 10, |i| {
                format!("user:{}", i * 1_000_003 % 9_999_991)
            });
            for m in bulks(h.run(&["spop", "s", "3"])) {
                *counts.entry(m).or_insert(0u32) += 1;
            }
            h.run(&["del", "s"]);
        }
        // 1200 picks over 10 members: 120 each expected; a 5-sigma band is about 120 +- 50.
        assert_eq!(counts.len(), 10);
        for (m, n) in counts {
            assert!(
                (70..=170).contains(&n),
                "{} picked {n} times",
                String::from_utf8_lossy(&m)
            );
        }
    }

    #[test]
    fn spop_is_deterministic_per_entry() {
        let mut popped = Vec::new();
        for _ in 0..2 {
            let mut h = Harness::new();
            fill(&mut h, "s", 1000, |i| format!("m{i}"));
            let mut out = bulks(h.run(&["spop", "s", "7"]));
            out.push(bulks(h.run(&["spop", "s", "1"])).concat());
            popped.push(out);
        }
        assert_eq!(popped[0], popped[1]);
        let distinct: BTreeSet<_> = popped[0].iter().collect();
        assert_eq!(distinct.len(), 8);
    }

    #[test]
    fn spop_keeps_size_exact_and_deletes_empty_sets() {
        let mut h = Harness::new();
        fill(&mut h, "s", 300, |i| format!("{:08x}", i * 7919));
        let mut left = 300;
        for n in [1, 5, 50, 100] {
            let got = bulks(h.run(&["spop", "s", &n.to_string()]));
            assert_eq!(got.len(), n);
            left -= n;
            assert_eq!(h.stored(0, "s").unwrap().size, left as u64);
        }
        let rest = bulks(h.run(&["spop", "s", "1000"]));
        assert_eq!(rest.len(), left);
        assert!(h.stored(0, "s").is_none());
        assert_eq!(h.run(&["spop", "s"]), Frame::Null);
    }

    /// Seek-based picks reach members all over the set. Hex ids are a hard case (the byte
    /// space is used unevenly: '0'-'9', then 'a'-'f'); the picks are skewed (documented) but
    /// must still spread over much of the set (measured: about 6% of the picks for the worst
    /// member, 1000 members, where uniform would be 0.1%).
    #[test]
    fn seek_picks_cover_the_set() {
        let mut h = Harness::new();
        let n = 1000;
        fill(&mut h, "s", n, |i| {
            format!(
                "user:{:016x}",
                (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            )
        });
        let counts = h
            .with_ctx(|ctx| {
                let set = CollWrite::open(ctx, 0, b"s", RedisType::Set, false)?.unwrap();
                let (reader, rc) = (set.reader(), ReadCtx::in_apply(&*ctx, 0));
                let src = ReadSource {
                    coll: &reader,
                    ctx: &rc,
                };
                let mut rng = Rng::new(42);
                let mut counts = std::collections::BTreeMap::new();
                for (m, _) in sample::pick_repeated(&src, &mut rng, 20 * n as u64)? {
                    *counts.entry(m).or_insert(0u32) += 1;
                }
                Ok::<_, CmdError>(counts)
            })
            .unwrap();
        assert!(
            counts.len() > n * 4 / 10,
            "only {} members hit",
            counts.len()
        );
        assert!(counts.keys().all(|m| m.starts_with(b"user:")));
        let max = counts.values().max().copied().unwrap_or(0);
        let top: Vec<_> = counts
            .iter()
            .filter(|(_, c)| **c > 300)
            .map(|(m, c)| (String::from_utf8_lossy(m).into_owned(), *c))
            .collect();
        assert!(max < 2500, "a member was picked {max} times: {top:?}");
    }

    #[test]
    fn distinct_picks_are_distinct_even_when_clustered() {
        let mut h = Harness::new();
        // Members that differ only after the first 8 bytes past the common prefix share one
        // gap: seeking finds few of them, the streaming fallback completes the count.
        fill(&mut h, "s", 400, |i| format!("same-prefix-{i:05}"));
        h.with_ctx(|ctx| {
            let set = CollWrite::open(ctx, 0, b"s", RedisType::Set, false)?.unwrap();
            let (reader, rc) = (set.reader(), ReadCtx::in_apply(&*ctx, 0));
            let src = ReadSource {
                coll: &reader,
                ctx: &rc,
            };
            let mut rng = Rng::new(7);
            let got = sample::pick_distinct(&src, &mut rng, 90)?;
            let distinct: BTreeSet<_> = got.iter().map(|(m, _)| m.clone()).collect();
            assert_eq!(got.len(), 90);
            assert_eq!(distinct.len(), 90);
            Ok::<_, CmdError>(())
        })
        .unwrap();
    }

    #[test]
    fn smove_and_store_keep_sizes() {
        let mut h = Harness::new();
        h.run(&["sadd", "{a}1", "x", "y", "z"]);
        h.run(&["sadd", "{a}2", "y"]);
        assert_eq!(h.run(&["smove", "{a}1", "{a}2", "y"]), Frame::Integer(1));
        assert_eq!(h.stored(0, "{a}1").unwrap().size, 2);
        assert_eq!(h.stored(0, "{a}2").unwrap().size, 1);
        assert_eq!(h.run(&["smove", "{a}1", "{a}3", "x"]), Frame::Integer(1));
        assert_eq!(h.stored(0, "{a}3").unwrap().size, 1);
        assert_eq!(
            h.run(&["sunionstore", "{a}d", "{a}1", "{a}2", "{a}3"]),
            Frame::Integer(3)
        );
        assert_eq!(h.stored(0, "{a}d").unwrap().size, 3);
        assert_eq!(
            h.run(&["sinterstore", "{a}d", "{a}1", "{a}2"]),
            Frame::Integer(0)
        );
        assert!(h.stored(0, "{a}d").is_none());
        assert_eq!(h.state.counters.keys[0], 3);
    }

    #[test]
    fn sintercard_numkeys() {
        let argv = |parts: &[&str]| crate::cmd::string::testing::argv(parts);
        assert_eq!(
            sintercard_keys(&argv(&["sintercard", "2", "a", "b", "LIMIT", "1"])),
            Ok(vec![2, 3])
        );
        assert!(sintercard_keys(&argv(&["sintercard", "3", "a", "b"])).is_err());
        assert!(sintercard_keys(&argv(&["sintercard", "01", "a"])).is_err());
        assert!(sintercard_keys(&argv(&["sintercard", "99999999999999999999", "a"])).is_err());
    }

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b""), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1x"), None);
        assert_eq!(parse_cursor(b"99999999999999999999"), None);
    }
}
