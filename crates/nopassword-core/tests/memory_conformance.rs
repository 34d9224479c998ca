//! `MemoryStore` passes the store conformance suite, on a manual clock and on real time.

use std::sync::Arc;

use nopassword_core::{
    ManualClock, MemoryStore,
    testkit::{TimeControl, run_conformance},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_conforms_on_a_manual_clock() {
    let clock = ManualClock::new();
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    run_conformance(store.clone(), TimeControl::Manual(clock.clone())).await;
    // Everything the suite left behind expires.
    clock.advance(std::time::Duration::from_secs(3600));
    assert_eq!(store.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_conforms_in_real_time() {
    run_conformance(Arc::new(MemoryStore::new()), TimeControl::Real).await;
}
