//! Keyed hashing of codes at rest (HMAC with the configured sha2-family hash) and the
//! randomness codes are drawn from.

use std::{fmt, sync::Mutex};

use hmac::{Hmac, Mac};
use rand::{RngCore, SeedableRng, rngs::StdRng};
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512, Sha512_224, Sha512_256};
use subtle::ConstantTimeEq;

use crate::{secret::SecretString, settings::HashAlgorithm};

/// Bytes of a code's keyed hash used as its store key; the rest is the verifier.
pub(crate) const KEY_LEN: usize = 16;

/// The longest digest of the family (SHA-512).
const MAX_DIGEST: usize = 64;

/// A digest held inline, so hashing a code allocates nothing.
#[derive(Clone, Copy)]
pub(crate) struct DigestBuf {
    bytes: [u8; MAX_DIGEST],
    len: usize,
}

impl DigestBuf {
    fn from_slice(slice: &[u8]) -> Self {
        let mut bytes = [0; MAX_DIGEST];
        bytes[..slice.len()].copy_from_slice(slice);
        Self {
            bytes,
            len: slice.len(),
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl HashAlgorithm {
    /// Plain digest of `data`.
    pub(crate) fn digest(self, data: &[u8]) -> DigestBuf {
        match self {
            Self::Sha224 => DigestBuf::from_slice(&Sha224::digest(data)),
            Self::Sha256 => DigestBuf::from_slice(&Sha256::digest(data)),
            Self::Sha384 => DigestBuf::from_slice(&Sha384::digest(data)),
            Self::Sha512 => DigestBuf::from_slice(&Sha512::digest(data)),
            Self::Sha512_224 => DigestBuf::from_slice(&Sha512_224::digest(data)),
            Self::Sha512_256 => DigestBuf::from_slice(&Sha512_256::digest(data)),
        }
    }
}

/// An HMAC whose key schedule is computed once; each use clones the prepared state.
#[derive(Clone)]
enum PreparedMac {
    Sha224(Hmac<Sha224>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
    Sha512_224(Hmac<Sha512_224>),
    Sha512_256(Hmac<Sha512_256>),
}

impl PreparedMac {
    fn new(alg: HashAlgorithm, key: &[u8]) -> Self {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
        fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> M {
            <M as hmac::digest::KeyInit>::new_from_slice(key)
                .expect("HMAC accepts keys of any length")
        }
        match alg {
            HashAlgorithm::Sha224 => Self::Sha224(mac(key)),
            HashAlgorithm::Sha256 => Self::Sha256(mac(key)),
            HashAlgorithm::Sha384 => Self::Sha384(mac(key)),
            HashAlgorithm::Sha512 => Self::Sha512(mac(key)),
            HashAlgorithm::Sha512_224 => Self::Sha512_224(mac(key)),
            HashAlgorithm::Sha512_256 => Self::Sha512_256(mac(key)),
        }
    }

    fn sign(&self, parts: &[&[u8]]) -> DigestBuf {
        macro_rules! run {
            ($m:expr) => {{
                let mut m = $m.clone();
                for part in parts {
                    m.update(part);
                }
                DigestBuf::from_slice(&m.finalize().into_bytes())
            }};
        }
        match self {
            Self::Sha224(m) => run!(m),
            Self::Sha256(m) => run!(m),
            Self::Sha384(m) => run!(m),
            Self::Sha512(m) => run!(m),
            Self::Sha512_224(m) => run!(m),
            Self::Sha512_256(m) => run!(m),
        }
    }
}

/// The store key of a code: the first [`CodeKey::LEN`] bytes of its keyed hash.
///
/// It reveals nothing about the code without the secret key, so it may sit in Redis in the
/// clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeKey([u8; KEY_LEN]);

impl CodeKey {
    /// Bytes of a store key: the first bytes of a code's keyed hash; the rest is the verifier.
    pub const LEN: usize = KEY_LEN;

    /// Wraps raw key bytes (for stores that read keys back).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Lower-case hex, 32 characters.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to correlate log lines.
        write!(f, "CodeKey({}..)", &self.to_hex()[..8])
    }
}

/// A code's keyed hash, split into the store key and the verifier kept in the record.
#[derive(Clone, PartialEq, Eq)]
pub struct HashedCode {
    /// Where the record lives.
    pub key: CodeKey,
    /// The rest of the hash, compared in constant time when the record is read.
    pub verifier: Vec<u8>,
}

impl fmt::Debug for HashedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashedCode")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl HashedCode {
    /// Constant-time comparison of a stored verifier with this hash's.
    pub fn verifies(&self, stored_verifier: &[u8]) -> bool {
        self.verifier.ct_eq(stored_verifier).into()
    }
}

/// Keyed hashing with the primary `secret_key` and its fallbacks.
///
/// ```
/// use nopassword_core::{hashing::CodeHasher, settings::HashAlgorithm, secret::SecretString};
///
/// let old = SecretString::new("o".repeat(32));
/// let new = SecretString::new("n".repeat(32));
/// let before = CodeHasher::new(HashAlgorithm::Sha256, &old, &[]);
/// let after = CodeHasher::new(HashAlgorithm::Sha256, &new, &[old]);
/// let stored = before.hash("0123456789abcdef0123");
/// // After rotation the old hash is still among the candidates.
/// assert!(after.candidates("0123456789abcdef0123").any(|h| h == stored));
/// assert_ne!(after.hash("0123456789abcdef0123"), stored);
/// ```
#[derive(Clone)]
pub struct CodeHasher {
    primary: PreparedMac,
    fallbacks: Vec<PreparedMac>,
}

impl fmt::Debug for CodeHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeHasher")
            .field("fallbacks", &self.fallbacks.len())
            .finish_non_exhaustive()
    }
}

/// Domain separation: a code's hash can never equal a bucket's.
const CODE_DOMAIN: &[u8] = b"nopassword.code\0";
const BUCKET_DOMAIN: &[u8] = b"nopassword.bucket\0";
const TYPED_DOMAIN: &[u8] = b"nopassword.typed\0";
const FLOW_DOMAIN: &[u8] = b"nopassword.flow\0";
const CSRF_DOMAIN: &[u8] = b"nopassword.csrf\0";

/// Bytes kept of the keyed hashes of typed codes, flow ids and CSRF nonces: 128 bits.
pub(crate) const CHECK_LEN: usize = 16;

impl CodeHasher {
    /// Prepares HMAC states for the primary key and each fallback.
    pub fn new(alg: HashAlgorithm, secret_key: &SecretString, fallbacks: &[SecretString]) -> Self {
        Self {
            primary: PreparedMac::new(alg, secret_key.expose().as_bytes()),
            fallbacks: fallbacks
                .iter()
                .map(|k| PreparedMac::new(alg, k.expose().as_bytes()))
                .collect(),
        }
    }

    /// The hash a new code is stored under (primary key).
    pub fn hash(&self, code: &str) -> HashedCode {
        split(self.primary.sign(&[CODE_DOMAIN, code.as_bytes()]))
    }

    /// Every hash a presented code may be stored under: primary key first, then fallbacks.
    pub fn candidates<'a>(&'a self, code: &'a str) -> impl Iterator<Item = HashedCode> + 'a {
        std::iter::once(&self.primary)
            .chain(&self.fallbacks)
            .map(move |mac| split(mac.sign(&[CODE_DOMAIN, code.as_bytes()])))
    }

    /// The keyed hash of a code as a person types it, kept in the record (primary key).
    pub(crate) fn typed_check(&self, code: &str) -> Vec<u8> {
        self.primary
            .sign(&[TYPED_DOMAIN, code.as_bytes()])
            .as_slice()[..CHECK_LEN]
            .to_vec()
    }

    /// Whether `code` matches a stored [`typed_check`](Self::typed_check) under any key
    /// (constant-time per key).
    pub(crate) fn typed_matches(&self, code: &str, stored: &[u8]) -> bool {
        self.matches(&[TYPED_DOMAIN, code.as_bytes()], stored)
    }

    /// The keyed hash of a flow id, kept in the record (primary key).
    pub(crate) fn flow_hash(&self, flow_id: &[u8]) -> Vec<u8> {
        self.primary.sign(&[FLOW_DOMAIN, flow_id]).as_slice()[..CHECK_LEN].to_vec()
    }

    /// Whether `flow_id` matches a stored [`flow_hash`](Self::flow_hash) under any key.
    pub(crate) fn flow_matches(&self, flow_id: &[u8], stored: &[u8]) -> bool {
        self.matches(&[FLOW_DOMAIN, flow_id], stored)
    }

    /// The signature of a CSRF nonce (primary key).
    pub(crate) fn csrf_signature(&self, nonce: &[u8]) -> Vec<u8> {
        self.primary.sign(&[CSRF_DOMAIN, nonce]).as_slice()[..CHECK_LEN].to_vec()
    }

    /// Whether `signature` signs `nonce` under any key.
    pub(crate) fn csrf_signed(&self, nonce: &[u8], signature: &[u8]) -> bool {
        self.matches(&[CSRF_DOMAIN, nonce], signature)
    }

    fn matches(&self, parts: &[&[u8]], stored: &[u8]) -> bool {
        if stored.len() != CHECK_LEN {
            return false;
        }
        let mut found = subtle::Choice::from(0);
        for mac in std::iter::once(&self.primary).chain(&self.fallbacks) {
            found |= mac.sign(parts).as_slice()[..CHECK_LEN].ct_eq(stored);
        }
        found.into()
    }

    /// A keyed name for a rate-limit bucket, so store keys never hold a username or address.
    pub fn bucket(&self, kind: &str, value: &str) -> String {
        let digest = self
            .primary
            .sign(&[BUCKET_DOMAIN, kind.as_bytes(), b"\0", value.as_bytes()]);
        format!("{kind}:{}", hex(&digest.as_slice()[..KEY_LEN]))
    }
}

fn split(digest: DigestBuf) -> HashedCode {
    let bytes = digest.as_slice();
    let mut key = [0; KEY_LEN];
    key.copy_from_slice(&bytes[..KEY_LEN]);
    HashedCode {
        key: CodeKey(key),
        verifier: bytes[KEY_LEN..].to_vec(),
    }
}

/// Bytes from lower-case (or upper-case) hex; `None` unless `text` is exactly `N` bytes' worth.
pub(crate) fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = [0u8; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The randomness codes are drawn from. It must be a CSPRNG outside tests.
///
/// The service holds it as `Arc<dyn CodeRng>`, so tests can inject [`SeededRng`] and get
/// reproducible codes.
pub trait CodeRng: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill_bytes(&self, dest: &mut [u8]);
}

/// The default: rand's thread-local CSPRNG (ChaCha12, seeded and periodically reseeded from the
/// operating system).
///
/// ```
/// use nopassword_core::{CodeRng, hashing::SystemRng};
///
/// let mut a = [0u8; 16];
/// SystemRng.fill_bytes(&mut a);
/// assert_ne!(a, [0u8; 16]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRng;

impl CodeRng for SystemRng {
    fn fill_bytes(&self, dest: &mut [u8]) {
        rand::rng().fill_bytes(dest);
    }
}

/// A deterministic generator for tests: the same seed gives the same codes.
///
/// ```
/// use nopassword_core::{CodeRng, hashing::SeededRng};
///
/// let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
/// SeededRng::new(7).fill_bytes(&mut a);
/// SeededRng::new(7).fill_bytes(&mut b);
/// assert_eq!(a, b);
/// ```
#[derive(Debug)]
pub struct SeededRng(Mutex<StdRng>);

impl SeededRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl CodeRng for SeededRng {
    fn fill_bytes(&self, dest: &mut [u8]) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .fill_bytes(dest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> SecretString {
        SecretString::new(c.to_string().repeat(32))
    }

    #[test]
    fn hmac_matches_known_answer() {
        // RFC 4231 test case 2 (key "Jefe"), through the prepared state.
        let mac = PreparedMac::new(HashAlgorithm::Sha256, b"Jefe");
        let out = mac.sign(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex(out.as_slice()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn every_algorithm_splits_into_key_and_verifier() {
        for alg in HashAlgorithm::ALL {
            let h = CodeHasher::new(alg, &key('k'), &[]).hash("abc");
            assert_eq!(h.verifier.len() + KEY_LEN, alg.output_len(), "{alg}");
        }
    }

    #[test]
    fn keys_matter() {
        let a = CodeHasher::new(HashAlgorithm::Sha256, &key('a'), &[]);
        let b = CodeHasher::new(HashAlgorithm::Sha256, &key('b'), &[]);
        assert_ne!(a.hash("code"), b.hash("code"));
        assert_ne!(a.hash("code"), a.hash("code2"));
        assert_ne!(a.bucket("ip", "1.2.3.4"), b.bucket("ip", "1.2.3.4"));
        assert!(!a.bucket("ip", "1.2.3.4").contains("1.2.3.4"));
    }

    #[test]
    fn verifier_comparison() {
        let h = CodeHasher::new(HashAlgorithm::Sha256, &key('a'), &[]).hash("code");
        assert!(h.verifies(&h.verifier));
        let mut other = h.verifier.clone();
        other[0] ^= 1;
        assert!(!h.verifies(&other));
        assert!(!h.verifies(&h.verifier[1..]));
    }
}
