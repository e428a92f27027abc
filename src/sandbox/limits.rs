//! The portal's limits (reference 5.5) and the faults tests inject.
//!
//! The leaky bucket counts HTTP requests per portal: each adds one, the bucket drains at a fixed rate, and a
//! request that would overflow it is refused with 503 `QUERY_LIMIT_EXCEEDED` (and not counted). The
//! `operating` budget sums each method's execution time in one-minute buckets over a rolling ten minutes; once
//! the sum passes the limit, the next call of that method is refused with 429 `OPERATION_TIME_LIMIT`.

use std::collections::{HashMap, VecDeque};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::config::{FaultKind, FaultsConfig, Latency, LimitsConfig};

/// Calls faster than this are not charged to the budget (source: 0.1 s).
const MIN_RECORDED_SECS: f64 = 0.1;
const WINDOW_MINUTES: i64 = 10;

pub struct Runtime {
    pub limits: LimitsConfig,
    pub faults: FaultsConfig,
    rng: StdRng,
    one_shots: HashMap<String, VecDeque<FaultKind>>,
    bucket_level: f64,
    bucket_at: f64,
    /// method → (minute index, seconds) buckets.
    operating: HashMap<String, VecDeque<(i64, f64)>>,
    pub bucket_rejections: u64,
    /// Requests the bucket let in.
    pub bucket_admissions: u64,
    pub operating_rejections: u64,
    pub injected_faults: u64,
}

/// A portal's leaky bucket as it stands (reference 5.5): how full it is now, its size and drain, and how many
/// requests it let in and refused since the sandbox started.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct BucketStats {
    /// Requests in the bucket now, after draining.
    pub level: f64,
    pub burst: f64,
    pub drain_per_sec: f64,
    pub admitted: u64,
    /// Requests refused with 503 `QUERY_LIMIT_EXCEEDED`.
    pub rejected: u64,
    /// Whether the bucket is on.
    pub on: bool,
}

/// The budget's state for one method, for the `time` block.
#[derive(Clone, Copy, Debug)]
pub struct Operating {
    pub used: f64,
    pub reset_at: i64,
}

impl Runtime {
    pub fn new(limits: LimitsConfig, faults: FaultsConfig) -> Self {
        let rng = StdRng::seed_from_u64(faults.seed);
        Runtime {
            limits,
            faults,
            rng,
            one_shots: HashMap::new(),
            bucket_level: 0.0,
            bucket_at: 0.0,
            operating: HashMap::new(),
            bucket_rejections: 0,
            bucket_admissions: 0,
            operating_rejections: 0,
            injected_faults: 0,
        }
    }

    pub fn set_faults(&mut self, faults: FaultsConfig) {
        self.rng = StdRng::seed_from_u64(faults.seed);
        self.faults = faults;
    }

    pub fn set_limits(&mut self, limits: LimitsConfig) {
        self.limits = limits;
        self.bucket_level = 0.0;
        self.operating.clear();
    }

    pub fn inject_once(&mut self, method: &str, fault: FaultKind) {
        self.one_shots.entry(method.to_ascii_lowercase()).or_default().push_back(fault);
    }

    /// One more request into the bucket; false if it would overflow.
    pub fn bucket_admit(&mut self, now: f64) -> bool {
        if !self.limits.bucket {
            return true;
        }
        let drained = (now - self.bucket_at).max(0.0) * self.limits.drain_per_sec;
        self.bucket_level = (self.bucket_level - drained).max(0.0);
        self.bucket_at = now;
        if self.bucket_level + 1.0 > self.limits.burst {
            self.bucket_rejections += 1;
            return false;
        }
        self.bucket_level += 1.0;
        self.bucket_admissions += 1;
        true
    }

    pub fn bucket_stats(&self, now: f64) -> BucketStats {
        let drained = (now - self.bucket_at).max(0.0) * self.limits.drain_per_sec;
        BucketStats {
            level: (self.bucket_level - drained).max(0.0),
            burst: self.limits.burst,
            drain_per_sec: self.limits.drain_per_sec,
            admitted: self.bucket_admissions,
            rejected: self.bucket_rejections,
            on: self.limits.bucket,
        }
    }

    /// The fault this call gets, if any: a one-shot for its method first, else the dice.
    pub fn pick_fault(&mut self, method: &str) -> Option<FaultKind> {
        if let Some(q) = self.one_shots.get_mut(method)
            && let Some(f) = q.pop_front()
        {
            self.injected_faults += 1;
            return Some(f);
        }
        if self.faults.rate > 0.0 && !self.faults.kinds.is_empty() && self.rng.random_bool(self.faults.rate.min(1.0)) {
            let i = self.rng.random_range(0..self.faults.kinds.len());
            self.injected_faults += 1;
            return Some(self.faults.kinds[i]);
        }
        None
    }

    pub fn latency(&mut self) -> Option<std::time::Duration> {
        match self.faults.latency {
            Latency::None => None,
            Latency::Fixed { ms } => Some(std::time::Duration::from_millis(ms)),
            Latency::Random { min_ms, max_ms } => {
                let (lo, hi) = (min_ms.min(max_ms), min_ms.max(max_ms));
                Some(std::time::Duration::from_millis(self.rng.random_range(lo..=hi)))
            }
        }
    }

    fn window(&mut self, method: &str, now: f64) -> &mut VecDeque<(i64, f64)> {
        let minute = (now / 60.0).floor() as i64;
        let q = self.operating.entry(method.to_owned()).or_default();
        while q.front().is_some_and(|(m, _)| *m <= minute - WINDOW_MINUTES) {
            q.pop_front();
        }
        q
    }

    pub fn operating(&mut self, method: &str, now: f64) -> Operating {
        let q = self.window(method, now);
        let used = q.iter().map(|(_, s)| s).sum();
        let minute = (now / 60.0).floor() as i64;
        let oldest = q.front().map(|(m, _)| *m).unwrap_or(minute);
        Operating { used, reset_at: (oldest + WINDOW_MINUTES) * 60 }
    }

    /// Whether the budget refuses this call (it was used up by earlier ones).
    pub fn operating_blocked(&mut self, method: &str, now: f64) -> Option<Operating> {
        if !self.limits.operating || method == "batch" {
            return None;
        }
        let op = self.operating(method, now);
        if op.used > self.limits.operating_limit_secs {
            self.operating_rejections += 1;
            Some(op)
        } else {
            None
        }
    }

    /// Charge a finished call; returns the method's budget after it.
    pub fn charge(&mut self, method: &str, now: f64, real_secs: f64) -> Operating {
        let cost = real_secs + self.limits.operating_costs.get(method).copied().unwrap_or(0.0);
        if method != "batch" && cost >= MIN_RECORDED_SECS {
            let minute = (now / 60.0).floor() as i64;
            let q = self.window(method, now);
            match q.back_mut() {
                Some((m, s)) if *m == minute => *s += cost,
                _ => q.push_back((minute, cost)),
            }
        }
        self.operating(method, now)
    }
}
