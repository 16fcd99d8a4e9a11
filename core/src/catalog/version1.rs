//! Catalog version 1: each provider's `mechanism` beside an `[provider.oauth]` or
//! `[provider.exchange]` table, and named paging styles. Converted to today's form when read.

use super::{CatalogFile, VERSION};
use serde::Deserialize;

/// A version 1 catalog in today's form: each provider's `mechanism` and its `oauth` or
/// `exchange` table become one `[provider.auth]` table.
pub(super) fn read(text: &str) -> std::result::Result<CatalogFile, String> {
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
