//! The types of a catalog file: what `providers.toml` (and an admin's own file) may say.

use crate::endpoint::Mechanism;
use crate::error::ErrorKind;
use crate::sanitize::Format;
use serde::{Deserialize, Serialize};

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

    pub(super) fn mechanism_mut(&mut self) -> &mut dyn Mechanism {
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
pub struct ProviderSpec {
    pub id: String,
    pub name: String,
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
    pub help_url: Option<String>,
    /// The problems `vendor_help` is about (it is shown only with them); by default those on
    /// the vendor's side (API not enabled, keys or redirect refused, the vendor down, access
    /// withdrawn).
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
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub revoke_url: Option<String>,
    pub api_base: String,
    /// The API's request limit where it differs by environment (overrides the preview's).
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
    pub path: Option<String>,
    /// Where the items are in the answer for a list that names an `entity`.
    pub items: Option<String>,
    /// A true/false in each answer saying whether more pages follow (dot path); without it, a
    /// short page is the last.
    pub more: Option<String>,
    /// A cheap request for a list's total, where the vendor has one.
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
