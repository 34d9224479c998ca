//! The store checks fail a store that breaks their rule, and say which rule.

use std::{sync::Arc, time::Duration};

use nopassword_conformance::store::{Subject, checks, run};
use nopassword_core::{
    CodeStore, MemoryStore, StoreError, async_trait,
    hashing::CodeKey,
    store::{CodeRecord, StoredCode},
};

/// A memory store with one bug: `take` reads the record but leaves it in place, and the user
/// failure count ignores its cap.
struct Broken(MemoryStore);

#[async_trait]
impl CodeStore for Broken {
    async fn put(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.0.put(key, record, ttl).await
    }

    async fn get(&self, key: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        self.0.get(key).await
    }

    async fn take(&self, key: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        Ok(self.0.get(key).await?.map(|stored| stored.record))
    }

    async fn incr_code_failures(&self, key: &CodeKey) -> Result<Option<u32>, StoreError> {
        self.0.incr_code_failures(key).await
    }

    async fn incr_user_failures(
        &self,
        user_id: &str,
        window: Duration,
        _cap: u32,
    ) -> Result<Option<u32>, StoreError> {
        self.0.incr_user_failures(user_id, window, u32::MAX).await
    }

    async fn user_failures(&self, user_id: &str) -> Result<u32, StoreError> {
        self.0.user_failures(user_id).await
    }

    async fn clear_user_failures(&self, user_id: &str) -> Result<(), StoreError> {
        self.0.clear_user_failures(user_id).await
    }

    async fn hit(&self, bucket: &str, window: Duration) -> Result<u32, StoreError> {
        self.0.hit(bucket, window).await
    }
}

fn broken() -> Subject {
    Subject::real_time(Arc::new(Broken(MemoryStore::new())))
}

#[test]
#[should_panic(expected = "a second take finds nothing")]
fn put_get_take_catches_a_take_that_keeps_the_record() {
    run(async { checks::put_get_take(&broken()).await });
}

#[test]
#[should_panic(expected = "concurrent takes won")]
fn concurrent_takes_catches_a_take_that_keeps_the_record() {
    run(async { checks::concurrent_takes(&broken()).await });
}

#[test]
#[should_panic(expected = "a count at its cap is not incremented")]
fn capped_user_failures_catches_an_ignored_cap() {
    run(async { checks::capped_user_failures(&broken()).await });
}

#[test]
fn the_checks_of_other_rules_pass_it() {
    run(async {
        let subject = broken();
        checks::get_does_not_consume(&subject).await;
        checks::code_failures(&subject).await;
        checks::rate_counters(&subject).await;
        checks::concurrent_hits(&subject).await;
    });
}

#[test]
#[should_panic(expected = "everything the check left behind")]
fn a_verification_after_the_check_runs() {
    run(async {
        let subject = broken().after(|| panic!("everything the check left behind"));
        checks::put_replaces(&subject).await;
        subject.finish();
    });
}
