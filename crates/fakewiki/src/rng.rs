//! Stable hashing and a tiny seeded PRNG.
//!
//! The universe must be the same on every machine, toolchain and dependency version, so
//! it is derived from SplitMix64 and FNV-1a written out here rather than from `std`'s
//! `RandomState` or an external crate whose output may change between releases.

/// SplitMix64's finaliser: a cheap bijection that spreads every input bit.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over the UTF-8 bytes, then mixed: stable across runs, unlike `DefaultHasher`.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(h)
}

/// Combines several values into one seed, order-sensitive.
pub(crate) fn key(parts: &[u64]) -> u64 {
    parts.iter().fold(0x2545_F491_4F6C_DD1D, |h, &p| mix(h ^ p))
}

/// SplitMix64 as a generator: good enough statistics, one `u64` of state.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n` > 0); the modulo bias is irrelevant at these sizes.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        // 53 random bits fill an f64 mantissa exactly.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Log-uniform in `[lo, hi)`: popularity spans orders of magnitude.
    pub(crate) fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp()
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        // Callers pass non-empty constant tables; index 0 of an empty slice would be a bug
        // in this crate, not in a request, so a panic is the right report.
        &items[self.below(items.len() as u64) as usize]
    }

    /// Fisher–Yates, deterministic for a given seed.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_pinned() {
        // Changing these silently changes every realistic universe: pin them.
        assert_eq!(hash_str("Main_Page"), 5_264_716_201_151_148_095);
        assert_eq!(key(&[1, 2, 3]), 14_698_498_496_003_609_638);
        assert_eq!(Rng::new(7).next_u64(), 309_689_372_594_955_804);
    }
}
