//! Push: each blob the destination lacks (HEAD first) mounted from another repository of
//! the same registry or uploaded from the archive by offset, then the manifest under the tag.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::bodies::read_small;
use crate::client::{Client, Request, Response};
use crate::error::{registry_errors, Error, Result};
use crate::files::ReadAt;
use crate::host::{Body, Host};
use crate::layout::{self, blob_path, Member};
use crate::manifest::{self, Descriptor, Kind, DOCKER_MANIFEST, MANIFEST_MAX, OCI_MANIFEST};
use crate::reference::Reference;
use crate::rewrite::{self, Rewritten};
use crate::{MediaTypes, Options};

/// What a push did, blob by blob (digest, size).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    /// The digest of the manifest pushed.
    pub digest: String,
    /// Blobs sent from the archive.
    pub uploaded: Vec<(String, u64)>,
    /// Blobs the registry linked from `mount_from`'s repository, without sending them.
    pub mounted: Vec<(String, u64)>,
    /// Blobs the destination repository already had.
    pub existing: Vec<(String, u64)>,
}

/// The image (or index of images) an archive holds, by where its bytes are.
struct Image {
    /// The document index.json names: an image manifest, or an index.
    manifest: Vec<u8>,
    media_type: String,
    /// An index's image manifests (digest, bytes, media type), pushed by digest before it.
    children: Vec<(String, Vec<u8>, String)>,
    blobs: Vec<Descriptor>,
    members: HashMap<String, Member>,
    /// The platforms pushed (none known when a lone image's config names none).
    platforms: Vec<manifest::Wanted>,
}

/// `archive`: an OCI-layout tar as squash_engine writes it (`oci-layout`, `index.json` with
/// one manifest, blobs under blobs/sha256/; a Docker manifest.json beside them is ignored).
/// A push that would replace an index at r's tag with fewer platforms is refused first
/// (unless `opts.platform` names them). Uploads each layer and the config that the destination does not have (HEAD first),
/// mounting from `mount_from`'s repository when it is on the same registry (falling back to
/// an upload when the registry does not mount), then PUTs the manifest under r's tag (or
/// digest). [`MediaTypes::Docker`] rewrites the manifest to Docker schema 2 media types (kept
/// OCI, and said in the log, when a layer is zstd). Blobs are streamed from the file by
/// offset, never whole in memory; an upload that fails is started again.
pub async fn push_on<H: Host>(
    host: &H,
    archive: &dyn ReadAt,
    r: &Reference,
    mount_from: Option<&Reference>,
    media: MediaTypes,
    opts: &Options,
    log: &mut dyn FnMut(&str),
) -> Result<Pushed> {
    let image = read_image(archive)?;
    let (manifest, media_type) = match media {
        MediaTypes::Oci => (image.manifest.clone(), image.media_type.clone()),
        MediaTypes::Docker if !image.children.is_empty() => {
            log("an index is pushed as the squash wrote it, with OCI media types");
            (image.manifest.clone(), image.media_type.clone())
        }
        MediaTypes::Docker => match rewrite::to_docker(&image.manifest)? {
            Rewritten::Docker(m) => (m, DOCKER_MANIFEST.to_string()),
            Rewritten::Kept(t) => {
                log(&format!("a layer is {t}, which Docker's media types cannot name: the manifest stays OCI"));
                (image.manifest.clone(), image.media_type.clone())
            }
        },
    };
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&manifest)));
    if let (None, Some(d)) = (r.tag(), r.digest()) {
        if d != digest {
            return Err(Error::usage(format!("the manifest's digest is {digest}, not {d} as {r} names")));
        }
    }
    let from = match mount_from {
        Some(m) if m.registry() == r.registry() && m.repository() != r.repository() => Some(m.repository()),
        Some(m) if m.registry() != r.registry() => {
            log(&format!("not mounting from {m}: it is on another registry than {r}"));
            None
        }
        _ => None,
    };
    let mut scopes = vec![format!("repository:{}:pull,push", r.repository())];
    if let Some(f) = from {
        scopes.push(format!("repository:{f}:pull"));
    }
    let mut c = Client::connect(host, r, opts, scopes, log).await?;
    let result = push_with(&mut c, archive, &image, r, from, &manifest, &media_type, digest, opts).await;
    result.map_err(|e| c.scrub(e))
}

/// index.json's one manifest (or index, and its images' manifests), read and checked
/// against its digest, and its blobs' places.
fn read_image(archive: &dyn ReadAt) -> Result<Image> {
    let members = layout::index(archive)?;
    let member = |name: &str| {
        members.get(name).copied().ok_or_else(|| {
            Error::usage(format!("the archive has no {name}: it is not an OCI image layout (squash with -format oci)"))
        })
    };
    let index = layout::read_member(archive, "index.json", member("index.json")?, MANIFEST_MAX)?;
    let entries = manifest::parse_index(&index, "the archive").map_err(|e| Error::usage(e.message))?;
    let mut digests: Vec<&Descriptor> = Vec::new();
    for e in &entries {
        if !digests.iter().any(|d| d.digest == e.digest) {
            digests.push(e);
        }
    }
    let entry = match digests.as_slice() {
        [one] => *one,
        [] => return Err(Error::usage("the archive's index.json names no manifest")),
        many => {
            return Err(Error::usage(format!(
                "the archive's index.json names {} manifests; push one image",
                many.len()
            )))
        }
    };
    let bytes = read_document(archive, &members, &entry.digest)?;
    let (kind, media_type) = manifest::kind(&entry.media_type, &bytes, "the archive's manifest")
        .or_else(|_| manifest::kind("", &bytes, "the archive's manifest").map_err(|e| Error::usage(e.message)))?;
    let media_type = if media_type.is_empty() { OCI_MANIFEST.to_string() } else { media_type };
    let mut image =
        Image { manifest: bytes, media_type, children: Vec::new(), blobs: Vec::new(), members, platforms: Vec::new() };
    if kind == Kind::Image {
        let m = manifest::parse_manifest(&image.manifest, "the archive").map_err(|e| Error::usage(e.message))?;
        let config = add_blobs(archive, &mut image, &m)?;
        image.platforms = manifest::config_platform(&config).into_iter().collect();
        return Ok(image);
    }
    let entries = manifest::parse_index(&image.manifest, "the archive's index").map_err(|e| Error::usage(e.message))?;
    for e in manifest::runnable(&entries) {
        let bytes = read_document(archive, &image.members, &e.digest)?;
        let m = manifest::parse_manifest(&bytes, "the archive").map_err(|e| Error::usage(e.message))?;
        let config = add_blobs(archive, &mut image, &m)?;
        let platform = match &e.platform {
            Some(p) => Some(manifest::wanted(&p.os, &p.architecture, p.variant.as_deref())),
            None => manifest::config_platform(&config),
        };
        image.platforms.extend(platform);
        let media = if e.media_type.is_empty() { OCI_MANIFEST.to_string() } else { e.media_type.clone() };
        image.children.push((e.digest.to_ascii_lowercase(), bytes, media));
    }
    Ok(image)
}

/// A JSON document of the archive by digest, checked against it.
fn read_document(archive: &dyn ReadAt, members: &HashMap<String, Member>, digest: &str) -> Result<Vec<u8>> {
    crate::reference::parse_digest(digest).map_err(|e| Error::usage(format!("the archive's manifest: {e}")))?;
    let name = blob_path(&digest.to_ascii_lowercase());
    let m = *members.get(&name).ok_or_else(|| Error::usage(format!("the archive has no {name}")))?;
    let bytes = layout::read_member(archive, &name, m, MANIFEST_MAX)?;
    let got = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    if !got.eq_ignore_ascii_case(digest) {
        return Err(Error::usage(format!("the archive's manifest {digest} has digest {got}: it is damaged")));
    }
    Ok(bytes)
}

/// Adds m's layers and config to the blobs pushed (each once), checking their sizes;
/// returns the config's bytes.
fn add_blobs(archive: &dyn ReadAt, image: &mut Image, m: &manifest::Manifest) -> Result<Vec<u8>> {
    for d in m.layers.iter().chain(std::iter::once(&m.config)) {
        if image.blobs.iter().any(|b| b.digest == d.digest) {
            continue;
        }
        let name = blob_path(&d.digest);
        let found = *image.members.get(&name).ok_or_else(|| Error::usage(format!("the archive has no {name}")))?;
        if found.size != d.size {
            return Err(Error::usage(format!(
                "{name} in the archive is {} bytes, its manifest says {}",
                found.size, d.size
            )));
        }
        image.blobs.push(d.clone());
    }
    let name = blob_path(&m.config.digest);
    let found = *image.members.get(&name).ok_or_else(|| Error::usage(format!("the archive has no {name}")))?;
    layout::read_member(archive, &name, found, MANIFEST_MAX)
}

#[allow(clippy::too_many_arguments)]
async fn push_with<H: Host>(
    c: &mut Client<'_, H>,
    archive: &dyn ReadAt,
    image: &Image,
    r: &Reference,
    from: Option<&str>,
    manifest: &[u8],
    media_type: &str,
    digest: String,
    opts: &Options,
) -> Result<Pushed> {
    let repo = r.repository();
    let mut pushed = Pushed { digest, ..Pushed::default() };
    crate::overwrite::check(c, r, &image.platforms, opts).await?;
    for d in &image.blobs {
        let entry = (d.digest.clone(), d.size);
        let head = c.url(&format!("/v2/{repo}/blobs/{}", d.digest));
        let resp = c.send(&Request::new("HEAD", head.clone())).await?;
        match resp.status {
            200 => {
                c.note(&format!("{r}: {} exists ({} bytes)", d.digest, d.size));
                pushed.existing.push(entry);
                continue;
            }
            404 => {}
            _ => return Err(c.status_error(&resp, &[], &Request::new("HEAD", head))),
        }
        let mut session = None;
        if let Some(f) = from {
            let url = c.url(&format!("/v2/{repo}/blobs/uploads/?mount={}&from={f}", d.digest));
            let req = Request::new("POST", url).header("Content-Length", "0");
            let mut resp = c.send(&req).await?;
            match resp.status {
                201 => {
                    c.note(&format!("{r}: {} mounted from {f} ({} bytes)", d.digest, d.size));
                    pushed.mounted.push(entry);
                    continue;
                }
                202 => {
                    c.note(&format!("{r}: the registry did not mount {} from {f}; uploading it", d.digest));
                    session = Some(location(c, &resp)?);
                }
                _ => {
                    let body = read_small(&mut resp).await;
                    return Err(c.status_error(&resp, &body, &req));
                }
            }
        }
        c.note(&format!("{r}: uploading {} ({} bytes)", d.digest, d.size));
        let name = blob_path(&d.digest);
        let member = *image.members.get(&name).ok_or_else(|| Error::usage(format!("the archive has no {name}")))?;
        upload(c, archive, r, d, member, session).await?;
        pushed.uploaded.push(entry);
    }
    // An index's images first, by digest: a push that fails before the index leaves the
    // tag as it was.
    for (digest, bytes, media) in &image.children {
        put_manifest(c, r, digest, bytes, media).await?;
        c.note(&format!("{r}: manifest {digest} ({media})"));
    }
    let key = r.tag().unwrap_or(&pushed.digest).to_string();
    put_manifest(c, r, &key, manifest, media_type).await?;
    c.note(&format!("{r}: manifest {} ({media_type})", pushed.digest));
    Ok(pushed)
}

/// PUT a manifest (or index) under `key` (a tag or its digest), checking the digest the
/// registry says it stored.
async fn put_manifest<H: Host>(
    c: &mut Client<'_, H>,
    r: &Reference,
    key: &str,
    bytes: &[u8],
    media: &str,
) -> Result<()> {
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
    let url = c.url(&format!("/v2/{}/manifests/{key}", r.repository()));
    let req = Request::new("PUT", url).header("Content-Type", media).body(Body::Bytes(bytes));
    let mut resp = c.send(&req).await?;
    if resp.status != 201 && resp.status != 200 {
        let body = read_small(&mut resp).await;
        return Err(c.status_error(&resp, &body, &req));
    }
    let answered = resp.header("docker-content-digest").map(str::to_string);
    if let Some(a) = answered.filter(|a| a.starts_with("sha256:") && *a != digest) {
        return Err(Error::protocol(format!("{} stored the manifest as {a}, not {digest}", c.host)));
    }
    Ok(())
}

/// An upload session's URL from a 202's Location (relative to the registry, or absolute).
fn location<H: Host>(c: &Client<'_, H>, resp: &Response<'_, H>) -> Result<String> {
    let loc = resp
        .header("location")
        .ok_or_else(|| Error::protocol(format!("{} started an upload without a Location", c.host)))?;
    crate::urls::join(&c.base, loc)
        .ok_or_else(|| Error::protocol(format!("{} gave an upload Location that is not a URL", c.host)))
}

/// POST an upload session (unless given one), then PUT the blob in one request with its
/// digest. A failure (a Network error) starts over with a new session.
async fn upload<H: Host>(
    c: &mut Client<'_, H>,
    archive: &dyn ReadAt,
    r: &Reference,
    d: &Descriptor,
    m: Member,
    session: Option<String>,
) -> Result<()> {
    let repo = r.repository();
    let mut session = session;
    let retry = c.retry;
    retry
        .run(c, async |c| {
            let loc = match session.take() {
                Some(l) => l,
                None => {
                    let req = Request::new("POST", c.url(&format!("/v2/{repo}/blobs/uploads/")))
                        .header("Content-Length", "0");
                    let mut resp = c.send_once(&req).await?;
                    if resp.status != 202 {
                        let body = read_small(&mut resp).await;
                        return Err(c.status_error(&resp, &body, &req));
                    }
                    location(c, &resp)?
                }
            };
            if crate::urls::Url::parse(&loc).is_none() {
                return Err(Error::protocol(format!("{} gave an upload Location that is not a URL", c.host)));
            }
            let url = crate::urls::append_query(&loc, &[("digest", &d.digest)]);
            let req = Request::new("PUT", url)
                .header("Content-Type", "application/octet-stream")
                .body(Body::Slice { source: archive, offset: m.offset, len: m.size });
            let mut resp = c.send_once(&req).await?;
            match resp.status {
                201 | 204 => Ok(()),
                status => {
                    let body = read_small(&mut resp).await;
                    let codes = registry_errors(&body);
                    if codes.iter().any(|e| e.code == "DIGEST_INVALID" || e.code == "SIZE_INVALID") {
                        return Err(Error::usage(format!(
                            "{} refused blob {} of the archive: its bytes do not match its digest (the archive is damaged)",
                            c.host, d.digest
                        )));
                    }
                    // An upload session that expired or was lost: a new one may do.
                    if status == 404 && codes.iter().any(|e| e.code == "BLOB_UPLOAD_UNKNOWN") {
                        return Err(Error::network(format!("{} lost the upload of {}", c.host, d.digest)));
                    }
                    Err(c.status_error(&resp, &body, &req))
                }
            }
        })
        .await
}
