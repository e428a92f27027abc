//! A request body must arrive within a bounded time. actix cuts slow headers itself, but a client that sent
//! its headers and then trickles the body would hold a connection (and its buffers) for as long as it likes;
//! here the whole body has `BODY_DEADLINE` from the moment the handler starts reading it.

use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use futures_util::StreamExt;

/// Long enough for the largest form the pages post (2 MiB) on a slow line, short enough that held
/// connections do not pile up.
pub const BODY_DEADLINE: Duration = Duration::from_secs(15);

pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let payload = req.take_payload();
    let deadline = tokio::time::Instant::now() + BODY_DEADLINE;
    let timed = futures_util::stream::unfold(Some(payload), move |state| async move {
        let mut payload = state?;
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(payload))),
            Ok(None) => None,
            Err(_) => {
                tracing::info!("a request body did not arrive in time");
                let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body came too slowly");
                Some((Err(PayloadError::Io(late)), None))
            }
        }
    });
    let boxed: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<actix_web::web::Bytes, PayloadError>>>> =
        Box::pin(timed);
    req.set_payload(Payload::from(boxed));
    next.call(req).await
}
