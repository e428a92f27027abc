//! The app's static files, compiled into the binary so it runs from any folder and loads nothing from
//! outside hosts.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, get, web};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../../static/app.css") },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/app.js"),
    },
    // htmx 2.0.11 from the npm registry (`htmx.org`), unchanged; its licence is `static/vendor/htmx.LICENSE`.
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/vendor/htmx-2.0.11.min.js"),
    },
    // Open Sans from `@fontsource/open-sans` 5.3.0 (SIL Open Font License, `static/vendor/open-sans.LICENSE`).
    Asset {
        name: "open-sans-latin-400.woff2",
        content_type: "font/woff2",
        body: include_bytes!("../../static/vendor/open-sans-latin-400-normal.woff2"),
    },
    Asset {
        name: "open-sans-latin-600.woff2",
        content_type: "font/woff2",
        body: include_bytes!("../../static/vendor/open-sans-latin-600-normal.woff2"),
    },
    Asset {
        name: "open-sans-cyrillic-400.woff2",
        content_type: "font/woff2",
        body: include_bytes!("../../static/vendor/open-sans-cyrillic-400-normal.woff2"),
    },
    Asset {
        name: "open-sans-cyrillic-600.woff2",
        content_type: "font/woff2",
        body: include_bytes!("../../static/vendor/open-sans-cyrillic-600-normal.woff2"),
    },
    Asset {
        name: "b24frame.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/b24frame.js"),
    },
];

#[get("/static/{name}")]
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|a| a.name == name.as_str()) {
        Some(a) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, a.content_type))
            .insert_header((CACHE_CONTROL, "public, max-age=3600"))
            .body(a.body),
        None => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("no such file"),
    }
}
