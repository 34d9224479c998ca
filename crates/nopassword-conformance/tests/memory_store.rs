//! `MemoryStore` passes the store suite, on a manual clock and on real time. (It lives here, not
//! in core: core cannot dev-depend on this crate without building two copies of itself.)

/// On a manual clock; after each check, everything it left behind expires.
mod manual_clock {
    use std::{sync::Arc, time::Duration};

    use nopassword_conformance::{store::Subject, store_suite};
    use nopassword_core::{MemoryStore, clock::ManualClock};

    store_suite!(async || {
        let clock = ManualClock::new();
        let store = Arc::new(MemoryStore::with_clock(clock.clone()));
        Subject::manual_clock(store.clone(), clock.clone()).after(move || {
            clock.advance(Duration::from_secs(3600));
            assert_eq!(store.len(), 0, "everything the check left behind expires");
        })
    });
}

/// On the system clock, as the Redis store runs.
mod real_time {
    use std::sync::Arc;

    use nopassword_conformance::{store::Subject, store_suite};
    use nopassword_core::MemoryStore;

    store_suite!(async || Subject::real_time(Arc::new(MemoryStore::new())));
}
