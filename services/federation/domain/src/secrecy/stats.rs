//! Score statistics of a group (rule 5): mean and type-7 quartiles.

/// Rounds to one decimal, the precision the snapshots carry.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Mean of the scores; `None` when there are none.
pub(crate) fn mean(scores: &[u32]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let sum: u64 = scores.iter().map(|s| u64::from(*s)).sum();
    Some(sum as f64 / scores.len() as f64)
}

/// Quantile `p` of sorted scores by linear interpolation between the order
/// statistics at `(n − 1)·p` (Hyndman & Fan type 7, numpy's default); `None`
/// when there are no scores.
pub(crate) fn quantile(sorted: &[u32], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    let (a, b) = (f64::from(sorted[lo]), f64::from(sorted[hi]));
    Some(a + (h - lo as f64) * (b - a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_match_numpy_default() {
        // numpy.percentile([1, 2, 3, 4], [25, 50, 75]) == [1.75, 2.5, 3.25]
        let s = [1, 2, 3, 4];
        assert_eq!(quantile(&s, 0.25), Some(1.75));
        assert_eq!(quantile(&s, 0.5), Some(2.5));
        assert_eq!(quantile(&s, 0.75), Some(3.25));
        // numpy.percentile([10, 20, 40, 80, 90], [25, 50, 75]) == [20, 40, 80]
        let s = [10, 20, 40, 80, 90];
        assert_eq!(quantile(&s, 0.25), Some(20.0));
        assert_eq!(quantile(&s, 0.5), Some(40.0));
        assert_eq!(quantile(&s, 0.75), Some(80.0));
        // numpy.percentile([3, 7, 8, 15, 21, 40], 25) == 7.25
        assert_eq!(quantile(&[3, 7, 8, 15, 21, 40], 0.25), Some(7.25));
        assert_eq!(quantile(&[42], 0.75), Some(42.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn mean_and_rounding() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1, 2]), Some(1.5));
        assert_eq!(round1(7.25), 7.3);
        assert_eq!(round1(33.333), 33.3);
        assert_eq!(round1(1.75), 1.8);
    }
}
