//! Registries for the npm package in Node (feature `registry`, built for the nodejs target
//! only: wasm-pack.toml). The Distribution API logic is crates/registry's, the same code as
//! the native CLI's; what the machine does goes through a JavaScript host
//! (js/registry.mjs: `fetch`, `fs`, `child_process`, timers), awaited as promises.

use std::time::Duration;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use squash_registry::{
    Body, ErrorKind, HelperOutput, Host, HttpRequest, HttpResponse, MediaTypes, Options, ReadAt, Reference,
    ResponseBody, TarOut, Transport, TransportKind,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::errors::{bad_argument, coded_error, describe, to_js};

#[wasm_bindgen]
extern "C" {
    /// js/registry.mjs's host: HTTP, timers, environment, files, helpers, and the pull's
    /// tar or the push's archive.
    #[wasm_bindgen(typescript_type = "RegistryHost")]
    pub type JsHost;

    #[wasm_bindgen(method, catch, structural)]
    fn send(
        this: &JsHost,
        method: &str,
        url: &str,
        headers: Array,
        body: JsValue,
        unverified_tls: bool,
        deadlines: JsValue,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, structural)]
    fn sleep(this: &JsHost, ms: f64) -> Promise;
    #[wasm_bindgen(method, structural)]
    fn millis(this: &JsHost) -> f64;
    #[wasm_bindgen(method, structural)]
    fn env(this: &JsHost, name: &str) -> Option<String>;
    #[wasm_bindgen(method, catch, structural, js_name = readFile)]
    fn read_file(this: &JsHost, path: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, structural, js_name = runHelper)]
    fn run_helper(this: &JsHost, program: &str, input: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, structural)]
    fn write(this: &JsHost, bytes: &[u8]) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, structural)]
    fn position(this: &JsHost) -> Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, structural)]
    fn truncate(this: &JsHost, len: f64) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, structural, js_name = archiveSize)]
    fn archive_size(this: &JsHost) -> Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, structural, js_name = readAt)]
    fn read_at(this: &JsHost, offset: f64, length: f64) -> Result<Uint8Array, JsValue>;
}

/// A `fetch` body: `read()` resolves to the next chunk, or null at the end.
pub struct JsBody {
    reader: JsValue,
    pending: Vec<u8>,
    at: usize,
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

impl ResponseBody for JsBody {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Transport> {
        while self.at >= self.pending.len() {
            let read = get(&self.reader, "read")
                .dyn_into::<Function>()
                .map_err(|_| Transport { kind: TransportKind::Request, detail: "no body reader".into() })?;
            let promise = read.call0(&self.reader).map_err(failure)?;
            let chunk = JsFuture::from(Promise::resolve(&promise)).await.map_err(failure)?;
            if chunk.is_null() || chunk.is_undefined() {
                return Ok(0);
            }
            self.pending = Uint8Array::new(&chunk).to_vec();
            self.at = 0;
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A body not read to its end (a 201's, a HEAD's) is cancelled, so that fetch lets its
/// connection go now rather than when the garbage collector finds it.
impl Drop for JsBody {
    fn drop(&mut self) {
        if let Ok(cancel) = get(&self.reader, "cancel").dyn_into::<Function>() {
            let _ = cancel.call0(&self.reader);
        }
    }
}

#[derive(Deserialize)]
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Failure {
    kind: String,
    detail: String,
}

/// What the host threw (`{ kind, detail }`, js/registry.mjs's `failure`) as a Transport.
fn failure(e: JsValue) -> Transport {
    match serde_wasm_bindgen::from_value::<Failure>(e.clone()) {
        Ok(f) => Transport {
            kind: match f.kind.as_str() {
                "tls" => TransportKind::Tls,
                "request" => TransportKind::Request,
                "timeout" => TransportKind::Timeout,
                _ => TransportKind::Network,
            },
            detail: f.detail,
        },
        Err(_) => Transport { kind: TransportKind::Network, detail: describe(&e) },
    }
}

/// The request's deadlines for the host, in milliseconds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeadlinesJs {
    connect_ms: u64,
    response_ms: u64,
    idle_ms: u64,
    window_ms: u64,
    min_bytes_per_window: u64,
}

impl Host for JsHost {
    type Body = JsBody;

    async fn send(&self, req: &HttpRequest<'_>) -> Result<HttpResponse<JsBody>, Transport> {
        let headers = Array::new();
        for (k, v) in req.headers {
            headers.push(&Array::of2(&(*k).into(), &v.as_str().into()));
        }
        let body = match req.body {
            Body::Empty => JsValue::UNDEFINED,
            Body::Bytes(b) => Uint8Array::from(b).into(),
            // The one slice source is the push's archive, which the host reads itself.
            Body::Slice { offset, len, .. } => {
                let o = js_sys::Object::new();
                let _ = Reflect::set(&o, &"offset".into(), &(offset as f64).into());
                let _ = Reflect::set(&o, &"length".into(), &(len as f64).into());
                o.into()
            }
        };
        let d = &req.deadlines;
        let ms = |t: Duration| u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        let deadlines = to_js(&DeadlinesJs {
            connect_ms: ms(d.connect),
            response_ms: ms(d.response),
            idle_ms: ms(d.idle),
            window_ms: ms(d.window),
            min_bytes_per_window: squash_registry::MIN_BYTES_PER_WINDOW,
        })
        .map_err(failure)?;
        let promise =
            JsHost::send(self, req.method, req.url, headers, body, req.unverified_tls, deadlines).map_err(failure)?;
        let resp = JsFuture::from(promise).await.map_err(failure)?;
        let head: Head = serde_wasm_bindgen::from_value(resp.clone())
            .map_err(|e| Transport { kind: TransportKind::Request, detail: format!("the host's answer: {e}") })?;
        let headers = head.headers.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        Ok(HttpResponse {
            status: head.status,
            headers,
            body: JsBody { reader: get(&resp, "body"), pending: Vec::new(), at: 0 },
        })
    }

    async fn sleep(&self, d: Duration) {
        let _ = JsFuture::from(JsHost::sleep(self, d.as_millis() as f64)).await;
    }

    fn millis(&self) -> u64 {
        JsHost::millis(self).max(0.0) as u64
    }

    fn env(&self, name: &str) -> Option<String> {
        JsHost::env(self, name)
    }

    fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let v = JsHost::read_file(self, path).map_err(|e| describe(&e))?;
        if v.is_null() || v.is_undefined() {
            return Ok(None);
        }
        Ok(Some(Uint8Array::new(&v).to_vec()))
    }

    async fn run_helper(&self, program: &str, input: &str) -> Result<HelperOutput, String> {
        let promise = JsHost::run_helper(self, program, input).map_err(|e| describe(&e))?;
        let out = JsFuture::from(promise).await.map_err(|e| describe(&e))?;
        let bytes = |key: &str| {
            let v = get(&out, key);
            if v.is_object() {
                Uint8Array::new(&v).to_vec()
            } else {
                Vec::new()
            }
        };
        Ok(HelperOutput { success: get(&out, "success").is_truthy(), stdout: bytes("stdout"), stderr: bytes("stderr") })
    }
}

fn io_error(e: JsValue) -> std::io::Error {
    std::io::Error::other(describe(&e))
}

/// The pull's tar, written through the host.
struct JsTar<'a>(&'a JsHost);

impl TarOut for JsTar<'_> {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write(bytes).map_err(io_error)
    }
    fn position(&mut self) -> std::io::Result<u64> {
        self.0.position().map(|p| p as u64).map_err(io_error)
    }
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.0.truncate(len as f64).map_err(io_error)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The push's archive, read through the host.
struct JsArchive<'a>(&'a JsHost);

impl ReadAt for JsArchive<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let got = self.0.read_at(offset as f64, buf.len() as f64).map_err(io_error)?;
        let n = (got.length() as usize).min(buf.len());
        got.subarray(0, n as u32).copy_to(&mut buf[..n]);
        Ok(n)
    }
    fn size(&self) -> std::io::Result<u64> {
        self.0.archive_size().map(|s| s as u64).map_err(io_error)
    }
}

/// `{ insecure, platform, dockerConfig, verbose, timeout }` (timeout in seconds).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct JsOptions {
    insecure: Vec<String>,
    platform: Option<String>,
    docker_config: Option<String>,
    verbose: bool,
    timeout: Option<f64>,
}

fn options(v: &JsValue) -> Result<Options, JsValue> {
    let o: JsOptions = if v.is_undefined() || v.is_null() {
        JsOptions::default()
    } else {
        serde_wasm_bindgen::from_value(v.clone()).map_err(|e| bad_argument(&format!("registry options: {e}")))?
    };
    let timeout = match o.timeout {
        None => None,
        Some(t) if t.is_finite() && t >= 1.0 && t <= 86_400.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => return Err(bad_argument(&format!("registryTimeout must be 1 to 86400 seconds, not {t}"))),
    };
    Ok(Options {
        insecure: o.insecure,
        platform: o.platform,
        docker_config: o.docker_config.map(Into::into),
        verbose: o.verbose,
        timeout,
    })
}

/// A registry error as a JS `Error` with a stable code (the native message as it is).
fn registry_error(e: squash_registry::Error) -> JsValue {
    let code = match e.kind {
        ErrorKind::Usage => "REGISTRY_USAGE",
        ErrorKind::Auth => "REGISTRY_AUTH",
        ErrorKind::NotFound => "REGISTRY_NOT_FOUND",
        ErrorKind::Network => "REGISTRY_NETWORK",
        ErrorKind::Timeout => "REGISTRY_TIMEOUT",
        ErrorKind::Protocol => "REGISTRY_PROTOCOL",
        ErrorKind::Io => "IO",
    };
    coded_error(&e.message, code)
}

fn reference(text: &str) -> Result<Reference, JsValue> {
    Reference::parse(text).map_err(|e| coded_error(&e.message, "BAD_REFERENCE"))
}

fn logger(log: &Function) -> impl FnMut(&str) + '_ {
    move |line: &str| {
        let _ = log.call1(&JsValue::NULL, &line.into());
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PulledJs {
    reference: String,
    digest: String,
    media_type: String,
    layers: usize,
    bytes: u64,
    platforms: Vec<String>,
}

/// Pulls `reference` into the host's tar (an OCI layout), as `docker-squash -i docker://…`.
#[wasm_bindgen(js_name = registryPull, unchecked_return_type = "RegistryPulled")]
pub async fn registry_pull(
    host: JsHost,
    reference_text: String,
    #[wasm_bindgen(unchecked_param_type = "RegistryOptions | undefined")] opts: JsValue,
    log: Function,
) -> Result<JsValue, JsValue> {
    console_error_panic_hook::set_once();
    let r = reference(&reference_text)?;
    let opts = options(&opts)?;
    let mut out = JsTar(&host);
    let mut say = logger(&log);
    let got = squash_registry::pull_on(&host, &r, &opts, &mut out, &mut say).await.map_err(registry_error)?;
    to_js(&PulledJs {
        reference: r.to_string(),
        digest: got.digest,
        media_type: got.media_type,
        layers: got.layers,
        bytes: got.bytes,
        platforms: got.platforms,
    })
}

#[derive(Serialize)]
struct Blob {
    digest: String,
    size: u64,
}

#[derive(Serialize)]
struct PushedJs {
    reference: String,
    digest: String,
    uploaded: Vec<Blob>,
    mounted: Vec<Blob>,
    existing: Vec<Blob>,
}

/// Pushes the host's archive (an OCI layout) to `reference`, mounting blobs from
/// `mount_from` on the same registry; `media` "docker" gives Docker schema 2 media types.
#[wasm_bindgen(js_name = registryPush, unchecked_return_type = "RegistryPushed")]
pub async fn registry_push(
    host: JsHost,
    reference_text: String,
    mount_from: Option<String>,
    media: String,
    #[wasm_bindgen(unchecked_param_type = "RegistryOptions | undefined")] opts: JsValue,
    log: Function,
) -> Result<JsValue, JsValue> {
    console_error_panic_hook::set_once();
    let r = reference(&reference_text)?;
    let from = mount_from.as_deref().map(reference).transpose()?;
    let media = match media.as_str() {
        "docker" => MediaTypes::Docker,
        "oci" => MediaTypes::Oci,
        other => return Err(bad_argument(&format!("media must be \"oci\" or \"docker\", not {other:?}"))),
    };
    let opts = options(&opts)?;
    let archive = JsArchive(&host);
    let mut say = logger(&log);
    let pushed = squash_registry::push_on(&host, &archive, &r, from.as_ref(), media, &opts, &mut say)
        .await
        .map_err(registry_error)?;
    let blobs = |v: Vec<(String, u64)>| v.into_iter().map(|(digest, size)| Blob { digest, size }).collect();
    to_js(&PushedJs {
        reference: r.to_string(),
        digest: pushed.digest,
        uploaded: blobs(pushed.uploaded),
        mounted: blobs(pushed.mounted),
        existing: blobs(pushed.existing),
    })
}

/// Checks a `docker://` reference as a pull or push would read it, and returns it in full
/// (`busybox` is `docker.io/library/busybox:latest`). Throws BAD_REFERENCE.
#[wasm_bindgen(js_name = registryReference)]
pub fn registry_reference(text: &str) -> Result<String, JsValue> {
    reference(text).map(|r| r.to_string())
}
