//! Deterministic generated data with the vendors' field names (reference 1.7, 1.12, 2.10, 3.9,
//! 3.13). The same scale always produces the same records.
//!
//! The records carry every property the vendors publish for them, not only the ones the
//! reference quotes. Property names and types (never code) come from the sources the reference
//! itself cites:
//! - QuickBooks Time: `TSheetsTeam/api_docs` at the reference's snapshot `3cc0b81b`,
//!   `source/includes/APIReference/{Users,Timesheets,Jobcodes,CustomFields,Files,Locations}/`
//!   (property tables and `Examples/*.md.erb`), cited below as "api_docs".
//! - Aspire: the OpenAPI spec copy in `jared-strangebrain/aspire-connector` `38ddcb8c`,
//!   `OpenAPI SPEC/swagger.json`, `components.schemas["AspireCloud.Domain.Tenant.*.ODataModel.*"]`,
//!   cited below as "the spec".
//! - QuickBooks Online: the reference's [mirror] `Petrus-Han/finance_plugins`
//!   `ref/quickbooks_dev_docs/api-reference/{customer,vendor,account,item}.md`, cited below as
//!   "the mirror".
//!
//! Every record's older values (names, amounts, dates) come from the same generator calls as
//! before; the values that only fill the newer properties come from a second generator per data
//! set (`extra`), so adding properties never reshuffles the existing data. Deliberate changes:
//! an Aspire contact's owner is an employee contact (it was a name no contact had), property
//! coordinates lie in the property's city, jobcodes' `geofence_config_id` is 0 as in the
//! api_docs example, and some QuickBooks Online customers are jobs, some accounts sub-accounts
//! and some vendors 1099 contractors.

use crate::DataScale;
use crate::clock::{date, iso_offset, iso_z};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const FIRST: &[&str] = &[
    "Mary", "James", "Linda", "Robert", "Patricia", "Michael", "Jennifer", "David", "Elena",
    "Carlos", "Aisha", "Tom", "Grace", "Luis", "Nora", "Samuel", "Hannah", "Omar", "Julia",
    "Victor", "Rosa", "Ethan", "Maya", "Derek",
];
const LAST: &[&str] = &[
    "Samsonite",
    "Garcia",
    "Nguyen",
    "Johnson",
    "Okafor",
    "Martinez",
    "Kowalski",
    "Brown",
    "Patel",
    "Lindqvist",
    "Rossi",
    "Walker",
    "Hernandez",
    "Kim",
    "Moreau",
    "Schmidt",
    "Baker",
    "Rivera",
    "Novak",
    "Foster",
];
const STREETS: &[&str] = &[
    "Oak Street",
    "Maple Avenue",
    "Cedar Lane",
    "Willow Drive",
    "Aspen Court",
    "Pine Ridge Road",
    "Birch Way",
    "Juniper Trail",
    "Sycamore Boulevard",
    "Elm Park",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Boise", "ID", "83702"),
    ("Eagle", "ID", "83616"),
    ("Meridian", "ID", "83642"),
    ("Denver", "CO", "80202"),
    ("Aurora", "CO", "80012"),
    ("Fort Collins", "CO", "80521"),
];
const COMPANY_WORDS: &[&str] = &[
    "Summit",
    "Greenway",
    "Riverbend",
    "Hillcrest",
    "Lakeside",
    "Meadowbrook",
    "Stonegate",
    "Fairview",
    "Brookside",
    "Highland",
    "Sunrise",
    "Timberline",
];
const COMPANY_KINDS: &[&str] = &[
    "HOA",
    "Office Park",
    "Apartments",
    "Medical Center",
    "Plaza",
    "Estates",
    "School",
    "Church",
];
const PROPERTY_TYPES: [&str; 3] = ["Commercial", "Residential", "HOA"];
const SERVICES: &[&str] = &[
    "Mowing",
    "Spring Cleanup",
    "Fall Cleanup",
    "Mulch Installation",
    "Irrigation Repair",
    "Snow Removal",
    "Tree Trimming",
    "Fertilization",
    "Aeration",
    "Planting",
];

/// Monday 2025-01-06 00:00 UTC: the first day of generated activity.
const BASE: i64 = 1_736_121_600;
const DAY: i64 = 86_400;

#[derive(Debug)]
pub(crate) struct QbtData {
    pub company_id: String,
    pub company_name: String,
    pub client_url: String,
    /// The user who authorizes (an admin): the first user.
    pub admin_user_id: u64,
    pub users: Vec<Value>,
    /// Each carries `customfields`, which the API shows only with `customfields=true`.
    pub jobcodes: Vec<Value>,
    pub timesheets: Vec<Value>,
    /// Custom field definitions (for `supplemental_data.customfields`).
    pub customfields: Vec<Value>,
    /// Files attached to timesheets (for `supplemental_data.files`).
    pub files: Vec<Value>,
    /// Locations of the customer-level jobcodes (for `supplemental_data.locations`).
    pub locations: Vec<Value>,
}

#[derive(Debug)]
pub(crate) struct AspireData {
    pub users: Vec<Value>,
    pub contacts: Vec<Value>,
    pub properties: Vec<Value>,
    pub work_tickets: Vec<Value>,
    /// Labour time booked on the completed work tickets.
    pub work_ticket_times: Vec<Value>,
    /// One clock-in/clock-out per crew member and day worked.
    pub clock_times: Vec<Value>,
    pub branches: Vec<Value>,
    pub divisions: Vec<Value>,
}

#[derive(Debug)]
pub(crate) struct QboCompany {
    pub realm_id: String,
    pub company_name: String,
    pub company_info: Value,
    pub customers: Vec<Value>,
    pub vendors: Vec<Value>,
    pub accounts: Vec<Value>,
    pub items: Vec<Value>,
}

#[derive(Debug)]
pub(crate) struct Data {
    pub qbt: QbtData,
    /// By environment ("production", "sandbox").
    pub aspire: BTreeMap<String, AspireData>,
    /// By environment; each environment has its own company (and realmId).
    pub qbo: BTreeMap<String, QboCompany>,
}

/// realmIds of the two QuickBooks Online companies (16 digits, like real ones).
pub(crate) const QBO_REALM_PRODUCTION: &str = "9130357162085326";
pub(crate) const QBO_REALM_SANDBOX: &str = "9341452983410575";

pub(crate) fn generate(scale: &DataScale) -> Data {
    let mut aspire = BTreeMap::new();
    aspire.insert("production".to_string(), aspire_data(scale, 11));
    aspire.insert("sandbox".to_string(), aspire_data(scale, 12));
    let mut qbo = BTreeMap::new();
    qbo.insert(
        "production".to_string(),
        qbo_company(
            scale,
            21,
            QBO_REALM_PRODUCTION,
            "Patchbay Practice Landscaping LLC",
        ),
    );
    // Intuit names sandbox companies like this.
    qbo.insert(
        "sandbox".to_string(),
        qbo_company(scale, 22, QBO_REALM_SANDBOX, "Sandbox Company_US_1"),
    );
    Data {
        qbt: qbt_data(scale),
        aspire,
        qbo,
    }
}

fn person(rng: &mut Det) -> (&'static str, &'static str) {
    (*rng.pick(FIRST), *rng.pick(LAST))
}

fn phone(rng: &mut Det) -> String {
    format!("208{}", rng.digits(7))
}

/// "Summit HOA": a company word and one of `kinds`.
fn business_name(rng: &mut Det, kinds: &[&str]) -> String {
    format!("{} {}", rng.pick(COMPANY_WORDS), rng.pick(kinds))
}

/// "4711 Oak Street".
fn street_line(rng: &mut Det) -> String {
    format!("{} {}", 100 + rng.below(9800), rng.pick(STREETS))
}

/// The name of a record in the `round`th pass over a list of names: "Fuel", then "Fuel 2", ...
fn nth_name(base: &str, round: usize) -> String {
    if round == 0 {
        base.to_string()
    } else {
        format!("{base} {}", round + 1)
    }
}

fn hex(rng: &mut Det, n: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    (0..n)
        .map(|_| HEX[rng.below(16) as usize] as char)
        .collect()
}

/// Money rounded to cents.
fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Adds `amount` to the money member `key` of the object `record` (rounded to cents).
fn add_cents(record: &mut Value, key: &str, amount: f64) {
    let total = record[key].as_f64().unwrap_or(0.0) + amount;
    extend(record, json!({ key: cents(total) }));
}

/// A latitude or longitude from ten-thousandths of a degree (exact to 4 places).
fn coordinate(ten_thousandths: i64) -> f64 {
    ten_thousandths as f64 / 10_000.0
}

/// A point in `city`, up to about 5 km from its centre: `(latitude, longitude)`.
fn near(city: &str, rng: &mut Det) -> (f64, f64) {
    // City centres in ten-thousandths of a degree.
    let (lat, lon) = match city {
        "Eagle" => (436_955, -1_163_540),
        "Meridian" => (436_121, -1_163_915),
        "Denver" => (397_392, -1_049_903),
        "Aurora" => (397_294, -1_048_319),
        "Fort Collins" => (405_853, -1_050_844),
        _ => (436_150, -1_162_023), // Boise
    };
    let dlat = rng.below(1000) as i64 - 500;
    let dlon = rng.below(1000) as i64 - 500;
    (coordinate(lat + dlat), coordinate(lon + dlon))
}

/// One object from several (later members win): keeps each `json!` call small.
fn join(parts: Vec<Value>) -> Value {
    let mut out = Map::new();
    for part in parts {
        if let Value::Object(m) = part {
            out.extend(m);
        }
    }
    Value::Object(out)
}

/// Adds the members of `more` to the object `target`.
fn extend(target: &mut Value, more: Value) {
    if let (Some(t), Value::Object(m)) = (target.as_object_mut(), more) {
        t.extend(m);
    }
}

fn full_name(first: &Value, last: &Value) -> String {
    format!(
        "{} {}",
        first.as_str().unwrap_or(""),
        last.as_str().unwrap_or("")
    )
}

/// `https://www.summithoa.example` from a company name.
fn website(company: &str) -> String {
    let slug: String = company
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    format!("https://www.{slug}.example")
}

/// The first day of the month of `secs` (UTC), "January 2025", and the period's number 202501.
fn month_of(secs: i64) -> (i64, String, i32) {
    let d = time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    let first = time::Date::from_calendar_date(d.year(), d.month(), 1).unwrap_or(d);
    (
        first.midnight().assume_utc().unix_timestamp(),
        format!("{} {}", d.month(), d.year()),
        d.year() * 100 + i32::from(u8::from(d.month())),
    )
}

// ---------------------------------------------------------------------------------------------
// QuickBooks Time

/// Custom fields (ids). Timesheets carry `customfields` keyed by these ids as strings, values
/// being the items' names (reference 1.12; api_docs Timesheets/Examples/_object.md.erb).
const CF_CREW: u64 = 8_000_001;
const CF_WORK_ORDER: u64 = 8_000_002;
const CF_DEPARTMENT: u64 = 8_000_003;
const CF_SERVICE_LINE: u64 = 8_000_004;
const CREWS: [&str; 3] = ["Crew A", "Crew B", "Crew C"];
const DEPARTMENTS: [&str; 3] = ["Maintenance", "Enhancements", "Irrigation"];

fn service_line(service: &str) -> &'static str {
    match service {
        "Snow Removal" => "Snow",
        "Irrigation Repair" => "Irrigation",
        "Mulch Installation" | "Planting" | "Tree Trimming" => "Enhancements",
        _ => "Maintenance",
    }
}

/// The custom field object: api_docs CustomFields/_custom_fields.md.erb (property table) and
/// CustomFields/Examples/_object.md.erb; `global` from Jobcodes/Examples/_retrieve-response-3.
fn qbt_customfield(
    id: u64,
    name: &str,
    short_code: &str,
    applies_to: &str,
    managed: bool,
    show_to_all: bool,
) -> Value {
    let created = BASE - 380 * DAY;
    json!({
        "id": id, "active": true, "global": true, "required": false, "applies_to": applies_to,
        "type": if managed { "managed-list" } else { "free-form" },
        "short_code": short_code, "regex_filter": "", "name": name,
        "last_modified": iso_offset(created + 10 * DAY, 0), "created": iso_offset(created, 0),
        "ui_preference": if managed { "drop_down" } else { "text_box_with_suggest" },
        "required_customfields": [], "show_to_all": show_to_all,
    })
}

/// The location object (api_docs Locations/Examples/_object.md.erb, Locations/_locations.md.erb).
fn qbt_location(rng: &mut Det, id: u64, jobcode_id: u64, label: &str, created: i64) -> Value {
    let (city, state, zip) = *rng.pick(CITIES);
    let addr1 = street_line(rng);
    let (latitude, longitude) = near(city, rng);
    json!({
        "id": id, "addr1": addr1, "addr2": "", "city": city, "state": state, "zip": zip,
        "country": "US", "formatted_address": format!("{addr1}, {city}, {state} {zip}"),
        "active": true, "latitude": latitude, "longitude": longitude, "place_id": "",
        "place_id_hash": hex(rng, 32), "label": label, "notes": "", "geocoding_status": "complete",
        "created": iso_offset(created, 0), "last_modified": iso_offset(created + DAY, 0),
        "linked_objects": {"jobcodes": [jobcode_id]}, "geofence_config_id": null,
    })
}

/// The file object (api_docs Files/Examples/_object.md.erb, Files/_files.md.erb): an on-site
/// photo attached to a timesheet.
fn qbt_file(rng: &mut Det, id: u64, timesheet_id: u64, user_id: u64, at: i64) -> Value {
    json!({
        "id": id, "uploaded_by_user_id": user_id,
        "file_name": format!("IMG_{}_{:06}.jpg", date(at, -7).replace('-', ""), id % 1_000_000),
        "active": true, "size": 120_000 + rng.below(380_000),
        "last_modified": iso_offset(at, 0), "created": iso_offset(at, 0),
        "linked_objects": {"timesheets": [timesheet_id.to_string()]},
        "meta_data": {"file_description": "on-site photo", "image_rotation": "0"},
    })
}

fn qbt_data(scale: &DataScale) -> QbtData {
    let mut rng = Det::new(1);
    let mut extra = Det::new(101);
    let company_name = "Patchbay Practice Landscaping".to_string();
    let client_url = "patchbaypractice".to_string();
    let pto = [(9_000_001u64, "Vacation"), (9_000_002u64, "Sick")];

    // The jobcode custom field's `applies_to` is "job_code" as in the api_docs jobcodes example
    // 3 (an actual response); the custom fields property table spells it 'jobcode'.
    let customfields = vec![
        qbt_customfield(CF_CREW, "Crew", "CRW", "timesheet", true, true),
        qbt_customfield(CF_WORK_ORDER, "Work Order", "WO", "timesheet", false, false),
        qbt_customfield(CF_DEPARTMENT, "Department", "DEPT", "user", true, true),
        qbt_customfield(
            CF_SERVICE_LINE,
            "Service Line",
            "SVC",
            "job_code",
            true,
            true,
        ),
    ];

    let mut jobcodes = Vec::new();
    let mut locations = Vec::new();
    let mut parent = 0u64;
    for i in 0..scale.tsheets_jobcodes {
        let id = 7_000_001 + i as u64;
        let is_parent = i % 5 == 0;
        let (name, parent_id) = if is_parent {
            parent = id;
            (business_name(&mut rng, COMPANY_KINDS), 0)
        } else {
            (rng.pick(SERVICES).to_string(), parent)
        };
        let created = BASE - 200 * DAY + i as i64 * 3600;
        // Customer-level jobcodes have the customer's site as their location.
        let location_ids: Vec<u64> = if is_parent {
            let loc = 4_000_001 + locations.len() as u64;
            locations.push(qbt_location(&mut extra, loc, id, &name, created));
            vec![loc]
        } else {
            vec![]
        };
        let line = if is_parent { "" } else { service_line(&name) };
        // Jobcode object: api_docs Jobcodes/_jobcodes.md.erb and Examples/_object.md.erb;
        // project_id and geofence_config_id as in Examples/_retrieve-response-3.md.erb.
        jobcodes.push(json!({
            "id": id, "parent_id": parent_id, "assigned_to_all": true, "billable": !is_parent,
            "active": true, "type": "regular", "has_children": is_parent && i + 1 < scale.tsheets_jobcodes,
            "billable_rate": if is_parent { 0.0 } else { 45.0 + (i % 4) as f64 * 5.0 },
            "short_code": format!("J{:03}", i + 1), "name": name,
            "last_modified": iso_offset(created + 30 * DAY, 0), "created": iso_offset(created, 0),
            "filtered_customfielditems": "",
            // Work orders are asked for on the billable (service) jobcodes only.
            "required_customfields": if is_parent { json!([]) } else { json!([CF_WORK_ORDER]) },
            "locations": location_ids, "geofence_config_id": 0, "project_id": 0,
            "connect_with_quickbooks": false,
            "customfields": { CF_SERVICE_LINE.to_string(): line },
        }));
    }
    for (id, name) in pto {
        jobcodes.push(json!({
            "id": id, "parent_id": 0, "assigned_to_all": true, "billable": false, "active": true,
            "type": "pto", "has_children": false, "billable_rate": 0.0, "short_code": "",
            "name": name, "last_modified": iso_offset(BASE - 300 * DAY, 0),
            "created": iso_offset(BASE - 300 * DAY, 0), "filtered_customfielditems": "",
            "required_customfields": [], "locations": [], "geofence_config_id": 0,
            "project_id": 0, "connect_with_quickbooks": false,
            "customfields": { CF_SERVICE_LINE.to_string(): "" },
        }));
    }

    let n_users = scale.tsheets_users.max(1);
    let mut users = Vec::new();
    for i in 0..n_users {
        let id = 1_000_001 + i as u64;
        let (first, last) = person(&mut rng);
        let admin = i == 0;
        let created = BASE - 400 * DAY + i as i64 * DAY;
        let username = if admin {
            "admin".to_string()
        } else {
            format!("{}.{}{}", first, last, i).to_lowercase()
        };
        // PTO balances are in seconds (api_docs Users/_users.md.erb).
        let (vacation, sick) = if admin {
            (0, 0)
        } else {
            ((i % 6) as u64 * 8 * 3600, (i % 3) as u64 * 4 * 3600 + 3600)
        };
        // User object: reference 1.7; api_docs Users/_users.md.erb and Examples/_object.md.erb;
        // `pronouns`, `view_projects` and `manage_projects` as in the users of
        // ProjectActivities/Examples/_retrieve-response.md.erb. `customfields` is a map of
        // customfield id to item (the Custom Fields add-on is on: timesheets carry custom fields).
        let department = if admin {
            "Office"
        } else {
            DEPARTMENTS[i % DEPARTMENTS.len()]
        };
        users.push(json!({
            "id": id, "first_name": first, "last_name": last, "group_id": 0, "active": true,
            "employee_number": i as u64 + 1, "salaried": false, "exempt": false,
            "username": username, "email": format!("{}.{}{}@patchbay-practice.example", first, last, i).to_lowercase(),
            "email_verified": admin, "payroll_id": format!("P{:04}", i + 1), "mobile_number": phone(&mut rng),
            "hire_date": date(created, 0), "term_date": "0000-00-00",
            "last_modified": iso_offset(created + 100 * DAY, 0), "last_active": "",
            "created": iso_offset(created, 0), "client_url": client_url, "company_name": company_name,
            "profile_image_url": "", "display_name": null, "pronouns": "",
            "pto_balances": { pto[0].0.to_string(): vacation, pto[1].0.to_string(): sick },
            "submitted_to": "2000-01-01", "approved_to": "2000-01-01",
            "manager_of_group_ids": [], "require_password_change": false,
            "pay_rate": if admin { 0.0 } else { 18.0 + (i % 6) as f64 }, "pay_interval": "hour",
            "permissions": {
                "admin": admin, "mobile": true, "status_box": admin, "reports": admin,
                "manage_timesheets": admin, "manage_authorization": admin, "manage_users": admin,
                "manage_my_timesheets": true, "manage_jobcodes": admin, "pin_login": false,
                "approve_timesheets": admin, "manage_schedules": admin, "external_access": admin,
                "manage_my_schedule": true, "manage_company_schedules": admin,
                "view_company_schedules": admin, "view_group_schedules": admin,
                "manage_no_schedules": false, "view_my_schedules": true, "view_projects": true,
                "manage_projects": admin, "time_tracking": true,
            },
            "customfields": { CF_DEPARTMENT.to_string(): department },
        }));
    }

    let billable: Vec<u64> = jobcodes
        .iter()
        .filter(|j| j["type"] == "regular" && j["has_children"] == false)
        .filter_map(|j| j["id"].as_u64())
        .collect();
    let mut timesheets = Vec::new();
    let mut files = Vec::new();
    // Timesheets are "recent": they start 90 days before the day the emulator started (the rest
    // of the data keeps its fixed dates), so a preview of the last 90 days finds them.
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(BASE, |d| d.as_secs() as i64 / DAY * DAY);
    let recent = today - 90 * DAY;
    for i in 0..scale.tsheets_timesheets {
        let id = 5_000_001 + i as u64;
        let user_id = 1_000_001 + (i % n_users) as u64;
        let day = (i / n_users) as i64;
        let day = day + (day / 5) * 2; // weekdays only
        // 07:00-09:00 Mountain time (UTC-7) start, 4-8 hours.
        let start = recent + day * DAY + 14 * 3600 + (i % 3) as i64 * 3600;
        let duration = 4 * 3600 + (rng.below(9) as i64) * 1800;
        let end = start + duration;
        let jobcode_id = if billable.is_empty() {
            0
        } else {
            *rng.pick(&billable)
        };
        let manual = i % 10 == 9;
        let notes = if i % 4 == 0 {
            rng.pick(SERVICES).to_string()
        } else {
            String::new()
        };
        let work_order = if i % 3 == 0 {
            format!("WO-{}", 4100 + i / 3)
        } else {
            String::new()
        };
        // Every sixth timesheet has a photo attached.
        let attached: Vec<u64> = if i % 6 == 2 {
            let file = 6_000_001 + files.len() as u64;
            files.push(qbt_file(&mut extra, file, id, user_id, end + 600));
            vec![file]
        } else {
            vec![]
        };
        // Timesheet object: reference 1.12; api_docs Timesheets/_timesheets.md.erb.
        timesheets.push(json!({
            "id": id, "user_id": user_id, "jobcode_id": jobcode_id,
            "start": if manual { String::new() } else { iso_offset(start, -7) },
            "end": if manual { String::new() } else { iso_offset(end, -7) },
            "duration": duration, "date": date(start, -7), "tz": -7, "tz_str": "tsMT",
            "type": if manual { "manual" } else { "regular" },
            "location": if manual { "(no location)" } else { "(Eagle, ID?)" },
            "on_the_clock": false, "locked": 0, "notes": notes,
            "customfields": {
                CF_CREW.to_string(): CREWS[(i % n_users) % CREWS.len()],
                CF_WORK_ORDER.to_string(): work_order,
            },
            "attached_files": attached, "last_modified": iso_offset(end + 3600, 0),
            "created_by_user_id": user_id,
        }));
    }

    QbtData {
        company_id: "4711834".to_string(),
        company_name,
        client_url,
        admin_user_id: 1_000_001,
        users,
        jobcodes,
        timesheets,
        customfields,
        files,
        locations,
    }
}

// ---------------------------------------------------------------------------------------------
// Aspire

const CONTACT_TAGS: &[(u64, &str)] = &[
    (1, "VIP"),
    (2, "HOA Board"),
    (3, "Net 30"),
    (4, "Spanish Speaking"),
    (5, "Referral Partner"),
];
const PROPERTY_TAGS: &[(u64, &str)] = &[
    (11, "Gate Code"),
    (12, "Dogs on Site"),
    (13, "Irrigation Contract"),
    (14, "Snow Priority"),
];
const TAKEOFF_ITEMS: &[(u64, &str)] = &[
    (21, "Turf (sq ft)"),
    (22, "Shrub Beds (sq ft)"),
    (23, "Irrigation Zones"),
];
const LEAD_SOURCES: [&str; 4] = ["Referral", "Website", "Trade Show", "Cold Call"];
const INDUSTRIES: [&str; 3] = [
    "Commercial Property",
    "Residential",
    "Community Association",
];

/// An Address (the spec: `Addresses.ODataModel.Address`); the audit members are added by
/// `address_audit` once the users exist.
fn address(rng: &mut Det, id: u64) -> Value {
    let (city, state, zip) = *rng.pick(CITIES);
    json!({
        "AddressID": id, "AddressLine1": street_line(rng),
        "AddressLine2": null, "City": city, "StateProvinceCode": state, "ZipCode": zip,
    })
}

fn address_audit(created: i64, user: &(u64, String)) -> Value {
    json!({
        "CreatedByUserId": user.0, "CreatedByUserName": user.1, "CreatedOn": iso_z(created),
        "LastModifiedByUserId": user.0, "LastModifiedByUserName": user.1,
        "LastModifiedOn": iso_z(created + 40 * DAY),
    })
}

/// `(id, "First Last")` of contacts, for the many `…ContactID`/`…ContactName` pairs.
type Named = (u64, String);

fn named(c: &Value) -> Named {
    (
        c["ContactID"].as_u64().unwrap_or(0),
        full_name(&c["FirstName"], &c["LastName"]),
    )
}

fn id_or_null(n: Option<&Named>) -> Value {
    n.map_or(Value::Null, |n| json!(n.0))
}

fn name_or_null(n: Option<&Named>) -> Value {
    n.map_or(Value::Null, |n| json!(n.1))
}

fn aspire_data(scale: &DataScale, seed: u64) -> AspireData {
    let mut rng = Det::new(seed);
    let mut extra = Det::new(seed + 100);
    let branch = |i: usize| -> (u64, &'static str) {
        match i % 3 {
            0 => (1, "Main"),
            1 => (2, "North"),
            _ => (3, "South"),
        }
    };
    let contact_types = [
        (1u64, "Customer"),
        (2, "Employee"),
        (3, "Vendor"),
        (4, "Lead"),
    ];

    let mut contacts = Vec::new();
    for i in 0..scale.aspire_contacts {
        let id = 1001 + i as u64;
        let (first, last) = person(&mut rng);
        let (type_id, type_name) = contact_types[if i % 7 == 3 {
            1
        } else if i % 11 == 5 {
            2
        } else {
            0
        }];
        let company_id = 500 + (i / 2) as u64;
        let company = business_name(&mut rng, COMPANY_KINDS);
        let (bid, bname) = branch(i);
        let created = BASE - 500 * DAY + i as i64 * 7200;
        contacts.push(json!({
            "ContactID": id, "CompanyID": company_id, "CompanyName": company,
            "ContactTypeID": type_id, "ContactTypeName": type_name,
            "OfficeAddress": address(&mut rng, 10_000 + id), "HomeAddress": address(&mut rng, 20_000 + id),
            "BranchID": bid, "BranchName": bname,
            "Salutation": null, "FirstName": first, "LastName": last, "Title": null,
            "Email": format!("{}.{}{}@example.com", first, last, i).to_lowercase(),
            "MobilePhone": phone(&mut rng), "OfficePhone": phone(&mut rng), "HomePhone": null, "Fax": null,
            "Notes": null, "Active": true, "CreatedDateTime": iso_z(created),
            "EmployeeNumber": if type_id == 2 { json!(format!("E{:04}", i)) } else { Value::Null },
            "AccountingSyncID": null, "ExternalContactReference": null,
            "TerminationDate": null, "UserID": null,
            "ModifiedDate": iso_z(created + 40 * DAY),
        }));
    }

    let n_users = (scale.aspire_contacts / 5).clamp(3, 200);
    let mut users = Vec::new();
    for i in 0..n_users {
        let (first, last) = person(&mut rng);
        let (bid, bname) = branch(i);
        // The spec: `Users.ODataModel.User`, `…BranchAccess` {BranchID, BranchName} and
        // `…UserRole` {RoleID, RoleName}. Every third field user also leads a crew.
        let mut roles = vec![if i == 0 {
            json!({"RoleID": 1, "RoleName": "Administrator"})
        } else {
            json!({"RoleID": 2, "RoleName": "Field User"})
        }];
        if i % 3 == 1 {
            roles.push(json!({"RoleID": 3, "RoleName": "Crew Leader"}));
        }
        users.push(json!({
            "UserID": 1 + i as u64, "ContactFirstName": first, "ContactLastName": last,
            "Active": true, "AllBranchAccess": i == 0,
            "BranchAccess": if i == 0 { json!([]) } else { json!([{"BranchID": bid, "BranchName": bname}]) },
            "UserRoles": roles,
            "ExternalContactReference": null,
        }));
    }
    // Records are created and edited by the office administrator (user 1).
    let admin: Named = (
        1,
        users
            .first()
            .map(|u| full_name(&u["ContactFirstName"], &u["ContactLastName"]))
            .unwrap_or_default(),
    );
    let employees: Vec<Named> = contacts
        .iter()
        .filter(|c| c["ContactTypeID"] == 2)
        .map(named)
        .collect();
    let employee = |i: usize| -> Option<&Named> {
        (!employees.is_empty()).then(|| &employees[i % employees.len()])
    };

    // The rest of the Contact schema (the spec: `Contacts.ODataModel.Contact`, `…ContactTag`).
    for (i, c) in contacts.iter_mut().enumerate() {
        let id = c["ContactID"].as_u64().unwrap_or(0);
        let created = BASE - 500 * DAY + i as i64 * 7200;
        let is_employee = c["ContactTypeID"] == 2;
        let is_customer = c["ContactTypeID"] == 1;
        for key in ["OfficeAddress", "HomeAddress"] {
            if let Some(a) = c.get_mut(key) {
                extend(a, address_audit(created, &admin));
            }
        }
        let n_tags = match i % 9 {
            0 => 2,
            3 | 6 => 1,
            _ => 0,
        };
        let tags: Vec<Value> = (0..n_tags)
            .map(|k| {
                let (tag_id, tag) = CONTACT_TAGS[(i / 3 + k) % CONTACT_TAGS.len()];
                json!({"ContactTagID": id * 10 + k as u64, "TagID": tag_id, "TagName": tag})
            })
            .collect();
        let state = c["OfficeAddress"]["StateProvinceCode"].clone();
        let site =
            (is_customer && i % 4 == 0).then(|| website(c["CompanyName"].as_str().unwrap_or("")));
        let owner = employee(0);
        let more = join(vec![
            json!({
                "OwnerContactID": id_or_null(owner), "OwnerContactName": name_or_null(owner),
                "ProspectRating": null, "ProspectRatingName": null,
                "CreatedByUserID": admin.0, "CreatedByUserName": admin.1, "Website": site,
                "EmployeePin": if is_employee { json!(extra.digits(4)) } else { Value::Null },
                "HRNotes": null,
            }),
            json!({
                "DefaultWorkersCompID": if is_employee { json!(1) } else { Value::Null },
                "DefaultWorkersCompName": if is_employee { json!("0042 Landscape Gardening") } else { Value::Null },
                "DefaultWorkersCompStateProvinceCode": if is_employee { state } else { Value::Null },
                "CrewSize": if is_employee { json!(3) } else { Value::Null },
                "PromptForCrewSize": if is_employee { json!(false) } else { Value::Null },
                "SubCrewLeaderContactID": null,
                "PayScheduleID": if is_employee { json!(1) } else { Value::Null },
                "LastModifiedByUserId": admin.0, "LastModifiedByUserName": admin.1,
                "ContactTags": tags, "ContactSignature": null,
            }),
        ]);
        extend(c, more);
    }

    let customers: Vec<&Value> = contacts
        .iter()
        .filter(|c| c["ContactTypeID"] == 1)
        .collect();
    let mut properties = Vec::new();
    for i in 0..scale.aspire_properties {
        let id = 2001 + i as u64;
        let owner = if customers.is_empty() {
            None
        } else {
            Some(customers[i % customers.len()])
        };
        let (city, state, zip) = *rng.pick(CITIES);
        let (bid, bname) = branch(i);
        let created = BASE - 450 * DAY + i as i64 * 9000;
        let name = business_name(&mut rng, COMPANY_KINDS);
        // The same generator calls, in the same order, as before these properties were added.
        let address_line = street_line(&mut rng);
        let budget = (rng.below(5_000_000) as f64) / 100.0;
        let (latitude, longitude) = near(city, &mut rng);
        let base = json!({
            "PropertyID": id, "PropertyStatusID": 1, "PropertyStatusName": "Customer",
            "BranchID": bid, "BranchName": bname, "BranchCode": bname.to_uppercase(),
            "AccountOwnerContactID": owner.map(|c| c["ContactID"].clone()).unwrap_or(Value::Null),
            "AccountOwnerContactName": owner.map(|c| json!(full_name(&c["FirstName"], &c["LastName"]))).unwrap_or(Value::Null),
            "PropertyAddressLine1": address_line,
            "PropertyAddressLine2": null, "PropertyAddressCity": city,
            "PropertyAddressStateProvinceCode": state, "PropertyAddressZipCode": zip,
            "PropertyName": name, "Active": true,
            "Budget": budget, "Note": null,
            "CreatedDate": iso_z(created), "ModifiedDate": iso_z(created + 20 * DAY),
            "GEOLocationLatitude": latitude, "GEOLocationLongitude": longitude,
            "PaymentTermsID": 1,
            "PropertyTypeID": 1 + (i % 3) as u64,
            "PropertyType": PROPERTY_TYPES[i % 3],
            "IntegrationID": null,
        });
        // The rest of the Property schema (the spec: `Properties.ODataModel.Property`,
        // `…PropertyContact`, `…PropertyTag`, `…PropertyTakeoffItem`).
        let mut property_contacts = Vec::new();
        let mut contact_row = |c: &Value, primary: bool| {
            property_contacts.push(json!({
                "PropertyID": id, "ContactID": c["ContactID"],
                "ContactName": full_name(&c["FirstName"], &c["LastName"]),
                "PrimaryContact": primary, "BillingContact": primary, "EmailInvoiceContact": primary,
                "EmailNotificationsContact": true, "CompanyID": c["CompanyID"],
                "CompanyName": c["CompanyName"], "SMSNotificationsContact": false,
                "CreatedByUserID": admin.0, "CreatedByUserName": admin.1,
                "CreatedDateTime": iso_z(created), "LastModifiedByUserID": admin.0,
                "LastModifiedByUserName": admin.1, "LastModifiedDateTime": iso_z(created + 20 * DAY),
            }));
        };
        if let Some(o) = owner {
            contact_row(o, true);
        }
        // Every fourth property also has an on-site contact.
        if i % 4 == 1 && customers.len() > 1 {
            contact_row(customers[(i + 1) % customers.len()], false);
        }
        let tags: Vec<Value> = if i % 2 == 0 {
            let (tag_id, tag) = PROPERTY_TAGS[(i / 2) % PROPERTY_TAGS.len()];
            vec![json!({"PropertyTagID": id * 10 + 1, "TagID": tag_id, "TagName": tag})]
        } else {
            vec![]
        };
        let takeoff: Vec<Value> = TAKEOFF_ITEMS
            .iter()
            .take(1 + i % TAKEOFF_ITEMS.len())
            .enumerate()
            .map(|(k, (item_id, item))| {
                let value = if k == 2 {
                    (4 + extra.below(12)) as f64
                } else {
                    (500 + extra.below(40_000)) as f64
                };
                json!({"PropertyTakeoffItemID": id * 10 + k as u64, "TakeoffItemID": item_id,
                       "TakeoffItemName": item, "TakeoffItemValue": value})
            })
            .collect();
        let manager = employee(i);
        let initials: String = name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect();
        let tax_id = if state == "ID" { 1 } else { 2 };
        let snow = (i % 4 == 0).then_some("Plow at 2 in.; salt the walks");
        let property = join(vec![
            base,
            json!({
                "ProductionManagerContactID": id_or_null(manager),
                "ProductionManagerContactName": name_or_null(manager),
                "PropertyAddressID": 30_000 + id, "CountyID": null,
                "LocalityID": null, "LocalityName": null,
                "IndustryID": 1 + (i % 3) as u64, "IndustryName": INDUSTRIES[i % 3],
                "LeadSourceID": 1 + (i % 4) as u64, "LeadSourceName": LEAD_SOURCES[i % 4],
                "TaxJurisdictionID": tax_id, "TaxJurisdictionName": format!("{state} Sales Tax"),
                "PropertyGroupID": null, "ActiveOpportunityID": 600 + i as u64,
                "CompetitorID": null, "PropertyGroupName": null,
            }),
            json!({
                "PropertyNameAbr": format!("{initials}{id}"), "SequenceNumber": null,
                "ProductionNote": (i % 5 == 0).then_some("Gate code on file with the office"),
                "EmailInvoice": true, "CreatedByUserID": admin.0, "CreatedByUserName": admin.1,
                "GEOPerimeter": 150.0 + (extra.below(4000) as f64) / 2.0,
                "PaymentTermsName": "Net 30", "SeparateInvoices": false, "Website": null,
                "ModifiedByUserID": admin.0, "ModifiedByUserName": admin.1,
                "DragDropGeoLocation": false, "GPSUpdated": true, "GPSGeofenceID": null,
                "SnowNote": snow, "EarliestOpportunityWonDate": iso_z(created + 5 * DAY),
            }),
            json!({
                "PropertyContacts": property_contacts, "PropertyTags": tags,
                "PropertyTakeoffItems": takeoff, "CollectionNotes": null,
                "PropertyTypeIntegrationCode": null,
            }),
        ]);
        properties.push(property);
    }

    let statuses = [
        (1u64, "Open"),
        (2, "Scheduled"),
        (3, "Complete"),
        (4, "Invoiced"),
    ];
    let tz = "Mountain Standard Time";
    let mut work_tickets = Vec::new();
    let mut work_ticket_times = Vec::new();
    // A crew member's day, for the clock times: (day, contact) -> first start, last end, name,
    // latitude, longitude.
    type WorkDay = (i64, i64, String, f64, f64);
    let mut days: BTreeMap<(i64, u64), WorkDay> = BTreeMap::new();
    for i in 0..scale.aspire_work_tickets {
        let id = 30_001 + i as u64;
        let (sid, sname) = statuses[i % statuses.len()];
        let leader = employee(i);
        let (bid, bname) = branch(i);
        let start = BASE + (i as i64 % 60) * DAY + 14 * 3600;
        let hours_est = 2.0 + (rng.below(12) as f64) / 2.0;
        let price = (rng.below(200_000) as f64) / 100.0 + 100.0;
        let complete = sid >= 3;
        let hours_act = if complete { hours_est + 0.5 } else { 0.0 };
        let invoice_id = (sid == 4).then(|| 70_000 + i as u64);
        let invoice_number = (sid == 4).then(|| 8000 + i as u64);
        let base = json!({
            "WorkTicketID": id, "OpportunityServiceID": 40_000 + i as u64,
            "OpportunityID": 600 + (i / 3) as u64, "OpportunityNumber": 1600 + (i / 3) as u64,
            "WorkTicketNumber": 10_000 + i as u64, "WorkTicketStatusID": sid,
            "WorkTicketStatusName": sname, "WorkTicketStatus": sname,
            "AnticStartDate": iso_z(start), "ScheduledStartDate": iso_z(start),
            "CompleteDate": if complete { json!(iso_z(start + 6 * 3600)) } else { Value::Null },
            "ApprovedDate": if complete { json!(iso_z(start + DAY)) } else { Value::Null },
            "CrewLeaderContactID": id_or_null(leader), "CrewLeaderName": name_or_null(leader),
            "HoursEst": hours_est, "HoursAct": hours_act,
            "OTHoursAct": 0.0, "Price": price,
            "InvoicedAmount": if sid == 4 { price } else { 0.0 },
            "InvoiceID": invoice_id, "InvoiceNumber": invoice_number,
            "BranchID": bid, "BranchName": bname,
            "LastModifiedDateTime": iso_z(start + 2 * DAY), "CreatedDateTime": iso_z(start - 10 * DAY),
        });
        // The rest of the WorkTicket schema (the spec: `WorkTickets.ODataModel.WorkTicket`,
        // `…WorkTicketRevenue`). Costs follow the hours: labour at $28/h, materials 20% of
        // the price, equipment $12/h.
        let labor = hours_act * 28.0;
        let material = if complete { cents(price * 0.2) } else { 0.0 };
        let equipment = hours_act * 12.0;
        let total_cost = cents(labor + material + equipment);
        let earned = if complete { price } else { 0.0 };
        let (month, month_name, period) = month_of(start);
        let year = period / 100;
        let revenue = json!({
            "WorkTicketRevenueID": 80_000 + i as u64, "RevenueMonth": iso_z(month),
            "RevenueAmount": price, "CreatedDateTime": iso_z(start - 10 * DAY),
            "EditedByUserID": admin.0, "EditedByUserName": admin.1,
            "EditedDateTime": iso_z(start - 10 * DAY), "AccountingPeriodID": period,
            "AccountingPeriodName": month_name, "AccountingPeriodYear": year,
        });
        let reviewed = complete.then(|| iso_z(start + DAY / 2));
        // The administrator approves and reviews completed tickets and exports invoiced ones.
        let approver = complete.then_some(&admin);
        let ops_manager = employee(i + 1);
        let ticket = join(vec![
            base,
            json!({
                "ContractYear": year, "Occur": 1 + (i % 4) as u64, "AnnualizedOccur": 28,
                "Notes": null, "HourCostEst": hours_est * 28.0, "MaterialCostEst": cents(price * 0.2),
                "EquipCostEst": hours_est * 12.0, "SubCostEst": 0.0, "OtherCostEst": 0.0,
                "TMCalcAmount": 0.0, "TMOverrideAmount": null,
                "ApprovedUserID": id_or_null(approver), "ApprovedUserName": name_or_null(approver),
                "WarrantyHoursAct": 0.0, "LaborCostAct": labor, "MaterialCostAct": material,
                "EquipmentCostAct": equipment, "SubCostAct": 0.0, "OtherCostAct": 0.0,
                "TotalCostAct": total_cost,
            }),
            json!({
                "EarnedRevenue": earned,
                "RealizeRateRevenue": if hours_act > 0.0 { cents(earned / hours_act) } else { 0.0 },
                "EstRealizeRateRevenue": cents(price / hours_est), "DistributedHours": 0.0,
                "PartialOccurrence": 0.0, "LastModifiedByUserID": admin.0,
                "LastModifiedByUserName": admin.1, "CreatedByUserID": admin.0,
                "CreatedByUserName": admin.1, "SubPartialOccurrence": 0.0,
                "HoursScheduled": if sid >= 2 { hours_est } else { 0.0 },
                "HoursUnscheduled": if sid >= 2 { 0.0 } else { hours_est },
                "WorkTicketRevenues": [revenue],
            }),
            json!({
                "ReviewedDateTime": reviewed,
                "ReviewedUserID": id_or_null(approver), "ReviewedUserName": name_or_null(approver),
                "StartFormDateTime": null, "StartFormUserId": null, "Occurrences": 1,
                "OnSiteHours": hours_act, "OnSiteOverUnder": if complete { hours_est - hours_act } else { 0.0 },
                "OnSiteVariance": if complete { cents(100.0 * (hours_act - hours_est) / hours_est) / 100.0 } else { 0.0 },
                "OperationsManagerContactID": id_or_null(ops_manager), "Revenue": price,
                "PercentComplete": if complete { 100.0 } else { 0.0 },
                "VisitsScheduled": if sid >= 2 { 1 } else { 0 },
                "RouteSupervisorContactID": id_or_null(leader),
                "BudgetVariance": if complete { cents(price - total_cost) } else { 0.0 },
            }),
        ]);
        work_tickets.push(ticket);

        // Labour time: the crew leader and one more crew member on each completed ticket (the
        // spec: `WorkTicketTimes.ODataModel.WorkTicketTime`).
        if !complete {
            continue;
        }
        let mut crew: Vec<&Named> = leader.into_iter().collect();
        if let Some(second) = employee(i + 1)
            && !crew.iter().any(|c| c.0 == second.0)
        {
            crew.push(second);
        }
        let each = (hours_act / crew.len().max(1) as f64 * 4.0).round() / 4.0;
        let route = (
            bid * 10 + 1 + (i % 2) as u64,
            format!("{bname} Route {}", 1 + i % 2),
        );
        let day_start = start / DAY * DAY;
        // On site: the ticket's property (tickets cycle through the properties).
        let (lat, lon) = properties
            .get(i % properties.len().max(1))
            .map_or((0.0, 0.0), |p| {
                (
                    p["GEOLocationLatitude"].as_f64().unwrap_or(0.0),
                    p["GEOLocationLongitude"].as_f64().unwrap_or(0.0),
                )
            });
        for member in crew {
            let t_id = 90_001 + work_ticket_times.len() as u64;
            let end = start + (each * 3600.0) as i64;
            let accepted = end + 3600;
            let approved = start + DAY;
            let exported = (sid == 4).then(|| iso_z(approved + DAY));
            let exporter = (sid == 4).then_some(&admin);
            let rate = 18.0 + (member.0 % 6) as f64;
            days.entry((day_start, member.0))
                .and_modify(|d| {
                    d.0 = d.0.min(start);
                    d.1 = d.1.max(end);
                })
                .or_insert((start, end, member.1.clone(), lat, lon));
            work_ticket_times.push(join(vec![
                json!({
                    "WorkTicketTimeID": t_id, "WorkTicketID": id, "WorkTicketNumber": 10_000 + i as u64,
                    "ContactID": member.0, "ContactName": member.1,
                    "WorkTicketTimeDate": iso_z(day_start), "StartTime": iso_z(start), "EndTime": iso_z(end),
                    "OpportunityServiceLaborRateID": 1, "OpportunityServiceLaborRateName": "Maintenance Labor",
                    "OpportunityServiceLaborRate": 45.0, "PayCodeID": 1, "PayCodeName": "Regular",
                    "Hours": each, "OTHours": 0.0, "WarrantyTime": false, "DistributedTime": false,
                    "BurdenedCost": cents(each * rate * 1.3), "InvoiceID": invoice_id,
                }),
                json!({
                    "CreatedDateTime": iso_z(end), "CreatedByUserID": admin.0,
                    "CreatedByUserName": admin.1, "LastModifiedDateTime": iso_z(accepted),
                    "LastModifiedByUserID": admin.0, "LastModifiedByUserName": admin.1,
                    "AcceptedDateTime": iso_z(accepted), "AcceptedUserID": admin.0,
                    "AcceptedUserName": admin.1, "ApprovedDateTime": iso_z(approved),
                    "ApprovedUserID": admin.0, "ApprovedUserName": admin.1,
                    "ExportedDateTime": exported,
                    "ExportedUserID": id_or_null(exporter), "ExportedUserName": name_or_null(exporter),
                }),
                json!({
                    "BreakTime": 0.0, "HasBreakTime": false, "BaseHourlyRate": rate,
                    "RouteID": route.0, "RouteName": route.1,
                    "CrewLeaderContactID": id_or_null(leader), "CrewLeaderContactName": name_or_null(leader),
                    "BranchID": bid, "BranchName": bname, "BranchTimeZone": tz,
                    "GEOLocationStartLatitude": lat, "GEOLocationStartLongitude": lon,
                    "GEOLocationEndLatitude": lat, "GEOLocationEndLongitude": lon,
                    "InvoiceNumber": invoice_number,
                }),
            ]));
        }
    }

    // Clock times: each crew member clocks in 30 minutes before their first ticket of the day
    // and out 30 minutes after the last (the spec: `ClockTimes.ODataModel.ClockTime`).
    let clock_times: Vec<Value> = days
        .into_iter()
        .enumerate()
        .map(|(k, ((_, contact), (start, end, name, lat, lon)))| {
            json!({
                "ClockTimeID": 95_001 + k as u64, "ContactID": contact, "ContactName": name,
                "ClockStart": iso_z(start - 1800), "ClockEnd": iso_z(end + 1800),
                "AcceptedDateTime": iso_z(end + 5400), "AcceptedUserID": admin.0,
                "AcceptedUserName": admin.1, "BreakTime": 0.5, "AcceptedShortLunch": false,
                "UsedBreaks": true, "PreventedFromUsingBreaks": false,
                "GEOLocationStartLatitude": lat, "GEOLocationStartLongitude": lon,
                "GEOLocationEndLatitude": lat, "GEOLocationEndLongitude": lon,
            })
        })
        .collect();

    // The spec: `Branches.ODataModel.Branch`.
    let branches: Vec<Value> = [
        (1u64, "Main", "MAIN", "Boise", "83702"),
        (2, "North", "NORTH", "Eagle", "83616"),
        (3, "South", "SOUTH", "Meridian", "83642"),
    ]
    .into_iter()
    .enumerate()
    .map(|(k, (id, name, code, city, zip))| {
        let manager = employee(k);
        join(vec![
            json!({
                "BranchID": id, "BranchName": name, "Active": true,
                "InternalPropertyID": 2900 + id, "InternalPropertyName": format!("{name} Yard"),
                "CatalogPriceListName": "Standard", "BranchAddressID": 9000 + id,
                "BranchAddressLine1": format!("{} Industrial Way", 100 * id),
                "BranchAddressLine2": null, "BranchAddressCity": city,
                "BranchAddressStateProvinceCode": "ID", "BranchAddressZipCode": zip,
                "BranchPhone": format!("(208) 555-01{id:02}"), "BranchFax": null,
                "BranchCode": code,
            }),
            json!({
                "BranchManagerContactID": id_or_null(manager),
                "BranchManagerContactName": name_or_null(manager),
                "LegalName": "Patchbay Practice Landscaping LLC", "TimeZone": tz,
                "InvoiceNumberPrefix": format!("{}-", &code[..1]), "ReceiptNumberPrefix": format!("R{}-", &code[..1]),
                "OpportunityNumberPrefix": format!("O{}-", &code[..1]), "RegionID": 1,
                "RegionName": "Treasure Valley", "BillingEmailFromAccountOwner": false,
                "BillingEmailFromUserName": admin.1,
                "BillingEmailFromEmail": "billing@patchbay-practice.example",
            }),
            json!({
                "BillingEmailSubject": "Invoice from Patchbay Practice Landscaping",
                "BillingEmailBody": "Thank you for your business. Your invoice is attached.",
                "InvoiceOnCompletionDescription": null,
                "BranchWebSite": "https://www.patchbay-practice.example",
                "CatalogPriceListID": 1, "BillingEmailCC": null,
            }),
        ])
    })
    .collect();

    // The spec: `Divisions.ODataModel.Division`.
    let divisions: Vec<Value> = [
        (1u64, "Maintenance", "MAINT", false),
        (2, "Enhancements", "ENH", false),
        (3, "Irrigation", "IRR", false),
        (4, "Snow", "SNOW", false),
    ]
    .into_iter()
    .map(|(id, name, code, indirect)| {
        json!({
            "DivisionID": id, "DivisionName": name, "Active": true, "DivisionCode": code,
            "Indirect": indirect, "WorkersCompID": 1, "WorkersCompName": "0042 Landscape Gardening",
            "AccountNumber": format!("4{id}00"), "MaterialExpenseAccountNumber": format!("5{id}10"),
            "EquipmentExpenseAccountNumber": format!("5{id}20"),
            "SubExpenseAccountNumber": format!("5{id}30"), "OtherExpenseAccountNumber": format!("5{id}40"),
        })
    })
    .collect();

    AspireData {
        users,
        contacts,
        properties,
        work_tickets,
        work_ticket_times,
        clock_times,
        branches,
        divisions,
    }
}

// ---------------------------------------------------------------------------------------------
// QuickBooks Online
//
// Intuit leaves optional properties that are not set out of its answers (the samples in the
// mirror list only what is set), so each property below is present on the records where it has
// a value: sub-customers have `ParentRef` and `Level`, sub-accounts `ParentRef`, and so on.

fn meta(secs: i64) -> Value {
    json!({"CreateTime": iso_offset(secs, -7), "LastUpdatedTime": iso_offset(secs + 30 * DAY, -7)})
}

fn qbo_address(rng: &mut Det, id: u64) -> Value {
    let (city, state, zip) = *rng.pick(CITIES);
    json!({
        "Id": id.to_string(), "Line1": street_line(rng),
        "City": city, "Country": "US", "CountrySubDivisionCode": state, "PostalCode": zip,
    })
}

fn qbo_phone(rng: &mut Det) -> Value {
    json!({"FreeFormNumber": format!("(208) 555-{}", rng.digits(4))})
}

/// A customer or vendor: the mirror's customer.md / vendor.md attribute tables and samples.
fn qbo_party(
    rng: &mut Det,
    extra: &mut Det,
    i: usize,
    id: u64,
    created: i64,
    vendor: bool,
) -> Value {
    let (first, last) = person(rng);
    let kinds = if vendor {
        &["Supply", "Nursery", "Equipment", "Fuel", "Stone"]
    } else {
        COMPANY_KINDS
    };
    let company = business_name(rng, kinds);
    let display = format!("{company} ({first} {last})");
    let mut v = json!({
        "Id": id.to_string(), "SyncToken": "0", "DisplayName": display, "GivenName": first,
        "FamilyName": last, "CompanyName": company, "PrintOnCheckName": company, "Active": true,
        "PrimaryEmailAddr": {"Address": format!("{}.{}@example.com", first, last).to_lowercase()},
        "PrimaryPhone": qbo_phone(rng),
        "BillAddr": qbo_address(rng, id + 1000), "Balance": (rng.below(500_000) as f64) / 100.0,
        "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
        "domain": "QBO", "sparse": false, "MetaData": meta(created),
        // Net 30 (TermRef is a ReferenceType; Intuit sends the id).
        "TermRef": {"value": "3"},
    });
    if let Some(obj) = v.as_object_mut() {
        if i % 6 == 1 {
            obj.insert(
                "MiddleName".into(),
                json!(format!("{}.", (b'A' + (i % 26) as u8) as char)),
            );
        }
        if i.is_multiple_of(3) {
            obj.insert("Mobile".into(), qbo_phone(extra));
        }
        if i.is_multiple_of(7) {
            obj.insert("Fax".into(), qbo_phone(extra));
        }
        if i.is_multiple_of(4) {
            obj.insert("WebAddr".into(), json!({"URI": website(&company)}));
        }
        if vendor {
            // 1099 contractors (subcontract crews) have a masked tax id and rates.
            let contractor = i % 4 == 1;
            obj.insert("Vendor1099".into(), json!(contractor));
            obj.insert("AcctNum".into(), json!(format!("PB-{}", 10_000 + i)));
            if i.is_multiple_of(5) {
                obj.insert("AlternatePhone".into(), qbo_phone(extra));
            }
            if contractor {
                obj.insert(
                    "TaxIdentifier".into(),
                    json!(format!("XXXXX{}", extra.digits(4))),
                );
                obj.insert("CostRate".into(), json!(35.0 + (i % 4) as f64 * 5.0));
                obj.insert("BillRate".into(), json!(55.0 + (i % 4) as f64 * 5.0));
            }
        } else {
            obj.insert("FullyQualifiedName".into(), json!(display));
            obj.insert("Taxable".into(), json!(true));
            obj.insert("Job".into(), json!(false));
            obj.insert("BillWithParent".into(), json!(false));
            obj.insert("BalanceWithJobs".into(), obj["Balance"].clone());
            obj.insert("PreferredDeliveryMethod".into(), json!("Email"));
            // Services are delivered where the customer is billed.
            let mut ship = obj["BillAddr"].clone();
            extend(&mut ship, json!({"Id": (id + 2000).to_string()}));
            obj.insert("ShipAddr".into(), ship);
            if i.is_multiple_of(5) {
                obj.insert(
                    "Notes".into(),
                    json!("Gate code on file; mowing on Tuesdays."),
                );
            }
            if i.is_multiple_of(2) {
                // Check (a PaymentMethod ReferenceType).
                obj.insert("PaymentMethodRef".into(), json!({"value": "2"}));
            }
        }
    }
    v
}

const ACCOUNTS: &[(&str, &str, &str, &str)] = &[
    ("Checking", "Bank", "Checking", "Asset"),
    ("Savings", "Bank", "Savings", "Asset"),
    (
        "Accounts Receivable (A/R)",
        "Accounts Receivable",
        "AccountsReceivable",
        "Asset",
    ),
    (
        "Undeposited Funds",
        "Other Current Asset",
        "UndepositedFunds",
        "Asset",
    ),
    (
        "Inventory Asset",
        "Other Current Asset",
        "Inventory",
        "Asset",
    ),
    ("Trucks", "Fixed Asset", "Vehicles", "Asset"),
    (
        "Accounts Payable (A/P)",
        "Accounts Payable",
        "AccountsPayable",
        "Liability",
    ),
    ("Visa", "Credit Card", "CreditCard", "Liability"),
    (
        "Payroll Liabilities",
        "Other Current Liability",
        "PayrollTaxPayable",
        "Liability",
    ),
    (
        "Opening Balance Equity",
        "Equity",
        "OpeningBalanceEquity",
        "Equity",
    ),
    ("Retained Earnings", "Equity", "RetainedEarnings", "Equity"),
    ("Services", "Income", "ServiceFeeIncome", "Revenue"),
    (
        "Landscaping Services",
        "Income",
        "ServiceFeeIncome",
        "Revenue",
    ),
    (
        "Sales of Product Income",
        "Income",
        "SalesOfProductIncome",
        "Revenue",
    ),
    (
        "Cost of Goods Sold",
        "Cost of Goods Sold",
        "SuppliesMaterialsCogs",
        "Expense",
    ),
    (
        "Job Materials",
        "Cost of Goods Sold",
        "SuppliesMaterialsCogs",
        "Expense",
    ),
    ("Payroll Expenses", "Expense", "PayrollExpenses", "Expense"),
    ("Fuel", "Expense", "Auto", "Expense"),
    ("Equipment Rental", "Expense", "EquipmentRental", "Expense"),
    ("Insurance", "Expense", "Insurance", "Expense"),
    (
        "Rent or Lease",
        "Expense",
        "RentOrLeaseOfBuildings",
        "Expense",
    ),
    ("Utilities", "Expense", "Utilities", "Expense"),
    (
        "Office Expenses",
        "Expense",
        "OfficeGeneralAdministrativeExpenses",
        "Expense",
    ),
    (
        "Interest Earned",
        "Other Income",
        "InterestEarned",
        "Revenue",
    ),
];

/// Sub-accounts: (account, its parent), both in `ACCOUNTS` with the parent first.
const SUB_ACCOUNTS: &[(&str, &str)] = &[
    ("Landscaping Services", "Services"),
    ("Job Materials", "Cost of Goods Sold"),
];

fn account_position(name: &str) -> Option<usize> {
    ACCOUNTS.iter().position(|a| a.0 == name)
}

fn qbo_company(scale: &DataScale, seed: u64, realm_id: &str, name: &str) -> QboCompany {
    let mut rng = Det::new(seed);
    let mut extra = Det::new(seed + 100);
    let created = BASE - 700 * DAY;
    let mut customers: Vec<Value> = (0..scale.qbo_customers)
        .map(|i| {
            qbo_party(
                &mut rng,
                &mut extra,
                i,
                1 + i as u64,
                created + i as i64 * 3600,
                false,
            )
        })
        .collect();
    // Every eighth customer is a job (sub-customer) of the one before it (the mirror's
    // customer.md: Job, ParentRef, Level, FullyQualifiedName "Parent:Child", BalanceWithJobs).
    for i in (7..customers.len()).step_by(8) {
        let (parent_id, parent_name) = (
            customers[i - 1]["Id"].clone(),
            customers[i - 1]["DisplayName"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
        let own = customers[i]["Balance"].as_f64().unwrap_or(0.0);
        let child_name = customers[i]["DisplayName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        extend(
            &mut customers[i],
            json!({
                "Job": true, "BillWithParent": true, "Level": 1,
                "ParentRef": {"value": parent_id},
                "FullyQualifiedName": format!("{parent_name}:{child_name}"),
            }),
        );
        add_cents(&mut customers[i - 1], "BalanceWithJobs", own);
    }
    let vendors: Vec<Value> = (0..scale.qbo_vendors)
        .map(|i| {
            qbo_party(
                &mut rng,
                &mut extra,
                i,
                5001 + i as u64,
                created + i as i64 * 3600,
                true,
            )
        })
        .collect();
    // Account: the mirror's account.md attribute table and sample.
    let mut accounts: Vec<Value> = (0..scale.qbo_accounts)
        .map(|i| {
            let (base_name, ty, sub, class) = ACCOUNTS[i % ACCOUNTS.len()];
            let name = nth_name(base_name, i / ACCOUNTS.len());
            let balance = if matches!(class, "Asset" | "Liability") {
                (rng.below(5_000_000) as f64) / 100.0
            } else {
                0.0
            };
            json!({
                "Id": (10 + i).to_string(), "SyncToken": "0", "Name": name, "SubAccount": false,
                "FullyQualifiedName": name, "Active": true, "Classification": class,
                "AccountType": ty, "AccountSubType": sub, "CurrentBalance": balance,
                "CurrentBalanceWithSubAccounts": balance, "Description": format!("{base_name} ({ty})"),
                "AcctNum": format!("{}", 1000 + i * 10),
                "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
                "domain": "QBO", "sparse": false, "MetaData": meta(created),
            })
        })
        .collect();
    for i in 0..accounts.len() {
        let base_name = ACCOUNTS[i % ACCOUNTS.len()].0;
        let Some(parent_name) = SUB_ACCOUNTS
            .iter()
            .find(|(child, _)| *child == base_name)
            .map(|(_, p)| *p)
        else {
            continue;
        };
        let (Some(child_pos), Some(parent_pos)) =
            (account_position(base_name), account_position(parent_name))
        else {
            continue;
        };
        let p = i - (child_pos - parent_pos);
        let parent_ref = json!({"value": accounts[p]["Id"], "name": accounts[p]["Name"]});
        let fq = format!(
            "{}:{}",
            accounts[p]["FullyQualifiedName"].as_str().unwrap_or(""),
            accounts[i]["Name"].as_str().unwrap_or("")
        );
        let own = accounts[i]["CurrentBalanceWithSubAccounts"]
            .as_f64()
            .unwrap_or(0.0);
        extend(
            &mut accounts[i],
            json!({"SubAccount": true, "ParentRef": parent_ref, "FullyQualifiedName": fq}),
        );
        add_cents(&mut accounts[p], "CurrentBalanceWithSubAccounts", own);
    }
    let account_ref = |ty: &str| {
        accounts
            .iter()
            .find(|a| a["AccountType"] == ty)
            .map(|a| json!({"value": a["Id"], "name": a["Name"]}))
            .unwrap_or(Value::Null)
    };
    let income_ref = account_ref("Income");
    let expense_ref = account_ref("Cost of Goods Sold");
    let vendor_ref = vendors
        .first()
        .map(|v| json!({"value": v["Id"], "name": v["DisplayName"]}))
        .unwrap_or(Value::Null);
    // Item: the mirror's item.md attribute table and samples (Service and NonInventory items;
    // the India-only and minor-version-gated properties are not set).
    let items: Vec<Value> = (0..scale.qbo_items)
        .map(|i| {
            let base = SERVICES[i % SERVICES.len()];
            let name = nth_name(base, i / SERVICES.len());
            let non_inventory = i % 4 == 3;
            let mut item = json!({
                "Id": (100 + i).to_string(), "SyncToken": "0", "Name": name, "FullyQualifiedName": name,
                "Description": format!("{name} service"), "Active": true, "Taxable": false,
                "UnitPrice": 40.0 + (rng.below(16) as f64) * 5.0,
                "Type": if non_inventory { "NonInventory" } else { "Service" },
                "IncomeAccountRef": income_ref, "PurchaseCost": 0.0, "TrackQtyOnHand": false,
                "domain": "QBO", "sparse": false, "MetaData": meta(created + i as i64 * 600),
                "SubItem": false, "Sku": format!("{}-{:03}", if non_inventory { "MAT" } else { "SVC" }, i + 1),
            });
            if non_inventory {
                extend(
                    &mut item,
                    json!({
                        "Taxable": true, "PurchaseDesc": format!("{name} materials"),
                        "PurchaseCost": 10.0 + (extra.below(30) as f64),
                        "ExpenseAccountRef": expense_ref, "PrefVendorRef": vendor_ref,
                    }),
                );
            }
            item
        })
        .collect();
    let addr = qbo_address(&mut rng, 1);
    let company_info = json!({
        "Id": "1", "SyncToken": "4", "CompanyName": name, "LegalName": name,
        "CompanyAddr": addr, "CustomerCommunicationAddr": addr, "LegalAddr": addr,
        "PrimaryPhone": {"FreeFormNumber": "(208) 555-0100"}, "CompanyStartDate": date(created, -7),
        "FiscalYearStartMonth": "January", "Country": "US",
        "Email": {"Address": "office@patchbay-practice.example"}, "WebAddr": {},
        "SupportedLanguages": "en",
        "NameValue": [
            {"Name": "NeoEnabled", "Value": "true"},
            {"Name": "IndustryType", "Value": "Landscaping Services"},
            {"Name": "CompanyType", "Value": "LLC"},
            {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
            {"Name": "PayrollFeature", "Value": "false"},
            {"Name": "AccountantFeature", "Value": "false"},
        ],
        "domain": "QBO", "sparse": false, "MetaData": meta(created),
    });
    QboCompany {
        realm_id: realm_id.to_string(),
        company_name: name.to_string(),
        company_info,
        customers,
        vendors,
        accounts,
        items,
    }
}

/// A tiny deterministic generator (SplitMix64) so generated data is identical on every run and
/// every platform.
#[derive(Debug)]
pub(crate) struct Det(u64);

impl Det {
    pub(crate) fn new(seed: u64) -> Self {
        Det(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub(crate) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_scaled() {
        let s = DataScale::small();
        let a = generate(&s);
        let b = generate(&s);
        assert_eq!(a.qbt.users, b.qbt.users);
        assert_eq!(a.qbo["sandbox"].customers, b.qbo["sandbox"].customers);
        assert_eq!(a.qbt.users.len(), s.tsheets_users);
        assert_eq!(a.qbt.timesheets.len(), s.tsheets_timesheets);
        assert_eq!(a.aspire["production"].contacts.len(), s.aspire_contacts);
        assert_eq!(a.qbo["production"].items.len(), s.qbo_items);
        assert_ne!(a.qbo["production"].realm_id, a.qbo["sandbox"].realm_id);
        assert_eq!(
            a.qbt.timesheets, b.qbt.timesheets,
            "same day, same timesheets"
        );
        assert_eq!(a.qbt.files, b.qbt.files);
        assert_eq!(a.qbt.locations, b.qbt.locations);
        for env in ["production", "sandbox"] {
            let (x, y) = (&a.aspire[env], &b.aspire[env]);
            assert_eq!(x.work_ticket_times, y.work_ticket_times);
            assert_eq!(x.clock_times, y.clock_times);
            assert_eq!(x.properties, y.properties);
            assert!(!x.work_ticket_times.is_empty() && !x.clock_times.is_empty());
        }
        assert!(
            a.qbt.timesheets[0]["start"]
                .as_str()
                .unwrap()
                .ends_with("T07:00:00-07:00")
        );
    }
}
