//! The outer archive: the tar that `docker save` (or podman, skopeo...) wrote, indexed
//! by name so that manifests, configs and layers can be found and read by offset.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::error::{Error, ErrorCode, Result};
use crate::path;
use crate::read::compression::{Compression, DecodedSource};
use crate::source::{read_exact_at, ReadAt};
use crate::tar::walk::{AtStream, Walker};

/// Small members (JSON) are kept in memory so a compressed archive is not decoded again
/// to read them.
const CACHE_MEMBER_MAX: u64 = 1 << 20;
const CACHE_TOTAL_MAX: u64 = 64 << 20;
/// Symlink chains longer than this are loops.
const MAX_LINK_HOPS: usize = 16;

#[derive(Debug, Clone)]
enum Member {
    File {
        offset: u64,
        size: u64,
        cached: Option<Rc<[u8]>>,
    },
    /// Symlink (target relative to the member's folder) or hardlink (target from the root).
    Link {
        target: Vec<u8>,
    },
}

/// A file inside the archive: where its bytes are.
#[derive(Debug, Clone)]
pub struct FileRef {
    pub name: String,
    pub offset: u64,
    pub size: u64,
    cached: Option<Rc<[u8]>>,
}

pub struct Members<'s> {
    pub src: Rc<dyn ReadAt + 's>,
    pub compression: Compression,
    members: BTreeMap<Vec<u8>, Member>,
}

impl<'s> Members<'s> {
    pub fn open(raw: Box<dyn ReadAt + 's>) -> Result<Members<'s>> {
        if raw.size() == 0 {
            return Err(Error::new(
                ErrorCode::NotAnImage,
                "the input is empty: expected a tar archive written by `docker save`",
            ));
        }
        let raw: Rc<dyn ReadAt + 's> = Rc::from(raw);
        let compression = Compression::sniff(&*raw, 0, raw.size()).map_err(|e| Error::io("reading the input", e))?;
        let src: Rc<dyn ReadAt + 's> = match compression {
            Compression::None => raw,
            c => Rc::new(DecodedSource::new(raw, c).map_err(|e| {
                match e.get_ref().and_then(|r| r.downcast_ref::<Error>()) {
                    Some(inner) => inner.clone(),
                    None => Error::corrupt(format!(
                        "the archive is {}-compressed but cannot be decompressed: {e}",
                        c.name()
                    )),
                }
            })?),
        };
        let members = index(&*src)?;
        Ok(Members { src, compression, members })
    }

    /// Whether a member (file or link, even a broken one) has this name: a broken link is
    /// then reported by `lookup` as such, not as a missing file.
    pub fn has(&self, name: &str) -> bool {
        normalize(name.as_bytes()).is_some_and(|k| self.members.contains_key(&k))
    }

    /// Finds a member by name, following symlinks and hardlinks inside the archive
    /// (`docker save` links duplicate layers to one copy).
    pub fn lookup(&self, name: &str) -> Result<FileRef> {
        let mut key = normalize(name.as_bytes())
            .ok_or_else(|| Error::corrupt(format!("the manifest names a file outside the archive: {name}")))?;
        for _ in 0..MAX_LINK_HOPS {
            match self.members.get(&key) {
                Some(Member::File { offset, size, cached }) => {
                    return Ok(FileRef { name: name.to_string(), offset: *offset, size: *size, cached: cached.clone() })
                }
                Some(Member::Link { target }) => key = target.clone(),
                None => {
                    return Err(Error::new(
                        ErrorCode::Corrupt,
                        format!("the archive lacks `{name}`, which its manifest names (incomplete or damaged archive)"),
                    ))
                }
            }
        }
        Err(Error::corrupt(format!("`{name}` is a link loop inside the archive")))
    }

    /// Reads a whole member, up to `max` bytes.
    pub fn read(&self, name: &str, max: u64) -> Result<Rc<[u8]>> {
        let f = self.lookup(name)?;
        self.read_ref(&f, max)
    }

    pub fn read_ref(&self, f: &FileRef, max: u64) -> Result<Rc<[u8]>> {
        if let Some(c) = &f.cached {
            return Ok(c.clone());
        }
        if f.size > max {
            return Err(Error::new(
                ErrorCode::TooLarge,
                format!("`{}` is {} bytes, larger than any real one ({max})", f.name, f.size),
            ));
        }
        let mut buf = vec![0u8; f.size as usize];
        read_exact_at(&*self.src, f.offset, &mut buf)
            .map_err(|e| Error::corrupt(format!("cannot read `{}`: {e}", f.name)))?;
        Ok(Rc::from(buf))
    }

    /// Member names (files and links), for format detection and messages.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.members.keys().map(|k| path::show(k))
    }
}

fn normalize(name: &[u8]) -> Option<Vec<u8>> {
    path::clean(name).map(|p| path::join(&p))
}

fn index(src: &dyn ReadAt) -> Result<BTreeMap<Vec<u8>, Member>> {
    let mut walker = Walker::new(AtStream { src, pos: 0 }, 0);
    let mut members = BTreeMap::new();
    let mut cached_total = 0u64;
    let mut count = 0u64;
    loop {
        let entry = match walker.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) if count == 0 && e.code == ErrorCode::Corrupt => {
                return Err(Error::new(
                    ErrorCode::NotAnImage,
                    format!("the input is not a tar archive ({e}); expected what `docker save` writes"),
                ))
            }
            Err(e) => return Err(e.context("reading the archive")),
        };
        count += 1;
        let Some(name) = normalize(&entry.path) else { continue };
        match entry.typeflag {
            b'0' | b'\0' | b'7' => {
                if entry.data_start.saturating_add(entry.size) > src.size() {
                    return Err(Error::corrupt(format!(
                        "the archive is truncated: `{}` should have {} bytes",
                        path::show(&name),
                        entry.size
                    )));
                }
                let cached = if entry.size <= CACHE_MEMBER_MAX && cached_total + entry.size <= CACHE_TOTAL_MAX {
                    cached_total += entry.size;
                    Some(Rc::from(walker.read_data(&entry, CACHE_MEMBER_MAX)?))
                } else {
                    None
                };
                members.insert(name, Member::File { offset: entry.data_start, size: entry.size, cached });
            }
            b'2' => {
                let link = entry.link.clone().unwrap_or_default();
                let mut target = name.clone();
                // Relative to the symlink's folder; absolute means from the archive root.
                if link.first() == Some(&b'/') {
                    target = link;
                } else {
                    match target.iter().rposition(|&b| b == b'/') {
                        Some(i) => target.truncate(i + 1),
                        None => target.clear(),
                    }
                    target.extend_from_slice(&link);
                }
                if let Some(t) = normalize(&target) {
                    members.insert(name, Member::Link { target: t });
                }
            }
            b'1' => {
                if let Some(t) = entry.link.as_deref().and_then(normalize) {
                    members.insert(name, Member::Link { target: t });
                }
            }
            _ => {}
        }
    }
    if count == 0 {
        return Err(Error::new(ErrorCode::NotAnImage, "the input is an empty tar archive, not an image"));
    }
    Ok(members)
}
