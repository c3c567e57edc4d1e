//! The command line of `docker-squash` for the npm bin: `squash-cli-def`'s flags, usage,
//! parsing and texts, so that the bin prints exactly what the native CLI prints and keeps
//! only Node's I/O. The `say*` functions mirror `squash_cli_def::say`.

use serde::de::DeserializeOwned;
use squash_cli_def::{gate, inspect, say};
use squash_engine::{Inspection, SquashReport};
use wasm_bindgen::prelude::*;

use crate::errors::{bad_argument, coded_error, describe, to_js};

/// Code of the error `parseArgs` throws: print its message, then `usage`, and exit 2.
const USAGE: &str = "USAGE";

/// The arguments after the program's name, parsed as both programs parse them. Throws an
/// `Error` with code `USAGE` whose message says what is wrong ("unknown flag `-nope`").
#[wasm_bindgen(js_name = parseArgs, unchecked_return_type = "CliArgs")]
pub fn parse_args(argv: Vec<String>) -> Result<JsValue, JsValue> {
    console_error_panic_hook::set_once();
    let args = squash_cli_def::parse(&argv).map_err(|e| coded_error(&e, USAGE))?;
    to_js(&args)
}

/// The help text of the program named `prog`.
#[wasm_bindgen]
pub fn usage(prog: &str) -> String {
    squash_cli_def::usage(prog)
}

/// What `inspect` prints for `facts` (as `inspect` or `list` returned them): the table, or
/// with `json` the JSON.
#[wasm_bindgen(js_name = renderInspect)]
pub fn render_inspect(
    #[wasm_bindgen(unchecked_param_type = "Inspection")] facts: JsValue,
    json: bool,
) -> Result<String, JsValue> {
    let facts: Inspection = from_js(facts, "facts")?;
    if json {
        inspect::json(&facts).map_err(|e| coded_error(&e, "IO"))
    } else {
        Ok(inspect::table(&facts))
    }
}

/// `inspect`'s CI gate: why the facts fail `--fail-under-efficiency` / `--max-wasted` (one
/// line), or undefined when they pass (the values as `parseArgs` gave them).
#[wasm_bindgen(js_name = inspectGate)]
pub fn inspect_gate(
    #[wasm_bindgen(unchecked_param_type = "Inspection")] facts: JsValue,
    fail_under_efficiency: Option<f64>,
    max_wasted: Option<String>,
) -> Result<Option<String>, JsValue> {
    let facts: Inspection = from_js(facts, "facts")?;
    let max = max_wasted.as_deref().map(gate::parse_wasted).transpose().map_err(|e| bad_argument(&e))?;
    Ok(gate::check(&facts, fail_under_efficiency, max))
}

/// "inspect needs a FILE: …".
#[wasm_bindgen(js_name = sayNeedsFile)]
pub fn say_needs_file(prog: &str) -> String {
    say::needs_file(prog)
}

/// "no input: …", for a terminal on stdin.
#[wasm_bindgen(js_name = sayNoInput)]
pub fn say_no_input(prog: &str) -> String {
    say::no_input(prog)
}

/// "FILE changed while it was read (truncated: …)", for a file read in place.
#[wasm_bindgen(js_name = sayInputChanged)]
pub fn say_input_changed(path: &str, now: f64, then: f64) -> String {
    say::input_changed(path, now.max(0.0) as u64, then.max(0.0) as u64)
}

/// "refusing to write an image archive to a terminal: …".
#[wasm_bindgen(js_name = sayTerminalOutput)]
pub fn say_terminal_output() -> String {
    say::TERMINAL_OUTPUT.to_string()
}

/// A `-verbose` line, stamped with the seconds since the start.
#[wasm_bindgen(js_name = sayStamped)]
pub fn say_stamped(seconds: f64, msg: &str) -> String {
    say::stamped(seconds, msg)
}

/// "input: N bytes".
#[wasm_bindgen(js_name = sayInputSize)]
pub fn say_input_size(size: f64) -> String {
    say::input_size(size.max(0.0) as u64)
}

/// Whether the layers are hashed, in words.
#[wasm_bindgen(js_name = sayVerifyNote)]
pub fn say_verify_note(verify: bool) -> String {
    say::verify_note(verify).to_string()
}

/// The `-verbose` lines about the archive and its images (from `list`).
#[wasm_bindgen(js_name = sayListing)]
pub fn say_listing(#[wasm_bindgen(unchecked_param_type = "Inspection")] list: JsValue) -> Result<Vec<String>, JsValue> {
    Ok(say::listing(&from_js(list, "the listing")?))
}

/// `docker://REF` given to a host that does not reach registries: what to do instead.
/// `pulling docker://REF` (the `-verbose` log).
#[wasm_bindgen(js_name = sayPulling)]
pub fn say_pulling(reference: &str) -> String {
    say::pulling(reference)
}

/// `pulled DIGEST (N layers, SIZE fetched)` (the `-verbose` log).
#[wasm_bindgen(js_name = sayPulled)]
pub fn say_pulled(digest: &str, layers: f64, fetched: f64) -> String {
    say::pulled(digest, layers as usize, fetched as u64)
}

/// The two lines said after a push, from its `{ reference, digest, uploaded, mounted,
/// existing }` (blobs as `{ digest, size }`).
#[wasm_bindgen(js_name = sayPushed)]
pub fn say_pushed(
    #[wasm_bindgen(unchecked_param_type = "RegistryPushed")] pushed: JsValue,
) -> Result<Vec<String>, JsValue> {
    #[derive(serde::Deserialize)]
    struct Blob {
        size: f64,
    }
    #[derive(serde::Deserialize)]
    struct Pushed {
        reference: String,
        digest: String,
        uploaded: Vec<Blob>,
        mounted: Vec<Blob>,
        existing: Vec<Blob>,
    }
    let p: Pushed = from_js(pushed, "the push")?;
    let cost = |v: &[Blob]| (v.len(), v.iter().map(|b| b.size as u64).sum::<u64>());
    Ok(say::pushed(&p.reference, &p.digest, cost(&p.uploaded), cost(&p.mounted), cost(&p.existing)).to_vec())
}

#[wasm_bindgen(js_name = saySizes)]
pub fn say_sizes(#[wasm_bindgen(unchecked_param_type = "SquashReport")] report: JsValue) -> Result<String, JsValue> {
    let report: SquashReport = from_js(report, "the report")?;
    Ok(say::sizes(&report))
}

/// The `-verbose` lines about what a squash did.
#[wasm_bindgen(js_name = saySummary)]
pub fn say_summary(
    #[wasm_bindgen(unchecked_param_type = "SquashReport")] report: JsValue,
) -> Result<Vec<String>, JsValue> {
    let report: SquashReport = from_js(report, "the report")?;
    Ok(say::summary(&report))
}

/// The progress line on a terminal (`\r`, drawn over itself; wiped when done).
#[wasm_bindgen(js_name = sayProgress)]
pub fn say_progress(phase: &str, done: f64, total: f64, seconds: f64) -> String {
    say::progress(phase, done.max(0.0) as u64, total.max(0.0) as u64, seconds)
}

/// A value JavaScript got from this module, back as its Rust type.
fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| bad_argument(&format!("{what}: not what this module returned ({})", describe(&e.into()))))
}
