//! What a system's catalog entry answers (its environments, fields, callback address), and the
//! validation that makes a loaded entry complete.

use super::{
    ChecklistItemSpec, EnvironmentSpec, FieldSpec, ProviderSpec, StepAction, check_endpoint,
};
use crate::error::{Error, ErrorKind, Result};
use std::collections::HashSet;

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

    pub(super) fn validate(&self, common: &[ChecklistItemSpec]) -> Vec<String> {
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
