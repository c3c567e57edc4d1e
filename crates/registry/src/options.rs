//! What the caller chooses.

use std::path::PathBuf;
use std::time::Duration;

use crate::deadline::Deadlines;

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Hosts (host or host:port) that may use plain HTTP or unverified TLS
    /// (`-insecure-registry HOST`). Loopback registries may without being named, as in Docker.
    pub insecure: Vec<String>,
    /// OS/ARCH[/VARIANT] to pick from an index; default linux/amd64.
    pub platform: Option<String>,
    /// The docker CLI's config directory (its `config.json`); default `$DOCKER_CONFIG`,
    /// else `~/.docker`.
    pub docker_config: Option<PathBuf>,
    /// Log every request (method, URL without its query, status) and each retry.
    pub verbose: bool,
    /// `-registry-timeout`: connect, first byte and each read within this, and at least
    /// 1 KiB of a body in every such span (deadline.rs); default 30 s.
    pub timeout: Option<Duration>,
}

impl Options {
    /// The deadlines every request gets.
    pub fn deadlines(&self) -> Deadlines {
        self.timeout.map(Deadlines::from_timeout).unwrap_or_default()
    }
}

/// The media types a push gives the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaTypes {
    /// As the archive has them (OCI, from squash_engine).
    #[default]
    Oci,
    /// Docker schema 2 (manifest, config, layers), for registries and clients that want it;
    /// an image with a zstd layer (Docker has no type for it) keeps OCI's.
    Docker,
}
