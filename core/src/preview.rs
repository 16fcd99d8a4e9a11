//! Preview import: fetch each list the catalog names, the vendor's own way (page/limit with
//! `more`, OData `$top/$skip`, or `STARTPOSITION/MAXRESULTS`), page by page, so memory stays flat
//! however large the account. Rows stream to CSV files when asked; only a small sample is kept.
//!
//! Within the vendor's rate limit (paced ahead of time; a 429 is waited out using `Retry-After`
//! and shown as a "waiting" event, never an error), a dropped connection is retried from the page
//! it was on, an expired token is refreshed once, and Cancel stops between requests.

use crate::catalog::{
    CountSpec, EnvironmentSpec, PreviewList, PreviewSpec, ProviderSpec, RateLimit,
};
use crate::connections::{Connections, PreviewTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Route, api_error, retry_after};
use crate::verify::fill_path;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

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

/// The `{days_ago:N}` placeholder as an ISO date (UTC).
fn fill_value(v: &str) -> String {
    if let Some(n) = v
        .strip_prefix("{days_ago:")
        .and_then(|r| r.strip_suffix('}'))
        .and_then(|n| n.parse::<i64>().ok())
    {
        let day = time::OffsetDateTime::now_utc() - time::Duration::days(n);
        return format!(
            "{:04}-{:02}-{:02}",
            day.year(),
            u8::from(day.month()),
            day.day()
        );
    }
    v.to_string()
}

/// A paging template with this page's numbers and the list's entity filled in.
fn fill_page(template: &str, list: &PreviewList, size: u32, page: u32) -> String {
    let offset = u64::from(page) * u64::from(size);
    template
        .replace("{page}", &(u64::from(page) + 1).to_string())
        .replace("{offset}", &offset.to_string())
        .replace("{start}", &(offset + 1).to_string())
        .replace("{size}", &size.to_string())
        .replace("{entity}", list.entity.as_deref().unwrap_or(""))
}

/// The address of one page of a list (or, with `count`, of its count request), as the catalog's
/// paging describes it.
fn page_url(
    (env, route): (&EnvironmentSpec, &Route),
    spec: &PreviewSpec,
    list: &PreviewList,
    params: &BTreeMap<String, String>,
    page: u32,
    count: Option<&CountSpec>,
) -> Result<url::Url> {
    let paging = &spec.paging;
    let path = match (&list.entity, &paging.path) {
        (Some(_), Some(query_path)) if list.path.is_empty() => query_path.as_str(),
        _ => list.path.as_str(),
    };
    let template = match (count, list.single) {
        (Some(c), _) => &c.query,
        (None, true) => &BTreeMap::new(),
        (None, false) => &paging.query,
    };
    let mut query: Vec<(String, String)> = template
        .iter()
        .map(|(k, v)| (k.clone(), fill_page(v, list, spec.page_size, page)))
        .collect();
    query.extend(list.query.iter().map(|(k, v)| (k.clone(), fill_value(v))));
    let mut url = crate::endpoint::api_url(env, route, &fill_path(path, params)?)?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
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

/// The items of one page: an array, an object keyed by id, or one object; an OData `value`
/// envelope is unwrapped.
fn items<'a>(json: &'a serde_json::Value, path: &str) -> Vec<&'a serde_json::Value> {
    let mut cur = json;
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        match cur.get(seg) {
            Some(v) => cur = v,
            None => return Vec::new(), // QuickBooks Online omits the entity key when empty
        }
    }
    match cur {
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Object(o)
            if path.is_empty() && o.get("value").is_some_and(|v| v.is_array()) =>
        {
            o["value"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default()
        }
        serde_json::Value::Object(o)
            if o.values().all(|v| v.is_object())
                && !o.is_empty()
                && !path.is_empty()
                && !is_record(o) =>
        {
            o.values().collect()
        }
        v @ serde_json::Value::Object(_) => vec![v],
        _ => Vec::new(),
    }
}

/// A record has scalar fields; a keyed collection has only objects as values.
fn is_record(o: &serde_json::Map<String, serde_json::Value>) -> bool {
    o.values().any(|v| !v.is_object())
}

/// The value at a dot path (`PrimaryEmailAddr.Address`), if the item has it.
fn value_at<'a>(item: &'a serde_json::Value, column: &str) -> Option<&'a serde_json::Value> {
    column.split('.').try_fold(item, |cur, seg| cur.get(seg))
}

/// A value as a table cell: text as it is, nothing for null or missing, JSON otherwise.
fn text_of(value: Option<&serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::String(s)) => s.clone(),
        None | Some(serde_json::Value::Null) => String::new(),
        Some(v) => v.to_string(),
    }
}

/// A cell as written to a CSV file an admin opens in a spreadsheet: a text that Excel (or
/// LibreOffice, Google Sheets) would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`, a tab or
/// carriage return first, or their full-width forms) gets a leading `'`, which shows it as text
/// (OWASP "CSV injection"). Numbers, including negative ones, stay numbers.
pub fn spreadsheet_safe(text: String) -> String {
    let risky = text.chars().next().is_some_and(|c| {
        matches!(
            c,
            '=' | '+' | '-' | '@' | '\t' | '\r' | '＝' | '＋' | '－' | '＠'
        )
    });
    let number = text.trim().parse::<f64>().is_ok_and(f64::is_finite);
    if risky && !number {
        format!("'{text}")
    } else {
        text
    }
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
        crate::settings::private_dir(dir).map_err(|e| export_error(dir, e))?;
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
                // Readable by this user only; a UTF-8 byte order mark first, so Excel reads
                // accented names right.
                let mut file =
                    crate::settings::private_file(&path).map_err(|e| export_error(&path, e))?;
                std::io::Write::write_all(&mut file, "\u{FEFF}".as_bytes())
                    .map_err(|e| export_error(&path, e))?;
                let mut w = csv::Writer::from_writer(file);
                w.write_record(&list.columns)
                    .map_err(|e| export_error(&path, std::io::Error::other(e)))?;
                Some((w, path))
            }
            None => None,
        };
        // The total, where the vendor can say it cheaply (a count query).
        let total = match paging.count.as_ref().filter(|_| !list.single) {
            Some(count) => {
                let url = page_url((&env, &route), &spec, list, &params, 0, Some(count))?;
                match fetch(&http, &p, url, &token).await {
                    Fetched::Json(j) => j
                        .pointer(&format!("/{}", count.total.replace('.', "/")))
                        .and_then(|v| v.as_u64()),
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
                        if let Some((w, path)) = writer.as_mut() {
                            // Text cells only: a JSON number is never a formula.
                            let safe = values.iter().zip(&record).map(|(v, text)| {
                                if v.is_some_and(serde_json::Value::is_string) {
                                    spreadsheet_safe(text.clone())
                                } else {
                                    text.clone()
                                }
                            });
                            w.write_record(safe)
                                .map_err(|e| export_error(path, std::io::Error::other(e)))?;
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
                        Some(flag) => json
                            .pointer(&format!("/{}", flag.replace('.', "/")))
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
        let csv = match writer {
            Some((mut w, path)) => {
                w.flush().map_err(|e| export_error(&path, e))?;
                Some(path)
            }
            None => None,
        };
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

/// Copy the CSV files of a finished preview (staged in `from`) into the folder the admin chose,
/// each named `<list file> <day>.csv`; a file that is already there is never overwritten (the
/// copy gets " (2)", " (3)"…). Returns the files written, in name order.
pub fn save_export(from: &Path, to: &Path, day: &str) -> Result<Vec<PathBuf>> {
    let mut staged: Vec<PathBuf> = std::fs::read_dir(from)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "csv"))
                .collect()
        })
        .unwrap_or_default();
    staged.sort();
    if staged.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "There is nothing to save yet: run the preview first.",
        ));
    }
    let mut written = Vec::new();
    for file in staged {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = (1..)
            .map(|n| match n {
                1 => to.join(format!("{stem} {day}.csv")),
                n => to.join(format!("{stem} {day} ({n}).csv")),
            })
            .find(|t| !t.exists())
            .unwrap_or_else(|| to.join(format!("{stem} {day}.csv")));
        std::fs::copy(&file, &target).map_err(|e| export_error(to, e))?;
        written.push(target);
    }
    Ok(written)
}

fn export_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Storage,
        format!(
            "Patchbay could not write {}. Choose a folder you can write to.",
            path.display()
        ),
    )
    .with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_come_from_arrays_keyed_objects_envelopes_and_single_objects() {
        let keyed = json!({"results": {"users": {"1": {"id": 1}, "2": {"id": 2}}}, "more": false});
        assert_eq!(items(&keyed, "results.users").len(), 2);
        let array = json!([{"ContactID": 1}, {"ContactID": 2}, {"ContactID": 3}]);
        assert_eq!(items(&array, "").len(), 3);
        let envelope = json!({"value": [{"a": 1}], "@odata.count": 1});
        assert_eq!(items(&envelope, "").len(), 1);
        let qbo_empty = json!({"QueryResponse": {}, "time": "x"});
        assert!(items(&qbo_empty, "QueryResponse.Customer").is_empty());
        let single = json!({"CompanyInfo": {"CompanyName": "Larry's Bakery", "Country": "US"}});
        assert_eq!(items(&single, "CompanyInfo").len(), 1);
    }

    #[test]
    fn exported_cells_never_run_as_formulas_and_open_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1 555 0100", "'+1 555 0100"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("＝1+1", "'＝1+1"),
            ("-12.5", "-12.5"),
            ("Crème brûlée Ltd", "Crème brûlée Ltd"),
        ];
        let path = dir.path().join("t.csv");
        let mut file = crate::settings::private_file(&path).unwrap();
        std::io::Write::write_all(&mut file, "\u{FEFF}".as_bytes()).unwrap();
        let mut w = csv::Writer::from_writer(file);
        for (raw, _) in cases {
            w.write_record([spreadsheet_safe(raw.to_string())]).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
            "UTF-8 BOM for Excel"
        );
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&bytes[3..]);
        let back: Vec<String> = r.records().map(|rec| rec.unwrap()[0].to_string()).collect();
        let want: Vec<String> = cases.iter().map(|(_, w)| w.to_string()).collect();
        assert_eq!(back, want);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "this user only");
        }
        let item = json!({"Name": "=1+1", "Balance": -3, "Addr": {"City": "@x"}});
        let is_text = |c: &str| value_at(&item, c).is_some_and(serde_json::Value::is_string);
        assert!(is_text("Name") && is_text("Addr.City"));
        assert!(!is_text("Balance") && !is_text("Missing"));
    }

    #[test]
    fn cells_follow_dot_paths() {
        let cell = |item: &serde_json::Value, column: &str| text_of(value_at(item, column));
        let c = json!({"Id": "7", "PrimaryEmailAddr": {"Address": "a@b.c"}, "Active": true, "Balance": 1.5, "X": null});
        assert_eq!(cell(&c, "Id"), "7");
        assert_eq!(cell(&c, "PrimaryEmailAddr.Address"), "a@b.c");
        assert_eq!(cell(&c, "Active"), "true");
        assert_eq!(cell(&c, "Balance"), "1.5");
        assert_eq!(cell(&c, "X"), "");
        assert_eq!(cell(&c, "Missing.Path"), "");
    }

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

    #[test]
    fn saving_an_export_never_overwrites_and_needs_a_preview_first() {
        let (staged, chosen) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let err = save_export(staged.path(), chosen.path(), "2026-11-24").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.message().contains("run the preview first"),
            "{}",
            err.message()
        );

        std::fs::write(staged.path().join("aspire-contacts.csv"), "a\n1\n").unwrap();
        std::fs::write(staged.path().join("aspire-properties.csv"), "b\n2\n").unwrap();
        std::fs::write(staged.path().join("notes.txt"), "not a list").unwrap();
        let first = save_export(staged.path(), chosen.path(), "2026-11-24").unwrap();
        let names = |v: &[PathBuf]| -> Vec<String> {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(&first),
            [
                "aspire-contacts 2026-11-24.csv",
                "aspire-properties 2026-11-24.csv"
            ]
        );
        std::fs::write(&first[0], "the admin's edits").unwrap();
        let second = save_export(staged.path(), chosen.path(), "2026-11-24").unwrap();
        assert_eq!(
            names(&second),
            [
                "aspire-contacts 2026-11-24 (2).csv",
                "aspire-properties 2026-11-24 (2).csv"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(&first[0]).unwrap(),
            "the admin's edits"
        );
        assert_eq!(std::fs::read_to_string(&second[0]).unwrap(), "a\n1\n");
    }

    #[test]
    fn days_ago_becomes_a_date() {
        let v = fill_value("{days_ago:0}");
        let today = time::OffsetDateTime::now_utc();
        assert_eq!(
            v,
            format!(
                "{:04}-{:02}-{:02}",
                today.year(),
                u8::from(today.month()),
                today.day()
            )
        );
        assert_eq!(fill_value("both"), "both");
    }
}
