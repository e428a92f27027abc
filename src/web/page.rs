//! Rendering pages for the iframe: the security headers each page needs (a CSP whose `frame-ancestors` is
//! the portal's origin, never `X-Frame-Options`), error pages in the manager's language, and the page
//! context every template shares.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use askama::Template;
use url::Url;

use super::i18n::{Texts, texts};
use crate::domain::Lang;

/// Who may frame a page: the portal's origin, or nobody.
#[derive(Debug, Clone)]
pub struct Framing(String);

impl Framing {
    /// The origin of a portal's REST base (`https://portal.bitrix24.com`).
    pub fn portal(endpoint: &Url) -> Framing {
        Framing(origin(endpoint).unwrap_or_else(|| "'none'".into()))
    }

    /// For error pages shown before the portal is known: the origin the request claims, so the message
    /// shows in the frame. The page carries nothing but the message.
    pub fn claimed(domain: &str, https: bool) -> Framing {
        let scheme = if https { "https" } else { "http" };
        match Url::parse(&format!("{scheme}://{domain}/")) {
            Ok(u) if !domain.is_empty() && u.host_str().is_some() => Framing::portal(&u),
            _ => Framing::none(),
        }
    }

    pub fn none() -> Framing {
        Framing("'none'".into())
    }

    pub fn csp(&self) -> String {
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {}",
            self.0
        )
    }
}

fn origin(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let host = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// Marks a response as a page the app rendered itself, so the error-page middleware leaves it as it is
/// even when its status is an error (a page that explains a refusal in its own way).
#[derive(Debug, Clone, Copy)]
pub struct OwnPage;

/// Renders `page` with the framing and no caching (pages hold a session reference).
pub fn render(status: StatusCode, framing: &Framing, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => {
            let mut res = HttpResponse::build(status)
                .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
                .insert_header((CONTENT_SECURITY_POLICY, framing.csp()))
                .insert_header((CACHE_CONTROL, "no-store"))
                .body(html);
            res.extensions_mut().insert(OwnPage);
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body("page error")
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub t: &'a Texts,
    pub message: &'a str,
    pub detail: Option<String>,
    pub hint: bool,
}

/// An error page in `lang`: what went wrong, and what to do.
pub fn problem(
    status: StatusCode,
    lang: Lang,
    framing: &Framing,
    message: &str,
    detail: Option<String>,
) -> HttpResponse {
    let page = ErrorPage { t: texts(lang), message, detail, hint: true };
    render(status, framing, &page)
}

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage<'a> {
    pub t: &'a Texts,
    pub title: &'a str,
    pub message: &'a str,
}

pub fn notice(lang: Lang, framing: &Framing, title: &str, message: &str) -> HttpResponse {
    render(StatusCode::OK, framing, &NoticePage { t: texts(lang), title, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_names_the_portal_origin_only() {
        let f = Framing::portal(&"https://p.bitrix24.com/rest/".parse().unwrap());
        assert!(f.csp().ends_with("frame-ancestors https://p.bitrix24.com"));
        let local = Framing::portal(&"http://127.0.0.1:8024/rest/".parse().unwrap());
        assert!(local.csp().ends_with("frame-ancestors http://127.0.0.1:8024"));
        assert!(Framing::claimed("", true).csp().ends_with("'none'"));
        assert!(Framing::claimed("evil.example\"; script-src *", true).csp().ends_with("'none'"));
    }
}
