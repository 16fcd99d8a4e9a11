//! Vendor-shaped answers for injected faults (`POST /_emulator/faults`).
//! Faults other than `slow` answer without side effects (no code is consumed, no token issued).

use crate::http::{Req, Resp, error_page, response, set_header};
use crate::runtime::{Endpoint, Fault, FaultKind};
use crate::state::{ASPIRE, QBT};
use crate::{aspire, qbo, qbt};
use serde_json::json;

fn reason(status: u16) -> &'static str {
    match status {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

fn is_page(ep: Endpoint) -> bool {
    matches!(ep, Endpoint::Authorize | Endpoint::Decision)
}

fn server_error(provider: &str, ep: Endpoint, req: &Req, status: u16) -> Resp {
    if is_page(ep) {
        return error_page(
            status,
            reason(status),
            "We're sorry! We are experiencing some problems. Please try again later.",
        );
    }
    match provider {
        QBT => qbt::api_error(status, reason(status)),
        ASPIRE => aspire::message(status, "An error has occurred."),
        _ if ep == Endpoint::Api => qbo::service_fault(
            !req.accepts_json(),
            status,
            "SystemFault",
            "10000",
            "An application error has occurred while processing your request",
            &format!("System Failure Error: {}", reason(status)),
        ),
        _ => response(
            status,
            "application/json;charset=UTF-8",
            json!({"error": "server_error", "error_description": reason(status)}).to_string(),
        ),
    }
}

/// A response cut short: valid JSON up to a point, then nothing.
fn truncated_json(provider: &str, ep: Endpoint) -> &'static str {
    match (provider, ep) {
        (QBT, Endpoint::Api) => r#"{"results":{"users":{"1000001":{"id":1000001,"first_name":"Ma"#,
        (QBT, _) => r#"{"access_token":"c65931f72f0a905bea92fb2dce8e4c25151c02e9","expires_in":86"#,
        (ASPIRE, Endpoint::Api) => r#"[{"ContactID":1001,"CompanyID":500,"CompanyName":"Summ"#,
        (ASPIRE, _) => r#"{"Token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi"#,
        (_, Endpoint::Api) => r#"{"QueryResponse":{"Customer":[{"Id":"1","SyncToken":"0","Displ"#,
        _ => r#"{"token_type":"bearer","expires_in":3600,"refresh_token":"AB11"#,
    }
}

fn too_many(provider: &str, ep: Endpoint, req: &Req, retry_after: Option<u64>) -> Resp {
    let mut r = if is_page(ep) {
        error_page(
            429,
            "Too Many Requests",
            "Too many requests. Please wait a moment and try again.",
        )
    } else {
        match provider {
            QBT => qbt::api_error(429, "Too Many Requests"),
            ASPIRE => {
                let env = aspire::environment(&req.host);
                aspire::rate_limited(env, if env == "sandbox" { 60 } else { 1200 }, None)
            }
            _ => qbo::throttled(!req.accepts_json(), None),
        }
    };
    if let Some(secs) = retry_after {
        set_header(&mut r, "retry-after", &secs.to_string());
    }
    r
}

pub(crate) fn respond(provider: &str, ep: Endpoint, req: &Req, f: &Fault) -> Resp {
    match f.fault {
        FaultKind::Status500 => server_error(provider, ep, req, 500),
        FaultKind::Status502 => server_error(provider, ep, req, 502),
        FaultKind::Status503 => server_error(provider, ep, req, 503),
        FaultKind::MalformedJson => response(
            200,
            "application/json; charset=utf-8",
            truncated_json(provider, ep).to_string(),
        ),
        FaultKind::HtmlBody => {
            let status = f.status.unwrap_or(502);
            error_page(
                status,
                "Temporarily unavailable",
                "502 Bad Gateway. The server encountered a temporary error and could not complete your request. Please try again in 30 seconds.",
            )
        }
        FaultKind::RateLimit => too_many(provider, ep, req, f.retry_after),
        FaultKind::InvalidGrant => match provider {
            QBT => qbt::oauth_error(
                400,
                "invalid_grant",
                if ep == Endpoint::Refresh {
                    "The refresh token is invalid"
                } else {
                    "The authorization code has expired"
                },
            ),
            // Aspire has no OAuth errors: its bad-credentials answer (404) and refresh refusal (401).
            ASPIRE if ep == Endpoint::Token => aspire::bad_credentials(),
            ASPIRE => aspire::denied(),
            _ => response(
                400,
                "application/json;charset=UTF-8",
                r#"{"error":"invalid_grant"}"#,
            ),
        },
        FaultKind::InvalidClient => match provider {
            QBT => qbt::oauth_error(
                400,
                "invalid_client",
                "Client authentication failed: unknown client_id or wrong client_secret",
            ),
            ASPIRE => aspire::bad_credentials(),
            _ => qbo::invalid_client(),
        },
        FaultKind::Revoked => match (provider, ep) {
            (QBT, Endpoint::Api) => qbt::api_error(401, "Unauthorized"),
            (QBT, _) => qbt::oauth_error(400, "invalid_grant", "The refresh token is invalid"),
            (ASPIRE, Endpoint::Token) => aspire::bad_credentials(),
            (ASPIRE, _) => aspire::denied(),
            (_, Endpoint::Api) => qbo::unauthorized(!req.accepts_json(), "Token revoked"),
            _ => qbo::invalid_grant("Token invalid"),
        },
        FaultKind::PaymentRequired => qbt::api_error(402, "Payment Required"),
        // Handled by the dispatcher; never answered here.
        FaultKind::Slow | FaultKind::Reset | FaultKind::DenyConsent => {
            server_error(provider, ep, req, 500)
        }
    }
}
