//! sha256 digests as Docker writes them: `sha256:<hex>`.

use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a digest (`sha256:abc` -> `abc`).
pub fn hex_of(digest: &str) -> &str {
    digest.split_once(':').map_or(digest, |(_, h)| h)
}

/// Hashes and counts what is read through it. Natively the hashing runs on a second
/// thread (sha256 is the slowest step of reading a layer; the reading and parsing go on
/// meanwhile); in wasm, inline.
pub struct HashingReader<R> {
    pub inner: R,
    pub count: u64,
    hasher: Hasher,
}

const HASH_CHUNK: usize = 1 << 20;

enum Hasher {
    Inline(Sha256),
    #[cfg(not(target_arch = "wasm32"))]
    Thread {
        pending: Vec<u8>,
        tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
        back: std::sync::mpsc::Receiver<Vec<u8>>,
        handle: Option<std::thread::JoinHandle<Sha256>>,
    },
}

impl<R> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader { inner, count: 0, hasher: Hasher::start() }
    }

    /// The `sha256:` digest of everything read.
    pub fn finish(self) -> String {
        let sha = match self.hasher {
            Hasher::Inline(h) => h,
            #[cfg(not(target_arch = "wasm32"))]
            Hasher::Thread { pending, tx, handle, .. } => {
                let mut h = None;
                if let (Some(tx), Some(handle)) = (tx, handle) {
                    let _ = tx.send(pending);
                    drop(tx);
                    h = handle.join().ok();
                }
                h.unwrap_or_default()
            }
        };
        format!("sha256:{}", hex::encode(sha.finalize()))
    }
}

impl Hasher {
    #[cfg(target_arch = "wasm32")]
    fn start() -> Hasher {
        Hasher::Inline(Sha256::new())
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn start() -> Hasher {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let (back_tx, back) = std::sync::mpsc::channel::<Vec<u8>>();
        let spawned = std::thread::Builder::new().name("sha256".into()).spawn(move || {
            let mut h = Sha256::new();
            for chunk in rx {
                h.update(&chunk);
                let _ = back_tx.send(chunk);
            }
            h
        });
        match spawned {
            Ok(handle) => Hasher::Thread { pending: Vec::with_capacity(HASH_CHUNK), tx: Some(tx), back, handle: Some(handle) },
            Err(_) => Hasher::Inline(Sha256::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Inline(h) => h.update(data),
            #[cfg(not(target_arch = "wasm32"))]
            Hasher::Thread { pending, tx, back, .. } => {
                pending.extend_from_slice(data);
                if pending.len() >= HASH_CHUNK {
                    let mut next = back.try_recv().unwrap_or_else(|_| Vec::with_capacity(HASH_CHUNK));
                    next.clear();
                    let full = std::mem::replace(pending, next);
                    if let Some(t) = tx.as_ref() {
                        // The thread only stops if it panicked; finish() then reports a wrong
                        // digest, which fails verification loudly.
                        let _ = t.send(full);
                    }
                }
            }
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Hashes and counts what is written through it.
pub struct HashingWriter<W> {
    pub inner: W,
    pub hasher: Sha256,
    pub count: u64,
}

impl<W> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), count: 0 }
    }
    pub fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.clone().finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
