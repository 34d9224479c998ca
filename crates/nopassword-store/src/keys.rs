//! The key layout: what each Redis key is called.
//!
//! | key | value | TTL |
//! |---|---|---|
//! | `{<ns>:c:<code key>}` | a code's record ([`CodeRecord::encode`](nopassword_core::store::CodeRecord::encode)) | the code's validity |
//! | `{<ns>:c:<code key>}:f` | refused uses of that code (integer) | the record's remaining TTL |
//! | `<ns>:f:<user id>` | a user's consecutive failures (integer, at most the cap) | the failure window, renewed on each counted failure |
//! | `<ns>:r:<bucket>` | hits in a rate window (integer); buckets are keyed hashes | the window, from its first hit |
//!
//! `<code key>` is the 16-byte [`CodeKey`] in unpadded base64url: 22 characters, so that with
//! a namespace of up to 17 characters the key fits Redis's 48-byte allocation class (hex
//! would need 32 characters, and the default namespace would then cost 16 bytes more per
//! code). A code's two keys share the hash tag `{<ns>:c:<code key>}`, so they sit in one
//! cluster slot and one Lua script or pipeline may touch both.

use nopassword_core::hashing::CodeKey;

/// Builds keys for one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    namespace: String,
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url (RFC 4648 section 5): no `{`, `}` or `:`, so keys stay unambiguous.
fn base64url(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            let sextet = (n >> (18 - 6 * i)) & 0x3f;
            out.push(BASE64URL[sextet as usize]);
        }
    }
}

impl Keys {
    pub(crate) fn new(namespace: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
        }
    }

    pub(crate) fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The record key `{ns:c:<base64url>}`.
    pub(crate) fn code(&self, key: &CodeKey) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.namespace.len() + 30);
        out.push(b'{');
        out.extend_from_slice(self.namespace.as_bytes());
        out.extend_from_slice(b":c:");
        base64url(key.as_bytes(), &mut out);
        out.push(b'}');
        out
    }

    /// The record key and its failure-counter key `{ns:c:<base64url>}:f`.
    pub(crate) fn code_pair(&self, key: &CodeKey) -> (Vec<u8>, Vec<u8>) {
        let record = self.code(key);
        let mut failures = Vec::with_capacity(record.len() + 2);
        failures.extend_from_slice(&record);
        failures.extend_from_slice(b":f");
        (record, failures)
    }

    /// A user's failure counter `ns:f:<user id>`.
    pub(crate) fn user_failures(&self, user_id: &str) -> Vec<u8> {
        self.plain(b'f', user_id)
    }

    /// A rate bucket `ns:r:<bucket>`.
    pub(crate) fn rate(&self, bucket: &str) -> Vec<u8> {
        self.plain(b'r', bucket)
    }

    fn plain(&self, kind: u8, name: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.namespace.len() + 3 + name.len());
        out.extend_from_slice(self.namespace.as_bytes());
        out.extend_from_slice(&[b':', kind, b':']);
        out.extend_from_slice(name.as_bytes());
        out
    }
}

/// Whether `namespace` is a valid installation name: core's rule.
pub(crate) use nopassword_core::settings::is_valid_namespace as valid_namespace;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let keys = Keys::new("np");
        // Decodes to the base64url alphabet's first 21 characters and a final `Q`.
        let key = CodeKey::from_bytes([
            0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30, 0xd3, 0x8f, 0x41, 0x14,
            0x93, 0x51,
        ]);
        let (record, failures) = keys.code_pair(&key);
        assert_eq!(record, b"{np:c:ABCDEFGHIJKLMNOPQRSTUQ}");
        assert_eq!(failures, b"{np:c:ABCDEFGHIJKLMNOPQRSTUQ}:f");
        assert_eq!(keys.user_failures("42"), b"np:f:42");
        assert_eq!(keys.rate("send:00ff"), b"np:r:send:00ff");
    }

    #[test]
    fn base64url_matches_rfc_4648() {
        let encode = |bytes: &[u8]| {
            let mut out = Vec::new();
            base64url(bytes, &mut out);
            String::from_utf8(out).expect("ascii")
        };
        // RFC 4648 section 10, unpadded, and the two characters that differ from base64.
        for (input, expected) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(input.as_bytes()), expected);
        }
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(encode(&[0xab; 16]).len(), 22);
    }

    #[test]
    fn the_default_namespaces_code_keys_fit_48_bytes() {
        // Redis allocates a key as its bytes plus 4; jemalloc rounds up to 48 up to 44 bytes.
        let (record, _) = Keys::new("nopassword").code_pair(&CodeKey::from_bytes([0xff; 16]));
        assert_eq!(record.len(), 37);
        let (record, _) = Keys::new("a-namespace-of-17").code_pair(&CodeKey::from_bytes([0; 16]));
        assert!(record.len() <= 44);
    }

    #[test]
    fn a_codes_keys_share_a_hash_tag() {
        let keys = Keys::new("nopassword");
        let (record, failures) = keys.code_pair(&CodeKey::from_bytes([7; 16]));
        let tag = |k: &[u8]| {
            let open = k.iter().position(|&b| b == b'{').expect("open");
            let close = k.iter().position(|&b| b == b'}').expect("close");
            k[open + 1..close].to_vec()
        };
        assert_eq!(tag(&record), tag(&failures));
    }

    #[test]
    fn namespaces() {
        assert!(valid_namespace("nopassword"));
        assert!(valid_namespace("my-app_2.prod"));
        for bad in ["", "a b", "a{b}", "a:b", "é"] {
            assert!(!valid_namespace(bad), "{bad:?}");
        }
    }
}
