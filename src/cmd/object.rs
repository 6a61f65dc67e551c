//! OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ | HELP.
//!
//! raftrocks has no in-memory objects: these are compatibility answers, computed from the
//! stored value so that clients and tools that look at them see what Redis 7.0 would most
//! likely report with its default configuration:
//! - ENCODING of a string: `int` if the value is a canonical 64-bit integer, `embstr` up to 44
//!   bytes, else `raw` (Redis also turns strings changed by APPEND/SETRANGE into `raw`; the
//!   value alone does not tell). Hashes: `listpack` up to 512 fields
//!   (`hash-max-listpack-entries`), sorted sets up to 128 members
//!   (`zset-max-listpack-entries`), else `hashtable`/`skiplist`
//!   (Redis also switches on values over 64 bytes; not checked). Lists: `quicklist` (7.0 has
//!   no listpack lists). Sets: `intset` up to 512 members that are all integers (members are
//!   read, at most 512), else `hashtable`. Streams: `stream`.
//! - REFCOUNT: 2147483647 for the integers 0..9999 (Redis shares those objects), else 1.
//! - IDLETIME: 0 (access times are not tracked).
//! - FREQ: the error Redis gives when no LFU policy is set (its default).

use bytes::Bytes;

use super::args::{is, parse_i64_opt};
use super::coll::CollRead;
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::resp::Frame;
use crate::storage::{Cf, Metadata, RedisType};

/// Redis 7.0's built-in defaults (redis.conf ships other values for hashes: 128).
const HASH_LISTPACK_ENTRIES: u64 = 512;
const ZSET_LISTPACK_ENTRIES: u64 = 128;
const INTSET_ENTRIES: u64 = 512;
const EMBSTR_LIMIT: usize = 44;
/// Redis' OBJ_SHARED_INTEGERS: integers below it are shared objects.
const SHARED_INTEGERS: i64 = 10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

fn object(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let sub = &args[1];
    let known = ["encoding", "refcount", "idletime", "freq"]
        .into_iter()
        .find(|s| is(sub, s));
    let Some(name) = known else {
        if is(sub, "help") && args.len() == 2 {
            return Ok(Frame::Array(
                HELP.iter().map(|l| Frame::simple(*l)).collect(),
            ));
        }
        if is(sub, "help") {
            return Err(CmdError::raw(
                "ERR wrong number of arguments for 'object|help' command",
            ));
        }
        return Err(CmdError::Raw(
            format!(
                "ERR unknown subcommand '{}'. Try OBJECT HELP.",
                String::from_utf8_lossy(&sub[..sub.len().min(128)])
            )
            .into(),
        ));
    };
    if args.len() != 3 {
        return Err(CmdError::Raw(
            format!("ERR wrong number of arguments for 'object|{name}' command").into(),
        ));
    }
    let key = &args[2];
    // Like Redis: a missing key is a null reply, whatever the subcommand.
    let Some(meta) = ctx.get(key)? else {
        return Ok(Frame::Null);
    };
    match name {
        "encoding" => Ok(Frame::bulk_from_str(encoding(ctx, key, &meta)?)),
        "refcount" => Ok(Frame::Integer(refcount(&meta))),
        "idletime" => Ok(Frame::Integer(0)),
        _ => Err(CmdError::raw(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
             Please note that when switching between policies at runtime LRU and LFU data \
             will take some time to adjust.",
        )),
    }
}

/// A string value Redis would hold as a shared or unshared integer object.
fn as_integer(meta: &Metadata) -> Option<i64> {
    (meta.typ == RedisType::String)
        .then(|| parse_i64_opt(&meta.payload))
        .flatten()
}

fn refcount(meta: &Metadata) -> i64 {
    match as_integer(meta) {
        Some(v) if (0..SHARED_INTEGERS).contains(&v) => SHARED_REFCOUNT,
        _ => 1,
    }
}

fn encoding(ctx: &ReadCtx<'_>, key: &[u8], meta: &Metadata) -> Result<&'static str, CmdError> {
    Ok(match meta.typ {
        RedisType::String if as_integer(meta).is_some() => "int",
        RedisType::String if meta.payload.len() <= EMBSTR_LIMIT => "embstr",
        RedisType::String => "raw",
        RedisType::Hash if meta.size <= HASH_LISTPACK_ENTRIES => "listpack",
        RedisType::Hash => "hashtable",
        RedisType::ZSet if meta.size <= ZSET_LISTPACK_ENTRIES => "listpack",
        RedisType::ZSet => "skiplist",
        RedisType::List => "quicklist",
        RedisType::Set if meta.size <= INTSET_ENTRIES && all_integers(ctx, key)? => "intset",
        RedisType::Set => "hashtable",
        RedisType::Stream => "stream",
    })
}

/// True if every member of the (small) set `key` is an integer. Set members are the entry
/// suffixes in `Cf::Subkey`.
fn all_integers(ctx: &ReadCtx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    let Some(set) = CollRead::open(ctx, key, RedisType::Set)? else {
        return Ok(false);
    };
    let mut all = true;
    set.scan(ctx, Cf::Subkey, b"", None, false, |member, _| {
        all = parse_i64_opt(member).is_some();
        all
    })?;
    Ok(all)
}

/// The key of `OBJECT <sub> <key>` (none for HELP or a malformed call).
fn object_keys(args: &[Bytes]) -> Result<Vec<usize>, CmdError> {
    Ok(if args.len() == 3 && !is(&args[1], "help") {
        vec![2]
    } else {
        Vec::new()
    })
}

pub static SPECS: &[CommandSpec] = &[CommandSpec {
    name: "object",
    arity: -2,
    flags: &[],
    // As Redis' container command: no key spec of its own (its subcommands have the key at
    // 2); the finder routes the key.
    first_key: 0,
    last_key: 0,
    step: 0,
    key_finder: Some(object_keys),
    acl: &["slow"],
    group: "generic",
    summary: "A container for object introspection commands",
    since: "2.2.3",
    handler: Handler::Read(object),
}];

#[cfg(test)]
mod tests {
    use super::*;

    fn string(v: &str) -> Metadata {
        Metadata::string(v.as_bytes().to_vec(), 0)
    }

    #[test]
    fn string_encodings_and_refcounts_like_redis() {
        assert_eq!(as_integer(&string("100")), Some(100));
        assert_eq!(as_integer(&string("007")), None);
        assert_eq!(as_integer(&string("12345678901234567890")), None);
        assert_eq!(refcount(&string("100")), SHARED_REFCOUNT);
        assert_eq!(refcount(&string("-5")), 1);
        assert_eq!(refcount(&string("10000")), 1);
        assert_eq!(refcount(&string("abc")), 1);
        assert_eq!(
            object_keys(&[b"object"[..].into(), b"help"[..].into()]).unwrap(),
            Vec::<usize>::new()
        );
        assert_eq!(
            object_keys(&[
                b"object"[..].into(),
                b"encoding"[..].into(),
                b"k"[..].into()
            ])
            .unwrap(),
            vec![2]
        );
    }
}
