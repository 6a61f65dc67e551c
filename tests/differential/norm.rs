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
    /// A numeric SORT: exact, except that Redis may answer its conversion error for valid
    /// weights. Its strtod check reads errno without clearing it first, so an earlier command
    /// that left errno at ERANGE (`ZINCRBY z 1e400 m`, `ZADD z 1e-310 m`) makes the next
    /// numeric SORT fail.
    SortNumeric,
}

/// Redis' reply to a numeric SORT whose weights are not all numbers.
const SORT_CONVERSION: &str = "ERR One or more scores can't be converted into double";

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
        "sort" | "sort_ro" => sort_rule(argv),
        _ => Rule::Exact,
    }
}

/// SORT without STORE leaves some orders to the server: a set's under `BY` without `*`
/// (no sorting), and ALPHA ties (Redis compares C strings, so "" and "\0x" are equal, and
/// keeps them in its set's iteration order). Those replies are compared as multisets, or by
/// size when LIMIT picks an unspecified part. STORE sorts sets and compares bytes: exact.
fn sort_rule(argv: &[Vec<u8>]) -> Rule {
    let is = |a: &[u8], k: &str| a.eq_ignore_ascii_case(k.as_bytes());
    let mut i = 2;
    let (mut store, mut alpha, mut limit, mut nosort, mut by_star) =
        (false, false, false, false, false);
    while i < argv.len() {
        let a = &argv[i];
        if is(a, "limit") {
            limit = true;
            i += 2;
        } else if is(a, "get") {
            i += 1;
        } else if is(a, "by") {
            // Redis looks for '*' with strchr: up to a NUL byte.
            let star = argv.get(i + 1).is_some_and(|p| {
                p.split(|&b| b == 0)
                    .next()
                    .is_some_and(|c| c.contains(&b'*'))
            });
            by_star |= star;
            nosort |= !star;
            i += 1;
        } else if is(a, "store") {
            store = true;
            i += 1;
        } else if is(a, "alpha") {
            alpha = true;
        }
        i += 1;
    }
    if !alpha && !nosort {
        Rule::SortNumeric
    } else if store || !(nosort || (alpha && !by_star)) {
        Rule::Exact
    } else if limit {
        Rule::Size
    } else {
        Rule::Unordered
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
    if let (Rule::SortNumeric, Reply::Array(_) | Reply::Set(_), Reply::Error(e)) = (rule, a, b) {
        if e == SORT_CONVERSION {
            return true;
        }
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
        let argv =
            |s: &str| -> Vec<Vec<u8>> { s.split(' ').map(|a| a.as_bytes().to_vec()).collect() };
        let numeric = rule(&argv("SORT l BY {l}w_* LIMIT 0 1"));
        assert_eq!(numeric, Rule::SortNumeric);
        let conv = Reply::Error(SORT_CONVERSION.into());
        assert!(same(numeric, &Reply::Array(vec![b("1")]), &conv));
        assert!(!same(numeric, &conv, &Reply::Array(vec![b("1")])));
        assert_eq!(rule(&argv("SORT t BY nosort")), Rule::Unordered);
        assert_eq!(rule(&argv("SORT_RO t ALPHA LIMIT 0 1")), Rule::Size);
        assert_eq!(rule(&argv("SORT t BY nosort STORE d")), Rule::Exact);
        assert_eq!(rule(&argv("SORT t ALPHA STORE d")), Rule::Exact);
    }
}
