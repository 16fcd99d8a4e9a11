//! Text the emulated pages and queries need: HTML escaping, `%XX` decoding, and the vendors'
//! wildcard matching (QuickBooks Time's `*`, QuickBooks Online's `LIKE '%…%'`).

pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Decodes `%XX` escapes (and leaves everything else untouched).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `text` matches `pattern`, case-insensitively, where `wildcard` stands for any run of
/// characters.
pub(crate) fn wildcard_match(pattern: &str, text: &str, wildcard: char) -> bool {
    let p = pattern.to_lowercase();
    let t = text.to_lowercase();
    let parts: Vec<&str> = p.split(wildcard).collect();
    if parts.len() == 1 {
        return p == t;
    }
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            if !t.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if i == parts.len() - 1 {
            return t.len() >= pos + part.len() && t.ends_with(part);
        } else if let Some(found) = t[pos..].find(part) {
            pos += found + part.len();
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_wildcards() {
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert!(wildcard_match("ac*", "Acme Landscaping", '*'));
        assert!(wildcard_match("%land%", "Acme Landscaping", '%'));
        assert!(wildcard_match("a%g", "Acme Landscaping", '%'));
        assert!(!wildcard_match("%lawn%", "Acme Landscaping", '%'));
        assert!(wildcard_match("acme", "ACME", '*'));
    }
}
