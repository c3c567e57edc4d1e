//! The options objects of `inspect` and `squash`, read with serde in one call each. Every
//! option has its own `deserialize_with` function so that a value of the wrong type is a
//! `BAD_ARGUMENT` that names the option ("options.from must be a string"). `null` and
//! `undefined` mean "not given"; unknown options are ignored.

use js_sys::Function;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use wasm_bindgen::JsValue;

use crate::errors::{bad_argument, describe};

/// What `inspect` takes, and the part of `squash`'s options they share (`InspectOptions`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReadOptions {
    #[serde(default, deserialize_with = "image")]
    pub image: Option<String>,
    #[serde(default, deserialize_with = "platform")]
    pub platform: Option<String>,
    #[serde(default, deserialize_with = "verify")]
    pub verify: Option<bool>,
    #[serde(default, deserialize_with = "on_progress")]
    pub on_progress: Option<Function>,
    #[serde(default, deserialize_with = "sha256")]
    pub sha256: Option<Function>,
}

/// What only `squash` takes (the rest of `SquashOptions`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WriteOptions {
    #[serde(default, deserialize_with = "from")]
    pub from: Option<String>,
    #[serde(default, deserialize_with = "tag")]
    pub tag: Option<String>,
    #[serde(default, deserialize_with = "on_chunk")]
    pub on_chunk: Option<Function>,
    /// Any truthy value turns it on, as it always has.
    #[serde(default, deserialize_with = "truthy")]
    pub transient_chunks: bool,
    #[serde(default, deserialize_with = "compress")]
    pub compress: Option<String>,
    #[serde(default, deserialize_with = "level")]
    pub level: Option<f64>,
    #[serde(default, deserialize_with = "format")]
    pub format: Option<String>,
    #[serde(default, deserialize_with = "scratch")]
    pub scratch: Option<Function>,
    /// Any truthy value: the result goes to a registry as stored.
    #[serde(default, deserialize_with = "truthy")]
    pub pushed: bool,
}

/// What only `verifyLayers` takes (with the `ReadOptions`).
#[derive(Deserialize, Default)]
pub struct LayerChoice {
    #[serde(default, deserialize_with = "layers")]
    pub layers: Option<Vec<usize>>,
    #[serde(default, deserialize_with = "hashed")]
    pub hashed: Option<Vec<Hashed>>,
}

/// A digest the host computed itself of a plain layer's bytes (see `layerRanges`).
#[derive(Deserialize)]
pub struct Hashed {
    pub index: usize,
    pub digest: String,
}

/// `options` (an object, or undefined/null for none) as `T`.
pub fn read<T: DeserializeOwned + Default>(options: &JsValue) -> Result<T, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(T::default());
    }
    if !options.is_object() || options.is_function() {
        return Err(bad_argument("options must be an object"));
    }
    serde_wasm_bindgen::from_value(options.clone()).map_err(|e| bad_argument(&describe(&e.into())))
}

/// A JavaScript value kept as it is (a function, say), checked to be a `T` by serde-wasm-bindgen.
#[derive(Deserialize)]
struct Js<T: wasm_bindgen::JsCast>(#[serde(deserialize_with = "serde_wasm_bindgen::preserve::deserialize")] T);

impl From<Js<Function>> for Function {
    fn from(f: Js<Function>) -> Function {
        f.0
    }
}

/// One `deserialize_with` function per option: `name: serde type => field type, message`.
macro_rules! options {
    ($($name:ident: $serde:ty => $field:ty, $message:literal;)*) => {$(
        fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$field>, D::Error> {
            match Option::<$serde>::deserialize(d) {
                Ok(v) => Ok(v.map(Into::into)),
                Err(_) => Err(D::Error::custom($message)),
            }
        }
    )*};
}

options! {
    image: String => String, "options.image must be a string";
    platform: String => String, "options.platform must be a string";
    verify: bool => bool, "options.verify must be true or false";
    on_progress: Js<Function> => Function, "options.onProgress must be a function";
    sha256: Js<Function> => Function, "options.sha256 must be a function";
    from: String => String, "options.from must be a string";
    tag: String => String, "options.tag must be a string";
    on_chunk: Js<Function> => Function, "options.onChunk must be a function";
    compress: String => String, "options.compress must be a string: \"auto\", \"none\", \"gzip\" or \"zstd\"";
    level: f64 => f64, "options.level must be a number";
    format: String => String, "options.format must be a string: \"oci\" or \"docker\"";
    scratch: Js<Function> => Function, "options.scratch must be a function that returns { write, readAt }";
    layers: Vec<usize> => Vec<usize>, "options.layers must be an array of layer indices (0 at the bottom)";
    hashed: Vec<Hashed> => Vec<Hashed>, "options.hashed must be an array of { index, digest } (digest: \"sha256:\" and 64 lowercase hex digits)";
}

fn truthy<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<Js<JsValue>>::deserialize(d)?.is_some_and(|v| v.0.is_truthy()))
}
