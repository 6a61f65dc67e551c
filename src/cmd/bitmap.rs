//! Bit operations on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.
//!
//! Redis 7.0 `bitops.c` semantics: bit 0 is the most significant bit of the first byte,
//! strings grow with zero bytes as needed, offsets are limited by `proto-max-bulk-len`.
//! A bitmap is an ordinary string value stored inline in the key's metadata, so a write
//! rewrites the whole value (see docs/encoding/bitmap-hll.md).

use bytes::Bytes;

use super::args::{is, parse_i64, parse_i64_opt};
use super::string::{load_stored, load_string, read_string, store_string, MAX_STRING_LEN};
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;

// -------------------------------------------------------------------------- offsets

/// The smallest `proto-max-bulk-len` the configuration accepts. `validate` cannot see the
/// leader's setting, so it rejects an offset as too large only below this bound and leaves
/// larger ones (and everything parsed after them) to the apply, which knows the limit.
const MIN_LIMIT: u64 = 1024 * 1024;

fn offset_error() -> CmdError {
    CmdError::raw("ERR bit offset is not an integer or out of range")
}

/// Why an offset was refused.
#[derive(Debug, PartialEq, Eq)]
enum BadOffset {
    /// Not an integer, or negative: refused whatever the limit.
    Malformed,
    /// At or beyond `limit` bytes.
    TooLarge,
}

/// Redis `getBitOffsetFromArgument`: a bit offset whose byte is below `limit`; with
/// `hash_bits`, `#N` means `N * bits` (BITFIELD).
fn parse_offset(arg: &[u8], hash_bits: Option<u32>, limit: u64) -> Result<u64, BadOffset> {
    let (digits, mul) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], Some(bits)),
        _ => (arg, None),
    };
    let mut v = parse_i64_opt(digits).ok_or(BadOffset::Malformed)?;
    if let Some(bits) = mul {
        // Redis multiplies in signed 64-bit arithmetic (and wraps in practice).
        v = v.wrapping_mul(i64::from(bits));
    }
    if v < 0 {
        return Err(BadOffset::Malformed);
    }
    if (v as u64 >> 3) >= limit {
        return Err(BadOffset::TooLarge);
    }
    Ok(v as u64)
}

/// The offset limit of a read: the node's `proto-max-bulk-len` (the default inside a
/// transaction, where node settings are not reachable).
fn read_limit(ctx: &ReadCtx<'_>) -> u64 {
    ctx.node()
        .map(|n| n.runtime.read().proto_max_bulk_len as u64)
        .unwrap_or(MAX_STRING_LEN)
}

fn bit_at(v: &[u8], offset: u64) -> bool {
    let byte = (offset >> 3) as usize;
    let bit = 7 - (offset & 7) as u32;
    v.get(byte).is_some_and(|b| b & (1 << bit) != 0)
}

// ------------------------------------------------------------------- SETBIT / GETBIT

/// SETBIT's value: 0 or 1.
fn parse_bit_value(arg: &[u8]) -> Result<bool, CmdError> {
    let err = || CmdError::raw("ERR bit is not an integer or out of range");
    match parse_i64_opt(arg).ok_or_else(err)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(err()),
    }
}

fn setbit_validate(args: &[Bytes]) -> Result<(), CmdError> {
    match parse_offset(&args[2], None, MIN_LIMIT) {
        Err(BadOffset::Malformed) => Err(offset_error()),
        // Maybe within the leader's limit: the apply decides, offset first.
        Err(BadOffset::TooLarge) => Ok(()),
        Ok(_) => parse_bit_value(&args[3]).map(|_| ()),
    }
}

fn setbit_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let offset = parse_offset(&args[2], None, ctx.max_value_len).map_err(|_| offset_error())?;
    let on = parse_bit_value(&args[3])?;
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, key)?;
    let byte = (offset >> 3) as usize;
    let (mut v, expire_ms, mut dirty) = match st.live() {
        Some(m) => (m.payload.clone(), m.expire_ms, false),
        None => (Vec::new(), 0, true),
    };
    if v.len() < byte + 1 {
        v.resize(byte + 1, 0);
        dirty = true;
    }
    let mask = 1u8 << (7 - (offset & 7));
    let old = v[byte] & mask != 0;
    if dirty || old != on {
        if on {
            v[byte] |= mask;
        } else {
            v[byte] &= !mask;
        }
        store_string(ctx, pdb, key, v, expire_ms, st.old.as_ref());
    }
    Ok(Frame::Integer(i64::from(old)))
}

fn getbit(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let offset = parse_offset(&args[2], None, read_limit(ctx)).map_err(|_| offset_error())?;
    let v = read_string(ctx, &args[1])?.unwrap_or_default();
    Ok(Frame::Integer(i64::from(bit_at(&v, offset))))
}

// ----------------------------------------------------------------- BITCOUNT / BITPOS

fn popcount(bytes: &[u8]) -> i64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        n += u64::from(
            u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]).count_ones(),
        );
    }
    n += chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>();
    n as i64
}

/// BYTE or BIT, case-insensitively; anything else is a syntax error.
fn parse_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Masks of the bits outside a BIT range in its first and last bytes (Redis'
/// `first_byte_neg_mask` / `last_byte_neg_mask`), and the range in bytes.
fn bit_range_to_bytes(start: i64, end: i64) -> (i64, i64, u8, u8) {
    let first = !((1u32 << (8 - (start & 7))) - 1) as u8;
    let last = ((1u32 << (7 - (end & 7))) - 1) as u8;
    (start >> 3, end >> 3, first, last)
}

fn bitcount(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    // The key is looked up first: a missing key is 0 whatever the other arguments.
    let Some(v) = read_string(ctx, &args[1])? else {
        return Ok(Frame::Integer(0));
    };
    let strlen = v.len() as i64;
    let (mut start, mut end);
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    match args.len() {
        2 => {
            start = 0;
            end = strlen - 1;
        }
        4 | 5 => {
            start = parse_i64(&args[2])?;
            end = parse_i64(&args[3])?;
            if start < 0 && end < 0 && start > end {
                return Ok(Frame::Integer(0));
            }
            let isbit = match args.get(4) {
                Some(u) => parse_unit(u)?,
                None => false,
            };
            let totlen = if isbit { strlen << 3 } else { strlen };
            if start < 0 {
                start = totlen.saturating_add(start);
            }
            if end < 0 {
                end = totlen.saturating_add(end);
            }
            start = start.max(0);
            end = end.max(0);
            if end >= totlen {
                end = totlen - 1;
            }
            if isbit && start <= end {
                (start, end, first_mask, last_mask) = bit_range_to_bytes(start, end);
            }
        }
        _ => return Err(CmdError::Syntax),
    }
    if start > end {
        return Ok(Frame::Integer(0));
    }
    let (s, e) = (start as usize, end as usize);
    let mut count = popcount(&v[s..=e]);
    // Subtract the bits of the edge bytes that lie outside a BIT range.
    if first_mask != 0 {
        count -= i64::from((v[s] & first_mask).count_ones());
    }
    if last_mask != 0 {
        count -= i64::from((v[e] & last_mask).count_ones());
    }
    Ok(Frame::Integer(count))
}

/// Redis `redisBitpos`: the position of the first bit equal to `bit` in `bytes`; when there
/// is none, -1 looking for a 1, and `len * 8` (the padding bit right after) looking for a 0.
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    match bytes.iter().position(|&b| b != skip) {
        Some(i) => {
            let b = if bit { bytes[i] } else { !bytes[i] };
            (i as i64) * 8 + i64::from(b.leading_zeros())
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

fn bitpos(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let bit = match parse_i64(&args[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::raw("ERR The bit argument must be 1 or 0.")),
    };
    // A missing key is an infinite run of zeros.
    let Some(p) = read_string(ctx, &args[1])? else {
        return Ok(Frame::Integer(if bit { -1 } else { 0 }));
    };
    let strlen = p.len() as i64;
    let (mut start, mut end);
    let mut end_given = false;
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    match args.len() {
        3 => {
            start = 0;
            end = strlen - 1;
        }
        4..=6 => {
            start = parse_i64(&args[3])?;
            let isbit = match args.get(5) {
                Some(u) => parse_unit(u)?,
                None => false,
            };
            if let Some(e) = args.get(4) {
                end = parse_i64(e)?;
                end_given = true;
            } else if isbit {
                end = (strlen << 3) + 7;
            } else {
                end = strlen - 1;
            }
            let totlen = if isbit { strlen << 3 } else { strlen };
            if start < 0 {
                start = totlen.saturating_add(start);
            }
            if end < 0 {
                end = totlen.saturating_add(end);
            }
            start = start.max(0);
            end = end.max(0);
            if end >= totlen {
                end = totlen - 1;
            }
            if isbit && start <= end {
                (start, end, first_mask, last_mask) = bit_range_to_bytes(start, end);
            }
        }
        _ => return Err(CmdError::Syntax),
    }
    // An empty range holds neither a 0 nor a 1.
    if start > end {
        return Ok(Frame::Integer(-1));
    }
    // Redis' walk, step by step: the masked first byte, the whole bytes between, the
    // masked last byte; `start` and `bytes` track what is left.
    let mut bytes = end - start + 1;
    let masked = |b: u8, mask: u8| if bit { b & !mask } else { b | mask };
    let pos = 'found: {
        if first_mask != 0 {
            let mut tmp = masked(p[start as usize], first_mask);
            if last_mask != 0 && bytes == 1 {
                tmp = masked(tmp, last_mask);
            }
            let pos = first_bit(&[tmp], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let curbytes = bytes - i64::from(last_mask != 0);
        if curbytes > 0 {
            let s = start as usize;
            let pos = first_bit(&p[s..s + curbytes as usize], bit);
            if bytes == curbytes || (pos != -1 && pos != curbytes << 3) {
                break 'found pos;
            }
            start += curbytes;
            bytes -= curbytes;
        }
        let tmp = masked(p[end as usize], last_mask);
        first_bit(&[tmp], bit)
    };
    // Looking for a 0 in an explicit range: the padding bit after it does not count.
    if end_given && !bit && pos == bytes << 3 {
        return Ok(Frame::Integer(-1));
    }
    Ok(Frame::Integer(if pos != -1 {
        pos + (start << 3)
    } else {
        pos
    }))
}

// -------------------------------------------------------------------------- BITOP

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop_parse(args: &[Bytes]) -> Result<BitOp, CmdError> {
    let op = &args[1];
    let op = if is(op, "and") {
        BitOp::And
    } else if is(op, "or") {
        BitOp::Or
    } else if is(op, "xor") {
        BitOp::Xor
    } else if is(op, "not") {
        BitOp::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(CmdError::raw(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    Ok(op)
}

fn bitop_validate(args: &[Bytes]) -> Result<(), CmdError> {
    bitop_parse(args).map(|_| ())
}

fn bitop_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let op = bitop_parse(args)?;
    let pdb = ctx.pdb(db);
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(args.len() - 3);
    for key in &args[3..] {
        // Missing keys are empty strings.
        let st = load_string(ctx, pdb, key)?;
        srcs.push(
            st.old
                .filter(|_| st.live)
                .map(|m| m.payload)
                .unwrap_or_default(),
        );
    }
    let maxlen = srcs.iter().map(Vec::len).max().unwrap_or(0);
    let dest = &args[2];
    let st = load_stored(ctx, pdb, dest)?;
    if maxlen == 0 {
        // An empty result deletes the destination.
        if let Some(old) = st.old.as_ref().filter(|_| st.live) {
            ctx.remove(pdb, dest, old);
        }
        return Ok(Frame::Integer(0));
    }
    let at = |s: &Vec<u8>, j: usize| s.get(j).copied().unwrap_or(0);
    let mut res = Vec::with_capacity(maxlen);
    for j in 0..maxlen {
        let mut out = at(&srcs[0], j);
        match op {
            BitOp::Not => out = !out,
            BitOp::And => srcs[1..].iter().for_each(|s| out &= at(s, j)),
            BitOp::Or => srcs[1..].iter().for_each(|s| out |= at(s, j)),
            BitOp::Xor => srcs[1..].iter().for_each(|s| out ^= at(s, j)),
        }
        res.push(out);
    }
    // Like SET: the destination loses any TTL and any other type.
    store_string(ctx, pdb, dest, res, 0, st.old.as_ref());
    Ok(Frame::Integer(maxlen as i64))
}

// ------------------------------------------------------------------------ BITFIELD

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// A parse failure: an error reply, or (validation only) an offset that may be within the
/// leader's limit, which the apply must judge.
enum FieldError {
    Reply(CmdError),
    Undecided,
}

impl From<CmdError> for FieldError {
    fn from(e: CmdError) -> Self {
        FieldError::Reply(e)
    }
}

/// Redis `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63` (lowercase prefix).
fn parse_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || {
        CmdError::raw(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not \
             supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let bits = parse_i64_opt(&arg[1..]).ok_or_else(err)?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

/// Parses BITFIELD's subcommands in order, failing at the first bad one as Redis does.
/// `validating`: offsets refused only for their size become `Undecided`.
fn parse_fields(args: &[Bytes], limit: u64, validating: bool) -> Result<Vec<Field>, FieldError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = &args[j];
        let op_kind = if is(sub, "get") && remaining >= 2 {
            0
        } else if is(sub, "set") && remaining >= 3 {
            1
        } else if is(sub, "incrby") && remaining >= 3 {
            2
        } else if is(sub, "overflow") && remaining >= 1 {
            let t = &args[j + 1];
            overflow = if is(t, "wrap") {
                Overflow::Wrap
            } else if is(t, "sat") {
                Overflow::Sat
            } else if is(t, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::raw("ERR Invalid OVERFLOW type specified").into());
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax.into());
        };
        let (signed, bits) = parse_type(&args[j + 1])?;
        let offset = match parse_offset(&args[j + 2], Some(bits), limit) {
            Ok(o) => o,
            Err(BadOffset::TooLarge) if validating => return Err(FieldError::Undecided),
            Err(_) => return Err(offset_error().into()),
        };
        let op = match op_kind {
            0 => FieldOp::Get,
            1 => FieldOp::Set(parse_i64(&args[j + 3])?),
            _ => FieldOp::IncrBy(parse_i64(&args[j + 3])?),
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if op_kind == 0 { 3 } else { 4 };
    }
    Ok(fields)
}

fn parse_fields_reply(args: &[Bytes], limit: u64) -> Result<Vec<Field>, CmdError> {
    match parse_fields(args, limit, false) {
        Ok(f) => Ok(f),
        Err(FieldError::Reply(e)) => Err(e),
        Err(FieldError::Undecided) => Err(offset_error()),
    }
}

/// `bits` bits at bit `offset`, most significant first; bytes past the end read as 0.
fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut value = 0u64;
    for j in 0..u64::from(bits) {
        value = (value << 1) | u64::from(bit_at(p, offset + j));
    }
    value
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut value = get_unsigned(p, offset, bits) as i64;
    if bits < 64 && value & (1i64 << (bits - 1)) != 0 {
        value |= -1i64 << bits;
    }
    value
}

/// Writes the low `bits` bits of `value` at bit `offset` (the bytes exist).
fn set_unsigned(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let on = value & (1u64 << (u64::from(bits) - 1 - j)) != 0;
        let o = offset + j;
        let byte = (o >> 3) as usize;
        let mask = 1u8 << (7 - (o & 7));
        if on {
            p[byte] |= mask;
        } else {
            p[byte] &= !mask;
        }
    }
}

/// Redis `checkUnsignedBitfieldOverflow`: Some(result) if `value + incr` overflows (the
/// wrapped or saturated result; unused for FAIL), None if it fits.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max: u64 = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Wrap { wrap() } else { max })
    } else if incr < 0 && incr < minincr {
        Some(if ow == Overflow::Wrap { wrap() } else { 0 })
    } else {
        None
    }
}

/// Redis `checkSignedBitfieldOverflow`, see [`unsigned_overflow`].
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Wrap { wrap() } else { max })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(if ow == Overflow::Wrap { wrap() } else { min })
    } else {
        None
    }
}

fn field_get(p: &[u8], f: &Field) -> Frame {
    Frame::Integer(if f.signed {
        get_signed(p, f.offset, f.bits)
    } else {
        get_unsigned(p, f.offset, f.bits) as i64
    })
}

/// Runs a SET or INCRBY on `p` (long enough); returns the reply and whether the stored
/// bits changed.
fn field_write(p: &mut [u8], f: &Field) -> (Frame, bool) {
    let (value_or_incr, is_incr) = match f.op {
        FieldOp::Set(v) => (v, false),
        FieldOp::IncrBy(i) => (i, true),
        FieldOp::Get => return (field_get(p, f), false),
    };
    let (reply, old, new, overflowed) = if f.signed {
        let old = get_signed(p, f.offset, f.bits);
        let (new, over, reply) = if is_incr {
            let over = signed_overflow(old, value_or_incr, f.bits, f.overflow);
            let new = over.unwrap_or(old.wrapping_add(value_or_incr));
            (new, over.is_some(), new)
        } else {
            let over = signed_overflow(value_or_incr, 0, f.bits, f.overflow);
            (over.unwrap_or(value_or_incr), over.is_some(), old)
        };
        (reply, old as u64, new as u64, over)
    } else {
        let old = get_unsigned(p, f.offset, f.bits);
        let (new, over, reply) = if is_incr {
            let over = unsigned_overflow(old, value_or_incr, f.bits, f.overflow);
            let new = over.unwrap_or(old.wrapping_add(value_or_incr as u64));
            (new, over.is_some(), new as i64)
        } else {
            let v = value_or_incr as u64;
            let over = unsigned_overflow(v, 0, f.bits, f.overflow);
            (over.unwrap_or(v), over.is_some(), old as i64)
        };
        (reply, old, new, over)
    };
    if overflowed && f.overflow == Overflow::Fail {
        return (Frame::Null, false);
    }
    set_unsigned(p, f.offset, f.bits, new);
    let mask = if f.bits == 64 {
        u64::MAX
    } else {
        (1u64 << f.bits) - 1
    };
    (Frame::Integer(reply), old & mask != new & mask)
}

fn bitfield_validate(args: &[Bytes]) -> Result<(), CmdError> {
    match parse_fields(args, MIN_LIMIT, true) {
        Ok(_) | Err(FieldError::Undecided) => Ok(()),
        Err(FieldError::Reply(e)) => Err(e),
    }
}

fn bitfield_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let fields = parse_fields_reply(args, ctx.max_value_len)?;
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, key)?;
    let highest = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + u64::from(f.bits) - 1)
        .max();
    let Some(highest) = highest else {
        // Only GETs: nothing is created or written.
        let v = st.live().map(|m| &m.payload[..]).unwrap_or(&[]);
        return Ok(Frame::Array(
            fields.iter().map(|f| field_get(v, f)).collect(),
        ));
    };
    let (mut v, expire_ms, mut dirty) = match st.live() {
        Some(m) => (m.payload.clone(), m.expire_ms, false),
        None => (Vec::new(), 0, true),
    };
    let need = (highest >> 3) as usize + 1;
    if v.len() < need {
        v.resize(need, 0);
        dirty = true;
    }
    let mut replies = Vec::with_capacity(fields.len());
    for f in &fields {
        let (reply, changed) = field_write(&mut v, f);
        dirty |= changed;
        replies.push(reply);
    }
    // Redis keeps a created or grown string even when every write failed (OVERFLOW FAIL).
    if dirty {
        store_string(ctx, pdb, key, v, expire_ms, st.old.as_ref());
    }
    Ok(Frame::Array(replies))
}

fn bitfield_ro(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let fields = parse_fields_reply(args, read_limit(ctx))?;
    if fields.iter().any(|f| f.op != FieldOp::Get) {
        return Err(CmdError::raw(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let v = read_string(ctx, &args[1])?.unwrap_or_default();
    Ok(Frame::Array(
        fields.iter().map(|f| field_get(&v, f)).collect(),
    ))
}

// ---------------------------------------------------------------------------- table

use super::atomic_write as write;

/// A bitmap command row with its key at argv[1].
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
        group: "bitmap",
        summary,
        since,
        handler,
    }
}

const W: &[&str] = &["write", "denyoom"];
const ACL_WS: &[&str] = &["write", "bitmap", "slow"];
const RF: &[&str] = &["readonly", "fast"];
const ACL_RF: &[&str] = &["read", "bitmap", "fast"];
const R: &[&str] = &["readonly"];
const ACL_RS: &[&str] = &["read", "bitmap", "slow"];

pub static SPECS: &[CommandSpec] = &[
    one_key(
        "setbit",
        4,
        W,
        ACL_WS,
        "Sets or clears the bit at offset in the string value stored at key",
        "2.2.0",
        write(setbit_validate, setbit_apply),
    ),
    one_key(
        "getbit",
        3,
        RF,
        ACL_RF,
        "Returns the bit value at offset in the string value stored at key",
        "2.2.0",
        Handler::Read(getbit),
    ),
    one_key(
        "bitcount",
        -2,
        R,
        ACL_RS,
        "Count set bits in a string",
        "2.6.0",
        Handler::Read(bitcount),
    ),
    one_key(
        "bitpos",
        -3,
        R,
        ACL_RS,
        "Find first bit set or clear in a string",
        "2.8.7",
        Handler::Read(bitpos),
    ),
    CommandSpec {
        name: "bitop",
        arity: -4,
        flags: W,
        first_key: 2,
        last_key: -1,
        step: 1,
        key_finder: None,
        acl: ACL_WS,
        group: "bitmap",
        summary: "Perform bitwise operations between strings",
        since: "2.6.0",
        handler: write(bitop_validate, bitop_apply),
    },
    one_key(
        "bitfield",
        -2,
        W,
        ACL_WS,
        "Perform arbitrary bitfield integer operations on strings",
        "3.2.0",
        write(bitfield_validate, bitfield_apply),
    ),
    one_key(
        "bitfield_ro",
        -2,
        RF,
        ACL_RF,
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        "6.0.0",
        Handler::Read(bitfield_ro),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::string::testing::Harness;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset(b"7", None, 1), Ok(7));
        assert_eq!(parse_offset(b"8", None, 1), Err(BadOffset::TooLarge));
        assert_eq!(parse_offset(b"-1", None, 10), Err(BadOffset::Malformed));
        assert_eq!(parse_offset(b"#2", None, 10), Err(BadOffset::Malformed));
        assert_eq!(parse_offset(b"#2", Some(8), 10), Ok(16));
        assert_eq!(parse_offset(b"", Some(8), 10), Err(BadOffset::Malformed));
        assert_eq!(
            parse_offset(b"#9223372036854775807", Some(2), u64::MAX),
            Err(BadOffset::Malformed),
            "wraps to -2"
        );
    }

    #[test]
    fn first_bit_like_redis() {
        assert_eq!(first_bit(&[0, 0], true), -1);
        assert_eq!(first_bit(&[0xff, 0xff], false), 16);
        assert_eq!(first_bit(&[0, 0x10], true), 11);
        assert_eq!(first_bit(&[0xff, 0xf7], false), 12);
    }

    #[test]
    fn bitfield_arithmetic() {
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Wrap), Some(251));
        assert_eq!(unsigned_overflow(5, 10, 8, Overflow::Wrap), None);
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_overflow(-128, -1, 8, Overflow::Sat), Some(-128));
        assert_eq!(
            signed_overflow(i64::MAX, 1, 64, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(
            signed_overflow(i64::MIN, -1, 64, Overflow::Sat),
            Some(i64::MIN)
        );
        assert_eq!(signed_overflow(-5, 3, 64, Overflow::Sat), None);
        let mut p = vec![0u8; 2];
        set_unsigned(&mut p, 7, 5, 23);
        assert_eq!(p, vec![0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&p, 7, 5), 23);
        assert_eq!(get_signed(&p, 7, 5), -9);
        assert_eq!(get_unsigned(&p, 12, 64), 0, "past the end reads zeros");
    }

    #[test]
    fn setbit_and_bitfield_apply() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["setbit", "k", "7", "1"]), Frame::Integer(0));
        assert_eq!(h.get(0, "k").unwrap().0, vec![1u8]);
        assert_eq!(h.run(&["setbit", "k", "7", "1"]), Frame::Integer(1));
        assert_eq!(
            h.run(&["setbit", "k", "7", "2"]),
            Frame::error("ERR bit is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["setbit", "k", "4294967296", "1"]),
            Frame::error("ERR bit offset is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["bitfield", "b", "overflow", "fail", "incrby", "u2", "100", "5"]),
            Frame::Array(vec![Frame::Null])
        );
        assert_eq!(h.get(0, "b").unwrap().0, vec![0u8; 13]);
        assert_eq!(
            h.run(&["bitfield", "c", "get", "u8", "0"]),
            Frame::Array(vec![Frame::Integer(0)])
        );
        assert_eq!(h.get(0, "c"), None);
        assert_eq!(
            h.run(&["bitfield", "c", "set", "i8", "#1", "-1", "get", "u4", "8"]),
            Frame::Array(vec![Frame::Integer(0), Frame::Integer(15)])
        );
        assert_eq!(h.get(0, "c").unwrap().0, vec![0u8, 0xff]);
        assert_eq!(h.run(&["bitop", "not", "d", "c"]), Frame::Integer(2));
        assert_eq!(h.get(0, "d").unwrap().0, vec![0xffu8, 0]);
        assert_eq!(h.run(&["bitop", "and", "d", "none"]), Frame::Integer(0));
        assert_eq!(h.get(0, "d"), None);
    }
}
