//! Verify: one real API call that proves the connection works and says who/which company it
//! belongs to. The path and how to read the answer are catalog data.

use crate::catalog::ProviderSpec;
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{api_error, retry_after, transport_error};
use crate::settings::Identity;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long verify waits out a 429 in total before reporting `rate_limited`.
const MAX_RATE_WAIT: Duration = Duration::from_secs(20);

/// Fill `{name}` in an API path from the kept callback parameters; a placeholder left unfilled
/// means the saved connection lacks it (reconnect).
pub(crate) fn fill_path(path: &str, params: &BTreeMap<String, String>) -> Result<String> {
    let mut out = path.to_string();
    for (k, v) in params {
        let encoded: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
        out = out.replace(&format!("{{{k}}}"), &encoded);
    }
    if out.contains('{') {
        return Err(Error::new(
            ErrorKind::Reconnect,
            "The saved connection is missing a detail the vendor sent when connecting (for QuickBooks Online, the company id). Connect again.",
        ));
    }
    Ok(out)
}

/// The value at a dot path in a JSON answer (`Fault.Error.0.code`: a number indexes an array),
/// if it is there. Catalog paths name fields this way: preview columns, totals, `more` flags,
/// error fields.
pub(crate) fn at_path<'a>(
    json: &'a serde_json::Value,
    path: &str,
) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(json, |cur, seg| match cur {
        serde_json::Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => cur.get(seg),
    })
}

/// Read `{a.b.*.c}` placeholders from a JSON answer; `*` is the first member of an object or
/// array, a number indexes an array.
pub fn render(template: &str, json: &serde_json::Value) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let path = &rest[start + 1..start + end];
        out.push_str(&lookup(json, path));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    // The vendor's words, shown and printed: no control characters, a name's length at most.
    let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::sanitize::printable(&words)
        .chars()
        .take(120)
        .collect()
}

fn lookup(json: &serde_json::Value, path: &str) -> String {
    let mut cur = json;
    for seg in path.split('.') {
        let next = match (seg, cur) {
            ("*", serde_json::Value::Object(m)) => m.values().next(),
            ("*", serde_json::Value::Array(a)) => a.first(),
            (s, serde_json::Value::Array(a)) => s.parse::<usize>().ok().and_then(|i| a.get(i)),
            (s, serde_json::Value::Object(m)) => m.get(s),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return String::new(),
        }
    }
    match cur {
        serde_json::Value::String(s) => s.chars().take(120).collect(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Call the verify endpoint(s) in order until one answers; return the identity it shows.
pub(crate) async fn verify(
    ep: &Endpoint<'_>,
    access_token: &SecretString,
    params: &BTreeMap<String, String>,
) -> Result<Identity> {
    let provider = ep.provider;
    let mut last_err = None;
    for path in &provider.verify.paths {
        let url = ep.api_url(&fill_path(path, params)?)?;
        match get_json(ep.http, provider, url, access_token).await {
            Ok(json) => {
                return Ok(Identity {
                    who: render(&provider.verify.who, &json),
                    company: render(&provider.verify.company, &json),
                });
            }
            // Out of scope for this credential: try the next cheap endpoint.
            Err(e) if e.kind() == ErrorKind::Reconnect && provider.verify.paths.len() > 1 => {
                last_err = Some(e)
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| Error::reconnect(&provider.name)))
}

/// GET a JSON API resource with the bearer token, waiting out 429s within a bound and trying
/// once more after a server error.
pub async fn get_json(
    http: &reqwest::Client,
    provider: &ProviderSpec,
    url: url::Url,
    access_token: &SecretString,
) -> Result<serde_json::Value> {
    let mut waited = Duration::ZERO;
    let mut retried_server_error = false;
    loop {
        let resp = http
            .get(url.clone())
            .bearer_auth(access_token.expose_secret())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| transport_error(&provider.name, e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport_error(&provider.name, e))?;
        if status == 200 {
            return serde_json::from_slice(&body)
                .map_err(|_| Error::provider_down(&provider.name, None));
        }
        if status == 429 {
            let wait = Duration::from_secs(retry_after(&headers).unwrap_or(2).clamp(1, 10));
            if waited + wait <= MAX_RATE_WAIT {
                tracing::info!(system = %provider.name, secs = wait.as_secs(), "rate limited; waiting");
                tokio::time::sleep(wait).await;
                waited += wait;
                continue;
            }
        }
        if status >= 500 && !retried_server_error {
            // A read is safe to repeat: one server error gets a second chance.
            tracing::info!(system = %provider.name, status, "server error; trying once more");
            retried_server_error = true;
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        return Err(api_error(provider, status, &headers, &body));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_quickbooks_time_current_user() {
        let j = json!({"results":{"users":{"933849":{"first_name":"Mary","last_name":"Samsonite","company_name":"API Sample Output Company"}}},"more":false});
        assert_eq!(
            render(
                "{results.users.*.first_name} {results.users.*.last_name}",
                &j
            ),
            "Mary Samsonite"
        );
        assert_eq!(
            render("{results.users.*.company_name}", &j),
            "API Sample Output Company"
        );
    }

    #[test]
    fn renders_arrays_and_missing_values() {
        let j = json!([{"ContactFirstName":"Ann","ContactLastName":"Lee"}]);
        assert_eq!(
            render("{0.ContactFirstName} {0.ContactLastName}", &j),
            "Ann Lee"
        );
        assert_eq!(render("{*.ContactFirstName}", &j), "Ann");
        assert_eq!(render("{0.Nope} {1.ContactFirstName}", &j), "");
        assert_eq!(render("", &j), "");
    }

    #[test]
    fn fills_kept_parameters_into_paths() {
        let p = BTreeMap::from([("realmId".to_string(), "9341".to_string())]);
        assert_eq!(
            fill_path("/v3/company/{realmId}/companyinfo/{realmId}", &p).unwrap(),
            "/v3/company/9341/companyinfo/9341"
        );
        assert_eq!(
            fill_path("/v3/company/{realmId}", &BTreeMap::new())
                .unwrap_err()
                .kind(),
            ErrorKind::Reconnect
        );
    }
}
