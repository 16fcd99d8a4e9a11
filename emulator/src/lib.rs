//! Local emulators of the QuickBooks Time, Aspire and QuickBooks Online HTTP APIs, written from
//! `shared/reference/providers.md` alone (no code shared with the client crates).
//!
//! One port serves every vendor: a real URL `https://HOST/PATH?Q` is requested as
//! `{base_url}/HOST/PATH?Q`. `/_emulator/...` is the admin API and the "vendor console".

#![recursion_limit = "256"]

mod admin;
mod aspire;
mod clock;
mod data;
mod faults;
mod http;
mod oauth;
mod odata;
mod qbo;
mod qbt;
mod relay;
mod runtime;
mod state;
mod text;
mod tokens;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use runtime::{Endpoint, FaultKind, Runtime};
use serde::{Deserialize, Serialize};
use state::{ASPIRE, App, QBO, QBT, Store};
use std::convert::Infallible;
use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// How the emulator starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmulatorConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Register the practice apps (deterministic credentials, see [`Emulator::practice_apps`]).
    pub seed_practice_apps: bool,
    pub scale: DataScale,
    /// Load state from this file at start (if it exists) and save it after every change, so
    /// separate processes agree on apps and issued tokens.
    pub state_file: Option<PathBuf>,
    /// Where the hosted relay page forwards the vendor's answer (its `patchbay-callback` meta
    /// tag, which a distributor edits when Patchbay's callback port is not the default).
    pub relay_callback: String,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            seed_practice_apps: true,
            scale: DataScale::small(),
            state_file: None,
            relay_callback: relay::SHIPPED_CALLBACK.to_string(),
        }
    }
}

/// How many records the generated (deterministic) data has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataScale {
    pub tsheets_users: usize,
    pub tsheets_jobcodes: usize,
    pub tsheets_timesheets: usize,
    pub aspire_contacts: usize,
    pub aspire_properties: usize,
    pub aspire_work_tickets: usize,
    pub qbo_customers: usize,
    pub qbo_vendors: usize,
    pub qbo_accounts: usize,
    pub qbo_items: usize,
}

impl DataScale {
    /// A few dozen of each: fits in one page everywhere except with small page sizes.
    pub fn small() -> Self {
        DataScale {
            tsheets_users: 24,
            tsheets_jobcodes: 30,
            tsheets_timesheets: 60,
            aspire_contacts: 40,
            aspire_properties: 30,
            aspire_work_tickets: 50,
            qbo_customers: 40,
            qbo_vendors: 20,
            qbo_accounts: 30,
            qbo_items: 25,
        }
    }

    /// Several pages at every vendor's maximum page size.
    pub fn large() -> Self {
        DataScale {
            tsheets_users: 450,
            tsheets_jobcodes: 600,
            tsheets_timesheets: 5000,
            aspire_contacts: 2500,
            aspire_properties: 1500,
            aspire_work_tickets: 4000,
            qbo_customers: 2500,
            qbo_vendors: 800,
            qbo_accounts: 300,
            qbo_items: 1200,
        }
    }
}

impl DataScale {
    /// Every count multiplied by `n` (benchmarks: 10x the large data set).
    pub fn times(&self, n: usize) -> Self {
        DataScale {
            tsheets_users: self.tsheets_users * n,
            tsheets_jobcodes: self.tsheets_jobcodes * n,
            tsheets_timesheets: self.tsheets_timesheets * n,
            aspire_contacts: self.aspire_contacts * n,
            aspire_properties: self.aspire_properties * n,
            aspire_work_tickets: self.aspire_work_tickets * n,
            qbo_customers: self.qbo_customers * n,
            qbo_vendors: self.qbo_vendors * n,
            qbo_accounts: self.qbo_accounts * n,
            qbo_items: self.qbo_items * n,
        }
    }
}

impl Default for DataScale {
    fn default() -> Self {
        DataScale::small()
    }
}

/// One registered app (client) at a vendor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    /// "quickbooks-time", "aspire" or "quickbooks-online".
    pub provider: String,
    /// "production" or "sandbox" (QuickBooks Time has only "production").
    pub environment: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    /// Aspire: the endpoints chosen under Scope for this API key (reference 2.2: "Select the
    /// endpoints that you want to provide access to"); `None` is "Select All".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
}

fn practice_app(
    provider: &str,
    environment: &str,
    id: &str,
    secret: &str,
    uris: &[&str],
) -> AppInfo {
    AppInfo {
        provider: provider.to_string(),
        environment: environment.to_string(),
        client_id: id.to_string(),
        client_secret: secret.to_string(),
        redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
        scope: None,
    }
}

/// Where practice mode's relay is hosted: the emulator plays the distributor's https site.
pub const PRACTICE_RELAY_URL: &str = "https://relay.patchbay.test/patchbay/";

/// Practice mode's distribution settings, in the format of a distributor's `distribution.toml`:
/// the emulator plays a distributor who owns the QuickBooks Online apps (the guide's world: the
/// admin never visits a developer portal) and hosts the relay Intuit production needs.
pub const PRACTICE_DISTRIBUTION: &str = r#"# Practice mode: the emulator's own QuickBooks Online apps and relay.
[[system]]
provider = "quickbooks-online"
environment = "production"
client_id = "practice-qbo-prod-client"
client_secret = "practice-qbo-prod-secret"
relay_url = "https://relay.patchbay.test/patchbay/"

[[system]]
provider = "quickbooks-online"
environment = "sandbox"
client_id = "practice-qbo-dev-client"
client_secret = "practice-qbo-dev-secret"
"#;

/// The practice apps, with fixed credentials so documentation can print them.
pub fn practice_apps() -> Vec<AppInfo> {
    vec![
        practice_app(
            QBT,
            "production",
            "practice-qbt-client",
            "practice-qbt-secret-0000000000000",
            &[
                "http://localhost:8765/callback",
                "http://127.0.0.1:8765/callback",
            ],
        ),
        practice_app(
            ASPIRE,
            "production",
            "3f2a91c6-0000-4000-8000-6d5e8a2b7c34",
            "7hLpQ2x9Vb4Nc8Rt1Yw5Kz3Md6Fj0nHa",
            &[],
        ),
        practice_app(
            ASPIRE,
            "sandbox",
            "9b1d2e3f-0000-4000-8000-1a2b3c4d5e6f",
            "S4ndb0xS3cretAAAAbbbbCCCCdddd123",
            &[],
        ),
        practice_app(
            QBO,
            "sandbox",
            "practice-qbo-dev-client",
            "practice-qbo-dev-secret",
            &["http://localhost:8765/callback"],
        ),
        // Intuit refuses localhost for production keys (reference 3.8): the practice relay.
        practice_app(
            QBO,
            "production",
            "practice-qbo-prod-client",
            "practice-qbo-prod-secret",
            &[PRACTICE_RELAY_URL],
        ),
    ]
}

/// Everything a request handler can reach.
#[derive(Debug)]
pub(crate) struct Shared {
    pub store: Store,
    pub rt: Arc<Runtime>,
    pub data: data::Data,
    pub base_url: String,
    /// The hosted relay's forward target (see [`EmulatorConfig::relay_callback`]).
    pub relay_callback: std::sync::Mutex<String>,
}

impl Shared {
    /// Where a browser goes for `url`: an https address of a host this emulator plays (a vendor,
    /// the relay) is served here, as every vendor URL is; anything else is left as it is.
    pub(crate) fn browser_url(&self, url: &str) -> String {
        match url::Url::parse(url) {
            Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(serves) => {
                let mut local = format!(
                    "{}/{}{}",
                    self.base_url,
                    u.host_str().unwrap_or_default(),
                    u.path()
                );
                if let Some(q) = u.query() {
                    local.push('?');
                    local.push_str(q);
                }
                local
            }
            _ => url.to_string(),
        }
    }
}

/// The hosts this emulator plays.
fn serves(host: &str) -> bool {
    host == qbt::HOST
        || host == aspire::PRODUCTION_HOST
        || host == aspire::SANDBOX_HOST
        || qbo::is_host(host)
        || host == relay::HOST
}

/// A running emulator. Dropping it stops it too; [`Emulator::shutdown`] also waits.
pub struct Emulator {
    base_url: String,
    seeded: bool,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds 127.0.0.1 only and starts serving.
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        let store = Store::open(config.state_file.clone())?;
        if config.seed_practice_apps {
            store.write(|s| {
                for info in practice_apps() {
                    if s.app(&info.client_id).is_none() {
                        s.apps.push(App {
                            info,
                            name: "Patchbay".to_string(),
                        });
                    }
                }
            });
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let port = listener.local_addr()?.port();
        let base_url = format!("http://127.0.0.1:{port}");
        let shared = Arc::new(Shared {
            store,
            rt: Arc::new(Runtime::default()),
            data: data::generate(&config.scale),
            base_url: base_url.clone(),
            relay_callback: std::sync::Mutex::new(config.relay_callback.clone()),
        });
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, shared, rx));
        Ok(Emulator {
            base_url,
            seeded: config.seed_practice_apps,
            shutdown: tx,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The seeded practice apps (empty when `seed_practice_apps` was false).
    pub fn practice_apps(&self) -> Vec<AppInfo> {
        if self.seeded {
            practice_apps()
        } else {
            Vec::new()
        }
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

// ---------------------------------------------------------------------------------------------
// Server

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, Arc::clone(&shared), stop.clone()));
                }
                Err(e) => {
                    eprintln!("patchbay-emulator: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}

/// Lets a handler end its connection without an answer (the `reset` fault).
#[derive(Clone, Debug)]
struct ConnCtl {
    kill: Arc<Notify>,
    reset: Arc<AtomicBool>,
}

/// A TCP stream that is closed with RST (zero linger) when the `reset` fault fired.
struct ResetOnDrop {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for ResetOnDrop {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResetOnDrop {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let ctl = ConnCtl {
        kill: Arc::new(Notify::new()),
        reset: Arc::new(AtomicBool::new(false)),
    };
    let io = TokioIo::new(ResetOnDrop {
        stream,
        reset: Arc::clone(&ctl.reset),
    });
    let kill = Arc::clone(&ctl.kill);
    let svc = service_fn(move |req: Request<Incoming>| {
        let shared = Arc::clone(&shared);
        let ctl = ctl.clone();
        async move { Ok::<_, Infallible>(handle(&shared, req, &ctl).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, svc);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = stop.changed() => {}
    }
}

async fn handle(sh: &Shared, req: Request<Incoming>, ctl: &ConnCtl) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, 4 << 20).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return http::text(413, "request body too large or unreadable"),
    };
    let req = http::Req::new(
        parts.method,
        parts.uri.path(),
        parts.uri.query(),
        parts.headers,
        body,
    );
    dispatch(sh, req, ctl).await
}

async fn dispatch(sh: &Shared, req: http::Req, ctl: &ConnCtl) -> http::Resp {
    if req.host == "_emulator" {
        return admin::handle(sh, &req);
    }
    if req.host.is_empty() {
        return http::redirect(302, "/_emulator/");
    }
    if req.host == relay::HOST {
        return relay::handle(sh, &req);
    }
    let (provider, ep) = if req.host == qbt::HOST {
        (QBT, qbt::classify(&req))
    } else if req.host == aspire::PRODUCTION_HOST || req.host == aspire::SANDBOX_HOST {
        (ASPIRE, aspire::classify(&req))
    } else if qbo::is_host(&req.host) {
        (QBO, qbo::classify(&req))
    } else {
        return http::text(
            404,
            &format!("The emulator does not serve host {:?}.", req.host),
        );
    };

    let mut deny = false;
    let mut delay = None;
    if let Some(ep) = ep {
        sh.rt.count(provider, ep);
        if let Some(f) = sh.rt.take_fault(provider, ep) {
            match f.fault {
                FaultKind::Slow => delay = Some(Duration::from_millis(f.delay_ms.unwrap_or(1000))),
                FaultKind::DenyConsent => deny = true,
                FaultKind::Reset => {
                    ctl.reset.store(true, Ordering::SeqCst);
                    ctl.kill.notify_one();
                    return std::future::pending().await;
                }
                _ => return finish(sh, provider, &req, faults::respond(provider, ep, &req, &f)),
            }
        }
    }
    // QuickBooks Online API calls sleep inside their concurrency slot (see qbo::api).
    let qbo_api = provider == QBO && ep == Some(Endpoint::Api);
    if !qbo_api && let Some(d) = delay.take() {
        tokio::time::sleep(d).await;
    }
    let resp = match provider {
        QBT => qbt::handle(sh, &req, deny),
        ASPIRE => aspire::handle(sh, &req),
        _ => qbo::handle(sh, &req, deny, delay).await,
    };
    finish(sh, provider, &req, resp)
}

fn finish(sh: &Shared, provider: &str, req: &http::Req, mut resp: http::Resp) -> http::Resp {
    if resp.status().as_u16() == 429 {
        sh.rt.count_rate_limited(provider);
    }
    // Every token and API response from Intuit carries intuit_tid (reference 3.10).
    if provider == QBO && req.host != qbo::AUTH_HOST {
        http::set_header(&mut resp, "intuit_tid", &qbo::intuit_tid());
    }
    resp
}
