//! Generic key commands: DEL UNLINK EXISTS TYPE EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL
//! EXPIRETIME PEXPIRETIME PERSIST KEYS SCAN RENAME RENAMENX RANDOMKEY TOUCH COPY MOVE.
//!
//! Most commands touch only metadata, so they work for every type in O(1). RENAME, COPY and
//! MOVE of a collection also copy its members: they live in `Cf::Subkey` (and `Cf::ZScore`)
//! under a prefix made of the key name, the database and the version, so a new name or
//! database means new entries — O(N) in the collection's size, where Redis' RENAME and MOVE
//! are O(1) (Kvrocks makes the same trade). The source's old entries are left to the member
//! GC (storage/gc.rs), as for DEL.

use bytes::Bytes;
use rand::Rng;
use rocksdb::ReadOptions;

use super::args::{is, parse_i64};
use super::glob::glob_match;
use super::string::{load_stored, Stored};
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx, Split, WriteSpec};
use crate::cluster::{key_slot, SlotId};
use crate::node::CursorStore;
use crate::resp::Frame;
use crate::storage::keys::{decode_meta_key, meta_key, prefix_end, slot_db_prefix, subkey_prefix};
use crate::storage::keyspace::{unix_ms, WriteCtx, DATABASES};
use crate::storage::{Cf, Metadata, RedisType, Storage, StorageError};

// ------------------------------------------------------------------------- helpers

/// Type and deadline of `key` if it is live, without copying its value.
fn peek_live(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Option<(RedisType, u64)>, CmdError> {
    let slot = key_slot(key);
    // Through the context (not RocksDB directly): inside EXEC it sees the pending writes.
    let Some(raw) = ctx.get_raw(Cf::Meta, &meta_key(slot, ctx.pdb(slot), key))? else {
        return Ok(None);
    };
    let (typ, expire_ms) = Metadata::peek(&raw)?;
    Ok((expire_ms == 0 || expire_ms > ctx.now_ms).then_some((typ, expire_ms)))
}

/// The metadata `dst` (physical db `tpdb`) gets as a copy of `src`'s value `m`: a string is
/// its metadata; a collection gets a fresh version and a copy of every member entry under
/// it (RENAME, COPY, MOVE). Expiry and type-specific fields are kept.
fn copy_value(
    ctx: &mut WriteCtx<'_>,
    spdb: u8,
    src: &[u8],
    m: &Metadata,
    tpdb: u8,
    dst: &[u8],
) -> Result<Metadata, CmdError> {
    if m.typ == RedisType::String {
        return Ok(m.clone());
    }
    let mut new = m.clone();
    new.version = ctx.new_version();
    new.modified = ctx.log_index;
    let from = subkey_prefix(key_slot(src), spdb, src, m.version);
    let to = subkey_prefix(key_slot(dst), tpdb, dst, new.version);
    // The prefix ends with the 8-byte version, never all 0xff in practice.
    let end = prefix_end(&from).unwrap_or_else(|| from.clone());
    for cf in [Cf::Subkey, Cf::ZScore] {
        // Collected first: the overlay cannot be written while it is being scanned. The
        // write batch holds every copied entry anyway.
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        ctx.overlay.scan(cf, &from, &end, false, |k, v| {
            let mut key = to.clone();
            key.extend_from_slice(&k[from.len()..]);
            entries.push((key, v.to_vec()));
            true
        })?;
        for (k, v) in entries {
            ctx.overlay.put(cf, k, v);
        }
    }
    Ok(new)
}

fn same_object() -> CmdError {
    CmdError::raw("ERR source and destination objects are the same")
}

/// A database index argument (COPY ... DB n, MOVE key n), like Redis
/// `getIntFromObjectOrReply` followed by `selectDb`.
fn parse_db_index(arg: &[u8]) -> Result<u8, CmdError> {
    let v = parse_i64(arg)?;
    if v < i64::from(i32::MIN) || v > i64::from(i32::MAX) {
        return Err(CmdError::raw(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    if v < 0 || v >= DATABASES as i64 {
        return Err(CmdError::raw("ERR DB index is out of range"));
    }
    Ok(v as u8)
}

// ------------------------------------------------------------- DEL, EXISTS, TYPE, TOUCH

fn del_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let mut deleted = 0;
    for key in &args[1..] {
        let Stored { old, live } = load_stored(ctx, pdb, key)?;
        if let Some(old) = old {
            // An expired key is removed too (it was due anyway) but, as in Redis, not counted.
            ctx.remove(pdb, key, &old);
            deleted += i64::from(live);
        }
    }
    Ok(Frame::Integer(deleted))
}

/// EXISTS and TOUCH: how many of the arguments are live keys (repeats count again).
fn count_live(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let mut n = 0;
    for key in &args[1..] {
        n += i64::from(peek_live(ctx, key)?.is_some());
    }
    Ok(Frame::Integer(n))
}

fn type_(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(Frame::simple(match peek_live(ctx, &args[1])? {
        Some((typ, _)) => typ.name(),
        None => "none",
    }))
}

// ------------------------------------------------------------------------- expiry

#[derive(Debug, Default, PartialEq, Eq)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Redis `parseExtendedExpireArgumentsOrReply` (options after the time, repeats allowed).
fn parse_expire_flags(args: &[Bytes]) -> Result<ExpireFlags, CmdError> {
    let mut f = ExpireFlags::default();
    for a in &args[3..] {
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            return Err(CmdError::Raw(
                format!("ERR Unsupported option {}", String::from_utf8_lossy(a)).into(),
            ));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::raw(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CmdError::raw(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// The absolute deadline (ms, possibly negative) of EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT
/// at `now_ms`, with Redis' overflow checks. Unlike SET, any integer is accepted: a deadline
/// in the past deletes the key.
fn expire_deadline(args: &[Bytes], now_ms: u64) -> Result<i64, CmdError> {
    let name = &args[0];
    let (cmd, seconds, relative) = if is(name, "expire") {
        ("expire", true, true)
    } else if is(name, "pexpire") {
        ("pexpire", false, true)
    } else if is(name, "expireat") {
        ("expireat", true, false)
    } else {
        ("pexpireat", false, false)
    };
    let invalid = || super::string::invalid_expire(cmd);
    let mut when = parse_i64(&args[2])?;
    if seconds {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    if relative {
        when = when.checked_add(now_ms as i64).ok_or_else(invalid)?;
    }
    Ok(when)
}

fn expire_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_expire_flags(args)?;
    expire_deadline(args, unix_ms()).map(|_| ())
}

fn expire_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let flags = parse_expire_flags(args)?;
    let when = expire_deadline(args, ctx.now_ms)?;
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let st = load_stored(ctx, pdb, key)?;
    let Some(m) = st.live() else {
        return Ok(Frame::Integer(0));
    };
    // -1 = no expiry, which GT treats as infinite and LT as "anything is less".
    let current = if m.expire_ms == 0 {
        -1
    } else {
        m.expire_ms.min(i64::MAX as u64) as i64
    };
    let refused = (flags.nx && current != -1)
        || (flags.xx && current == -1)
        || (flags.gt && (current == -1 || when <= current))
        || (flags.lt && current != -1 && when >= current);
    if refused {
        return Ok(Frame::Integer(0));
    }
    if when <= ctx.now_ms as i64 {
        ctx.remove(pdb, key, m);
        return Ok(Frame::Integer(1));
    }
    let mut new = m.clone();
    new.expire_ms = when as u64;
    ctx.store(pdb, key, &new, st.old.as_ref());
    Ok(Frame::Integer(1))
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME (Redis `ttlGenericCommand`).
fn ttl_generic(ctx: &ReadCtx<'_>, key: &[u8], ms: bool, absolute: bool) -> CmdResult {
    let Some((_, expire_ms)) = peek_live(ctx, key)? else {
        return Ok(Frame::Integer(-2));
    };
    if expire_ms == 0 {
        return Ok(Frame::Integer(-1));
    }
    let v = if absolute {
        expire_ms
    } else {
        expire_ms.saturating_sub(ctx.now_ms)
    };
    // Seconds are rounded to the nearest, as Redis does ((ms + 500) / 1000).
    let v = if ms { v } else { v.saturating_add(500) / 1000 };
    Ok(Frame::Integer(v.min(i64::MAX as u64) as i64))
}

fn ttl(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], false, false)
}

fn pttl(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], true, false)
}

fn expiretime(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], false, true)
}

fn pexpiretime(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], true, true)
}

fn persist_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let st = load_stored(ctx, pdb, &args[1])?;
    match st.live() {
        Some(m) if m.expire_ms != 0 => {
            let mut new = m.clone();
            new.expire_ms = 0;
            ctx.store(pdb, &args[1], &new, st.old.as_ref());
            Ok(Frame::Integer(1))
        }
        _ => Ok(Frame::Integer(0)),
    }
}

// ----------------------------------------------------------------- iterating keys

/// Where a walk over the node's keys starts.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pos {
    /// At the first key of a slot.
    Slot(u16),
    /// At the first key >= the given user key in a slot.
    At(u16, Vec<u8>),
    /// At the first key > the given user key in a slot (a SCAN cursor's position).
    After(u16, Vec<u8>),
}

impl Pos {
    /// The bytes a SCAN cursor remembers: the raw meta key of the last key examined (its db
    /// byte is ignored on resume: SWAPDB may have remapped the database since), or just the
    /// 2-byte slot id for "start of that slot". 2 bytes cannot be a meta key (those have 3+).
    fn encode(&self, pdb: u8) -> Vec<u8> {
        match self {
            Pos::Slot(s) => s.to_be_bytes().to_vec(),
            Pos::At(s, k) | Pos::After(s, k) => meta_key(SlotId(*s), pdb, k),
        }
    }

    fn slot(&self) -> u16 {
        match self {
            Pos::Slot(s) | Pos::At(s, _) | Pos::After(s, _) => *s,
        }
    }

    fn decode(raw: &[u8]) -> Option<Pos> {
        if raw.len() == 2 {
            return Some(Pos::Slot(u16::from_be_bytes([raw[0], raw[1]])));
        }
        let (slot, _, key) = decode_meta_key(raw)?;
        Some(Pos::After(slot.0, key.to_vec()))
    }
}

/// How a walk ended.
#[derive(Debug, PartialEq, Eq)]
enum Walked {
    /// Every key from the start position on was examined.
    Done,
    /// Stopped (budget or visitor); resume from here.
    At(Pos),
}

/// The keys a KEYS / SCAN / RANDOMKEY sees: the client's database over every slot of the
/// node, at the read's time.
struct KeySpace<'a> {
    storage: &'a Storage,
    /// The node's slot ranges in ascending order, each with its group's physical database
    /// for the client's logical database.
    ranges: Vec<(u16, u16, u8)>,
    now_ms: u64,
}

impl<'a> KeySpace<'a> {
    fn of(ctx: &ReadCtx<'a>) -> Result<KeySpace<'a>, CmdError> {
        // The groups this node answers for (all of them when standalone; in a cluster the
        // ones it leads, as a Redis Cluster master lists only its own slots' keys).
        let mut ranges: Vec<(u16, u16, u8)> = ctx
            .node()?
            .served_groups(false)
            .iter()
            .flat_map(|g| {
                g.ranges
                    .iter()
                    .map(|&(lo, hi)| (lo, hi, ctx.pdb(SlotId(lo))))
            })
            .collect();
        ranges.sort_unstable();
        Ok(KeySpace {
            storage: ctx.storage(),
            ranges,
            now_ms: ctx.now_ms,
        })
    }

    /// The physical database of `slot` (0 if the node does not serve it).
    fn pdb(&self, slot: u16) -> u8 {
        self.ranges
            .iter()
            .find(|r| r.0 <= slot && slot <= r.1)
            .map_or(0, |r| r.2)
    }

    fn iter(&self) -> rocksdb::DBRawIteratorWithThreadMode<'a, rocksdb::DB> {
        self.storage
            .db()
            .raw_iterator_cf_opt(self.storage.cf(Cf::Meta), ReadOptions::default())
    }

    /// Walks the keys in (slot, key) order from `from`, calling `visit(key, type)` for each
    /// live key until it returns false.
    ///
    /// Examines at most `max_keys` stored keys (expired ones included) and makes at most
    /// `max_seeks` seeks. Empty slots cost nothing: a seek that lands in a later slot jumps
    /// there, since no key of any database lies in between. Slots holding only other
    /// databases' keys cost one seek each, which is what `max_seeks` bounds.
    fn walk(
        &self,
        from: Pos,
        max_keys: usize,
        max_seeks: usize,
        visit: impl FnMut(&[u8], RedisType) -> bool,
    ) -> Result<Walked, CmdError> {
        // Measured like every scan: a walk that steps over many dead entries gets them
        // dropped in the background (storage::compactor).
        // Slots are below 16384, so the slot after the last one fits the 2-byte prefix.
        let lo = self.ranges.iter().map(|r| r.0).min().unwrap_or(0);
        let hi = self
            .ranges
            .iter()
            .map(|r| r.1.saturating_add(1))
            .max()
            .unwrap_or(0);
        self.storage
            .probed(Cf::Meta, &lo.to_be_bytes(), &hi.to_be_bytes(), || {
                self.walk_unprobed(from, max_keys, max_seeks, visit)
            })
    }

    fn walk_unprobed(
        &self,
        from: Pos,
        max_keys: usize,
        max_seeks: usize,
        mut visit: impl FnMut(&[u8], RedisType) -> bool,
    ) -> Result<Walked, CmdError> {
        let mut it = self.iter();
        let (mut slot, mut start) = match from {
            Pos::Slot(s) => (u32::from(s), None),
            Pos::At(s, k) => (u32::from(s), Some((k, true))),
            Pos::After(s, k) => (u32::from(s), Some((k, false))),
        };
        let (mut examined, mut seeks) = (0usize, 0usize);
        loop {
            let Some(&(lo, _, pdb)) = self.ranges.iter().find(|r| u32::from(r.1) >= slot) else {
                return Ok(Walked::Done);
            };
            if slot < u32::from(lo) {
                slot = u32::from(lo);
                start = None;
            }
            if seeks >= max_seeks {
                return Ok(Walked::At(match start {
                    Some((k, true)) => Pos::At(slot as u16, k),
                    Some((k, false)) => Pos::After(slot as u16, k),
                    None => Pos::Slot(slot as u16),
                }));
            }
            seeks += 1;
            let mut prefix = slot_db_prefix(SlotId(slot as u16), pdb);
            let mut seek_key = prefix.to_vec();
            let skip_exact = match &start {
                Some((k, inclusive)) => {
                    seek_key.extend_from_slice(k);
                    !inclusive
                }
                None => false,
            };
            it.seek(&seek_key);
            let mut next_slot = slot + 1;
            loop {
                let Some(raw) = it.key() else {
                    it.status().map_err(StorageError::from)?;
                    // Nothing at or after this point in any slot.
                    return Ok(Walked::Done);
                };
                if !raw.starts_with(&prefix) {
                    if raw.len() >= 3 {
                        let landed = u16::from_be_bytes([raw[0], raw[1]]);
                        // Landed on the first key of the next slot's database: carry on
                        // without a seek. With one database in use (the common case) a whole
                        // walk is then a single sequential pass instead of a seek per slot.
                        let same_db = self
                            .ranges
                            .iter()
                            .find(|r| r.0 <= landed && landed <= r.1)
                            .is_some_and(|r| r.2 == raw[2]);
                        if same_db && u32::from(landed) > slot {
                            slot = u32::from(landed);
                            prefix = slot_db_prefix(SlotId(landed), raw[2]);
                            next_slot = slot + 1;
                            continue;
                        }
                        next_slot = next_slot.max(u32::from(landed));
                    }
                    break;
                }
                if skip_exact && raw == &seek_key[..] {
                    it.next();
                    continue;
                }
                let (typ, expire_ms) = Metadata::peek(it.value().unwrap_or_default())?;
                let key = &raw[prefix.len()..];
                examined += 1;
                let live = expire_ms == 0 || expire_ms > self.now_ms;
                if (live && !visit(key, typ)) || examined >= max_keys {
                    return Ok(Walked::At(Pos::After(slot as u16, key.to_vec())));
                }
                it.next();
            }
            slot = next_slot;
            start = None;
        }
    }

    /// A random starting point in `slot`: somewhere between its first and last key.
    fn random_pos_in_slot(&self, slot: u16, rng: &mut impl Rng) -> Result<Pos, CmdError> {
        let prefix = slot_db_prefix(SlotId(slot), self.pdb(slot));
        let Some(end) = prefix_end(&prefix) else {
            return Ok(Pos::Slot(slot));
        };
        let mut it = self.iter();
        it.seek(prefix);
        let first = match it.key() {
            Some(k) if k.starts_with(&prefix) => k[prefix.len()..].to_vec(),
            _ => {
                it.status().map_err(StorageError::from)?;
                return Ok(Pos::Slot(slot));
            }
        };
        it.seek_for_prev(&end);
        if it.key() == Some(&end[..]) {
            it.prev();
        }
        let last = match it.key() {
            Some(k) if k.starts_with(&prefix) => k[prefix.len()..].to_vec(),
            _ => first.clone(),
        };
        it.status().map_err(StorageError::from)?;
        Ok(Pos::At(slot, random_between(&first, &last, rng)))
    }
}

fn keys(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    keys_in(&KeySpace::of(ctx)?, &args[1])
}

fn keys_in(ks: &KeySpace<'_>, pattern: &[u8]) -> CmdResult {
    // "*" is special-cased as in Redis: it matches the empty key, which the matcher does not.
    let all = pattern == b"*";
    let mut out = Vec::new();
    ks.walk(Pos::Slot(0), usize::MAX, usize::MAX, |key, _| {
        if all || glob_match(pattern, key, false) {
            out.push(Frame::Bulk(Bytes::copy_from_slice(key)));
        }
        true
    })?;
    Ok(Frame::Array(out))
}

/// Seeks one SCAN call may spend on slots holding only other databases' keys.
const SCAN_EXTRA_SEEKS: usize = 256;

/// A SCAN cursor, parsed like Redis' `strtoul` check: optional sign, decimal digits, no
/// leading space, no trailing bytes; "" is 0 and a negative number wraps.
fn parse_cursor(a: &[u8]) -> Option<u64> {
    if a.is_empty() {
        return Some(0);
    }
    if matches!(a[0], b' ' | b'\t'..=b'\r') {
        return None;
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

#[derive(Debug, PartialEq)]
struct ScanOptions<'a> {
    count: usize,
    pattern: Option<&'a [u8]>,
    typ: Option<&'a [u8]>,
}

fn parse_scan_options(args: &[Bytes]) -> Result<ScanOptions<'_>, CmdError> {
    let mut o = ScanOptions {
        count: 10,
        pattern: None,
        typ: None,
    };
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if i + 1 >= args.len() {
            return Err(CmdError::Syntax);
        }
        let v = &args[i + 1][..];
        if is(a, "count") {
            let n = parse_i64(v)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            o.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is(a, "match") {
            // "*" matches everything (including the empty key): no pattern at all.
            o.pattern = (v != b"*").then_some(v);
        } else if is(a, "type") {
            // Redis 7.0 accepts any name; an unknown one simply matches nothing.
            o.typ = Some(v);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(o)
}

fn scan(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    scan_in(&KeySpace::of(ctx)?, &ctx.node()?.cursors, args)
}

fn scan_in(ks: &KeySpace<'_>, cursors: &CursorStore, args: &[Bytes]) -> CmdResult {
    let invalid = || CmdError::raw("ERR invalid cursor");
    let cursor = parse_cursor(&args[1]).ok_or_else(invalid)?;
    let o = parse_scan_options(args)?;
    let from = if cursor == 0 {
        Pos::Slot(0)
    } else {
        let raw = cursors.load(cursor).ok_or_else(invalid)?;
        Pos::decode(&raw).ok_or_else(invalid)?
    };
    let mut found = Vec::new();
    let max_seeks = o.count.saturating_add(SCAN_EXTRA_SEEKS);
    let walked = ks.walk(from, o.count, max_seeks, |key, typ| {
        let type_ok = o
            .typ
            .is_none_or(|t| t.eq_ignore_ascii_case(typ.name().as_bytes()));
        if type_ok && o.pattern.is_none_or(|p| glob_match(p, key, false)) {
            found.push(Frame::Bulk(Bytes::copy_from_slice(key)));
        }
        true
    })?;
    let next = match walked {
        Walked::Done => 0,
        Walked::At(pos) => cursors.save(pos.encode(ks.pdb(pos.slot()))),
    };
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(found),
    ]))
}

/// Keys RANDOMKEY may examine (expired ones are skipped) before giving up with nil.
const RANDOM_BUDGET: usize = 10_000;
/// Up to this many keys RANDOMKEY picks uniformly among all of them.
const RANDOM_SMALL_DB: u64 = 256;

/// A random user key between `first` and `last` (inclusive, `first <= last`): their common
/// prefix followed by a uniform choice between the next 8 bytes of each.
fn random_between(first: &[u8], last: &[u8], rng: &mut impl Rng) -> Vec<u8> {
    let common = first.iter().zip(last).take_while(|(a, b)| a == b).count();
    let next8 = |k: &[u8]| {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(k.iter().skip(common)) {
            *d = *s;
        }
        u64::from_be_bytes(b)
    };
    let (a, b) = (next8(first), next8(last));
    let r = if a < b { rng.gen_range(a..=b) } else { a };
    let mut out = first[..common].to_vec();
    out.extend_from_slice(&r.to_be_bytes());
    out
}

fn randomkey(ctx: &ReadCtx<'_>, _args: &[Bytes]) -> CmdResult {
    let (count, _) = ctx.node()?.key_counts(ctx.db);
    randomkey_in(&KeySpace::of(ctx)?, count, &mut rand::thread_rng())
}

/// RANDOMKEY over `count` keys (the database's key counter, expired keys included). Small
/// databases: uniform over all keys. Larger ones: a random slot, a random point between its
/// first and last key, and the first live key from there (wrapping around); close to uniform
/// when keys spread over many slots, as hashing makes them.
fn randomkey_in(ks: &KeySpace<'_>, count: u64, rng: &mut impl Rng) -> CmdResult {
    if count == 0 {
        return Ok(Frame::Null);
    }
    if count <= RANDOM_SMALL_DB {
        let mut all = Vec::new();
        ks.walk(Pos::Slot(0), RANDOM_BUDGET, usize::MAX, |k, _| {
            all.push(k.to_vec());
            true
        })?;
        return Ok(match all.len() {
            0 => Frame::Null,
            n => Frame::Bulk(Bytes::from(all.swap_remove(rng.gen_range(0..n)))),
        });
    }
    let total: u32 = ks.ranges.iter().map(|r| u32::from(r.1 - r.0) + 1).sum();
    let mut pick = rng.gen_range(0..total.max(1));
    let mut slot = 0;
    for &(lo, hi, _) in &ks.ranges {
        let len = u32::from(hi - lo) + 1;
        if pick < len {
            slot = lo + pick as u16;
            break;
        }
        pick -= len;
    }
    let start = ks.random_pos_in_slot(slot, rng)?;
    let mut found: Option<Vec<u8>> = None;
    let mut take = |k: &[u8], _: RedisType| {
        found = Some(k.to_vec());
        false
    };
    if ks.walk(start, RANDOM_BUDGET, usize::MAX, &mut take)? == Walked::Done {
        ks.walk(Pos::Slot(0), RANDOM_BUDGET, usize::MAX, &mut take)?;
    }
    Ok(match found {
        Some(k) => Frame::Bulk(Bytes::from(k)),
        None => Frame::Null,
    })
}

// ------------------------------------------------------------ RENAME, COPY, MOVE

fn rename_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let nx = is(&args[0], "renamenx");
    let (src, dst) = (&args[1], &args[2]);
    let pdb = ctx.pdb(db);
    let s = load_stored(ctx, pdb, src)?;
    let Some(m) = s.live().cloned() else {
        return Err(CmdError::NoSuchKey);
    };
    let done = |moved: bool| {
        if nx {
            Frame::Integer(i64::from(moved))
        } else {
            Frame::ok()
        }
    };
    if src == dst {
        return Ok(done(false));
    }
    let d = load_stored(ctx, pdb, dst)?;
    if nx && d.live {
        return Ok(done(false));
    }
    // The value moves with its TTL; an existing destination (of any type) is replaced.
    let moved = copy_value(ctx, pdb, src, &m, pdb, dst)?;
    ctx.remove(pdb, src, &m);
    ctx.store(pdb, dst, &moved, d.old.as_ref());
    Ok(done(true))
}

struct CopyOptions {
    replace: bool,
    db: Option<u8>,
}

fn parse_copy(args: &[Bytes]) -> Result<CopyOptions, CmdError> {
    let mut o = CopyOptions {
        replace: false,
        db: None,
    };
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "replace") {
            o.replace = true;
        } else if is(&args[i], "db") && i + 1 < args.len() {
            o.db = Some(parse_db_index(&args[i + 1])?);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

fn copy_validate(args: &[Bytes]) -> Result<(), CmdError> {
    let o = parse_copy(args)?;
    // Without DB the target is the source database: same key = same object. (With DB only
    // the apply knows the client's database.)
    if o.db.is_none() && args[1] == args[2] {
        return Err(same_object());
    }
    Ok(())
}

fn copy_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let o = parse_copy(args)?;
    let target = o.db.unwrap_or(db);
    let (src, dst) = (&args[1], &args[2]);
    if target == db && src == dst {
        return Err(same_object());
    }
    let (spdb, tpdb) = (ctx.pdb(db), ctx.pdb(target));
    let Some(m) = load_stored(ctx, spdb, src)?.live().cloned() else {
        return Ok(Frame::Integer(0));
    };
    let d = load_stored(ctx, tpdb, dst)?;
    if d.live && !o.replace {
        return Ok(Frame::Integer(0));
    }
    let copied = copy_value(ctx, spdb, src, &m, tpdb, dst)?;
    ctx.store(tpdb, dst, &copied, d.old.as_ref());
    Ok(Frame::Integer(1))
}

fn move_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_db_index(&args[2]).map(|_| ())
}

fn move_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let target = parse_db_index(&args[2])?;
    if target == db {
        return Err(same_object());
    }
    let key = &args[1];
    let (spdb, tpdb) = (ctx.pdb(db), ctx.pdb(target));
    let Some(m) = load_stored(ctx, spdb, key)?.live().cloned() else {
        return Ok(Frame::Integer(0));
    };
    let d = load_stored(ctx, tpdb, key)?;
    if d.live {
        return Ok(Frame::Integer(0));
    }
    let moved = copy_value(ctx, spdb, key, &m, tpdb, key)?;
    ctx.remove(spdb, key, &m);
    ctx.store(tpdb, key, &moved, d.old.as_ref());
    Ok(Frame::Integer(1))
}

// ------------------------------------------------------------------------------ table

const RF: &[&str] = &["readonly", "fast"];
const R: &[&str] = &["readonly"];
const WF: &[&str] = &["write", "fast"];
const ACL_RF: &[&str] = &["keyspace", "read", "fast"];
const ACL_RS: &[&str] = &["keyspace", "read", "slow"];
const ACL_WF: &[&str] = &["keyspace", "write", "fast"];
const ACL_WS: &[&str] = &["keyspace", "write", "slow"];

#[allow(clippy::too_many_arguments)]
const fn spec(
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
        "generic", name, arity, flags, keys, acl, summary, since, handler,
    )
}

const fn write(
    validate: fn(&[Bytes]) -> Result<(), CmdError>,
    apply: fn(&mut WriteCtx<'_>, u8, &[Bytes]) -> CmdResult,
    split: Split,
) -> Handler {
    Handler::Write(WriteSpec {
        validate,
        apply,
        split,
    })
}

use super::no_validation as none;

const ONE: (i32, i32, i32) = (1, 1, 1);
const ALL: (i32, i32, i32) = (1, -1, 1);
const TWO: (i32, i32, i32) = (1, 2, 1);
const NO_KEYS: (i32, i32, i32) = (0, 0, 0);

pub static SPECS: &[CommandSpec] = &[
    spec(
        "del",
        -2,
        &["write"],
        ALL,
        ACL_WS,
        "Delete a key",
        "1.0.0",
        write(none, del_apply, Split::SumIntegers),
    ),
    spec(
        "unlink",
        -2,
        WF,
        ALL,
        ACL_WF,
        "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
        "4.0.0",
        write(none, del_apply, Split::SumIntegers),
    ),
    spec(
        "exists",
        -2,
        RF,
        ALL,
        ACL_RF,
        "Determine if a key exists",
        "1.0.0",
        Handler::Read(count_live),
    ),
    spec(
        "type",
        2,
        RF,
        ONE,
        ACL_RF,
        "Determine the type stored at key",
        "1.0.0",
        Handler::Read(type_),
    ),
    spec(
        "expire",
        -3,
        WF,
        ONE,
        ACL_WF,
        "Set a key's time to live in seconds",
        "1.0.0",
        write(expire_validate, expire_apply, Split::Never),
    ),
    spec(
        "pexpire",
        -3,
        WF,
        ONE,
        ACL_WF,
        "Set a key's time to live in milliseconds",
        "2.6.0",
        write(expire_validate, expire_apply, Split::Never),
    ),
    spec(
        "expireat",
        -3,
        WF,
        ONE,
        ACL_WF,
        "Set the expiration for a key as a UNIX timestamp",
        "1.2.0",
        write(expire_validate, expire_apply, Split::Never),
    ),
    spec(
        "pexpireat",
        -3,
        WF,
        ONE,
        ACL_WF,
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        "2.6.0",
        write(expire_validate, expire_apply, Split::Never),
    ),
    spec(
        "ttl",
        2,
        RF,
        ONE,
        ACL_RF,
        "Get the time to live for a key in seconds",
        "1.0.0",
        Handler::Read(ttl),
    ),
    spec(
        "pttl",
        2,
        RF,
        ONE,
        ACL_RF,
        "Get the time to live for a key in milliseconds",
        "2.6.0",
        Handler::Read(pttl),
    ),
    spec(
        "expiretime",
        2,
        RF,
        ONE,
        ACL_RF,
        "Get the expiration Unix timestamp for a key",
        "7.0.0",
        Handler::Read(expiretime),
    ),
    spec(
        "pexpiretime",
        2,
        RF,
        ONE,
        ACL_RF,
        "Get the expiration Unix timestamp for a key in milliseconds",
        "7.0.0",
        Handler::Read(pexpiretime),
    ),
    spec(
        "persist",
        2,
        WF,
        ONE,
        ACL_WF,
        "Remove the expiration from a key",
        "2.2.0",
        write(none, persist_apply, Split::Never),
    ),
    spec(
        "keys",
        2,
        R,
        NO_KEYS,
        &["keyspace", "read", "slow", "dangerous"],
        "Find all keys matching the given pattern",
        "1.0.0",
        Handler::Read(keys),
    ),
    spec(
        "scan",
        -2,
        R,
        NO_KEYS,
        ACL_RS,
        "Incrementally iterate the keys space",
        "2.8.0",
        Handler::Read(scan),
    ),
    spec(
        "rename",
        3,
        &["write"],
        TWO,
        ACL_WS,
        "Rename a key",
        "1.0.0",
        write(none, rename_apply, Split::Never),
    ),
    spec(
        "renamenx",
        3,
        WF,
        TWO,
        ACL_WF,
        "Rename a key, only if the new key does not exist",
        "1.0.0",
        write(none, rename_apply, Split::Never),
    ),
    spec(
        "randomkey",
        1,
        R,
        NO_KEYS,
        ACL_RS,
        "Return a random key from the keyspace",
        "1.0.0",
        Handler::Read(randomkey),
    ),
    spec(
        "touch",
        -2,
        RF,
        ALL,
        ACL_RF,
        "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        "3.2.1",
        Handler::Read(count_live),
    ),
    spec(
        "copy",
        -3,
        &["write", "denyoom"],
        TWO,
        ACL_WS,
        "Copy a key",
        "6.2.0",
        write(copy_validate, copy_apply, Split::Never),
    ),
    spec(
        "move",
        3,
        WF,
        ONE,
        ACL_WF,
        "Move a key to another database",
        "1.0.0",
        write(move_validate, move_apply, Split::Never),
    ),
];

#[cfg(test)]
mod tests {
    use super::super::coll::CollWrite;
    use super::super::string::testing::{argv, Harness, NOW};
    use super::*;
    use crate::storage::keyspace::KeyspaceState;

    fn err(s: &'static str) -> Frame {
        Frame::error(s)
    }

    fn int(i: i64) -> Frame {
        Frame::Integer(i)
    }

    #[test]
    fn key_positions_match_redis() {
        // (name, arity, first, last, step, flags, acl) from redis-server 7.0 COMMAND INFO.
        type Row = (
            &'static str,
            i32,
            i32,
            i32,
            i32,
            &'static [&'static str],
            &'static [&'static str],
        );
        let rows: &[Row] = &[
            (
                "get",
                2,
                1,
                1,
                1,
                &["readonly", "fast"],
                &["read", "string", "fast"],
            ),
            (
                "set",
                -3,
                1,
                1,
                1,
                &["write", "denyoom"],
                &["write", "string", "slow"],
            ),
            (
                "setnx",
                3,
                1,
                1,
                1,
                &["write", "denyoom", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "setex",
                4,
                1,
                1,
                1,
                &["write", "denyoom"],
                &["write", "string", "slow"],
            ),
            (
                "psetex",
                4,
                1,
                1,
                1,
                &["write", "denyoom"],
                &["write", "string", "slow"],
            ),
            (
                "getset",
                3,
                1,
                1,
                1,
                &["write", "denyoom", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "getdel",
                2,
                1,
                1,
                1,
                &["write", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "getex",
                -2,
                1,
                1,
                1,
                &["write", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "mget",
                -2,
                1,
                -1,
                1,
                &["readonly", "fast"],
                &["read", "string", "fast"],
            ),
            (
                "mset",
                -3,
                1,
                -1,
                2,
                &["write", "denyoom"],
                &["write", "string", "slow"],
            ),
            (
                "msetnx",
                -3,
                1,
                -1,
                2,
                &["write", "denyoom"],
                &["write", "string", "slow"],
            ),
            (
                "incr",
                2,
                1,
                1,
                1,
                &["write", "denyoom", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "decr",
                2,
                1,
                1,
                1,
                &["write", "denyoom", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "incrby",
                3,
                1,
                1,
                1,
                &["write", "denyoom", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "decrby",
                3,
                1,
                1,
                1,
                &["write", "denyoom", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "incrbyfloat",
                3,
                1,
                1,
                1,
                &["write", "denyoom", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "append",
                3,
                1,
                1,
                1,
                &["write", "denyoom", "fast"],
                &["write", "string", "fast"],
            ),
            (
                "strlen",
                2,
                1,
                1,
                1,
                &["readonly", "fast"],
                &["read", "string", "fast"],
            ),
            (
                "getrange",
                4,
                1,
                1,
                1,
                &["readonly"],
                &["read", "string", "slow"],
            ),
            (
                "setrange",
                4,
                1,
                1,
                1,
                &["write", "denyoom"],
                &["write", "string", "slow"],
            ),
            (
                "substr",
                4,
                1,
                1,
                1,
                &["readonly"],
                &["read", "string", "slow"],
            ),
            (
                "del",
                -2,
                1,
                -1,
                1,
                &["write"],
                &["keyspace", "write", "slow"],
            ),
            (
                "unlink",
                -2,
                1,
                -1,
                1,
                &["write", "fast"],
                &["keyspace", "write", "fast"],
            ),
            (
                "exists",
                -2,
                1,
                -1,
                1,
                &["readonly", "fast"],
                &["keyspace", "read", "fast"],
            ),
            (
                "type",
                2,
                1,
                1,
                1,
                &["readonly", "fast"],
                &["keyspace", "read", "fast"],
            ),
            (
                "expire",
                -3,
                1,
                1,
                1,
                &["write", "fast"],
                &["keyspace", "write", "fast"],
            ),
            (
                "pexpire",
                -3,
                1,
                1,
                1,
                &["write", "fast"],
                &["keyspace", "write", "fast"],
            ),
            (
                "expireat",
                -3,
                1,
                1,
                1,
                &["write", "fast"],
                &["keyspace", "write", "fast"],
            ),
            (
                "pexpireat",
                -3,
                1,
                1,
                1,
                &["write", "fast"],
                &["keyspace", "write", "fast"],
            ),
            (
                "ttl",
                2,
                1,
                1,
                1,
                &["readonly", "fast"],
                &["keyspace", "read", "fast"],
            ),
            (
                "pttl",
                2,
                1,
                1,
                1,
                &["readonly", "fast"],
                &["keyspace", "read", "fast"],
            ),
            (
                "expiretime",
                2,
                1,
                1,
                1,
                &["readonly", "fast"],
                &["keyspace", "read", "fast"],
            ),
            (
                "pexpiretime",
                2,
                1,
                1,
                1,
                &["readonly", "fast"],
                &["keyspace", "read", "fast"],
            ),
            (
                "persist",
                2,
                1,
                1,
                1,
                &["write", "fast"],
                &["keyspace", "write", "fast"],
            ),
            (
                "keys",
                2,
                0,
                0,
                0,
                &["readonly"],
                &["keyspace", "read", "slow", "dangerous"],
            ),
            (
                "scan",
                -2,
                0,
                0,
                0,
                &["readonly"],
                &["keyspace", "read", "slow"],
            ),
            (
                "rename",
                3,
                1,
                2,
                1,
                &["write"],
                &["keyspace", "write", "slow"],
            ),
            (
                "renamenx",
                3,
                1,
                2,
                1,
                &["write", "fast"],
                &["keyspace", "write", "fast"],
            ),
            (
                "randomkey",
                1,
                0,
                0,
                0,
                &["readonly"],
                &["keyspace", "read", "slow"],
            ),
            (
                "touch",
                -2,
                1,
                -1,
                1,
                &["readonly", "fast"],
                &["keyspace", "read", "fast"],
            ),
            (
                "copy",
                -3,
                1,
                2,
                1,
                &["write", "denyoom"],
                &["keyspace", "write", "slow"],
            ),
            (
                "move",
                3,
                1,
                1,
                1,
                &["write", "fast"],
                &["keyspace", "write", "fast"],
            ),
        ];
        let ours = SPECS.len() + super::super::string::SPECS.len();
        assert_eq!(ours, rows.len(), "every string/key command has a row");
        for &(name, arity, first, last, step, flags, acl) in rows {
            let s = super::super::lookup(name.as_bytes()).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(
                (s.arity, s.first_key, s.last_key, s.step, s.flags, s.acl),
                (arity, first, last, step, flags, acl),
                "{name}"
            );
            assert!(!s.summary.is_empty() && !s.since.is_empty(), "{name}");
            if let Handler::Write(w) = s.handler {
                let want = match name {
                    "del" | "unlink" => Split::SumIntegers,
                    "mset" => Split::AllOk,
                    _ => Split::Never,
                };
                assert_eq!(w.split, want, "{name}");
            }
        }
        let copy = super::super::lookup(b"copy").unwrap();
        assert_eq!(copy.key_indices(6), vec![1, 2]);
        let rename = super::super::lookup(b"rename").unwrap();
        assert_eq!(rename.key_indices(3), vec![1, 2]);
        let mv = super::super::lookup(b"move").unwrap();
        assert_eq!(mv.key_indices(3), vec![1]);
    }

    #[test]
    fn del_counts_live_keys_once() {
        let mut h = Harness::new();
        h.run(&["mset", "a", "1", "b", "2"]);
        h.run(&["set", "e", "1", "px", "10"]);
        h.now_ms += 10;
        assert_eq!(h.run(&["del", "a", "a", "e", "missing", "b"]), int(2));
        assert_eq!(h.state.counters.keys[0], 0, "expired key removed as well");
        assert_eq!(h.state.counters.expires[0], 0);
        assert_eq!(h.run(&["unlink", "a"]), int(0));
    }

    #[test]
    fn expire_flags_parse_like_redis() {
        let p = |parts: &[&str]| parse_expire_flags(&argv(parts));
        assert_eq!(
            p(&["expire", "k", "1", "nx", "NX"]),
            Ok(ExpireFlags {
                nx: true,
                ..Default::default()
            })
        );
        let nxx = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        let gtlt = err("ERR GT and LT options at the same time are not compatible");
        assert_eq!(
            p(&["expire", "k", "1", "nx", "xx"]).unwrap_err().to_frame(),
            nxx
        );
        assert_eq!(
            p(&["expire", "k", "1", "gt", "nx"]).unwrap_err().to_frame(),
            nxx
        );
        assert_eq!(
            p(&["expire", "k", "1", "gt", "lt"]).unwrap_err().to_frame(),
            gtlt
        );
        assert_eq!(
            p(&["expire", "k", "1", "xx", "foo"])
                .unwrap_err()
                .to_frame(),
            err("ERR Unsupported option foo")
        );
    }

    #[test]
    fn expire_family() {
        let mut h = Harness::new();
        h.run(&["set", "k", "v"]);
        assert_eq!(h.run(&["expire", "missing", "10"]), int(0));
        assert_eq!(h.run(&["expire", "k", "100", "xx"]), int(0));
        assert_eq!(
            h.run(&["expire", "k", "100", "gt"]),
            int(0),
            "no TTL is infinite"
        );
        assert_eq!(h.run(&["expire", "k", "100", "lt"]), int(1));
        assert_eq!(h.get(0, "k").unwrap().1, NOW + 100_000);
        assert_eq!(h.state.counters.expires[0], 1);
        assert_eq!(h.run(&["expire", "k", "50", "nx"]), int(0));
        assert_eq!(h.run(&["pexpire", "k", "50", "gt"]), int(0));
        assert_eq!(h.run(&["pexpire", "k", "200000", "gt"]), int(1));
        assert_eq!(h.run(&["pexpire", "k", "300000", "lt"]), int(0));
        let at = (NOW / 1000 + 500).to_string();
        assert_eq!(h.run(&["expireat", "k", &at, "xx"]), int(1));
        assert_eq!(h.get(0, "k").unwrap().1, (NOW / 1000 + 500) * 1000);
        assert_eq!(h.run(&["pexpireat", "k", &(NOW + 7).to_string()]), int(1));
        assert_eq!(h.get(0, "k").unwrap().1, NOW + 7);
        assert_eq!(h.state.counters.expires[0], 1);
        assert_eq!(h.run(&["persist", "k"]), int(1));
        assert_eq!(h.run(&["persist", "k"]), int(0));
        assert_eq!(h.get(0, "k").unwrap().1, 0);
        assert_eq!(h.state.counters.expires[0], 0);
        // Overflow.
        let inv = err("ERR invalid expire time in 'expire' command");
        assert_eq!(h.run(&["expire", "k", "9223372036854775807"]), inv);
        assert_eq!(
            h.run(&["pexpire", "k", "9223372036854775807"]),
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            h.run(&["expireat", "k", "9223372036854776"]),
            err("ERR invalid expire time in 'expireat' command")
        );
        assert_eq!(
            h.run(&["expire", "k", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(h.get(0, "k").unwrap().1, 0);
        // A deadline in the past deletes the key and answers 1.
        assert_eq!(h.run(&["expire", "k", "-1"]), int(1));
        assert_eq!(h.get(0, "k"), None);
        assert_eq!(h.state.counters.keys[0], 0);
        h.run(&["set", "k", "v", "ex", "10"]);
        assert_eq!(h.run(&["pexpireat", "k", "-9223372036854775808"]), int(1));
        assert_eq!(h.state.counters.keys[0], 0);
        assert_eq!(h.state.counters.expires[0], 0);
        h.run(&["set", "k", "v", "ex", "10"]);
        assert_eq!(h.run(&["expire", "k", "0", "lt"]), int(1));
        assert_eq!(h.get(0, "k"), None);
    }

    #[test]
    fn rename_keeps_ttl_and_counters() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["rename", "nope", "x"]), err("ERR no such key"));
        assert_eq!(h.run(&["renamenx", "nope", "x"]), err("ERR no such key"));
        h.run(&["set", "a", "1", "ex", "100"]);
        assert_eq!(h.run(&["rename", "a", "a"]), Frame::ok());
        assert_eq!(h.run(&["renamenx", "a", "a"]), int(0));
        h.run(&["set", "b", "2", "ex", "5"]);
        assert_eq!(h.run(&["renamenx", "a", "b"]), int(0));
        assert_eq!(h.run(&["rename", "a", "b"]), Frame::ok());
        assert_eq!(h.get(0, "a"), None);
        assert_eq!(h.get(0, "b"), Some((b"1".to_vec(), NOW + 100_000)));
        assert_eq!(h.state.counters.keys[0], 1);
        assert_eq!(h.state.counters.expires[0], 1);
        assert_eq!(h.run(&["renamenx", "b", "c"]), int(1));
        assert_eq!(h.get(0, "c"), Some((b"1".to_vec(), NOW + 100_000)));
        assert_eq!(h.state.counters.keys[0], 1);
        assert_eq!(h.state.counters.expires[0], 1);
        // The expiry index follows the key: exactly one entry, for "c".
        assert_eq!(h.expiry_index(), vec![(0, b"c".to_vec())]);
        h.now_ms = NOW + 100_000;
        assert_eq!(
            h.run(&["rename", "c", "d"]),
            err("ERR no such key"),
            "expired"
        );
    }

    #[test]
    fn copy_and_move() {
        let mut h = Harness::new();
        h.run(&["set", "a", "1", "ex", "100"]);
        h.run(&["set", "b", "2"]);
        let same = err("ERR source and destination objects are the same");
        assert_eq!(h.run(&["copy", "a", "a"]), same);
        assert_eq!(h.run(&["copy", "a", "a", "db", "0"]), same);
        assert_eq!(h.run(&["copy", "nope", "x"]), int(0));
        assert_eq!(h.run(&["copy", "a", "b"]), int(0));
        assert_eq!(h.run(&["copy", "a", "b", "replace"]), int(1));
        assert_eq!(h.get(0, "b"), Some((b"1".to_vec(), NOW + 100_000)));
        assert_eq!(h.get(0, "a"), Some((b"1".to_vec(), NOW + 100_000)));
        assert_eq!(h.state.counters.keys[0], 2);
        assert_eq!(h.state.counters.expires[0], 2);
        assert_eq!(h.run(&["copy", "a", "a", "db", "3"]), int(1));
        assert_eq!(h.get(3, "a"), Some((b"1".to_vec(), NOW + 100_000)));
        assert_eq!(h.state.counters.keys[3], 1);
        assert_eq!(
            h.run(&["copy", "a", "b", "db", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            h.run(&["copy", "a", "b", "db", "-1"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            h.run(&["copy", "a", "b", "db", "99999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(h.run(&["copy", "a", "b", "db"]), err("ERR syntax error"));
        assert_eq!(h.run(&["copy", "a", "b", "foo"]), err("ERR syntax error"));

        assert_eq!(h.run(&["move", "a", "0"]), same);
        assert_eq!(
            h.run(&["move", "a", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(h.run(&["move", "nope", "1"]), int(0));
        assert_eq!(h.run(&["move", "a", "3"]), int(0), "exists in db 3");
        assert_eq!(h.run(&["move", "b", "1"]), int(1));
        assert_eq!(h.get(0, "b"), None);
        assert_eq!(h.get(1, "b"), Some((b"1".to_vec(), NOW + 100_000)));
        assert_eq!((h.state.counters.keys[0], h.state.counters.keys[1]), (1, 1));
        assert_eq!(
            (h.state.counters.expires[0], h.state.counters.expires[1]),
            (1, 1)
        );
        // From another logical database.
        assert_eq!(h.run_in(1, &["move", "b", "0"]), int(1));
        assert_eq!(h.get(0, "b"), Some((b"1".to_vec(), NOW + 100_000)));
    }

    /// Creates collection `key` (physical db `pdb`) of type `typ` with members `m0..m{n}` in
    /// the subkey CF and a score entry each in the zscore CF.
    fn make_collection(h: &mut Harness, pdb: u8, key: &str, typ: RedisType, n: u8) {
        h.with_ctx(|c| {
            let mut w = CollWrite::open(c, pdb, key.as_bytes(), typ, true)?.unwrap();
            for i in 0..n {
                w.put(c, Cf::Subkey, format!("m{i}").as_bytes(), vec![i]);
                w.put(c, Cf::ZScore, &[i, b'm', i], Vec::new());
                w.meta.size += 1;
            }
            w.meta.payload = b"payload".to_vec();
            w.save(c);
            Ok::<_, CmdError>(())
        })
        .unwrap();
    }

    /// Type, size, payload and member entries (both CFs) of live collection `key`.
    type Members = (RedisType, u64, Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);
    fn members_of(h: &mut Harness, pdb: u8, key: &str) -> Option<Members> {
        let typ = h.stored(pdb, key)?.typ;
        h.with_ctx(|c| {
            let w = CollWrite::open(c, pdb, key.as_bytes(), typ, false)?.unwrap();
            let mut out = Vec::new();
            for cf in [Cf::Subkey, Cf::ZScore] {
                w.scan(c, cf, b"", None, false, |k, v| {
                    out.push((k.to_vec(), v.to_vec()));
                    true
                })?;
            }
            Ok::<_, CmdError>(Some((typ, w.meta.size, w.meta.payload.clone(), out)))
        })
        .unwrap()
    }

    #[test]
    fn rename_copy_and_move_carry_collection_members() {
        let mut h = Harness::new();
        make_collection(&mut h, 0, "z", RedisType::ZSet, 5);
        let original = members_of(&mut h, 0, "z").unwrap();
        assert_eq!(original.3.len(), 10);
        assert_eq!(h.run(&["expire", "z", "100"]), int(1));

        // COPY: both exist, independent versions, TTL kept.
        assert_eq!(h.run(&["copy", "z", "c"]), int(1));
        assert_eq!(members_of(&mut h, 0, "c"), Some(original.clone()));
        assert_eq!(members_of(&mut h, 0, "z"), Some(original.clone()));
        assert_ne!(
            h.stored(0, "c").unwrap().version,
            h.stored(0, "z").unwrap().version
        );
        assert_eq!(h.stored(0, "c").unwrap().expire_ms, NOW + 100_000);

        // RENAME over an existing key of another type.
        h.run(&["set", "r", "string"]);
        assert_eq!(h.run(&["rename", "c", "r"]), Frame::ok());
        assert!(h.stored(0, "c").is_none());
        assert_eq!(members_of(&mut h, 0, "r"), Some(original.clone()));

        // MOVE to another database, then COPY back with DB.
        assert_eq!(h.run(&["move", "r", "1"]), int(1));
        assert!(h.stored(0, "r").is_none());
        assert_eq!(members_of(&mut h, 1, "r"), Some(original.clone()));
        assert_eq!(h.run_in(1, &["copy", "r", "back", "db", "0"]), int(1));
        assert_eq!(members_of(&mut h, 0, "back"), Some(original.clone()));

        // COPY REPLACE onto a collection replaces its members wholesale.
        make_collection(&mut h, 0, "small", RedisType::Hash, 2);
        assert_eq!(h.run(&["copy", "small", "back"]), int(0));
        assert_eq!(h.run(&["copy", "small", "back", "replace"]), int(1));
        assert_eq!(members_of(&mut h, 0, "back").unwrap().3.len(), 4);
        assert_eq!(h.state.counters.keys[0], 3); // z, small, back
        assert_eq!(h.state.counters.keys[1], 1); // r
    }

    /// Writes `keys` (with optional deadlines) into logical/physical db `pdb` and commits.
    fn fill(s: &Storage, pdb: u8, keys: &[(&[u8], u64)]) {
        let mut c = WriteCtx::new(s, KeyspaceState::default(), NOW, 1, vec![(0, 16383)]);
        for (k, exp) in keys {
            c.store(pdb, k, &Metadata::string(b"v".to_vec(), *exp), None);
        }
        s.write(c.overlay.into_batch()).unwrap();
    }

    fn names(f: &Frame) -> Vec<Vec<u8>> {
        let Frame::Array(items) = f else {
            panic!("{f:?}")
        };
        let mut v: Vec<Vec<u8>> = items
            .iter()
            .map(|i| match i {
                Frame::Bulk(b) => b.to_vec(),
                other => panic!("{other:?}"),
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn keys_sees_live_keys_of_its_db_only() {
        let (_d, s) = Storage::open_temp();
        fill(
            &s,
            0,
            &[
                (b"", 0),
                (b"user:1", 0),
                (b"user:2", 0),
                (b"other", 0),
                (b"gone", NOW),
            ],
        );
        fill(&s, 1, &[(b"user:3", 0), (b"user:1", 0)]);
        let ks = KeySpace {
            storage: &s,
            ranges: vec![(0, 16383, 0)],
            now_ms: NOW,
        };
        let all = names(&keys_in(&ks, b"*").unwrap());
        assert_eq!(
            all,
            vec![
                b"".to_vec(),
                b"other".to_vec(),
                b"user:1".to_vec(),
                b"user:2".to_vec()
            ]
        );
        assert_eq!(
            names(&keys_in(&ks, b"user:*").unwrap()),
            vec![b"user:1".to_vec(), b"user:2".to_vec()]
        );
        assert_eq!(
            names(&keys_in(&ks, b"**").unwrap()).len(),
            3,
            "empty key only for \"*\""
        );
        // Two groups with different physical dbs (after a SWAPDB in the second).
        let split = KeySpace {
            storage: &s,
            ranges: vec![(8192, 16383, 1), (0, 8191, 0)],
            now_ms: NOW,
        };
        let mut ranges = split.ranges.clone();
        ranges.sort_unstable();
        let split = KeySpace { ranges, ..split };
        // Slots below 8192 read physical db 0, the others physical db 1.
        let db0: [&[u8]; 4] = [b"", b"user:1", b"user:2", b"other"];
        let mut want: Vec<Vec<u8>> = db0
            .iter()
            .filter(|k| key_slot(k).0 < 8192)
            .map(|k| k.to_vec())
            .collect();
        let db1: [&[u8]; 2] = [b"user:3", b"user:1"];
        want.extend(
            db1.iter()
                .filter(|k| key_slot(k).0 >= 8192)
                .map(|k| k.to_vec()),
        );
        want.sort();
        assert_eq!(names(&keys_in(&split, b"*").unwrap()), want);
    }

    #[test]
    fn scan_returns_every_key_once_across_calls() {
        let (_d, s) = Storage::open_temp();
        let mut keys: Vec<Vec<u8>> = (0..500).map(|i| format!("key:{i}").into_bytes()).collect();
        // Several keys in one slot (hash tags) and one in the last slot.
        keys.extend((0..20).map(|i| format!("{{tag}}:{i}").into_bytes()));
        let entries: Vec<(&[u8], u64)> = keys.iter().map(|k| (&k[..], 0)).collect();
        fill(&s, 0, &entries);
        // Noise: other dbs and expired keys.
        let noise: Vec<Vec<u8>> = (0..300)
            .map(|i| format!("noise:{i}").into_bytes())
            .collect();
        let noise_entries: Vec<(&[u8], u64)> = noise.iter().map(|k| (&k[..], 0)).collect();
        fill(&s, 2, &noise_entries);
        let expired: Vec<(&[u8], u64)> = noise.iter().map(|k| (&k[..], NOW - 1)).collect();
        fill(&s, 0, &expired);
        let ks = KeySpace {
            storage: &s,
            ranges: vec![(0, 5460, 0), (5461, 10922, 0), (10923, 16383, 0)],
            now_ms: NOW,
        };
        let cursors = CursorStore::new(1000);
        for count in [1usize, 3, 10, 1000] {
            let mut seen = Vec::new();
            let mut cursor = "0".to_string();
            let mut calls = 0;
            loop {
                let count_s = count.to_string();
                let reply =
                    scan_in(&ks, &cursors, &argv(&["scan", &cursor, "count", &count_s])).unwrap();
                let Frame::Array(parts) = reply else { panic!() };
                let Frame::Bulk(next) = &parts[0] else {
                    panic!()
                };
                let Frame::Array(batch) = &parts[1] else {
                    panic!()
                };
                assert!(batch.len() <= count, "at most COUNT keys examined per call");
                seen.extend(names(&parts[1]));
                calls += 1;
                cursor = String::from_utf8(next.to_vec()).unwrap();
                if cursor == "0" {
                    break;
                }
                assert!(calls < 10_000);
            }
            seen.sort();
            let mut want = keys.clone();
            want.sort();
            assert_eq!(seen, want, "COUNT {count}");
        }
        // MATCH and TYPE filter; "*" is no filter.
        let r = scan_in(
            &ks,
            &cursors,
            &argv(&["scan", "0", "count", "100000", "match", "{tag}*"]),
        )
        .unwrap();
        let Frame::Array(parts) = r else { panic!() };
        assert_eq!(parts[0], Frame::Bulk(Bytes::from_static(b"0")));
        assert_eq!(names(&parts[1]).len(), 20);
        let r = scan_in(
            &ks,
            &cursors,
            &argv(&["scan", "0", "count", "100000", "type", "STRING"]),
        )
        .unwrap();
        let Frame::Array(parts) = r else { panic!() };
        assert_eq!(names(&parts[1]).len(), 520);
        let r = scan_in(
            &ks,
            &cursors,
            &argv(&["scan", "0", "count", "100000", "type", "hash"]),
        )
        .unwrap();
        let Frame::Array(parts) = r else { panic!() };
        assert_eq!(names(&parts[1]).len(), 0);
    }

    #[test]
    fn scan_cursor_and_option_errors() {
        let (_d, s) = Storage::open_temp();
        let ks = KeySpace {
            storage: &s,
            ranges: vec![(0, 16383, 0)],
            now_ms: NOW,
        };
        let cursors = CursorStore::new(10);
        let e = |parts: &[&str]| match scan_in(&ks, &cursors, &argv(parts)) {
            Err(e) => e.to_frame(),
            Ok(f) => f,
        };
        let empty = Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"0")),
            Frame::Array(vec![]),
        ]);
        assert_eq!(e(&["scan", "0"]), empty);
        assert_eq!(e(&["scan", ""]), empty);
        assert_eq!(e(&["scan", "+0"]), empty);
        assert_eq!(e(&["scan", " 0"]), err("ERR invalid cursor"));
        assert_eq!(e(&["scan", "abc", "count", "0"]), err("ERR invalid cursor"));
        assert_eq!(
            e(&["scan", "18446744073709551616"]),
            err("ERR invalid cursor")
        );
        assert_eq!(
            e(&["scan", "12345"]),
            err("ERR invalid cursor"),
            "never handed out"
        );
        assert_eq!(e(&["scan", "0", "count", "0"]), err("ERR syntax error"));
        assert_eq!(e(&["scan", "0", "count", "-1"]), err("ERR syntax error"));
        assert_eq!(
            e(&["scan", "0", "count", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(e(&["scan", "0", "match"]), err("ERR syntax error"));
        assert_eq!(e(&["scan", "0", "foo", "bar"]), err("ERR syntax error"));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"0x1"), None);
        assert_eq!(parse_cursor(b"1 "), None);
    }

    #[test]
    fn scan_bounds_seeks_over_other_dbs() {
        let (_d, s) = Storage::open_temp();
        // Keys only in db 1, spread over many slots: a db-0 SCAN finds nothing but must
        // still return within a bounded number of seeks per call.
        let other: Vec<Vec<u8>> = (0..3000).map(|i| format!("o{i}").into_bytes()).collect();
        let entries: Vec<(&[u8], u64)> = other.iter().map(|k| (&k[..], 0)).collect();
        fill(&s, 1, &entries);
        fill(&s, 0, &[(b"mine", 0)]);
        let ks = KeySpace {
            storage: &s,
            ranges: vec![(0, 16383, 0)],
            now_ms: NOW,
        };
        let cursors = CursorStore::new(1000);
        let mut cursor = "0".to_string();
        let (mut calls, mut seen) = (0, Vec::new());
        loop {
            let Frame::Array(parts) = scan_in(&ks, &cursors, &argv(&["scan", &cursor])).unwrap()
            else {
                panic!()
            };
            seen.extend(names(&parts[1]));
            let Frame::Bulk(next) = &parts[0] else {
                panic!()
            };
            cursor = String::from_utf8(next.to_vec()).unwrap();
            calls += 1;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen, vec![b"mine".to_vec()]);
        assert!(calls > 1, "the walk was split into bounded calls");
    }

    #[test]
    fn randomkey_picks_live_keys() {
        let (_d, s) = Storage::open_temp();
        let mut rng = rand::thread_rng();
        let ks = KeySpace {
            storage: &s,
            ranges: vec![(0, 16383, 0)],
            now_ms: NOW,
        };
        assert_eq!(randomkey_in(&ks, 0, &mut rng).unwrap(), Frame::Null);
        fill(&s, 0, &[(b"a", 0), (b"b", 0), (b"dead", NOW)]);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            match randomkey_in(&ks, 3, &mut rng).unwrap() {
                Frame::Bulk(b) => {
                    seen.insert(b.to_vec());
                }
                f => panic!("{f:?}"),
            }
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        // Large database path.
        let many: Vec<Vec<u8>> = (0..2000).map(|i| format!("k{i}").into_bytes()).collect();
        let entries: Vec<(&[u8], u64)> = many.iter().map(|k| (&k[..], 0)).collect();
        fill(&s, 0, &entries);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            match randomkey_in(&ks, 2002, &mut rng).unwrap() {
                Frame::Bulk(b) => {
                    assert_ne!(&b[..], b"dead");
                    seen.insert(b.to_vec());
                }
                f => panic!("{f:?}"),
            }
        }
        assert!(seen.len() > 300, "spread over many keys: {}", seen.len());
        // Only expired keys: nil.
        let (_d2, s2) = Storage::open_temp();
        fill(&s2, 0, &[(b"x", NOW), (b"y", NOW - 5)]);
        let ks2 = KeySpace {
            storage: &s2,
            ranges: vec![(0, 16383, 0)],
            now_ms: NOW,
        };
        assert_eq!(randomkey_in(&ks2, 2, &mut rng).unwrap(), Frame::Null);
        assert_eq!(randomkey_in(&ks2, 1000, &mut rng).unwrap(), Frame::Null);
    }

    #[test]
    fn random_between_stays_in_bounds() {
        let mut rng = rand::thread_rng();
        for _ in 0..1000 {
            let r = random_between(b"user:100", b"user:999", &mut rng);
            assert!(r.as_slice() >= &b"user:100"[..] && r.as_slice() <= &b"user:999\0\0\0\0\0"[..]);
        }
        assert_eq!(
            random_between(b"same", b"same", &mut rng),
            b"same\0\0\0\0\0\0\0\0".to_vec()
        );
    }
}
