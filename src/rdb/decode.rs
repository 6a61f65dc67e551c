//! RESTORE side: an RDB object (type byte + object, footer already checked by
//! [`super::verify`]) to a [`Value`].

use std::collections::HashSet;

use super::listpack::{self, Elem};
use super::*;

type R<T> = Result<T, PayloadError>;

fn bad<T>() -> R<T> {
    Err(PayloadError::BadFormat)
}

fn opt<T>(o: Option<T>) -> R<T> {
    o.ok_or(PayloadError::BadFormat)
}

/// A length field: a plain length, or the marker of a specially encoded string.
enum Len {
    Plain(u64),
    /// `11xxxxxx`: 0 int8, 1 int16, 2 int32, 3 LZF.
    Encoded(u8),
}

struct Reader<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.b.len() - self.p
    }

    fn take(&mut self, n: u64) -> R<&'a [u8]> {
        if n > self.remaining() as u64 {
            return bad();
        }
        let s = &self.b[self.p..self.p + n as usize];
        self.p += n as usize;
        Ok(s)
    }

    fn byte(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    fn raw_len(&mut self) -> R<Len> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.byte()? as u64),
            2 => match b {
                0x80 => Len::Plain(u32::from_be_bytes(opt(self.take(4)?.try_into().ok())?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(opt(self.take(8)?.try_into().ok())?)),
                _ => return bad(),
            },
            _ => Len::Encoded(b & 0x3f),
        })
    }

    fn len(&mut self) -> R<u64> {
        match self.raw_len()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => bad(),
        }
    }

    /// A count of items that each take at least `min_bytes` of the payload: refused if the
    /// payload cannot hold that many, so nothing is reserved for a forged huge count.
    fn count(&mut self, min_bytes: u64) -> R<usize> {
        let n = self.len()?;
        if n.saturating_mul(min_bytes) > self.remaining() as u64 {
            return bad();
        }
        Ok(n as usize)
    }

    /// An RDB string: raw, int-encoded or LZF-compressed.
    fn string(&mut self) -> R<Vec<u8>> {
        match self.raw_len()? {
            Len::Plain(n) => Ok(self.take(n)?.to_vec()),
            Len::Encoded(0) => Ok(int_text(self.byte()? as i8 as i64)),
            Len::Encoded(1) => {
                let b = self.take(2)?;
                Ok(int_text(i16::from_le_bytes([b[0], b[1]]) as i64))
            }
            Len::Encoded(2) => {
                let b = self.take(4)?;
                Ok(int_text(i32::from_le_bytes(opt(b.try_into().ok())?) as i64))
            }
            Len::Encoded(3) => {
                let clen = self.len()?;
                let len = self.len()?;
                let data = self.take(clen)?;
                if len > lzf::max_expansion(data.len()) as u64 {
                    return bad();
                }
                opt(lzf::decompress(data, len as usize))
            }
            Len::Encoded(_) => bad(),
        }
    }

    /// RDB_TYPE_ZSET's text double: a length byte (253 NaN, 254 +inf, 255 -inf) and ASCII.
    fn text_double(&mut self) -> R<f64> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => parse_double(self.take(n as u64)?),
        }
    }

    fn binary_double(&mut self) -> R<f64> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes(opt(b.try_into().ok())?))
    }

    /// rdbLoadMillisecondTime: i64 little endian.
    fn ms_time(&mut self) -> R<u64> {
        let b = self.take(8)?;
        Ok(i64::from_le_bytes(opt(b.try_into().ok())?) as u64)
    }

    fn raw_id(&mut self) -> R<StreamId> {
        let b = self.take(16)?;
        id_from_key(b)
    }
}

fn id_from_key(b: &[u8]) -> R<StreamId> {
    if b.len() != 16 {
        return bad();
    }
    Ok(StreamId {
        ms: u64::from_be_bytes(opt(b[..8].try_into().ok())?),
        seq: u64::from_be_bytes(opt(b[8..].try_into().ok())?),
    })
}

/// A score written as text (RDB_TYPE_ZSET, listpack/ziplist sorted sets): what `strtod`
/// accepts from Redis' own writers ("%.17g", "inf", "-inf").
fn parse_double(s: &[u8]) -> R<f64> {
    let t = opt(std::str::from_utf8(s).ok())?;
    let v: f64 = match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => opt(t.parse().ok())?,
    };
    Ok(v)
}

/// Decodes `object` (type byte first) into a value.
pub fn decode(object: &[u8]) -> Result<Value, PayloadError> {
    let mut r = Reader { b: object, p: 0 };
    let typ = r.byte()?;
    let v = match typ {
        TYPE_STRING => Value::String(r.string()?),
        TYPE_LIST => {
            let n = r.count(1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            Value::List(non_empty(items)?)
        }
        TYPE_LIST_ZIPLIST => Value::List(non_empty(opt(ziplist::parse(&r.string()?))?)?),
        TYPE_LIST_QUICKLIST => {
            let n = r.count(1)?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.extend(opt(ziplist::parse(&r.string()?))?);
            }
            Value::List(non_empty(items)?)
        }
        TYPE_LIST_QUICKLIST_2 => {
            let n = r.count(2)?;
            let mut items = Vec::new();
            for _ in 0..n {
                let container = r.len()?;
                let data = r.string()?;
                match container {
                    QUICKLIST_PLAIN => items.push(data),
                    // Empty listpacks are skipped, as Redis does.
                    QUICKLIST_PACKED => {
                        items.extend(opt(listpack::parse(&data))?.into_iter().map(Elem::to_bytes))
                    }
                    _ => return bad(),
                }
            }
            Value::List(non_empty(items)?)
        }
        TYPE_SET => {
            let n = r.count(1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            Value::Set(distinct(items)?)
        }
        TYPE_SET_INTSET => Value::Set(distinct(opt(intset::parse(&r.string()?))?)?),
        TYPE_HASH => {
            let n = r.count(2)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                pairs.push((r.string()?, r.string()?));
            }
            Value::Hash(distinct_pairs(pairs)?)
        }
        TYPE_HASH_ZIPMAP => Value::Hash(distinct_pairs(opt(zipmap::parse(&r.string()?))?)?),
        TYPE_HASH_ZIPLIST => {
            Value::Hash(distinct_pairs(pairs(opt(ziplist::parse(&r.string()?))?)?)?)
        }
        TYPE_HASH_LISTPACK => Value::Hash(distinct_pairs(pairs(lp_strings(&r.string()?)?)?)?),
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.count(2)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let s = if typ == TYPE_ZSET {
                    r.text_double()?
                } else {
                    r.binary_double()?
                };
                items.push((m, s));
            }
            Value::ZSet(zset(items)?)
        }
        TYPE_ZSET_ZIPLIST => Value::ZSet(zset(scores(opt(ziplist::parse(&r.string()?))?)?)?),
        TYPE_ZSET_LISTPACK => Value::ZSet(zset(scores(lp_strings(&r.string()?)?)?)?),
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 => {
            Value::Stream(stream(&mut r, typ == TYPE_STREAM_LISTPACKS_2)?)
        }
        _ => return bad(),
    };
    // Bytes after the object are ignored, as Redis' RESTORE ignores them. (Redis reads the
    // object from the whole payload, footer included, so an object running into the footer
    // can load there; here it cannot: a stricter reading of the same format.)
    Ok(v)
}

fn lp_strings(lp: &[u8]) -> R<Vec<Vec<u8>>> {
    Ok(opt(listpack::parse(lp))?
        .into_iter()
        .map(Elem::to_bytes)
        .collect())
}

/// Redis refuses empty collections in a payload ("empty keys").
fn non_empty<T>(v: Vec<T>) -> R<Vec<T>> {
    if v.is_empty() {
        bad()
    } else {
        Ok(v)
    }
}

fn distinct(items: Vec<Vec<u8>>) -> R<Vec<Vec<u8>>> {
    let mut seen = HashSet::with_capacity(items.len());
    for m in &items {
        if !seen.insert(m.as_slice()) {
            return bad();
        }
    }
    non_empty(items)
}

fn pairs(flat: Vec<Vec<u8>>) -> R<Vec<(Vec<u8>, Vec<u8>)>> {
    if !flat.len().is_multiple_of(2) {
        return bad();
    }
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

fn distinct_pairs(p: Vec<(Vec<u8>, Vec<u8>)>) -> R<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut seen = HashSet::with_capacity(p.len());
    for (k, _) in &p {
        if !seen.insert(k.as_slice()) {
            return bad();
        }
    }
    non_empty(p)
}

fn scores(flat: Vec<Vec<u8>>) -> R<Vec<(Vec<u8>, f64)>> {
    pairs(flat)?
        .into_iter()
        .map(|(m, s)| Ok((m, parse_double(&s)?)))
        .collect()
}

fn zset(items: Vec<(Vec<u8>, f64)>) -> R<Vec<(Vec<u8>, f64)>> {
    let mut seen = HashSet::with_capacity(items.len());
    for (m, s) in &items {
        if s.is_nan() || !seen.insert(m.as_slice()) {
            return bad();
        }
    }
    non_empty(items)
}

// ------------------------------------------------------------------------------- streams

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn int(it: &mut std::vec::IntoIter<Elem<'_>>) -> R<i64> {
    opt(it.next().and_then(Elem::as_int))
}

/// Reads the entries of one stream node (a listpack under master ID `master`):
///
/// master entry: `count | deleted | num-fields | field... | 0`, then per entry
/// `flags | ms-diff | seq-diff | [num-fields] | (field value)... or value... | lp-count`
/// (fields omitted when `flags` has SAMEFIELDS: they are the master's).
fn stream_node(master: StreamId, lp: &[u8], out: &mut Vec<Entry>) -> R<()> {
    let elems = opt(listpack::parse(lp))?;
    let mut it = elems.into_iter();
    let count = int(&mut it)?;
    let deleted = int(&mut it)?;
    let nfields = int(&mut it)?;
    if count < 0 || deleted < 0 || nfields < 0 || nfields as usize > it.len() {
        return bad();
    }
    let mut master_fields = Vec::with_capacity(nfields as usize);
    for _ in 0..nfields {
        master_fields.push(opt(it.next())?.to_bytes());
    }
    if int(&mut it)? != 0 {
        return bad();
    }
    let mut live = 0i64;
    let mut dead = 0i64;
    while it.len() > 0 {
        let flags = int(&mut it)?;
        let ms = master.ms.wrapping_add(int(&mut it)? as u64);
        let seq = master.seq.wrapping_add(int(&mut it)? as u64);
        let fields = if flags & FLAG_SAMEFIELDS != 0 {
            let mut f = Vec::with_capacity(master_fields.len());
            for name in &master_fields {
                f.push((name.clone(), opt(it.next())?.to_bytes()));
            }
            f
        } else {
            let n = int(&mut it)?;
            if n < 0 || n as u64 * 2 > it.len() as u64 {
                return bad();
            }
            let mut f = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let k = opt(it.next())?.to_bytes();
                let v = opt(it.next())?.to_bytes();
                f.push((k, v));
            }
            f
        };
        int(&mut it)?; // lp-count, only used to walk backwards
        if flags & FLAG_DELETED != 0 {
            dead += 1;
        } else {
            live += 1;
            out.push((StreamId { ms, seq }, fields));
        }
    }
    if live != count || dead != deleted || live + dead == 0 {
        return bad();
    }
    Ok(())
}

/// RDB_TYPE_STREAM_LISTPACKS (`v2` false: Redis 5/6) and _2 (Redis 7.0).
fn stream(r: &mut Reader<'_>, v2: bool) -> R<Stream> {
    let nodes = r.count(2)?;
    let mut s = Stream::default();
    for _ in 0..nodes {
        let key = r.string()?;
        let master = id_from_key(&key)?;
        let lp = r.string()?;
        stream_node(master, &lp, &mut s.entries)?;
    }
    // Entries must be in strictly ascending ID order across nodes (nodes are a radix tree
    // keyed by master ID; entries within a node are appended in order).
    if s.entries.windows(2).any(|w| w[0].0 >= w[1].0) {
        return bad();
    }
    let length = r.len()?;
    if length != s.entries.len() as u64 {
        return bad();
    }
    s.last_id = StreamId {
        ms: r.len()?,
        seq: r.len()?,
    };
    if s.entries.last().is_some_and(|e| e.0 > s.last_id) {
        return bad();
    }
    if v2 {
        s.first_id = StreamId {
            ms: r.len()?,
            seq: r.len()?,
        };
        s.max_deleted = StreamId {
            ms: r.len()?,
            seq: r.len()?,
        };
        s.entries_added = r.len()?;
    } else {
        // What Redis 7.0 derives when it loads a version-1 stream.
        s.first_id = s.entries.first().map(|e| e.0).unwrap_or_default();
        s.entries_added = length;
    }
    let ngroups = r.count(3)?;
    let mut names = HashSet::new();
    for _ in 0..ngroups {
        let mut g = Group {
            name: r.string()?,
            last_id: StreamId {
                ms: r.len()?,
                seq: r.len()?,
            },
            ..Group::default()
        };
        g.entries_read = if v2 {
            r.len()? as i64
        } else {
            estimate_entries_read(&s, g.last_id)
        };
        let npel = r.count(25)?;
        let mut pel = Vec::with_capacity(npel);
        for _ in 0..npel {
            let id = r.raw_id()?;
            let delivery_time = r.ms_time()?;
            let delivery_count = r.len()?;
            pel.push(Pending {
                id,
                delivery_time,
                delivery_count,
                consumer: Vec::new(),
            });
        }
        if pel.windows(2).any(|w| w[0].id >= w[1].id) {
            return bad();
        }
        let mut owned = vec![false; pel.len()];
        let ncons = r.count(10)?;
        let mut cnames = HashSet::new();
        for _ in 0..ncons {
            let name = r.string()?;
            let seen_time = r.ms_time()?;
            let n = r.count(16)?;
            for _ in 0..n {
                let id = r.raw_id()?;
                // Every consumer PEL entry is in the group PEL, owned by exactly one consumer.
                let at = pel.binary_search_by(|p| p.id.cmp(&id)).or_else(|_| bad())?;
                if owned[at] {
                    return bad();
                }
                owned[at] = true;
                pel[at].consumer = name.clone();
            }
            if !cnames.insert(name.clone()) {
                return bad();
            }
            g.consumers.push(Consumer { name, seen_time });
        }
        // A pending entry without an owner cannot be stored (our PEL records name one).
        if owned.iter().any(|o| !o) {
            return bad();
        }
        g.pel = pel;
        if !names.insert(g.name.clone()) {
            return bad();
        }
        s.groups.push(g);
    }
    Ok(s)
}

/// Redis `streamEstimateDistanceFromFirstEverEntry` for a stream loaded from a version-1
/// payload (no tombstone information: max deleted ID 0-0).
fn estimate_entries_read(s: &Stream, id: StreamId) -> i64 {
    let added = s.entries_added as i64;
    let length = s.entries.len() as i64;
    if s.entries_added == 0 {
        return 0;
    }
    if length == 0 && id <= s.last_id {
        return added;
    }
    if id == s.last_id {
        return added;
    } else if id > s.last_id {
        return -1;
    }
    if id < s.first_id {
        return added - length;
    } else if id == s.first_id {
        return added - length + 1;
    }
    -1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::ziplist::{build as zl, str_entry};

    /// An RDB string holding `b` raw (length-prefixed).
    fn rdb_str(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if b.len() < 64 {
            out.push(b.len() as u8);
        } else {
            out.push(0x80);
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(b);
        out
    }

    fn obj(typ: u8, parts: &[Vec<u8>]) -> Vec<u8> {
        let mut o = vec![typ];
        for p in parts {
            o.extend_from_slice(p);
        }
        o
    }

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn strings_int_and_lzf_encoded() {
        assert_eq!(
            decode(&[TYPE_STRING, 0xc0, 0x85]).unwrap(),
            Value::String(b("-123"))
        );
        assert_eq!(
            decode(&[TYPE_STRING, 0xc1, 0x00, 0x80]).unwrap(),
            Value::String(b("-32768"))
        );
        assert_eq!(
            decode(&[TYPE_STRING, 0xc2, 0xff, 0xff, 0xff, 0x7f]).unwrap(),
            Value::String(b("2147483647"))
        );
        // LZF: literal "ab", then a back reference of 8 bytes at distance 2.
        let o = [TYPE_STRING, 0xc3, 5, 10, 1, b'a', b'b', 6 << 5, 1];
        assert_eq!(decode(&o).unwrap(), Value::String(b("ababababab")));
        assert_eq!(decode(&[TYPE_STRING, 0xc4]), Err(PayloadError::BadFormat));
    }

    #[test]
    fn legacy_lists() {
        let items = vec![b("a"), b("bb"), b("7")];
        let plain = obj(
            TYPE_LIST,
            &[vec![3], rdb_str(b"a"), rdb_str(b"bb"), vec![0xc0, 7]],
        );
        assert_eq!(decode(&plain).unwrap(), Value::List(items.clone()));
        let z = zl(&[str_entry(b"a"), str_entry(b"bb"), vec![0xf8]]);
        assert_eq!(
            decode(&obj(TYPE_LIST_ZIPLIST, &[rdb_str(&z)])).unwrap(),
            Value::List(items.clone())
        );
        let z1 = zl(&[str_entry(b"a")]);
        let z2 = zl(&[str_entry(b"bb"), vec![0xf8]]);
        let q = obj(TYPE_LIST_QUICKLIST, &[vec![2], rdb_str(&z1), rdb_str(&z2)]);
        assert_eq!(decode(&q).unwrap(), Value::List(items));
        assert_eq!(
            decode(&obj(TYPE_LIST_QUICKLIST, &[vec![1], rdb_str(&zl(&[]))])),
            Err(PayloadError::BadFormat)
        );
    }

    #[test]
    fn legacy_sets_hashes_and_zsets() {
        let mut is = vec![2, 0, 0, 0, 2, 0, 0, 0];
        is.extend_from_slice(&[1, 0, 2, 0]);
        assert_eq!(
            decode(&obj(TYPE_SET_INTSET, &[rdb_str(&is)])).unwrap(),
            Value::Set(vec![b("1"), b("2")])
        );
        let pairs = vec![(b("f"), b("v")), (b("n"), b("5"))];
        let z = zl(&[
            str_entry(b"f"),
            str_entry(b"v"),
            str_entry(b"n"),
            vec![0xf6],
        ]);
        assert_eq!(
            decode(&obj(TYPE_HASH_ZIPLIST, &[rdb_str(&z)])).unwrap(),
            Value::Hash(pairs.clone())
        );
        let zm = [2, 1, b'f', 1, 0, b'v', 1, b'n', 1, 0, b'5', 0xff];
        assert_eq!(
            decode(&obj(TYPE_HASH_ZIPMAP, &[rdb_str(&zm)])).unwrap(),
            Value::Hash(pairs)
        );
        let odd = zl(&[str_entry(b"f")]);
        assert_eq!(
            decode(&obj(TYPE_HASH_ZIPLIST, &[rdb_str(&odd)])),
            Err(PayloadError::BadFormat)
        );
        let dup = zl(&[
            str_entry(b"f"),
            str_entry(b"1"),
            str_entry(b"f"),
            str_entry(b"2"),
        ]);
        assert_eq!(
            decode(&obj(TYPE_HASH_ZIPLIST, &[rdb_str(&dup)])),
            Err(PayloadError::BadFormat)
        );
        let zz = zl(&[
            str_entry(b"a"),
            str_entry(b"1.5"),
            str_entry(b"b"),
            vec![0xf3],
            str_entry(b"c"),
            str_entry(b"-inf"),
        ]);
        let want = Value::ZSet(vec![
            (b("a"), 1.5),
            (b("b"), 2.0),
            (b("c"), f64::NEG_INFINITY),
        ]);
        assert_eq!(
            decode(&obj(TYPE_ZSET_ZIPLIST, &[rdb_str(&zz)])).unwrap(),
            want
        );
        let text = obj(
            TYPE_ZSET,
            &[
                vec![3],
                rdb_str(b"a"),
                vec![3],
                b("1.5"),
                rdb_str(b"b"),
                vec![1],
                b("2"),
                rdb_str(b"c"),
                vec![255],
            ],
        );
        assert_eq!(decode(&text).unwrap(), want);
        let nan = obj(TYPE_ZSET, &[vec![1], rdb_str(b"a"), vec![253]]);
        assert_eq!(decode(&nan), Err(PayloadError::BadFormat));
    }

    #[test]
    fn version_one_stream_derives_the_new_fields() {
        // One node, master 5-0, entries 5-0 {a: 1} and 5-1 {a: 2} (SAMEFIELDS), one group
        // at 5-0 with nothing pending.
        let mut lp = listpack::Builder::new();
        for v in [2, 0, 1] {
            lp.push_int(v);
        }
        lp.push(b"a");
        lp.push_int(0);
        for (seq, val) in [(0, "1"), (1, "2")] {
            lp.push_int(FLAG_SAMEFIELDS);
            lp.push_int(0);
            lp.push_int(seq);
            lp.push(val.as_bytes());
            lp.push_int(4);
        }
        let lp = lp.finish();
        let mut key = 5u64.to_be_bytes().to_vec();
        key.extend_from_slice(&0u64.to_be_bytes());
        let o = obj(
            TYPE_STREAM_LISTPACKS,
            &[
                vec![1],
                rdb_str(&key),
                rdb_str(&lp),
                vec![2, 5, 1], // length, last id
                vec![1],       // groups
                rdb_str(b"g"),
                vec![5, 0], // group last id
                vec![0, 0], // empty PEL, no consumers
            ],
        );
        let Value::Stream(s) = decode(&o).unwrap() else {
            panic!("not a stream");
        };
        assert_eq!(s.entries.len(), 2);
        assert_eq!(s.entries[1].0, StreamId { ms: 5, seq: 1 });
        assert_eq!(s.entries[1].1, vec![(b("a"), b("2"))]);
        assert_eq!(s.first_id, StreamId { ms: 5, seq: 0 });
        assert_eq!(s.entries_added, 2);
        // The group has read the first entry: Redis estimates 1.
        assert_eq!(s.groups[0].entries_read, 1);
    }
}
