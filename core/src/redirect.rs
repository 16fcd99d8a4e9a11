//! Where the vendor sends the admin's browser back to after Allow: Patchbay's loopback listener
//! (RFC 8252 7.3), or, where the vendor refuses loopback redirects (Intuit production: "can only
//! redirect to URIs beginning with https. IP addresses aren't allowed", reference 3.8), an HTTPS
//! page registered instead: the distributor's relay (`relay/`, which forwards the answer to the
//! listener by a top-level navigation and otherwise shows the address to paste), or a page of
//! the admin's own, whose address the admin pastes. The chosen address is the `redirect_uri` of
//! both the authorize and the token request, exactly.

use crate::catalog::{EnvironmentSpec, LoopbackRedirect, ProviderSpec};
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use serde::Serialize;
use url::Url;

/// How the answer comes back for one system and environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// No browser step (a token exchange such as Aspire's).
    None,
    /// `http://localhost:PORT/callback`, registered at the vendor by the admin.
    Loopback,
    /// The distributor's HTTPS relay, which hands the answer to the listener.
    Relay,
    /// An https page of the admin's own: the admin pastes the address the browser ends on.
    OwnPage,
    /// The vendor refuses loopback here and there is no relay yet: the admin must give an
    /// https address of their own (or get the distributor's relay) before connecting.
    NeedsPage,
}

/// What the wizard must show and use for one system and environment.
#[derive(Debug, Clone, Serialize)]
pub struct RedirectPlan {
    pub via: Via,
    /// The address to register at the vendor and to send as `redirect_uri`; `None` for
    /// [`Via::None`] and [`Via::NeedsPage`].
    pub redirect_uri: Option<String>,
    /// The distribution supplies the vendor app's keys: no developer-portal steps, no fields.
    pub keys_supplied: bool,
    /// The steps about the admin's own app are shown (their ids are `own_app_only` in the
    /// catalog); false when the distributor's app is used.
    pub own_app: bool,
    /// Said on the redirect step in plain words, when there is something to say.
    pub advice: Option<String>,
}

impl RedirectPlan {
    /// Choose for `provider`/`env` from the distribution settings and, if the admin gave one,
    /// their own https page.
    pub fn choose(
        p: &ProviderSpec,
        env: &EnvironmentSpec,
        distribution: &Distribution,
        own_page: Option<&str>,
    ) -> Result<RedirectPlan> {
        let d = distribution.system(&p.id, &env.id);
        let keys_supplied = d.is_some_and(|d| d.client_id.is_some());
        let plan = |via, redirect_uri: Option<String>, advice: Option<String>| RedirectPlan {
            via,
            redirect_uri,
            keys_supplied,
            own_app: !keys_supplied,
            advice,
        };
        if p.auth.browser().is_none() {
            return Ok(plan(Via::None, None, None));
        }
        if let Some(relay) = d.and_then(|d| d.relay_url.as_deref()) {
            return Ok(plan(
                Via::Relay,
                Some(check_https_page(relay)?.to_string()),
                None,
            ));
        }
        if let Some(page) = own_page.map(str::trim).filter(|s| !s.is_empty()) {
            let page = check_https_page(page)?;
            return Ok(plan(
                Via::OwnPage,
                Some(page.to_string()),
                Some(format!(
                    "{} will send you to your page after you allow access. Patchbay cannot see that page: when it has loaded, copy the whole address from your browser's address bar and paste it into Patchbay.",
                    p.name
                )),
            ));
        }
        let loopback = p.callback_url();
        match env.loopback_redirect {
            LoopbackRedirect::Allowed => Ok(plan(Via::Loopback, loopback, None)),
            LoopbackRedirect::Unconfirmed => Ok(plan(
                Via::Loopback,
                loopback,
                Some(format!(
                    "If {name} will not save this address (it asks for one that starts with https), ask whoever gave you Patchbay for their sign-in relay address. Or register an https page of your own at {name} and enter it under \"My own https page\"; you will then paste the address your browser ends on.",
                    name = p.name
                )),
            )),
            LoopbackRedirect::Refused => Ok(plan(
                Via::NeedsPage,
                None,
                Some(format!(
                    "For {label}, {name} only accepts addresses that start with https and are not on this computer, so Patchbay's own address cannot be used. Ask whoever gave you Patchbay for their sign-in relay address, or register an https page of your own and enter it below (you will then paste the address your browser ends on).",
                    label = p.display_name(env),
                    name = p.name
                )),
            )),
        }
    }
}

/// An address a vendor can redirect to when it refuses loopback: `https`, a host name that is
/// not `localhost` or an IP address, no user name or fragment. The error says what is wrong in
/// words for whoever typed it.
pub fn check_https_page(raw: &str) -> Result<Url> {
    let bad = |why: &str| {
        Error::invalid_input(format!(
            "\"{}\" cannot be used: {why}",
            raw.chars().take(200).collect::<String>()
        ))
    };
    let url = Url::parse(raw.trim()).map_err(|_| {
        bad("it is not a web address (it should look like https://www.example.com/patchbay/).")
    })?;
    if url.scheme() != "https" {
        return Err(bad("it must start with https://."));
    }
    match url.host() {
        Some(url::Host::Domain(d))
            if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") =>
        {
            Err(bad(
                "it must be a page on the internet, not on this computer (localhost).",
            ))
        }
        Some(url::Host::Domain(_)) => Ok(()),
        Some(_) => Err(bad(
            "it must use a name (like www.example.com), not a numeric IP address.",
        )),
        None => Err(bad("it has no site name.")),
    }?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not contain a user name or password."));
    }
    if url.fragment().is_some() {
        return Err(bad("it must not contain a # part."));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn https_pages_are_checked_like_intuit_production_does() {
        for ok in [
            "https://connect.example.com/patchbay/",
            "https://relay.patchbay.test/patchbay/",
            " https://a.example/cb ",
        ] {
            assert!(check_https_page(ok).is_ok(), "{ok} should be accepted");
        }
        for (bad, why) in [
            ("http://connect.example.com/patchbay/", "https://"),
            ("http://localhost:8765/callback", "https://"),
            ("https://localhost:8765/callback", "not on this computer"),
            ("https://127.0.0.1/callback", "IP address"),
            ("https://[::1]/callback", "IP address"),
            ("https://10.0.0.5/cb", "IP address"),
            ("connect.example.com/patchbay", "not a web address"),
            ("https://user:pw@example.com/", "user name"),
            ("https://example.com/#x", "# part"),
        ] {
            let e = check_https_page(bad).expect_err(bad);
            assert!(e.message().contains(why), "{bad}: {}", e.message());
        }
    }

    fn dist(text: &str) -> Distribution {
        Distribution::parse(text).unwrap()
    }

    #[test]
    fn the_plan_follows_each_vendors_redirect_rule() {
        let c = Catalog::builtin().unwrap();
        let qbo = c.provider("quickbooks-online").unwrap();
        let qbt = c.provider("quickbooks-time").unwrap();
        let aspire = c.provider("aspire").unwrap();
        let none = Distribution::default();
        let prod = qbo.environment("production").unwrap();
        let sandbox = qbo.environment("sandbox").unwrap();

        let p = RedirectPlan::choose(qbo, prod, &none, None).unwrap();
        assert_eq!(p.via, Via::NeedsPage, "Intuit production refuses localhost");
        assert!(p.redirect_uri.is_none() && p.own_app && !p.keys_supplied);
        assert!(p.advice.unwrap().contains("https"));

        let p = RedirectPlan::choose(qbo, sandbox, &none, None).unwrap();
        assert_eq!(p.via, Via::Loopback, "localhost is allowed for the sandbox");
        assert_eq!(
            p.redirect_uri.as_deref(),
            Some("http://localhost:8765/callback")
        );

        let p = RedirectPlan::choose(qbo, prod, &none, Some("https://mine.example/cb")).unwrap();
        assert_eq!(p.via, Via::OwnPage);
        assert_eq!(p.redirect_uri.as_deref(), Some("https://mine.example/cb"));
        assert!(RedirectPlan::choose(qbo, prod, &none, Some("http://localhost:1/cb")).is_err());

        let d = dist(
            "[[system]]\nprovider = \"quickbooks-online\"\nenvironment = \"production\"\nclient_id = \"ABC12345\"\nclient_secret = \"s3cr3t-value\"\nrelay_url = \"https://connect.example.com/patchbay/\"\n",
        );
        let p = RedirectPlan::choose(qbo, prod, &d, None).unwrap();
        assert_eq!(p.via, Via::Relay);
        assert_eq!(
            p.redirect_uri.as_deref(),
            Some("https://connect.example.com/patchbay/")
        );
        assert!(p.keys_supplied && !p.own_app);
        // Only that environment has the distributor's app.
        assert!(
            !RedirectPlan::choose(qbo, sandbox, &d, None)
                .unwrap()
                .keys_supplied
        );

        let qbt_prod = qbt.environment("production").unwrap();
        let p = RedirectPlan::choose(qbt, qbt_prod, &none, None).unwrap();
        assert_eq!(p.via, Via::Loopback, "unconfirmed: loopback, with advice");
        assert!(p.advice.unwrap().contains("will not save this address"));
        let relay_only = dist(
            "[[system]]\nprovider = \"quickbooks-time\"\nenvironment = \"production\"\nrelay_url = \"https://connect.example.com/qbt/\"\n",
        );
        let p = RedirectPlan::choose(qbt, qbt_prod, &relay_only, None).unwrap();
        assert_eq!(p.via, Via::Relay);
        assert!(
            p.own_app,
            "a relay alone: the admin still makes their own app"
        );

        let a = aspire.environment("production").unwrap();
        assert_eq!(
            RedirectPlan::choose(aspire, a, &none, None).unwrap().via,
            Via::None
        );
    }
}
