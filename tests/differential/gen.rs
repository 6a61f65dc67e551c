//! Seeded random command streams, one generator table per family.
//!
//! Keys come from small pools so that commands keep hitting existing keys, keys of another
//! type (WRONGTYPE) and missing keys. Each family mostly uses its own pool and sometimes the
//! shared pool `k0..k3`, which every family writes: that is where wrong types meet.
//! HyperLogLog keys (`p*`) are only ever written by HLL commands: their raw string bytes are
//! Redis' internal sparse/dense encoding, which GET/APPEND on them would compare byte for byte.

/// SplitMix64: tiny, stable across crate versions, so a seed reproduces forever.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `pct`%.
    pub fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub type Argv = Vec<Vec<u8>>;

/// Builds an argv from anything byte-like.
macro_rules! argv {
    ($($a:expr),* $(,)?) => { vec![$(AsRef::<[u8]>::as_ref(&$a).to_vec()),*] };
}

/// One generator: a command name (only used if raftrocks knows it), a weight, the builder.
pub struct CmdGen {
    pub name: &'static str,
    pub weight: usize,
    pub build: fn(&mut G) -> Argv,
}

/// Generator state: the random source and the key pool of the family being generated.
pub struct G {
    pub rng: Rng,
    pool: &'static str,
}

const SHARED: [&str; 4] = ["k0", "k1", "k2", "k3"];

impl G {
    pub fn new(seed: u64) -> G {
        G {
            rng: Rng::new(seed),
            pool: "s",
        }
    }

    pub fn set_pool(&mut self, pool: &'static str) {
        self.pool = pool;
    }

    /// A key: mostly the family's pool (3 keys), sometimes shared, rarely odd ones.
    pub fn key(&mut self) -> Vec<u8> {
        let r = self.rng.below(100);
        if r < 70 {
            format!("{}{}", self.pool, self.rng.below(3)).into_bytes()
        } else if r < 95 {
            self.rng.pick(&SHARED).as_bytes().to_vec()
        } else if r < 98 {
            format!("{}-missing", self.pool).into_bytes()
        } else {
            b"k\x00\xff\r\nbin".to_vec()
        }
    }

    /// A key of any family except HyperLogLog (for generic commands that move values).
    pub fn any_key(&mut self) -> Vec<u8> {
        const POOLS: [&str; 7] = ["s", "h", "l", "t", "z", "x", "b"];
        let saved = self.pool;
        self.pool = *self.rng.pick(&POOLS);
        let k = self.key();
        self.pool = saved;
        k
    }

    pub fn value(&mut self) -> Vec<u8> {
        const VALUES: [&str; 16] = [
            "",
            "0",
            "1",
            "-1",
            "10",
            "3.14",
            "abc",
            "hello world",
            "9223372036854775807",
            "-9223372036854775808",
            "1e3",
            " 1",
            "inf",
            "nan",
            "007",
            "-0",
        ];
        match self.rng.below(20) {
            0 => b"\x00\xff\r\n\x01binary".to_vec(),
            1 => vec![b'x'; self.rng.below(200)],
            2 => self.rng.range(-1000, 1000).to_string().into_bytes(),
            _ => self.rng.pick(&VALUES).as_bytes().to_vec(),
        }
    }

    pub fn member(&mut self) -> Vec<u8> {
        const M: [&str; 9] = ["a", "b", "c", "d", "e", "1", "2", "10", "-3"];
        match self.rng.below(30) {
            0 => Vec::new(),
            1 => b"\x00\xff m".to_vec(),
            _ => self.rng.pick(&M).as_bytes().to_vec(),
        }
    }

    /// An integer argument, usually valid, sometimes out of range or not a number.
    pub fn int(&mut self) -> Vec<u8> {
        const I: [&str; 10] = [
            "0",
            "1",
            "-1",
            "abc",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "1.5",
            "",
            " 2",
        ];
        if self.rng.chance(70) {
            self.rng.range(-20, 20).to_string().into_bytes()
        } else {
            self.rng.pick(&I).as_bytes().to_vec()
        }
    }

    /// A list/range index: small, negative, out of range, huge.
    pub fn index(&mut self) -> Vec<u8> {
        const I: [&str; 6] = [
            "1000000",
            "-1000000",
            "9223372036854775807",
            "-9223372036854775808",
            "x",
            "0",
        ];
        if self.rng.chance(85) {
            self.rng.range(-8, 8).to_string().into_bytes()
        } else {
            self.rng.pick(&I).as_bytes().to_vec()
        }
    }

    /// A count argument (positive mostly; 0, negative, huge, bad).
    pub fn count(&mut self) -> Vec<u8> {
        const C: [&str; 6] = ["0", "-1", "-5", "9223372036854775807", "abc", "100"];
        if self.rng.chance(80) {
            self.rng.range(1, 5).to_string().into_bytes()
        } else {
            self.rng.pick(&C).as_bytes().to_vec()
        }
    }

    pub fn float(&mut self) -> Vec<u8> {
        // 0.1, 1.1, 3.3e-7, 1e20: not exact in binary, so replies show the formatting
        // (Redis 7.0 prints `%.17g`: 0.10000000000000001).
        const F: [&str; 18] = [
            "0", "1", "-1", "2.5", "-0.5", "1e3", "inf", "-inf", "+inf", "nan", "abc", "1e400",
            "0x10", "", "0.1", "1.1", "3.3e-7", "1e20",
        ];
        if self.rng.chance(50) {
            self.rng.range(-10, 10).to_string().into_bytes()
        } else {
            self.rng.pick(&F).as_bytes().to_vec()
        }
    }

    /// A score bound for ZRANGEBYSCORE and friends.
    pub fn score_bound(&mut self) -> Vec<u8> {
        let f = self.float();
        if self.rng.chance(20) {
            let mut v = b"(".to_vec();
            v.extend(f);
            v
        } else {
            f
        }
    }

    /// A lex bound for ZRANGEBYLEX and friends.
    pub fn lex_bound(&mut self) -> Vec<u8> {
        match self.rng.below(8) {
            0 => b"-".to_vec(),
            1 => b"+".to_vec(),
            2 => b"a".to_vec(),
            3 => {
                let mut v = b"(".to_vec();
                v.extend(self.member());
                v
            }
            _ => {
                let mut v = b"[".to_vec();
                v.extend(self.member());
                v
            }
        }
    }

    /// A stream id: explicit `ms-seq` (small numbers so ids collide and go backwards),
    /// sometimes `ms-*`, `ms` only, `0-0` or garbage. Never `*` (the server's clock).
    pub fn stream_id(&mut self) -> Vec<u8> {
        let ms = self.rng.range(0, 30);
        match self.rng.below(12) {
            0 => format!("{ms}-*").into_bytes(),
            1 => ms.to_string().into_bytes(),
            2 => b"0-0".to_vec(),
            3 => b"abc".to_vec(),
            _ => format!("{ms}-{}", self.rng.range(0, 3)).into_bytes(),
        }
    }

    pub fn stream_bound(&mut self) -> Vec<u8> {
        match self.rng.below(8) {
            0 => b"-".to_vec(),
            1 => b"+".to_vec(),
            2 => format!("({}-{}", self.rng.range(0, 30), self.rng.range(0, 3)).into_bytes(),
            3 => self.rng.range(0, 30).to_string().into_bytes(),
            _ => format!("{}-{}", self.rng.range(0, 30), self.rng.range(0, 3)).into_bytes(),
        }
    }

    /// 1..=n keys of the current family.
    pub fn keys(&mut self, n: usize) -> Vec<Vec<u8>> {
        let k = 1 + self.rng.below(n);
        (0..k).map(|_| self.key()).collect()
    }

    /// A TTL in seconds long enough never to expire during a run (expiry timing would make
    /// the two servers disagree), or an invalid one.
    pub fn ttl_secs(&mut self) -> Vec<u8> {
        match self.rng.below(10) {
            0 => b"0".to_vec(),
            1 => b"-5".to_vec(),
            2 => b"abc".to_vec(),
            _ => self.rng.range(1000, 100_000).to_string().into_bytes(),
        }
    }

    pub fn ttl_ms(&mut self) -> Vec<u8> {
        match self.rng.below(10) {
            0 => b"0".to_vec(),
            1 => b"9223372036854775807".to_vec(),
            _ => self
                .rng
                .range(1_000_000, 100_000_000)
                .to_string()
                .into_bytes(),
        }
    }
}

macro_rules! gens {
    ($($name:literal $weight:literal $build:ident),* $(,)?) => {
        &[$(CmdGen { name: $name, weight: $weight, build: $build }),*]
    };
}

// ------------------------------------------------------------------------- strings

fn set(g: &mut G) -> Argv {
    let mut a = argv!["SET", g.key(), g.value()];
    for _ in 0..g.rng.below(3) {
        match g.rng.below(9) {
            0 => a.push(b"NX".to_vec()),
            1 => a.push(b"XX".to_vec()),
            2 => a.push(b"GET".to_vec()),
            3 => a.extend(argv!["EX", g.ttl_secs()]),
            4 => a.extend(argv!["PX", g.ttl_ms()]),
            5 => a.push(b"KEEPTTL".to_vec()),
            // Not in the past: Redis 7.0 stores such a key and counts it in DBSIZE until
            // its active expiry cycle deletes it, a timing artifact.
            6 => a.extend(argv![
                *g.rng.pick(&["EXAT", "PXAT"]),
                g.rng
                    .range(4_000_000_000_000, 5_000_000_000_000)
                    .to_string()
            ]),
            7 => a.extend(argv!["EX", g.int()]),
            _ => a.push(b"BOGUS".to_vec()),
        }
    }
    a
}
fn get(g: &mut G) -> Argv {
    argv!["GET", g.key()]
}
fn getset(g: &mut G) -> Argv {
    argv!["GETSET", g.key(), g.value()]
}
fn getdel(g: &mut G) -> Argv {
    argv!["GETDEL", g.key()]
}
fn getex(g: &mut G) -> Argv {
    let mut a = argv!["GETEX", g.key()];
    match g.rng.below(5) {
        0 => a.extend(argv!["EX", g.ttl_secs()]),
        1 => a.extend(argv!["PX", g.ttl_ms()]),
        2 => a.push(b"PERSIST".to_vec()),
        3 => a.push(b"KEEPTTL".to_vec()),
        _ => {}
    }
    a
}
fn setnx(g: &mut G) -> Argv {
    argv!["SETNX", g.key(), g.value()]
}
fn setex(g: &mut G) -> Argv {
    argv!["SETEX", g.key(), g.ttl_secs(), g.value()]
}
fn psetex(g: &mut G) -> Argv {
    argv!["PSETEX", g.key(), g.ttl_ms(), g.value()]
}
fn mset(g: &mut G) -> Argv {
    let mut a = argv!["MSET"];
    for _ in 0..1 + g.rng.below(3) {
        a.extend(argv![g.key(), g.value()]);
    }
    if g.rng.chance(5) {
        a.push(b"odd".to_vec());
    }
    a
}
fn msetnx(g: &mut G) -> Argv {
    let mut a = mset(g);
    a[0] = b"MSETNX".to_vec();
    a
}
fn mget(g: &mut G) -> Argv {
    let mut a = argv!["MGET"];
    a.extend(g.keys(4));
    a
}
fn append(g: &mut G) -> Argv {
    argv!["APPEND", g.key(), g.value()]
}
fn strlen(g: &mut G) -> Argv {
    argv!["STRLEN", g.key()]
}
fn incr(g: &mut G) -> Argv {
    argv![*g.rng.pick(&["INCR", "DECR"]), g.key()]
}
fn incrby(g: &mut G) -> Argv {
    argv![*g.rng.pick(&["INCRBY", "DECRBY"]), g.key(), g.int()]
}
fn incrbyfloat(g: &mut G) -> Argv {
    argv!["INCRBYFLOAT", g.key(), g.float()]
}
fn getrange(g: &mut G) -> Argv {
    argv![
        *g.rng.pick(&["GETRANGE", "SUBSTR"]),
        g.key(),
        g.index(),
        g.index()
    ]
}
fn setrange(g: &mut G) -> Argv {
    // Small offsets only: a valid huge offset makes both servers allocate it.
    let off = match g.rng.below(10) {
        0 => b"-1".to_vec(),
        1 => b"536870912".to_vec(),
        2 => b"x".to_vec(),
        _ => g.rng.range(0, 40).to_string().into_bytes(),
    };
    argv!["SETRANGE", g.key(), off, g.value()]
}
fn lcs(g: &mut G) -> Argv {
    let mut a = argv!["LCS", g.key(), g.key()];
    match g.rng.below(4) {
        0 => a.push(b"LEN".to_vec()),
        1 => a.extend(argv!["IDX", "WITHMATCHLEN"]),
        2 => a.extend(argv!["IDX", "MINMATCHLEN", g.int()]),
        _ => {}
    }
    a
}

pub static STRINGS: &[CmdGen] = gens![
    "set" 8 set, "get" 6 get, "getset" 1 getset, "getdel" 1 getdel, "getex" 1 getex,
    "setnx" 1 setnx, "setex" 1 setex, "psetex" 1 psetex, "mset" 2 mset, "msetnx" 1 msetnx,
    "mget" 2 mget, "append" 2 append, "strlen" 1 strlen, "incr" 3 incr, "incrby" 2 incrby,
    "incrbyfloat" 2 incrbyfloat, "getrange" 2 getrange, "setrange" 2 setrange, "lcs" 1 lcs,
];

// ------------------------------------------------------------------------- keys

fn del(g: &mut G) -> Argv {
    let mut a = argv![*g.rng.pick(&["DEL", "UNLINK"])];
    for _ in 0..1 + g.rng.below(2) {
        a.push(g.any_key());
    }
    a
}
fn exists(g: &mut G) -> Argv {
    let mut a = argv![*g.rng.pick(&["EXISTS", "TOUCH"])];
    for _ in 0..1 + g.rng.below(3) {
        a.push(g.any_key());
    }
    a
}
fn type_(g: &mut G) -> Argv {
    let k = if g.rng.chance(10) {
        format!("p{}", g.rng.below(3)).into_bytes()
    } else {
        g.any_key()
    };
    argv!["TYPE", k]
}
fn expire(g: &mut G) -> Argv {
    let (cmd, t) = match g.rng.below(6) {
        0 => ("PEXPIRE", g.ttl_ms()),
        1 => ("EXPIREAT", b"1".to_vec()),
        2 => (
            "PEXPIREAT",
            g.rng
                .range(4_000_000_000_000, 5_000_000_000_000)
                .to_string()
                .into_bytes(),
        ),
        3 => ("EXPIRE", b"-1".to_vec()),
        _ => ("EXPIRE", g.ttl_secs()),
    };
    let mut a = argv![cmd, g.any_key(), t];
    if g.rng.chance(30) {
        a.push(
            g.rng
                .pick(&["NX", "XX", "GT", "LT", "nx", "BAD"])
                .as_bytes()
                .to_vec(),
        );
    }
    if g.rng.chance(5) {
        a.push(b"XX".to_vec());
    }
    a
}
fn ttl(g: &mut G) -> Argv {
    argv![
        *g.rng.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]),
        g.any_key()
    ]
}
fn persist(g: &mut G) -> Argv {
    argv!["PERSIST", g.any_key()]
}
fn rename(g: &mut G) -> Argv {
    argv![
        *g.rng.pick(&["RENAME", "RENAMENX"]),
        g.any_key(),
        g.any_key()
    ]
}
fn copy(g: &mut G) -> Argv {
    let mut a = argv!["COPY", g.any_key(), g.any_key()];
    if g.rng.chance(40) {
        a.push(b"REPLACE".to_vec());
    }
    if g.rng.chance(30) {
        a.extend(argv!["DB", *g.rng.pick(&["0", "1", "16", "-1", "x"])]);
    }
    a
}
fn move_(g: &mut G) -> Argv {
    argv![
        "MOVE",
        g.any_key(),
        *g.rng.pick(&["1", "1", "0", "16", "x"])
    ]
}
fn keys(g: &mut G) -> Argv {
    argv![
        "KEYS",
        *g.rng.pick(&["*", "k*", "s?", "[hl]*", "*1", "\\*"])
    ]
}
fn dbsize(_: &mut G) -> Argv {
    argv!["DBSIZE"]
}
fn swapdb(g: &mut G) -> Argv {
    argv![
        "SWAPDB",
        *g.rng.pick(&["0", "1"]),
        *g.rng.pick(&["1", "0", "x"])
    ]
}
fn randomkey(_: &mut G) -> Argv {
    argv!["RANDOMKEY"]
}
fn object(g: &mut G) -> Argv {
    argv![
        "OBJECT",
        *g.rng
            .pick(&["ENCODING", "REFCOUNT", "FREQ", "IDLETIME", "NOPE"]),
        g.any_key()
    ]
}

pub static KEYS: &[CmdGen] = gens![
    "del" 4 del, "exists" 3 exists, "type" 3 type_, "expire" 3 expire, "ttl" 3 ttl,
    "persist" 1 persist, "rename" 3 rename, "copy" 2 copy, "move" 1 move_, "keys" 2 keys,
    "dbsize" 1 dbsize, "swapdb" 1 swapdb, "randomkey" 1 randomkey, "object" 1 object,
];

// ------------------------------------------------------------------------- hashes

fn hset(g: &mut G) -> Argv {
    let mut a = argv![*g.rng.pick(&["HSET", "HMSET"]), g.key()];
    for _ in 0..1 + g.rng.below(3) {
        a.extend(argv![g.member(), g.value()]);
    }
    if g.rng.chance(3) {
        a.pop();
    }
    a
}
fn hsetnx(g: &mut G) -> Argv {
    argv!["HSETNX", g.key(), g.member(), g.value()]
}
fn hget(g: &mut G) -> Argv {
    argv![
        *g.rng.pick(&["HGET", "HEXISTS", "HSTRLEN"]),
        g.key(),
        g.member()
    ]
}
fn hmget(g: &mut G) -> Argv {
    let mut a = argv!["HMGET", g.key()];
    for _ in 0..1 + g.rng.below(3) {
        a.push(g.member());
    }
    a
}
fn hdel(g: &mut G) -> Argv {
    let mut a = argv!["HDEL", g.key()];
    for _ in 0..1 + g.rng.below(2) {
        a.push(g.member());
    }
    a
}
fn hwhole(g: &mut G) -> Argv {
    argv![*g.rng.pick(&["HLEN", "HGETALL", "HKEYS", "HVALS"]), g.key()]
}
fn hincrby(g: &mut G) -> Argv {
    argv!["HINCRBY", g.key(), g.member(), g.int()]
}
fn hincrbyfloat(g: &mut G) -> Argv {
    argv!["HINCRBYFLOAT", g.key(), g.member(), g.float()]
}
fn hrandfield(g: &mut G) -> Argv {
    let mut a = argv!["HRANDFIELD", g.key()];
    if g.rng.chance(70) {
        a.push(g.int());
        if g.rng.chance(50) {
            a.push(b"WITHVALUES".to_vec());
        }
    }
    a
}

pub static HASH: &[CmdGen] = gens![
    "hset" 6 hset, "hsetnx" 1 hsetnx, "hget" 4 hget, "hmget" 2 hmget, "hdel" 3 hdel,
    "hgetall" 4 hwhole, "hincrby" 2 hincrby, "hincrbyfloat" 2 hincrbyfloat,
    "hrandfield" 1 hrandfield,
];

// ------------------------------------------------------------------------- lists

fn push(g: &mut G) -> Argv {
    let mut a = argv![
        *g.rng.pick(&["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]),
        g.key()
    ];
    for _ in 0..1 + g.rng.below(3) {
        a.push(g.member());
    }
    a
}
fn pop(g: &mut G) -> Argv {
    let mut a = argv![*g.rng.pick(&["LPOP", "RPOP"]), g.key()];
    if g.rng.chance(40) {
        a.push(g.count());
    }
    a
}
fn llen(g: &mut G) -> Argv {
    argv!["LLEN", g.key()]
}
fn lrange(g: &mut G) -> Argv {
    argv!["LRANGE", g.key(), g.index(), g.index()]
}
fn lindex(g: &mut G) -> Argv {
    argv!["LINDEX", g.key(), g.index()]
}
fn lset(g: &mut G) -> Argv {
    argv!["LSET", g.key(), g.index(), g.member()]
}
fn linsert(g: &mut G) -> Argv {
    argv![
        "LINSERT",
        g.key(),
        *g.rng.pick(&["BEFORE", "AFTER", "after", "MIDDLE"]),
        g.member(),
        g.member()
    ]
}
fn lrem(g: &mut G) -> Argv {
    argv!["LREM", g.key(), g.index(), g.member()]
}
fn ltrim(g: &mut G) -> Argv {
    argv!["LTRIM", g.key(), g.index(), g.index()]
}
fn lpos(g: &mut G) -> Argv {
    let mut a = argv!["LPOS", g.key(), g.member()];
    for _ in 0..g.rng.below(3) {
        match g.rng.below(3) {
            0 => a.extend(argv!["RANK", g.index()]),
            1 => a.extend(argv!["COUNT", g.int()]),
            _ => a.extend(argv!["MAXLEN", g.int()]),
        }
    }
    a
}
fn lmove(g: &mut G) -> Argv {
    if g.rng.chance(30) {
        return argv!["RPOPLPUSH", g.key(), g.key()];
    }
    argv![
        "LMOVE",
        g.key(),
        g.key(),
        *g.rng.pick(&["LEFT", "RIGHT"]),
        *g.rng.pick(&["LEFT", "RIGHT", "UP"])
    ]
}
fn lmpop(g: &mut G) -> Argv {
    let ks = g.keys(3);
    let mut a = argv!["LMPOP", ks.len().to_string()];
    a.extend(ks);
    a.push(g.rng.pick(&["LEFT", "RIGHT"]).as_bytes().to_vec());
    if g.rng.chance(50) {
        a.extend(argv!["COUNT", g.count()]);
    }
    a
}

pub static LIST: &[CmdGen] = gens![
    "lpush" 6 push, "lpop" 3 pop, "llen" 1 llen, "lrange" 4 lrange, "lindex" 2 lindex,
    "lset" 2 lset, "linsert" 2 linsert, "lrem" 2 lrem, "ltrim" 1 ltrim, "lpos" 2 lpos,
    "lmove" 2 lmove, "lmpop" 1 lmpop, "sort" 2 sort, "sort" 1 sort_weight,
];

// ------------------------------------------------------------------------- sets

fn sadd(g: &mut G) -> Argv {
    let mut a = argv![*g.rng.pick(&["SADD", "SADD", "SREM"]), g.key()];
    for _ in 0..1 + g.rng.below(4) {
        a.push(g.member());
    }
    a
}
fn sone(g: &mut G) -> Argv {
    argv![*g.rng.pick(&["SCARD", "SMEMBERS"]), g.key()]
}
fn sismember(g: &mut G) -> Argv {
    argv!["SISMEMBER", g.key(), g.member()]
}
fn smismember(g: &mut G) -> Argv {
    let mut a = argv!["SMISMEMBER", g.key()];
    for _ in 0..1 + g.rng.below(3) {
        a.push(g.member());
    }
    a
}
fn salgebra(g: &mut G) -> Argv {
    let mut a = argv![*g.rng.pick(&["SUNION", "SINTER", "SDIFF"])];
    a.extend(g.keys(3));
    a
}
fn salgebra_store(g: &mut G) -> Argv {
    let mut a = argv![
        *g.rng.pick(&["SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"]),
        g.key()
    ];
    a.extend(g.keys(3));
    a
}
fn sintercard(g: &mut G) -> Argv {
    let ks = g.keys(3);
    let mut a = argv!["SINTERCARD", ks.len().to_string()];
    a.extend(ks);
    if g.rng.chance(40) {
        a.extend(argv!["LIMIT", g.int()]);
    }
    a
}
fn smove(g: &mut G) -> Argv {
    argv!["SMOVE", g.key(), g.key(), g.member()]
}
fn srandmember(g: &mut G) -> Argv {
    let mut a = argv!["SRANDMEMBER", g.key()];
    if g.rng.chance(70) {
        a.push(g.int());
    }
    a
}

pub static SET: &[CmdGen] = gens![
    "sadd" 6 sadd, "scard" 3 sone, "sismember" 2 sismember, "smismember" 1 smismember,
    "sunion" 2 salgebra, "sunionstore" 2 salgebra_store, "sintercard" 1 sintercard,
    "smove" 1 smove, "srandmember" 1 srandmember, "sort" 2 sort, "sort" 1 sort_weight,
];

// ------------------------------------------------------------------------- sorted sets

/// Lex ranges are only defined by Redis when every member has the same score (with mixed
/// scores the answer depends on its skiplist's random levels), so lex commands use their own
/// keys, which only ever get score 0.
fn lex_key(g: &mut G) -> Vec<u8> {
    g.rng.pick(&["zlex0", "zlex1"]).as_bytes().to_vec()
}

fn zadd(g: &mut G) -> Argv {
    if g.rng.chance(25) {
        let mut a = argv!["ZADD", lex_key(g)];
        for _ in 0..1 + g.rng.below(3) {
            a.extend(argv!["0", g.member()]);
        }
        return a;
    }
    let mut a = argv!["ZADD", g.key()];
    for _ in 0..g.rng.below(2) {
        a.push(
            g.rng
                .pick(&["NX", "XX", "GT", "LT", "CH", "INCR"])
                .as_bytes()
                .to_vec(),
        );
    }
    for _ in 0..1 + g.rng.below(3) {
        a.extend(argv![g.float(), g.member()]);
    }
    a
}
fn zincrby(g: &mut G) -> Argv {
    argv!["ZINCRBY", g.key(), g.float(), g.member()]
}
fn zscore(g: &mut G) -> Argv {
    argv![
        *g.rng.pick(&["ZSCORE", "ZRANK", "ZREVRANK"]),
        g.key(),
        g.member()
    ]
}
fn zmscore(g: &mut G) -> Argv {
    let mut a = argv!["ZMSCORE", g.key()];
    for _ in 0..1 + g.rng.below(3) {
        a.push(g.member());
    }
    a
}
fn zcard(g: &mut G) -> Argv {
    argv!["ZCARD", g.key()]
}
fn zcount(g: &mut G) -> Argv {
    if g.rng.chance(50) {
        argv!["ZLEXCOUNT", lex_key(g), g.lex_bound(), g.lex_bound()]
    } else {
        argv!["ZCOUNT", g.key(), g.score_bound(), g.score_bound()]
    }
}
fn zrange(g: &mut G) -> Argv {
    let mode = g.rng.below(3);
    let key = if mode == 2 { lex_key(g) } else { g.key() };
    let mut a = argv!["ZRANGE", key];
    match mode {
        0 => a.extend(argv![g.index(), g.index()]),
        1 => a.extend(argv![g.score_bound(), g.score_bound(), "BYSCORE"]),
        _ => a.extend(argv![g.lex_bound(), g.lex_bound(), "BYLEX"]),
    }
    if g.rng.chance(30) {
        a.push(b"REV".to_vec());
    }
    if g.rng.chance(30) {
        a.extend(argv!["LIMIT", g.index(), g.index()]);
    }
    if mode != 2 && g.rng.chance(40) {
        a.push(b"WITHSCORES".to_vec());
    }
    a
}
fn zrange_legacy(g: &mut G) -> Argv {
    let mut a = match g.rng.below(5) {
        0 => argv!["ZREVRANGE", g.key(), g.index(), g.index()],
        1 => argv!["ZRANGEBYSCORE", g.key(), g.score_bound(), g.score_bound()],
        2 => argv![
            "ZREVRANGEBYSCORE",
            g.key(),
            g.score_bound(),
            g.score_bound()
        ],
        3 => argv!["ZRANGEBYLEX", lex_key(g), g.lex_bound(), g.lex_bound()],
        _ => argv!["ZREVRANGEBYLEX", lex_key(g), g.lex_bound(), g.lex_bound()],
    };
    if g.rng.chance(30) && !a[0].ends_with(b"LEX") {
        a.push(b"WITHSCORES".to_vec());
    }
    if g.rng.chance(20) && a[0] != b"ZREVRANGE" {
        a.extend(argv!["LIMIT", g.index(), g.index()]);
    }
    a
}
fn zrem(g: &mut G) -> Argv {
    match g.rng.below(4) {
        0 => argv!["ZREMRANGEBYRANK", g.key(), g.index(), g.index()],
        1 => argv![
            "ZREMRANGEBYSCORE",
            g.key(),
            g.score_bound(),
            g.score_bound()
        ],
        2 => argv!["ZREMRANGEBYLEX", lex_key(g), g.lex_bound(), g.lex_bound()],
        _ => {
            let mut a = argv!["ZREM", g.key()];
            for _ in 0..1 + g.rng.below(2) {
                a.push(g.member());
            }
            a
        }
    }
}
fn zpop(g: &mut G) -> Argv {
    let mut a = argv![*g.rng.pick(&["ZPOPMIN", "ZPOPMAX"]), g.key()];
    if g.rng.chance(50) {
        a.push(g.count());
    }
    a
}
fn zalgebra(g: &mut G) -> Argv {
    let store = g.rng.chance(50);
    let op = *g.rng.pick(&["UNION", "INTER", "DIFF"]);
    let ks = g.keys(3);
    let mut a = if store {
        argv![format!("Z{op}STORE"), g.key(), ks.len().to_string()]
    } else {
        argv![format!("Z{op}"), ks.len().to_string()]
    };
    let n = ks.len();
    a.extend(ks);
    if op != "DIFF" {
        if g.rng.chance(30) {
            a.push(b"WEIGHTS".to_vec());
            for _ in 0..n {
                a.push(g.float());
            }
        }
        if g.rng.chance(30) {
            a.extend(argv![
                "AGGREGATE",
                *g.rng.pick(&["SUM", "MIN", "MAX", "AVG"])
            ]);
        }
    }
    if !store && g.rng.chance(50) {
        a.push(b"WITHSCORES".to_vec());
    }
    a
}
fn zrangestore(g: &mut G) -> Argv {
    let mut a = zrange(g);
    a[0] = b"ZRANGESTORE".to_vec();
    let dst = g.key();
    a.insert(1, dst);
    a.retain(|x| x != b"WITHSCORES");
    a
}
fn zmpop(g: &mut G) -> Argv {
    let ks = g.keys(3);
    let mut a = argv!["ZMPOP", ks.len().to_string()];
    a.extend(ks);
    a.push(g.rng.pick(&["MIN", "MAX"]).as_bytes().to_vec());
    if g.rng.chance(50) {
        a.extend(argv!["COUNT", g.count()]);
    }
    a
}
fn zrandmember(g: &mut G) -> Argv {
    let mut a = argv!["ZRANDMEMBER", g.key()];
    if g.rng.chance(70) {
        a.push(g.int());
        if g.rng.chance(50) {
            a.push(b"WITHSCORES".to_vec());
        }
    }
    a
}

pub static ZSET: &[CmdGen] = gens![
    "zadd" 6 zadd, "zincrby" 2 zincrby, "zscore" 3 zscore, "zmscore" 1 zmscore,
    "zcard" 1 zcard, "zcount" 2 zcount, "zrange" 4 zrange, "zrangebyscore" 3 zrange_legacy,
    "zrem" 3 zrem, "zpopmin" 1 zpop, "zunion" 2 zalgebra, "zrangestore" 1 zrangestore,
    "zmpop" 1 zmpop, "zrandmember" 1 zrandmember, "sort" 2 sort, "sort" 1 sort_weight,
];

// ------------------------------------------------------------------------- SORT
//
// SORT / SORT_RO over the list, set and sorted-set pools (whichever family is generating).
// BY/GET patterns carry the sorted key as their `{tag}`, so every key they form is in the
// key's slot (raftrocks refuses patterns that may leave the key's slot group, Redis Cluster
// too); their weight keys `{key}w_<member>` (strings) and `{key}h_<member>` (hashes, field
// `f`) are written by `sort_weight`. ALPHA is never combined with a BY pattern: Redis orders
// equal ALPHA weights by its unspecified set/sorted-set iteration order (and unstably with
// LIMIT). Orders Redis leaves unspecified without STORE (a set under BY nosort, ALPHA ties of
// C strings) are compared as multisets (tests/differential/norm.rs).

/// `{key}suffix`.
fn tagged(key: &[u8], suffix: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(key.len() + suffix.len() + 2);
    p.push(b'{');
    p.extend_from_slice(key);
    p.push(b'}');
    p.extend_from_slice(suffix.as_bytes());
    p
}

fn sort(g: &mut G) -> Argv {
    let key = g.key();
    let store = g.rng.chance(25);
    let name = if store || g.rng.chance(50) {
        "SORT"
    } else {
        "SORT_RO"
    };
    let mut a = argv![name, key];
    // A numeric SORT in Redis may fail after an unrelated command left errno at ERANGE (its
    // strtod check does not clear errno first; norm.rs accepts that error). With STORE that
    // would make the two keyspaces differ, so stored sorts never parse numbers.
    let pick = if store {
        *g.rng.pick(&[0, 1, 9])
    } else {
        g.rng.below(10)
    };
    let by_pattern = match pick {
        0 => {
            a.extend(argv!["BY", "nosort"]);
            false
        }
        1 => {
            a.extend(argv!["BY", tagged(&key, "const")]);
            false
        }
        2 | 3 => {
            a.extend(argv!["BY", tagged(&key, "w_*")]);
            true
        }
        4 => {
            a.extend(argv!["BY", tagged(&key, "h_*->f")]);
            true
        }
        _ => false,
    };
    if !by_pattern && (g.rng.chance(40) || (store && pick == 9)) {
        a.push(b"ALPHA".to_vec());
    }
    if g.rng.chance(35) {
        a.push(g.rng.pick(&["DESC", "ASC", "desc"]).as_bytes().to_vec());
    }
    if g.rng.chance(35) {
        a.extend(argv!["LIMIT", g.index(), g.index()]);
    }
    for _ in 0..g.rng.below(3) {
        let p = match g.rng.below(5) {
            0 => b"#".to_vec(),
            1 => tagged(&key, "w_*"),
            2 => tagged(&key, "h_*->f"),
            3 => tagged(&key, "h_*->g"),
            _ => tagged(&key, "w_"),
        };
        a.extend(argv!["GET", p]);
    }
    if store {
        a.extend(argv!["STORE", g.key()]);
    }
    if g.rng.below(50) == 0 {
        a.push(b"LIMIT".to_vec()); // a syntax error
    }
    a
}

/// A weight for `sort`: a string `{key}w_<member>` or a hash field `{key}h_<member>` f/g.
fn sort_weight(g: &mut G) -> Argv {
    let key = g.key();
    let mut m = Vec::new();
    m.extend(g.member());
    let value = if g.rng.chance(75) {
        g.rng.range(-20, 20).to_string().into_bytes()
    } else {
        g.value()
    };
    let mut suffix = if g.rng.chance(60) {
        b"w_".to_vec()
    } else {
        b"h_".to_vec()
    };
    suffix.extend(&m);
    let mut k = tagged(&key, "");
    k.extend(&suffix);
    if suffix[0] == b'w' {
        argv!["SET", k, value]
    } else {
        argv!["HSET", k, *g.rng.pick(&["f", "f", "g"]), value]
    }
}

// ------------------------------------------------------------------------- bitmaps

fn bit_offset(g: &mut G) -> Vec<u8> {
    match g.rng.below(12) {
        0 => b"-1".to_vec(),
        1 => b"4294967296".to_vec(),
        2 => b"x".to_vec(),
        _ => g.rng.range(0, 100).to_string().into_bytes(),
    }
}
fn setbit(g: &mut G) -> Argv {
    argv![
        "SETBIT",
        g.key(),
        bit_offset(g),
        *g.rng.pick(&["0", "1", "1", "2"])
    ]
}
fn getbit(g: &mut G) -> Argv {
    argv!["GETBIT", g.key(), bit_offset(g)]
}
fn bitcount(g: &mut G) -> Argv {
    let mut a = argv!["BITCOUNT", g.key()];
    if g.rng.chance(60) {
        a.extend(argv![g.index(), g.index()]);
        if g.rng.chance(40) {
            a.push(g.rng.pick(&["BIT", "BYTE", "bit"]).as_bytes().to_vec());
        }
    }
    a
}
fn bitpos(g: &mut G) -> Argv {
    let mut a = argv!["BITPOS", g.key(), *g.rng.pick(&["0", "1", "2"])];
    if g.rng.chance(60) {
        a.push(g.index());
        if g.rng.chance(50) {
            a.push(g.index());
            if g.rng.chance(40) {
                a.push(g.rng.pick(&["BIT", "BYTE"]).as_bytes().to_vec());
            }
        }
    }
    a
}
fn bitop(g: &mut G) -> Argv {
    let op = *g.rng.pick(&["AND", "OR", "XOR", "NOT"]);
    let mut a = argv!["BITOP", op, g.key()];
    let n = if op == "NOT" { 1 } else { 1 + g.rng.below(3) };
    for _ in 0..n {
        a.push(g.key());
    }
    a
}
fn bitfield(g: &mut G) -> Argv {
    let ro = g.rng.chance(30);
    let mut a = argv![if ro { "BITFIELD_RO" } else { "BITFIELD" }, g.key()];
    for _ in 0..1 + g.rng.below(3) {
        let ty = *g
            .rng
            .pick(&["u8", "i8", "u4", "i16", "u63", "i64", "u64", "x3"]);
        let off = match g.rng.below(4) {
            0 => format!("#{}", g.rng.range(0, 5)),
            _ => g.rng.range(0, 40).to_string(),
        };
        match g.rng.below(4) {
            0 => a.extend(argv!["GET", ty, off]),
            1 => a.extend(argv!["SET", ty, off, g.int()]),
            2 => a.extend(argv!["INCRBY", ty, off, g.int()]),
            _ => a.extend(argv![
                "OVERFLOW",
                *g.rng.pick(&["WRAP", "SAT", "FAIL", "X"])
            ]),
        }
    }
    a
}

pub static BITMAP: &[CmdGen] = gens![
    "setbit" 5 setbit, "getbit" 3 getbit, "bitcount" 3 bitcount, "bitpos" 3 bitpos,
    "bitop" 2 bitop, "bitfield" 2 bitfield,
];

// ------------------------------------------------------------------------- HyperLogLog

fn hll_key(g: &mut G) -> Vec<u8> {
    format!("p{}", g.rng.below(3)).into_bytes()
}
fn pfadd(g: &mut G) -> Argv {
    let mut a = argv!["PFADD", hll_key(g)];
    for _ in 0..g.rng.below(6) {
        a.push(g.value());
    }
    a
}
fn pfcount(g: &mut G) -> Argv {
    let mut a = argv!["PFCOUNT"];
    for _ in 0..1 + g.rng.below(2) {
        // Reading another family's key checks the "not a valid HyperLogLog" errors.
        let k = if g.rng.chance(20) {
            g.any_key()
        } else {
            hll_key(g)
        };
        a.push(k);
    }
    a
}
fn pfmerge(g: &mut G) -> Argv {
    let mut a = argv!["PFMERGE", hll_key(g)];
    for _ in 0..g.rng.below(3) {
        a.push(hll_key(g));
    }
    a
}

pub static HLL: &[CmdGen] = gens!["pfadd" 5 pfadd, "pfcount" 3 pfcount, "pfmerge" 1 pfmerge];

// ------------------------------------------------------------------------- streams

fn xadd(g: &mut G) -> Argv {
    let mut a = argv!["XADD", g.key()];
    if g.rng.chance(10) {
        a.push(b"NOMKSTREAM".to_vec());
    }
    if g.rng.chance(10) {
        // Exact trimming only: `~` trims whole radix-tree nodes, an implementation detail.
        a.extend(argv!["MAXLEN", g.rng.range(0, 5).to_string()]);
    }
    a.push(g.stream_id());
    for _ in 0..1 + g.rng.below(2) {
        a.extend(argv![g.member(), g.value()]);
    }
    a
}
fn xlen(g: &mut G) -> Argv {
    argv!["XLEN", g.key()]
}
fn xrange(g: &mut G) -> Argv {
    let mut a = argv![
        *g.rng.pick(&["XRANGE", "XREVRANGE"]),
        g.key(),
        g.stream_bound(),
        g.stream_bound()
    ];
    if g.rng.chance(40) {
        a.extend(argv!["COUNT", g.int()]);
    }
    a
}
fn xdel(g: &mut G) -> Argv {
    let mut a = argv!["XDEL", g.key()];
    for _ in 0..1 + g.rng.below(2) {
        a.push(g.stream_id());
    }
    a
}
fn xtrim(g: &mut G) -> Argv {
    if g.rng.chance(50) {
        argv!["XTRIM", g.key(), "MAXLEN", g.rng.range(-1, 6).to_string()]
    } else {
        argv!["XTRIM", g.key(), "MINID", g.stream_bound()]
    }
}
fn xread(g: &mut G) -> Argv {
    let mut a = argv!["XREAD"];
    if g.rng.chance(50) {
        a.extend(argv!["COUNT", g.count()]);
    }
    a.push(b"STREAMS".to_vec());
    let ks = g.keys(2);
    let n = ks.len();
    a.extend(ks);
    for _ in 0..n {
        a.push(g.stream_bound());
    }
    a
}

pub static STREAM: &[CmdGen] = gens![
    "xadd" 6 xadd, "xlen" 1 xlen, "xrange" 3 xrange, "xdel" 1 xdel, "xtrim" 1 xtrim,
    "xread" 2 xread,
];

/// Every family: name (for `RAFTROCKS_DIFF_FAMILIES`), key pool, generators. A family is
/// enabled by default when raftrocks knows its first command.
pub static FAMILIES: &[(&str, &str, &[CmdGen])] = &[
    ("strings", "s", STRINGS),
    ("keys", "s", KEYS),
    ("hash", "h", HASH),
    ("list", "l", LIST),
    ("set", "t", SET),
    ("zset", "z", ZSET),
    ("bitmap", "b", BITMAP),
    ("hll", "p", HLL),
    ("stream", "x", STREAM),
];
