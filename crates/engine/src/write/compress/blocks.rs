//! Compressing independent blocks on every core and writing the results in order.
//!
//! Written by hand: the crates that do this (gzp, zstd's own threads) each make their own
//! stream format, which wasm (no threads) could not reproduce byte for byte. Here a block's
//! bytes depend only on its input, so one thread or eight give the same stream, natively,
//! in Node and in the page.

use std::io::Write;

use crate::error::{Error, Result};

/// One block to compress: its input, what precedes it (gzip's dictionary), whether it ends
/// the stream.
pub(super) struct Block {
    pub(super) dict: Vec<u8>,
    pub(super) data: Vec<u8>,
    pub(super) last: bool,
}

/// Compresses one block: a plain function, so that it can run on any thread.
pub(super) type BlockFn = fn(&Block, i32) -> std::result::Result<Vec<u8>, String>;

/// Runs [`BlockFn`] over blocks, on worker threads where there are any, and writes the
/// compressed blocks to `out` in the order they were given.
pub(super) struct Blocks<W: Write> {
    pub(super) out: W,
    compress: BlockFn,
    level: i32,
    workers: Option<workers::Workers>,
}

impl<W: Write> Blocks<W> {
    /// `threads`: 0 or 1 compresses on the caller's thread.
    pub(super) fn new(out: W, compress: BlockFn, level: i32, threads: usize) -> Blocks<W> {
        let workers = if threads > 1 { workers::Workers::start(compress, level, threads) } else { None };
        Blocks { out, compress, level, workers }
    }

    pub(super) fn push(&mut self, block: Block) -> Result<()> {
        match &mut self.workers {
            None => {
                let bytes = (self.compress)(&block, self.level).map_err(compress_error)?;
                write_out(&mut self.out, &bytes)
            }
            Some(w) => {
                for bytes in w.submit(block)? {
                    write_out(&mut self.out, &bytes)?;
                }
                Ok(())
            }
        }
    }

    /// Waits for every block, writes them, and gives the writer back.
    pub(super) fn finish(mut self) -> Result<W> {
        if let Some(w) = self.workers.take() {
            for bytes in w.finish()? {
                write_out(&mut self.out, &bytes)?;
            }
        }
        Ok(self.out)
    }
}

fn write_out<W: Write>(out: &mut W, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes).map_err(|e| Error::io("writing the compressed layer", e))
}

fn compress_error(e: String) -> Error {
    Error::corrupt(format!("internal: compressing the new layer failed: {e}"))
}

#[cfg(not(target_arch = "wasm32"))]
mod workers {
    use std::collections::BTreeMap;
    use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;

    use super::{compress_error, Block, BlockFn};
    use crate::error::Result;

    type Done = (u64, std::result::Result<Vec<u8>, String>);

    /// Keeps the results of finished blocks until all earlier ones are written.
    struct Reorder {
        next: u64,
        done: BTreeMap<u64, Vec<u8>>,
    }

    impl Reorder {
        fn take_ready(&mut self) -> Vec<Vec<u8>> {
            let mut ready = Vec::new();
            while let Some(b) = self.done.remove(&self.next) {
                ready.push(b);
                self.next += 1;
            }
            ready
        }
    }

    /// Worker threads fed from one queue; at most two blocks per thread are in flight, so
    /// memory stays a few blocks whatever the layer's size.
    pub(super) struct Workers {
        jobs: Option<SyncSender<(u64, Block)>>,
        results: Receiver<Done>,
        handles: Vec<JoinHandle<()>>,
        sent: u64,
        in_flight: usize,
        limit: usize,
        order: Reorder,
    }

    impl Workers {
        pub(super) fn start(compress: BlockFn, level: i32, threads: usize) -> Option<Workers> {
            let (jobs, queue) = sync_channel::<(u64, Block)>(threads);
            let queue = Arc::new(Mutex::new(queue));
            let (done, results): (Sender<Done>, Receiver<Done>) = channel();
            let mut handles = Vec::new();
            for n in 0..threads {
                let (queue, done) = (queue.clone(), done.clone());
                let spawned = std::thread::Builder::new().name(format!("compress-{n}")).spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, block)) = job else { return };
                    if done.send((seq, compress(&block, level))).is_err() {
                        return;
                    }
                });
                match spawned {
                    Ok(h) => handles.push(h),
                    // No threads to be had (a sandbox, a limit): compress on the caller's.
                    Err(_) if handles.is_empty() => return None,
                    Err(_) => break,
                }
            }
            let limit = 2 * handles.len();
            Some(Workers {
                jobs: Some(jobs),
                results,
                handles,
                sent: 0,
                in_flight: 0,
                limit,
                order: Reorder { next: 0, done: Default::default() },
            })
        }

        /// Queues a block; returns the compressed blocks now ready, in order.
        pub(super) fn submit(&mut self, block: Block) -> Result<Vec<Vec<u8>>> {
            while self.in_flight >= self.limit {
                self.wait_one()?;
            }
            let jobs = self.jobs.as_ref().ok_or_else(|| compress_error("no workers".into()))?;
            jobs.send((self.sent, block)).map_err(|_| compress_error("a worker stopped".into()))?;
            self.sent += 1;
            self.in_flight += 1;
            while let Ok(d) = self.results.try_recv() {
                self.accept(d)?;
            }
            Ok(self.order.take_ready())
        }

        /// Waits for every block; returns those not yet handed out, in order.
        pub(super) fn finish(mut self) -> Result<Vec<Vec<u8>>> {
            while self.in_flight > 0 {
                self.wait_one()?;
            }
            let ready = self.order.take_ready();
            if self.order.next != self.sent {
                return Err(compress_error("a block went missing".into()));
            }
            Ok(ready)
        }

        fn wait_one(&mut self) -> Result<()> {
            let d = self.results.recv().map_err(|_| compress_error("a worker stopped".into()))?;
            self.accept(d)
        }

        fn accept(&mut self, (seq, r): Done) -> Result<()> {
            self.in_flight -= 1;
            self.order.done.insert(seq, r.map_err(compress_error)?);
            Ok(())
        }
    }

    impl Drop for Workers {
        fn drop(&mut self) {
            // Closing the queue ends every worker once its block is done.
            self.jobs.take();
            for h in self.handles.drain(..) {
                let _ = h.join();
            }
        }
    }
}

/// No threads in wasm: blocks are compressed on the caller's thread ([`Blocks::new`] never
/// starts workers there).
#[cfg(target_arch = "wasm32")]
mod workers {
    use super::{Block, BlockFn};
    use crate::error::Result;

    pub(super) enum Workers {}

    impl Workers {
        pub(super) fn start(_: BlockFn, _: i32, _: usize) -> Option<Workers> {
            None
        }
        pub(super) fn submit(&mut self, _: Block) -> Result<Vec<Vec<u8>>> {
            match *self {}
        }
        pub(super) fn finish(self) -> Result<Vec<Vec<u8>>> {
            match self {}
        }
    }
}
