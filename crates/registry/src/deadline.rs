//! How long a registry (or a host it sends us to) may take: to accept the connection, to
//! start answering, and how slowly it may send. Without these a registry that stops
//! mid-blob, or trickles a byte every few seconds, keeps a pull alive forever, saying nothing.
//! One number, `-registry-timeout SECONDS` (default 30), sets them all, so that a user on a
//! slow link has one thing to lengthen.

use std::time::Duration;

use crate::host::{Host, ResponseBody, Transport, TransportKind};

/// Milliseconds from any fixed start: the host's clock (a trait so that a test can turn it).
pub(crate) trait Clock {
    fn now_ms(&self) -> u64;
}

impl<H: Host> Clock for H {
    fn now_ms(&self) -> u64 {
        self.millis()
    }
}

/// The default of `-registry-timeout`, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// At least this many bytes must arrive in every window of `Deadlines::window`: less than
/// 1 KiB in 30 s is not a slow link but a stalled or hostile one.
pub const MIN_BYTES_PER_WINDOW: u64 = 1024;

/// The deadlines of one request, from one number `t`: connect within `t`, the answer's
/// first byte within `t` of the request being sent, no read waiting more than `t`, and at
/// least [`MIN_BYTES_PER_WINDOW`] in every `t` of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The TCP (and TLS) connection.
    pub connect: Duration,
    /// From the request sent (its body included) to the answer's status line and headers.
    pub response: Duration,
    /// The longest a single read or write may wait for the other side.
    pub idle: Duration,
    /// The window over which a body must move [`MIN_BYTES_PER_WINDOW`].
    pub window: Duration,
}

impl Deadlines {
    /// All four from one timeout.
    pub fn from_timeout(t: Duration) -> Deadlines {
        Deadlines { connect: t, response: t, idle: t, window: t }
    }

    /// The user's figure, as the option is spelled, for messages.
    pub(crate) fn secs(&self) -> u64 {
        self.window.as_secs().max(1)
    }

    /// What to say after a timeout: the option and a longer value to try.
    pub(crate) fn advice(&self) -> String {
        let t = self.secs();
        format!("on a slow link, allow more with -registry-timeout {} (now {t} s)", (t * 4).max(120))
    }
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines::from_timeout(Duration::from_secs(DEFAULT_TIMEOUT_SECS))
    }
}

/// A response body that must keep moving: fewer than [`MIN_BYTES_PER_WINDOW`] bytes in a
/// window is a Timeout. The host bounds each read by `idle`; this bounds the rate, which
/// no host's per-read timeout catches (one byte every 10 s never idles for 30 s).
pub(crate) struct Paced<'c, B> {
    inner: B,
    clock: &'c dyn Clock,
    window_ms: u64,
    window_start: u64,
    in_window: u64,
}

impl<'c, B> Paced<'c, B> {
    /// `inner` read against `clock` (milliseconds) and `d`'s window.
    pub(crate) fn new(inner: B, clock: &'c dyn Clock, d: &Deadlines) -> Paced<'c, B> {
        let window_ms = u64::try_from(d.window.as_millis()).unwrap_or(u64::MAX).max(1);
        let now = clock.now_ms();
        Paced { inner, clock, window_ms, window_start: now, in_window: 0 }
    }
}

impl<B: ResponseBody> ResponseBody for Paced<'_, B> {
    async fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Transport> {
        let n = self.inner.read(buf).await?;
        let now = self.clock.now_ms();
        self.in_window += n as u64;
        let elapsed = now.saturating_sub(self.window_start);
        if elapsed >= self.window_ms {
            if self.in_window < MIN_BYTES_PER_WINDOW && n > 0 {
                return Err(Transport {
                    kind: TransportKind::Timeout,
                    detail: format!(
                        "only {} bytes arrived in {} s (less than {MIN_BYTES_PER_WINDOW} bytes per {} s)",
                        self.in_window,
                        elapsed / 1000,
                        self.window_ms / 1000
                    ),
                });
            }
            self.window_start = now;
            self.in_window = 0;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    impl Clock for Cell<u64> {
        fn now_ms(&self) -> u64 {
            self.get()
        }
    }

    /// A body that gives `chunk` bytes a read, the clock moving `step` ms before each.
    struct Slow<'a> {
        clock: &'a Cell<u64>,
        step: u64,
        chunk: usize,
        left: usize,
    }

    impl ResponseBody for Slow<'_> {
        async fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Transport> {
            self.clock.set(self.clock.get() + self.step);
            let n = self.chunk.min(self.left).min(buf.len());
            self.left -= n;
            Ok(n)
        }
    }

    fn drain(step: u64, chunk: usize, left: usize) -> std::result::Result<u64, Transport> {
        let now = Cell::new(0);
        let d = Deadlines::from_timeout(Duration::from_secs(30));
        let mut body = Paced::new(Slow { clock: &now, step, chunk, left }, &now, &d);
        let mut buf = [0u8; 4096];
        pollster::block_on(async {
            loop {
                match body.read(&mut buf).await? {
                    0 => return Ok(now.get()),
                    _ => continue,
                }
            }
        })
    }

    #[test]
    fn a_trickle_of_a_byte_every_ten_seconds_is_stopped_within_a_window_and_a_read() {
        let e = drain(10_000, 1, 1_000_000).unwrap_err();
        assert_eq!(e.kind, TransportKind::Timeout);
        assert!(e.detail.contains("only 3 bytes arrived in 30 s"), "{}", e.detail);
    }

    #[test]
    fn a_slow_but_steady_body_of_more_than_a_kib_per_window_is_read_to_its_end() {
        // 100 bytes a second: 3000 bytes per 30 s window, 10 minutes long.
        assert_eq!(drain(1_000, 100, 60_000), Ok(601_000), "600 reads and the one that ends it");
    }

    #[test]
    fn one_timeout_sets_every_deadline_and_the_advice_names_the_option() {
        let d = Deadlines::from_timeout(Duration::from_secs(5));
        let five = Duration::from_secs(5);
        assert_eq!((d.connect, d.response, d.idle, d.window), (five, five, five, five));
        assert!(Deadlines::default().advice().contains("-registry-timeout 120 (now 30 s)"));
    }
}
