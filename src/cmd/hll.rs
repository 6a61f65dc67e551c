//! HyperLogLog on string values: PFADD PFCOUNT PFMERGE.
//!
//! A faithful port of Redis 7.0's `hyperloglog.c`: the same hash (MurmurHash64A, seed
//! 0xadc83b19), the same 16384 6-bit registers, the same sparse opcodes and promotion rule
//! (`hll-sparse-max-bytes` 3000, fixed here), the same 16-byte header with its cached
//! cardinality, and the same Ertl estimator. The stored string is therefore byte for byte what
//! Redis stores, so GET/SET, DUMP/RESTORE and replication of HLLs between the two just work.
//!
//! One deliberate difference: single-key PFCOUNT does not write the cached cardinality back
//! (Redis does, although the command is flagged `readonly`). Here PFCOUNT is a plain read: it
//! answers from a valid cache, and otherwise computes the estimate (the same number Redis
//! caches) without storing it, so the reply is always Redis' and PFCOUNT never costs a Raft
//! round trip. The only visible effect: after a PFCOUNT, GET shows the cache still flagged
//! stale where Redis would show it filled in (both are valid HLLs to either server).

use bytes::Bytes;

use super::string::{load_string, read_string, store_string};
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx, Split, WriteSpec};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;

// ------------------------------------------------------------------------ constants

/// Header: "HYLL", encoding, 3 unused bytes, 8 bytes of cached cardinality (little endian,
/// the MSB of the last byte set = stale).
const HDR: usize = 16;
const P: u32 = 14;
const Q: usize = 64 - P as usize;
const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Length of a dense HLL string: header + 16384 * 6 bits.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;
/// Redis' default `hll-sparse-max-bytes`: a sparse HLL that would grow beyond it is
/// promoted to dense. Fixed (not configurable) so that every replica promotes identically.
const SPARSE_MAX_BYTES: usize = 3000;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;

const ALPHA_INF: f64 = 0.721_347_520_444_481_7; // 0.5 / ln(2)

fn not_hll() -> CmdError {
    CmdError::raw("WRONGTYPE Key is not a valid HyperLogLog string value.")
}

fn corrupted() -> CmdError {
    CmdError::raw("INVALIDOBJ Corrupted HLL object detected")
}

/// A sparse representation that does not describe exactly 16384 registers.
#[derive(Debug, PartialEq, Eq)]
struct Corrupt;

// ------------------------------------------------------------------------- hashing

/// MurmurHash2, 64-bit version, endian-neutral as modified for Redis.
pub fn murmur64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h: u64 = u64::from(seed) ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Register index and run length of `000..1` (counting the final 1) of an element's hash:
/// Redis `hllPatLen`.
fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash & P_MASK) as usize;
    // The sentinel bit at Q bounds the count to Q + 1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// --------------------------------------------------------------------------- header

/// Redis `isHLLObjectOrReply` (the string type is checked by the caller).
fn check_hll(v: &[u8]) -> Result<(), CmdError> {
    if v.len() < HDR || &v[..4] != b"HYLL" || v[4] > MAX_ENCODING {
        return Err(not_hll());
    }
    if v[4] == DENSE && v.len() != DENSE_SIZE {
        return Err(not_hll());
    }
    Ok(())
}

fn invalidate_cache(v: &mut [u8]) {
    v[15] |= 0x80;
}

fn cached_card(v: &[u8]) -> Option<u64> {
    (v[15] & 0x80 == 0).then(|| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&v[8..16]);
        u64::from_le_bytes(b)
    })
}

/// A new, empty HLL: sparse, one XZERO opcode covering every register, cache valid at 0
/// (Redis `createHLLObject`).
fn new_hll() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        v.extend_from_slice(&xzero_op(n));
        left -= n;
    }
    v
}

// ---------------------------------------------------------------------------- dense

/// Register `i` of the dense register bytes. The byte after the last one reads as 0 (in
/// Redis it is the string's NUL terminator).
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u32::from(regs[byte]);
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u32::from(REGISTER_MAX)) as u8
}

fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u32::from(val);
    let max = u32::from(REGISTER_MAX);
    regs[byte] = ((u32::from(regs[byte]) & !(max << fb)) | (v << fb)) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next = ((u32::from(*next) & !(max >> (8 - fb))) | (v >> (8 - fb))) as u8;
    }
}

/// Sets register `i` to `count` if that is larger; true if it changed (`hllDenseSet`).
fn dense_set_max(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

// --------------------------------------------------------------------------- sparse

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

fn zero_len(b: u8) -> usize {
    usize::from(b & 0x3f) + 1
}

/// XZERO length from its two bytes; a truncated opcode reads its second byte as 0 (Redis
/// reads the NUL terminator).
fn xzero_len(v: &[u8], p: usize) -> usize {
    ((usize::from(v[p] & 0x3f) << 8) | usize::from(v.get(p + 1).copied().unwrap_or(0))) + 1
}

fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

fn val_len(b: u8) -> usize {
    usize::from(b & 0x3) + 1
}

fn val_op(value: u8, len: usize) -> u8 {
    (((value - 1) << 2) | (len as u8 - 1)) | 0x80
}

fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [((l >> 8) as u8) | 0x40, (l & 0xff) as u8]
}

/// A ZERO or XZERO run of `len` registers, as Redis chooses between them.
fn push_zero_run(seq: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero_op(len));
    } else {
        seq.push(zero_op(len));
    }
}

/// Converts a sparse HLL to dense in place (`hllSparseToDense`): the header is kept (cached
/// cardinality included), only the encoding byte changes.
fn sparse_to_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&v[..HDR]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR..];
    let mut idx = 0usize;
    let mut p = HDR;
    while p < v.len() {
        let b = v[p];
        if is_zero(b) {
            idx += zero_len(b);
            p += 1;
        } else if is_xzero(b) {
            idx += xzero_len(v, p);
            p += 2;
        } else {
            let (runlen, regval) = (val_len(b), val_value(b));
            if runlen + idx > REGISTERS {
                break;
            }
            for _ in 0..runlen {
                dense_set(regs, idx, regval);
                idx += 1;
            }
            p += 1;
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *v = dense;
    Ok(())
}

/// Sets sparse register `index` to `count` if that is larger (`hllSparseSet`), splitting
/// and merging opcodes exactly as Redis does, or promoting to dense when the value does not
/// fit a VAL opcode or the string would grow beyond [`SPARSE_MAX_BYTES`]. True if a register
/// changed.
fn sparse_set(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = v.len();
    let mut p = HDR;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let b = v[p];
        let mut oplen = 1;
        if is_zero(b) {
            span = zero_len(b);
        } else if is_val(b) {
            span = val_len(b);
        } else {
            span = xzero_len(v, p);
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let b = v[p];
    let (zero, xzero) = (is_zero(b), is_xzero(b));
    let runlen = if zero {
        zero_len(b)
    } else if xzero {
        xzero_len(v, p)
    } else {
        val_len(b)
    };

    // Step 2: the trivial in-place updates.
    let mut in_place = false;
    if !zero && !xzero {
        let old = val_value(b);
        if old >= count {
            return Ok(false);
        }
        if runlen == 1 {
            v[p] = val_op(count, 1);
            in_place = true;
        }
    }
    if zero && runlen == 1 {
        v[p] = val_op(count, 1);
        in_place = true;
    }

    if !in_place {
        // General case: split the opcode into up to three.
        let last = first + span - 1;
        let mut seq = Vec::with_capacity(5);
        if zero || xzero {
            if index != first {
                push_zero_run(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                push_zero_run(&mut seq, last - index);
            }
        } else {
            let cur = val_value(b);
            if index != first {
                seq.push(val_op(cur, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(cur, last - index));
            }
        }
        // Step 3: substitute the sequence for the opcode.
        let oldlen = if xzero { 2 } else { 1 };
        let new_len = (end + seq.len()).saturating_sub(oldlen);
        if seq.len() > oldlen && new_len > SPARSE_MAX_BYTES {
            return promote(v, index, count);
        }
        let tail = (p + oldlen).min(end);
        v.splice(p..tail, seq);
        // A truncated XZERO at the very end loses what would lie past the new length, as in
        // Redis (which copies over its NUL terminator).
        v.truncate(new_len);
    }

    // Step 4: merge adjacent VAL opcodes of equal value around the change.
    let mut end = v.len();
    let mut p = prev.unwrap_or(HDR);
    let mut scanlen = 5;
    while p < end && scanlen > 0 {
        scanlen -= 1;
        let b = v[p];
        if is_xzero(b) {
            p += 2;
            continue;
        } else if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(v[p + 1]) {
            let (v1, v2) = (val_value(b), val_value(v[p + 1]));
            if v1 == v2 {
                let len = val_len(b) + val_len(v[p + 1]);
                if len <= SPARSE_VAL_MAX_LEN {
                    v[p + 1] = val_op(v1, len);
                    v.remove(p);
                    end -= 1;
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(v);
    Ok(true)
}

fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(v)?;
    dense_set_max(&mut v[HDR..], index, count);
    Ok(true)
}

/// Adds one element (`hllAdd`); true if a register changed.
fn add(v: &mut Vec<u8>, ele: &[u8]) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    match v[4] {
        DENSE => Ok(dense_set_max(&mut v[HDR..], index, count)),
        _ => sparse_set(v, index, count),
    }
}

/// `max[i] = max(max[i], register i)` over a validated HLL (`hllMerge`).
fn merge_into(max: &mut [u8], v: &[u8]) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        let regs = &v[HDR..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let mut i = 0usize;
    let mut p = HDR;
    while p < v.len() {
        let b = v[p];
        if is_zero(b) {
            i += zero_len(b);
            p += 1;
        } else if is_xzero(b) {
            i += xzero_len(v, p);
            p += 2;
        } else {
            let (runlen, regval) = (val_len(b), val_value(b));
            if runlen + i > REGISTERS {
                break;
            }
            for m in &mut max[i..i + runlen] {
                *m = (*m).max(regval);
            }
            i += runlen;
            p += 1;
        }
    }
    if i != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

// ------------------------------------------------------------------------ estimator

type Histogram = [u64; 64];

fn histogram(v: &[u8]) -> Result<Histogram, Corrupt> {
    let mut h = [0u64; 64];
    if v[4] == DENSE {
        let regs = &v[HDR..];
        for i in 0..REGISTERS {
            h[usize::from(dense_get(regs, i))] += 1;
        }
        return Ok(h);
    }
    let mut idx = 0usize;
    let mut p = HDR;
    while p < v.len() {
        let b = v[p];
        if is_zero(b) {
            let n = zero_len(b);
            idx += n;
            h[0] += n as u64;
            p += 1;
        } else if is_xzero(b) {
            let n = xzero_len(v, p);
            idx += n;
            h[0] += n as u64;
            p += 2;
        } else {
            let n = val_len(b);
            idx += n;
            h[usize::from(val_value(b))] += n as u64;
            p += 1;
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(h)
}

fn raw_histogram(regs: &[u8]) -> Histogram {
    let mut h = [0u64; 64];
    for &r in regs {
        h[usize::from(r & 63)] += 1;
    }
    h
}

/// Ertl's sigma (arXiv:1702.01284), as `hllSigma`.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Ertl's tau, as `hllTau` (`pow(1 - x, 2)` is exactly `(1 - x) * (1 - x)`).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate of a register histogram (`hllCount`), same floating-point
/// operations in the same order as Redis.
fn estimate(h: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    // llroundl: half away from zero, like f64::round.
    (ALPHA_INF * m * m / z).round() as u64
}

// ------------------------------------------------------------------------- commands

fn pfadd_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let st = load_string(ctx, pdb, key)?;
    let (mut v, expire_ms, mut updated) = match st.live() {
        Some(m) => {
            check_hll(&m.payload)?;
            (m.payload.clone(), m.expire_ms, false)
        }
        None => (new_hll(), 0, true),
    };
    for ele in &args[2..] {
        if add(&mut v, ele).map_err(|_| corrupted())? {
            updated = true;
        }
    }
    if updated {
        invalidate_cache(&mut v);
        // The TTL stays: PFADD modifies the value in place.
        store_string(ctx, pdb, key, v, expire_ms, st.old.as_ref());
    }
    Ok(Frame::Integer(i64::from(updated)))
}

fn pfcount(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 2 {
        // The union of several HLLs, merged on the fly (nothing is written, as in Redis).
        let mut max = vec![0u8; REGISTERS];
        for key in &args[1..] {
            let Some(v) = read_string(ctx, key)? else {
                continue;
            };
            check_hll(&v)?;
            merge_into(&mut max, &v).map_err(|_| corrupted())?;
        }
        return Ok(Frame::Integer(estimate(&raw_histogram(&max)) as i64));
    }
    let Some(v) = read_string(ctx, &args[1])? else {
        return Ok(Frame::Integer(0));
    };
    check_hll(&v)?;
    // A valid cache is the answer even if the registers say otherwise (Redis trusts it too).
    let card = match cached_card(&v) {
        Some(c) => c,
        None => estimate(&histogram(&v).map_err(|_| corrupted())?),
    };
    Ok(Frame::Integer(card as i64))
}

fn pfmerge_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let mut max = vec![0u8; REGISTERS];
    let mut use_dense = false;
    // The destination is also a source (argv[1..]), as in Redis.
    for key in &args[1..] {
        let st = load_string(ctx, pdb, key)?;
        let Some(m) = st.live() else {
            continue;
        };
        check_hll(&m.payload)?;
        if m.payload[4] == DENSE {
            use_dense = true;
        }
        merge_into(&mut max, &m.payload).map_err(|_| corrupted())?;
    }
    let dest = &args[1];
    let st = load_string(ctx, pdb, dest)?;
    let (mut v, expire_ms) = match st.live() {
        Some(m) => (m.payload.clone(), m.expire_ms),
        None => (new_hll(), 0),
    };
    if use_dense {
        sparse_to_dense(&mut v).map_err(|_| corrupted())?;
    }
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if v[4] == DENSE {
            dense_set_max(&mut v[HDR..], j, m);
        } else {
            // Redis ignores a failure here: the destination was validated by the merge.
            let _ = sparse_set(&mut v, j, m);
        }
    }
    invalidate_cache(&mut v);
    store_string(ctx, pdb, dest, v, expire_ms, st.old.as_ref());
    Ok(Frame::ok())
}

// ---------------------------------------------------------------------------- table

const fn write(apply: fn(&mut WriteCtx<'_>, u8, &[Bytes]) -> CmdResult) -> Handler {
    Handler::Write(WriteSpec {
        validate: super::no_validation,
        apply,
        split: Split::Never,
    })
}

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "pfadd",
        arity: -2,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["write", "hyperloglog", "fast"],
        group: "hyperloglog",
        summary: "Adds the specified elements to the specified HyperLogLog.",
        since: "2.8.9",
        handler: write(pfadd_apply),
    },
    CommandSpec {
        name: "pfcount",
        arity: -2,
        flags: &["readonly"],
        first_key: 1,
        last_key: -1,
        step: 1,
        key_finder: None,
        acl: &["read", "hyperloglog", "slow"],
        group: "hyperloglog",
        summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        since: "2.8.9",
        handler: Handler::Read(pfcount),
    },
    CommandSpec {
        name: "pfmerge",
        arity: -2,
        flags: &["write", "denyoom"],
        first_key: 1,
        last_key: -1,
        step: 1,
        key_finder: None,
        acl: &["write", "hyperloglog", "slow"],
        group: "hyperloglog",
        summary: "Merge N different HyperLogLogs into a single one.",
        since: "2.8.9",
        handler: write(pfmerge_apply),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_hll_layout() {
        let v = new_hll();
        assert_eq!(v, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff".to_vec());
        assert_eq!(cached_card(&v), Some(0));
        assert_eq!(estimate(&histogram(&v).unwrap()), 0);
        assert_eq!(DENSE_SIZE, 12304);
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
        }
        assert!(!dense_set_max(&mut regs, 5, 1));
        assert!(dense_set_max(&mut regs, 5, 60));
        assert_eq!(dense_get(&regs, 5), 60);
        assert_eq!(dense_get(&regs, 4), 4);
        assert_eq!(dense_get(&regs, 6), 6);
    }

    /// Sparse and dense must agree on every register after the same additions, and the
    /// sparse form must stay within the size bound until it is promoted.
    #[test]
    fn sparse_matches_dense() {
        let mut sparse = new_hll();
        let mut dense = new_hll();
        sparse_to_dense(&mut dense).unwrap();
        for i in 0..3000u32 {
            let ele = format!("element:{i}");
            let a = add(&mut sparse, ele.as_bytes()).unwrap();
            let b = add(&mut dense, ele.as_bytes()).unwrap();
            assert_eq!(a, b, "{ele}");
            if sparse[4] == SPARSE {
                assert!(sparse.len() <= SPARSE_MAX_BYTES);
            }
            let mut m1 = vec![0u8; REGISTERS];
            let mut m2 = vec![0u8; REGISTERS];
            if i % 97 == 0 {
                merge_into(&mut m1, &sparse).unwrap();
                merge_into(&mut m2, &dense).unwrap();
                assert_eq!(m1, m2, "after {ele}");
                assert_eq!(histogram(&sparse).unwrap(), histogram(&dense).unwrap());
            }
        }
        assert_eq!(sparse[4], DENSE, "promoted by size");
        assert_eq!(sparse[HDR..], dense[HDR..]);
    }

    #[test]
    fn corrupt_sparse_is_detected() {
        let mut v = new_hll();
        v.pop(); // truncated XZERO: covers 16129 registers only
        assert_eq!(histogram(&v), Err(Corrupt));
        let mut max = vec![0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &v), Err(Corrupt));
        let mut v = new_hll();
        v.push(0); // one register too many
        assert_eq!(histogram(&v), Err(Corrupt));
        assert_eq!(sparse_to_dense(&mut v), Err(Corrupt));
    }

    #[test]
    fn header_checks() {
        assert!(check_hll(&new_hll()).is_ok());
        assert!(check_hll(b"HYLL").is_err());
        let mut v = new_hll();
        v[4] = 2;
        assert!(check_hll(&v).is_err());
        v[4] = DENSE;
        assert!(
            check_hll(&v).is_err(),
            "dense needs exactly DENSE_SIZE bytes"
        );
    }

    #[test]
    fn estimates_are_close() {
        let mut v = new_hll();
        for (n, i) in (0..20000u32).enumerate() {
            add(&mut v, &i.to_le_bytes()).unwrap();
            let n = n as f64 + 1.0;
            if [1.0, 10.0, 100.0, 1000.0, 20000.0].contains(&n) {
                let e = estimate(&histogram(&v).unwrap()) as f64;
                assert!((e - n).abs() <= n * 0.05 + 1.0, "{e} vs {n}");
            }
        }
    }
}
