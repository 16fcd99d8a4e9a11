//! Aspire External API: `/cloud-api.youraspire.com/...` (production) and
//! `/cloudsandbox-api.youraspire.com/...` (sandbox) (reference section 2).

// Helpers return finished error responses as `Err`; their size does not matter here.
#![allow(clippy::result_large_err)]

use crate::Shared;
use crate::clock::now;
use crate::http::{Req, Resp, json, set_header};
use crate::oauth::{self, Issue};
use crate::runtime::Endpoint;
use crate::state::{ASPIRE, Grant};
use crate::tokens::{jwt_hs256, random_hex};
use hyper::Method;
use serde_json::{Map, Value, json};

pub(crate) const PRODUCTION_HOST: &str = "cloud-api.youraspire.com";
pub(crate) const SANDBOX_HOST: &str = "cloudsandbox-api.youraspire.com";

pub(crate) fn environment(host: &str) -> &'static str {
    if host == SANDBOX_HOST {
        "sandbox"
    } else {
        "production"
    }
}

fn lower_segs(req: &Req) -> Vec<String> {
    // ASP.NET routing is case-insensitive.
    req.segs.iter().map(|s| s.to_ascii_lowercase()).collect()
}

pub(crate) fn classify(req: &Req) -> Option<Endpoint> {
    let segs = lower_segs(req);
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        [] => None,
        ["authorization"] => Some(Endpoint::Token),
        ["authorization", "refreshtoken"] => Some(Endpoint::Refresh),
        _ => Some(Endpoint::Api),
    }
}

/// ASP.NET Web API style error body `{"Message": "..."}`.
pub(crate) fn message(status: u16, msg: &str) -> Resp {
    json(status, &json!({ "Message": msg }))
}

/// Bad or other-environment client credentials at `POST /Authorization`.
pub(crate) fn bad_credentials() -> Resp {
    message(
        404,
        "No API user was found for the supplied ClientId and Secret.",
    )
}

/// Assumption (reference 2.7 UNCONFIRMED body): ASP.NET's standard 401 text.
pub(crate) fn denied() -> Resp {
    message(401, "Authorization has been denied for this request.")
}

pub(crate) fn rate_limited(environment: &str, limit: u32, retry_after: Option<u64>) -> Resp {
    let env = if environment == "sandbox" {
        "Sandbox"
    } else {
        "Production"
    };
    let mut r = message(
        429,
        &format!(
            "API rate limit exceeded: {env} allows {limit} requests per minute for all API users combined. Try again later."
        ),
    );
    if let Some(secs) = retry_after {
        set_header(&mut r, "retry-after", &secs.to_string());
    }
    r
}

fn invalid_model(errors: Map<String, Value>) -> Resp {
    json(
        400,
        &json!({"Message": "The request is invalid.", "ModelState": errors}),
    )
}

fn body_object(req: &Req, type_name: &str) -> Result<Map<String, Value>, Resp> {
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => {
            let mut e = Map::new();
            e.insert(
                "request".into(),
                json!([format!(
                    "The request body must be a JSON object of type '{type_name}'."
                )]),
            );
            Err(invalid_model(e))
        }
    }
}

pub(crate) fn handle(sh: &Shared, req: &Req) -> Resp {
    let env = environment(&req.host);
    let settings = sh.store.read(|s| s.settings(ASPIRE));
    let limit = settings.rate_limit(ASPIRE, env);
    // "for all API users combined" (2.8): one window per environment, every request counts.
    if !sh
        .rt
        .allow(&format!("aspire:{env}"), limit, settings.rate_window_secs)
    {
        return rate_limited(env, limit, settings.retry_after_secs);
    }
    let segs = lower_segs(req);
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (segs.as_slice(), &req.method) {
        (["authorization"], &Method::POST) => authenticate(sh, req, env),
        (["authorization", "refreshtoken"], &Method::POST) => refresh(sh, req, env),
        (["version", "getapiversion"], &Method::GET) => json(200, &json!("1.0")),
        (
            ["authorization"] | ["authorization", "refreshtoken"] | ["version", "getapiversion"],
            m,
        ) => message(
            405,
            &format!("The requested resource does not support http method '{m}'."),
        ),
        ([resource], &Method::GET) => list(sh, req, env, resource),
        _ => message(
            404,
            &format!(
                "No HTTP resource was found that matches the request URI '{}'.",
                req.path
            ),
        ),
    }
}

fn tenant(env: &str) -> &'static str {
    if env == "sandbox" {
        "patchbay-practice-sandbox"
    } else {
        "patchbay-practice"
    }
}

fn mint(key: String, host: String, env: &'static str) -> impl Fn(&Grant, u64) -> String {
    move |g: &Grant, exp: u64| {
        let t = now();
        jwt_hs256(
            key.as_bytes(),
            &json!({
                "sub": g.app.client_id, "jti": random_hex(32), "iat": t, "nbf": t, "exp": exp,
                "iss": format!("https://{host}"), "aud": format!("https://{host}"),
                "tenant": tenant(env), "environment": env,
            }),
        )
    }
}

fn token_body(issue: &Issue) -> Resp {
    // Exactly the two members of ApiAuthenticationResult (2.3); no expires_in.
    json(
        200,
        &json!({"Token": issue.access, "RefreshToken": issue.grant.refresh}),
    )
}

/// `POST /Authorization` `{ClientId, Secret}` (2.3).
fn authenticate(sh: &Shared, req: &Req, env: &'static str) -> Resp {
    let obj = match body_object(req, "ApiAuthenticationRequest") {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut errors = Map::new();
    // additionalProperties: false, exact key names.
    for k in obj.keys().filter(|k| *k != "ClientId" && *k != "Secret") {
        errors.insert(
            format!("request.{k}"),
            json!([format!(
                "Could not find member '{k}' on object of type 'ApiAuthenticationRequest'."
            )]),
        );
    }
    let mut field = |name: &str| -> String {
        match obj.get(name) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                errors.insert(
                    format!("request.{name}"),
                    json!([format!("The {name} field is required.")]),
                );
                String::new()
            }
        }
    };
    let client_id = field("ClientId");
    let secret = field("Secret");
    if !errors.is_empty() {
        return invalid_model(errors);
    }
    let known = sh.store.read(|s| {
        s.apps.iter().any(|a| {
            a.info.provider == ASPIRE
                && a.info.environment == env
                && a.info.client_id == client_id
                && a.info.client_secret == secret
        })
    });
    if !known {
        // Assumption (2.7 UNCONFIRMED): bad or other-environment credentials answer 404, as one
        // third party reports; the body is ours.
        return bad_credentials();
    }
    let key = sh.store.read(|s| s.signing_key.clone());
    let make = mint(key, req.host.clone(), env);
    let issue = sh
        .store
        .write(|s| oauth::create_grant(s, ASPIRE, env, &client_id, None, "", &make));
    token_body(&issue)
}

/// `POST /Authorization/RefreshToken` `{RefreshToken}` (2.4).
fn refresh(sh: &Shared, req: &Req, env: &'static str) -> Resp {
    let obj = match body_object(req, "ApiRefreshTokenRequest") {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(token) = obj
        .get("RefreshToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        let mut e = Map::new();
        e.insert(
            "request.RefreshToken".into(),
            json!(["The RefreshToken field is required."]),
        );
        return invalid_model(e);
    };
    let key = sh.store.read(|s| s.signing_key.clone());
    let make = mint(key, req.host.clone(), env);
    match sh
        .store
        .write(|s| oauth::refresh(s, ASPIRE, None, Some(env), token, &make))
    {
        Ok(issue) => token_body(&issue),
        // Assumption (UNCONFIRMED): an unknown, replaced or other-environment refresh token is 401.
        Err(_) => denied(),
    }
}

fn list(sh: &Shared, req: &Req, env: &str, resource: &str) -> Resp {
    let grant = match oauth::check_access(sh, ASPIRE, req.bearer().as_deref()) {
        Ok(g) => g,
        Err(_) => return denied(),
    };
    // A token minted on one environment is refused by the other (2.12).
    if grant.app.environment != env {
        return denied();
    }
    // An endpoint left out of the key's Scope (2.2). Assumption (2.7 UNCONFIRMED: 401 or 403,
    // body unknown): 403 with ASP.NET's denial text.
    let in_scope = sh.store.read(|s| {
        s.app(&grant.app.client_id)
            .and_then(|a| a.info.scope.clone())
            .is_none_or(|scope| scope.iter().any(|e| e.eq_ignore_ascii_case(resource)))
    });
    if !in_scope {
        return message(403, "Authorization has been denied for this request.");
    }
    let Some(data) = sh.data.aspire.get(env) else {
        return denied();
    };
    let items = match resource {
        "users" => &data.users,
        "contacts" => &data.contacts,
        "properties" => &data.properties,
        "worktickets" => &data.work_tickets,
        // `GET /WorkTicketTimes` and `GET /ClockTimes` (reference 2.10; the spec's
        // `WorkTicketTimes_Get` and `ClockTimes_Get` take the same OData parameters).
        "worktickettimes" => &data.work_ticket_times,
        "clocktimes" => &data.clock_times,
        "branches" => &data.branches,
        "divisions" => &data.divisions,
        _ => {
            return message(
                404,
                &format!(
                    "No HTTP resource was found that matches the request URI '{}'.",
                    req.path
                ),
            );
        }
    };
    match crate::odata::apply(items, req) {
        // A bare JSON array, as the spec says (2.9).
        Ok(out) => json(200, &Value::Array(out)),
        Err(msg) => message(400, &msg),
    }
}
