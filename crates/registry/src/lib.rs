//! Pulls an image from a container registry into an OCI-layout tar, and pushes such a tar,
//! over the Distribution API (v2), natively: no daemon, no `skopeo`.
//!
//! # Why a small client on `ureq` and not `oci-client`
//!
//! `oci-client` (the maintained successor of oci-distribution) was weighed first. It is async
//! (reqwest, tokio, hyper, h2 and oci-spec: several times the build of this crate on a
//! two-core machine) and, more to the point, what this crate must guarantee sits beside its
//! API rather than in it: its token request asks for the target repository's scope only, so a
//! cross-repository mount under a token registry cannot be granted (`repository:<from>:pull`),
//! and its `mount_blob` treats the spec's 202 fallback as an error; it has no retries, so a
//! blob that fails midway could not be restarted from its tar header; it reads no
//! config.json or credential helper; and its errors do not tell a missing repository from a
//! missing tag. Wrapping it would have meant re-doing most of it around it. The
//! Distribution API a pull and a push need is eight requests, so the crate speaks them itself
//! and leaves to well-kept crates what they do well: `http-auth` (RFC 7235 challenge
//! parsing), `tar`, `sha2`.
//!
//! # One logic, two hosts
//!
//! Everything the machine does (an HTTP request, a sleep, the clock, the environment,
//! config.json, a credential helper) goes through the [`Host`] trait, whose methods are
//! async so that Node's `fetch` can be awaited. The `native` feature (default) is ureq 3
//! (rustls, the platform's certificate verifier) and std behind `pollster`'s block_on:
//! [`pull`] and [`push`]. The npm package (crates/wasm, Node only) brings its own host on
//! `fetch`, `fs` and `child_process`, and calls [`pull_on`] and [`push_on`].
//!
//! # Files
//!
//! `reference` (Docker's name normalization) · `options` · `error` (kinds; registry error
//! bodies) · `host` (the trait) · `deadline` (timeouts, the slowest body allowed) · `native` (ureq, std) · `files` (the archive and the
//! pull's tar) · `docker_config` (config.json, helpers) · `credentials` (the login for a
//! registry) · `urls` · `status` · `challenge` (WWW-Authenticate) · `client` (one session:
//! scheme, requests, status → error kind) · `redirect` (each hop checked: where a login may
//! go, plain HTTP) · `auth` (Basic, Bearer tokens, Auth errors) ·
//! `retry` (backoff on Network errors) · `manifest` (media types, platforms) · `rewrite`
//! (Docker media types) · `layout` (the tar) · `pull` · `pull_index` (every platform of a
//! tag) · `push` · `overwrite` (a
//! multi-platform tag is never narrowed unasked); `faults` (tests: a scripted
//! server for what a real registry will not do on cue).
//!
//! ```no_run
//! use squash_registry::{pull, Options, Reference};
//! let r = Reference::parse("busybox:1.36").unwrap();
//! let mut out = std::fs::File::create("busybox.tar").unwrap();
//! let pulled = pull(&r, &Options::default(), &mut out, &mut |line| eprintln!("{line}")).unwrap();
//! println!("{} ({} layers, {} bytes)", pulled.digest, pulled.layers, pulled.bytes);
//! ```

#![deny(missing_docs)]

mod auth;
mod bodies;
mod challenge;
mod client;
mod credentials;
mod deadline;
mod docker_config;
mod error;
#[cfg(all(test, feature = "native"))]
mod faults;
mod files;
mod host;
mod layout;
mod manifest;
#[cfg(feature = "native")]
mod native;
mod options;
mod overwrite;
mod pull;
mod pull_index;
mod push;
mod redirect;
mod reference;
mod retry;
mod rewrite;
mod status;
mod urls;

pub use deadline::{Deadlines, DEFAULT_TIMEOUT_SECS, MIN_BYTES_PER_WINDOW};
pub use error::{Error, ErrorKind, Result};
pub use files::{ReadAt, TarOut};
pub use host::{Body, HelperOutput, Host, HttpRequest, HttpResponse, ResponseBody, Transport, TransportKind};
#[cfg(feature = "native")]
pub use native::{pull, push, NativeBody, NativeHost};
pub use options::{MediaTypes, Options};
pub use pull::{pull_on, Pulled};
pub use push::{push_on, Pushed};
pub use reference::Reference;
