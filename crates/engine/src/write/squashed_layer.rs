//! The squashed layer's bytes: laid out from the plan before a byte is written (so its
//! size, which the outer tar header needs first, is known and nothing is buffered), then
//! streamed: metadata headers, entries copied layer by layer from the input, hardlinks.

use std::cell::Cell;
use std::io::{BufReader, Read};
use std::rc::Rc;

use super::output::Sink;
use super::Job;
use crate::error::{Error, Result};
use crate::merge::plan::{MetaItem, Plan};
use crate::merge::tree::EntryRef;
use crate::merge::whiteout::{opaque_header, whiteout_header};
use crate::read::compression::{Compression, READ_CHUNK};
use crate::read::entry::{Op, Put};
use crate::read::layer::{open_layer, LayerIndex};
use crate::read::manifests::LayerDesc;
use crate::read::members::Members;
use crate::source::{read_exact_at, RangeReader, ReadAt};
use crate::tar::header;
use crate::tar::walk::{padded, read_full};

fn put_of(layers: &[LayerIndex], e: EntryRef) -> Result<&Put> {
    match layers.get(e.layer as usize).and_then(|l| l.entries.get(e.idx as usize)).map(|x| &x.op) {
        Some(Op::Put(p)) => Ok(p),
        _ => Err(Error::corrupt("internal: plan names an entry that is not a file")),
    }
}

/// The bytes of the squashed layer, laid out before writing.
pub(super) struct Layout {
    meta: Vec<Vec<u8>>,
    /// Rewritten headers for renamed copies, by position in `plan.copies`.
    renamed: Vec<Option<Vec<u8>>>,
    links: Vec<Vec<u8>>,
    pub(super) size: u64,
}

pub(super) fn layout(job: &Job<'_, '_>, plan: &Plan) -> Result<Layout> {
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
            MetaItem::Whiteout { path } => whiteout_header(path),
            MetaItem::Opaque { dir } => opaque_header(dir),
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
fn read_header_seq(job: &Job<'_, '_>, e: EntryRef, put: &Put) -> Result<Vec<u8>> {
    let desc = &job.image.layers[e.layer as usize];
    let layer = &job.layers[e.layer as usize];
    let mut buf = vec![0u8; put.header_len as usize];
    if layer.compression == Compression::None {
        read_exact_at(&*job.members.src, desc.file.offset + put.seq_start, &mut buf)
            .map_err(|e| Error::io("reading a layer", e))?;
    } else {
        let mut r = open_layer(&*job.members.src, desc, layer.compression, Rc::new(Cell::new(0)))?;
        std::io::copy(&mut r.by_ref().take(put.seq_start), &mut std::io::sink())
            .map_err(|e| Error::io("reading a layer", e))?;
        if read_full(&mut r, &mut buf).map_err(|e| Error::io("reading a layer", e))? < buf.len() {
            return Err(Error::corrupt("a layer ended early on second reading"));
        }
    }
    Ok(buf)
}

/// Streams the new layer's `lay.size` bytes into `o`.
pub(super) fn write(job: &Job<'_, '_>, plan: &Plan, lay: &Layout, o: &mut dyn Sink, buf: &mut [u8]) -> Result<()> {
    let mut o = Counting { inner: o, n: 0 };
    for m in &lay.meta {
        o.put(m)?;
    }
    write_copies(job, plan, lay, &mut o, buf)?;
    for l in &lay.links {
        o.put(l)?;
    }
    o.zeros(1024)?;
    if o.n != lay.size {
        return Err(Error::corrupt(format!("internal: squashed layer is {} bytes, {} planned", o.n, lay.size)));
    }
    Ok(())
}

/// Counts what passes through, to check it against the layout.
struct Counting<'a> {
    inner: &'a mut dyn Sink,
    n: u64,
}

impl Sink for Counting<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.n += bytes.len() as u64;
        self.inner.put(bytes)
    }
}

/// Copies entries layer by layer, front to back.
fn write_copies(job: &Job<'_, '_>, plan: &Plan, lay: &Layout, o: &mut dyn Sink, buf: &mut [u8]) -> Result<()> {
    let mut i = 0;
    while i < plan.copies.len() {
        let layer_no = plan.copies[i].entry.layer;
        let end = plan.copies[i..].iter().position(|c| c.entry.layer != layer_no).map_or(plan.copies.len(), |k| i + k);
        let desc = &job.image.layers[layer_no as usize];
        let layer = &job.layers[layer_no as usize];
        let mut stream = LayerCursor::open(job.members, desc, layer.compression)?;
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
    Direct(BufReader<RangeReader<&'a dyn ReadAt>>, u64),
    Decoded(Box<dyn Read + 'a>, u64),
}

impl<'a> LayerCursor<'a> {
    fn open(members: &'a Members<'a>, desc: &LayerDesc, c: Compression) -> Result<Self> {
        if c == Compression::None {
            let r = RangeReader::new(&*members.src as &dyn ReadAt, desc.file.offset, desc.file.size);
            Ok(LayerCursor::Direct(BufReader::with_capacity(READ_CHUNK, r), 0))
        } else {
            Ok(LayerCursor::Decoded(open_layer(&*members.src, desc, c, Rc::new(Cell::new(0)))?, 0))
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

    fn copy_to(&mut self, o: &mut dyn Sink, n: u64, buf: &mut [u8]) -> Result<()> {
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
