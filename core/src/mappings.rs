//! Configuration chosen from imported data (the guide's customer and supplier mappings, then
//! "Save Configuration"): choices come from a preview list, with a sensible default, and the
//! saved values live with the connection's non-secret settings.

use crate::connections::Connections;
use crate::error::{Error, Result};
use crate::preview::{self, PreviewOptions};
use crate::settings::Choice;
use serde::Serialize;
use std::collections::BTreeMap;

/// One setting as the Mappings screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MappingChoices {
    pub id: String,
    pub label: String,
    pub help: String,
    pub options: Vec<Choice>,
    /// The saved value, or the default when nothing is saved yet.
    pub selected: Option<String>,
    pub saved: bool,
}

/// The settings of a connection with their options, fetched fresh from the vendor.
pub async fn choices(connections: &Connections, id: &str) -> Result<Vec<MappingChoices>> {
    let record = connections.status(id).await?.record;
    let provider = connections.catalog().provider(&record.provider)?.clone();
    let mut lists: BTreeMap<String, (Vec<String>, Vec<Vec<String>>)> = BTreeMap::new();
    for m in &provider.mappings {
        if lists.contains_key(&m.list) {
            continue;
        }
        let opts = PreviewOptions {
            only: Some(m.list.clone()),
            sample_rows: usize::MAX,
            ..Default::default()
        };
        let mut results = preview::run(connections, id, &opts, &|_| {}).await?;
        if let Some(r) = results.pop() {
            lists.insert(m.list.clone(), (r.columns, r.sample));
        }
    }
    Ok(provider
        .mappings
        .iter()
        .map(|m| {
            let (columns, rows) = lists.get(&m.list).cloned().unwrap_or_default();
            let col = |name: &str| columns.iter().position(|c| c == name);
            let (v, n, pc) = (col(&m.value), col(&m.name), col(&m.prefer_column));
            // Only accounts of a kind that fits (an income account is never "Accounts
            // Receivable"): the catalog's preferred types, when it lists them.
            let fits = |r: &&Vec<String>| {
                m.prefer.is_empty()
                    || pc
                        .and_then(|i| r.get(i))
                        .is_some_and(|t| m.prefer.contains(t))
            };
            let options: Vec<Choice> = rows
                .iter()
                .filter(fits)
                .filter_map(|r| {
                    Some(Choice {
                        value: r.get(v?)?.clone(),
                        name: r.get(n?)?.clone(),
                    })
                })
                .collect();
            let saved = record
                .mappings
                .get(&m.id)
                .filter(|c| options.iter().any(|o| o.value == c.value));
            let default = m.prefer.iter().find_map(|want| {
                rows.iter()
                    .find(|r| pc.and_then(|i| r.get(i)) == Some(want))
                    .and_then(|r| r.get(v?).cloned())
            });
            MappingChoices {
                id: m.id.clone(),
                label: m.label.clone(),
                help: m.help.clone(),
                selected: saved.map(|c| c.value.clone()).or(default),
                saved: saved.is_some(),
                options,
            }
        })
        .collect())
}

/// Save Configuration: every value must be one of the current options.
pub async fn save(
    connections: &Connections,
    id: &str,
    chosen: &BTreeMap<String, String>,
) -> Result<Vec<MappingChoices>> {
    let current = choices(connections, id).await?;
    let mut picked = BTreeMap::new();
    for c in &current {
        let Some(value) = chosen.get(&c.id) else {
            continue;
        };
        let option = c.options.iter().find(|o| &o.value == value).ok_or_else(|| {
            Error::invalid_input(format!("That choice for \"{}\" is no longer in the list. Click Refresh and choose again.", c.label))
        })?;
        picked.insert(c.id.clone(), option.clone());
    }
    connections.settings().update(id, |r| {
        r.map(|mut r| {
            r.mappings.extend(picked);
            r
        })
    })?;
    choices(connections, id).await
}
