//! Round tick positions for a time axis.

/// Ticks (in the input's unit) inside `[lo, hi]` at a round step (1, 2 or 5 times a power of
/// ten) giving about `target` ticks, and that step.
pub fn ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let range = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = range / target.max(1) as f64;
    let pow = 10f64.powf(raw.log10().floor());
    // The round step whose tick count is nearest the target.
    let step = [0.5, 1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * pow)
        .min_by(|a, b| {
            (range / a - target as f64)
                .abs()
                .total_cmp(&(range / b - target as f64).abs())
        })
        .unwrap();
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    ((first..=last).map(|i| i as f64 * step).collect(), step)
}

/// How many decimals print every multiple of `step` exactly enough (0 for steps of 1 and up).
pub fn decimals(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10() - 1e-9).ceil() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_and_cover_the_range() {
        let (t, step) = ticks(0.3, 9.7, 10);
        assert_eq!(step, 1.0);
        assert_eq!(t, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        let (t, step) = ticks(0.0, 0.37, 8);
        assert_eq!(step, 0.05);
        assert_eq!(t.len(), 8);
        let (t, step) = ticks(100.0, 1300.0, 5);
        assert_eq!(step, 200.0);
        assert_eq!(t.first(), Some(&200.0));
        let (t, step) = ticks(0.05, 7.1, 6);
        assert_eq!((step, t.len()), (1.0, 7));
    }

    #[test]
    fn decimals_fit_the_step() {
        assert_eq!(decimals(5.0), 0);
        assert_eq!(decimals(0.5), 1);
        assert_eq!(decimals(0.2), 1);
        assert_eq!(decimals(0.05), 2);
        assert_eq!(decimals(0.01), 2);
    }
}
