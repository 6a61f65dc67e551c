//! String commands: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX INCR DECR
//! INCRBY DECRBY INCRBYFLOAT APPEND STRLEN GETRANGE SUBSTR SETRANGE.
//!
//! Redis 7.0 semantics and replies. Writes follow the rule of the state machine: everything an
//! apply decides comes from its arguments, the stored data and `ctx.now_ms`.

use bytes::Bytes;

use super::args::{is, parse_i64};
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx, Split, WriteSpec};
use crate::resp::Frame;
use crate::storage::keyspace::{unix_ms, WriteCtx};
use crate::storage::{Metadata, RedisType};

/// Redis' default `proto-max-bulk-len`: the largest string APPEND and SETRANGE may build.
pub const MAX_STRING_LEN: u64 = 512 * 1024 * 1024;

// ------------------------------------------------------------------------------- expiry

/// An expiry given in a command, before the state machine resolves it against its clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireArg {
    /// Relative, in ms (EX, PX).
    In(u64),
    /// Absolute Unix time in ms (EXAT, PXAT).
    At(u64),
}

impl ExpireArg {
    /// The absolute deadline at `now_ms`.
    pub fn deadline(self, now_ms: u64) -> u64 {
        match self {
            ExpireArg::In(ms) => now_ms.saturating_add(ms),
            ExpireArg::At(ms) => ms,
        }
    }

    /// The absolute deadline at `now_ms`, refusing like Redis a relative expiry whose deadline
    /// does not fit a signed 64-bit millisecond timestamp (`SET k v PX 9223372036854775807`).
    /// Validation calls it with the leader's clock, the apply with the entry's: both agree
    /// except within a few milliseconds of that limit, where the apply's answer is the one
    /// that counts.
    pub fn resolve(self, now_ms: u64, cmd: &str) -> Result<u64, CmdError> {
        match self {
            ExpireArg::In(ms) => match ms.checked_add(now_ms) {
                Some(d) if d <= i64::MAX as u64 => Ok(d),
                _ => Err(invalid_expire(cmd)),
            },
            ExpireArg::At(ms) => Ok(ms),
        }
    }
}

/// `ERR invalid expire time in '<cmd>' command`.
pub fn invalid_expire(cmd: &str) -> CmdError {
    CmdError::Raw(format!("ERR invalid expire time in '{cmd}' command").into())
}

/// Parses the value of EX/PX/EXAT/PXAT (`unit_ms` = 1000 for seconds) like Redis
/// `getExpireMillisecondsOrReply`: non-integer -> not an integer; <= 0 or overflowing ->
/// "invalid expire time in '<cmd>' command". A relative value is checked against the clock
/// by [`ExpireArg::resolve`].
pub fn parse_expire_value(
    arg: &[u8],
    unit_ms: i64,
    absolute: bool,
    cmd: &str,
) -> Result<ExpireArg, CmdError> {
    let v = parse_i64(arg)?;
    if v <= 0 {
        return Err(invalid_expire(cmd));
    }
    let ms = v.checked_mul(unit_ms).ok_or_else(|| invalid_expire(cmd))?;
    Ok(if absolute {
        ExpireArg::At(ms as u64)
    } else {
        ExpireArg::In(ms as u64)
    })
}

/// Which expiry option a SET / GETEX carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireKind {
    fn from_arg(a: &[u8]) -> Option<ExpireKind> {
        if is(a, "ex") {
            Some(ExpireKind::Ex)
        } else if is(a, "px") {
            Some(ExpireKind::Px)
        } else if is(a, "exat") {
            Some(ExpireKind::ExAt)
        } else if is(a, "pxat") {
            Some(ExpireKind::PxAt)
        } else {
            None
        }
    }

    fn parse(self, value: &[u8], cmd: &str) -> Result<ExpireArg, CmdError> {
        let unit = match self {
            ExpireKind::Ex | ExpireKind::ExAt => 1000,
            ExpireKind::Px | ExpireKind::PxAt => 1,
        };
        let absolute = matches!(self, ExpireKind::ExAt | ExpireKind::PxAt);
        parse_expire_value(value, unit, absolute, cmd)
    }
}

/// Options of SET (from argv[3]) and GETEX (from argv[2]).
#[derive(Debug, Default, PartialEq)]
struct ExtOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpireKind, &'a [u8])>,
}

/// Redis 7.0 `parseExtendedStringArgumentsOrReply`. Repeating an option is accepted and the
/// last expiry value wins (`SET k v EX 10 EX 20` sets 20 s; only that value is parsed);
/// conflicting options are a syntax error. Expiry values are parsed by the caller, because
/// GETEX looks the key up first.
fn parse_ext(args: &[Bytes], set: bool) -> Result<ExtOptions<'_>, CmdError> {
    let mut o = ExtOptions::default();
    let mut i = if set { 3 } else { 2 };
    while i < args.len() {
        let a = &args[i][..];
        let has_next = i + 1 < args.len();
        let kind = ExpireKind::from_arg(a);
        if set && is(a, "nx") && !o.xx {
            o.nx = true;
        } else if set && is(a, "xx") && !o.nx {
            o.xx = true;
        } else if set && is(a, "get") {
            o.get = true;
        } else if set && is(a, "keepttl") && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && is(a, "persist") && o.expire.is_none() {
            o.persist = true;
        } else if let Some(k) = kind.filter(|k| {
            has_next && !o.keepttl && !o.persist && o.expire.is_none_or(|(prev, _)| prev == *k)
        }) {
            o.expire = Some((k, &args[i + 1][..]));
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

// ------------------------------------------------------------------------- helpers

/// A key as a write sees it: what is stored (expired or not: pass it as `old` to
/// `WriteCtx::store`/`remove` so counters and the expiry index stay right) and whether it is
/// live at the entry's time.
pub struct Stored {
    pub old: Option<Metadata>,
    pub live: bool,
}

impl Stored {
    /// The stored metadata if the key is live, else None (expired keys do not exist).
    pub fn live(&self) -> Option<&Metadata> {
        self.old.as_ref().filter(|_| self.live)
    }
}

/// Loads `key` for a write.
pub fn load_stored(ctx: &WriteCtx<'_>, pdb: u8, key: &[u8]) -> Result<Stored, CmdError> {
    let old = ctx.load(pdb, key)?;
    let live = old.as_ref().is_some_and(|m| !m.is_expired(ctx.now_ms));
    Ok(Stored { old, live })
}

/// Loads `key` for a write on a string: WRONGTYPE if it holds another live type.
pub fn load_string(ctx: &WriteCtx<'_>, pdb: u8, key: &[u8]) -> Result<Stored, CmdError> {
    let s = load_stored(ctx, pdb, key)?;
    match s.live() {
        Some(m) if m.typ != RedisType::String => Err(CmdError::WrongType),
        _ => Ok(s),
    }
}

/// Stores a string value; a deadline already in the past deletes the key instead (Redis does
/// the same for `SET k v PXAT <past>`).
pub fn store_string(
    ctx: &mut WriteCtx<'_>,
    pdb: u8,
    key: &[u8],
    value: Vec<u8>,
    expire_ms: u64,
    old: Option<&Metadata>,
) {
    if expire_ms != 0 && expire_ms <= ctx.now_ms {
        if let Some(o) = old {
            ctx.remove(pdb, key, o);
        }
        return;
    }
    ctx.store(pdb, key, &Metadata::string(value, expire_ms), old);
}

/// The live string value of `key`: None if absent, WRONGTYPE if another type.
pub fn read_string(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Option<Vec<u8>>, CmdError> {
    match ctx.get(key)? {
        None => Ok(None),
        Some(m) if m.typ != RedisType::String => Err(CmdError::WrongType),
        Some(m) => Ok(Some(m.payload)),
    }
}

fn bulk_or_null(v: Option<Vec<u8>>) -> Frame {
    match v {
        Some(v) => Frame::Bulk(Bytes::from(v)),
        None => Frame::Null,
    }
}

/// The largest string APPEND and SETRANGE may build. Redis checks its `proto-max-bulk-len`
/// setting, but that is per node and changes at run time (CONFIG SET), so a replicated apply
/// must not read it locally (replicas could disagree and diverge): the leader's value travels
/// in the log entry.
fn max_string_len(ctx: &WriteCtx<'_>) -> u64 {
    ctx.max_value_len
}

/// Redis `checkStringLength`.
fn check_length(ctx: &WriteCtx<'_>, total: u64) -> Result<(), CmdError> {
    if total > max_string_len(ctx) {
        return Err(CmdError::raw(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

/// `validate` for commands whose key count must be even after the name (MSET, MSETNX).
fn validate_pairs(args: &[Bytes]) -> Result<(), CmdError> {
    if args.len().is_multiple_of(2) {
        let name = String::from_utf8_lossy(&args[0]).into_owned();
        return Err(CmdError::Arity(name));
    }
    Ok(())
}

// ----------------------------------------------------------------- GET, SET and kin

fn get(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(bulk_or_null(read_string(ctx, &args[1])?))
}

fn set_validate(args: &[Bytes]) -> Result<(), CmdError> {
    let o = parse_ext(args, true)?;
    if let Some((kind, value)) = o.expire {
        kind.parse(value, "set")?.resolve(unix_ms(), "set")?;
    }
    Ok(())
}

fn set_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let o = parse_ext(args, true)?;
    // Redis parses the expiry before looking at the key: a bad one is an error even for NX
    // on an existing key.
    let expire = match o.expire {
        Some((kind, value)) => Some(kind.parse(value, "set")?.resolve(ctx.now_ms, "set")?),
        None => None,
    };
    let (key, value) = (&args[1], &args[2]);
    let pdb = ctx.pdb(db);
    let st = if o.get {
        load_string(ctx, pdb, key)?
    } else {
        load_stored(ctx, pdb, key)?
    };
    let live = st.live();
    let reply = if o.get {
        bulk_or_null(live.map(|m| m.payload.clone()))
    } else {
        Frame::ok()
    };
    if (o.nx && live.is_some()) || (o.xx && live.is_none()) {
        return Ok(if o.get { reply } else { Frame::Null });
    }
    let expire_ms = match expire {
        Some(deadline) => deadline,
        None if o.keepttl => live.map(|m| m.expire_ms).unwrap_or(0),
        None => 0,
    };
    store_string(ctx, pdb, key, value.to_vec(), expire_ms, st.old.as_ref());
    Ok(reply)
}

fn setnx_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let st = load_stored(ctx, pdb, &args[1])?;
    if st.live {
        return Ok(Frame::Integer(0));
    }
    store_string(ctx, pdb, &args[1], args[2].to_vec(), 0, st.old.as_ref());
    Ok(Frame::Integer(1))
}

/// SETEX key seconds value / PSETEX key milliseconds value.
fn setex_expire(args: &[Bytes]) -> Result<(ExpireArg, &'static str), CmdError> {
    let (unit, cmd) = if is(&args[0], "psetex") {
        (1, "psetex")
    } else {
        (1000, "setex")
    };
    Ok((parse_expire_value(&args[2], unit, false, cmd)?, cmd))
}

fn setex_validate(args: &[Bytes]) -> Result<(), CmdError> {
    let (e, cmd) = setex_expire(args)?;
    e.resolve(unix_ms(), cmd).map(|_| ())
}

fn setex_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let (e, cmd) = setex_expire(args)?;
    let deadline = e.resolve(ctx.now_ms, cmd)?;
    let pdb = ctx.pdb(db);
    let st = load_stored(ctx, pdb, &args[1])?;
    store_string(
        ctx,
        pdb,
        &args[1],
        args[3].to_vec(),
        deadline,
        st.old.as_ref(),
    );
    Ok(Frame::ok())
}

fn getset_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, &args[1])?;
    let reply = bulk_or_null(st.live().map(|m| m.payload.clone()));
    // GETSET is SET: the TTL goes.
    store_string(ctx, pdb, &args[1], args[2].to_vec(), 0, st.old.as_ref());
    Ok(reply)
}

fn getdel_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, &args[1])?;
    match st.live() {
        Some(m) => {
            let reply = Frame::Bulk(Bytes::from(m.payload.clone()));
            ctx.remove(pdb, &args[1], m);
            Ok(reply)
        }
        None => Ok(Frame::Null),
    }
}

/// GETEX checks only the syntax up front: Redis looks the key up before parsing the expiry
/// value, so `GETEX missing EX 0` is nil rather than an error, and the apply alone can tell.
fn getex_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_ext(args, false).map(|_| ())
}

fn getex_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let o = parse_ext(args, false)?;
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, key)?;
    let Some(m) = st.live() else {
        return Ok(Frame::Null);
    };
    let (value, current) = (m.payload.clone(), m.expire_ms);
    let new_expire = match o.expire {
        Some((kind, v)) => Some(kind.parse(v, "getex")?.resolve(ctx.now_ms, "getex")?),
        None if o.persist => Some(0),
        None => None,
    };
    let reply = Frame::Bulk(Bytes::from(value.clone()));
    if let Some(deadline) = new_expire.filter(|d| *d != current) {
        // A past EXAT/PXAT deletes the key (after it was read), as in Redis.
        store_string(ctx, pdb, key, value, deadline, st.old.as_ref());
    }
    Ok(reply)
}

fn mget(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let mut out = Vec::with_capacity(args.len() - 1);
    for key in &args[1..] {
        // MGET answers nil for keys of other types instead of failing.
        out.push(match ctx.get(key)? {
            Some(m) if m.typ == RedisType::String => Frame::Bulk(Bytes::from(m.payload)),
            _ => Frame::Null,
        });
    }
    Ok(Frame::Array(out))
}

fn mset_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    validate_pairs(args)?;
    let pdb = ctx.pdb(db);
    for pair in args[1..].chunks_exact(2) {
        // Reloaded per pair: a key repeated in the same MSET sees its earlier write.
        let st = load_stored(ctx, pdb, &pair[0])?;
        store_string(ctx, pdb, &pair[0], pair[1].to_vec(), 0, st.old.as_ref());
    }
    Ok(Frame::ok())
}

fn msetnx_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    validate_pairs(args)?;
    let pdb = ctx.pdb(db);
    // All or nothing: check every key before writing any.
    for pair in args[1..].chunks_exact(2) {
        if load_stored(ctx, pdb, &pair[0])?.live {
            return Ok(Frame::Integer(0));
        }
    }
    for pair in args[1..].chunks_exact(2) {
        let st = load_stored(ctx, pdb, &pair[0])?;
        store_string(ctx, pdb, &pair[0], pair[1].to_vec(), 0, st.old.as_ref());
    }
    Ok(Frame::Integer(1))
}

// ------------------------------------------------------------------------ counters

/// The increment of INCR / DECR / INCRBY / DECRBY.
fn incr_delta(args: &[Bytes]) -> Result<i64, CmdError> {
    let name = &args[0];
    if is(name, "incr") {
        Ok(1)
    } else if is(name, "decr") {
        Ok(-1)
    } else if is(name, "incrby") {
        parse_i64(&args[2])
    } else {
        let d = parse_i64(&args[2])?;
        // -i64::MIN does not exist; Redis has a dedicated message for it.
        d.checked_neg()
            .ok_or_else(|| CmdError::raw("ERR decrement would overflow"))
    }
}

fn incr_validate(args: &[Bytes]) -> Result<(), CmdError> {
    incr_delta(args).map(|_| ())
}

fn incr_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let delta = incr_delta(args)?;
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, key)?;
    let (current, expire_ms) = match st.live() {
        Some(m) => (parse_i64(&m.payload)?, m.expire_ms),
        None => (0, 0),
    };
    let new = current.checked_add(delta).ok_or(CmdError::Overflow)?;
    // The TTL stays: INCR modifies the value in place.
    store_string(
        ctx,
        pdb,
        key,
        new.to_string().into_bytes(),
        expire_ms,
        st.old.as_ref(),
    );
    Ok(Frame::Integer(new))
}

/// Nothing to check on the leader: Redis looks the key up (WRONGTYPE) before it parses the
/// increment, so a bad increment is only reported by the apply.
fn incrbyfloat_validate(_: &[Bytes]) -> Result<(), CmdError> {
    Ok(())
}

fn incrbyfloat_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, key)?;
    // Redis parses the stored value before the increment; both fail the same way.
    let (current, expire_ms) = match st.live() {
        Some(m) => (
            long_double::parse(&m.payload).ok_or(CmdError::NotFloat)?,
            m.expire_ms,
        ),
        None => (long_double::Ld::ZERO, 0),
    };
    let incr = long_double::parse(&args[2]).ok_or(CmdError::NotFloat)?;
    let sum = long_double::add(current, incr)
        .ok_or_else(|| CmdError::raw("ERR increment would produce NaN or Infinity"))?;
    let text = long_double::format_human(sum);
    let reply = Frame::Bulk(Bytes::from(text.clone().into_bytes()));
    store_string(ctx, pdb, key, text.into_bytes(), expire_ms, st.old.as_ref());
    Ok(reply)
}

// ------------------------------------------------------------- substrings and length

fn append_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, key)?;
    let (value, expire_ms) = match st.live() {
        Some(m) => {
            check_length(ctx, m.payload.len() as u64 + args[2].len() as u64)?;
            let mut v = Vec::with_capacity(m.payload.len() + args[2].len());
            v.extend_from_slice(&m.payload);
            v.extend_from_slice(&args[2]);
            (v, m.expire_ms)
        }
        // Even an empty APPEND creates the key, as in Redis.
        None => (args[2].to_vec(), 0),
    };
    let len = value.len() as i64;
    store_string(ctx, pdb, key, value, expire_ms, st.old.as_ref());
    Ok(Frame::Integer(len))
}

fn strlen(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let len = read_string(ctx, &args[1])?.map_or(0, |v| v.len());
    Ok(Frame::Integer(len as i64))
}

/// The byte range GETRANGE returns for `start..=end` over `len` bytes, with Redis 7.0's
/// clamping (including its quirk: a negative end before the start of the string becomes 0).
fn substr_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

fn getrange(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let start = parse_i64(&args[2])?;
    let end = parse_i64(&args[3])?;
    let value = read_string(ctx, &args[1])?.unwrap_or_default();
    Ok(match substr_range(start, end, value.len()) {
        Some((s, e)) => Frame::Bulk(Bytes::copy_from_slice(&value[s..=e])),
        None => Frame::Bulk(Bytes::new()),
    })
}

/// SETRANGE's offset: the only check Redis makes before looking at the key (the size limit
/// comes after, and only for a non-empty value).
fn setrange_offset(args: &[Bytes]) -> Result<u64, CmdError> {
    let offset = parse_i64(&args[2])?;
    if offset < 0 {
        return Err(CmdError::raw("ERR offset is out of range"));
    }
    Ok(offset as u64)
}

fn setrange_validate(args: &[Bytes]) -> Result<(), CmdError> {
    setrange_offset(args).map(|_| ())
}

fn setrange_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let offset = setrange_offset(args)?;
    let (key, patch) = (&args[1], &args[3]);
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, key)?;
    let (mut value, expire_ms) = match st.live() {
        Some(m) => (m.payload.clone(), m.expire_ms),
        // Setting nothing on a missing key creates nothing.
        None if patch.is_empty() => return Ok(Frame::Integer(0)),
        None => (Vec::new(), 0),
    };
    if patch.is_empty() {
        return Ok(Frame::Integer(value.len() as i64));
    }
    check_length(ctx, offset.saturating_add(patch.len() as u64))?;
    // Within the size limit, so it fits usize.
    let offset = offset as usize;
    let end = offset + patch.len();
    if value.len() < end {
        value.resize(end, 0);
    }
    value[offset..end].copy_from_slice(patch);
    let len = value.len() as i64;
    store_string(ctx, pdb, key, value, expire_ms, st.old.as_ref());
    Ok(Frame::Integer(len))
}

// ---------------------------------------------------------------------- long double

/// INCRBYFLOAT arithmetic exactly as Redis on x86-64 Linux does it: C `long double` (the x87
/// 80-bit format, 64-bit significand), parsed with `strtold` and printed with `"%.17Lf"`
/// minus trailing zeros. f64 would not do: Redis answers `0.3` to 0.1 + 0.2 (f64 gives
/// 0.30000000000000004), accepts 1e400, and prints `1e20` as `100000000000000000000`.
///
/// Everything is emulated with exact big-integer arithmetic and round-half-even (the default
/// rounding of the FPU, `strtold` and `printf`), so every replica computes the same bits.
pub mod long_double {
    use std::cmp::Ordering;

    /// Redis `MAX_LONG_DOUBLE_CHARS`: longer inputs are not floats.
    const MAX_CHARS: usize = 5 * 1024;
    /// Exponent of the least significant bit of the smallest subnormal (2^-16445).
    const MIN_LSB: i64 = -16445;
    /// Exponent of the least significant bit of the largest finite values (< 2^16384).
    const MAX_LSB: i64 = 16384 - 64;

    /// A long double: `mant * 2^exp` (mant's top bit set unless subnormal or zero), or an
    /// infinity. NaN never needs representing: it is rejected on input and is an error as a
    /// result.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Ld {
        Finite { neg: bool, mant: u64, exp: i32 },
        Inf { neg: bool },
    }

    impl Ld {
        pub const ZERO: Ld = Ld::Finite {
            neg: false,
            mant: 0,
            exp: 0,
        };
    }

    /// Redis `string2ld`: the whole input must be one `strtold` number (decimal or hex,
    /// `inf`/`infinity`), without leading space; NaN, and finite inputs that overflow or
    /// underflow to zero, are refused.
    pub fn parse(s: &[u8]) -> Option<Ld> {
        if s.is_empty() || s.len() >= MAX_CHARS {
            return None;
        }
        let (neg, rest) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
            return Some(Ld::Inf { neg });
        }
        let rounded = if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
            parse_hex(neg, &rest[2..])?
        } else {
            parse_decimal(neg, rest)?
        };
        match rounded {
            Rounded::Value(v) => Some(v),
            Rounded::Overflow | Rounded::Underflow => None,
        }
    }

    /// Splits `digits [. digits]` off `s` (radix 10 or 16); returns (all mantissa digits,
    /// digits after the point, rest of s). At least one digit is required.
    fn mantissa(s: &[u8], hex: bool) -> Option<(Vec<u8>, usize, &[u8])> {
        let is_digit = |c: u8| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        };
        let mut digits = Vec::new();
        let mut i = 0;
        while i < s.len() && is_digit(s[i]) {
            digits.push(s[i]);
            i += 1;
        }
        let mut frac = 0;
        if i < s.len() && s[i] == b'.' {
            i += 1;
            while i < s.len() && is_digit(s[i]) {
                digits.push(s[i]);
                frac += 1;
                i += 1;
            }
        }
        (!digits.is_empty()).then_some((digits, frac, &s[i..]))
    }

    /// An exponent suffix (`e`/`p` already consumed): optional sign and at least one decimal
    /// digit making up the whole rest. Saturates far beyond any meaningful exponent.
    fn exponent(s: &[u8]) -> Option<i64> {
        let (neg, digits) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut v: i64 = 0;
        for &d in digits {
            v = (v * 10 + i64::from(d - b'0')).min(1_000_000_000);
        }
        Some(if neg { -v } else { v })
    }

    fn parse_decimal(neg: bool, s: &[u8]) -> Option<Rounded> {
        let (digits, frac, rest) = mantissa(s, false)?;
        let exp10 = match rest.first() {
            None => 0,
            Some(b'e' | b'E') => exponent(&rest[1..])?,
            Some(_) => return None,
        };
        let first = digits.iter().position(|&d| d != b'0');
        let Some(first) = first else {
            return Some(Rounded::Value(Ld::Finite {
                neg,
                mant: 0,
                exp: 0,
            }));
        };
        let sig = &digits[first..];
        // value = sig * 10^x, and 10^(n+x-1) <= value < 10^(n+x).
        let x = exp10 - frac as i64;
        let n = sig.len() as i64;
        if n + x - 1 > 4933 {
            return Some(Rounded::Overflow); // >= 1e4933 > LDBL_MAX (1.19e4932)
        }
        if n + x < -4952 {
            return Some(Rounded::Underflow); // < 1e-4952, under half the least subnormal
        }
        let mut num = Big::from_decimal(sig);
        let mut den = Big::from_u128(1);
        if x >= 0 {
            num.mul_pow10(x as u32);
        } else {
            den.mul_pow10((-x) as u32);
        }
        Some(round(neg, &num, &den, 0))
    }

    fn parse_hex(neg: bool, s: &[u8]) -> Option<Rounded> {
        let (digits, frac, rest) = mantissa(s, true)?;
        let exp2 = match rest.first() {
            None => 0,
            Some(b'p' | b'P') => exponent(&rest[1..])?,
            Some(_) => return None,
        };
        let mut num = Big::default();
        for &d in &digits {
            let v = (d as char).to_digit(16).unwrap_or(0);
            num.mul_small_add(16, v);
        }
        if num.is_zero() {
            return Some(Rounded::Value(Ld::Finite {
                neg,
                mant: 0,
                exp: 0,
            }));
        }
        let e = exp2 - 4 * frac as i64;
        let top = num.bit_len() as i64 + e; // value < 2^top
        if top > 16385 {
            return Some(Rounded::Overflow);
        }
        if top < MIN_LSB - 2 {
            return Some(Rounded::Underflow);
        }
        Some(round(neg, &num, &Big::from_u128(1), e))
    }

    /// `a + b` rounded to long double; None if the result is infinite or NaN.
    pub fn add(a: Ld, b: Ld) -> Option<Ld> {
        let (
            Ld::Finite {
                neg: an,
                mant: am,
                exp: ae,
            },
            Ld::Finite {
                neg: bn,
                mant: bm,
                exp: be,
            },
        ) = (a, b)
        else {
            return None;
        };
        if am == 0 && bm == 0 {
            // IEEE: -0 + -0 = -0, any other sum of zeros is +0.
            return Some(Ld::Finite {
                neg: an && bn,
                mant: 0,
                exp: 0,
            });
        }
        if am == 0 {
            return Some(b);
        }
        if bm == 0 {
            return Some(a);
        }
        // Exact sum over the smaller exponent, then one rounding.
        let e = ae.min(be);
        let x = Big::from_u128(u128::from(am)).shl((ae - e) as u64);
        let y = Big::from_u128(u128::from(bm)).shl((be - e) as u64);
        let (neg, sum) = if an == bn {
            (an, x.add(&y))
        } else {
            match x.cmp(&y) {
                Ordering::Equal => {
                    return Some(Ld::ZERO);
                }
                Ordering::Greater => (an, x.sub(&y)),
                Ordering::Less => (bn, y.sub(&x)),
            }
        };
        match round(neg, &sum, &Big::from_u128(1), i64::from(e)) {
            Rounded::Value(v) => Some(v),
            // A sum of two long doubles cannot underflow to zero; overflow is infinity.
            Rounded::Overflow | Rounded::Underflow => None,
        }
    }

    /// Redis `ld2string(..., LD_STR_HUMAN)`: `"%.17Lf"`, trailing zeros (and a trailing
    /// point) removed, `-0` written as `0`. Infinities never get here (they are errors).
    pub fn format_human(v: Ld) -> String {
        let Ld::Finite { neg, mant, exp } = v else {
            return if matches!(v, Ld::Inf { neg: true }) {
                "-inf".into()
            } else {
                "inf".into()
            };
        };
        // |v| * 10^17 rounded half-even to an integer: its digits with a point 17 from the
        // right are exactly what printf prints.
        let scaled = if exp >= 0 {
            let mut b = Big::from_u128(u128::from(mant)).shl(exp as u64);
            b.mul_pow10(17);
            b
        } else {
            // mant * 10^17 < 2^121: fits u128.
            let num = u128::from(mant) * 10u128.pow(17);
            let shift = (-exp) as u32;
            let q = if shift >= 122 {
                0 // below half a unit of the 17th decimal
            } else {
                let q = num >> shift;
                let rem = num & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                if rem > half || (rem == half && q & 1 == 1) {
                    q + 1
                } else {
                    q
                }
            };
            Big::from_u128(q)
        };
        let digits = scaled.to_decimal();
        let digits = if digits.len() < 18 {
            format!("{}{digits}", "0".repeat(18 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if neg {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        if out == "-0" {
            out = "0".into();
        }
        out
    }

    enum Rounded {
        Value(Ld),
        /// Beyond the largest finite value: strtold's HUGE_VAL with ERANGE.
        Overflow,
        /// Non-zero but rounds to zero: strtold's 0 with ERANGE.
        Underflow,
    }

    /// Rounds the exact positive value `num / den * 2^e2` half-even to a long double
    /// (subnormals included).
    fn round(neg: bool, num: &Big, den: &Big, e2: i64) -> Rounded {
        // Scale so that the quotient has 66 or 67 bits: 64 kept, at least 2 for rounding,
        // plus a sticky bit for any remainder.
        let l = num.bit_len() as i64 - den.bit_len() as i64;
        let k = 66 - l;
        let (q, sticky) = if k >= 0 {
            quotient(&num.shl(k as u64), den)
        } else {
            quotient(num, &den.shl((-k) as u64))
        };
        let base = e2 - k; // exponent of q's least significant bit
        let qbits = i64::from(128 - q.leading_zeros());
        let mut lsb = (base + qbits - 64).max(MIN_LSB);
        let shift = lsb - base; // >= 2
        let mut m = if shift >= 127 {
            // Far below the least subnormal's half: rounds to zero.
            0
        } else {
            let kept = q >> shift;
            let rem = q & ((1u128 << shift) - 1);
            let half = 1u128 << (shift - 1);
            if rem > half || (rem == half && (sticky || kept & 1 == 1)) {
                kept + 1
            } else {
                kept
            }
        };
        if m == 0 {
            return Rounded::Underflow;
        }
        if m == 1u128 << 64 {
            m >>= 1;
            lsb += 1;
        }
        if lsb > MAX_LSB {
            return Rounded::Overflow;
        }
        Rounded::Value(Ld::Finite {
            neg,
            mant: m as u64,
            exp: lsb as i32,
        })
    }

    /// `num / den` for a quotient known to be below 2^68, and whether a remainder was left.
    fn quotient(num: &Big, den: &Big) -> (u128, bool) {
        let mut r = num.clone();
        let mut q = 0u128;
        for i in (0..68u64).rev() {
            let d = den.shl(i);
            if r.cmp(&d) != Ordering::Less {
                r = r.sub(&d);
                q |= 1u128 << i;
            }
        }
        (q, !r.is_zero())
    }

    /// A non-negative big integer: little-endian 32-bit limbs without leading zero limbs.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u128(mut v: u128) -> Big {
            let mut limbs = Vec::new();
            while v != 0 {
                limbs.push(v as u32);
                v >>= 32;
            }
            Big(limbs)
        }

        fn from_decimal(digits: &[u8]) -> Big {
            let mut b = Big::default();
            for chunk in digits.chunks(9) {
                let mut v = 0u32;
                for &d in chunk {
                    v = v * 10 + u32::from(d - b'0');
                }
                b.mul_small_add(10u32.pow(chunk.len() as u32), v);
            }
            b
        }

        fn is_zero(&self) -> bool {
            self.0.is_empty()
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn mul_small_add(&mut self, m: u32, a: u32) {
            let mut carry = u64::from(a);
            for limb in &mut self.0 {
                let v = u64::from(*limb) * u64::from(m) + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
            self.trim();
        }

        fn mul_pow10(&mut self, mut n: u32) {
            while n >= 9 {
                self.mul_small_add(1_000_000_000, 0);
                n -= 9;
            }
            if n > 0 {
                self.mul_small_add(10u32.pow(n), 0);
            }
        }

        fn bit_len(&self) -> u64 {
            match self.0.last() {
                None => 0,
                Some(&top) => (self.0.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
            }
        }

        fn shl(&self, n: u64) -> Big {
            if self.is_zero() {
                return Big::default();
            }
            let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
            let mut out = vec![0u32; limbs];
            out.reserve(self.0.len() + 1);
            if bits == 0 {
                out.extend_from_slice(&self.0);
            } else {
                let mut carry = 0u32;
                for &l in &self.0 {
                    out.push((l << bits) | carry);
                    carry = l >> (32 - bits);
                }
                out.push(carry);
            }
            let mut b = Big(out);
            b.trim();
            b
        }

        fn cmp(&self, other: &Big) -> Ordering {
            self.0
                .len()
                .cmp(&other.0.len())
                .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
        }

        fn add(&self, other: &Big) -> Big {
            let (long, short) = if self.0.len() >= other.0.len() {
                (self, other)
            } else {
                (other, self)
            };
            let mut out = Vec::with_capacity(long.0.len() + 1);
            let mut carry = 0u64;
            for (i, &l) in long.0.iter().enumerate() {
                let v = u64::from(l) + u64::from(short.0.get(i).copied().unwrap_or(0)) + carry;
                out.push(v as u32);
                carry = v >> 32;
            }
            if carry != 0 {
                out.push(carry as u32);
            }
            Big(out)
        }

        /// `self - other`, for `self >= other`.
        fn sub(&self, other: &Big) -> Big {
            let mut out = Vec::with_capacity(self.0.len());
            let mut borrow = 0i64;
            for (i, &l) in self.0.iter().enumerate() {
                let mut v = i64::from(l) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
                borrow = i64::from(v < 0);
                if v < 0 {
                    v += 1 << 32;
                }
                out.push(v as u32);
            }
            let mut b = Big(out);
            b.trim();
            b
        }

        fn div_rem_small(&mut self, d: u32) -> u32 {
            let mut rem = 0u64;
            for limb in self.0.iter_mut().rev() {
                let cur = (rem << 32) | u64::from(*limb);
                *limb = (cur / u64::from(d)) as u32;
                rem = cur % u64::from(d);
            }
            self.trim();
            rem as u32
        }

        fn to_decimal(&self) -> String {
            if self.is_zero() {
                return "0".into();
            }
            let mut n = self.clone();
            let mut chunks = Vec::new();
            while !n.is_zero() {
                chunks.push(n.div_rem_small(1_000_000_000));
            }
            let mut s = String::with_capacity(chunks.len() * 9);
            for (i, c) in chunks.iter().rev().enumerate() {
                if i == 0 {
                    s.push_str(&c.to_string());
                } else {
                    s.push_str(&format!("{c:09}"));
                }
            }
            s
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn incr(value: &str, by: &str) -> Option<String> {
            let v = parse(value.as_bytes())?;
            let b = parse(by.as_bytes())?;
            add(v, b).map(format_human)
        }

        fn roundtrip(s: &str) -> Option<String> {
            incr(s, "0")
        }

        #[test]
        fn matches_redis_outputs() {
            // Every expected string below is redis-server 7.0's reply to INCRBYFLOAT.
            assert_eq!(incr("0.1", "0.2").as_deref(), Some("0.3"));
            assert_eq!(incr("10.50", "0.1").as_deref(), Some("10.6"));
            assert_eq!(incr("10.5", "5.0e3").as_deref(), Some("5010.5"));
            assert_eq!(incr("0", "3.0e3").as_deref(), Some("3000"));
            assert_eq!(
                incr("0", "5.0e+20").as_deref(),
                Some("500000000000000000000")
            );
            assert_eq!(incr("0", "1e20").as_deref(), Some("100000000000000000000"));
            assert_eq!(incr("0", "0.0000001").as_deref(), Some("0.0000001"));
            assert_eq!(incr("1.5", "1.5").as_deref(), Some("3"));
            assert_eq!(incr("3", "-3").as_deref(), Some("0"));
            assert_eq!(incr("1.1", "2.2").as_deref(), Some("3.3"));
            assert_eq!(incr("0", "0x10").as_deref(), Some("16"));
            assert_eq!(incr("0x.8p1", "0").as_deref(), Some("1"));
            assert_eq!(incr("1.5", "0X1P4").as_deref(), Some("17.5"));
            assert_eq!(incr("1.5", "00001").as_deref(), Some("2.5"));
            assert_eq!(incr("0", ".5").as_deref(), Some("0.5"));
            assert_eq!(incr("0", "5.").as_deref(), Some("5"));
            assert_eq!(incr("1e5", "0").as_deref(), Some("100000"));
            assert_eq!(incr("0", "-0.0").as_deref(), Some("0"));
            assert_eq!(incr("0", "-1e-30").as_deref(), Some("0"));
            assert_eq!(incr("-2.5", "0").as_deref(), Some("-2.5"));
            assert_eq!(incr("17179869184", "1.5").as_deref(), Some("17179869185.5"));
            assert_eq!(
                incr("123456789012345678901234", "0.5").as_deref(),
                Some("123456789012345678897152")
            );
            assert_eq!(roundtrip("3e-4951").as_deref(), Some("0"));
            let max_f64 = "1.7976931348623157e308";
            let doubled = incr(&roundtrip(max_f64).unwrap(), max_f64).unwrap();
            assert_eq!(
                doubled,
                "35953862697246313999184209354820886809677289388865835697062884153035325704624879270940373721677417112885758683885104137861741672690227211071579455605295523414699795537257678967123632658809118886985907489458125496133883476929775824555243666719790770566420656500950322338241623544031997185275360493372667907276\
8"
            );
            let e400 = roundtrip("1e400").unwrap();
            assert_eq!(
                e400,
                "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880"
            );
            let max = roundtrip("1.18973149535723176502e+4932").unwrap();
            assert!(max.starts_with("118973149535723176502126385303097020516906332229462420044032373389173700552297072261641029033652888285354569780749557731442744315367028843419812557385374367867359320070697326320191591828296152436552951064679108661431179063216977883889613478656060039914875343321145491116008867984515486651285234014977303760000912547939396622315138362241783854274391783813871780588948754057516822634765923557697480511372564902088485522249479139937758502601177354918009979622602685950855888360815984690023564513234659447638493985927645628457966177293040780660922910271504608538808795932778162298682754783076808004015069494230341172895777710033571401055977524212405734700738625166011082837911962300846927720096515350020847447079244384854591288672300061908512647211195136146752763351956292759795725027800298079590419313960302147099703527646744553092202267965628099149823208332964124103850923918473478612192169721054348428704835340811304257300221642134891734717423480071488075100206439051723424765600472176809648610799494341570347632064355862420744350442438056613601760883747816538902780957697597728686007148702828795556714140463261583262360276289631617397848425448686060994827086796804807870251185893083854658422304090880599629459458620190376604844679092600222541053077590106576067134720012584640695703025713896098375799892695455305236856075868317922311363951946885088077187210470520395758748001314313144425494391994017575316933939236688185618912993172910425292123683515992232205099800167710278403536014082929639811512287776813570604578934353545169653956125404884644716978689321167108722908808277835051822885764606221873970285165508372099234948333443522898475123275372663606621390228126470623407535207172405866507951821730346378263135339370677490195019784169044182473806316282858685774143258116536404021840272491339332094921949842244273042701987304453662035026238695780468200360144729199712309553005720614186697485284685618651483271597448120312194675168637934309618961510733006555242148519520176285859509105183947250286387163249416761380499631979144187025430270675849519200883791516940158174004671147787720145964446117520405945350476472180797576111172084627363927960033967047003761337450955318415007379641260504792325166135484129188421134082301547330475406707281876350361733290800595189632520707167390454777712968226520622565143991937680440029238090311243791261477625596469422198137514696707944687035800439250765945161837981185939204954403611491531078225107269148697980924094677214272701240437718740921675661363493890045123235166814608932240069799317601780533819184998193300841098599393876029260139091141452600372028487213241195542428210183120421610446740462163533690058366460659115629876474552506814500393294140413149540067760295100596225302282300363147382468105964844244132486457313743759509641616804802412935187620466813563687753281467553879887177183651289394719533506188500326760735438867336800207438784965701457609034985757124304510203873049485425670247933932280911052604153852899484920399109194612991249163328991799809438033787952209313146694614970593966415237594928589096048991612194498998638483702248667224914892467841020618336462741696957630763248023558797524525373703543388296086275342774001633343405508353704850737454481975472222897528108302089868263302028525992308416805453968791141829762998896457648276528750456285492426516521775079951625966922911497778896235667095662713848201819134832168799586365263762097828507009933729439678463987902491451422274252700636394232799848397673998715441855420156224415492665301451550468548925862027608576183712976335876121538256512963353814166394951655600026415918655485005705261143195291991880795452239464962763563017858089669222640623538289853586759599064700838568712381032959192649484625076899225841930548076362021508902214922052806984201835084058693849381549890944546197789302911357651677540623227829831403347327660395223160342282471752818181884430488092132193355086987339586127607367086665237555567580317149010847732009642431878007000879734603290627894355374356444885190719161645514115576193939969076741515640282654366402676009508752394550734155613586793306603174472092444651353236664764973540085196704077110364053815007348689179836404957060618953500508984091382686953509006678332447257871219660441528492484004185093281190896363417573989716659600075948780061916409485433875852065711654107226099628815012314437794400874930194474433078438899570184271000480830501217712356062289507626904285680004771889315808935851559386317665294808903126774702966254511086154895839508779675546413794489596052797520987481383976257859210575628440175934932416214833956535018919681138909184379573470326940634289008780584694035245347939808067427323629788710086717580253156130235606487870925986528841635097252953709111431720488774740553905400942537542411931794417513706468964386151771884986701034153254238591108962471088538580868883777725864856414593426212108664758848926003176234596076950884914966244415660441955208681198977024"));
        }

        #[test]
        fn rejects_like_redis() {
            for bad in [
                "",
                " 1",
                "1 ",
                "1e",
                "1e+",
                "0x",
                "0xg",
                "nan",
                "NaN",
                "-nan",
                "abc",
                "1.5x",
                "1_0",
                "1e-5000",
                "1e-4951",
                "1.2e4932",
                "1.18973149535723176509e+4932",
                "1\x002",
                ".",
                "+",
                "-",
                "+-1",
                "infinit",
                "e5",
                "0x.p1",
                "0x1p",
            ] {
                assert!(parse(bad.as_bytes()).is_none(), "{bad:?} must be refused");
            }
            assert!(parse("9".repeat(5120).as_bytes()).is_none());
            assert!(parse("9".repeat(5119).as_bytes()).is_none(), "overflows");
            assert!(parse(format!("0.{}1", "0".repeat(5000)).as_bytes()).is_none());
            assert!(parse(format!("0.{}1", "0".repeat(100)).as_bytes()).is_some());
            assert!(parse(b"1e999999999999999999999").is_none());
            assert!(parse(b"0e999999999999999999999").is_some());
        }

        #[test]
        fn infinities_parse_but_cannot_be_results() {
            for s in ["inf", "+inf", "-inf", "INF", "infinity", "-Infinity"] {
                let v = parse(s.as_bytes()).unwrap();
                assert!(matches!(v, Ld::Inf { .. }), "{s}");
                assert_eq!(add(v, Ld::ZERO), None);
            }
            let big = parse(b"1.18973149535723176502e+4932").unwrap();
            assert_eq!(add(big, big), None, "overflow is infinity");
        }

        #[test]
        fn rounding_is_half_even() {
            // 2^64 + 1 is exactly halfway between two long doubles: ties to even (2^64).
            let v = parse(b"18446744073709551617").unwrap();
            assert_eq!(
                v,
                Ld::Finite {
                    neg: false,
                    mant: 1 << 63,
                    exp: 1
                }
            );
            // 2^64 + 3 is halfway too: ties to even, upward this time (2^64 + 4).
            let v = parse(b"18446744073709551619").unwrap();
            assert_eq!(
                v,
                Ld::Finite {
                    neg: false,
                    mant: (1 << 63) + 2,
                    exp: 1
                }
            );
            // Just above half: rounds up.
            let v = parse(b"18446744073709551617.0000001").unwrap();
            assert_eq!(
                v,
                Ld::Finite {
                    neg: false,
                    mant: (1 << 63) + 1,
                    exp: 1
                }
            );
        }

        #[test]
        fn subnormals() {
            let least = parse(b"0x1p-16445").unwrap();
            assert_eq!(
                least,
                Ld::Finite {
                    neg: false,
                    mant: 1,
                    exp: -16445
                }
            );
            assert!(
                parse(b"0x1p-16446").is_none(),
                "exactly half the least: ties to 0"
            );
            assert!(parse(b"0x1.8p-16446").is_some());
            assert_eq!(format_human(least), "0");
        }

        #[test]
        fn big_integer_basics() {
            let a = Big::from_decimal(b"123456789012345678901234567890");
            assert_eq!(a.to_decimal(), "123456789012345678901234567890");
            let b = a.shl(100);
            let (q, rem) = quotient(&b, &a.shl(40));
            assert_eq!((q, rem), (1u128 << 60, false));
            assert_eq!(b.add(&a).sub(&a), b);
        }
    }
}

// ------------------------------------------------------------------------------ table

const RF: &[&str] = &["readonly", "fast"];
const R: &[&str] = &["readonly"];
const W: &[&str] = &["write", "denyoom"];
const WF: &[&str] = &["write", "fast"];
const WDF: &[&str] = &["write", "denyoom", "fast"];
const ACL_RF: &[&str] = &["read", "string", "fast"];
const ACL_RS: &[&str] = &["read", "string", "slow"];
const ACL_WF: &[&str] = &["write", "string", "fast"];
const ACL_WS: &[&str] = &["write", "string", "slow"];

use super::atomic_write as write;

/// A single-key string command row (key at argv[1]).
#[allow(clippy::too_many_arguments)]
const fn one_key(
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    acl: &'static [&'static str],
    summary: &'static str,
    since: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl,
        group: "string",
        summary,
        since,
        handler,
    }
}

use super::no_validation as none;

pub static SPECS: &[CommandSpec] = &[
    one_key(
        "get",
        2,
        RF,
        ACL_RF,
        "Get the value of a key",
        "1.0.0",
        Handler::Read(get),
    ),
    one_key(
        "set",
        -3,
        W,
        ACL_WS,
        "Set the string value of a key",
        "1.0.0",
        write(set_validate, set_apply),
    ),
    one_key(
        "setnx",
        3,
        WDF,
        ACL_WF,
        "Set the value of a key, only if the key does not exist",
        "1.0.0",
        write(none, setnx_apply),
    ),
    one_key(
        "setex",
        4,
        W,
        ACL_WS,
        "Set the value and expiration of a key",
        "2.0.0",
        write(setex_validate, setex_apply),
    ),
    one_key(
        "psetex",
        4,
        W,
        ACL_WS,
        "Set the value and expiration in milliseconds of a key",
        "2.6.0",
        write(setex_validate, setex_apply),
    ),
    one_key(
        "getset",
        3,
        WDF,
        ACL_WF,
        "Set the string value of a key and return its old value",
        "1.0.0",
        write(none, getset_apply),
    ),
    one_key(
        "getdel",
        2,
        WF,
        ACL_WF,
        "Get the value of a key and delete the key",
        "6.2.0",
        write(none, getdel_apply),
    ),
    one_key(
        "getex",
        -2,
        WF,
        ACL_WF,
        "Get the value of a key and optionally set its expiration",
        "6.2.0",
        write(getex_validate, getex_apply),
    ),
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: RF,
        first_key: 1,
        last_key: -1,
        step: 1,
        key_finder: None,
        acl: ACL_RF,
        group: "string",
        summary: "Get the values of all the given keys",
        since: "1.0.0",
        handler: Handler::Read(mget),
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: W,
        first_key: 1,
        last_key: -1,
        step: 2,
        key_finder: None,
        acl: ACL_WS,
        group: "string",
        summary: "Set multiple keys to multiple values",
        since: "1.0.1",
        handler: Handler::Write(WriteSpec {
            validate: validate_pairs,
            apply: mset_apply,
            split: Split::AllOk,
        }),
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: W,
        first_key: 1,
        last_key: -1,
        step: 2,
        key_finder: None,
        acl: ACL_WS,
        group: "string",
        summary: "Set multiple keys to multiple values, only if none of the keys exist",
        since: "1.0.1",
        handler: write(validate_pairs, msetnx_apply),
    },
    one_key(
        "incr",
        2,
        WDF,
        ACL_WF,
        "Increment the integer value of a key by one",
        "1.0.0",
        write(incr_validate, incr_apply),
    ),
    one_key(
        "decr",
        2,
        WDF,
        ACL_WF,
        "Decrement the integer value of a key by one",
        "1.0.0",
        write(incr_validate, incr_apply),
    ),
    one_key(
        "incrby",
        3,
        WDF,
        ACL_WF,
        "Increment the integer value of a key by the given amount",
        "1.0.0",
        write(incr_validate, incr_apply),
    ),
    one_key(
        "decrby",
        3,
        WDF,
        ACL_WF,
        "Decrement the integer value of a key by the given number",
        "1.0.0",
        write(incr_validate, incr_apply),
    ),
    one_key(
        "incrbyfloat",
        3,
        WDF,
        ACL_WF,
        "Increment the float value of a key by the given amount",
        "2.6.0",
        write(incrbyfloat_validate, incrbyfloat_apply),
    ),
    one_key(
        "append",
        3,
        WDF,
        ACL_WF,
        "Append a value to a key",
        "2.0.0",
        write(none, append_apply),
    ),
    one_key(
        "strlen",
        2,
        RF,
        ACL_RF,
        "Get the length of the value stored in a key",
        "2.2.0",
        Handler::Read(strlen),
    ),
    one_key(
        "getrange",
        4,
        R,
        ACL_RS,
        "Get a substring of the string stored at a key",
        "2.4.0",
        Handler::Read(getrange),
    ),
    one_key(
        "substr",
        4,
        R,
        ACL_RS,
        "Get a substring of the string stored at a key",
        "1.0.0",
        Handler::Read(getrange),
    ),
    one_key(
        "setrange",
        4,
        W,
        ACL_WS,
        "Overwrite part of a string at key starting at the specified offset",
        "2.2.0",
        write(setrange_validate, setrange_apply),
    ),
];

/// A test harness that runs write commands the way the dispatcher and the state machine do:
/// validate, apply in a fresh `WriteCtx`, commit on success, drop everything on failure.
#[cfg(test)]
pub(crate) mod testing {
    use bytes::Bytes;

    use crate::cmd::{lookup, Handler};
    use crate::resp::Frame;
    use crate::storage::keyspace::{KeyspaceState, WriteCtx};
    use crate::storage::{Cf, Metadata, Storage, StorageOptions};

    pub const NOW: u64 = 1_700_000_000_000;

    /// A command line as argv.
    pub fn argv(parts: &[&str]) -> Vec<Bytes> {
        parts
            .iter()
            .map(|p| Bytes::copy_from_slice(p.as_bytes()))
            .collect()
    }

    pub struct Harness {
        _dir: tempfile::TempDir,
        pub s: Storage,
        pub state: KeyspaceState,
        pub now_ms: u64,
        log_index: u64,
    }

    impl Harness {
        pub fn new() -> Harness {
            let dir = tempfile::tempdir().unwrap();
            let s = Storage::open(dir.path(), &StorageOptions::default()).unwrap();
            Harness {
                _dir: dir,
                s,
                state: KeyspaceState::default(),
                now_ms: NOW,
                log_index: 0,
            }
        }

        pub fn run(&mut self, parts: &[&str]) -> Frame {
            self.run_in(0, parts)
        }

        /// Runs a write command for a client of logical database `db`.
        pub fn run_in(&mut self, db: u8, parts: &[&str]) -> Frame {
            let args: Vec<Bytes> = parts
                .iter()
                .map(|p| Bytes::copy_from_slice(p.as_bytes()))
                .collect();
            let spec = lookup(&args[0]).expect("known command");
            assert!(spec.arity_ok(args.len()), "arity of {parts:?}");
            let Handler::Write(w) = spec.handler else {
                panic!("{} is not a write", spec.name)
            };
            if let Err(e) = (w.validate)(&args) {
                return e.to_frame();
            }
            match self.with_ctx(|ctx| (w.apply)(ctx, db, &args)) {
                Ok(f) => f,
                Err(e) => e.to_frame(),
            }
        }

        /// Runs `f` in a fresh write context and commits what it staged if it succeeds.
        pub fn with_ctx<T, E>(
            &mut self,
            f: impl FnOnce(&mut WriteCtx<'_>) -> Result<T, E>,
        ) -> Result<T, E> {
            self.log_index += 1;
            let mut ctx = WriteCtx::new(
                &self.s,
                self.state.clone(),
                self.now_ms,
                self.log_index,
                vec![(0, 16383)],
            );
            let out = f(&mut ctx)?;
            let state = ctx.state.clone();
            self.s.write(ctx.overlay.into_batch()).unwrap();
            self.state = state;
            Ok(out)
        }

        /// The stored metadata of `key` in physical db `pdb`, expired or not.
        pub fn stored(&self, pdb: u8, key: &str) -> Option<Metadata> {
            let slot = crate::cluster::key_slot(key.as_bytes());
            let raw = self
                .s
                .get(
                    Cf::Meta,
                    &crate::storage::keys::meta_key(slot, pdb, key.as_bytes()),
                )
                .unwrap()?;
            Some(Metadata::decode(&raw).unwrap())
        }

        /// Value and deadline of `key` if it is live now.
        pub fn get(&self, pdb: u8, key: &str) -> Option<(Vec<u8>, u64)> {
            self.stored(pdb, key)
                .filter(|m| !m.is_expired(self.now_ms))
                .map(|m| (m.payload, m.expire_ms))
        }

        /// Keys of the expiry index, as (pdb, key).
        pub fn expiry_index(&self) -> Vec<(u8, Vec<u8>)> {
            let mut out = Vec::new();
            self.s
                .scan(Cf::Expire, &[0], &[0xff, 0xff, 0xff], |k, _| {
                    let (_, _, pdb, key) = crate::storage::keys::decode_expire_key(k).unwrap();
                    out.push((pdb, key.to_vec()));
                    true
                })
                .unwrap();
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{argv, Harness, NOW};
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn err(s: &'static str) -> Frame {
        Frame::error(s)
    }

    #[test]
    fn ext_options_like_redis() {
        let p = |parts: &[&str]| {
            parse_ext(&argv(parts), true)
                .map(|o| (o.nx, o.xx, o.get, o.keepttl, o.expire.map(|e| e.0)))
        };
        assert_eq!(
            p(&["set", "k", "v", "nx", "get"]),
            Ok((true, false, true, false, None))
        );
        assert_eq!(
            p(&["set", "k", "v", "NX", "NX"]),
            Ok((true, false, false, false, None))
        );
        assert_eq!(
            p(&["set", "k", "v", "keepttl", "keepttl"]),
            Ok((false, false, false, true, None))
        );
        assert_eq!(
            p(&["set", "k", "v", "EX", "1", "ex", "2"]),
            Ok((false, false, false, false, Some(ExpireKind::Ex)))
        );
        for bad in [
            &["set", "k", "v", "nx", "xx"][..],
            &["set", "k", "v", "ex", "1", "px", "1"],
            &["set", "k", "v", "ex", "1", "keepttl"],
            &["set", "k", "v", "keepttl", "pxat", "1"],
            &["set", "k", "v", "ex"],
            &["set", "k", "v", "persist"],
            &["set", "k", "v", "foo"],
        ] {
            assert_eq!(p(bad), Err(CmdError::Syntax), "{bad:?}");
        }
        let g = |parts: &[&str]| {
            parse_ext(&argv(parts), false).map(|o| (o.persist, o.expire.map(|e| e.0)))
        };
        assert_eq!(g(&["getex", "k", "persist", "persist"]), Ok((true, None)));
        assert_eq!(
            g(&["getex", "k", "exat", "1", "exat", "2"]),
            Ok((false, Some(ExpireKind::ExAt)))
        );
        for bad in [
            &["getex", "k", "persist", "px", "1"][..],
            &["getex", "k", "px", "1", "persist"],
            &["getex", "k", "nx"],
            &["getex", "k", "keepttl"],
            &["getex", "k", "get"],
        ] {
            assert_eq!(g(bad), Err(CmdError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn expire_values() {
        assert_eq!(
            parse_expire_value(b"10", 1000, false, "set"),
            Ok(ExpireArg::In(10_000))
        );
        assert_eq!(
            parse_expire_value(b"10", 1, true, "set"),
            Ok(ExpireArg::At(10))
        );
        assert_eq!(
            parse_expire_value(b"x", 1, true, "set"),
            Err(CmdError::NotInteger)
        );
        assert_eq!(
            parse_expire_value(b"0", 1, true, "set"),
            Err(invalid_expire("set"))
        );
        assert_eq!(
            parse_expire_value(b"9999999999999999", 1000, true, "set"),
            Err(invalid_expire("set"))
        );
        assert_eq!(
            ExpireArg::In(i64::MAX as u64).resolve(NOW, "set"),
            Err(invalid_expire("set"))
        );
        assert_eq!(ExpireArg::In(5).resolve(NOW, "set"), Ok(NOW + 5));
        assert_eq!(ExpireArg::At(5).resolve(NOW, "set"), Ok(5));
    }

    #[test]
    fn substr_ranges_like_redis() {
        let r = |s, e| substr_range(s, e, 11);
        assert_eq!(r(0, 4), Some((0, 4)));
        assert_eq!(r(-5, -1), Some((6, 10)));
        assert_eq!(r(6, 100), Some((6, 10)));
        assert_eq!(r(5, 2), None);
        assert_eq!(r(-100, 2), Some((0, 2)));
        assert_eq!(r(100, 200), None);
        assert_eq!(r(-1, -5), None);
        assert_eq!(r(0, -100), Some((0, 0)));
        assert_eq!(r(i64::MIN, i64::MAX), Some((0, 10)));
        assert_eq!(substr_range(0, -1, 0), None);
    }

    #[test]
    fn set_options_apply() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["set", "k", "1", "nx"]), Frame::ok());
        assert_eq!(h.run(&["set", "k", "2", "nx"]), Frame::Null);
        assert_eq!(h.run(&["set", "k", "3", "nx", "get"]), bulk("1"));
        assert_eq!(h.run(&["set", "x", "3", "xx"]), Frame::Null);
        assert_eq!(h.run(&["set", "x", "3", "xx", "get"]), Frame::Null);
        assert_eq!(h.get(0, "x"), None);
        assert_eq!(
            h.run(&["set", "k", "4", "xx", "get", "ex", "100"]),
            bulk("1")
        );
        assert_eq!(h.get(0, "k"), Some((b"4".to_vec(), NOW + 100_000)));
        assert_eq!(h.run(&["set", "k", "5", "keepttl"]), Frame::ok());
        assert_eq!(h.get(0, "k"), Some((b"5".to_vec(), NOW + 100_000)));
        assert_eq!(h.state.counters.expires[0], 1);
        assert_eq!(h.run(&["set", "k", "6"]), Frame::ok());
        assert_eq!(h.get(0, "k"), Some((b"6".to_vec(), 0)));
        assert_eq!(h.state.counters.expires[0], 0);
        // Last expiry wins.
        assert_eq!(
            h.run(&["set", "k", "7", "px", "1", "px", "500"]),
            Frame::ok()
        );
        assert_eq!(h.get(0, "k"), Some((b"7".to_vec(), NOW + 500)));
        // A deadline in the past: set and immediately gone.
        assert_eq!(h.run(&["set", "k", "8", "pxat", "1"]), Frame::ok());
        assert_eq!(h.get(0, "k"), None);
        assert_eq!(h.state.counters.keys[0], 0);
        assert_eq!(h.state.counters.expires[0], 0);
        // Errors change nothing.
        assert_eq!(
            h.run(&["set", "k", "9", "ex", "0"]),
            err("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            h.run(&["set", "k", "9", "px", "9223372036854775807"]),
            err("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            h.run(&["set", "k", "9", "ex", "1", "keepttl"]),
            err("ERR syntax error")
        );
        assert_eq!(h.get(0, "k"), None);
    }

    #[test]
    fn expired_keys_count_as_absent() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["set", "k", "old", "px", "10"]), Frame::ok());
        assert_eq!(h.state.counters.keys[0], 1);
        h.now_ms += 10;
        assert_eq!(h.run(&["set", "k", "new", "nx", "get"]), Frame::Null);
        assert_eq!(h.get(0, "k"), Some((b"new".to_vec(), 0)));
        assert_eq!(
            h.state.counters.keys[0], 1,
            "the expired key was replaced, not added"
        );
        assert_eq!(h.state.counters.expires[0], 0);
        assert_eq!(h.run(&["set", "e", "1", "px", "5"]), Frame::ok());
        h.now_ms += 5;
        assert_eq!(h.run(&["incr", "e"]), Frame::Integer(1));
        assert_eq!(
            h.get(0, "e"),
            Some((b"1".to_vec(), 0)),
            "an expired TTL is not kept"
        );
        assert_eq!(h.run(&["set", "e", "1", "px", "5"]), Frame::ok());
        h.now_ms += 5;
        assert_eq!(h.run(&["getdel", "e"]), Frame::Null);
        assert_eq!(h.run(&["msetnx", "e", "1"]), Frame::Integer(1));
    }

    #[test]
    fn setnx_setex_getset_getdel() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["setnx", "k", "1"]), Frame::Integer(1));
        assert_eq!(h.run(&["setnx", "k", "2"]), Frame::Integer(0));
        assert_eq!(h.run(&["setex", "k", "10", "v"]), Frame::ok());
        assert_eq!(h.get(0, "k"), Some((b"v".to_vec(), NOW + 10_000)));
        assert_eq!(h.run(&["psetex", "k", "10", "w"]), Frame::ok());
        assert_eq!(h.get(0, "k"), Some((b"w".to_vec(), NOW + 10)));
        assert_eq!(
            h.run(&["setex", "k", "0", "v"]),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            h.run(&["psetex", "k", "-1", "v"]),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(h.run(&["getset", "k", "x"]), bulk("w"));
        assert_eq!(h.get(0, "k"), Some((b"x".to_vec(), 0)));
        assert_eq!(h.state.counters.expires[0], 0);
        assert_eq!(h.run(&["getset", "n", "x"]), Frame::Null);
        assert_eq!(h.run(&["getdel", "k"]), bulk("x"));
        assert_eq!(h.run(&["getdel", "k"]), Frame::Null);
        assert_eq!(h.state.counters.keys[0], 1);
    }

    #[test]
    fn getex_options() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["set", "k", "v"]), Frame::ok());
        assert_eq!(h.run(&["getex", "k"]), bulk("v"));
        assert_eq!(h.run(&["getex", "k", "ex", "100"]), bulk("v"));
        assert_eq!(h.get(0, "k"), Some((b"v".to_vec(), NOW + 100_000)));
        assert_eq!(h.state.counters.expires[0], 1);
        assert_eq!(
            h.run(&["getex", "k", "pxat", &(NOW + 5).to_string()]),
            bulk("v")
        );
        assert_eq!(h.get(0, "k"), Some((b"v".to_vec(), NOW + 5)));
        assert_eq!(h.run(&["getex", "k", "persist"]), bulk("v"));
        assert_eq!(h.get(0, "k"), Some((b"v".to_vec(), 0)));
        assert_eq!(h.state.counters.expires[0], 0);
        // Value errors only once the key is known to exist.
        assert_eq!(h.run(&["getex", "missing", "ex", "0"]), Frame::Null);
        assert_eq!(
            h.run(&["getex", "k", "ex", "0"]),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            h.run(&["getex", "k", "ex", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["getex", "k", "persist", "ex", "1"]),
            err("ERR syntax error")
        );
        // A past absolute deadline deletes the key after returning it.
        assert_eq!(h.run(&["getex", "k", "exat", "1"]), bulk("v"));
        assert_eq!(h.get(0, "k"), None);
        assert_eq!(h.state.counters.keys[0], 0);
    }

    #[test]
    fn mset_and_msetnx() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["set", "t", "1", "ex", "10"]), Frame::ok());
        assert_eq!(h.run(&["mset", "a", "1", "a", "2", "t", "3"]), Frame::ok());
        assert_eq!(h.get(0, "a"), Some((b"2".to_vec(), 0)));
        assert_eq!(h.get(0, "t"), Some((b"3".to_vec(), 0)));
        assert_eq!(h.state.counters.keys[0], 2);
        assert_eq!(h.state.counters.expires[0], 0);
        assert_eq!(
            h.run(&["mset", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(h.run(&["msetnx", "x", "1", "a", "9"]), Frame::Integer(0));
        assert_eq!(h.get(0, "x"), None, "all or nothing");
        assert_eq!(h.get(0, "a"), Some((b"2".to_vec(), 0)));
        assert_eq!(h.run(&["msetnx", "x", "1", "y", "2"]), Frame::Integer(1));
        assert_eq!(h.state.counters.keys[0], 4);
        assert_eq!(
            h.run(&["msetnx", "z", "1", "q"]),
            err("ERR wrong number of arguments for 'msetnx' command")
        );
    }

    #[test]
    fn counters() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["incr", "n"]), Frame::Integer(1));
        assert_eq!(h.run(&["incrby", "n", "-11"]), Frame::Integer(-10));
        assert_eq!(h.run(&["decrby", "n", "-10"]), Frame::Integer(0));
        assert_eq!(h.run(&["decr", "n"]), Frame::Integer(-1));
        assert_eq!(
            h.run(&["set", "m", "9223372036854775807", "ex", "10"]),
            Frame::ok()
        );
        assert_eq!(
            h.run(&["incr", "m"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            h.run(&["decrby", "m", "-1"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            h.run(&["decrby", "m", "-9223372036854775808"]),
            err("ERR decrement would overflow")
        );
        assert_eq!(h.run(&["decr", "m"]), Frame::Integer(i64::MAX - 1));
        assert_eq!(
            h.get(0, "m"),
            Some((b"9223372036854775806".to_vec(), NOW + 10_000)),
            "TTL kept"
        );
        for bad in [" 1", "01", "1.0", "", "+1", "x"] {
            assert_eq!(h.run(&["set", "b", bad]), Frame::ok());
            assert_eq!(
                h.run(&["incr", "b"]),
                err("ERR value is not an integer or out of range")
            );
        }
        assert_eq!(
            h.run(&["incrby", "n", "1.5"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(h.run(&["incrbyfloat", "f", "10.5"]), bulk("10.5"));
        assert_eq!(h.run(&["incrbyfloat", "f", "0.1"]), bulk("10.6"));
        assert_eq!(
            h.run(&["incrbyfloat", "f", "inf"]),
            err("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(
            h.run(&["incrbyfloat", "f", "x"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(h.run(&["set", "g", "1 "]), Frame::ok());
        assert_eq!(
            h.run(&["incrbyfloat", "g", "1"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(h.run(&["set", "t", "1", "px", "100"]), Frame::ok());
        assert_eq!(h.run(&["incrbyfloat", "t", "0.5"]), bulk("1.5"));
        assert_eq!(
            h.get(0, "t"),
            Some((b"1.5".to_vec(), NOW + 100)),
            "TTL kept"
        );
        assert_eq!(
            h.run(&["incrbyfloat", "nokey", "-inf"]),
            err("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(h.get(0, "nokey"), None);
    }

    #[test]
    fn append_and_setrange() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["append", "e", ""]), Frame::Integer(0));
        assert_eq!(h.get(0, "e"), Some((vec![], 0)));
        assert_eq!(h.run(&["set", "a", "ab", "ex", "5"]), Frame::ok());
        assert_eq!(h.run(&["append", "a", "cd"]), Frame::Integer(4));
        assert_eq!(h.get(0, "a"), Some((b"abcd".to_vec(), NOW + 5000)));
        assert_eq!(h.run(&["setrange", "a", "6", "x"]), Frame::Integer(7));
        assert_eq!(h.get(0, "a"), Some((b"abcd\0\0x".to_vec(), NOW + 5000)));
        assert_eq!(h.run(&["setrange", "a", "1", "BC"]), Frame::Integer(7));
        assert_eq!(h.get(0, "a").unwrap().0, b"aBCd\0\0x".to_vec());
        assert_eq!(h.run(&["setrange", "a", "100", ""]), Frame::Integer(7));
        assert_eq!(h.run(&["setrange", "none", "5", ""]), Frame::Integer(0));
        assert_eq!(h.get(0, "none"), None);
        assert_eq!(h.run(&["setrange", "n", "2", "z"]), Frame::Integer(3));
        assert_eq!(h.get(0, "n"), Some((b"\0\0z".to_vec(), 0)));
        assert_eq!(
            h.run(&["setrange", "a", "-1", "x"]),
            err("ERR offset is out of range")
        );
        assert_eq!(
            h.run(&["setrange", "a", "536870912", "x"]),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(
            h.run(&["setrange", "a", "536870911", ""]),
            Frame::Integer(7)
        );
    }
}
