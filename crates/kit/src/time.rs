//! Short waits inside a request. A component that must wait for another request to
//! finish (e.g. the first holder of an idempotency key) sleeps on the WASI monotonic
//! clock, which hands the time back to the host (and, on WASIp3, to the other
//! requests the instance serves) instead of spinning.

use std::time::Duration;

/// Pauses the request for `duration`.
pub async fn sleep(duration: Duration) {
    crate::sdk::sleep(duration).await;
}

/// Pauses that double from a first step up to a largest one until a time budget is
/// spent: quick to notice a result that is almost ready, cheap on one that is not.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max_step: Duration,
    remaining: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max_step: Duration, budget: Duration) -> Backoff {
        Backoff {
            next: first.min(max_step),
            max_step,
            remaining: budget,
        }
    }

    /// The next pause, or `None` once the budget is spent. The pauses add up to
    /// exactly the budget.
    pub(crate) fn next_pause(&mut self) -> Option<Duration> {
        if self.remaining.is_zero() {
            return None;
        }
        let pause = self.next.min(self.remaining);
        self.remaining -= pause;
        self.next = (self.next * 2).min(self.max_step);
        Some(pause)
    }

    /// Sleeps the next pause; `false` (without sleeping) once the budget is spent.
    pub async fn wait(&mut self) -> bool {
        match self.next_pause() {
            Some(pause) => {
                sleep(pause).await;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn pauses_double_up_to_the_largest_step_and_stop_at_the_budget() {
        let mut backoff = Backoff::new(ms(10), ms(50), ms(200));
        let pauses: Vec<Duration> = std::iter::from_fn(|| backoff.next_pause()).collect();
        assert_eq!(pauses, [ms(10), ms(20), ms(40), ms(50), ms(50), ms(30)]);
        assert_eq!(pauses.iter().sum::<Duration>(), ms(200));
        assert_eq!(backoff.next_pause(), None);
    }

    #[test]
    fn an_empty_budget_never_pauses() {
        let mut backoff = Backoff::new(ms(10), ms(50), Duration::ZERO);
        assert_eq!(backoff.next_pause(), None);
        assert!(!futures::executor::block_on(backoff.wait()));
    }
}
