//! `patchbay path add|remove DIR` (hidden): the Windows installer's hooks put the folder the
//! command line is installed in on the user's own PATH (per user: no admin rights) and take it
//! off again on uninstall. The list editing is plain string work, tested on every system; only
//! reading and writing the user's environment in the registry is Windows code.

/// The user's PATH with `dir` added at the end, or `None` when it is already there (Windows
/// compares folders without regard to case or a trailing backslash).
pub fn with_dir(path: &str, dir: &str) -> Option<String> {
    if entries(path).any(|e| same(e, dir)) {
        return None;
    }
    let kept = path.trim_end_matches(';');
    Some(if kept.is_empty() {
        dir.to_string()
    } else {
        format!("{kept};{dir}")
    })
}

/// The user's PATH without `dir` (every copy), or `None` when it is not there.
pub fn without_dir(path: &str, dir: &str) -> Option<String> {
    if !entries(path).any(|e| same(e, dir)) {
        return None;
    }
    Some(
        entries(path)
            .filter(|e| !same(e, dir))
            .collect::<Vec<_>>()
            .join(";"),
    )
}

fn entries(path: &str) -> impl Iterator<Item = &str> {
    path.split(';').filter(|e| !e.trim().is_empty())
}

fn same(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.trim()
            .trim_matches('"')
            .trim_end_matches(['\\', '/'])
            .to_lowercase()
    };
    norm(a) == norm(b)
}

/// Adds (`add`) or removes `dir` in the user's PATH. Exit code 0 when done or nothing was to do.
pub fn run(add: bool, dir: &str) -> patchbay_core::Result<()> {
    let current = registry::read()?;
    let changed = if add {
        with_dir(&current, dir)
    } else {
        without_dir(&current, dir)
    };
    match changed {
        Some(new) => registry::write(&new),
        None => Ok(()),
    }
}

#[cfg(windows)]
mod registry {
    //! HKEY_CURRENT_USER\Environment\Path, kept as the expandable string it is (entries such as
    //! %USERPROFILE%\bin stay unexpanded). The installer tells running programs afterwards.
    use patchbay_core::Error;
    use winreg::enums::{HKEY_CURRENT_USER, KEY_READ, KEY_WRITE, RegType};
    use winreg::{RegKey, RegValue};

    fn key() -> patchbay_core::Result<RegKey> {
        RegKey::predef(HKEY_CURRENT_USER)
            .open_subkey_with_flags("Environment", KEY_READ | KEY_WRITE)
            .map_err(|e| Error::storage("Your user settings (PATH) could not be opened.", e))
    }

    pub fn read() -> patchbay_core::Result<String> {
        match key()?.get_value::<String, _>("Path") {
            Ok(v) => Ok(v),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(Error::storage("Your PATH could not be read.", e)),
        }
    }

    pub fn write(path: &str) -> patchbay_core::Result<()> {
        let bytes: Vec<u8> = path
            .encode_utf16()
            .chain(std::iter::once(0))
            .flat_map(u16::to_le_bytes)
            .collect();
        key()?
            .set_raw_value(
                "Path",
                &RegValue {
                    bytes: bytes.into(),
                    vtype: RegType::REG_EXPAND_SZ,
                },
            )
            .map_err(|e| Error::storage("Your PATH could not be changed.", e))
    }
}

#[cfg(not(windows))]
mod registry {
    //! Elsewhere the installer puts `patchbay` where terminals look already (/usr/bin), or the
    //! README says how to link it (macOS): nothing to change.
    use patchbay_core::{Error, ErrorKind};

    fn not_here() -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            "`patchbay path` is for the Windows installer; on this system the installer already puts patchbay where a terminal finds it.",
        )
    }

    pub fn read() -> patchbay_core::Result<String> {
        Err(not_here())
    }

    pub fn write(_: &str) -> patchbay_core::Result<()> {
        Err(not_here())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = r"C:\Users\Ann\AppData\Local\Patchbay";

    #[test]
    fn the_folder_is_added_once_at_the_end() {
        let user = r"%USERPROFILE%\bin;C:\Tools";
        assert_eq!(
            with_dir(user, DIR).unwrap(),
            format!(r"%USERPROFILE%\bin;C:\Tools;{DIR}")
        );
        assert_eq!(with_dir("", DIR).unwrap(), DIR);
        assert_eq!(
            with_dir("C:\\Tools;", DIR).unwrap(),
            format!("C:\\Tools;{DIR}")
        );
        // Already there, written differently: nothing to do.
        for there in [
            format!("C:\\Tools;{DIR}"),
            format!("{};C:\\Tools", DIR.to_uppercase()),
            format!("C:\\Tools;{DIR}\\"),
            format!("C:\\Tools;\"{DIR}\""),
        ] {
            assert_eq!(with_dir(&there, DIR), None, "{there}");
        }
    }

    #[test]
    fn removing_takes_every_copy_and_keeps_the_rest_in_order() {
        let user = format!(r"C:\Tools;{DIR};%USERPROFILE%\bin;{}\", DIR.to_lowercase());
        assert_eq!(
            without_dir(&user, DIR).unwrap(),
            r"C:\Tools;%USERPROFILE%\bin"
        );
        assert_eq!(without_dir(r"C:\Tools", DIR), None);
        assert_eq!(without_dir(DIR, DIR).unwrap(), "");
        // A folder that only starts the same is someone else's.
        assert_eq!(without_dir(&format!("{DIR}2"), DIR), None);
    }

    #[cfg(not(windows))]
    #[test]
    fn elsewhere_the_command_says_it_is_for_the_windows_installer() {
        let e = run(true, "/opt/patchbay").unwrap_err();
        assert!(e.message().contains("Windows installer"), "{e}");
    }
}
