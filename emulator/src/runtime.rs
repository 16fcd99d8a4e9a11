//! Volatile per-process state: injected faults, request statistics, rate-limit windows and
//! in-flight counters. None of it goes to the state file.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a request is, for statistics and fault matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Authorize,
    /// The consent page's Allow/Deny post (matched by faults as "authorize", not counted).
    Decision,
    Token,
    Refresh,
    Revoke,
    Api,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultEndpoint {
    Authorize,
    Token,
    Refresh,
    Revoke,
    Api,
    Any,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultKind {
    #[serde(rename = "status_500")]
    Status500,
    #[serde(rename = "status_502")]
    Status502,
    #[serde(rename = "status_503")]
    Status503,
    Slow,
    MalformedJson,
    HtmlBody,
    RateLimit,
    InvalidGrant,
    /// The client credentials are refused (the secret was changed or the app deleted).
    InvalidClient,
    /// The grant was revoked at the vendor: API calls are 401, refreshes `invalid_grant`.
    Revoked,
    PaymentRequired,
    Reset,
    DenyConsent,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Fault {
    #[serde(default)]
    pub id: u64,
    /// A provider id, or "any".
    pub provider: String,
    pub endpoint: FaultEndpoint,
    pub fault: FaultKind,
    /// Remaining uses; `None` until cleared.
    pub count: Option<u32>,
    pub delay_ms: Option<u64>,
    pub retry_after: Option<u64>,
    /// Status for `html_body` (default 502; 200 is the other useful value).
    pub status: Option<u16>,
}

impl Fault {
    fn matches(&self, provider: &str, ep: Endpoint) -> bool {
        if self.provider != "any" && self.provider != provider {
            return false;
        }
        let ep_ok = match self.endpoint {
            FaultEndpoint::Any => true,
            FaultEndpoint::Authorize => matches!(ep, Endpoint::Authorize | Endpoint::Decision),
            FaultEndpoint::Token => ep == Endpoint::Token,
            FaultEndpoint::Refresh => ep == Endpoint::Refresh,
            FaultEndpoint::Revoke => ep == Endpoint::Revoke,
            FaultEndpoint::Api => ep == Endpoint::Api,
        };
        let kind_ok = match self.fault {
            FaultKind::DenyConsent => ep == Endpoint::Decision,
            FaultKind::InvalidGrant => matches!(ep, Endpoint::Token | Endpoint::Refresh),
            FaultKind::PaymentRequired => ep == Endpoint::Api && provider == crate::state::QBT,
            _ => ep != Endpoint::Decision,
        };
        ep_ok && kind_ok
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Stats {
    pub authorize: u64,
    pub token: u64,
    pub refresh: u64,
    pub revoke: u64,
    pub api: u64,
    pub rate_limited: u64,
}

#[derive(Debug, Default)]
struct Inner {
    faults: Vec<Fault>,
    next_fault_id: u64,
    stats: BTreeMap<String, Stats>,
    windows: HashMap<String, (Instant, u32)>,
    inflight: HashMap<String, u32>,
}

#[derive(Debug, Default)]
pub(crate) struct Runtime {
    inner: Mutex<Inner>,
}

impl Runtime {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add_fault(&self, mut f: Fault) -> Fault {
        let mut i = self.lock();
        i.next_fault_id += 1;
        f.id = i.next_fault_id;
        i.faults.push(f.clone());
        f
    }

    pub(crate) fn faults(&self) -> Vec<Fault> {
        self.lock().faults.clone()
    }

    pub(crate) fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Takes (uses once) the first fault that applies to this request.
    pub(crate) fn take_fault(&self, provider: &str, ep: Endpoint) -> Option<Fault> {
        let mut i = self.lock();
        let pos = i
            .faults
            .iter()
            .position(|f| f.matches(provider, ep) && f.count != Some(0))?;
        let f = i.faults[pos].clone();
        if let Some(n) = i.faults[pos].count {
            if n <= 1 {
                i.faults.remove(pos);
            } else {
                i.faults[pos].count = Some(n - 1);
            }
        }
        Some(f)
    }

    pub(crate) fn count(&self, provider: &str, ep: Endpoint) {
        let mut i = self.lock();
        let s = i.stats.entry(provider.to_string()).or_default();
        match ep {
            Endpoint::Authorize => s.authorize += 1,
            Endpoint::Decision => {}
            Endpoint::Token => s.token += 1,
            Endpoint::Refresh => s.refresh += 1,
            Endpoint::Revoke => s.revoke += 1,
            Endpoint::Api => s.api += 1,
        }
    }

    pub(crate) fn count_rate_limited(&self, provider: &str) {
        self.lock()
            .stats
            .entry(provider.to_string())
            .or_default()
            .rate_limited += 1;
    }

    pub(crate) fn stats(&self) -> BTreeMap<String, Stats> {
        let mut out = self.lock().stats.clone();
        for p in crate::state::PROVIDERS {
            out.entry(p.to_string()).or_default();
        }
        out
    }

    pub(crate) fn reset_stats(&self) {
        self.lock().stats.clear();
    }

    /// Fixed-window limiter: `true` when this call is allowed. Refused calls do not count.
    pub(crate) fn allow(&self, key: &str, limit: u32, window_secs: u64) -> bool {
        let mut i = self.lock();
        let now = Instant::now();
        let window = Duration::from_secs(window_secs);
        let entry = i.windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            return false;
        }
        entry.1 += 1;
        true
    }

    pub(crate) fn reset_windows(&self) {
        self.lock().windows.clear();
    }
}

/// Holds one in-flight slot; released on drop.
#[derive(Debug)]
pub(crate) struct InFlight {
    rt: Arc<Runtime>,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut i = self.rt.lock();
        if let Some(n) = i.inflight.get_mut(&self.key) {
            *n = n.saturating_sub(1);
        }
    }
}

/// Takes an in-flight slot under `key`, or `None` when `max` are already taken.
pub(crate) fn enter(rt: &Arc<Runtime>, key: &str, max: u32) -> Option<InFlight> {
    let mut i = rt.lock();
    let n = i.inflight.entry(key.to_string()).or_insert(0);
    if *n >= max {
        return None;
    }
    *n += 1;
    Some(InFlight {
        rt: Arc::clone(rt),
        key: key.to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A fault needs its provider, endpoint and kind; the other members may be left out.
    #[test]
    fn fault_members_required_and_optional() {
        let f: Fault =
            serde_json::from_str(r#"{"provider": "any", "endpoint": "api", "fault": "slow"}"#)
                .unwrap();
        assert_eq!(
            (f.id, f.count, f.delay_ms, f.retry_after, f.status),
            (0, None, None, None, None)
        );
        assert!(
            serde_json::from_str::<Fault>(r#"{"provider": "any", "endpoint": "api"}"#).is_err()
        );
    }
}
