//! Keyed hashing of codes at rest (HMAC with the configured sha2-family hash) and the
//! randomness codes are drawn from.

use std::{fmt, sync::Mutex};

use hmac::{Hmac, Mac};
use rand::{Rng, SeedableRng, rngs::StdRng};
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

    /// Every keyed hash and digest the crate stores or compares, for every algorithm, pinned
    /// byte for byte: a dependency upgrade (sha2, hmac, digest) must not change what is at
    /// rest in a store, or every outstanding code and rate bucket would be lost.
    #[test]
    fn stored_hashes_are_pinned() {
        let old = SecretString::new("o".repeat(32));
        let mut seen = Vec::new();
        for alg in HashAlgorithm::ALL {
            let hasher = CodeHasher::new(alg, &key('k'), std::slice::from_ref(&old));
            let code = hasher.hash("0123456789abcdef0123");
            let all = hasher
                .candidates("0123456789abcdef0123")
                .collect::<Vec<_>>();
            seen.push(format!(
                "{alg} digest={} key={} verifier={} fallback={}{} typed={} flow={} csrf={} bucket={}",
                hex(alg.digest(b"abc").as_slice()),
                code.key.to_hex(),
                hex(&code.verifier),
                all[1].key.to_hex(),
                hex(&all[1].verifier),
                hex(&hasher.typed_check("123456")),
                hex(&hasher.flow_hash(b"flow-id")),
                hex(&hasher.csrf_signature(b"nonce")),
                hasher.bucket("ip", "192.0.2.1"),
            ));
        }
        let expected: [&str; 6] = KNOWN_ANSWERS;
        assert_eq!(seen, expected);
    }

    /// `SeededRng` streams are pinned too: tests and benchmarks rely on seeded codes being the
    /// same across rand versions.
    #[test]
    fn seeded_rng_is_pinned() {
        let mut bytes = [0u8; 40];
        SeededRng::new(7).fill_bytes(&mut bytes);
        assert_eq!(hex(&bytes), SEEDED_7);
    }

    const SEEDED_7: &str =
        "befba86ae9e0c207865f7e24e8349d4ecdbc8b0f4632842499a0dfa60568e28ab621629ead61c245";
    const KNOWN_ANSWERS: [&str; 6] = [
        "sha224 digest=23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7 key=8b396ac92f6a25e6bc531fdfde221b88 verifier=c618fce03741df0a652d1882 fallback=22dd535b6dff02a863ae742fa77321f499509363b7794577f0ced534 typed=c1b7a76f0793d53b3d618aa799e9827d flow=7b8430ba8da962f326c2abf421014202 csrf=5afb71c636bd480a8e1168968817719b bucket=ip:5e2b0324fd97f72d0ce640bb3f1a6fdb",
        "sha256 digest=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad key=39f5c4a5970bcdf4fd63e5a6935287fe verifier=e5cfa627300eba806dd1caba61d8fc4b fallback=21abf682b8fa9f1ddcd1a951acff0e42f56cecc66c0581dc11aa37690b96826f typed=bbc9376fcd332066e6bc294f0e7d57e2 flow=332a7e9c6a56eeeb0eb58d2d384fae45 csrf=77e858c3fea3b4e2d26bb0404361733d bucket=ip:211067f19a883dd5c28084ab21c468d2",
        "sha384 digest=cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7 key=2e0df2d1fb0546b2a3263477bf2b1b6d verifier=1f3e36d93081cf444077aebf32c6f6ba0f82199599b72bb7754e9434113e5fea fallback=d0141fbc7c8eedf420f811c5a57cb1111e3087b3f1a48e1faa1b29e0a0a2af6e1e0c2a6d02c2a7bc1eedd490d5a32a69 typed=0e2dc1972bd6e5c8c0adeabc5c3c57e2 flow=8d2b9c3331f73e2ea89b9aeaf8b288f4 csrf=237f9404e39679d17b23c6660e84ede2 bucket=ip:2e56f19b33c4ac20e91b1bf8ec0ad037",
        "sha512 digest=ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f key=6d60af379bc14714361128398c61f31a verifier=8f000f9305b701748909c0809421892485e3b7c5809f3c1e18b58a92e056b5cdbd5aed1d4a7ab23c66808449745609f2 fallback=2c0753a8eadd8f4e6f295130348db569cff968aacd749da63a0e1e6f1e0676ae3fbcb03e5d89c03d537aff678fe8de4a641396d1a8ae7b314465cf5c18cdaac2 typed=14dc18ba30003177c23a2f6fa7d07185 flow=4b9179ebc597a87fbd8b195eb283f67e csrf=cf8580a85ce9e2af3ebc6419e47fd612 bucket=ip:35e3f48160e7b27d1d048a4c5f0480aa",
        "sha512_224 digest=4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa key=4b5f1f1bca1adfdc40dbf665160ae8ab verifier=1088cca755c2d75b9e0643c2 fallback=aab00eed2db0935f733262862fad50d364a824dfb2cdca9f14d30f61 typed=8b2f37613afa38a47e39f530fc281e90 flow=21b3b7a5004acbd384da162d2ec10361 csrf=c9c36d718062be9387141ff8dc7cbb5d bucket=ip:f164512c35979119bd5fb76ecb679798",
        "sha512_256 digest=53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23 key=77a89307082fdf26c5565f0cc430a298 verifier=8ef4c47c765721dd4291dbb2a26f20d1 fallback=b07f36bd07ccb52a3476aac589fc9ab08bf45a70648d6219baa70a8038c723b1 typed=157eebea2f7134862ccb328f93c65f76 flow=cc237e7d97027c1001f2898a59efb6e0 csrf=6014bf721a60e594ad24c47953d3e495 bucket=ip:7950a3928bc7bb9e8a5706692fba8595",
    ];

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
