//! The catalog's tests: the built-in catalog, an admin's own file, validation, version 1.

use super::*;

#[test]
fn builtin_catalog_loads_and_every_entry_is_complete() {
    let c = Catalog::builtin().unwrap();
    let ids: Vec<&str> = c.providers().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["quickbooks-time", "aspire", "quickbooks-online"]);
    for p in c.providers() {
        assert!(
            !p.support.vendor_help.is_empty(),
            "{} needs the vendor's help line",
            p.id
        );
        assert!(
            !p.guide_title().is_empty() && !p.guide_title().contains("guides/"),
            "{}: the guide's title alone, not {:?}",
            p.id,
            p.guide_title()
        );
        assert!(
            p.steps.len() >= 4,
            "{} should follow its guide's steps",
            p.id
        );
        let checklist = c.checklist(p);
        for kind in [
            ErrorKind::InvalidClient,
            ErrorKind::Keychain,
            ErrorKind::ProviderDown,
            ErrorKind::RateLimited,
            ErrorKind::WrongEnvironment,
            ErrorKind::Network,
            ErrorKind::ApiNotEnabled,
        ] {
            if !p.can_fail_with(kind) {
                continue;
            }
            assert!(
                checklist.iter().any(|i| i.fails_on.contains(&kind)),
                "{}: no checklist item reacts to {kind}",
                p.id
            );
        }
        if p.auth.browser().is_some() {
            for kind in [
                ErrorKind::PortInUse,
                ErrorKind::RedirectMismatch,
                ErrorKind::BrowserLaunch,
                ErrorKind::Denied,
                ErrorKind::Timeout,
                ErrorKind::Cancelled,
            ] {
                assert!(
                    checklist.iter().any(|i| i.fails_on.contains(&kind)),
                    "{}: {kind}",
                    p.id
                );
            }
            let url = p.callback_url().unwrap();
            assert!(url.starts_with("http://localhost:"), "{url}");
        }
        for f in &p.fields {
            if f.pattern.is_some() {
                assert!(f.format().is_some());
            }
        }
    }
}

#[test]
fn aspire_formats_are_the_known_ones() {
    let c = Catalog::builtin().unwrap();
    let a = c.provider("aspire").unwrap();
    let id = a.field("client_id").unwrap().format().unwrap();
    assert!(id.matches("3f2a91c6-0000-4000-8000-6d5e8a2b7c34"));
    assert!(!id.matches("3f2a91c6-0000-4000-8000"));
    let secret = a.field("client_secret").unwrap().format().unwrap();
    assert!(secret.matches("7hLpQ2x9Vb4Nc8Rt1Yw5Kz3Md6Fj0nHa"));
    assert!(!secret.matches("7hLpQ2x9Vb4Nc8Rt1Yw5Kz3Md6Fj0nH"));
    assert!(a.field("client_secret").unwrap().secret);
}

#[test]
fn real_endpoints_are_the_default() {
    let c = Catalog::builtin().unwrap();
    for p in c.providers() {
        for e in &p.environments {
            assert!(
                e.api_base.starts_with("https://"),
                "{} {}",
                p.id,
                e.api_base
            );
        }
    }
}

/// The one fixture catalog (an admin's own file with a standard OAuth 2 server), shared with
/// the command line's tests.
const MINIMAL: &str = include_str!("../../../tests/support/fixtures/catalog.toml");

#[test]
fn a_standard_oauth_server_is_a_catalog_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, MINIMAL).unwrap();
    let c = Catalog::with_file(&path).unwrap();
    let custom = c.provider("books-custom").unwrap();
    assert_eq!(
        custom.callback_url().unwrap(),
        "http://localhost:8765/callback"
    );
    assert_eq!(c.providers().len(), 4);
    assert!(
        c.checklist(custom).iter().any(|i| i.id == "keychain"),
        "common items apply"
    );
}

/// The same entry in the version 1 layout: the mechanism beside its own table.
fn version_1(text: &str) -> String {
    text.replace("version = 2", "version = 1")
        .replace(
            "default_environment",
            "mechanism = \"authorization_code\"\ndefault_environment",
        )
        .replace(
            "[provider.auth]\nmechanism = \"authorization_code\"\n",
            "[provider.oauth]\n",
        )
}

#[test]
fn the_readme_example_is_a_valid_catalog() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("## Adding your own system")
        .nth(1)
        .expect("the README has the section");
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("with a toml example");
    let c = Catalog::parse(example, "README").unwrap();
    let acme = c.provider("acme").unwrap();
    assert_eq!(acme.auth.mechanism().id(), "authorization_code");
}

#[test]
fn version_1_catalogs_are_still_read() {
    let old = version_1(MINIMAL);
    assert!(old.contains("[provider.oauth]") && !old.contains("[provider.auth]"));
    let c = Catalog::parse(&old, "mine.toml").unwrap();
    let custom = c.provider("books-custom").unwrap();
    assert_eq!(custom.auth.mechanism().id(), "authorization_code");
    assert_eq!(
        custom.callback_url().unwrap(),
        "http://localhost:8765/callback"
    );
    // A version 1 file with the wrong table for its mechanism is told what version 2 wants.
    let wrong = old.replace("[provider.oauth]", "[provider.exchange]");
    let e = Catalog::parse(&wrong, "mine.toml").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Catalog);
    assert!(e.message().contains("catalog version 1"), "{}", e.message());
    assert!(e.message().contains("[provider.auth]"), "{}", e.message());
    // The built-in catalog in its version 1 form reads the same as today's.
    let mut builtin_v1 = BUILTIN.replace("version = 2", "version = 1");
    // Paging as version 1 named it.
    for (named, v2) in [
        ("page_limit_more", "[provider.preview.paging]\n# `page`"),
        ("odata_top_skip", "[provider.preview.paging]\n# OData"),
        ("qbo_query", "[provider.preview.paging]\n# The query"),
    ] {
        let start = builtin_v1.find(v2).expect("the paging table");
        let end = start + builtin_v1[start..].find("\n\n").expect("its end");
        builtin_v1.replace_range(start..end, &format!("paging = \"{named}\""));
    }
    let builtin_v1 = builtin_v1
        .replace("single = true", "paging = \"single\"")
        .replace(
            "[provider.auth]\nmechanism = \"authorization_code\"\n",
            "[provider.oauth]\n",
        )
        .replace(
            "[provider.auth]\nmechanism = \"token_exchange\"\n",
            "[provider.exchange]\n",
        )
        .replace(
            "\ndefault_environment",
            "\nmechanism = \"MECH\"\ndefault_environment",
        );
    // Each provider's mechanism goes where its table says.
    let mut fixed = String::new();
    for part in builtin_v1.split("[[provider]]") {
        let m = if part.contains("[provider.exchange]") {
            "token_exchange"
        } else {
            "authorization_code"
        };
        if !fixed.is_empty() {
            fixed.push_str("[[provider]]");
        }
        fixed.push_str(&part.replace("MECH", m));
    }
    let v1 = Catalog::parse(&fixed, "v1").unwrap();
    let v2 = Catalog::builtin().unwrap();
    for (a, b) in v1.providers().iter().zip(v2.providers()) {
        assert_eq!(format!("{:?}", a.auth), format!("{:?}", b.auth), "{}", a.id);
        assert_eq!(
            format!("{:?}", a.preview),
            format!("{:?}", b.preview),
            "{}",
            a.id
        );
    }
    assert_eq!(v1.providers().len(), v2.providers().len());
}

#[test]
fn http_endpoints_are_refused_unless_loopback() {
    let bad = MINIMAL.replace(
        "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "http://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    );
    let err = Catalog::parse(&bad, "test").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Catalog);
    assert!(
        err.message().contains("must use https"),
        "{}",
        err.message()
    );
    let local = MINIMAL.replace(
        "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "http://127.0.0.1:9/token",
    );
    assert!(Catalog::parse(&local, "test").is_ok());
}

#[test]
fn invalid_entries_are_explained() {
    let cases = [
        (
            MINIMAL.replace("id = \"books-custom\"", "id = \"Books Custom\""),
            "lower-case",
        ),
        (
            MINIMAL.replace("callback_port = 8765", "callback_port = 0"),
            "fixed port",
        ),
        (
            MINIMAL.replace("secret = true", "secret = false"),
            "marked secret",
        ),
        (
            MINIMAL.replace("action = \"connect\"", ""),
            "action = \"connect\"",
        ),
        (
            MINIMAL.replace(
                "default_environment = \"test\"",
                "default_environment = \"x\"",
            ),
            "not listed",
        ),
        (MINIMAL.replace("version = 2", "version = 3"), "version 3"),
        (
            MINIMAL.replace(
                "mechanism = \"authorization_code\"",
                "mechanism = \"magic\"",
            ),
            "unknown variant `magic`",
        ),
        (
            MINIMAL.replace(
                "client_auth = \"request_body\"",
                "client_auth = \"request_body\"\ntoken_path = \"/t\"",
            ),
            "unknown field `token_path`",
        ),
        (
            MINIMAL.replace(
                "[[provider.field]]\nid = \"client_id\"\nlabel = \"Client ID\"\n",
                "",
            ),
            "client_id",
        ),
        (
            MINIMAL.replace(
                "label = \"Client ID\"",
                "label = \"Client ID\"\npattern = \"([\"\nformat = \"x\"",
            ),
            "does not compile",
        ),
        (
            MINIMAL.replace(
                "name = \"Books Custom\"",
                "name = \"Books Custom\"\ncolour = \"red\"",
            ),
            "unknown field",
        ),
        // An id with `#` would collide with the keychain's `#access` entries.
        (
            MINIMAL.replace("id = \"test\"", "id = \"test#access\""),
            "environment id \"test#access\"",
        ),
    ];
    for (text, expect) in cases {
        let err = Catalog::parse(&text, "test").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Catalog);
        assert!(
            err.message().contains(expect),
            "expected {expect:?} in {}",
            err.message()
        );
    }
}

#[test]
fn a_field_may_keep_the_spaces_inside_its_values() {
    let text = MINIMAL.replace(
        "label = \"Client ID\"",
        "label = \"Client ID\"\ninner_spaces = true",
    );
    let cleaned = |text: &str| {
        let c = Catalog::parse(text, "test").unwrap();
        let f = c
            .provider("books-custom")
            .unwrap()
            .field("client_id")
            .unwrap();
        f.check(" my id 7 \n").0.value
    };
    assert_eq!(cleaned(&text), "my id 7");
    assert_eq!(cleaned(MINIMAL), "myid7", "the default removes them");
}

#[test]
fn a_file_cannot_replace_a_builtin_system() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.toml");
    std::fs::write(&path, MINIMAL.replace("\"books-custom\"", "\"aspire\"")).unwrap();
    let err = Catalog::with_file(&path).unwrap_err();
    assert!(err.message().contains("already known"));
}
