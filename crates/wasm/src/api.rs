//! The engine's calls for JavaScript: `list`, `inspect`, `squash`, and the small helpers
//! the wrappers and the bin use (`checkTag`, `spool`, `compressionOf`, ...).

use js_sys::Function;
use squash_engine::{Archive, ReadAt, SquashFrom, SquashOptions};
use wasm_bindgen::prelude::*;

use crate::errors::{bad_argument, coded_error, Call};
use crate::options::{self, ReadOptions, WriteOptions};
use crate::progress;
use crate::scratch;
use crate::sha256;
use crate::sink::ChunkSink;
use crate::source::{JsSource, Source};

/// The images, tags and history of an archive, without reading the layers: fast.
#[wasm_bindgen(unchecked_return_type = "Inspection")]
pub fn list(source: JsSource) -> Result<JsValue, JsValue> {
    let call = Call::new();
    let src = Source::new(source, call.failed.clone())?;
    let archive = Archive::open(Box::new(src)).map_err(|e| call.error(e))?;
    let facts = archive.list().map_err(|e| call.error(e))?;
    call.finish(&facts)
}

/// Everything `docker-squash inspect` shows: reads and verifies every layer of the chosen
/// image (of all images when neither `image` nor `platform` is given).
#[wasm_bindgen(unchecked_return_type = "Inspection")]
pub fn inspect(
    source: JsSource,
    #[wasm_bindgen(unchecked_param_type = "InspectOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let call = Call::new();
    let o: ReadOptions = options::read(&options)?;
    let mut progress = progress::forwarder(o.on_progress, call.failed.clone());
    let src = Source::new(source, call.failed.clone())?;
    let mut archive = Archive::open(Box::new(src)).map_err(|e| call.error(e))?;
    if let Some(make) = o.sha256 {
        archive.set_sha256(sha256::factory(make, call.failed.clone()));
    }
    let verify = o.verify.unwrap_or(true);
    let facts =
        archive.inspect(o.image.as_deref(), o.platform.as_deref(), verify, &mut progress).map_err(|e| call.error(e))?;
    call.finish(&facts)
}

/// Squashes, handing the resulting archive to `options.onChunk` as it is written.
#[wasm_bindgen(unchecked_return_type = "SquashReport")]
pub fn squash(
    source: JsSource,
    #[wasm_bindgen(unchecked_param_type = "LowLevelSquashOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let call = Call::new();
    let w: WriteOptions = options::read(&options)?;
    let r: ReadOptions = options::read(&options)?;
    let opts = engine_options(&w, &r)?;
    let on_chunk =
        w.on_chunk.ok_or_else(|| bad_argument("options.onChunk (a function that receives the output) is required"))?;
    let mut progress = progress::forwarder(r.on_progress, call.failed.clone());
    let src = Source::new(source, call.failed.clone())?;
    let mut archive = Archive::open(Box::new(src)).map_err(|e| call.error(e))?;
    if let Some(make) = r.sha256 {
        archive.set_sha256(sha256::factory(make, call.failed.clone()));
    }
    if let Some(make) = w.scratch {
        archive.set_scratch(scratch::factory(make, call.failed.clone()));
    }
    let mut sink = ChunkSink::new(on_chunk, w.transient_chunks, call.failed.clone());
    let report = archive.squash(&opts, &mut sink, &mut progress).map_err(|e| call.error(e))?;
    sink.finish().map_err(|e| call.error(squash_engine::Error::io("writing the output", e)))?;
    call.finish(&report)
}

/// Verifies the layers `options.layers` (indices, 0 at the bottom) of the chosen image
/// against their diff_ids, reading no other; throws as `squash` does on a damaged layer
/// (DIGEST_MISMATCH naming it). For hosts that verify in parallel workers while the squash
/// runs with `verify: false`.
#[wasm_bindgen(js_name = verifyLayers)]
pub fn verify_layers(
    source: JsSource,
    #[wasm_bindgen(unchecked_param_type = "VerifyOptions")] options: JsValue,
) -> Result<(), JsValue> {
    let call = Call::new();
    let r: ReadOptions = options::read(&options)?;
    let which: options::LayerChoice = options::read(&options)?;
    let layers = which.layers.ok_or_else(|| bad_argument("options.layers (the layers to verify) is required"))?;
    let hashed: Vec<(usize, String)> =
        which.hashed.unwrap_or_default().into_iter().map(|h| (h.index, h.digest)).collect();
    let mut progress = progress::forwarder(r.on_progress, call.failed.clone());
    let src = Source::new(source, call.failed.clone())?;
    let mut archive = Archive::open(Box::new(src)).map_err(|e| call.error(e))?;
    if let Some(make) = r.sha256 {
        archive.set_sha256(sha256::factory(make, call.failed.clone()));
    }
    archive
        .verify_layers(r.image.as_deref(), r.platform.as_deref(), &layers, &hashed, &mut progress)
        .map_err(|e| call.error(e))?;
    call.finish(&()).map(|_| ())
}

/// Where the chosen image's layers lie in the input and which are stored as their tar,
/// as is (empty when the whole archive is compressed): a host can hash those by its own
/// means and give the digests to `verifyLayers` as `hashed`.
#[wasm_bindgen(js_name = layerRanges, unchecked_return_type = "LayerRange[]")]
pub fn layer_ranges(
    source: JsSource,
    #[wasm_bindgen(unchecked_param_type = "InspectOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let call = Call::new();
    let r: ReadOptions = options::read(&options)?;
    let src = Source::new(source, call.failed.clone())?;
    let archive = Archive::open(Box::new(src)).map_err(|e| call.error(e))?;
    let ranges = archive.layer_ranges(r.image.as_deref(), r.platform.as_deref()).map_err(|e| call.error(e))?;
    call.finish(&ranges)
}

/// The engine's options from the JS ones (`compress` and `format` are checked as the
/// command line checks them; a bad value is BAD_ARGUMENT).
fn engine_options(w: &WriteOptions, r: &ReadOptions) -> Result<SquashOptions, JsValue> {
    let level = match w.level {
        None => None,
        Some(l) if l.fract() == 0.0 && l.abs() <= i32::MAX as f64 => Some(l as i32),
        Some(_) => return Err(bad_argument("options.level must be a whole number")),
    };
    fn parsed<T: std::str::FromStr<Err = String> + Default>(v: &Option<String>) -> Result<T, JsValue> {
        v.as_deref().map(str::parse).transpose().map_err(|e: String| bad_argument(&e)).map(Option::unwrap_or_default)
    }
    Ok(SquashOptions {
        from: SquashFrom::from_arg(w.from.as_deref()),
        tag: w.tag.clone(),
        image: r.image.clone(),
        platform: r.platform.clone(),
        verify: r.verify.unwrap_or(true),
        compress: parsed(&w.compress)?,
        level,
        format: parsed(&w.format)?,
        pushed: w.pushed,
    })
}

/// Checks the options of a `squash` before any input is read: throws what `squash` would
/// throw for them (BAD_TAG, BAD_OPTION, BAD_ARGUMENT), so that a host can refuse them before
/// it spools a stream.
#[wasm_bindgen(js_name = checkOptions)]
pub fn check_options(
    #[wasm_bindgen(unchecked_param_type = "SquashOptions | undefined")] options: JsValue,
) -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let w: WriteOptions = options::read(&options)?;
    let r: ReadOptions = options::read(&options)?;
    let opts = engine_options(&w, &r)?;
    squash_engine::check_options(&opts).map_err(|e| coded_error(&e.message, e.code.as_str()))
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
    source: JsSource,
    what: &str,
    #[wasm_bindgen(unchecked_param_type = "(chunk: Uint8Array) => void")] on_chunk: Function,
) -> Result<JsValue, JsValue> {
    let call = Call::new();
    let src = Source::new(source, call.failed.clone())?;
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
