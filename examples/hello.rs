//! The floor for the server-overhead benchmark: a hello-world actix-web handler, built and measured in the
//! same run as the app (`benches/overhead.py`, `benches/openloop.py`). Usage: `hello ADDR`.

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8099".into());
    HttpServer::new(|| App::new().route("/", web::post().to(|| async { HttpResponse::Ok().body("hello") })))
        .bind(addr)?
        .run()
        .await
}
