//! The OAuth 2 authorization-code machinery shared by QuickBooks Time and QuickBooks Online:
//! the authorize request, the consent page and its decision, codes, grants, refresh rotation.

use crate::Shared;
use crate::clock::now;
use crate::http::{Req, Resp, error_page, form_get, html, redirect, with_query};
use crate::state::{AppRef, Code, Grant, Issued, Pending, QBO, QBT, Rotate, Settings, State};
use crate::text::html_escape;
use crate::tokens::{pkce_s256, random_alnum, random_b64url, random_hex};

/// Intuit's wording for an unregistered redirect URI (reference 3.3).
pub(crate) const QBO_REDIRECT_MESSAGE: &str = "The redirect_uri query parameter value is invalid. Make sure it is listed in the Redirect URIs section on your app's keys tab and matches it exactly.";

/// Intuit's redirect URI rule (reference 3.8, set-redirect-uri), shown when an address breaks it.
pub(crate) const INTUIT_HTTPS_RULE: &str = "HTTP redirect URIs must be protected with TLS security. The Intuit OAuth 2.0 Server can only redirect to URIs beginning with https. IP addresses aren't allowed.";
/// Intuit's tip beside it: localhost without https is for sandbox (Development) keys only.
pub(crate) const INTUIT_LOCALHOST_TIP: &str =
    "You can add localhost (no HTTPS) as a URI for sandbox environments.";

/// Why a vendor would refuse to register, or to redirect to, `uri` for an app of `provider` in
/// `environment`; `None` when it is allowed.
///
/// QuickBooks Online (reference 3.8): https only and no IP addresses; `http://localhost` only for
/// sandbox keys ("Intuit refuses to register a localhost redirect for production keys").
/// QuickBooks Time: any absolute address, or with `https_redirects_only` (its docs: "The HTTPS
/// url", UNCONFIRMED) https addresses that are not localhost or an IP.
pub(crate) fn refusal(
    provider: &str,
    environment: &str,
    settings: &Settings,
    uri: &str,
) -> Option<String> {
    let Ok(url) = url::Url::parse(uri) else {
        return Some("This is not a valid URI.".to_string());
    };
    let host = url.host();
    let is_ip = matches!(host, Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)));
    let is_localhost =
        matches!(&host, Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost"));
    let https_public = url.scheme() == "https" && !is_ip && !is_localhost && host.is_some();
    match provider {
        QBO => {
            let sandbox_localhost =
                environment == "sandbox" && url.scheme() == "http" && is_localhost;
            if https_public || sandbox_localhost {
                None
            } else if is_localhost {
                Some(format!("{INTUIT_HTTPS_RULE} {INTUIT_LOCALHOST_TIP}"))
            } else {
                Some(INTUIT_HTTPS_RULE.to_string())
            }
        }
        QBT if settings.https_redirects_only && !https_public => Some(
            // Assumption: QuickBooks Time's wording is UNCONFIRMED; its docs' own words.
            "The OAuth Redirect URI must be the HTTPS url of your application (not localhost or an IP address).".to_string(),
        ),
        _ if matches!(url.scheme(), "http" | "https") => None,
        _ => Some("This is not a valid URI.".to_string()),
    }
}

fn decision_action(provider: &str) -> &'static str {
    if provider == QBT {
        "/rest.tsheets.com/api/v1/authorize/decision"
    } else {
        "/appcenter.intuit.com/connect/oauth2/authorize/decision"
    }
}

/// The vendor's authorize error page (a 400, no redirect): QuickBooks Time's `qbt` words, or
/// Intuit's connection-problem page with `intuit` as the developers' details.
fn authorize_error_page(provider: &str, qbt: &str, intuit: &str) -> Resp {
    if provider == QBT {
        error_page(400, "QuickBooks Time - Error", qbt)
    } else {
        error_page(
            400,
            "Uh oh, there's a connection problem",
            &format!(
                "Uh oh, there's a connection problem. View error details (for Developers): {intuit}"
            ),
        )
    }
}

fn invalid_client_page(provider: &str) -> Resp {
    authorize_error_page(
        provider,
        "invalid_client: The client_id is not valid. Check the Client ID of your API application.",
        "invalid_client: The client_id query parameter value is invalid.",
    )
}

fn redirect_mismatch_page(provider: &str) -> Resp {
    // Assumption (reference 1.6/1.9 UNCONFIRMED): QuickBooks Time shows an error page and does
    // not redirect to an unregistered URI; the wording is ours.
    authorize_error_page(
        provider,
        "invalid_request: The redirect_uri does not match the OAuth Redirect URI registered for this application.",
        QBO_REDIRECT_MESSAGE,
    )
}

fn error_redirect(
    sh: &Shared,
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Resp {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    redirect(302, &sh.browser_url(&with_query(redirect_uri, &params)))
}

/// `GET /rest.tsheets.com/api/v1/authorize` and `GET /appcenter.intuit.com/connect/oauth2`.
pub(crate) fn authorize(sh: &Shared, req: &Req, provider: &'static str) -> Resp {
    let client_id = req.q("client_id").unwrap_or("");
    let Some(app) = sh.store.read(|s| s.app_of(provider, client_id).cloned()) else {
        return invalid_client_page(provider);
    };
    let redirect_uri = req.q("redirect_uri").unwrap_or("");
    let settings = sh.store.read(|s| s.settings(provider));
    // Exact match with a registered URI, and the vendor's rules even for one registered before
    // a rule changed (a state file from an older emulator).
    if !app.info.redirect_uris.iter().any(|u| u == redirect_uri)
        || refusal(provider, &app.info.environment, &settings, redirect_uri).is_some()
    {
        return redirect_mismatch_page(provider);
    }
    // Assumption (reference 1.2 UNCONFIRMED): errors after the redirect URI is known echo state.
    let state = req.q("state").filter(|s| !s.is_empty());
    if req.q("response_type") != Some("code") {
        return error_redirect(
            sh,
            redirect_uri,
            "unsupported_response_type",
            "response_type must be code",
            state,
        );
    }
    // state is required by QuickBooks Time (1.2); Intuit lists it as required too (3.2).
    if state.is_none() {
        return error_redirect(
            sh,
            redirect_uri,
            "invalid_request",
            "The state parameter is required",
            None,
        );
    }
    let scope = req.q("scope").unwrap_or("").to_string();
    if provider == QBO
        && !scope
            .split([' ', '+'])
            .any(|s| s == "com.intuit.quickbooks.accounting")
    {
        return error_redirect(
            sh,
            redirect_uri,
            "invalid_scope",
            "The scope must include com.intuit.quickbooks.accounting",
            state,
        );
    }
    let challenge = req
        .q("code_challenge")
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if challenge.is_some() && req.q("code_challenge_method") != Some("S256") {
        return error_redirect(
            sh,
            redirect_uri,
            "invalid_request",
            "code_challenge_method must be S256",
            state,
        );
    }
    let txn = random_alnum(32);
    let pending = Pending {
        txn: txn.clone(),
        app: AppRef {
            provider: provider.to_string(),
            environment: app.info.environment.clone(),
            client_id: client_id.to_string(),
        },
        redirect_uri: redirect_uri.to_string(),
        state: state.map(str::to_string),
        scope,
        challenge,
        created_at: now(),
    };
    sh.store.write(|s| s.pending.push(pending));
    consent_page(
        sh,
        provider,
        &app.name,
        &app.info.environment,
        &txn,
        settings.consent_auto_allow,
    )
}

fn consent_page(
    sh: &Shared,
    provider: &str,
    app_name: &str,
    environment: &str,
    txn: &str,
    auto_allow: bool,
) -> Resp {
    let (title, heading, company, detail) = if provider == QBT {
        (
            "Authorize Application - QuickBooks Time".to_string(),
            "QuickBooks Time".to_string(),
            sh.data.qbt.company_name.clone(),
            "view and manage your QuickBooks Time data (users, job codes and timesheets)"
                .to_string(),
        )
    } else {
        let company = sh
            .data
            .qbo
            .get(environment)
            .map(|c| c.company_name.clone())
            .unwrap_or_default();
        (
            "Intuit - Connect to QuickBooks".to_string(),
            "Connect to QuickBooks".to_string(),
            company,
            "access your QuickBooks Online company data (accounting)".to_string(),
        )
    };
    html(
        200,
        format!(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{heading}</h1>
<p><strong data-testid="consent-app">{app}</strong> would like to {detail}.</p>
<p>Company: <strong data-testid="consent-company">{company}</strong></p>
<form method="post" action="{action}">
<input type="hidden" name="txn" value="{txn}">
<button type="submit" name="decision" value="allow" data-testid="consent-allow">{allow}</button>
<button type="submit" name="decision" value="deny" data-testid="consent-deny">{deny}</button>
</form>
{auto}</body></html>
"#,
            auto = if auto_allow {
                "<script>document.querySelector('[data-testid=consent-allow]').click();</script>\n"
            } else {
                ""
            },
            title = html_escape(&title),
            heading = html_escape(&heading),
            app = html_escape(app_name),
            detail = html_escape(&detail),
            company = html_escape(&company),
            action = decision_action(provider),
            // The vendors' words: QuickBooks Time's "Allow" (its guide), Intuit's "Connect" and
            // "Cancel" (the QuickBooks Online guide: "Click on the Connect").
            allow = if provider == QBT { "Allow" } else { "Connect" },
            deny = if provider == QBT { "Deny" } else { "Cancel" },
            txn = html_escape(txn),
        ),
    )
}

fn new_code(provider: &str) -> String {
    if provider == QBT {
        random_hex(40)
    } else {
        format!("AB11{}{}", now(), random_alnum(36))
    }
}

/// `POST .../authorize/decision` from the consent page.
pub(crate) fn decision(sh: &Shared, req: &Req, provider: &'static str, deny_fault: bool) -> Resp {
    let form = req.form();
    let txn = form_get(&form, "txn").unwrap_or("");
    let choice = form_get(&form, "decision").unwrap_or("");
    let Some(p) = sh.store.write(|s| {
        let pos = s
            .pending
            .iter()
            .position(|p| p.txn == txn && p.app.provider == provider)?;
        Some(s.pending.remove(pos))
    }) else {
        return error_page(
            400,
            "Authorization expired",
            "This authorization request has expired or was already answered. Start again from the app.",
        );
    };
    if choice != "allow" || deny_fault {
        // Assumption: QuickBooks Time's denial error value is UNCONFIRMED (1.2); access_denied is
        // the OAuth 2 value and Intuit's (3.3).
        return error_redirect(
            sh,
            &p.redirect_uri,
            "access_denied",
            "The user denied the authorization request",
            p.state.as_deref(),
        );
    }
    let settings = sh.store.read(|s| s.settings(provider));
    let realm_id = (provider == QBO)
        .then(|| sh.data.qbo.get(&p.app.environment))
        .flatten()
        .map(|c| c.realm_id.clone());
    let code = Code {
        code: new_code(provider),
        app: p.app,
        redirect_uri: p.redirect_uri.clone(),
        scope: p.scope.clone(),
        expires_at: now() + settings.code_ttl_secs,
        used: false,
        challenge: p.challenge.clone(),
        realm_id: realm_id.clone(),
        verifier: None,
    };
    let value = code.code.clone();
    sh.store.write(|s| s.codes.push(code));
    let mut params = vec![("code", value.as_str())];
    if let Some(st) = p.state.as_deref() {
        params.push(("state", st));
    }
    if let Some(r) = realm_id.as_deref() {
        params.push(("realmId", r));
    }
    redirect(302, &sh.browser_url(&with_query(&p.redirect_uri, &params)))
}

// ---------------------------------------------------------------------------------------------
// Tokens

pub(crate) fn new_access_token(provider: &str) -> String {
    match provider {
        // Intuit access tokens are long JWE strings.
        QBO => format!(
            "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..{}.{}.{}",
            random_b64url(16),
            random_b64url(320),
            random_b64url(16)
        ),
        _ => random_hex(40),
    }
}

pub(crate) fn new_refresh_token(provider: &str) -> String {
    match provider {
        QBO => format!("AB11{}{}", now() + 8_726_400, random_alnum(36)),
        crate::state::ASPIRE => random_b64url(48),
        _ => random_hex(40),
    }
}

/// A freshly issued access token and the grant it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub grant: Grant,
    pub access: String,
    pub access_expires_at: u64,
}

/// Creates a grant with its first token pair; `make_access` mints the access token value
/// (Aspire's JWT needs the grant id and expiry).
pub(crate) fn create_grant(
    s: &mut State,
    provider: &str,
    environment: &str,
    client_id: &str,
    realm_id: Option<String>,
    scope: &str,
    make_access: &dyn Fn(&Grant, u64) -> String,
) -> Issue {
    let t = now();
    let settings = s.settings(provider);
    let mut g = Grant {
        id: random_hex(16),
        app: AppRef {
            provider: provider.to_string(),
            environment: environment.to_string(),
            client_id: client_id.to_string(),
        },
        realm_id,
        scope: scope.to_string(),
        created_at: t,
        access: Vec::new(),
        refresh: new_refresh_token(provider),
        refresh_issued_at: t,
        refresh_expires_at: settings.refresh_token_ttl_secs.map(|ttl| t + ttl),
        old_refresh: Vec::new(),
        revoked: false,
    };
    let exp = t + settings.access_token_ttl_secs;
    let access = make_access(&g, exp);
    g.access.push(Issued {
        token: access.clone(),
        expires_at: exp,
    });
    s.grants.push(g.clone());
    Issue {
        grant: g,
        access,
        access_expires_at: exp,
    }
}

/// Why a code exchange failed: always `invalid_grant` with this description.
pub(crate) fn exchange_code(
    s: &mut State,
    provider: &str,
    client_id: &str,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    make_access: &dyn Fn(&Grant, u64) -> String,
) -> Result<Issue, &'static str> {
    let t = now();
    let Some(c) = s
        .codes
        .iter_mut()
        .find(|c| c.code == code && c.app.provider == provider)
    else {
        return Err("Invalid authorization code");
    };
    if c.used {
        return Err("The authorization code has already been used");
    }
    if t >= c.expires_at {
        return Err("The authorization code has expired");
    }
    if c.app.client_id != client_id {
        return Err("The authorization code was issued to another client");
    }
    // Assumption: any failed exchange of a live code burns it, as most OAuth servers do.
    c.used = true;
    if redirect_uri != Some(c.redirect_uri.as_str()) {
        return Err(
            "The redirect_uri does not match the redirect_uri used in the authorization request",
        );
    }
    if let Some(challenge) = &c.challenge {
        match verifier {
            None => return Err("code_verifier is required (the authorization request used PKCE)"),
            Some(v) if pkce_s256(v) != *challenge => {
                return Err("The code_verifier does not match the code_challenge");
            }
            Some(_) => {}
        }
    }
    c.verifier = verifier.map(str::to_string);
    let c = c.clone();
    Ok(create_grant(
        s,
        provider,
        &c.app.environment,
        client_id,
        c.realm_id,
        &c.scope,
        make_access,
    ))
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RefreshError {
    Unknown,
    WrongClient,
    Expired,
    Revoked,
}

/// Refreshes: a new access token, and a new refresh token when the rotation policy says so.
/// `environment`: when given, a refresh token from another environment is unknown.
pub(crate) fn refresh(
    s: &mut State,
    provider: &str,
    client_id: Option<&str>,
    environment: Option<&str>,
    token: &str,
    make_access: &dyn Fn(&Grant, u64) -> String,
) -> Result<Issue, RefreshError> {
    let t = now();
    let settings = s.settings(provider);
    let Some(g) = s.grants.iter_mut().find(|g| {
        g.app.provider == provider
            && (g.refresh == token
                || g.old_refresh
                    .iter()
                    .any(|o| o.token == token && o.expires_at > t))
    }) else {
        return Err(RefreshError::Unknown);
    };
    if environment.is_some_and(|e| e != g.app.environment) {
        return Err(RefreshError::Unknown);
    }
    if client_id.is_some_and(|c| c != g.app.client_id) {
        return Err(RefreshError::WrongClient);
    }
    if g.revoked {
        return Err(RefreshError::Revoked);
    }
    if g.refresh_expires_at.is_some_and(|e| t >= e) {
        return Err(RefreshError::Expired);
    }
    if g.refresh == token {
        let rotate = match settings.rotate_refresh {
            Rotate::Always => true,
            Rotate::Never => false,
            Rotate::AfterSecs => {
                t.saturating_sub(g.refresh_issued_at) >= settings.rotate_after_secs
            }
        };
        if rotate {
            let old = std::mem::replace(&mut g.refresh, new_refresh_token(provider));
            if settings.old_refresh_grace_secs > 0 {
                g.old_refresh.push(Issued {
                    token: old,
                    expires_at: t + settings.old_refresh_grace_secs,
                });
            }
            g.refresh_issued_at = t;
        }
    }
    // Intuit: "This expiry date is rolling and gets extended each time it's used" (3.6).
    if let Some(ttl) = settings.refresh_token_ttl_secs {
        g.refresh_expires_at = Some(t + ttl);
    }
    let exp = t + settings.access_token_ttl_secs;
    let access = make_access(g, exp);
    g.access.push(Issued {
        token: access.clone(),
        expires_at: exp,
    });
    Ok(Issue {
        grant: g.clone(),
        access,
        access_expires_at: exp,
    })
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Missing,
    Unknown,
    Expired,
    Revoked,
}

/// Finds the live grant behind an access token.
pub(crate) fn check_access(
    sh: &Shared,
    provider: &str,
    token: Option<&str>,
) -> Result<Grant, TokenCheck> {
    let token = token.ok_or(TokenCheck::Missing)?;
    let t = now();
    sh.store.read(|s| {
        let g = s
            .grants
            .iter()
            .find(|g| g.app.provider == provider && g.access.iter().any(|a| a.token == token))
            .ok_or(TokenCheck::Unknown)?;
        if g.revoked {
            return Err(TokenCheck::Revoked);
        }
        let a = g
            .access
            .iter()
            .find(|a| a.token == token)
            .ok_or(TokenCheck::Unknown)?;
        if t >= a.expires_at {
            return Err(TokenCheck::Expired);
        }
        Ok(g.clone())
    })
}
