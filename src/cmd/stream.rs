//! Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD XGROUP XREADGROUP XACK XPENDING
//! XCLAIM XAUTOCLAIM XINFO.
//!
//! Redis 7.0 semantics. A stream is a collection (see `cmd::coll`) whose member suffixes are
//! partitioned by a leading tag byte (layout in docs/encoding/stream.md):
//! entries, consumer groups, the groups' pending entries lists (PEL), consumers, and each
//! consumer's own PEL index. Every command touches only the members it needs; whole-group
//! removal is a range delete.
//!
//! Writes decide everything from their arguments, the stored data and `ctx.now_ms` (the
//! entry's clock): `*` IDs, delivery times and idle times all come from it.

use std::fmt;

use bytes::Bytes;

use super::args::{is, parse_i64};
use super::coll::{CollRead, CollWrite};
use super::{BlockOn, BlockingSpec, CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::resp::Frame;
use crate::storage::keys::prefix_end;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, RedisType, StorageError};

// ------------------------------------------------------------------------------------ IDs

/// A stream entry ID, `<ms>-<seq>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Id {
    pub ms: u64,
    pub seq: u64,
}

impl Id {
    pub const MIN: Id = Id { ms: 0, seq: 0 };
    pub const MAX: Id = Id {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> Id {
        Id { ms, seq }
    }

    /// The next ID, None after the last possible one.
    pub fn incr(self) -> Option<Id> {
        if self.seq < u64::MAX {
            Some(Id::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(Id::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, None before 0-0.
    pub fn decr(self) -> Option<Id> {
        if self.seq > 0 {
            Some(Id::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(Id::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// 16 bytes big-endian `ms | seq`: byte order is ID order.
    pub fn encode(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<Id> {
        if b.len() < 16 {
            return None;
        }
        Some(Id::new(be_u64(&b[..8])?, be_u64(&b[8..16])?))
    }

    fn frame(self) -> Frame {
        Frame::bulk(self.to_string())
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

fn be_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

fn invalid_id() -> CmdError {
    CmdError::raw("ERR Invalid stream ID specified as stream command argument")
}

/// Redis `string2ull`: digits (an optional leading '+', as strtoull allows), within u64.
fn parse_u64_id_part(s: &[u8]) -> Option<u64> {
    let digits = s.strip_prefix(b"+").unwrap_or(s);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// A parsed ID argument: `seq_auto` is true for the XADD form `<ms>-*`.
struct ParsedId {
    id: Id,
    seq_auto: bool,
}

/// Redis `streamGenericParseIDOrReply`: `-` and `+` (unless `strict`), `<ms>` (seq =
/// `missing_seq`), `<ms>-<seq>`, and `<ms>-*` if `allow_auto_seq`.
fn parse_id_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_auto_seq: bool,
) -> Result<ParsedId, CmdError> {
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    if arg == b"-" || arg == b"+" {
        if strict {
            return Err(invalid_id());
        }
        let id = if arg == b"-" { Id::MIN } else { Id::MAX };
        return Ok(ParsedId {
            id,
            seq_auto: false,
        });
    }
    let (ms_part, seq_part) = match arg.iter().position(|&c| c == b'-') {
        Some(p) => (&arg[..p], Some(&arg[p + 1..])),
        None => (arg, None),
    };
    let ms = parse_u64_id_part(ms_part).ok_or_else(invalid_id)?;
    let (seq, seq_auto) = match seq_part {
        Some(b"*") if allow_auto_seq => (0, true),
        Some(s) => (parse_u64_id_part(s).ok_or_else(invalid_id)?, false),
        None => (missing_seq, false),
    };
    Ok(ParsedId {
        id: Id::new(ms, seq),
        seq_auto,
    })
}

/// A strict ID (no `-` / `+`), missing seq = 0.
fn parse_strict_id(arg: &[u8]) -> Result<Id, CmdError> {
    parse_id_generic(arg, 0, true, false).map(|p| p.id)
}

/// A range bound of XRANGE / XPENDING / XAUTOCLAIM: `(id` is exclusive (and strict),
/// otherwise `-`, `+` and IDs with a missing seq of `missing_seq`.
fn parse_interval_id(arg: &[u8], missing_seq: u64, start: bool) -> Result<Id, CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id_generic(&arg[1..], missing_seq, true, false)?.id;
        let moved = if start { id.incr() } else { id.decr() };
        moved.ok_or_else(|| {
            CmdError::raw(if start {
                "ERR invalid start ID for the interval"
            } else {
                "ERR invalid end ID for the interval"
            })
        })
    } else {
        Ok(parse_id_generic(arg, missing_seq, false, false)?.id)
    }
}

// ------------------------------------------------------------------------------ encoding

pub(crate) const TAG_ENTRY: u8 = 0x00;
pub(crate) const TAG_GROUP: u8 = 0x01;
pub(crate) const TAG_PEL: u8 = 0x02;
pub(crate) const TAG_CONSUMER: u8 = 0x03;
pub(crate) const TAG_CPEL: u8 = 0x04;

/// Appends `name` in an order-preserving, self-delimiting form: 0x00 is escaped as
/// 0x00 0xff and the name ends with 0x00 0x00. Byte order of encodings is byte order of
/// names (as Redis' radix trees list groups and consumers), and no encoding is a prefix of
/// another, so a group's members never mix with those of a group whose name extends it.
pub(crate) fn push_name(out: &mut Vec<u8>, name: &[u8]) {
    for &b in name {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Decodes a name written by [`push_name`] at the start of `b`: (name, bytes consumed).
pub(crate) fn read_name(b: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let c = *b.get(i)?;
        if c == 0 {
            match *b.get(i + 1)? {
                0 => return Some((out, i + 2)),
                0xff => out.push(0),
                _ => return None,
            }
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
}

pub(crate) fn sfx_entry(id: Id) -> Vec<u8> {
    let mut s = vec![TAG_ENTRY];
    s.extend_from_slice(&id.encode());
    s
}

pub(crate) fn sfx_group(g: &[u8]) -> Vec<u8> {
    let mut s = vec![TAG_GROUP];
    push_name(&mut s, g);
    s
}

pub(crate) fn sfx_pel_prefix(g: &[u8]) -> Vec<u8> {
    let mut s = vec![TAG_PEL];
    push_name(&mut s, g);
    s
}

fn sfx_consumer_prefix(g: &[u8]) -> Vec<u8> {
    let mut s = vec![TAG_CONSUMER];
    push_name(&mut s, g);
    s
}

pub(crate) fn sfx_consumer(g: &[u8], c: &[u8]) -> Vec<u8> {
    let mut s = sfx_consumer_prefix(g);
    push_name(&mut s, c);
    s
}

pub(crate) fn sfx_cpel_prefix(g: &[u8], c: &[u8]) -> Vec<u8> {
    let mut s = vec![TAG_CPEL];
    push_name(&mut s, g);
    push_name(&mut s, c);
    s
}

pub(crate) fn with_id(mut prefix: Vec<u8>, id: Id) -> Vec<u8> {
    prefix.extend_from_slice(&id.encode());
    prefix
}

/// Suffix bounds `[prefix+from, prefix+to]` (inclusive `to`) for keys `prefix + id`.
fn id_bounds(prefix: &[u8], from: Id, to: Id) -> (Vec<u8>, Vec<u8>) {
    let lo = with_id(prefix.to_vec(), from);
    let hi = match to.incr() {
        Some(n) => with_id(prefix.to_vec(), n),
        None => end_of(prefix),
    };
    (lo, hi)
}

/// The first suffix after every suffix starting with `prefix`.
fn end_of(prefix: &[u8]) -> Vec<u8> {
    // Our prefixes start with a tag below 0xff, so an end always exists.
    prefix_end(prefix).unwrap_or_else(|| vec![0xff; prefix.len() + 1])
}

/// Stream-wide fields kept in the metadata payload. `meta.size` is `length + 1`, so that a
/// stream with no entries still exists (Redis keeps empty streams).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Info {
    pub(crate) last: Id,
    pub(crate) max_deleted: Id,
    /// Redis' `first_id` (XINFO's recorded-first-entry-id): the first entry, 0-0 if empty.
    pub(crate) first: Id,
    pub(crate) entries_added: u64,
    pub(crate) length: u64,
    pub(crate) groups: u64,
}

impl Info {
    pub(crate) fn decode(p: &[u8]) -> Info {
        let id = |at: usize| p.get(at..at + 16).and_then(Id::decode).unwrap_or_default();
        let n = |at: usize| p.get(at..at + 8).and_then(be_u64).unwrap_or(0);
        Info {
            last: id(0),
            max_deleted: id(16),
            first: id(32),
            entries_added: n(48),
            length: n(56),
            groups: n(64),
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(72);
        out.extend_from_slice(&self.last.encode());
        out.extend_from_slice(&self.max_deleted.encode());
        out.extend_from_slice(&self.first.encode());
        out.extend_from_slice(&self.entries_added.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
        out.extend_from_slice(&self.groups.to_be_bytes());
        out
    }

    /// Redis `streamRangeHasTombstones(s, start, NULL)`.
    fn has_tombstones_from(&self, start: Id) -> bool {
        if self.length == 0 || self.max_deleted == Id::MIN || self.first > self.max_deleted {
            return false;
        }
        start <= self.max_deleted
    }

    /// Redis `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter matching
    /// `id`, or -1 if it cannot be known.
    fn estimate_distance(&self, id: Id) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last {
            return added;
        }
        if id == self.last {
            return added;
        } else if id > self.last {
            return -1;
        }
        if self.max_deleted == Id::MIN || self.max_deleted < self.first {
            if id < self.first {
                return added - self.length as i64;
            } else if id == self.first {
                return added - self.length as i64 + 1;
            }
        }
        -1
    }

    /// Redis `streamReplyWithCGLag`: None for an unknown lag.
    fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != -1 && !self.has_tombstones_from(g.last) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        match self.estimate_distance(g.last) {
            -1 => None,
            read => Some(self.entries_added as i64 - read),
        }
    }
}

/// A consumer group: `last(16) | entries_read(i64, -1 = unknown) | pel(8) | consumers(8)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group {
    pub(crate) last: Id,
    pub(crate) entries_read: i64,
    pub(crate) pel: u64,
    pub(crate) consumers: u64,
}

impl Group {
    pub(crate) fn decode(b: &[u8]) -> Group {
        Group {
            last: b.get(..16).and_then(Id::decode).unwrap_or_default(),
            entries_read: b
                .get(16..24)
                .and_then(be_u64)
                .map(|v| v as i64)
                .unwrap_or(-1),
            pel: b.get(24..32).and_then(be_u64).unwrap_or(0),
            consumers: b.get(32..40).and_then(be_u64).unwrap_or(0),
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40);
        out.extend_from_slice(&self.last.encode());
        out.extend_from_slice(&self.entries_read.to_be_bytes());
        out.extend_from_slice(&self.pel.to_be_bytes());
        out.extend_from_slice(&self.consumers.to_be_bytes());
        out
    }
}

/// A pending entry: `delivery_time(8) | delivery_count(8) | consumer name`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Nack {
    pub(crate) time: u64,
    pub(crate) count: u64,
    pub(crate) consumer: Vec<u8>,
}

impl Nack {
    pub(crate) fn decode(b: &[u8]) -> Nack {
        Nack {
            time: b.get(..8).and_then(be_u64).unwrap_or(0),
            count: b.get(8..16).and_then(be_u64).unwrap_or(0),
            consumer: b.get(16..).unwrap_or_default().to_vec(),
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.consumer.len());
        out.extend_from_slice(&self.time.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.consumer);
        out
    }
}

/// A consumer: `seen_time(8) | pel count(8)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Consumer {
    pub(crate) seen: u64,
    pub(crate) pel: u64,
}

impl Consumer {
    pub(crate) fn decode(b: &[u8]) -> Consumer {
        Consumer {
            seen: b.get(..8).and_then(be_u64).unwrap_or(0),
            pel: b.get(8..16).and_then(be_u64).unwrap_or(0),
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        out.extend_from_slice(&self.seen.to_be_bytes());
        out.extend_from_slice(&self.pel.to_be_bytes());
        out
    }
}

/// Entry fields: `len(u32 BE) | bytes` for each field and value, alternating.
pub(crate) fn encode_fields(fv: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fv.iter().map(|b| b.len() + 4).sum());
    for b in fv {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    }
    out
}

fn decode_fields(mut b: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let Some(v) = b.get(4..4 + n) else { break };
        out.push(Frame::bulk_from_slice(v));
        b = &b[4 + n..];
    }
    out
}

/// `[id, [field, value, ...]]`, as XRANGE replies an entry.
fn entry_frame(id: Id, raw: &[u8]) -> Frame {
    Frame::Array(vec![id.frame(), Frame::Array(decode_fields(raw))])
}

// ---------------------------------------------------------------------------- data access

/// A stream seen by a read (through a `ReadCtx`) or by a write (through the entry's pending
/// writes).
enum View<'a, 'b> {
    R(&'a CollRead, &'a ReadCtx<'b>),
    W(&'a CollWrite, &'a WriteCtx<'b>),
}

impl View<'_, '_> {
    fn get(&self, suffix: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self {
            View::R(c, ctx) => c.get(ctx, Cf::Subkey, suffix),
            View::W(c, ctx) => c.get(ctx, Cf::Subkey, suffix),
        }
    }

    fn scan(
        &self,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        match self {
            View::R(c, ctx) => c.scan(ctx, Cf::Subkey, from, Some(to), reverse, f),
            View::W(c, ctx) => c.scan(ctx, Cf::Subkey, from, Some(to), reverse, f),
        }
    }

    /// Entries with IDs in `[start, end]`, at most `count` (0: all).
    fn entries(
        &self,
        start: Id,
        end: Id,
        reverse: bool,
        count: u64,
    ) -> Result<Vec<(Id, Vec<u8>)>, StorageError> {
        let mut out = Vec::new();
        if start > end {
            return Ok(out);
        }
        let (lo, hi) = id_bounds(&[TAG_ENTRY], start, end);
        self.scan(&lo, &hi, reverse, |k, v| {
            if let Some(id) = Id::decode(&k[1..]) {
                out.push((id, v.to_vec()));
            }
            count == 0 || (out.len() as u64) < count
        })?;
        Ok(out)
    }

    fn entry(&self, id: Id) -> Result<Option<Vec<u8>>, StorageError> {
        self.get(&sfx_entry(id))
    }

    /// The first or last entry.
    fn edge(&self, last: bool) -> Result<Option<(Id, Vec<u8>)>, StorageError> {
        Ok(self.entries(Id::MIN, Id::MAX, last, 1)?.into_iter().next())
    }

    fn group(&self, g: &[u8]) -> Result<Option<Group>, StorageError> {
        Ok(self.get(&sfx_group(g))?.map(|v| Group::decode(&v)))
    }

    fn groups(&self) -> Result<Vec<(Vec<u8>, Group)>, StorageError> {
        let mut out = Vec::new();
        self.scan(&[TAG_GROUP], &[TAG_GROUP + 1], false, |k, v| {
            if let Some((name, _)) = read_name(&k[1..]) {
                out.push((name, Group::decode(v)));
            }
            true
        })?;
        Ok(out)
    }

    fn nack(&self, g: &[u8], id: Id) -> Result<Option<Nack>, StorageError> {
        Ok(self
            .get(&with_id(sfx_pel_prefix(g), id))?
            .map(|v| Nack::decode(&v)))
    }

    /// Calls `f(id, nack)` for the group PEL in `[from, to]` until it returns false.
    fn pel_scan(
        &self,
        g: &[u8],
        from: Id,
        to: Id,
        mut f: impl FnMut(Id, Nack) -> bool,
    ) -> Result<(), StorageError> {
        if from > to {
            return Ok(());
        }
        let prefix = sfx_pel_prefix(g);
        let (lo, hi) = id_bounds(&prefix, from, to);
        let n = prefix.len();
        self.scan(&lo, &hi, false, |k, v| match Id::decode(&k[n..]) {
            Some(id) => f(id, Nack::decode(v)),
            None => true,
        })
    }

    /// The IDs of a consumer's PEL in `[from, to]`, at most `count` (0: all).
    fn cpel(
        &self,
        g: &[u8],
        c: &[u8],
        from: Id,
        to: Id,
        count: u64,
    ) -> Result<Vec<Id>, StorageError> {
        let mut out = Vec::new();
        if from > to {
            return Ok(out);
        }
        let prefix = sfx_cpel_prefix(g, c);
        let (lo, hi) = id_bounds(&prefix, from, to);
        let n = prefix.len();
        self.scan(&lo, &hi, false, |k, _| {
            if let Some(id) = Id::decode(&k[n..]) {
                out.push(id);
            }
            count == 0 || (out.len() as u64) < count
        })?;
        Ok(out)
    }

    fn consumer(&self, g: &[u8], c: &[u8]) -> Result<Option<Consumer>, StorageError> {
        Ok(self.get(&sfx_consumer(g, c))?.map(|v| Consumer::decode(&v)))
    }

    fn consumers(&self, g: &[u8]) -> Result<Vec<(Vec<u8>, Consumer)>, StorageError> {
        let prefix = sfx_consumer_prefix(g);
        let n = prefix.len();
        let mut out = Vec::new();
        self.scan(&prefix, &end_of(&prefix), false, |k, v| {
            if let Some((name, _)) = read_name(&k[n..]) {
                out.push((name, Consumer::decode(v)));
            }
            true
        })?;
        Ok(out)
    }
}

/// A stream opened by a write, with its decoded stream-wide fields.
struct SWrite {
    c: CollWrite,
    info: Info,
}

impl SWrite {
    fn open(
        ctx: &mut WriteCtx<'_>,
        db: u8,
        key: &[u8],
        create: bool,
    ) -> Result<Option<SWrite>, CmdError> {
        let pdb = ctx.pdb(db);
        Ok(
            CollWrite::open(ctx, pdb, key, RedisType::Stream, create)?.map(|c| {
                let info = Info::decode(&c.meta.payload);
                SWrite { c, info }
            }),
        )
    }

    fn view<'a, 'b>(&'a self, ctx: &'a WriteCtx<'b>) -> View<'a, 'b> {
        View::W(&self.c, ctx)
    }

    fn put(&mut self, ctx: &mut WriteCtx<'_>, suffix: &[u8], v: Vec<u8>) {
        self.c.put(ctx, Cf::Subkey, suffix, v);
    }

    fn del(&mut self, ctx: &mut WriteCtx<'_>, suffix: &[u8]) {
        self.c.delete(ctx, Cf::Subkey, suffix);
    }

    fn put_group(&mut self, ctx: &mut WriteCtx<'_>, g: &[u8], grp: &Group) {
        self.put(ctx, &sfx_group(g), grp.encode());
    }

    fn put_consumer(&mut self, ctx: &mut WriteCtx<'_>, g: &[u8], c: &[u8], cons: &Consumer) {
        self.put(ctx, &sfx_consumer(g, c), cons.encode());
    }

    /// Adds `delta` to a stored consumer's PEL count (a consumer other than the one the
    /// command works for: the previous owner of a claimed entry).
    fn adjust_consumer_pel(
        &mut self,
        ctx: &mut WriteCtx<'_>,
        g: &[u8],
        c: &[u8],
        delta: i64,
    ) -> Result<(), StorageError> {
        if let Some(mut cons) = self.view(ctx).consumer(g, c)? {
            cons.pel = cons.pel.saturating_add_signed(delta);
            self.put_consumer(ctx, g, c, &cons);
        }
        Ok(())
    }

    /// The consumer `c` of group `g`, created (and counted in `grp`) if missing, with its
    /// seen-time refreshed.
    fn touch_consumer(
        &mut self,
        ctx: &mut WriteCtx<'_>,
        g: &[u8],
        grp: &mut Group,
        c: &[u8],
    ) -> Result<Consumer, StorageError> {
        let cons = match self.view(ctx).consumer(g, c)? {
            Some(cons) => cons,
            None => {
                grp.consumers += 1;
                Consumer::default()
            }
        };
        Ok(Consumer {
            seen: ctx.now_ms,
            ..cons
        })
    }

    /// Writes the metadata back. The stream keeps existing with no entries.
    fn finish(mut self, ctx: &mut WriteCtx<'_>) {
        self.c.meta.payload = self.info.encode();
        self.c.meta.size = self.info.length + 1;
        self.c.save(ctx);
    }

    /// Deletes an entry known to exist; keeps length and max-deleted right (not `first`).
    fn delete_entry(&mut self, ctx: &mut WriteCtx<'_>, id: Id) {
        self.del(ctx, &sfx_entry(id));
        self.info.length = self.info.length.saturating_sub(1);
    }

    /// Recomputes `first` after deletions.
    fn refresh_first(&mut self, ctx: &WriteCtx<'_>) -> Result<(), StorageError> {
        self.info.first = if self.info.length == 0 {
            Id::MIN
        } else {
            self.view(ctx).edge(false)?.map(|e| e.0).unwrap_or(Id::MIN)
        };
        Ok(())
    }

    /// Removes a pending entry from the group PEL and its owner's PEL.
    fn drop_nack(
        &mut self,
        ctx: &mut WriteCtx<'_>,
        g: &[u8],
        grp: &mut Group,
        id: Id,
        nack: &Nack,
    ) -> Result<(), StorageError> {
        self.del(ctx, &with_id(sfx_pel_prefix(g), id));
        self.del(ctx, &with_id(sfx_cpel_prefix(g, &nack.consumer), id));
        self.adjust_consumer_pel(ctx, g, &nack.consumer, -1)?;
        grp.pel = grp.pel.saturating_sub(1);
        Ok(())
    }
}

/// A stream opened by a read.
fn open_read(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Option<(CollRead, Info)>, CmdError> {
    Ok(CollRead::open(ctx, key, RedisType::Stream)?.map(|c| {
        let info = Info::decode(&c.meta.payload);
        (c, info)
    }))
}

fn nogroup_key(key: &[u8], g: &[u8]) -> CmdError {
    CmdError::Raw(
        format!(
            "NOGROUP No such key '{}' or consumer group '{}'",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(g)
        )
        .into(),
    )
}

fn nogroup_for_key(g: &[u8], key: &[u8]) -> CmdError {
    CmdError::Raw(
        format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(g),
            String::from_utf8_lossy(key)
        )
        .into(),
    )
}

fn sub_syntax(cmd: &str, sub: &[u8]) -> CmdError {
    let sub = &sub[..sub.len().min(128)];
    CmdError::Raw(
        format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try {cmd} HELP.",
            String::from_utf8_lossy(sub)
        )
        .into(),
    )
}

fn parse_ll(arg: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    parse_i64(arg).map_err(|_| CmdError::raw(msg))
}

fn idle_since(now: u64, t: u64) -> i64 {
    (now as i64).saturating_sub(t as i64)
}

// ------------------------------------------------------------------------- XADD / XTRIM

#[derive(Clone, Copy, Debug, PartialEq)]
enum Strategy {
    None,
    MaxLen(u64),
    MinId(Id),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum AddId {
    Auto,
    /// `<ms>-*`.
    AutoSeq(u64),
    Exact(Id),
}

#[derive(Debug, PartialEq)]
struct AddTrimArgs {
    strategy: Strategy,
    /// `~`: trim whole (emulated) nodes only.
    approx: bool,
    /// Entries to trim at most (0: no limit). Only `~` trims are limited.
    limit: u64,
    nomkstream: bool,
    /// XADD: the ID and the index of the first field.
    id: AddId,
    field_pos: usize,
}

/// Redis `streamParseAddOrTrimArgsOrReply` (+ XADD's field count check).
fn parse_add_trim(args: &[Bytes], xadd: bool) -> Result<AddTrimArgs, CmdError> {
    let mut a = AddTrimArgs {
        strategy: Strategy::None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: AddId::Auto,
        field_pos: args.len(),
    };
    let mut approx = false;
    let mut limit_given = false;
    let mut id_found = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            id_found = true;
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if a.strategy != Strategy::None {
                return Err(CmdError::raw(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let v = &args[i + 1][..];
            if is(opt, "maxlen") {
                let n = parse_i64(v)?;
                if n < 0 {
                    return Err(CmdError::raw("ERR The MAXLEN argument must be >= 0."));
                }
                a.strategy = Strategy::MaxLen(n as u64);
            } else {
                a.strategy = Strategy::MinId(parse_strict_id(v)?);
            }
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            let n = parse_i64(&args[i + 1])?;
            if n < 0 {
                return Err(CmdError::raw("ERR The LIMIT argument must be >= 0."));
            }
            a.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            let p = parse_id_generic(opt, 0, true, true)?;
            a.id = if p.seq_auto {
                AddId::AutoSeq(p.id.ms)
            } else {
                AddId::Exact(p.id)
            };
            id_found = true;
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if a.limit > 0 && a.strategy == Strategy::None {
        return Err(CmdError::raw(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && a.strategy == Strategy::None {
        return Err(CmdError::raw(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    a.approx = approx;
    if limit_given {
        if !approx {
            return Err(CmdError::raw(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if approx {
        // Redis' default for `~`: 100 * stream-node-max-entries.
        a.limit = 10_000;
    }
    if xadd {
        let nfields = if id_found { args.len() - i - 1 } else { 0 };
        if !id_found || nfields < 2 || nfields % 2 == 1 {
            return Err(CmdError::Arity("xadd".into()));
        }
        a.field_pos = i + 1;
        if a.id == AddId::Exact(Id::MIN) {
            return Err(CmdError::raw(
                "ERR The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    Ok(a)
}

/// Redis' radix-tree nodes hold up to 100 entries (stream-node-max-entries); `~` trimming
/// only removes whole nodes.
const NODE_ENTRIES: u64 = 100;

/// How many of the oldest entries a `~` trim removes when `eligible` of them may go: Redis
/// removes whole nodes from the head and stops at the first node it cannot remove entirely
/// (or that would exceed LIMIT). There are no nodes here; they are emulated as blocks of
/// [`NODE_ENTRIES`] from the first entry with a partial last block, which is Redis' layout
/// for a stream of small entries appended by XADD. So, as in Redis, a stream that slightly
/// exceeds MAXLEN is left alone, and `MAXLEN ~ 0` empties it.
fn approx_trim_count(length: u64, eligible: u64, limit: u64) -> u64 {
    let (full, rest) = (length / NODE_ENTRIES, length % NODE_ENTRIES);
    let mut blocks = (eligible / NODE_ENTRIES).min(full);
    if limit > 0 {
        blocks = blocks.min(limit / NODE_ENTRIES);
    }
    let mut n = blocks * NODE_ENTRIES;
    if blocks == full && rest > 0 && eligible >= length && (limit == 0 || n + rest <= limit) {
        n += rest;
    }
    n
}

/// Trims by `strategy` (exactly, or by emulated nodes for `~`, see [`approx_trim_count`]);
/// LIMIT (`limit` > 0) bounds `~` trims only.
fn trim(
    s: &mut SWrite,
    ctx: &mut WriteCtx<'_>,
    strategy: Strategy,
    approx: bool,
    limit: u64,
) -> Result<u64, CmdError> {
    let length = s.info.length;
    let victims: Vec<Id> = match strategy {
        Strategy::None => return Ok(0),
        Strategy::MaxLen(max) => {
            let eligible = length.saturating_sub(max);
            let n = if approx {
                approx_trim_count(length, eligible, limit)
            } else {
                eligible
            };
            if n == 0 {
                return Ok(0);
            }
            s.view(ctx)
                .entries(Id::MIN, Id::MAX, false, n)?
                .into_iter()
                .map(|e| e.0)
                .collect()
        }
        Strategy::MinId(min) => {
            let Some(end) = min.decr() else { return Ok(0) };
            let cap = if approx { limit } else { 0 };
            let mut ids = Vec::new();
            let (lo, hi) = id_bounds(&[TAG_ENTRY], Id::MIN, end);
            s.view(ctx).scan(&lo, &hi, false, |k, _| {
                if let Some(id) = Id::decode(&k[1..]) {
                    ids.push(id);
                }
                cap == 0 || (ids.len() as u64) < cap
            })?;
            if approx {
                let n = approx_trim_count(length, ids.len() as u64, limit);
                ids.truncate(n as usize);
            }
            ids
        }
    };
    for &id in &victims {
        s.delete_entry(ctx, id);
    }
    if !victims.is_empty() {
        s.refresh_first(ctx)?;
    }
    Ok(victims.len() as u64)
}

fn validate_xadd(args: &[Bytes]) -> Result<(), CmdError> {
    parse_add_trim(args, true).map(|_| ())
}

fn apply_xadd(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let a = parse_add_trim(args, true)?;
    let Some(mut s) = SWrite::open(ctx, db, &args[1], !a.nomkstream)? else {
        return Ok(Frame::Null);
    };
    let last = s.info.last;
    if last == Id::MAX {
        return Err(CmdError::raw(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let too_small = || {
        CmdError::raw(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        )
    };
    let id = match a.id {
        AddId::Auto => {
            if ctx.now_ms > last.ms {
                Id::new(ctx.now_ms, 0)
            } else {
                last.incr().ok_or_else(too_small)?
            }
        }
        AddId::AutoSeq(ms) if ms == last.ms => {
            if last.seq == u64::MAX {
                return Err(too_small());
            }
            Id::new(ms, last.seq + 1)
        }
        AddId::AutoSeq(ms) => Id::new(ms, 0),
        AddId::Exact(id) => id,
    };
    if id <= last {
        return Err(too_small());
    }
    s.put(ctx, &sfx_entry(id), encode_fields(&args[a.field_pos..]));
    if s.info.length == 0 {
        s.info.first = id;
    }
    s.info.length += 1;
    s.info.entries_added += 1;
    s.info.last = id;
    trim(&mut s, ctx, a.strategy, a.approx, a.limit)?;
    s.finish(ctx);
    Ok(id.frame())
}

fn validate_xtrim(args: &[Bytes]) -> Result<(), CmdError> {
    parse_add_trim(args, false).map(|_| ())
}

fn apply_xtrim(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let a = parse_add_trim(args, false)?;
    let Some(mut s) = SWrite::open(ctx, db, &args[1], false)? else {
        return Ok(Frame::Integer(0));
    };
    let n = trim(&mut s, ctx, a.strategy, a.approx, a.limit)?;
    s.finish(ctx);
    Ok(Frame::Integer(n as i64))
}

fn parse_ids(args: &[Bytes]) -> Result<Vec<Id>, CmdError> {
    args.iter().map(|a| parse_strict_id(a)).collect()
}

// XDEL and XACK check the key's type before the IDs (Redis' order: a bad ID on a key of
// another type is WRONGTYPE; XDEL on a missing key is 0 whatever the IDs), so the IDs are only
// checked in the apply.
fn validate_xdel(_: &[Bytes]) -> Result<(), CmdError> {
    Ok(())
}

fn apply_xdel(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let Some(mut s) = SWrite::open(ctx, db, &args[1], false)? else {
        return Ok(Frame::Integer(0));
    };
    let ids = parse_ids(&args[2..])?;
    let mut deleted = 0;
    for id in ids {
        if s.view(ctx).entry(id)?.is_some() {
            s.delete_entry(ctx, id);
            if id > s.info.max_deleted {
                s.info.max_deleted = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        s.refresh_first(ctx)?;
    }
    s.finish(ctx);
    Ok(Frame::Integer(deleted))
}

// --------------------------------------------------------------------------------- reads

fn xlen(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(match open_read(ctx, &args[1])? {
        Some((_, info)) => info.length as i64,
        None => 0,
    }))
}

fn xrange_generic(ctx: &ReadCtx<'_>, args: &[Bytes], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let start = parse_interval_id(start_arg, 0, true)?;
    let end = parse_interval_id(end_arg, u64::MAX, false)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(&args[j], "count") && j + 1 < args.len() {
            count = parse_i64(&args[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let Some((c, _)) = open_read(ctx, &args[1])? else {
        return Ok(Frame::Array(vec![]));
    };
    if count == 0 {
        return Ok(Frame::NullArray);
    }
    let entries = View::R(&c, ctx).entries(start, end, rev, count.max(0) as u64)?;
    Ok(Frame::Array(
        entries.iter().map(|(id, v)| entry_frame(*id, v)).collect(),
    ))
}

fn xrange(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    xrange_generic(ctx, args, false)
}

fn xrevrange(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    xrange_generic(ctx, args, true)
}

// ----------------------------------------------------------------- XREAD / XREADGROUP

#[derive(Debug, PartialEq)]
struct ReadArgs {
    /// BLOCK, in ms.
    block: Option<u64>,
    /// 0: no limit.
    count: u64,
    group: Option<(Bytes, Bytes)>,
    noack: bool,
    /// Index of the first key; there are `n` keys, then `n` IDs.
    streams: usize,
    n: usize,
}

fn parse_read(args: &[Bytes], group_cmd: bool) -> Result<ReadArgs, CmdError> {
    let mut r = ReadArgs {
        block: None,
        count: 0,
        group: None,
        noack: false,
        streams: 0,
        n: 0,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = &args[i][..];
        if is(o, "block") && more > 0 {
            i += 1;
            let t = parse_ll(&args[i], "ERR timeout is not an integer or out of range")?;
            if t < 0 {
                return Err(CmdError::raw("ERR timeout is negative"));
            }
            r.block = Some(t as u64);
        } else if is(o, "count") && more > 0 {
            i += 1;
            r.count = parse_i64(&args[i])?.max(0) as u64;
        } else if is(o, "streams") && more > 0 {
            r.streams = i + 1;
            let rest = args.len() - r.streams;
            if !rest.is_multiple_of(2) {
                return Err(CmdError::raw(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            r.n = rest / 2;
            break;
        } else if is(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(CmdError::raw(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if is(o, "noack") {
            if !group_cmd {
                return Err(CmdError::raw(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if r.streams == 0 {
        return Err(CmdError::Syntax);
    }
    if group_cmd && r.group.is_none() {
        return Err(CmdError::raw("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

fn read_keys(r: &ReadArgs) -> Vec<usize> {
    (r.streams..r.streams + r.n).collect()
}

fn block_on(r: &ReadArgs) -> BlockOn {
    BlockOn {
        keys: read_keys(r),
        timeout: match r.block {
            None => Some(std::time::Duration::ZERO),
            Some(0) => None,
            Some(ms) => Some(std::time::Duration::from_millis(ms)),
        },
    }
}

fn xread_keys(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    parse_read(args, false).map(|r| read_keys(&r))
}

fn xreadgroup_keys(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    parse_read(args, true).map(|r| read_keys(&r))
}

fn xread_parse(args: &[Bytes]) -> Result<BlockOn, CmdError> {
    parse_read(args, false).map(|r| block_on(&r))
}

fn xreadgroup_parse(args: &[Bytes]) -> Result<BlockOn, CmdError> {
    parse_read(args, true).map(|r| block_on(&r))
}

/// Replaces each `$` with the stream's current last ID, so that retries of the attempt wait
/// for entries added after the call.
fn xread_prepare(ctx: &ReadCtx<'_>, args: &[Bytes]) -> Result<Vec<Bytes>, CmdError> {
    let r = parse_read(args, false)?;
    let mut out = args.to_vec();
    for i in 0..r.n {
        let id_at = r.streams + r.n + i;
        if &args[id_at][..] != b"$" {
            continue;
        }
        // A key of another type keeps its `$`: the attempt replies WRONGTYPE.
        let last = match ctx.get(&args[r.streams + i])? {
            Some(m) if m.typ == RedisType::Stream => Info::decode(&m.payload).last,
            Some(_) => continue,
            None => Id::MIN,
        };
        out[id_at] = Bytes::from(last.to_string());
    }
    Ok(out)
}

fn xread(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let r = parse_read(args, false)?;
    let mut starts = Vec::with_capacity(r.n.min(1024));
    for i in 0..r.n {
        let key = &args[r.streams + i];
        let arg = &args[r.streams + r.n + i][..];
        let s = open_read(ctx, key)?;
        let gt = if arg == b"$" {
            s.as_ref().map(|(_, info)| info.last).unwrap_or_default()
        } else if arg == b">" {
            return Err(CmdError::raw("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
        } else {
            parse_strict_id(arg)?
        };
        starts.push(gt);
    }
    let mut out = Vec::new();
    for (i, gt) in starts.into_iter().enumerate() {
        let key = &args[r.streams + i];
        let Some((c, info)) = open_read(ctx, key)? else {
            continue;
        };
        if info.length == 0 {
            continue;
        }
        let Some(start) = gt.incr() else { continue };
        let entries = View::R(&c, ctx).entries(start, Id::MAX, false, r.count)?;
        if entries.is_empty() {
            continue;
        }
        out.push((
            Frame::Bulk(key.clone()),
            Frame::Array(entries.iter().map(|(id, v)| entry_frame(*id, v)).collect()),
        ));
    }
    Ok(if out.is_empty() {
        Frame::NullArray
    } else {
        Frame::PairMap(out)
    })
}

fn validate_xreadgroup(args: &[Bytes]) -> Result<(), CmdError> {
    parse_read(args, true).map(|_| ())
}

fn apply_xreadgroup(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let r = parse_read(args, true)?;
    let Some((g, cname)) = &r.group else {
        return Err(CmdError::raw("ERR Missing GROUP option for XREADGROUP"));
    };
    // First every stream is checked, as Redis does before serving any.
    let mut starts = Vec::with_capacity(r.n.min(1024));
    for i in 0..r.n {
        let key = &args[r.streams + i];
        let arg = &args[r.streams + r.n + i][..];
        let group = match SWrite::open(ctx, db, key, false)? {
            Some(s) => s.view(ctx).group(g)?,
            None => None,
        };
        if group.is_none() {
            return Err(CmdError::Raw(
                format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(g)
                )
                .into(),
            ));
        }
        let gt = if arg == b"$" {
            return Err(CmdError::raw("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
        } else if arg == b">" {
            None
        } else {
            Some(parse_strict_id(arg)?)
        };
        starts.push(gt);
    }
    let mut out = Vec::new();
    for (i, gt) in starts.into_iter().enumerate() {
        let key = &args[r.streams + i];
        let Some(mut s) = SWrite::open(ctx, db, key, false)? else {
            continue;
        };
        let Some(mut grp) = s.view(ctx).group(g)? else {
            continue;
        };
        let frames = match gt {
            Some(from) => serve_history(&mut s, ctx, g, &mut grp, cname, from, r.count)?,
            None => match serve_new(&mut s, ctx, g, &mut grp, cname, r.count, r.noack)? {
                Some(f) => f,
                None => continue,
            },
        };
        s.put_group(ctx, g, &grp);
        s.finish(ctx);
        out.push((Frame::Bulk(key.clone()), Frame::Array(frames)));
    }
    Ok(if out.is_empty() {
        Frame::NullArray
    } else {
        Frame::PairMap(out)
    })
}

/// XREADGROUP with an ID: the consumer's own pending entries after `from` (deleted entries
/// as `[id, nil]`), each delivered once more.
fn serve_history(
    s: &mut SWrite,
    ctx: &mut WriteCtx<'_>,
    g: &[u8],
    grp: &mut Group,
    cname: &[u8],
    from: Id,
    count: u64,
) -> Result<Vec<Frame>, CmdError> {
    let cons = s.touch_consumer(ctx, g, grp, cname)?;
    s.put_consumer(ctx, g, cname, &cons);
    let ids = match from.incr() {
        Some(start) => s.view(ctx).cpel(g, cname, start, Id::MAX, count)?,
        None => Vec::new(),
    };
    let mut frames = Vec::with_capacity(ids.len());
    for id in ids {
        match s.view(ctx).entry(id)? {
            Some(raw) => {
                frames.push(entry_frame(id, &raw));
                if let Some(mut nack) = s.view(ctx).nack(g, id)? {
                    nack.time = ctx.now_ms;
                    nack.count += 1;
                    s.put(ctx, &with_id(sfx_pel_prefix(g), id), nack.encode());
                }
            }
            None => frames.push(Frame::Array(vec![id.frame(), Frame::NullArray])),
        }
    }
    Ok(frames)
}

/// XREADGROUP `>`: entries after the group's last delivered ID, moved into the PEL (unless
/// NOACK). None if there is nothing new (the consumer is then not created).
fn serve_new(
    s: &mut SWrite,
    ctx: &mut WriteCtx<'_>,
    g: &[u8],
    grp: &mut Group,
    cname: &[u8],
    count: u64,
    noack: bool,
) -> Result<Option<Vec<Frame>>, CmdError> {
    if s.info.length == 0 {
        return Ok(None);
    }
    let last_valid = s.view(ctx).edge(true)?.map(|e| e.0).unwrap_or_default();
    if last_valid <= grp.last {
        return Ok(None);
    }
    let Some(start) = grp.last.incr() else {
        return Ok(None);
    };
    let mut cons = s.touch_consumer(ctx, g, grp, cname)?;
    let entries = s.view(ctx).entries(start, Id::MAX, false, count)?;
    let mut frames = Vec::with_capacity(entries.len());
    for (id, raw) in entries {
        if id > grp.last {
            if grp.entries_read != -1 && !s.info.has_tombstones_from(id) {
                grp.entries_read += 1;
            } else if s.info.entries_added > 0 {
                grp.entries_read = s.info.estimate_distance(id);
            }
            grp.last = id;
        }
        if !noack {
            let pel_key = with_id(sfx_pel_prefix(g), id);
            match s.view(ctx).nack(g, id)? {
                Some(old) if old.consumer == cname => {}
                Some(old) => {
                    // XGROUP SETID can make an entry be delivered again: it changes owner.
                    s.del(ctx, &with_id(sfx_cpel_prefix(g, &old.consumer), id));
                    s.adjust_consumer_pel(ctx, g, &old.consumer, -1)?;
                    s.put(ctx, &with_id(sfx_cpel_prefix(g, cname), id), Vec::new());
                    cons.pel += 1;
                }
                None => {
                    grp.pel += 1;
                    s.put(ctx, &with_id(sfx_cpel_prefix(g, cname), id), Vec::new());
                    cons.pel += 1;
                }
            }
            let nack = Nack {
                time: ctx.now_ms,
                count: 1,
                consumer: cname.to_vec(),
            };
            s.put(ctx, &pel_key, nack.encode());
        }
        frames.push(entry_frame(id, &raw));
    }
    s.put_consumer(ctx, g, cname, &cons);
    Ok(Some(frames))
}

// -------------------------------------------------------------------------------- XGROUP

const XGROUP_SUBS: &[(&str, i32)] = &[
    ("create", -5),
    ("setid", -5),
    ("destroy", 4),
    ("createconsumer", 5),
    ("delconsumer", 5),
    ("help", 2),
];

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

/// Checks the subcommand and its arity, as Redis' command table does for container
/// commands: `sub` is the lowercase subcommand.
fn subcommand<'a>(
    args: &[Bytes],
    cmd: &str,
    subs: &'a [(&'a str, i32)],
) -> Result<&'a str, CmdError> {
    let raw = &args[1][..];
    let Some(&(name, arity)) = subs.iter().find(|(n, _)| is(raw, n)) else {
        return Err(CmdError::Raw(
            format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                String::from_utf8_lossy(&raw[..raw.len().min(128)]),
                cmd.to_uppercase()
            )
            .into(),
        ));
    };
    let ok = if arity >= 0 {
        args.len() == arity as usize
    } else {
        args.len() >= (-arity) as usize
    };
    if !ok {
        return Err(CmdError::Arity(format!("{cmd}|{name}")));
    }
    Ok(name)
}

/// `ENTRIESREAD` value: >= 0 or -1.
fn parse_entries_read(arg: &[u8]) -> Result<i64, CmdError> {
    let v = parse_i64(arg)?;
    if v < 0 && v != -1 {
        return Err(CmdError::raw(
            "ERR value for ENTRIESREAD must be positive or -1",
        ));
    }
    Ok(v)
}

/// XGROUP CREATE options: (mkstream, entries_read).
fn parse_create_opts(args: &[Bytes]) -> Result<(bool, i64), CmdError> {
    let mut mkstream = false;
    let mut entries_read = -1;
    let mut i = 5;
    while i < args.len() {
        if is(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if is(&args[i], "entriesread") && i + 1 < args.len() {
            entries_read = parse_entries_read(&args[i + 1])?;
            i += 2;
        } else {
            return Err(sub_syntax("XGROUP", &args[1]));
        }
    }
    Ok((mkstream, entries_read))
}

fn validate_xgroup(args: &[Bytes]) -> Result<(), CmdError> {
    if subcommand(args, "xgroup", XGROUP_SUBS)? == "create" {
        parse_create_opts(args)?;
    }
    Ok(())
}

fn apply_xgroup(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let sub = subcommand(args, "xgroup", XGROUP_SUBS)?;
    if sub == "help" {
        return Ok(super::server::help_frame(XGROUP_HELP));
    }
    let (mkstream, entries_read) = if sub == "create" {
        parse_create_opts(args)?
    } else {
        (false, -1)
    };
    let key = &args[2];
    let g = &args[3][..];
    let s = SWrite::open(ctx, db, key, false)?;
    let group = match &s {
        Some(s) => s.view(ctx).group(g)?,
        None => None,
    };
    let Some(mut s) = s else {
        if sub != "create" || !mkstream {
            return Err(CmdError::raw("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        }
        // MKSTREAM: the ID must parse before the stream is created.
        let id = if &args[4][..] == b"$" {
            Id::MIN
        } else {
            parse_strict_id(&args[4])?
        };
        if args.len() > 8 {
            return Err(sub_syntax("XGROUP", &args[1]));
        }
        let Some(mut s) = SWrite::open(ctx, db, key, true)? else {
            return Err(CmdError::raw("ERR internal: stream not created"));
        };
        create_group(&mut s, ctx, g, id, entries_read);
        s.finish(ctx);
        return Ok(Frame::ok());
    };
    if matches!(sub, "setid" | "createconsumer" | "delconsumer") && group.is_none() {
        return Err(nogroup_for_key(g, key));
    }
    match (sub, group) {
        ("create", existing) => {
            if args.len() > 8 {
                return Err(sub_syntax("XGROUP", &args[1]));
            }
            let id = if &args[4][..] == b"$" {
                s.info.last
            } else {
                parse_strict_id(&args[4])?
            };
            if existing.is_some() {
                return Err(CmdError::raw(
                    "BUSYGROUP Consumer Group name already exists",
                ));
            }
            create_group(&mut s, ctx, g, id, entries_read);
            s.finish(ctx);
            Ok(Frame::ok())
        }
        ("setid", Some(mut grp)) => {
            if args.len() != 5 && args.len() != 7 {
                return Err(sub_syntax("XGROUP", &args[1]));
            }
            let id = if &args[4][..] == b"$" {
                s.info.last
            } else {
                parse_id_generic(&args[4], 0, false, false)?.id
            };
            let mut read = -1;
            if args.len() == 7 {
                if !is(&args[5], "entriesread") {
                    return Err(sub_syntax("XGROUP", &args[1]));
                }
                read = parse_entries_read(&args[6])?;
            }
            grp.last = id;
            grp.entries_read = read;
            s.put_group(ctx, g, &grp);
            s.finish(ctx);
            Ok(Frame::ok())
        }
        ("destroy", None) => Ok(Frame::Integer(0)),
        ("destroy", Some(_)) => {
            s.del(ctx, &sfx_group(g));
            for prefix in [sfx_pel_prefix(g), sfx_consumer_prefix(g), {
                let mut p = vec![TAG_CPEL];
                push_name(&mut p, g);
                p
            }] {
                let from = s.c.entry_key(&prefix);
                let to = s.c.entry_key(&end_of(&prefix));
                ctx.overlay.delete_range(Cf::Subkey, &from, &to);
            }
            s.info.groups = s.info.groups.saturating_sub(1);
            s.c.touch();
            s.finish(ctx);
            Ok(Frame::Integer(1))
        }
        ("createconsumer", Some(mut grp)) => {
            let c = &args[4][..];
            if s.view(ctx).consumer(g, c)?.is_some() {
                return Ok(Frame::Integer(0));
            }
            grp.consumers += 1;
            let cons = Consumer {
                seen: ctx.now_ms,
                pel: 0,
            };
            s.put_consumer(ctx, g, c, &cons);
            s.put_group(ctx, g, &grp);
            s.finish(ctx);
            Ok(Frame::Integer(1))
        }
        ("delconsumer", Some(mut grp)) => {
            let c = &args[4][..];
            let Some(cons) = s.view(ctx).consumer(g, c)? else {
                return Ok(Frame::Integer(0));
            };
            let ids = s.view(ctx).cpel(g, c, Id::MIN, Id::MAX, 0)?;
            for &id in &ids {
                s.del(ctx, &with_id(sfx_pel_prefix(g), id));
                s.del(ctx, &with_id(sfx_cpel_prefix(g, c), id));
            }
            grp.pel = grp.pel.saturating_sub(ids.len() as u64);
            grp.consumers = grp.consumers.saturating_sub(1);
            s.del(ctx, &sfx_consumer(g, c));
            s.put_group(ctx, g, &grp);
            s.finish(ctx);
            Ok(Frame::Integer(cons.pel.max(ids.len() as u64) as i64))
        }
        _ => Err(sub_syntax("XGROUP", &args[1])),
    }
}

fn create_group(s: &mut SWrite, ctx: &mut WriteCtx<'_>, g: &[u8], last: Id, entries_read: i64) {
    let grp = Group {
        last,
        entries_read,
        pel: 0,
        consumers: 0,
    };
    s.put_group(ctx, g, &grp);
    s.info.groups += 1;
}

// ---------------------------------------------------------------------------------- XACK

fn validate_xack(_: &[Bytes]) -> Result<(), CmdError> {
    Ok(())
}

fn apply_xack(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let s = SWrite::open(ctx, db, &args[1], false)?;
    let ids = parse_ids(&args[3..])?;
    let g = &args[2][..];
    let Some(mut s) = s else {
        return Ok(Frame::Integer(0));
    };
    let Some(mut grp) = s.view(ctx).group(g)? else {
        return Ok(Frame::Integer(0));
    };
    let mut acked = 0;
    for id in ids {
        if let Some(nack) = s.view(ctx).nack(g, id)? {
            s.drop_nack(ctx, g, &mut grp, id, &nack)?;
            acked += 1;
        }
    }
    if acked > 0 {
        s.put_group(ctx, g, &grp);
        s.finish(ctx);
    }
    Ok(Frame::Integer(acked))
}

// ------------------------------------------------------------------------------ XPENDING

fn xpending(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let g = &args[2][..];
    let summary = args.len() == 3;
    if !summary && !(6..=9).contains(&args.len()) {
        return Err(CmdError::Syntax);
    }
    let mut range = (Id::MIN, Id::MAX, 0u64, 0i64, None::<&[u8]>);
    if !summary {
        let mut at = 3;
        if is(&args[3], "idle") {
            range.3 = parse_i64(&args[4])?;
            if args.len() < 8 {
                return Err(CmdError::Syntax);
            }
            at += 2;
        }
        range.2 = parse_i64(&args[at + 2])?.max(0) as u64;
        range.0 = parse_interval_id(&args[at], 0, true)?;
        range.1 = parse_interval_id(&args[at + 1], u64::MAX, false)?;
        if at + 3 < args.len() {
            range.4 = Some(&args[at + 3][..]);
        }
    }
    let Some((c, _info)) = open_read(ctx, key)? else {
        return Err(nogroup_key(key, g));
    };
    let v = View::R(&c, ctx);
    let Some(grp) = v.group(g)? else {
        return Err(nogroup_key(key, g));
    };
    let now = ctx.now_ms;
    if summary {
        if grp.pel == 0 {
            return Ok(Frame::Array(vec![
                Frame::Integer(0),
                Frame::Null,
                Frame::Null,
                Frame::NullArray,
            ]));
        }
        let mut first = None;
        v.pel_scan(g, Id::MIN, Id::MAX, |id, _| {
            first = Some(id);
            false
        })?;
        let last = {
            let prefix = sfx_pel_prefix(g);
            let mut last = None;
            v.scan(&prefix, &end_of(&prefix), true, |k, _| {
                last = Id::decode(&k[prefix.len()..]);
                false
            })?;
            last
        };
        let consumers: Vec<Frame> = v
            .consumers(g)?
            .into_iter()
            .filter(|(_, cons)| cons.pel > 0)
            .map(|(name, cons)| {
                Frame::Array(vec![Frame::bulk(name), Frame::bulk(cons.pel.to_string())])
            })
            .collect();
        return Ok(Frame::Array(vec![
            Frame::Integer(grp.pel as i64),
            first.map(Id::frame).unwrap_or(Frame::Null),
            last.map(Id::frame).unwrap_or(Frame::Null),
            Frame::Array(consumers),
        ]));
    }
    let (start, end, mut count, minidle, consumer) = range;
    let mut out = Vec::new();
    if count == 0 {
        return Ok(Frame::Array(out));
    }
    let mut emit = |id: Id, nack: &Nack| -> bool {
        let idle = idle_since(now, nack.time);
        if minidle != 0 && idle < minidle {
            return true;
        }
        out.push(Frame::Array(vec![
            id.frame(),
            Frame::bulk_from_slice(&nack.consumer),
            Frame::Integer(idle),
            Frame::Integer(nack.count as i64),
        ]));
        count -= 1;
        count > 0
    };
    match consumer {
        Some(cname) => {
            if v.consumer(g, cname)?.is_none() {
                return Ok(Frame::Array(vec![]));
            }
            for id in v.cpel(g, cname, start, end, 0)? {
                if let Some(nack) = v.nack(g, id)? {
                    if !emit(id, &nack) {
                        break;
                    }
                }
            }
        }
        None => v.pel_scan(g, start, end, |id, nack| emit(id, &nack))?,
    }
    Ok(Frame::Array(out))
}

// ------------------------------------------------------------------- XCLAIM / XAUTOCLAIM

/// Moves a pending entry to consumer `cname` (whose state is `cons`).
#[allow(clippy::too_many_arguments)]
fn claim_nack(
    s: &mut SWrite,
    ctx: &mut WriteCtx<'_>,
    g: &[u8],
    cname: &[u8],
    cons: &mut Consumer,
    id: Id,
    mut nack: Nack,
    had_owner: bool,
) -> Result<Nack, CmdError> {
    if !had_owner || nack.consumer != cname {
        if had_owner {
            s.del(ctx, &with_id(sfx_cpel_prefix(g, &nack.consumer), id));
            s.adjust_consumer_pel(ctx, g, &nack.consumer, -1)?;
        }
        s.put(ctx, &with_id(sfx_cpel_prefix(g, cname), id), Vec::new());
        cons.pel += 1;
        nack.consumer = cname.to_vec();
    }
    Ok(nack)
}

fn apply_xclaim(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let g = &args[2][..];
    let cname = &args[3][..];
    let Some(mut s) = SWrite::open(ctx, db, key, false)? else {
        return Err(nogroup_key(key, g));
    };
    let Some(mut grp) = s.view(ctx).group(g)? else {
        return Err(nogroup_key(key, g));
    };
    let minidle = parse_ll(&args[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict_id(&args[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now_ms as i64;
    let (mut force, mut justid) = (false, false);
    let mut delivery: i64 = -1;
    let mut retry: i64 = -1;
    let mut last_id = Id::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let o = &args[j][..];
        if is(o, "force") {
            force = true;
        } else if is(o, "justid") {
            justid = true;
        } else if is(o, "idle") && more > 0 {
            j += 1;
            delivery = now - parse_ll(&args[j], "ERR Invalid IDLE option argument for XCLAIM")?;
        } else if is(o, "time") && more > 0 {
            j += 1;
            delivery = parse_ll(&args[j], "ERR Invalid TIME option argument for XCLAIM")?;
        } else if is(o, "retrycount") && more > 0 {
            j += 1;
            retry = parse_ll(
                &args[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?;
        } else if is(o, "lastid") && more > 0 {
            j += 1;
            last_id = parse_strict_id(&args[j])?;
        } else {
            return Err(CmdError::Raw(
                format!(
                    "ERR Unrecognized XCLAIM option '{}'",
                    String::from_utf8_lossy(o)
                )
                .into(),
            ));
        }
        j += 1;
    }
    if last_id > grp.last {
        grp.last = last_id;
    }
    let delivery = if delivery < 0 || delivery > now {
        now
    } else {
        delivery
    } as u64;
    let mut cons: Option<Consumer> = None;
    let mut out = Vec::new();
    for id in ids {
        let nack = s.view(ctx).nack(g, id)?;
        let entry = s.view(ctx).entry(id)?;
        let Some(raw) = entry else {
            if let Some(nack) = nack {
                s.drop_nack(ctx, g, &mut grp, id, &nack)?;
            }
            continue;
        };
        let (nack, had_owner) = match nack {
            Some(n) => (n, true),
            None if force => {
                grp.pel += 1;
                (
                    Nack {
                        time: ctx.now_ms,
                        count: 1,
                        consumer: Vec::new(),
                    },
                    false,
                )
            }
            None => continue,
        };
        if had_owner && minidle > 0 && idle_since(ctx.now_ms, nack.time) < minidle {
            continue;
        }
        let mut c = match cons.take() {
            Some(c) => c,
            None => s.touch_consumer(ctx, g, &mut grp, cname)?,
        };
        let mut nack = claim_nack(&mut s, ctx, g, cname, &mut c, id, nack, had_owner)?;
        cons = Some(c);
        nack.time = delivery;
        if retry >= 0 {
            nack.count = retry as u64;
        } else if !justid {
            nack.count += 1;
        }
        s.put(ctx, &with_id(sfx_pel_prefix(g), id), nack.encode());
        out.push(if justid {
            id.frame()
        } else {
            entry_frame(id, &raw)
        });
    }
    if let Some(c) = &cons {
        s.put_consumer(ctx, g, cname, c);
    }
    s.put_group(ctx, g, &grp);
    s.finish(ctx);
    Ok(Frame::Array(out))
}

/// XAUTOCLAIM options and arguments checked before the key is looked up.
fn parse_xautoclaim(args: &[Bytes]) -> Result<(i64, Id, u64, bool), CmdError> {
    let minidle = parse_ll(
        &args[4],
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    )?
    .max(0);
    let start = parse_interval_id(&args[5], 0, true)?;
    let mut count = 100u64;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            match parse_i64(&args[j + 1]) {
                Ok(n) if (1..=max).contains(&n) => count = n as u64,
                _ => return Err(CmdError::raw("ERR COUNT must be > 0")),
            }
            j += 1;
        } else if is(&args[j], "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((minidle, start, count, justid))
}

fn validate_xautoclaim(args: &[Bytes]) -> Result<(), CmdError> {
    parse_xautoclaim(args).map(|_| ())
}

fn apply_xautoclaim(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let (minidle, start, mut count, justid) = parse_xautoclaim(args)?;
    let key = &args[1];
    let g = &args[2][..];
    let cname = &args[3][..];
    let Some(mut s) = SWrite::open(ctx, db, key, false)? else {
        return Err(nogroup_key(key, g));
    };
    let Some(mut grp) = s.view(ctx).group(g)? else {
        return Err(nogroup_key(key, g));
    };
    let mut attempts = count.saturating_mul(10);
    // Walk the PEL in pages, so memory stays bounded by the page whatever COUNT says.
    let mut cursor = Some(start);
    let mut next = Id::MIN;
    let mut out = Vec::new();
    let mut deleted = Vec::new();
    let mut cons: Option<Consumer> = None;
    'walk: while let Some(from) = cursor {
        let mut page = Vec::new();
        s.view(ctx).pel_scan(g, from, Id::MAX, |id, nack| {
            page.push((id, nack));
            page.len() < 256
        })?;
        cursor = page.last().and_then(|(id, _)| id.incr());
        if page.len() < 256 {
            cursor = None;
        }
        for (id, nack) in page {
            if attempts == 0 || count == 0 {
                next = id;
                break 'walk;
            }
            attempts -= 1;
            let Some(raw) = s.view(ctx).entry(id)? else {
                s.drop_nack(ctx, g, &mut grp, id, &nack)?;
                deleted.push(id.frame());
                count -= 1;
                continue;
            };
            if minidle > 0 && idle_since(ctx.now_ms, nack.time) < minidle {
                continue;
            }
            let mut c = match cons.take() {
                Some(c) => c,
                None => s.touch_consumer(ctx, g, &mut grp, cname)?,
            };
            let mut nack = claim_nack(&mut s, ctx, g, cname, &mut c, id, nack, true)?;
            cons = Some(c);
            nack.time = ctx.now_ms;
            if !justid {
                nack.count += 1;
            }
            s.put(ctx, &with_id(sfx_pel_prefix(g), id), nack.encode());
            out.push(if justid {
                id.frame()
            } else {
                entry_frame(id, &raw)
            });
            count -= 1;
        }
    }
    if let Some(c) = &cons {
        s.put_consumer(ctx, g, cname, c);
    }
    s.put_group(ctx, g, &grp);
    s.finish(ctx);
    Ok(Frame::Array(vec![
        next.frame(),
        Frame::Array(out),
        Frame::Array(deleted),
    ]))
}

// --------------------------------------------------------------------------------- XINFO

const XINFO_SUBS: &[(&str, i32)] = &[("stream", -3), ("groups", 3), ("consumers", 4), ("help", 2)];

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

fn xinfo(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let sub = subcommand(args, "xinfo", XINFO_SUBS)?;
    if sub == "help" {
        return Ok(super::server::help_frame(XINFO_HELP));
    }
    let key = &args[2];
    let Some((c, info)) = open_read(ctx, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let v = View::R(&c, ctx);
    let now = ctx.now_ms;
    let b = Frame::bulk_from_str;
    match sub {
        "consumers" => {
            let g = &args[3][..];
            if v.group(g)?.is_none() {
                return Err(nogroup_for_key(g, key));
            }
            let list = v
                .consumers(g)?
                .into_iter()
                .map(|(name, cons)| {
                    Frame::Map(vec![
                        (b("name"), Frame::bulk(name)),
                        (b("pending"), Frame::Integer(cons.pel as i64)),
                        (b("idle"), Frame::Integer(idle_since(now, cons.seen))),
                    ])
                })
                .collect();
            Ok(Frame::Array(list))
        }
        "groups" => {
            let list = v
                .groups()?
                .into_iter()
                .map(|(name, grp)| {
                    Frame::Map(vec![
                        (b("name"), Frame::bulk(name)),
                        (b("consumers"), Frame::Integer(grp.consumers as i64)),
                        (b("pending"), Frame::Integer(grp.pel as i64)),
                        (b("last-delivered-id"), grp.last.frame()),
                        (b("entries-read"), entries_read_frame(&grp)),
                        (b("lag"), lag_frame(&info, &grp)),
                    ])
                })
                .collect();
            Ok(Frame::Array(list))
        }
        _ => xinfo_stream(&v, &info, args),
    }
}

fn entries_read_frame(g: &Group) -> Frame {
    if g.entries_read == -1 {
        Frame::Null
    } else {
        Frame::Integer(g.entries_read)
    }
}

fn lag_frame(info: &Info, g: &Group) -> Frame {
    info.lag(g).map(Frame::Integer).unwrap_or(Frame::Null)
}

fn xinfo_stream(v: &View<'_, '_>, info: &Info, args: &[Bytes]) -> CmdResult {
    let b = Frame::bulk_from_str;
    let mut full = None;
    if args.len() > 3 {
        if !is(&args[3], "full") {
            return Err(sub_syntax("XINFO", &args[1]));
        }
        let mut count = 10u64;
        if args.len() > 4 {
            if args.len() != 6 || !is(&args[4], "count") {
                return Err(sub_syntax("XINFO", &args[1]));
            }
            let n = parse_i64(&args[5])?;
            count = if n < 0 { 10 } else { n as u64 };
        }
        full = Some(count);
    }
    // There is no radix tree: these two mimic one with 100 entries per node.
    let tree_keys = info.length.div_ceil(100);
    let mut m = vec![
        (b("length"), Frame::Integer(info.length as i64)),
        (b("radix-tree-keys"), Frame::Integer(tree_keys as i64)),
        (b("radix-tree-nodes"), Frame::Integer(tree_keys as i64 + 1)),
        (b("last-generated-id"), info.last.frame()),
        (b("max-deleted-entry-id"), info.max_deleted.frame()),
        (
            b("entries-added"),
            Frame::Integer(info.entries_added as i64),
        ),
        (b("recorded-first-entry-id"), info.first.frame()),
    ];
    let Some(count) = full else {
        let edge = |last: bool| -> Result<Frame, CmdError> {
            Ok(match v.edge(last)? {
                Some((id, raw)) => entry_frame(id, &raw),
                None => Frame::Null,
            })
        };
        m.push((b("groups"), Frame::Integer(info.groups as i64)));
        m.push((b("first-entry"), edge(false)?));
        m.push((b("last-entry"), edge(true)?));
        return Ok(Frame::Map(m));
    };
    let entries = v.entries(Id::MIN, Id::MAX, false, count)?;
    m.push((
        b("entries"),
        Frame::Array(entries.iter().map(|(id, r)| entry_frame(*id, r)).collect()),
    ));
    let mut groups = Vec::new();
    for (name, grp) in v.groups()? {
        let mut pel = Vec::new();
        v.pel_scan(&name, Id::MIN, Id::MAX, |id, nack| {
            pel.push(Frame::Array(vec![
                id.frame(),
                Frame::bulk(nack.consumer),
                Frame::Integer(nack.time as i64),
                Frame::Integer(nack.count as i64),
            ]));
            count == 0 || (pel.len() as u64) < count
        })?;
        let mut consumers = Vec::new();
        for (cname, cons) in v.consumers(&name)? {
            let mut cpel = Vec::new();
            for id in v.cpel(&name, &cname, Id::MIN, Id::MAX, count)? {
                if let Some(nack) = v.nack(&name, id)? {
                    cpel.push(Frame::Array(vec![
                        id.frame(),
                        Frame::Integer(nack.time as i64),
                        Frame::Integer(nack.count as i64),
                    ]));
                }
            }
            consumers.push(Frame::Map(vec![
                (b("name"), Frame::bulk(cname)),
                (b("seen-time"), Frame::Integer(cons.seen as i64)),
                (b("pel-count"), Frame::Integer(cons.pel as i64)),
                (b("pending"), Frame::Array(cpel)),
            ]));
        }
        groups.push(Frame::Map(vec![
            (b("name"), Frame::bulk(name)),
            (b("last-delivered-id"), grp.last.frame()),
            (b("entries-read"), entries_read_frame(&grp)),
            (b("lag"), lag_frame(info, &grp)),
            (b("pel-count"), Frame::Integer(grp.pel as i64)),
            (b("pending"), Frame::Array(pel)),
            (b("consumers"), Frame::Array(consumers)),
        ]));
    }
    m.push((b("groups"), Frame::Array(groups)));
    Ok(Frame::Map(m))
}

// --------------------------------------------------------------------------------- table

use super::atomic_write as w;

static XREAD_SPEC: BlockingSpec = BlockingSpec {
    parse: xread_parse,
    prepare: Some(xread_prepare),
    attempt: Handler::Read(xread),
};

static XREADGROUP_SPEC: BlockingSpec = BlockingSpec {
    parse: xreadgroup_parse,
    prepare: None,
    attempt: super::atomic_write(validate_xreadgroup, apply_xreadgroup),
};

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "xadd",
        arity: -5,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "stream", "fast"],
        group: "stream",
        summary: "Appends a new message to a stream. Creates the key if it doesn't exist.",
        since: "5.0.0",
        handler: w(validate_xadd, apply_xadd),
    },
    CommandSpec {
        name: "xlen",
        arity: 2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "stream", "fast"],
        group: "stream",
        summary: "Return the number of messages in a stream.",
        since: "5.0.0",
        handler: Handler::Read(xlen),
    },
    CommandSpec {
        name: "xrange",
        arity: -4,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "stream", "slow"],
        group: "stream",
        summary: "Returns the messages from a stream within a range of IDs.",
        since: "5.0.0",
        handler: Handler::Read(xrange),
    },
    CommandSpec {
        name: "xrevrange",
        arity: -4,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "stream", "slow"],
        group: "stream",
        summary: "Returns the messages from a stream within a range of IDs in reverse order.",
        since: "5.0.0",
        handler: Handler::Read(xrevrange),
    },
    CommandSpec {
        name: "xdel",
        arity: -3,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "stream", "fast"],
        group: "stream",
        summary: "Returns the number of messages after removing them from a stream.",
        since: "5.0.0",
        handler: w(validate_xdel, apply_xdel),
    },
    CommandSpec {
        name: "xtrim",
        arity: -4,
        flags: &["write"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "stream", "slow"],
        group: "stream",
        summary: "Deletes messages from the beginning of a stream.",
        since: "5.0.0",
        handler: w(validate_xtrim, apply_xtrim),
    },
    CommandSpec {
        name: "xread",
        arity: -4,
        flags: &["readonly", "blocking", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(xread_keys),
        acl: &["read", "stream", "slow", "blocking"],
        group: "stream",
        summary: "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.",
        since: "5.0.0",
        handler: Handler::Blocking(&XREAD_SPEC),
    },
    CommandSpec {
        name: "xreadgroup",
        arity: -7,
        flags: &["write", "blocking", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(xreadgroup_keys),
        acl: &["write", "stream", "slow", "blocking"],
        group: "stream",
        summary: "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
        since: "5.0.0",
        handler: Handler::Blocking(&XREADGROUP_SPEC),
    },
    CommandSpec {
        name: "xgroup",
        arity: -2,
        flags: &["write"],
        first_key: 2,
        last_key: 2,
        step: 1,
        key_finder: None,
        acl: &["write", "stream", "slow"],
        group: "stream",
        summary: "A container for consumer groups commands.",
        since: "5.0.0",
        handler: w(validate_xgroup, apply_xgroup),
    },
    CommandSpec {
        name: "xack",
        arity: -4,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "stream", "fast"],
        group: "stream",
        summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
        since: "5.0.0",
        handler: w(validate_xack, apply_xack),
    },
    CommandSpec {
        name: "xpending",
        arity: -3,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "stream", "slow"],
        group: "stream",
        summary: "Returns the information and entries from a stream consumer group's pending entries list.",
        since: "5.0.0",
        handler: Handler::Read(xpending),
    },
    CommandSpec {
        name: "xclaim",
        arity: -6,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "stream", "fast"],
        group: "stream",
        summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
        since: "5.0.0",
        handler: w(super::no_validation, apply_xclaim),
    },
    CommandSpec {
        name: "xautoclaim",
        arity: -6,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "stream", "fast"],
        group: "stream",
        summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
        since: "6.2.0",
        handler: w(validate_xautoclaim, apply_xautoclaim),
    },
    CommandSpec {
        name: "xinfo",
        arity: -2,
        flags: &["readonly"],
        first_key: 2,
        last_key: 2,
        step: 1,
        key_finder: None,
        acl: &["read", "stream", "slow"],
        group: "stream",
        summary: "A container for stream introspection commands.",
        since: "5.0.0",
        handler: Handler::Read(xinfo),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::keyspace::KeyspaceState;
    use crate::storage::Storage;

    fn argv(s: &str) -> Vec<Bytes> {
        s.split_whitespace()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    fn ctx(s: &Storage, now: u64) -> WriteCtx<'_> {
        WriteCtx::new(s, KeyspaceState::default(), now, 1, vec![(0, 16383)])
    }

    fn write(c: &mut WriteCtx<'_>, cmd: &str) -> Frame {
        let a = argv(cmd);
        let spec = super::super::lookup(&a[0]).unwrap();
        let w = match spec.handler {
            Handler::Write(w) => w,
            Handler::Blocking(BlockingSpec {
                attempt: Handler::Write(w),
                ..
            }) => *w,
            _ => panic!("{cmd}: not a write"),
        };
        (w.apply)(c, 0, &a).unwrap_or_else(|e| e.to_frame())
    }

    fn ids_of(f: &Frame) -> Vec<String> {
        let Frame::Array(items) = f else {
            panic!("{f:?}")
        };
        items
            .iter()
            .map(|e| match e {
                Frame::Array(p) => match &p[0] {
                    Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                    o => panic!("{o:?}"),
                },
                o => panic!("{o:?}"),
            })
            .collect()
    }

    #[test]
    fn id_parsing_like_redis() {
        let p =
            |s: &str| parse_id_generic(s.as_bytes(), 7, false, true).map(|p| (p.id, p.seq_auto));
        assert_eq!(p("1-2"), Ok((Id::new(1, 2), false)));
        assert_eq!(p("1"), Ok((Id::new(1, 7), false)));
        assert_eq!(p("+3-04"), Ok((Id::new(3, 4), false)));
        assert_eq!(p("5-*"), Ok((Id::new(5, 0), true)));
        assert_eq!(p("-"), Ok((Id::MIN, false)));
        assert_eq!(p("+"), Ok((Id::MAX, false)));
        for bad in [
            "",
            "x",
            "1-",
            "-1",
            "1--2",
            "1-2-3",
            "18446744073709551616",
            "*-1",
            "1-x",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
        assert!(parse_strict_id(b"-").is_err());
        assert!(parse_strict_id(b"5-*").is_err());
        assert_eq!(parse_interval_id(b"(1-0", 0, true), Ok(Id::new(1, 1)));
        assert_eq!(
            parse_interval_id(b"(1-0", 0, false),
            Ok(Id::new(0, u64::MAX))
        );
        assert!(parse_interval_id(b"(0-0", 0, false).is_err());
        assert!(parse_interval_id(b"(-", 0, true).is_err());
        assert_eq!(Id::MAX.incr(), None);
        assert_eq!(Id::new(1, u64::MAX).incr(), Some(Id::new(2, 0)));
    }

    #[test]
    fn names_keep_order_and_never_prefix_each_other() {
        let names: [&[u8]; 6] = [b"", b"\x00", b"\x00\x00", b"a", b"a\x00", b"ab"];
        let enc: Vec<Vec<u8>> = names
            .iter()
            .map(|n| {
                let mut v = Vec::new();
                push_name(&mut v, n);
                v
            })
            .collect();
        for i in 0..names.len() {
            assert_eq!(read_name(&enc[i]), Some((names[i].to_vec(), enc[i].len())));
            for j in 0..names.len() {
                assert_eq!(names[i].cmp(names[j]), enc[i].cmp(&enc[j]), "{i} {j}");
                if i != j {
                    assert!(!enc[j].starts_with(&enc[i]), "{i} prefixes {j}");
                }
            }
        }
    }

    #[test]
    fn approximate_trims_remove_whole_emulated_nodes() {
        // 250 entries: nodes of 100, 100, 50.
        assert_eq!(approx_trim_count(250, 249, 0), 200);
        assert_eq!(approx_trim_count(250, 250, 0), 250);
        assert_eq!(approx_trim_count(250, 99, 0), 0);
        assert_eq!(approx_trim_count(250, 250, 150), 100);
        assert_eq!(approx_trim_count(250, 250, 99), 0);
        assert_eq!(approx_trim_count(3, 3, 0), 3);
        assert_eq!(approx_trim_count(3, 2, 0), 0);
    }

    #[test]
    fn records_round_trip() {
        let info = Info {
            last: Id::new(5, 1),
            max_deleted: Id::new(2, 0),
            first: Id::new(1, 0),
            entries_added: 9,
            length: 3,
            groups: 2,
        };
        assert_eq!(Info::decode(&info.encode()), info);
        let g = Group {
            last: Id::new(1, 2),
            entries_read: -1,
            pel: 3,
            consumers: 4,
        };
        assert_eq!(Group::decode(&g.encode()), g);
        let n = Nack {
            time: 10,
            count: 2,
            consumer: b"c\x00".to_vec(),
        };
        assert_eq!(Nack::decode(&n.encode()), n);
        let fv = argv("f v f2 v2");
        assert_eq!(
            decode_fields(&encode_fields(&fv)),
            fv.iter()
                .map(|b| Frame::Bulk(b.clone()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn auto_ids_use_the_entry_clock_and_stay_monotonic() {
        let (_dir, s) = Storage::open_temp();
        let mut c = ctx(&s, 1000);
        assert_eq!(write(&mut c, "xadd s * a 1"), Frame::bulk("1000-0"));
        assert_eq!(write(&mut c, "xadd s * a 1"), Frame::bulk("1000-1"));
        assert_eq!(write(&mut c, "xadd s 2000-0 a 1"), Frame::bulk("2000-0"));
        // The clock is behind the top item: the sequence grows.
        assert_eq!(write(&mut c, "xadd s * a 1"), Frame::bulk("2000-1"));
    }

    #[test]
    fn xread_prepare_pins_dollar_and_attempt_waits_for_newer_entries() {
        let (_dir, s) = Storage::open_temp();
        let mut c = ctx(&s, 1000);
        write(&mut c, "xadd s 1-0 a 1");
        let a = argv("xread block 0 streams s nokey $ $");
        assert_eq!(
            xread_parse(&a),
            Ok(BlockOn {
                keys: vec![4, 5],
                timeout: None
            })
        );
        assert_eq!(
            xread_parse(&argv("xread streams s 0")).unwrap().timeout,
            Some(std::time::Duration::ZERO)
        );
        let prepared = {
            let r = ReadCtx::in_apply(&c, 0);
            xread_prepare(&r, &a).unwrap()
        };
        assert_eq!(prepared, argv("xread block 0 streams s nokey 1-0 0-0"));
        {
            let r = ReadCtx::in_apply(&c, 0);
            // Nothing newer yet: the attempt would block.
            assert_eq!(xread(&r, &prepared).unwrap(), Frame::NullArray);
        }
        write(&mut c, "xadd nokey 5-0 b 2");
        let r = ReadCtx::in_apply(&c, 0);
        let Frame::PairMap(got) = xread(&r, &prepared).unwrap() else {
            panic!()
        };
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, Frame::bulk("nokey"));
        assert_eq!(ids_of(&got[0].1), vec!["5-0"]);
    }

    #[test]
    fn xreadgroup_attempt_is_null_until_new_entries() {
        let (_dir, s) = Storage::open_temp();
        let mut c = ctx(&s, 1000);
        assert_eq!(write(&mut c, "xgroup create s g $ mkstream"), Frame::ok());
        let cmd = "xreadgroup group g alice block 0 streams s >";
        assert_eq!(
            xreadgroup_parse(&argv(cmd)),
            Ok(BlockOn {
                keys: vec![7],
                timeout: None
            })
        );
        assert_eq!(write(&mut c, cmd), Frame::NullArray);
        // No consumer was created by the empty attempt.
        {
            let r = ReadCtx::in_apply(&c, 0);
            assert_eq!(
                xinfo(&r, &argv("xinfo consumers s g")).unwrap(),
                Frame::Array(vec![])
            );
        }
        write(&mut c, "xadd s 3-0 a 1");
        let Frame::PairMap(got) = write(&mut c, cmd) else {
            panic!()
        };
        assert_eq!(ids_of(&got[0].1), vec!["3-0"]);
        assert_eq!(write(&mut c, cmd), Frame::NullArray);
    }

    #[test]
    fn lag_and_entries_read_follow_redis() {
        let (_dir, s) = Storage::open_temp();
        let mut c = ctx(&s, 1000);
        for i in 1..=5 {
            write(&mut c, &format!("xadd s {i}-0 f v"));
        }
        write(&mut c, "xgroup create s g 0");
        write(&mut c, "xreadgroup group g c count 2 streams s >");
        let grp = |c: &WriteCtx<'_>| {
            let r = ReadCtx::in_apply(c, 0);
            let (coll, info) = open_read(&r, b"s").unwrap().unwrap();
            let g = View::R(&coll, &r).group(b"g").unwrap().unwrap();
            (g.entries_read, info.lag(&g))
        };
        assert_eq!(grp(&c), (2, Some(3)));
        // A tombstone after the group's position makes the lag unknown.
        write(&mut c, "xdel s 4-0");
        assert_eq!(grp(&c), (2, None));
        write(&mut c, "xreadgroup group g c streams s >");
        assert_eq!(grp(&c), (5, Some(0)));
    }
}
