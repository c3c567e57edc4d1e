//! A reader that counts the bytes read through it: the stored (compressed) bytes behind a
//! decoder, for progress and for the decompression-bomb bound, which is stated in terms of
//! the stored size.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Counts into a shared cell, and remembers whether reading the input itself failed (not
/// the decoding of what was read), so messages can say which.
pub struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
    /// Set once a read of the inner reader fails.
    pub failed: Rc<Cell<bool>>,
}

impl<R> Counted<R> {
    /// Counts what is read from `inner` into `count`.
    pub fn new(inner: R, count: Rc<Cell<u64>>) -> Self {
        Counted { inner, count, failed: Rc::new(Cell::new(false)) }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.count.set(self.count.get() + n as u64);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.failed.set(true);
                }
                Err(e)
            }
        }
    }
}
