//! The support report: what a support person needs, and never a secret. It is built only from
//! non-secret sources (settings, catalog, health checks), so there is nothing to redact; the
//! tests prove it with sentinel secrets.

use crate::connections::{ConnectionStatus, Connections};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Report {
    pub app_version: String,
    pub os: String,
    pub keychain: String,
    pub ports: Vec<PortHealth>,
    pub connections: Vec<ConnectionStatus>,
    /// The newest warnings and errors from the log files (see `logging::recent_problems`).
    pub recent_problems: Vec<String>,
}

/// How many log problems the report carries.
const RECENT_PROBLEMS: usize = 20;

#[derive(Debug, Serialize)]
pub struct PortHealth {
    pub port: u16,
    pub systems: Vec<String>,
    pub free: bool,
    pub holder: Option<String>,
}

impl Report {
    /// Gather the report. `keychain` is the start-up health check's outcome in words.
    pub async fn gather(connections: &Connections, keychain: String) -> Report {
        let mut ports: Vec<PortHealth> = Vec::new();
        for p in connections.catalog().providers() {
            let Some(o) = &p.oauth else { continue };
            match ports.iter_mut().find(|h| h.port == o.callback_port) {
                Some(h) => h.systems.push(p.name.clone()),
                None => {
                    let free = std::net::TcpListener::bind(("127.0.0.1", o.callback_port)).is_ok();
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
            os: format!("{} ({})", os_info::get(), std::env::consts::ARCH),
            keychain,
            ports,
            connections: connections.list().await.unwrap_or_default(),
            recent_problems: crate::logging::recent_problems(
                &connections.settings().paths().log_dir,
                RECENT_PROBLEMS,
            ),
        }
    }

    /// Plain text for pasting into an email to support.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "Patchbay support report\nversion: {}\nos: {}\nkeychain: {}\n",
            self.app_version, self.os, self.keychain
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
        for c in &self.connections {
            let r = &c.record;
            out.push_str(&format!(
                "\n[{}] {} ({}){}\n",
                r.id,
                c.system,
                c.environment_label,
                if r.practice { " practice" } else { "" }
            ));
            out.push_str(&format!("  state: {:?}\n", c.state));
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
