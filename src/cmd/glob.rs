//! Glob-style pattern matching with the semantics of Redis `stringmatchlen` (KEYS, SCAN MATCH
//! and, later, HSCAN/SSCAN/ZSCAN and PSUBSCRIBE).
//!
//! Syntax: `*` any run of bytes, `?` one byte, `[abc]` / `[^abc]` / `[a-z]` byte classes, `\x`
//! the literal `x`. Malformed patterns behave exactly as in Redis (an unterminated `[` class
//! runs to the end of the pattern, a trailing `\` is a literal, `[z-a]` is `[a-z]`, range
//! bounds compare as C `char`, i.e. signed bytes).
//!
//! Redis matches recursively and stops at 1000 nested `*` to protect itself from abusive
//! patterns. Here the classic single-backtrack algorithm is used instead: it gives the same
//! answers, needs no recursion and is O(len(pattern) * len(string)) in the worst case, so no
//! nesting limit is needed. (The only observable difference: a pattern with more than 1000
//! separate `*` that would match still matches here; Redis says no.)

/// True if `s` matches `pattern` (Redis `stringmatchlen`; `nocase` folds ASCII letters only,
/// as Redis does in the C locale).
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    // Redis' matching loop only runs while both pattern and string are non-empty, so the
    // empty string matches only the empty pattern (even "*" does not match it; KEYS and SCAN
    // special-case "*" before calling the matcher).
    if s.is_empty() {
        return pattern.is_empty();
    }
    let (mut pi, mut si) = (0usize, 0usize);
    // The pattern index after the last `*` group seen and the string index it was tried at.
    let mut backtrack: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < pattern.len() && pattern[pi] == b'*' {
            while pi < pattern.len() && pattern[pi] == b'*' {
                pi += 1;
            }
            if pi == pattern.len() {
                return true;
            }
            backtrack = Some((pi, si));
            continue;
        }
        if pi < pattern.len() {
            let (matched, next) = match_token(pattern, pi, s[si], nocase);
            if matched {
                pi = next;
                si += 1;
                continue;
            }
        }
        // Mismatch: let the last `*` swallow one more byte and retry the rest from there.
        // Earlier stars never need to be revisited (a longer match for them can only move
        // the rest of the pattern further right, which the last star already explores).
        match backtrack {
            Some((star_pi, star_si)) => {
                pi = star_pi;
                si = star_si + 1;
                backtrack = Some((star_pi, si));
            }
            None => return false,
        }
    }
    while pi < pattern.len() && pattern[pi] == b'*' {
        pi += 1;
    }
    pi == pattern.len()
}

/// Matches the single-byte token at `pattern[pi]` (anything but `*`) against `c`; returns
/// whether it matched and the index of the next token. The token's extent does not depend on
/// `c`, which is what makes the backtracking algorithm above equivalent to Redis' recursion.
fn match_token(p: &[u8], pi: usize, c: u8, nocase: bool) -> (bool, usize) {
    match p[pi] {
        b'?' => (true, pi + 1),
        b'[' => match_class(p, pi, c, nocase),
        b'\\' if p.len() - pi >= 2 => (eq(p[pi + 1], c, nocase), pi + 2),
        lit => (eq(lit, c, nocase), pi + 1),
    }
}

/// A `[...]` class starting at `p[pi] == '['`, walked exactly like Redis does.
fn match_class(p: &[u8], pi: usize, c: u8, nocase: bool) -> (bool, usize) {
    let mut j = pi + 1;
    let negate = j < p.len() && p[j] == b'^';
    if negate {
        j += 1;
    }
    let mut matched = false;
    loop {
        let rem = p.len() - j;
        if rem >= 2 && p[j] == b'\\' {
            // Escaped byte inside a class: compared exactly, even with nocase (as Redis).
            j += 1;
            if p[j] == c {
                matched = true;
            }
        } else if rem >= 1 && p[j] == b']' {
            break;
        } else if rem == 0 {
            // Unterminated class: Redis steps back onto the last byte so that its outer
            // "advance one" lands on the end of the pattern.
            j -= 1;
            break;
        } else if rem >= 3 && p[j + 1] == b'-' {
            let (mut start, mut end, mut ch) = (signed(p[j]), signed(p[j + 2]), signed(c));
            if start > end {
                std::mem::swap(&mut start, &mut end);
            }
            if nocase {
                start = lower(start);
                end = lower(end);
                ch = lower(ch);
            }
            j += 2;
            if ch >= start && ch <= end {
                matched = true;
            }
        } else if eq(p[j], c, nocase) {
            matched = true;
        }
        j += 1;
    }
    (matched != negate, j + 1)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// A byte as C's `char` on x86-64, where it is signed: that is how Redis compares range
/// bounds there (`[a-\xff]` is `[\xff-a]`). It matters only for bytes >= 0x80; ARM builds of
/// Redis, with an unsigned `char`, differ for those.
fn signed(b: u8) -> i32 {
    b as i8 as i32
}

/// `tolower` in the C locale.
fn lower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("user:*", "user:1000"));
        assert!(!m("user:*", "use"));
        assert!(m("*:*:*", "a:b:c"));
        assert!(!m("*:*:*", "a:b"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*abc", "ababc"));
        assert!(m("a**", "a"));
        assert!(m("exact", "exact"));
        assert!(!m("exact", "exactly"));
        assert!(!m("exactly", "exact"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\?c", "a?c"));
        assert!(!m("a\\?c", "abc"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        // A trailing backslash is a literal backslash.
        assert!(m("a\\", "a\\"));
        assert!(!m("a\\", "a"));
    }

    #[test]
    fn empty_string_matches_only_the_empty_pattern() {
        // Redis `stringmatchlen("*", "")` is 0: KEYS/SCAN special-case "*" themselves.
        assert!(glob_match(b"", b"", false));
        assert!(!glob_match(b"*", b"", false));
        assert!(!glob_match(b"**", b"", false));
        assert!(!glob_match(b"?", b"", false));
        assert!(!glob_match(b"", b"a", false));
    }

    #[test]
    fn malformed_classes_like_redis() {
        // Checked against redis-server 7.0: KEYS "[a" and "[^" both return key "a".
        assert!(m("[a", "a"));
        assert!(m("[^", "a"));
        // "[" alone is an empty class: matches nothing; "[^" is its negation.
        assert!(!m("[", "a"));
        assert!(m("[^", "b"));
        // "[a-]": the range runs from 'a' to ']' and the class is unterminated.
        assert!(m("[a-]", "a"));
        assert!(m("[a-]", "_"));
        assert!(!m("[a-]", "\\"));
        assert!(!m("[a-]", "b"));
        // Reversed ranges are swapped.
        assert!(m("[z-a]", "m"));
        assert!(m("x[ab", "xb"));
        assert!(!m("x[ab", "xc"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo*", b"hello world", true));
        assert!(!glob_match(b"HeLLo*", b"hello world", false));
        assert!(glob_match(b"[A-C]x", b"bx", true));
        assert!(glob_match(b"[abc]x", b"Bx", true));
    }

    #[test]
    fn signed_range_bounds() {
        // Redis compares range bounds as signed chars: [a-\xff] is [\xff-a], i.e. -1..=97,
        // which includes the bytes 0..=97 and 0xff but not 0x80..=0xfe.
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(glob_match(b"[a-\xff]", b"0", false));
        assert!(!glob_match(b"[a-\xff]", b"\x80", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(glob_match(b"\xe4*", b"\xe4\xb8\xad", false));
    }

    #[test]
    fn binary_bytes() {
        assert!(glob_match(b"a\x00*", b"a\x00bc", false));
        assert!(glob_match(b"?\r\n", b"x\r\n", false));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let s = vec![b'a'; 10_000];
        let mut p = Vec::new();
        for _ in 0..2_000 {
            p.extend_from_slice(b"a*");
        }
        p.push(b'b');
        let t = std::time::Instant::now();
        assert!(!glob_match(&p, &s, false));
        let s2 = vec![b'a'; 5_000];
        assert!(!glob_match(b"*a*a*a*a*a*a*a*a*a*a*a*b", &s2, false));
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }

    /// Redis' recursive algorithm, transcribed (without its nesting limit), as an oracle.
    fn redis_reference(p: &[u8], s: &[u8], nocase: bool) -> bool {
        fn imp(p: &[u8], s: &[u8], nocase: bool, skip: &mut bool) -> bool {
            let (mut p, mut s) = (p, s);
            while !p.is_empty() && !s.is_empty() {
                match p[0] {
                    b'*' => {
                        while p.len() > 1 && p[1] == b'*' {
                            p = &p[1..];
                        }
                        if p.len() == 1 {
                            return true;
                        }
                        while !s.is_empty() {
                            if imp(&p[1..], s, nocase, skip) {
                                return true;
                            }
                            if *skip {
                                return false;
                            }
                            s = &s[1..];
                        }
                        *skip = true;
                        return false;
                    }
                    _ => {
                        let pi = 0;
                        let (ok, next) = match_token(p, pi, s[0], nocase);
                        if !ok {
                            return false;
                        }
                        s = &s[1..];
                        p = &p[next..];
                        if s.is_empty() {
                            while !p.is_empty() && p[0] == b'*' {
                                p = &p[1..];
                            }
                            break;
                        }
                        continue;
                    }
                }
            }
            p.is_empty() && s.is_empty()
        }
        let mut skip = false;
        imp(p, s, nocase, &mut skip)
    }

    #[test]
    fn agrees_with_the_recursive_algorithm() {
        // Exhaustive over a small alphabet: every pattern up to length 4 against every
        // string up to length 4.
        let palpha: &[u8] = b"ab*?[]^-\\";
        let salpha: &[u8] = b"ab-";
        let mut patterns: Vec<Vec<u8>> = vec![vec![]];
        for _ in 0..4 {
            let mut next = Vec::new();
            for p in &patterns {
                for &c in palpha {
                    let mut q = p.clone();
                    q.push(c);
                    next.push(q);
                }
            }
            patterns.extend(next.into_iter().filter(|q| q.len() <= 4));
            patterns.sort();
            patterns.dedup();
        }
        let mut strings: Vec<Vec<u8>> = vec![vec![]];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &strings {
                for &c in salpha {
                    let mut q = s.clone();
                    q.push(c);
                    next.push(q);
                }
            }
            strings.extend(next);
            strings.sort();
            strings.dedup();
        }
        for p in &patterns {
            for s in &strings {
                assert_eq!(
                    glob_match(p, s, false),
                    redis_reference(p, s, false),
                    "pattern {:?} string {:?}",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(s)
                );
            }
        }
    }
}
