//! DUMP and RESTORE in Redis' own serialization format (see `crate::rdb`), so that keys move
//! between Redis 7.0 and raftrocks with the usual tools (`redis-cli --pipe` of RESTOREs,
//! MIGRATE-like scripts, RIOT).
//!
//! DUMP reads the whole value through one snapshot and encodes it. RESTORE is a replicated
//! write: the leader checks the options, the TTL and the payload's version and CRC before
//! proposing (a corrupted payload never reaches the log); the state machine checks again in
//! Redis' order (options, BUSYKEY, TTL, payload), decodes, and writes the key as the family
//! commands would (a new collection version replacing whatever the key held).
//!
//! IDLETIME and FREQ are parsed and validated like Redis' and then ignored: raftrocks keeps
//! no LRU clock or LFU counter per key (OBJECT IDLETIME is always 0).

use bytes::Bytes;

use super::args::{is, parse_i64};
use super::coll::{CollRead, CollWrite};
use super::stream::{self as st, Id};
use super::zset::decode_score;
use super::{atomic_write, CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::rdb::{self, PayloadError, StreamId, Value};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, Metadata, RedisType, StorageError};

fn corrupt(what: &str) -> CmdError {
    CmdError::Storage(format!("corrupted {what}"))
}

// ----------------------------------------------------------------------------------- DUMP

fn dump(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    // Metadata and members from one instant, as Redis' single thread would see them.
    let ctx = &ctx.consistent();
    let key = &args[1];
    let Some(meta) = ctx.get(key)? else {
        return Ok(Frame::Null);
    };
    if meta.typ == RedisType::String {
        return Ok(Frame::Bulk(
            rdb::encode(&Value::String(meta.payload)).into(),
        ));
    }
    let Some(c) = CollRead::open(ctx, key, meta.typ)? else {
        return Ok(Frame::Null);
    };
    let value = read_value(ctx, &c)?;
    Ok(Frame::Bulk(rdb::encode(&value).into()))
}

/// Every member of a collection, in the form the RDB encoder takes.
fn read_value(ctx: &ReadCtx<'_>, c: &CollRead) -> Result<Value, CmdError> {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    c.scan(ctx, Cf::Subkey, b"", None, false, |k, v| {
        pairs.push((k.to_vec(), v.to_vec()));
        true
    })?;
    Ok(match c.meta.typ {
        // List members are keyed by their big-endian index: scan order is list order.
        RedisType::List => Value::List(pairs.into_iter().map(|(_, v)| v).collect()),
        RedisType::Set => Value::Set(pairs.into_iter().map(|(m, _)| m).collect()),
        RedisType::Hash => Value::Hash(pairs),
        RedisType::ZSet => Value::ZSet(
            pairs
                .into_iter()
                .map(|(m, s)| Ok((m, decode_score(&s).ok_or_else(|| corrupt("score"))?)))
                .collect::<Result<_, CmdError>>()?,
        ),
        RedisType::Stream => Value::Stream(stream_value(&c.meta.payload, pairs)?),
        RedisType::String => return Err(corrupt("collection type")),
    })
}

fn sid(id: Id) -> StreamId {
    StreamId {
        ms: id.ms,
        seq: id.seq,
    }
}

fn our_id(id: StreamId) -> Id {
    Id::new(id.ms, id.seq)
}

/// Entry fields as stored (`len(u32 BE) | bytes`, field and value alternating) to pairs.
fn entry_fields(mut b: &[u8]) -> Result<rdb::Fields, CmdError> {
    let mut flat = Vec::new();
    while !b.is_empty() {
        let n = b
            .get(..4)
            .and_then(|h| h.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| corrupt("stream entry"))? as usize;
        let v = b.get(4..4 + n).ok_or_else(|| corrupt("stream entry"))?;
        flat.push(v.to_vec());
        b = &b[4 + n..];
    }
    if !flat.len().is_multiple_of(2) {
        return Err(corrupt("stream entry"));
    }
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        out.push((f, v));
    }
    Ok(out)
}

/// A stream's records (docs/encoding.md, "Streams"), in suffix order: entries, groups, group
/// PELs, consumers, consumer PELs (the last are implied by the PEL owners and skipped).
fn stream_value(payload: &[u8], records: Vec<(Vec<u8>, Vec<u8>)>) -> Result<rdb::Stream, CmdError> {
    let info = st::Info::decode(payload);
    let mut s = rdb::Stream {
        last_id: sid(info.last),
        first_id: sid(info.first),
        max_deleted: sid(info.max_deleted),
        entries_added: info.entries_added,
        ..rdb::Stream::default()
    };
    let bad = || corrupt("stream record");
    for (k, v) in records {
        let (&tag, rest) = k.split_first().ok_or_else(bad)?;
        match tag {
            st::TAG_ENTRY => {
                let id = Id::decode(rest).ok_or_else(bad)?;
                s.entries.push((sid(id), entry_fields(&v)?));
            }
            st::TAG_GROUP => {
                let (name, _) = st::read_name(rest).ok_or_else(bad)?;
                let g = st::Group::decode(&v);
                s.groups.push(rdb::Group {
                    name,
                    last_id: sid(g.last),
                    entries_read: g.entries_read,
                    ..rdb::Group::default()
                });
            }
            st::TAG_PEL => {
                let (name, n) = st::read_name(rest).ok_or_else(bad)?;
                let id = Id::decode(&rest[n..]).ok_or_else(bad)?;
                let nack = st::Nack::decode(&v);
                // Groups sort before their PEL records, so the group is already there.
                let g = s
                    .groups
                    .iter_mut()
                    .find(|g| g.name == name)
                    .ok_or_else(bad)?;
                g.pel.push(rdb::Pending {
                    id: sid(id),
                    delivery_time: nack.time,
                    delivery_count: nack.count,
                    consumer: nack.consumer,
                });
            }
            st::TAG_CONSUMER => {
                let (gname, n) = st::read_name(rest).ok_or_else(bad)?;
                let (cname, _) = st::read_name(&rest[n..]).ok_or_else(bad)?;
                let c = st::Consumer::decode(&v);
                let g = s
                    .groups
                    .iter_mut()
                    .find(|g| g.name == gname)
                    .ok_or_else(bad)?;
                g.consumers.push(rdb::Consumer {
                    name: cname,
                    seen_time: c.seen,
                });
            }
            _ => {}
        }
    }
    Ok(s)
}

// -------------------------------------------------------------------------------- RESTORE

/// RESTORE's options after the payload.
#[derive(Debug, Default, PartialEq)]
struct RestoreOpts {
    replace: bool,
    absttl: bool,
}

/// Redis `restoreCommand`'s option loop: REPLACE, ABSTTL, IDLETIME n (n >= 0), FREQ n
/// (0..=255); IDLETIME and FREQ exclude each other (the second is a syntax error).
fn parse_opts(args: &[Bytes]) -> Result<RestoreOpts, CmdError> {
    let mut o = RestoreOpts::default();
    let (mut idle, mut freq) = (false, false);
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = &args[j];
        if is(a, "replace") {
            o.replace = true;
        } else if is(a, "absttl") {
            o.absttl = true;
        } else if is(a, "idletime") && more && !freq {
            if parse_i64(&args[j + 1])? < 0 {
                return Err(CmdError::raw("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = true;
            j += 1;
        } else if is(a, "freq") && more && !idle {
            if !(0..=255).contains(&parse_i64(&args[j + 1])?) {
                return Err(CmdError::raw(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = true;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

fn parse_ttl(arg: &[u8]) -> Result<i64, CmdError> {
    let ttl = parse_i64(arg)?;
    if ttl < 0 {
        return Err(CmdError::raw("ERR Invalid TTL value, must be >= 0"));
    }
    Ok(ttl)
}

fn payload_error(e: PayloadError) -> CmdError {
    match e {
        PayloadError::VersionOrChecksum => {
            CmdError::raw("ERR DUMP payload version or checksum are wrong")
        }
        PayloadError::BadFormat => CmdError::raw("ERR Bad data format"),
    }
}

/// On the leader: everything that does not need the keyspace. Decoding waits for the apply.
fn restore_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_opts(args)?;
    parse_ttl(&args[2])?;
    rdb::verify(&args[3]).map_err(payload_error)?;
    Ok(())
}

fn busy() -> CmdError {
    CmdError::raw("BUSYKEY Target key name already exists.")
}

fn restore_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let o = parse_opts(args)?;
    let key = &args[1];
    let pdb = ctx.pdb(db);
    let old = ctx.load(pdb, key)?;
    let live = old.as_ref().is_some_and(|m| !m.is_expired(ctx.now_ms));
    if live && !o.replace {
        return Err(busy());
    }
    let ttl = parse_ttl(&args[2])?;
    let object = rdb::verify(&args[3]).map_err(payload_error)?;
    let value = rdb::decode(object).map_err(payload_error)?;

    let now = ctx.now_ms as i64;
    // As Redis: a relative TTL is added to the clock (the entry's, identical on replicas).
    let deadline = match ttl {
        0 => 0,
        t if o.absttl => t,
        t => t.wrapping_add(now),
    };
    if ttl != 0 && deadline <= now {
        // Already expired: the key is not created, and REPLACE still deletes the old one.
        if let Some(m) = &old {
            ctx.remove(pdb, key, m);
        }
        return Ok(Frame::ok());
    }
    let expire_ms = deadline as u64;
    write_value(ctx, pdb, key, old, value, expire_ms)?;
    Ok(Frame::ok())
}

/// Writes `value` under `key` with `expire_ms`, replacing whatever was stored (`old`).
fn write_value(
    ctx: &mut WriteCtx<'_>,
    pdb: u8,
    key: &[u8],
    old: Option<Metadata>,
    value: Value,
    expire_ms: u64,
) -> Result<(), CmdError> {
    let typ = match value {
        Value::String(s) => {
            ctx.store(pdb, key, &Metadata::string(s, expire_ms), old.as_ref());
            return Ok(());
        }
        Value::List(_) => RedisType::List,
        Value::Set(_) => RedisType::Set,
        Value::Hash(_) => RedisType::Hash,
        Value::ZSet(_) => RedisType::ZSet,
        Value::Stream(_) => RedisType::Stream,
    };
    if let Value::List(items) = value {
        return super::list::replace_with(ctx, pdb, key, items, expire_ms);
    }
    let mut c = CollWrite::replace(ctx, pdb, key, typ)?;
    match value {
        Value::String(_) | Value::List(_) => {}
        Value::Set(members) => {
            // The decoder refuses duplicates: every member is new.
            for m in &members {
                super::set::push_new_member(ctx, &mut c, m);
            }
        }
        Value::Hash(pairs) => {
            c.meta.size = pairs.len() as u64;
            for (f, v) in pairs {
                c.put(ctx, Cf::Subkey, &f, v);
            }
        }
        Value::ZSet(items) => {
            // The decoder refuses duplicates: every member is new.
            for (m, s) in &items {
                super::zset::set_score(ctx, &mut c, m, None, *s);
            }
        }
        Value::Stream(s) => write_stream(ctx, &mut c, s)?,
    }
    c.meta.expire_ms = expire_ms;
    c.save(ctx);
    Ok(())
}

/// The records of a stream (docs/encoding.md "Streams") from its RDB form.
fn write_stream(
    ctx: &mut WriteCtx<'_>,
    c: &mut CollWrite,
    s: rdb::Stream,
) -> Result<(), StorageError> {
    let length = s.entries.len() as u64;
    for (id, fields) in s.entries {
        let flat: Vec<Bytes> = fields
            .into_iter()
            .flat_map(|(f, v)| [Bytes::from(f), Bytes::from(v)])
            .collect();
        c.put(
            ctx,
            Cf::Subkey,
            &st::sfx_entry(our_id(id)),
            st::encode_fields(&flat),
        );
    }
    let groups = s.groups.len() as u64;
    for g in s.groups {
        let grp = st::Group {
            last: our_id(g.last_id),
            entries_read: g.entries_read,
            pel: g.pel.len() as u64,
            consumers: g.consumers.len() as u64,
        };
        c.put(ctx, Cf::Subkey, &st::sfx_group(&g.name), grp.encode());
        for p in &g.pel {
            let id = our_id(p.id);
            let nack = st::Nack {
                time: p.delivery_time,
                count: p.delivery_count,
                consumer: p.consumer.clone(),
            };
            c.put(
                ctx,
                Cf::Subkey,
                &st::with_id(st::sfx_pel_prefix(&g.name), id),
                nack.encode(),
            );
            let cpel = st::with_id(st::sfx_cpel_prefix(&g.name, &p.consumer), id);
            c.put(ctx, Cf::Subkey, &cpel, Vec::new());
        }
        for cons in &g.consumers {
            let owned = g.pel.iter().filter(|p| p.consumer == cons.name).count() as u64;
            let rec = st::Consumer {
                seen: cons.seen_time,
                pel: owned,
            };
            c.put(
                ctx,
                Cf::Subkey,
                &st::sfx_consumer(&g.name, &cons.name),
                rec.encode(),
            );
        }
    }
    let info = st::Info {
        last: our_id(s.last_id),
        max_deleted: our_id(s.max_deleted),
        first: our_id(s.first_id),
        entries_added: s.entries_added,
        length,
        groups,
    };
    c.meta.payload = info.encode();
    // A stream's size is its length + 1 so that an empty stream still exists.
    c.meta.size = length + 1;
    Ok(())
}

// ---------------------------------------------------------------------------------- table

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["keyspace", "read", "slow"],
        group: "generic",
        summary: "Return a serialized version of the value stored at the specified key.",
        since: "2.6.0",
        handler: Handler::Read(dump),
    },
    CommandSpec {
        name: "restore",
        arity: -4,
        flags: &["write", "denyoom"],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["keyspace", "write", "slow", "dangerous"],
        group: "generic",
        summary:
            "Create a key using the provided serialized value, previously obtained using DUMP.",
        since: "2.6.0",
        handler: atomic_write(restore_validate, restore_apply),
    },
];
