//! Sorted-set commands: ZADD ZINCRBY ZREM ZCARD ZCOUNT ZLEXCOUNT ZSCORE ZMSCORE ZRANK ZREVRANK
//! ZRANGE ZRANGESTORE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE
//! ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX BZPOPMIN BZPOPMAX ZMPOP BZMPOP
//! ZRANDMEMBER ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN.
//!
//! Layout (docs/encoding/zset.md): every member has two entries under the collection prefix,
//! `Cf::Subkey` `member -> score(8)` for point lookups and `Cf::ZScore` `score(8) member -> ""`
//! for ordered walks. The 8-byte score is order-preserving, so the score index sorts by score
//! then member bytes: exactly Redis' order. Ranks walk the score index (O(rank)).
//!
//! Applies that need a range or several keys read them first through a [`ReadCtx`] inside the
//! state machine (the same code the read commands use), then write.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;

use super::args::{is, parse_f64_opt, parse_i64, parse_i64_opt};
use super::coll::{CollRead, CollWrite};
use super::glob::glob_match;
use super::{BlockOn, BlockingSpec, CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::resp::frame::Protocol;
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, RedisType};

// ------------------------------------------------------------------------------ encoding

/// The order-preserving 8-byte form of a score: big-endian IEEE bits with the sign bit flipped
/// for positives and every bit flipped for negatives, so byte order is numeric order
/// (-inf < negatives < 0 < positives < +inf). -0.0 is stored as 0.0: Redis compares them equal.
pub fn encode_score(s: f64) -> [u8; 8] {
    let s = if s == 0.0 { 0.0 } else { s };
    let bits = s.to_bits();
    let k = if bits >> 63 == 0 {
        bits ^ (1 << 63)
    } else {
        !bits
    };
    k.to_be_bytes()
}

/// Inverse of [`encode_score`] on the first 8 bytes of `b`.
pub fn decode_score(b: &[u8]) -> Option<f64> {
    let a: [u8; 8] = b.get(..8)?.try_into().ok()?;
    let k = u64::from_be_bytes(a);
    let bits = if k >> 63 == 1 { k ^ (1 << 63) } else { !k };
    Some(f64::from_bits(bits))
}

/// The score-index suffix of a member: `score(8) | member`.
fn index_suffix(score: f64, member: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + member.len());
    v.extend_from_slice(&encode_score(score));
    v.extend_from_slice(member);
    v
}

fn corrupt() -> CmdError {
    CmdError::Storage("corrupted sorted-set entry".into())
}

/// A member and its score.
type Item = (Vec<u8>, f64);

/// Redis' order of members: by score, then by member bytes.
fn item_order(a: &Item, b: &Item) -> Ordering {
    a.1.partial_cmp(&b.1)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.0.cmp(&b.0))
}

/// The text Frame::Double gives a score (for ZSCAN, which replies scores as bulk strings in
/// both protocols).
fn score_text(s: f64) -> Bytes {
    let raw = Frame::Double(s).to_bytes(Protocol::Resp2);
    // `$<len>\r\n<text>\r\n`
    match raw.iter().position(|&b| b == b'\n') {
        Some(nl) if raw.len() >= nl + 3 => raw.slice(nl + 1..raw.len() - 2),
        _ => Bytes::from_static(b"0"),
    }
}

fn pairs_frame(items: Vec<Item>) -> Frame {
    Frame::Pairs(
        items
            .into_iter()
            .map(|(m, s)| (Frame::Bulk(Bytes::from(m)), Frame::Double(s)))
            .collect(),
    )
}

fn members_frame(items: Vec<Item>, withscores: bool) -> Frame {
    if withscores {
        pairs_frame(items)
    } else {
        Frame::Array(
            items
                .into_iter()
                .map(|(m, _)| Frame::Bulk(Bytes::from(m)))
                .collect(),
        )
    }
}

// -------------------------------------------------------------------------------- floats

/// A C99 hexadecimal float (`0x1.8p3`), which Redis accepts through `strtod`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let rest = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))?;
    let (mant, exp) = match rest.find(['p', 'P']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    if let Some(e) = exp {
        v *= 2f64.powi(e.parse::<i32>().ok()?);
    }
    (!v.is_nan()).then_some(if neg { -v } else { v })
}

/// A float as `strtod` reads it where Redis only checks for trailing bytes and NaN (range
/// bounds): decimal, `inf`, or hexadecimal.
fn parse_strtod(a: &[u8]) -> Option<f64> {
    parse_f64_opt(a).or_else(|| parse_hex_float(std::str::from_utf8(a).ok()?))
}

/// A score, increment or weight as Redis' `getDoubleFromObject` reads it: like
/// [`parse_strtod`], but a decimal that overflows to infinity or underflows to zero is refused
/// (`strtod` sets ERANGE).
fn parse_score(a: &[u8]) -> Option<f64> {
    let v = parse_strtod(a)?;
    let text = std::str::from_utf8(a).ok()?.to_ascii_lowercase();
    let hex = text.contains('x');
    if v.is_infinite() && !hex && !text.contains("inf") {
        return None;
    }
    if v == 0.0 && !hex {
        let mantissa = text.split('e').next().unwrap_or("");
        if mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            return None;
        }
    }
    Some(v)
}

// -------------------------------------------------------------------------------- ranges

#[derive(Clone, Copy, Debug, PartialEq)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

/// A range bound as Redis' `zslParseRange` reads it: `strtod` with only trailing bytes and NaN
/// refused, so an empty string (or a bare `(`) is 0.
fn parse_score_bound(a: &[u8]) -> Option<(f64, bool)> {
    let (text, exclusive) = match a.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (a, false),
    };
    if text.is_empty() {
        return Some((0.0, exclusive));
    }
    Some((parse_strtod(text)?, exclusive))
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let err = || CmdError::raw("ERR min or max is not a float");
        let (min, minex) = parse_score_bound(min).ok_or_else(err)?;
        let (max, maxex) = parse_score_bound(max).ok_or_else(err)?;
        Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        })
    }

    fn gte_min(&self, s: f64) -> bool {
        if self.minex {
            s > self.min
        } else {
            s >= self.min
        }
    }

    fn lte_max(&self, s: f64) -> bool {
        if self.maxex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    fn parse(a: &[u8]) -> Option<LexBound> {
        match a.first() {
            Some(b'+') if a.len() == 1 => Some(LexBound::PosInf),
            Some(b'-') if a.len() == 1 => Some(LexBound::NegInf),
            Some(b'[') => Some(LexBound::Incl(a[1..].to_vec())),
            Some(b'(') => Some(LexBound::Excl(a[1..].to_vec())),
            _ => None,
        }
    }

    /// Redis marks `-` and `+` exclusive too.
    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }
}

/// `-` < every string < `+`.
fn lex_cmp(a: &LexBound, b: &LexBound) -> Ordering {
    use LexBound::*;
    match (a, b) {
        (NegInf, NegInf) | (PosInf, PosInf) => Ordering::Equal,
        (NegInf, _) | (_, PosInf) => Ordering::Less,
        (PosInf, _) | (_, NegInf) => Ordering::Greater,
        (Incl(x) | Excl(x), Incl(y) | Excl(y)) => x.cmp(y),
    }
}

#[derive(Clone, Debug, PartialEq)]
struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl LexRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
        let err = || CmdError::raw("ERR min or max not valid string range item");
        Ok(LexRange {
            min: LexBound::parse(min).ok_or_else(err)?,
            max: LexBound::parse(max).ok_or_else(err)?,
        })
    }

    fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(x) => m >= &x[..],
            LexBound::Excl(x) => m > &x[..],
        }
    }

    fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(x) => m <= &x[..],
            LexBound::Excl(x) => m < &x[..],
        }
    }

    fn is_empty(&self) -> bool {
        match lex_cmp(&self.min, &self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.exclusive() || self.max.exclusive(),
            Ordering::Less => false,
        }
    }
}

/// What a range command selects.
#[derive(Clone, Debug, PartialEq)]
enum Query {
    /// Ranks `start..=stop`, negative from the end.
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// A parsed Z*RANGE* call.
#[derive(Clone, Debug, PartialEq)]
struct RangeArgs {
    query: Query,
    rev: bool,
    /// LIMIT offset (0 without LIMIT); negative selects nothing.
    offset: i64,
    /// LIMIT count; negative means all.
    limit: i64,
    withscores: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// Redis 7.0 `zrangeGenericCommand` option parsing: `min_idx` is the index of the first range
/// argument; `kind`/`rev` are preset by the legacy commands (ZRANGEBYSCORE, ZREVRANGE, ...),
/// which then refuse BYSCORE/BYLEX/REV as syntax errors. `store`: ZRANGESTORE (no WITHSCORES).
fn parse_range(
    args: &[Bytes],
    min_idx: usize,
    kind: Option<RangeKind>,
    rev: Option<bool>,
    store: bool,
) -> Result<RangeArgs, CmdError> {
    let (mut kind, mut rev) = (kind, rev);
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut j = min_idx + 2;
    while j < args.len() {
        let a = &args[j][..];
        let left = args.len() - j - 1;
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            limit = Some((parse_i64(&args[j + 1])?, parse_i64(&args[j + 2])?));
            j += 2;
        } else if rev.is_none() && is(a, "rev") {
            rev = Some(true);
        } else if kind.is_none() && is(a, "bylex") {
            kind = Some(RangeKind::Lex);
        } else if kind.is_none() && is(a, "byscore") {
            kind = Some(RangeKind::Score);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    let kind = kind.unwrap_or(RangeKind::Rank);
    // Redis only checks the count: `LIMIT <any offset> -1` is accepted (and ignored) for a
    // rank range.
    if limit.is_some_and(|(_, count)| count != -1) && kind == RangeKind::Rank {
        return Err(CmdError::raw(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == RangeKind::Lex {
        return Err(CmdError::raw(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (&args[min_idx][..], &args[min_idx + 1][..]);
    if rev && kind != RangeKind::Rank {
        // Given as max, min.
        std::mem::swap(&mut lo, &mut hi);
    }
    let query = match kind {
        RangeKind::Rank => Query::Rank(parse_i64(lo)?, parse_i64(hi)?),
        RangeKind::Score => Query::Score(ScoreRange::parse(lo, hi)?),
        RangeKind::Lex => Query::Lex(LexRange::parse(lo, hi)?),
    };
    let (offset, limit) = match kind {
        RangeKind::Rank => (0, -1),
        _ => limit.unwrap_or((0, -1)),
    };
    Ok(RangeArgs {
        query,
        rev,
        offset,
        limit,
        withscores,
    })
}

/// `start..=stop` of a rank range over `len` members, or None if it is empty.
fn rank_bounds(start: i64, stop: i64, len: u64) -> Option<(u64, u64)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = if start < 0 { start + len } else { start };
    let mut stop = if stop < 0 { stop + len } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as u64, stop as u64))
}

// ---------------------------------------------------------------------------- read side

/// A sorted set opened for reading.
struct Z<'c, 'a> {
    ctx: &'c ReadCtx<'a>,
    coll: CollRead,
}

impl<'c, 'a> Z<'c, 'a> {
    /// None if the key is missing; WRONGTYPE if it is not a sorted set.
    fn open(ctx: &'c ReadCtx<'a>, key: &[u8]) -> Result<Option<Z<'c, 'a>>, CmdError> {
        Ok(CollRead::open(ctx, key, RedisType::ZSet)?.map(|coll| Z { ctx, coll }))
    }

    fn len(&self) -> u64 {
        self.coll.meta.size
    }

    fn score(&self, member: &[u8]) -> Result<Option<f64>, CmdError> {
        match self.coll.get(self.ctx, Cf::Subkey, member)? {
            Some(v) => Ok(Some(decode_score(&v).ok_or_else(corrupt)?)),
            None => Ok(None),
        }
    }

    /// Walks the score index from suffix `from` to `to` (None: the end), calling
    /// `f(score, member)` until it returns false.
    fn walk(
        &self,
        from: &[u8],
        to: Option<&[u8]>,
        rev: bool,
        mut f: impl FnMut(f64, &[u8]) -> bool,
    ) -> Result<(), CmdError> {
        let mut bad = false;
        self.coll.scan(
            self.ctx,
            Cf::ZScore,
            from,
            to,
            rev,
            |suffix, _| match decode_score(suffix) {
                Some(s) => f(s, &suffix[8..]),
                None => {
                    bad = true;
                    false
                }
            },
        )?;
        if bad {
            Err(corrupt())
        } else {
            Ok(())
        }
    }

    /// Every member in member order (the `Cf::Subkey` index), with its score.
    fn walk_members(
        &self,
        from: &[u8],
        mut f: impl FnMut(&[u8], f64) -> bool,
    ) -> Result<(), CmdError> {
        let mut bad = false;
        self.coll.scan(
            self.ctx,
            Cf::Subkey,
            from,
            None,
            false,
            |m, v| match decode_score(v) {
                Some(s) => f(m, s),
                None => {
                    bad = true;
                    false
                }
            },
        )?;
        if bad {
            Err(corrupt())
        } else {
            Ok(())
        }
    }

    /// The 0-based rank of `member` (from the top if `rev`), counting the entries before it.
    fn rank(&self, member: &[u8], rev: bool) -> Result<Option<u64>, CmdError> {
        let Some(score) = self.score(member)? else {
            return Ok(None);
        };
        let target = index_suffix(score, member);
        let mut n = 0u64;
        self.coll
            .scan(self.ctx, Cf::ZScore, b"", Some(&target), false, |_, _| {
                n += 1;
                true
            })?;
        Ok(Some(if rev {
            self.len().saturating_sub(1).saturating_sub(n)
        } else {
            n
        }))
    }

    /// Calls `emit` for the members a range selects, in reply order.
    fn range(&self, r: &RangeArgs, mut emit: impl FnMut(&[u8], f64)) -> Result<(), CmdError> {
        let rev = r.rev;
        match &r.query {
            Query::Rank(start, stop) => {
                let Some((start, stop)) = rank_bounds(*start, *stop, self.len()) else {
                    return Ok(());
                };
                let mut i = 0u64;
                self.walk(b"", None, rev, |s, m| {
                    if i >= start {
                        emit(m, s);
                    }
                    i += 1;
                    i <= stop
                })
            }
            Query::Score(sr) => {
                if sr.is_empty() || r.offset < 0 || r.limit == 0 {
                    return Ok(());
                }
                let (mut offset, mut limit) = (r.offset, r.limit);
                let mut take = |s: f64, m: &[u8]| {
                    if offset > 0 {
                        offset -= 1;
                        return true;
                    }
                    emit(m, s);
                    limit -= 1;
                    limit != 0
                };
                if rev {
                    // Everything with a score <= max: up to the next encoded score.
                    let hi = u64::from_be_bytes(encode_score(sr.max))
                        .checked_add(1)
                        .map(|v| v.to_be_bytes());
                    self.walk(b"", hi.as_ref().map(|h| &h[..]), true, |s, m| {
                        if !sr.lte_max(s) {
                            return true;
                        }
                        if !sr.gte_min(s) {
                            return false;
                        }
                        take(s, m)
                    })
                } else {
                    self.walk(&encode_score(sr.min), None, false, |s, m| {
                        if !sr.gte_min(s) {
                            return true;
                        }
                        if !sr.lte_max(s) {
                            return false;
                        }
                        take(s, m)
                    })
                }
            }
            Query::Lex(lr) => {
                if lr.is_empty() || r.offset < 0 || r.limit == 0 {
                    return Ok(());
                }
                let (mut offset, mut limit) = (r.offset, r.limit);
                // Lex ranges assume equal scores (as in Redis): walk in set order, skip up to
                // the first member inside the range, stop at the first one past it.
                self.walk(b"", None, rev, |s, m| {
                    let (before, past) = if rev {
                        (!lr.lte_max(m), !lr.gte_min(m))
                    } else {
                        (!lr.gte_min(m), !lr.lte_max(m))
                    };
                    if before {
                        return true;
                    }
                    if past {
                        return false;
                    }
                    if offset > 0 {
                        offset -= 1;
                        return true;
                    }
                    emit(m, s);
                    limit -= 1;
                    limit != 0
                })
            }
        }
    }

    fn collect(&self, r: &RangeArgs) -> Result<Vec<Item>, CmdError> {
        let mut out = Vec::new();
        self.range(r, |m, s| out.push((m.to_vec(), s)))?;
        Ok(out)
    }

    /// The first `count` members from the bottom (or the top if `max`).
    fn ends(&self, max: bool, count: u64) -> Result<Vec<Item>, CmdError> {
        let mut out = Vec::new();
        if count == 0 {
            return Ok(out);
        }
        self.walk(b"", None, max, |s, m| {
            out.push((m.to_vec(), s));
            (out.len() as u64) < count
        })?;
        Ok(out)
    }

    /// The members at the given ascending, distinct ranks (one walk up to the last).
    fn at_ranks(&self, ranks: &[u64]) -> Result<Vec<Item>, CmdError> {
        let mut out = Vec::with_capacity(ranks.len());
        let Some(&last) = ranks.last() else {
            return Ok(out);
        };
        let mut i = 0u64;
        let mut next = 0usize;
        self.walk(b"", None, false, |s, m| {
            if ranks.get(next) == Some(&i) {
                out.push((m.to_vec(), s));
                next += 1;
            }
            i += 1;
            i <= last
        })?;
        Ok(out)
    }
}

/// Reads a sorted set inside an apply, through the entry's pending writes.
fn read_in_apply<T>(
    ctx: &WriteCtx<'_>,
    db: u8,
    f: impl FnOnce(&ReadCtx<'_>) -> Result<T, CmdError>,
) -> Result<T, CmdError> {
    let r = ReadCtx::in_apply(ctx, db);
    f(&r)
}

// --------------------------------------------------------------------------- write side

fn open_write(
    ctx: &mut WriteCtx<'_>,
    db: u8,
    key: &[u8],
    create: bool,
) -> Result<Option<CollWrite>, CmdError> {
    let pdb = ctx.pdb(db);
    CollWrite::open(ctx, pdb, key, RedisType::ZSet, create)
}

fn member_score(ctx: &WriteCtx<'_>, c: &CollWrite, member: &[u8]) -> Result<Option<f64>, CmdError> {
    match c.get(ctx, Cf::Subkey, member)? {
        Some(v) => Ok(Some(decode_score(&v).ok_or_else(corrupt)?)),
        None => Ok(None),
    }
}

/// Sets `member`'s score, keeping both indexes and the size in step.
pub(crate) fn set_score(
    ctx: &mut WriteCtx<'_>,
    c: &mut CollWrite,
    member: &[u8],
    old: Option<f64>,
    new: f64,
) {
    match old {
        Some(o) if encode_score(o) == encode_score(new) => return,
        Some(o) => c.delete(ctx, Cf::ZScore, &index_suffix(o, member)),
        None => c.meta.size += 1,
    }
    c.put(ctx, Cf::ZScore, &index_suffix(new, member), Vec::new());
    c.put(ctx, Cf::Subkey, member, encode_score(new).to_vec());
}

fn remove_member(ctx: &mut WriteCtx<'_>, c: &mut CollWrite, member: &[u8], score: f64) {
    c.delete(ctx, Cf::ZScore, &index_suffix(score, member));
    c.delete(ctx, Cf::Subkey, member);
    c.meta.size = c.meta.size.saturating_sub(1);
}

/// Removes already-read members (they exist: they were read in this same apply).
fn remove_items(ctx: &mut WriteCtx<'_>, db: u8, key: &[u8], items: &[Item]) -> CmdResult {
    if items.is_empty() {
        return Ok(Frame::Integer(0));
    }
    let Some(mut c) = open_write(ctx, db, key, false)? else {
        return Ok(Frame::Integer(0));
    };
    for (m, s) in items {
        remove_member(ctx, &mut c, m, *s);
    }
    c.save(ctx);
    Ok(Frame::from(items.len()))
}

/// Replaces `dst` with a sorted set of `items` (deleting it if empty); replies the count.
fn store_items(ctx: &mut WriteCtx<'_>, db: u8, dst: &[u8], items: Vec<Item>) -> CmdResult {
    let pdb = ctx.pdb(db);
    let mut c = CollWrite::replace(ctx, pdb, dst, RedisType::ZSet)?;
    let n = items.len();
    for (m, s) in items {
        set_score(ctx, &mut c, &m, None, s);
    }
    c.save(ctx);
    Ok(Frame::from(n))
}

use super::atomic_write as write;

// ---------------------------------------------------------------------------- ZADD & co

#[derive(Debug, Default, PartialEq)]
struct AddOpts {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
    /// (score, member index in argv)
    pairs: Vec<(f64, usize)>,
}

/// Redis 7.0 `zaddGenericCommand` parsing, errors in its order.
fn parse_zadd(args: &[Bytes]) -> Result<AddOpts, CmdError> {
    let mut o = AddOpts::default();
    let mut i = 2;
    while i < args.len() {
        let a = &args[i][..];
        if is(a, "nx") {
            o.nx = true;
        } else if is(a, "xx") {
            o.xx = true;
        } else if is(a, "ch") {
            o.ch = true;
        } else if is(a, "incr") {
            o.incr = true;
        } else if is(a, "gt") {
            o.gt = true;
        } else if is(a, "lt") {
            o.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = args.len() - i;
    if elements == 0 || !elements.is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if o.nx && o.xx {
        return Err(CmdError::raw(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (o.nx && (o.gt || o.lt)) || (o.gt && o.lt) {
        return Err(CmdError::raw(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if o.incr && elements > 2 {
        return Err(CmdError::raw(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    o.pairs.reserve(elements / 2);
    while i < args.len() {
        o.pairs
            .push((parse_score(&args[i]).ok_or(CmdError::NotFloat)?, i + 1));
        i += 2;
    }
    Ok(o)
}

fn nan_error() -> CmdError {
    CmdError::raw("ERR resulting score is not a number (NaN)")
}

fn zadd_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_zadd(args).map(|_| ())
}

fn zadd_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let o = parse_zadd(args)?;
    add_parsed(ctx, db, args, &o)
}

fn add_parsed(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], o: &AddOpts) -> CmdResult {
    let mut c = match open_write(ctx, db, &args[1], !o.xx)? {
        Some(c) => c,
        None if o.incr => return Ok(Frame::Null),
        None => return Ok(Frame::Integer(0)),
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    for &(score, mi) in &o.pairs {
        let member = &args[mi][..];
        let old = member_score(ctx, &c, member)?;
        match old {
            Some(cur) => {
                if o.nx {
                    continue;
                }
                let mut new = score;
                if o.incr {
                    new += cur;
                    if new.is_nan() {
                        return Err(nan_error());
                    }
                }
                if (o.lt && new >= cur) || (o.gt && new <= cur) {
                    continue;
                }
                last = new;
                processed += 1;
                if new != cur {
                    set_score(ctx, &mut c, member, old, new);
                    updated += 1;
                }
            }
            None => {
                if o.xx {
                    continue;
                }
                set_score(ctx, &mut c, member, None, score);
                added += 1;
                processed += 1;
                last = score;
            }
        }
    }
    c.save(ctx);
    Ok(if o.incr {
        if processed > 0 {
            Frame::Double(last)
        } else {
            Frame::Null
        }
    } else {
        Frame::Integer(if o.ch { added + updated } else { added })
    })
}

fn zincrby_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_score(&args[2]).ok_or(CmdError::NotFloat).map(|_| ())
}

fn zincrby_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let incr = parse_score(&args[2]).ok_or(CmdError::NotFloat)?;
    let o = AddOpts {
        incr: true,
        pairs: vec![(incr, 3)],
        ..AddOpts::default()
    };
    add_parsed(ctx, db, args, &o)
}

fn none(_: &[Bytes]) -> Result<(), CmdError> {
    Ok(())
}

fn zrem_validate(args: &[Bytes]) -> Result<(), CmdError> {
    none(args)
}

fn zrem_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let Some(mut c) = open_write(ctx, db, &args[1], false)? else {
        return Ok(Frame::Integer(0));
    };
    let mut n = 0i64;
    for m in &args[2..] {
        if let Some(s) = member_score(ctx, &c, m)? {
            remove_member(ctx, &mut c, m, s);
            n += 1;
        }
    }
    c.save(ctx);
    Ok(Frame::Integer(n))
}

// ------------------------------------------------------------------------- point reads

fn zcard(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(Frame::from(
        Z::open(ctx, &args[1])?.map_or(0, |z| z.len() as usize),
    ))
}

fn zscore(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let Some(z) = Z::open(ctx, &args[1])? else {
        return Ok(Frame::Null);
    };
    Ok(z.score(&args[2])?.map_or(Frame::Null, Frame::Double))
}

fn zmscore(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let z = Z::open(ctx, &args[1])?;
    let mut out = Vec::with_capacity(args.len() - 2);
    for m in &args[2..] {
        let s = match &z {
            Some(z) => z.score(m)?,
            None => None,
        };
        out.push(s.map_or(Frame::Null, Frame::Double));
    }
    Ok(Frame::Array(out))
}

fn rank_generic(ctx: &ReadCtx<'_>, args: &[Bytes], rev: bool) -> CmdResult {
    let Some(z) = Z::open(ctx, &args[1])? else {
        return Ok(Frame::Null);
    };
    Ok(z.rank(&args[2], rev)?
        .map_or(Frame::Null, |r| Frame::Integer(r as i64)))
}

fn zrank(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    rank_generic(ctx, args, false)
}

fn zrevrank(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    rank_generic(ctx, args, true)
}

fn count_generic(ctx: &ReadCtx<'_>, args: &[Bytes], query: Query) -> CmdResult {
    let Some(z) = Z::open(ctx, &args[1])? else {
        return Ok(Frame::Integer(0));
    };
    let r = RangeArgs {
        query,
        rev: false,
        offset: 0,
        limit: -1,
        withscores: false,
    };
    let mut n = 0i64;
    z.range(&r, |_, _| n += 1)?;
    Ok(Frame::Integer(n))
}

fn zcount(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let q = Query::Score(ScoreRange::parse(&args[2], &args[3])?);
    count_generic(ctx, args, q)
}

fn zlexcount(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let q = Query::Lex(LexRange::parse(&args[2], &args[3])?);
    count_generic(ctx, args, q)
}

// ------------------------------------------------------------------------ range reads

fn range_reply(
    ctx: &ReadCtx<'_>,
    args: &[Bytes],
    kind: Option<RangeKind>,
    rev: Option<bool>,
) -> CmdResult {
    let r = parse_range(args, 2, kind, rev, false)?;
    let Some(z) = Z::open(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    Ok(members_frame(z.collect(&r)?, r.withscores))
}

fn zrange(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, None, None)
}

fn zrevrange(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Rank), Some(true))
}

fn zrangebyscore(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Score), Some(false))
}

fn zrevrangebyscore(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Score), Some(true))
}

fn zrangebylex(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Lex), Some(false))
}

fn zrevrangebylex(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeKind::Lex), Some(true))
}

fn zrangestore_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_range(args, 3, None, None, true).map(|_| ())
}

fn zrangestore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let r = parse_range(args, 3, None, None, true)?;
    let items = read_in_apply(ctx, db, |rc| match Z::open(rc, &args[2])? {
        Some(z) => z.collect(&r),
        None => Ok(Vec::new()),
    })?;
    store_items(ctx, db, &args[1], items)
}

// ------------------------------------------------------------------- ZREMRANGEBY*

fn remrange_query(args: &[Bytes], kind: RangeKind) -> Result<Query, CmdError> {
    Ok(match kind {
        RangeKind::Rank => Query::Rank(parse_i64(&args[2])?, parse_i64(&args[3])?),
        RangeKind::Score => Query::Score(ScoreRange::parse(&args[2], &args[3])?),
        RangeKind::Lex => Query::Lex(LexRange::parse(&args[2], &args[3])?),
    })
}

fn remrange(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], kind: RangeKind) -> CmdResult {
    let r = RangeArgs {
        query: remrange_query(args, kind)?,
        rev: false,
        offset: 0,
        limit: -1,
        withscores: false,
    };
    let items = read_in_apply(ctx, db, |rc| match Z::open(rc, &args[1])? {
        Some(z) => z.collect(&r),
        None => Ok(Vec::new()),
    })?;
    remove_items(ctx, db, &args[1], &items)
}

fn zremrangebyrank_validate(args: &[Bytes]) -> Result<(), CmdError> {
    remrange_query(args, RangeKind::Rank).map(|_| ())
}

fn zremrangebyrank_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    remrange(ctx, db, args, RangeKind::Rank)
}

fn zremrangebyscore_validate(args: &[Bytes]) -> Result<(), CmdError> {
    remrange_query(args, RangeKind::Score).map(|_| ())
}

fn zremrangebyscore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    remrange(ctx, db, args, RangeKind::Score)
}

fn zremrangebylex_validate(args: &[Bytes]) -> Result<(), CmdError> {
    remrange_query(args, RangeKind::Lex).map(|_| ())
}

fn zremrangebylex_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    remrange(ctx, db, args, RangeKind::Lex)
}

// ------------------------------------------------------------------------------- pops

/// Pops up to `count` members from the bottom (top if `max`) of `key`: None if the key is
/// missing (or WRONGTYPE).
fn pop(
    ctx: &mut WriteCtx<'_>,
    db: u8,
    key: &[u8],
    max: bool,
    count: u64,
) -> Result<Option<Vec<Item>>, CmdError> {
    let items = read_in_apply(ctx, db, |rc| match Z::open(rc, key)? {
        Some(z) => z.ends(max, count).map(Some),
        None => Ok(None),
    })?;
    if let Some(items) = &items {
        remove_items(ctx, db, key, items)?;
    }
    Ok(items)
}

/// ZPOPMIN/ZPOPMAX's count: `ERR value is out of range, must be positive`.
fn parse_pop_count(args: &[Bytes]) -> Result<Option<u64>, CmdError> {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    match args.get(2) {
        None => Ok(None),
        Some(a) => match parse_i64_opt(a) {
            Some(n) if n >= 0 => Ok(Some(n as u64)),
            _ => Err(CmdError::raw("ERR value is out of range, must be positive")),
        },
    }
}

fn zpop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_pop_count(args).map(|_| ())
}

fn zpop_generic(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], max: bool) -> CmdResult {
    let count = parse_pop_count(args)?;
    let items = pop(ctx, db, &args[1], max, count.unwrap_or(1))?.unwrap_or_default();
    Ok(match count {
        Some(_) => pairs_frame(items),
        // Without a count: a flat [member, score] (empty if there is none).
        None => Frame::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Frame::Bulk(Bytes::from(m)), Frame::Double(s)])
                .collect(),
        ),
    })
}

fn zpopmin_validate(args: &[Bytes]) -> Result<(), CmdError> {
    zpop_validate(args)
}

fn zpopmin_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    zpop_generic(ctx, db, args, false)
}

fn zpopmax_validate(args: &[Bytes]) -> Result<(), CmdError> {
    zpop_validate(args)
}

fn zpopmax_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    zpop_generic(ctx, db, args, true)
}

/// A parsed [B]ZMPOP: key indices, MIN/MAX, count.
struct MPop {
    keys: std::ops::Range<usize>,
    max: bool,
    count: u64,
}

fn numkeys_mpop(args: &[Bytes], idx: usize) -> Result<std::ops::Range<usize>, CmdError> {
    let n = match args.get(idx).and_then(|a| parse_i64_opt(a)) {
        Some(n) if n > 0 => n as u64,
        _ => return Err(CmdError::raw("ERR numkeys should be greater than 0")),
    };
    let first = idx + 1;
    // The MIN|MAX argument must follow the keys.
    if n >= (args.len() - first) as u64 {
        return Err(CmdError::Syntax);
    }
    Ok(first..first + n as usize)
}

/// Redis 7.0 `zmpopGenericCommand` parsing; `idx` is numkeys' index.
fn parse_mpop(args: &[Bytes], idx: usize) -> Result<MPop, CmdError> {
    let keys = numkeys_mpop(args, idx)?;
    let w = &args[keys.end][..];
    let max = if is(w, "min") {
        false
    } else if is(w, "max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut j = keys.end + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "count") && j + 1 < args.len() {
            count = Some(match parse_i64_opt(&args[j + 1]) {
                Some(n) if n > 0 => n as u64,
                _ => return Err(CmdError::raw("ERR count should be greater than 0")),
            });
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(MPop {
        keys,
        max,
        count: count.unwrap_or(1),
    })
}

fn mpop_run(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], p: &MPop) -> CmdResult {
    for k in p.keys.clone() {
        if let Some(items) = pop(ctx, db, &args[k], p.max, p.count)? {
            if !items.is_empty() {
                // Nested [member, score] pairs in RESP2 too (unlike ZPOPMIN with a count).
                let pairs = items
                    .into_iter()
                    .map(|(m, s)| Frame::Array(vec![Frame::Bulk(Bytes::from(m)), Frame::Double(s)]))
                    .collect();
                return Ok(Frame::Array(vec![
                    Frame::Bulk(args[k].clone()),
                    Frame::Array(pairs),
                ]));
            }
        }
    }
    Ok(Frame::NullArray)
}

fn zmpop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_mpop(args, 1).map(|_| ())
}

fn zmpop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let p = parse_mpop(args, 1)?;
    mpop_run(ctx, db, args, &p)
}

fn keys_zmpop(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    Ok(numkeys_mpop(args, 1)?.collect())
}

fn keys_bzmpop(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    Ok(numkeys_mpop(args, 2)?.collect())
}

// --------------------------------------------------------------------------- blocking

/// Redis `getTimeoutFromObjectOrReply` in seconds: None waits forever (0).
fn parse_timeout(a: &[u8]) -> Result<Option<Duration>, CmdError> {
    let secs = parse_f64_opt(a)
        .filter(|v| v.is_finite())
        .ok_or_else(|| CmdError::raw("ERR timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0) as i64;
    if ms < 0 {
        return Err(CmdError::raw("ERR timeout is negative"));
    }
    Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

fn bzpop_parse(args: &[Bytes]) -> Result<BlockOn, CmdError> {
    let last = args.len() - 1;
    Ok(BlockOn {
        keys: (1..last).collect(),
        timeout: parse_timeout(&args[last])?,
    })
}

fn bzpop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    bzpop_parse(args).map(|_| ())
}

fn bzpop_generic(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], max: bool) -> CmdResult {
    bzpop_parse(args)?;
    for k in &args[1..args.len() - 1] {
        if let Some(mut items) = pop(ctx, db, k, max, 1)? {
            if let Some((m, s)) = items.pop() {
                return Ok(Frame::Array(vec![
                    Frame::Bulk(k.clone()),
                    Frame::Bulk(Bytes::from(m)),
                    Frame::Double(s),
                ]));
            }
        }
    }
    Ok(Frame::NullArray)
}

fn bzpopmin_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    bzpop_generic(ctx, db, args, false)
}

fn bzpopmax_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    bzpop_generic(ctx, db, args, true)
}

fn bzmpop_parse(args: &[Bytes]) -> Result<BlockOn, CmdError> {
    let timeout = parse_timeout(&args[1])?;
    let p = parse_mpop(args, 2)?;
    Ok(BlockOn {
        keys: p.keys.collect(),
        timeout,
    })
}

fn bzmpop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    bzmpop_parse(args).map(|_| ())
}

fn bzmpop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    parse_timeout(&args[1])?;
    let p = parse_mpop(args, 2)?;
    mpop_run(ctx, db, args, &p)
}

static BZPOPMIN: BlockingSpec = BlockingSpec {
    parse: bzpop_parse,
    prepare: None,
    attempt: super::atomic_write(bzpop_validate, bzpopmin_apply),
};

static BZPOPMAX: BlockingSpec = BlockingSpec {
    parse: bzpop_parse,
    prepare: None,
    attempt: super::atomic_write(bzpop_validate, bzpopmax_apply),
};

static BZMPOP: BlockingSpec = BlockingSpec {
    parse: bzmpop_parse,
    prepare: None,
    attempt: super::atomic_write(bzmpop_validate, bzmpop_apply),
};

// ------------------------------------------------------------------------ ZRANDMEMBER

/// Largest number of picks ZRANDMEMBER with a negative count makes.
const MAX_RANDOM_REPEATS: i64 = 10_000_000;

fn zrandmember(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    // Redis' order: the count's range, then the syntax, then WITHSCORES' tighter range.
    let count = match args.get(2) {
        Some(a) => {
            let c = parse_i64(a)?;
            if c == i64::MIN {
                return Err(CmdError::raw(
                    "ERR value is out of range, value must between -9223372036854775807 and \
                     9223372036854775807",
                ));
            }
            Some(c)
        }
        None => None,
    };
    if args.len() > 4 {
        return Err(CmdError::Syntax);
    }
    let withscores = match args.get(3) {
        Some(a) if is(a, "withscores") => true,
        Some(_) => return Err(CmdError::Syntax),
        None => false,
    };
    if let Some(c) = count {
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&c) {
            return Err(CmdError::raw("ERR value is out of range"));
        }
        // Repeated picks build the whole reply in memory: refuse what could not fit rather
        // than let one call exhaust the server (Redis would stream it to the client).
        if c < -MAX_RANDOM_REPEATS {
            return Err(CmdError::raw("ERR value is out of range"));
        }
    }
    let z = Z::open(ctx, &args[1])?;
    let mut rng = rand::thread_rng();
    let Some(count) = count else {
        let Some(z) = z else {
            return Ok(Frame::Null);
        };
        let len = z.len();
        if len == 0 {
            return Ok(Frame::Null);
        }
        let pick = z.at_ranks(&[rng.gen_range(0..len)])?;
        return Ok(pick
            .into_iter()
            .next()
            .map_or(Frame::Null, |(m, _)| Frame::Bulk(Bytes::from(m))));
    };
    let Some(z) = z else {
        return Ok(Frame::Array(Vec::new()));
    };
    let len = z.len();
    if count == 0 || len == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let items = if count < 0 {
        // Repetitions allowed: |count| independent picks, in pick order.
        let n = count.unsigned_abs();
        let picks: Vec<u64> = (0..n).map(|_| rng.gen_range(0..len)).collect();
        let mut wanted = picks.clone();
        wanted.sort_unstable();
        wanted.dedup();
        let found = z.at_ranks(&wanted)?;
        picks
            .iter()
            .filter_map(|r| wanted.binary_search(r).ok().and_then(|i| found.get(i)))
            .cloned()
            .collect()
    } else if count as u64 >= len {
        z.ends(false, len)?
    } else {
        // Distinct ranks (Floyd's sampling), then a random order.
        let k = count as u64;
        let mut chosen = HashSet::new();
        for j in len - k..len {
            let t = rng.gen_range(0..=j);
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        let mut ranks: Vec<u64> = chosen.into_iter().collect();
        ranks.sort_unstable();
        let mut items = z.at_ranks(&ranks)?;
        for i in (1..items.len()).rev() {
            items.swap(i, rng.gen_range(0..=i));
        }
        items
    };
    Ok(members_frame(items, withscores))
}

// ------------------------------------------------------- ZUNION ZINTER ZDIFF (+STORE)

#[derive(Clone, Copy, PartialEq, Debug)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, acc: f64, v: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let s = acc + v;
                // inf + -inf: Redis makes it 0.
                if s.is_nan() {
                    0.0
                } else {
                    s
                }
            }
            Aggregate::Min => acc.min(v),
            Aggregate::Max => acc.max(v),
        }
    }
}

#[derive(Debug, PartialEq)]
struct Combine {
    keys: std::ops::Range<usize>,
    weights: Vec<f64>,
    agg: Aggregate,
    withscores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: u64,
}

/// The keys of a numkeys command whose numkeys is at `idx` (ZUNION... errors).
fn numkeys_combine(args: &[Bytes], idx: usize) -> Result<std::ops::Range<usize>, CmdError> {
    let n = parse_i64(&args[idx])?;
    if n < 1 {
        let name = String::from_utf8_lossy(&args[0]).to_lowercase();
        return Err(CmdError::Raw(
            format!("ERR at least 1 input key is needed for '{name}' command").into(),
        ));
    }
    let first = idx + 1;
    if n as u64 > (args.len() - first) as u64 {
        return Err(CmdError::Syntax);
    }
    Ok(first..first + n as usize)
}

/// Redis 7.0 `zunionInterDiffGenericCommand` option parsing. `store`: a destination is given
/// (no WITHSCORES); `card`: ZINTERCARD (only LIMIT).
fn parse_combine(
    args: &[Bytes],
    idx: usize,
    op: SetOp,
    store: bool,
    card: bool,
) -> Result<Combine, CmdError> {
    let keys = numkeys_combine(args, idx)?;
    let n = keys.len();
    let mut c = Combine {
        weights: vec![1.0; n],
        keys,
        agg: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = c.keys.end;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j][..];
        if op != SetOp::Diff && !card && remaining > n && is(a, "weights") {
            for (w, arg) in c.weights.iter_mut().zip(&args[j + 1..j + 1 + n]) {
                *w = parse_score(arg)
                    .ok_or_else(|| CmdError::raw("ERR weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != SetOp::Diff && !card && remaining >= 2 && is(a, "aggregate") {
            let v = &args[j + 1][..];
            c.agg = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if !store && !card && is(a, "withscores") {
            c.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is(a, "limit") {
            c.limit = match parse_i64_opt(&args[j + 1]) {
                Some(l) if l >= 0 => l as u64,
                _ => return Err(CmdError::raw("ERR LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(c)
}

/// An input of ZUNION & co: a sorted set, or a plain set whose members score 1.
struct Source {
    coll: CollRead,
    zset: bool,
}

impl Source {
    fn open(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Option<Source>, CmdError> {
        let Some(meta) = ctx.get(key)? else {
            return Ok(None);
        };
        let zset = match meta.typ {
            RedisType::ZSet => true,
            RedisType::Set => false,
            _ => return Err(CmdError::WrongType),
        };
        Ok(CollRead::open(ctx, key, meta.typ)?.map(|coll| Source { coll, zset }))
    }

    fn score(&self, ctx: &ReadCtx<'_>, member: &[u8]) -> Result<Option<f64>, CmdError> {
        match self.coll.get(ctx, Cf::Subkey, member)? {
            Some(v) if self.zset => Ok(Some(decode_score(&v).ok_or_else(corrupt)?)),
            Some(_) => Ok(Some(1.0)),
            None => Ok(None),
        }
    }

    fn all(&self, ctx: &ReadCtx<'_>) -> Result<Vec<Item>, CmdError> {
        let mut out = Vec::new();
        let mut bad = false;
        self.coll.scan(ctx, Cf::Subkey, b"", None, false, |m, v| {
            let s = if self.zset {
                match decode_score(v) {
                    Some(s) => s,
                    None => {
                        bad = true;
                        return false;
                    }
                }
            } else {
                1.0
            };
            out.push((m.to_vec(), s));
            true
        })?;
        if bad {
            return Err(corrupt());
        }
        Ok(out)
    }
}

fn weighted(w: f64, s: f64) -> f64 {
    let v = w * s;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The result of a set operation, in Redis' order. For ZINTERCARD (`count_only`) the items
/// carry no meaning beyond their number, and the walk stops at `c.limit`.
fn combine(
    ctx: &ReadCtx<'_>,
    args: &[Bytes],
    c: &Combine,
    op: SetOp,
    count_only: bool,
) -> Result<Vec<Item>, CmdError> {
    // Every key is opened first: a wrong type fails the command whatever the others hold.
    let mut sources = Vec::with_capacity(c.keys.len());
    for (i, k) in c.keys.clone().enumerate() {
        sources.push((Source::open(ctx, &args[k])?, c.weights[i]));
    }
    let mut out: Vec<Item> = match op {
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            for (src, w) in &sources {
                let Some(src) = src else { continue };
                for (m, s) in src.all(ctx)? {
                    let v = weighted(*w, s);
                    acc.entry(m)
                        .and_modify(|a| *a = c.agg.apply(*a, v))
                        .or_insert(v);
                }
            }
            acc.into_iter().collect()
        }
        SetOp::Inter => {
            if sources.iter().any(|(s, _)| s.is_none()) {
                return Ok(Vec::new());
            }
            let mut present: Vec<(&Source, f64)> = sources
                .iter()
                .filter_map(|(s, w)| s.as_ref().map(|s| (s, *w)))
                .collect();
            // Walk the smallest input, look members up in the others.
            present.sort_by_key(|(s, _)| s.coll.meta.size);
            let Some(((first, w0), rest)) = present.split_first() else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            'members: for (m, s) in first.all(ctx)? {
                let mut acc = weighted(*w0, s);
                for (other, w) in rest {
                    match other.score(ctx, &m)? {
                        Some(s) => acc = c.agg.apply(acc, weighted(*w, s)),
                        None => continue 'members,
                    }
                }
                out.push((m, acc));
                if count_only && c.limit > 0 && out.len() as u64 >= c.limit {
                    break;
                }
            }
            out
        }
        SetOp::Diff => {
            let Some((Some(first), _)) = sources.first() else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            'diff: for (m, s) in first.all(ctx)? {
                for (other, _) in &sources[1..] {
                    if let Some(other) = other {
                        if other.score(ctx, &m)?.is_some() {
                            continue 'diff;
                        }
                    }
                }
                out.push((m, s));
            }
            out
        }
    };
    if !count_only {
        out.sort_by(item_order);
    }
    Ok(out)
}

/// Redis' order for ZUNION & co: numkeys, then every key's type (WRONGTYPE), then the
/// options (WEIGHTS, AGGREGATE, ...).
fn check_types(ctx: &ReadCtx<'_>, args: &[Bytes], idx: usize) -> Result<(), CmdError> {
    for k in numkeys_combine(args, idx)? {
        Source::open(ctx, &args[k])?;
    }
    Ok(())
}

fn combine_read(ctx: &ReadCtx<'_>, args: &[Bytes], op: SetOp) -> CmdResult {
    check_types(ctx, args, 1)?;
    let c = parse_combine(args, 1, op, false, false)?;
    let items = combine(ctx, args, &c, op, false)?;
    Ok(members_frame(items, c.withscores))
}

fn zunion(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    combine_read(ctx, args, SetOp::Union)
}

fn zinter(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    combine_read(ctx, args, SetOp::Inter)
}

fn zdiff(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    combine_read(ctx, args, SetOp::Diff)
}

fn zintercard(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    check_types(ctx, args, 1)?;
    let c = parse_combine(args, 1, SetOp::Inter, false, true)?;
    Ok(Frame::from(
        combine(ctx, args, &c, SetOp::Inter, true)?.len(),
    ))
}

fn combine_store(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes], op: SetOp) -> CmdResult {
    let items = read_in_apply(ctx, db, |rc| {
        check_types(rc, args, 2)?;
        let c = parse_combine(args, 2, op, true, false)?;
        combine(rc, args, &c, op, false)
    })?;
    store_items(ctx, db, &args[1], items)
}

fn zunionstore_validate(args: &[Bytes]) -> Result<(), CmdError> {
    numkeys_combine(args, 2).map(|_| ())
}

fn zunionstore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    combine_store(ctx, db, args, SetOp::Union)
}

fn zinterstore_validate(args: &[Bytes]) -> Result<(), CmdError> {
    numkeys_combine(args, 2).map(|_| ())
}

fn zinterstore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    combine_store(ctx, db, args, SetOp::Inter)
}

fn zdiffstore_validate(args: &[Bytes]) -> Result<(), CmdError> {
    numkeys_combine(args, 2).map(|_| ())
}

fn zdiffstore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    combine_store(ctx, db, args, SetOp::Diff)
}

/// ZUNION ZINTER ZDIFF ZINTERCARD: `numkeys key...` from argv[1].
fn keys_numkeys(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    Ok(numkeys_combine(args, 1)?.collect())
}

/// Z*STORE: the destination, then `numkeys key...` from argv[2].
fn keys_store(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    let mut v = vec![1];
    v.extend(numkeys_combine(args, 2)?);
    Ok(v)
}

// ------------------------------------------------------------------------------- ZSCAN

/// Sets up to this size are returned by one ZSCAN call with cursor 0, as Redis does for its
/// compact (listpack) encoding; this also keeps ZSCAN usable inside MULTI for them.
const ZSCAN_SMALL: u64 = 128;

fn parse_cursor(a: &[u8]) -> Option<u64> {
    if a.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match a[0] {
        b'-' => (true, &a[1..]),
        b'+' => (false, &a[1..]),
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

fn zscan(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let invalid = || CmdError::raw("ERR invalid cursor");
    let cursor = parse_cursor(&args[2]).ok_or_else(invalid)?;
    let reply = |next: u64, items: Vec<Frame>| {
        Frame::Array(vec![
            Frame::Bulk(Bytes::from(next.to_string())),
            Frame::Array(items),
        ])
    };
    let Some(z) = Z::open(ctx, &args[1])? else {
        return Ok(reply(0, Vec::new()));
    };
    let (count, pattern) = super::set::scan_options(&args[3..])?;
    let small = z.len() <= ZSCAN_SMALL;
    let from: Vec<u8> = if small || cursor == 0 {
        Vec::new()
    } else {
        // Continue strictly after the last member returned.
        let mut last = ctx.node()?.cursors.load(cursor).ok_or_else(invalid)?;
        last.push(0);
        last
    };
    let mut out = Vec::new();
    let mut seen = 0u64;
    let mut last: Option<Vec<u8>> = None;
    let mut more = false;
    z.walk_members(&from, |m, s| {
        if !small && seen == count {
            more = true;
            return false;
        }
        seen += 1;
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            out.push(Frame::Bulk(Bytes::copy_from_slice(m)));
            out.push(Frame::Bulk(score_text(s)));
        }
        last = Some(m.to_vec());
        true
    })?;
    let next = match (more, last) {
        (true, Some(last)) => ctx.node()?.cursors.save(last),
        _ => 0,
    };
    Ok(reply(next, out))
}

// ------------------------------------------------------------------------------- table

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "zadd",
        arity: -4,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Add one or more members to a sorted set, or update its score if it already exists",
        since: "1.2.0",
        handler: write(zadd_validate, zadd_apply),
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Increment the score of a member in a sorted set",
        since: "1.2.0",
        handler: write(zincrby_validate, zincrby_apply),
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Remove one or more members from a sorted set",
        since: "1.2.0",
        handler: write(zrem_validate, zrem_apply),
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Get the number of members in a sorted set",
        since: "1.2.0",
        handler: Handler::Read(zcard),
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Count the members in a sorted set with scores within the given values",
        since: "2.0.0",
        handler: Handler::Read(zcount),
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Count the number of members in a sorted set between a given lexicographical range",
        since: "2.8.9",
        handler: Handler::Read(zlexcount),
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Get the score associated with the given member in a sorted set",
        since: "1.2.0",
        handler: Handler::Read(zscore),
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Get the score associated with the given members in a sorted set",
        since: "6.2.0",
        handler: Handler::Read(zmscore),
    },
    CommandSpec {
        name: "zrank",
        arity: 3,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Determine the index of a member in a sorted set",
        since: "2.0.0",
        handler: Handler::Read(zrank),
    },
    CommandSpec {
        name: "zrevrank",
        arity: 3,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
        since: "2.0.0",
        handler: Handler::Read(zrevrank),
    },
    CommandSpec {
        name: "zrange",
        arity: -4,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set",
        since: "1.2.0",
        handler: Handler::Read(zrange),
    },
    CommandSpec {
        name: "zrangestore",
        arity: -5,
        flags: &["write", "denyoom"],
        first_key: 1,
        last_key: 2,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Store a range of members from sorted set into another key",
        since: "6.2.0",
        handler: write(zrangestore_validate, zrangestore_apply),
    },
    CommandSpec {
        name: "zrangebyscore",
        arity: -4,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by score",
        since: "1.0.5",
        handler: Handler::Read(zrangebyscore),
    },
    CommandSpec {
        name: "zrevrangebyscore",
        arity: -4,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
        since: "2.2.0",
        handler: Handler::Read(zrevrangebyscore),
    },
    CommandSpec {
        name: "zrangebylex",
        arity: -4,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by lexicographical range",
        since: "2.8.9",
        handler: Handler::Read(zrangebylex),
    },
    CommandSpec {
        name: "zrevrangebylex",
        arity: -4,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
        since: "2.8.9",
        handler: Handler::Read(zrevrangebylex),
    },
    CommandSpec {
        name: "zrevrange",
        arity: -4,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
        since: "1.2.0",
        handler: Handler::Read(zrevrange),
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        flags: &["write"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Remove all members in a sorted set within the given indexes",
        since: "2.0.0",
        handler: write(zremrangebyrank_validate, zremrangebyrank_apply),
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        flags: &["write"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Remove all members in a sorted set within the given scores",
        since: "1.2.0",
        handler: write(zremrangebyscore_validate, zremrangebyscore_apply),
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        flags: &["write"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Remove all members in a sorted set between the given lexicographical range",
        since: "2.8.9",
        handler: write(zremrangebylex_validate, zremrangebylex_apply),
    },
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Remove and return members with the lowest scores in a sorted set",
        since: "5.0.0",
        handler: write(zpopmin_validate, zpopmin_apply),
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "fast"],
        group: "sorted-set",
        summary: "Remove and return members with the highest scores in a sorted set",
        since: "5.0.0",
        handler: write(zpopmax_validate, zpopmax_apply),
    },
    CommandSpec {
        name: "bzpopmin",
        arity: -3,
        flags: &["write", "noscript", "blocking", "fast"],
        first_key: 1,
        last_key: -2,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "fast", "blocking"],
        group: "sorted-set",
        summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
        since: "5.0.0",
        handler: Handler::Blocking(&BZPOPMIN),
    },
    CommandSpec {
        name: "bzpopmax",
        arity: -3,
        flags: &["write", "noscript", "blocking", "fast"],
        first_key: 1,
        last_key: -2,
        step: 1,
        key_finder: None,
        acl: &["write", "sortedset", "fast", "blocking"],
        group: "sorted-set",
        summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
        since: "5.0.0",
        handler: Handler::Blocking(&BZPOPMAX),
    },
    CommandSpec {
        name: "zmpop",
        arity: -4,
        flags: &["write", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(keys_zmpop),
        acl: &["write", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Remove and return members with scores in a sorted set",
        since: "7.0.0",
        handler: write(zmpop_validate, zmpop_apply),
    },
    CommandSpec {
        name: "bzmpop",
        arity: -5,
        flags: &["write", "blocking", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(keys_bzmpop),
        acl: &["write", "sortedset", "slow", "blocking"],
        group: "sorted-set",
        summary: "Remove and return members with scores in a sorted set or block until one is available",
        since: "7.0.0",
        handler: Handler::Blocking(&BZMPOP),
    },
    CommandSpec {
        name: "zrandmember",
        arity: -2,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Get one or multiple random elements from a sorted set",
        since: "6.2.0",
        handler: Handler::Read(zrandmember),
    },
    CommandSpec {
        name: "zunion",
        arity: -3,
        flags: &["readonly", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(keys_numkeys),
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Add multiple sorted sets",
        since: "6.2.0",
        handler: Handler::Read(zunion),
    },
    CommandSpec {
        name: "zinter",
        arity: -3,
        flags: &["readonly", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(keys_numkeys),
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Intersect multiple sorted sets",
        since: "6.2.0",
        handler: Handler::Read(zinter),
    },
    CommandSpec {
        name: "zdiff",
        arity: -3,
        flags: &["readonly", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(keys_numkeys),
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Subtract multiple sorted sets",
        since: "6.2.0",
        handler: Handler::Read(zdiff),
    },
    CommandSpec {
        name: "zunionstore",
        arity: -4,
        flags: &["write", "denyoom", "movablekeys"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: Some(keys_store),
        acl: &["write", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
        since: "2.0.0",
        handler: write(zunionstore_validate, zunionstore_apply),
    },
    CommandSpec {
        name: "zinterstore",
        arity: -4,
        flags: &["write", "denyoom", "movablekeys"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: Some(keys_store),
        acl: &["write", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        since: "2.0.0",
        handler: write(zinterstore_validate, zinterstore_apply),
    },
    CommandSpec {
        name: "zdiffstore",
        arity: -4,
        flags: &["write", "denyoom", "movablekeys"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: Some(keys_store),
        acl: &["write", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        since: "6.2.0",
        handler: write(zdiffstore_validate, zdiffstore_apply),
    },
    CommandSpec {
        name: "zintercard",
        arity: -3,
        flags: &["readonly", "movablekeys"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: Some(keys_numkeys),
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Intersect multiple sorted sets and return the cardinality of the result",
        since: "7.0.0",
        handler: Handler::Read(zintercard),
    },
    CommandSpec {
        name: "zscan",
        arity: -3,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["read", "sortedset", "slow"],
        group: "sorted-set",
        summary: "Incrementally iterate sorted sets elements and associated scores",
        since: "2.8.0",
        handler: Handler::Read(zscan),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::execute;
    use crate::raft::{WriteOp, WriteRequest};
    use crate::storage::keyspace::KeyspaceState;
    use crate::storage::Storage;

    fn argv(parts: &[&str]) -> Vec<Bytes> {
        parts
            .iter()
            .map(|p| Bytes::copy_from_slice(p.as_bytes()))
            .collect()
    }

    #[test]
    fn score_encoding_sorts_numerically_and_round_trips() {
        let scores = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -1e-300,
            0.0,
            1e-300,
            0.1,
            1.0,
            2.5,
            1e300,
            f64::INFINITY,
        ];
        for w in scores.windows(2) {
            assert!(
                encode_score(w[0]) < encode_score(w[1]),
                "{} < {}",
                w[0],
                w[1]
            );
        }
        for s in scores {
            assert_eq!(decode_score(&encode_score(s)), Some(s));
        }
        // -0 is stored as 0: Redis treats them as the same score.
        assert_eq!(encode_score(-0.0), encode_score(0.0));
        assert_eq!(decode_score(&[1, 2, 3]), None);
    }

    #[test]
    fn index_order_is_score_then_member_bytes() {
        let mut v = [
            index_suffix(1.0, b"b"),
            index_suffix(1.0, b"a"),
            index_suffix(1.0, b"ab"),
            index_suffix(-1.0, b"z"),
            index_suffix(1.0, b""),
        ];
        v.sort();
        let got: Vec<&[u8]> = v.iter().map(|k| &k[8..]).collect();
        assert_eq!(got, vec![&b"z"[..], b"", b"a", b"ab", b"b"]);
    }

    #[test]
    fn floats_like_strtod() {
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_score(b"1.5e3"), Some(1500.0));
        assert_eq!(parse_score(b"-.5"), Some(-0.5));
        assert_eq!(parse_score(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0e5"), Some(0.0));
        for bad in [&b"1e400"[..], b"1e-400", b"nan", b"0x", b" 1", b"1 ", b""] {
            assert_eq!(parse_score(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        // Range bounds take strtod's overflow to infinity.
        assert_eq!(parse_strtod(b"1e400"), Some(f64::INFINITY));
    }

    #[test]
    fn range_parsing_like_redis() {
        let r = ScoreRange::parse(b"(1", b"+inf").unwrap();
        assert!(r.minex && !r.maxex && r.max == f64::INFINITY);
        assert!(!r.gte_min(1.0) && r.gte_min(1.5));
        assert!(ScoreRange::parse(b"(1", b"1").unwrap().is_empty());
        assert!(!ScoreRange::parse(b"1", b"1").unwrap().is_empty());
        for bad in [&b"x"[..], b"nan", b"((1", b"(x"] {
            assert_eq!(
                ScoreRange::parse(bad, b"1"),
                Err(CmdError::raw("ERR min or max is not a float"))
            );
        }
        // strtod reads an empty string as 0, as Redis does (found by the differential test).
        let z = ScoreRange::parse(b"", b"(").unwrap();
        assert!(z.min == 0.0 && !z.minex && z.max == 0.0 && z.maxex);
        let l = LexRange::parse(b"[b", b"(d").unwrap();
        assert!(l.gte_min(b"b") && !l.gte_min(b"a") && l.lte_max(b"c") && !l.lte_max(b"d"));
        assert!(LexRange::parse(b"-", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"+", b"-").unwrap().is_empty());
        assert!(!LexRange::parse(b"-", b"+").unwrap().is_empty());
        assert!(LexRange::parse(b"(a", b"[a").unwrap().is_empty());
        for bad in [&b"a"[..], b"", b"+x", b"-x"] {
            assert!(LexRange::parse(bad, b"+").is_err());
        }
        assert_eq!(rank_bounds(0, -1, 5), Some((0, 4)));
        assert_eq!(rank_bounds(-100, 100, 5), Some((0, 4)));
        assert_eq!(rank_bounds(3, 1, 5), None);
        assert_eq!(rank_bounds(5, 10, 5), None);
        assert_eq!(rank_bounds(0, -1, 0), None);
    }

    #[test]
    fn zrange_options() {
        let a = argv(&[
            "zrange", "k", "5", "(1", "BYSCORE", "REV", "LIMIT", "1", "2",
        ]);
        let r = parse_range(&a, 2, None, None, false).unwrap();
        assert!(r.rev && r.offset == 1 && r.limit == 2);
        // REV with BYSCORE takes max first.
        match r.query {
            Query::Score(s) => assert!(s.min == 1.0 && s.minex && s.max == 5.0),
            other => panic!("{other:?}"),
        }
        let a = argv(&["zrangebyscore", "k", "0", "1", "REV"]);
        assert_eq!(
            parse_range(&a, 2, Some(RangeKind::Score), Some(false), false),
            Err(CmdError::Syntax)
        );
        let a = argv(&["zrangestore", "d", "k", "0", "1", "WITHSCORES"]);
        assert_eq!(parse_range(&a, 3, None, None, true), Err(CmdError::Syntax));
    }

    #[test]
    fn numkeys_errors() {
        let e = |parts: &[&str]| keys_numkeys(&argv(parts)).unwrap_err();
        assert_eq!(
            e(&["zunion", "0", "a"]),
            CmdError::raw("ERR at least 1 input key is needed for 'zunion' command")
        );
        assert_eq!(e(&["zinter", "x", "a"]), CmdError::NotInteger);
        assert_eq!(e(&["zinter", "3", "a"]), CmdError::Syntax);
        assert_eq!(
            keys_store(&argv(&[
                "zunionstore",
                "d",
                "2",
                "a",
                "b",
                "weights",
                "1",
                "2"
            ]))
            .unwrap(),
            vec![1, 3, 4]
        );
        assert_eq!(
            keys_zmpop(&argv(&["zmpop", "0", "a", "min"])).unwrap_err(),
            CmdError::raw("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            keys_zmpop(&argv(&["zmpop", "2", "a", "min"])).unwrap_err(),
            CmdError::Syntax
        );
        assert_eq!(
            keys_bzmpop(&argv(&["bzmpop", "0", "2", "a", "b", "max"])).unwrap(),
            vec![3, 4]
        );
        assert_eq!(
            bzpop_parse(&argv(&["bzpopmin", "a", "b", "0"])).unwrap(),
            BlockOn {
                keys: vec![1, 2],
                timeout: None
            }
        );
        assert_eq!(
            bzpop_parse(&argv(&["bzpopmin", "a", "1.5"]))
                .unwrap()
                .timeout,
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            bzpop_parse(&argv(&["bzpopmin", "a", "-1"])).unwrap_err(),
            CmdError::raw("ERR timeout is negative")
        );
    }

    #[test]
    fn pairs_render_per_protocol() {
        let f = pairs_frame(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), f64::INFINITY)]);
        assert_eq!(
            &f.to_bytes(Protocol::Resp2)[..],
            b"*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$3\r\ninf\r\n"
        );
        assert_eq!(
            &f.to_bytes(Protocol::Resp3)[..],
            b"*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,inf\r\n"
        );
        assert_eq!(&score_text(2.5)[..], b"2.5");
        assert_eq!(&score_text(f64::NEG_INFINITY)[..], b"-inf");
    }

    /// Runs one command as a state-machine entry (through `execute`, like a replica).
    fn run(s: &Storage, state: &mut KeyspaceState, index: u64, parts: &[&str]) -> Frame {
        let mut ctx = WriteCtx::new(s, state.clone(), 1000, index, vec![(0, 16383)]);
        let req = WriteRequest {
            now_ms: 1000,
            max_value_len: 512 * 1024 * 1024,
            op: WriteOp::Command {
                db: 0,
                argv: argv(parts),
            },
        };
        let reply = execute(&mut ctx, &req);
        *state = ctx.state.clone();
        s.write(ctx.overlay.into_batch()).unwrap();
        reply
    }

    #[test]
    fn both_indexes_stay_in_step() {
        let (_dir, s) = Storage::open_temp();
        let mut st = KeyspaceState::default();
        run(&s, &mut st, 1, &["zadd", "z", "3", "c", "1", "a", "2", "b"]);
        run(&s, &mut st, 2, &["zadd", "z", "5", "a"]);
        run(&s, &mut st, 3, &["zincrby", "z", "-10", "c"]);
        run(&s, &mut st, 4, &["zrem", "z", "b"]);
        let meta = {
            let ctx = WriteCtx::new(&s, st.clone(), 1000, 5, vec![(0, 16383)]);
            ctx.load(0, b"z").unwrap().unwrap()
        };
        assert_eq!(meta.size, 2);
        let prefix = crate::storage::keys::subkey_prefix(
            crate::cluster::key_slot(b"z"),
            0,
            b"z",
            meta.version,
        );
        let end = crate::storage::keys::prefix_end(&prefix).unwrap();
        let mut index = Vec::new();
        s.scan(Cf::ZScore, &prefix, &end, |k, _| {
            let suffix = &k[prefix.len()..];
            index.push((decode_score(suffix).unwrap(), suffix[8..].to_vec()));
            true
        })
        .unwrap();
        assert_eq!(index, vec![(-7.0, b"c".to_vec()), (5.0, b"a".to_vec())]);
        let mut members = Vec::new();
        s.scan(Cf::Subkey, &prefix, &end, |k, v| {
            members.push((k[prefix.len()..].to_vec(), decode_score(v).unwrap()));
            true
        })
        .unwrap();
        assert_eq!(members, vec![(b"a".to_vec(), 5.0), (b"c".to_vec(), -7.0)]);
        // Popping everything deletes the key.
        let r = run(&s, &mut st, 6, &["zpopmax", "z", "10"]);
        assert_eq!(
            r,
            pairs_frame(vec![(b"a".to_vec(), 5.0), (b"c".to_vec(), -7.0)])
        );
        assert_eq!(st.counters.keys[0], 0);
    }

    #[test]
    fn a_failed_zincrby_changes_nothing() {
        let (_dir, s) = Storage::open_temp();
        let mut st = KeyspaceState::default();
        run(&s, &mut st, 1, &["zadd", "z", "inf", "a"]);
        let r = run(&s, &mut st, 2, &["zincrby", "z", "-inf", "a"]);
        assert_eq!(r, nan_error().to_frame());
        let r = run(&s, &mut st, 3, &["zadd", "z", "incr", "1", "a"]);
        assert_eq!(r, Frame::Double(f64::INFINITY));
    }
}
