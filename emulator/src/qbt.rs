//! QuickBooks Time (TSheets): `/rest.tsheets.com/api/v1/...` (reference section 1).

// Helpers return finished error responses as `Err`; their size does not matter here.
#![allow(clippy::result_large_err)]

use crate::Shared;
use crate::clock::now;
use crate::http::{Req, Resp, form_get, json};
use crate::oauth::{self, Issue, RefreshError};
use crate::runtime::Endpoint;
use crate::state::{QBT, Settings};
use hyper::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};
use time::macros::format_description;

pub(crate) const HOST: &str = "rest.tsheets.com";

pub(crate) fn classify(req: &Req) -> Option<Endpoint> {
    match req.seg_refs().as_slice() {
        ["api", "v1", "authorize"] => Some(Endpoint::Authorize),
        ["api", "v1", "authorize", "decision"] => Some(Endpoint::Decision),
        ["api", "v1", "grant"] => Some(
            if form_get(&req.form(), "grant_type") == Some("refresh_token") {
                Endpoint::Refresh
            } else {
                Endpoint::Token
            },
        ),
        ["api", "v1", _, ..] => Some(Endpoint::Api),
        _ => None,
    }
}

/// API error body, format 1 of reference 1.9: `{"error":{"code":N,"message":"..."}}`.
pub(crate) fn api_error(status: u16, message: &str) -> Resp {
    json(
        status,
        &json!({"error": {"code": status, "message": message}}),
    )
}

/// OAuth error body, format 2 of reference 1.9.
pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> Resp {
    json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

pub(crate) fn handle(sh: &Shared, req: &Req, deny_fault: bool) -> Resp {
    let segs = req.seg_refs();
    match segs.as_slice() {
        ["api", "v1", "authorize"] if req.method == Method::GET => oauth::authorize(sh, req, QBT),
        ["api", "v1", "authorize", "decision"] if req.method == Method::POST => {
            oauth::decision(sh, req, QBT, deny_fault)
        }
        ["api", "v1", "grant"] if req.method == Method::POST => grant(sh, req),
        ["api", "v1", "authorize"]
        | ["api", "v1", "authorize", "decision"]
        | ["api", "v1", "grant"] => api_error(405, "Method Not Allowed"),
        ["api", "v1", rest @ ..] => api(sh, req, rest),
        _ => api_error(404, "Not Found"),
    }
}

// ---------------------------------------------------------------------------------------------
// POST /grant

/// Field order as in the official example (reference 1.3).
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    expires_in: u64,
    token_type: &'a str,
    scope: &'a str,
    refresh_token: &'a str,
    user_id: String,
    company_id: &'a str,
    client_url: &'a str,
}

fn token_response(sh: &Shared, issue: &Issue) -> Resp {
    let body = TokenResponse {
        access_token: &issue.access,
        expires_in: issue.access_expires_at.saturating_sub(now()),
        token_type: "bearer",
        scope: "",
        refresh_token: &issue.grant.refresh,
        user_id: sh.data.qbt.admin_user_id.to_string(),
        company_id: &sh.data.qbt.company_id,
        client_url: &sh.data.qbt.client_url,
    };
    json(200, &serde_json::to_value(&body).unwrap_or(Value::Null))
}

fn grant(sh: &Shared, req: &Req) -> Resp {
    let form = req.form();
    let grant_type = form_get(&form, "grant_type");
    match grant_type {
        None => {
            return oauth_error(
                400,
                "invalid_request",
                "The grant_type parameter is required",
            );
        }
        Some("authorization_code" | "refresh_token") => {}
        Some(_) => {
            return oauth_error(
                400,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            );
        }
    }
    // Client credentials travel in the body (1.3); HTTP Basic is UNCONFIRMED, so not accepted.
    // Assumption (UNCONFIRMED body): a bad client answers 400 invalid_client in OAuth format.
    let client_id = form_get(&form, "client_id").unwrap_or("");
    let secret = form_get(&form, "client_secret").unwrap_or("");
    let client_ok = sh.store.read(|s| {
        s.app_of(QBT, client_id)
            .is_some_and(|a| a.info.client_secret == secret)
    });
    if !client_ok {
        return oauth_error(
            400,
            "invalid_client",
            "Client authentication failed: unknown client_id or wrong client_secret",
        );
    }
    let mint = |_: &crate::state::Grant, _: u64| oauth::new_access_token(QBT);
    if grant_type == Some("authorization_code") {
        let Some(code) = form_get(&form, "code") else {
            return oauth_error(400, "invalid_request", "The code parameter is required");
        };
        let redirect_uri = form_get(&form, "redirect_uri");
        let verifier = form_get(&form, "code_verifier");
        match sh
            .store
            .write(|s| oauth::exchange_code(s, QBT, client_id, code, redirect_uri, verifier, &mint))
        {
            Ok(issue) => token_response(sh, &issue),
            Err(desc) => oauth_error(400, "invalid_grant", desc),
        }
    } else {
        let Some(token) = form_get(&form, "refresh_token") else {
            return oauth_error(
                400,
                "invalid_request",
                "The refresh_token parameter is required",
            );
        };
        // Assumption (1.4 UNCONFIRMED): refresh also works after the access token expired.
        match sh
            .store
            .write(|s| oauth::refresh(s, QBT, Some(client_id), None, token, &mint))
        {
            Ok(issue) => token_response(sh, &issue),
            Err(e) => oauth_error(
                400,
                "invalid_grant",
                match e {
                    RefreshError::Unknown => "The refresh token is invalid",
                    RefreshError::WrongClient => "The refresh token was issued to another client",
                    RefreshError::Expired => "The refresh token has expired",
                    RefreshError::Revoked => "The refresh token has been revoked",
                },
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// API

fn api(sh: &Shared, req: &Req, rest: &[&str]) -> Resp {
    let token = req.bearer();
    if let Err(e) = oauth::check_access(sh, QBT, token.as_deref()) {
        return api_error(
            401,
            match e {
                oauth::TokenCheck::Expired => "Unauthorized. The access token has expired.",
                _ => "Unauthorized",
            },
        );
    }
    let settings = sh.store.read(|s| s.settings(QBT));
    let key = format!("qbt:{}", token.unwrap_or_default());
    if !sh.rt.allow(
        &key,
        settings.rate_limit(QBT, "production"),
        settings.rate_window_secs,
    ) {
        let mut r = api_error(429, "Too Many Requests");
        if let Some(secs) = settings.retry_after_secs {
            crate::http::set_header(&mut r, "retry-after", &secs.to_string());
        }
        return r;
    }
    let known = matches!(
        rest,
        ["current_user"] | ["users"] | ["jobcodes"] | ["timesheets"]
    );
    if known && req.method != Method::GET {
        return api_error(501, "Method not implemented by the emulator");
    }
    let result = match rest {
        ["current_user"] => Ok(current_user(sh)),
        ["users"] => users(sh, req),
        ["jobcodes"] => jobcodes(sh, req),
        ["timesheets"] => timesheets(sh, req, &settings),
        _ => Ok(api_error(404, "Not Found")),
    };
    result.unwrap_or_else(|r| r)
}

type ApiResult = Result<Resp, Resp>;

fn expectation_failed(message: &str) -> Resp {
    api_error(417, &format!("Expectation Failed: {message}"))
}

/// `page` (1-based) and `limit` (1..=200, default 200) (reference 1.11).
fn page_params(req: &Req) -> Result<(usize, usize), Resp> {
    let limit = match req.q("limit") {
        None => 200,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => n as usize,
            _ => {
                return Err(expectation_failed(
                    "limit must be an integer, greater than zero, and not greater than 200",
                ));
            }
        },
    };
    let page = match req.q("page") {
        None => 1,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => n as usize,
            _ => {
                return Err(expectation_failed(
                    "page must be an integer greater than zero",
                ));
            }
        },
    };
    Ok((page, limit))
}

fn paginate(items: Vec<&Value>, page: usize, limit: usize) -> (Vec<&Value>, bool) {
    let start = (page - 1).saturating_mul(limit);
    let more = items.len() > start.saturating_add(limit);
    (items.into_iter().skip(start).take(limit).collect(), more)
}

fn id_list(req: &Req, key: &str) -> Result<Option<Vec<u64>>, Resp> {
    let Some(v) = req.q(key).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    v.split(',')
        .map(|s| s.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
        .map_err(|_| expectation_failed(&format!("{key} must be a comma-separated list of ids")))
}

fn yes_no_both(req: &Req, key: &str, default: &str) -> Result<String, Resp> {
    let v = req.q(key).unwrap_or(default).to_ascii_lowercase();
    match v.as_str() {
        "yes" | "no" | "both" | "true" | "false" => Ok(v),
        _ => Err(expectation_failed(&format!(
            "{key} must be yes, no or both"
        ))),
    }
}

fn flag_matches(value: &Value, want: &str) -> bool {
    match want {
        "both" => true,
        "yes" | "true" => value == &Value::Bool(true),
        _ => value == &Value::Bool(false),
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    crate::text::wildcard_match(pattern, text, '*')
}

/// The record's `key` member matches the request's `key` pattern (none asked: every record).
fn glob_matches(req: &Req, key: &str, record: &Value) -> bool {
    req.q(key)
        .is_none_or(|p| glob(p, record[key].as_str().unwrap_or("")))
}

/// An id member is in the requested list (no list asked: every record).
fn id_in(value: &Value, ids: &Option<Vec<u64>>) -> bool {
    ids.as_ref()
        .is_none_or(|ids| value.as_u64().is_some_and(|id| ids.contains(&id)))
}

/// `modified_since` / `modified_before`. Assumption: ISO 8601 values are compared as strings,
/// which is exact for the `+00:00` timestamps the emulator generates.
fn modified_ok(item: &Value, req: &Req) -> bool {
    let lm = item["last_modified"].as_str().unwrap_or("");
    req.q("modified_since").is_none_or(|s| lm >= s)
        && req.q("modified_before").is_none_or(|b| lm < b)
}

fn keyed(items: Vec<Value>) -> Map<String, Value> {
    items
        .into_iter()
        .map(|v| (v["id"].to_string(), v))
        .collect()
}

fn envelope(
    name: &str,
    items: Vec<Value>,
    more: bool,
    supplemental: Option<Map<String, Value>>,
) -> Resp {
    let mut body = json!({"results": {name: keyed(items)}, "more": more});
    if let (Some(sup), Some(obj)) = (supplemental, body.as_object_mut()) {
        obj.insert("supplemental_data".into(), Value::Object(sup));
    }
    json(200, &body)
}

fn want_supplemental(req: &Req) -> bool {
    !matches!(
        req.q("supplemental_data")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("no" | "false")
    )
}

/// `supplemental_data`: the records the results refer to, grouped by kind and keyed by id
/// (reference 1.8, 1.12; api_docs Timesheets/Examples/_retrieve-response.md.erb shows
/// `jobcodes`, `users`, `customfields` and `files`, Jobcodes/Examples/_retrieve-response-2 and
/// -3 show `jobcodes`, `locations` and `customfields`). Only kinds with records are sent; with
/// none at all the member is left out, as in Jobcodes/Examples/_retrieve-response-1.
fn supplemental(groups: Vec<(&str, Vec<Value>)>) -> Option<Map<String, Value>> {
    let m: Map<String, Value> = groups
        .into_iter()
        .filter(|(_, records)| !records.is_empty())
        .map(|(kind, records)| (kind.to_string(), Value::Object(keyed(records))))
        .collect();
    (!m.is_empty()).then_some(m)
}

/// The records of `list` whose ids are in `ids`, once each, in `ids` order.
fn pick_ids(list: &[Value], ids: impl IntoIterator<Item = u64>) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for id in ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        if let Some(v) = list.iter().find(|v| v["id"].as_u64() == Some(id)) {
            out.push(v.clone());
        }
    }
    out
}

/// Ids that are the keys of an object member (`customfields`, `pto_balances`).
fn key_ids<'a>(items: &'a [Value], member: &'a str) -> impl Iterator<Item = u64> + 'a {
    items
        .iter()
        .filter_map(move |i| i[member].as_object())
        .flat_map(|m| m.keys().filter_map(|k| k.parse::<u64>().ok()))
}

/// Ids in an array member (`attached_files`, `locations`).
fn array_ids<'a>(items: &'a [Value], member: &'a str) -> impl Iterator<Item = u64> + 'a {
    items
        .iter()
        .filter_map(move |i| i[member].as_array())
        .flat_map(|a| a.iter().filter_map(Value::as_u64))
}

/// A jobcode as the API shows it: `customfields` is there only with `customfields=true`
/// (api_docs Jobcodes/_jobcodes.md.erb).
fn jobcode_view(j: &Value, with_customfields: bool) -> Value {
    let mut v = j.clone();
    if !with_customfields && let Some(o) = v.as_object_mut() {
        o.remove("customfields");
    }
    v
}

/// The ids of the parents, grandparents, … of a jobcode.
fn ancestor_ids(jobcodes: &[Value], j: &Value) -> Vec<u64> {
    let mut out = Vec::new();
    let mut parent = j["parent_id"].as_u64().unwrap_or(0);
    while parent != 0 && !out.contains(&parent) {
        out.push(parent);
        parent = jobcodes
            .iter()
            .find(|p| p["id"].as_u64() == Some(parent))
            .and_then(|p| p["parent_id"].as_u64())
            .unwrap_or(0);
    }
    out
}

/// For users: their PTO jobcodes (api_docs Users/_users.md.erb: "Jobcode information for PTO
/// Jobcodes will be supplied in `supplemental_data`") and their custom fields.
fn user_supplemental(sh: &Shared, users: &[Value]) -> Option<Map<String, Value>> {
    let qbt = &sh.data.qbt;
    supplemental(vec![
        (
            "jobcodes",
            pick_ids(&qbt.jobcodes, key_ids(users, "pto_balances"))
                .iter()
                .map(|j| jobcode_view(j, false))
                .collect(),
        ),
        (
            "customfields",
            pick_ids(&qbt.customfields, key_ids(users, "customfields")),
        ),
    ])
}

/// `GET /current_user` (reference 1.7).
fn current_user(sh: &Shared) -> Resp {
    let me: Vec<Value> = sh
        .data
        .qbt
        .users
        .iter()
        .filter(|u| u["id"].as_u64() == Some(sh.data.qbt.admin_user_id))
        .cloned()
        .collect();
    let sup = user_supplemental(sh, &me);
    envelope("users", me, false, sup)
}

fn users(sh: &Shared, req: &Req) -> ApiResult {
    let (page, limit) = page_params(req)?;
    let ids = id_list(req, "ids")?;
    let not_ids = id_list(req, "not_ids")?;
    let active = yes_no_both(req, "active", "yes")?;
    let usernames: Option<Vec<String>> = req
        .q("usernames")
        .map(|v| v.split(',').map(|s| s.trim().to_lowercase()).collect());
    let items: Vec<&Value> = sh
        .data
        .qbt
        .users
        .iter()
        .filter(|u| id_in(&u["id"], &ids))
        .filter(|u| {
            not_ids
                .as_ref()
                .is_none_or(|ids| !u["id"].as_u64().is_some_and(|id| ids.contains(&id)))
        })
        .filter(|u| flag_matches(&u["active"], &active))
        .filter(|u| {
            usernames.as_ref().is_none_or(|names| {
                names.contains(&u["username"].as_str().unwrap_or("").to_lowercase())
            })
        })
        .filter(|u| glob_matches(req, "first_name", u))
        .filter(|u| glob_matches(req, "last_name", u))
        .filter(|u| modified_ok(u, req))
        .collect();
    let (page_items, more) = paginate(items, page, limit);
    let page_items: Vec<Value> = page_items.into_iter().cloned().collect();
    let sup = if want_supplemental(req) {
        user_supplemental(sh, &page_items)
    } else {
        None
    };
    Ok(envelope("users", page_items, more, sup))
}

fn jobcodes(sh: &Shared, req: &Req) -> ApiResult {
    let (page, limit) = page_params(req)?;
    let ids = id_list(req, "ids")?;
    // parent_ids defaults to -1 ("all"); anything that is not a list of ids means all.
    let parent_ids = id_list(req, "parent_ids").ok().flatten();
    let active = yes_no_both(req, "active", "yes")?;
    let ty = req.q("type").unwrap_or("regular").to_ascii_lowercase();
    // `customfields`: true or false, default false (api_docs Jobcodes/_retrieve.md.erb).
    let with_customfields = matches!(
        req.q("customfields")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("true" | "yes" | "1")
    );
    let all = &sh.data.qbt.jobcodes;
    let items: Vec<&Value> = all
        .iter()
        .filter(|j| id_in(&j["id"], &ids))
        .filter(|j| id_in(&j["parent_id"], &parent_ids))
        .filter(|j| flag_matches(&j["active"], &active))
        .filter(|j| ty == "all" || j["type"].as_str() == Some(ty.as_str()))
        .filter(|j| glob_matches(req, "name", j))
        .filter(|j| modified_ok(j, req))
        .collect();
    let (page_items, more) = paginate(items, page, limit);
    let page_items: Vec<Value> = page_items
        .into_iter()
        .map(|j| jobcode_view(j, with_customfields))
        .collect();
    let sup = if want_supplemental(req) {
        // Parents "needed to trace each result back to its top level parent" that are not
        // results themselves (api_docs Jobcodes/_retrieve.md.erb, parent_ids), the results'
        // locations, and with customfields=true the custom fields they use.
        let on_page: Vec<u64> = page_items.iter().filter_map(|j| j["id"].as_u64()).collect();
        let parents: Vec<u64> = page_items
            .iter()
            .flat_map(|j| ancestor_ids(all, j))
            .filter(|id| !on_page.contains(id))
            .collect();
        let customfields = if with_customfields {
            pick_ids(
                &sh.data.qbt.customfields,
                key_ids(&page_items, "customfields"),
            )
        } else {
            Vec::new()
        };
        supplemental(vec![
            (
                "jobcodes",
                pick_ids(all, parents)
                    .iter()
                    .map(|j| jobcode_view(j, with_customfields))
                    .collect(),
            ),
            (
                "locations",
                pick_ids(&sh.data.qbt.locations, array_ids(&page_items, "locations")),
            ),
            ("customfields", customfields),
        ])
    } else {
        None
    };
    Ok(envelope("jobcodes", page_items, more, sup))
}

/// A `YYYY-MM-DD` date.
fn parse_date(s: &str) -> Option<time::Date> {
    let b = s.as_bytes();
    if b.len() != 10 {
        return None;
    }
    time::Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// Assumption (UNCONFIRMED: no source documents a limit; reference 1.9 lists 417 "Expectation
/// Failed" for missing or malformed parameters): `/timesheets` refuses a date range (start_date
/// to end_date, or to today without end_date) longer than this many days with a 417. The
/// QuickBooks Time setting `max_date_range_days` overrides it. Patchbay asks for the last 90
/// days without an end_date (core/providers.toml `start_date = "{days_ago:90}"`), well inside.
pub(crate) const DEFAULT_MAX_DATE_RANGE_DAYS: u64 = 365;

/// `GET /timesheets` (reference 1.12).
fn timesheets(sh: &Shared, req: &Req, settings: &Settings) -> ApiResult {
    let ids = id_list(req, "ids")?;
    let start_date = req.q("start_date").filter(|s| !s.is_empty());
    let end_date = req.q("end_date").filter(|s| !s.is_empty());
    if ids.is_none()
        && start_date.is_none()
        && req.q("modified_before").is_none()
        && req.q("modified_since").is_none()
    {
        return Err(expectation_failed(
            "One of the following parameters must be set: ids, start_date, modified_before, modified_since",
        ));
    }
    let mut dates = Vec::new();
    for (k, v) in [("start_date", start_date), ("end_date", end_date)] {
        if let Some(v) = v {
            let Some(d) = parse_date(v) else {
                return Err(expectation_failed(&format!(
                    "{k} must be a date in YYYY-MM-DD format"
                )));
            };
            dates.push((k, d));
        }
    }
    if let Some(&(_, from)) = dates.iter().find(|(k, _)| *k == "start_date") {
        let to = match dates.iter().find(|(k, _)| *k == "end_date") {
            Some(&(_, d)) => d,
            None => {
                time::OffsetDateTime::from_unix_timestamp(now() as i64).map_or(from, |t| t.date())
            }
        };
        let max = settings
            .max_date_range_days
            .unwrap_or(DEFAULT_MAX_DATE_RANGE_DAYS);
        if (to - from).whole_days() > max as i64 {
            return Err(expectation_failed(&format!(
                "the date range from start_date to end_date may not be longer than {max} days"
            )));
        }
    }
    let (page, limit) = page_params(req)?;
    let user_ids = id_list(req, "user_ids")?;
    let jobcode_ids = id_list(req, "jobcode_ids")?;
    let on_the_clock = yes_no_both(req, "on_the_clock", "no")?;
    let jobcode_type = req.q("jobcode_type").unwrap_or("all").to_ascii_lowercase();
    let qbt = &sh.data.qbt;
    let jobcode_of = |id: &Value| qbt.jobcodes.iter().find(|j| &j["id"] == id);
    let items: Vec<&Value> = qbt
        .timesheets
        .iter()
        .filter(|t| id_in(&t["id"], &ids))
        .filter(|t| start_date.is_none_or(|d| t["date"].as_str().unwrap_or("") >= d))
        .filter(|t| end_date.is_none_or(|d| t["date"].as_str().unwrap_or("") <= d))
        .filter(|t| id_in(&t["user_id"], &user_ids))
        .filter(|t| id_in(&t["jobcode_id"], &jobcode_ids))
        .filter(|t| flag_matches(&t["on_the_clock"], &on_the_clock))
        .filter(|t| {
            jobcode_type == "all"
                || jobcode_of(&t["jobcode_id"])
                    .is_some_and(|j| j["type"].as_str() == Some(jobcode_type.as_str()))
        })
        .filter(|t| modified_ok(t, req))
        .collect();
    let (page_items, more) = paginate(items, page, limit);
    let page_items: Vec<Value> = page_items.into_iter().cloned().collect();
    let sup = if want_supplemental(req) {
        // Each timesheet's jobcode with its parents (the api_docs example lists the parent
        // 17288279 of 18080900), its user, the custom fields it uses and its attached files.
        let jobcode_ids: Vec<u64> = page_items
            .iter()
            .filter_map(|t| jobcode_of(&t["jobcode_id"]))
            .flat_map(|j| {
                let mut chain = vec![j["id"].as_u64().unwrap_or(0)];
                chain.extend(ancestor_ids(&qbt.jobcodes, j));
                chain
            })
            .collect();
        supplemental(vec![
            (
                "jobcodes",
                pick_ids(&qbt.jobcodes, jobcode_ids)
                    .iter()
                    .map(|j| jobcode_view(j, false))
                    .collect(),
            ),
            (
                "users",
                pick_ids(
                    &qbt.users,
                    page_items.iter().filter_map(|t| t["user_id"].as_u64()),
                ),
            ),
            (
                "customfields",
                pick_ids(&qbt.customfields, key_ids(&page_items, "customfields")),
            ),
            (
                "files",
                pick_ids(&qbt.files, array_ids(&page_items, "attached_files")),
            ),
        ])
    } else {
        None
    };
    Ok(envelope("timesheets", page_items, more, sup))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::glob;

    #[test]
    fn wildcard() {
        assert!(glob("Ma*", "Mary"));
        assert!(glob("*ry", "Mary"));
        assert!(glob("m*r*", "Mary"));
        assert!(!glob("Jo*", "Mary"));
        assert!(glob("mary", "Mary"));
    }
}
