//! Secrets never leak: every system's full life (connect, status, verify, refresh, preview with
//! export, mappings, report, failures, a process killed mid-refresh, disconnect) with sentinel client secrets, at the most
//! verbose log level, then a search of everything that came out for every secret that went in or
//! was issued: stdout and stderr (the log), the report, error messages, every file under the
//! Patchbay home (settings, exports), and the command line and environment of every process
//! Patchbay started (the browser) and of its parent. One hit fails the test. The coverage goes
//! into docs/RELIABILITY.md.

use crate::docs;
use crate::harness::{Lab, Output, Running, files_under};
use patchbay_core::store::Vault;
use secrecy::ExposeSecret;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

#[derive(Default)]
struct Scan {
    /// Secrets (sentinels and issued tokens) and where each came from.
    secrets: Vec<(String, String)>,
    outputs: Vec<(String, String)>,
    processes: usize,
    files: usize,
    bytes: usize,
}

impl Scan {
    /// A secret, and the forms it travels in: percent-encoded (a form body, a URL) and base64
    /// (inside a header).
    fn secret(&mut self, what: &str, value: &str) {
        use base64::Engine as _;
        assert!(value.len() >= 16, "{what} is too short to search for");
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(value);
        for (form, v) in [
            ("", value.to_string()),
            (" (percent-encoded)", encoded),
            (" (base64)", b64),
        ] {
            if !self.secrets.iter().any(|(_, known)| *known == v) {
                self.secrets.push((format!("{what}{form}"), v));
            }
        }
    }

    /// The HTTP Basic credentials a token request carries (`client_id:secret` in base64).
    fn basic(&mut self, what: &str, client_id: &str, secret: &str) {
        use base64::Engine as _;
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        for pair in [
            format!("{client_id}:{secret}"),
            format!("{}:{}", enc(client_id), enc(secret)),
        ] {
            let v = base64::engine::general_purpose::STANDARD.encode(pair);
            if !self.secrets.iter().any(|(_, known)| *known == v) {
                self.secrets.push((format!("{what} Basic credentials"), v));
            }
        }
    }

    /// Every authorization code the vendor issued and PKCE verifier Patchbay sent.
    async fn codes(&mut self, lab: &Lab) {
        let codes = lab.emulator_json("codes").await;
        for c in codes.as_array().into_iter().flatten() {
            if let Some(code) = c["code"].as_str() {
                self.secret("an authorization code", code);
            }
            if let Some(v) = c["verifier"].as_str() {
                self.secret("a PKCE verifier", v);
            }
        }
    }

    fn output(&mut self, what: &str, out: &Output, stdout_may_hold_token: bool) {
        if !stdout_may_hold_token {
            self.outputs
                .push((format!("{what} (stdout)"), out.stdout.clone()));
        }
        self.outputs
            .push((format!("{what} (stderr, log at trace)"), out.stderr.clone()));
    }

    /// The grant now in the keychain: its tokens are secrets from here on.
    fn issued(&mut self, lab: &Lab, id: &str) {
        let g = Vault::new(Arc::new(lab.keychain()))
            .load(id)
            .unwrap()
            .expect("stored grant");
        if let Some(t) = &g.access_token {
            self.secret(&format!("{id} access token"), t.expose_secret());
        }
        if let Some(t) = &g.refresh_token {
            self.secret(&format!("{id} refresh token"), t.expose_secret());
        }
    }

    fn check(&self, what: &str, text: &str) {
        for (name, value) in &self.secrets {
            assert!(!text.contains(value.as_str()), "{name} found in {what}");
        }
    }

    fn run(&mut self, home: &Path, dumps: &Path) {
        for (what, text) in &self.outputs {
            self.bytes += text.len();
            self.check(what, text);
        }
        for (path, text) in files_under(dumps) {
            self.processes += 1;
            self.bytes += text.len();
            self.check(&path.display().to_string(), &text);
        }
        for (path, text) in files_under(home) {
            if path.starts_with(dumps) {
                continue;
            }
            self.files += 1;
            self.bytes += text.len();
            self.check(&path.display().to_string(), &text);
        }
    }
}

struct System {
    id: &'static str,
    env: &'static str,
    redirect: bool,
}

const SYSTEMS: [System; 3] = [
    System {
        id: "quickbooks-time",
        env: "production",
        redirect: true,
    },
    System {
        id: "aspire",
        env: "sandbox",
        redirect: false,
    },
    System {
        id: "quickbooks-online",
        env: "sandbox",
        redirect: true,
    },
];

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_logs_reports_files_or_other_processes() {
    let lab = Lab::new().await;
    let dumps = lab.home.path().join("process-images");
    let mut scan = Scan::default();
    let run = |args: Vec<String>, stdin: String| {
        let mut cmd = lab.command(&args.iter().map(String::as_str).collect::<Vec<_>>());
        cmd.env("PATCHBAY_LOG", "trace")
            .env("FAKE_BROWSER_PROC_DUMP", &dumps);
        lab.run_with(cmd, &stdin)
    };
    for (n, s) in SYSTEMS.iter().enumerate() {
        // 32 letters and digits: valid for every system's secret field.
        let secret = format!("{:X<32}", format!("SENTINELsecret{n}"));
        let wrong = format!("{:Z<32}", format!("SENTINELmistyped{n}"));
        scan.secret(&format!("{} client secret", s.id), &secret);
        scan.secret(&format!("{} mistyped secret", s.id), &wrong);
        let app = lab
            .admin(
                "apps",
                json!({"provider": s.id, "environment": s.env,
                       "redirect_uris": if s.redirect { vec![lab.callback()] } else { vec![] },
                       "client_secret": secret}),
            )
            .await;
        let client_id = app["client_id"].as_str().unwrap().to_string();
        scan.basic(s.id, &client_id, &secret);
        let conn = format!("practice:{}:{}", s.id, s.env);
        let sys = |verb: &str| {
            vec![
                verb.to_string(),
                s.id.to_string(),
                "--env".into(),
                s.env.into(),
            ]
        };

        // A mistyped secret first: the error must not repeat it.
        let out = run(sys("connect"), format!("{client_id}\n{wrong}\n"));
        assert_ne!(out.code, 0, "{out:?}");
        scan.output(
            &format!("{} connect with a wrong secret", s.id),
            &out,
            false,
        );

        // Pasted with the clutter a clipboard brings.
        let out = run(
            sys("connect"),
            format!("  {client_id}\n\u{200b}{secret} \n"),
        );
        out.exits(0);
        scan.output(&format!("{} connect", s.id), &out, false);
        scan.issued(&lab, &conn);

        for verb in ["verify", "refresh"] {
            let out = run(sys(verb), String::new());
            assert_eq!(out.code, 0, "{verb}: {out:?}");
            scan.output(&format!("{} {verb}", s.id), &out, false);
            scan.issued(&lab, &conn);
        }
        let out = run(sys("token"), String::new());
        out.exits(0);
        scan.output(&format!("{} token", s.id), &out, true);

        let mut preview = sys("preview");
        preview.extend([
            "--export".into(),
            lab.home.path().join("export").display().to_string(),
        ]);
        let out = run(preview, String::new());
        out.exits(0);
        scan.output(&format!("{} preview --export", s.id), &out, false);
        scan.issued(&lab, &conn);

        // Vendor failures at refresh: a server error and a refused grant.
        for fault in ["status_500", "invalid_grant"] {
            lab.admin(
                "faults",
                json!({"provider": s.id, "endpoint": "refresh", "fault": fault, "count": 1}),
            )
            .await;
            let out = run(sys("refresh"), String::new());
            scan.output(&format!("{} refresh under {fault}", s.id), &out, false);
        }
        let out = run(vec!["status".into(), "--json".into()], String::new());
        scan.output("status --json", &out, false);
        let out = run(vec!["report".into()], String::new());
        out.exits(0);
        assert!(out.stdout.len() > 200, "a real report: {out:?}");
        // The mistyped secret's failure is among the report's recent problems, with its kind.
        assert!(
            out.stdout.contains("recent problems") && out.stdout.contains("connect failed"),
            "{}",
            out.stdout
        );
        scan.output("report", &out, false);
    }
    let out = run(
        vec![
            "mappings".into(),
            "quickbooks-online".into(),
            "--env".into(),
            "sandbox".into(),
        ],
        String::new(),
    );
    scan.output("mappings", &out, false);
    // Crash output: a refresh killed (SIGKILL) after the vendor answered, before anything was
    // stored, with everything it wrote until then.
    let mut cmd = lab.command(&["refresh", "quickbooks-time", "--env", "production"]);
    cmd.env("PATCHBAY_LOG", "trace").env(
        "PATCHBAY_PAUSE_AT",
        patchbay_core::crashpoint::REFRESH_AFTER_RESPONSE,
    );
    let mut killed = Running::start(cmd);
    killed.expect_line("paused at");
    killed.child.kill().unwrap();
    let out = killed.finish();
    assert!(
        out.stderr.contains("TRACE"),
        "the killed process's log: {out:?}"
    );
    scan.output("refresh killed after the vendor answered", &out, false);
    for s in &SYSTEMS {
        let mut args = vec![
            "disconnect".to_string(),
            s.id.into(),
            "--env".into(),
            s.env.into(),
        ];
        args.push("--yes".into());
        let out = run(args, String::new());
        out.exits(0);
        scan.output(&format!("{} disconnect", s.id), &out, false);
    }
    // The CLI's log file (JSON lines, at trace here) is among the files searched.
    let log = std::fs::read_to_string(patchbay_core::logging::file_of(
        &lab.home.path().join("logs"),
        patchbay_core::logging::CLI,
    ))
    .unwrap();
    assert!(
        log.lines().count() > 20 && log.contains("\"level\":\"TRACE\""),
        "{log:.1000}"
    );
    scan.codes(&lab).await;
    let codes = scan
        .secrets
        .iter()
        .filter(|(n, _)| n == "an authorization code" || n == "a PKCE verifier")
        .count();
    assert!(
        codes >= 4,
        "the codes and verifiers of two sign-ins: {codes}"
    );
    scan.run(lab.home.path(), &dumps);
    assert!(
        scan.processes >= 2,
        "the browser's process images were captured"
    );
    assert!(scan.files >= 3, "settings and exports were searched");
    let outputs = scan.outputs.len();
    let body = format!(
        "| Secrets searched for (each also percent-encoded and in base64; the Basic credentials, codes and PKCE verifiers too) | CLI runs (stdout and stderr at `trace`) | Files under the Patchbay home (settings, exports, log files) | Process images (command line, environment) | Bytes searched | Hits |\n\
         |---:|---:|---:|---:|---:|---:|\n\
         | {} | {outputs} outputs | {} | {} | {} | 0 |\n",
        scan.secrets.len(),
        scan.files,
        scan.processes,
        scan.bytes
    );
    docs::edit("RELIABILITY.md", |doc| {
        docs::replace_block(&doc, "leaks-cli", &body)
    });
}
