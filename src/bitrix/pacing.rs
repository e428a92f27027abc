//! Staying inside a portal's limits (reference 5.5) before a request leaves, not after the portal refuses.
//!
//! Each portal gets a leaky bucket like Bitrix24's own: a burst of 50 requests, then 2 a second (250 and 5
//! on Enterprise plans). A method the portal has blocked for exceeding its operating-time budget is held
//! until the time the portal gave (`operating_reset_at`). One instance keeps both in the process; several
//! instances share them through a [`SharedBudget`] (the store, on PostgreSQL), so together they stay within
//! the portal's one bucket.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::error::BitrixError;

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// A portal's request budget: a burst, then a steady rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: f64,
}

impl RateLimit {
    /// Every plan but Enterprise.
    pub const STANDARD: RateLimit = RateLimit { burst: 50, per_second: 2.0 };
    pub const ENTERPRISE: RateLimit = RateLimit { burst: 250, per_second: 5.0 };
    /// For tests and benchmarks against a sandbox with limits off.
    pub const UNLIMITED: RateLimit = RateLimit { burst: 1_000_000, per_second: 1_000_000.0 };
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit::STANDARD
    }
}

/// What the portal last said about a method's operating budget.
#[derive(Debug, Clone, Copy)]
struct MethodState {
    operating: f64,
    reset_at: Option<i64>,
    blocked_until: Option<Instant>,
}

/// A request budget shared by several instances: each portal's bucket and the methods it blocked.
pub trait SharedBudget: Send + Sync {
    /// Takes one request for `method` of `portal`; `Ok(Err(wait))` when it does not fit for `wait` yet.
    #[allow(clippy::type_complexity)]
    fn take<'a>(
        &'a self,
        portal: &'a str,
        method: &'a str,
        limit: RateLimit,
    ) -> Pin<Box<dyn Future<Output = Result<Result<(), Duration>, BitrixError>> + Send + 'a>>;

    /// Holds `method` of `portal` for everyone for `duration`.
    fn block<'a>(
        &'a self,
        portal: &'a str,
        method: &'a str,
        duration: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<(), BitrixError>> + Send + 'a>>;
}

pub struct Pacer {
    limiter: RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>,
    methods: Mutex<HashMap<(String, String), MethodState>>,
    limit: RateLimit,
    shared: Option<Arc<dyn SharedBudget>>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pacer")
    }
}

impl Pacer {
    pub fn new(limit: RateLimit) -> Pacer {
        let burst = NonZeroU32::new(limit.burst.max(1)).expect("at least one");
        let period = Duration::from_secs_f64(1.0 / limit.per_second.max(0.001));
        let quota = Quota::with_period(period).expect("a positive period").allow_burst(burst);
        Pacer { limiter: RateLimiter::keyed(quota), methods: Mutex::new(HashMap::new()), limit, shared: None }
    }

    /// Shares the buckets and method blocks with other instances through `shared`.
    pub fn with_shared(mut self, shared: Arc<dyn SharedBudget>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Waits for the portal's bucket to admit one more request for `method`; returns how long it waited,
    /// or, when the wait would run past `deadline`, how long it would have had to wait.
    pub async fn wait_turn(&self, portal: &str, method: &str, deadline: Instant) -> Result<Duration, BitrixError> {
        let started = Instant::now();
        let Some(shared) = &self.shared else {
            self.limiter.until_key_ready(&portal.to_owned()).await;
            return Ok(started.elapsed());
        };
        loop {
            match shared.take(portal, method, self.limit).await? {
                Ok(()) => return Ok(started.elapsed()),
                Err(wait) if Instant::now() + wait > deadline => {
                    return Err(BitrixError::BudgetExhausted {
                        method: method.into(),
                        attempts: 0,
                        why: super::error::GaveUp::Limits,
                        last: format!("the portal's shared request budget frees up in {} ms", wait.as_millis()),
                    });
                }
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Tells the other instances that the portal blocked `method` for `duration`.
    pub async fn share_block(&self, portal: &str, method: &str, duration: Duration) {
        if let Some(shared) = &self.shared
            && let Err(e) = shared.block(portal, method, duration).await
        {
            tracing::warn!(error = %e, "cannot share a method block with the other instances");
        }
    }

    /// Records `time.operating` / `time.operating_reset_at` from a successful answer.
    pub fn note_operating(&self, portal: &str, method: &str, operating: Option<f64>, reset_at: Option<i64>) {
        let mut methods = self.methods.lock().expect("pacer lock");
        let entry = methods.entry((portal.to_owned(), method.to_owned())).or_insert(MethodState {
            operating: 0.0,
            reset_at: None,
            blocked_until: None,
        });
        if let Some(o) = operating {
            entry.operating = o;
        }
        if reset_at.is_some() {
            entry.reset_at = reset_at;
        }
        entry.blocked_until = None;
    }

    /// The portal blocked `method` (`OPERATION_TIME_LIMIT`): hold it until the reset time it last gave, or
    /// for `fallback` when it gave none. Returns the instant the method is free again.
    pub fn block(&self, portal: &str, method: &str, fallback: Duration) -> Instant {
        let mut methods = self.methods.lock().expect("pacer lock");
        let entry = methods.entry((portal.to_owned(), method.to_owned())).or_insert(MethodState {
            operating: 0.0,
            reset_at: None,
            blocked_until: None,
        });
        let now_unix = chrono::Utc::now().timestamp();
        let wait = match entry.reset_at {
            Some(reset) if reset > now_unix => Duration::from_secs((reset - now_unix) as u64),
            _ => fallback,
        };
        let until = Instant::now() + wait;
        entry.blocked_until = Some(until);
        until
    }

    /// When a blocked method is free again; `None` if it is not blocked.
    pub fn blocked_until(&self, portal: &str, method: &str) -> Option<Instant> {
        let methods = self.methods.lock().expect("pacer lock");
        methods
            .get(&(portal.to_owned(), method.to_owned()))
            .and_then(|s| s.blocked_until)
            .filter(|until| *until > Instant::now())
    }

    /// The operating time the portal last reported for a method, in seconds.
    pub fn operating(&self, portal: &str, method: &str) -> Option<f64> {
        let methods = self.methods.lock().expect("pacer lock");
        methods.get(&(portal.to_owned(), method.to_owned())).map(|s| s.operating)
    }

    /// Drops idle portals from the bucket table (call now and then with many portals).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_burst_passes_at_once_and_the_next_request_waits_for_the_drain() {
        let pacer = Pacer::new(RateLimit { burst: 5, per_second: 20.0 });
        let mut waited = Duration::ZERO;
        let later = Instant::now() + Duration::from_secs(5);
        for _ in 0..5 {
            waited += pacer.wait_turn("p", "m", later).await.unwrap();
        }
        assert!(waited < Duration::from_millis(20), "the burst must not wait, waited {waited:?}");
        let sixth = pacer.wait_turn("p", "m", later).await.unwrap();
        assert!(sixth >= Duration::from_millis(10), "the sixth request waits for the drain, waited {sixth:?}");
        let other = pacer.wait_turn("other", "m", later).await.unwrap();
        assert!(other < Duration::from_millis(10), "portals have separate buckets");
    }

    #[test]
    fn a_blocked_method_waits_until_the_reported_reset() {
        let pacer = Pacer::new(RateLimit::STANDARD);
        let reset = chrono::Utc::now().timestamp() + 30;
        pacer.note_operating("p", "crm.item.list", Some(400.0), Some(reset));
        let until = pacer.block("p", "crm.item.list", Duration::from_secs(1));
        assert!(until > Instant::now() + Duration::from_secs(20));
        assert!(pacer.blocked_until("p", "crm.item.list").is_some());
        assert!(pacer.blocked_until("p", "crm.calllist.get").is_none());
    }
}
