//! The live troubleshooting checklist: the guide's items, each waiting / checking / ok / failed /
//! not needed from real signals of the core ([`Event`]s), with the fix in plain words when failed.
//!
//! "Checking" is derived, not guessed: while a connect runs, the items that the next signal of
//! the connect will settle are being checked (signals come in [`Signal::ALL`]'s order).

use crate::catalog::{Catalog, ChecklistItemSpec, ProviderSpec, Signal};
use crate::error::{Error, ErrorKind};
use crate::redirect::{RedirectPlan, Via};
use crate::settings::ConnectionRecord;
use serde::Serialize;

/// Something the core observed while connecting or using a connection.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A step succeeded.
    Ok { signal: Signal },
    /// A step failed; the flow may go on (browser launch) or stop.
    Failed { kind: ErrorKind, message: String },
    /// The authorize page the admin must open (shown with "Copy the link").
    Authorize {
        url: String,
        callback_url: String,
        deadline_secs: u64,
    },
    /// Patchbay waits for the vendor (rate limit) and will go on by itself.
    Waiting { message: String },
    /// A pasted "address your browser ended on" could not be used; the wait goes on. Not a
    /// checklist signal: the admin's keys are not in question.
    PasteRejected { message: String },
}

impl Event {
    pub fn failed(e: &Error) -> Event {
        Event::Failed {
            kind: e.kind(),
            message: e.message().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Not checked yet.
    Pending,
    /// The running connect is checking it now.
    Checking,
    Ok,
    Failed,
    /// This attempt does not need it (the answer comes back through the admin's own page, so
    /// nothing listens on this computer).
    NotNeeded,
}

/// One checklist line as the UI and CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistItem {
    pub id: String,
    pub title: String,
    pub state: ItemState,
    /// When failed: what went wrong and what to do.
    pub problem: Option<Problem>,
    /// Shown only when failed (a check about Patchbay itself).
    pub quiet: bool,
}

/// Why a checklist item failed, and the way out.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// What Patchbay saw.
    pub message: String,
    /// What to do, in plain words.
    pub fix: String,
    /// When it is on the vendor's side: who to ask.
    pub support: Option<String>,
}

impl ChecklistItem {
    /// Whether the item is shown: always, or for a quiet one only when it failed.
    pub fn shown(&self) -> bool {
        !self.quiet || self.state == ItemState::Failed
    }
}

#[derive(Debug, Clone)]
pub struct Checklist {
    specs: Vec<ChecklistItemSpec>,
    items: Vec<ChecklistItem>,
    vendor_help: String,
    /// The problems the vendor's help line is about.
    vendor_help_for: Option<Vec<ErrorKind>>,
    /// A connect is running (from its first signal to its end).
    running: bool,
}

impl Checklist {
    pub fn new(catalog: &Catalog, provider: &ProviderSpec) -> Checklist {
        Checklist::build(catalog, provider, true, false)
    }

    /// The checklist of a connect that follows `plan`: with the admin's own vendor app, or with
    /// the distributor's (whose redirect and keys are not the admin's to check, so not shown);
    /// the port item is not needed where the answer comes back through the admin's own page.
    pub fn for_plan(catalog: &Catalog, provider: &ProviderSpec, plan: &RedirectPlan) -> Checklist {
        Checklist::build(catalog, provider, plan.own_app, plan.via == Via::OwnPage)
    }

    fn build(
        catalog: &Catalog,
        provider: &ProviderSpec,
        own_app: bool,
        no_listener: bool,
    ) -> Checklist {
        let specs: Vec<ChecklistItemSpec> = catalog
            .checklist(provider)
            .into_iter()
            .filter(|s| own_app || !s.own_app_only)
            .collect();
        let items = specs
            .iter()
            .map(|s| ChecklistItem {
                id: s.id.clone(),
                title: s.title.clone(),
                state: if no_listener && s.passes_on == Signal::PortFree {
                    ItemState::NotNeeded
                } else {
                    ItemState::Pending
                },
                problem: None,
                quiet: s.quiet,
            })
            .collect();
        Checklist {
            specs,
            items,
            vendor_help: provider.support.vendor_help.clone(),
            vendor_help_for: provider.support.vendor_help_for.clone(),
            running: false,
        }
    }

    /// Apply an event. Returns true when any item changed (worth announcing).
    pub fn observe(&mut self, event: &Event) -> bool {
        let mut changed = false;
        for (spec, item) in self.specs.iter().zip(self.items.iter_mut()) {
            match event {
                Event::Ok { signal }
                    if spec.passes_on == *signal
                        && !matches!(item.state, ItemState::Ok | ItemState::NotNeeded) =>
                {
                    *item = ChecklistItem {
                        state: ItemState::Ok,
                        problem: None,
                        ..item.clone()
                    };
                    changed = true;
                }
                Event::Failed { kind, message } if spec.fails_on.contains(kind) => {
                    let about_it = match &self.vendor_help_for {
                        Some(kinds) => kinds.contains(kind),
                        None => vendor_side(*kind),
                    };
                    item.state = ItemState::Failed;
                    item.problem = Some(Problem {
                        message: message.clone(),
                        fix: spec.fix.clone(),
                        support: about_it
                            .then(|| self.vendor_help.clone())
                            .filter(|s| !s.is_empty()),
                    });
                    changed = true;
                }
                _ => {}
            }
        }
        match event {
            // The first signal of a connect starts it; its last one, or a failure that ends it,
            // stops it. A browser that did not open ends nothing: the link can still be used.
            Event::Ok { signal } => self.running = *signal != Signal::LAST,
            Event::Failed { kind, .. } if *kind != ErrorKind::BrowserLaunch => self.running = false,
            _ => {}
        }
        self.mark_checking() || changed
    }

    /// While running, the unsettled items the next signal settles are "checking"; otherwise
    /// none is. Returns true when any item changed.
    fn mark_checking(&mut self) -> bool {
        let order = |s: Signal| Signal::ALL.iter().position(|x| *x == s);
        let open = |state: ItemState| matches!(state, ItemState::Pending | ItemState::Checking);
        let next = self
            .specs
            .iter()
            .zip(&self.items)
            .filter(|(_, i)| open(i.state))
            .filter_map(|(s, _)| order(s.passes_on))
            .min()
            .filter(|_| self.running);
        let mut changed = false;
        for (spec, item) in self.specs.iter().zip(self.items.iter_mut()) {
            if !open(item.state) {
                continue;
            }
            let state = if next.is_some() && order(spec.passes_on) == next {
                ItemState::Checking
            } else {
                ItemState::Pending
            };
            changed |= item.state != state;
            item.state = state;
        }
        changed
    }

    /// A stored connection's checklist as its record tells it: every item ok once it was
    /// verified, then its last error (or why it needs a reconnect) on the items it concerns.
    pub fn for_connection(
        catalog: &Catalog,
        provider: &ProviderSpec,
        record: &ConnectionRecord,
    ) -> Checklist {
        let mut c = Checklist::new(catalog, provider);
        if record.verified_at.is_some() {
            for signal in Signal::ALL {
                c.observe(&Event::Ok { signal });
            }
        }
        if let Some(e) = &record.last_error {
            c.observe(&Event::Failed {
                kind: e.kind,
                message: e.message.clone(),
            });
        } else if let Some(why) = &record.needs_reconnect {
            c.observe(&Event::Failed {
                kind: ErrorKind::Reconnect,
                message: why.clone(),
            });
        }
        c
    }

    pub fn items(&self) -> &[ChecklistItem] {
        &self.items
    }

    /// The items that failed, each with its fix: what a failed connect reports.
    pub fn failed(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.items.iter().filter(|i| i.state == ItemState::Failed)
    }

    pub fn item(&self, id: &str) -> Option<&ChecklistItem> {
        self.items.iter().find(|i| i.id == id)
    }
}

/// Kinds where the vendor's own support can help.
fn vendor_side(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ApiNotEnabled
            | ErrorKind::ScopeMissing
            | ErrorKind::InvalidClient
            | ErrorKind::ProviderDown
            | ErrorKind::Reconnect
            | ErrorKind::RedirectMismatch
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_turn_ok_and_failed_from_signals() {
        let catalog = Catalog::builtin().unwrap();
        let p = catalog.provider("quickbooks-time").unwrap();
        let mut c = Checklist::new(&catalog, p);
        assert!(c.items().iter().all(|i| i.state == ItemState::Pending));
        assert!(c.observe(&Event::Failed {
            kind: ErrorKind::ApiNotEnabled,
            message: "402".into()
        }));
        let item = c.item("api-option").unwrap();
        assert_eq!(item.state, ItemState::Failed);
        let problem = item.problem.as_ref().unwrap();
        assert_eq!(problem.message, "402");
        assert!(problem.fix.contains("Manage Add-ons"));
        assert!(
            problem.support.is_some(),
            "vendor help shown for a vendor-side failure"
        );
        c.observe(&Event::Ok {
            signal: Signal::Verified,
        });
        assert_eq!(c.item("api-option").unwrap().state, ItemState::Ok);
        assert!(c.item("api-option").unwrap().problem.is_none());
    }

    #[test]
    fn a_stored_connection_tells_its_checklist() {
        let catalog = Catalog::builtin().unwrap();
        let p = catalog.provider("quickbooks-time").unwrap();
        let mut record: ConnectionRecord = serde_json::from_value(serde_json::json!({
            "id": "quickbooks-time:production", "provider": "quickbooks-time",
            "environment": "production", "practice": false, "label": "QuickBooks Time",
            "created_at": 1
        }))
        .unwrap();
        let states = |r: &ConnectionRecord| -> Vec<ItemState> {
            Checklist::for_connection(&catalog, p, r)
                .items()
                .iter()
                .map(|i| i.state)
                .collect()
        };
        assert!(states(&record).iter().all(|s| *s == ItemState::Pending));
        record.verified_at = Some(2);
        assert!(states(&record).iter().all(|s| *s == ItemState::Ok));
        record.last_error = Some(crate::settings::LastError {
            kind: ErrorKind::ApiNotEnabled,
            message: "402".into(),
            provider_detail: None,
            at: 3,
        });
        let c = Checklist::for_connection(&catalog, p, &record);
        assert_eq!(c.item("api-option").unwrap().state, ItemState::Failed);
        assert_eq!(c.item("credentials").unwrap().state, ItemState::Ok);
        record.last_error = None;
        record.needs_reconnect = Some("The grant was revoked.".into());
        assert!(states(&record).contains(&ItemState::Failed));
    }

    fn states_of(c: &Checklist) -> Vec<(&str, ItemState)> {
        c.items().iter().map(|i| (i.id.as_str(), i.state)).collect()
    }

    #[test]
    fn the_items_the_next_signal_settles_are_checking_while_a_connect_runs() {
        use ItemState::*;
        let catalog = Catalog::builtin().unwrap();
        let p = catalog.provider("quickbooks-time").unwrap();
        let mut c = Checklist::new(&catalog, p);
        let state = |c: &Checklist, id: &str| c.item(id).unwrap().state;
        c.observe(&Event::Ok {
            signal: Signal::FieldsClean,
        });
        assert_eq!(state(&c, "port"), Checking, "{:?}", states_of(&c));
        assert_eq!(state(&c, "credentials"), Pending);
        c.observe(&Event::Ok {
            signal: Signal::PortFree,
        });
        c.observe(&Event::Ok {
            signal: Signal::BrowserOpened,
        });
        // Waiting for the admin's Allow: the page, the access and the redirect are in question.
        for id in ["browser", "allowed", "redirect"] {
            assert_eq!(state(&c, id), Checking, "{id}: {:?}", states_of(&c));
        }
        assert_eq!(state(&c, "api-option"), Pending);
        // A denial settles its item and ends the connect: nothing is being checked any more.
        c.observe(&Event::Failed {
            kind: ErrorKind::Denied,
            message: "no".into(),
        });
        assert_eq!(state(&c, "allowed"), Failed);
        assert!(
            c.items().iter().all(|i| i.state != Checking),
            "{:?}",
            states_of(&c)
        );
        // A browser that did not open ends nothing: the wait goes on with the link.
        let mut c = Checklist::new(&catalog, p);
        c.observe(&Event::Ok {
            signal: Signal::PortFree,
        });
        c.observe(&Event::Failed {
            kind: ErrorKind::BrowserLaunch,
            message: "no browser".into(),
        });
        assert_eq!(state(&c, "browser"), Failed);
        assert_eq!(state(&c, "allowed"), Checking);
        for signal in Signal::ALL {
            c.observe(&Event::Ok { signal });
        }
        assert!(
            c.items().iter().all(|i| i.state == Ok),
            "{:?}",
            states_of(&c)
        );
    }

    #[test]
    fn through_the_admins_own_page_the_port_is_not_needed() {
        let catalog = Catalog::builtin().unwrap();
        let p = catalog.provider("quickbooks-online").unwrap();
        let env = p.environment("production").unwrap();
        let page = "https://www.example.com/patchbay/";
        let plan = RedirectPlan::choose(p, env, &Default::default(), Some(page)).unwrap();
        assert_eq!(plan.via, Via::OwnPage);
        let mut c = Checklist::for_plan(&catalog, p, &plan);
        assert_eq!(c.item("port").unwrap().state, ItemState::NotNeeded);
        for signal in Signal::ALL {
            c.observe(&Event::Ok { signal });
        }
        assert_eq!(c.item("port").unwrap().state, ItemState::NotNeeded);
        assert_eq!(c.item("credentials").unwrap().state, ItemState::Ok);
        let plan = RedirectPlan::choose(
            p,
            p.environment("sandbox").unwrap(),
            &Default::default(),
            None,
        )
        .unwrap();
        assert_eq!(
            Checklist::for_plan(&catalog, p, &plan)
                .item("port")
                .unwrap()
                .state,
            ItemState::Pending
        );
    }

    #[test]
    fn a_rejected_pasted_address_does_not_blame_the_keys() {
        let catalog = Catalog::builtin().unwrap();
        let mut c = Checklist::new(&catalog, catalog.provider("quickbooks-time").unwrap());
        assert!(!c.observe(&Event::PasteRejected {
            message: "from an earlier attempt".into()
        }));
        assert_eq!(c.item("credentials").unwrap().state, ItemState::Pending);
    }

    #[test]
    fn every_error_kind_of_a_connect_lands_on_an_item() {
        let catalog = Catalog::builtin().unwrap();
        for p in catalog.providers() {
            for kind in ErrorKind::ALL {
                if matches!(kind, ErrorKind::NotFound | ErrorKind::Catalog) {
                    continue; // not about a connection attempt
                }
                if !p.can_fail_with(kind) {
                    continue;
                }
                let mut c = Checklist::new(&catalog, p);
                assert!(
                    c.observe(&Event::Failed {
                        kind,
                        message: "m".into()
                    }),
                    "{}: {kind} fails no item",
                    p.id
                );
            }
        }
    }
}
