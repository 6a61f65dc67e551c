//! SORT and SORT_RO (Redis 7.0): sort the elements of a list, set or sorted set, numerically
//! or by bytes (ALPHA), by the elements themselves or by weights read from other keys (BY
//! pattern), optionally replacing each element by values read from other keys (GET pattern),
//! and for SORT optionally storing the result as a list (STORE).
//!
//! SORT carries Redis' `write` flag, so it is a replicated write even without STORE: its apply
//! reads through the entry's pending writes (`ReadCtx::in_apply`). SORT_RO is a read. Both run
//! [`sort`], which only reads.
//!
//! Cluster rule. A BY/GET pattern names keys that are not among the command's declared keys;
//! an apply may only read its own slot group. Like Redis Cluster 7.2 (7.0 refuses BY patterns
//! and GET altogether in cluster mode), a pattern is accepted only when every key it can form
//! hashes to one slot (a `{tag}` before any wildcard) and that slot is in the sorted key's
//! slot group; `GET #` and a BY pattern without `*` (no sorting) name no keys.
//!
//! Ordering, as Redis: numeric weights compare as doubles, equal ones by the elements' bytes.
//! ALPHA compares bytes when storing, and otherwise C strings (up to a NUL byte: Redis'
//! `strcoll`, here always in the C locale); what compares equal keeps its input order (a
//! stable sort, as glibc's qsort is for Redis). Input order is a list's order, a set's member
//! bytes and a sorted set's score order (Redis' own set orders are unspecified). DESC
//! reverses the comparison, tie-breaks included.

use std::cmp::Ordering;

use bytes::Bytes;

use super::args::{is, parse_i64};
use super::coll::CollRead;
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::cluster::{key_slot, SlotId};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, RedisType};

// --------------------------------------------------------------------------- options

#[derive(Debug, Default, PartialEq)]
struct Opts {
    desc: bool,
    alpha: bool,
    /// LIMIT offset count, as given (clamped later against the size).
    limit: Option<(i64, i64)>,
    /// BY pattern containing `*`: each element's weight is read from the key it forms.
    by: Option<Bytes>,
    /// A BY pattern without `*` was given: nothing is sorted (sticky, as in Redis: a later
    /// BY with `*` does not undo it).
    dontsort: bool,
    gets: Vec<Bytes>,
    /// Argument index of the STORE destination; the last STORE wins.
    store: Option<usize>,
}

/// The part of an argument C code sees: up to the first NUL byte. Redis looks for `*`, `->`
/// and `#` in patterns, and parses weights, with C string functions.
fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// Redis 7.2 `patternHashSlot`: the one slot every key matching `pattern` hashes to, or None
/// if they may be in several (a wildcard or an escape before a `{tag}`).
fn pattern_slot(p: &[u8]) -> Option<SlotId> {
    // Index of the first '{'; Some(None) once an empty "{}" made the whole key count.
    let mut open: Option<Option<usize>> = None;
    for (i, &c) in p.iter().enumerate() {
        match (c, open) {
            (b'*' | b'?' | b'[' | b'\\', _) => return None,
            (b'{', None) => open = Some(Some(i)),
            (b'}', Some(Some(s))) if i == s + 1 => open = Some(None),
            (b'}', Some(Some(s))) => return Some(key_slot(&p[s + 1..i])),
            _ => {}
        }
    }
    Some(key_slot(p))
}

/// Whether the keys `pattern` forms may be read along with `key`: Some(true/false), or None
/// when that depends on the slot-group map and no context was given (leader-side validation).
fn pattern_allowed(key: &[u8], pattern: &[u8], ctx: Option<&ReadCtx<'_>>) -> Option<bool> {
    let Some(p) = pattern_slot(pattern) else {
        return Some(false);
    };
    let k = key_slot(key);
    if p == k {
        return Some(true);
    }
    ctx.map(|c| c.same_group(p, k))
}

fn denied(option: &str) -> CmdError {
    CmdError::raw(format!(
        "ERR {option} option of SORT denied in Cluster mode when keys formed by the pattern \
         may be in different slots."
    ))
}

/// Parses the options after the key, in order, with Redis' errors (the first one met wins).
/// `ctx` decides pattern checks that depend on slot groups; without it (validation on the
/// leader) such a check ends the parse with Ok(None): the apply will decide.
fn parse(
    args: &[Bytes],
    readonly: bool,
    ctx: Option<&ReadCtx<'_>>,
) -> Result<Option<Opts>, CmdError> {
    let mut o = Opts::default();
    let key = &args[1];
    let mut j = 2;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            o.limit = Some((parse_i64(&args[j + 1])?, parse_i64(&args[j + 2])?));
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            o.store = Some(j + 1);
            j += 1;
        } else if is(a, "by") && left >= 1 {
            let p = &args[j + 1];
            if !cstr(p).contains(&b'*') {
                o.dontsort = true;
            } else {
                match pattern_allowed(key, p, ctx) {
                    Some(true) => {}
                    Some(false) => return Err(denied("BY")),
                    None => return Ok(None),
                }
            }
            o.by = Some(p.clone());
            j += 1;
        } else if is(a, "get") && left >= 1 {
            let p = &args[j + 1];
            if cstr(p) != b"#" {
                match pattern_allowed(key, p, ctx) {
                    Some(true) => {}
                    Some(false) => return Err(denied("GET")),
                    None => return Ok(None),
                }
            }
            o.gets.push(p.clone());
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(Some(o))
}

/// Redis `sortGetKeys`: the sorted key, plus the argument after the last `STORE` (LIMIT, GET
/// and BY skip their arguments; anything else is taken as a flag).
fn sort_keys(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "limit") {
            i += 2;
        } else if is(a, "get") || is(a, "by") {
            i += 1;
        } else if is(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    Ok(keys)
}

// --------------------------------------------------------------------------- weights

/// A weight as Redis reads it with `strtod`: the bytes before any NUL; leading whitespace,
/// a sign, decimal or hexadecimal digits, `inf`/`infinity`; the whole string must be used.
/// An empty string is 0. None (Redis' "can't be converted") for anything else, NaN, and
/// results out of range (overflow, or underflow to zero or a subnormal: glibc's ERANGE).
fn parse_weight(v: &[u8]) -> Option<f64> {
    let s = cstr(v);
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let s = &s[start..];
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let mag = if lower == b"inf" || lower == b"infinity" {
        f64::INFINITY
    } else if lower.starts_with(b"0x") {
        parse_hex(&lower[2..])?
    } else {
        parse_decimal(body)?
    };
    Some(if neg { -mag } else { mag })
}

/// Applies glibc's range rule to a finite-syntax result: overflow to infinity and results
/// below the smallest normal double (other than an exact zero) are errors.
fn in_range(v: f64, nonzero_digits: bool) -> Option<f64> {
    if v.is_infinite() || (nonzero_digits && v.abs() < f64::MIN_POSITIVE) {
        None
    } else {
        Some(v)
    }
}

/// `digits [. digits] [e [sign] digits]` with at least one mantissa digit.
fn parse_decimal(b: &[u8]) -> Option<f64> {
    let mut i = 0;
    let mut digits = 0;
    let mut nonzero = false;
    let mut seen_point = false;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            digits += 1;
            nonzero |= b[i] != b'0';
        } else if b[i] == b'.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() {
        if !matches!(b[i], b'e' | b'E') {
            return None;
        }
        let mut k = i + 1;
        if matches!(b.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if k == b.len() || !b[k..].iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    let v: f64 = std::str::from_utf8(b).ok()?.parse().ok()?;
    in_range(v, nonzero)
}

/// The part after `0x`: hex digits with an optional point, then an optional binary exponent
/// `p [sign] digits`.
fn parse_hex(b: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut seen_point = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'.' && !seen_point {
            seen_point = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            digits += 1;
            if mant >> 60 == 0 {
                mant = mant << 4 | u64::from(d);
                if seen_point {
                    exp -= 4;
                }
            } else if !seen_point {
                // Beyond 64 bits of mantissa: keep the magnitude, drop the low digits.
                exp += 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() {
        if b[i] != b'p' {
            return None;
        }
        let rest = &b[i + 1..];
        let (sign, ds) = match rest.first() {
            Some(b'-') => (-1, &rest[1..]),
            Some(b'+') => (1, &rest[1..]),
            _ => (1, rest),
        };
        if ds.is_empty() || !ds.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let e: i64 = std::str::from_utf8(ds)
            .ok()?
            .parse::<i64>()
            .unwrap_or(i64::MAX / 4);
        exp = exp.saturating_add(sign * e.min(1 << 20));
    }
    if mant == 0 {
        return Some(0.0);
    }
    // Two steps so that an intermediate power of two does not underflow or overflow.
    let e = exp.clamp(-4000, 4000) as i32;
    let v = mant as f64 * 2f64.powi(e / 2) * 2f64.powi(e - e / 2);
    in_range(v, mant != 0)
}

// --------------------------------------------------------------------------- the sort

/// The value of the key `pattern` forms with `elem` (Redis `lookupKeyByPattern`): `#` is the
/// element itself; the first `*` is replaced by the element; a `->field` after it reads a
/// hash field instead of a string. A pattern without `*`, a missing key or a key of another
/// type gives None.
fn lookup(ctx: &ReadCtx<'_>, pattern: &[u8], elem: &[u8]) -> Result<Option<Vec<u8>>, CmdError> {
    let c = cstr(pattern);
    if c == b"#" {
        return Ok(Some(elem.to_vec()));
    }
    let Some(star) = c.iter().position(|&b| b == b'*') else {
        return Ok(None);
    };
    let field = c[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|f| star + 1 + f)
        .filter(|&f| f + 2 < c.len());
    let key_end = field.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(key_end + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    match field {
        None => Ok(ctx
            .get(&key)?
            .filter(|m| m.typ == RedisType::String)
            .map(|m| m.payload)),
        Some(f) => match CollRead::open(ctx, &key, RedisType::Hash) {
            Ok(Some(h)) => Ok(h.get(ctx, Cf::Subkey, &pattern[f + 2..])?),
            Ok(None) | Err(CmdError::WrongType) => Ok(None),
            Err(e) => Err(e),
        },
    }
}

/// Up to `take` members of sorted set `key` after skipping `skip`, in score order (reversed
/// if `reverse`).
fn zset_members(
    ctx: &ReadCtx<'_>,
    key: &[u8],
    skip: u64,
    take: u64,
    reverse: bool,
) -> Result<Vec<Vec<u8>>, CmdError> {
    let mut out = Vec::new();
    let Some(z) = CollRead::open(ctx, key, RedisType::ZSet)? else {
        return Ok(out);
    };
    let (mut i, end) = (0u64, skip.saturating_add(take));
    if take > 0 {
        // Score-index suffixes are `score(8) | member`.
        z.scan(ctx, Cf::ZScore, b"", None, reverse, |s, _| {
            if i >= skip {
                out.push(s.get(8..).unwrap_or_default().to_vec());
            }
            i += 1;
            i < end
        })?;
    }
    Ok(out)
}

fn set_members(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Vec<Vec<u8>>, CmdError> {
    let mut out = Vec::new();
    if let Some(s) = CollRead::open(ctx, key, RedisType::Set)? {
        s.scan(ctx, Cf::Subkey, b"", None, false, |m, _| {
            out.push(m.to_vec());
            true
        })?;
    }
    Ok(out)
}

/// An element and what it sorts by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// ALPHA with BY: the weight's bytes (None for a missing weight: first, as in Redis).
    cmp: Option<Vec<u8>>,
}

/// Runs the sort: the reply's elements in order (with GET patterns, one value per pattern and
/// element; None for a nil). Reads only; errors as Redis, after the options were parsed.
fn sort(ctx: &ReadCtx<'_>, args: &[Bytes], o: &Opts) -> Result<Vec<Option<Vec<u8>>>, CmdError> {
    let key = &args[1];
    let (typ, len) = match ctx.get(key)? {
        None => (None, 0),
        Some(m) if matches!(m.typ, RedisType::List | RedisType::Set | RedisType::ZSet) => {
            (Some(m.typ), m.size)
        }
        Some(_) => return Err(CmdError::WrongType),
    };
    let (mut dontsort, mut alpha, mut by) = (o.dontsort, o.alpha, o.by.as_ref());
    // Set members come in an unspecified order: a stored result (or in Redis, a script's) is
    // sorted by bytes instead, so that replicas agree.
    if dontsort && typ == Some(RedisType::Set) && o.store.is_some() {
        (dontsort, alpha, by) = (false, true, None);
    }

    // LIMIT, clamped exactly as Redis does; the output is [start, end].
    let vlen = i64::try_from(len).unwrap_or(i64::MAX);
    let (lstart, lcount) = o.limit.unwrap_or((0, -1));
    let mut start = lstart.clamp(0, vlen);
    let lcount = lcount.clamp(-1, vlen);
    let mut end = if lcount < 0 { vlen } else { start + lcount - 1 };
    if start >= vlen {
        start = vlen - 1;
        end = vlen - 2;
    }
    end = end.min(vlen - 1);
    let count = (end - start + 1).max(0) as u64;

    let selected: Vec<Vec<u8>> = match typ {
        None => Vec::new(),
        // Lists and sorted sets keep their own order (reversed by DESC) when not sorted: only
        // the LIMIT range is read.
        Some(RedisType::List) if dontsort => {
            super::list::read_elements(ctx, key, start.max(0) as u64, count, o.desc)?
                .unwrap_or_default()
        }
        Some(RedisType::ZSet) if dontsort => {
            zset_members(ctx, key, start.max(0) as u64, count, o.desc)?
        }
        Some(t) => {
            let all = match t {
                RedisType::List => {
                    super::list::read_elements(ctx, key, 0, u64::MAX, false)?.unwrap_or_default()
                }
                RedisType::Set => set_members(ctx, key)?,
                _ => zset_members(ctx, key, 0, u64::MAX, false)?,
            };
            let mut items = if dontsort {
                all
            } else {
                sort_items(
                    ctx,
                    all,
                    by.map(|b| &b[..]),
                    alpha,
                    o.desc,
                    o.store.is_some(),
                )?
            };
            if count == 0 {
                Vec::new()
            } else {
                items.truncate((start as u64 + count) as usize);
                items.drain(..start as usize);
                items
            }
        }
    };

    if o.gets.is_empty() {
        return Ok(selected.into_iter().map(Some).collect());
    }
    let mut out = Vec::with_capacity(selected.len() * o.gets.len());
    for e in &selected {
        for p in &o.gets {
            out.push(lookup(ctx, p, e)?);
        }
    }
    Ok(out)
}

/// Loads each element's weight and sorts. `binary`: ALPHA compares whole byte strings (Redis
/// does when storing); otherwise it compares them as C strings, up to a NUL byte, as Redis'
/// `strcoll` does in the C locale, and equal ones keep their input order.
fn sort_items(
    ctx: &ReadCtx<'_>,
    elems: Vec<Vec<u8>>,
    by: Option<&[u8]>,
    alpha: bool,
    desc: bool,
    binary: bool,
) -> Result<Vec<Vec<u8>>, CmdError> {
    let mut bad = false;
    let mut items = Vec::with_capacity(elems.len());
    for elem in elems {
        let weight = match by {
            Some(p) => lookup(ctx, p, &elem)?,
            None => None,
        };
        let mut it = Item {
            elem,
            score: 0.0,
            cmp: None,
        };
        if alpha {
            it.cmp = weight;
        } else {
            // A missing weight key counts as 0.
            let w = match (by, &weight) {
                (None, _) => Some(&it.elem[..]),
                (Some(_), Some(w)) => Some(&w[..]),
                (Some(_), None) => None,
            };
            if let Some(w) = w {
                match parse_weight(w) {
                    Some(s) => it.score = s,
                    None => bad = true,
                }
            }
        }
        items.push(it);
    }
    if bad {
        return Err(CmdError::raw(
            "ERR One or more scores can't be converted into double",
        ));
    }
    let by_pattern = by.is_some();
    let text = |a: &[u8], b: &[u8]| {
        if binary {
            a.cmp(b)
        } else {
            cstr(a).cmp(cstr(b))
        }
    };
    // A stable sort: what compares equal keeps its input order.
    items.sort_by(|a, b| {
        let c = if !alpha {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.elem.cmp(&b.elem))
        } else if by_pattern {
            // A missing weight sorts first.
            match (&a.cmp, &b.cmp) {
                (Some(x), Some(y)) => text(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            }
        } else {
            text(&a.elem, &b.elem)
        };
        if desc {
            c.reverse()
        } else {
            c
        }
    });
    Ok(items.into_iter().map(|i| i.elem).collect())
}

fn reply(out: Vec<Option<Vec<u8>>>) -> Frame {
    Frame::Array(
        out.into_iter()
            .map(|v| v.map_or(Frame::Null, |v| Frame::Bulk(Bytes::from(v))))
            .collect(),
    )
}

// --------------------------------------------------------------------------- commands

fn sort_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse(args, false, None).map(|_| ())
}

fn sort_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let (store, out) = {
        let r = ReadCtx::in_apply(ctx, db);
        let o = parse(args, false, Some(&r))?
            .ok_or_else(|| CmdError::raw("ERR internal: SORT options undecided"))?;
        (o.store, sort(&r, args, &o)?)
    };
    let Some(dst) = store else {
        return Ok(reply(out));
    };
    let n = out.len();
    // A nil from GET is stored as an empty string, as Redis does.
    let items = out.into_iter().map(Option::unwrap_or_default).collect();
    let pdb = ctx.pdb(db);
    super::list::replace_with(ctx, pdb, &args[dst], items, 0)?;
    Ok(Frame::from(n))
}

fn sort_ro(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let run = |c: &ReadCtx<'_>| -> CmdResult {
        let o = parse(args, true, Some(c))?
            .ok_or_else(|| CmdError::raw("ERR internal: SORT options undecided"))?;
        Ok(reply(sort(c, args, &o)?))
    };
    // Dispatch gives single-key generic reads no snapshot (they are one point read); SORT_RO
    // reads a collection's metadata, its members and other keys, so it takes one. Inside a
    // transaction (no node) the context already is one instant.
    match ctx.node() {
        Ok(node) => run(&ReadCtx::on_node_consistent(node, ctx.db, ctx.now_ms)),
        Err(_) => run(ctx),
    }
}

const ACL_W: &[&str] = &["write", "set", "sortedset", "list", "slow", "dangerous"];
const ACL_R: &[&str] = &["read", "set", "sortedset", "list", "slow", "dangerous"];

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "sort",
        arity: -2,
        flags: &["write", "denyoom", "movablekeys"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: Some(sort_keys),
        acl: ACL_W,
        group: "generic",
        summary: "Sort the elements in a list, set or sorted set",
        since: "1.0.0",
        handler: super::atomic_write(sort_validate, sort_apply),
    },
    CommandSpec {
        name: "sort_ro",
        arity: -2,
        flags: &["readonly", "movablekeys"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: ACL_R,
        group: "generic",
        summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        since: "7.0.0",
        handler: Handler::Read(sort_ro),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::string::testing::{argv, Harness, NOW};
    use crate::storage::keyspace::WriteCtx;

    fn bulks(items: &[&str]) -> Frame {
        Frame::Array(
            items
                .iter()
                .map(|s| Frame::Bulk(Bytes::copy_from_slice(s.as_bytes())))
                .collect(),
        )
    }

    const CONV: &str = "ERR One or more scores can't be converted into double";

    #[test]
    fn weights_parse_like_strtod_in_redis() {
        // Observed on redis-server 7.0.15 (SORT of a one-element list).
        for (s, v) in [
            ("", Some(0.0)),
            (" 5", Some(5.0)),
            ("0x10", Some(16.0)),
            ("2.2250738585072014e-308", Some(f64::MIN_POSITIVE)),
            ("inf", Some(f64::INFINITY)),
            ("INF", Some(f64::INFINITY)),
            ("-infinity", Some(f64::NEG_INFINITY)),
            ("1.", Some(1.0)),
            (".5", Some(0.5)),
            ("+3", Some(3.0)),
            ("5\0b", Some(5.0)),
            ("\0abc", Some(0.0)),
            ("0e-400", Some(0.0)),
            ("0x1p-2", Some(0.25)),
        ] {
            assert_eq!(parse_weight(s.as_bytes()), v, "{s:?}");
        }
        for s in [
            "5 ", "1e-310", "1e-400", "4.9e-324", "1e400", "nan", "1e", "0x", "  ", "1e5x", "infx",
            "a\0b", "+", "-", ".", "0x1p", "1..2", "abc",
        ] {
            assert_eq!(parse_weight(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn pattern_slots_like_redis_cluster() {
        assert_eq!(pattern_slot(b"{t}w_*"), Some(key_slot(b"t")));
        assert_eq!(pattern_slot(b"{t}w_*->f"), Some(key_slot(b"t")));
        assert_eq!(pattern_slot(b"w_*"), None);
        assert_eq!(pattern_slot(b"w_*{t}"), None);
        assert_eq!(pattern_slot(b"{}w_*"), None);
        assert_eq!(pattern_slot(b"x?{t}"), None);
        assert_eq!(pattern_slot(b"\\{t}"), None);
        assert_eq!(pattern_slot(b"fixed"), Some(key_slot(b"fixed")));
        assert_eq!(pattern_slot(b"{}{t}x"), Some(key_slot(b"{}{t}x")));
        assert_eq!(pattern_slot(b"{a{b}*"), Some(key_slot(b"a{b")));
    }

    #[test]
    fn keys_like_sort_get_keys() {
        let k = |s: &str| sort_keys(&argv(&s.split(' ').collect::<Vec<_>>())).unwrap();
        // COMMAND GETKEYS on redis-server 7.0.15.
        assert_eq!(k("sort a store b limit 0 1 store c"), vec![1, 8]);
        assert_eq!(k("sort a by x"), vec![1]);
        assert_eq!(k("sort a get store store b"), vec![1, 5]);
        assert_eq!(k("sort a store"), vec![1]);
    }

    #[test]
    fn options_and_errors() {
        let p = |s: &str, ro: bool| parse(&argv(&s.split(' ').collect::<Vec<_>>()), ro, None);
        assert_eq!(p("sort l limit 1", false), Err(CmdError::Syntax));
        assert_eq!(p("sort l limit x 1", false), Err(CmdError::NotInteger));
        assert_eq!(p("sort l store", false), Err(CmdError::Syntax));
        assert_eq!(p("sort_ro l store x", true), Err(CmdError::Syntax));
        assert_eq!(p("sort l by w_*", false), Err(denied("BY")));
        assert_eq!(p("sort l get w_*", false), Err(denied("GET")));
        // The first error met wins.
        assert_eq!(p("sort l get w_* foo", false), Err(denied("GET")));
        assert_eq!(p("sort l foo get w_*", false), Err(CmdError::Syntax));
        let o = p(
            "sort {l}x by nosort by {l}w_* get # get {l}* desc alpha store d",
            false,
        )
        .unwrap()
        .unwrap();
        assert!(o.dontsort && o.desc && o.alpha);
        assert_eq!(o.by.as_deref(), Some(&b"{l}w_*"[..]));
        assert_eq!(o.gets.len(), 2);
        assert_eq!(o.store, Some(13));
        // Another slot: only the slot-group map can tell; validation leaves it to the apply.
        assert_eq!(p("sort l by {x}w_* foo", false), Ok(None));
    }

    #[test]
    fn numeric_alpha_desc_limit_by_get_store() {
        let mut h = Harness::new();
        h.run(&["rpush", "l", "3", "1", "2", "10", "1.0"]);
        assert_eq!(h.run(&["sort", "l"]), bulks(&["1", "1.0", "2", "3", "10"]));
        assert_eq!(
            h.run(&["sort", "l", "desc"]),
            bulks(&["10", "3", "2", "1.0", "1"])
        );
        assert_eq!(
            h.run(&["sort", "l", "alpha"]),
            bulks(&["1", "1.0", "10", "2", "3"])
        );
        assert_eq!(
            h.run(&["sort", "l", "limit", "1", "2"]),
            bulks(&["1.0", "2"])
        );
        assert_eq!(
            h.run(&["sort", "l", "limit", "-5", "2"]),
            bulks(&["1", "1.0"])
        );
        assert_eq!(
            h.run(&["sort", "l", "limit", "2", "-1"]),
            bulks(&["2", "3", "10"])
        );
        assert_eq!(h.run(&["sort", "l", "limit", "10", "1"]), bulks(&[]));
        assert_eq!(h.run(&["sort", "l", "limit", "1", "0"]), bulks(&[]));
        assert_eq!(
            h.run(&["sort", "l", "by", "nosort", "desc", "limit", "1", "2"]),
            bulks(&["10", "2"])
        );
        // Weights from other keys: missing ones are 0, equal ones order by element.
        h.run(&["set", "{l}w_3", "30"]);
        h.run(&["set", "{l}w_1", "10"]);
        h.run(&["hset", "{l}h_2", "f", "5"]);
        assert_eq!(
            h.run(&["sort", "l", "by", "{l}w_*"]),
            bulks(&["1.0", "10", "2", "1", "3"])
        );
        assert_eq!(
            h.run(&["sort", "l", "by", "{l}w_*", "desc"]),
            bulks(&["3", "1", "2", "10", "1.0"])
        );
        // ALPHA by weights: missing first, equal weights in list order.
        assert_eq!(
            h.run(&["sort", "l", "by", "{l}w_*", "alpha"]),
            bulks(&["2", "10", "1.0", "1", "3"])
        );
        let f = h.run(&[
            "sort",
            "l",
            "by",
            "{l}h_*->f",
            "get",
            "#",
            "get",
            "{l}w_*",
            "get",
            "{l}h_*->f",
            "get",
            "nope",
        ]);
        let Frame::Array(items) = f else {
            panic!("{f:?}")
        };
        assert_eq!(items.len(), 20);
        assert_eq!(
            items[16..],
            [
                Frame::Bulk(Bytes::from_static(b"2")),
                Frame::Null,
                Frame::Bulk(Bytes::from_static(b"5")),
                Frame::Null
            ]
        );
        h.run(&["set", "{l}w_10", "abc"]);
        assert_eq!(h.run(&["sort", "l", "by", "{l}w_*"]), Frame::error(CONV));
        h.run(&["set", "dst", "x"]);
        assert_eq!(
            h.run(&["sort", "l", "by", "nosort", "get", "{l}w_*", "store", "dst"]),
            Frame::Integer(5)
        );
        assert_eq!(h.stored(0, "dst").unwrap().typ, RedisType::List);
        assert_eq!(
            h.run(&["sort", "dst", "by", "nosort"]),
            bulks(&["30", "10", "", "abc", ""])
        );
        assert_eq!(h.run(&["sort", "nokey", "store", "dst"]), Frame::Integer(0));
        assert!(h.stored(0, "dst").is_none());
        assert_eq!(
            h.run(&["sort", "{l}w_1"]),
            Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(
            h.run(&["sort", "{l}w_1", "foo"]),
            CmdError::Syntax.to_frame()
        );
    }

    #[test]
    fn sets_and_sorted_sets() {
        let mut h = Harness::new();
        h.run(&["zadd", "z", "3", "a", "1", "b", "2", "c", "2", "d"]);
        assert_eq!(
            h.run(&["sort", "z", "by", "nosort"]),
            bulks(&["b", "c", "d", "a"])
        );
        assert_eq!(
            h.run(&["sort", "z", "by", "nosort", "desc", "limit", "1", "2"]),
            bulks(&["d", "c"])
        );
        assert_eq!(
            h.run(&["sort", "z", "by", "x", "limit", "1", "10"]),
            bulks(&["c", "d", "a"])
        );
        assert_eq!(
            h.run(&["sort", "z", "alpha", "desc"]),
            bulks(&["d", "c", "b", "a"])
        );
        assert_eq!(h.run(&["sort", "z"]), Frame::error(CONV));
        h.run(&["sadd", "s", "10", "9", "2", "1"]);
        assert_eq!(h.run(&["sort", "s"]), bulks(&["1", "2", "9", "10"]));
        // A stored unsorted set is sorted by bytes.
        assert_eq!(
            h.run(&["sort", "s", "by", "nosort", "store", "d"]),
            Frame::Integer(4)
        );
        assert_eq!(
            h.run(&["sort", "d", "by", "nosort"]),
            bulks(&["1", "10", "2", "9"])
        );
    }

    #[test]
    fn patterns_must_stay_in_the_slot_group() {
        let h = Harness::new();
        // Apply as the group of slots 0..=8191.
        let key = "bar"; // slot 5061
        assert_eq!(key_slot(key.as_bytes()).0, 5061);
        let near = (0..1000)
            .map(|i| format!("t{i}"))
            .find(|t| {
                let s = key_slot(t.as_bytes()).0;
                s < 8192 && s != 5061
            })
            .unwrap();
        let mut ctx = WriteCtx::new(&h.s, h.state.clone(), NOW, 1, vec![(0, 8191)]);
        let mut run = |parts: &[&str]| match sort_apply(&mut ctx, 0, &argv(parts)) {
            Ok(f) => f,
            Err(e) => e.to_frame(),
        };
        assert_eq!(
            run(&["sort", key, "by", "{foo}w_*"]),
            denied("BY").to_frame()
        );
        assert_eq!(
            run(&["sort", key, "get", "{foo}w_*"]),
            denied("GET").to_frame()
        );
        assert_eq!(
            run(&["sort", key, "by", "{bar}w_*", "get", "#"]),
            bulks(&[])
        );
        let p = format!("{{{near}}}w_*");
        assert_eq!(run(&["sort", key, "by", &p, "get", &p]), bulks(&[]));
    }
}
