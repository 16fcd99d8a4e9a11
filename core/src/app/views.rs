//! What the window shows (and the command line prints), made from the catalog and the app's
//! state: plain serialisable values with no secrets, no behaviour.

use super::KeychainHealth;
use crate::catalog::{CopyValue, FieldSpec, ProviderSpec, Signal, StepAction, StepSpec};
use crate::checklist::{ChecklistItem, Event};
use crate::redirect::RedirectPlan;
use serde::{Deserialize, Serialize};

/// The app as Home and the menu show it.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub practice: bool,
    pub keychain: KeychainHealth,
    pub has_connections: bool,
    /// Who to ask, from whoever distributes Patchbay (none by default).
    pub support: Option<crate::distribution::SupportContact>,
    /// Why the distribution settings file is not used, for whoever set it up.
    pub distribution_problem: Option<String>,
}

/// A system on the Choose screen.
#[derive(Debug, Clone, Serialize)]
pub struct System {
    pub id: String,
    pub name: String,
    pub formerly: Option<String>,
    pub summary: String,
    /// `authorization_code` or `token_exchange` (the window shows the browser step for the first).
    pub mechanism: &'static str,
    /// In words ("browser sign-in (OAuth 2)"), for the command line.
    pub how: &'static str,
    pub default_environment: String,
    pub environments: Vec<Environment>,
    pub before_you_start: Vec<String>,
    pub has_preview: bool,
    /// The connected screen's button into the preview (the guide's words where it has them).
    pub preview_label: Option<String>,
    pub has_mappings: bool,
    /// The guide the steps follow, by its title, and how many steps it has.
    pub guide: String,
    pub steps: usize,
    /// The vendor's own help, in the guide's words, and whether it has a help page to open.
    pub vendor_help: String,
    pub has_help_page: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub id: String,
    pub label: String,
}

impl System {
    pub fn of(p: &ProviderSpec) -> System {
        System {
            id: p.id.clone(),
            name: p.name.clone(),
            formerly: p.formerly.clone(),
            summary: p.summary.clone(),
            mechanism: p.auth.mechanism().id(),
            how: p.auth.mechanism().describe(),
            default_environment: p.default_environment.clone(),
            environments: p
                .environments
                .iter()
                .map(|e| Environment {
                    id: e.id.clone(),
                    label: e.label.clone(),
                })
                .collect(),
            before_you_start: p.before_you_start.clone(),
            guide: p.guide_title().to_string(),
            steps: p.steps.len(),
            vendor_help: p.support.vendor_help.clone(),
            has_help_page: p.support.help_url.is_some(),
            has_preview: p.preview.is_some(),
            preview_label: p.preview.as_ref().map(|x| x.start_label.clone()),
            has_mappings: !p.mappings.is_empty(),
        }
    }
}

/// One step of a guide.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub instructions: Vec<String>,
    pub note: String,
    pub caution: String,
    pub action: StepAction,
    pub fields: Vec<Field>,
    pub copy: Vec<CopyValue>,
    /// The signal that ticks this step in the step list (none: its own result does).
    pub proven_by: Option<Signal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub id: String,
    pub label: String,
    pub secret: bool,
    pub format: String,
}

impl Step {
    pub fn of(p: &ProviderSpec, s: &StepSpec) -> Step {
        let field = |f: &FieldSpec| Field {
            id: f.id.clone(),
            label: f.label.clone(),
            secret: f.secret,
            format: f.format.clone(),
        };
        Step {
            id: s.id.clone(),
            title: s.title.clone(),
            instructions: s.instructions.clone(),
            note: s.note.clone(),
            caution: s.caution.clone(),
            action: s.action,
            fields: s
                .fields
                .iter()
                .filter_map(|id| p.field(id))
                .map(field)
                .collect(),
            copy: s.copy.clone(),
            proven_by: s.proof(),
        }
    }
}

/// The emulator's published practice keys (not secrets: printed in the docs).
#[derive(Debug, Clone, Serialize)]
pub struct PracticeCredentials {
    pub client_id: String,
    pub client_secret: String,
}

/// A system's guide for one environment, as the wizard walks it.
#[derive(Debug, Clone, Serialize)]
pub struct Guide {
    pub provider: System,
    pub environment: Environment,
    pub display_name: String,
    /// The address to register at the vendor (Patchbay's own, the distributor's relay, or the
    /// admin's https page); none where the distributor's app is used or a page is still needed.
    pub callback_url: Option<String>,
    /// How the vendor's answer comes back, and what to tell the admin about it.
    pub redirect: RedirectPlan,
    /// The vendor's word for the button that gives access, for "click Allow".
    pub consent_button: Option<String>,
    pub stored_in: String,
    pub steps: Vec<Step>,
    pub checklist: Vec<ChecklistItem>,
    /// The guide's advice no signal can check, shown as tips beside the checklist.
    pub tips: Vec<String>,
    pub practice_credentials: Option<PracticeCredentials>,
}

/// What cleaning a pasted value did (the cleaned value itself never goes back to the page).
#[derive(Debug, Clone, Serialize)]
pub struct FieldReport {
    pub removed: String,
    pub ok: bool,
    pub problem: Option<String>,
    pub length: usize,
    /// UTF-16 offsets to delete from what the page holds.
    pub remove_at: Vec<usize>,
}

/// One step of a connect and the checklist after it.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectUpdate {
    pub event: Event,
    pub checklist: Vec<ChecklistItem>,
}

/// What may be copied: values the app knows, never text from the page.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    tag = "what",
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum CopyItem {
    /// The address to register at the vendor, exactly as the connect sends it.
    CallbackUrl {
        provider: String,
        environment: String,
        redirect_page: Option<String>,
    },
    /// The sign-in link of the connect in progress.
    AuthorizeUrl,
    /// A value a guide step gives to type in the vendor's form ("Name: Patchbay").
    Value {
        provider: String,
        step: String,
        label: String,
    },
    Report,
}

/// About and help: the version and where each thing is kept.
#[derive(Debug, Clone, Serialize)]
pub struct About {
    pub version: &'static str,
    pub os: String,
    /// Where the passwords and keys are (the system's keychain, by name).
    pub credentials: String,
    /// The connections list and settings (no secrets).
    pub settings: String,
    pub logs: String,
}

/// What "Save as CSV files" did.
#[derive(Debug, Clone, Serialize)]
pub struct SavedExport {
    pub folder: String,
    pub files: Vec<String>,
}
