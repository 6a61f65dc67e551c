//! DUMP side: a [`Value`] to a payload. Uses the simplest encodings Redis 7.0 loads:
//! RDB_TYPE_STRING, RDB_TYPE_LIST_QUICKLIST_2 with listpack nodes, RDB_TYPE_SET,
//! RDB_TYPE_HASH, RDB_TYPE_ZSET_2 and RDB_TYPE_STREAM_LISTPACKS_2. Strings (values, members,
//! and the listpacks of list and stream nodes) are written the way Redis writes them: raw,
//! int-encoded or LZF-compressed.

use super::listpack::Builder;
use super::*;

/// Quicklist nodes and stream nodes are cut at about this many bytes (Redis' default
/// `list-max-listpack-size -2` is 8 KiB; `stream-node-max-bytes` is 4 KiB).
const LIST_NODE_BYTES: usize = 8 << 10;
const STREAM_NODE_BYTES: usize = 4 << 10;
/// `stream-node-max-entries`.
const STREAM_NODE_ENTRIES: usize = 100;

fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// An RDB string as Redis writes it: int-encoded if it is a canonical integer that fits 32
/// bits (`rdbTryIntegerEncoding`), LZF-compressed if longer than 20 bytes and compression
/// saves at least 4 bytes, raw otherwise.
fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() > 20 {
        if let Some(c) = lzf::compress(s) {
            out.push(0xc3);
            put_len(out, c.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    if s.len() <= 11 {
        if let Some(v) = canonical_int(s) {
            if let Ok(b) = i8::try_from(v) {
                out.push(0xc0);
                out.push(b as u8);
                return;
            } else if let Ok(h) = i16::try_from(v) {
                out.push(0xc1);
                out.extend_from_slice(&h.to_le_bytes());
                return;
            } else if let Ok(w) = i32::try_from(v) {
                out.push(0xc2);
                out.extend_from_slice(&w.to_le_bytes());
                return;
            }
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_len(out, id.ms);
    put_len(out, id.seq);
}

fn raw_id(id: StreamId) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&id.ms.to_be_bytes());
    b[8..].copy_from_slice(&id.seq.to_be_bytes());
    b
}

/// The DUMP payload of `v`.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    match v {
        Value::String(s) => {
            out.push(TYPE_STRING);
            put_string(&mut out, s);
        }
        Value::List(items) => {
            let mut nodes = Vec::new();
            let mut lp = Builder::new();
            for it in items {
                if !lp.is_empty() && lp.bytes() + it.len() > LIST_NODE_BYTES {
                    nodes.push(std::mem::take(&mut lp).finish());
                }
                lp.push(it);
            }
            if !lp.is_empty() {
                nodes.push(lp.finish());
            }
            out.push(TYPE_LIST_QUICKLIST_2);
            put_len(&mut out, nodes.len() as u64);
            for n in &nodes {
                put_len(&mut out, QUICKLIST_PACKED);
                put_string(&mut out, n);
            }
        }
        Value::Set(members) => {
            out.push(TYPE_SET);
            put_len(&mut out, members.len() as u64);
            for m in members {
                put_string(&mut out, m);
            }
        }
        Value::Hash(pairs) => {
            out.push(TYPE_HASH);
            put_len(&mut out, pairs.len() as u64);
            for (f, v) in pairs {
                put_string(&mut out, f);
                put_string(&mut out, v);
            }
        }
        Value::ZSet(items) => {
            out.push(TYPE_ZSET_2);
            put_len(&mut out, items.len() as u64);
            for (m, s) in items {
                put_string(&mut out, m);
                out.extend_from_slice(&s.to_le_bytes());
            }
        }
        Value::Stream(s) => {
            out.push(TYPE_STREAM_LISTPACKS_2);
            stream(&mut out, s);
        }
    }
    seal(out)
}

/// One stream node: the first entry is the master (its ID the node key, its fields the
/// master fields); entries with the same fields omit them (SAMEFIELDS), as Redis writes.
fn stream_node(entries: &[Entry]) -> Vec<u8> {
    let mut lp = Builder::new();
    let master = entries[0].0;
    let master_fields = &entries[0].1;
    lp.push_int(entries.len() as i64);
    lp.push_int(0);
    lp.push_int(master_fields.len() as i64);
    for (f, _) in master_fields {
        lp.push(f);
    }
    lp.push_int(0);
    for (id, fields) in entries {
        let same = fields.len() == master_fields.len()
            && fields.iter().zip(master_fields).all(|(a, b)| a.0 == b.0);
        lp.push_int(if same { 2 } else { 0 });
        lp.push_int(id.ms.wrapping_sub(master.ms) as i64);
        lp.push_int(id.seq.wrapping_sub(master.seq) as i64);
        if same {
            for (_, v) in fields {
                lp.push(v);
            }
            lp.push_int(fields.len() as i64 + 3);
        } else {
            lp.push_int(fields.len() as i64);
            for (f, v) in fields {
                lp.push(f);
                lp.push(v);
            }
            lp.push_int(2 * fields.len() as i64 + 4);
        }
    }
    lp.finish()
}

fn stream(out: &mut Vec<u8>, s: &Stream) {
    // Cut into nodes of at most STREAM_NODE_ENTRIES entries and about STREAM_NODE_BYTES.
    let mut nodes: Vec<(StreamId, Vec<u8>)> = Vec::new();
    let mut start = 0;
    while start < s.entries.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < s.entries.len() && end - start < STREAM_NODE_ENTRIES {
            let size: usize = s.entries[end]
                .1
                .iter()
                .map(|(f, v)| f.len() + v.len() + 4)
                .sum();
            if end > start && bytes + size > STREAM_NODE_BYTES {
                break;
            }
            bytes += size;
            end += 1;
        }
        let chunk = &s.entries[start..end];
        nodes.push((chunk[0].0, stream_node(chunk)));
        start = end;
    }
    put_len(out, nodes.len() as u64);
    for (master, lp) in &nodes {
        put_string(out, &raw_id(*master));
        put_string(out, lp);
    }
    put_len(out, s.entries.len() as u64);
    put_id(out, s.last_id);
    put_id(out, s.first_id);
    put_id(out, s.max_deleted);
    put_len(out, s.entries_added);
    put_len(out, s.groups.len() as u64);
    for g in &s.groups {
        put_string(out, &g.name);
        put_id(out, g.last_id);
        // Redis writes the signed counter as a 64-bit length (-1 becomes 2^64 - 1).
        put_len(out, g.entries_read as u64);
        put_len(out, g.pel.len() as u64);
        for p in &g.pel {
            out.extend_from_slice(&raw_id(p.id));
            out.extend_from_slice(&(p.delivery_time as i64).to_le_bytes());
            put_len(out, p.delivery_count);
        }
        put_len(out, g.consumers.len() as u64);
        for c in &g.consumers {
            put_string(out, &c.name);
            out.extend_from_slice(&(c.seen_time as i64).to_le_bytes());
            let owned: Vec<&Pending> = g.pel.iter().filter(|p| p.consumer == c.name).collect();
            put_len(out, owned.len() as u64);
            for p in owned {
                out.extend_from_slice(&raw_id(p.id));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: Value) {
        let payload = encode(&v);
        let object = verify(&payload).unwrap();
        assert_eq!(decode(object).unwrap(), v);
    }

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    #[test]
    fn round_trips() {
        round_trip(Value::String(b"hello".to_vec()));
        round_trip(Value::String(Vec::new()));
        for n in [
            "0",
            "-1",
            "127",
            "-128",
            "300",
            "-32768",
            "70000",
            "2147483647",
            "-2147483648",
        ] {
            round_trip(Value::String(n.as_bytes().to_vec()));
        }
        round_trip(Value::String(b"9999999999".to_vec()));
        round_trip(Value::String(vec![7u8; 100_000]));
        let long: Vec<Vec<u8>> = (0..5000)
            .map(|i| format!("element-{i}").into_bytes())
            .chain([vec![b'z'; 20_000], b"12".to_vec(), Vec::new()])
            .collect();
        round_trip(Value::List(long));
        round_trip(Value::Set(vec![b"a".to_vec(), b"1".to_vec(), vec![0; 70]]));
        round_trip(Value::Hash(vec![
            (b"f".to_vec(), b"v".to_vec()),
            (b"10".to_vec(), Vec::new()),
        ]));
        round_trip(Value::ZSet(vec![
            (b"a".to_vec(), 1.5),
            (b"b".to_vec(), f64::NEG_INFINITY),
            (b"c".to_vec(), f64::INFINITY),
            (b"d".to_vec(), -0.0),
        ]));
        let mut s = Stream {
            last_id: id(500, 3),
            first_id: id(1, 0),
            max_deleted: id(2, 0),
            entries_added: 260,
            ..Stream::default()
        };
        for i in 0..250u64 {
            let fields = if i % 7 == 0 {
                vec![(b"other".to_vec(), i.to_string().into_bytes())]
            } else {
                vec![
                    (b"a".to_vec(), b"x".to_vec()),
                    (b"n".to_vec(), i.to_string().into_bytes()),
                ]
            };
            s.entries.push((id(1 + i, i % 3), fields));
        }
        s.groups.push(Group {
            name: b"g1".to_vec(),
            last_id: id(3, 0),
            entries_read: -1,
            pel: vec![
                Pending {
                    id: id(1, 0),
                    delivery_time: 1_700_000_000_000,
                    delivery_count: 2,
                    consumer: b"alice".to_vec(),
                },
                Pending {
                    id: id(2, 1),
                    delivery_time: 5,
                    delivery_count: 1,
                    consumer: b"bob".to_vec(),
                },
            ],
            consumers: vec![
                Consumer {
                    name: b"alice".to_vec(),
                    seen_time: 9,
                },
                Consumer {
                    name: b"bob".to_vec(),
                    seen_time: 10,
                },
                Consumer {
                    name: b"idle".to_vec(),
                    seen_time: 11,
                },
            ],
        });
        s.groups.push(Group {
            name: b"g2".to_vec(),
            entries_read: 7,
            ..Group::default()
        });
        round_trip(Value::Stream(s));
        round_trip(Value::Stream(Stream::default()));
    }

    #[test]
    fn empty_collections_are_bad_data() {
        for v in [
            Value::List(vec![]),
            Value::Set(vec![]),
            Value::Hash(vec![]),
            Value::ZSet(vec![]),
        ] {
            let p = encode(&v);
            assert_eq!(decode(verify(&p).unwrap()), Err(PayloadError::BadFormat));
        }
    }

    /// Random bytes, truncations and single-byte changes of valid objects never panic, and
    /// huge length fields are refused without allocating.
    #[test]
    fn fuzzish_decoding_never_panics() {
        let samples = [
            encode(&Value::List((0..300).map(|i| vec![b'x'; i % 40]).collect())),
            encode(&Value::Hash(vec![(b"a".to_vec(), b"b".to_vec())])),
            encode(&Value::ZSet(vec![(b"m".to_vec(), 2.0)])),
            encode(&Value::String(vec![1; 50])),
            encode(&Value::Stream(Stream {
                entries: (0..30u64)
                    .map(|i| {
                        (
                            id(i + 1, 0),
                            vec![(b"f".to_vec(), i.to_string().into_bytes())],
                        )
                    })
                    .collect(),
                last_id: id(40, 0),
                entries_added: 30,
                groups: vec![Group {
                    name: b"g".to_vec(),
                    last_id: id(2, 0),
                    entries_read: 2,
                    pel: vec![Pending {
                        id: id(2, 0),
                        delivery_time: 1,
                        delivery_count: 1,
                        consumer: b"c".to_vec(),
                    }],
                    consumers: vec![Consumer {
                        name: b"c".to_vec(),
                        seen_time: 1,
                    }],
                }],
                ..Stream::default()
            })),
        ];
        let mut seed = 0xdead_beef_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for s in &samples {
            let body = &s[..s.len() - 10];
            for cut in 0..body.len() {
                let _ = decode(&body[..cut]);
            }
            for _ in 0..5000 {
                let mut m = body.to_vec();
                let at = next() as usize % m.len();
                m[at] = next() as u8;
                let _ = decode(&m);
            }
        }
        for _ in 0..50_000 {
            let len = next() as usize % 64;
            let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(t) = b.first_mut() {
                *t %= 20;
            }
            let _ = decode(&b);
        }
        // Counts of 2^64-1 and 2^32 with nothing behind them.
        for t in [
            TYPE_LIST,
            TYPE_SET,
            TYPE_HASH,
            TYPE_ZSET_2,
            TYPE_LIST_QUICKLIST_2,
        ] {
            let mut b = vec![t, 0x81];
            b.extend_from_slice(&u64::MAX.to_be_bytes());
            assert_eq!(decode(&b), Err(PayloadError::BadFormat));
            let mut b = vec![t, 0x80, 0xff, 0xff, 0xff, 0xff, 1, b'a'];
            assert_eq!(decode(&b), Err(PayloadError::BadFormat));
            b.clear();
        }
        // An LZF string claiming 4 GiB.
        let b = [TYPE_STRING, 0xc3, 2, 0x80, 0xff, 0xff, 0xff, 0xff, 0, b'a'];
        assert_eq!(decode(&b), Err(PayloadError::BadFormat));
        let mut b = vec![TYPE_STRING, 0x81];
        b.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(decode(&b), Err(PayloadError::BadFormat));
    }
}
