//! Reading one list page by page, as the catalog's paging describes it: the address of each page
//! (query templates with the page's numbers filled in), and the items and cells in an answer.

use crate::catalog::{CountSpec, EnvironmentSpec, PreviewList, PreviewSpec};
use crate::error::Result;
use crate::http::Route;
use crate::verify::fill_path;
use std::collections::BTreeMap;

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
pub(super) fn fill_page(template: &str, list: &PreviewList, size: u32, page: u32) -> String {
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
pub(super) fn page_url(
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

/// The items of one page: an array, an object keyed by id, or one object; an OData `value`
/// envelope is unwrapped.
pub(super) fn items<'a>(json: &'a serde_json::Value, path: &str) -> Vec<&'a serde_json::Value> {
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
pub(super) fn value_at<'a>(
    item: &'a serde_json::Value,
    column: &str,
) -> Option<&'a serde_json::Value> {
    crate::verify::at_path(item, column)
}

/// A value as a table cell: text as it is, nothing for null or missing, JSON otherwise.
pub(super) fn text_of(value: Option<&serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::String(s)) => s.clone(),
        None | Some(serde_json::Value::Null) => String::new(),
        Some(v) => v.to_string(),
    }
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
