//! Prometheus metrics for `GET /metrics`: requests by route and status, Bitrix24 calls by method and
//! outcome, token refreshes by outcome, time spent waiting on the portals' limits, errors by kind, and
//! call-list saves by outcome.
//!
//! Labels never carry a portal, a user or an ID, only values from small fixed sets (route patterns,
//! method names the app uses, error codes the reference lists), so the number of series stays the same
//! with one portal or a hundred thousand.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::bitrix::CallObserver;
use crate::bitrix::ErrorCode;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Registry,
    http_requests: Family<Labels, Counter>,
    bitrix_calls: Family<Labels, Counter>,
    bitrix_call_seconds: Family<Labels, Histogram>,
    refreshes: Family<Labels, Counter>,
    limit_wait_seconds: Counter<f64, AtomicU64>,
    errors: Family<Labels, Counter>,
    saves: Family<Labels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// The Bitrix24 methods the app calls; anything else is counted as `other`.
const METHODS: &[&str] = &[
    "batch",
    "crm.calllist.add",
    "crm.calllist.get",
    "crm.calllist.items.get",
    "crm.calllist.list",
    "crm.calllist.statuslist",
    "crm.calllist.update",
    "crm.item.list",
    "crm.webform.list",
    "user.current",
    "profile",
    "app.info",
    "event.bind",
    "placement.bind",
];

fn method_label(method: &str) -> String {
    let m = method.to_ascii_lowercase();
    if METHODS.contains(&m.as_str()) { m } else { "other".into() }
}

/// An outcome or error kind as a bounded label: known codes keep their name, unknown ones become `OTHER`.
pub fn outcome_label(outcome: &str) -> String {
    match ErrorCode::parse(outcome) {
        ErrorCode::Other(_) => {
            const OWN: &[&str] = &[
                "ok",
                "NOT_SENT",
                "CONNECTION_LOST",
                "TIMEOUT",
                "SERVER_FAULT",
                "NEEDS_REAUTHORISATION",
                "AMBIGUOUS",
                "TRANSPORT",
                "BUDGET_EXHAUSTED",
                "BAD_RESPONSE",
                "REDIRECT",
                "ENDPOINT",
                "STORE",
                "INVALID",
            ];
            if OWN.contains(&outcome) { outcome.to_owned() } else { "OTHER".into() }
        }
        _ => outcome.to_ascii_uppercase(),
    }
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("b24_calllist");
        let http_requests = Family::<Labels, Counter>::default();
        registry.register("http_requests", "HTTP requests served, by route pattern and status", http_requests.clone());
        let bitrix_calls = Family::<Labels, Counter>::default();
        registry.register("bitrix_calls", "Requests sent to Bitrix24, by method and outcome", bitrix_calls.clone());
        let bitrix_call_seconds =
            Family::<Labels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.005, 2.0, 14)));
        registry.register(
            "bitrix_call_seconds",
            "Time of one request to Bitrix24, by method",
            bitrix_call_seconds.clone(),
        );
        let refreshes = Family::<Labels, Counter>::default();
        registry.register(
            "token_refreshes",
            "Token renewals: refreshed (a grant was spent), adopted (another worker's pair was used), failed",
            refreshes.clone(),
        );
        let limit_wait_seconds = Counter::<f64, AtomicU64>::default();
        registry.register(
            "limit_wait_seconds",
            "Time spent waiting for the portals' request limits and backoff",
            limit_wait_seconds.clone(),
        );
        let errors = Family::<Labels, Counter>::default();
        registry.register("errors", "Failures shown to users, by kind", errors.clone());
        let saves = Family::<Labels, Counter>::default();
        registry.register("calllist_saves", "Call-list saves, by outcome", saves.clone());
        Arc::new(Metrics {
            registry,
            http_requests,
            bitrix_calls,
            bitrix_call_seconds,
            refreshes,
            limit_wait_seconds,
            errors,
            saves,
        })
    }

    /// Counts a request by its route pattern, written `/lists/:id` (braces upset some exposition parsers).
    pub fn http(&self, route: &str, status: u16) {
        let route = route.replace('{', ":").replace('}', "");
        self.http_requests.get_or_create(&vec![("route", route), ("status", status.to_string())]).inc();
    }

    pub fn error(&self, kind: &str) {
        self.errors.get_or_create(&vec![("kind", outcome_label(kind))]).inc();
    }

    pub fn save(&self, outcome: &str) {
        self.saves.get_or_create(&vec![("outcome", outcome.to_owned())]).inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl CallObserver for Metrics {
    fn exchange(&self, method: &str, outcome: &str, elapsed: Duration) {
        let method = method_label(method);
        self.bitrix_calls.get_or_create(&vec![("method", method.clone()), ("outcome", outcome_label(outcome))]).inc();
        self.bitrix_call_seconds.get_or_create(&vec![("method", method)]).observe(elapsed.as_secs_f64());
    }

    fn waited_for_limits(&self, waited: Duration) {
        self.limit_wait_seconds.inc_by(waited.as_secs_f64());
    }

    fn refresh(&self, outcome: &str) {
        self.refreshes.get_or_create(&vec![("outcome", outcome.to_owned())]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_in_small_fixed_sets() {
        assert_eq!(method_label("CRM.CALLLIST.UPDATE"), "crm.calllist.update");
        assert_eq!(method_label("anything.else"), "other");
        assert_eq!(outcome_label("expired_token"), "EXPIRED_TOKEN");
        assert_eq!(outcome_label("some portal's own code"), "OTHER");
        assert_eq!(outcome_label("ok"), "ok");
    }
}
