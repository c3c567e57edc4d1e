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
//! over `ureq` 3 (blocking, rustls, platform certificate verifier, maintained, small), and
//! leaves to well-kept crates what they do well: `docker_credential` (config.json, credHelpers,
//! credsStore), `http-auth` (RFC 7235 challenge parsing), `url`, `tar`, `sha2`.
//!
//! # Files
//!
//! `reference` (Docker's name normalization) · `options` · `error` (kinds; registry error
//! bodies) · `credentials` (config.json) · `challenge` (WWW-Authenticate) · `client` (one
//! session: scheme, requests, status → error kind) · `auth` (Basic, Bearer tokens, Auth
//! errors) · `retry` (backoff on Network errors) · `manifest` (media types, platforms) ·
//! `rewrite` (Docker media types) · `layout` (the tar) · `pull` · `push`; `fake` (tests: a
//! scripted server for what a real registry will not do on cue).
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
mod challenge;
mod client;
mod credentials;
mod error;
#[cfg(test)]
mod faults;
mod layout;
mod manifest;
mod options;
mod pull;
mod push;
mod reference;
mod retry;
mod rewrite;

pub use error::{Error, ErrorKind, Result};
pub use options::{MediaTypes, Options};
pub use pull::{pull, Pulled};
pub use push::{push, Pushed};
pub use reference::Reference;
