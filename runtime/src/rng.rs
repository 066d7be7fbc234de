//! The runtime's seeded RNG: SplitMix64 with unbiased bounded draws and uniform floats, behind the
//! trainer's shuffle and the initialisers (`init.rs`).
//!
//! Written here rather than taken from `rand` so that a gradient-only build pulls in no RNG
//! crate, and so that the shuffle order (and therefore every trained bit) depends only on this
//! file, not on a dependency's version: `rand` documents that `StdRng` may change its
//! algorithm between releases.

/// SplitMix64 (Steele, Lea and Flood, 2014): one 64-bit state advanced by a Weyl constant and
/// mixed by a fixed finalizer. Every seed, zero included, gives a full-period stream.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..bound` (`bound > 0`), by Lemire's multiply-and-reject method:
    /// the high half of `x * bound` is uniform once the few low halves that would over-represent
    /// some results are redrawn.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        debug_assert!(bound > 0);
        // Values of the low half below `threshold` are the biased ones; `threshold` is
        // 2^64 mod bound, computed without 128-bit division.
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// A uniform float in `[0, 1)`: the top 53 bits as a multiple of 2^-53, so every value is
    /// exactly representable and equally likely.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Fisher–Yates: every permutation of `items` equally likely.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn matches_the_reference_stream() {
        // First outputs of the reference C implementation (splitmix64.c by Vigna) for seed 0
        // and seed 1234567.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn same_seed_same_permutation_and_every_position_is_reachable() {
        let perm = |seed| {
            let mut v: Vec<usize> = (0..50).collect();
            SplitMix64::new(seed).shuffle(&mut v);
            v
        };
        assert_eq!(perm(7), perm(7));
        assert_ne!(perm(7), perm(8));
        let mut sorted = perm(7);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        // Where element 0 of a 4-element slice lands over many shuffles: each position about a
        // quarter of the time (a biased shuffle, e.g. `j in 0..len` at every step, fails this).
        let mut counts = [0usize; 4];
        let mut r = SplitMix64::new(3);
        for _ in 0..40_000 {
            let mut v = [0, 1, 2, 3];
            r.shuffle(&mut v);
            counts[v.iter().position(|&x| x == 0).unwrap()] += 1;
        }
        for c in counts {
            assert!((9_500..=10_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn unit_floats_are_in_range_with_the_uniform_mean_and_variance() {
        let mut r = SplitMix64::new(5);
        let draws: Vec<f64> = (0..100_000).map(|_| r.next_f64()).collect();
        assert!(draws.iter().all(|&u| (0.0..1.0).contains(&u)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|u| (u - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        // Standard errors: 0.0009 for the mean, 0.0003 for the variance (1/12).
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.0015, "{var}");
        // The first draw of seed 0 is the reference stream's first output, scaled.
        assert_eq!(SplitMix64::new(0).next_f64(), (0xE220_A839_7B1D_CDAF_u64 >> 11) as f64 / 2f64.powi(53));
    }

    #[test]
    fn bounded_draws_stay_in_range_and_cover_it() {
        let mut r = SplitMix64::new(11);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let k = r.below(7);
            assert!(k < 7);
            seen[k as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.below(1), 0);
        // A bound above 2^63 exercises the rejection threshold's large values.
        let big = (1u64 << 63) + 12_345;
        assert!((0..100).all(|_| r.below(big) < big));
    }
}
