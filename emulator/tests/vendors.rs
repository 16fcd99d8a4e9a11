//! Wire-level tests of the three vendor emulators over real HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use patchbay_test_support::Answer as _;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// QuickBooks Time

#[tokio::test]
async fn qbt_authorize_allow_token_refresh_rotation() {
    let (em, c, base) = started().await;
    let verifier = "a-verifier-that-is-long-enough-0123456789abcdef";
    let q = qbt_code(
        &c,
        &base,
        &[
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(q["state"], "st-1");
    let r = qbt_exchange(&c, &base, &q["code"], &[("code_verifier", verifier)]).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(access.len(), 40);
    assert!(access.chars().all(|ch| ch.is_ascii_hexdigit()));
    assert_eq!(t["expires_in"], 864000);
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["scope"], "");
    assert!(t["user_id"].is_string() && t["company_id"].is_string() && t["client_url"].is_string());
    assert_eq!(t.as_object().unwrap().len(), 8);

    let me: Value = c
        .get(format!("{base}/rest.tsheets.com/api/v1/current_user"))
        .bearer_auth(&access)
        .answer()
        .await;
    let users = me["results"]["users"].as_object().unwrap();
    assert_eq!(users.len(), 1);
    let (id, user) = users.iter().next().unwrap();
    assert_eq!(id, t["user_id"].as_str().unwrap());
    assert_eq!(user["permissions"]["admin"], true);
    assert_eq!(me["more"], false);
    assert!(me["supplemental_data"]["jobcodes"].is_object());

    let r = qbt_refresh(&c, &base, &refresh).await;
    assert_eq!(r.status(), 200);
    let t2: Value = r.json().await.unwrap();
    assert_ne!(t2["refresh_token"], refresh.as_str());
    assert_ne!(t2["access_token"], access.as_str());
    // The replaced refresh token is dead.
    let r = qbt_refresh(&c, &base, &refresh).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // The new one works.
    assert_eq!(
        qbt_refresh(&c, &base, t2["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    assert_stats(
        &c,
        &base,
        json!({"quickbooks-time": {"authorize": 1, "token": 1, "refresh": 3, "api": 1}}),
    )
    .await;
    em.shutdown().await;
}

#[tokio::test]
async fn qbt_authorize_errors_and_denial() {
    let (_em, c, base) = started().await;
    // Unknown client: an error page, no redirect.
    let u = qbt_authorize_url(&base, &[("state", "s")]).replace(QBT_ID, "nope");
    let r = get(&c, u).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("invalid_client"));
    // Unregistered redirect URI: an error page, no redirect.
    let u = qbt_authorize_url(&base, &[("state", "s")]).replace("8765", "9999");
    let r = get(&c, u).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    let page = r.text().await.unwrap();
    assert!(page.contains("redirect_uri") && page.contains("does not match"));
    // Missing state: redirect with invalid_request.
    let r = get(&c, qbt_authorize_url(&base, &[])).await;
    assert_eq!(r.status(), 302);
    assert_eq!(query_of(&location(&r))["error"], "invalid_request");
    // PKCE with plain is refused.
    let r = get(
        &c,
        qbt_authorize_url(
            &base,
            &[
                ("state", "s"),
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
        ),
    )
    .await;
    assert_eq!(query_of(&location(&r))["error"], "invalid_request");
    // Deny.
    let r = get(&c, qbt_authorize_url(&base, &[("state", "s2")])).await;
    let loc = decide(&c, &base, &r.text().await.unwrap(), "deny").await;
    let q = query_of(&loc);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s2");
    assert!(q.contains_key("error_description"));
}

#[tokio::test]
async fn qbt_code_rules() {
    let (_em, c, base) = started().await;
    let exchange = |code: String,
                    redirect: &'static str,
                    verifier: Option<&'static str>,
                    secret: &'static str| {
        let (c, base) = (c.clone(), base.clone());
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_string()),
                ("client_id", QBT_ID.to_string()),
                ("client_secret", secret.to_string()),
                ("code", code),
                ("redirect_uri", redirect.to_string()),
            ];
            if let Some(v) = verifier {
                form.push(("code_verifier", v.to_string()));
            }
            let r = c
                .post(format!("{base}/rest.tsheets.com/api/v1/grant"))
                .form(&form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // PKCE mismatch.
    let q = qbt_code(
        &c,
        &base,
        &[
            ("code_challenge", &challenge("right-verifier")),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (st, body) = exchange(
        q["code"].clone(),
        CALLBACK,
        Some("wrong-verifier"),
        QBT_SECRET,
    )
    .await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));
    // Code reuse.
    let q = qbt_code(&c, &base, &[]).await;
    assert_eq!(
        exchange(q["code"].clone(), CALLBACK, None, QBT_SECRET)
            .await
            .0,
        200
    );
    let (st, body) = exchange(q["code"].clone(), CALLBACK, None, QBT_SECRET).await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));
    // Different redirect_uri at the exchange.
    let q = qbt_code(&c, &base, &[]).await;
    let (st, body) = exchange(
        q["code"].clone(),
        "http://127.0.0.1:8765/callback",
        None,
        QBT_SECRET,
    )
    .await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("redirect_uri")
    );
    // Wrong secret.
    let q = qbt_code(&c, &base, &[]).await;
    let (st, body) = exchange(q["code"].clone(), CALLBACK, None, "wrong").await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_client")));
    // Expired code.
    settings(
        &c,
        &base,
        json!({"provider": "quickbooks-time", "code_ttl_secs": 0}),
    )
    .await;
    let q = qbt_code(&c, &base, &[]).await;
    let (st, body) = exchange(q["code"].clone(), CALLBACK, None, QBT_SECRET).await;
    assert_eq!(st, 400);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn qbt_lists_pagination_limits_and_rate_limit() {
    let (_em, c, base) = started().await;
    let api = qbt_api(&c, &base).await;
    // 24 users: pages of 10.
    let (st, p1) = api.get("users?limit=10&page=1").await;
    assert_eq!(st, 200);
    assert_eq!(p1["results"]["users"].as_object().unwrap().len(), 10);
    assert_eq!(p1["more"], true);
    let (_, p3) = api.get("users?limit=10&page=3").await;
    assert_eq!(p3["results"]["users"].as_object().unwrap().len(), 4);
    assert_eq!(p3["more"], false);
    let (_, all) = api.get("users").await;
    assert_eq!(all["results"]["users"].as_object().unwrap().len(), 24);
    for bad in [
        "users?limit=201",
        "users?limit=0",
        "users?page=0",
        "jobcodes?limit=abc",
    ] {
        let (st, body) = api.get(bad).await;
        assert_eq!(st, 417, "{bad}");
        assert_eq!(body["error"]["code"], 417);
    }
    let (st, _) = api.get("timesheets").await;
    assert_eq!(st, 417);
    // Timesheets start 90 days before the emulator's start day.
    let day = {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let d = time::OffsetDateTime::from_unix_timestamp(secs / 86_400 * 86_400 - 90 * 86_400)
            .unwrap();
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    let (st, ts) = api
        .get(&format!(
            "timesheets?start_date={day}&end_date={day}&limit=5"
        ))
        .await;
    assert_eq!(st, 200);
    let sheets = ts["results"]["timesheets"].as_object().unwrap();
    assert_eq!(sheets.len(), 5);
    assert_eq!(ts["more"], true);
    assert_members(sheets.values().next().unwrap(), QBT_TIMESHEET, "timesheet");
    assert!(ts["supplemental_data"]["users"].is_object());
    let (_, jc) = api.get("jobcodes?limit=200").await;
    assert_eq!(jc["results"]["jobcodes"].as_object().unwrap().len(), 30);
    // Bad token.
    let r = bearer_get(&c, format!("{base}/rest.tsheets.com/api/v1/users"), "nope").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], 401);
    // Rate limit per access token.
    settings(
        &c,
        &base,
        json!({"provider": "quickbooks-time", "rate_limit_per_window": 2, "rate_window_secs": 300}),
    )
    .await;
    assert_eq!(api.get("current_user").await.0, 200);
    assert_eq!(api.get("current_user").await.0, 200);
    let (st, body) = api.get("current_user").await;
    assert_eq!(st, 429);
    assert_eq!(
        body,
        json!({"error": {"code": 429, "message": "Too Many Requests"}})
    );
    assert_eq!(stats(&c, &base).await["quickbooks-time"]["rate_limited"], 1);
    // Another token has its own window.
    let t2 = qbt_tokens(&c, &base).await;
    let r = qbt_me(&c, &base, t2["access_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn qbt_expired_access_token_is_401() {
    let (_em, c, base) = started().await;
    settings(
        &c,
        &base,
        json!({"provider": "quickbooks-time", "access_token_ttl_secs": 0}),
    )
    .await;
    let t = qbt_tokens(&c, &base).await;
    assert_eq!(t["expires_in"], 0);
    let r = qbt_me(&c, &base, t["access_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), 401);
}

// ---------------------------------------------------------------------------------------------
// Aspire

#[tokio::test]
async fn aspire_auth_jwt_refresh_and_environments() {
    let (_em, c, base) = started().await;
    let prod = "cloud-api.youraspire.com";
    let sandbox = "cloudsandbox-api.youraspire.com";
    let r = aspire_auth(&c, &base, prod, ASPIRE_PROD_ID, ASPIRE_PROD_SECRET).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t.as_object().unwrap().len(), 2);
    let token = t["Token"].as_str().unwrap().to_string();
    let claims = jwt_claims(&token);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        86400
    );
    assert_eq!(claims["environment"], "production");
    assert_eq!(claims["sub"], ASPIRE_PROD_ID);

    // Unknown keys and missing keys are 400; bad and other-environment credentials 404.
    let auth = format!("{base}/{prod}/Authorization");
    let extra = json!({"ClientId": ASPIRE_PROD_ID, "Secret": ASPIRE_PROD_SECRET, "Extra": 1});
    assert_eq!(post_json(&c, auth.clone(), &extra).await.status(), 400);
    let missing = json!({"clientId": ASPIRE_PROD_ID});
    assert_eq!(post_json(&c, auth, &missing).await.status(), 400);
    assert_eq!(
        aspire_auth(&c, &base, prod, ASPIRE_PROD_ID, "wrong")
            .await
            .status(),
        404
    );
    assert_eq!(
        aspire_auth(&c, &base, prod, ASPIRE_SANDBOX_ID, ASPIRE_SANDBOX_SECRET)
            .await
            .status(),
        404
    );

    // The token works on its own environment only.
    let users = bearer_get(&c, format!("{base}/{prod}/Users?$top=1"), &token).await;
    assert_eq!(users.status(), 200);
    let users: Value = users.json().await.unwrap();
    assert_members(&users.as_array().unwrap()[0], ASPIRE_USER, "User");
    let r = bearer_get(&c, format!("{base}/{sandbox}/Users"), &token).await;
    assert_eq!(r.status(), 401);
    assert_eq!(get(&c, format!("{base}/{prod}/Users")).await.status(), 401);
    assert_eq!(
        get(&c, format!("{base}/{prod}/Version/GetApiVersion"))
            .await
            .status(),
        200
    );

    // Refresh rotates; the old refresh token is refused.
    let old = t["RefreshToken"].as_str().unwrap().to_string();
    let r = aspire_refresh(&c, &base, prod, &old).await;
    assert_eq!(r.status(), 200);
    let t2: Value = r.json().await.unwrap();
    assert_ne!(t2["RefreshToken"], old.as_str());
    assert_ne!(t2["Token"], token.as_str());
    assert_eq!(aspire_refresh(&c, &base, prod, &old).await.status(), 401);
    // A production refresh token is unknown on the sandbox host.
    let new_refresh = t2["RefreshToken"].as_str().unwrap();
    let r = aspire_refresh(&c, &base, sandbox, new_refresh).await;
    assert_eq!(r.status(), 401);

    // Settings change the JWT lifetime; a 0-second token is refused at once.
    settings(
        &c,
        &base,
        json!({"provider": "aspire", "access_token_ttl_secs": 0}),
    )
    .await;
    let t3 = aspire_tokens(&c, &base, sandbox, ASPIRE_SANDBOX_ID, ASPIRE_SANDBOX_SECRET).await;
    let claims = jwt_claims(t3["Token"].as_str().unwrap());
    assert_eq!(claims["exp"], claims["iat"]);
    assert_eq!(claims["environment"], "sandbox");
    let api = Api::new(
        &c,
        format!("{base}/{sandbox}/"),
        t3["Token"].as_str().unwrap(),
    );
    assert_eq!(api.status("Users").await, 401);
}

#[tokio::test]
async fn aspire_lists_odata_and_rate_limit() {
    let (_em, c, base) = started().await;
    let prod = "cloud-api.youraspire.com";
    let t = aspire_tokens(&c, &base, prod, ASPIRE_PROD_ID, ASPIRE_PROD_SECRET).await;
    let api = Api::new(&c, format!("{base}/{prod}/"), t["Token"].as_str().unwrap());
    let (st, all) = api.get("Contacts").await;
    assert_eq!(st, 200);
    assert_eq!(all.as_array().unwrap().len(), 40);
    assert_members(&all[0], ASPIRE_CONTACT, "Contact");
    let (_, page) = api.get("Contacts?$top=15&$skip=30").await;
    let page = page.as_array().unwrap().clone();
    assert_eq!(page.len(), 10);
    assert_eq!(page[0]["ContactID"], all[30]["ContactID"]);
    let (_, paged) = api.get("Contacts?$pageNumber=2&$limit=15").await;
    assert_eq!(paged[0]["ContactID"], all[15]["ContactID"]);
    let (_, one) = api
        .get(&format!(
            "Contacts?$filter=ContactID eq {}",
            all[3]["ContactID"]
        ))
        .await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    let (_, sorted) = api
        .get("Properties?$orderby=PropertyID desc&$top=2&$select=PropertyID,PropertyName")
        .await;
    assert!(sorted[0]["PropertyID"].as_u64() > sorted[1]["PropertyID"].as_u64());
    assert_eq!(sorted[0].as_object().unwrap().len(), 2);
    let (st, wt) = api.get("WorkTickets").await;
    assert_eq!(st, 200);
    assert_eq!(wt.as_array().unwrap().len(), 50);
    assert!(wt[0].get("WorkTicketStatusName").is_some());
    assert_eq!(
        api.get("Divisions?$top=1")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(api.get("Branches").await.0, 200);
    assert_eq!(api.get("Contacts?$top=x").await.0, 400);

    settings(
        &c,
        &base,
        json!({"provider": "aspire", "rate_limit_per_window": 2}),
    )
    .await;
    assert_eq!(api.get("Branches").await.0, 200);
    assert_eq!(api.get("Branches").await.0, 200);
    let (st, body) = api.get("Branches").await;
    assert_eq!(st, 429);
    assert!(body["Message"].as_str().unwrap().contains("rate limit"));
    assert_eq!(stats(&c, &base).await["aspire"]["rate_limited"], 1);
}

// ---------------------------------------------------------------------------------------------
// QuickBooks Online

/// Intuit's API for the sandbox companies and for the production ones (a realmId follows).
const QBO_SANDBOX_COMPANY: &str = "sandbox-quickbooks.api.intuit.com/v3/company";
const QBO_PRODUCTION_COMPANY: &str = "quickbooks.api.intuit.com/v3/company";

const REFERENCE_401_PREFIX: &str = r#"{"warnings":null,"intuitObject":null,"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":"Malformed bearer token: too short or too long","code":"3200","element":null}],"type":"AUTHENTICATION"},"report":null,"queryResponse":null,"batchItemResponse":[],"attachableResponse":[],"syncErrorResponse":null,"requestId":null,"time":"#;

#[tokio::test]
async fn qbo_authorize_token_api_refresh_revoke() {
    let (_em, c, base) = started().await;
    // Scope without accounting: redirect with invalid_scope.
    let r = get(
        &c,
        qbo_authorize_url(&base, QBO_DEV_ID, &[("scope", "openid"), ("state", "x")]),
    )
    .await;
    assert_eq!(r.status(), 302);
    assert_eq!(query_of(&location(&r))["error"], "invalid_scope");
    // Unregistered redirect URI: Intuit's page, no redirect.
    let u = qbo_authorize_url(
        &base,
        QBO_DEV_ID,
        &[
            ("scope", "com.intuit.quickbooks.accounting"),
            ("state", "x"),
        ],
    )
    .replace("8765", "1234");
    let r = get(&c, u).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains(
        "The redirect_uri query parameter value is invalid. Make sure it is listed in the Redirect URIs section on your app's keys tab and matches it exactly."
    ));

    let q = qbo_code(&c, &base, QBO_DEV_ID, "com.intuit.quickbooks.accounting").await;
    assert_eq!(q["state"], "qs");
    let realm = q["realmId"].clone();
    assert_eq!(realm.len(), 16);
    assert!(realm.chars().all(|ch| ch.is_ascii_digit()));
    // Wrong secret: 401 invalid_client.
    let r = qbo_exchange(&c, &base, (QBO_DEV_ID, "bad"), &q["code"], CALLBACK).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("intuit_tid"));
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "invalid_client"})
    );
    let r = qbo_exchange(
        &c,
        &base,
        (QBO_DEV_ID, QBO_DEV_SECRET),
        &q["code"],
        CALLBACK,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("intuit_tid"));
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["x_refresh_token_expires_in"], 8726400);
    assert!(t.get("id_token").is_none());
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();

    let api = format!("{base}/{QBO_SANDBOX_COMPANY}/{realm}");
    let r = bearer_get_json(
        &c,
        format!("{api}/companyinfo/{realm}?minorversion=75"),
        &access,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("intuit_tid"));
    let ci: Value = r.json().await.unwrap();
    assert_eq!(ci["CompanyInfo"]["CompanyName"], "Sandbox Company_US_1");
    assert!(ci["time"].is_string());

    // Query paging.
    let query = |q: &str| {
        let (c, url, access) = (c.clone(), format!("{api}/query"), access.clone());
        let q = q.to_string();
        async move {
            let url = url::Url::parse_with_params(&url, &[("query", q)]).unwrap();
            let r = bearer_get_json(&c, url, access).await;
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, p1) = query("SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 15").await;
    assert_eq!(st, 200);
    assert_eq!(
        p1["QueryResponse"]["Customer"].as_array().unwrap().len(),
        15
    );
    assert_eq!(p1["QueryResponse"]["startPosition"], 1);
    assert_eq!(p1["QueryResponse"]["maxResults"], 15);
    let (_, p3) = query("select * from customer startposition 31 maxresults 15").await;
    assert_eq!(
        p3["QueryResponse"]["Customer"].as_array().unwrap().len(),
        10
    );
    assert_eq!(p3["QueryResponse"]["startPosition"], 31);
    let (_, none) = query("SELECT * FROM Customer STARTPOSITION 41").await;
    assert_eq!(none["QueryResponse"], json!({}));
    let (_, n) = query("select count(*) from Vendor").await;
    assert_eq!(n["QueryResponse"]["totalCount"], 20);
    let (_, def) = query("SELECT * FROM Account").await;
    assert_eq!(
        def["QueryResponse"]["Account"].as_array().unwrap().len(),
        30
    );
    let (_, items) = query("SELECT * FROM Item WHERE Name LIKE 'Mow%'").await;
    assert!(
        !items["QueryResponse"]["Item"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(query("SELECT * FROM Customer MAXRESULTS 1001").await.0, 400);
    assert_eq!(query("SELECT * FROM Nothing").await.0, 400);

    // Gateway 401 exactly as the reference; XML without Accept: application/json.
    let r = bearer_get_json(&c, format!("{api}/companyinfo/{realm}"), "bad").await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("intuit_tid"));
    let body = r.text().await.unwrap();
    assert!(body.starts_with(REFERENCE_401_PREFIX), "{body}");
    assert!(body.ends_with(r#","status":null,"cdcresponse":[]}"#));
    let r = bearer_get(&c, format!("{api}/companyinfo/{realm}"), "bad").await;
    assert_eq!(r.status(), 401);
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<IntuitResponse") && xml.contains("AuthenticationErrorGeneral"));
    // Other environment's host and another realm: 403 / 3100.
    let prod_api = format!("{base}/{QBO_PRODUCTION_COMPANY}/{realm}/companyinfo/{realm}");
    let r = bearer_get_json(&c, prod_api, &access).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["fault"]["error"][0]["code"],
        "3100"
    );
    let other_realm = format!("{base}/{QBO_SANDBOX_COMPANY}/123/companyinfo/123");
    let r = bearer_get_json(&c, other_realm, &access).await;
    assert_eq!(r.status(), 403);

    // Refresh: by default the value only changes after 24 h.
    let refresh_with = |token: String| {
        let (c, base) = (c.clone(), base.clone());
        async move {
            qbo_token(
                &c,
                &base,
                QBO_DEV_ID,
                QBO_DEV_SECRET,
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await
        }
    };
    let t2: Value = refresh_with(refresh.clone()).await.json().await.unwrap();
    assert_eq!(t2["refresh_token"], refresh.as_str());
    assert_ne!(t2["access_token"], access.as_str());
    settings(
        &c,
        &base,
        json!({"provider": "quickbooks-online", "rotate_after_secs": 0}),
    )
    .await;
    let t3: Value = refresh_with(refresh.clone()).await.json().await.unwrap();
    let new_refresh = t3["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(new_refresh, refresh);
    let r = refresh_with(refresh.clone()).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    // Revoke the access token: the whole grant dies.
    let r = c
        .post(format!(
            "{base}/developer.api.intuit.com/v2/oauth2/tokens/revoke"
        ))
        .basic_auth(QBO_DEV_ID, Some(QBO_DEV_SECRET))
        .json(&json!({"token": t3["access_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("intuit_tid"));
    assert_eq!(refresh_with(new_refresh).await.status(), 400);
    let r = bearer_get_json(
        &c,
        format!("{api}/companyinfo/{realm}"),
        t3["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(r.status(), 401);

    assert_stats(
        &c,
        &base,
        json!({"quickbooks-online": {"revoke": 1, "refresh": 4, "token": 2}}),
    )
    .await;
}

#[tokio::test]
async fn qbo_production_openid_and_pkce() {
    let (_em, c, base) = started().await;
    let verifier = "qbo-verifier-0123456789-0123456789-0123456789";
    let r = get(
        &c,
        qbo_authorize_url(
            &base,
            QBO_PROD_ID,
            &[
                ("scope", "com.intuit.quickbooks.accounting openid email"),
                ("state", "p"),
                ("code_challenge", &challenge(verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        // Intuit production redirects only to https pages: the practice app's relay.
        .replace(&enc(CALLBACK), &enc(PRACTICE_RELAY_URL)),
    )
    .await;
    let q = query_of(&decide(&c, &base, &r.text().await.unwrap(), "allow").await);
    let (_, sandbox_tokens) = qbo_tokens(&c, &base).await;
    assert!(sandbox_tokens.get("id_token").is_none());
    assert_ne!(
        q["realmId"],
        qbo_code(&c, &base, QBO_DEV_ID, "com.intuit.quickbooks.accounting").await["realmId"]
    );
    // client_secret_post is accepted too; the verifier must match.
    let r = c
        .post(format!(
            "{base}/oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
        ))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", PRACTICE_RELAY_URL),
            ("client_id", QBO_PROD_ID),
            ("client_secret", QBO_PROD_SECRET),
            ("code_verifier", verifier),
        ])
        .header("x-include-refresh-token-hard-expires-in", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert!(t["id_token"].is_string());
    assert_eq!(
        jwt_claims(t["id_token"].as_str().unwrap())["realmid"],
        q["realmId"].as_str()
    );
    assert!(t["x_refresh_token_hard_expires_in"].as_u64().unwrap() > 100_000_000);
    let api = format!(
        "{base}/{QBO_PRODUCTION_COMPANY}/{0}/companyinfo/{0}",
        q["realmId"]
    );
    let r = bearer_get_json(&c, api, t["access_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn qbo_throttle_per_realm_and_concurrency() {
    let (_em, c, base) = started().await;
    let (realm, t) = qbo_tokens(&c, &base).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let url = format!("{base}/{QBO_SANDBOX_COMPANY}/{realm}/companyinfo/{realm}");
    let call = || {
        let (c, url, access) = (c.clone(), url.clone(), access.clone());
        async move { bearer_get_json(&c, url, access).await }
    };
    settings(
        &c,
        &base,
        json!({"provider": "quickbooks-online", "max_concurrent": 2}),
    )
    .await;
    fault(&c, &base, json!({"provider": "quickbooks-online", "endpoint": "api", "fault": "slow", "delay_ms": 400, "count": 3})).await;
    let (a, b, d) = tokio::join!(call(), call(), call());
    let mut codes = vec![
        a.status().as_u16(),
        b.status().as_u16(),
        d.status().as_u16(),
    ];
    codes.sort();
    assert_eq!(codes, vec![200, 200, 429]);

    settings(&c, &base, json!({"provider": "quickbooks-online", "rate_limit_per_window": 2, "rate_window_secs": 60})).await;
    c.delete(format!("{base}/_emulator/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(call().await.status(), 200);
    assert_eq!(call().await.status(), 200);
    let r = call().await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["fault"]["error"][0]["message"],
        "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    );
    assert_eq!(
        stats(&c, &base).await["quickbooks-online"]["rate_limited"],
        2
    );
}

// ---------------------------------------------------------------------------------------------
// Practice data as the vendors send it: the full published objects, supplemental data, the
// QuickBooks Time date-range 417, Aspire's time lists and QuickBooks Online reads by id.

/// A `YYYY-MM-DD` date `days` days before today (UTC).
fn days_ago(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn assert_members(v: &Value, members: &[&str], what: &str) {
    for m in members {
        assert!(v.get(m).is_some(), "{what} lacks {m}: {v}");
    }
}

/// Whether the array `v` has elements.
fn nonempty(v: &Value) -> bool {
    !v.as_array().unwrap().is_empty()
}

/// Members of the QuickBooks Time user object (reference 1.7; api_docs Users/_users.md.erb).
const QBT_USER: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "display_name",
    "group_id",
    "active",
    "employee_number",
    "salaried",
    "exempt",
    "username",
    "email",
    "email_verified",
    "payroll_id",
    "hire_date",
    "term_date",
    "last_modified",
    "last_active",
    "created",
    "client_url",
    "company_name",
    "profile_image_url",
    "mobile_number",
    "pto_balances",
    "submitted_to",
    "approved_to",
    "manager_of_group_ids",
    "require_password_change",
    "pay_rate",
    "pay_interval",
    "permissions",
    "customfields",
];
const QBT_PERMISSIONS: &[&str] = &[
    "admin",
    "mobile",
    "status_box",
    "reports",
    "manage_timesheets",
    "manage_authorization",
    "manage_users",
    "manage_my_timesheets",
    "manage_jobcodes",
    "pin_login",
    "approve_timesheets",
    "manage_schedules",
    "external_access",
    "manage_my_schedule",
    "manage_company_schedules",
    "view_company_schedules",
    "view_group_schedules",
    "manage_no_schedules",
    "view_my_schedules",
    "time_tracking",
];
const QBT_JOBCODE: &[&str] = &[
    "id",
    "parent_id",
    "assigned_to_all",
    "billable",
    "active",
    "type",
    "has_children",
    "billable_rate",
    "short_code",
    "name",
    "last_modified",
    "created",
    "filtered_customfielditems",
    "required_customfields",
    "locations",
    "geofence_config_id",
    "project_id",
];
const QBT_TIMESHEET: &[&str] = &[
    "id",
    "user_id",
    "jobcode_id",
    "start",
    "end",
    "duration",
    "date",
    "tz",
    "tz_str",
    "type",
    "location",
    "on_the_clock",
    "locked",
    "notes",
    "customfields",
    "attached_files",
    "last_modified",
    "created_by_user_id",
];

#[tokio::test]
async fn qbt_full_objects_and_supplemental_data() {
    let (em, c, base) = started().await;
    let api = qbt_api(&c, &base).await;

    // The current user: the full user object, PTO balances and custom fields, with the PTO
    // jobcodes and the custom fields in supplemental_data.
    let (st, me) = api.get("current_user").await;
    assert_eq!(st, 200);
    let user = me["results"]["users"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_members(user, QBT_USER, "user");
    assert_members(&user["permissions"], QBT_PERMISSIONS, "permissions");
    assert_eq!(user["permissions"]["time_tracking"], true);
    let pto = user["pto_balances"].as_object().unwrap();
    assert!(!pto.is_empty());
    assert!(!user["customfields"].as_object().unwrap().is_empty());
    for id in pto.keys() {
        assert_eq!(me["supplemental_data"]["jobcodes"][id]["type"], "pto");
    }
    for id in user["customfields"].as_object().unwrap().keys() {
        assert_eq!(
            me["supplemental_data"]["customfields"][id]["applies_to"],
            "user"
        );
    }
    // Other users have PTO balances in seconds.
    let (_, users) = api.get("users").await;
    assert!(
        users["results"]["users"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|u| u["pto_balances"].as_object().unwrap().values())
            .any(|b| b.as_u64().unwrap() > 0)
    );

    // Timesheets: custom fields on every row, files on some; supplemental_data (default yes)
    // has every user, jobcode (with its parents), custom field and file they refer to.
    let (st, ts) = api
        .get(&format!("timesheets?start_date={}", days_ago(90)))
        .await;
    assert_eq!(st, 200);
    let sheets: Vec<&Value> = ts["results"]["timesheets"]
        .as_object()
        .unwrap()
        .values()
        .collect();
    assert_eq!(sheets.len(), 60);
    let sup = &ts["supplemental_data"];
    for group in ["jobcodes", "users", "customfields", "files"] {
        assert!(
            !sup[group].as_object().unwrap().is_empty(),
            "supplemental {group}"
        );
    }
    let mut with_files = 0;
    for s in &sheets {
        assert_members(s, QBT_TIMESHEET, "timesheet");
        let cf = s["customfields"].as_object().unwrap();
        assert!(!cf.is_empty());
        for id in cf.keys() {
            assert_eq!(sup["customfields"][id]["applies_to"], "timesheet");
        }
        for f in s["attached_files"].as_array().unwrap() {
            with_files += 1;
            let file = &sup["files"][f.to_string()];
            assert_eq!(file["linked_objects"]["timesheets"][0], s["id"].to_string());
            assert!(file["file_name"].as_str().unwrap().ends_with(".jpg"));
        }
        assert!(sup["users"][s["user_id"].to_string()]["first_name"].is_string());
        let job = &sup["jobcodes"][s["jobcode_id"].to_string()];
        assert_members(job, QBT_JOBCODE, "supplemental jobcode");
        assert!(job.get("customfields").is_none());
        let parent = job["parent_id"].as_u64().unwrap();
        if parent != 0 {
            assert!(sup["jobcodes"][parent.to_string()].is_object());
        }
    }
    assert!(with_files > 0 && with_files < sheets.len());
    let (_, plain) = api
        .get(&format!(
            "timesheets?start_date={}&supplemental_data=no",
            days_ago(90)
        ))
        .await;
    assert!(plain.get("supplemental_data").is_none());

    // Jobcodes: the full shape, `customfields` only with customfields=true, locations and
    // parents in supplemental_data.
    let (_, jc) = api.get("jobcodes").await;
    let codes = jc["results"]["jobcodes"].as_object().unwrap();
    assert_eq!(codes.len(), 30);
    for j in codes.values() {
        assert_members(j, QBT_JOBCODE, "jobcode");
        assert!(j.get("customfields").is_none());
    }
    let located: Vec<&Value> = codes
        .values()
        .filter(|j| nonempty(&j["locations"]))
        .collect();
    assert!(!located.is_empty());
    for j in &located {
        let loc = &jc["supplemental_data"]["locations"][j["locations"][0].to_string()];
        assert_eq!(loc["linked_objects"]["jobcodes"][0], j["id"]);
        assert!(loc["formatted_address"].is_string());
    }
    let parent = located[0]["id"].clone();
    let (_, children) = api
        .get(&format!("jobcodes?parent_ids={parent}&customfields=true"))
        .await;
    let kids = children["results"]["jobcodes"].as_object().unwrap();
    assert!(!kids.is_empty());
    assert!(kids.values().all(|k| k["parent_id"] == parent));
    assert!(kids.values().all(|k| k["customfields"].is_object()));
    let sup = &children["supplemental_data"];
    assert_eq!(sup["jobcodes"][parent.to_string()]["id"], parent);
    assert_eq!(
        sup["customfields"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["applies_to"],
        "job_code"
    );
    em.shutdown().await;
}

#[tokio::test]
async fn qbt_timesheets_date_range_417() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let em = patchbay_emulator::Emulator::start(patchbay_emulator::EmulatorConfig {
        state_file: Some(state.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (c, base) = (client(), em.base_url());
    let t = qbt_tokens(&c, &base).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let api = Api::new(
        &c,
        format!("{base}/rest.tsheets.com/api/v1/timesheets?"),
        &access,
    );
    // Patchbay's own request: the last 90 days, no end_date.
    let (st, _) = api
        .get(&format!("start_date={}&on_the_clock=both", days_ago(90)))
        .await;
    assert_eq!(st, 200);
    // The default limit is 365 days (UNCONFIRMED, an emulator setting).
    assert_eq!(
        api.get(&format!("start_date={}", days_ago(365))).await.0,
        200
    );
    let (st, body) = api.get(&format!("start_date={}", days_ago(366))).await;
    assert_eq!(st, 417);
    assert_eq!(body["error"]["code"], 417);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("365"),
        "{body}"
    );
    assert_eq!(body.as_object().unwrap().len(), 1);
    assert_eq!(
        api.get("start_date=2024-01-01&end_date=2024-12-31").await.0,
        200
    );
    assert_eq!(
        api.get("start_date=2024-01-01&end_date=2025-01-01").await.0,
        417
    );
    assert_eq!(api.get("start_date=2000-01-01").await.0, 417);
    assert_eq!(api.get("start_date=2025-13-45").await.0, 417);
    // A range check needs a start: modified_since alone is not a range.
    assert_eq!(
        api.get("modified_since=2000-01-01T00:00:00+00:00").await.0,
        200
    );

    // The limit is the QuickBooks Time setting `max_date_range_days` (here through the state
    // file, which the emulator rereads when it changes).
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    saved["settings"]["quickbooks-time"]["max_date_range_days"] = json!(30);
    std::fs::write(&state, serde_json::to_vec_pretty(&saved).unwrap()).unwrap();
    let (st, body) = api.get(&format!("start_date={}", days_ago(90))).await;
    assert_eq!(st, 417);
    assert!(body["error"]["message"].as_str().unwrap().contains("30"));
    assert_eq!(
        api.get(&format!("start_date={}", days_ago(30))).await.0,
        200
    );
    em.shutdown().await;
}

/// `Contacts.ODataModel.Contact`
const ASPIRE_CONTACT: &[&str] = &[
    "ContactID",
    "CompanyID",
    "CompanyName",
    "ContactTypeID",
    "ContactTypeName",
    "OfficeAddress",
    "HomeAddress",
    "BranchID",
    "BranchName",
    "OwnerContactID",
    "OwnerContactName",
    "Salutation",
    "FirstName",
    "LastName",
    "ProspectRating",
    "ProspectRatingName",
    "Title",
    "Email",
    "MobilePhone",
    "OfficePhone",
    "HomePhone",
    "Fax",
    "Notes",
    "Active",
    "CreatedDateTime",
    "CreatedByUserID",
    "CreatedByUserName",
    "EmployeeNumber",
    "Website",
    "EmployeePin",
    "AccountingSyncID",
    "ExternalContactReference",
    "TerminationDate",
    "HRNotes",
    "DefaultWorkersCompID",
    "DefaultWorkersCompName",
    "DefaultWorkersCompStateProvinceCode",
    "UserID",
    "CrewSize",
    "PromptForCrewSize",
    "SubCrewLeaderContactID",
    "PayScheduleID",
    "LastModifiedByUserId",
    "LastModifiedByUserName",
    "ModifiedDate",
    "ContactTags",
    "ContactSignature",
];
/// `Addresses.ODataModel.Address`
const ASPIRE_ADDRESS: &[&str] = &[
    "AddressID",
    "AddressLine1",
    "AddressLine2",
    "City",
    "StateProvinceCode",
    "ZipCode",
    "CreatedByUserId",
    "CreatedByUserName",
    "CreatedOn",
    "LastModifiedByUserId",
    "LastModifiedByUserName",
    "LastModifiedOn",
];
/// `Contacts.ODataModel.ContactTag`
const ASPIRE_CONTACT_TAG: &[&str] = &["ContactTagID", "TagID", "TagName"];
/// `Properties.ODataModel.Property`
const ASPIRE_PROPERTY: &[&str] = &[
    "PropertyID",
    "PropertyStatusID",
    "PropertyStatusName",
    "BranchID",
    "BranchName",
    "BranchCode",
    "AccountOwnerContactID",
    "AccountOwnerContactName",
    "ProductionManagerContactID",
    "ProductionManagerContactName",
    "PropertyAddressID",
    "CountyID",
    "PropertyAddressLine1",
    "PropertyAddressLine2",
    "PropertyAddressCity",
    "PropertyAddressStateProvinceCode",
    "PropertyAddressZipCode",
    "LocalityID",
    "LocalityName",
    "IndustryID",
    "IndustryName",
    "LeadSourceID",
    "LeadSourceName",
    "TaxJurisdictionID",
    "TaxJurisdictionName",
    "PropertyGroupID",
    "ActiveOpportunityID",
    "CompetitorID",
    "PropertyGroupName",
    "PropertyName",
    "PropertyNameAbr",
    "SequenceNumber",
    "ProductionNote",
    "Active",
    "EmailInvoice",
    "Budget",
    "Note",
    "CreatedByUserID",
    "CreatedByUserName",
    "CreatedDate",
    "GEOPerimeter",
    "GEOLocationLatitude",
    "GEOLocationLongitude",
    "PaymentTermsID",
    "PaymentTermsName",
    "SeparateInvoices",
    "Website",
    "ModifiedByUserID",
    "ModifiedByUserName",
    "ModifiedDate",
    "DragDropGeoLocation",
    "GPSUpdated",
    "GPSGeofenceID",
    "SnowNote",
    "EarliestOpportunityWonDate",
    "PropertyContacts",
    "PropertyTags",
    "PropertyTakeoffItems",
    "CollectionNotes",
    "IntegrationID",
    "PropertyTypeID",
    "PropertyType",
    "PropertyTypeIntegrationCode",
];
/// `Properties.ODataModel.PropertyContact`
const ASPIRE_PROPERTY_CONTACT: &[&str] = &[
    "PropertyID",
    "ContactID",
    "ContactName",
    "PrimaryContact",
    "BillingContact",
    "EmailInvoiceContact",
    "EmailNotificationsContact",
    "CompanyID",
    "CompanyName",
    "SMSNotificationsContact",
    "CreatedByUserID",
    "CreatedByUserName",
    "CreatedDateTime",
    "LastModifiedByUserID",
    "LastModifiedByUserName",
    "LastModifiedDateTime",
];
/// `Properties.ODataModel.PropertyTag`
const ASPIRE_PROPERTY_TAG: &[&str] = &["PropertyTagID", "TagID", "TagName"];
/// `WorkTickets.ODataModel.WorkTicket`
const ASPIRE_WORK_TICKET: &[&str] = &[
    "WorkTicketID",
    "OpportunityServiceID",
    "ContractYear",
    "Occur",
    "AnnualizedOccur",
    "CreatedDateTime",
    "AnticStartDate",
    "ScheduledStartDate",
    "CompleteDate",
    "ApprovedDate",
    "WorkTicketStatusID",
    "WorkTicketStatusName",
    "Notes",
    "CrewLeaderContactID",
    "CrewLeaderName",
    "HoursEst",
    "HourCostEst",
    "MaterialCostEst",
    "EquipCostEst",
    "SubCostEst",
    "OtherCostEst",
    "Price",
    "TMCalcAmount",
    "TMOverrideAmount",
    "InvoicedAmount",
    "ApprovedUserID",
    "ApprovedUserName",
    "WorkTicketNumber",
    "InvoiceID",
    "HoursAct",
    "WarrantyHoursAct",
    "OTHoursAct",
    "LaborCostAct",
    "MaterialCostAct",
    "EquipmentCostAct",
    "SubCostAct",
    "OtherCostAct",
    "TotalCostAct",
    "EarnedRevenue",
    "RealizeRateRevenue",
    "OpportunityID",
    "OpportunityNumber",
    "EstRealizeRateRevenue",
    "DistributedHours",
    "PartialOccurrence",
    "BranchID",
    "BranchName",
    "LastModifiedByUserID",
    "LastModifiedByUserName",
    "LastModifiedDateTime",
    "CreatedByUserID",
    "CreatedByUserName",
    "SubPartialOccurrence",
    "WorkTicketStatus",
    "HoursScheduled",
    "HoursUnscheduled",
    "WorkTicketRevenues",
    "ReviewedDateTime",
    "ReviewedUserID",
    "ReviewedUserName",
    "StartFormDateTime",
    "StartFormUserId",
    "Occurrences",
    "OnSiteHours",
    "OnSiteOverUnder",
    "OnSiteVariance",
    "OperationsManagerContactID",
    "Revenue",
    "PercentComplete",
    "VisitsScheduled",
    "RouteSupervisorContactID",
    "BudgetVariance",
    "InvoiceNumber",
];
/// `WorkTickets.ODataModel.WorkTicketRevenue`
const ASPIRE_WORK_TICKET_REVENUE: &[&str] = &[
    "WorkTicketRevenueID",
    "RevenueMonth",
    "RevenueAmount",
    "CreatedDateTime",
    "EditedByUserID",
    "EditedByUserName",
    "EditedDateTime",
    "AccountingPeriodID",
    "AccountingPeriodName",
    "AccountingPeriodYear",
];
/// `WorkTicketTimes.ODataModel.WorkTicketTime`
const ASPIRE_WORK_TICKET_TIME: &[&str] = &[
    "WorkTicketTimeID",
    "WorkTicketID",
    "WorkTicketNumber",
    "ContactID",
    "ContactName",
    "WorkTicketTimeDate",
    "StartTime",
    "EndTime",
    "OpportunityServiceLaborRateID",
    "OpportunityServiceLaborRateName",
    "OpportunityServiceLaborRate",
    "PayCodeID",
    "PayCodeName",
    "Hours",
    "OTHours",
    "WarrantyTime",
    "DistributedTime",
    "BurdenedCost",
    "InvoiceID",
    "CreatedDateTime",
    "CreatedByUserID",
    "CreatedByUserName",
    "LastModifiedDateTime",
    "LastModifiedByUserID",
    "LastModifiedByUserName",
    "AcceptedDateTime",
    "AcceptedUserID",
    "AcceptedUserName",
    "ApprovedDateTime",
    "ApprovedUserID",
    "ApprovedUserName",
    "ExportedDateTime",
    "ExportedUserID",
    "ExportedUserName",
    "BreakTime",
    "HasBreakTime",
    "BaseHourlyRate",
    "RouteID",
    "RouteName",
    "CrewLeaderContactID",
    "CrewLeaderContactName",
    "BranchID",
    "BranchName",
    "BranchTimeZone",
    "GEOLocationStartLatitude",
    "GEOLocationStartLongitude",
    "GEOLocationEndLatitude",
    "GEOLocationEndLongitude",
    "InvoiceNumber",
];
/// `ClockTimes.ODataModel.ClockTime`
const ASPIRE_CLOCK_TIME: &[&str] = &[
    "ClockTimeID",
    "ContactID",
    "ContactName",
    "ClockStart",
    "ClockEnd",
    "AcceptedDateTime",
    "AcceptedUserID",
    "AcceptedUserName",
    "BreakTime",
    "AcceptedShortLunch",
    "UsedBreaks",
    "PreventedFromUsingBreaks",
    "GEOLocationStartLatitude",
    "GEOLocationStartLongitude",
    "GEOLocationEndLatitude",
    "GEOLocationEndLongitude",
];
/// `Users.ODataModel.User`
const ASPIRE_USER: &[&str] = &[
    "UserID",
    "AllBranchAccess",
    "BranchAccess",
    "ExternalContactReference",
    "ContactFirstName",
    "ContactLastName",
    "Active",
    "UserRoles",
];
/// `Branches.ODataModel.Branch`
const ASPIRE_BRANCH: &[&str] = &[
    "BranchID",
    "BranchName",
    "Active",
    "InternalPropertyID",
    "InternalPropertyName",
    "CatalogPriceListName",
    "BranchAddressID",
    "BranchAddressLine1",
    "BranchAddressLine2",
    "BranchAddressCity",
    "BranchAddressStateProvinceCode",
    "BranchAddressZipCode",
    "BranchPhone",
    "BranchFax",
    "BranchCode",
    "BranchManagerContactID",
    "BranchManagerContactName",
    "LegalName",
    "TimeZone",
    "InvoiceNumberPrefix",
    "ReceiptNumberPrefix",
    "OpportunityNumberPrefix",
    "RegionID",
    "RegionName",
    "BillingEmailFromAccountOwner",
    "BillingEmailFromUserName",
    "BillingEmailFromEmail",
    "BillingEmailSubject",
    "BillingEmailBody",
    "InvoiceOnCompletionDescription",
    "BranchWebSite",
    "CatalogPriceListID",
    "BillingEmailCC",
];
/// `Divisions.ODataModel.Division`
const ASPIRE_DIVISION: &[&str] = &[
    "DivisionID",
    "DivisionName",
    "Active",
    "DivisionCode",
    "Indirect",
    "WorkersCompID",
    "WorkersCompName",
    "AccountNumber",
    "MaterialExpenseAccountNumber",
    "EquipmentExpenseAccountNumber",
    "SubExpenseAccountNumber",
    "OtherExpenseAccountNumber",
];

/// Exactly the spec's members (its schemas say `additionalProperties: false`).
fn assert_schema(v: &Value, schema: &[&str], what: &str) {
    let mut have: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = schema.to_vec();
    have.sort_unstable();
    want.sort_unstable();
    assert_eq!(have, want, "{what}");
}

#[tokio::test]
async fn aspire_full_schemas_and_time_lists() {
    let (em, c, base) = started().await;
    let mut lists = Vec::new();
    for (host, id, secret) in [
        (
            "cloud-api.youraspire.com",
            ASPIRE_PROD_ID,
            ASPIRE_PROD_SECRET,
        ),
        (
            "cloudsandbox-api.youraspire.com",
            ASPIRE_SANDBOX_ID,
            ASPIRE_SANDBOX_SECRET,
        ),
    ] {
        let t = aspire_tokens(&c, &base, host, id, secret).await;
        let api = Api::new(&c, format!("{base}/{host}/"), t["Token"].as_str().unwrap());
        let all = |v: Value| v.as_array().unwrap().clone();

        let (st, contacts) = api.get("Contacts").await;
        assert_eq!(st, 200);
        let contacts = all(contacts);
        for ct in &contacts {
            assert_schema(ct, ASPIRE_CONTACT, "Contact");
            assert_schema(&ct["OfficeAddress"], ASPIRE_ADDRESS, "Address");
            assert_schema(&ct["HomeAddress"], ASPIRE_ADDRESS, "Address");
            for tag in ct["ContactTags"].as_array().unwrap() {
                assert_schema(tag, ASPIRE_CONTACT_TAG, "ContactTag");
            }
        }
        assert!(contacts.iter().any(|c| nonempty(&c["ContactTags"])));

        let properties = all(api.get("Properties").await.1);
        assert_eq!(properties.len(), 30);
        for p in &properties {
            assert_schema(p, ASPIRE_PROPERTY, "Property");
            for pc in p["PropertyContacts"].as_array().unwrap() {
                assert_schema(pc, ASPIRE_PROPERTY_CONTACT, "PropertyContact");
                assert_eq!(pc["PropertyID"], p["PropertyID"]);
            }
            for tag in p["PropertyTags"].as_array().unwrap() {
                assert_schema(tag, ASPIRE_PROPERTY_TAG, "PropertyTag");
            }
        }
        assert!(properties.iter().all(|p| nonempty(&p["PropertyContacts"])));
        assert!(properties.iter().any(|p| nonempty(&p["PropertyTags"])));

        let tickets = all(api.get("WorkTickets").await.1);
        assert_eq!(tickets.len(), 50);
        for w in &tickets {
            assert_schema(w, ASPIRE_WORK_TICKET, "WorkTicket");
            let revenues = w["WorkTicketRevenues"].as_array().unwrap();
            assert!(!revenues.is_empty());
            for r in revenues {
                assert_schema(r, ASPIRE_WORK_TICKET_REVENUE, "WorkTicketRevenue");
            }
        }

        let users = all(api.get("Users").await.1);
        for u in &users {
            assert_schema(u, ASPIRE_USER, "User");
            assert!(nonempty(&u["UserRoles"]));
        }
        assert!(users.iter().any(|u| nonempty(&u["BranchAccess"])));
        for b in all(api.get("Branches").await.1) {
            assert_schema(&b, ASPIRE_BRANCH, "Branch");
        }
        for d in all(api.get("Divisions").await.1) {
            assert_schema(&d, ASPIRE_DIVISION, "Division");
        }

        // The two time lists: OData paging and filters like the other lists.
        let (st, times) = api.get("WorkTicketTimes").await;
        assert_eq!(st, 200);
        let times = all(times);
        // Two crew members on each of the 24 completed tickets.
        assert_eq!(times.len(), 48);
        for wt in &times {
            assert_schema(wt, ASPIRE_WORK_TICKET_TIME, "WorkTicketTime");
            let ticket = tickets
                .iter()
                .find(|w| w["WorkTicketID"] == wt["WorkTicketID"])
                .unwrap();
            assert!(ticket["WorkTicketStatusID"].as_u64().unwrap() >= 3);
            assert!(wt["Hours"].as_f64().unwrap() > 0.0);
        }
        let (_, page) = api.get("WorkTicketTimes?$top=20&$skip=40").await;
        let page = all(page);
        assert_eq!(page.len(), 8);
        assert_eq!(page[0], times[40]);
        let (_, paged) = api.get("worktickettimes?$pageNumber=2&$limit=20").await;
        assert_eq!(all(paged)[0], times[20]);
        let first = &times[0]["WorkTicketID"];
        let (_, one) = api
            .get(&format!("WorkTicketTimes?$filter=WorkTicketID eq {first}"))
            .await;
        assert!(all(one).iter().all(|t| &t["WorkTicketID"] == first));
        let (_, sel) = api
            .get("WorkTicketTimes?$top=1&$select=WorkTicketTimeID,Hours")
            .await;
        assert_eq!(sel[0].as_object().unwrap().len(), 2);

        let (st, clocks) = api.get("ClockTimes").await;
        assert_eq!(st, 200);
        let clocks = all(clocks);
        assert!(!clocks.is_empty());
        for ck in &clocks {
            assert_schema(ck, ASPIRE_CLOCK_TIME, "ClockTime");
            assert!(ck["ClockStart"].as_str().unwrap() < ck["ClockEnd"].as_str().unwrap());
            assert!(times.iter().any(|t| t["ContactID"] == ck["ContactID"]));
        }
        let n = clocks.len();
        let (_, tail) = api
            .get(&format!("ClockTimes?$skip={}&$top=100", n - 3))
            .await;
        assert_eq!(all(tail), clocks[n - 3..].to_vec());
        let (_, sorted) = api.get("ClockTimes?$orderby=ClockTimeID desc&$top=1").await;
        assert_eq!(sorted[0], clocks[n - 1]);
        assert_eq!(api.get("ClockTimes?$top=x").await.0, 400);
        lists.push((times.len(), clocks.len()));

        // The same auth as the other lists.
        let r = get(&c, format!("{base}/{host}/ClockTimes")).await;
        assert_eq!(r.status(), 401);
    }
    assert_eq!(lists[0].0, lists[1].0);

    // And the same rate limit (all API users combined, per environment).
    settings(
        &c,
        &base,
        json!({"provider": "aspire", "rate_limit_per_window": 1}),
    )
    .await;
    let prod = "cloud-api.youraspire.com";
    let t = aspire_tokens(&c, &base, prod, ASPIRE_PROD_ID, ASPIRE_PROD_SECRET).await;
    let token = t["Token"].as_str().unwrap();
    let r = bearer_get(&c, format!("{base}/{prod}/WorkTicketTimes"), token).await;
    assert_eq!(r.status(), 429);
    em.shutdown().await;
}

#[tokio::test]
async fn qbo_full_entities_and_read_by_id() {
    let (em, c, base) = started().await;
    let (realm, t) = qbo_tokens(&c, &base).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let api = format!("{base}/{QBO_SANDBOX_COMPANY}/{realm}");
    let get = |path: String, json_accept: bool| {
        let (c, url, access) = (c.clone(), format!("{api}/{path}"), access.clone());
        async move {
            let mut rq = c.get(url).bearer_auth(access);
            if json_accept {
                rq = rq.header("accept", "application/json");
            }
            let r = rq.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // Every record of `entity`, each with the members all entities have and `members`.
    let query = |entity: &'static str, members: &'static [&'static str]| {
        let q = format!("select * from {entity} maxresults 1000");
        let url = url::Url::parse_with_params(&format!("{api}/query"), &[("query", q)]).unwrap();
        let (c, access) = (c.clone(), access.clone());
        async move {
            let r: Value = c
                .get(url)
                .bearer_auth(access)
                .header("accept", "application/json")
                .answer()
                .await;
            let records = r["QueryResponse"][entity].as_array().unwrap().clone();
            let common = ["Id", "SyncToken", "MetaData", "domain", "sparse", "Active"];
            for record in &records {
                assert_members(record, &common, entity);
                assert_members(record, members, entity);
            }
            records
        }
    };

    let customers = query(
        "Customer",
        &[
            "DisplayName",
            "GivenName",
            "FamilyName",
            "CompanyName",
            "PrintOnCheckName",
            "FullyQualifiedName",
            "Job",
            "Balance",
            "BalanceWithJobs",
            "Taxable",
            "PrimaryPhone",
            "PrimaryEmailAddr",
            "BillAddr",
            "ShipAddr",
            "CurrencyRef",
            "PreferredDeliveryMethod",
            "TermRef",
        ],
    )
    .await;
    assert_eq!(customers.len(), 40);
    for cu in &customers {
        for addr in ["BillAddr", "ShipAddr"] {
            assert_members(
                &cu[addr],
                &[
                    "Id",
                    "Line1",
                    "City",
                    "CountrySubDivisionCode",
                    "PostalCode",
                ],
                addr,
            );
        }
        assert!(cu["PrimaryPhone"]["FreeFormNumber"].is_string());
        assert!(cu["PrimaryEmailAddr"]["Address"].is_string());
        assert_eq!(cu["CurrencyRef"]["value"], "USD");
        assert!(cu["MetaData"]["LastUpdatedTime"].is_string());
    }
    // Jobs (sub-customers) name their parent.
    let jobs: Vec<&Value> = customers.iter().filter(|c| c["Job"] == true).collect();
    assert!(!jobs.is_empty());
    for j in &jobs {
        let parent = customers
            .iter()
            .find(|c| c["Id"] == j["ParentRef"]["value"])
            .unwrap();
        assert_eq!(j["Level"], 1);
        assert!(
            j["FullyQualifiedName"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}:", parent["DisplayName"].as_str().unwrap()))
        );
        assert!(parent["BalanceWithJobs"].as_f64().unwrap() >= parent["Balance"].as_f64().unwrap());
    }
    assert!(customers.iter().any(|c| c.get("Mobile").is_some()));
    assert!(customers.iter().any(|c| c.get("WebAddr").is_some()));

    let vendors = query(
        "Vendor",
        &[
            "DisplayName",
            "CompanyName",
            "Balance",
            "Vendor1099",
            "PrimaryPhone",
            "PrimaryEmailAddr",
            "BillAddr",
            "CurrencyRef",
            "AcctNum",
        ],
    )
    .await;
    let contractor = vendors.iter().find(|v| v["Vendor1099"] == true).unwrap();
    assert!(
        contractor["TaxIdentifier"]
            .as_str()
            .unwrap()
            .starts_with("XXXXX")
    );

    let accounts = query(
        "Account",
        &[
            "Name",
            "FullyQualifiedName",
            "AccountType",
            "AccountSubType",
            "Classification",
            "CurrentBalance",
            "CurrentBalanceWithSubAccounts",
            "SubAccount",
            "CurrencyRef",
            "AcctNum",
        ],
    )
    .await;
    let subs: Vec<&Value> = accounts
        .iter()
        .filter(|a| a["SubAccount"] == true)
        .collect();
    assert!(!subs.is_empty());
    for s in subs {
        let parent = accounts
            .iter()
            .find(|a| a["Id"] == s["ParentRef"]["value"])
            .unwrap();
        assert_eq!(s["ParentRef"]["name"], parent["Name"]);
        assert!(s["FullyQualifiedName"].as_str().unwrap().contains(':'));
    }

    let items = query(
        "Item",
        &[
            "Name",
            "FullyQualifiedName",
            "Type",
            "UnitPrice",
            "IncomeAccountRef",
            "Taxable",
        ],
    )
    .await;
    let material = items.iter().find(|i| i["Type"] == "NonInventory").unwrap();
    assert_members(
        material,
        &[
            "ExpenseAccountRef",
            "PrefVendorRef",
            "PurchaseDesc",
            "PurchaseCost",
        ],
        "NonInventory item",
    );

    // Reads by id answer the same object as the query, under the entity's name.
    for (segment, entity, list) in [
        ("customer", "Customer", &customers),
        ("vendor", "Vendor", &vendors),
        ("account", "Account", &accounts),
        ("item", "Item", &items),
    ] {
        for record in [&list[0], &list[list.len() - 1]] {
            let id = record["Id"].as_str().unwrap();
            let (st, body) = get(format!("{segment}/{id}?minorversion=75"), true).await;
            assert_eq!(st, 200, "{body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(&v[entity], record);
            assert!(v["time"].is_string());
            assert_eq!(v.as_object().unwrap().len(), 2);
        }
        // Missing: Intuit's "Object Not Found" service fault (PascalCase, code 610).
        let (st, body) = get(format!("{segment}/999999"), true).await;
        assert_eq!(st, 400);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["Fault"]["type"], "ValidationFault");
        assert_eq!(v["Fault"]["Error"][0]["code"], "610");
        assert_eq!(v["Fault"]["Error"][0]["Message"], "Object Not Found");
        assert!(v["time"].is_string());
    }
    let (st, xml) = get("customer/abc".into(), false).await;
    assert_eq!(st, 400);
    assert!(
        xml.contains(r#"<Fault type="ValidationFault"><Error code="610">"#),
        "{xml}"
    );
    // Another realm's id space is still refused before any lookup.
    let other_realm = format!("{base}/{QBO_SANDBOX_COMPANY}/123/customer/1");
    let r = bearer_get_json(&c, other_realm, &access).await;
    assert_eq!(r.status(), 403);
    em.shutdown().await;
}
