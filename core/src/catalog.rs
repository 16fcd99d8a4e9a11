//! The catalog: every system Patchbay can connect, as data.
//!
//! The built-in catalog (`core/providers.toml`) is embedded and validated when loaded; an admin
//! may add systems from their own file in the same format (see the README). Nothing outside
//! this module knows a provider by name: mechanisms read what they need from a [`ProviderSpec`].

use crate::endpoint::Mechanism;
use crate::error::{Error, ErrorKind, Result};
use crate::sanitize::Format;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;
use url::Url;

const BUILTIN: &str = include_str!("../providers.toml");

/// The catalog format this Patchbay writes and reads; version 1 files (the mechanism beside an
/// `[provider.oauth]` or `[provider.exchange]` table) are converted when read.
pub const VERSION: i64 = 2;

/// A version 1 catalog in today's form: each provider's `mechanism` and its `oauth` or
/// `exchange` table become one `[provider.auth]` table.
fn from_version_1(text: &str) -> std::result::Result<CatalogFile, String> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let providers = table
        .get_mut("provider")
        .and_then(toml::Value::as_array_mut)
        .map(|a| a.iter_mut().filter_map(toml::Value::as_table_mut));
    for p in providers.into_iter().flatten() {
        let id = p
            .get("id")
            .and_then(toml::Value::as_str)
            .unwrap_or("?")
            .to_string();
        let mechanism = p.remove("mechanism");
        let settings = match mechanism.as_ref().and_then(toml::Value::as_str) {
            Some("authorization_code") if !p.contains_key("exchange") => p.remove("oauth"),
            Some("token_exchange") if !p.contains_key("oauth") => p.remove("exchange"),
            Some(m) => {
                return Err(format!(
                    "{id}: mechanism \"{m}\" needs its own table ([provider.oauth] for authorization_code, [provider.exchange] for token_exchange) and not the other"
                ));
            }
            None => return Err(format!("{id}: no mechanism")),
        };
        let mut auth = match settings {
            Some(toml::Value::Table(t)) => t,
            _ => return Err(format!("{id}: the mechanism's settings table is missing")),
        };
        auth.insert(
            "mechanism".into(),
            mechanism.unwrap_or(toml::Value::Boolean(false)),
        );
        p.insert("auth".into(), toml::Value::Table(auth));
        if let Some(preview) = p.get_mut("preview").and_then(toml::Value::as_table_mut) {
            paging_from_version_1(preview)?;
        }
    }
    table.insert("version".into(), toml::Value::Integer(VERSION));
    CatalogFile::deserialize(table).map_err(|e| e.message().to_string())
}

/// Version 1 named its three paging styles; version 2 describes them as data.
fn paging_from_version_1(preview: &mut toml::Table) -> std::result::Result<(), String> {
    let style = |v: &toml::Value| v.as_str().map(str::to_string);
    let named = preview.get("paging").and_then(style).unwrap_or_default();
    let text = match named.as_str() {
        "page_limit_more" => {
            r#"query = { page = "{page}", limit = "{size}" }
more = "more""#
        }
        "odata_top_skip" => r#"query = { "$top" = "{size}", "$skip" = "{offset}" }"#,
        "qbo_query" => {
            r#"path = "/v3/company/{realmId}/query"
items = "QueryResponse.{entity}"
query = { query = "select * from {entity} STARTPOSITION {start} MAXRESULTS {size}", minorversion = "75" }
count = { query = { query = "select count(*) from {entity}", minorversion = "75" }, total = "QueryResponse.totalCount" }"#
        }
        "single" => "",
        other => return Err(format!("unknown paging \"{other}\"")),
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    preview.insert("paging".into(), toml::Value::Table(table));
    let lists = preview.get_mut("list").and_then(toml::Value::as_array_mut);
    for list in lists
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_table_mut)
    {
        if let Some(v) = list.remove("paging") {
            let single = style(&v).as_deref() == Some("single");
            list.insert("single".into(), toml::Value::Boolean(single));
        }
    }
    Ok(())
}

/// How a system hands out credentials: `[provider.auth]` with `mechanism = "..."`, one variant
/// per mechanism carrying its settings. What a mechanism does is [`Mechanism`]; the variant is
/// matched only in [`Auth::mechanism`] and [`Auth::mechanism_mut`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "mechanism", rename_all = "snake_case")]
pub enum Auth {
    /// OAuth 2 authorization code with a loopback redirect (RFC 6749, 7636, 8252).
    AuthorizationCode(OAuthSpec),
    /// A JSON exchange of client id + secret for a bearer token (Aspire's `/Authorization`).
    TokenExchange(ExchangeSpec),
}

impl Auth {
    /// What this mechanism does (obtain, refresh, revoke; its settings).
    pub fn mechanism(&self) -> &dyn Mechanism {
        match self {
            Auth::AuthorizationCode(o) => o,
            Auth::TokenExchange(x) => x,
        }
    }

    fn mechanism_mut(&mut self) -> &mut dyn Mechanism {
        match self {
            Auth::AuthorizationCode(o) => o,
            Auth::TokenExchange(x) => x,
        }
    }

    /// The browser step's settings, when the mechanism has a browser step.
    pub fn browser(&self) -> Option<&OAuthSpec> {
        self.mechanism().browser()
    }
}

/// How the client authenticates at the token endpoint (RFC 6749 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    RequestBody,
    /// HTTP Basic.
    Basic,
}

/// How a revocation request carries the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RevokeBody {
    /// RFC 7009: `token=...` form body.
    #[default]
    Form,
    /// Intuit: `{"token": "..."}`.
    Json,
}

/// The signals of the core that turn a checklist item ok.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Pasted fields are clean and in the known format.
    FieldsClean,
    /// The callback port could be bound.
    PortFree,
    /// The system browser accepted the URL.
    BrowserOpened,
    /// A valid callback with a code arrived (or was pasted).
    Authorized,
    /// The vendor issued tokens.
    TokenIssued,
    /// The credentials were written to the keychain.
    Stored,
    /// The verify call succeeded.
    Verified,
}

impl Signal {
    /// Every signal, in the order a connect gives them.
    pub const ALL: [Signal; 7] = [
        Signal::FieldsClean,
        Signal::PortFree,
        Signal::BrowserOpened,
        Signal::Authorized,
        Signal::TokenIssued,
        Signal::Verified,
        Signal::Stored,
    ];
    /// The last signal of a connect: the proven credentials are in the keychain.
    pub const LAST: Signal = Signal::Stored;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: u32,
    #[serde(default)]
    common_checklist: Vec<ChecklistItemSpec>,
    #[serde(default, rename = "provider")]
    providers: Vec<ProviderSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub formerly: Option<String>,
    #[serde(default)]
    pub summary: String,
    pub auth: Auth,
    pub default_environment: String,
    #[serde(default)]
    pub guide: String,
    #[serde(default)]
    pub before_you_start: Vec<String>,
    #[serde(default)]
    pub support: SupportSpec,
    #[serde(rename = "environment")]
    pub environments: Vec<EnvironmentSpec>,
    #[serde(rename = "field")]
    pub fields: Vec<FieldSpec>,
    pub verify: VerifySpec,
    #[serde(default, rename = "api_error")]
    pub api_errors: Vec<ApiErrorRule>,
    #[serde(default)]
    pub preview: Option<PreviewSpec>,
    #[serde(default, rename = "mapping")]
    pub mappings: Vec<MappingSpec>,
    #[serde(rename = "step")]
    pub steps: Vec<StepSpec>,
    #[serde(default, rename = "checklist")]
    pub checklist: Vec<ChecklistItemSpec>,
    /// The guide's advice that no signal can check: shown beside the checklist as tips, not
    /// as items with a state.
    #[serde(default)]
    pub tips: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportSpec {
    /// The vendor's own help, in the guide's words.
    #[serde(default)]
    pub vendor_help: String,
    /// The vendor's own help pages (opened from About and help, in the system browser).
    #[serde(default)]
    pub help_url: Option<String>,
    /// The problems `vendor_help` is about (it is shown only with them); by default those on
    /// the vendor's side (API not enabled, keys or redirect refused, the vendor down, access
    /// withdrawn).
    #[serde(default)]
    pub vendor_help_for: Option<Vec<ErrorKind>>,
    /// Response headers carrying the vendor's request id, kept for its support (besides the
    /// standard `x-request-id` and `request-id`).
    #[serde(default)]
    pub request_id_headers: Vec<String>,
    /// Fields of the vendor's error answers kept for support (dot paths; besides OAuth's `error`
    /// and `error_description`). Codes and messages only: never a field that could hold a token.
    #[serde(default)]
    pub error_fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub authorize_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub revoke_url: Option<String>,
    pub api_base: String,
    /// The API's request limit where it differs by environment (overrides the preview's).
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Whether the vendor lets an app register a `http://localhost` redirect here. Where it
    /// refuses (or may refuse), an HTTPS relay from the distribution settings is used instead.
    #[serde(default)]
    pub loopback_redirect: LoopbackRedirect,
}

/// A vendor's rule for loopback redirect URIs in one environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopbackRedirect {
    /// `http://localhost:PORT/...` can be registered (RFC 8252 loopback).
    #[default]
    Allowed,
    /// Only `https` addresses that are not localhost or an IP (Intuit production, reference 3.8).
    Refused,
    /// Not known: a relay is preferred when there is one, and the admin is told what to do if
    /// the vendor refuses to save the loopback address.
    Unconfirmed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSpec {
    pub client_auth: ClientAuth,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default = "yes")]
    pub pkce: bool,
    #[serde(default)]
    pub extra_authorize_params: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub keep_callback_params: Vec<String>,
    #[serde(default = "default_callback_host")]
    pub callback_host: String,
    pub callback_port: u16,
    #[serde(default = "default_callback_path")]
    pub callback_path: String,
    #[serde(default)]
    pub revoke_body: RevokeBody,
    #[serde(default = "default_margin")]
    pub refresh_margin_secs: u64,
    #[serde(default)]
    pub probe_redirect_mismatch: Vec<String>,
    #[serde(default)]
    pub probe_invalid_client: Vec<String>,
    /// The vendor's word for the button that gives access ("Allow", Intuit's "Connect").
    #[serde(default = "default_consent_button")]
    pub consent_button: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSpec {
    pub token_path: String,
    pub refresh_path: String,
    pub client_id_key: String,
    pub secret_key: String,
    pub refresh_token_key: String,
    pub response_token_key: String,
    pub response_refresh_key: String,
    #[serde(default)]
    pub invalid_credentials_statuses: Vec<u16>,
    #[serde(default = "default_margin")]
    pub refresh_margin_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub pattern: Option<String>,
    /// The format in plain words, shown when a value does not match.
    #[serde(default)]
    pub format: String,
    /// The vendor's values may hold spaces inside them (a standard client secret may): only
    /// spaces around the value are removed then.
    #[serde(default)]
    pub inner_spaces: bool,
}

impl FieldSpec {
    /// Clean and check a pasted value for this field.
    pub fn check(&self, raw: &str) -> (crate::sanitize::Cleaned, crate::sanitize::FieldCheck) {
        crate::sanitize::check_keeping(&self.label, raw, self.format().as_ref(), self.inner_spaces)
    }

    pub fn format(&self) -> Option<Format> {
        // Patterns are validated when the catalog loads, so this cannot fail afterwards.
        self.pattern
            .as_deref()
            .and_then(|p| Format::new(p, &self.format).ok())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// Paths under `api_base`, tried in order; `{name}` is a kept callback parameter.
    pub paths: Vec<String>,
    /// Templates over the JSON answer: `{a.b.*.c}` (`*` = first member of an object or array).
    #[serde(default)]
    pub who: String,
    #[serde(default)]
    pub company: String,
    /// Also read one record from each preview list when connecting, where access is chosen
    /// per list (Aspire's Scope): a list the keys cannot read is named before the admin leaves.
    #[serde(default)]
    pub read_each_list: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiErrorRule {
    pub status: u16,
    pub kind: ErrorKind,
}

/// How a vendor pages its lists.
/// How a list is read page by page, as data (`[provider.preview.paging]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// The query parameters of each page request. Filled in: `{page}` (the page's number from
    /// 1), `{offset}` (its first item's position from 0), `{start}` (the same from 1), `{size}`
    /// (the page size) and `{entity}` (the list's entity).
    #[serde(default)]
    pub query: std::collections::BTreeMap<String, String>,
    /// The path of the page requests of a list that names an `entity` instead of a path (a
    /// query endpoint).
    #[serde(default)]
    pub path: Option<String>,
    /// Where the items are in the answer for a list that names an `entity`.
    #[serde(default)]
    pub items: Option<String>,
    /// A true/false in each answer saying whether more pages follow (dot path); without it, a
    /// short page is the last.
    #[serde(default)]
    pub more: Option<String>,
    /// A cheap request for a list's total, where the vendor has one.
    #[serde(default)]
    pub count: Option<CountSpec>,
}

impl Paging {
    /// Whether the page requests name the list's entity (then every paged list needs one).
    pub fn mentions_entity(&self) -> bool {
        let count = self.count.iter().flat_map(|c| c.query.values());
        self.query
            .values()
            .chain(count)
            .chain(self.path.iter())
            .chain(self.items.iter())
            .any(|v| v.contains("{entity}"))
    }
}

/// A request for the number of items in a list: its query parameters (filled in as a page's)
/// and where the number is in the answer (dot path).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountSpec {
    pub query: std::collections::BTreeMap<String, String>,
    pub total: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u32,
    pub per_secs: u64,
}

/// The preview import: which lists to fetch and how the vendor pages them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewSpec {
    /// The one name of the preview, on Home, the Connected screen and the preview's own heading,
    /// in the guide's words where it has them (Aspire's "Start Setup").
    #[serde(default = "default_start_label")]
    pub start_label: String,
    pub paging: Paging,
    pub page_size: u32,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(rename = "list")]
    pub lists: Vec<PreviewList>,
}

fn default_start_label() -> String {
    "See your data".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewList {
    pub id: String,
    pub label: String,
    /// Under `api_base`; `{realmId}` etc. from the kept callback parameters. QuickBooks
    /// Online lists give `entity` instead and use the query endpoint.
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub entity: Option<String>,
    /// One object, read once (no paging).
    #[serde(default)]
    pub single: bool,
    /// Fixed query parameters; `{days_ago:N}` becomes a date.
    #[serde(default)]
    pub query: std::collections::BTreeMap<String, String>,
    /// Where the items are in the answer (dot path); empty = the answer itself. An object
    /// keyed by id counts as a list of its values.
    #[serde(default)]
    pub items: String,
    /// Dot paths of the fields shown in the sample and written to CSV.
    pub columns: Vec<String>,
}

/// A setting the admin chooses from an imported list (QuickBooks Online's account mappings).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub help: String,
    /// The preview list the choices come from.
    pub list: String,
    /// Columns of that list: the stored value and the name shown.
    pub value: String,
    pub name: String,
    /// The default: the first row whose `prefer_column` is in `prefer` (in that order).
    #[serde(default)]
    pub prefer_column: String,
    #[serde(default)]
    pub prefer: Vec<String>,
}

/// What a step screen offers besides the instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    #[default]
    Read,
    CopyCallback,
    Fields,
    Connect,
    /// After connecting: import the settings (the preview lists) with progress, as the
    /// guide's "your settings are being imported" banner.
    Import,
    /// After connecting: the mappings chosen from the imported data, then Save Configuration.
    Mappings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyValue {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub id: String,
    pub title: String,
    pub instructions: Vec<String>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub caution: String,
    #[serde(default)]
    pub action: StepAction,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub copy: Vec<CopyValue>,
    /// A step about the admin's own vendor app (creating it, its redirect, its keys): left out
    /// when the distribution settings supply the app's keys (the admin never sees a developer
    /// portal then).
    #[serde(default)]
    pub own_app_only: bool,
    /// The signal that proves the step was done, where its action's default is not right
    /// (a read-only step about the admin's app is proven by its keys being accepted).
    #[serde(default)]
    pub proven_by: Option<Signal>,
}

impl StepSpec {
    /// The signal that proves this step done, ticking it in the wizard's step list; `None` for
    /// the steps after connecting, proven by their own result (imported, saved).
    pub fn proof(&self) -> Option<Signal> {
        self.proven_by.or(match self.action {
            StepAction::Read => Some(Signal::Verified),
            StepAction::CopyCallback => Some(Signal::Authorized),
            StepAction::Fields => Some(Signal::TokenIssued),
            StepAction::Connect => Some(Signal::Stored),
            StepAction::Import | StepAction::Mappings => None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemSpec {
    pub id: String,
    pub title: String,
    pub passes_on: Signal,
    pub fails_on: Vec<ErrorKind>,
    pub fix: String,
    /// About the admin's own vendor app (its redirect, its keys): not shown when the
    /// distribution settings supply the app, whose setup is not the admin's to fix.
    #[serde(default)]
    pub own_app_only: bool,
    /// Shown only when it fails: a check about Patchbay itself (its files, its own working),
    /// which would only be noise while all is well.
    #[serde(default)]
    pub quiet: bool,
}

fn yes() -> bool {
    true
}
fn default_callback_host() -> String {
    "localhost".into()
}
fn default_callback_path() -> String {
    "/callback".into()
}
fn default_consent_button() -> String {
    "Allow".into()
}
fn default_margin() -> u64 {
    300
}

impl ProviderSpec {
    /// The guide the steps follow, by its title: `guide` without the file it came from
    /// ("How to Connect Aspire (guides/001_….txt)" is "How to Connect Aspire").
    pub fn guide_title(&self) -> &str {
        self.guide
            .split_once(" (")
            .map_or(self.guide.as_str(), |(title, _)| title)
    }

    pub fn environment(&self, id: &str) -> Result<&EnvironmentSpec> {
        self.environments
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| {
                let known: Vec<&str> = self.environments.iter().map(|e| e.id.as_str()).collect();
                Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "{} has no \"{id}\" environment. Choose one of: {}.",
                        self.name,
                        known.join(", ")
                    ),
                )
            })
    }

    /// "Aspire (Sandbox)", or just "QuickBooks Time" when there is one environment.
    pub fn display_name(&self, env: &EnvironmentSpec) -> String {
        if self.environments.len() > 1 {
            format!("{} ({})", self.name, env.label)
        } else {
            self.name.clone()
        }
    }

    pub fn field(&self, id: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// Whether a connection of this system can end with `kind`: the browser step's troubles need
    /// a browser step, "API not enabled" comes only from a vendor answer rule, and one
    /// environment cannot be the wrong one.
    pub fn can_fail_with(&self, kind: ErrorKind) -> bool {
        match kind {
            ErrorKind::RedirectMismatch
            | ErrorKind::BrowserLaunch
            | ErrorKind::Denied
            | ErrorKind::Timeout
            | ErrorKind::Cancelled
            | ErrorKind::PortInUse => self.auth.browser().is_some(),
            ErrorKind::ApiNotEnabled => self.api_errors.iter().any(|r| r.kind == kind),
            ErrorKind::WrongEnvironment => self.environments.len() > 1,
            ErrorKind::NotFound | ErrorKind::Catalog => false,
            _ => true,
        }
    }

    /// The callback URL the admin registers at the vendor and the listener accepts.
    pub fn callback_url(&self) -> Option<String> {
        self.auth.browser().map(|o| {
            format!(
                "http://{}:{}{}",
                o.callback_host, o.callback_port, o.callback_path
            )
        })
    }

    fn validate(&self, common: &[ChecklistItemSpec]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut p = |s: String| problems.push(format!("{}: {s}", self.id));
        // Ids name keychain entries (`system:environment`, `#access`), lock and export files:
        // plain characters only, so two never collide and none makes a strange file name.
        let plain = |id: &str| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        if !plain(&self.id) || self.id.contains('_') {
            p("id must be lower-case letters, digits and dashes".into());
        }
        let ids = self
            .environments
            .iter()
            .map(|e| ("environment", e.id.as_str()))
            .chain(self.fields.iter().map(|f| ("field", f.id.as_str())))
            .chain(self.steps.iter().map(|s| ("step", s.id.as_str())))
            .chain(
                self.preview
                    .iter()
                    .flat_map(|pv| pv.lists.iter().map(|l| ("list", l.id.as_str()))),
            );
        for (what, id) in ids {
            if !plain(id) {
                p(format!(
                    "{what} id \"{id}\" must be lower-case letters, digits, dashes and underscores"
                ));
            }
        }
        if self.name.trim().is_empty() {
            p("name is empty".into());
        }
        if self.environments.is_empty() {
            p("needs at least one environment".into());
        }
        let mut env_ids = HashSet::new();
        for env in &self.environments {
            if !env_ids.insert(env.id.as_str()) {
                p(format!("environment \"{}\" is listed twice", env.id));
            }
            let mut urls = vec![("api_base", Some(&env.api_base))];
            urls.push(("authorize_url", env.authorize_url.as_ref()));
            urls.push(("token_url", env.token_url.as_ref()));
            urls.push(("revoke_url", env.revoke_url.as_ref()));
            for (name, url) in urls {
                if let Some(u) = url
                    && let Err(e) = check_endpoint(u)
                {
                    p(format!("environment {} {name}: {e}", env.id));
                }
            }
            if self.auth.browser().is_some()
                && (env.authorize_url.is_none() || env.token_url.is_none())
            {
                p(format!(
                    "environment {} needs authorize_url and token_url",
                    env.id
                ));
            }
        }
        if !env_ids.contains(self.default_environment.as_str()) {
            p(format!(
                "default_environment \"{}\" is not listed",
                self.default_environment
            ));
        }
        self.auth.mechanism().validate(&mut p);
        for needed in ["client_id", "client_secret"] {
            match self.field(needed) {
                None => p(format!("needs a field with id \"{needed}\"")),
                Some(f) if needed == "client_secret" && !f.secret => {
                    p("the client_secret field must be marked secret = true".into())
                }
                _ => {}
            }
        }
        for f in &self.fields {
            if let Some(pat) = &f.pattern {
                if let Err(e) = regex::Regex::new(pat) {
                    p(format!("field {} pattern does not compile: {e}", f.id));
                }
                if f.format.trim().is_empty() {
                    p(format!(
                        "field {} has a pattern but no format description",
                        f.id
                    ));
                }
            }
        }
        if self.verify.paths.is_empty() {
            p("verify needs at least one path".into());
        }
        for path in &self.verify.paths {
            if !path.starts_with('/') {
                p(format!("verify path {path} must start with /"));
            }
        }
        if self.steps.is_empty() {
            p("needs at least one step".into());
        }
        let mut step_ids = HashSet::new();
        let mut has_connect = false;
        let mut fields_asked = HashSet::new();
        for s in &self.steps {
            if !step_ids.insert(s.id.as_str()) {
                p(format!("step \"{}\" is listed twice", s.id));
            }
            if s.title.trim().is_empty() || s.instructions.is_empty() {
                p(format!("step {} needs a title and instructions", s.id));
            }
            if s.action == StepAction::Connect {
                has_connect = true;
            }
            let after_connect = matches!(s.action, StepAction::Import | StepAction::Mappings);
            if after_connect && !has_connect {
                p(format!("step {} must come after the connect step", s.id));
            }
            if s.action == StepAction::Import && self.preview.is_none() {
                p(format!(
                    "step {} imports, but {} has no [provider.preview]",
                    s.id, self.id
                ));
            }
            if s.action == StepAction::Mappings && self.mappings.is_empty() {
                p(format!(
                    "step {} shows mappings, but {} has none",
                    s.id, self.id
                ));
            }
            if has_connect && !after_connect && s.action != StepAction::Connect {
                p(format!(
                    "step {} comes after the connect step: only import and mappings steps can",
                    s.id
                ));
            }
            if s.action == StepAction::CopyCallback && self.auth.browser().is_none() {
                p(format!(
                    "step {} copies a callback URL but {} has no browser step",
                    s.id, self.id
                ));
            }
            for f in &s.fields {
                if self.field(f).is_none() {
                    p(format!("step {} asks for unknown field {f}", s.id));
                }
                fields_asked.insert(f.as_str());
            }
        }
        if !has_connect {
            p("needs a step with action = \"connect\"".into());
        }
        for f in &self.fields {
            if !fields_asked.contains(f.id.as_str()) {
                p(format!("field {} is never asked for in a step", f.id));
            }
        }
        if let Some(pv) = &self.preview {
            if pv.page_size == 0 || pv.lists.is_empty() {
                p("preview needs a page_size and at least one list".into());
            }
            for l in &pv.lists {
                if l.columns.is_empty() {
                    p(format!("preview list {} needs columns", l.id));
                }
                match &l.entity {
                    Some(e) if !e.chars().all(|c| c.is_ascii_alphanumeric()) => {
                        p(format!("preview list {} entity must be one word", l.id))
                    }
                    Some(_) if pv.paging.path.is_none() && l.path.is_empty() => p(format!(
                        "preview list {} names an entity, so the paging needs a path",
                        l.id
                    )),
                    None if !l.path.starts_with('/') => {
                        p(format!("preview list {} path must start with /", l.id))
                    }
                    None if !l.single && pv.paging.mentions_entity() => {
                        p(format!("preview list {} needs an entity", l.id))
                    }
                    _ => {}
                }
            }
        }
        for m in &self.mappings {
            let list = self
                .preview
                .as_ref()
                .and_then(|pv| pv.lists.iter().find(|l| l.id == m.list));
            match list {
                None => p(format!(
                    "mapping {} uses unknown preview list {}",
                    m.id, m.list
                )),
                Some(l) => {
                    for c in [&m.value, &m.name]
                        .into_iter()
                        .chain((!m.prefer_column.is_empty()).then_some(&m.prefer_column))
                    {
                        if !l.columns.contains(c) {
                            p(format!(
                                "mapping {} needs column {c} in list {}",
                                m.id, l.id
                            ));
                        }
                    }
                }
            }
        }
        let mut item_ids = HashSet::new();
        for item in &self.checklist {
            if !item_ids.insert(item.id.as_str()) {
                p(format!("checklist item \"{}\" is listed twice", item.id));
            }
        }
        for item in self.checklist.iter().chain(common) {
            if item.fails_on.is_empty() || item.fix.trim().is_empty() {
                p(format!(
                    "checklist item {} needs fails_on and a fix",
                    item.id
                ));
            }
        }
        problems
    }
}

/// `https` is required, except for loopback hosts (local test servers, the emulator).
pub fn check_endpoint(raw: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("\"{raw}\" is not a valid URL ({e})"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "\"{raw}\" must use https (http is allowed only for 127.0.0.1/localhost)"
        )),
        other => Err(format!("\"{raw}\" uses unsupported scheme {other}")),
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// All systems Patchbay knows, built-in first, then the admin's own.
#[derive(Debug, Clone)]
pub struct Catalog {
    providers: Vec<ProviderSpec>,
    common: Vec<ChecklistItemSpec>,
}

impl Catalog {
    /// The built-in catalog. Its validity is a test, so failing here is a build defect; it is
    /// still reported as an error rather than a panic.
    pub fn builtin() -> Result<Catalog> {
        Catalog::parse(BUILTIN, "the built-in catalog")
    }

    /// The built-in catalog plus systems from an admin's catalog file.
    pub fn with_file(path: &Path) -> Result<Catalog> {
        Catalog::with_files(&[path.to_path_buf()])
    }

    /// The built-in catalog plus systems from admin catalog files (duplicates are ignored when
    /// the same file is named twice).
    pub fn with_files(paths: &[std::path::PathBuf]) -> Result<Catalog> {
        let mut catalog = Catalog::builtin()?;
        let mut seen = HashSet::new();
        for path in paths {
            if !seen.insert(path.clone()) {
                continue;
            }
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::new(
                    ErrorKind::Catalog,
                    format!("Could not read the catalog file {}.", path.display()),
                )
                .with_source(e)
            })?;
            let extra = Catalog::parse(&text, &path.display().to_string())?;
            for p in extra.providers {
                if catalog.providers.iter().any(|b| b.id == p.id) {
                    return Err(Error::new(
                        ErrorKind::Catalog,
                        format!(
                            "The catalog file {} defines \"{}\", which is already known. Give it another id.",
                            path.display(),
                            p.id
                        ),
                    ));
                }
                catalog.providers.push(p);
            }
        }
        Ok(catalog)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Catalog> {
        let invalid = |e: toml::de::Error| {
            Error::new(
                ErrorKind::Catalog,
                format!("{origin} is not a valid catalog: {}", e.message()),
            )
        };
        let version = toml::from_str::<toml::Table>(text)
            .map_err(invalid)?
            .get("version")
            .and_then(toml::Value::as_integer);
        let file: CatalogFile = match version {
            Some(VERSION) => toml::from_str(text).map_err(invalid)?,
            Some(1) => {
                tracing::info!(%origin, "read a version 1 catalog (converted to version {VERSION} in memory)");
                from_version_1(text).map_err(|e| {
                    Error::new(
                        ErrorKind::Catalog,
                        format!("{origin} (catalog version 1) could not be read: {e}. Version {VERSION} puts each system's sign-in settings in [provider.auth] with its mechanism; see the README."),
                    )
                })?
            }
            other => {
                return Err(Error::new(
                    ErrorKind::Catalog,
                    format!(
                        "{origin} has version {}, this Patchbay reads versions 1 and {VERSION}.",
                        other.map_or("none".to_string(), |v| v.to_string())
                    ),
                ));
            }
        };
        let mut problems = Vec::new();
        let mut ids = HashSet::new();
        for p in &file.providers {
            if !ids.insert(p.id.clone()) {
                problems.push(format!("{}: listed twice", p.id));
            }
            problems.extend(p.validate(&file.common_checklist));
        }
        if !problems.is_empty() {
            return Err(Error::new(
                ErrorKind::Catalog,
                format!("{origin} has problems:\n  - {}", problems.join("\n  - ")),
            ));
        }
        Ok(Catalog {
            providers: file.providers,
            common: file.common_checklist,
        })
    }

    /// Use another fixed callback port for every browser-based system (when the default one is
    /// taken for good on this computer; the admin then registers the URL with this port).
    pub fn set_callback_port(&mut self, port: u16) {
        for p in &mut self.providers {
            p.auth.mechanism_mut().set_callback_port(port);
        }
    }

    pub fn providers(&self) -> &[ProviderSpec] {
        &self.providers
    }

    pub fn provider(&self, id: &str) -> Result<&ProviderSpec> {
        self.providers.iter().find(|p| p.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.providers.iter().map(|p| p.id.as_str()).collect();
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "There is no system called \"{id}\". Known systems: {}.",
                    known.join(", ")
                ),
            )
        })
    }

    /// The common checklist item an error of this kind turns red, if any (for errors outside a
    /// connection attempt, e.g. a dead keychain at start-up).
    pub fn common_item(&self, kind: ErrorKind) -> Option<&ChecklistItemSpec> {
        self.common.iter().find(|c| c.fails_on.contains(&kind))
    }

    /// A provider's checklist: its own items, then the common ones it does not override.
    pub fn checklist(&self, provider: &ProviderSpec) -> Vec<ChecklistItemSpec> {
        let mut items = provider.checklist.clone();
        for c in &self.common {
            // Without a browser step nothing listens for an answer, so the port is not a concern.
            let about_callback = c.passes_on == Signal::PortFree;
            if provider.auth.browser().is_none() && about_callback {
                continue;
            }
            // With one environment there is no wrong one to pick.
            let about_environment = c.fails_on == [ErrorKind::WrongEnvironment];
            if provider.environments.len() < 2 && about_environment {
                continue;
            }
            if !items.iter().any(|i| i.id == c.id) {
                items.push(c.clone());
            }
        }
        items
    }
}

#[cfg(test)]
mod tests {
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
    const MINIMAL: &str = include_str!("../../tests/support/fixtures/catalog.toml");

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
        let readme = include_str!("../../README.md");
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
        let mut text = MINIMAL.replace(
            "label = \"Client ID\"",
            "label = \"Client ID\"\ninner_spaces = true",
        );
        let c = Catalog::parse(&text, "test").unwrap();
        let f = c
            .provider("books-custom")
            .unwrap()
            .field("client_id")
            .unwrap();
        assert_eq!(f.check(" my id 7 \n").0.value, "my id 7");
        text = MINIMAL.to_string();
        let c = Catalog::parse(&text, "test").unwrap();
        let f = c
            .provider("books-custom")
            .unwrap()
            .field("client_id")
            .unwrap();
        assert_eq!(
            f.check(" my id 7 \n").0.value,
            "myid7",
            "the default removes them"
        );
    }

    #[test]
    fn a_file_cannot_replace_a_builtin_system() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dup.toml");
        std::fs::write(&path, MINIMAL.replace("\"books-custom\"", "\"aspire\"")).unwrap();
        let err = Catalog::with_file(&path).unwrap_err();
        assert!(err.message().contains("already known"));
    }
}
