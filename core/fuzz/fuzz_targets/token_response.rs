//! What token endpoints and APIs answer: OAuth token and error responses, Aspire's exchange
//! answer, the error details kept for support, and `Retry-After`. Input: first byte picks the
//! status class, the rest is the body (and the Retry-After value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_core::Catalog;
use patchbay_core::http::{api_error, provider_detail, retry_after};
use patchbay_core::{exchange, oauth};
use reqwest::header::{HeaderMap, HeaderValue};
use std::sync::OnceLock;

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| Catalog::builtin().expect("the built-in catalog loads"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = [200u16, 400, 401, 403, 404, 429, 500, 503][usize::from(first % 8)];
    let _ = oauth::parse_token_response(body);
    let _ = oauth::parse_token_error(body);
    let aspire = catalog().provider("aspire").expect("aspire");
    if let patchbay_core::catalog::Auth::TokenExchange(x) = &aspire.auth {
        let _ = exchange::parse_tokens(x, body);
    }
    let mut headers = HeaderMap::new();
    let line = body.split(|b| *b == b'\n').next().unwrap_or(&[]);
    if let Ok(v) = HeaderValue::from_bytes(line) {
        headers.insert("retry-after", v.clone());
        headers.insert("intuit_tid", v);
    }
    let _ = retry_after(&headers);
    let qbo = catalog().provider("quickbooks-online").expect("qbo");
    let detail = provider_detail(&qbo.support, status, &headers, body);
    assert!(detail.len() < 4096, "support detail stays short");
    for p in catalog().providers() {
        let e = api_error(p, status, &headers, body);
        assert!(e.message().len() < 1024);
    }
});
