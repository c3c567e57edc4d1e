//! The squash engine for JavaScript: Node.js, browsers and workers.
//!
//! Thin on purpose. The engine reads its input through a JavaScript object
//! `{ size, readAt(offset, length) }`, so JavaScript decides how bytes are fetched
//! (a `Uint8Array`, `FileReaderSync` on a `Blob` slice in a worker, `fs.readSync` on a
//! Node file descriptor), and it writes the squashed archive in chunks of 4 MB handed to
//! `onChunk(Uint8Array)`. Nothing big is ever held in wasm memory.
//!
//! Errors are thrown as JavaScript `Error`s whose `code` is the engine's stable code
//! (`NOT_AN_IMAGE`, `CORRUPT`, ...). An exception thrown by a callback (`readAt`,
//! `onChunk`, `onProgress`) stops the work and is rethrown as is.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;

use js_sys::{Function, Object, Reflect, Uint8Array};
use squash_engine::{Archive, ErrorCode, Progress, ReadAt, SquashFrom, SquashOptions};
use squash_engine::{Sha256Factory, Sha256Stream};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Output is handed to JavaScript in chunks of this size (the last one is shorter).
pub const CHUNK_SIZE: usize = 4 << 20;
/// Reads shorter than this are served from a read-ahead window, so that parsing tar
/// headers does not call into JavaScript for every 512 bytes.
const SMALL_READ: usize = 64 << 10;
const WINDOW: usize = 1 << 20;
/// `onProgress` is called at most this often (and at every phase change and at the end).
const PROGRESS_EVERY_MS: f64 = 100.0;
/// Data for a host SHA-256 is passed on in pieces of at least this size (fewer calls).
const HASH_BATCH: usize = 1 << 20;
/// Code of errors about the arguments themselves (wrong types, missing callbacks).
const BAD_ARGUMENT: &str = "BAD_ARGUMENT";

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Random-access input: JavaScript decides how bytes are read. */
export interface Source {
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Up to `length` bytes at `offset` (fewer only at the end of the input). Called with
   * `length` of a few MB at most; the returned array may be a view that is reused later.
   */
  readAt(offset: number, length: number): Uint8Array | ArrayBuffer;
}

/** Progress of long work, for progress bars. About ten calls a second at most. */
export interface Progress {
  /** "read": reading and verifying the layers; "write": writing the squashed archive. */
  phase: "read" | "write";
  bytesDone: number;
  bytesTotal: number;
}

/** Return `false` to cancel: the call then fails with code `CANCELLED`. */
export type ProgressCallback = (progress: Progress) => boolean | void;

export interface InspectOptions {
  /** Which image of a multi-image archive: a tag, or a prefix of its id. */
  image?: string | null;
  /** "os/arch[/variant]" of an OCI index with several platforms (default linux/amd64). */
  platform?: string | null;
  onProgress?: ProgressCallback | null;
  /**
   * A SHA-256 of the host, used instead of the one compiled to wasm (several times
   * slower): a function returning a fresh `{ update(data), digest() }`, e.g. Node's
   * `() => crypto.createHash('sha256')`. `update` gets views into the wasm memory, valid
   * during the call only; `digest()` returns the 32 bytes.
   */
  sha256?: (() => HostSha256) | null;
  /**
   * false: trust the diff_ids the config promises instead of hashing every layer. Much
   * faster (uncompressed layers are read by their headers only), but a damaged or altered
   * layer that is squashed goes unnoticed. Default true.
   */
  verify?: boolean | null;
}

export interface HostSha256 {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

export interface SquashOptions extends InspectOptions {
  /**
   * Where the squash starts: "root" (one layer for the whole image), a layer id (any unique
   * prefix of a diff_id, blob digest or legacy id: that layer and those below are kept),
   * or undefined for the default (keep the base image up to its first `ADD file:` layer).
   */
  from?: string | null;
  /** `repo:tag` for the result; default: keep the image's own tags. */
  tag?: string | null;
  /** Receives the squashed archive, in order, in chunks of 4 MB (the last is shorter). */
  onChunk: (chunk: Uint8Array) => void;
  /**
   * When true, each chunk is a view into the wasm memory instead of a copy: faster, but
   * valid only until onChunk returns (write it away synchronously, never keep it, and do
   * not call this module from onChunk).
   */
  transientChunks?: boolean;
}

/** What `list` and `inspect` tell about an archive (as `docker-squash inspect --json`). */
export interface Inspection {
  /** e.g. "docker-save (1.10-24)", "oci-archive", "docker-save (pre-1.10)". */
  format: string;
  /** Whole-archive compression: "none", "gzip" or "zstd". */
  compression: string;
  images: ImageInfo[];
}

export interface ImageInfo {
  index: number;
  /** `sha256:` digest of the image config. */
  id: string;
  tags: string[];
  platform: string;
  /** History rows, oldest first. */
  history: HistoryRow[];
  totalSize: number;
  defaultFrom: SquashPointChoice;
  /** Empty from `list`. */
  squashPoints: SquashPointEstimate[];
  /** Empty from `list`. */
  largestWasted: WastedFile[];
  wastedBytes: number;
}

export interface HistoryRow {
  index: number;
  /** The layer this step made; null for metadata-only steps (ENV, CMD, ...). */
  layer: LayerInfo | null;
  created: string | null;
  createdBy: string;
  comment: string | null;
  emptyLayer: boolean;
}

export interface LayerInfo {
  index: number;
  /** The id `from` takes (the diff_id's hex). */
  id: string;
  diffId: string;
  digest: string | null;
  legacyId: string | null;
  size: number;
  storedSize: number;
  compression: string;
  entries: number;
  wastedBytes: number;
}

export interface SquashPointChoice {
  /** "root" or a layer id. */
  from: string;
  layerIndex: number | null;
  reason: string;
}

export interface SquashPointEstimate {
  from: string;
  layerIndex: number | null;
  layersAfter: number;
  sizeAfter: number;
  reclaimedBytes: number;
}

export interface WastedFile {
  path: string;
  size: number;
  layerIndex: number;
  removedBy: number;
  how: "deleted" | "overwritten";
}

/** What a squash did. */
export interface SquashReport {
  /** The new image id (`sha256:` of the written config). */
  imageId: string;
  tags: string[];
  from: SquashPointChoice;
  layersBefore: number;
  layersAfter: number;
  sizeBefore: number;
  sizeAfter: number;
  /** null when nothing was squashed. */
  newLayerDiffId: string | null;
  newLayerSize: number;
  /** Bytes handed to onChunk. */
  outputBytes: number;
}

/** What `spool` found and wrote. */
export interface Spooled {
  /** How the input was compressed: it was handed on decompressed. */
  compression: "none" | "gzip" | "zstd";
  /** Bytes handed to `onChunk`. */
  size: number;
}

/** Thrown by every function: `code` is stable, `message` is for people. */
export interface SquashError extends Error {
  code: "NOT_AN_IMAGE" | "CORRUPT" | "DIGEST_MISMATCH" | "IMAGE_CHOICE" | "FROM_CHOICE" | "BAD_TAG"
      | "TOO_LARGE" | "UNSUPPORTED" | "IO" | "CANCELLED" | "BAD_ARGUMENT";
}
"#;

/// The images, tags and history of an archive, without reading the layers: fast.
#[wasm_bindgen(unchecked_return_type = "Inspection")]
pub fn list(#[wasm_bindgen(unchecked_param_type = "Source")] source: JsValue) -> Result<JsValue, JsValue> {
    let call = Call::new(&JsValue::UNDEFINED)?;
    let src = JsSource::new(&source, call.failed.clone())?;
    let archive = Archive::open(Box::new(src)).map_err(|e| call.error(e))?;
    let facts = archive.list().map_err(|e| call.error(e))?;
    call.finish(&facts)
}

/// Everything `docker-squash inspect` shows: reads and verifies every layer of the chosen
/// image (of all images when neither `image` nor `platform` is given).
#[wasm_bindgen(unchecked_return_type = "Inspection")]
pub fn inspect(
    #[wasm_bindgen(unchecked_param_type = "Source")] source: JsValue,
    #[wasm_bindgen(unchecked_param_type = "InspectOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let call = Call::new(&options)?;
    let image = call.string("image")?;
    let platform = call.string("platform")?;
    let verify = call.boolean("verify")?.unwrap_or(true);
    let mut progress = call.progress()?;
    let src = JsSource::new(&source, call.failed.clone())?;
    let mut archive = Archive::open(Box::new(src)).map_err(|e| call.error(e))?;
    if let Some(f) = call.sha256()? {
        archive.set_sha256(f);
    }
    let facts =
        archive.inspect(image.as_deref(), platform.as_deref(), verify, &mut progress).map_err(|e| call.error(e))?;
    call.finish(&facts)
}

/// Squashes, handing the resulting archive to `options.onChunk` as it is written.
#[wasm_bindgen(unchecked_return_type = "SquashReport")]
pub fn squash(
    #[wasm_bindgen(unchecked_param_type = "Source")] source: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SquashOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let call = Call::new(&options)?;
    let from = match call.string("from")? {
        None => SquashFrom::Default,
        Some(s) if s == "root" => SquashFrom::Root,
        Some(s) => SquashFrom::Layer(s),
    };
    let opts = SquashOptions {
        from,
        tag: call.string("tag")?,
        image: call.string("image")?,
        platform: call.string("platform")?,
        verify: call.boolean("verify")?.unwrap_or(true),
    };
    let on_chunk = call
        .function("onChunk")?
        .ok_or_else(|| bad_argument("options.onChunk (a function that receives the output) is required"))?;
    let mut progress = call.progress()?;
    let sha256 = call.sha256()?;
    let src = JsSource::new(&source, call.failed.clone())?;
    let mut archive = Archive::open(Box::new(src)).map_err(|e| call.error(e))?;
    if let Some(f) = sha256 {
        archive.set_sha256(f);
    }
    let transient = call.get("transientChunks")?.is_some_and(|v| v.is_truthy());
    let mut sink = ChunkSink::new(on_chunk, transient, call.failed.clone());
    let report = archive.squash(&opts, &mut sink, &mut progress).map_err(|e| call.error(e))?;
    sink.finish().map_err(|e| call.error(squash_engine::Error::io("writing the output", e)))?;
    call.finish(&report)
}

/// Checks a `repo:tag` as `squash` would take it, before any reading, and returns it in
/// the form it will be written (e.g. `app` becomes `app:latest`). Throws `BAD_TAG`.
#[wasm_bindgen(js_name = checkTag)]
pub fn check_tag(tag: &str) -> Result<String, JsValue> {
    console_error_panic_hook::set_once();
    squash_engine::normalize_tag(tag).map_err(|e| coded_error(&e.message, e.code.as_str()))
}

/// Copies a whole input that came as a stream (stdin, a pipe; spooled raw to `source`)
/// to `onChunk`, decompressed, within the engine's decompression-bomb bound: the native
/// CLI's spooling, with its messages. `what` names the input in them ("stdin", a path).
#[wasm_bindgen(unchecked_return_type = "Spooled")]
pub fn spool(
    #[wasm_bindgen(unchecked_param_type = "Source")] source: JsValue,
    what: &str,
    #[wasm_bindgen(unchecked_param_type = "(chunk: Uint8Array) => void")] on_chunk: Function,
) -> Result<JsValue, JsValue> {
    let call = Call::new(&JsValue::UNDEFINED)?;
    let src = JsSource::new(&source, call.failed.clone())?;
    let size = src.size();
    let mut input = squash_engine::RangeReader::new(src, 0, size);
    let mut sink = ChunkSink::new(on_chunk, true, call.failed.clone());
    let spooled = squash_engine::spool(&mut input, what, &mut sink, &mut |_| {}).map_err(|e| call.error(e))?;
    sink.finish().map_err(|e| call.error(squash_engine::Error::io("cannot write a temporary file", e)))?;
    #[derive(serde::Serialize)]
    struct Out {
        compression: &'static str,
        size: u64,
    }
    call.finish(&Out { compression: spooled.compression.name(), size: spooled.size })
}

/// How the bytes that start an input are compressed: "gzip", "zstd" or "none" (by magic
/// number, as the engine detects it everywhere).
#[wasm_bindgen(js_name = compressionOf, unchecked_return_type = "\"none\" | \"gzip\" | \"zstd\"")]
pub fn compression_of(magic: &[u8]) -> String {
    squash_engine::Compression::detect(magic).name().to_string()
}

/// How many bytes `stored` compressed bytes may decompress to before the engine calls the
/// input a decompression bomb.
#[wasm_bindgen(js_name = expansionLimit)]
pub fn expansion_limit(stored: f64) -> f64 {
    squash_engine::expansion_limit(stored.max(0.0) as u64) as f64
}

/// The version of the engine and bindings (the crate version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The first exception a JavaScript callback threw during a call, rethrown at its end.
type Failed = Rc<RefCell<Option<JsValue>>>;

/// One exported call: its options and the exception slot its callbacks share.
struct Call {
    options: Option<Object>,
    failed: Failed,
}

impl Call {
    fn new(options: &JsValue) -> Result<Call, JsValue> {
        // A panic (a bug) then shows its message on the console before the trap.
        console_error_panic_hook::set_once();
        let options = if options.is_undefined() || options.is_null() {
            None
        } else if options.is_object() && !options.is_function() {
            Some(options.clone().unchecked_into::<Object>())
        } else {
            return Err(bad_argument("options must be an object"));
        };
        Ok(Call { options, failed: Rc::new(RefCell::new(None)) })
    }

    fn get(&self, key: &str) -> Result<Option<JsValue>, JsValue> {
        let Some(o) = &self.options else { return Ok(None) };
        let v = Reflect::get(o, &JsValue::from_str(key))?;
        Ok(if v.is_undefined() || v.is_null() { None } else { Some(v) })
    }

    fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => v.as_string().map(Some).ok_or_else(|| bad_argument(&format!("options.{key} must be a string"))),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => {
                v.as_bool().map(Some).ok_or_else(|| bad_argument(&format!("options.{key} must be true or false")))
            }
        }
    }

    fn function(&self, key: &str) -> Result<Option<Function>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => v
                .dyn_into::<Function>()
                .map(Some)
                .map_err(|_| bad_argument(&format!("options.{key} must be a function"))),
        }
    }

    /// The engine's progress callback: forwards to `onProgress`, throttled.
    fn progress(&self) -> Result<impl FnMut(&Progress) -> bool, JsValue> {
        let cb = self.function("onProgress")?;
        let failed = self.failed.clone();
        let last_ms = Cell::new(f64::NEG_INFINITY);
        let last_phase = Cell::new("");
        Ok(move |p: &Progress| -> bool {
            let Some(cb) = &cb else { return true };
            if failed.borrow().is_some() {
                return false;
            }
            let now = js_sys::Date::now();
            let end = p.bytes_done >= p.bytes_total;
            if !(end || p.phase != last_phase.get() || now - last_ms.get() >= PROGRESS_EVERY_MS) {
                return true;
            }
            last_ms.set(now);
            last_phase.set(p.phase);
            let obj = Object::new();
            let _ = Reflect::set(&obj, &"phase".into(), &p.phase.into());
            let _ = Reflect::set(&obj, &"bytesDone".into(), &(p.bytes_done as f64).into());
            let _ = Reflect::set(&obj, &"bytesTotal".into(), &(p.bytes_total as f64).into());
            match cb.call1(&JsValue::UNDEFINED, &obj) {
                Ok(v) => v.as_bool() != Some(false),
                Err(e) => {
                    failed.borrow_mut().get_or_insert(e);
                    false
                }
            }
        })
    }

    /// The host SHA-256 of `options.sha256`, as the engine's factory.
    fn sha256<'s>(&self) -> Result<Option<Sha256Factory<'s>>, JsValue> {
        let Some(make) = self.function("sha256")? else { return Ok(None) };
        let failed = self.failed.clone();
        Ok(Some(Rc::new(move || Box::new(HostSha256::new(&make, failed.clone())) as Box<dyn Sha256Stream + 's>)))
    }

    /// An engine error as a JS `Error` with `.code`, unless a callback threw: that
    /// exception is the real cause and is rethrown unchanged.
    fn error(&self, e: squash_engine::Error) -> JsValue {
        if let Some(thrown) = self.failed.borrow_mut().take() {
            return thrown;
        }
        coded_error(&e.message, e.code.as_str())
    }

    fn finish<T: serde::Serialize>(self, value: &T) -> Result<JsValue, JsValue> {
        if let Some(thrown) = self.failed.borrow_mut().take() {
            return Err(thrown);
        }
        value
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| coded_error(&format!("internal: cannot convert the result: {e}"), ErrorCode::Io.as_str()))
    }
}

fn coded_error(message: &str, code: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    let _ = Reflect::set(&err, &"code".into(), &code.into());
    err.into()
}

fn bad_argument(message: &str) -> JsValue {
    let err: js_sys::Error = js_sys::TypeError::new(message).into();
    let _ = Reflect::set(&err, &"code".into(), &BAD_ARGUMENT.into());
    err.into()
}

/// Text of a thrown JavaScript value, for the engine's error message.
fn describe(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    v.as_string().unwrap_or_else(|| format!("{v:?}"))
}

/// A SHA-256 of the JavaScript host (`{ update(data), digest() }`). Small updates are
/// batched; big ones go straight from the wasm memory (a view, used during the call only).
/// A callback's exception is kept for the end of the call (the digest is then wrong, which
/// stops the engine, and the exception is what the caller sees).
struct HostSha256 {
    obj: JsValue,
    update: Option<Function>,
    digest: Option<Function>,
    pending: Vec<u8>,
    failed: Failed,
}

impl HostSha256 {
    fn new(make: &Function, failed: Failed) -> HostSha256 {
        let mut h = HostSha256 { obj: JsValue::UNDEFINED, update: None, digest: None, pending: Vec::new(), failed };
        let made = make.call0(&JsValue::UNDEFINED).and_then(|obj| {
            let update = Reflect::get(&obj, &"update".into())?.dyn_into::<Function>();
            let digest = Reflect::get(&obj, &"digest".into())?.dyn_into::<Function>();
            match (update, digest) {
                (Ok(u), Ok(d)) => Ok((obj, u, d)),
                _ => Err(bad_argument("options.sha256 must return an object with update(data) and digest()")),
            }
        });
        match made {
            Ok((obj, u, d)) => {
                h.obj = obj;
                h.update = Some(u);
                h.digest = Some(d);
            }
            Err(e) => h.fail(e),
        }
        h
    }

    fn fail(&self, e: JsValue) {
        self.failed.borrow_mut().get_or_insert(e);
    }

    fn send(&self, data: &[u8]) {
        let Some(update) = &self.update else { return };
        if self.failed.borrow().is_some() {
            return;
        }
        // SAFETY: the view is used only during this synchronous call, which does not call
        // back into this module, so the memory cannot grow (and move) meanwhile.
        let view = unsafe { Uint8Array::view(data) };
        if let Err(e) = update.call1(&self.obj, &view) {
            self.fail(e);
        }
    }
}

impl Sha256Stream for HostSha256 {
    fn update(&mut self, data: &[u8]) {
        if self.pending.is_empty() && data.len() >= HASH_BATCH {
            self.send(data);
            return;
        }
        self.pending.extend_from_slice(data);
        if self.pending.len() >= HASH_BATCH {
            self.send(&self.pending);
            self.pending.clear();
        }
    }

    fn finish(self: Box<Self>) -> [u8; 32] {
        let mut out = [0u8; 32];
        if !self.pending.is_empty() {
            self.send(&self.pending);
        }
        let Some(digest) = &self.digest else { return out };
        if self.failed.borrow().is_some() {
            return out;
        }
        match digest.call0(&self.obj) {
            Ok(v) => match v.dyn_into::<Uint8Array>() {
                Ok(a) if a.length() == 32 => a.copy_to(&mut out),
                _ => self.fail(bad_argument("options.sha256: digest() must return the 32 bytes as a Uint8Array")),
            },
            Err(e) => self.fail(e),
        }
        out
    }
}

/// `{ size, readAt(offset, length) }` as the engine's [`ReadAt`].
struct JsSource {
    this: JsValue,
    read_at: Function,
    size: u64,
    failed: Failed,
    /// Read-ahead window for small reads: (offset, bytes).
    window: RefCell<(u64, Vec<u8>)>,
}

impl JsSource {
    fn new(source: &JsValue, failed: Failed) -> Result<JsSource, JsValue> {
        if !source.is_object() {
            return Err(bad_argument("the source must be an object { size, readAt(offset, length) }"));
        }
        let size = Reflect::get(source, &"size".into())?;
        let size = match size.as_f64() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9007199254740991.0 => n as u64,
            _ => match u64::try_from(size.clone()) {
                Ok(n) => n,
                Err(_) => return Err(bad_argument("source.size must be a non-negative integer")),
            },
        };
        let read_at = Reflect::get(source, &"readAt".into())?
            .dyn_into::<Function>()
            .map_err(|_| bad_argument("source.readAt must be a function (offset, length) => Uint8Array"))?;
        Ok(JsSource { this: source.clone(), read_at, size, failed, window: RefCell::new((0, Vec::new())) })
    }

    /// Calls `readAt` and copies what it returned into `buf`; fails if it returned nothing
    /// before the end.
    fn fetch(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed.borrow().is_some() {
            return Err(io::Error::other("reading the input failed earlier"));
        }
        let got =
            self.read_at.call2(&self.this, &JsValue::from_f64(offset as f64), &JsValue::from_f64(buf.len() as f64));
        let value = match got {
            Ok(v) => v,
            Err(e) => {
                let msg = describe(&e);
                self.failed.borrow_mut().get_or_insert(e);
                return Err(io::Error::other(format!("reading the input failed: {msg}")));
            }
        };
        let bytes: Uint8Array = if let Some(a) = value.dyn_ref::<Uint8Array>() {
            a.clone()
        } else if let Some(b) = value.dyn_ref::<js_sys::ArrayBuffer>() {
            Uint8Array::new(b)
        } else {
            return Err(io::Error::other("source.readAt must return a Uint8Array"));
        };
        let n = (bytes.length() as usize).min(buf.len());
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the input ended at byte {offset} of the {} it was said to have (did it change while being read?)",
                    self.size
                ),
            ));
        }
        if n == bytes.length() as usize {
            bytes.copy_to(&mut buf[..n]);
        } else {
            bytes.subarray(0, n as u32).copy_to(&mut buf[..n]);
        }
        Ok(n)
    }
}

impl ReadAt for JsSource {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let left = self.size - offset;
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want >= SMALL_READ {
            return self.fetch(offset, &mut buf[..want]);
        }
        let mut w = self.window.borrow_mut();
        let (start, data) = &mut *w;
        if !(offset >= *start && offset + want as u64 <= *start + data.len() as u64) {
            let len = WINDOW.min(usize::try_from(left).unwrap_or(usize::MAX));
            data.resize(len, 0);
            let mut got = 0;
            while got < want {
                got += self.fetch(offset + got as u64, &mut data[got..])?;
            }
            data.truncate(got);
            *start = offset;
        }
        let from = (offset - *start) as usize;
        let n = want.min(data.len() - from);
        buf[..n].copy_from_slice(&data[from..from + n]);
        Ok(n)
    }
}

/// The engine's output: collected into chunks of [`CHUNK_SIZE`], each handed to `onChunk`
/// as a new `Uint8Array` (JavaScript owns it).
struct ChunkSink {
    on_chunk: Function,
    /// Hand out views of wasm memory, valid only during the call, instead of copies.
    transient: bool,
    buf: Vec<u8>,
    failed: Failed,
}

impl ChunkSink {
    fn new(on_chunk: Function, transient: bool, failed: Failed) -> ChunkSink {
        ChunkSink { on_chunk, transient, buf: Vec::new(), failed }
    }

    fn emit(&self, bytes: &[u8]) -> io::Result<()> {
        if self.failed.borrow().is_some() {
            return Err(io::Error::other("the output failed earlier"));
        }
        let chunk = if self.transient {
            // SAFETY: the view is used only during the call below, and nothing in this
            // module allocates (which could grow and move the memory) until it returns,
            // unless the callback calls into this module again; the option's documentation
            // forbids keeping the view or calling back in.
            unsafe { Uint8Array::view(bytes) }
        } else {
            let c = Uint8Array::new_with_length(bytes.len() as u32);
            c.copy_from(bytes);
            c
        };
        self.on_chunk.call1(&JsValue::UNDEFINED, &chunk).map(|_| ()).map_err(|e| {
            let msg = describe(&e);
            self.failed.borrow_mut().get_or_insert(e);
            io::Error::other(format!("onChunk failed: {msg}"))
        })
    }

    /// Hands over what is left.
    fn finish(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.emit(&rest)?;
        }
        Ok(())
    }
}

impl io::Write for ChunkSink {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let n = data.len();
        while !data.is_empty() {
            if self.buf.is_empty() && data.len() >= CHUNK_SIZE {
                // A whole chunk straight from the engine's buffer.
                self.emit(&data[..CHUNK_SIZE])?;
                data = &data[CHUNK_SIZE..];
                continue;
            }
            if self.buf.capacity() < CHUNK_SIZE {
                self.buf.reserve_exact(CHUNK_SIZE - self.buf.len());
            }
            let take = data.len().min(CHUNK_SIZE - self.buf.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == CHUNK_SIZE {
                self.emit(&self.buf)?;
                self.buf.clear();
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
