//! The secret tokens of sessions (refresh tokens) and of mailed links: random, and
//! stored only as SHA-256 hashes.

use spinshop_kit::digest::sha256_hex;

/// A new secret token: 256 bits from two random UUIDs' random bits, hex encoded.
pub fn new_token() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    format!("{}{}", a.simple(), b.simple())
}

/// What the database keeps of a token.
pub fn hash_token(token: &str) -> String {
    sha256_hex(&[token.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_long_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let hash = hash_token(&a);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, a);
        assert_eq!(hash, hash_token(&a));
    }
}
