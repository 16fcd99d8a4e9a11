//! Deterministic generated data with the vendors' field names (reference 1.7, 1.12, 2.10, 3.9,
//! 3.13). The same scale always produces the same records.

use crate::DataScale;
use crate::util::{Det, date, iso_offset, iso_z};
use serde_json::{Value, json};
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
    pub jobcodes: Vec<Value>,
    pub timesheets: Vec<Value>,
}

#[derive(Debug)]
pub(crate) struct AspireData {
    pub users: Vec<Value>,
    pub contacts: Vec<Value>,
    pub properties: Vec<Value>,
    pub work_tickets: Vec<Value>,
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

// ---------------------------------------------------------------------------------------------
// QuickBooks Time

fn qbt_data(scale: &DataScale) -> QbtData {
    let mut rng = Det::new(1);
    let company_name = "Patchbay Practice Landscaping".to_string();
    let client_url = "patchbaypractice".to_string();
    let pto = [(9_000_001u64, "Vacation"), (9_000_002u64, "Sick")];

    let mut jobcodes = Vec::new();
    let mut parent = 0u64;
    for i in 0..scale.tsheets_jobcodes {
        let id = 7_000_001 + i as u64;
        let is_parent = i % 5 == 0;
        let (name, parent_id) = if is_parent {
            parent = id;
            (
                format!("{} {}", rng.pick(COMPANY_WORDS), rng.pick(COMPANY_KINDS)),
                0,
            )
        } else {
            (rng.pick(SERVICES).to_string(), parent)
        };
        let created = BASE - 200 * DAY + i as i64 * 3600;
        jobcodes.push(json!({
            "id": id, "parent_id": parent_id, "assigned_to_all": true, "billable": !is_parent,
            "active": true, "type": "regular", "has_children": is_parent && i + 1 < scale.tsheets_jobcodes,
            "billable_rate": if is_parent { 0.0 } else { 45.0 + (i % 4) as f64 * 5.0 },
            "short_code": format!("J{:03}", i + 1), "name": name,
            "last_modified": iso_offset(created + 30 * DAY, 0), "created": iso_offset(created, 0),
            "filtered_customfielditems": "", "required_customfields": [], "locations": [],
            "geofence_config_id": null, "project_id": 0, "connect_with_quickbooks": false,
        }));
    }
    for (id, name) in pto {
        jobcodes.push(json!({
            "id": id, "parent_id": 0, "assigned_to_all": true, "billable": false, "active": true,
            "type": "pto", "has_children": false, "billable_rate": 0.0, "short_code": "",
            "name": name, "last_modified": iso_offset(BASE - 300 * DAY, 0),
            "created": iso_offset(BASE - 300 * DAY, 0), "filtered_customfielditems": "",
            "required_customfields": [], "locations": [], "geofence_config_id": null,
            "project_id": 0, "connect_with_quickbooks": false,
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
        users.push(json!({
            "id": id, "first_name": first, "last_name": last, "group_id": 0, "active": true,
            "employee_number": i as u64 + 1, "salaried": false, "exempt": false,
            "username": username, "email": format!("{}.{}{}@patchbay-practice.example", first, last, i).to_lowercase(),
            "email_verified": admin, "payroll_id": format!("P{:04}", i + 1), "mobile_number": phone(&mut rng),
            "hire_date": date(created, 0), "term_date": "0000-00-00",
            "last_modified": iso_offset(created + 100 * DAY, 0), "last_active": "",
            "created": iso_offset(created, 0), "client_url": client_url, "company_name": company_name,
            "profile_image_url": "", "display_name": null,
            "pto_balances": { pto[0].0.to_string(): 0, pto[1].0.to_string(): 0 },
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
            "customfields": "",
        }));
    }

    let billable: Vec<u64> = jobcodes
        .iter()
        .filter(|j| j["type"] == "regular" && j["has_children"] == false)
        .filter_map(|j| j["id"].as_u64())
        .collect();
    let mut timesheets = Vec::new();
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
        timesheets.push(json!({
            "id": id, "user_id": user_id, "jobcode_id": jobcode_id,
            "start": if manual { String::new() } else { iso_offset(start, -7) },
            "end": if manual { String::new() } else { iso_offset(end, -7) },
            "duration": duration, "date": date(start, -7), "tz": -7, "tz_str": "tsMT",
            "type": if manual { "manual" } else { "regular" },
            "location": if manual { "(no location)" } else { "(Eagle, ID?)" },
            "on_the_clock": false, "locked": 0, "notes": notes, "customfields": {},
            "attached_files": [], "last_modified": iso_offset(end + 3600, 0),
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
    }
}

// ---------------------------------------------------------------------------------------------
// Aspire

fn address(rng: &mut Det, id: u64) -> Value {
    let (city, state, zip) = *rng.pick(CITIES);
    json!({
        "AddressID": id, "AddressLine1": format!("{} {}", 100 + rng.below(9800), rng.pick(STREETS)),
        "AddressLine2": null, "City": city, "StateProvinceCode": state, "ZipCode": zip,
    })
}

fn aspire_data(scale: &DataScale, seed: u64) -> AspireData {
    let mut rng = Det::new(seed);
    let branches = vec![
        json!({"BranchID": 1, "BranchName": "Main", "BranchCode": "MAIN", "Active": true, "TimeZone": "Mountain Standard Time"}),
        json!({"BranchID": 2, "BranchName": "North", "BranchCode": "NORTH", "Active": true, "TimeZone": "Mountain Standard Time"}),
        json!({"BranchID": 3, "BranchName": "South", "BranchCode": "SOUTH", "Active": true, "TimeZone": "Mountain Standard Time"}),
    ];
    let divisions = vec![
        json!({"DivisionID": 1, "DivisionName": "Maintenance", "Active": true}),
        json!({"DivisionID": 2, "DivisionName": "Enhancements", "Active": true}),
        json!({"DivisionID": 3, "DivisionName": "Irrigation", "Active": true}),
        json!({"DivisionID": 4, "DivisionName": "Snow", "Active": true}),
    ];
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
        let company = format!("{} {}", rng.pick(COMPANY_WORDS), rng.pick(COMPANY_KINDS));
        let (bid, bname) = branch(i);
        let created = BASE - 500 * DAY + i as i64 * 7200;
        contacts.push(json!({
            "ContactID": id, "CompanyID": company_id, "CompanyName": company,
            "ContactTypeID": type_id, "ContactTypeName": type_name,
            "OfficeAddress": address(&mut rng, 10_000 + id), "HomeAddress": address(&mut rng, 20_000 + id),
            "BranchID": bid, "BranchName": bname, "OwnerContactID": 1001, "OwnerContactName": "Account Owner",
            "Salutation": null, "FirstName": first, "LastName": last, "Title": null,
            "Email": format!("{}.{}{}@example.com", first, last, i).to_lowercase(),
            "MobilePhone": phone(&mut rng), "OfficePhone": phone(&mut rng), "HomePhone": null, "Fax": null,
            "Notes": null, "Active": true, "CreatedDateTime": iso_z(created),
            "EmployeeNumber": if type_id == 2 { json!(format!("E{:04}", i)) } else { Value::Null },
            "EmployeePin": null, "AccountingSyncID": null, "ExternalContactReference": null,
            "TerminationDate": null, "UserID": null, "CrewSize": null, "PayScheduleID": null,
            "ModifiedDate": iso_z(created + 40 * DAY), "ContactTags": [],
        }));
    }

    let n_users = (scale.aspire_contacts / 5).clamp(3, 200);
    let mut users = Vec::new();
    for i in 0..n_users {
        let (first, last) = person(&mut rng);
        let (bid, bname) = branch(i);
        // Assumption: BranchAccess/UserRoles item shapes are not in the reference (arrays only).
        users.push(json!({
            "UserID": 1 + i as u64, "ContactFirstName": first, "ContactLastName": last,
            "Active": true, "AllBranchAccess": i == 0,
            "BranchAccess": if i == 0 { json!([]) } else { json!([{"BranchID": bid, "BranchName": bname}]) },
            "UserRoles": [{"RoleID": if i == 0 { 1 } else { 2 }, "RoleName": if i == 0 { "Administrator" } else { "Field User" }}],
            "ExternalContactReference": null,
        }));
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
        let name = format!("{} {}", rng.pick(COMPANY_WORDS), rng.pick(COMPANY_KINDS));
        properties.push(json!({
            "PropertyID": id, "PropertyStatusID": 1, "PropertyStatusName": "Customer",
            "BranchID": bid, "BranchName": bname, "BranchCode": bname.to_uppercase(),
            "AccountOwnerContactID": owner.map(|c| c["ContactID"].clone()).unwrap_or(Value::Null),
            "AccountOwnerContactName": owner.map(|c| json!(format!("{} {}", c["FirstName"].as_str().unwrap_or(""), c["LastName"].as_str().unwrap_or("")))).unwrap_or(Value::Null),
            "PropertyAddressLine1": format!("{} {}", 100 + rng.below(9800), rng.pick(STREETS)),
            "PropertyAddressLine2": null, "PropertyAddressCity": city,
            "PropertyAddressStateProvinceCode": state, "PropertyAddressZipCode": zip,
            "PropertyName": name, "Active": true,
            "Budget": (rng.below(5_000_000) as f64) / 100.0, "Note": null,
            "CreatedDate": iso_z(created), "ModifiedDate": iso_z(created + 20 * DAY),
            "GEOLocationLatitude": 43.6 + (rng.below(1000) as f64) / 10_000.0,
            "GEOLocationLongitude": -116.2 - (rng.below(1000) as f64) / 10_000.0,
            "PaymentTermsID": 1, "PropertyContacts": [], "PropertyTags": [],
            "PropertyTypeID": 1 + (i % 3) as u64,
            "PropertyType": PROPERTY_TYPES[i % 3],
            "IntegrationID": null,
        }));
    }

    let employees: Vec<&Value> = contacts
        .iter()
        .filter(|c| c["ContactTypeID"] == 2)
        .collect();
    let statuses = [
        (1u64, "Open"),
        (2, "Scheduled"),
        (3, "Complete"),
        (4, "Invoiced"),
    ];
    let mut work_tickets = Vec::new();
    for i in 0..scale.aspire_work_tickets {
        let id = 30_001 + i as u64;
        let (sid, sname) = statuses[i % statuses.len()];
        let leader = if employees.is_empty() {
            None
        } else {
            Some(employees[i % employees.len()])
        };
        let (bid, bname) = branch(i);
        let start = BASE + (i as i64 % 60) * DAY + 14 * 3600;
        let hours_est = 2.0 + (rng.below(12) as f64) / 2.0;
        let price = (rng.below(200_000) as f64) / 100.0 + 100.0;
        let complete = sid >= 3;
        work_tickets.push(json!({
            "WorkTicketID": id, "OpportunityServiceID": 40_000 + i as u64,
            "OpportunityID": 600 + (i / 3) as u64, "OpportunityNumber": 1600 + (i / 3) as u64,
            "WorkTicketNumber": 10_000 + i as u64, "WorkTicketStatusID": sid,
            "WorkTicketStatusName": sname, "WorkTicketStatus": sname,
            "AnticStartDate": iso_z(start), "ScheduledStartDate": iso_z(start),
            "CompleteDate": if complete { json!(iso_z(start + 6 * 3600)) } else { Value::Null },
            "ApprovedDate": if complete { json!(iso_z(start + DAY)) } else { Value::Null },
            "CrewLeaderContactID": leader.map(|c| c["ContactID"].clone()).unwrap_or(Value::Null),
            "CrewLeaderName": leader.map(|c| json!(format!("{} {}", c["FirstName"].as_str().unwrap_or(""), c["LastName"].as_str().unwrap_or("")))).unwrap_or(Value::Null),
            "HoursEst": hours_est, "HoursAct": if complete { hours_est + 0.5 } else { 0.0 },
            "OTHoursAct": 0.0, "Price": price,
            "InvoicedAmount": if sid == 4 { price } else { 0.0 },
            "InvoiceID": if sid == 4 { json!(70_000 + i as u64) } else { Value::Null },
            "InvoiceNumber": if sid == 4 { json!(8000 + i as u64) } else { Value::Null },
            "BranchID": bid, "BranchName": bname,
            "LastModifiedDateTime": iso_z(start + 2 * DAY), "CreatedDateTime": iso_z(start - 10 * DAY),
            "WorkTicketRevenues": [],
        }));
    }

    AspireData {
        users,
        contacts,
        properties,
        work_tickets,
        branches,
        divisions,
    }
}

// ---------------------------------------------------------------------------------------------
// QuickBooks Online

fn meta(secs: i64) -> Value {
    json!({"CreateTime": iso_offset(secs, -7), "LastUpdatedTime": iso_offset(secs + 30 * DAY, -7)})
}

fn qbo_address(rng: &mut Det, id: u64) -> Value {
    let (city, state, zip) = *rng.pick(CITIES);
    json!({
        "Id": id.to_string(), "Line1": format!("{} {}", 100 + rng.below(9800), rng.pick(STREETS)),
        "City": city, "Country": "US", "CountrySubDivisionCode": state, "PostalCode": zip,
    })
}

fn qbo_party(rng: &mut Det, id: u64, created: i64, vendor: bool) -> Value {
    let (first, last) = person(rng);
    let company = format!(
        "{} {}",
        rng.pick(COMPANY_WORDS),
        if vendor {
            *rng.pick(&["Supply", "Nursery", "Equipment", "Fuel", "Stone"])
        } else {
            *rng.pick(COMPANY_KINDS)
        }
    );
    let display = format!("{company} ({first} {last})");
    let mut v = json!({
        "Id": id.to_string(), "SyncToken": "0", "DisplayName": display, "GivenName": first,
        "FamilyName": last, "CompanyName": company, "PrintOnCheckName": company, "Active": true,
        "PrimaryEmailAddr": {"Address": format!("{}.{}@example.com", first, last).to_lowercase()},
        "PrimaryPhone": {"FreeFormNumber": format!("(208) 555-{}", rng.digits(4))},
        "BillAddr": qbo_address(rng, id + 1000), "Balance": (rng.below(500_000) as f64) / 100.0,
        "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
        "domain": "QBO", "sparse": false, "MetaData": meta(created),
    });
    if let Some(obj) = v.as_object_mut() {
        if vendor {
            obj.insert("Vendor1099".into(), json!(false));
        } else {
            obj.insert("FullyQualifiedName".into(), json!(display));
            obj.insert("Taxable".into(), json!(true));
            obj.insert("Job".into(), json!(false));
            obj.insert("BillWithParent".into(), json!(false));
            obj.insert("BalanceWithJobs".into(), obj["Balance"].clone());
            obj.insert("PreferredDeliveryMethod".into(), json!("Email"));
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

fn qbo_company(scale: &DataScale, seed: u64, realm_id: &str, name: &str) -> QboCompany {
    let mut rng = Det::new(seed);
    let created = BASE - 700 * DAY;
    let customers: Vec<Value> = (0..scale.qbo_customers)
        .map(|i| qbo_party(&mut rng, 1 + i as u64, created + i as i64 * 3600, false))
        .collect();
    let vendors: Vec<Value> = (0..scale.qbo_vendors)
        .map(|i| qbo_party(&mut rng, 5001 + i as u64, created + i as i64 * 3600, true))
        .collect();
    let accounts: Vec<Value> = (0..scale.qbo_accounts)
        .map(|i| {
            let (base_name, ty, sub, class) = ACCOUNTS[i % ACCOUNTS.len()];
            let round = i / ACCOUNTS.len();
            let name = if round == 0 {
                base_name.to_string()
            } else {
                format!("{base_name} {}", round + 1)
            };
            let balance = if matches!(class, "Asset" | "Liability") {
                (rng.below(5_000_000) as f64) / 100.0
            } else {
                0.0
            };
            json!({
                "Id": (10 + i).to_string(), "SyncToken": "0", "Name": name, "SubAccount": false,
                "FullyQualifiedName": name, "Active": true, "Classification": class,
                "AccountType": ty, "AccountSubType": sub, "CurrentBalance": balance,
                "CurrentBalanceWithSubAccounts": balance, "Description": "",
                "AcctNum": format!("{}", 1000 + i * 10),
                "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
                "domain": "QBO", "sparse": false, "MetaData": meta(created),
            })
        })
        .collect();
    let income_ref = accounts
        .iter()
        .find(|a| a["AccountType"] == "Income")
        .map(|a| json!({"value": a["Id"], "name": a["Name"]}))
        .unwrap_or(Value::Null);
    let items: Vec<Value> = (0..scale.qbo_items)
        .map(|i| {
            let base = SERVICES[i % SERVICES.len()];
            let round = i / SERVICES.len();
            let name = if round == 0 { base.to_string() } else { format!("{base} {}", round + 1) };
            json!({
                "Id": (100 + i).to_string(), "SyncToken": "0", "Name": name, "FullyQualifiedName": name,
                "Description": format!("{name} service"), "Active": true, "Taxable": false,
                "UnitPrice": 40.0 + (rng.below(16) as f64) * 5.0,
                "Type": if i % 4 == 3 { "NonInventory" } else { "Service" },
                "IncomeAccountRef": income_ref, "PurchaseCost": 0.0, "TrackQtyOnHand": false,
                "domain": "QBO", "sparse": false, "MetaData": meta(created + i as i64 * 600),
            })
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
        assert!(
            a.qbt.timesheets[0]["start"]
                .as_str()
                .unwrap()
                .ends_with("T07:00:00-07:00")
        );
    }
}
