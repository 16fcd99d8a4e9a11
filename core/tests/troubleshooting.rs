//! The README's troubleshooting section is the in-app checklist: made from the same catalog
//! items (titles and fixes, word for word). When the catalog changes, this test fails until
//! `./scripts/docs.sh` rewrites the README's block, so the change is reviewed and committed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use patchbay_core::Catalog;
use patchbay_core::catalog::ChecklistItemSpec;

fn table(items: &[&ChecklistItemSpec]) -> String {
    let mut out = String::from("| In the checklist | What to do |\n|---|---|\n");
    for i in items {
        out.push_str(&format!(
            "| {} | {} |\n",
            i.title,
            i.fix.replace('|', "\\|")
        ));
    }
    out
}

fn troubleshooting(catalog: &Catalog) -> String {
    let lists: Vec<(String, Vec<ChecklistItemSpec>)> = catalog
        .providers()
        .iter()
        .map(|p| (p.name.clone(), catalog.checklist(p)))
        .collect();
    // The same words for every system: listed once.
    let everywhere = |item: &ChecklistItemSpec| {
        lists.iter().all(|(_, items)| {
            items
                .iter()
                .any(|i| i.title == item.title && i.fix == item.fix)
        })
    };
    let common: Vec<&ChecklistItemSpec> = lists[0].1.iter().filter(|i| everywhere(i)).collect();
    let mut out = format!("#### Every system\n\n{}", table(&common));
    for (name, items) in &lists {
        let own: Vec<&ChecklistItemSpec> = items.iter().filter(|i| !everywhere(i)).collect();
        out.push_str(&format!("\n#### {name}\n\n{}", table(&own)));
    }
    out
}

#[test]
fn the_readme_troubleshooting_is_the_in_app_checklist() {
    let readme_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (start, end) = ("<!-- troubleshooting -->\n", "<!-- /troubleshooting -->");
    let (a, b) = (
        readme
            .find(start)
            .expect("README has a troubleshooting block")
            + start.len(),
        readme
            .find(end)
            .expect("README's troubleshooting block ends"),
    );
    let want = troubleshooting(&Catalog::builtin().unwrap());
    if readme[a..b] == want {
        return;
    }
    // Rewritten only when asked (`./scripts/docs.sh`): a plain test run changes no file.
    if std::env::var("PATCHBAY_WRITE_DOCS").is_ok_and(|v| v == "1") {
        let text = format!("{}{want}{}", &readme[..a], &readme[b..]);
        std::fs::write(&readme_path, text).unwrap();
    }
    panic!(
        "README's troubleshooting does not match the catalog's checklist: run ./scripts/docs.sh (it rewrites the block), review and commit it"
    );
}
