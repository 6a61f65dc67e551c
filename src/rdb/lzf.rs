//! LZF compression (the format of Marc Lehmann's liblzf, which Redis uses for strings
//! longer than 20 bytes in RDB files and DUMP payloads, and for compressed quicklist nodes).
//!
//! A stream of runs, each starting with a control byte `c`:
//! - `c < 32`: a literal run of `c + 1` bytes follows;
//! - otherwise a back reference: length `c >> 5` (7 = extended: add the next byte), plus 2;
//!   offset `((c & 31) << 8 | next byte) + 1` bytes back from the end of the output.

/// Decompresses `input` into exactly `expected` bytes; None if the data is malformed or does
/// not produce exactly that many bytes. The caller bounds `expected` (see
/// [`max_expansion`]): the output is reserved up front.
pub fn decompress(input: &[u8], expected: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(expected);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            let lit = input.get(i..i + n)?;
            if out.len() + n > expected {
                return None;
            }
            out.extend_from_slice(lit);
            i += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            if back > out.len() || out.len() + len > expected {
                return None;
            }
            // The source may overlap what is being written (runs): copy byte by byte.
            let start = out.len() - back;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == expected).then_some(out)
}

/// Longest back reference: `7 + 255 + 2` bytes.
const MAX_REF: usize = 264;
/// Farthest back reference: 13 offset bits.
const MAX_DIST: usize = 1 << 13;
/// Longest literal run.
const MAX_LIT: usize = 32;

/// Compresses `input` (greedy matching through a hash table of 3-byte prefixes). Any valid
/// LZF stream decompresses the same, so the output need not equal liblzf's byte for byte.
/// None if the result would not be at least 4 bytes shorter than the input: Redis then
/// stores the string raw, and so do we.
pub fn compress(input: &[u8]) -> Option<Vec<u8>> {
    let n = input.len();
    if n <= 4 {
        return None;
    }
    let limit = n - 4;
    let mut out = Vec::with_capacity(limit);
    let mut table = vec![usize::MAX; 1 << 14];
    let hash = |i: usize| -> usize {
        let v = (input[i] as u32) << 16 | (input[i + 1] as u32) << 8 | input[i + 2] as u32;
        (v.wrapping_mul(2_654_435_761) >> 18) as usize & ((1 << 14) - 1)
    };
    let mut lit_start = 0;
    let mut i = 0;
    while i + 2 < n {
        let h = hash(i);
        let cand = table[h];
        table[h] = i;
        if cand != usize::MAX && i - cand <= MAX_DIST && input[cand..cand + 3] == input[i..i + 3] {
            let max = MAX_REF.min(n - i);
            let mut len = 3;
            while len < max && input[cand + len] == input[i + len] {
                len += 1;
            }
            push_literals(&mut out, &input[lit_start..i]);
            let off = i - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push(off as u8);
            i += len;
            lit_start = i;
        } else {
            i += 1;
        }
        if out.len() > limit {
            return None;
        }
    }
    push_literals(&mut out, &input[lit_start..]);
    (out.len() <= limit).then_some(out)
}

fn push_literals(out: &mut Vec<u8>, mut lit: &[u8]) {
    while !lit.is_empty() {
        let k = lit.len().min(MAX_LIT);
        out.push((k - 1) as u8);
        out.extend_from_slice(&lit[..k]);
        lit = &lit[k..];
    }
}

/// The most bytes `compressed` input bytes can expand to: a 3-byte back reference yields at
/// most 264 bytes. A claimed length above this is malformed and is refused before anything
/// is allocated.
pub fn max_expansion(compressed: usize) -> usize {
    compressed.saturating_mul(88).saturating_add(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_back_references() {
        // "abc" literal, then a back reference of length 6 at offset 3: "abcabcabc".
        let data = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(decompress(&data, 9).unwrap(), b"abcabcabc");
        // Wrong expected lengths are refused.
        assert!(decompress(&data, 8).is_none());
        assert!(decompress(&data, 10).is_none());
        // Extended length: 7 + 10 + 2 = 19 copies of 'x' after one literal 'x'.
        let data = [0, b'x', (7 << 5), 10, 0];
        assert_eq!(decompress(&data, 20).unwrap(), vec![b'x'; 20]);
    }

    #[test]
    fn compress_round_trips() {
        let mut seed = 42u64;
        let mut samples: Vec<Vec<u8>> = vec![
            b"abcdefgh".repeat(5000),
            vec![0; 100_000],
            b"hello hello hello hello hello!".to_vec(),
        ];
        for len in [21, 100, 5000, 70_000] {
            // Low-entropy text: compressible, with matches at every distance.
            samples.push(
                (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                        b"abcde"[(seed >> 60) as usize % 5]
                    })
                    .collect(),
            );
        }
        for s in &samples {
            // 21 random letters may not shrink by 4 bytes; everything longer does.
            let Some(c) = compress(s) else {
                assert!(s.len() < 100, "{} bytes not compressed", s.len());
                continue;
            };
            assert!(c.len() <= s.len() - 4);
            assert_eq!(decompress(&c, s.len()).unwrap(), *s);
        }
        // Random lengths and alphabets: long runs, matches ending at the input's end,
        // references at the maximum distance.
        for round in 0..2000u64 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(round);
            let len = (seed >> 40) as usize % 20_000;
            let alphabet = 1 + (seed >> 20) as u8 % 4;
            let mut x = seed | 1;
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 33) as u8 % alphabet
                })
                .collect();
            if let Some(c) = compress(&s) {
                assert_eq!(
                    decompress(&c, s.len()).as_deref(),
                    Some(&s[..]),
                    "round {round}"
                );
            }
        }
        // Incompressible data and short strings stay raw.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        assert!(compress(&noise).is_none());
        assert!(compress(b"abcd").is_none());
    }

    #[test]
    fn malformed_input_never_panics() {
        // A reference before the start, a truncated literal, a truncated reference.
        assert!(decompress(&[(1 << 5), 5], 3).is_none());
        assert!(decompress(&[5, b'a'], 6).is_none());
        assert!(decompress(&[0, b'a', (7 << 5)], 10).is_none());
        let mut seed = 0x1234_5678_9abc_def0u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let bytes: Vec<u8> = (0..len).map(|k| (seed >> (k % 8 * 8)) as u8).collect();
            let _ = decompress(&bytes, (seed >> 40) as usize % 300);
        }
    }
}
