//! List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM
//! LPOS LMOVE RPOPLPUSH LMPOP and the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
//!
//! Layout (docs/encoding/list.md): the metadata payload is `head(8) | tail(8)`, the elements
//! live at absolute indices `[head, tail)`, each one member entry whose suffix is the index as
//! 8 big-endian bytes. Both ends start at 2^63 so either can grow; a push or pop at either end
//! touches one member, LINDEX/LSET are one point read/write and LRANGE one range scan.
//! LINSERT and LREM shift elements (O(N), as in Redis), always moving the shorter side.

use bytes::Bytes;

use super::args::{is, parse_i64, parse_i64_opt};
use super::coll::{CollRead, CollWrite};
use super::string::long_double::{self, Ld};
use super::{BlockOn, BlockingSpec, CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, RedisType};

// ---------------------------------------------------------------------------- encoding

/// Where both ends of a new list start: the middle of the index space.
const MID: u64 = 1 << 63;

/// A list's occupied index range `[head, tail)`, stored as its metadata payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bounds {
    head: u64,
    tail: u64,
}

impl Bounds {
    const EMPTY: Bounds = Bounds {
        head: MID,
        tail: MID,
    };

    fn decode(payload: &[u8]) -> Result<Bounds, CmdError> {
        let field = |r: std::ops::Range<usize>| -> Option<u64> {
            Some(u64::from_be_bytes(payload.get(r)?.try_into().ok()?))
        };
        match (payload.len(), field(0..8), field(8..16)) {
            (16, Some(head), Some(tail)) if head <= tail => Ok(Bounds { head, tail }),
            _ => Err(CmdError::Storage(format!(
                "corrupted list metadata ({} payload bytes)",
                payload.len()
            ))),
        }
    }

    fn encode(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        out.extend_from_slice(&self.head.to_be_bytes());
        out.extend_from_slice(&self.tail.to_be_bytes());
        out
    }

    fn len(self) -> u64 {
        self.tail - self.head
    }
}

/// The member suffix of absolute index `idx`.
fn suffix(idx: u64) -> [u8; 8] {
    idx.to_be_bytes()
}

fn index_of(suffix: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(suffix.try_into().ok()?))
}

/// The index space of one end is exhausted (2^63 pushes on one side): never in practice.
fn full() -> CmdError {
    CmdError::raw("ERR list index space exhausted")
}

/// Above this many members, a contiguous delete is one range tombstone.
const RANGE_DELETE_MIN: u64 = 1024;

/// Most bytes of element values a shifting operation holds in memory at once.
const CHUNK_BYTES: usize = 16 << 20;

/// Elements per read while shifting: each overlay scan walks every pending write of the run,
/// so fewer, larger chunks keep a big LINSERT/LREM near O(N).
fn chunk_len(len: u64) -> usize {
    (len / 32).clamp(1024, 1 << 20) as usize
}

fn bulk(v: Vec<u8>) -> Frame {
    Frame::Bulk(Bytes::from(v))
}

// ------------------------------------------------------------------------------ lists

/// A list opened by a write.
struct ListW {
    c: CollWrite,
    b: Bounds,
}

impl ListW {
    /// Opens `key` as a list: WRONGTYPE for another live type; None if missing (unless
    /// `create`: then an empty list that [`Self::save`] creates if elements were added).
    fn open(
        ctx: &mut WriteCtx<'_>,
        pdb: u8,
        key: &[u8],
        create: bool,
    ) -> Result<Option<ListW>, CmdError> {
        let Some(c) = CollWrite::open(ctx, pdb, key, RedisType::List, create)? else {
            return Ok(None);
        };
        let b = if c.existed {
            Bounds::decode(&c.meta.payload)?
        } else {
            Bounds::EMPTY
        };
        Ok(Some(ListW { c, b }))
    }

    fn len(&self) -> u64 {
        self.b.len()
    }

    fn get(&self, ctx: &WriteCtx<'_>, idx: u64) -> Result<Vec<u8>, CmdError> {
        self.c
            .get(ctx, Cf::Subkey, &suffix(idx))?
            .ok_or_else(|| CmdError::Storage(format!("list element {idx} missing")))
    }

    fn put(&mut self, ctx: &mut WriteCtx<'_>, idx: u64, value: Vec<u8>) {
        self.c.put(ctx, Cf::Subkey, &suffix(idx), value);
    }

    fn push(&mut self, ctx: &mut WriteCtx<'_>, left: bool, value: Vec<u8>) -> Result<(), CmdError> {
        if left {
            let idx = self.b.head.checked_sub(1).ok_or_else(full)?;
            self.put(ctx, idx, value);
            self.b.head = idx;
        } else {
            let idx = self.b.tail;
            self.b.tail = idx.checked_add(1).ok_or_else(full)?;
            self.put(ctx, idx, value);
        }
        Ok(())
    }

    /// Pops up to `count` elements from one end, in pop order. Members of a list that becomes
    /// empty are not deleted one by one: the key goes away, and its version with them.
    fn pop(
        &mut self,
        ctx: &mut WriteCtx<'_>,
        left: bool,
        count: u64,
    ) -> Result<Vec<Vec<u8>>, CmdError> {
        let n = count.min(self.len());
        if n == 0 {
            return Ok(Vec::new());
        }
        let (from, to) = if left {
            (self.b.head, self.b.head + n)
        } else {
            (self.b.tail - n, self.b.tail)
        };
        let items = self.read(ctx, from, to, !left, usize::MAX, usize::MAX)?;
        if items.len() as u64 != n {
            return Err(CmdError::Storage("list elements missing".into()));
        }
        let emptied = n == self.len();
        let mut out = Vec::with_capacity(items.len());
        for (idx, v) in items {
            if !emptied {
                self.c.delete(ctx, Cf::Subkey, &suffix(idx));
            }
            out.push(v);
        }
        if left {
            self.b.head += n;
        } else {
            self.b.tail -= n;
        }
        self.c.touch();
        Ok(out)
    }

    /// The elements at absolute indices `[from, to)` (descending if `reverse`), at most
    /// `max_items` of them and about `max_bytes` of values (always at least one).
    fn read(
        &self,
        ctx: &WriteCtx<'_>,
        from: u64,
        to: u64,
        reverse: bool,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, CmdError> {
        let mut out = Vec::new();
        if from >= to {
            return Ok(out);
        }
        let mut bytes = 0usize;
        let mut bad = false;
        self.c.scan(
            ctx,
            Cf::Subkey,
            &suffix(from),
            Some(&suffix(to)),
            reverse,
            |k, v| {
                let Some(idx) = index_of(k) else {
                    bad = true;
                    return false;
                };
                bytes = bytes.saturating_add(v.len());
                out.push((idx, v.to_vec()));
                out.len() < max_items && bytes < max_bytes
            },
        )?;
        if bad {
            return Err(CmdError::Storage("corrupted list member key".into()));
        }
        Ok(out)
    }

    /// Moves the elements at `[from, to)` one index toward the head (`toward_head`) or the
    /// tail. The caller fixes the bounds and fills the freed slot.
    fn shift_one(
        &mut self,
        ctx: &mut WriteCtx<'_>,
        from: u64,
        to: u64,
        toward_head: bool,
    ) -> Result<(), CmdError> {
        let chunk = chunk_len(self.len());
        // Walk in the direction of the move, so every write lands on an index already read.
        let (mut lo, mut hi) = (from, to);
        while lo < hi {
            let items = self.read(ctx, lo, hi, !toward_head, chunk, CHUNK_BYTES)?;
            let Some(&(last, _)) = items.last() else {
                break;
            };
            for (idx, v) in items {
                let dest = if toward_head {
                    idx.checked_sub(1).ok_or_else(full)?
                } else {
                    idx.checked_add(1).ok_or_else(full)?
                };
                self.put(ctx, dest, v);
            }
            if toward_head {
                lo = last + 1;
            } else {
                hi = last;
            }
        }
        Ok(())
    }

    /// Removes the elements at `removed` (absolute indices, ascending, not empty, not all of
    /// the list) by moving the shorter side over the holes.
    fn remove_at(&mut self, ctx: &mut WriteCtx<'_>, removed: &[u64]) -> Result<(), CmdError> {
        let (Some(&first), Some(&last)) = (removed.first(), removed.last()) else {
            return Ok(());
        };
        let chunk = chunk_len(self.len());
        let toward_head = self.b.tail - first <= last + 1 - self.b.head;
        let mut holes: Box<dyn Iterator<Item = &u64>> = if toward_head {
            Box::new(removed.iter())
        } else {
            Box::new(removed.iter().rev())
        };
        let mut next_hole = holes.next().copied();
        // `w`: the next index to fill, moving away from the first hole.
        let mut w = if toward_head { first } else { last };
        let (mut lo, mut hi) = if toward_head {
            (first, self.b.tail)
        } else {
            (self.b.head, last + 1)
        };
        while lo < hi {
            let items = self.read(ctx, lo, hi, !toward_head, chunk, CHUNK_BYTES)?;
            let Some(&(edge, _)) = items.last() else {
                break;
            };
            for (idx, v) in items {
                if next_hole == Some(idx) {
                    next_hole = holes.next().copied();
                    continue;
                }
                if idx != w {
                    self.put(ctx, w, v);
                }
                w = if toward_head {
                    w + 1
                } else {
                    w.wrapping_sub(1)
                };
            }
            if toward_head {
                lo = edge + 1;
            } else {
                hi = edge;
            }
        }
        // The slots left behind at the moved end.
        if toward_head {
            self.delete_span(ctx, w, self.b.tail);
            self.b.tail = w;
        } else {
            let new_head = w.wrapping_add(1);
            self.delete_span(ctx, self.b.head, new_head);
            self.b.head = new_head;
        }
        self.c.touch();
        Ok(())
    }

    /// Deletes the members at `[from, to)` without reading them: point deletes for a few,
    /// one range delete for many (a capped list trimmed after every push must not pile up
    /// range tombstones, which slow RocksDB reads down).
    fn delete_span(&mut self, ctx: &mut WriteCtx<'_>, from: u64, to: u64) {
        if to.saturating_sub(from) > RANGE_DELETE_MIN {
            let (lo, hi) = (
                self.c.entry_key(&suffix(from)),
                self.c.entry_key(&suffix(to)),
            );
            ctx.overlay.delete_range(Cf::Subkey, &lo, &hi);
            self.c.touch();
        } else {
            for idx in from..to {
                self.c.delete(ctx, Cf::Subkey, &suffix(idx));
            }
        }
    }

    /// Writes the metadata back (deleting the key if the list is empty).
    fn save(mut self, ctx: &mut WriteCtx<'_>) {
        self.c.meta.size = self.b.len();
        self.c.meta.payload = self.b.encode();
        self.c.save(ctx);
    }
}

/// A list opened by a read.
struct ListR {
    c: CollRead,
    b: Bounds,
}

impl ListR {
    fn open(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Option<ListR>, CmdError> {
        let Some(c) = CollRead::open(ctx, key, RedisType::List)? else {
            return Ok(None);
        };
        let b = Bounds::decode(&c.meta.payload)?;
        Ok(Some(ListR { c, b }))
    }

    fn len(&self) -> u64 {
        self.b.len()
    }

    /// Calls `f(value)` for the elements at `[from, to)` (absolute), until it returns false.
    fn scan(
        &self,
        ctx: &ReadCtx<'_>,
        from: u64,
        to: u64,
        reverse: bool,
        mut f: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), CmdError> {
        if from >= to {
            return Ok(());
        }
        self.c.scan(
            ctx,
            Cf::Subkey,
            &suffix(from),
            Some(&suffix(to)),
            reverse,
            |_, v| f(v),
        )?;
        Ok(())
    }
}

/// For SORT (src/cmd/sort.rs): up to `take` elements of list `key` after skipping `skip`,
/// from the head (or from the tail if `reverse`); None if the key is missing, WRONGTYPE if it
/// is not a list.
pub(crate) fn read_elements(
    ctx: &ReadCtx<'_>,
    key: &[u8],
    skip: u64,
    take: u64,
    reverse: bool,
) -> Result<Option<Vec<Vec<u8>>>, CmdError> {
    let Some(l) = ListR::open(ctx, key)? else {
        return Ok(None);
    };
    let skip = skip.min(l.len());
    let n = take.min(l.len() - skip);
    let (from, to) = if reverse {
        (l.b.tail - skip - n, l.b.tail - skip)
    } else {
        (l.b.head + skip, l.b.head + skip + n)
    };
    let mut out = Vec::with_capacity(n as usize);
    l.scan(ctx, from, to, reverse, |v| {
        out.push(v.to_vec());
        true
    })?;
    Ok(Some(out))
}

/// For SORT ... STORE and RESTORE: replaces whatever `key` holds (any type) with a list of
/// `items` expiring at `expire_ms` (0: never), or deletes it if `items` is empty.
pub(crate) fn replace_with(
    ctx: &mut WriteCtx<'_>,
    pdb: u8,
    key: &[u8],
    items: Vec<Vec<u8>>,
    expire_ms: u64,
) -> Result<(), CmdError> {
    let mut l = ListW {
        c: CollWrite::replace(ctx, pdb, key, RedisType::List)?,
        b: Bounds::EMPTY,
    };
    for v in items {
        l.push(ctx, false, v)?;
    }
    l.c.meta.expire_ms = expire_ms;
    l.save(ctx);
    Ok(())
}

// --------------------------------------------------------------------------- parsing

/// LEFT / RIGHT: true for LEFT (the head).
fn parse_side(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "left") {
        Ok(true)
    } else if is(arg, "right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Redis `getPositiveLongFromObjectOrReply`: 0..=i64::MAX, else `msg` (also for non-numbers).
fn parse_non_negative(arg: &[u8], msg: &'static str) -> Result<u64, CmdError> {
    match parse_i64_opt(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::raw(msg)),
    }
}

/// Redis `getRangeLongFromObjectOrReply(1, LONG_MAX)` with its custom message.
fn parse_positive(arg: &[u8], msg: &'static str) -> Result<u64, CmdError> {
    match parse_i64_opt(arg) {
        Some(v) if v >= 1 => Ok(v as u64),
        _ => Err(CmdError::raw(msg)),
    }
}

/// Redis `getTimeoutFromObjectOrReply` in seconds: a long double, `ceil(t * 1000)` ms, which
/// must not be negative (an out-of-range product counts as negative, as the C cast makes it);
/// 0 waits forever.
pub fn parse_timeout(arg: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    let negative = || CmdError::raw("ERR timeout is negative");
    let v = long_double::parse(arg)
        .ok_or_else(|| CmdError::raw("ERR timeout is not a float or out of range"))?;
    let (neg, mant, exp) = match v {
        Ld::Inf { .. } => return Err(negative()),
        Ld::Finite { neg, mant, exp } => (neg, mant, exp),
    };
    // t * 1000 = mant * 1000 * 2^exp, first rounded to a 64-bit mantissa as the x87 product
    // is (so 0.1 gives exactly 100 ms), then rounded up for positives, toward zero for
    // negatives.
    let (product, exp) = round_to_64_bits(mant as u128 * 1000, exp);
    let ms: u128 = if exp >= 0 {
        if exp >= 64 || product.leading_zeros() < exp as u32 + 1 {
            return Err(negative());
        }
        product << exp
    } else {
        let shift = exp.unsigned_abs();
        let (q, exact) = if shift >= 128 {
            (0, product == 0)
        } else {
            (product >> shift, product & ((1u128 << shift) - 1) == 0)
        };
        if neg || exact {
            q
        } else {
            q + 1
        }
    };
    if ms > i64::MAX as u128 || (neg && ms > 0) {
        return Err(negative());
    }
    Ok((ms > 0).then(|| std::time::Duration::from_millis(ms as u64)))
}

/// `(p, exp)` with `p` rounded (half to even) to its 64 most significant bits.
fn round_to_64_bits(p: u128, exp: i32) -> (u128, i32) {
    let bits = 128 - p.leading_zeros();
    if bits <= 64 {
        return (p, exp);
    }
    let drop = bits - 64;
    let half = 1u128 << (drop - 1);
    let rest = p & ((1u128 << drop) - 1);
    let mut q = p >> drop;
    if rest > half || (rest == half && q & 1 == 1) {
        q += 1;
    }
    (q, exp + drop as i32)
}

/// Redis list index arithmetic: a negative index counts from the end.
fn normalize(index: i64, len: u64) -> Option<u64> {
    let len = len as i64;
    let i = if index < 0 { len + index } else { index };
    (0..len).contains(&i).then_some(i as u64)
}

/// LRANGE / LTRIM: the logical range `[start, end]` a pair of indices selects, None if empty.
fn range_of(start: i64, end: i64, len: u64) -> Option<(u64, u64)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as u64, end as u64))
}

// ----------------------------------------------------------------------- push / pop

fn push_generic(
    ctx: &mut WriteCtx<'_>,
    db: u8,
    args: &[Bytes],
    left: bool,
    only_existing: bool,
) -> CmdResult {
    let pdb = ctx.pdb(db);
    let Some(mut l) = ListW::open(ctx, pdb, &args[1], !only_existing)? else {
        return Ok(Frame::Integer(0));
    };
    for v in &args[2..] {
        l.push(ctx, left, v.to_vec())?;
    }
    let len = l.len();
    l.save(ctx);
    Ok(Frame::Integer(len as i64))
}

fn lpush_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, db, args, true, false)
}

fn rpush_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, db, args, false, false)
}

fn lpushx_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, db, args, true, true)
}

fn rpushx_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, db, args, false, true)
}

/// LPOP/RPOP's count: None without one.
fn pop_count(args: &[Bytes]) -> Result<Option<u64>, CmdError> {
    match args.len() {
        2 => Ok(None),
        3 => parse_non_negative(&args[2], "ERR value is out of range, must be positive").map(Some),
        _ => Err(CmdError::Arity(
            String::from_utf8_lossy(&args[0]).into_owned(),
        )),
    }
}

fn pop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    pop_count(args).map(|_| ())
}

fn pop_generic(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], left: bool) -> CmdResult {
    let count = pop_count(args)?;
    let pdb = ctx.pdb(db);
    let Some(mut l) = ListW::open(ctx, pdb, &args[1], false)? else {
        return Ok(match count {
            Some(_) => Frame::NullArray,
            None => Frame::Null,
        });
    };
    let items = l.pop(ctx, left, count.unwrap_or(1))?;
    l.save(ctx);
    Ok(match count {
        Some(_) => Frame::Array(items.into_iter().map(bulk).collect()),
        None => items.into_iter().next().map_or(Frame::Null, bulk),
    })
}

fn lpop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, db, args, true)
}

fn rpop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, db, args, false)
}

// -------------------------------------------------------------------------- reads

fn llen(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(
        ListR::open(ctx, &args[1])?.map_or(0, |l| l.len() as i64),
    ))
}

fn lrange(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let start = parse_i64(&args[2])?;
    let end = parse_i64(&args[3])?;
    let Some(l) = ListR::open(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let Some((s, e)) = range_of(start, end, l.len()) else {
        return Ok(Frame::Array(Vec::new()));
    };
    let mut out = Vec::new();
    l.scan(ctx, l.b.head + s, l.b.head + e + 1, false, |v| {
        out.push(Frame::Bulk(Bytes::copy_from_slice(v)));
        true
    })?;
    Ok(Frame::Array(out))
}

fn lindex(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let Some(l) = ListR::open(ctx, &args[1])? else {
        return Ok(Frame::Null);
    };
    let index = parse_i64(&args[2])?;
    let Some(i) = normalize(index, l.len()) else {
        return Ok(Frame::Null);
    };
    Ok(l.c
        .get(ctx, Cf::Subkey, &suffix(l.b.head + i))?
        .map_or(Frame::Null, bulk))
}

/// LPOS options, parsed like Redis 7.0 `lposCommand`.
#[derive(Debug, PartialEq)]
struct LposOpts {
    rank: i64,
    count: Option<u64>,
    maxlen: u64,
}

fn parse_lpos(args: &[Bytes]) -> Result<LposOpts, CmdError> {
    let mut o = LposOpts {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        let a = &args[i][..];
        if is(a, "rank") && more {
            o.rank = parse_i64(&args[i + 1])?;
            if o.rank == 0 {
                return Err(CmdError::raw(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(a, "count") && more {
            o.count = Some(parse_non_negative(
                &args[i + 1],
                "ERR COUNT can't be negative",
            )?);
        } else if is(a, "maxlen") && more {
            o.maxlen = parse_non_negative(&args[i + 1], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(o)
}

fn lpos(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let o = parse_lpos(args)?;
    let Some(l) = ListR::open(ctx, &args[1])? else {
        return Ok(match o.count {
            Some(_) => Frame::Array(Vec::new()),
            None => Frame::Null,
        });
    };
    let reverse = o.rank < 0;
    // Redis negates a negative rank in a C long: RANK -2^63 stays negative, and then every
    // match counts as "at or past the rank" (the wrapping arithmetic below keeps that).
    let rank = if reverse {
        o.rank.wrapping_neg()
    } else {
        o.rank
    };
    let len = l.len();
    let ele = &args[2][..];
    let mut matches: i64 = 0;
    let mut index: u64 = 0;
    let mut found: Vec<i64> = Vec::new();
    l.scan(ctx, l.b.head, l.b.tail, reverse, |v| {
        if o.maxlen != 0 && index >= o.maxlen {
            return false;
        }
        let pos = if reverse { len - index - 1 } else { index };
        index += 1;
        if v != ele {
            return true;
        }
        matches += 1;
        if matches < rank {
            return true;
        }
        found.push(pos as i64);
        match o.count {
            None => false,
            Some(0) => true,
            Some(c) => matches.wrapping_sub(rank).wrapping_add(1) < c as i64,
        }
    })?;
    Ok(match o.count {
        Some(_) => Frame::Array(found.into_iter().map(Frame::Integer).collect()),
        None => found.first().map_or(Frame::Null, |&p| Frame::Integer(p)),
    })
}

// ------------------------------------------------------------------ other writes

fn lset_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let Some(mut l) = ListW::open(ctx, pdb, &args[1], false)? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = parse_i64(&args[2])?;
    let i = normalize(index, l.len()).ok_or_else(|| CmdError::raw("ERR index out of range"))?;
    let idx = l.b.head + i;
    l.put(ctx, idx, args[3].to_vec());
    l.save(ctx);
    Ok(Frame::ok())
}

fn linsert_validate(args: &[Bytes]) -> Result<(), CmdError> {
    linsert_before(args).map(|_| ())
}

fn linsert_before(args: &[Bytes]) -> Result<bool, CmdError> {
    if is(&args[2], "before") {
        Ok(true)
    } else if is(&args[2], "after") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

fn linsert_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let before = linsert_before(args)?;
    let pdb = ctx.pdb(db);
    let Some(mut l) = ListW::open(ctx, pdb, &args[1], false)? else {
        return Ok(Frame::Integer(0));
    };
    let pivot = &args[3][..];
    let mut at = None;
    l.c.scan(
        ctx,
        Cf::Subkey,
        &suffix(l.b.head),
        Some(&suffix(l.b.tail)),
        false,
        |k, v| {
            if v == pivot {
                at = index_of(k);
                return false;
            }
            true
        },
    )?;
    let Some(pivot_idx) = at else {
        return Ok(Frame::Integer(-1));
    };
    // Logical position of the new element.
    let pos = pivot_idx - l.b.head + u64::from(!before);
    let len = l.len();
    let value = args[4].to_vec();
    if pos <= len - pos {
        // Move the head side one step toward the head.
        let (head, at) = (l.b.head, l.b.head + pos);
        l.shift_one(ctx, head, at, true)?;
        l.b.head = head.checked_sub(1).ok_or_else(full)?;
        l.put(ctx, at - 1, value);
    } else {
        let (at, tail) = (l.b.head + pos, l.b.tail);
        l.shift_one(ctx, at, tail, false)?;
        l.b.tail = tail.checked_add(1).ok_or_else(full)?;
        l.put(ctx, at, value);
    }
    let len = l.len();
    l.save(ctx);
    Ok(Frame::Integer(len as i64))
}

fn lrem_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_i64(&args[2]).map(|_| ())
}

fn lrem_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let count = parse_i64(&args[2])?;
    let pdb = ctx.pdb(db);
    let Some(mut l) = ListW::open(ctx, pdb, &args[1], false)? else {
        return Ok(Frame::Integer(0));
    };
    let ele = &args[3][..];
    let limit = if count == 0 {
        u64::MAX
    } else {
        count.unsigned_abs()
    };
    let mut removed: Vec<u64> = Vec::new();
    let mut bad = false;
    l.c.scan(
        ctx,
        Cf::Subkey,
        &suffix(l.b.head),
        Some(&suffix(l.b.tail)),
        count < 0,
        |k, v| {
            if v == ele {
                match index_of(k) {
                    Some(i) => removed.push(i),
                    None => bad = true,
                }
            }
            !bad && (removed.len() as u64) < limit
        },
    )?;
    if bad {
        return Err(CmdError::Storage("corrupted list member key".into()));
    }
    if removed.is_empty() {
        return Ok(Frame::Integer(0));
    }
    let n = removed.len() as u64;
    if n == l.len() {
        // Everything goes: the key is deleted with its version.
        l.b.head = l.b.tail;
    } else {
        removed.sort_unstable();
        l.remove_at(ctx, &removed)?;
    }
    l.save(ctx);
    Ok(Frame::Integer(n as i64))
}

fn ltrim_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_i64(&args[2])?;
    parse_i64(&args[3]).map(|_| ())
}

fn ltrim_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let start = parse_i64(&args[2])?;
    let end = parse_i64(&args[3])?;
    let pdb = ctx.pdb(db);
    let Some(mut l) = ListW::open(ctx, pdb, &args[1], false)? else {
        return Ok(Frame::ok());
    };
    match range_of(start, end, l.len()) {
        // Nothing left: deleting the key drops its members with the version.
        None => l.b.head = l.b.tail,
        Some((s, e)) => {
            let (new_head, new_tail) = (l.b.head + s, l.b.head + e + 1);
            l.delete_span(ctx, l.b.head, new_head);
            l.delete_span(ctx, new_tail, l.b.tail);
            l.b = Bounds {
                head: new_head,
                tail: new_tail,
            };
        }
    }
    l.save(ctx);
    Ok(Frame::ok())
}

// ------------------------------------------------------------------------ moves

/// Pops one element from `src` (`from_left`: its head) and pushes it onto `dst`. None if
/// `src` is missing; WRONGTYPE if either key holds another type (checked before anything
/// changes, as Redis does when `src` is not empty).
fn move_one(
    ctx: &mut WriteCtx<'_>,
    db: u8,
    src: &[u8],
    dst: &[u8],
    from_left: bool,
    to_left: bool,
) -> Result<Option<Vec<u8>>, CmdError> {
    let pdb = ctx.pdb(db);
    let Some(mut s) = ListW::open(ctx, pdb, src, false)? else {
        return Ok(None);
    };
    if src == dst {
        if from_left == to_left || s.len() == 1 {
            // The list ends up as it was; it still counts as modified (WATCH, wake-ups).
            let idx = if from_left { s.b.head } else { s.b.tail - 1 };
            let v = s.get(ctx, idx)?;
            s.c.touch();
            s.save(ctx);
            return Ok(Some(v));
        }
        let v = s.pop(ctx, from_left, 1)?.into_iter().next();
        let v = v.ok_or_else(|| CmdError::Storage("list element missing".into()))?;
        s.push(ctx, to_left, v.clone())?;
        s.save(ctx);
        return Ok(Some(v));
    }
    let Some(mut d) = ListW::open(ctx, pdb, dst, true)? else {
        return Err(CmdError::Storage("list destination not created".into()));
    };
    let v = s.pop(ctx, from_left, 1)?.into_iter().next();
    let v = v.ok_or_else(|| CmdError::Storage("list element missing".into()))?;
    d.push(ctx, to_left, v.clone())?;
    s.save(ctx);
    d.save(ctx);
    Ok(Some(v))
}

fn lmove_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_side(&args[3])?;
    parse_side(&args[4]).map(|_| ())
}

fn lmove_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let from_left = parse_side(&args[3])?;
    let to_left = parse_side(&args[4])?;
    Ok(move_one(ctx, db, &args[1], &args[2], from_left, to_left)?.map_or(Frame::Null, bulk))
}

fn rpoplpush_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    Ok(move_one(ctx, db, &args[1], &args[2], false, true)?.map_or(Frame::Null, bulk))
}

/// LMPOP / BLMPOP arguments after the command name (and BLMPOP's timeout).
#[derive(Debug, PartialEq)]
struct Mpop {
    /// Argument indices of the keys.
    keys: std::ops::Range<usize>,
    left: bool,
    count: u64,
}

/// Redis 7.0 `lmpopGenericCommand`: numkeys at `numkeys_idx`, the keys, LEFT|RIGHT, then
/// an optional COUNT given once.
fn parse_mpop(args: &[Bytes], numkeys_idx: usize) -> Result<Mpop, CmdError> {
    let numkeys = args
        .get(numkeys_idx)
        .ok_or(CmdError::Syntax)
        .and_then(|a| parse_positive(a, "ERR numkeys should be greater than 0"))?;
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_idx + 1))
        .filter(|&w| w < args.len())
        .ok_or(CmdError::Syntax)?;
    let left = parse_side(&args[where_idx])?;
    let mut count = None;
    let mut i = where_idx + 1;
    while i < args.len() {
        if count.is_none() && is(&args[i], "count") && i + 1 < args.len() {
            count = Some(parse_positive(
                &args[i + 1],
                "ERR count should be greater than 0",
            )?);
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(Mpop {
        keys: numkeys_idx + 1..where_idx,
        left,
        count: count.unwrap_or(1),
    })
}

fn lmpop_keys(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    Ok(parse_mpop(args, 1)?.keys.collect())
}

fn lmpop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_mpop(args, 1).map(|_| ())
}

/// A pop from the first non-empty list: the key's argument index and the elements.
type Popped = (usize, Vec<Vec<u8>>);

/// Pops from the first non-empty list of `keys` (in order; a key of another type met before
/// one is WRONGTYPE): `(key index, elements)`, or None if all are empty.
fn pop_first(
    ctx: &mut WriteCtx<'_>,
    db: u8,
    args: &[Bytes],
    keys: impl Iterator<Item = usize>,
    left: bool,
    count: u64,
) -> Result<Option<Popped>, CmdError> {
    let pdb = ctx.pdb(db);
    for i in keys {
        if let Some(mut l) = ListW::open(ctx, pdb, &args[i], false)? {
            let items = l.pop(ctx, left, count)?;
            l.save(ctx);
            return Ok(Some((i, items)));
        }
    }
    Ok(None)
}

fn mpop_reply(args: &[Bytes], popped: Option<(usize, Vec<Vec<u8>>)>) -> Frame {
    match popped {
        Some((i, items)) => Frame::Array(vec![
            Frame::Bulk(args[i].clone()),
            Frame::Array(items.into_iter().map(bulk).collect()),
        ]),
        None => Frame::NullArray,
    }
}

fn lmpop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let m = parse_mpop(args, 1)?;
    let popped = pop_first(ctx, db, args, m.keys, m.left, m.count)?;
    Ok(mpop_reply(args, popped))
}

// --------------------------------------------------------------------- blocking
//
// Each attempt pops like its non-blocking twin and answers NullArray when every key is
// empty, having changed nothing. NullArray is also Redis's timeout reply for all five
// commands (`*-1` in RESP2, even for BLMOVE/BRPOPLPUSH).

fn bpop_parse(args: &[Bytes]) -> Result<BlockOn, CmdError> {
    let timeout = parse_timeout(&args[args.len() - 1])?;
    Ok(BlockOn {
        keys: (1..args.len() - 1).collect(),
        timeout,
    })
}

fn bpop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    bpop_parse(args).map(|_| ())
}

fn bpop_generic(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], left: bool) -> CmdResult {
    bpop_parse(args)?;
    Ok(
        match pop_first(ctx, db, args, 1..args.len() - 1, left, 1)? {
            Some((i, items)) => Frame::Array(
                std::iter::once(Frame::Bulk(args[i].clone()))
                    .chain(items.into_iter().map(bulk))
                    .collect(),
            ),
            None => Frame::NullArray,
        },
    )
}

fn blpop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, db, args, true)
}

fn brpop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, db, args, false)
}

/// BLMOVE: sides first (syntax error), then the timeout, as Redis.
fn blmove_parse(args: &[Bytes]) -> Result<BlockOn, CmdError> {
    parse_side(&args[3])?;
    parse_side(&args[4])?;
    Ok(BlockOn {
        keys: vec![1],
        timeout: parse_timeout(&args[5])?,
    })
}

fn blmove_validate(args: &[Bytes]) -> Result<(), CmdError> {
    blmove_parse(args).map(|_| ())
}

fn blmove_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    blmove_parse(args)?;
    let from_left = parse_side(&args[3])?;
    let to_left = parse_side(&args[4])?;
    Ok(move_one(ctx, db, &args[1], &args[2], from_left, to_left)?.map_or(Frame::NullArray, bulk))
}

fn brpoplpush_parse(args: &[Bytes]) -> Result<BlockOn, CmdError> {
    Ok(BlockOn {
        keys: vec![1],
        timeout: parse_timeout(&args[3])?,
    })
}

fn brpoplpush_validate(args: &[Bytes]) -> Result<(), CmdError> {
    brpoplpush_parse(args).map(|_| ())
}

fn brpoplpush_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    brpoplpush_parse(args)?;
    Ok(move_one(ctx, db, &args[1], &args[2], false, true)?.map_or(Frame::NullArray, bulk))
}

/// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n]: the numkeys/where/count errors come
/// before the timeout's, as in Redis.
fn blmpop_parse(args: &[Bytes]) -> Result<BlockOn, CmdError> {
    let m = parse_mpop(args, 2)?;
    Ok(BlockOn {
        keys: m.keys.collect(),
        timeout: parse_timeout(&args[1])?,
    })
}

fn blmpop_keys(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    Ok(parse_mpop(args, 2)?.keys.collect())
}

fn blmpop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    blmpop_parse(args).map(|_| ())
}

fn blmpop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    blmpop_parse(args)?;
    let m = parse_mpop(args, 2)?;
    let popped = pop_first(ctx, db, args, m.keys, m.left, m.count)?;
    Ok(mpop_reply(args, popped))
}

static BLPOP: BlockingSpec = BlockingSpec {
    parse: bpop_parse,
    prepare: None,
    attempt: write(bpop_validate, blpop_apply),
};

static BRPOP: BlockingSpec = BlockingSpec {
    parse: bpop_parse,
    prepare: None,
    attempt: write(bpop_validate, brpop_apply),
};

static BLMOVE: BlockingSpec = BlockingSpec {
    parse: blmove_parse,
    prepare: None,
    attempt: write(blmove_validate, blmove_apply),
};

static BRPOPLPUSH: BlockingSpec = BlockingSpec {
    parse: brpoplpush_parse,
    prepare: None,
    attempt: write(brpoplpush_validate, brpoplpush_apply),
};

static BLMPOP: BlockingSpec = BlockingSpec {
    parse: blmpop_parse,
    prepare: None,
    attempt: write(blmpop_validate, blmpop_apply),
};

// ------------------------------------------------------------------------------ table

const RF: &[&str] = &["readonly", "fast"];
const R: &[&str] = &["readonly"];
const W: &[&str] = &["write"];
const WD: &[&str] = &["write", "denyoom"];
const WF: &[&str] = &["write", "fast"];
const WDF: &[&str] = &["write", "denyoom", "fast"];
const WM: &[&str] = &["write", "movablekeys"];
const WB: &[&str] = &["write", "noscript", "blocking"];
const WDB: &[&str] = &["write", "denyoom", "noscript", "blocking"];
const WBM: &[&str] = &["write", "blocking", "movablekeys"];
const ACL_RF: &[&str] = &["read", "list", "fast"];
const ACL_RS: &[&str] = &["read", "list", "slow"];
const ACL_WF: &[&str] = &["write", "list", "fast"];
const ACL_WS: &[&str] = &["write", "list", "slow"];
const ACL_WSB: &[&str] = &["write", "list", "slow", "blocking"];

use super::atomic_write as write;

/// A list command row; keys `first..=last` (step 1), or found by `key_finder`.
#[allow(clippy::too_many_arguments)]
const fn row(
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    keys: (i32, i32),
    key_finder: Option<super::KeyFinder>,
    acl: &'static [&'static str],
    summary: &'static str,
    since: &'static str,
    handler: Handler,
) -> CommandSpec {
    let step = if keys.0 > 0 { 1 } else { 0 };
    CommandSpec {
        key_finder,
        ..CommandSpec::row(
            "list",
            name,
            arity,
            flags,
            (keys.0, keys.1, step),
            acl,
            summary,
            since,
            handler,
        )
    }
}

use super::no_validation as none;

pub static SPECS: &[CommandSpec] = &[
    row(
        "lpush",
        -3,
        WDF,
        (1, 1),
        None,
        ACL_WF,
        "Prepend one or multiple elements to a list",
        "1.0.0",
        write(none, lpush_apply),
    ),
    row(
        "rpush",
        -3,
        WDF,
        (1, 1),
        None,
        ACL_WF,
        "Append one or multiple elements to a list",
        "1.0.0",
        write(none, rpush_apply),
    ),
    row(
        "lpushx",
        -3,
        WDF,
        (1, 1),
        None,
        ACL_WF,
        "Prepend an element to a list, only if the list exists",
        "2.2.0",
        write(none, lpushx_apply),
    ),
    row(
        "rpushx",
        -3,
        WDF,
        (1, 1),
        None,
        ACL_WF,
        "Append an element to a list, only if the list exists",
        "2.2.0",
        write(none, rpushx_apply),
    ),
    row(
        "lpop",
        -2,
        WF,
        (1, 1),
        None,
        ACL_WF,
        "Remove and get the first elements in a list",
        "1.0.0",
        write(pop_validate, lpop_apply),
    ),
    row(
        "rpop",
        -2,
        WF,
        (1, 1),
        None,
        ACL_WF,
        "Remove and get the last elements in a list",
        "1.0.0",
        write(pop_validate, rpop_apply),
    ),
    row(
        "llen",
        2,
        RF,
        (1, 1),
        None,
        ACL_RF,
        "Get the length of a list",
        "1.0.0",
        Handler::Read(llen),
    ),
    row(
        "lrange",
        4,
        R,
        (1, 1),
        None,
        ACL_RS,
        "Get a range of elements from a list",
        "1.0.0",
        Handler::Read(lrange),
    ),
    row(
        "lindex",
        3,
        R,
        (1, 1),
        None,
        ACL_RS,
        "Get an element from a list by its index",
        "1.0.0",
        Handler::Read(lindex),
    ),
    row(
        "lset",
        4,
        WD,
        (1, 1),
        None,
        ACL_WS,
        "Set the value of an element in a list by its index",
        "1.0.0",
        write(none, lset_apply),
    ),
    row(
        "linsert",
        5,
        WD,
        (1, 1),
        None,
        ACL_WS,
        "Insert an element before or after another element in a list",
        "2.2.0",
        write(linsert_validate, linsert_apply),
    ),
    row(
        "lrem",
        4,
        W,
        (1, 1),
        None,
        ACL_WS,
        "Remove elements from a list",
        "1.0.0",
        write(lrem_validate, lrem_apply),
    ),
    row(
        "ltrim",
        4,
        W,
        (1, 1),
        None,
        ACL_WS,
        "Trim a list to the specified range",
        "1.0.0",
        write(ltrim_validate, ltrim_apply),
    ),
    row(
        "lpos",
        -3,
        R,
        (1, 1),
        None,
        ACL_RS,
        "Return the index of matching elements on a list",
        "6.0.6",
        Handler::Read(lpos),
    ),
    row(
        "lmove",
        5,
        WD,
        (1, 2),
        None,
        ACL_WS,
        "Pop an element from a list, push it to another list and return it",
        "6.2.0",
        write(lmove_validate, lmove_apply),
    ),
    row(
        "rpoplpush",
        3,
        WD,
        (1, 2),
        None,
        ACL_WS,
        "Remove the last element in a list, prepend it to another list and return it",
        "1.2.0",
        write(none, rpoplpush_apply),
    ),
    row(
        "lmpop",
        -4,
        WM,
        (0, 0),
        Some(lmpop_keys),
        ACL_WS,
        "Pop elements from a list",
        "7.0.0",
        write(lmpop_validate, lmpop_apply),
    ),
    row(
        "blpop",
        -3,
        WB,
        (1, -2),
        None,
        ACL_WSB,
        "Remove and get the first element in a list, or block until one is available",
        "2.0.0",
        Handler::Blocking(&BLPOP),
    ),
    row(
        "brpop",
        -3,
        WB,
        (1, -2),
        None,
        ACL_WSB,
        "Remove and get the last element in a list, or block until one is available",
        "2.0.0",
        Handler::Blocking(&BRPOP),
    ),
    row(
        "blmove",
        6,
        WDB,
        (1, 2),
        None,
        ACL_WSB,
        "Pop an element from a list, push it to another list and return it; or block until \
         one is available",
        "6.2.0",
        Handler::Blocking(&BLMOVE),
    ),
    row(
        "brpoplpush",
        4,
        WDB,
        (1, 2),
        None,
        ACL_WSB,
        "Pop an element from a list, push it to another list and return it; or block until \
         one is available",
        "2.2.0",
        Handler::Blocking(&BRPOPLPUSH),
    ),
    row(
        "blmpop",
        -5,
        WBM,
        (0, 0),
        Some(blmpop_keys),
        ACL_WSB,
        "Pop elements from a list, or block until one is available",
        "7.0.0",
        Handler::Blocking(&BLMPOP),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::lookup;
    use crate::cmd::string::testing::{argv, Harness};

    fn b(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn bulks(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| b(s)).collect())
    }

    fn read(h: &mut Harness, parts: &[&str]) -> Frame {
        let args = argv(parts);
        let spec = lookup(&args[0]).unwrap();
        let Handler::Read(f) = spec.handler else {
            panic!("{} is not a read", spec.name)
        };
        h.with_ctx(|ctx| -> Result<Frame, ()> {
            let r = ReadCtx::in_apply(ctx, 0);
            Ok(f(&r, &args).unwrap_or_else(|e| e.to_frame()))
        })
        .unwrap()
    }

    /// Runs a blocking command's attempt once, as the dispatcher does: parse, validate, apply.
    fn attempt(h: &mut Harness, parts: &[&str]) -> Frame {
        let args = argv(parts);
        let spec = lookup(&args[0]).unwrap();
        let Handler::Blocking(bs) = spec.handler else {
            panic!("{} is not blocking", spec.name)
        };
        if let Err(e) = (bs.parse)(&args) {
            return e.to_frame();
        }
        let Handler::Write(w) = bs.attempt else {
            panic!("write attempt")
        };
        if let Err(e) = (w.validate)(&args) {
            return e.to_frame();
        }
        h.with_ctx(|ctx| -> Result<Frame, ()> {
            Ok(crate::cmd::execute(
                ctx,
                &crate::raft::WriteRequest {
                    now_ms: ctx.now_ms,
                    max_value_len: ctx.max_value_len,
                    op: crate::raft::WriteOp::Command { db: 0, argv: args },
                },
            ))
        })
        .unwrap()
    }

    fn all(h: &mut Harness, key: &str) -> Frame {
        read(h, &["lrange", key, "0", "-1"])
    }

    #[test]
    fn bounds_round_trip_and_reject_garbage() {
        let bd = Bounds {
            head: MID - 3,
            tail: MID + 2,
        };
        assert_eq!(Bounds::decode(&bd.encode()).unwrap(), bd);
        assert_eq!(bd.len(), 5);
        assert!(Bounds::decode(&[0; 15]).is_err());
        let bad = Bounds { head: 5, tail: 4 };
        assert!(Bounds::decode(&bad.encode()).is_err());
        // Big-endian suffixes sort like the indices.
        assert!(suffix(MID - 1) < suffix(MID));
        assert_eq!(index_of(&suffix(42)), Some(42));
    }

    #[test]
    fn timeouts_like_redis() {
        let ms = |s: &str| parse_timeout(s.as_bytes());
        let d = |v: u64| Ok(Some(std::time::Duration::from_millis(v)));
        assert_eq!(ms("0"), Ok(None));
        assert_eq!(ms("1.5"), d(1500));
        assert_eq!(ms("0.1"), d(100));
        assert_eq!(ms("0.001"), d(1));
        assert_eq!(ms("0.0009"), d(1));
        assert_eq!(ms("1e-400"), d(1));
        assert_eq!(ms("0x10"), d(16000));
        assert_eq!(ms("+1"), d(1000));
        assert_eq!(ms("-0.0001"), Ok(None));
        assert_eq!(ms("9223372036854775"), d(9223372036854775000));
        let neg = Err(CmdError::raw("ERR timeout is negative"));
        for s in [
            "-1",
            "-0.5",
            "inf",
            "-inf",
            "1e400",
            "9223372036854776",
            "1e30",
        ] {
            assert_eq!(ms(s), neg, "{s}");
        }
        let nf = Err(CmdError::raw("ERR timeout is not a float or out of range"));
        for s in ["", "x", "1.5x", " 1", "1 ", "nan"] {
            assert_eq!(ms(s), nf, "{s:?}");
        }
    }

    #[test]
    fn push_pop_and_ranges() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["rpush", "l", "a", "b", "c"]), Frame::Integer(3));
        assert_eq!(h.run(&["lpush", "l", "y", "z"]), Frame::Integer(5));
        assert_eq!(all(&mut h, "l"), bulks(&["z", "y", "a", "b", "c"]));
        assert_eq!(
            read(&mut h, &["lrange", "l", "-2", "100"]),
            bulks(&["b", "c"])
        );
        assert_eq!(read(&mut h, &["lrange", "l", "3", "1"]), bulks(&[]));
        assert_eq!(read(&mut h, &["lindex", "l", "-1"]), b("c"));
        assert_eq!(read(&mut h, &["lindex", "l", "5"]), Frame::Null);
        assert_eq!(read(&mut h, &["llen", "l"]), Frame::Integer(5));
        assert_eq!(h.run(&["lpushx", "nokey", "a"]), Frame::Integer(0));
        assert_eq!(h.run(&["rpushx", "l", "d"]), Frame::Integer(6));
        assert_eq!(h.run(&["lpop", "l"]), b("z"));
        assert_eq!(h.run(&["rpop", "l", "2"]), bulks(&["d", "c"]));
        assert_eq!(h.run(&["lpop", "l", "0"]), bulks(&[]));
        assert_eq!(h.run(&["lpop", "nokey", "0"]), Frame::NullArray);
        assert_eq!(h.run(&["lpop", "nokey"]), Frame::Null);
        assert_eq!(
            h.run(&["lpop", "l", "-1"]),
            Frame::error("ERR value is out of range, must be positive")
        );
        assert_eq!(h.run(&["lpop", "l", "100"]), bulks(&["y", "a", "b"]));
        assert!(h.stored(0, "l").is_none());
        assert_eq!(h.state.counters.keys[0], 0);
        // A new list after deletion starts afresh.
        assert_eq!(h.run(&["rpush", "l", "n"]), Frame::Integer(1));
        assert_eq!(all(&mut h, "l"), bulks(&["n"]));
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut h = Harness::new();
        h.run(&["set", "s", "x"]);
        let wt = CmdError::WrongType.to_frame();
        for c in [
            &["lpush", "s", "a"][..],
            &["rpushx", "s", "a"],
            &["lpop", "s"],
            &["lset", "s", "0", "a"],
            &["linsert", "s", "before", "a", "b"],
            &["lrem", "s", "0", "a"],
            &["ltrim", "s", "0", "1"],
            &["lmove", "s", "d", "left", "left"],
            &["lmpop", "1", "s", "left"],
        ] {
            assert_eq!(h.run(c), wt, "{c:?}");
        }
        for c in [
            &["llen", "s"][..],
            &["lrange", "s", "0", "1"],
            &["lpos", "s", "a"],
        ] {
            assert_eq!(read(&mut h, c), wt, "{c:?}");
        }
        h.run(&["rpush", "l", "a"]);
        // The destination's type is checked before the source is popped.
        assert_eq!(h.run(&["lmove", "l", "s", "left", "left"]), wt);
        assert_eq!(all(&mut h, "l"), bulks(&["a"]));
        // A missing source does not look at the destination.
        assert_eq!(h.run(&["lmove", "nokey", "s", "left", "left"]), Frame::Null);
    }

    #[test]
    fn lset_linsert_both_sides() {
        let mut h = Harness::new();
        h.run(&["rpush", "l", "a", "b", "c", "d", "e"]);
        assert_eq!(h.run(&["lset", "l", "-1", "E"]), Frame::ok());
        assert_eq!(
            h.run(&["lset", "l", "5", "x"]),
            Frame::error("ERR index out of range")
        );
        assert_eq!(
            h.run(&["lset", "nokey", "x", "x"]),
            CmdError::NoSuchKey.to_frame()
        );
        assert_eq!(
            h.run(&["lset", "l", "x", "x"]),
            CmdError::NotInteger.to_frame()
        );
        // Near the head: the head side moves.
        assert_eq!(
            h.run(&["linsert", "l", "before", "b", "X"]),
            Frame::Integer(6)
        );
        // Near the tail: the tail side moves.
        assert_eq!(
            h.run(&["linsert", "l", "AFTER", "d", "Y"]),
            Frame::Integer(7)
        );
        assert_eq!(
            h.run(&["linsert", "l", "before", "a", "F"]),
            Frame::Integer(8)
        );
        assert_eq!(
            h.run(&["linsert", "l", "after", "E", "L"]),
            Frame::Integer(9)
        );
        assert_eq!(
            all(&mut h, "l"),
            bulks(&["F", "a", "X", "b", "c", "d", "Y", "E", "L"])
        );
        assert_eq!(
            h.run(&["linsert", "l", "after", "zz", "L"]),
            Frame::Integer(-1)
        );
        assert_eq!(
            h.run(&["linsert", "nokey", "after", "a", "L"]),
            Frame::Integer(0)
        );
        assert_eq!(
            h.run(&["linsert", "l", "middle", "a", "L"]),
            CmdError::Syntax.to_frame()
        );
    }

    #[test]
    fn lrem_from_both_ends_and_compaction() {
        let mut h = Harness::new();
        let items = ["a", "x", "b", "x", "c", "x", "d", "x", "e"];
        let mut cmd = vec!["rpush", "l"];
        cmd.extend(items);
        h.run(&cmd);
        assert_eq!(h.run(&["lrem", "l", "1", "x"]), Frame::Integer(1));
        assert_eq!(
            all(&mut h, "l"),
            bulks(&["a", "b", "x", "c", "x", "d", "x", "e"])
        );
        assert_eq!(h.run(&["lrem", "l", "-2", "x"]), Frame::Integer(2));
        assert_eq!(all(&mut h, "l"), bulks(&["a", "b", "x", "c", "d", "e"]));
        assert_eq!(h.run(&["lrem", "l", "0", "zz"]), Frame::Integer(0));
        assert_eq!(h.run(&["lrem", "l", "0", "x"]), Frame::Integer(1));
        assert_eq!(all(&mut h, "l"), bulks(&["a", "b", "c", "d", "e"]));
        assert_eq!(read(&mut h, &["llen", "l"]), Frame::Integer(5));
        // Pushing at both ends after compaction lands next to the survivors.
        h.run(&["lpush", "l", "0"]);
        h.run(&["rpush", "l", "9"]);
        assert_eq!(
            all(&mut h, "l"),
            bulks(&["0", "a", "b", "c", "d", "e", "9"])
        );
        h.run(&["del", "m"]);
        h.run(&["rpush", "m", "x", "x"]);
        assert_eq!(h.run(&["lrem", "m", "0", "x"]), Frame::Integer(2));
        assert!(h.stored(0, "m").is_none());
    }

    #[test]
    fn large_lists_shift_in_chunks() {
        let mut h = Harness::new();
        let n = 3000;
        let vals: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        let mut cmd = vec!["rpush", "l"];
        cmd.extend(vals.iter().map(|s| s.as_str()));
        h.run(&cmd);
        // Remove every third element (both compaction directions get exercised by LREM
        // below with values near each end).
        for i in (0..n).step_by(3) {
            h.run(&["lset", "l", &i.to_string(), "gone"]);
        }
        assert_eq!(h.run(&["lrem", "l", "0", "gone"]), Frame::Integer(1000));
        let expect: Vec<&str> = (0..n)
            .filter(|i| i % 3 != 0)
            .map(|i| vals[i].as_str())
            .collect();
        assert_eq!(all(&mut h, "l"), bulks(&expect));
        h.run(&["linsert", "l", "before", "v1501", "mid"]);
        assert_eq!(read(&mut h, &["lpos", "l", "mid"]), Frame::Integer(1000));
        assert_eq!(read(&mut h, &["llen", "l"]), Frame::Integer(2001));
        // A big trim uses range deletes; the rest stays readable.
        assert_eq!(h.run(&["ltrim", "l", "1500", "-2"]), Frame::ok());
        assert_eq!(read(&mut h, &["llen", "l"]), Frame::Integer(500));
        assert_eq!(read(&mut h, &["lindex", "l", "0"]), b("v2249"));
        h.run(&["lpush", "l", "front"]);
        assert_eq!(
            read(&mut h, &["lrange", "l", "0", "1"]),
            bulks(&["front", "v2249"])
        );
    }

    #[test]
    fn ltrim_like_redis() {
        let mut h = Harness::new();
        h.run(&["rpush", "l", "a", "b", "c", "d", "e"]);
        assert_eq!(h.run(&["ltrim", "l", "1", "-2"]), Frame::ok());
        assert_eq!(all(&mut h, "l"), bulks(&["b", "c", "d"]));
        assert_eq!(h.run(&["ltrim", "l", "-100", "100"]), Frame::ok());
        assert_eq!(all(&mut h, "l"), bulks(&["b", "c", "d"]));
        assert_eq!(
            h.run(&["ltrim", "l", "x", "1"]),
            CmdError::NotInteger.to_frame()
        );
        assert_eq!(h.run(&["ltrim", "l", "2", "1"]), Frame::ok());
        assert!(h.stored(0, "l").is_none());
        assert_eq!(h.run(&["ltrim", "nokey", "0", "1"]), Frame::ok());
    }

    #[test]
    fn lpos_options() {
        let mut h = Harness::new();
        h.run(&["rpush", "l", "a", "b", "c", "a", "b", "c"]);
        let i = Frame::Integer;
        let ints = |v: &[i64]| Frame::Array(v.iter().map(|&x| Frame::Integer(x)).collect());
        assert_eq!(read(&mut h, &["lpos", "l", "b"]), i(1));
        assert_eq!(read(&mut h, &["lpos", "l", "b", "rank", "2"]), i(4));
        assert_eq!(read(&mut h, &["lpos", "l", "b", "rank", "-1"]), i(4));
        assert_eq!(read(&mut h, &["lpos", "l", "b", "rank", "-2"]), i(1));
        assert_eq!(read(&mut h, &["lpos", "l", "b", "rank", "3"]), Frame::Null);
        assert_eq!(
            read(&mut h, &["lpos", "l", "b", "count", "0"]),
            ints(&[1, 4])
        );
        assert_eq!(
            read(&mut h, &["lpos", "l", "b", "rank", "-1", "count", "0"]),
            ints(&[4, 1])
        );
        assert_eq!(read(&mut h, &["lpos", "l", "b", "count", "1"]), ints(&[1]));
        assert_eq!(
            read(&mut h, &["lpos", "l", "b", "maxlen", "3", "count", "0"]),
            ints(&[1])
        );
        assert_eq!(
            read(&mut h, &["lpos", "l", "b", "maxlen", "1"]),
            Frame::Null
        );
        assert_eq!(read(&mut h, &["lpos", "l", "z", "count", "0"]), ints(&[]));
        assert_eq!(
            read(&mut h, &["lpos", "nokey", "z", "count", "0"]),
            ints(&[])
        );
        assert_eq!(read(&mut h, &["lpos", "nokey", "z"]), Frame::Null);
        assert_eq!(
            read(&mut h, &["lpos", "l", "a", "rank", "-9223372036854775808"]),
            i(3)
        );
        assert_eq!(
            read(&mut h, &["lpos", "l", "a", "count", "-1"]),
            Frame::error("ERR COUNT can't be negative")
        );
        assert_eq!(
            read(&mut h, &["lpos", "l", "a", "maxlen", "x"]),
            Frame::error("ERR MAXLEN can't be negative")
        );
        assert_eq!(
            read(&mut h, &["lpos", "l", "a", "rank"]),
            CmdError::Syntax.to_frame()
        );
        assert!(matches!(
            read(&mut h, &["lpos", "l", "a", "rank", "0"]),
            Frame::Error(e) if e.starts_with("ERR RANK can't be zero")
        ));
    }

    #[test]
    fn lmove_and_rotation() {
        let mut h = Harness::new();
        h.run(&["rpush", "l", "a", "b", "c"]);
        assert_eq!(h.run(&["lmove", "l", "l", "right", "left"]), b("c"));
        assert_eq!(all(&mut h, "l"), bulks(&["c", "a", "b"]));
        assert_eq!(h.run(&["lmove", "l", "l", "left", "right"]), b("c"));
        assert_eq!(all(&mut h, "l"), bulks(&["a", "b", "c"]));
        assert_eq!(h.run(&["lmove", "l", "l", "left", "left"]), b("a"));
        assert_eq!(all(&mut h, "l"), bulks(&["a", "b", "c"]));
        assert_eq!(h.run(&["rpoplpush", "l", "d"]), b("c"));
        assert_eq!(h.run(&["lmove", "l", "d", "LEFT", "RIGHT"]), b("a"));
        assert_eq!(all(&mut h, "d"), bulks(&["c", "a"]));
        assert_eq!(h.run(&["lmove", "l", "d", "left", "left"]), b("b"));
        assert!(h.stored(0, "l").is_none());
        assert_eq!(h.run(&["rpoplpush", "l", "d"]), Frame::Null);
        assert_eq!(
            h.run(&["lmove", "l", "d", "up", "left"]),
            CmdError::Syntax.to_frame()
        );
        h.run(&["rpush", "one", "x"]);
        assert_eq!(h.run(&["lmove", "one", "one", "left", "right"]), b("x"));
        assert_eq!(all(&mut h, "one"), bulks(&["x"]));
    }

    #[test]
    fn lmpop_parsing_and_pops() {
        let mut h = Harness::new();
        h.run(&["rpush", "b", "1", "2", "3"]);
        let reply = |k: &str, v: &[&str]| Frame::Array(vec![b(k), bulks(v)]);
        assert_eq!(h.run(&["lmpop", "2", "a", "b", "left"]), reply("b", &["1"]));
        assert_eq!(
            h.run(&["lmpop", "2", "a", "b", "right", "count", "5"]),
            reply("b", &["3", "2"])
        );
        assert_eq!(h.run(&["lmpop", "2", "a", "b", "right"]), Frame::NullArray);
        let numkeys = Frame::error("ERR numkeys should be greater than 0");
        assert_eq!(h.run(&["lmpop", "0", "a", "left"]), numkeys);
        assert_eq!(h.run(&["lmpop", "x", "a", "left"]), numkeys);
        let syntax = CmdError::Syntax.to_frame();
        assert_eq!(h.run(&["lmpop", "2", "a", "left"]), syntax);
        assert_eq!(
            h.run(&["lmpop", "9223372036854775807", "a", "left"]),
            syntax
        );
        assert_eq!(h.run(&["lmpop", "1", "a", "left", "count"]), syntax);
        assert_eq!(
            h.run(&["lmpop", "1", "a", "left", "count", "1", "count", "1"]),
            syntax
        );
        assert_eq!(
            h.run(&["lmpop", "1", "a", "left", "count", "0"]),
            Frame::error("ERR count should be greater than 0")
        );
        let spec = lookup(b"lmpop").unwrap();
        assert_eq!(
            spec.keys_of(&argv(&["lmpop", "2", "a", "b", "left"])),
            Ok(vec![2, 3])
        );
        let spec = lookup(b"blmpop").unwrap();
        assert_eq!(
            spec.keys_of(&argv(&["blmpop", "0", "2", "a", "b", "left"])),
            Ok(vec![3, 4])
        );
    }

    #[test]
    fn blocking_attempts() {
        let mut h = Harness::new();
        assert_eq!(attempt(&mut h, &["blpop", "a", "b", "0"]), Frame::NullArray);
        assert_eq!(
            attempt(&mut h, &["brpoplpush", "a", "b", "0"]),
            Frame::NullArray
        );
        assert_eq!(
            attempt(&mut h, &["blmove", "a", "b", "left", "left", "0"]),
            Frame::NullArray
        );
        assert_eq!(
            attempt(&mut h, &["blmpop", "0", "1", "a", "left"]),
            Frame::NullArray
        );
        assert_eq!(h.state.counters.keys[0], 0);
        h.run(&["rpush", "b", "1", "2", "3", "4"]);
        assert_eq!(
            attempt(&mut h, &["blpop", "a", "b", "0"]),
            bulks(&["b", "1"])
        );
        assert_eq!(
            attempt(&mut h, &["brpop", "a", "b", "1.5"]),
            bulks(&["b", "4"])
        );
        assert_eq!(attempt(&mut h, &["brpoplpush", "b", "c", "0"]), b("3"));
        assert_eq!(
            attempt(&mut h, &["blmove", "b", "c", "left", "right", "0"]),
            b("2")
        );
        assert_eq!(all(&mut h, "c"), bulks(&["3", "2"]));
        assert_eq!(
            attempt(
                &mut h,
                &["blmpop", "0", "2", "b", "c", "right", "count", "9"]
            ),
            Frame::Array(vec![b("c"), bulks(&["2", "3"])])
        );
        assert_eq!(h.state.counters.keys[0], 0);
        h.run(&["set", "s", "x"]);
        assert_eq!(
            attempt(&mut h, &["blpop", "a", "s", "0"]),
            CmdError::WrongType.to_frame()
        );
        assert_eq!(
            attempt(&mut h, &["blpop", "a", "-1"]),
            Frame::error("ERR timeout is negative")
        );
        assert_eq!(
            attempt(&mut h, &["blmove", "a", "b", "up", "left", "x"]),
            CmdError::Syntax.to_frame()
        );
        assert_eq!(
            attempt(&mut h, &["blmpop", "x", "0", "a", "left"]),
            Frame::error("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            attempt(&mut h, &["blmpop", "x", "1", "a", "left"]),
            Frame::error("ERR timeout is not a float or out of range")
        );
        let blpop = lookup(b"blpop").unwrap();
        let Handler::Blocking(bs) = blpop.handler else {
            panic!()
        };
        assert_eq!(
            (bs.parse)(&argv(&["blpop", "a", "b", "0"])),
            Ok(BlockOn {
                keys: vec![1, 2],
                timeout: None
            })
        );
    }

    #[test]
    fn expired_list_is_gone_and_ttl_survives_pushes() {
        let mut h = Harness::new();
        h.run(&["rpush", "l", "a", "b"]);
        h.run(&["pexpire", "l", "1000"]);
        h.run(&["rpush", "l", "c"]);
        assert_ne!(h.stored(0, "l").unwrap().expire_ms, 0);
        h.now_ms += 2000;
        assert_eq!(read(&mut h, &["llen", "l"]), Frame::Integer(0));
        assert_eq!(h.run(&["rpush", "l", "z"]), Frame::Integer(1));
        assert_eq!(all(&mut h, "l"), bulks(&["z"]));
        assert_eq!(h.stored(0, "l").unwrap().expire_ms, 0);
    }
}
