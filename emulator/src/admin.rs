//! `/_emulator/...`: the admin API (JSON) and the human "vendor console".

use crate::http::{Req, Resp, empty, form_get, html, json, redirect};
use crate::runtime::Fault;
use crate::state::{ASPIRE, App, PROVIDERS, QBO, QBT, Rotate, Settings, environments};
use crate::text::html_escape;
use crate::tokens::{random_alnum, random_hex};
use crate::{AppInfo, Shared};
use hyper::Method;
use serde::Deserialize;
use serde_json::{Value, json};

fn bad(status: u16, message: &str) -> Resp {
    json(status, &json!({ "error": message }))
}

pub(crate) fn handle(sh: &Shared, req: &Req) -> Resp {
    let segs = req.seg_refs();
    match (segs.as_slice(), &req.method) {
        ([], &Method::GET) | (["console"], &Method::GET) => console(sh),
        (["apps"], &Method::GET) => json(
            200,
            &serde_json::to_value(
                sh.store
                    .read(|s| s.apps.iter().map(|a| a.info.clone()).collect::<Vec<_>>()),
            )
            .unwrap_or(Value::Null),
        ),
        (["apps"], &Method::POST) => create_app_json(sh, req),
        (["console", "apps"], &Method::POST) => create_app_form(sh, req),
        (["faults"], &Method::GET) => json(
            200,
            &serde_json::to_value(sh.rt.faults()).unwrap_or(Value::Null),
        ),
        (["faults"], &Method::POST) => add_fault(sh, req),
        (["faults"], &Method::DELETE) => {
            sh.rt.clear_faults();
            empty(204)
        }
        (["settings"], &Method::GET) => json(
            200,
            &serde_json::to_value(sh.store.read(|s| s.settings.clone())).unwrap_or(Value::Null),
        ),
        (["settings"], &Method::POST) => update_settings(sh, req),
        (["clock"], &Method::GET) => json(
            200,
            &serde_json::json!({"skew_secs": crate::clock::clock_skew()}),
        ),
        (["clock"], &Method::POST) => set_clock(req),
        (["relay"], &Method::POST) => set_relay(sh, req),
        // The authorization codes issued and the PKCE verifiers they were redeemed with: the
        // leak tests search for them (no vendor has such an endpoint).
        (["codes"], &Method::GET) => json(
            200,
            &serde_json::to_value(sh.store.read(|s| {
                s.codes
                    .iter()
                    .map(|c| serde_json::json!({"code": c.code, "verifier": c.verifier}))
                    .collect::<Vec<_>>()
            }))
            .unwrap_or(Value::Null),
        ),
        (["stats"], &Method::GET) => json(
            200,
            &serde_json::to_value(sh.rt.stats()).unwrap_or(Value::Null),
        ),
        (["stats"], &Method::DELETE) => {
            sh.rt.reset_stats();
            empty(204)
        }
        _ => bad(404, "unknown admin endpoint"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApp {
    provider: String,
    environment: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    name: Option<String>,
    /// Aspire only: the endpoints under Scope ("Contacts", "Users", ...); absent: Select All.
    scope: Option<Vec<String>>,
}

/// Random credentials in the vendor's format.
fn credentials(provider: &str) -> (String, String) {
    match provider {
        // Nango's observed formats (reference 2.2): a UUID and 32 letters/digits.
        ASPIRE => (uuid::Uuid::new_v4().to_string(), random_alnum(32)),
        QBO => (format!("AB{}", random_alnum(48)), random_alnum(40)),
        _ => (random_hex(32), random_hex(40)),
    }
}

fn create_app(sh: &Shared, n: NewApp) -> Result<AppInfo, (u16, String)> {
    if !PROVIDERS.contains(&n.provider.as_str()) {
        return Err((
            400,
            format!(
                "unknown provider {:?}; use one of {PROVIDERS:?}",
                n.provider
            ),
        ));
    }
    if !environments(&n.provider).contains(&n.environment.as_str()) {
        return Err((
            400,
            format!("{} has no environment {:?}", n.provider, n.environment),
        ));
    }
    if n.scope.is_some() && n.provider != ASPIRE {
        return Err((
            400,
            "scope is Aspire's choice of endpoints; other vendors have none".to_string(),
        ));
    }
    let settings = sh.store.read(|s| s.settings(&n.provider));
    let uris: Vec<String> = n
        .redirect_uris
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    // The vendor's form refuses to save an address its rules do not allow (reference 3.8).
    for u in &uris {
        if let Some(why) = crate::oauth::refusal(&n.provider, &n.environment, &settings, u) {
            return Err((400, format!("{u}: {why}")));
        }
    }
    let (id, secret) = credentials(&n.provider);
    let info = AppInfo {
        provider: n.provider,
        environment: n.environment,
        client_id: n.client_id.filter(|c| !c.is_empty()).unwrap_or(id),
        client_secret: n.client_secret.filter(|c| !c.is_empty()).unwrap_or(secret),
        redirect_uris: uris,
        scope: n.scope,
    };
    let name = n
        .name
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "Patchbay".to_string());
    sh.store.write(|s| {
        if s.app(&info.client_id).is_some() {
            return Err((
                409,
                format!("an app with client_id {} already exists", info.client_id),
            ));
        }
        s.apps.push(App {
            info: info.clone(),
            name,
        });
        Ok(info.clone())
    })
}

fn create_app_json(sh: &Shared, req: &Req) -> Resp {
    let n: NewApp = match serde_json::from_slice(&req.body) {
        Ok(n) => n,
        Err(e) => return bad(400, &format!("invalid app: {e}")),
    };
    match create_app(sh, n) {
        Ok(info) => json(201, &serde_json::to_value(info).unwrap_or(Value::Null)),
        Err((status, msg)) => bad(status, &msg),
    }
}

fn create_app_form(sh: &Shared, req: &Req) -> Resp {
    let form = req.form();
    let (provider, environment) = form_get(&form, "app_type")
        .and_then(|t| t.split_once('/'))
        .unwrap_or(("", ""));
    let n = NewApp {
        provider: provider.to_string(),
        environment: environment.to_string(),
        redirect_uris: form_get(&form, "redirect_uris")
            .unwrap_or("")
            .lines()
            .map(str::to_string)
            .collect(),
        client_id: None,
        client_secret: None,
        name: form_get(&form, "name").map(str::to_string),
        scope: None,
    };
    match create_app(sh, n) {
        Ok(_) => redirect(303, "/_emulator/"),
        Err((status, msg)) => crate::http::error_page(status, "Could not create the app", &msg),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Relay {
    callback: String,
}

/// Where the hosted relay forwards the answer: what a distributor edits in its page.
fn set_relay(sh: &Shared, req: &Req) -> Resp {
    let r: Relay = match serde_json::from_slice(&req.body) {
        Ok(r) => r,
        Err(e) => return bad(400, &format!("invalid relay settings: {e}")),
    };
    match sh.relay_callback.lock() {
        Ok(mut c) => *c = r.callback,
        Err(e) => *e.into_inner() = r.callback,
    }
    empty(204)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clock {
    skew_secs: i64,
}

/// Skew the vendors' clock (token `iat`/`exp`, code and token lifetimes) against this computer's.
fn set_clock(req: &Req) -> Resp {
    match serde_json::from_slice::<Clock>(&req.body) {
        Ok(c) if c.skew_secs.unsigned_abs() <= 10 * 365 * 86_400 => {
            crate::clock::set_clock_skew(c.skew_secs);
            json(200, &serde_json::json!({"skew_secs": c.skew_secs}))
        }
        Ok(_) => bad(400, "skew_secs must be within ten years"),
        Err(e) => bad(400, &format!("invalid clock: {e}")),
    }
}

fn add_fault(sh: &Shared, req: &Req) -> Resp {
    let f: Fault = match serde_json::from_slice(&req.body) {
        Ok(f) => f,
        Err(e) => return bad(400, &format!("invalid fault: {e}")),
    };
    if f.provider != "any" && !PROVIDERS.contains(&f.provider.as_str()) {
        return bad(400, &format!("unknown provider {:?}", f.provider));
    }
    if f.count == Some(0) {
        return bad(
            400,
            "count must be at least 1 (omit it for \"until cleared\")",
        );
    }
    json(
        201,
        &serde_json::to_value(sh.rt.add_fault(f)).unwrap_or(Value::Null),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsUpdate {
    provider: String,
    access_token_ttl_secs: Option<u64>,
    code_ttl_secs: Option<u64>,
    rotate_refresh: Option<Rotate>,
    rotate_after_secs: Option<u64>,
    old_refresh_grace_secs: Option<u64>,
    rate_limit_per_window: Option<u32>,
    rate_window_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    max_concurrent: Option<u32>,
    retry_after_secs: Option<u64>,
    https_redirects_only: Option<bool>,
    consent_auto_allow: Option<bool>,
    max_date_range_days: Option<u64>,
}

fn update_settings(sh: &Shared, req: &Req) -> Resp {
    let u: SettingsUpdate = match serde_json::from_slice(&req.body) {
        Ok(u) => u,
        Err(e) => return bad(400, &format!("invalid settings: {e}")),
    };
    if !PROVIDERS.contains(&u.provider.as_str()) {
        return bad(400, &format!("unknown provider {:?}", u.provider));
    }
    let updated = sh.store.write(|s| {
        let cur = s
            .settings
            .entry(u.provider.clone())
            .or_insert_with(|| Settings::defaults(&u.provider));
        macro_rules! set {
            ($f:ident) => {
                if let Some(v) = u.$f {
                    cur.$f = v;
                }
            };
        }
        set!(access_token_ttl_secs);
        set!(code_ttl_secs);
        set!(rotate_refresh);
        set!(rotate_after_secs);
        set!(old_refresh_grace_secs);
        set!(rate_window_secs);
        set!(https_redirects_only);
        set!(consent_auto_allow);
        if u.max_date_range_days.is_some() {
            cur.max_date_range_days = u.max_date_range_days;
        }
        if u.rate_limit_per_window.is_some() {
            cur.rate_limit_per_window = u.rate_limit_per_window;
        }
        if u.refresh_token_ttl_secs.is_some() {
            cur.refresh_token_ttl_secs = u.refresh_token_ttl_secs;
        }
        if u.max_concurrent.is_some() {
            cur.max_concurrent = u.max_concurrent;
        }
        if u.retry_after_secs.is_some() {
            cur.retry_after_secs = u.retry_after_secs;
        }
        cur.clone()
    });
    // New limits start from fresh windows.
    sh.rt.reset_windows();
    json(200, &serde_json::to_value(updated).unwrap_or(Value::Null))
}

fn console(sh: &Shared) -> Resp {
    let apps = sh.store.read(|s| s.apps.clone());
    let mut rows = String::new();
    for a in &apps {
        rows.push_str(&format!(
            "<tr data-testid=\"console-app-row\"><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
            html_escape(&a.info.provider),
            html_escape(&a.info.environment),
            html_escape(&a.name),
            html_escape(&a.info.client_id),
            html_escape(&a.info.client_secret),
            a.info.redirect_uris.iter().map(|u| html_escape(u)).collect::<Vec<_>>().join("<br>"),
        ));
    }
    let mut options = String::new();
    for p in PROVIDERS {
        for e in environments(p) {
            let label = match p {
                QBT => "QuickBooks Time".to_string(),
                ASPIRE => format!("Aspire ({e})"),
                _ => format!(
                    "QuickBooks Online ({})",
                    if *e == "sandbox" {
                        "Development keys, sandbox"
                    } else {
                        "Production keys"
                    }
                ),
            };
            options.push_str(&format!(
                "<option value=\"{p}/{e}\">{}</option>",
                html_escape(&label)
            ));
        }
    }
    html(
        200,
        format!(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Patchbay emulator - vendor console</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style></head>
<body>
<h1>Vendor console (emulator)</h1>
<p>This is the practice stand-in for the vendors' developer pages. Base URL: <code>{base}</code>.
Real vendor URLs map to <code>{base}/HOST/PATH</code>.</p>
<h2>Apps</h2>
<table><tr><th>Provider</th><th>Environment</th><th>Name</th><th>Client ID</th><th>Client secret</th><th>Redirect URIs</th></tr>
{rows}</table>
<h2>Create an app</h2>
<form method="post" action="/_emulator/console/apps">
<p><label>System <select name="app_type">{options}</select></label></p>
<p><label>Name <input name="name" value="Patchbay"></label></p>
<p><label>Redirect URIs (one per line)<br><textarea name="redirect_uris" rows="3" cols="60">http://localhost:8765/callback</textarea></label></p>
<p><button type="submit" data-testid="console-create">Create app</button></p>
</form>
</body></html>
"#,
            base = html_escape(&sh.base_url),
        ),
    )
}
