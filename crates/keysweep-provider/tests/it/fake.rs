//! The fake server (from keysweep-testkit), a clock that never sleeps, and the context that ties
//! them together.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keysweep_provider::{Clock, Context, Policy, registry};
pub use keysweep_testkit::*;

/// A clock that never sleeps: `sleep` moves its time forward and records the wait.
#[derive(Default)]
pub struct FakeClock {
    start: Option<Instant>,
    offset: Mutex<Duration>,
    pub slept: Mutex<Vec<Duration>>,
}

impl FakeClock {
    pub fn new() -> Arc<FakeClock> {
        Arc::new(FakeClock {
            start: Some(Instant::now()),
            ..FakeClock::default()
        })
    }

    pub fn total_slept(&self) -> Duration {
        self.slept.lock().unwrap().iter().sum()
    }

    /// Moves time forward without recording a wait of the code under test.
    pub fn sleep_for_test(&self, d: Duration) {
        *self.offset.lock().unwrap() += d;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.start.unwrap() + *self.offset.lock().unwrap()
    }
    fn sleep(&self, d: Duration) {
        *self.offset.lock().unwrap() += d;
        self.slept.lock().unwrap().push(d);
    }
}

/// The policy of these tests: a short request timeout (hangs end quickly), real retry counts.
pub fn policy() -> Policy {
    Policy::new(Duration::from_millis(300))
}

/// A context whose every provider endpoint points at `fake` under `/<provider>`, so a request's
/// path tells which provider's host it was meant for.
pub fn context(fake: &Fake, policy: Policy, clock: Arc<FakeClock>) -> Context {
    let flags: Vec<String> = registry::endpoint_names()
        .iter()
        .map(|p| format!("{p}={}/{p}", fake.url))
        .collect();
    Context::with(&flags, policy, clock).unwrap()
}

/// A context with no endpoint overrides: nothing may be sent with it (tests of refusals).
pub fn context_without_endpoints(clock: Arc<FakeClock>) -> Context {
    Context::with(&[], policy(), clock).unwrap()
}
