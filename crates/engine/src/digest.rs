//! sha256 digests as Docker writes them: `sha256:<hex>`.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a digest (`sha256:abc` -> `abc`).
pub fn hex_of(digest: &str) -> &str {
    digest.split_once(':').map_or(digest, |(_, h)| h)
}

/// A SHA-256 the caller supplies: in wasm, the host's native one (Node's `crypto` hashes
/// several times faster than sha2 compiled to wasm).
pub trait Sha256Stream {
    /// Hashes more bytes.
    fn update(&mut self, data: &[u8]);
    /// The digest of everything given.
    fn finish(self: Box<Self>) -> [u8; 32];
}

/// Makes a fresh [`Sha256Stream`] per layer.
pub type Sha256Factory<'s> = std::rc::Rc<dyn Fn() -> Box<dyn Sha256Stream + 's> + 's>;

/// Hashes and counts what is read through it. Natively the hashing runs on a second
/// thread (sha256 is the slowest step of reading a layer; the reading and parsing go on
/// meanwhile); in wasm, inline. Without a hasher it only counts.
pub struct HashingReader<'s, R> {
    pub inner: R,
    pub count: u64,
    hasher: Option<Hasher<'s>>,
}

#[cfg(not(target_arch = "wasm32"))]
const HASH_CHUNK: usize = 1 << 20;

pub enum Hasher<'s> {
    Inline(Sha256),
    External(Box<dyn Sha256Stream + 's>),
    #[cfg(not(target_arch = "wasm32"))]
    Thread {
        pending: Vec<u8>,
        tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
        back: std::sync::mpsc::Receiver<Vec<u8>>,
        handle: Option<std::thread::JoinHandle<Sha256>>,
    },
}

impl<'s, R> HashingReader<'s, R> {
    pub fn new(inner: R, factory: Option<&Sha256Factory<'s>>) -> Self {
        HashingReader { inner, count: 0, hasher: Some(Hasher::start(factory)) }
    }

    /// Counts only.
    pub fn counting(inner: R) -> Self {
        HashingReader { inner, count: 0, hasher: None }
    }

    /// The `sha256:` digest of everything read; None when only counting.
    pub fn finish(self) -> Option<String> {
        self.hasher.map(Hasher::finish)
    }
}

impl<'s> Hasher<'s> {
    /// The `sha256:` digest of everything given.
    pub fn finish(self) -> String {
        let sha = match self {
            Hasher::Inline(h) => h,
            Hasher::External(h) => return format!("sha256:{}", hex::encode(h.finish())),
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

    /// The caller's hasher if given, else a hashing thread (natively) or inline (wasm).
    pub fn start(factory: Option<&Sha256Factory<'s>>) -> Hasher<'s> {
        match factory {
            Some(f) => Hasher::External(f()),
            None => Hasher::own(),
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn own() -> Hasher<'s> {
        Hasher::Inline(Sha256::new())
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn own() -> Hasher<'s> {
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
            Ok(handle) => {
                Hasher::Thread { pending: Vec::with_capacity(HASH_CHUNK), tx: Some(tx), back, handle: Some(handle) }
            }
            Err(_) => Hasher::Inline(Sha256::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Inline(h) => h.update(data),
            Hasher::External(h) => h.update(data),
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

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}
