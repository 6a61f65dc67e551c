//! String commands.

use bytes::Bytes;

use super::args::{is, parse_i64};
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx, Split, WriteSpec};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Metadata, RedisType};

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
}

/// Parses the value of EX/PX/EXAT/PXAT (`unit_ms` = 1000 for seconds) like Redis
/// `getExpireMillisecondsOrReply`: non-integer -> not an integer; <= 0 or overflowing ->
/// "invalid expire time in '<cmd>' command".
pub fn parse_expire_value(arg: &[u8], unit_ms: i64, absolute: bool, cmd: &str) -> Result<ExpireArg, CmdError> {
    let v = parse_i64(arg)?;
    let invalid = || CmdError::Raw(format!("ERR invalid expire time in '{cmd}' command").into());
    if v <= 0 {
        return Err(invalid());
    }
    let ms = v.checked_mul(unit_ms).ok_or_else(invalid)?;
    Ok(if absolute {
        ExpireArg::At(ms as u64)
    } else {
        ExpireArg::In(ms as u64)
    })
}

#[derive(Debug, Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    expire: Option<ExpireArg>,
}

fn parse_set(args: &[Bytes]) -> Result<SetOptions, CmdError> {
    let mut o = SetOptions::default();
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        let has_next = i + 1 < args.len();
        if is(a, "nx") && !o.xx {
            o.nx = true;
        } else if is(a, "xx") && !o.nx {
            o.xx = true;
        } else if is(a, "get") {
            o.get = true;
        } else if is(a, "keepttl") && o.expire.is_none() {
            o.keepttl = true;
        } else if (is(a, "ex") || is(a, "px") || is(a, "exat") || is(a, "pxat"))
            && !o.keepttl
            && o.expire.is_none()
            && has_next
        {
            let unit = if is(a, "ex") || is(a, "exat") { 1000 } else { 1 };
            let absolute = is(a, "exat") || is(a, "pxat");
            o.expire = Some(parse_expire_value(&args[i + 1], unit, absolute, "set")?);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

fn set_validate(args: &[Bytes]) -> Result<(), CmdError> {
    parse_set(args).map(|_| ())
}

fn set_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    let o = parse_set(args)?;
    let (key, value) = (&args[1], &args[2]);
    let pdb = ctx.pdb(db);
    let old = ctx.load(pdb, key)?;
    let live = old.as_ref().filter(|m| !m.is_expired(ctx.now_ms));
    let previous = match (o.get, live) {
        (true, Some(m)) if m.typ != RedisType::String => return Err(CmdError::WrongType),
        (true, Some(m)) => Frame::Bulk(Bytes::from(m.payload.clone())),
        _ => Frame::Null,
    };
    let reply = if o.get { previous } else { Frame::ok() };
    if (o.nx && live.is_some()) || (o.xx && live.is_none()) {
        return Ok(if o.get { reply } else { Frame::Null });
    }
    let expire_ms = match o.expire {
        Some(e) => e.deadline(ctx.now_ms),
        None if o.keepttl => live.map(|m| m.expire_ms).unwrap_or(0),
        None => 0,
    };
    store_string(ctx, pdb, key, value.to_vec(), expire_ms, old.as_ref());
    Ok(reply)
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

fn get(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    Ok(match read_string(ctx, &args[1])? {
        Some(v) => Frame::Bulk(Bytes::from(v)),
        None => Frame::Null,
    })
}

const W: &[&str] = &["write", "denyoom"];
const R: &[&str] = &["readonly", "fast"];

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "set",
        arity: -3,
        flags: W,
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["write", "string", "slow"],
        group: "string",
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        since: "1.0.0",
        handler: Handler::Write(WriteSpec {
            validate: set_validate,
            apply: set_apply,
            split: Split::Never,
        }),
    },
    CommandSpec {
        name: "get",
        arity: 2,
        flags: R,
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["read", "string", "fast"],
        group: "string",
        summary: "Returns the string value of a key.",
        since: "1.0.0",
        handler: Handler::Read(get),
    },
];
