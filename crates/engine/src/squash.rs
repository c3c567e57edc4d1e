//! Writes the squashed image: kept layers copied byte for byte, the squashed layer built
//! from the plan and streamed (its size is known before a byte is written, so nothing is
//! buffered), then the rewritten config, manifest.json and repositories.

use std::cell::Cell;
use std::io::{Read, Write};
use std::rc::Rc;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::bundle::Bundle;
use crate::compression::Compression;
use crate::digest::{hex_of, sha256_digest, Hasher, Sha256Factory};
use crate::error::{Error, ErrorCode, Result};
use crate::header;
use crate::history::{squashed_history, Step};
use crate::images::ImageDesc;
use crate::layer::{open_layer, LayerIndex, Op, Put};
use crate::report::Progress;
use crate::source::read_exact_at;
use crate::tarwalk::{padded, read_full};
use crate::tree::{ERef, MetaItem, Plan, Tree};
use crate::ProgressFn;

const COPY_BUF: usize = 1 << 20;
const PROGRESS_STEP: u64 = 4 << 20;

/// What is being squashed.
pub struct Job<'a, 's> {
    pub bundle: &'a Bundle<'a>,
    pub image: &'a ImageDesc,
    pub layers: &'a [LayerIndex],
    pub diff_ids: &'a [String],
    pub steps: &'a [Step],
    /// Layers 0..keep are kept as they are.
    pub keep: usize,
    pub from_label: String,
    pub tags: Vec<String>,
    pub sha256: Option<&'a Sha256Factory<'s>>,
}

pub struct Written {
    pub image_id: String,
    pub new_layer: Option<(String, u64)>,
    pub output_bytes: u64,
}

fn put_of(layers: &[LayerIndex], e: ERef) -> Result<&Put> {
    match layers.get(e.layer as usize).and_then(|l| l.entries.get(e.idx as usize)).map(|x| &x.op) {
        Some(Op::Put(p)) => Ok(p),
        _ => Err(Error::corrupt("internal: plan names an entry that is not a file")),
    }
}

/// Applies the layers; the base ends after layer `keep - 1`.
pub fn build_tree(layers: &[LayerIndex], keep: usize, sink: &mut dyn FnMut(crate::tree::Superseded)) -> Result<Tree> {
    let mut tree = Tree::new();
    if keep == 0 {
        tree.end_base(None);
    }
    for (li, layer) in layers.iter().enumerate() {
        for (ei, entry) in layer.entries.iter().enumerate() {
            tree.apply(ERef { layer: li as u32, idx: ei as u32 }, entry, sink)
                .map_err(|e| e.context(format!("layer {li}")))?;
        }
        if li + 1 == keep {
            tree.end_base(Some(li as u32));
        }
    }
    Ok(tree)
}

/// The bytes of the squashed layer, laid out before writing.
struct Layout {
    meta: Vec<Vec<u8>>,
    /// Rewritten headers for renamed copies, by position in `plan.copies`.
    renamed: Vec<Option<Vec<u8>>>,
    links: Vec<Vec<u8>>,
    size: u64,
}

fn layout(job: &Job<'_, '_>, plan: &Plan) -> Result<Layout> {
    let mut size = 0u64;
    let mut meta = Vec::with_capacity(plan.meta.len());
    for m in &plan.meta {
        let bytes = match m {
            MetaItem::Dir { path, entry: Some(e) } => {
                let put = put_of(job.layers, *e)?;
                match &put.raw {
                    Some(raw) => raw.to_vec(),
                    None => header::implicit_dir(path),
                }
            }
            MetaItem::Dir { path, entry: None } => header::implicit_dir(path),
            MetaItem::Whiteout { path } => header::whiteout(path),
            MetaItem::Opaque { dir } => header::opaque(dir),
        };
        size += bytes.len() as u64;
        meta.push(bytes);
    }
    let mut renamed = Vec::with_capacity(plan.copies.len());
    for c in &plan.copies {
        let put = put_of(job.layers, c.entry)?;
        let data = padded(put.size).ok_or_else(|| Error::corrupt("absurd file size"))?;
        match &c.rename {
            None => {
                size += put.header_len as u64 + data;
                renamed.push(None);
            }
            Some(name) => {
                let raw = read_header_seq(job, c.entry, put)?;
                let h = header::rewrite(&raw, Some(name), None)?;
                size += h.len() as u64 + data;
                renamed.push(Some(h));
            }
        }
    }
    let mut links = Vec::with_capacity(plan.links.len());
    for l in &plan.links {
        let put = put_of(job.layers, l.entry)?;
        let raw = put.raw.as_deref().ok_or_else(|| Error::corrupt("internal: hardlink header not kept"))?;
        let h = header::rewrite(raw, Some(&l.path), Some(&l.target))?;
        size += h.len() as u64;
        links.push(h);
    }
    size += 1024;
    Ok(Layout { meta, renamed, links, size })
}

/// Reads one entry's header sequence again (rare: only hardlink contents whose original
/// path changed).
fn read_header_seq(job: &Job<'_, '_>, e: ERef, put: &Put) -> Result<Vec<u8>> {
    let desc = &job.image.layers[e.layer as usize];
    let layer = &job.layers[e.layer as usize];
    let mut buf = vec![0u8; put.header_len as usize];
    if layer.compression == Compression::None {
        read_exact_at(&*job.bundle.src, desc.file.offset + put.seq_start, &mut buf)
            .map_err(|e| Error::io("reading a layer", e))?;
    } else {
        let mut r = open_layer(&*job.bundle.src, desc, layer.compression, Rc::new(Cell::new(0)))?;
        std::io::copy(&mut r.by_ref().take(put.seq_start), &mut std::io::sink())
            .map_err(|e| Error::io("reading a layer", e))?;
        if read_full(&mut r, &mut buf).map_err(|e| Error::io("reading a layer", e))? < buf.len() {
            return Err(Error::corrupt("a layer ended early on second reading"));
        }
    }
    Ok(buf)
}

/// Counts bytes written, reports progress, and hashes the part that is the new layer.
struct Out<'w, 'p, 's> {
    w: &'w mut dyn Write,
    written: u64,
    total: u64,
    last: u64,
    hasher: Option<Hasher<'s>>,
    progress: &'p mut ProgressFn<'p>,
}

impl Out<'_, '_, '_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.w.write_all(bytes).map_err(|e| Error::io("writing the output", e))?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(bytes);
        }
        self.written += bytes.len() as u64;
        if self.written - self.last >= PROGRESS_STEP {
            self.last = self.written;
            let p = Progress { phase: "write", bytes_done: self.written, bytes_total: self.total };
            if !(self.progress)(&p) {
                return Err(Error::new(ErrorCode::Cancelled, "cancelled"));
            }
        }
        Ok(())
    }

    fn zeros(&mut self, n: u64) -> Result<()> {
        const Z: [u8; 1024] = [0; 1024];
        let mut left = n;
        while left > 0 {
            let k = left.min(1024) as usize;
            self.put(&Z[..k])?;
            left -= k as u64;
        }
        Ok(())
    }

    /// Copies exactly `n` bytes from `r`.
    fn copy(&mut self, r: &mut dyn Read, n: u64, buf: &mut [u8]) -> Result<()> {
        let mut left = n;
        while left > 0 {
            let k = left.min(buf.len() as u64) as usize;
            let got = read_full(r, &mut buf[..k]).map_err(|e| Error::io("reading the input", e))?;
            if got < k {
                return Err(Error::corrupt("the input ended early while copying (it changed, or is truncated)"));
            }
            self.put(&buf[..k])?;
            left -= k as u64;
        }
        Ok(())
    }

    /// A member of the outer archive: header; the caller writes the data, then `pad`.
    fn member(&mut self, name: &str, size: u64) -> Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).map_err(|e| Error::corrupt(format!("internal: member name {name}: {e}")))?;
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        self.put(h.as_bytes())
    }

    fn pad(&mut self, size: u64) -> Result<()> {
        let p = padded(size).unwrap_or(size) - size;
        self.zeros(p)
    }
}

/// Docker's ChainIDs: a layer's identity with everything below it.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in diff_ids {
        let id = match out.last() {
            None => d.clone(),
            Some(prev) => sha256_digest(format!("{prev} {d}").as_bytes()),
        };
        out.push(id);
    }
    out
}

pub fn write<'s>(job: &Job<'_, 's>, out: &mut dyn Write, progress: &mut ProgressFn) -> Result<Written> {
    let n = job.layers.len();
    let squashing = job.keep < n;
    let tree = build_tree(job.layers, job.keep, &mut |_| {})?;
    let plan = if squashing { tree.plan() } else { Plan::default() };
    drop(tree);
    let lay = layout(job, &plan)?;

    // Member names: kept layers by chain id (as Docker names layer folders), the new one
    // by a digest of what it was made from (its own digest is known only once written).
    let chains = chain_ids(&job.diff_ids[..job.keep]);
    let new_name = {
        let mut h = Sha256::new();
        h.update(b"squash");
        for d in job.diff_ids {
            h.update(d.as_bytes());
        }
        h.update((job.keep as u64).to_le_bytes()); // u64: the same name in wasm32 and natively
        hex::encode(h.finalize())
    };
    let kept_names: Vec<String> = chains.iter().map(|c| format!("{}/layer.tar", hex_of(c))).collect();

    let kept_total: u64 = job.image.layers[..job.keep].iter().map(|l| 512 + padded(l.file.size).unwrap_or(0)).sum();
    let total = kept_total + if squashing { 512 + padded(lay.size).unwrap_or(0) } else { 0 } + 4096;
    let mut o = Out { w: out, written: 0, total, last: 0, hasher: None, progress };
    let mut buf = vec![0u8; COPY_BUF];

    for (i, l) in job.image.layers[..job.keep].iter().enumerate() {
        o.member(&kept_names[i], l.file.size)?;
        let mut r = crate::source::RangeReader::new(&*job.bundle.src, l.file.offset, l.file.size);
        o.copy(&mut r, l.file.size, &mut buf)?;
        o.pad(l.file.size)?;
    }

    let mut new_layer = None;
    if squashing {
        o.member(&format!("{new_name}/layer.tar"), lay.size)?;
        o.hasher = Some(Hasher::start(job.sha256));
        let start = o.written;
        for m in &lay.meta {
            o.put(m)?;
        }
        write_copies(job, &plan, &lay, &mut o, &mut buf)?;
        for l in &lay.links {
            o.put(l)?;
        }
        o.zeros(1024)?;
        let written = o.written - start;
        if written != lay.size {
            return Err(Error::corrupt(format!("internal: squashed layer is {written} bytes, {} planned", lay.size)));
        }
        let digest = o.hasher.take().map(Hasher::finish).ok_or_else(|| Error::corrupt("internal: no hasher"))?;
        o.pad(lay.size)?;
        new_layer = Some((digest, lay.size));
    }

    // The config: every field kept, rootfs and history rewritten.
    let mut config: Map<String, Value> = job.image.config.clone();
    let mut diff_ids: Vec<Value> = job.diff_ids[..job.keep].iter().map(|d| Value::String(d.clone())).collect();
    if let Some((d, _)) = &new_layer {
        diff_ids.push(Value::String(d.clone()));
    }
    let rootfs = config.entry("rootfs").or_insert_with(|| json!({"type": "layers"}));
    if let Some(r) = rootfs.as_object_mut() {
        r.insert("type".into(), Value::String("layers".into()));
        r.insert("diff_ids".into(), Value::Array(diff_ids));
    }
    let history = squashed_history(job.steps, job.keep, &job.from_label, n - job.keep);
    config.insert("history".into(), Value::Array(history));
    let config_bytes =
        serde_json::to_vec(&Value::Object(config)).map_err(|e| Error::corrupt(format!("internal: {e}")))?;
    let image_id = sha256_digest(&config_bytes);
    let config_name = format!("{}.json", hex_of(&image_id));
    o.member(&config_name, config_bytes.len() as u64)?;
    o.put(&config_bytes)?;
    o.pad(config_bytes.len() as u64)?;

    let mut layer_names = kept_names.clone();
    if squashing {
        layer_names.push(format!("{new_name}/layer.tar"));
    }
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": if job.tags.is_empty() { Value::Null } else { json!(job.tags) },
        "Layers": layer_names,
    }]);
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| Error::corrupt(format!("internal: {e}")))?;
    o.member("manifest.json", manifest_bytes.len() as u64)?;
    o.put(&manifest_bytes)?;
    o.pad(manifest_bytes.len() as u64)?;

    if !job.tags.is_empty() {
        // For loaders that still read `repositories`: repo -> tag -> top layer folder.
        let top = layer_names.last().map(|n| n.trim_end_matches("/layer.tar").to_string()).unwrap_or_default();
        let mut repos: Map<String, Value> = Map::new();
        for t in &job.tags {
            if let Some((repo, tag)) = t.rsplit_once(':') {
                let e = repos.entry(repo.to_string()).or_insert_with(|| json!({}));
                if let Some(m) = e.as_object_mut() {
                    m.insert(tag.to_string(), Value::String(top.clone()));
                }
            }
        }
        let bytes = serde_json::to_vec(&Value::Object(repos)).map_err(|e| Error::corrupt(format!("internal: {e}")))?;
        o.member("repositories", bytes.len() as u64)?;
        o.put(&bytes)?;
        o.pad(bytes.len() as u64)?;
    }
    o.zeros(1024)?;
    o.w.flush().map_err(|e| Error::io("writing the output", e))?;
    let p = Progress { phase: "write", bytes_done: o.written, bytes_total: o.written };
    (o.progress)(&p);
    Ok(Written { image_id, new_layer, output_bytes: o.written })
}

/// Copies entries layer by layer, front to back.
fn write_copies(job: &Job<'_, '_>, plan: &Plan, lay: &Layout, o: &mut Out, buf: &mut [u8]) -> Result<()> {
    let mut i = 0;
    while i < plan.copies.len() {
        let layer_no = plan.copies[i].entry.layer;
        let end = plan.copies[i..].iter().position(|c| c.entry.layer != layer_no).map_or(plan.copies.len(), |k| i + k);
        let desc = &job.image.layers[layer_no as usize];
        let layer = &job.layers[layer_no as usize];
        let mut stream = LayerCursor::open(job.bundle, desc, layer.compression)?;
        for k in i..end {
            let c = &plan.copies[k];
            let put = put_of(job.layers, c.entry)?;
            stream.seek(put.seq_start)?;
            let data = padded(put.size).unwrap_or(0);
            match &lay.renamed[k] {
                None => stream.copy_to(o, put.header_len as u64 + data, buf)?,
                Some(h) => {
                    stream.skip(put.header_len as u64)?;
                    o.put(h)?;
                    stream.copy_to(o, data, buf)?;
                }
            }
        }
        i = end;
    }
    Ok(())
}

/// Reads an uncompressed layer stream forward: through a large read-ahead window when the
/// layer is stored uncompressed (skips become seeks), by decoding otherwise.
enum LayerCursor<'a> {
    Direct(std::io::BufReader<crate::source::RangeReader<&'a dyn crate::ReadAt>>, u64),
    Decoded(Box<dyn Read + 'a>, u64),
}

impl<'a> LayerCursor<'a> {
    fn open(bundle: &'a Bundle<'a>, desc: &crate::images::LayerDesc, c: Compression) -> Result<Self> {
        if c == Compression::None {
            let r =
                crate::source::RangeReader::new(&*bundle.src as &dyn crate::ReadAt, desc.file.offset, desc.file.size);
            Ok(LayerCursor::Direct(std::io::BufReader::with_capacity(crate::compression::READ_CHUNK, r), 0))
        } else {
            Ok(LayerCursor::Decoded(open_layer(&*bundle.src, desc, c, Rc::new(Cell::new(0)))?, 0))
        }
    }

    fn pos(&mut self) -> &mut u64 {
        match self {
            LayerCursor::Direct(_, p) | LayerCursor::Decoded(_, p) => p,
        }
    }

    fn seek(&mut self, to: u64) -> Result<()> {
        let pos = *self.pos();
        if to < pos {
            return Err(Error::corrupt("internal: layer read backwards"));
        }
        self.skip(to - pos)
    }

    fn skip(&mut self, n: u64) -> Result<()> {
        match self {
            LayerCursor::Direct(r, p) => {
                let d = i64::try_from(n).map_err(|_| Error::corrupt("absurd offset"))?;
                r.seek_relative(d).map_err(|e| Error::io("reading a layer", e))?;
                *p += n;
            }
            LayerCursor::Decoded(s, p) => {
                let got = std::io::copy(&mut s.by_ref().take(n), &mut std::io::sink())
                    .map_err(|e| Error::io("reading a layer", e))?;
                if got < n {
                    return Err(Error::corrupt("a layer ended early on second reading"));
                }
                *p += n;
            }
        }
        Ok(())
    }

    fn copy_to(&mut self, o: &mut Out, n: u64, buf: &mut [u8]) -> Result<()> {
        match self {
            LayerCursor::Direct(r, p) => {
                o.copy(r, n, buf)?;
                *p += n;
            }
            LayerCursor::Decoded(s, p) => {
                o.copy(s, n, buf)?;
                *p += n;
            }
        }
        Ok(())
    }
}
