//! Pacing to a request budget: requests leave evenly spaced, so no window of the
//! budget's length ever holds more requests than the budget allows, whether the server
//! counts in fixed windows, sliding windows or a token bucket.
//!
//! It owns only the spacing; the budget itself is `settings::Rate`, and the in-flight
//! cap, retries and Retry-After pauses live in `http`. Every request counts, retries
//! included: Wikimedia's limits count requests, not successes.
//! <https://wikitech.wikimedia.org/wiki/Robot_policy>

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spacing is stretched by this share of the interval, so a request that reaches the
/// server a few milliseconds early (the first one paid for the TCP and TLS handshakes)
/// never lands in the previous window.
const SAFETY_MARGIN: f64 = 0.02;

/// Hands out evenly spaced departure times.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// At most `requests` per `window`; `requests` is at least 1.
    pub(crate) fn new(requests: u32, window: Duration) -> Self {
        let interval = window
            .div_f64(f64::from(requests.max(1)))
            .mul_f64(1.0 + SAFETY_MARGIN);
        Pacer {
            interval,
            next: Mutex::new(None),
        }
    }

    /// The time between two requests.
    #[cfg(test)]
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this request's turn. The slot is taken before waiting, so concurrent
    /// callers queue in order and none is skipped.
    pub(crate) async fn wait_turn(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_window_holds_more_than_the_budget() {
        let pacer = std::sync::Arc::new(Pacer::new(5, Duration::from_secs(10)));
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..23 {
            let pacer = pacer.clone();
            handles.push(tokio::spawn(async move {
                pacer.wait_turn().await;
                Instant::now() - start
            }));
        }
        let mut sent = Vec::new();
        for h in handles {
            sent.push(h.await.expect("task"));
        }
        sent.sort();
        // Any 10-second window, wherever it starts, holds at most 5 departures.
        for (i, t) in sent.iter().enumerate() {
            let in_window = sent[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(10))
                .count();
            assert!(in_window <= 5, "{in_window} requests within 10 s of {t:?}");
        }
        // ... and the budget is used: 23 requests take 22 intervals, no more.
        let last = *sent.last().expect("sent");
        assert_eq!(last, pacer.interval() * 22);
        assert!(last < Duration::from_secs(46), "{last:?}");
    }
}
