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
    injections: Vec<Injection>,
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

/// An injected fault: the calls of `method` (`*`: every request) fail with `kind`, `remaining` more times
/// (`None`: until cleared).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Injection {
    pub method: String,
    pub kind: FaultKind,
    pub remaining: Option<u32>,
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
            injections: Vec::new(),
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

    /// The next `times` calls of `method` (lower-case; `*` for every request) fail with `fault`; `None` for
    /// every call until [`Runtime::clear_injections`].
    pub fn inject(&mut self, method: &str, fault: FaultKind, times: Option<u32>) {
        if times == Some(0) {
            return;
        }
        self.injections.push(Injection { method: method.to_ascii_lowercase(), kind: fault, remaining: times });
    }

    pub fn clear_injections(&mut self) {
        self.injections.clear();
    }

    pub fn injections(&self) -> &[Injection] {
        &self.injections
    }

    /// Takes the first injection that `fits`, spending one of its times.
    fn take(&mut self, fits: impl Fn(&Injection) -> bool) -> Option<FaultKind> {
        let i = self.injections.iter().position(fits)?;
        let kind = self.injections[i].kind;
        match &mut self.injections[i].remaining {
            Some(1) => {
                self.injections.remove(i);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        self.injected_faults += 1;
        Some(kind)
    }

    /// Whether the dice roll for a method.
    fn dice_for(&self, method: &str) -> bool {
        self.faults.rate > 0.0
            && !self.faults.kinds.is_empty()
            && (self.faults.methods.is_empty() || self.faults.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
    }

    /// One roll: a kind among those `allowed`, at the configured rate.
    fn roll(&mut self, allowed: impl Fn(FaultKind) -> bool) -> Option<FaultKind> {
        let kinds: Vec<FaultKind> = self.faults.kinds.iter().copied().filter(|k| allowed(*k)).collect();
        if kinds.is_empty() || !self.rng.random_bool(self.faults.rate.min(1.0)) {
            return None;
        }
        self.injected_faults += 1;
        Some(kinds[self.rng.random_range(0..kinds.len())])
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

    /// The fault a whole request gets, if any: an injection for its method (or `*`), or, for a `batch`, an
    /// injection of a kind that refuses whole requests for one of its `commands`; else the dice (for the
    /// request's method, or a command's when the dice name methods, then of such a kind only).
    pub fn pick_fault(&mut self, method: &str, commands: &[String]) -> Option<FaultKind> {
        let taken = self.take(|i| {
            i.method == "*" || i.method == method || (i.kind.refuses_whole_request() && commands.contains(&i.method))
        });
        if taken.is_some() {
            return taken;
        }
        if self.dice_for(method) {
            return self.roll(|_| true);
        }
        if !self.faults.methods.is_empty() && commands.iter().any(|c| self.dice_for(c)) {
            return self.roll(FaultKind::refuses_whole_request);
        }
        None
    }

    /// The fault one command of a `batch` gets, if any: an injection for its method of a kind a command can
    /// get, else the dice when they name its method.
    pub fn pick_command_fault(&mut self, method: &str) -> Option<FaultKind> {
        let taken = self.take(|i| i.method == method && !i.kind.refuses_whole_request());
        if taken.is_some() {
            return taken;
        }
        if !self.faults.methods.is_empty() && self.dice_for(method) {
            return self.roll(|k| !k.refuses_whole_request());
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
