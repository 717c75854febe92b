//! How a webhook delivery is signed, and how its receiver checks it.
//!
//! Each delivery carries `x-spinshop-timestamp: <unix seconds>` and
//! `x-spinshop-signature: v1=<hex>`, where `<hex>` is the lowercase hex
//! HMAC-SHA256, keyed with the `webhook_secret` variable, of the timestamp, a `.`,
//! and the request body exactly as received (`"<timestamp>.<body>"`). A receiver
//! recomputes it and compares in constant time ([`verify`]), refuses timestamps far
//! from its own clock (a replayed request keeps its old timestamp, and changing it
//! breaks the signature), and skips event ids it has already handled (deliveries are
//! at least once).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The scheme prefix of the signature header; a new scheme would get a new prefix.
pub const SCHEME: &str = "v1=";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `x-spinshop-signature` value for `body` sent at `timestamp`: `v1=<hex>`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{SCHEME}{hex}")
}

/// Whether `header` (an `x-spinshop-signature` value; several comma-separated
/// signatures are allowed, one of which must match) signs `body` at `timestamp`
/// with `secret`. Compared in constant time.
pub fn verify(secret: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    header.split(',').any(|candidate| {
        candidate
            .trim()
            .strip_prefix(SCHEME)
            .and_then(decode_hex)
            .is_some_and(|digest| mac(secret, timestamp, body).verify_slice(&digest).is_ok())
    })
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).ok())
        .collect()
}
