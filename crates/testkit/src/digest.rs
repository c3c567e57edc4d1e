//! SHA-256 as image archives name content: config and blob file names, diff_ids.

use sha2::{Digest, Sha256};

/// The 64 hex digits.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `sha256:<hex>`, as diff_ids and OCI digests are written.
pub fn digest(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}
