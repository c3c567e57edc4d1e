//! Retries with backoff. What is worth retrying is decided where errors are made: a
//! [`Network`](crate::ErrorKind::Network) error (a dropped or refused connection, a
//! timeout, 429, 5xx) is; every other kind is an answer that a retry would not change.

use std::time::Duration;

use crate::error::{ErrorKind, Result};

/// How often and how patiently to try.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// Tries in all, the first included.
    pub(crate) tries: u32,
    /// The wait before the second try; doubled before each next one.
    pub(crate) first_delay: Duration,
}

impl Default for Retry {
    /// 4 tries, 0.5 s doubling: 3.5 s of waiting at most, enough for a registry's restart
    /// or a dropped connection, short enough not to hide an outage.
    fn default() -> Self {
        Retry { tries: 4, first_delay: Duration::from_millis(500) }
    }
}

/// What a retry loop needs of its context: to say a retry, and to wait (the host's sleep).
pub(crate) trait Waits {
    fn note(&mut self, msg: &str);
    async fn wait(&mut self, d: Duration);
}

impl Retry {
    /// `f` until it succeeds, fails with a kind that is not retried, or the tries are spent.
    /// The context hears each retry (what failed, the wait, the try to come).
    pub(crate) async fn run<T, C: Waits>(&self, ctx: &mut C, mut f: impl AsyncFnMut(&mut C) -> Result<T>) -> Result<T> {
        let mut delay = self.first_delay;
        let mut attempt = 1;
        loop {
            match f(ctx).await {
                Err(e) if e.kind == ErrorKind::Network && attempt < self.tries => {
                    attempt += 1;
                    ctx.note(&format!("{e}; retrying in {delay:?} (try {attempt} of {})", self.tries));
                    ctx.wait(delay).await;
                    delay = delay.saturating_mul(2);
                }
                Err(e) if e.kind == ErrorKind::Network && self.tries > 1 => {
                    return Err(e.context(&format!("after {} tries", self.tries)))
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn quick(tries: u32) -> Retry {
        Retry { tries, first_delay: Duration::from_millis(1) }
    }

    #[derive(Default)]
    struct Calls {
        n: u32,
        notes: Vec<String>,
    }

    impl Waits for Calls {
        fn note(&mut self, msg: &str) {
            self.notes.push(msg.to_string());
        }
        async fn wait(&mut self, _: Duration) {}
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
        assert_eq!((r.tries, r.first_delay), (4, Duration::from_millis(500)));
    }
}
