//! The support report: what a support person needs, and never a secret. It is built only from
//! non-secret sources (settings, catalog, health checks), so there is nothing to redact; the
//! tests prove it with sentinel secrets.

use crate::checklist::{Checklist, ChecklistItem, ItemState};
use crate::connections::{ConnectionStatus, Connections};
use crate::settings::Timings;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Report {
    pub app_version: String,
    pub os: String,
    pub keychain: String,
    /// How vendor requests leave this computer: "direct", or the proxy (no password).
    pub network: String,
    pub ports: Vec<PortHealth>,
    pub connections: Vec<ConnectionReport>,
    /// The newest warnings and errors from the log files (see `logging::recent_problems`).
    pub recent_problems: Vec<String>,
    /// The newest checks (the daily job's, by hand, the app's), newest first.
    pub recent_checks: Vec<crate::history::Entry>,
}

/// How many checks the report carries.
const RECENT_CHECKS: usize = 30;

/// How many log problems the report carries.
const RECENT_PROBLEMS: usize = 20;

/// One connection: its state and record, and its troubleshooting checklist as the record tells.
#[derive(Debug, Serialize)]
pub struct ConnectionReport {
    #[serde(flatten)]
    pub status: ConnectionStatus,
    pub checklist: Vec<ChecklistItem>,
}

#[derive(Debug, Serialize)]
pub struct PortHealth {
    pub port: u16,
    pub systems: Vec<String>,
    pub free: bool,
    pub holder: Option<String>,
}

/// How requests to the first system's vendor leave this computer.
fn network(catalog: &crate::catalog::Catalog) -> String {
    let vendor = catalog
        .providers()
        .iter()
        .flat_map(|p| p.environments.iter())
        .map(|e| e.api_base.clone())
        .next();
    match vendor.and_then(|v| crate::http::proxy_in_use(&v)) {
        Some(proxy) => format!("through the proxy {proxy} (this computer's settings)"),
        None => "direct (no proxy set on this computer)".to_string(),
    }
}

impl Report {
    /// Gather the report. `keychain` is the start-up health check's outcome in words.
    pub async fn gather(connections: &Connections, keychain: String) -> Report {
        let mut ports: Vec<PortHealth> = Vec::new();
        for p in connections.catalog().providers() {
            let Some(o) = p.auth.browser() else { continue };
            match ports.iter_mut().find(|h| h.port == o.callback_port) {
                Some(h) => h.systems.push(p.name.clone()),
                None => {
                    let free = crate::callback::port_free(o.callback_port);
                    ports.push(PortHealth {
                        port: o.callback_port,
                        systems: vec![p.name.clone()],
                        free,
                        holder: if free {
                            None
                        } else {
                            crate::port::holder(o.callback_port)
                        },
                    });
                }
            }
        }
        Report {
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            os: os(),
            keychain,
            network: network(connections.catalog()),
            ports,
            connections: connections
                .list()
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|status| {
                    let catalog = connections.catalog();
                    let checklist = catalog
                        .provider(&status.record.provider)
                        .map(|p| {
                            Checklist::for_connection(catalog, p, &status.record)
                                .items()
                                .to_vec()
                        })
                        .unwrap_or_default();
                    ConnectionReport { status, checklist }
                })
                .collect(),
            recent_problems: crate::logging::recent_problems(
                &connections.settings().paths().log_dir,
                RECENT_PROBLEMS,
            ),
            recent_checks: crate::history::History::new(connections.settings().paths())
                .last(RECENT_CHECKS),
        }
    }

    /// Plain text for pasting into an email to support.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "Patchbay support report\nversion: {}\nos: {}\nkeychain: {}\nnetwork: {}\n",
            self.app_version, self.os, self.keychain, self.network
        ));
        for p in &self.ports {
            out.push_str(&format!(
                "callback port {} ({}): {}\n",
                p.port,
                p.systems.join(", "),
                if p.free {
                    "free".to_string()
                } else {
                    format!(
                        "in use{}",
                        p.holder
                            .as_ref()
                            .map(|h| format!(" by {h}"))
                            .unwrap_or_default()
                    )
                }
            ));
        }
        if self.connections.is_empty() {
            out.push_str("connections: none\n");
        }
        for ConnectionReport {
            status: c,
            checklist,
        } in &self.connections
        {
            let r = &c.record;
            out.push_str(&format!(
                "\n[{}] {} ({}){}\n",
                r.id,
                c.system,
                c.environment_label,
                if r.practice { " practice" } else { "" }
            ));
            out.push_str(&format!("  state: {}\n", c.state.words()));
            if let Some(i) = &r.identity {
                out.push_str(&format!("  connected as: {i}\n"));
            }
            for (k, v) in [
                ("verified_at", r.verified_at),
                ("refreshed_at", r.refreshed_at),
                ("token_expires_at", r.expires_at),
            ] {
                if let Some(v) = v {
                    out.push_str(&format!("  {k}: {}\n", crate::report::timestamp(v)));
                }
            }
            if let Some(n) = &r.needs_reconnect {
                out.push_str(&format!("  needs reconnect: {n}\n"));
            }
            if let Some(e) = &r.last_error {
                out.push_str(&format!(
                    "  last error ({}) at {}: {}\n",
                    e.kind,
                    timestamp(e.at),
                    e.message
                ));
                if let Some(d) = &e.provider_detail {
                    out.push_str(&format!("    vendor said: {d}\n"));
                }
            }
            if let Some(t) = timings(&r.timings) {
                out.push_str(&format!("  timings: {t}\n"));
            }
            if !checklist.is_empty() {
                out.push_str("  checklist:\n");
            }
            for item in checklist.iter().filter(|i| i.shown()) {
                let state = match item.state {
                    ItemState::Ok => "ok",
                    ItemState::Failed => "FAILED",
                    ItemState::Pending | ItemState::Checking => "not checked",
                    ItemState::NotNeeded => "not needed",
                };
                out.push_str(&format!("    [{state}] {}\n", item.title));
                if let Some(p) = &item.problem {
                    out.push_str(&format!("      saw: {}\n      fix: {}\n", p.message, p.fix));
                    if let Some(ask) = &p.support {
                        out.push_str(&format!("      ask: {ask}\n"));
                    }
                }
            }
        }
        if !self.recent_checks.is_empty() {
            out.push_str("\nRecent checks (newest first):\n");
            for e in &self.recent_checks {
                let outcome = match (e.ok, e.kind) {
                    (true, _) if e.refreshed => "renewed, works".to_string(),
                    (true, _) => "works".to_string(),
                    (false, Some(kind)) => kind.to_string(),
                    (false, None) => "failed".to_string(),
                };
                out.push_str(&format!(
                    "  {} {} {} ({}): {outcome}{}\n",
                    timestamp(e.at),
                    e.trigger.words(),
                    e.system,
                    e.environment,
                    e.message
                        .as_ref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ));
            }
        }
        if !self.recent_problems.is_empty() {
            out.push_str("\nrecent problems (newest last, from the logs):\n");
            for p in &self.recent_problems {
                out.push_str(&format!("  {p}\n"));
            }
        }
        out
    }
}

/// "connect 4.2 s, token call 120 ms, verify call 85 ms", or `None` when nothing was timed.
fn timings(t: &Timings) -> Option<String> {
    let parts: Vec<String> = [
        ("connect", t.connect_ms),
        ("token call", t.token_ms),
        ("verify call", t.verify_ms),
    ]
    .into_iter()
    .filter_map(|(what, ms)| {
        ms.map(|ms| match ms {
            0..1000 => format!("{what} {ms} ms"),
            _ => format!("{what} {:.1} s", ms as f64 / 1000.0),
        })
    })
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The report's keychain line: "ok (where)" when the start-up check passed, else why not.
pub fn keychain_health(location: &str, problem: Option<&str>) -> String {
    match problem {
        None => format!("ok ({location})"),
        Some(why) => format!("unavailable: {why}"),
    }
}

/// The OS name and version, and the processor ("Debian 12.0.0 (bookworm) [64-bit] (x86_64)").
pub fn os() -> String {
    format!("{} ({})", os_info::get(), std::env::consts::ARCH)
}

/// Today's date in UTC (`2026-11-29`), for the names of saved files.
pub fn today() -> String {
    timestamp(crate::oauth::now()).chars().take(10).collect()
}

/// RFC 3339 in UTC.
pub fn timestamp(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}
