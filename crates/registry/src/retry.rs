//! Retries with backoff. What is worth retrying is decided where errors are made: a
//! [`Network`](crate::ErrorKind::Network) error (a dropped or refused connection, 429,
//! 5xx) is, up to four tries; a [`Timeout`](crate::ErrorKind::Timeout) once more only (a
//! host silent for the whole deadline twice is down, and four deadlines is minutes of
//! nothing); every other kind is an answer that a retry would not change. No retry starts
//! once the tries so far have taken [`Retry::window`]: the count and the time are bounded.

use std::time::Duration;

use crate::error::{ErrorKind, Result};

/// How often and how patiently to try.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// Tries in all, the first included.
    pub(crate) tries: u32,
    /// The wait before the second try; doubled before each next one.
    pub(crate) first_delay: Duration,
    /// Tries of a request that timed out, the first included.
    pub(crate) timeout_tries: u32,
    /// No new try once this much time has passed since the first began.
    pub(crate) window: Duration,
}

impl Default for Retry {
    /// 4 tries, 0.5 s doubling: 3.5 s of waiting at most, enough for a registry's restart
    /// or a dropped connection, short enough not to hide an outage; 2 for timeouts; 5 min.
    fn default() -> Self {
        Retry { tries: 4, first_delay: Duration::from_millis(500), timeout_tries: 2, window: Duration::from_secs(300) }
    }
}

impl Retry {
    /// The default counts with a window of ten deadlines (`-registry-timeout` lengthens both).
    pub(crate) fn for_deadlines(d: &crate::Deadlines) -> Retry {
        Retry { window: d.window.saturating_mul(10), ..Retry::default() }
    }
}

/// What a retry loop needs of its context: to say a retry, to wait (the host's sleep), and
/// the time (the host's clock, in milliseconds).
pub(crate) trait Waits {
    fn note(&mut self, msg: &str);
    async fn wait(&mut self, d: Duration);
    fn now_ms(&self) -> u64;
}

impl Retry {
    /// `f` until it succeeds, fails with a kind that is not retried, or the tries are spent.
    /// The context hears each retry (what failed, the wait, the try to come).
    pub(crate) async fn run<T, C: Waits>(&self, ctx: &mut C, mut f: impl AsyncFnMut(&mut C) -> Result<T>) -> Result<T> {
        let mut delay = self.first_delay;
        let mut attempt = 1;
        let start = ctx.now_ms();
        loop {
            let e = match f(ctx).await {
                Err(e) if matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout) => e,
                other => return other,
            };
            let tries = if e.kind == ErrorKind::Timeout { self.timeout_tries.min(self.tries) } else { self.tries };
            let spent = Duration::from_millis(ctx.now_ms().saturating_sub(start));
            if attempt < tries && spent + delay < self.window {
                attempt += 1;
                ctx.note(&format!("{e}; retrying in {delay:?} (try {attempt} of {tries})"));
                ctx.wait(delay).await;
                delay = delay.saturating_mul(2);
                continue;
            }
            return Err(match attempt {
                1 if tries <= 1 => e,
                1 => e.context(&format!("after 1 try in {} s (no time left to try again)", spent.as_secs())),
                n => e.context(&format!("after {n} tries")),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn quick(tries: u32) -> Retry {
        Retry { tries, first_delay: Duration::from_millis(1), ..Retry::default() }
    }

    #[derive(Default)]
    struct Calls {
        n: u32,
        notes: Vec<String>,
        clock: u64,
    }

    impl Waits for Calls {
        fn note(&mut self, msg: &str) {
            self.notes.push(msg.to_string());
        }
        async fn wait(&mut self, d: Duration) {
            self.clock += u64::try_from(d.as_millis()).unwrap_or(0);
        }
        fn now_ms(&self) -> u64 {
            self.clock
        }
    }

    #[test]
    fn retries_network_errors_only() {
        let mut calls = Calls::default();
        let r = pollster::block_on(quick(4).run(&mut calls, async |c| {
            c.n += 1;
            if c.n < 3 {
                Err(Error::network("503"))
            } else {
                Ok(c.n)
            }
        }));
        assert_eq!(r, Ok(3));
        assert_eq!(calls.notes.len(), 2);
        assert!(calls.notes[0].contains("try 2 of 4"), "{:?}", calls.notes);

        let mut calls = Calls::default();
        let r: Result<()> = pollster::block_on(quick(4).run(&mut calls, async |c| {
            c.n += 1;
            Err(Error::not_found("nope"))
        }));
        assert_eq!((r.unwrap_err().kind, calls.n), (ErrorKind::NotFound, 1));

        let mut calls = Calls::default();
        let r: Result<()> = pollster::block_on(quick(3).run(&mut calls, async |c| {
            c.n += 1;
            Err(Error::network("reset"))
        }));
        let e = r.unwrap_err();
        assert_eq!((e.kind, calls.n), (ErrorKind::Network, 3));
        assert_eq!(e.message, "after 3 tries: reset");
    }

    #[test]
    fn default_backoff() {
        let r = Retry::default();
        assert_eq!((r.tries, r.first_delay, r.timeout_tries), (4, Duration::from_millis(500), 2));
        assert_eq!(Retry::for_deadlines(&crate::Deadlines::default()).window, Duration::from_secs(300));
    }

    #[test]
    fn a_timeout_is_tried_twice_not_four_times() {
        let mut calls = Calls::default();
        let r: Result<()> = pollster::block_on(quick(4).run(&mut calls, async |c| {
            c.n += 1;
            Err(Error::timeout("sent nothing for 30 s"))
        }));
        let e = r.unwrap_err();
        assert_eq!((e.kind, calls.n), (ErrorKind::Timeout, 2));
        assert_eq!(e.message, "after 2 tries: sent nothing for 30 s");
    }

    #[test]
    fn no_retry_starts_once_the_window_is_spent() {
        // Each try takes 200 s of the 300 s window: the second may start, a third not.
        let mut calls = Calls::default();
        let r: Result<()> = pollster::block_on(quick(4).run(&mut calls, async |c| {
            c.n += 1;
            c.clock += 200_000;
            Err(Error::network("reset"))
        }));
        let e = r.unwrap_err();
        assert_eq!(calls.n, 2, "{e}");
        assert_eq!(e.message, "after 2 tries: reset");
    }
}
