//! How two replies to the same command are compared: exactly, unless the command's reply is
//! legitimately unordered, random or time-dependent. One table, by command name.

use super::common::Reply;

/// The comparison rule of one command.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// Byte for byte, type for type (RESP2 vs RESP3 shapes included).
    Exact,
    /// An array/set whose element order is unspecified (hash-table order in Redis).
    Unordered,
    /// A field/value reply in unspecified order: a RESP3 map, or a RESP2 flat array of pairs.
    UnorderedPairs,
    /// A random pick: same reply type and, for arrays, same length; errors and nulls exact.
    Size,
    /// An integer that may differ by up to this much (TTLs measured at slightly different
    /// instants); negative sentinels (-1 no expiry, -2 missing) exact.
    Near(i64),
    /// Not compared (implementation-specific: encodings, cursors, INFO).
    Ignore,
}

/// The rule for a command (lowercase name and its arguments).
pub fn rule(argv: &[Vec<u8>]) -> Rule {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    match name.as_str() {
        "smembers" | "sunion" | "sinter" | "sdiff" | "hkeys" | "hvals" | "keys" => Rule::Unordered,
        "hgetall" => Rule::UnorderedPairs,
        "srandmember" | "hrandfield" | "zrandmember" | "spop" | "randomkey" => Rule::Size,
        "ttl" | "expiretime" => Rule::Near(1),
        "pttl" | "pexpiretime" => Rule::Near(2000),
        // OBJECT ENCODING/FREQ/IDLETIME describe Redis' in-memory representation; only the
        // errors (wrong subcommand, missing key) are comparable.
        "object" => Rule::Size,
        "scan" | "sscan" | "hscan" | "zscan" | "info" | "hello" | "debug" | "memory" => {
            Rule::Ignore
        }
        _ => Rule::Exact,
    }
}

fn sort_key(r: &Reply) -> String {
    format!("{r:?}")
}

fn sorted(items: &[Reply]) -> Vec<Reply> {
    let mut v = items.to_vec();
    v.sort_by_key(sort_key);
    v
}

fn sorted_pairs(items: &[Reply]) -> Vec<Reply> {
    let mut pairs: Vec<&[Reply]> = items.chunks(2).collect();
    pairs.sort_by_key(|p| format!("{p:?}"));
    pairs.concat()
}

/// `r` rewritten so that equal-under-the-rule replies become equal values.
pub fn normalize(rule: Rule, r: &Reply) -> Reply {
    match (rule, r) {
        (_, Reply::Error(_)) | (Rule::Exact, _) => r.clone(),
        (Rule::Unordered, Reply::Array(v)) => Reply::Array(sorted(v)),
        (Rule::Unordered | Rule::UnorderedPairs, Reply::Set(v)) => Reply::Set(sorted(v)),
        (Rule::UnorderedPairs, Reply::Array(v)) => Reply::Array(sorted_pairs(v)),
        (Rule::Unordered | Rule::UnorderedPairs, Reply::Map(kv)) => {
            let mut kv = kv.clone();
            kv.sort_by_key(|(k, v)| format!("{k:?}{v:?}"));
            Reply::Map(kv)
        }
        (Rule::Size, Reply::Array(v)) => Reply::Array(vec![Reply::Int(v.len() as i64)]),
        (Rule::Size, Reply::Map(kv)) => {
            Reply::Map(vec![(Reply::Int(kv.len() as i64), Reply::Null)])
        }
        (Rule::Size, Reply::Bulk(_)) => Reply::Bulk(b"<some bulk>".to_vec()),
        (Rule::Size, Reply::Simple(_)) => Reply::Simple("<some status>".into()),
        (Rule::Size, Reply::Int(_)) => Reply::Int(0),
        (Rule::Size, Reply::Double(_)) => Reply::Double("<some double>".into()),
        (Rule::Ignore, _) => Reply::Null,
        _ => r.clone(),
    }
}

/// True if `a` (raftrocks) and `b` (Redis) agree under `rule`.
pub fn same(rule: Rule, a: &Reply, b: &Reply) -> bool {
    if let (Rule::Near(tol), Reply::Int(x), Reply::Int(y)) = (rule, a, b) {
        return if *x < 0 || *y < 0 {
            x == y
        } else {
            (x - y).abs() <= tol
        };
    }
    normalize(rule, a) == normalize(rule, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    #[test]
    fn rules() {
        let hgetall = rule(&[b"HGETALL".to_vec(), b"h".to_vec()]);
        assert!(same(
            hgetall,
            &Reply::Array(vec![b("f1"), b("v1"), b("f2"), b("v2")]),
            &Reply::Array(vec![b("f2"), b("v2"), b("f1"), b("v1")])
        ));
        assert!(!same(
            hgetall,
            &Reply::Array(vec![b("f1"), b("v2"), b("f2"), b("v1")]),
            &Reply::Array(vec![b("f2"), b("v2"), b("f1"), b("v1")])
        ));
        // A RESP3 set is not a RESP2 array, whatever the order.
        let smembers = rule(&[b"smembers".to_vec()]);
        assert!(!same(smembers, &Reply::Set(vec![]), &Reply::Array(vec![])));
        let ttl = rule(&[b"TTL".to_vec()]);
        assert!(same(ttl, &Reply::Int(100), &Reply::Int(99)));
        assert!(!same(ttl, &Reply::Int(-1), &Reply::Int(-2)));
        let get = rule(&[b"GET".to_vec()]);
        assert!(!same(get, &Reply::Nil, &Reply::Null));
    }
}
