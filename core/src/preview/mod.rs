//! Preview import: fetch each list the catalog names, page by page the vendor's own way as the
//! catalog's paging describes it (`page.rs`), so memory stays flat however large the account. Rows stream to CSV files when asked (`export.rs`); only a small sample is kept.
//!
//! Within the vendor's rate limit (paced ahead of time; a 429 is waited out using `Retry-After`
//! and shown as a "waiting" event, never an error), a dropped connection is retried from the page
//! it was on, an expired token is refreshed once, and Cancel stops between requests.

use crate::catalog::{PreviewSpec, ProviderSpec, RateLimit};
use crate::connections::{Connections, PreviewTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{api_error, retry_after};
use export::CsvFile;
use page::{fill_page, items, page_url, text_of, value_at};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

mod export;
mod page;

pub use export::{save_export, spreadsheet_safe};

/// Progress of a preview, for progress bars.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PreviewEvent {
    Started {
        list: String,
        label: String,
        total: Option<u64>,
    },
    Progress {
        list: String,
        fetched: u64,
        total: Option<u64>,
        pages: u32,
        eta_secs: Option<u64>,
    },
    /// Patchbay waits (rate limit, dropped connection) and goes on by itself.
    Waiting {
        list: String,
        message: String,
        secs: u64,
    },
    Finished {
        list: String,
        count: u64,
    },
}

/// One list's outcome: counts, a small sample, and the CSV file if exported.
#[derive(Debug, Clone, Serialize)]
pub struct ListResult {
    pub id: String,
    pub label: String,
    pub count: u64,
    pub columns: Vec<String>,
    pub sample: Vec<Vec<String>>,
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct PreviewOptions {
    /// Write one CSV per list here.
    pub export_dir: Option<PathBuf>,
    pub sample_rows: usize,
    pub cancel: CancellationToken,
    /// Retries of one page after a dropped connection or a server error.
    pub max_retries: u32,
    /// Fetch only this list (by id).
    pub only: Option<String>,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        PreviewOptions {
            export_dir: None,
            sample_rows: 5,
            cancel: CancellationToken::new(),
            // 1+2+4+8+16+30+30+30 s: rides out about two minutes of a dropped network.
            max_retries: 8,
            only: None,
        }
    }
}

/// Requests per window, paced before sending (a sliding window of send times).
#[derive(Debug)]
struct Pacer {
    limit: Option<RateLimit>,
    sent: VecDeque<Instant>,
}

impl Pacer {
    fn delay(&mut self) -> Duration {
        let Some(l) = self.limit else {
            return Duration::ZERO;
        };
        let window = Duration::from_secs(l.per_secs);
        let now = Instant::now();
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.sent.pop_front();
        }
        if self.sent.len() < l.requests as usize {
            return Duration::ZERO;
        }
        self.sent.front().map_or(Duration::ZERO, |t| {
            window.saturating_sub(now.duration_since(*t))
        })
    }

    fn record(&mut self) {
        self.sent.push_back(Instant::now());
    }
}

/// Read one record from each list, where the catalog asks for it at connect time
/// (`verify.read_each_list`: access chosen per list, like Aspire's Scope). A list the token may
/// not read is a [`ErrorKind::ScopeMissing`] that names it.
pub async fn read_one_of_each(
    ep: &crate::endpoint::Endpoint<'_>,
    token: &SecretString,
    params: &BTreeMap<String, String>,
) -> Result<()> {
    let (http, provider, env, route) = (ep.http, ep.provider, ep.env, ep.route);
    let Some(spec) = provider
        .preview
        .as_ref()
        .filter(|_| provider.verify.read_each_list)
    else {
        return Ok(());
    };
    let one = PreviewSpec {
        page_size: 1,
        ..spec.clone()
    };
    let mut refused = Vec::new();
    for list in &spec.lists {
        let url = page_url((env, route), &one, list, params, 0, None)?;
        match crate::verify::get_json(http, provider, url, token).await {
            Ok(_) => {}
            // 401 or 403 with a token that just read another list: this list is out of scope.
            Err(e) if e.kind() == ErrorKind::Reconnect => refused.push(list.label.clone()),
            Err(e) => return Err(e),
        }
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::ScopeMissing,
        format!(
            "{} accepted the keys but does not share {} with them, so Patchbay cannot use this connection yet.",
            provider.name,
            refused.join(" and ")
        ),
    ))
}

enum Fetched {
    Json(serde_json::Value),
    /// Worth waiting and trying the same page again: a 429 (`error` none, never gives up), or
    /// a dropped connection / server error (`error` kept for when the retries run out).
    Wait {
        secs: u64,
        why: String,
        error: Option<Error>,
    },
    Failed(Error),
    Unauthorized(Error),
}

async fn fetch(
    http: &reqwest::Client,
    provider: &ProviderSpec,
    url: url::Url,
    token: &SecretString,
) -> Fetched {
    let resp = http
        .get(url)
        .bearer_auth(token.expose_secret())
        .header("accept", "application/json")
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return dropped(provider, e),
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return dropped(provider, e),
    };
    match status {
        200 => match serde_json::from_slice(&body) {
            Ok(v) => Fetched::Json(v),
            Err(_) => Fetched::Failed(Error::provider_down(&provider.name, None)),
        },
        429 => Fetched::Wait {
            secs: retry_after(&headers).unwrap_or(0),
            why: format!("{} asked Patchbay to slow down", provider.name),
            error: None,
        },
        401 => Fetched::Unauthorized(api_error(provider, status, &headers, &body)),
        s if s >= 500 => Fetched::Wait {
            secs: 0,
            why: format!("{} had a server error ({s})", provider.name),
            error: Some(api_error(provider, status, &headers, &body)),
        },
        _ => Fetched::Failed(api_error(provider, status, &headers, &body)),
    }
}

fn dropped(provider: &ProviderSpec, e: reqwest::Error) -> Fetched {
    Fetched::Wait {
        secs: 0,
        why: format!("The connection to {} dropped", provider.name),
        error: Some(crate::http::transport_error(&provider.name, e)),
    }
}

/// Run the preview import of a connection.
pub async fn run(
    connections: &Connections,
    id: &str,
    opts: &PreviewOptions,
    events: &(dyn Fn(PreviewEvent) + Send + Sync),
) -> Result<Vec<ListResult>> {
    let PreviewTarget {
        provider: p,
        environment: env,
        route,
        params,
        mut token,
        http,
    } = connections.preview_target(id).await?;
    let spec = p.preview.clone().ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("Patchbay has no preview for {} yet.", p.name),
        )
    })?;
    let mut pacer = Pacer {
        limit: env.rate_limit.or(spec.rate_limit),
        sent: VecDeque::new(),
    };
    if let Some(dir) = &opts.export_dir {
        CsvFile::folder(dir)?;
    }
    let mut results = Vec::new();
    for list in spec
        .lists
        .iter()
        .filter(|l| opts.only.as_ref().is_none_or(|o| *o == l.id))
    {
        let paging = &spec.paging;
        let items_path = match (&paging.items, list.items.is_empty()) {
            (Some(items), true) => fill_page(items, list, spec.page_size, 0),
            _ => list.items.clone(),
        };
        let mut writer = match &opts.export_dir {
            Some(dir) => {
                let path = dir.join(format!("{}-{}.csv", p.id, list.id));
                Some(CsvFile::create(path, &list.columns)?)
            }
            None => None,
        };
        // The total, where the vendor can say it cheaply (a count query).
        let total = match paging.count.as_ref().filter(|_| !list.single) {
            Some(count) => {
                let url = page_url((&env, &route), &spec, list, &params, 0, Some(count))?;
                match fetch(&http, &p, url, &token).await {
                    Fetched::Json(j) => value_at(&j, &count.total).and_then(|v| v.as_u64()),
                    _ => None,
                }
            }
            None => None,
        };
        events(PreviewEvent::Started {
            list: list.id.clone(),
            label: list.label.clone(),
            total,
        });
        let started = Instant::now();
        let (mut page, mut fetched, mut retries, mut refreshed) = (0u32, 0u64, 0u32, false);
        let mut sample = Vec::new();
        loop {
            if opts.cancel.is_cancelled() {
                return Err(Error::new(
                    ErrorKind::Cancelled,
                    "The preview was stopped. Nothing was changed; what was fetched so far is kept in the files already written.",
                ));
            }
            let wait = pacer.delay();
            if !wait.is_zero() {
                let secs = wait.as_secs().max(1);
                events(PreviewEvent::Waiting {
                    list: list.id.clone(),
                    message: format!(
                        "Keeping within {}'s request limit; Patchbay continues in {secs} s",
                        p.name
                    ),
                    secs,
                });
                cancellable_sleep(wait, &opts.cancel).await;
                continue;
            }
            pacer.record();
            let url = page_url((&env, &route), &spec, list, &params, page, None)?;
            match fetch(&http, &p, url, &token).await {
                Fetched::Json(json) => {
                    retries = 0;
                    let rows = items(&json, &items_path);
                    let n = rows.len() as u64;
                    for item in rows {
                        // Cells are only built for the CSV and the first few sample rows.
                        let wanted = writer.is_some() || sample.len() < opts.sample_rows;
                        if !wanted {
                            continue;
                        }
                        let values: Vec<Option<&serde_json::Value>> =
                            list.columns.iter().map(|c| value_at(item, c)).collect();
                        let record: Vec<String> = values.iter().map(|v| text_of(*v)).collect();
                        if let Some(w) = writer.as_mut() {
                            w.row(&values, &record)?;
                        }
                        if sample.len() < opts.sample_rows {
                            sample.push(record);
                        }
                    }
                    fetched += n;
                    page += 1;
                    let eta_secs = total.filter(|t| *t > fetched && fetched > 0).map(|t| {
                        let per_item = started.elapsed().as_secs_f64() / fetched as f64;
                        (per_item * (t - fetched) as f64).ceil() as u64
                    });
                    events(PreviewEvent::Progress {
                        list: list.id.clone(),
                        fetched,
                        total,
                        pages: page,
                        eta_secs,
                    });
                    let more = match &paging.more {
                        _ if list.single => false,
                        Some(flag) => value_at(&json, flag)
                            .and_then(|m| m.as_bool())
                            .unwrap_or(false),
                        None => n == u64::from(spec.page_size),
                    };
                    if !more {
                        break;
                    }
                }
                Fetched::Wait { secs, why, error } => {
                    retries += 1;
                    if let Some(e) = error
                        && retries > opts.max_retries
                    {
                        return Err(Error::new(
                            e.kind(),
                            format!(
                                "{} Patchbay kept trying for about two minutes and had fetched {fetched} of this list. Check this computer's internet connection, then start the preview again.",
                                e.message()
                            ),
                        ));
                    }
                    // Retry-After when given; otherwise back off 1, 2, 4… seconds (at most 30).
                    let secs = if secs > 0 {
                        secs
                    } else {
                        (1u64 << retries.min(5)).min(30)
                    };
                    events(PreviewEvent::Waiting {
                        list: list.id.clone(),
                        message: format!(
                            "{why}; Patchbay waits {secs} s and continues from page {}",
                            page + 1
                        ),
                        secs,
                    });
                    cancellable_sleep(Duration::from_secs(secs), &opts.cancel).await;
                }
                Fetched::Unauthorized(e) if !refreshed => {
                    refreshed = true;
                    token = connections.access_token(id, true).await.map_err(|_| e)?;
                }
                Fetched::Unauthorized(e) | Fetched::Failed(e) => return Err(e),
            }
        }
        let csv = writer.map(CsvFile::finish).transpose()?;
        events(PreviewEvent::Finished {
            list: list.id.clone(),
            count: fetched,
        });
        results.push(ListResult {
            id: list.id.clone(),
            label: list.label.clone(),
            count: fetched,
            columns: list.columns.clone(),
            sample,
            csv,
        });
    }
    Ok(results)
}

async fn cancellable_sleep(d: Duration, cancel: &CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = cancel.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_holds_back_once_the_window_is_full() {
        let mut p = Pacer {
            limit: Some(RateLimit {
                requests: 2,
                per_secs: 60,
            }),
            sent: VecDeque::new(),
        };
        assert!(p.delay().is_zero());
        p.record();
        p.record();
        let d = p.delay();
        assert!(
            d > Duration::from_secs(58) && d <= Duration::from_secs(60),
            "{d:?}"
        );
    }
}
