//! Where code hashes live between issue and use: the `CodeStore` trait and its record format.

use std::time::Duration;

use async_trait::async_trait;

use crate::{error::BoxError, hashing::CodeKey};

/// What a store keeps for one outstanding code: nothing that reveals the code, the flow that
/// asked for it, the user's e-mail or phone. Stores persist it with [`CodeRecord::encode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// The user the code logs in.
    pub user_id: String,
    /// The second part of the link secret's keyed hash, compared in constant time.
    pub verifier: Vec<u8>,
    /// A keyed hash of the code a person types (the link secret itself when it is long
    /// enough, else the short code the message shows), compared in constant time.
    pub code_check: Vec<u8>,
    /// A keyed hash of the flow id of the client that asked for the code (docs/HTTP.md, Login flows).
    pub flow: Vec<u8>,
    /// The safe `next` path given when the code was requested.
    pub next: Option<String>,
    /// Issue time, seconds since the Unix epoch.
    pub created_at: u64,
    /// Expiry time, seconds since the Unix epoch (the store's TTL ends then too).
    pub expires_at: u64,
    /// The device that asked, as its `User-Agent` named it at request time (`"Firefox,
    /// Linux"`; see [`describe`](crate::device::describe)), for the approval page.
    pub device: Option<String>,
    /// Approved from another device (docs/HTTP.md, Cross-device approval): the link and the
    /// code are spent, and only the flow that asked can complete the login, once.
    pub approved: bool,
}

/// A stored code with its own failure count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// The record as stored.
    pub record: CodeRecord,
    /// Refused uses of this code so far (see [`CodeStore::incr_code_failures`]).
    pub failures: u32,
}

/// What [`CodeStore::use_code`] did with one try at a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// The code is gone (used, withdrawn or expired): nothing was counted, or another try
    /// took it first.
    Gone,
    /// A wrong try, counted; the code lives on.
    Refused {
        /// Tries at the code so far, this one included.
        tries: u32,
    },
    /// The try was counted and the code withdrawn: past its attempts, or a wrong try that
    /// used the last one.
    Withdrawn {
        /// Tries at the code so far, this one included.
        tries: u32,
    },
    /// A right try within the attempts: the code was removed and is returned (single use).
    Taken(CodeRecord),
}

const RECORD_VERSION: u8 = 4;
/// Records of version 3 (before cross-device approval) read as unapproved, without a device.
const RECORD_VERSION_3: u8 = 3;
const HAS_NEXT: u8 = 0x01;
const APPROVED: u8 = 0x02;
const HAS_DEVICE: u8 = 0x04;

/// Why a record could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored login code record is malformed: {0}")]
pub struct RecordError(&'static str);

impl CodeRecord {
    /// A compact binary form: a version byte, a flags byte, LEB128 varints for the issue time
    /// and the validity (`expires_at - created_at`), then length-prefixed verifier, code check,
    /// flow hash and user id, the device when there is one, and `next` to the end. A typical
    /// record is 70 to 110 bytes.
    ///
    /// ```
    /// use nopassword_core::store::CodeRecord;
    ///
    /// let record = CodeRecord {
    ///     user_id: "42".into(),
    ///     verifier: vec![7; 16],
    ///     code_check: vec![8; 16],
    ///     flow: vec![9; 16],
    ///     next: Some("/inbox".into()),
    ///     created_at: 1_700_000_000,
    ///     expires_at: 1_700_000_900,
    ///     device: Some("Firefox, Linux".into()),
    ///     approved: false,
    /// };
    /// let bytes = record.encode();
    /// assert!(bytes.len() <= 90);
    /// assert_eq!(CodeRecord::decode(&bytes).unwrap(), record);
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let next = self.next.as_deref().unwrap_or("");
        // Ids and verifiers are capped at 255 bytes by the service; the cap keeps lengths
        // to one byte.
        let cap = |field: &'_ [u8]| field.len().min(255);
        let verifier = &self.verifier[..cap(&self.verifier)];
        let code_check = &self.code_check[..cap(&self.code_check)];
        let flow = &self.flow[..cap(&self.flow)];
        let id = &self.user_id.as_bytes()[..cap(self.user_id.as_bytes())];
        let device = self.device.as_deref().map(|d| truncated(d, 255).as_bytes());
        let mut out = Vec::with_capacity(
            25 + verifier.len()
                + code_check.len()
                + flow.len()
                + id.len()
                + device.map_or(0, <[u8]>::len)
                + next.len(),
        );
        out.push(RECORD_VERSION);
        let mut flags = 0;
        if self.next.is_some() {
            flags |= HAS_NEXT;
        }
        if self.approved {
            flags |= APPROVED;
        }
        if device.is_some() {
            flags |= HAS_DEVICE;
        }
        out.push(flags);
        varint(&mut out, self.created_at);
        varint(&mut out, self.expires_at.saturating_sub(self.created_at));
        for field in [verifier, code_check, flow, id].into_iter().chain(device) {
            out.push(u8::try_from(field.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(field);
        }
        out.extend_from_slice(next.as_bytes());
        out
    }

    /// Reads [`CodeRecord::encode`]'s output back.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader(bytes);
        let version = r.take(1)?[0];
        if version != RECORD_VERSION && version != RECORD_VERSION_3 {
            return Err(RecordError("unknown version"));
        }
        let flags = r.take(1)?[0];
        let created_at = r.varint()?;
        let expires_at = created_at
            .checked_add(r.varint()?)
            .ok_or(RecordError("expiry out of range"))?;
        let verifier = r.field()?.to_vec();
        let code_check = r.field()?.to_vec();
        let flow = r.field()?.to_vec();
        let len = usize::from(r.take(1)?[0]);
        let user_id =
            String::from_utf8(r.take(len)?.to_vec()).map_err(|_| RecordError("user id"))?;
        let v4 = version == RECORD_VERSION;
        let device = if v4 && flags & HAS_DEVICE != 0 {
            let device = r.field()?;
            Some(String::from_utf8(device.to_vec()).map_err(|_| RecordError("device"))?)
        } else {
            None
        };
        let next = std::str::from_utf8(r.0).map_err(|_| RecordError("next"))?;
        Ok(Self {
            user_id,
            verifier,
            code_check,
            flow,
            next: (flags & HAS_NEXT != 0).then(|| next.to_owned()),
            created_at,
            expires_at,
            device,
            approved: v4 && flags & APPROVED != 0,
        })
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// LEB128: seven bits a byte, low bits first.
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        if self.0.len() < n {
            return Err(RecordError("truncated"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    /// A field prefixed with its one-byte length.
    fn field(&mut self) -> Result<&'a [u8], RecordError> {
        let len = usize::from(self.take(1)?[0]);
        self.take(len)
    }

    fn varint(&mut self) -> Result<u64, RecordError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f)
                .checked_shl(shift)
                .filter(|v| v >> shift == u64::from(byte & 0x7f))
                .ok_or(RecordError("varint overflow"))?;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(RecordError("varint too long"))
    }
}

/// Why a store call failed. Adapters answer 503 to every variant.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or refused the command.
    #[error("code store unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The backend did not answer within the store's time limit.
    #[error("code store did not answer within {0:?}")]
    Timeout(Duration),
    /// Stored data could not be read back.
    #[error(transparent)]
    Corrupt(#[from] RecordError),
}

/// Storage for outstanding codes and the counters that limit abuse.
///
/// Every operation is atomic on its own; `take` in particular must let exactly one of any
/// number of concurrent callers have the record. Usable as `Arc<dyn CodeStore>`. The store
/// suite of the `nopassword-conformance` crate (`store_suite!`, one test per check) checks an
/// implementation.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a code's record under `key` for `ttl` (replacing any record there, with a fresh
    /// failure count).
    async fn put(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Reads a code's record and failure count without consuming it.
    async fn get(&self, key: &CodeKey) -> Result<Option<StoredCode>, StoreError>;

    /// Removes and returns a code's record, atomically: of concurrent takes of one key at most
    /// one gets `Some`.
    async fn take(&self, key: &CodeKey) -> Result<Option<CodeRecord>, StoreError>;

    /// Counts a refused use of a code and returns the new count, or `None` if the code is gone.
    /// The count lives and dies with the code.
    async fn incr_code_failures(&self, key: &CodeKey) -> Result<Option<u32>, StoreError>;

    /// Counts a failed (or not yet judged) login for a user, atomically and only while the
    /// count is below `cap`: returns `Some(new count)`, or `None` when the count had already
    /// reached `cap` (the user is locked out, and the count stays at `cap`). The count expires
    /// `window` after the latest failure, so it measures consecutive failures while they keep
    /// coming. Of N concurrent calls, exactly `min(N, cap - count)` get `Some`.
    async fn incr_user_failures(
        &self,
        user_id: &str,
        window: Duration,
        cap: u32,
    ) -> Result<Option<u32>, StoreError>;

    /// A user's current consecutive-failure count.
    async fn user_failures(&self, user_id: &str) -> Result<u32, StoreError>;

    /// Resets a user's failure count (after a successful login).
    async fn clear_user_failures(&self, user_id: &str) -> Result<(), StoreError>;

    /// Fixed-window rate counter: increments `bucket`, starting a window of `window` on the
    /// first hit, and returns the count within the current window.
    async fn hit(&self, bucket: &str, window: Duration) -> Result<u32, StoreError>;

    /// Counts a hit in a rate bucket (when given, as [`CodeStore::hit`]) and reads codes (as
    /// [`CodeStore::get`], in the order of `keys`): the first step of every use of a code. A
    /// store that talks to a server sends all of it at once; the default calls
    /// [`CodeStore::hit`], then [`CodeStore::get`] for each key.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use nopassword_core::{CodeStore, MemoryStore, hashing::CodeKey};
    ///
    /// let store = MemoryStore::new();
    /// let minute = Duration::from_secs(60);
    /// let (hits, codes) = store.hit_and_get(Some(("ip:1", minute)), &[CodeKey::from_bytes([1; 16])]).await.unwrap();
    /// assert_eq!((hits, codes), (Some(1), vec![None]));
    /// # });
    /// ```
    async fn hit_and_get(
        &self,
        bucket: Option<(&str, Duration)>,
        keys: &[CodeKey],
    ) -> Result<(Option<u32>, Vec<Option<StoredCode>>), StoreError> {
        let hits = match bucket {
            Some((bucket, window)) => Some(self.hit(bucket, window).await?),
            None => None,
        };
        let mut codes = Vec::with_capacity(keys.len());
        for key in keys {
            codes.push(self.get(key).await?);
        }
        Ok((hits, codes))
    }

    /// Counts a hit in each bucket (as [`CodeStore::hit`]) and returns the counts in order.
    /// Every bucket counts, whatever the others say. Default: one [`CodeStore::hit`] after
    /// the other; a store that talks to a server sends them at once.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use nopassword_core::{CodeStore, MemoryStore};
    ///
    /// let store = MemoryStore::new();
    /// let minute = Duration::from_secs(60);
    /// store.hit("a", minute).await.unwrap();
    /// assert_eq!(store.hits(&[("a", minute), ("b", minute)]).await.unwrap(), vec![2, 1]);
    /// # });
    /// ```
    async fn hits(&self, buckets: &[(&str, Duration)]) -> Result<Vec<u32>, StoreError> {
        let mut counts = Vec::with_capacity(buckets.len());
        for (bucket, window) in buckets {
            counts.push(self.hit(bucket, *window).await?);
        }
        Ok(counts)
    }

    /// Counts a hit in `bucket` (as [`CodeStore::hit`]) and stores the code (as
    /// [`CodeStore::put`]) only if that count is at most `limit`; returns the count. Over the
    /// limit, no code stays in the store. Default: [`CodeStore::hit`], then
    /// [`CodeStore::put`] within the limit or [`CodeStore::take`] of whatever the key held
    /// over it; a store that talks to a server may send both at once.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use nopassword_core::{CodeStore, MemoryStore, hashing::CodeKey, store::CodeRecord};
    ///
    /// let store = MemoryStore::new();
    /// let record = CodeRecord { user_id: "1".into(), verifier: vec![1; 16], code_check: vec![2; 16],
    ///     flow: vec![3; 16], next: None, created_at: 0, expires_at: 900, device: None, approved: false };
    /// let (key, ttl, hour) = (CodeKey::from_bytes([1; 16]), Duration::from_secs(900), Duration::from_secs(3600));
    /// assert_eq!(store.put_counted(&key, &record, ttl, ("send:1", hour), 1).await.unwrap(), 1);
    /// assert!(store.get(&key).await.unwrap().is_some());
    /// let other = CodeKey::from_bytes([2; 16]);
    /// assert_eq!(store.put_counted(&other, &record, ttl, ("send:1", hour), 1).await.unwrap(), 2);
    /// assert!(store.get(&other).await.unwrap().is_none());
    /// # });
    /// ```
    async fn put_counted(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
        bucket: (&str, Duration),
        limit: u32,
    ) -> Result<u32, StoreError> {
        let count = self.hit(bucket.0, bucket.1).await?;
        if count <= limit {
            self.put(key, record, ttl).await?;
        } else {
            self.take(key).await?;
        }
        Ok(count)
    }

    /// Counts a user's try at a code within its flow, atomically: a wrong try (`matched`
    /// false) as [`CodeStore::incr_user_failures`]; a right one only while the user is not
    /// locked out, and then it resets the count (`Some(0)`). `None` when the user is locked
    /// out. Default: [`CodeStore::incr_user_failures`], then
    /// [`CodeStore::clear_user_failures`] for a right try that was counted.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use nopassword_core::{CodeStore, MemoryStore};
    ///
    /// let store = MemoryStore::new();
    /// let window = Duration::from_secs(900);
    /// assert_eq!(store.count_user_try("1", window, 2, false).await.unwrap(), Some(1));
    /// assert_eq!(store.count_user_try("1", window, 2, true).await.unwrap(), Some(0));
    /// assert_eq!(store.user_failures("1").await.unwrap(), 0);
    /// # });
    /// ```
    async fn count_user_try(
        &self,
        user_id: &str,
        window: Duration,
        cap: u32,
        matched: bool,
    ) -> Result<Option<u32>, StoreError> {
        let counted = self.incr_user_failures(user_id, window, cap).await?;
        if counted.is_some() && matched {
            self.clear_user_failures(user_id).await?;
            return Ok(Some(0));
        }
        Ok(counted)
    }

    /// Counts a try at a code (as [`CodeStore::incr_code_failures`]) and settles it, atomically
    /// for single use: a try past `max_attempts` withdraws the code; a right one (`matched`)
    /// within them takes it (of concurrent right tries exactly one gets
    /// [`CodeUse::Taken`]); a wrong one that reaches `max_attempts` withdraws it.
    /// Default: [`CodeStore::incr_code_failures`], then [`CodeStore::take`] when the code
    /// goes.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use nopassword_core::{CodeStore, MemoryStore, hashing::CodeKey, store::{CodeRecord, CodeUse}};
    ///
    /// let store = MemoryStore::new();
    /// let record = CodeRecord { user_id: "1".into(), verifier: vec![1; 16], code_check: vec![2; 16],
    ///     flow: vec![3; 16], next: None, created_at: 0, expires_at: 900, device: None, approved: false };
    /// let key = CodeKey::from_bytes([1; 16]);
    /// store.put(&key, &record, Duration::from_secs(900)).await.unwrap();
    /// assert_eq!(store.use_code(&key, 5, false).await.unwrap(), CodeUse::Refused { tries: 1 });
    /// assert_eq!(store.use_code(&key, 5, true).await.unwrap(), CodeUse::Taken(record));
    /// assert_eq!(store.use_code(&key, 5, true).await.unwrap(), CodeUse::Gone);
    /// # });
    /// ```
    async fn use_code(
        &self,
        key: &CodeKey,
        max_attempts: u32,
        matched: bool,
    ) -> Result<CodeUse, StoreError> {
        let Some(tries) = self.incr_code_failures(key).await? else {
            return Ok(CodeUse::Gone);
        };
        if tries > max_attempts || (!matched && tries >= max_attempts) {
            self.take(key).await?;
            return Ok(CodeUse::Withdrawn { tries });
        }
        if matched {
            return Ok(self.take(key).await?.map_or(CodeUse::Gone, CodeUse::Taken));
        }
        Ok(CodeUse::Refused { tries })
    }

    /// Takes a code (as [`CodeStore::take`]) and, when it was there, resets its user's failure
    /// count (as [`CodeStore::clear_user_failures`]): the end of a login with a link. A store
    /// that talks to a server may send both at once; the reset then happens even when another
    /// request took the code first (it was presented by a holder of the link all the same).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use nopassword_core::{CodeStore, MemoryStore, hashing::CodeKey, store::CodeRecord};
    ///
    /// let store = MemoryStore::new();
    /// let record = CodeRecord { user_id: "1".into(), verifier: vec![1; 16], code_check: vec![2; 16],
    ///     flow: vec![3; 16], next: None, created_at: 0, expires_at: 900, device: None, approved: false };
    /// let key = CodeKey::from_bytes([1; 16]);
    /// store.put(&key, &record, Duration::from_secs(900)).await.unwrap();
    /// store.incr_user_failures("1", Duration::from_secs(900), 100).await.unwrap();
    /// assert_eq!(store.take_and_reset(&key, "1").await.unwrap(), Some(record));
    /// assert_eq!(store.user_failures("1").await.unwrap(), 0);
    /// # });
    /// ```
    async fn take_and_reset(
        &self,
        key: &CodeKey,
        user_id: &str,
    ) -> Result<Option<CodeRecord>, StoreError> {
        let record = self.take(key).await?;
        if record.is_some() {
            self.clear_user_failures(user_id).await?;
        }
        Ok(record)
    }

    /// Approves a code's flow from another device (docs/HTTP.md, Cross-device approval):
    /// where `key` holds a record that is not approved and has no refused tries, puts
    /// `approved` in its place, under the same key, until the code's own expiry (`ttl` is
    /// what is left of it), and returns the record it replaced. Otherwise (gone, approved
    /// already, or tried and refused before) changes nothing and returns `None`. Of
    /// concurrent approvals exactly one gets `Some`, and none undoes another's.
    ///
    /// Default: [`CodeStore::get`], then [`CodeStore::take`] (the single winner) and
    /// [`CodeStore::put`] of `approved`; a winner that took an approved record puts it back.
    /// Between take and put the key is briefly empty (a poll then reads "expired"), so stores
    /// that talk to a server do it in one atomic step, as [`MemoryStore`](crate::MemoryStore)
    /// does in the process.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use nopassword_core::{CodeStore, MemoryStore, hashing::CodeKey, store::CodeRecord};
    ///
    /// let store = MemoryStore::new();
    /// let record = CodeRecord { user_id: "1".into(), verifier: vec![1; 16], code_check: vec![2; 16],
    ///     flow: vec![3; 16], next: None, created_at: 0, expires_at: 900, device: None, approved: false };
    /// let approved = CodeRecord { approved: true, ..record.clone() };
    /// let (key, ttl) = (CodeKey::from_bytes([1; 16]), Duration::from_secs(900));
    /// store.put(&key, &record, ttl).await.unwrap();
    /// assert_eq!(store.approve(&key, &approved, ttl).await.unwrap(), Some(record));
    /// assert_eq!(store.get(&key).await.unwrap().unwrap().record, approved);
    /// assert_eq!(store.approve(&key, &approved, ttl).await.unwrap(), None, "once");
    /// # });
    /// ```
    async fn approve(
        &self,
        key: &CodeKey,
        approved: &CodeRecord,
        ttl: Duration,
    ) -> Result<Option<CodeRecord>, StoreError> {
        match self.get(key).await? {
            Some(stored) if !stored.record.approved && stored.failures == 0 => {}
            _ => return Ok(None),
        }
        let Some(taken) = self.take(key).await? else {
            return Ok(None);
        };
        if taken.approved {
            // Another approval won between the read and the take: restore its record.
            self.put(key, &taken, ttl).await?;
            return Ok(None);
        }
        self.put(key, approved, ttl).await?;
        Ok(Some(taken))
    }

    /// Whether the store answers now: a cheap round trip to its backend (Redis `PING`, say).
    /// [`NoPassword::readiness`](crate::NoPassword::readiness) calls it under a time limit, for
    /// the adapters' readiness handlers. Default: `Ok(())`, for stores in the process.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use nopassword_core::{CodeStore, MemoryStore};
    /// assert!(MemoryStore::new().health().await.is_ok());
    /// # });
    /// ```
    async fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn records_round_trip(
            user_id in "\\PC{0,60}",
            verifier in proptest::collection::vec(any::<u8>(), 0..48),
            next in proptest::option::of("/[ -~]{0,100}"),
            code_check in proptest::collection::vec(any::<u8>(), 0..48),
            flow in proptest::collection::vec(any::<u8>(), 0..48),
            created_at in 0u64..u64::MAX / 2,
            validity in 0u64..u64::MAX / 2,
        ) {
            let expires_at = created_at + validity;
            let record = CodeRecord { user_id, verifier, code_check, flow, next, created_at, expires_at, device: None, approved: false };
            prop_assert_eq!(CodeRecord::decode(&record.encode()).expect("decodes"), record);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = CodeRecord::decode(&bytes);
        }
    }

    #[test]
    fn truncation_is_an_error() {
        let record = CodeRecord {
            user_id: "1".into(),
            verifier: vec![1; 16],
            code_check: vec![2; 16],
            flow: vec![3; 16],
            next: None,
            created_at: 1,
            expires_at: 2,
            device: None,
            approved: false,
        };
        let bytes = record.encode();
        for cut in 0..bytes.len() {
            assert!(CodeRecord::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
