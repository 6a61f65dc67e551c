//! LZF decompression (the format of Marc Lehmann's liblzf, which Redis uses for strings
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
