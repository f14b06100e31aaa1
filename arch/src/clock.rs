//! Conversions between counter ticks and nanoseconds in 64.64 fixed point: a multiply and a
//! shift on the hot paths, and an error below one part in 2^64, so deadlines stay exact
//! however long the system has been up. (Pure arithmetic: tested on the host.)

/// The ratio `int + frac / 2^64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    pub int: u64,
    pub frac: u64,
}

impl Ratio {
    /// `num / den`, rounded down, or up when `round_up` (then `apply` never undershoots).
    pub fn new(num: u64, den: u64, round_up: bool) -> Ratio {
        let den = den.max(1);
        let rem = (num % den) as u128;
        let scaled = rem << 64;
        let mut frac = scaled / den as u128;
        if round_up && !scaled.is_multiple_of(den as u128) {
            frac += 1;
        }
        // frac < 2^64 unless rounding up carried into the integer part.
        let int = num / den + (frac >> 64) as u64;
        Ratio {
            int,
            frac: frac as u64,
        }
    }

    /// `x * ratio`, rounded down.
    pub fn apply(&self, x: u64) -> u64 {
        let hi = ((x as u128 * self.frac as u128) >> 64) as u64;
        x.wrapping_mul(self.int).wrapping_add(hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(x: u64, num: u64, den: u64) -> u128 {
        x as u128 * num as u128 / den as u128
    }

    #[test]
    fn conversions_stay_exact_over_years_of_uptime() {
        for f in [
            62_500_000u64,
            54_000_000,
            19_200_000,
            24_000_000,
            1_000_000_000,
        ] {
            let to_ns = Ratio::new(1_000_000_000, f, false);
            let to_ticks = Ratio::new(f, 1_000_000_000, true);
            for ns in [
                0u64,
                1,
                999,
                1_000_000,
                5_587_000_000_000,
                86_400_000_000_000,
                10 * 365 * 86_400_000_000_000,
            ] {
                // A deadline in ticks is never before the nanosecond asked for, and at most
                // one tick after.
                let ticks = to_ticks.apply(ns) + 1;
                let need = (ns as u128 * f as u128).div_ceil(1_000_000_000);
                assert!(
                    ticks as u128 >= need && ticks as u128 <= need + 1,
                    "f {f} ns {ns}"
                );
                // Reading the counter back gives no less than the deadline.
                assert!(to_ns.apply(ticks) >= ns, "f {f} ns {ns}");
            }
            for t in [0u64, 7, 62_500_000, 1 << 40, 1 << 52] {
                let got = to_ns.apply(t) as u128;
                let want = exact(t, 1_000_000_000, f);
                assert!(
                    got == want || got + 1 == want,
                    "f {f} ticks {t}: {got} vs {want}"
                );
            }
        }
    }
}
