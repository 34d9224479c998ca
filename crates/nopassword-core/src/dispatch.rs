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
/// [`Builder::dispatch`](crate::Builder::dispatch) or
/// [`Builder::deliver_inline`](crate::Builder::deliver_inline).
///
/// ```
/// use nopassword_core::{BackgroundTask, Dispatch};
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

    /// How many tasks are still running, when the dispatcher is bounded; a code request that
    /// finds the queue full is refused (503) before it looks the user up, so the refusal is
    /// the same for every user. `None` (the default): unbounded.
    fn full(&self) -> Option<usize> {
        None
    }
}

/// A bounded [`Dispatch`]: at most `capacity` deliveries in flight, each spawned by the given
/// function (for Tokio, [`Dispatcher::tokio`] with the `tokio` feature).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use nopassword_core::{Dispatch, Dispatcher};
///
/// let dispatcher = Dispatcher::new(1, |task| drop(tokio::spawn(task)));
/// let (tx, rx) = tokio::sync::oneshot::channel::<()>();
/// dispatcher.dispatch(Box::pin(async move { let _ = rx.await; }));
/// assert_eq!(dispatcher.full(), Some(1), "one delivery in flight fills a queue of one");
/// tx.send(()).unwrap();
/// while dispatcher.in_flight() > 0 { tokio::task::yield_now().await; }
/// assert_eq!(dispatcher.full(), None);
/// # });
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

    /// A dispatcher on the current Tokio runtime (`tokio::spawn`).
    #[cfg(feature = "tokio")]
    pub fn tokio(capacity: usize) -> Self {
        Self::new(capacity, |task| drop(tokio::spawn(task)))
    }

    /// Tasks started and not yet finished.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// The most tasks in flight before requests are refused.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// Counts a task out when it finishes, panics and cancellations included.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Dispatch for Dispatcher {
    fn dispatch(&self, task: BackgroundTask) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let guard = InFlight(Arc::clone(&self.in_flight));
        (self.spawn)(Box::pin(async move {
            let _guard = guard;
            task.await;
        }));
    }

    fn full(&self) -> Option<usize> {
        let in_flight = self.in_flight();
        (in_flight >= self.capacity).then_some(in_flight)
    }
}
