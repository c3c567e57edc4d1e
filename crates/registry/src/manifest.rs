//! Manifests and indexes, OCI and Docker: which one a document is, its descriptors, and
//! the platform to follow in an index.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::reference::parse_digest;

pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1";
/// What a pull accepts: both formats of image manifest and of index.
pub(crate) const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";
/// The Distribution spec's bound on a manifest (registries need not take more).
pub(crate) const MANIFEST_MAX: u64 = 4 << 20;

/// A content descriptor.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) size: u64,
    #[serde(default)]
    pub(crate) platform: Option<Platform>,
    #[serde(default)]
    pub(crate) annotations: Option<std::collections::BTreeMap<String, String>>,
}

/// An index entry's platform.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Platform {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

/// An image manifest's parts that a pull or push moves.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) config: Descriptor,
    #[serde(default)]
    pub(crate) layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// What a fetched document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Image,
    Index,
}

/// The kind of a manifest from its Content-Type, or when that says nothing (application/json,
/// none), from its `mediaType` field and shape; schema 1 and anything else are refused.
pub(crate) fn kind(content_type: &str, body: &[u8], what: &str) -> Result<(Kind, String)> {
    let ct = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| Error::protocol(format!("the manifest of {what} is not JSON")))?;
    let field = doc.get("mediaType").and_then(|m| m.as_str()).unwrap_or("").to_string();
    let media = match ct.as_str() {
        OCI_MANIFEST | OCI_INDEX | DOCKER_MANIFEST | DOCKER_LIST => ct,
        _ if !field.is_empty() => field,
        _ if doc.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) => DOCKER_SCHEMA1.to_string(),
        _ if doc.get("manifests").is_some() => OCI_INDEX.to_string(),
        _ if doc.get("config").is_some() => OCI_MANIFEST.to_string(),
        _ => ct,
    };
    match media.as_str() {
        OCI_MANIFEST | DOCKER_MANIFEST => Ok((Kind::Image, media)),
        OCI_INDEX | DOCKER_LIST => Ok((Kind::Index, media)),
        m if m.starts_with(DOCKER_SCHEMA1) => Err(Error::protocol(format!(
            "{what} is a Docker schema 1 manifest, which is deprecated and not supported: push it again with a \
             current docker or skopeo"
        ))),
        m => Err(Error::protocol(format!(
            "{what} is {}, not an image manifest or index",
            if m.is_empty() { "of no media type".to_string() } else { crate::error::short(m, 100) }
        ))),
    }
}

/// A descriptor whose digest the layout can hold.
fn check(d: &Descriptor, what: &str) -> Result<()> {
    parse_digest(&d.digest).map_err(|e| Error::protocol(format!("{what}: {e}")))?;
    Ok(())
}

/// The image manifest's config and layers, each with a sha256 digest.
pub(crate) fn parse_manifest(body: &[u8], what: &str) -> Result<Manifest> {
    let mut m: Manifest = serde_json::from_slice(body)
        .map_err(|e| Error::protocol(format!("the manifest of {what} is not an image manifest: {e}")))?;
    check(&m.config, &format!("the config of {what}"))?;
    for (i, l) in m.layers.iter_mut().enumerate() {
        check(l, &format!("layer {} of {what}", i + 1))?;
        l.digest = l.digest.to_ascii_lowercase();
    }
    m.config.digest = m.config.digest.to_ascii_lowercase();
    Ok(m)
}

/// The entries of an index.
pub(crate) fn parse_index(body: &[u8], what: &str) -> Result<Vec<Descriptor>> {
    let i: Index = serde_json::from_slice(body)
        .map_err(|e| Error::protocol(format!("the index of {what} is not an image index: {e}")))?;
    Ok(i.manifests)
}

/// A platform asked for: `os/arch[/variant]`, normalized as containerd does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub(crate) os: String,
    pub(crate) arch: String,
    pub(crate) variant: Option<String>,
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        match &self.variant {
            Some(v) => write!(f, "/{v}"),
            None => Ok(()),
        }
    }
}

/// containerd's normalization: aliases (x86_64, aarch64), arm's default v7, arm64's v8
/// and amd64's v1 the same as none.
fn normalize(os: &str, arch: &str, variant: Option<&str>) -> Wanted {
    let os = os.to_ascii_lowercase();
    let arch = arch.to_ascii_lowercase();
    let mut variant = variant.map(str::to_ascii_lowercase).filter(|v| !v.is_empty());
    let arch = match arch.as_str() {
        "x86_64" | "x86-64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        "i386" => "386".to_string(),
        "armhf" => {
            variant = Some("v7".into());
            "arm".to_string()
        }
        "armel" => {
            variant = Some("v6".into());
            "arm".to_string()
        }
        _ => arch,
    };
    match (arch.as_str(), variant.as_deref()) {
        ("arm64", Some("v8" | "8")) | ("amd64", Some("v1")) => variant = None,
        ("arm", None) => variant = Some("v7".into()),
        ("arm", Some(v)) if !v.starts_with('v') => variant = Some(format!("v{v}")),
        _ => {}
    }
    Wanted { os, arch, variant }
}

/// A platform as an index or config names it, normalized.
pub(crate) fn wanted(os: &str, arch: &str, variant: Option<&str>) -> Wanted {
    normalize(os, arch, variant)
}

impl Wanted {
    /// An image whose index entry and config name no platform.
    pub(crate) fn unknown() -> Wanted {
        Wanted { os: "unknown".into(), arch: "unknown".into(), variant: None }
    }
}

/// An index's entries that are images (or indexes), its attestations left out.
pub(crate) fn runnable(entries: &[Descriptor]) -> Vec<&Descriptor> {
    entries.iter().filter(|d| !is_attestation(d)).collect()
}

/// `os/arch[/variant]`.
pub(crate) fn parse_platform(s: &str) -> Result<Wanted> {
    let parts: Vec<&str> = s.split('/').collect();
    let ok = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match parts.as_slice() {
        [os, arch] if ok(os) && ok(arch) => Ok(normalize(os, arch, None)),
        [os, arch, v] if ok(os) && ok(arch) && ok(v) => Ok(normalize(os, arch, Some(v))),
        _ => Err(Error::usage(format!("platform {:?} is not OS/ARCH[/VARIANT]", crate::error::short(s, 100)))),
    }
}

/// BuildKit's attestations sit in the index as unknown/unknown.
fn is_attestation(d: &Descriptor) -> bool {
    let typed = d.annotations.as_ref().is_some_and(|a| a.contains_key("vnd.docker.reference.type"));
    let unknown = d.platform.as_ref().is_some_and(|p| p.os == "unknown" || p.architecture == "unknown");
    typed || unknown
}

/// The platforms an index's runnable images are for (attestations and entries without a
/// platform left out), normalized, each once.
pub(crate) fn platforms(entries: &[Descriptor]) -> Vec<Wanted> {
    let mut out: Vec<Wanted> = Vec::new();
    for p in entries.iter().filter(|d| !is_attestation(d)).filter_map(|d| d.platform.as_ref()) {
        let w = normalize(&p.os, &p.architecture, p.variant.as_deref());
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// An image config's platform (`os`, `architecture`, `variant`), normalized.
pub(crate) fn config_platform(config: &[u8]) -> Option<Wanted> {
    let v: serde_json::Value = serde_json::from_slice(config).ok()?;
    let field = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
    Some(normalize(field("os")?, field("architecture")?, field("variant")))
}

/// Whether the image for `have` serves those who pull `want`: the same OS and
/// architecture, and the same variant unless `have` names none.
pub(crate) fn serves(have: &Wanted, want: &Wanted) -> bool {
    have.os == want.os && have.arch == want.arch && (have.variant.is_none() || have.variant == want.variant)
}

/// The entry for `want`; else the platforms the index has (`linux/amd64`, …), for the error.
pub(crate) fn select<'a>(entries: &'a [Descriptor], want: &Wanted) -> std::result::Result<&'a Descriptor, Vec<String>> {
    let images: Vec<&Descriptor> = entries.iter().filter(|d| !is_attestation(d)).collect();
    let mut exact = None;
    let mut any_variant = None;
    for d in &images {
        let Some(p) = &d.platform else { continue };
        let have = normalize(&p.os, &p.architecture, p.variant.as_deref());
        if have.os != want.os || have.arch != want.arch {
            continue;
        }
        if have.variant == want.variant {
            exact = exact.or(Some(*d));
        } else if want.variant.is_none() {
            any_variant = any_variant.or(Some(*d));
        }
    }
    // An index of one image without a platform is that image.
    let lone = match images.as_slice() {
        [d] if d.platform.is_none() => Some(*d),
        _ => None,
    };
    exact.or(any_variant).or(lone).ok_or_else(|| {
        let mut have: Vec<String> = images
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .map(|p| normalize(&p.os, &p.architecture, p.variant.as_deref()).to_string())
            .collect();
        have.dedup();
        have
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(os: &str, arch: &str, variant: Option<&str>) -> Descriptor {
        Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: format!("sha256:{}", "0".repeat(64)),
            size: 1,
            platform: Some(Platform { os: os.into(), architecture: arch.into(), variant: variant.map(Into::into) }),
            annotations: None,
        }
    }

    fn pick(entries: &[Descriptor], want: &str) -> std::result::Result<String, Vec<String>> {
        select(entries, &parse_platform(want).unwrap()).map(|d| {
            let p = d.platform.as_ref().unwrap();
            format!("{}/{}/{}", p.os, p.architecture, p.variant.clone().unwrap_or_default())
        })
    }

    #[test]
    fn platforms() {
        let mut attestation = entry("unknown", "unknown", None);
        attestation.annotations = Some([("vnd.docker.reference.type".into(), "attestation-manifest".into())].into());
        let idx = vec![
            entry("linux", "amd64", None),
            entry("linux", "arm", Some("v6")),
            entry("linux", "arm", Some("v7")),
            entry("linux", "arm64", Some("v8")),
            entry("windows", "amd64", None),
            attestation,
        ];
        assert_eq!(pick(&idx, "linux/amd64"), Ok("linux/amd64/".into()));
        assert_eq!(pick(&idx, "linux/x86_64"), Ok("linux/amd64/".into()));
        assert_eq!(pick(&idx, "linux/arm64"), Ok("linux/arm64/v8".into()));
        assert_eq!(pick(&idx, "linux/aarch64/v8"), Ok("linux/arm64/v8".into()));
        assert_eq!(pick(&idx, "linux/arm"), Ok("linux/arm/v7".into()));
        assert_eq!(pick(&idx, "linux/arm/v6"), Ok("linux/arm/v6".into()));
        assert_eq!(pick(&idx, "windows/amd64"), Ok("windows/amd64/".into()));
        assert_eq!(
            pick(&idx, "linux/s390x"),
            Err(vec![
                "linux/amd64".to_string(),
                "linux/arm/v6".into(),
                "linux/arm/v7".into(),
                "linux/arm64".into(),
                "windows/amd64".into()
            ])
        );
        // Any variant when none is asked for (amd64 v3 builds).
        assert_eq!(pick(&[entry("linux", "amd64", Some("v3"))], "linux/amd64"), Ok("linux/amd64/v3".into()));
        assert!(pick(&[entry("linux", "amd64", Some("v3"))], "linux/amd64/v2").is_err());
        let mut lone = entry("", "", None);
        lone.platform = None;
        assert!(select(&[lone], &parse_platform("linux/amd64").unwrap()).is_ok());
    }

    #[test]
    fn platform_strings() {
        assert_eq!(parse_platform("Linux/ARM64/v8").unwrap().to_string(), "linux/arm64");
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64", ""] {
            assert_eq!(parse_platform(bad).unwrap_err().kind, crate::ErrorKind::Usage, "{bad}");
        }
    }

    #[test]
    fn kinds() {
        let img = br#"{"schemaVersion":2,"config":{"digest":"sha256:00","size":1},"layers":[]}"#;
        assert_eq!(kind(OCI_MANIFEST, img, "x").unwrap().0, Kind::Image);
        assert_eq!(kind("application/json; charset=utf-8", img, "x").unwrap(), (Kind::Image, OCI_MANIFEST.into()));
        let list = format!(r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[]}}"#);
        assert_eq!(kind("", list.as_bytes(), "x").unwrap(), (Kind::Index, DOCKER_LIST.into()));
        let v1 = br#"{"schemaVersion":1,"fsLayers":[]}"#;
        assert!(kind("application/vnd.docker.distribution.manifest.v1+prettyjws", v1, "x")
            .unwrap_err()
            .message
            .contains("schema 1"));
        assert!(kind("", v1, "x").unwrap_err().message.contains("schema 1"));
        assert_eq!(kind(OCI_MANIFEST, b"<html>", "x").unwrap_err().kind, crate::ErrorKind::Protocol);
        let art = br#"{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip"}"#;
        assert_eq!(kind("", art, "x").unwrap_err().kind, crate::ErrorKind::Protocol);
    }

    #[test]
    fn manifests() {
        let d = "a".repeat(64);
        let ok = format!(
            r#"{{"config":{{"digest":"sha256:{d}","size":2}},"layers":[{{"digest":"sha256:{d}","size":3,"mediaType":"m"}}]}}"#
        );
        let m = parse_manifest(ok.as_bytes(), "x").unwrap();
        assert_eq!((m.layers.len(), m.layers[0].size), (1, 3));
        for bad in [
            r#"{"config":{"digest":"sha512:00","size":2}}"#.to_string(),
            format!(r#"{{"config":{{"digest":"sha256:{d}","size":-1}}}}"#),
            format!(r#"{{"config":{{"digest":"sha256:{d}","size":1}},"layers":[{{"digest":"x","size":1}}]}}"#),
            r#"{"layers":[]}"#.to_string(),
            "[]".to_string(),
        ] {
            assert_eq!(parse_manifest(bad.as_bytes(), "x").unwrap_err().kind, crate::ErrorKind::Protocol, "{bad}");
        }
    }
}
