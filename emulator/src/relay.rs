//! The HTTPS callback relay (`relay/` in the repository), hosted the way a distributor hosts it:
//! at `https://relay.patchbay.test/<folder>/` (served as `{base_url}/relay.patchbay.test/...`,
//! like every vendor host), with the headers of its own `_headers` file. The page's forward
//! target (`<meta name="patchbay-callback">`) is the one thing a host edits; the emulator sets it
//! from [`crate::EmulatorConfig::relay_callback`], as a distributor would for a changed port.

use crate::Shared;
use crate::http::{Req, Resp, response, text};
use hyper::header::{HeaderName, HeaderValue};

/// The host the relay is served at. `.test` is reserved for testing (RFC 2606).
pub(crate) const HOST: &str = "relay.patchbay.test";

const INDEX: &str = include_str!("../../relay/index.html");
const SCRIPT: &str = include_str!("../../relay/relay.js");
const STYLE: &str = include_str!("../../relay/relay.css");
const HEADERS: &str = include_str!("../../relay/_headers");
/// The forward target as the page ships.
pub(crate) const SHIPPED_CALLBACK: &str = "http://localhost:8765/callback";

/// `Name: value` lines of the `_headers` file (indented under the folder's path).
fn headers() -> Vec<(String, String)> {
    HEADERS
        .lines()
        .filter(|l| l.starts_with(char::is_whitespace))
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect()
}

pub(crate) fn handle(sh: &Shared, req: &Req) -> Resp {
    if req.method != hyper::Method::GET {
        return text(405, "method not allowed");
    }
    let callback = sh
        .relay_callback
        .lock()
        .map(|c| c.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    let last = req.segs.last().map(String::as_str).unwrap_or("");
    let (content_type, body) = match last {
        "relay.js" => ("text/javascript; charset=utf-8", SCRIPT.to_string()),
        "relay.css" => ("text/css; charset=utf-8", STYLE.to_string()),
        // The folder (with or without its trailing slash) or its index.
        _ if last == "index.html" || !last.contains('.') => (
            "text/html; charset=utf-8",
            INDEX.replace(
                &format!("content=\"{SHIPPED_CALLBACK}\""),
                &format!("content=\"{}\"", crate::text::html_escape(&callback)),
            ),
        ),
        _ => return text(404, "not found"),
    };
    let mut resp = response(200, content_type, body);
    for (name, value) in headers() {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}
