//! The app's random numbers: a seeded stream, so a run is reproducible from its request.
//!
//! xoshiro256++ (Blackman and Vigna), its state filled by splitmix64 from the request's seed,
//! as its authors recommend. It is small, fast, passes the usual statistical batteries and has
//! a period of 2^256 - 1, so an app drawing any amount of randomness never sees it repeat
//! (wasmtime-wasi's `Deterministic` cycles through a fixed buffer instead). Nothing here is a
//! secret: the ABI tells vendors the numbers are for shuffling and sampling, not for keys.
//!
//! The algorithm is written out here rather than taken from a crate so the stream cannot
//! change under an upgrade: the same seed must give the same bytes, and so the same output and
//! instruction count, for as long as a version's test reports are kept.

use std::convert::Infallible;

use rand_core::TryRng;

/// Odd constant that separates the streams drawn from one seed (the secure and the insecure
/// WASI random), taken from wyhash; any odd 64-bit constant with mixed bits would do.
const STREAM_MIX: u64 = 0xA076_1D64_78BD_642F;

/// One random stream: the bytes of successive 64-bit outputs, little-endian.
///
/// Every read takes the next bytes of that one stream, so how a guest splits its reads
/// (one `random_get` of 4 KiB or many small ones) does not change the bytes it gets.
/// wasmtime-wasi 48 draws each byte of a `random_get` as one `next_u32` and keeps its low
/// byte; the probe suite pins the bytes a guest sees, so a change there on an upgrade shows.
pub(crate) struct SeededRandom {
    state: [u64; 4],
    /// The current output's bytes and how many of them were handed out.
    word: [u8; 8],
    used: usize,
}

impl SeededRandom {
    /// The stream number `stream` of `seed`.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut mix = seed ^ stream.wrapping_mul(STREAM_MIX);
        // splitmix64 is a bijection of its counter, so the four words are never all zero (the
        // one state xoshiro cannot leave).
        let state = std::array::from_fn(|_| splitmix64(&mut mix));
        Self {
            state,
            word: [0; 8],
            used: 8,
        }
    }

    /// The next xoshiro256++ output.
    fn next_word(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn fill(&mut self, out: &mut [u8]) {
        let mut filled = 0;
        while filled < out.len() {
            if self.used == self.word.len() {
                self.word = self.next_word().to_le_bytes();
                self.used = 0;
            }
            let n = (self.word.len() - self.used).min(out.len() - filled);
            out[filled..filled + n].copy_from_slice(&self.word[self.used..self.used + n]);
            self.used += n;
            filled += n;
        }
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// wasmtime-wasi takes a `rand_core::Rng`, which is any infallible `TryRng`.
impl TryRng for SeededRandom {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0; 4];
        self.fill(&mut bytes);
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0; 8];
        self.fill(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    fn bytes(seed: u64, stream: u64, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        SeededRandom::new(seed, stream).fill_bytes(&mut out);
        out
    }

    #[test]
    fn the_generator_is_xoshiro256_plus_plus() {
        // The reference implementation's outputs from the state [1, 2, 3, 4].
        let mut rng = SeededRandom::new(0, 0);
        rng.state = [1, 2, 3, 4];
        let words: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(
            words,
            [
                41_943_041,
                58_720_359,
                3_588_806_011_781_223,
                3_591_011_842_654_386
            ]
        );
    }

    #[test]
    fn the_stream_of_a_seed_never_changes() {
        // Pinned: apps' outputs and instruction counts in stored reports depend on these.
        let mut rng = SeededRandom::new(7, 0);
        assert_eq!(rng.next_u64(), 0x0e2c_1a00_2aae_913d);
        assert_eq!(rng.next_u64(), 0x2c0f_c8dd_fa4e_9e14);
        let mut other_stream = SeededRandom::new(7, 1);
        assert_eq!(other_stream.next_u64(), 0xf4c4_6b62_e52e_2cbe);
    }

    #[test]
    fn same_seed_same_bytes_and_another_seed_or_stream_other_bytes() {
        assert_eq!(bytes(7, 0, 4096), bytes(7, 0, 4096));
        assert_ne!(bytes(7, 0, 4096), bytes(8, 0, 4096));
        assert_ne!(bytes(7, 0, 4096), bytes(7, 1, 4096));
    }

    #[test]
    fn four_kib_of_random_has_no_period() {
        let stream = bytes(7, 0, 4096);
        for period in 1..=2048 {
            assert_ne!(
                stream[..4096 - period],
                stream[period..],
                "repeats every {period} bytes"
            );
        }
    }

    #[test]
    fn how_reads_are_split_does_not_change_the_bytes() {
        let whole = bytes(42, 0, 4096);
        let mut rng = SeededRandom::new(42, 0);
        let mut pieces = Vec::new();
        let mut size = 1;
        while pieces.len() < 4096 {
            let mut piece = vec![0; size.min(4096 - pieces.len())];
            rng.fill_bytes(&mut piece);
            pieces.extend(piece);
            size = size % 13 + 2;
        }
        assert_eq!(pieces, whole);

        let mut rng = SeededRandom::new(42, 0);
        assert_eq!(rng.next_u32().to_le_bytes(), whole[..4]);
        assert_eq!(rng.next_u64().to_le_bytes(), whole[4..12]);
    }
}
