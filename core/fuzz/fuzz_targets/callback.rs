//! The callback listener's judgement of a request: method, Host, path and query as a browser (or
//! another page) could send them. Input: four lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_core::callback::{Expectation, Verdict, classify};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let method = parts.next().unwrap_or("");
    let host = parts.next();
    let path = parts.next().unwrap_or("");
    let query = parts.next();
    let exp = Expectation::listener("/callback", 8765, "s7aTe-0f-th1s-fl0w", &["realmId".into()]);
    // Only our state, on the callback path, from localhost, can complete a flow.
    if let Verdict::Complete(_) = classify(method, host, path, query, &exp) {
        assert_eq!(method, "GET");
        assert_eq!(path, "/callback");
        // The state as the listener reads it: percent-decoded (a browser may encode it).
        let state = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned());
        assert_eq!(state.as_deref(), Some("s7aTe-0f-th1s-fl0w"));
    }
});
