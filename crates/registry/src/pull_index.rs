//! Pull of a multi-platform tag: the index as served (and any index nested in it), the
//! manifest of every platform chosen, then their configs and layers, each blob fetched
//! once however many platforms share it. Attestation manifests are not fetched: they
//! describe the images the squash replaces. The engine reads the layout like any index
//! archive, and finds the platforms not chosen absent.

use serde_json::json;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::files::TarOut;
use crate::host::Host;
use crate::layout::{blob_path, TarWriter, OCI_LAYOUT};
use crate::manifest::{self, serves, Descriptor, Kind, Manifest, Wanted};
use crate::pull::{fetch_manifest, pull_blob, Fetched, Pulled};
use crate::reference::Reference;

/// Which platforms of an index a pull takes.
pub(crate) enum Choice {
    /// Every platform (no `-platform`, or `all`).
    All,
    /// Those listed (`-platform a,b`).
    List(Vec<Wanted>),
    /// One (`-platform a`): the image alone, as a single-platform pull.
    One(Wanted),
}

impl Choice {
    pub(crate) fn parse(platform: Option<&str>) -> Result<Choice> {
        let Some(p) = platform.map(str::trim).filter(|p| !p.is_empty()) else { return Ok(Choice::All) };
        if p.eq_ignore_ascii_case("all") {
            return Ok(Choice::All);
        }
        let mut list = Vec::new();
        for item in p.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            list.push(manifest::parse_platform(item)?);
        }
        match list.len() {
            1 => Ok(Choice::One(list.remove(0))),
            _ => Ok(Choice::List(list)),
        }
    }

    fn takes(&self, have: &Wanted) -> bool {
        match self {
            Choice::All => true,
            Choice::List(l) => l.iter().any(|w| serves(have, w)),
            Choice::One(w) => serves(have, w),
        }
    }
}

/// Nested indexes deeper than this are refused (a loop, or a hostile registry).
const MAX_DEPTH: usize = 3;

/// Writes the index `top` of `r` and the platforms `choice` takes to `out` as an OCI
/// layout whose index.json names the index under r's tag.
pub(crate) async fn pull_index<H: Host>(
    c: &mut Client<'_, H>,
    r: &Reference,
    top: Fetched,
    choice: &Choice,
    out: &mut dyn TarOut,
) -> Result<Pulled> {
    let mut docs: Vec<(String, Vec<u8>)> = Vec::new(); // indexes and manifests, by digest
    let mut images: Vec<(Wanted, Manifest)> = Vec::new();
    let mut have: Vec<String> = Vec::new(); // every platform the index names, for errors
    let mut stack = vec![(top.body.clone(), 0usize)];
    while let Some((body, depth)) = stack.pop() {
        for entry in manifest::runnable(&manifest::parse_index(&body, &r.to_string())?) {
            let platform =
                entry.platform.as_ref().map(|p| manifest::wanted(&p.os, &p.architecture, p.variant.as_deref()));
            if let Some(p) = &platform {
                have.push(p.to_string());
                if !choice.takes(p) {
                    continue;
                }
            }
            crate::reference::parse_digest(&entry.digest)
                .map_err(|e| Error::protocol(format!("the index of {r} names a manifest badly: {e}")))?;
            if docs.iter().any(|(d, _)| *d == entry.digest) {
                continue;
            }
            let fetched = fetch_manifest(c, &r.with_digest(&entry.digest), &entry.digest).await?;
            check_size(r, entry, &fetched)?;
            match fetched.kind {
                Kind::Index if depth + 1 < MAX_DEPTH => stack.push((fetched.body.clone(), depth + 1)),
                Kind::Index => return Err(Error::protocol(format!("{r}: indexes nested too deep"))),
                Kind::Image => {
                    let m = manifest::parse_manifest(&fetched.body, &r.to_string())?;
                    let p = platform.clone().unwrap_or_else(Wanted::unknown);
                    c.note(&format!("{r}: {p} manifest {} ({} layers)", fetched.digest, m.layers.len()));
                    images.push((p, m));
                }
            }
            docs.push((fetched.digest, fetched.body));
        }
    }
    have.dedup();
    let missing: Vec<String> = match choice {
        Choice::List(l) => {
            l.iter().filter(|w| !images.iter().any(|(p, _)| serves(p, w))).map(ToString::to_string).collect()
        }
        _ => Vec::new(),
    };
    if !missing.is_empty() || images.is_empty() {
        let what =
            if missing.is_empty() { "no image".to_string() } else { format!("no image for {}", missing.join(", ")) };
        let have = if have.is_empty() { "none".to_string() } else { have.join(", ") };
        return Err(Error::not_found(format!("{r} has {what} (its index has: {have}); choose with -platform")));
    }
    c.note(&format!(
        "{r}: index {}, pulling {}",
        top.digest,
        images.iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>().join(", ")
    ));

    let mut w = TarWriter::new(out)?;
    w.small("oci-layout", OCI_LAYOUT)?;
    w.small("index.json", &layout_index(r, &top)?)?;
    w.dir("blobs/")?;
    w.dir("blobs/sha256/")?;
    w.small(&blob_path(&top.digest), &top.body)?;
    let mut done: Vec<String> = vec![top.digest.clone()];
    for (digest, body) in &docs {
        if !done.contains(digest) {
            w.small(&blob_path(digest), body)?;
            done.push(digest.clone());
        }
    }
    let (mut bytes, mut layers) = (0, 0);
    for (p, m) in &images {
        let total = m.layers.len();
        for (i, d) in std::iter::once(&m.config).chain(&m.layers).enumerate() {
            if done.contains(&d.digest) {
                continue;
            }
            let what = if i == 0 { format!("{p} config") } else { format!("{p} layer {i}/{total}") };
            c.note(&format!("{r}: {what} {} ({} bytes)", d.digest, d.size));
            pull_blob(c, r, d, &what, &mut w).await?;
            bytes += d.size;
            layers += usize::from(i > 0);
            done.push(d.digest.clone());
        }
    }
    w.finish()?;
    Ok(Pulled {
        digest: top.digest,
        media_type: top.media_type,
        layers,
        bytes,
        platforms: images.iter().map(|(p, _)| p.to_string()).collect(),
    })
}

fn check_size(r: &Reference, entry: &Descriptor, fetched: &Fetched) -> Result<()> {
    if fetched.body.len() as u64 == entry.size {
        return Ok(());
    }
    Err(Error::protocol(format!(
        "the manifest {} of {r} is {} bytes, its index says {}",
        entry.digest,
        fetched.body.len(),
        entry.size
    )))
}

/// index.json: the one index, named by r's tag and full reference.
fn layout_index(r: &Reference, top: &Fetched) -> Result<Vec<u8>> {
    let annotations = crate::layout::name_annotations(r);
    let index = json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_INDEX,
        "manifests": [{"mediaType": top.media_type, "digest": top.digest, "size": top.body.len(), "annotations": annotations}],
    });
    serde_json::to_vec(&index).map_err(|e| Error::protocol(format!("index.json: {e}")))
}
