//! How long a message waits before its next delivery. A retryable failure (Feishu down,
//! rate limited, an instance busy) sets the message's visibility timeout to a delay that
//! grows with each delivery, so that SQS's maxReceiveCount spans hours, not minutes: a
//! Feishu outage as long as its own retry window (~7 h) drains without anything reaching
//! the dead-letter queue.

use std::time::Duration;

/// Delivery n waits `first × 2^(n-1)`, at most `cap`, jittered into its upper half, and
/// never less than a wait the failure itself names (`x-ogw-ratelimit-reset`, a lease's
/// end). Whole seconds: SQS visibility timeouts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    pub first_secs: u32,
    pub cap_secs: u32,
}

/// The schedule in production: 1, 2, 4, 8, 16 minutes, then every 30 minutes.
pub const PRODUCTION: RetrySchedule = RetrySchedule {
    first_secs: 60,
    cap_secs: 30 * 60,
};

/// The longest outage the queue is sized to ride out: Feishu's own retry window for a
/// webhook is ~7.1 h; six hours of Feishu APIs down is the design case (issue 10).
pub const OUTAGE_TO_RIDE_OUT: Duration = Duration::from_secs(6 * 3600);

/// SQS caps a message's visibility at 12 hours from its receipt; the processor may have
/// spent part of that already.
const SQS_MAX_VISIBILITY_SECS: u32 = 11 * 3600;

impl RetrySchedule {
    /// The wait before the delivery after `delivery` (1 = the first), without jitter.
    pub fn full_delay(&self, delivery: u32) -> u32 {
        let doubling = delivery.saturating_sub(1).min(31);
        self.first_secs
            .saturating_mul(1u32.checked_shl(doubling).unwrap_or(u32::MAX))
            .min(self.cap_secs)
            .max(1)
    }

    /// The shortest wait jitter can give (half of the full delay, rounded up).
    pub fn least_delay(&self, delivery: u32) -> u32 {
        self.full_delay(delivery).div_ceil(2)
    }

    /// The wait to set, from a random `fraction` in [0, 1] and the failure's own `hint`.
    pub fn delay(&self, delivery: u32, hint: Option<Duration>, fraction: f64) -> u32 {
        let full = self.full_delay(delivery);
        let least = self.least_delay(delivery);
        let jittered = least + ((full - least) as f64 * fraction.clamp(0.0, 1.0)) as u32;
        let named = hint.map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        jittered.max(named).min(SQS_MAX_VISIBILITY_SECS)
    }

    /// How many deliveries it takes, at the shortest waits, for the waits to add up to
    /// `outage`: a maxReceiveCount at least this large rides it out.
    pub fn deliveries_to_span(&self, outage: Duration) -> u32 {
        let mut waited: u64 = 0;
        let mut delivery = 0;
        while waited < outage.as_secs() {
            delivery += 1;
            waited += u64::from(self.least_delay(delivery));
        }
        // The last delivery comes after the outage, and must still be allowed.
        delivery + 1
    }
}

/// A uniform fraction in [0, 1] for the jitter.
pub(super) fn random_fraction() -> f64 {
    let mut r = [0u8; 4];
    match getrandom::fill(&mut r) {
        Ok(()) => f64::from(u32::from_le_bytes(r)) / f64::from(u32::MAX),
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::settings::MAX_RECEIVE_COUNT;

    #[test]
    fn the_delay_doubles_to_its_cap_and_respects_the_failures_own_wait() {
        let s = PRODUCTION;
        let full: Vec<u32> = (1..=7).map(|n| s.full_delay(n)).collect();
        assert_eq!(full, [60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(s.delay(1, None, 0.0), 30);
        assert_eq!(s.delay(1, None, 1.0), 60);
        assert_eq!(s.delay(40, None, 1.0), 1800);
        assert_eq!(
            s.delay(1, Some(Duration::from_secs(300)), 0.0),
            300,
            "rate-limit reset"
        );
        assert_eq!(s.delay(u32::MAX, None, 0.5), 1350);
    }

    #[test]
    fn the_queue_is_sized_to_ride_out_a_six_hour_outage() {
        let needed = PRODUCTION.deliveries_to_span(OUTAGE_TO_RIDE_OUT);
        assert!(
            needed <= MAX_RECEIVE_COUNT,
            "a {OUTAGE_TO_RIDE_OUT:?} outage needs {needed} deliveries at the shortest waits; \
             maxReceiveCount is {MAX_RECEIVE_COUNT}"
        );
        // ...and a failure that can never succeed still reaches the DLQ within a day.
        let longest: u64 = (1..=MAX_RECEIVE_COUNT)
            .map(|n| u64::from(PRODUCTION.full_delay(n)))
            .sum();
        assert!(longest < 24 * 3600, "{longest} s");
    }
}
