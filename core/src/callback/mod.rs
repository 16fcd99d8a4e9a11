//! The one-shot loopback callback listener (RFC 8252 7.3, RFC 6749 4.1.2, RFC 9700 4.7).
//!
//! Bound to 127.0.0.1 and [::1] on the fixed port registered at the vendor (`localhost` is both,
//! and browsers try [::1] first: no other program may hold either). It answers only `GET` on the
//! callback path with a `Host` of localhost/127.0.0.1/[::1] (DNS rebinding), checks `state` on
//! every answer (an error without the flow's `state` does not end it: any web page could send
//! one, RFC 9700 2.1), ignores stray requests (favicon, probes), tells the browser the tab can be closed,
//! and stops at the first valid callback, the deadline, or cancel. Slow clients are cut off by a
//! header timeout, long requests refused, and at most [`MAX_CONNECTIONS`] are served at once
//! (the oldest is closed first), so no client can hold up the browser's. The listening socket is
//! owned by [`CallbackListener::wait`], so the port is released whichever way it returns.
//!
//! What an answer says (a code, an error, or nothing of this flow) is `answer.rs`; the manual
//! fallback ("paste the address your browser ended on") goes through the same classification in
//! [`parse_pasted_address`].

use crate::error::{Error, ErrorKind, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

mod answer;

use answer::verdict_result;
pub use answer::{CallbackParams, Expectation, Verdict, classify, parse_pasted_address};

/// Connections served at once; past this the oldest is closed (a flood cannot starve the browser).
pub const MAX_CONNECTIONS: usize = 64;
/// A client must send its request line and headers within this time (slow clients).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest request (line plus headers) read; longer ones are refused.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// No connection lives longer than this, whatever it does.
const MAX_CONNECTION_TIME: Duration = Duration::from_secs(20);

/// A bound callback listener. Dropping it (or finishing [`wait`](Self::wait)) frees the port.
#[derive(Debug)]
pub struct CallbackListener {
    v4: TcpListener,
    /// [::1], where the computer has IPv6 (then no other program can hold it).
    v6: Option<TcpListener>,
    port: u16,
}

impl CallbackListener {
    /// Bind 127.0.0.1:`port` and [::1]:`port` (`localhost` is both). A busy port is explained,
    /// with the program holding it when the platform tells us.
    pub async fn bind(port: u16) -> Result<CallbackListener> {
        let v4 = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| bind_error(port, e))?;
        let port = v4.local_addr().map(|a| a.port()).unwrap_or(port);
        let v6 = match TcpListener::bind(("::1", port)).await {
            Ok(l) => Some(l),
            // Taken: another program would receive the answer there, as browsers try it first.
            Err(e) if v6_taken(&e) => return Err(bind_error(port, e)),
            // No IPv6 on this computer: then there is no [::1] for anyone to take either.
            Err(e) => {
                tracing::debug!(%e, "no IPv6 loopback; listening on 127.0.0.1 only");
                None
            }
        };
        Ok(CallbackListener { v4, v6, port })
    }

    /// The next connection on either address.
    async fn accept(&self) -> std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)> {
        match &self.v6 {
            Some(v6) => tokio::select! {
                a = self.v4.accept() => a,
                a = v6.accept() => a,
            },
            None => self.v4.accept().await,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve until the first valid callback, a pasted address, cancel, or `deadline`.
    pub async fn wait(
        self,
        system: &str,
        exp: Expectation,
        deadline: Duration,
        cancel: CancellationToken,
        mut pasted: mpsc::Receiver<CallbackParams>,
    ) -> Result<CallbackParams> {
        // One answer ends the wait: the first request to take the sender.
        let (tx, mut rx) = tokio::sync::oneshot::channel::<Result<CallbackParams>>();
        let tx: Answer = Arc::new(std::sync::Mutex::new(Some(tx)));
        let exp = Arc::new(exp);
        let system: Arc<str> = Arc::from(system);
        let timer = tokio::time::sleep(deadline);
        tokio::pin!(timer);
        let mut pasted_open = true;
        // Connection tasks stop with the listener: a slow or idle client cannot keep a task alive.
        let stop = CancellationToken::new();
        let _stop_guard = stop.clone().drop_guard();
        let mut active: VecDeque<AbortHandle> = VecDeque::new();
        loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(Error::cancelled()),
                Ok(result) = &mut rx => return result,
                p = pasted.recv(), if pasted_open => match p {
                    Some(p) => return Ok(p),
                    None => pasted_open = false,
                },
                _ = &mut timer => return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("No answer came back from {system} within {}, so nothing was changed. Connect again and give access in the browser when it opens; if your browser shows an error page instead, check the redirect URL.",
                        crate::error::human_duration(deadline.as_secs())),
                )),
                accepted = self.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    // Bound to loopback, so every peer is loopback; checked anyway.
                    if !peer.ip().is_loopback() {
                        continue;
                    }
                    // A flood of idle connections must not crowd out the browser's: past the cap,
                    // the oldest connection is closed to make room for the newest.
                    active.retain(|h| !h.is_finished());
                    if active.len() >= MAX_CONNECTIONS
                        && let Some(oldest) = active.pop_front()
                    {
                        oldest.abort();
                    }
                    let tx = tx.clone();
                    let exp = exp.clone();
                    let system = system.clone();
                    let stop = stop.clone();
                    let task = tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let tx = tx.clone();
                            let exp = exp.clone();
                            let system = system.clone();
                            async move { Ok::<_, Infallible>(respond(&system, &req, &exp, &tx).await) }
                        });
                        let conn = hyper::server::conn::http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .max_buf_size(MAX_REQUEST_BYTES)
                            .keep_alive(false)
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                        tokio::pin!(conn);
                        tokio::select! {
                            _ = conn.as_mut() => {}
                            _ = tokio::time::sleep(MAX_CONNECTION_TIME) => {}
                            _ = stop.cancelled() => {
                                // The wait is over: an answer being written (the tab's "you can
                                // close this tab") still gets out, briefly.
                                conn.as_mut().graceful_shutdown();
                                let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
                            }
                        }
                    });
                    active.push_back(task.abort_handle());
                }
            }
        }
    }
}

/// Whether the callback port is free on both loopback addresses (for the support report).
pub fn port_free(port: u16) -> bool {
    let v4 = std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let v6 = std::net::TcpListener::bind(("::1", port)).map_or_else(|e| !v6_taken(&e), |_| true);
    v4 && v6
}

/// Whether [::1] could not be bound because another program holds it (rather than because this
/// computer has no IPv6, when nobody can take it either).
fn v6_taken(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::AddrInUse | std::io::ErrorKind::PermissionDenied
    )
}

/// Why the port could not be had, in the admin's words (and the holder, when known).
fn bind_error(port: u16, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            let holder = crate::port::holder(port)
                .map(|p| format!(" ({p} is using it)"))
                .unwrap_or_default();
            Error::new(
                ErrorKind::PortInUse,
                format!(
                    "Patchbay needs port {port} on this computer to receive the answer, but another program is using it{holder}. \
                     Close that program (or another Patchbay window that is waiting), then try again. \
                     You can also finish by pasting the address your browser ends on."
                ),
            )
            .with_source(e)
        }
        _ => Error::new(
            ErrorKind::PortInUse,
            format!("Patchbay could not listen on port {port} on this computer. Try again, or finish by pasting the address your browser ends on."),
        )
        .with_source(e),
    }
}

/// Where the one answer that ends a wait goes; taken by the first request that has one.
type Answer = Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<Result<CallbackParams>>>>>;

async fn respond(
    system: &str,
    req: &Request<hyper::body::Incoming>,
    exp: &Expectation,
    tx: &Answer,
) -> Response<Full<Bytes>> {
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok());
    let verdict = classify(
        req.method().as_str(),
        host,
        req.uri().path(),
        req.uri().query(),
        exp,
    );
    let page = match &verdict {
        Verdict::Complete(_) => (StatusCode::OK, "Connected", format!("{system} sent its answer to Patchbay. You can close this tab and return to Patchbay.")),
        Verdict::Denied => (StatusCode::OK, "Access not allowed", format!("You chose not to allow access in {system}. You can close this tab and return to Patchbay.")),
        Verdict::VendorError { .. } => (StatusCode::OK, "Not connected", format!("{system} did not allow the connection. You can close this tab; Patchbay shows what to do next.")),
        Verdict::ForeignState => (StatusCode::BAD_REQUEST, "Not from this attempt", "This answer is not from the current Patchbay attempt and was ignored. Return to Patchbay and click Connect again if needed.".to_string()),
        Verdict::Unverified => (StatusCode::BAD_REQUEST, "Not from this attempt", "This page reports a problem but cannot be matched to the current Patchbay attempt, so Patchbay keeps waiting. Return to Patchbay: allow access when asked, or click Cancel there.".to_string()),
        Verdict::Stray(code) => (*code, "Not found", "Nothing here.".to_string()),
    };
    // The first answer wins. A later one finds the wait over (the channel closed or full) and is
    // told so: never "Connected" for an answer Patchbay did not use.
    let used = verdict_result(system, verdict).is_none_or(|result| {
        let sender = tx.lock().ok().and_then(|mut t| t.take());
        sender.is_some_and(|t| t.send(result).is_ok())
    });
    let (status, title, body) = if used {
        page
    } else {
        (StatusCode::CONFLICT, "Already finished", "Patchbay already had its answer for this attempt, so this one was not used. You can close this tab and return to Patchbay.".to_string())
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - Patchbay</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>{title}</h1><p>{}</p></body></html>",
        html_escape(&body)
    );
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer")
        .header("connection", "close")
        .body(Full::new(Bytes::from(html)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use url::Url;

    fn exp() -> Expectation {
        Expectation::listener("/callback", 8765, "S1", &["realmId".into()])
    }

    #[test]
    fn callback_table() {
        let e = exp();
        let h = Some("localhost:8765");
        type Row<'a> = (&'a str, Option<&'a str>, &'a str, Option<&'a str>, &'a str);
        let cases: Vec<Row> = vec![
            (
                "GET",
                h,
                "/callback",
                Some("code=abc&state=S1&realmId=9341"),
                "complete",
            ),
            (
                "GET",
                Some("127.0.0.1:8765"),
                "/callback",
                Some("code=abc&state=S1"),
                "complete",
            ),
            ("GET", h, "/callback", Some("code=abc&state=S2"), "foreign"),
            ("GET", h, "/callback", Some("code=abc"), "foreign"),
            ("GET", h, "/callback", Some("code=&state=S1"), "foreign"),
            (
                "GET",
                h,
                "/callback",
                Some("code=a&code=b&state=S1"),
                "foreign",
            ),
            (
                "GET",
                h,
                "/callback",
                Some("error=access_denied&state=S1"),
                "denied",
            ),
            // Without the flow's state, an error may come from any page: it ends nothing.
            (
                "GET",
                h,
                "/callback",
                Some("error=access_denied"),
                "unverified",
            ),
            (
                "GET",
                h,
                "/callback",
                Some("error=server_error&error_description=%1B%5B31m"),
                "unverified",
            ),
            (
                "GET",
                Some("[::1]:8765"),
                "/callback",
                Some("code=abc&state=S1"),
                "complete",
            ),
            (
                "GET",
                h,
                "/callback",
                Some("error=access_denied&state=evil"),
                "foreign",
            ),
            (
                "GET",
                h,
                "/callback",
                Some("error=invalid_scope&state=S1"),
                "vendor",
            ),
            ("GET", h, "/favicon.ico", None, "stray"),
            ("GET", h, "/callback", None, "stray"),
            ("POST", h, "/callback", Some("code=abc&state=S1"), "stray"),
            (
                "GET",
                Some("evil.example:8765"),
                "/callback",
                Some("code=abc&state=S1"),
                "stray",
            ),
            (
                "GET",
                Some("localhost:9999"),
                "/callback",
                Some("code=abc&state=S1"),
                "stray",
            ),
            ("GET", None, "/callback", Some("code=abc&state=S1"), "stray"),
        ];
        for (m, host, path, q, want) in cases {
            let got = match classify(m, host, path, q, &e) {
                Verdict::Complete(_) => "complete",
                Verdict::Denied => "denied",
                Verdict::VendorError { .. } => "vendor",
                Verdict::ForeignState => "foreign",
                Verdict::Unverified => "unverified",
                Verdict::Stray(_) => "stray",
            };
            assert_eq!(got, want, "{m} {host:?} {path} {q:?}");
        }
    }

    #[test]
    fn a_vendor_error_keeps_only_known_codes_and_plain_words() {
        let Verdict::VendorError { code, description } = classify(
            "GET",
            Some("localhost:8765"),
            "/callback",
            Some(
                "error=%1B%5D0%3Bowned&state=S1&error_description=Bad%20%3Cb%3Escope%3C%2Fb%3E%1B%5B2J",
            ),
            &exp(),
        ) else {
            panic!("expected a vendor error")
        };
        assert_eq!(code, "other");
        assert_eq!(description.as_deref(), Some("Bad bscope/b[2J"));
        let Verdict::VendorError { code, .. } = classify(
            "GET",
            Some("localhost:8765"),
            "/callback",
            Some("error=invalid_scope&state=S1"),
            &exp(),
        ) else {
            panic!("expected a vendor error")
        };
        assert_eq!(code, "invalid_scope");
    }

    #[tokio::test]
    async fn a_program_holding_the_ipv6_loopback_port_is_refused() {
        // Someone else listens on [::1] at the port (browsers try it first for localhost).
        let Ok(squatter) = std::net::TcpListener::bind(("::1", 0)) else {
            panic!("this machine has an IPv6 loopback: the test needs it")
        };
        let port = squatter.local_addr().unwrap().port();
        let err = CallbackListener::bind(port).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PortInUse, "{err}");
        drop(squatter);
        let l = CallbackListener::bind(port).await.unwrap();
        assert!(l.v6.is_some(), "both loopbacks held");
        assert!(std::net::TcpListener::bind(("::1", port)).is_err());
        assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn kept_params_come_through() {
        let Verdict::Complete(p) = classify(
            "GET",
            Some("localhost:8765"),
            "/callback",
            Some("code=abc&state=S1&realmId=9341&other=x"),
            &exp(),
        ) else {
            panic!("expected complete")
        };
        assert_eq!(p.code.expose_secret(), "abc");
        assert_eq!(p.params.len(), 1);
        assert_eq!(p.params["realmId"], "9341");
    }

    #[test]
    fn pasted_address_is_cleaned_and_checked() {
        let ok = parse_pasted_address(
            "X",
            " http://localhost:8765/callback?code=abc&state=S1\n",
            &exp(),
        )
        .unwrap();
        assert_eq!(ok.code.expose_secret(), "abc");
        let denied = parse_pasted_address(
            "X",
            "http://localhost:8765/callback?error=access_denied&state=S1",
            &exp(),
        )
        .unwrap_err();
        assert_eq!(denied.kind(), ErrorKind::Denied);
        for bad in [
            "not a url",
            "http://localhost:8765/callback?code=abc&state=OLD",
            "https://example.com/other?code=1&state=S1",
        ] {
            let err = parse_pasted_address("X", bad, &exp()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn the_relay_page_address_is_accepted_when_pasted() {
        let mut e = exp();
        e.page = vec![Url::parse("https://relay.example.com/patchbay/").unwrap()];
        let ok = parse_pasted_address(
            "QuickBooks Online",
            "https://relay.example.com/patchbay/?code=C1&state=S1&realmId=4620816365",
            &e,
        )
        .unwrap();
        assert_eq!(ok.code.expose_secret(), "C1");
        assert_eq!(ok.params["realmId"], "4620816365");
        // The listener's own address still works, and another page or state does not.
        assert!(
            parse_pasted_address("Q", "http://localhost:8765/callback?code=C&state=S1", &e).is_ok()
        );
        let other = parse_pasted_address("Q", "https://evil.example/patchbay/?code=C&state=S1", &e)
            .unwrap_err();
        assert!(
            other
                .message()
                .contains("https://relay.example.com/patchbay/"),
            "{other}"
        );
        assert!(
            parse_pasted_address(
                "Q",
                "https://relay.example.com/patchbay/?code=C&state=S2",
                &e
            )
            .is_err()
        );
    }
}
