//! The path folding the probe applies before it counts a path, here so that both sides
//! agree on it and it is tested on the host: every all-digit component that ends within
//! the first [`FOLD_SPAN`] bytes has each digit replaced by `#` (`/proc/4242/status`
//! becomes `/proc/####/status`), so per-process paths do not make one signature each.
//!
//! It works on the 64 bytes as eight little-endian words with bit tricks, without a
//! branch that depends on the path: a byte-by-byte loop with a branch per byte made the
//! kernel's verifier walk one path per combination of branches, which cost tens of
//! thousands of instructions and most of sandprof's start-up.

use crate::key::PathWords;
#[cfg(test)]
use crate::spec::STR_LEN;

/// Bytes of a path examined for numeric components to fold: enough for
/// `/proc/<pid>/task/<tid>/fd/<fd>`.
pub const FOLD_SPAN: usize = 64;

const WORDS: usize = FOLD_SPAN / 8;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// Bit 7 of each byte set where that byte of `w` is zero (exact: no borrow between
/// bytes).
#[inline(always)]
const fn zero_bytes(w: u64) -> u64 {
    !((((w & LOW7) + LOW7) | w) | LOW7)
}

/// Bit 7 of each byte set where that byte of `w` is an ASCII digit.
#[inline(always)]
const fn digit_bytes(w: u64) -> u64 {
    let low = w & LOW7;
    // low + (0x80 - c) has bit 7 set iff low >= c; at most 0xcf, so no carry out.
    let at_least_0 = (low + 0x50 * ONES) & HIGH;
    let above_9 = (low + 0x46 * ONES) & HIGH;
    at_least_0 & !above_9 & !(w & HIGH)
}

/// The bit-7 flags of a word's bytes packed into 8 bits (byte j to bit j).
#[inline(always)]
const fn pack(flags: u64) -> u64 {
    ((flags >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// 8 bits spread back to one 0xff or 0x00 byte each (bit j to byte j). Multiplications
/// and masks only: a `bit * 0xff` per byte would be turned into a select, which the BPF
/// backend emits as a branch.
#[inline(always)]
const fn spread(bits: u64) -> u64 {
    // Byte j keeps bit j of `bits`, in place.
    let isolated = bits.wrapping_mul(ONES) & 0x8040_2010_0804_0201;
    let nonzero = (((isolated & LOW7) + LOW7) | isolated) & HIGH;
    (nonzero >> 7) * 0xff
}

/// Within runs of set bits of `inside`, sets every bit of `x`'s run: positions whose run
/// (a maximal stretch of `inside`) holds a set bit of `x`. Segmented OR-scans upward and
/// downward, in six doubling steps each.
#[inline(always)]
const fn fill_runs(x: u64, inside: u64) -> u64 {
    let mut up = x;
    let mut down = x;
    let mut m_up = inside;
    let mut m_down = inside;
    let mut shift = 1;
    while shift < 64 {
        up |= (up << shift) & m_up;
        down |= (down >> shift) & m_down;
        m_up &= m_up << shift;
        m_down &= m_down >> shift;
        shift <<= 1;
    }
    (up | down) & inside
}

/// Folds the all-digit components of a NUL-padded path, given as its words, in place.
#[inline(always)]
pub fn fold_numeric_components(path: &mut PathWords) {
    let mut digits = 0u64;
    let mut separators = 0u64;
    let mut k = 0;
    while k < WORDS {
        let w = path[k];
        let ends = zero_bytes(w) | zero_bytes(w ^ (u64::from(b'/') * ONES));
        digits |= pack(digit_bytes(w)) << (k * 8);
        separators |= pack(ends) << (k * 8);
        k += 1;
    }
    // Bytes inside components; the part after the last separator may continue past the
    // span, so it counts as not all digits.
    let inside = !separators;
    let mut below_last = separators;
    let mut shift = 1;
    while shift < 64 {
        below_last |= below_last >> shift;
        shift <<= 1;
    }
    let other = (inside & !digits) | !below_last;
    let fold = digits & !fill_runs(other, inside);
    let mut k = 0;
    while k < WORDS {
        let mask = spread((fold >> (k * 8)) & 0xff);
        path[k] = (path[k] & !mask) | ((u64::from(b'#') * ONES) & mask);
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    use super::*;

    /// The rule, byte by byte: what the bit tricks must equal.
    fn reference(path: &[u8; STR_LEN]) -> [u8; STR_LEN] {
        let mut out = *path;
        let mut start = 1;
        for i in 1..=FOLD_SPAN {
            let end = i == FOLD_SPAN || path[i] == b'/' || path[i] == 0;
            if !end {
                continue;
            }
            let ends_in_span = i < FOLD_SPAN;
            let component = &path[start..i];
            if ends_in_span && !component.is_empty() && component.iter().all(u8::is_ascii_digit) {
                for b in &mut out[start..i] {
                    *b = b'#';
                }
            }
            if i < FOLD_SPAN && path[i] == 0 {
                break;
            }
            start = i + 1;
        }
        out
    }

    fn padded(text: &[u8]) -> [u8; STR_LEN] {
        let mut buf = [0u8; STR_LEN];
        buf[..text.len()].copy_from_slice(text);
        buf
    }

    /// Folds a byte buffer through its words, as the probe does.
    fn fold_bytes(buf: &mut [u8; STR_LEN]) {
        let mut words: PathWords = [0; STR_LEN / 8];
        for (k, word) in words.iter_mut().enumerate() {
            *word = u64::from_le_bytes(buf[k * 8..k * 8 + 8].try_into().unwrap());
        }
        fold_numeric_components(&mut words);
        for (k, word) in words.iter().enumerate() {
            buf[k * 8..k * 8 + 8].copy_from_slice(&word.to_le_bytes());
        }
    }

    fn folded(text: &str) -> String {
        let mut buf = padded(text.as_bytes());
        fold_bytes(&mut buf);
        let end = buf.iter().position(|&b| b == 0).unwrap_or(STR_LEN);
        String::from_utf8(buf[..end].to_vec()).unwrap()
    }

    #[test]
    fn folds_numeric_components_only() {
        assert_eq!(folded("/proc/4242/status"), "/proc/####/status");
        assert_eq!(
            folded("/proc/self/task/1235/stat"),
            "/proc/self/task/####/stat"
        );
        assert_eq!(folded("/dev/pts/3"), "/dev/pts/#");
        assert_eq!(
            folded("/sys/devices/system/cpu/cpu1"),
            "/sys/devices/system/cpu/cpu1"
        );
        assert_eq!(
            folded("/sys/bus/pci/devices/0000:00:1f.2"),
            "/sys/bus/pci/devices/0000:00:1f.2"
        );
        assert_eq!(folded("/proc/12ab/x"), "/proc/12ab/x");
        assert_eq!(
            folded("/proc/sys/net/ipv4/ip_forward"),
            "/proc/sys/net/ipv4/ip_forward"
        );
        assert_eq!(folded("/proc/1/fd/12/"), "/proc/#/fd/##/");
        assert_eq!(folded("/proc/self/fd"), "/proc/self/fd");
        assert_eq!(folded("/"), "/");
    }

    #[test]
    fn a_component_cut_by_the_span_is_left_alone() {
        // 60 bytes of directory, then digits running past byte 64.
        let mut text = Vec::from(&b"/proc"[..]);
        while text.len() < 59 {
            text.push(b'x');
        }
        text.extend_from_slice(b"/12345678/1");
        let mut expected = text.clone();
        let mut buf = padded(&text);
        fold_bytes(&mut buf);
        assert_eq!(&buf[..text.len()], &expected[..]);
        // A component that ends before byte 64 is folded.
        let short = b"/proc/123";
        expected = b"/proc/###".to_vec();
        let mut buf = padded(short);
        fold_bytes(&mut buf);
        assert_eq!(&buf[..short.len()], &expected[..]);
    }

    #[test]
    fn matches_the_byte_by_byte_rule_on_many_paths() {
        // A small deterministic generator over the characters that matter.
        let alphabet = b"/0123456789ax#.:-";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 80) as usize;
            let mut text = Vec::from(&b"/"[..]);
            let mut s = seed;
            for _ in 0..len {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push(alphabet[(s >> 33) as usize % alphabet.len()]);
            }
            text.truncate(STR_LEN - 1);
            let buf = padded(&text);
            let mut ours = buf;
            fold_bytes(&mut ours);
            assert_eq!(ours, reference(&buf), "{}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn byte_tricks() {
        let w = u64::from_le_bytes(*b"/a0\x009:/\xb0");
        assert_eq!(pack(zero_bytes(w)), 0b0000_1000);
        assert_eq!(pack(digit_bytes(w)), 0b0001_0100);
        for bits in 0..256u64 {
            let spread = spread(bits);
            for j in 0..8 {
                let byte = (spread >> (j * 8)) & 0xff;
                assert_eq!(
                    byte,
                    if bits & (1 << j) != 0 { 0xff } else { 0 },
                    "{bits:#b}"
                );
            }
        }
    }
}
