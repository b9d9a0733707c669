//! A token bucket: at most `burst` requests at once, refilled at `per_second`.

use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::Mutex;

#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// `per_second` <= 0 means unlimited.
    pub fn new(per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self { per_second, burst, state: Mutex::new((burst, Instant::now())) }
    }

    /// Waits until a request may be sent. Returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        if self.per_second <= 0.0 {
            return Duration::ZERO;
        }
        let wait = {
            let mut state = self.state.lock().await;
            let (tokens, last) = &mut *state;
            let now = Instant::now();
            *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
            *last = now;
            *tokens -= 1.0;
            if *tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-*tokens / self.per_second) }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_paced() {
        let limiter = RateLimiter::new(10.0, 3);
        for _ in 0..3 {
            assert_eq!(limiter.acquire().await, Duration::ZERO);
        }
        let waited = limiter.acquire().await;
        assert!(waited >= Duration::from_millis(99) && waited <= Duration::from_millis(101), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let limiter = RateLimiter::new(0.0, 1);
        for _ in 0..100 {
            assert_eq!(limiter.acquire().await, Duration::ZERO);
        }
    }
}
