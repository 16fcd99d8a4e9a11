//! Writing measured figures into `docs/*.md` from tests, and finding the repository and the
//! built installers. Tests of several binaries run at once,
//! so each read-modify-write holds a lock file.

use std::path::{Path, PathBuf};

/// The repository root (this file is `tests/support/docs.rs`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("Cargo.lock").exists() && p.join("docs").is_dir())
        .expect("repository root")
        .to_path_buf()
}

/// Whether this run rewrites the generated figures in `docs/` and the screenshots
/// (`PATCHBAY_WRITE_DOCS=1`). A plain test run measures and checks the same, and leaves the
/// tree as it was.
pub fn writing() -> bool {
    std::env::var("PATCHBAY_WRITE_DOCS").is_ok_and(|v| v == "1")
}

/// Apply `edit` to `docs/<file>` under an exclusive lock, when [`writing`]; otherwise the
/// edit is still made (so a broken block fails the test) and thrown away.
pub fn edit(file: &str, edit: impl FnOnce(String) -> String) {
    let lock_path = std::env::temp_dir().join("patchbay-docs.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .expect("docs lock file");
    lock.lock().expect("docs lock");
    let path = repo().join("docs").join(file);
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let new = edit(doc);
    if writing() {
        std::fs::write(&path, new).expect("write docs");
    }
}

/// Replace what is between `<!-- NAME -->` and `<!-- /NAME -->` (both kept).
pub fn replace_block(doc: &str, name: &str, body: &str) -> String {
    let (start, end) = (format!("<!-- {name} -->"), format!("<!-- /{name} -->"));
    let (Some(a), Some(b)) = (doc.find(&start), doc.find(&end)) else {
        panic!("the document has no {start} ... {end} block");
    };
    format!(
        "{}{start}\n{}{}",
        &doc[..a],
        body.trim_end().to_string() + "\n",
        &doc[b..]
    )
}

/// The newest `<prefix>*.deb` in `dir` (a `release/bundle/deb` folder that `tauri build` fills).
pub fn newest_deb(dir: &Path, prefix: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: build the installer first (scripts/test.sh does: tauri build --bundles deb)",
                dir.display()
            )
        })
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with(prefix) && name.ends_with(".deb")
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("no {prefix}*.deb in {}", dir.display()))
}
