//! Where an image is read from (`-i`, inspect's FILE, the bare IMAGE) and written to
//! (`-o`), in skopeo's transport syntax, so that what users already type for skopeo works:
//! `docker-archive:PATH[:REF]`, `oci-archive:PATH[:REF]`, `docker-daemon:REF`,
//! `containers-storage:REF` (podman's store) and `docker://REGISTRY/REPO:TAG`. A plain path
//! stays an archive file and `-` stays stdin/stdout, as before.

use serde::Serialize;

use squash_engine::ArchiveFormat;

/// A local engine, driven through its own CLI (so `DOCKER_HOST`, docker contexts and
/// podman's connections apply as they do for the user's other commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// `docker-daemon:`: `docker save` / `docker load`.
    Docker,
    /// `containers-storage:`: `podman save` / `podman load`.
    Podman,
}

impl Engine {
    /// The program run for it.
    pub fn program(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }

    /// The transport prefix that names it.
    pub fn transport(self) -> &'static str {
        match self {
            Engine::Docker => "docker-daemon:",
            Engine::Podman => "containers-storage:",
        }
    }
}

/// One place an image is read from or written to.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Location {
    /// stdin or stdout.
    #[default]
    Stdio,
    /// An archive file; `format` when the transport named one (`docker-archive:`,
    /// `oci-archive:`), `reference` when it was given after the path (`PATH:REF`).
    Archive {
        /// The file.
        path: String,
        /// The layout the transport names, if it named one.
        #[serde(serialize_with = "format_name")]
        format: Option<ArchiveFormat>,
        /// The image in the archive (reading) or the tag to give it (writing).
        reference: Option<String>,
    },
    /// An image in a local engine.
    Engine {
        /// Docker or podman.
        engine: Engine,
        /// The image: a name, name:tag or an id (reading); name[:tag] (writing).
        reference: String,
    },
    /// An image in a registry: what follows `docker://`.
    Registry {
        /// REGISTRY/REPO:TAG or REPO@sha256:…
        reference: String,
    },
}

fn format_name<S: serde::Serializer>(f: &Option<ArchiveFormat>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(ArchiveFormat::Oci) => s.serialize_some("oci"),
        Some(ArchiveFormat::Docker) => s.serialize_some("docker"),
        None => s.serialize_none(),
    }
}

/// skopeo's transports we do not read or write, refused by name rather than taken for a
/// file called `oci:x`.
const OTHER_TRANSPORTS: &[&str] = &["oci:", "dir:", "tarball:", "ostree:", "sif:"];

impl Location {
    /// Reads a `-i`/`-o` value. `flag` names it in messages (`-i`, `-o`).
    pub fn parse(value: &str, flag: &str) -> Result<Location, String> {
        if value == "-" {
            return Ok(Location::Stdio);
        }
        let archive = |rest: &str, format, transport: &str| -> Result<Location, String> {
            // skopeo's rule: the path ends at the first colon; what follows is the image.
            let (path, reference) = match rest.split_once(':') {
                Some((p, r)) => (p, Some(r.to_string())),
                None => (rest, None),
            };
            if path.is_empty() {
                return Err(format!("{flag} {transport} needs a path: {flag} {transport}image.tar"));
            }
            if reference.as_deref() == Some("") {
                return Err(format!("{flag} {value}: nothing after the path's colon; drop it or give an image"));
            }
            Ok(Location::Archive { path: path.to_string(), format: Some(format), reference })
        };
        if let Some(rest) = value.strip_prefix("docker-archive:") {
            return archive(rest, ArchiveFormat::Docker, "docker-archive:");
        }
        if let Some(rest) = value.strip_prefix("oci-archive:") {
            return archive(rest, ArchiveFormat::Oci, "oci-archive:");
        }
        for engine in [Engine::Docker, Engine::Podman] {
            if let Some(rest) = value.strip_prefix(engine.transport()) {
                if rest.is_empty() {
                    return Err(format!("{flag} {value} needs an image: {flag} {}app:1", engine.transport()));
                }
                if rest.starts_with('[') {
                    return Err(format!(
                        "{flag} {value}: a storage specifier ([driver@root]) is not supported; \
                         the image is read and written with `podman save`/`podman load`"
                    ));
                }
                return Ok(Location::Engine { engine, reference: rest.to_string() });
            }
        }
        if let Some(rest) = value.strip_prefix("docker://") {
            if rest.is_empty() {
                return Err(format!("{flag} docker:// needs an image: {flag} docker://registry.example/app:1"));
            }
            // Checked now, before stdin is read or a pull starts; the message never quotes
            // a login (`user:password@`) back.
            squash_registry::Reference::parse(rest).map_err(|e| format!("{flag}: {e}"))?;
            return Ok(Location::Registry { reference: rest.to_string() });
        }
        if let Some(t) = OTHER_TRANSPORTS.iter().find(|t| value.starts_with(**t)) {
            return Err(format!(
                "{flag} {value}: the {} transport is not supported; give a file, docker-archive:, \
                 oci-archive:, docker-daemon:, containers-storage: or docker://",
                t.trim_end_matches(':')
            ));
        }
        Ok(Location::Archive { path: value.to_string(), format: None, reference: None })
    }

    /// A short name for messages: the file, `stdin`, `docker-daemon:app:1`, …
    pub fn describe(&self, stdio: &str) -> String {
        match self {
            Location::Stdio => stdio.to_string(),
            Location::Archive { path, .. } => path.clone(),
            Location::Engine { engine, reference } => format!("{}{reference}", engine.transport()),
            Location::Registry { reference } => format!("docker://{reference}"),
        }
    }
}

/// Is `reference` an image id (`sha256:…`, or 12-64 hex digits) rather than a name?
pub fn is_image_id(reference: &str) -> bool {
    let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
    (12..=64).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(s: &str) -> Location {
        Location::parse(s, "-i").unwrap()
    }

    #[test]
    fn a_plain_path_is_an_archive_and_a_dash_is_stdio() {
        assert_eq!(loc("-"), Location::Stdio);
        assert_eq!(loc("img.tar"), Location::Archive { path: "img.tar".into(), format: None, reference: None });
        assert_eq!(loc("my:file.tar"), Location::Archive { path: "my:file.tar".into(), format: None, reference: None });
    }

    #[test]
    fn archive_transports_name_a_layout_and_take_an_image_after_the_path() {
        assert_eq!(
            loc("docker-archive:out.tar"),
            Location::Archive { path: "out.tar".into(), format: Some(ArchiveFormat::Docker), reference: None }
        );
        assert_eq!(
            loc("oci-archive:/tmp/o.tar:app:sq"),
            Location::Archive {
                path: "/tmp/o.tar".into(),
                format: Some(ArchiveFormat::Oci),
                reference: Some("app:sq".into())
            }
        );
        assert_eq!(
            Location::parse("docker-archive:", "-o").unwrap_err(),
            "-o docker-archive: needs a path: -o docker-archive:image.tar"
        );
        assert!(Location::parse("docker-archive:a.tar:", "-o").unwrap_err().contains("nothing after the path's colon"));
    }

    #[test]
    fn engines_and_registries_keep_the_whole_reference() {
        assert_eq!(loc("docker-daemon:app:1"), Location::Engine { engine: Engine::Docker, reference: "app:1".into() });
        assert_eq!(
            loc("containers-storage:localhost/app"),
            Location::Engine { engine: Engine::Podman, reference: "localhost/app".into() }
        );
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            loc(&format!("docker://127.0.0.1:5000/team/app@{d}")),
            Location::Registry { reference: format!("127.0.0.1:5000/team/app@{d}") }
        );
        assert!(Location::parse("docker-daemon:", "-i").unwrap_err().contains("needs an image"));
        assert!(Location::parse("docker://", "-o").unwrap_err().contains("needs an image"));
        assert!(Location::parse("containers-storage:[overlay@/x]app", "-i").unwrap_err().contains("storage specifier"));
    }

    #[test]
    fn a_bad_registry_reference_is_refused_when_parsed_and_a_login_is_never_quoted() {
        let e = Location::parse("docker://reg.example/App:1", "-o").unwrap_err();
        assert!(e.starts_with("-o: invalid reference \"reg.example/App:1\""), "{e}");
        let e = Location::parse("docker://alice:s3cret@reg.example/app:1", "-i").unwrap_err();
        assert!(e.contains("docker login reg.example") && !e.contains("s3cret") && !e.contains("alice"), "{e}");
    }

    #[test]
    fn skopeo_transports_we_do_not_handle_are_refused_by_name() {
        let e = Location::parse("oci:layout-dir:tag", "-o").unwrap_err();
        assert!(e.starts_with("-o oci:layout-dir:tag: the oci transport is not supported"), "{e}");
        assert!(Location::parse("dir:/x", "-i").unwrap_err().contains("the dir transport"));
    }

    #[test]
    fn image_ids_are_told_from_names() {
        assert!(is_image_id("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        assert!(is_image_id("0123456789ab"));
        assert!(!is_image_id("app:1"));
        assert!(!is_image_id("deadbeef"));
        assert!(!is_image_id("busybox"));
    }
}
