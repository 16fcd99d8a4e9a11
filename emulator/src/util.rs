//! Small helpers: time, random values in the vendors' formats, hashing, HTML escaping.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use sha2::{Digest as _, Sha256};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::macros::format_description;

/// How far the vendors' clock is off from this computer's, in seconds (`POST /_emulator/clock`).
/// Process-wide: every emulator in this process shares one clock, like one vendor's servers.
static CLOCK_SKEW_SECS: AtomicI64 = AtomicI64::new(0);

pub(crate) fn set_clock_skew(secs: i64) {
    CLOCK_SKEW_SECS.store(secs, Ordering::SeqCst);
}

pub(crate) fn clock_skew() -> i64 {
    CLOCK_SKEW_SECS.load(Ordering::SeqCst)
}

/// Seconds since the Unix epoch, by the vendors' (possibly skewed) clock.
pub(crate) fn now() -> u64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    real.saturating_add_signed(clock_skew())
}

pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn random_alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

pub(crate) fn random_hex(n: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| HEX[rng.random_range(0..16)] as char)
        .collect()
}

pub(crate) fn random_b64url(bytes: usize) -> String {
    let mut rng = rand::rng();
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

pub(crate) fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// PKCE S256: BASE64URL-NOPAD(SHA256(verifier)).
pub(crate) fn pkce_s256(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

/// HMAC-SHA256 (RFC 2104) on top of `sha2`, for the HS256 JWTs Aspire hands out.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for i in 0..BLOCK {
        ipad[i] ^= k[i];
        opad[i] ^= k[i];
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// A compact HS256 JWT.
pub(crate) fn jwt_hs256(key: &[u8], claims: &serde_json::Value) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let sig = b64url(&hmac_sha256(key, signing_input.as_bytes()));
    format!("{signing_input}.{sig}")
}

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

fn datetime(secs: i64, offset_hours: i8) -> OffsetDateTime {
    let off = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(off)
}

/// `2025-01-06T07:00:00-07:00` (QuickBooks Time and QuickBooks Online entity timestamps).
pub(crate) fn iso_offset(secs: i64, offset_hours: i8) -> String {
    let f = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    datetime(secs, offset_hours).format(&f).unwrap_or_default()
}

/// `2025-01-06T07:00:00Z` (Aspire date-times).
pub(crate) fn iso_z(secs: i64) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    datetime(secs, 0).format(&f).unwrap_or_default()
}

/// `2025-01-06` in the given offset.
pub(crate) fn date(secs: i64, offset_hours: i8) -> String {
    let f = format_description!("[year]-[month]-[day]");
    datetime(secs, offset_hours).format(&f).unwrap_or_default()
}

/// QuickBooks Online's `"time"` member: `2015-07-10T09:38:58.155-07:00`.
/// Assumption: the emulator always reports Pacific daylight time (-07:00), as Intuit's samples do.
pub(crate) fn qbo_time() -> String {
    let millis = now_millis();
    let secs = (millis / 1000) as i64;
    let f = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3][offset_hour sign:mandatory]:[offset_minute]"
    );
    let dt = datetime(secs, -7)
        .replace_millisecond((millis % 1000) as u16)
        .unwrap_or_else(|_| datetime(secs, -7));
    dt.format(&f).unwrap_or_default()
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
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn pkce_matches_rfc7636_example() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(iso_offset(1_736_172_000, -7), "2025-01-06T07:00:00-07:00");
        assert_eq!(iso_z(1_736_172_000), "2025-01-06T14:00:00Z");
        assert_eq!(date(1_736_172_000, -7), "2025-01-06");
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert!(qbo_time().ends_with("-07:00"));
    }
}
