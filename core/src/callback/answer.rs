//! What an answer to the authorize request says, however it arrives (the loopback listener or
//! an address the admin pastes): the flow's code, an error the vendor sent, or nothing of this
//! flow (no or another `state`, RFC 9700 2.1).

use crate::error::{Error, ErrorKind, Result};
use hyper::StatusCode;
use secrecy::SecretString;
use std::collections::BTreeMap;
use url::Url;

/// What a valid callback carried: the code, and the extra parameters the provider asks us to
/// keep (Intuit's `realmId`).
#[derive(Debug, Clone)]
pub struct CallbackParams {
    pub code: SecretString,
    pub params: BTreeMap<String, String>,
}

/// How one request to the callback address is judged.
#[derive(Debug)]
pub enum Verdict {
    /// A code with our state: the flow completes.
    Complete(CallbackParams),
    /// The admin clicked Deny (`error=access_denied`).
    Denied,
    /// Another error from the vendor (`error=invalid_scope`, ...).
    VendorError {
        code: String,
        description: Option<String>,
    },
    /// A sign-in answer whose `state` is not ours: never completes a flow.
    ForeignState,
    /// An error answer without any `state`: anyone could have sent it, so it ends nothing (a
    /// vendor that omits `state` on errors leaves the admin to click Cancel).
    Unverified,
    /// Not a sign-in answer at all (favicon, wrong path or method, bad Host): ignored.
    Stray(StatusCode),
}

/// What the listener expects.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub path: String,
    pub port: u16,
    pub state: String,
    pub keep: Vec<String>,
    /// The https page registered instead of the listener (a relay or the admin's own page),
    /// whose address the admin may paste: the vendor's answer is its query. Also the page as
    /// practice mode's emulator serves it, where the admin's browser shows it that way.
    pub page: Vec<Url>,
}

impl Expectation {
    /// A sign-in answered on the listener alone: `keep` names the callback parameters kept
    /// for API calls; no page address is accepted when pasted.
    pub fn listener(path: &str, port: u16, state: &str, keep: &[String]) -> Expectation {
        Expectation {
            path: path.to_string(),
            port,
            state: state.to_string(),
            keep: keep.to_vec(),
            page: Vec::new(),
        }
    }
}

/// Judge one request. Pure, so every case is a table row in the tests.
pub fn classify(
    method: &str,
    host: Option<&str>,
    path: &str,
    query: Option<&str>,
    exp: &Expectation,
) -> Verdict {
    if method != "GET" {
        return Verdict::Stray(StatusCode::METHOD_NOT_ALLOWED);
    }
    let host_ok = host.is_some_and(|h| {
        let (name, port) = h.rsplit_once(':').map_or((h, None), |(n, p)| (n, Some(p)));
        matches!(
            name.to_ascii_lowercase().as_str(),
            "localhost" | "127.0.0.1" | "[::1]"
        ) && port.is_none_or(|p| p == exp.port.to_string())
    });
    if !host_ok {
        return Verdict::Stray(StatusCode::MISDIRECTED_REQUEST);
    }
    if path != exp.path {
        return Verdict::Stray(StatusCode::NOT_FOUND);
    }
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        // A repeated parameter is ambiguous (parameter pollution): not a valid answer.
        if pairs.insert(k.to_string(), v.to_string()).is_some() {
            return Verdict::ForeignState;
        }
    }
    let state = pairs.get("state").map(String::as_str);
    if let Some(error) = pairs.get("error") {
        let ours = state.map(|s| constant_time_eq(s, &exp.state));
        return match ours {
            Some(false) => Verdict::ForeignState,
            // Without our state the error may come from any page open in the browser: it must not
            // end the flow (nor put its text in front of the admin).
            None => Verdict::Unverified,
            Some(true) if error == "access_denied" => Verdict::Denied,
            // Only the standard codes are kept as they are; the vendor's own description is
            // reduced to plain characters and bounded, for the support report only.
            Some(true) => Verdict::VendorError {
                code: known_error(error).to_string(),
                description: pairs
                    .get("error_description")
                    .map(|d| crate::sanitize::vendor_text(d, 200))
                    .filter(|d| !d.is_empty()),
            },
        };
    }
    let Some(code) = pairs.get("code") else {
        return Verdict::Stray(StatusCode::BAD_REQUEST);
    };
    if !state.is_some_and(|s| constant_time_eq(s, &exp.state)) || code.is_empty() {
        return Verdict::ForeignState;
    }
    let params = exp
        .keep
        .iter()
        .filter_map(|k| pairs.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    Verdict::Complete(CallbackParams {
        code: SecretString::from(code.clone()),
        params,
    })
}

/// An authorization error code as RFC 6749 4.1.2.1 (and OpenID Connect) name them, or "other".
fn known_error(code: &str) -> &'static str {
    const KNOWN: [&str; 11] = [
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "invalid_client",
        "login_required",
        "consent_required",
        "interaction_required",
    ];
    KNOWN.into_iter().find(|k| *k == code).unwrap_or("other")
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// What a finished wait hands back: success, or the error the checklist shows.
pub(super) fn verdict_result(system: &str, v: Verdict) -> Option<Result<CallbackParams>> {
    match v {
        Verdict::Complete(p) => Some(Ok(p)),
        Verdict::Denied => Some(Err(Error::new(
            ErrorKind::Denied,
            format!(
                "Access was not allowed in {system} (Deny was clicked), so nothing was changed."
            ),
        ))),
        Verdict::VendorError { code, description } => {
            let kind = match code.as_str() {
                "unauthorized_client" | "invalid_client" => ErrorKind::InvalidClient,
                "invalid_request" | "invalid_scope" | "unsupported_response_type" => {
                    ErrorKind::InvalidInput
                }
                _ => ErrorKind::ProviderDown,
            };
            let detail = format!(
                "error={code}{}",
                description
                    .map(|d| format!(" error_description={d}"))
                    .unwrap_or_default()
            );
            Some(Err(Error::new(kind, format!("{system} refused the sign-in request ({code}). Check the app's settings at {system}, then connect again."))
                .with_provider_detail(detail)))
        }
        Verdict::ForeignState | Verdict::Unverified | Verdict::Stray(_) => None,
    }
}

/// Complete a flow from the address the admin's browser ended on (the manual fallback).
pub fn parse_pasted_address(
    system: &str,
    pasted: &str,
    exp: &Expectation,
) -> Result<CallbackParams> {
    let cleaned = crate::sanitize::clean(pasted).value;
    let url = Url::parse(&cleaned).map_err(|_| {
        Error::invalid_input(
            "That is not a web address. Copy the whole address from your browser's address bar (it starts with http) and paste it here.",
        )
    })?;
    let on_page = exp.page.iter().any(|page| {
        url.scheme() == page.scheme()
            && url.host() == page.host()
            && url.port_or_known_default() == page.port_or_known_default()
            && url.path() == page.path()
    });
    let host = if on_page {
        // The registered page stands for the listener: only its query is the answer.
        Some(format!("localhost:{}", exp.port))
    } else {
        url.host_str().map(|h| match url.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        })
    };
    let path = if on_page {
        exp.path.as_str()
    } else {
        url.path()
    };
    let verdict = classify("GET", host.as_deref(), path, url.query(), exp);
    match verdict {
        Verdict::ForeignState => Err(Error::invalid_input(
            "That address is from an earlier or different attempt. Click Connect again and use the address from this attempt.",
        )),
        Verdict::Unverified => Err(Error::invalid_input(format!(
            "That address reports a problem but does not show it comes from this attempt, so Patchbay keeps waiting. If you did not allow access in {system}, click Cancel."
        ))),
        Verdict::Stray(_) => Err(Error::invalid_input(format!(
            "That address is not the one {system} sends you back to. It should start with {} and contain code=.",
            exp.page.first().map_or_else(
                || format!("http://localhost:{}{}", exp.port, exp.path),
                Url::to_string
            )
        ))),
        v => verdict_result(system, v)
            .unwrap_or_else(|| Err(Error::invalid_input("That address cannot be used."))),
    }
}
