//! Reply values ([`Frame`]) and their RESP2 / RESP3 wire encoding.
//!
//! Every reply the server sends goes through [`Frame::encode`], so encoding writes straight
//! into the connection's output `BytesMut`: integers and lengths are formatted with a hand
//! loop into a stack buffer, doubles with `core::fmt` into a stack buffer, and nothing is
//! allocated besides the output buffer growing.
//!
//! A `Frame` is written in the protocol the connection negotiated; RESP3-only types are
//! downgraded for RESP2 clients exactly as Redis 7 does (maps flatten into arrays, booleans
//! become integers, doubles become bulk strings, ...). See each variant.

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

/// The wire protocol a connection speaks; RESP2 until the client sends `HELLO 3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

impl Protocol {
    /// The protocol for `HELLO <protover>`; Redis accepts only 2 and 3.
    pub fn from_version(version: i64) -> Option<Protocol> {
        match version {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => None,
        }
    }

    /// The number `HELLO` reports as `proto`.
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// A reply value. Build it protocol-agnostically; [`Frame::encode`] picks the wire form.
///
/// It is serde-serializable because it is also the Raft state machine's response type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Frame {
    /// Status reply, `+OK`. CR and LF are written as spaces: they would end the line early.
    Simple(Cow<'static, str>),
    /// Error reply: the full text without the leading `-`, e.g. `"ERR syntax error"` or
    /// `"WRONGTYPE Operation against a key holding the wrong kind of value"`. CR and LF are
    /// written as spaces, as Redis' `addReplyErrorLength` callers ensure.
    Error(Cow<'static, str>),
    /// `:<n>`.
    Integer(i64),
    /// Binary-safe bulk string, `$<len>\r\n<data>\r\n`.
    Bulk(Bytes),
    /// Missing value: RESP2 `$-1`, RESP3 `_`.
    Null,
    /// Missing aggregate (e.g. `BLPOP` timeout, aborted `EXEC`): RESP2 `*-1`, RESP3 `_`.
    NullArray,
    /// `*<n>` followed by the elements.
    Array(Vec<Frame>),
    /// RESP3 `%<n>` of key/value pairs; RESP2 a flat `*<2n>` array `k1 v1 k2 v2 ...`.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `%<n>` of key/value pairs; RESP2 an array of 2-element arrays `[[k1, v1], ...]`
    /// (XREAD and XREADGROUP reply this way, one pair per stream).
    PairMap(Vec<(Frame, Frame)>),
    /// RESP3 `~<n>`; RESP2 `*<n>`.
    Set(Vec<Frame>),
    /// RESP3 `,<repr>`; RESP2 a bulk string of the same text. See [`Frame::encode`] for the
    /// textual form.
    Double(f64),
    /// RESP3 `#t` / `#f`; RESP2 `:1` / `:0`.
    Boolean(bool),
    /// RESP3 `=<len>\r\n<fmt>:<text>` (e.g. `txt`, `mkd`); RESP2 a plain bulk of `text`.
    Verbatim { format: [u8; 3], text: Bytes },
    /// Out-of-band message (pub/sub, invalidation): RESP3 `><n>`; RESP2 `*<n>`.
    Push(Vec<Frame>),
    /// Pairs that Redis 7 replies as RESP3 `*<n>` of 2-element arrays and as a flat RESP2
    /// `*<2n>` array (ZRANGE WITHSCORES, ZPOPMIN with a count, HRANDFIELD WITHVALUES).
    Pairs(Vec<(Frame, Frame)>),
}

impl Frame {
    /// `+OK`.
    pub fn ok() -> Frame {
        Frame::Simple(Cow::Borrowed("OK"))
    }

    /// A status reply, e.g. `Frame::simple("PONG")`.
    pub fn simple(s: impl Into<Cow<'static, str>>) -> Frame {
        Frame::Simple(s.into())
    }

    /// An error reply; `msg` is the full text without the leading `-` and must carry its own
    /// error code (`"ERR ..."`, `"WRONGTYPE ..."`).
    pub fn error(msg: impl Into<Cow<'static, str>>) -> Frame {
        Frame::Error(msg.into())
    }

    /// A bulk string without copying (`Bytes`, `Vec<u8>`, `String`, `&'static str`, ...).
    pub fn bulk(b: impl Into<Bytes>) -> Frame {
        Frame::Bulk(b.into())
    }

    /// A bulk string copied from a borrowed `str`.
    pub fn bulk_from_str(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// A bulk string copied from a borrowed slice.
    pub fn bulk_from_slice(b: &[u8]) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(b))
    }

    /// An array of bulk strings, e.g. the reply of `KEYS` or `LRANGE`.
    pub fn array_of_bulks<I>(items: I) -> Frame
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
    {
        Frame::Array(items.into_iter().map(|b| Frame::Bulk(b.into())).collect())
    }

    /// Whether this is an error reply (e.g. to count `errorstats` or abort a `MULTI`).
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }

    /// Whether this is `Null` or `NullArray`.
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullArray)
    }

    /// Appends the wire form of `self` for a client speaking `proto` to `out`.
    ///
    /// Doubles are written as Redis 7.0's `addReplyDouble` does (RESP3 `,<text>`, RESP2 bulk
    /// `<text>`): `nan`, `inf`, `-inf`, `0`/`-0`, otherwise `%.17g` (`1.5`, `3`,
    /// `0.10000000000000001`, `1e+20`, `9.9999999999999995e-08`), which reads back to the
    /// identical `f64`. (Redis 7.2 switched to the shortest round-trip form; the differential
    /// test runs against 7.0.)
    pub fn encode(&self, proto: Protocol, out: &mut BytesMut) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Frame::Simple(s) => put_line(out, b'+', s),
            Frame::Error(s) => put_line(out, b'-', s),
            Frame::Integer(n) => put_int_line(out, b':', *n),
            Frame::Bulk(b) => put_bulk(out, b),
            Frame::Null => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Frame::NullArray => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
            Frame::Array(items) => put_aggregate(out, proto, b'*', items),
            Frame::Set(items) => put_aggregate(out, proto, if resp3 { b'~' } else { b'*' }, items),
            Frame::Push(items) => put_aggregate(out, proto, if resp3 { b'>' } else { b'*' }, items),
            Frame::Map(pairs) => {
                if resp3 {
                    put_len_line(out, b'%', pairs.len());
                } else {
                    put_len_line(out, b'*', pairs.len().saturating_mul(2));
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Frame::Pairs(pairs) => {
                if resp3 {
                    put_len_line(out, b'*', pairs.len());
                } else {
                    put_len_line(out, b'*', pairs.len().saturating_mul(2));
                }
                for (k, v) in pairs {
                    if resp3 {
                        put_len_line(out, b'*', 2);
                    }
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Frame::PairMap(pairs) => {
                put_len_line(out, if resp3 { b'%' } else { b'*' }, pairs.len());
                for (k, v) in pairs {
                    if !resp3 {
                        put_len_line(out, b'*', 2);
                    }
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Frame::Double(d) => {
                let mut text = StackStr::new();
                write_reply_double(*d, &mut text);
                if resp3 {
                    out.reserve(text.len + 3);
                    out.put_u8(b',');
                    out.extend_from_slice(text.as_bytes());
                    out.extend_from_slice(b"\r\n");
                } else {
                    put_bulk(out, text.as_bytes());
                }
            }
            Frame::Boolean(b) => out.extend_from_slice(match (resp3, b) {
                (true, true) => b"#t\r\n",
                (true, false) => b"#f\r\n",
                (false, true) => b":1\r\n",
                (false, false) => b":0\r\n",
            }),
            Frame::Verbatim { format, text } => {
                if resp3 {
                    // The length covers the "fmt:" prefix too.
                    out.reserve(text.len() + 32);
                    put_len_line(out, b'=', text.len().saturating_add(4));
                    out.extend_from_slice(format);
                    out.put_u8(b':');
                    out.extend_from_slice(text);
                    out.extend_from_slice(b"\r\n");
                } else {
                    put_bulk(out, text);
                }
            }
        }
    }

    /// The wire form as a fresh buffer; convenient outside the hot path (tests, scripting).
    pub fn to_bytes(&self, proto: Protocol) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(proto, &mut out);
        out.freeze()
    }
}

impl From<i64> for Frame {
    fn from(n: i64) -> Frame {
        Frame::Integer(n)
    }
}

/// Counts and lengths; saturates at `i64::MAX`, which no real length reaches.
impl From<usize> for Frame {
    fn from(n: usize) -> Frame {
        Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Frame {
    fn from(b: bool) -> Frame {
        Frame::Boolean(b)
    }
}

impl From<f64> for Frame {
    fn from(d: f64) -> Frame {
        Frame::Double(d)
    }
}

impl From<Bytes> for Frame {
    fn from(b: Bytes) -> Frame {
        Frame::Bulk(b)
    }
}

/// `GET`-style replies: the value, or `Null` when absent.
impl From<Option<Bytes>> for Frame {
    fn from(b: Option<Bytes>) -> Frame {
        b.map_or(Frame::Null, Frame::Bulk)
    }
}

impl From<Vec<Frame>> for Frame {
    fn from(items: Vec<Frame>) -> Frame {
        Frame::Array(items)
    }
}

/// Redis' human-friendly text for a double, as `INCRBYFLOAT`/`HINCRBYFLOAT` store and reply.
///
/// Redis formats a `long double` with `%.17Lf` and trims trailing zeros, so it never uses an
/// exponent (`10.5`, `5000`, `3`, `100000000000000000000`, `0.0000001`). We compute in `f64`
/// and print its shortest round-trip decimal expansion without exponent (Rust's `Display`),
/// which gives the same text for every value a user typically produces; it can differ from
/// Redis where `long double` arithmetic rounds differently (Redis: `0.1 + 0.2` -> `0.3`, here
/// `0.30000000000000004`). Non-finite values print as `inf`, `-inf`, `nan` (callers reject
/// them before storing, as Redis does) and `-0` prints as `0`, like Redis' `ld2string`.
pub fn format_double(f: f64) -> String {
    if f.is_nan() {
        "nan".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else if f == 0.0 {
        "0".to_owned()
    } else {
        f.to_string()
    }
}

/// `<prefix><text>\r\n` with CR/LF in `text` replaced by spaces, so that a message built from
/// user input can never break the framing.
fn put_line(out: &mut BytesMut, prefix: u8, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 3);
    out.put_u8(prefix);
    if bytes.iter().any(|&b| b == b'\r' || b == b'\n') {
        out.extend(
            bytes
                .iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    } else {
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(b"\r\n");
}

fn put_aggregate(out: &mut BytesMut, proto: Protocol, prefix: u8, items: &[Frame]) {
    put_len_line(out, prefix, items.len());
    for item in items {
        item.encode(proto, out);
    }
}

fn put_bulk(out: &mut BytesMut, data: &[u8]) {
    // One reservation for header, payload and trailer: large values are copied once.
    out.reserve(data.len() + 24);
    put_len_line(out, b'$', data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// `<prefix><len>\r\n`.
fn put_len_line(out: &mut BytesMut, prefix: u8, len: usize) {
    let mut digits = DecimalBuf::new();
    out.reserve(24);
    out.put_u8(prefix);
    out.extend_from_slice(digits.format_u64(len as u64));
    out.extend_from_slice(b"\r\n");
}

/// `<prefix><n>\r\n`.
fn put_int_line(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut digits = DecimalBuf::new();
    out.reserve(24);
    out.put_u8(prefix);
    out.extend_from_slice(digits.format_i64(n));
    out.extend_from_slice(b"\r\n");
}

/// Decimal formatting of integers into a stack buffer (what `itoa` does, without the
/// dependency): the reply hot path writes lengths and integers constantly.
struct DecimalBuf {
    buf: [u8; 20],
}

impl DecimalBuf {
    fn new() -> DecimalBuf {
        DecimalBuf { buf: [0; 20] }
    }

    fn format_u64(&mut self, mut n: u64) -> &[u8] {
        // u64::MAX has 20 digits, exactly the buffer size.
        let mut i = self.buf.len();
        loop {
            i -= 1;
            self.buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        &self.buf[i..]
    }

    fn format_i64(&mut self, n: i64) -> &[u8] {
        if n >= 0 {
            return self.format_u64(n as u64);
        }
        // unsigned_abs handles i64::MIN, whose magnitude has 19 digits: room for the sign.
        let start = self.buf.len() - self.format_u64(n.unsigned_abs()).len() - 1;
        self.buf[start] = b'-';
        &self.buf[start..]
    }
}

/// A fixed-capacity string on the stack for number formatting. Capacity covers the longest
/// double text we produce (25 bytes: sign + up to 24 digits) and Rust's `{:e}` of any f64.
struct StackStr {
    buf: [u8; 48],
    len: usize,
}

impl StackStr {
    fn new() -> StackStr {
        StackStr {
            buf: [0; 48],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn push(&mut self, bytes: &[u8]) {
        // Callers stay within capacity (see the type's doc); truncating instead of panicking
        // keeps a logic error from taking the server down.
        let n = bytes.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    fn push_byte(&mut self, b: u8) {
        self.push(&[b]);
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.len() > self.buf.len() - self.len {
            return Err(fmt::Error);
        }
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Redis 7.0 `addReplyDouble`: the text of a double in `ZSCORE`-style and RESP3 double replies.
fn write_reply_double(d: f64, out: &mut StackStr) {
    if d.is_nan() {
        return out.push(b"nan");
    }
    if d.is_infinite() {
        return out.push(if d > 0.0 { b"inf" } else { b"-inf" });
    }
    if d == 0.0 {
        return out.push(if d.is_sign_negative() { b"-0" } else { b"0" });
    }
    // Redis 7.0's addReplyDouble prints `%.17g` in both protocols (7.2 switched to the
    // shortest round-trip form): 17 significant digits, trailing zeros dropped, exponential
    // form below 1e-4 or from 1e17 on.
    let mut sci = StackStr::new();
    if fmt::Write::write_fmt(&mut sci, format_args!("{:.16e}", d)).is_err() {
        // Cannot happen (at most 24 bytes); degrade, don't panic.
        return out.push(b"nan");
    }
    let sci = sci.as_bytes();
    let Some(e_pos) = sci.iter().position(|&b| b == b'e') else {
        return out.push(sci);
    };
    let exp: i32 = std::str::from_utf8(&sci[e_pos + 1..])
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    if !(-4..17).contains(&exp) {
        out.push(trim_fraction_zeros(&sci[..e_pos]));
        out.push_byte(b'e');
        out.push_byte(if exp < 0 { b'-' } else { b'+' });
        if exp.abs() < 10 {
            out.push_byte(b'0');
        }
        let mut digits = DecimalBuf::new();
        out.push(digits.format_i64(i64::from(exp.abs())));
    } else {
        let mut fixed = StackStr::new();
        let precision = (16 - exp) as usize;
        if fmt::Write::write_fmt(&mut fixed, format_args!("{:.*}", precision, d)).is_err() {
            return out.push(b"nan");
        }
        out.push(trim_fraction_zeros(fixed.as_bytes()));
    }
}

/// `%g` drops trailing zeros of the fraction, and the point if nothing is left after it.
fn trim_fraction_zeros(text: &[u8]) -> &[u8] {
    if !text.contains(&b'.') {
        return text;
    }
    let mut end = text.len();
    while end > 0 && text[end - 1] == b'0' {
        end -= 1;
    }
    if end > 0 && text[end - 1] == b'.' {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: &Frame, proto: Protocol) -> Vec<u8> {
        f.to_bytes(proto).to_vec()
    }

    fn both(f: &Frame) -> (Vec<u8>, Vec<u8>) {
        (enc(f, Protocol::Resp2), enc(f, Protocol::Resp3))
    }

    fn double_text(d: f64) -> String {
        let mut s = StackStr::new();
        write_reply_double(d, &mut s);
        String::from_utf8(s.as_bytes().to_vec()).expect("ascii")
    }

    /// Test-only RESP2/RESP3 reply decoder, to check that encodings read back.
    fn decode(input: &[u8]) -> (Frame, usize) {
        let line_end = input
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("line terminator");
        let line = std::str::from_utf8(&input[1..line_end]).expect("utf8 line");
        let after = line_end + 2;
        let num = || line.parse::<i64>().expect("number");
        let aggregate = |n: i64, per_item: usize| {
            let mut pos = after;
            let mut items = Vec::new();
            for _ in 0..(n as usize * per_item) {
                let (f, used) = decode(&input[pos..]);
                items.push(f);
                pos += used;
            }
            (items, pos)
        };
        match input[0] {
            b'+' => (Frame::simple(line.to_owned()), after),
            b'-' => (Frame::error(line.to_owned()), after),
            b':' => (Frame::Integer(num()), after),
            b'_' => (Frame::Null, after),
            b'#' => (Frame::Boolean(line == "t"), after),
            b',' => {
                let d = match line {
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    other => other.parse().expect("double"),
                };
                (Frame::Double(d), after)
            }
            b'$' if num() < 0 => (Frame::Null, after),
            b'$' => {
                let n = num() as usize;
                assert_eq!(&input[after + n..after + n + 2], b"\r\n");
                (
                    Frame::bulk_from_slice(&input[after..after + n]),
                    after + n + 2,
                )
            }
            b'=' => {
                let n = num() as usize;
                assert_eq!(input[after + 3], b':');
                let mut format = [0; 3];
                format.copy_from_slice(&input[after..after + 3]);
                let text = Bytes::copy_from_slice(&input[after + 4..after + n]);
                (Frame::Verbatim { format, text }, after + n + 2)
            }
            b'*' if num() < 0 => (Frame::NullArray, after),
            b'*' => {
                let (items, pos) = aggregate(num(), 1);
                (Frame::Array(items), pos)
            }
            b'~' => {
                let (items, pos) = aggregate(num(), 1);
                (Frame::Set(items), pos)
            }
            b'>' => {
                let (items, pos) = aggregate(num(), 1);
                (Frame::Push(items), pos)
            }
            b'%' => {
                let (items, pos) = aggregate(num(), 2);
                let mut it = items.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                (Frame::Map(pairs), pos)
            }
            other => panic!("unknown type byte {other}"),
        }
    }

    /// What a RESP2 client sees for `f`.
    fn downgrade(f: &Frame) -> Frame {
        match f {
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                Frame::Array(items.iter().map(downgrade).collect())
            }
            Frame::Map(pairs) => Frame::Array(
                pairs
                    .iter()
                    .flat_map(|(k, v)| [downgrade(k), downgrade(v)])
                    .collect(),
            ),
            Frame::PairMap(pairs) => Frame::Array(
                pairs
                    .iter()
                    .map(|(k, v)| Frame::Array(vec![downgrade(k), downgrade(v)]))
                    .collect(),
            ),
            Frame::Pairs(pairs) => Frame::Array(
                pairs
                    .iter()
                    .flat_map(|(k, v)| [downgrade(k), downgrade(v)])
                    .collect(),
            ),
            Frame::Double(d) => Frame::bulk(double_text(*d)),
            Frame::Boolean(b) => Frame::Integer(i64::from(*b)),
            Frame::Verbatim { text, .. } => Frame::Bulk(text.clone()),
            other => other.clone(),
        }
    }

    fn sample_frames() -> Vec<Frame> {
        vec![
            Frame::ok(),
            Frame::simple("PONG"),
            Frame::error("ERR syntax error"),
            Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value"),
            Frame::Integer(0),
            Frame::Integer(-1),
            Frame::Integer(i64::MAX),
            Frame::Integer(i64::MIN),
            Frame::bulk(""),
            Frame::bulk("hello"),
            Frame::bulk(Bytes::from_static(b"bin\r\n\0\xff\r\n")),
            Frame::Null,
            Frame::Array(vec![]),
            Frame::array_of_bulks(["a", "bb", ""]),
            Frame::Map(vec![
                (Frame::bulk("k"), Frame::Integer(1)),
                (Frame::simple("s"), Frame::Array(vec![Frame::Null])),
            ]),
            Frame::Set(vec![Frame::bulk("m1"), Frame::bulk("m2")]),
            Frame::Double(1.5),
            Frame::Double(-0.1),
            Frame::Double(1e20),
            Frame::Double(f64::INFINITY),
            Frame::Double(f64::NEG_INFINITY),
            Frame::Double(5e-324),
            Frame::Boolean(true),
            Frame::Boolean(false),
            Frame::Verbatim {
                format: *b"txt",
                text: Bytes::from_static(b"line1\r\nline2"),
            },
            Frame::Push(vec![
                Frame::bulk("message"),
                Frame::bulk("ch"),
                Frame::bulk("payload"),
            ]),
            Frame::Array(vec![
                Frame::Array(vec![Frame::Integer(1), Frame::Set(vec![])]),
                Frame::Map(vec![]),
                Frame::Double(2.0),
            ]),
        ]
    }

    #[test]
    fn round_trips_resp3() {
        for f in sample_frames() {
            let bytes = enc(&f, Protocol::Resp3);
            let (back, used) = decode(&bytes);
            assert_eq!(used, bytes.len(), "{f:?}");
            assert_eq!(back, f);
        }
    }

    #[test]
    fn round_trips_resp2_as_downgraded() {
        for f in sample_frames() {
            let bytes = enc(&f, Protocol::Resp2);
            let (back, used) = decode(&bytes);
            assert_eq!(used, bytes.len(), "{f:?}");
            assert_eq!(back, downgrade(&f));
        }
    }

    #[test]
    fn simple_and_error_exact_bytes() {
        assert_eq!(
            both(&Frame::ok()),
            (b"+OK\r\n".to_vec(), b"+OK\r\n".to_vec())
        );
        let e = Frame::error("ERR unknown command 'foo'");
        assert_eq!(enc(&e, Protocol::Resp2), b"-ERR unknown command 'foo'\r\n");
        assert_eq!(enc(&e, Protocol::Resp3), b"-ERR unknown command 'foo'\r\n");
        assert_eq!(enc(&Frame::simple(""), Protocol::Resp2), b"+\r\n");
    }

    #[test]
    fn line_breaks_in_simple_and_error_become_spaces() {
        assert_eq!(
            enc(&Frame::simple("a\r\nb\nc\rd"), Protocol::Resp2),
            b"+a  b c d\r\n"
        );
        assert_eq!(
            enc(&Frame::error("ERR bad\r\n+OK"), Protocol::Resp3),
            b"-ERR bad  +OK\r\n"
        );
    }

    #[test]
    fn integers_exact_bytes() {
        for (n, text) in [
            (0i64, "0"),
            (7, "7"),
            (-7, "-7"),
            (10, "10"),
            (1234567890, "1234567890"),
            (i64::MAX, "9223372036854775807"),
            (i64::MIN, "-9223372036854775808"),
        ] {
            let want = format!(":{text}\r\n").into_bytes();
            assert_eq!(both(&Frame::Integer(n)), (want.clone(), want));
        }
        assert_eq!(enc(&Frame::from(5usize), Protocol::Resp2), b":5\r\n");
        assert_eq!(
            enc(&Frame::from(usize::MAX), Protocol::Resp2),
            b":9223372036854775807\r\n"
        );
    }

    #[test]
    fn bulk_exact_bytes() {
        let want = b"$5\r\nhello\r\n".to_vec();
        assert_eq!(both(&Frame::bulk("hello")), (want.clone(), want));
        assert_eq!(enc(&Frame::bulk(""), Protocol::Resp2), b"$0\r\n\r\n");
        assert_eq!(
            enc(&Frame::bulk_from_slice(b"a\r\nb"), Protocol::Resp3),
            b"$4\r\na\r\nb\r\n"
        );
        let big = vec![b'x'; 100_000];
        let bytes = enc(&Frame::bulk(big.clone()), Protocol::Resp2);
        assert!(bytes.starts_with(b"$100000\r\nxxx"));
        assert_eq!(bytes.len(), "$100000\r\n".len() + 100_000 + 2);
    }

    #[test]
    fn nulls_exact_bytes() {
        assert_eq!(both(&Frame::Null), (b"$-1\r\n".to_vec(), b"_\r\n".to_vec()));
        assert_eq!(
            both(&Frame::NullArray),
            (b"*-1\r\n".to_vec(), b"_\r\n".to_vec())
        );
        assert_eq!(Frame::from(None::<Bytes>), Frame::Null);
        assert_eq!(
            Frame::from(Some(Bytes::from_static(b"v"))),
            Frame::bulk("v")
        );
    }

    #[test]
    fn aggregates_exact_bytes() {
        let arr = Frame::array_of_bulks(["a", "bc"]);
        let want = b"*2\r\n$1\r\na\r\n$2\r\nbc\r\n".to_vec();
        assert_eq!(both(&arr), (want.clone(), want));
        assert_eq!(
            both(&Frame::Array(vec![])),
            (b"*0\r\n".to_vec(), b"*0\r\n".to_vec())
        );

        let map = Frame::Map(vec![
            (Frame::bulk("a"), Frame::Integer(1)),
            (Frame::bulk("b"), Frame::Null),
        ]);
        assert_eq!(
            both(&map),
            (
                b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n".to_vec(),
                b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n".to_vec()
            )
        );
        let set = Frame::Set(vec![Frame::bulk("x")]);
        assert_eq!(
            both(&set),
            (b"*1\r\n$1\r\nx\r\n".to_vec(), b"~1\r\n$1\r\nx\r\n".to_vec())
        );
        let push = Frame::Push(vec![Frame::bulk("message"), Frame::Integer(3)]);
        assert_eq!(
            both(&push),
            (
                b"*2\r\n$7\r\nmessage\r\n:3\r\n".to_vec(),
                b">2\r\n$7\r\nmessage\r\n:3\r\n".to_vec()
            )
        );
        let nested = Frame::Array(vec![
            Frame::Array(vec![Frame::Boolean(true)]),
            Frame::NullArray,
        ]);
        assert_eq!(
            both(&nested),
            (
                b"*2\r\n*1\r\n:1\r\n*-1\r\n".to_vec(),
                b"*2\r\n*1\r\n#t\r\n_\r\n".to_vec()
            )
        );
    }

    #[test]
    fn boolean_exact_bytes() {
        assert_eq!(
            both(&Frame::Boolean(true)),
            (b":1\r\n".to_vec(), b"#t\r\n".to_vec())
        );
        assert_eq!(
            both(&Frame::from(false)),
            (b":0\r\n".to_vec(), b"#f\r\n".to_vec())
        );
    }

    #[test]
    fn verbatim_exact_bytes() {
        let v = Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"Some string"),
        };
        assert_eq!(
            both(&v),
            (
                b"$11\r\nSome string\r\n".to_vec(),
                b"=15\r\ntxt:Some string\r\n".to_vec()
            )
        );
        let empty = Frame::Verbatim {
            format: *b"mkd",
            text: Bytes::new(),
        };
        assert_eq!(
            both(&empty),
            (b"$0\r\n\r\n".to_vec(), b"=4\r\nmkd:\r\n".to_vec())
        );
    }

    #[test]
    fn double_exact_bytes() {
        assert_eq!(
            both(&Frame::Double(1.5)),
            (b"$3\r\n1.5\r\n".to_vec(), b",1.5\r\n".to_vec())
        );
        assert_eq!(
            both(&Frame::Double(3.0)),
            (b"$1\r\n3\r\n".to_vec(), b",3\r\n".to_vec())
        );
        assert_eq!(
            both(&Frame::Double(f64::INFINITY)),
            (b"$3\r\ninf\r\n".to_vec(), b",inf\r\n".to_vec())
        );
        assert_eq!(
            both(&Frame::Double(f64::NEG_INFINITY)),
            (b"$4\r\n-inf\r\n".to_vec(), b",-inf\r\n".to_vec())
        );
        assert_eq!(
            both(&Frame::Double(f64::NAN)),
            (b"$3\r\nnan\r\n".to_vec(), b",nan\r\n".to_vec())
        );
        assert_eq!(
            both(&Frame::Double(1e20)),
            (b"$5\r\n1e+20\r\n".to_vec(), b",1e+20\r\n".to_vec())
        );
    }

    #[test]
    fn double_text_matches_redis_7_0_percent_17g() {
        for (d, text) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (3.0, "3"),
            (-42.0, "-42"),
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (1.1, "1.1000000000000001"),
            (-2.25, "-2.25"),
            (10.5, "10.5"),
            (123456.789, "123456.789"),
            (0.0001, "0.0001"),
            (0.0012345678, "0.0012345678000000001"),
            (1e-7, "9.9999999999999995e-08"),
            (1.5e-7, "1.4999999999999999e-07"),
            (1.2345678e-5, "1.2345677999999999e-05"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (4611686018427387904.0, "4.6116860184273879e+18"),
            (9223372036854775808.0, "9.2233720368547758e+18"),
            (1e19, "1e+19"),
            (1.2345e19, "1.2345e+19"),
            (1e20, "1e+20"),
            (1e100, "1e+100"),
            (1e300, "1.0000000000000001e+300"),
            (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ] {
            assert_eq!(double_text(d), text, "{d:e}");
        }
    }

    #[test]
    fn double_text_reads_back_exactly() {
        // Every finite double's reply text must parse back to the same value.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = f64::from_bits(x);
            if !d.is_finite() {
                continue;
            }
            let text = double_text(d);
            let back: f64 = text.parse().expect("parses");
            assert_eq!(back.to_bits(), d.to_bits(), "{text}");
            assert!(text.len() <= 25, "{text}");
        }
    }

    #[test]
    fn format_double_is_human_friendly() {
        for (d, text) in [
            (10.5, "10.5"),
            (5.0e3, "5000"),
            (3.0, "3"),
            (-3.0, "-3"),
            (0.1, "0.1"),
            (1e20, "100000000000000000000"),
            (1e-7, "0.0000001"),
            (-0.0, "0"),
            (0.0, "0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ] {
            assert_eq!(format_double(d), text);
        }
    }

    #[test]
    fn helpers() {
        assert!(Frame::error("ERR x").is_error());
        assert!(!Frame::ok().is_error());
        assert!(Frame::Null.is_null() && Frame::NullArray.is_null());
        assert_eq!(Frame::from(7i64), Frame::Integer(7));
        assert_eq!(Frame::from(2.5), Frame::Double(2.5));
        assert_eq!(Frame::bulk_from_str("s"), Frame::bulk("s"));
        assert_eq!(
            Frame::from(vec![Frame::ok()]),
            Frame::Array(vec![Frame::simple("OK")])
        );
        assert_eq!(Protocol::default(), Protocol::Resp2);
        assert_eq!(Protocol::from_version(3), Some(Protocol::Resp3));
        assert_eq!(Protocol::from_version(2).map(Protocol::version), Some(2));
        assert_eq!(Protocol::from_version(4), None);
    }

    #[test]
    fn encode_appends() {
        let mut out = BytesMut::from(&b"prev"[..]);
        Frame::Integer(1).encode(Protocol::Resp2, &mut out);
        Frame::ok().encode(Protocol::Resp2, &mut out);
        assert_eq!(&out[..], b"prev:1\r\n+OK\r\n");
    }

    #[test]
    fn pair_map_is_a_map_in_resp3_and_pairs_in_resp2() {
        let f = Frame::PairMap(vec![(
            Frame::bulk("k"),
            Frame::Array(vec![Frame::Integer(1)]),
        )]);
        assert_eq!(
            enc(&f, Protocol::Resp3),
            b"%1\r\n$1\r\nk\r\n*1\r\n:1\r\n".to_vec()
        );
        assert_eq!(
            enc(&f, Protocol::Resp2),
            b"*1\r\n*2\r\n$1\r\nk\r\n*1\r\n:1\r\n".to_vec()
        );
    }
}
