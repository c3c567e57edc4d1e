//! Pull: manifest (an index followed to the platform), then config and layers, each
//! streamed into the OCI-layout tar and checked against its digest and size as it comes.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::bodies::{read_limited, read_small};
use crate::client::{Client, Request};
use crate::error::{describe, registry_errors, Error, Result};
use crate::files::TarOut;
use crate::host::{Host, ResponseBody};
use crate::layout::{blob_path, TarWriter, OCI_LAYOUT};
use crate::manifest::{self, Descriptor, Kind, Wanted, ACCEPT, MANIFEST_MAX};
use crate::pull_index::{pull_index, Choice};
use crate::reference::Reference;
use crate::Options;

/// What a pull fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The image manifest's digest (the one for the platform, when the reference names an index).
    pub digest: String,
    /// The image manifest's media type as the registry served it.
    pub media_type: String,
    /// How many layers the image has.
    pub layers: usize,
    /// Blob bytes fetched (config and layers, each once).
    pub bytes: u64,
    /// The platforms pulled when the reference names an index and several were taken
    /// (then `digest` is the index's); empty for one image.
    pub platforms: Vec<String>,
}

/// A manifest as fetched.
pub(crate) struct Fetched {
    pub(crate) body: Vec<u8>,
    pub(crate) kind: Kind,
    pub(crate) media_type: String,
    pub(crate) digest: String,
}

/// Writes to `out` (from its current position, a fresh temp file) a tar in OCI image layout:
/// `oci-layout`, `index.json` (one manifest descriptor, annotations
/// `org.opencontainers.image.ref.name` = the tag and `io.containerd.image.name` = the full
/// reference), `blobs/sha256/<hex>` for the manifest, the config and every layer, each blob
/// verified against its digest and size as it streams. A Docker schema 2 manifest is stored as
/// served. An index or manifest list is followed to the one platform `opts.platform`
/// names; without it (or with `all`, or a list) the index is kept and every platform it
/// takes pulled ([`crate::pull_index`]).
/// Layers are streamed to the file, never held in memory; one whose download fails midway is
/// fetched again from its start.
pub async fn pull_on<H: Host>(
    host: &H,
    r: &Reference,
    opts: &Options,
    out: &mut dyn TarOut,
    log: &mut dyn FnMut(&str),
) -> Result<Pulled> {
    let choice = Choice::parse(opts.platform.as_deref())?;
    let scopes = vec![format!("repository:{}:pull", r.repository())];
    let mut c = Client::connect(host, r, opts, scopes, log).await?;
    let result = pull_with(&mut c, r, &choice, out).await;
    result.map_err(|e| c.scrub(e))
}

async fn pull_with<H: Host>(
    c: &mut Client<'_, H>,
    r: &Reference,
    choice: &Choice,
    out: &mut dyn TarOut,
) -> Result<Pulled> {
    let mut fetched = fetch_manifest(c, r, r.manifest_key()).await?;
    let want: &Wanted = match choice {
        Choice::One(w) => w,
        _ if fetched.kind == Kind::Index => return pull_index(c, r, fetched, choice, out).await,
        _ => &Wanted::unknown(), // an image: no index to choose in
    };
    let mut platform = None;
    // An index names images (or, rarely, further indexes) by platform.
    for _depth in 0..3 {
        if fetched.kind != Kind::Index {
            break;
        }
        let entries = manifest::parse_index(&fetched.body, &r.to_string())?;
        let entry = manifest::select(&entries, want).map_err(|have| {
            let have = if have.is_empty() { "none".to_string() } else { have.join(", ") };
            Error::not_found(format!("{r} has no image for {want} (its index has: {have}); choose one with -platform"))
        })?;
        // The entry's digest goes into a URL and a file name: only sha256 hex may.
        crate::reference::parse_digest(&entry.digest)
            .map_err(|e| Error::protocol(format!("the index of {r} names {want}'s manifest badly: {e}")))?;
        c.note(&format!("{r}: index {} → {want} manifest {}", fetched.digest, entry.digest));
        platform = entry.platform.clone();
        let next = r.with_digest(&entry.digest);
        fetched = fetch_manifest(c, &next, &entry.digest).await?;
        if fetched.body.len() as u64 != entry.size {
            return Err(Error::protocol(format!(
                "the manifest {} of {r} is {} bytes, its index says {}",
                entry.digest,
                fetched.body.len(),
                entry.size
            )));
        }
    }
    if fetched.kind != Kind::Image {
        return Err(Error::protocol(format!("{r}: indexes nested too deep")));
    }
    let m = manifest::parse_manifest(&fetched.body, &r.to_string())?;
    c.note(&format!("{r}: manifest {} ({}), {} layers", fetched.digest, fetched.media_type, m.layers.len()));

    let mut descriptor = json!({"mediaType": fetched.media_type, "digest": fetched.digest, "size": fetched.body.len()});
    let annotations = crate::layout::name_annotations(r);
    if let Some(obj) = descriptor.as_object_mut() {
        if let Some(p) = &platform {
            let mut pj = json!({"architecture": p.architecture, "os": p.os});
            if let (Some(v), Some(o)) = (&p.variant, pj.as_object_mut()) {
                o.insert("variant".into(), json!(v));
            }
            obj.insert("platform".into(), pj);
        }
        obj.insert("annotations".into(), serde_json::Value::Object(annotations));
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_INDEX,
        "manifests": [descriptor],
    });
    let index = serde_json::to_vec(&index).map_err(|e| Error::protocol(format!("index.json: {e}")))?;

    let mut w = TarWriter::new(out)?;
    w.small("oci-layout", OCI_LAYOUT)?;
    w.small("index.json", &index)?;
    w.dir("blobs/")?;
    w.dir("blobs/sha256/")?;
    w.small(&blob_path(&fetched.digest), &fetched.body)?;
    let mut blobs: Vec<&Descriptor> = vec![&m.config];
    blobs.extend(&m.layers);
    let mut done: Vec<&str> = vec![&fetched.digest];
    let mut bytes = 0;
    let total = blobs.len();
    for (i, d) in blobs.into_iter().enumerate() {
        if done.contains(&d.digest.as_str()) {
            continue;
        }
        let what = if i == 0 { "config".to_string() } else { format!("layer {i}/{}", total - 1) };
        c.note(&format!("{r}: {what} {} ({} bytes)", d.digest, d.size));
        pull_blob(c, r, d, &what, &mut w).await?;
        bytes += d.size;
        done.push(&d.digest);
    }
    w.finish()?;
    Ok(Pulled {
        digest: fetched.digest,
        media_type: fetched.media_type,
        layers: m.layers.len(),
        bytes,
        platforms: Vec::new(),
    })
}

/// GET /v2/<name>/manifests/<key>, checked against the digest it is fetched by (or the
/// registry's Docker-Content-Digest).
pub(crate) async fn fetch_manifest<H: Host>(c: &mut Client<'_, H>, r: &Reference, key: &str) -> Result<Fetched> {
    let url = c.url(&format!("/v2/{}/manifests/{key}", r.repository()));
    let req = Request::new("GET", url).header("Accept", ACCEPT);
    let retry = c.retry;
    let (body, content_type, header_digest) = retry
        .run(c, async |c| {
            let mut resp = c.send_once(&req).await?;
            match resp.status {
                200 => {}
                404 => {
                    let body = read_small(&mut resp).await;
                    return Err(manifest_not_found(c, r, key, &body).await);
                }
                _ => {
                    let body = read_small(&mut resp).await;
                    return Err(c.status_error(&resp, &body, &req));
                }
            }
            let header = |name: &str| resp.header(name).map(str::to_string);
            let (ct, dcd) = (header("content-type").unwrap_or_default(), header("docker-content-digest"));
            let body = read_limited(&mut resp, MANIFEST_MAX, &format!("the manifest of {r}")).await?;
            Ok((body, ct, dcd))
        })
        .await?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&body)));
    let expected = if key.starts_with("sha256:") {
        Some(key.to_string())
    } else {
        header_digest.filter(|d| d.starts_with("sha256:"))
    };
    if let Some(e) = expected.filter(|e| !e.eq_ignore_ascii_case(&digest)) {
        return Err(Error::protocol(format!("the manifest of {r} has digest {digest}, not {e} as it should")));
    }
    let (kind, media_type) = manifest::kind(&content_type, &body, &r.to_string())?;
    Ok(Fetched { body, kind, media_type, digest })
}

/// A 404 for a manifest: the repository missing (NAME_UNKNOWN), or the tag or digest in it
/// (MANIFEST_UNKNOWN). Registries that say MANIFEST_UNKNOWN for both (distribution does for
/// a tag) are asked for the repository's tags, which tells the two apart.
async fn manifest_not_found<H: Host>(c: &mut Client<'_, H>, r: &Reference, key: &str, body: &[u8]) -> Error {
    let repo = format!("{}/{}", r.registry(), r.repository());
    let missing_repo = || Error::not_found(format!("repository {} not found at {}", r.repository(), r.registry()));
    let codes = registry_errors(body);
    if codes.iter().any(|e| e.code == "NAME_UNKNOWN") {
        return missing_repo();
    }
    let what = if key.starts_with("sha256:") { format!("manifest {key}") } else { format!("tag {key}") };
    let url = c.url(&format!("/v2/{}/tags/list?n=20", r.repository()));
    let listed = match c.send_once(&Request::new("GET", url)).await {
        Ok(mut resp) => match resp.status {
            200 => read_limited(&mut resp, 1 << 20, "the tag list").await.map(Some),
            404 => Ok(None),
            _ => Err(Error::protocol(String::new())),
        },
        Err(e) => Err(e),
    };
    match listed {
        Ok(None) => missing_repo(),
        Ok(Some(list)) => {
            let tags: Vec<String> = serde_json::from_slice::<serde_json::Value>(&list)
                .ok()
                .and_then(|v| v.get("tags").and_then(|t| t.as_array()).cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|t| t.as_str().map(|s| crate::error::short(s, 128)))
                .take(20)
                .collect();
            let has =
                if tags.is_empty() { "it has no tags".to_string() } else { format!("it has: {}", tags.join(", ")) };
            Error::not_found(format!("{what} not found in repository {repo} ({has})"))
        }
        Err(_) => {
            let codes = describe(&codes);
            Error::not_found(format!(
                "{what} not found in {repo}{}",
                if codes.is_empty() { codes } else { format!(" ({codes})") }
            ))
        }
    }
}

/// GET one blob into the tar, hashed and counted as it streams; a failure midway (a
/// Network error) cuts the tar back to the blob's header and starts the blob again.
pub(crate) async fn pull_blob<H: Host>(
    c: &mut Client<'_, H>,
    r: &Reference,
    d: &Descriptor,
    what: &str,
    w: &mut TarWriter<'_>,
) -> Result<()> {
    let start = w.position();
    let url = c.url(&format!("/v2/{}/blobs/{}", r.repository(), d.digest));
    let req = Request::new("GET", url);
    let retry = c.retry;
    retry
        .run(c, async |c| {
            w.rewind(start)?;
            let mut resp = c.send_once(&req).await?;
            match resp.status {
                200 => {}
                404 => {
                    return Err(Error::not_found(format!("the {what} blob {} of {r} is not in the registry", d.digest)))
                }
                _ => {
                    let body = read_small(&mut resp).await;
                    return Err(c.status_error(&resp, &body, &req));
                }
            }
            w.begin(&blob_path(&d.digest), d.size)?;
            let mut hasher = Sha256::new();
            let mut got: u64 = 0;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = match resp.body.read(&mut buf).await {
                    Ok(n) => n,
                    Err(e) => return Err(c.body_error(&e, &format!("downloading the {what} blob {} of {r}", d.digest))),
                };
                if n == 0 {
                    break;
                }
                got += n as u64;
                if got > d.size {
                    return Err(Error::protocol(format!(
                        "the {what} blob {} of {r} is longer than the {} bytes its manifest says",
                        d.digest, d.size
                    )));
                }
                hasher.update(&buf[..n]);
                w.body(&buf[..n])?;
            }
            if got < d.size {
                // A connection closed early without an error: worth another try.
                return Err(Error::network(format!(
                    "the {what} blob {} of {r} ended after {got} of {} bytes",
                    d.digest, d.size
                )));
            }
            let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
            if digest != d.digest {
                return Err(Error::protocol(format!(
                    "the {what} blob {} of {r} arrived with digest {digest}",
                    d.digest
                )));
            }
            w.end_member(d.size)
        })
        .await
}
