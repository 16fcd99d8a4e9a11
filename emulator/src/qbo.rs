//! QuickBooks Online (Intuit): authorize on `appcenter.intuit.com`, tokens on
//! `oauth.platform.intuit.com`, revoke on `developer.api.intuit.com`, the Accounting API on
//! `quickbooks.api.intuit.com` / `sandbox-quickbooks.api.intuit.com` (reference section 3).

use crate::Shared;
use crate::clock::{now, now_millis, qbo_time};
use crate::http::{Req, Resp, empty, error_page, form_get, json, response};
use crate::oauth::{self, Issue, TokenCheck};
use crate::runtime::{Endpoint, enter};
use crate::state::{Grant, QBO};
use crate::tokens::jwt_hs256;
use hyper::Method;
use serde::Serialize;
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::time::Duration;

pub(crate) const AUTH_HOST: &str = "appcenter.intuit.com";
pub(crate) const TOKEN_HOST: &str = "oauth.platform.intuit.com";
pub(crate) const REVOKE_HOST: &str = "developer.api.intuit.com";
pub(crate) const API_HOST: &str = "quickbooks.api.intuit.com";
pub(crate) const SANDBOX_API_HOST: &str = "sandbox-quickbooks.api.intuit.com";

pub(crate) fn is_host(h: &str) -> bool {
    matches!(
        h,
        AUTH_HOST | TOKEN_HOST | REVOKE_HOST | API_HOST | SANDBOX_API_HOST
    )
}

pub(crate) fn classify(req: &Req) -> Option<Endpoint> {
    let segs = req.seg_refs();
    match (req.host.as_str(), segs.as_slice()) {
        (AUTH_HOST, ["connect", "oauth2"]) => Some(Endpoint::Authorize),
        (AUTH_HOST, ["connect", "oauth2", "authorize", "decision"]) => Some(Endpoint::Decision),
        (TOKEN_HOST, ["oauth2", "v1", "tokens", "bearer"]) => Some(
            if form_get(&req.form(), "grant_type") == Some("refresh_token") {
                Endpoint::Refresh
            } else {
                Endpoint::Token
            },
        ),
        (REVOKE_HOST, ["v2", "oauth2", "tokens", "revoke"]) => Some(Endpoint::Revoke),
        (API_HOST | SANDBOX_API_HOST, _) => Some(Endpoint::Api),
        _ => None,
    }
}

/// A fresh `intuit_tid` value (Intuit's transaction id header).
pub(crate) fn intuit_tid() -> String {
    format!(
        "1-{}-{}",
        crate::tokens::random_hex(8),
        crate::tokens::random_hex(24)
    )
}

fn oauth_json(status: u16, body: &Value) -> Resp {
    response(status, "application/json;charset=UTF-8", body.to_string())
}

pub(crate) fn invalid_client() -> Resp {
    oauth_json(401, &json!({"error": "invalid_client"}))
}

pub(crate) fn invalid_grant(description: &str) -> Resp {
    oauth_json(
        400,
        &json!({"error": "invalid_grant", "error_description": description}),
    )
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// The API gateway's lower-case fault body (reference 3.10), member order as observed.
pub(crate) fn gateway_fault(
    status: u16,
    message: &str,
    detail: &str,
    code: &str,
    ty: &str,
) -> Resp {
    let body = format!(
        r#"{{"warnings":null,"intuitObject":null,"fault":{{"error":[{{"message":{},"detail":{},"code":{},"element":null}}],"type":{}}},"report":null,"queryResponse":null,"batchItemResponse":[],"attachableResponse":[],"syncErrorResponse":null,"requestId":null,"time":{},"status":null,"cdcresponse":[]}}"#,
        json_string(message),
        json_string(detail),
        json_string(code),
        json_string(ty),
        now_millis()
    );
    response(status, "application/json;charset=UTF-8", body)
}

fn xml_escape(s: &str) -> String {
    crate::text::html_escape(s)
}

pub(crate) fn unauthorized(xml: bool, detail: &str) -> Resp {
    if xml {
        service_fault(
            true,
            401,
            "AuthenticationFault",
            "100",
            "General Authentication Error",
            "AuthenticationErrorGeneral: SRV-110-Authentication Failure , statusCode: 401",
        )
    } else {
        gateway_fault(
            401,
            "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            detail,
            "3200",
            "AUTHENTICATION",
        )
    }
}

pub(crate) fn forbidden(xml: bool) -> Resp {
    let message = "message=AuthorizationFailed; errorCode=003100; statusCode=403";
    let detail = "The access token is not authorized for this company or environment.";
    if xml {
        service_fault(true, 403, "AuthorizationFault", "3100", message, detail)
    } else {
        gateway_fault(403, message, detail, "3100", "SERVICE")
    }
}

pub(crate) fn throttled(xml: bool, retry_after: Option<u64>) -> Resp {
    let message = "message=ThrottleExceeded; errorCode=003001; statusCode=429";
    let detail = "The request limit was reached.";
    let mut r = if xml {
        service_fault(true, 429, "ThrottleExceeded", "3001", message, detail)
    } else {
        gateway_fault(429, message, detail, "3001", "SERVICE")
    };
    if let Some(secs) = retry_after {
        crate::http::set_header(&mut r, "retry-after", &secs.to_string());
    }
    r
}

/// A service-level fault (PascalCase members, reference 3.10), or with `xml` (answers without
/// `Accept: application/json`) the same fault as an XML `IntuitResponse`, which is also how the
/// gateway's faults read in XML.
pub(crate) fn service_fault(
    xml: bool,
    status: u16,
    fault_type: &str,
    code: &str,
    message: &str,
    detail: &str,
) -> Resp {
    if xml {
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{}"><Fault type="{}"><Error code="{}"><Message>{}</Message><Detail>{}</Detail></Error></Fault></IntuitResponse>"#,
            xml_escape(&qbo_time()),
            xml_escape(fault_type),
            xml_escape(code),
            xml_escape(message),
            xml_escape(detail)
        );
        return response(status, "application/xml;charset=UTF-8", body);
    }
    response(
        status,
        "application/json;charset=UTF-8",
        json!({
            "Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}], "type": fault_type},
            "time": qbo_time(),
        })
        .to_string(),
    )
}

pub(crate) async fn handle(
    sh: &Shared,
    req: &Req,
    deny_fault: bool,
    delay: Option<Duration>,
) -> Resp {
    let segs = req.seg_refs();
    match (req.host.as_str(), segs.as_slice(), &req.method) {
        (AUTH_HOST, ["connect", "oauth2"], &Method::GET) => oauth::authorize(sh, req, QBO),
        (AUTH_HOST, ["connect", "oauth2", "authorize", "decision"], &Method::POST) => {
            oauth::decision(sh, req, QBO, deny_fault)
        }
        (AUTH_HOST, _, _) => error_page(
            404,
            "Page not found",
            "We can't find the page you're looking for.",
        ),
        (TOKEN_HOST, ["oauth2", "v1", "tokens", "bearer"], &Method::POST) => token(sh, req),
        (REVOKE_HOST, ["v2", "oauth2", "tokens", "revoke"], &Method::POST) => revoke(sh, req),
        (TOKEN_HOST | REVOKE_HOST, _, _) => oauth_json(
            404,
            &json!({"error": "invalid_request", "error_description": "Not found"}),
        ),
        (API_HOST | SANDBOX_API_HOST, ["v3", "company", realm, rest @ ..], _) => {
            let realm = realm.to_string();
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            api(sh, req, &realm, &rest, delay).await
        }
        _ => service_fault(
            !req.accepts_json(),
            404,
            "ValidationFault",
            "404",
            "Resource not found",
            req.path.as_str(),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

/// Member order as in Intuit's SDK mocks (reference 3.4).
#[derive(Serialize)]
struct TokenResponse<'a> {
    token_type: &'a str,
    expires_in: u64,
    refresh_token: &'a str,
    x_refresh_token_expires_in: u64,
    access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x_refresh_token_hard_expires_in: Option<u64>,
}

/// Refresh tokens' absolute cap: five years (reference 3.6).
const HARD_CAP_SECS: u64 = 5 * 365 * 86_400;

fn token_response(req: &Req, issue: &Issue, id_token: Option<String>) -> Resp {
    let t = now();
    let hard = req
        .header("x-include-refresh-token-hard-expires-in")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        .then(|| (issue.grant.created_at + HARD_CAP_SECS).saturating_sub(t));
    let body = TokenResponse {
        token_type: "bearer",
        expires_in: issue.access_expires_at.saturating_sub(t),
        refresh_token: &issue.grant.refresh,
        x_refresh_token_expires_in: issue
            .grant
            .refresh_expires_at
            .map(|e| e.saturating_sub(t))
            .unwrap_or(8_726_400),
        access_token: &issue.access,
        id_token,
        x_refresh_token_hard_expires_in: hard,
    };
    oauth_json(200, &serde_json::to_value(&body).unwrap_or(Value::Null))
}

/// The client: HTTP Basic (Intuit SDKs) or client_secret_post (also advertised).
fn client_auth(sh: &Shared, req: &Req, form: &[(String, String)]) -> Option<String> {
    let (id, secret) = req.basic().or_else(|| {
        Some((
            form_get(form, "client_id")?.to_string(),
            form_get(form, "client_secret")?.to_string(),
        ))
    })?;
    sh.store
        .read(|s| {
            s.app_of(QBO, &id)
                .is_some_and(|a| a.info.client_secret == secret)
        })
        .then_some(id)
}

fn id_token(sh: &Shared, grant: &Grant) -> String {
    let key = sh.store.read(|s| s.signing_key.clone());
    let t = now();
    // Assumption: signed HS256 with an emulator key (Intuit signs RS256 with its JWKS).
    jwt_hs256(
        key.as_bytes(),
        &json!({
            "sub": "4f9c7a1e-2b3d-4c5e-8f90-123456789abc", "aud": [grant.app.client_id],
            "realmid": grant.realm_id, "auth_time": t, "iss": "https://oauth.platform.intuit.com/op/v1",
            "exp": t + 3600, "iat": t,
        }),
    )
}

fn token(sh: &Shared, req: &Req) -> Resp {
    let form = req.form();
    let Some(client_id) = client_auth(sh, req, &form) else {
        return invalid_client();
    };
    let mint = |_: &Grant, _: u64| oauth::new_access_token(QBO);
    match form_get(&form, "grant_type") {
        Some("authorization_code") => {
            let Some(code) = form_get(&form, "code") else {
                return oauth_json(400, &json!({"error": "invalid_request"}));
            };
            let redirect_uri = form_get(&form, "redirect_uri");
            let verifier = form_get(&form, "code_verifier");
            match sh.store.write(|s| {
                oauth::exchange_code(s, QBO, &client_id, code, redirect_uri, verifier, &mint)
            }) {
                Ok(issue) => {
                    let openid = issue.grant.scope.split([' ', '+']).any(|s| s == "openid");
                    let idt = openid.then(|| id_token(sh, &issue.grant));
                    token_response(req, &issue, idt)
                }
                Err(desc) => invalid_grant(desc),
            }
        }
        Some("refresh_token") => {
            let Some(token) = form_get(&form, "refresh_token") else {
                return oauth_json(400, &json!({"error": "invalid_request"}));
            };
            match sh
                .store
                .write(|s| oauth::refresh(s, QBO, Some(&client_id), None, token, &mint))
            {
                Ok(issue) => token_response(req, &issue, None),
                Err(_) => invalid_grant("Incorrect or invalid refresh token"),
            }
        }
        _ => oauth_json(400, &json!({"error": "unsupported_grant_type"})),
    }
}

/// `POST /v2/oauth2/tokens/revoke`, Basic auth, JSON `{"token": ...}` (reference 3.7).
fn revoke(sh: &Shared, req: &Req) -> Resp {
    let Some((id, secret)) = req.basic() else {
        return invalid_client();
    };
    if !sh.store.read(|s| {
        s.app_of(QBO, &id)
            .is_some_and(|a| a.info.client_secret == secret)
    }) {
        return invalid_client();
    }
    let token = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_string))
        .or_else(|| form_get(&req.form(), "token").map(str::to_string));
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return oauth_json(400, &json!({"error": "invalid_request"}));
    };
    let outcome = sh.store.write(|s| {
        let g = s.grants.iter_mut().find(|g| {
            g.app.provider == QBO
                && (g.refresh == token
                    || g.access.iter().any(|a| a.token == token)
                    || g.old_refresh.iter().any(|a| a.token == token))
        });
        match g {
            Some(g) if g.app.client_id != id => false,
            Some(g) => {
                // Revoking either token ends the whole connection.
                g.revoked = true;
                true
            }
            None => true,
        }
    });
    if outcome {
        // Assumption (UNCONFIRMED): 200 with an empty body; an unknown token is also 200 (RFC 7009).
        empty(200)
    } else {
        oauth_json(
            400,
            &json!({"error": "invalid_request", "error_description": "The token was issued to another client"}),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Accounting API

async fn api(
    sh: &Shared,
    req: &Req,
    realm: &str,
    rest: &[String],
    delay: Option<Duration>,
) -> Resp {
    let env = if req.host == SANDBOX_API_HOST {
        "sandbox"
    } else {
        "production"
    };
    let xml = !req.accepts_json();
    let grant = match oauth::check_access(sh, QBO, req.bearer().as_deref()) {
        Ok(g) => g,
        Err(e) => {
            let detail = match e {
                TokenCheck::Missing | TokenCheck::Unknown => {
                    "Malformed bearer token: too short or too long"
                }
                TokenCheck::Expired => "Token expired",
                TokenCheck::Revoked => "Token revoked",
            };
            return unauthorized(xml, detail);
        }
    };
    if grant.app.environment != env || grant.realm_id.as_deref() != Some(realm) {
        return forbidden(xml);
    }
    let settings = sh.store.read(|s| s.settings(QBO));
    if !sh.rt.allow(
        &format!("qbo:{env}:{realm}"),
        settings.rate_limit(QBO, env),
        settings.rate_window_secs,
    ) {
        return throttled(xml, settings.retry_after_secs);
    }
    let Some(_slot) = enter(
        &sh.rt,
        &format!("qbo:{}:{realm}", grant.app.client_id),
        settings.max_concurrent.unwrap_or(u32::MAX),
    ) else {
        return throttled(xml, settings.retry_after_secs);
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let Some(company) = sh.data.qbo.get(env) else {
        return forbidden(xml);
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (rest.as_slice(), &req.method) {
        (["companyinfo", id], &Method::GET) => {
            if *id == realm {
                json(
                    200,
                    &json!({"CompanyInfo": company.company_info, "time": qbo_time()}),
                )
            } else {
                object_not_found(xml)
            }
        }
        // Reads by id: `GET /v3/company/{realmId}/customer/{id}` and the same for vendor,
        // account and item (the mirror's api-reference customer.md, vendor.md, account.md,
        // item.md, "Read a …"), answering `{"<Entity>": {…}, "time": "…"}` like the samples.
        ([entity, id], &Method::GET) if readable(entity).is_some() => {
            read_by_id(xml, company, entity, id)
        }
        (["query"], &Method::GET | &Method::POST) => {
            let q = if req.method == Method::GET {
                req.q("query").map(str::to_string)
            } else {
                Some(String::from_utf8_lossy(&req.body).into_owned())
            };
            match q.filter(|q| !q.trim().is_empty()) {
                None => service_fault(
                    xml,
                    400,
                    "ValidationFault",
                    "4000",
                    "Error parsing query",
                    "QueryParserError: Encountered \"<EOF>\"",
                ),
                Some(q) => query(xml, company, &q),
            }
        }
        _ => service_fault(
            xml,
            400,
            "ValidationFault",
            "2010",
            "Unsupported Operation",
            "Operation not supported by the emulator",
        ),
    }
}

/// The entities that can be read by id, by their path segment (Intuit's paths are lower case;
/// assumption: other cases are accepted too).
fn readable(segment: &str) -> Option<&'static str> {
    ["Customer", "Vendor", "Account", "Item"]
        .into_iter()
        .find(|e| e.eq_ignore_ascii_case(segment))
}

fn records<'a>(company: &'a crate::data::QboCompany, entity: &str) -> &'a [Value] {
    match entity {
        "Customer" => &company.customers,
        "Vendor" => &company.vendors,
        "Account" => &company.accounts,
        "Item" => &company.items,
        _ => &[],
    }
}

fn read_by_id(xml: bool, company: &crate::data::QboCompany, segment: &str, id: &str) -> Resp {
    let Some(name) = readable(segment) else {
        return object_not_found(xml);
    };
    match records(company, name)
        .iter()
        .find(|r| r["Id"].as_str() == Some(id))
    {
        Some(found) => json(200, &json!({name: found, "time": qbo_time()})),
        None => object_not_found(xml),
    }
}

/// A read of an id that does not exist: a PascalCase service fault (reference 3.10) with
/// Intuit's "Object Not Found" error 610 and HTTP 400, as Intuit's "Top QuickBooks Online API
/// Errors" lists it (https://developer.intuit.com/hub/blog/2017/06/08/top-quickbooks-online-api-errors-and-how-to-handle-them:
/// "400 610 Object Not Found"); Message and Detail as in the mirror's api-reference/batch.md.
fn object_not_found(xml: bool) -> Resp {
    service_fault(
        xml,
        400,
        "ValidationFault",
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
    )
}

// ---- query language (reference 3.12) ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Sym(&'static str),
}

fn tokenize(q: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ';' {
            i += 1;
            continue;
        }
        if c == '\'' {
            let mut v = String::new();
            i += 1;
            loop {
                let Some(&ch) = chars.get(i) else {
                    return Err("Encountered unterminated string".into());
                };
                if ch == '\\'
                    && let Some(&next) = chars.get(i + 1)
                {
                    v.push(next);
                    i += 2;
                    continue;
                }
                i += 1;
                if ch == '\'' {
                    break;
                }
                v.push(ch);
            }
            out.push(Tok::Str(v));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let sym2 = ["<=", ">=", "!=", "<>"].into_iter().find(|s| *s == two);
        if let Some(s) = sym2 {
            out.push(Tok::Sym(s));
            i += 2;
            continue;
        }
        let sym1 = ["(", ")", ",", "*", "=", "<", ">"]
            .into_iter()
            .find(|s| s.starts_with(c));
        if let Some(s) = sym1 {
            out.push(Tok::Sym(s));
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !"(),*=<>!';".contains(chars[i]) {
            i += 1;
        }
        if start == i {
            return Err(format!("Encountered \"{c}\""));
        }
        out.push(Tok::Word(chars[start..i].iter().collect()));
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Cmp(String, &'static str, String),
    In(String, Vec<String>),
    Like(String, String),
}

#[derive(Debug, PartialEq)]
struct Query {
    count: bool,
    entity: &'static str,
    conds: Vec<Cond>,
    order: Vec<(String, bool)>,
    start: usize,
    max: usize,
}

const ENTITIES: [&str; 5] = ["Customer", "Vendor", "Account", "Item", "CompanyInfo"];
const MAX_RESULTS: usize = 1000;

struct P {
    toks: Vec<Tok>,
    pos: usize,
}

impl P {
    fn kw(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }
    fn sym(&self, s: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Sym(x)) if *x == s)
    }
    fn word(&mut self) -> Result<String, String> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => {
                self.pos += 1;
                Ok(w.clone())
            }
            other => Err(format!("Encountered {other:?}, expected a name")),
        }
    }
    fn value(&mut self) -> Result<String, String> {
        match self.toks.get(self.pos) {
            Some(Tok::Str(s) | Tok::Word(s)) => {
                self.pos += 1;
                Ok(s.clone())
            }
            other => Err(format!("Encountered {other:?}, expected a value")),
        }
    }
    /// One or more items separated by commas.
    fn list<T>(
        &mut self,
        item: impl Fn(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, QueryError> {
        let mut items = vec![item(self).map_err(QueryError::Parse)?];
        while self.sym(",") {
            self.pos += 1;
            items.push(item(self).map_err(QueryError::Parse)?);
        }
        Ok(items)
    }
    fn number(&mut self, what: &str) -> Result<i64, String> {
        let w = self.value()?;
        w.parse::<i64>()
            .map_err(|_| format!("Encountered \"{w}\", expected a number after {what}"))
    }
}

/// Parse errors are `QueryParserError` (code 4000); validation errors are `QueryValidationError`.
#[derive(Debug, PartialEq)]
enum QueryError {
    Parse(String),
    Validation(String),
}

fn parse_query(q: &str) -> Result<Query, QueryError> {
    let toks = tokenize(q).map_err(QueryError::Parse)?;
    let mut p = P { toks, pos: 0 };
    if !p.kw("select") {
        return Err(QueryError::Parse(
            "Encountered the start of the query, expected SELECT".into(),
        ));
    }
    p.pos += 1;
    let mut count = false;
    if p.sym("*") {
        p.pos += 1;
    } else if p.kw("count") {
        p.pos += 1;
        for s in ["(", "*", ")"] {
            if !p.sym(s) {
                return Err(QueryError::Parse("Encountered bad count(*)".into()));
            }
            p.pos += 1;
        }
        count = true;
    } else {
        // Field lists are accepted; the emulator returns whole entities.
        p.list(P::word)?;
    }
    if !p.kw("from") {
        return Err(QueryError::Parse("Expected FROM".into()));
    }
    p.pos += 1;
    let name = p.word().map_err(QueryError::Parse)?;
    let entity = ENTITIES
        .into_iter()
        .find(|e| e.eq_ignore_ascii_case(&name))
        .ok_or_else(|| QueryError::Validation(format!("Invalid entity name: {name}")))?;
    let mut conds = Vec::new();
    if p.kw("where") {
        p.pos += 1;
        loop {
            let field = p.word().map_err(QueryError::Parse)?;
            let cond = if p.kw("in") {
                p.pos += 1;
                if !p.sym("(") {
                    return Err(QueryError::Parse("Expected ( after IN".into()));
                }
                p.pos += 1;
                let vals = p.list(P::value)?;
                if !p.sym(")") {
                    return Err(QueryError::Parse("Expected ) after IN list".into()));
                }
                p.pos += 1;
                Cond::In(field, vals)
            } else if p.kw("like") {
                p.pos += 1;
                Cond::Like(field, p.value().map_err(QueryError::Parse)?)
            } else {
                let op = match p.toks.get(p.pos) {
                    Some(Tok::Sym(s @ ("=" | "<" | ">" | "<=" | ">=" | "!=" | "<>"))) => *s,
                    other => {
                        return Err(QueryError::Parse(format!(
                            "Encountered {other:?}, expected an operator"
                        )));
                    }
                };
                p.pos += 1;
                Cond::Cmp(field, op, p.value().map_err(QueryError::Parse)?)
            };
            conds.push(cond);
            if p.kw("and") {
                p.pos += 1;
            } else if p.kw("or") {
                return Err(QueryError::Parse(
                    "Encountered \"OR\": OR is not supported".into(),
                ));
            } else {
                break;
            }
        }
    }
    let mut order = Vec::new();
    let mut start = 1usize;
    let mut max = 100usize;
    loop {
        if p.kw("orderby")
            || (p.kw("order")
                && matches!(p.toks.get(p.pos + 1), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("by")))
        {
            p.pos += if p.kw("order") { 2 } else { 1 };
            order = p.list(|p| {
                let f = p.word()?;
                let desc = p.kw("desc");
                if desc || p.kw("asc") {
                    p.pos += 1;
                }
                Ok((f, desc))
            })?;
        } else if p.kw("startposition") {
            p.pos += 1;
            // Assumption: positions below 1 count as 1.
            start = p.number("STARTPOSITION").map_err(QueryError::Parse)?.max(1) as usize;
        } else if p.kw("maxresults") {
            p.pos += 1;
            let n = p.number("MAXRESULTS").map_err(QueryError::Parse)?;
            // Assumption (UNCONFIRMED): values outside 1..=1000 are refused rather than capped.
            if !(1..=MAX_RESULTS as i64).contains(&n) {
                return Err(QueryError::Validation(format!(
                    "value {n} is out of range for MAXRESULTS. Max allowed value is: {MAX_RESULTS}"
                )));
            }
            max = n as usize;
        } else {
            break;
        }
    }
    if let Some(t) = p.toks.get(p.pos) {
        return Err(QueryError::Parse(format!("Encountered {t:?}")));
    }
    Ok(Query {
        count,
        entity,
        conds,
        order,
        start,
        max,
    })
}

/// Field lookup by dotted path, ignoring ASCII case.
fn lookup<'a>(item: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(item, |v, k| {
        v.as_object()
            .and_then(|m| {
                m.iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v)
            })
            .unwrap_or(&Value::Null)
    })
}

fn compare(v: &Value, lit: &str) -> Option<Ordering> {
    match v {
        Value::String(s) => match (s.parse::<f64>(), lit.parse::<f64>()) {
            (Ok(a), Ok(b)) => a.partial_cmp(&b),
            _ => Some(s.as_str().cmp(lit)),
        },
        Value::Number(n) => n.as_f64()?.partial_cmp(&lit.parse::<f64>().ok()?),
        Value::Bool(b) => Some(b.cmp(&lit.eq_ignore_ascii_case("true"))),
        _ => None,
    }
}

fn like(pattern: &str, text: &str) -> bool {
    crate::text::wildcard_match(pattern, text, '%')
}

fn matches(item: &Value, c: &Cond) -> bool {
    match c {
        Cond::Cmp(f, op, lit) => match compare(lookup(item, f), lit) {
            Some(o) => match *op {
                "=" => o == Ordering::Equal,
                "!=" | "<>" => o != Ordering::Equal,
                "<" => o == Ordering::Less,
                ">" => o == Ordering::Greater,
                "<=" => o != Ordering::Greater,
                ">=" => o != Ordering::Less,
                _ => false,
            },
            None => false,
        },
        Cond::In(f, vals) => {
            let v = lookup(item, f);
            vals.iter().any(|l| compare(v, l) == Some(Ordering::Equal))
        }
        Cond::Like(f, pat) => lookup(item, f).as_str().is_some_and(|s| like(pat, s)),
    }
}

/// Strings that are numbers compare as numbers, other strings ignoring case.
fn order_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::String(x), Value::String(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
            _ => x.to_lowercase().cmp(&y.to_lowercase()),
        },
        _ => crate::odata::order_values(a, b),
    }
}

fn query(xml: bool, company: &crate::data::QboCompany, q: &str) -> Resp {
    let parsed = match parse_query(q) {
        Ok(p) => p,
        Err(e) => {
            let (code, message, detail) = match e {
                QueryError::Parse(d) => (
                    "4000",
                    "Error parsing query",
                    format!("QueryParserError: {d}"),
                ),
                QueryError::Validation(d) => (
                    "4001",
                    "Invalid query",
                    format!("QueryValidationError: {d}"),
                ),
            };
            return service_fault(xml, 400, "ValidationFault", code, message, &detail);
        }
    };
    let all: Vec<&Value> = match parsed.entity {
        "Customer" => company.customers.iter().collect(),
        "Vendor" => company.vendors.iter().collect(),
        "Account" => company.accounts.iter().collect(),
        "Item" => company.items.iter().collect(),
        _ => vec![&company.company_info],
    };
    let mut hits: Vec<&Value> = all
        .into_iter()
        .filter(|i| parsed.conds.iter().all(|c| matches(i, c)))
        .collect();
    if parsed.count {
        return json(
            200,
            &json!({"QueryResponse": {"totalCount": hits.len()}, "time": qbo_time()}),
        );
    }
    let order = if parsed.order.is_empty() {
        vec![("Id".to_string(), false)]
    } else {
        parsed.order.clone()
    };
    crate::odata::sort_by_keys(&mut hits, &order, |a, b, f| {
        order_values(lookup(a, f), lookup(b, f))
    });
    let page: Vec<Value> = hits
        .into_iter()
        .skip(parsed.start - 1)
        .take(parsed.max)
        .cloned()
        .collect();
    if page.is_empty() {
        // The entity key is absent when nothing matched (reference 3.12).
        return json(200, &json!({"QueryResponse": {}, "time": qbo_time()}));
    }
    let n = page.len();
    json(
        200,
        &json!({"QueryResponse": {parsed.entity: page, "startPosition": parsed.start, "maxResults": n}, "time": qbo_time()}),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_queries() {
        let q = parse_query("SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 100").unwrap();
        assert_eq!(
            (q.count, q.entity, q.start, q.max),
            (false, "Customer", 1, 100)
        );
        let q = parse_query("select count(*) from vendor").unwrap();
        assert!(q.count);
        assert_eq!(q.entity, "Vendor");
        let q = parse_query(
            "select * from Customer where Active = true and DisplayName LIKE '%O\\'Brien%' and Id IN ('1','2') orderby DisplayName desc maxresults 5 startposition 3",
        )
        .unwrap();
        assert_eq!(q.conds.len(), 3);
        assert_eq!(
            q.conds[1],
            Cond::Like("DisplayName".into(), "%O'Brien%".into())
        );
        assert_eq!((q.start, q.max, q.order[0].1), (3, 5, true));
        // Refused, as a parse error (4000) or a validation error.
        for (query, parse) in [
            ("select * from Foo", false),
            ("select * from Customer where A = 1 or B = 2", true),
            ("select * from Customer maxresults 1001", false),
            ("select * from Customer garbage", true),
        ] {
            let e = parse_query(query).unwrap_err();
            assert_eq!(matches!(e, QueryError::Parse(_)), parse, "{query}: {e:?}");
        }
    }

    #[test]
    fn like_and_lookup() {
        assert!(like("%bri%", "O'Brien"));
        assert!(like("Sum%", "Summit HOA"));
        assert!(!like("Sum%", "A Summit"));
        let v = json!({"MetaData": {"LastUpdatedTime": "2024-01-01T00:00:00-07:00"}});
        assert_eq!(
            lookup(&v, "metadata.lastupdatedtime"),
            "2024-01-01T00:00:00-07:00"
        );
    }
}
