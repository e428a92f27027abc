//! The request span and access log line. The query string is left out on purpose: the OAuth callback
//! carries a one-time `code` there, and the portal puts nothing in a query that a log needs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

pub struct PathOnly;

impl RootSpanBuilder for PathOnly {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".into());
        request.extensions_mut().insert(std::time::Instant::now());
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            request_id = %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, took) = match outcome {
            Ok(r) => (
                r.status().as_u16(),
                r.request().extensions().get::<std::time::Instant>().map(|t| t.elapsed().as_millis() as u64),
            ),
            Err(e) => (e.as_response_error().status_code().as_u16(), None),
        };
        span.record("status", status);
        let _entered = span.enter();
        tracing::info!(status, took_ms = took.unwrap_or(0), "handled");
    }
}
