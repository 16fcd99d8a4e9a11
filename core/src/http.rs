//! One HTTP client for every vendor call, the practice-mode route, and how a vendor's HTTP
//! answer becomes an [`Error`] with a kind.

use crate::catalog::{ApiErrorRule, ProviderSpec, SupportSpec};
use crate::error::{Error, ErrorKind, Result};
use reqwest::header::HeaderMap;
use std::time::Duration;
use url::Url;

/// The user agent every request carries.
pub const USER_AGENT: &str = concat!("Patchbay/", env!("CARGO_PKG_VERSION"));

/// The shared client: rustls, timeouts, a user agent and no automatic redirects (a token
/// endpoint that redirects is an error, never something to follow; RFC 9700 4.11).
pub fn client() -> Result<reqwest::Client> {
    client_with_timeout(REQUEST_TIMEOUT)
}

/// How long one vendor request may take, start to end.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The shared client with another request timeout (tests of a vendor that stops answering).
pub fn client_with_timeout(timeout: Duration) -> Result<reqwest::Client> {
    let system = std::sync::Arc::new(hyper_util::client::proxy::matcher::Matcher::from_system());
    reqwest::Client::builder()
        // The computer's proxy (Windows and macOS settings, HTTP(S)_PROXY and NO_PROXY), never
        // for this computer itself (the practice emulator).
        .no_proxy()
        .proxy(reqwest::Proxy::custom(move |url| proxy_for(&system, url)))
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Network,
                "Patchbay could not start its network client.",
            )
            .with_source(e)
        })
}

/// The proxy a request to `url` goes through, with its credentials: the system's, or none for an
/// address on this computer.
pub fn proxy_for(system: &hyper_util::client::proxy::matcher::Matcher, url: &Url) -> Option<Url> {
    if url.host().is_none() || crate::catalog::is_loopback(url) {
        return None;
    }
    let intercept = system.intercept(&url.as_str().parse::<hyper::Uri>().ok()?)?;
    let mut proxy = Url::parse(&intercept.uri().to_string()).ok()?;
    // The matcher keeps a proxy's user and password as a Basic header; the URL carries them.
    let credentials = intercept
        .basic_auth()
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if let Some((user, password)) = credentials.as_deref().and_then(|c| c.split_once(':')) {
        let _ = proxy.set_username(user);
        let _ = proxy.set_password(Some(password));
    }
    Some(proxy)
}

/// The proxy vendor requests go through, for the support report: its address without any
/// password, or `None` for a direct connection.
pub fn proxy_in_use(vendor_url: &str) -> Option<String> {
    let system = hyper_util::client::proxy::matcher::Matcher::from_system();
    let mut proxy = proxy_for(&system, &Url::parse(vendor_url).ok()?)?;
    let _ = proxy.set_password(None);
    let _ = proxy.set_username("");
    Some(proxy.to_string())
}

/// Where vendor URLs really go: the vendor (default), or the bundled emulator in practice mode
/// and tests, which serves `https://HOST/PATH` at `{base}/HOST/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Vendor,
    Emulator(Url),
}

impl Route {
    pub fn url(&self, raw: &str) -> Result<Url> {
        let url = Url::parse(raw).map_err(|e| {
            Error::new(ErrorKind::Catalog, format!("\"{raw}\" is not a valid URL.")).with_source(e)
        })?;
        match self {
            Route::Vendor => Ok(url),
            Route::Emulator(base) => {
                let host = url.host_str().unwrap_or("");
                let mut out = base.clone();
                out.set_path(&format!(
                    "{}/{host}{}",
                    base.path().trim_end_matches('/'),
                    url.path()
                ));
                out.set_query(url.query());
                Ok(out)
            }
        }
    }

    pub fn is_practice(&self) -> bool {
        matches!(self, Route::Emulator(_))
    }
}

/// What a vendor said in an error answer, for support (never a secret: bodies of error answers
/// carry codes and messages, and only known fields are kept).
///
/// The request-id headers and error fields read are the standard ones (`x-request-id`,
/// `request-id`; RFC 6749's `error` and `error_description`) and the system's own from the
/// catalog (`[provider.support]` `request_id_headers`, `error_fields`).
pub fn provider_detail(
    support: &SupportSpec,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> String {
    let mut parts = vec![format!("HTTP {status}")];
    let standard_headers = ["x-request-id", "request-id"];
    let names = support.request_id_headers.iter().map(String::as_str);
    for name in names.chain(standard_headers) {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            parts.push(format!("{name}={}", truncate(v, 64)));
        }
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let own = support.error_fields.iter().map(String::as_str);
        let fields = std::iter::once("error")
            .chain(own)
            .chain(std::iter::once("error_description"));
        for field in fields {
            let Some(v) = crate::verify::at_path(&json, field) else {
                continue;
            };
            if let Some(s) = v.as_str() {
                parts.push(format!("{field}={}", truncate(s, 160)));
            } else if v.is_number() {
                parts.push(format!("{field}={v}"));
            }
        }
    }
    parts.join(" ")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max).collect::<String>() + "…"
    }
}

/// The longest `Retry-After` Patchbay honours: a vendor (or anything in between) asking for more
/// would otherwise stall an import for days. The longest documented window is QuickBooks Time's
/// five minutes.
pub const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// `Retry-After` in seconds (delta form; an HTTP date is read relative to now), at most
/// [`MAX_RETRY_AFTER_SECS`].
pub fn retry_after(headers: &HeaderMap) -> Option<u64> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let secs = match v.parse::<u64>() {
        Ok(secs) => secs,
        // All digits but too long for a number: "very long".
        Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => u64::MAX,
        Err(_) => {
            let when =
                time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822)
                    .ok()?;
            let delta = when - time::OffsetDateTime::now_utc();
            delta.whole_seconds().max(0) as u64
        }
    };
    Some(secs.min(MAX_RETRY_AFTER_SECS))
}

/// Turn a non-success API answer into an error, using the provider's own rules first.
pub fn api_error(spec: &ProviderSpec, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let detail = provider_detail(&spec.support, status, headers, body);
    let rule: Option<&ApiErrorRule> = spec.api_errors.iter().find(|r| r.status == status);
    let err = match (rule.map(|r| r.kind), status) {
        (Some(ErrorKind::ApiNotEnabled), _) => Error::new(
            ErrorKind::ApiNotEnabled,
            format!(
                "{} says its API is not available for this account (the API add-on is not installed, or billing is not current).",
                spec.name
            ),
        ),
        (Some(kind), _) => Error::new(
            kind,
            format!("{} refused the request ({status}).", spec.name),
        ),
        (None, 401) => Error::reconnect(&spec.name),
        (None, 403) => Error::new(
            ErrorKind::Reconnect,
            format!(
                "{} refused access with this connection. Connect again with an administrator account, and check that the app has access to the data.",
                spec.name
            ),
        ),
        (None, 429) => Error::rate_limited(&spec.name, retry_after(headers)),
        (None, s) if s >= 500 => Error::provider_down(&spec.name, Some(s)),
        (None, s) => Error::new(
            ErrorKind::ProviderDown,
            format!("{} answered with an unexpected status ({s}).", spec.name),
        ),
    };
    err.with_provider_detail(detail)
}

/// A transport failure (refused, reset, timed out) as an error.
pub fn transport_error(system: &str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::new(
            ErrorKind::Network,
            format!("{system} did not answer in time. Check that this computer is online, then try again."),
        )
        .with_source(e.without_url())
    } else {
        // without_url: a URL may carry a code or token in its query.
        Error::network(system, e.without_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_calls_use_the_proxy_and_this_computer_never_does() {
        let system = hyper_util::client::proxy::matcher::Matcher::builder()
            .all("http://ann:s3cret@proxy.corp.example:8080".to_string())
            .no("internal.example".to_string())
            .build();
        let via = |u: &str| proxy_for(&system, &Url::parse(u).unwrap()).map(|p| p.to_string());
        assert_eq!(
            via("https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer").as_deref(),
            Some("http://ann:s3cret@proxy.corp.example:8080/")
        );
        for local in [
            "http://127.0.0.1:9000/rest.tsheets.com/api",
            "http://localhost:8765/callback",
            "http://[::1]:8765/x",
        ] {
            assert_eq!(via(local), None, "{local}");
        }
        assert_eq!(
            via("https://api.internal.example/"),
            None,
            "NO_PROXY is kept"
        );
    }

    #[test]
    fn emulator_route_keeps_host_path_and_query() {
        let r = Route::Emulator(Url::parse("http://127.0.0.1:9000").unwrap());
        let u = r
            .url("https://rest.tsheets.com/api/v1/authorize?a=1&b=2")
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9000/rest.tsheets.com/api/v1/authorize?a=1&b=2"
        );
        assert_eq!(
            Route::Vendor.url("https://x.example/p").unwrap().as_str(),
            "https://x.example/p"
        );
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(7));
        // Found by fuzzing: an absurd wait would stall an import (and overflowed a message).
        for absurd in ["99999999999", "184467440737095516150000"] {
            h.insert(reqwest::header::RETRY_AFTER, absurd.parse().unwrap());
            assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER_SECS), "{absurd}");
        }
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn provider_detail_keeps_codes_and_request_ids() {
        let mut h = HeaderMap::new();
        h.insert("intuit_tid", "1-abc".parse().unwrap());
        let body =
            br#"{"fault":{"error":[{"message":"message=AuthenticationFailed","code":"3200"}]}}"#;
        let support = SupportSpec {
            request_id_headers: vec!["intuit_tid".into()],
            error_fields: vec!["fault.error.0.code".into()],
            ..SupportSpec::default()
        };
        let d = provider_detail(&support, 401, &h, body);
        assert!(
            d.contains("HTTP 401") && d.contains("intuit_tid=1-abc") && d.contains("code=3200"),
            "{d}"
        );
        // Another system's request id and fields are not this one's.
        let d = provider_detail(&SupportSpec::default(), 401, &h, body);
        assert_eq!(d, "HTTP 401");
    }
}
