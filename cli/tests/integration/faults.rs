//! The fault matrix: every vendor fault the emulators can inject, at every step of a connection's
//! life (exchange, verify, refresh, preview), for each system. Each cell asserts the error kind,
//! the checklist item that turns red (with a fix), a message free of raw vendor output, that the
//! stored grant is unchanged by a failure, and that the connection works again once the vendor
//! does. The table goes into docs/RELIABILITY.md.

use crate::harness::Lab;
use patchbay_core::checklist::{Checklist, Event, ItemState};
use patchbay_core::preview::PreviewOptions;
use patchbay_core::store::Vault;
use patchbay_core::{Connections, Error, ErrorKind};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

use crate::docs;

/// Requests give up after this long in the matrix; the `timeout` fault answers later than that.
const TIMEOUT: Duration = Duration::from_secs(3);
const SLOW_MS: u64 = 6_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Exchange,
    Verify,
    Refresh,
    Preview,
}

const STEPS: [Step; 4] = [Step::Exchange, Step::Verify, Step::Refresh, Step::Preview];

impl Step {
    /// The emulator endpoint a fault must hit to hurt this step.
    fn endpoint(self) -> &'static str {
        match self {
            Step::Exchange => "token",
            Step::Refresh => "refresh",
            Step::Verify | Step::Preview => "api",
        }
    }
}

/// What a cell must come to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// The step succeeds (the fault was ridden out).
    Ok,
    Fails(ErrorKind),
    /// The fault cannot happen at this step (e.g. an authorization code at refresh).
    NotApplicable,
}

use ErrorKind as K;
use Want::{Fails, NotApplicable as NA, Ok as Fine};

struct Fault {
    label: &'static str,
    /// The injection: a `/_emulator/faults` body without provider and endpoint, a settings
    /// change, or a clock skew.
    inject: Inject,
    /// Per step (exchange, verify, refresh, preview); `None` = the same for every system.
    want: fn(&str) -> [Want; 4],
}

#[derive(Clone)]
enum Inject {
    Fault(Value),
    /// On every endpoint (a revoked grant hurts API calls and refreshes alike).
    FaultAnywhere(Value),
    Settings(Value),
    Clock(i64),
}

fn faults() -> Vec<Fault> {
    let down = |_: &str| [Fails(K::ProviderDown); 4];
    vec![
        Fault {
            label: "500 Internal Server Error",
            inject: Inject::Fault(json!({"fault": "status_500"})),
            want: down,
        },
        Fault {
            label: "502 Bad Gateway",
            inject: Inject::Fault(json!({"fault": "status_502"})),
            want: down,
        },
        Fault {
            label: "503 Service Unavailable",
            inject: Inject::Fault(json!({"fault": "status_503"})),
            want: down,
        },
        Fault {
            label: "503 once, then fine",
            inject: Inject::Fault(json!({"fault": "status_503", "count": 1})),
            // Reads are tried again; token calls are not (a retried code or rotated refresh
            // token could be spent twice).
            want: |_| [Fails(K::ProviderDown), Fine, Fails(K::ProviderDown), Fine],
        },
        Fault {
            label: "no answer (timeout)",
            inject: Inject::Fault(json!({"fault": "slow", "delay_ms": SLOW_MS})),
            want: |_| [Fails(K::Network); 4],
        },
        Fault {
            label: "connection reset",
            inject: Inject::Fault(json!({"fault": "reset"})),
            want: |_| [Fails(K::Network); 4],
        },
        Fault {
            label: "malformed JSON",
            inject: Inject::Fault(json!({"fault": "malformed_json"})),
            want: down,
        },
        Fault {
            label: "HTML instead of JSON (200)",
            inject: Inject::Fault(json!({"fault": "html_body", "status": 200})),
            want: down,
        },
        Fault {
            label: "429 with Retry-After, twice",
            inject: Inject::Fault(json!({"fault": "rate_limit", "retry_after": 1, "count": 2})),
            want: |_| [Fails(K::RateLimited), Fine, Fails(K::RateLimited), Fine],
        },
        Fault {
            label: "429 without Retry-After, twice",
            inject: Inject::Fault(json!({"fault": "rate_limit", "count": 2})),
            want: |_| [Fails(K::RateLimited), Fine, Fails(K::RateLimited), Fine],
        },
        Fault {
            label: "`invalid_grant`",
            inject: Inject::Fault(json!({"fault": "invalid_grant"})),
            want: |p| match p {
                // Aspire's token call takes the client credentials: its refusal is "bad keys";
                // a refused refresh token falls back to the kept credentials.
                "aspire" => [Fails(K::InvalidClient), NA, Fine, NA],
                // At the code exchange: the answer expired or was used; click Connect again.
                _ => [Fails(K::Timeout), NA, Fails(K::Reconnect), NA],
            },
        },
        Fault {
            label: "`invalid_client`",
            inject: Inject::Fault(json!({"fault": "invalid_client"})),
            want: |p| match p {
                "aspire" => [Fails(K::InvalidClient), NA, Fine, NA],
                _ => [Fails(K::InvalidClient), NA, Fails(K::InvalidClient), NA],
            },
        },
        Fault {
            label: "expired authorization code",
            inject: Inject::Settings(json!({"code_ttl_secs": 0})),
            want: |p| match p {
                "aspire" => [NA; 4],
                _ => [Fails(K::Timeout), NA, NA, NA],
            },
        },
        Fault {
            label: "revoked at the vendor",
            inject: Inject::FaultAnywhere(json!({"fault": "revoked"})),
            want: |p| match p {
                // The kept client credentials are refused too: nothing left but to reconnect.
                "aspire" => [
                    NA,
                    Fails(K::Reconnect),
                    Fails(K::Reconnect),
                    Fails(K::Reconnect),
                ],
                _ => [
                    NA,
                    Fails(K::Reconnect),
                    Fails(K::Reconnect),
                    Fails(K::Reconnect),
                ],
            },
        },
        Fault {
            label: "vendor clock 2 h behind",
            inject: Inject::Clock(-7200),
            want: |_| [Fine; 4],
        },
        Fault {
            label: "vendor clock 2 h ahead",
            inject: Inject::Clock(7200),
            want: |_| [Fine; 4],
        },
    ]
}

/// The checklist item each error kind must turn red.
fn item_for(kind: ErrorKind) -> &'static str {
    match kind {
        K::ProviderDown | K::Network => "provider-up",
        K::RateLimited => "rate",
        K::Reconnect => "grant",
        K::InvalidClient => "credentials",
        K::Timeout => "browser",
        other => panic!("no item expected for {other}"),
    }
}

fn environment(provider: &str) -> &'static str {
    match provider {
        "quickbooks-online" | "aspire" => "sandbox",
        _ => "production",
    }
}

fn preview_list(provider: &str) -> &'static str {
    match provider {
        "quickbooks-time" => "users",
        "aspire" => "contacts",
        _ => "company",
    }
}

/// A lab with one connected system, and two views of it: `steady` with the normal request
/// timeout (setup and the after-check) and `short` with the matrix's timeout (the faulted step).
struct Rig {
    lab: Lab,
    provider: &'static str,
    id: String,
    steady: Connections,
    short: Connections,
    client: (String, String),
}

impl Rig {
    async fn new(provider: &'static str) -> Rig {
        let lab = Lab::new().await;
        let env = environment(provider);
        let client = lab.app_for(provider, env).await;
        let steady = lab.connections();
        let short = lab.connections().with_request_timeout(TIMEOUT).unwrap();
        let mut rig = Rig {
            id: Connections::connection_id(provider, env, true),
            lab,
            provider,
            steady,
            short,
            client,
        };
        rig.connect(false).await.expect("connects without faults");
        rig
    }

    async fn connect(&mut self, short: bool) -> Result<(), Error> {
        let c = if short { &self.short } else { &self.steady };
        let keys = (self.client.0.as_str(), self.client.1.as_str());
        self.lab
            .connect_in_process(c, self.provider, environment(self.provider), keys)
            .await
            .map(|_| ())
    }

    async fn run(&mut self, step: Step) -> Result<(), Error> {
        match step {
            Step::Exchange => self.connect(true).await,
            Step::Verify => self.short.check(&self.id).await.map(|_| ()),
            Step::Refresh => self.short.access_token(&self.id, true).await.map(|_| ()),
            Step::Preview => {
                let opts = PreviewOptions {
                    max_retries: 1,
                    only: Some(preview_list(self.provider).into()),
                    ..Default::default()
                };
                patchbay_core::preview::run(&self.short, &self.id, &opts, &|_| {})
                    .await
                    .map(|_| ())
            }
        }
    }

    /// What the keychain holds for the connection, as comparable text.
    fn stored(&self) -> String {
        let g = Vault::new(Arc::new(self.lab.keychain()))
            .load(&self.id)
            .unwrap()
            .expect("a stored grant");
        format!(
            "gen {} rt {:?} at {:?} exp {:?}",
            g.generation,
            g.refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
            g.access_token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
            g.expires_at
        )
    }

    async fn inject(&self, inject: &Inject, step: Step) {
        let with = |body: &Value, endpoint: &str| {
            let mut b = body.clone();
            b["provider"] = json!(self.provider);
            b["endpoint"] = json!(endpoint);
            b
        };
        match inject {
            Inject::Fault(body) => {
                self.lab.admin("faults", with(body, step.endpoint())).await;
            }
            Inject::FaultAnywhere(body) => {
                self.lab.admin("faults", with(body, "any")).await;
            }
            Inject::Settings(body) => {
                let mut b = body.clone();
                b["provider"] = json!(self.provider);
                self.lab.settings(b).await;
            }
            Inject::Clock(skew) => {
                self.lab.admin("clock", json!({"skew_secs": skew})).await;
            }
        }
    }

    async fn heal(&self) {
        let r = self
            .lab
            .http
            .delete(format!("{}/_emulator/faults", self.lab.base()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        self.lab.admin("clock", json!({"skew_secs": 0})).await;
        self.lab
            .settings(json!({"provider": self.provider, "code_ttl_secs": 600}))
            .await;
    }
}

/// One cell: returns the table text, or panics with what went wrong.
async fn cell(provider: &'static str, fault: &Fault, step: Step, want: Want) -> String {
    if want == NA {
        return "n/a".into();
    }
    let mut rig = Rig::new(provider).await;
    let before = rig.stored();
    rig.inject(&fault.inject, step).await;
    let started = std::time::Instant::now();
    let got = rig.run(step).await;
    let took = started.elapsed();
    let what = format!("{provider} / {} / {step:?}", fault.label);
    let text = match (want, &got) {
        (Fine, Ok(())) => format!("ok ({:.0} s)", took.as_secs_f64()),
        (Fails(kind), Err(e)) if e.kind() == kind => {
            let spec = rig.steady.catalog().provider(provider).unwrap();
            let mut checklist = Checklist::new(rig.steady.catalog(), spec);
            checklist.observe(&Event::failed(e));
            let red: Vec<_> = checklist
                .items()
                .iter()
                .filter(|i| i.state == ItemState::Failed)
                .collect();
            assert_eq!(
                red.len(),
                1,
                "{what}: one checklist item turns red: {red:?}"
            );
            assert_eq!(red[0].id, item_for(kind), "{what}: checklist item");
            assert!(
                red[0].problem.as_ref().is_some_and(|p| p.fix.len() > 20),
                "{what}: a fix"
            );
            let m = e.message();
            assert!(
                m.len() > 20 && !m.contains('{') && !m.contains('<') && !m.contains("reqwest"),
                "{what}: a plain message, got {m:?}"
            );
            let after = rig.stored();
            assert_eq!(after, before, "{what}: the stored grant is unchanged");
            format!("`{}` → {} ✓", kind.as_str(), red[0].id)
        }
        _ => panic!("{what}: wanted {want:?}, got {got:?} after {took:?}"),
    };
    // Whatever happened, the connection works again once the vendor does.
    rig.heal().await;
    let status = rig.steady.check(&rig.id).await;
    assert!(status.is_ok(), "{what}: works again afterwards: {status:?}");
    if matches!(fault.inject, Inject::Clock(_)) {
        // Tokens are timed by their lifetime, not the vendor's clock: no refresh storm.
        let st = rig.steady.status(&rig.id).await.unwrap();
        let exp = st.record.expires_at.expect("an expiry");
        let now = patchbay_core::oauth::now();
        let settings = rig.lab.emulator_json("settings").await;
        let ttl = settings[provider]["access_token_ttl_secs"]
            .as_i64()
            .unwrap();
        assert!(
            exp > now + ttl - 60 && exp <= now + ttl,
            "{what}: expires in {} s, the vendor's lifetime is {ttl} s",
            exp - now
        );
        assert_eq!(
            st.state,
            patchbay_core::connections::ConnectionState::Connected,
            "{what}: fresh, not refreshing on every call"
        );
    }
    text
}

/// Run the whole matrix for one system: clock cells alone (the emulator's clock is
/// process-wide), the rest a few at a time.
async fn matrix(provider: &'static str) -> Vec<(String, [String; 4])> {
    let table = faults();
    let mut rows: Vec<(String, [String; 4])> = table
        .iter()
        .map(|f| (f.label.to_string(), Default::default()))
        .collect();
    let limit = Arc::new(tokio::sync::Semaphore::new(4));
    let table = Arc::new(table);
    let mut tasks = tokio::task::JoinSet::new();
    for (row, fault) in table.iter().enumerate() {
        if matches!(fault.inject, Inject::Clock(_)) {
            continue;
        }
        for (col, step) in STEPS.into_iter().enumerate() {
            let (limit, table) = (limit.clone(), table.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire().await.unwrap();
                let f = &table[row];
                (
                    row,
                    col,
                    cell(provider, f, step, (f.want)(provider)[col]).await,
                )
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        let (row, col, text) = done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        rows[row].1[col] = text;
    }
    for (row, fault) in table.iter().enumerate() {
        if let Inject::Clock(_) = fault.inject {
            for (col, step) in STEPS.into_iter().enumerate() {
                rows[row].1[col] = cell(provider, fault, step, (fault.want)(provider)[col]).await;
            }
        }
    }
    rows
}

fn record(provider: &str, name: &str, rows: &[(String, [String; 4])]) {
    let mut body = format!(
        "| {name}: fault | Exchange | Verify | Refresh | Preview |\n|---|---|---|---|---|\n"
    );
    let mut cells = 0;
    for (label, c) in rows {
        cells += c.iter().filter(|t| *t != "n/a").count();
        body.push_str(&format!(
            "| {label} | {} | {} | {} | {} |\n",
            c[0], c[1], c[2], c[3]
        ));
    }
    body.push_str(&format!("\n{cells} cells, all passing.\n"));
    docs::edit("RELIABILITY.md", |doc| {
        docs::replace_block(&doc, &format!("faults-{provider}"), &body)
    });
}

async fn run_matrix(provider: &'static str, name: &str) {
    let rows = matrix(provider).await;
    for (label, c) in &rows {
        println!("{label}: {c:?}");
    }
    record(provider, name, &rows);
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_matrix_quickbooks_time() {
    run_matrix("quickbooks-time", "QuickBooks Time").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_matrix_aspire() {
    run_matrix("aspire", "Aspire").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_matrix_quickbooks_online() {
    run_matrix("quickbooks-online", "QuickBooks Online").await;
}
