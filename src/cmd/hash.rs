//! Hash commands: HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS
//! HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
//!
//! A hash is collection metadata plus one `Cf::Subkey` entry per field: suffix = the field's
//! bytes, value = the field's value (docs/encoding/hash.md). Single-field commands touch one
//! entry and the metadata; HGETALL, HKEYS and HVALS walk the fields in byte order.

use bytes::Bytes;

use super::args::{is, parse_i64, parse_i64_opt};
use super::coll::{CollRead, CollWrite};
use super::set::sample::{self, ReadSource, Rng};
use super::string::long_double;
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, RedisType};

// ------------------------------------------------------------------------- helpers

fn open_read(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Option<CollRead>, CmdError> {
    CollRead::open(ctx, key, RedisType::Hash)
}

/// Opens `key` for a write, creating an empty hash if it does not exist.
fn open_or_create(ctx: &mut WriteCtx<'_>, pdb: u8, key: &[u8]) -> Result<CollWrite, CmdError> {
    CollWrite::open(ctx, pdb, key, RedisType::Hash, true)?
        .ok_or_else(|| CmdError::raw("ERR internal: collection not created"))
}

/// The value of `field`, None if the key or the field is missing.
fn read_field(ctx: &ReadCtx<'_>, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>, CmdError> {
    match open_read(ctx, key)? {
        Some(h) => Ok(h.get(ctx, Cf::Subkey, field)?),
        None => Ok(None),
    }
}

/// Sets `field` to `value`; true if the field is new.
fn set_field(
    ctx: &mut WriteCtx<'_>,
    h: &mut CollWrite,
    field: &[u8],
    value: Vec<u8>,
) -> Result<bool, CmdError> {
    let new = h.get(ctx, Cf::Subkey, field)?.is_none();
    h.put(ctx, Cf::Subkey, field, value);
    if new {
        h.meta.size += 1;
    }
    Ok(new)
}

fn bulk(v: Vec<u8>) -> Frame {
    Frame::Bulk(Bytes::from(v))
}

// ----------------------------------------------------------------------- HSET and kin

/// HSET / HMSET need field-value pairs: an odd count is an arity error, as in Redis.
fn pairs_validate(args: &[Bytes]) -> Result<(), CmdError> {
    if args.len().is_multiple_of(2) {
        Ok(())
    } else {
        Err(CmdError::Arity(
            String::from_utf8_lossy(&args[0]).into_owned(),
        ))
    }
}

fn hset_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    pairs_validate(args)?;
    let pdb = ctx.pdb(db);
    let mut h = open_or_create(ctx, pdb, &args[1])?;
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        if set_field(ctx, &mut h, &pair[0], pair[1].to_vec())? {
            created += 1;
        }
    }
    h.save(ctx);
    Ok(if is(&args[0], "hmset") {
        Frame::ok()
    } else {
        Frame::Integer(created)
    })
}

fn hsetnx_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let mut h = open_or_create(ctx, pdb, &args[1])?;
    if h.get(ctx, Cf::Subkey, &args[2])?.is_some() {
        return Ok(Frame::Integer(0));
    }
    set_field(ctx, &mut h, &args[2], args[3].to_vec())?;
    h.save(ctx);
    Ok(Frame::Integer(1))
}

fn hdel_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let pdb = ctx.pdb(db);
    let Some(mut h) = CollWrite::open(ctx, pdb, &args[1], RedisType::Hash, false)? else {
        return Ok(Frame::Integer(0));
    };
    let deleted = h.remove_members(ctx, &args[2..])?;
    h.save(ctx);
    Ok(Frame::Integer(deleted))
}

// ------------------------------------------------------------------------------ reads

fn hget(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(read_field(ctx, &args[1], &args[2])?.map_or(Frame::Null, bulk))
}

fn hmget(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let h = open_read(ctx, &args[1])?;
    let mut out = Vec::with_capacity(args.len() - 2);
    for f in &args[2..] {
        let v = match &h {
            Some(h) => h.get(ctx, Cf::Subkey, f)?,
            None => None,
        };
        out.push(v.map_or(Frame::Null, bulk));
    }
    Ok(Frame::Array(out))
}

fn hexists(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let found = read_field(ctx, &args[1], &args[2])?.is_some();
    Ok(Frame::Integer(found as i64))
}

fn hstrlen(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let len = read_field(ctx, &args[1], &args[2])?.map_or(0, |v| v.len());
    Ok(Frame::from(len))
}

fn hlen(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let n = open_read(ctx, &args[1])?.map_or(0, |h| h.meta.size);
    Ok(Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// Every field and value, in field byte order.
fn all_fields(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<Vec<(Bytes, Bytes)>, CmdError> {
    let mut out = Vec::new();
    if let Some(h) = open_read(ctx, key)? {
        h.scan(ctx, Cf::Subkey, b"", None, false, |f, v| {
            out.push((Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)));
            true
        })?;
    }
    Ok(out)
}

fn hgetall(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(Frame::Map(
        all_fields(ctx, &args[1])?
            .into_iter()
            .map(|(f, v)| (Frame::Bulk(f), Frame::Bulk(v)))
            .collect(),
    ))
}

fn hkeys(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(Frame::Array(
        all_fields(ctx, &args[1])?
            .into_iter()
            .map(|(f, _)| Frame::Bulk(f))
            .collect(),
    ))
}

fn hvals(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(Frame::Array(
        all_fields(ctx, &args[1])?
            .into_iter()
            .map(|(_, v)| Frame::Bulk(v))
            .collect(),
    ))
}

// --------------------------------------------------------------------------- counters

fn hincrby_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_i64(&args[3]).map(|_| ())
}

fn hincrby_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let incr = parse_i64(&args[3])?;
    let pdb = ctx.pdb(db);
    let mut h = open_or_create(ctx, pdb, &args[1])?;
    let current = match h.get(ctx, Cf::Subkey, &args[2])? {
        Some(v) => {
            parse_i64_opt(&v).ok_or_else(|| CmdError::raw("ERR hash value is not an integer"))?
        }
        None => 0,
    };
    let new = current.checked_add(incr).ok_or(CmdError::Overflow)?;
    set_field(ctx, &mut h, &args[2], new.to_string().into_bytes())?;
    h.save(ctx);
    Ok(Frame::Integer(new))
}

/// The increment of HINCRBYFLOAT: a long double, and (unlike INCRBYFLOAT's) not infinite.
fn hincrbyfloat_incr(args: &[Bytes]) -> Result<long_double::Ld, CmdError> {
    let incr = long_double::parse(&args[3]).ok_or(CmdError::NotFloat)?;
    if matches!(incr, long_double::Ld::Inf { .. }) {
        return Err(CmdError::raw("ERR value is NaN or Infinity"));
    }
    Ok(incr)
}

fn hincrbyfloat_validate(args: &[Bytes]) -> Result<(), CmdError> {
    hincrbyfloat_incr(args).map(|_| ())
}

/// Computed in the same emulated x87 long double arithmetic as INCRBYFLOAT and formatted the
/// same way, so the text stored (and replied) is Redis' exactly, on every replica.
fn hincrbyfloat_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let incr = hincrbyfloat_incr(args)?;
    let pdb = ctx.pdb(db);
    let mut h = open_or_create(ctx, pdb, &args[1])?;
    let current = match h.get(ctx, Cf::Subkey, &args[2])? {
        Some(v) => {
            long_double::parse(&v).ok_or_else(|| CmdError::raw("ERR hash value is not a float"))?
        }
        None => long_double::Ld::ZERO,
    };
    let sum = long_double::add(current, incr)
        .ok_or_else(|| CmdError::raw("ERR increment would produce NaN or Infinity"))?;
    let text = long_double::format_human(sum).into_bytes();
    set_field(ctx, &mut h, &args[2], text.clone())?;
    h.save(ctx);
    Ok(bulk(text))
}

// ------------------------------------------------------------------- HRANDFIELD, HSCAN

fn hrandfield(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let mut rng = Rng::new(rand::random());
    if args.len() == 2 {
        let Some(h) = open_read(ctx, &args[1])? else {
            return Ok(Frame::Null);
        };
        let src = ReadSource { coll: &h, ctx };
        return Ok(sample::pick_one(&src, &mut rng)?.map_or(Frame::Null, |(f, _)| Frame::Bulk(f)));
    }
    // Redis order: the count, then the syntax, then the WITHVALUES range, then the key.
    let count = sample::parse_count(&args[2])?;
    let with_values = match args.len() {
        3 => false,
        4 if is(&args[3], "withvalues") => true,
        _ => return Err(CmdError::Syntax),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::raw("ERR value is out of range"));
    }
    let Some(h) = open_read(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let src = ReadSource { coll: &h, ctx };
    let picked = sample::pick_counted(&src, &mut rng, count)?;
    Ok(if with_values {
        // RESP3: an array of [field, value] arrays; RESP2: flat.
        Frame::Pairs(
            picked
                .into_iter()
                .map(|(f, v)| (Frame::Bulk(f), Frame::Bulk(v)))
                .collect(),
        )
    } else {
        Frame::Array(picked.into_iter().map(|(f, _)| Frame::Bulk(f)).collect())
    })
}

fn hscan(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    super::set::scan_collection(ctx, args, RedisType::Hash, true)
}

// ------------------------------------------------------------------------------ table

const RF: &[&str] = &["readonly", "fast"];
const R: &[&str] = &["readonly"];
const WDF: &[&str] = &["write", "denyoom", "fast"];
const WF: &[&str] = &["write", "fast"];
const ACL_RF: &[&str] = &["read", "hash", "fast"];
const ACL_RS: &[&str] = &["read", "hash", "slow"];
const ACL_WF: &[&str] = &["write", "hash", "fast"];

use super::atomic_write as write;

/// A hash command row (key at argv[1]).
const fn row(
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    acl: &'static [&'static str],
    summary: &'static str,
    since: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec::row(
        "hash",
        name,
        arity,
        flags,
        (1, 1, 1),
        acl,
        summary,
        since,
        handler,
    )
}

use super::no_validation as none;

pub static SPECS: &[CommandSpec] = &[
    row(
        "hset",
        -4,
        WDF,
        ACL_WF,
        "Set the string value of a hash field",
        "2.0.0",
        write(pairs_validate, hset_apply),
    ),
    row(
        "hsetnx",
        4,
        WDF,
        ACL_WF,
        "Set the value of a hash field, only if the field does not exist",
        "2.0.0",
        write(none, hsetnx_apply),
    ),
    row(
        "hget",
        3,
        RF,
        ACL_RF,
        "Get the value of a hash field",
        "2.0.0",
        Handler::Read(hget),
    ),
    row(
        "hmget",
        -3,
        RF,
        ACL_RF,
        "Get the values of all the given hash fields",
        "2.0.0",
        Handler::Read(hmget),
    ),
    row(
        "hmset",
        -4,
        WDF,
        ACL_WF,
        "Set multiple hash fields to multiple values",
        "2.0.0",
        write(pairs_validate, hset_apply),
    ),
    row(
        "hgetall",
        2,
        R,
        ACL_RS,
        "Get all the fields and values in a hash",
        "2.0.0",
        Handler::Read(hgetall),
    ),
    row(
        "hdel",
        -3,
        WF,
        ACL_WF,
        "Delete one or more hash fields",
        "2.0.0",
        write(none, hdel_apply),
    ),
    row(
        "hexists",
        3,
        RF,
        ACL_RF,
        "Determine if a hash field exists",
        "2.0.0",
        Handler::Read(hexists),
    ),
    row(
        "hlen",
        2,
        RF,
        ACL_RF,
        "Get the number of fields in a hash",
        "2.0.0",
        Handler::Read(hlen),
    ),
    row(
        "hstrlen",
        3,
        RF,
        ACL_RF,
        "Get the length of the value of a hash field",
        "3.2.0",
        Handler::Read(hstrlen),
    ),
    row(
        "hkeys",
        2,
        R,
        ACL_RS,
        "Get all the fields in a hash",
        "2.0.0",
        Handler::Read(hkeys),
    ),
    row(
        "hvals",
        2,
        R,
        ACL_RS,
        "Get all the values in a hash",
        "2.0.0",
        Handler::Read(hvals),
    ),
    row(
        "hincrby",
        4,
        WDF,
        ACL_WF,
        "Increment the integer value of a hash field by the given number",
        "2.0.0",
        write(hincrby_validate, hincrby_apply),
    ),
    row(
        "hincrbyfloat",
        4,
        WDF,
        ACL_WF,
        "Increment the float value of a hash field by the given amount",
        "2.6.0",
        write(hincrbyfloat_validate, hincrbyfloat_apply),
    ),
    row(
        "hrandfield",
        -2,
        R,
        ACL_RS,
        "Get one or multiple random fields from a hash",
        "6.2.0",
        Handler::Read(hrandfield),
    ),
    row(
        "hscan",
        -3,
        R,
        ACL_RS,
        "Incrementally iterate hash fields and associated values",
        "2.8.0",
        Handler::Read(hscan),
    ),
];
