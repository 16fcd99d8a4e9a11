//! The paste sanitizer: what a clipboard adds to a Client ID or secret, removed and reported.
//!
//! The guides warn that "extra spaces can prevent the connection from working". Vendor consoles
//! add more than spaces: line breaks from a double-click selection, tabs from tables,
//! non-breaking spaces from rich text, zero-width characters from web pages and chat apps, and
//! surrounding quotes from JSON snippets. None of these can be part of a credential, so they are
//! removed, and the admin is told exactly what went.

use regex::Regex;
use serde::Serialize;
use std::fmt;

/// One kind of character the sanitizer removed, with where it was and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Removed {
    LeadingSpace,
    TrailingSpace,
    InnerSpace,
    LineBreak,
    Tab,
    NonBreakingSpace,
    ZeroWidth,
    Quotes,
}

impl Removed {
    fn noun(self, count: usize) -> String {
        let (one, many) = match self {
            Removed::LeadingSpace => ("leading space", "leading spaces"),
            Removed::TrailingSpace => ("trailing space", "trailing spaces"),
            Removed::InnerSpace => ("space inside the value", "spaces inside the value"),
            Removed::LineBreak => ("line break", "line breaks"),
            Removed::Tab => ("tab", "tabs"),
            Removed::NonBreakingSpace => ("non-breaking space", "non-breaking spaces"),
            Removed::ZeroWidth => (
                "zero-width (invisible) character",
                "zero-width (invisible) characters",
            ),
            Removed::Quotes => ("pair of surrounding quotes", "pairs of surrounding quotes"),
        };
        if count == 1 {
            format!("a {one}")
        } else {
            format!("{count} {many}")
        }
    }
}

/// What was removed, in the order first seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Removals(Vec<(Removed, usize)>);

impl Removals {
    fn add(&mut self, what: Removed) {
        match self.0.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => self.0.push((what, 1)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn count(&self, what: Removed) -> usize {
        self.0
            .iter()
            .find(|(w, _)| *w == what)
            .map_or(0, |(_, n)| *n)
    }

    pub fn iter(&self) -> impl Iterator<Item = (Removed, usize)> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Removals {
    /// "removed a trailing space and a line break"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(w, n)| w.noun(*n)).collect();
        match parts.as_slice() {
            [] => Ok(()),
            [one] => write!(f, "removed {one}"),
            [init @ .., last] => write!(f, "removed {} and {last}", init.join(", ")),
        }
    }
}

/// The cleaned value and what was removed from it.
#[derive(Clone, PartialEq, Eq)]
pub struct Cleaned {
    pub value: String,
    pub removed: Removals,
    /// UTF-16 offsets (as a web page counts) of every removed character in the input, so a
    /// page can clean its own copy of a secret without the secret being sent back to it.
    pub removed_at: Vec<usize>,
}

impl fmt::Debug for Cleaned {
    // The value may be a secret: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cleaned")
            .field(
                "value",
                &format_args!("<{} chars>", self.value.chars().count()),
            )
            .field("removed", &self.removed)
            .finish()
    }
}

fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

fn is_nbsp(c: char) -> bool {
    matches!(c, '\u{00A0}' | '\u{2007}' | '\u{202F}')
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}')
}

/// Clean a pasted credential. Credentials never contain whitespace, so any space, tab, line
/// break, non-breaking or zero-width character anywhere is removed; a pair of quotes around the
/// whole value is removed too. A CR LF pair counts as one line break.
pub fn clean(input: &str) -> Cleaned {
    clean_keeping(input, false)
}

/// [`clean`], but with `inner_spaces` a plain space inside the value is kept: a secret whose
/// vendor allows spaces in it (RFC 6749's VSCHAR includes the space). Spaces around the value,
/// tabs, line breaks and invisible characters are still removed.
pub fn clean_keeping(input: &str, inner_spaces: bool) -> Cleaned {
    let mut removed = Removals::default();
    // Each character with its UTF-16 offset in the input.
    let mut offset = 0;
    let chars: Vec<(usize, char)> = input
        .chars()
        .map(|c| {
            let at = offset;
            offset += c.len_utf16();
            (at, c)
        })
        .collect();
    let first_keep = chars.iter().position(|(_, c)| !is_strippable(*c));
    let last_keep = chars.iter().rposition(|(_, c)| !is_strippable(*c));
    let mut kept: Vec<(usize, char)> = Vec::with_capacity(chars.len());
    let mut removed_at = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let outside = match (first_keep, last_keep) {
            (Some(f), _) if i < f => Some(true),
            (_, Some(l)) if i > l => Some(false),
            (Some(_), Some(_)) => None,
            _ => Some(false),
        };
        if c == '\r' && chars.get(i + 1).map(|(_, n)| *n) == Some('\n') {
            removed.add(Removed::LineBreak);
            removed_at.extend([at, at + 1]);
            i += 2;
            continue;
        }
        let what = match c {
            ' ' if inner_spaces && outside.is_none() => None,
            ' ' => Some(match outside {
                Some(true) => Removed::LeadingSpace,
                Some(false) => Removed::TrailingSpace,
                None => Removed::InnerSpace,
            }),
            '\t' => Some(Removed::Tab),
            c if is_line_break(c) => Some(Removed::LineBreak),
            c if is_nbsp(c) => Some(Removed::NonBreakingSpace),
            c if is_zero_width(c) => Some(Removed::ZeroWidth),
            c if c.is_whitespace() => Some(Removed::InnerSpace),
            _ => None,
        };
        match what {
            Some(w) => {
                removed.add(w);
                removed_at.push(at);
            }
            None => kept.push((at, c)),
        }
        i += 1;
    }
    // Quotes only when they wrap the whole value (a JSON or chat snippet), repeatedly.
    while kept.len() >= 2 {
        let (open, close) = (kept[0].1, kept[kept.len() - 1].1);
        let pair = matches!(
            (open, close),
            ('"', '"') | ('\'', '\'') | ('“', '”') | ('‘', '’') | ('`', '`')
        );
        if !pair {
            break;
        }
        if let Some((at, _)) = kept.pop() {
            removed_at.push(at);
        }
        removed_at.push(kept.remove(0).0);
        removed.add(Removed::Quotes);
    }
    removed_at.sort_unstable();
    Cleaned {
        value: kept.into_iter().map(|(_, c)| c).collect(),
        removed,
        removed_at,
    }
}

fn is_strippable(c: char) -> bool {
    c.is_whitespace() || is_nbsp(c) || is_zero_width(c)
}

/// A known format a pasted value must have, from the catalog.
#[derive(Debug, Clone)]
pub struct Format {
    pattern: Regex,
    /// Plain words: "a UUID like 3f2a91c6-1b2c-4d5e-8f90-6d5e8a2b7c34".
    pub description: String,
}

impl Format {
    pub fn new(pattern: &str, description: &str) -> Result<Self, regex::Error> {
        Ok(Format {
            pattern: Regex::new(pattern)?,
            description: description.to_string(),
        })
    }

    pub fn matches(&self, value: &str) -> bool {
        self.pattern.is_match(value)
    }

    pub fn pattern(&self) -> &str {
        self.pattern.as_str()
    }
}

/// The result of checking one pasted field, as the wizard shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldCheck {
    /// "removed a trailing space and a line break", or empty.
    pub removed: String,
    /// True when the cleaned value is non-empty and matches the known format (if any).
    pub ok: bool,
    /// A plain-words problem with the value, if any.
    pub problem: Option<String>,
    /// How many characters the cleaned value has (to show for secrets instead of the value).
    pub length: usize,
}

/// Clean and check a field value against its label and optional format.
pub fn check(label: &str, input: &str, format: Option<&Format>) -> (Cleaned, FieldCheck) {
    check_keeping(label, input, format, false)
}

/// [`check`] with [`clean_keeping`]'s choice about inner spaces.
pub fn check_keeping(
    label: &str,
    input: &str,
    format: Option<&Format>,
    inner_spaces: bool,
) -> (Cleaned, FieldCheck) {
    let cleaned = clean_keeping(input, inner_spaces);
    let length = cleaned.value.chars().count();
    let problem = if cleaned.value.is_empty() {
        Some(format!(
            "{label} is empty. Copy it again from the vendor's page and paste it here."
        ))
    } else {
        format.filter(|f| !f.matches(&cleaned.value)).map(|f| {
            format!(
                "This does not look like a {label}: it should be {}. Check that you copied the \
                 whole value, and the right one.",
                f.description
            )
        })
    };
    let check = FieldCheck {
        removed: cleaned.removed.to_string(),
        ok: problem.is_none(),
        problem,
        length,
    };
    (cleaned, check)
}

/// Text that came from a vendor or a web page, made safe to show or log: letters, digits, spaces
/// and common punctuation only (no control characters, escape sequences, direction overrides or
/// markup), runs of spaces collapsed, at most `max` characters (then "…").
pub fn vendor_text(input: &str, max: usize) -> String {
    let allowed = |c: char| c.is_alphanumeric() || " .,:;'\"()_-/?!=+&@#%*[]".contains(c);
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = true;
    for c in input.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if !allowed(c) || (c == ' ' && last_space) {
            continue;
        }
        if count == max {
            out.push('…');
            break;
        }
        last_space = c == ' ';
        out.push(c);
        count += 1;
    }
    out.trim_end().to_string()
}

/// A value printed to a terminal: control characters (escape sequences, carriage returns that
/// rewrite the line, C1 controls) and direction overrides removed, everything else kept.
pub fn printable(input: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    };
    if input.chars().any(bad) {
        std::borrow::Cow::Owned(input.chars().filter(|c| !bad(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(input)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_field_that_allows_inner_spaces_keeps_them_and_nothing_else() {
        let c = super::clean_keeping(" \u{200B}ab cd\tef \n", true);
        assert_eq!(c.value, "ab cdef");
        assert_eq!(super::clean(" ab cd ").value, "abcd");
    }

    #[test]
    fn vendor_and_terminal_text_keep_words_and_drop_the_rest() {
        use super::{printable, vendor_text};
        assert_eq!(
            vendor_text("Invalid  <b>redirect</b>\u{1b}[31m uri\r\n\u{202E}x", 100),
            "Invalid bredirect/b[31m uri x"
        );
        assert_eq!(vendor_text("Crème brûlée", 100), "Crème brûlée");
        assert_eq!(
            vendor_text(&"a".repeat(500), 10),
            format!("{}…", "a".repeat(10))
        );
        assert_eq!(
            printable("Acme\u{1b}]0;owned\u{7}\r Ltd\u{202E}"),
            "Acme]0;owned Ltd"
        );
        assert!(matches!(
            printable("Plain Ltd"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    use super::*;

    #[test]
    fn trailing_space_and_line_break_are_removed_and_reported() {
        let c = clean("abc123 \n");
        assert_eq!(c.value, "abc123");
        assert_eq!(
            c.removed.to_string(),
            "removed a trailing space and a line break"
        );
    }

    #[test]
    fn crlf_counts_as_one_line_break() {
        let c = clean("abc\r\n");
        assert_eq!(c.value, "abc");
        assert_eq!(c.removed.count(Removed::LineBreak), 1);
    }

    #[test]
    fn leading_inner_tab_nbsp_zero_width_and_quotes() {
        let c = clean("  \"ab\u{00A0}c\u{200B}d\te f\"  ");
        assert_eq!(c.value, "abcdef");
        assert_eq!(c.removed.count(Removed::LeadingSpace), 2);
        assert_eq!(c.removed.count(Removed::TrailingSpace), 2);
        assert_eq!(c.removed.count(Removed::InnerSpace), 1);
        assert_eq!(c.removed.count(Removed::NonBreakingSpace), 1);
        assert_eq!(c.removed.count(Removed::ZeroWidth), 1);
        assert_eq!(c.removed.count(Removed::Tab), 1);
        assert_eq!(c.removed.count(Removed::Quotes), 1);
        assert_eq!(
            c.removed.to_string(),
            "removed 2 leading spaces, a non-breaking space, a zero-width (invisible) character, \
             a tab, a space inside the value, 2 trailing spaces and a pair of surrounding quotes"
        );
    }

    #[test]
    fn clean_value_reports_nothing() {
        let c = clean("7hLpQ2x9Vb4Nc8Rt1Yw5Kz3Md6Fj0nHa");
        assert_eq!(c.value, "7hLpQ2x9Vb4Nc8Rt1Yw5Kz3Md6Fj0nHa");
        assert!(c.removed.is_empty());
        assert_eq!(c.removed.to_string(), "");
    }

    #[test]
    fn only_whitespace_becomes_empty_and_is_flagged() {
        let (c, chk) = check("Client ID", " \u{FEFF}\n", None);
        assert_eq!(c.value, "");
        assert!(!chk.ok);
        assert!(chk.problem.as_deref().unwrap_or("").contains("empty"));
    }

    #[test]
    fn quotes_inside_are_kept() {
        assert_eq!(clean("ab\"cd").value, "ab\"cd");
        assert_eq!(clean("\"").value, "\"");
    }

    #[test]
    fn format_mismatch_is_flagged_in_plain_words() {
        let uuid = Format::new(
            "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            "a UUID like 3f2a91c6-1b2c-4d5e-8f90-6d5e8a2b7c34",
        )
        .unwrap();
        let (_, ok) = check(
            "Client ID",
            " 3f2a91c6-0000-4000-8000-6d5e8a2b7c34\n",
            Some(&uuid),
        );
        assert!(ok.ok, "{ok:?}");
        assert_eq!(ok.removed, "removed a leading space and a line break");
        let (_, bad) = check("Client ID", "3f2a91c6-0000", Some(&uuid));
        assert!(!bad.ok);
        assert!(bad.problem.unwrap().contains("a UUID like"));
    }

    #[test]
    fn removed_offsets_rebuild_the_cleaned_value_in_utf16() {
        for input in [
            " ab\r\n",
            "\"x\u{200B}y\"",
            "😀 a😀\t",
            "'q'",
            "\u{00A0}\u{FEFF}z ",
        ] {
            let c = clean(input);
            let utf16: Vec<u16> = input.encode_utf16().collect();
            let rebuilt: Vec<u16> = utf16
                .iter()
                .enumerate()
                .filter(|(i, _)| !c.removed_at.contains(i))
                .map(|(_, u)| *u)
                .collect();
            assert_eq!(String::from_utf16(&rebuilt).unwrap(), c.value, "{input:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_value() {
        let c = clean("supersecretvalue");
        let d = format!("{c:?}");
        assert!(!d.contains("supersecret"), "{d}");
        assert!(d.contains("16 chars"), "{d}");
    }
}
