//! The preview's CSV files: written row by row as pages arrive (readable by this user only, a
//! UTF-8 byte order mark first so Excel reads accented names right, text cells that could run as
//! formulas made harmless), and copied where the admin chooses.

use crate::error::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};

/// One list's CSV file while the preview runs.
pub(super) struct CsvFile {
    writer: csv::Writer<std::fs::File>,
    path: PathBuf,
}

impl CsvFile {
    /// The folder the files go to, readable by this user only.
    pub fn folder(dir: &Path) -> Result<()> {
        crate::settings::private_dir(dir).map_err(|e| export_error(dir, e))
    }

    /// A new file with the byte order mark and the header row.
    pub fn create(path: PathBuf, columns: &[String]) -> Result<CsvFile> {
        let mut file = crate::settings::private_file(&path).map_err(|e| export_error(&path, e))?;
        std::io::Write::write_all(&mut file, "\u{FEFF}".as_bytes())
            .map_err(|e| export_error(&path, e))?;
        let mut writer = csv::Writer::from_writer(file);
        writer
            .write_record(columns)
            .map_err(|e| export_error(&path, std::io::Error::other(e)))?;
        Ok(CsvFile { writer, path })
    }

    /// One row: `texts` as written, made safe where `values` says the cell is text (a JSON
    /// number is never a formula).
    pub fn row(&mut self, values: &[Option<&serde_json::Value>], texts: &[String]) -> Result<()> {
        let safe = values.iter().zip(texts).map(|(v, text)| {
            if v.is_some_and(serde_json::Value::is_string) {
                spreadsheet_safe(text.clone())
            } else {
                text.clone()
            }
        });
        self.writer
            .write_record(safe)
            .map_err(|e| export_error(&self.path, std::io::Error::other(e)))
    }

    /// Everything written; where the file is.
    pub fn finish(mut self) -> Result<PathBuf> {
        self.writer
            .flush()
            .map_err(|e| export_error(&self.path, e))?;
        Ok(self.path)
    }
}

/// A cell as written to a CSV file an admin opens in a spreadsheet: a text that Excel (or
/// LibreOffice, Google Sheets) would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`, a tab or
/// carriage return first, or their full-width forms) gets a leading `'`, which shows it as text
/// (OWASP "CSV injection"). Numbers, including negative ones, stay numbers.
pub fn spreadsheet_safe(text: String) -> String {
    let risky = text.chars().next().is_some_and(|c| {
        matches!(
            c,
            '=' | '+' | '-' | '@' | '\t' | '\r' | '＝' | '＋' | '－' | '＠'
        )
    });
    let number = text.trim().parse::<f64>().is_ok_and(f64::is_finite);
    if risky && !number {
        format!("'{text}")
    } else {
        text
    }
}

/// Copy the CSV files of a finished preview (staged in `from`) into the folder the admin chose,
/// each named `<list file> <day>.csv`; a file that is already there is never overwritten (the
/// copy gets " (2)", " (3)"…). Returns the files written, in name order.
pub fn save_export(from: &Path, to: &Path, day: &str) -> Result<Vec<PathBuf>> {
    let mut staged: Vec<PathBuf> = std::fs::read_dir(from)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "csv"))
                .collect()
        })
        .unwrap_or_default();
    staged.sort();
    if staged.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "There is nothing to save yet: run the preview first.",
        ));
    }
    let mut written = Vec::new();
    for file in staged {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = (1..)
            .map(|n| match n {
                1 => to.join(format!("{stem} {day}.csv")),
                n => to.join(format!("{stem} {day} ({n}).csv")),
            })
            .find(|t| !t.exists())
            .unwrap_or_else(|| to.join(format!("{stem} {day}.csv")));
        std::fs::copy(&file, &target).map_err(|e| export_error(to, e))?;
        written.push(target);
    }
    Ok(written)
}

pub(super) fn export_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Storage,
        format!(
            "Patchbay could not write {}. Choose a folder you can write to.",
            path.display()
        ),
    )
    .with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::page::value_at;
    use serde_json::json;

    #[test]
    fn exported_cells_never_run_as_formulas_and_open_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1 555 0100", "'+1 555 0100"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("＝1+1", "'＝1+1"),
            ("-12.5", "-12.5"),
            ("Crème brûlée Ltd", "Crème brûlée Ltd"),
        ];
        let path = dir.path().join("t.csv");
        let mut file = crate::settings::private_file(&path).unwrap();
        std::io::Write::write_all(&mut file, "\u{FEFF}".as_bytes()).unwrap();
        let mut w = csv::Writer::from_writer(file);
        for (raw, _) in cases {
            w.write_record([spreadsheet_safe(raw.to_string())]).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
            "UTF-8 BOM for Excel"
        );
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&bytes[3..]);
        let back: Vec<String> = r.records().map(|rec| rec.unwrap()[0].to_string()).collect();
        let want: Vec<String> = cases.iter().map(|(_, w)| w.to_string()).collect();
        assert_eq!(back, want);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "this user only");
        }
        let item = json!({"Name": "=1+1", "Balance": -3, "Addr": {"City": "@x"}});
        let is_text = |c: &str| value_at(&item, c).is_some_and(serde_json::Value::is_string);
        assert!(is_text("Name") && is_text("Addr.City"));
        assert!(!is_text("Balance") && !is_text("Missing"));
    }

    #[test]
    fn saving_an_export_never_overwrites_and_needs_a_preview_first() {
        let (staged, chosen) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let err = save_export(staged.path(), chosen.path(), "2026-11-24").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.message().contains("run the preview first"),
            "{}",
            err.message()
        );

        std::fs::write(staged.path().join("aspire-contacts.csv"), "a\n1\n").unwrap();
        std::fs::write(staged.path().join("aspire-properties.csv"), "b\n2\n").unwrap();
        std::fs::write(staged.path().join("notes.txt"), "not a list").unwrap();
        let first = save_export(staged.path(), chosen.path(), "2026-11-24").unwrap();
        let names = |v: &[PathBuf]| -> Vec<String> {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(&first),
            [
                "aspire-contacts 2026-11-24.csv",
                "aspire-properties 2026-11-24.csv"
            ]
        );
        std::fs::write(&first[0], "the admin's edits").unwrap();
        let second = save_export(staged.path(), chosen.path(), "2026-11-24").unwrap();
        assert_eq!(
            names(&second),
            [
                "aspire-contacts 2026-11-24 (2).csv",
                "aspire-properties 2026-11-24 (2).csv"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(&first[0]).unwrap(),
            "the admin's edits"
        );
        assert_eq!(std::fs::read_to_string(&second[0]).unwrap(), "a\n1\n");
    }
}
