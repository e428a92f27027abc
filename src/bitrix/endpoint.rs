//! Which addresses the app may call. A portal's REST base comes from the OAuth server's answer and is
//! checked here once: https only, no credentials in it, and no loopback or private hosts, unless
//! `APP_ALLOW_INSECURE_PORTALS` opens them for the sandbox and for on-premise portals.

use std::net::IpAddr;

use url::{Host, Url};

use super::BitrixError;

/// Checks and normalises a REST base such as `https://portal.bitrix24.com/rest/` (always ends in `/`).
pub fn rest_base(raw: &str, allow_insecure: bool) -> Result<Url, BitrixError> {
    let refuse = |why: &str| BitrixError::Endpoint(format!("`{}`: {why}", shorten(raw)));
    let mut url = Url::parse(raw.trim()).map_err(|e| refuse(&e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        "http" => return Err(refuse("plain http is refused (APP_ALLOW_INSECURE_PORTALS=false)")),
        _ => return Err(refuse("expected an https:// address")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("credentials in the address are refused"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("a query or fragment is refused"));
    }
    let host = url.host().ok_or_else(|| refuse("no host"))?;
    if !allow_insecure && is_internal(&host) {
        return Err(refuse("a loopback or private address is refused (APP_ALLOW_INSECURE_PORTALS=false)"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn is_internal(host: &Host<&str>) -> bool {
    let ip = match host {
        Host::Domain(d) => return d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip),
        Host::Ipv6(ip) => IpAddr::V6(*ip),
    };
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast()
        }
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloud_endpoint_is_accepted_and_normalised() {
        assert_eq!(rest_base("https://p.bitrix24.com/rest", false).unwrap().as_str(), "https://p.bitrix24.com/rest/");
    }

    #[test]
    fn insecure_and_internal_endpoints_need_the_allowance() {
        for raw in [
            "http://p.example.com/rest/",
            "https://127.0.0.1/rest/",
            "https://10.0.0.5/rest/",
            "https://localhost/rest/",
        ] {
            assert!(rest_base(raw, false).is_err(), "{raw}");
            assert!(rest_base(raw, true).is_ok(), "{raw}");
        }
        assert!(rest_base("https://user:pw@p.example.com/rest/", true).is_err());
        assert!(rest_base("ftp://p.example.com/", true).is_err());
    }
}
