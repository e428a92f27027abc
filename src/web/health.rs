//! Liveness, readiness and metrics, for load balancers, orchestrators and monitoring.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::state::AppState;

/// The process is up and serving.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The app can do its work: the database answers.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.database().ping(Duration::from_secs(2)).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "reason": e.to_string() }))
        }
    }
}

/// Prometheus metrics, in the text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.encode())
}

/// Counts every request by its route pattern (never the path itself, which may hold IDs) and status.
pub async fn count_requests(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let counters = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    let res = next.call(req).await?;
    if let Some(m) = counters {
        m.http(&route, res.status().as_u16());
    }
    Ok(res)
}
