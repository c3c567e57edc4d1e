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

impl Retry {
    /// `f` until it succeeds, fails with a kind that is not retried, or the tries are spent.
    /// `note` hears each retry (what failed, the wait, the try to come).
    pub(crate) fn run<T, C>(
        &self,
        ctx: &mut C,
        mut note: impl FnMut(&mut C, &str),
        mut f: impl FnMut(&mut C) -> Result<T>,
    ) -> Result<T> {
        let mut delay = self.first_delay;
        let mut attempt = 1;
        loop {
            match f(ctx) {
                Err(e) if e.kind == ErrorKind::Network && attempt < self.tries => {
                    attempt += 1;
                    note(ctx, &format!("{e}; retrying in {delay:?} (try {attempt} of {})", self.tries));
                    std::thread::sleep(delay);
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

    #[test]
    fn retries_network_errors_only() {
        let mut calls = 0;
        let mut notes = Vec::new();
        let r = quick(4).run(
            &mut calls,
            |_, n| notes.push(n.to_string()),
            |calls| {
                *calls += 1;
                if *calls < 3 {
                    Err(Error::network("503"))
                } else {
                    Ok(*calls)
                }
            },
        );
        assert_eq!(r, Ok(3));
        assert_eq!(notes.len(), 2);
        assert!(notes[0].contains("try 2 of 4"), "{notes:?}");

        let mut calls = 0;
        let r: Result<()> = quick(4).run(
            &mut calls,
            |_, _| {},
            |c| {
                *c += 1;
                Err(Error::not_found("nope"))
            },
        );
        assert_eq!((r.unwrap_err().kind, calls), (ErrorKind::NotFound, 1));

        let mut calls = 0;
        let r: Result<()> = quick(3).run(
            &mut calls,
            |_, _| {},
            |c| {
                *c += 1;
                Err(Error::network("reset"))
            },
        );
        let e = r.unwrap_err();
        assert_eq!((e.kind, calls), (ErrorKind::Network, 3));
        assert_eq!(e.message, "after 3 tries: reset");
    }

    #[test]
    fn default_backoff() {
        let r = Retry::default();
        assert_eq!((r.tries, r.first_delay), (4, Duration::from_millis(500)));
    }
}
