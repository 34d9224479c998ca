//! Delivery off the request path: the [`Dispatch`] trait and [`Dispatcher`], a bounded one.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

/// A task [`Dispatch`] runs in the background.
pub type BackgroundTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs delivery in the background, so that a real user's answer takes as long as an unknown
/// user's (the mail or SMS round trip no longer shows in the response time).
///
/// The price: a sender outage is then logged and counted
/// ([`NoPassword::delivery_failures`](crate::NoPassword::delivery_failures)), not answered with
/// 503 (the user sees "sent" and gets nothing). Both web adapters install a [`Dispatcher`]
/// unless the app chose otherwise with
/// [`Builder::dispatch`](crate::NoPasswordBuilder::dispatch) or
/// [`Builder::deliver_inline`](crate::NoPasswordBuilder::deliver_inline).
///
/// ```
/// use nopassword_core::{Dispatch, dispatch::BackgroundTask};
///
/// struct Tokio;
///
/// impl Dispatch for Tokio {
///     fn dispatch(&self, task: BackgroundTask) {
///         tokio::spawn(task);
///     }
/// }
/// ```
pub trait Dispatch: Send + Sync {
    /// Runs `task` to completion, off the caller's path.
    fn dispatch(&self, task: BackgroundTask);

    /// Room for one delivery, taken atomically at the start of every code request (for real
    /// and unknown users alike, so a full queue answers every user the same 503) and held until
    /// that delivery ends. `Err(in_flight)` when the queue is full. The default: unbounded.
    fn reserve(&self) -> Result<Reservation, usize> {
        Ok(Reservation(None))
    }
}

/// Room for one background delivery ([`Dispatch::reserve`]); dropping it frees the room.
#[derive(Debug)]
pub struct Reservation(Option<Arc<AtomicUsize>>);

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(in_flight) = &self.0 {
            in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A bounded [`Dispatch`]: at most `capacity` deliveries reserved or in flight, each spawned by
/// the given function (for Tokio, [`Dispatcher::tokio`] with the `tokio` feature).
///
/// ```
/// use nopassword_core::{Dispatch, dispatch::Dispatcher};
///
/// let dispatcher = Dispatcher::new(1, |task| drop(task));
/// let room = dispatcher.reserve().expect("room for one");
/// assert_eq!(dispatcher.reserve().unwrap_err(), 1, "a queue of one is full");
/// drop(room);
/// assert!(dispatcher.reserve().is_ok());
/// ```
#[derive(Clone)]
pub struct Dispatcher {
    capacity: usize,
    in_flight: Arc<AtomicUsize>,
    spawn: Arc<dyn Fn(BackgroundTask) + Send + Sync>,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("capacity", &self.capacity)
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// Deliveries in flight before code requests are refused, unless set otherwise: enough
    /// for bursts of thousands of requests a second against a mail server answering in
    /// 100 ms, small enough that a dead mail server cannot pile up unbounded work.
    pub const DEFAULT_CAPACITY: usize = 1_024;

    /// A dispatcher running at most `capacity` tasks (at least 1), started with `spawn`.
    pub fn new(capacity: usize, spawn: impl Fn(BackgroundTask) + Send + Sync + 'static) -> Self {
        Self {
            capacity: capacity.max(1),
            in_flight: Arc::new(AtomicUsize::new(0)),
            spawn: Arc::new(spawn),
        }
    }

    /// The longest a delivery may run under [`Dispatcher::tokio`] before it is abandoned (and
    /// its room freed), so a sender that never answers cannot fill the queue for good.
    pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

    /// A dispatcher on the current Tokio runtime (`tokio::spawn`); each delivery is abandoned
    /// after [`DELIVERY_TIMEOUT`](Self::DELIVERY_TIMEOUT), with a warning.
    #[cfg(feature = "tokio")]
    pub fn tokio(capacity: usize) -> Self {
        Self::new(capacity, |task| {
            drop(tokio::spawn(async move {
                if tokio::time::timeout(Self::DELIVERY_TIMEOUT, task)
                    .await
                    .is_err()
                {
                    tracing::warn!(
                        timeout = ?Self::DELIVERY_TIMEOUT,
                        "login code delivery abandoned: the sender did not finish"
                    );
                }
            }));
        })
    }

    /// Deliveries reserved or running.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// The most tasks in flight before requests are refused.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl Dispatch for Dispatcher {
    fn dispatch(&self, task: BackgroundTask) {
        (self.spawn)(task);
    }

    fn reserve(&self) -> Result<Reservation, usize> {
        let mut current = self.in_flight.load(Ordering::Acquire);
        loop {
            if current >= self.capacity {
                return Err(current);
            }
            match self.in_flight.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Reservation(Some(Arc::clone(&self.in_flight)))),
                Err(seen) => current = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_reservations_never_pass_the_capacity() {
        let dispatcher = Dispatcher::new(8, drop);
        let granted = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..32 {
                scope.spawn(|| {
                    if let Ok(room) = dispatcher.reserve() {
                        granted.lock().expect("lock").push(room);
                    }
                });
            }
        });
        assert_eq!(granted.lock().expect("lock").len(), 8);
        assert_eq!(dispatcher.in_flight(), 8);
        granted.lock().expect("lock").clear();
        assert_eq!(dispatcher.in_flight(), 0);
    }
}
