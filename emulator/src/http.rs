//! Request view and response builders shared by all vendor emulators.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Response, StatusCode};

pub(crate) type Resp = Response<Full<Bytes>>;

/// One request, already read completely. `host` is the first path segment (the vendor host the
/// client rewrote into the path); `segs` are the remaining, percent-decoded path segments.
#[derive(Debug)]
pub(crate) struct Req {
    pub method: Method,
    pub host: String,
    pub segs: Vec<String>,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub(crate) fn new(
        method: Method,
        path: &str,
        raw_query: Option<&str>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Req {
        let mut parts = path
            .trim_start_matches('/')
            .split('/')
            .map(crate::text::percent_decode);
        let host = parts.next().unwrap_or_default();
        let mut segs: Vec<String> = parts.collect();
        while segs.last().is_some_and(|s| s.is_empty()) {
            segs.pop();
        }
        let query = raw_query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Req {
            method,
            host,
            segs,
            path: path.to_string(),
            query,
            headers,
            body,
        }
    }

    pub(crate) fn seg_refs(&self) -> Vec<&str> {
        self.segs.iter().map(String::as_str).collect()
    }

    /// First query value for `key` (exact name).
    pub(crate) fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// First query value for `key`, compared without ASCII case.
    pub(crate) fn q_ci(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as `application/x-www-form-urlencoded`.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The token of `Authorization: Bearer <token>`.
    pub(crate) fn bearer(&self) -> Option<String> {
        let h = self.header("authorization")?.trim();
        let (scheme, rest) = h.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// `Authorization: Basic base64(id:secret)`.
    pub(crate) fn basic(&self) -> Option<(String, String)> {
        let h = self.header("authorization")?.trim();
        let (scheme, rest) = h.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        Some((id.to_string(), secret.to_string()))
    }

    pub(crate) fn accepts_json(&self) -> bool {
        self.header("accept")
            .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"))
    }
}

pub(crate) fn form_get<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

pub(crate) fn response(status: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !content_type.is_empty() {
        set_header(&mut r, "content-type", content_type);
    }
    set_header(&mut r, "cache-control", "no-store");
    r
}

pub(crate) fn json(status: u16, value: &serde_json::Value) -> Resp {
    response(status, "application/json; charset=utf-8", value.to_string())
}

pub(crate) fn html(status: u16, body: String) -> Resp {
    response(status, "text/html; charset=utf-8", body)
}

pub(crate) fn text(status: u16, body: &str) -> Resp {
    response(status, "text/plain; charset=utf-8", body.to_string())
}

pub(crate) fn empty(status: u16) -> Resp {
    response(status, "", Bytes::new())
}

pub(crate) fn redirect(status: u16, location: &str) -> Resp {
    let mut r = response(
        status,
        "text/html; charset=utf-8",
        format!(
            "<html><body>Redirecting to <a href=\"{0}\">{0}</a></body></html>",
            crate::text::html_escape(location)
        ),
    );
    set_header(&mut r, "location", location);
    r
}

pub(crate) fn set_header(resp: &mut Resp, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(HeaderName::from_static(name), v);
    }
}

/// A simple HTML error page (vendor pages are richer; tests and clients look for the text).
pub(crate) fn error_page(status: u16, title: &str, message: &str) -> Resp {
    html(
        status,
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body><h1>{t}</h1>\n<p>{m}</p>\n</body></html>\n",
            t = crate::text::html_escape(title),
            m = crate::text::html_escape(message)
        ),
    )
}

/// Appends query parameters to a (registered) redirect URI.
pub(crate) fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(base) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => {
            let sep = if base.contains('?') { '&' } else { '?' };
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in params {
                s.append_pair(k, v);
            }
            format!("{base}{sep}{}", s.finish())
        }
    }
}
