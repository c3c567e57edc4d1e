//! The OCI image layout as one tar: written member by member for a pull (a blob streamed
//! in, and cut off again if its download fails midway), and indexed by offset for a push.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::files::{read_exact_at, Cursor, ReadAt, TarOut};

const BLOCK: u64 = 512;
/// The layout's version file, as the spec gives it.
pub(crate) const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// The annotations index.json names a pulled image (or index) by: the tag as
/// `org.opencontainers.image.ref.name`, the full reference as `io.containerd.image.name`.
pub(crate) fn name_annotations(r: &crate::reference::Reference) -> serde_json::Map<String, serde_json::Value> {
    let mut annotations = serde_json::Map::new();
    if let Some(t) = r.tag() {
        annotations.insert("org.opencontainers.image.ref.name".into(), t.into());
    }
    annotations.insert("io.containerd.image.name".into(), r.to_string().into());
    annotations
}

/// `blobs/sha256/<hex>` for `sha256:<hex>`.
pub(crate) fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

/// Writes a tar from the file's current position.
pub(crate) struct TarWriter<'f> {
    file: &'f mut dyn TarOut,
    /// Where the next member's header goes.
    pos: u64,
}

fn header(path: &str, size: u64, dir: bool) -> Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path).map_err(|e| Error::io(&format!("tar header for {path}"), &e))?;
    h.set_size(size);
    h.set_mode(if dir { 0o755 } else { 0o644 });
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(if dir { tar::EntryType::Directory } else { tar::EntryType::Regular });
    h.set_cksum();
    Ok(h)
}

impl<'f> TarWriter<'f> {
    /// A tar starting where `file` is now.
    pub(crate) fn new(file: &'f mut dyn TarOut) -> Result<TarWriter<'f>> {
        let pos = file.position().map_err(|e| Error::io("the output file", &e))?;
        Ok(TarWriter { file, pos })
    }

    /// Where the next member starts (to come back to with [`rewind`](Self::rewind)).
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file.write_all(bytes).map_err(|e| Error::io("writing the output file", &e))
    }

    /// A directory member.
    pub(crate) fn dir(&mut self, path: &str) -> Result<()> {
        let h = header(path, 0, true)?;
        self.write(h.as_bytes())?;
        self.pos += BLOCK;
        Ok(())
    }

    /// A member held in memory.
    pub(crate) fn small(&mut self, path: &str, data: &[u8]) -> Result<()> {
        self.begin(path, data.len() as u64)?;
        self.write(data)?;
        self.end_member(data.len() as u64)
    }

    /// A member's header; its `size` bytes follow through [`body`](Self::body).
    pub(crate) fn begin(&mut self, path: &str, size: u64) -> Result<()> {
        let h = header(path, size, false)?;
        self.write(h.as_bytes())
    }

    /// Part of the member's content.
    pub(crate) fn body(&mut self, bytes: &[u8]) -> Result<()> {
        self.write(bytes)
    }

    /// Pads the member of `size` bytes to its block and moves past it.
    pub(crate) fn end_member(&mut self, size: u64) -> Result<()> {
        let pad = (BLOCK - size % BLOCK) % BLOCK;
        self.write(&vec![0u8; pad as usize])?;
        self.pos += BLOCK + size + pad;
        Ok(())
    }

    /// Cuts the tar back to `pos` (a member's start): a blob whose download failed is
    /// written again from its header.
    pub(crate) fn rewind(&mut self, pos: u64) -> Result<()> {
        self.file.truncate(pos).map_err(|e| Error::io("truncating the output file", &e))?;
        self.pos = pos;
        Ok(())
    }

    /// The two zero blocks that end a tar.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.write(&[0u8; 2 * BLOCK as usize])?;
        self.file.flush().map_err(|e| Error::io("writing the output file", &e))
    }
}

/// A regular member of an archive: where its bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) offset: u64,
    pub(crate) size: u64,
}

/// The regular members of a tar by name (`./` stripped); the last of a name wins, as
/// extracting would leave it.
pub(crate) fn index(file: &dyn ReadAt) -> Result<HashMap<String, Member>> {
    let bad = |e: std::io::Error| Error::usage(format!("the archive is not a tar: {e}"));
    let mut archive = tar::Archive::new(Cursor { source: file, pos: 0 });
    let mut members = HashMap::new();
    for entry in archive.entries_with_seek().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        if !matches!(entry.header().entry_type(), tar::EntryType::Regular | tar::EntryType::Continuous) {
            continue;
        }
        let path = entry.path().map_err(bad)?;
        let name = path.to_string_lossy();
        let name = name.strip_prefix("./").unwrap_or(&name).to_string();
        members.insert(name, Member { offset: entry.raw_file_position(), size: entry.size() });
    }
    Ok(members)
}

/// A small member's bytes (a JSON document), at most `limit`.
pub(crate) fn read_member(file: &dyn ReadAt, name: &str, m: Member, limit: u64) -> Result<Vec<u8>> {
    if m.size > limit {
        return Err(Error::usage(format!("{name} in the archive is {} bytes, more than {limit}", m.size)));
    }
    let mut buf = vec![0u8; m.size as usize];
    read_exact_at(file, &mut buf, m.offset).map_err(|e| Error::io(&format!("reading {name} from the archive"), &e))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::{Read, Write};

    fn temp(name: &str) -> (std::path::PathBuf, File) {
        let p = std::env::temp_dir().join(format!("squash-registry-{name}-{}", std::process::id()));
        let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&p).unwrap();
        (p, f)
    }

    #[test]
    fn write_rewind_and_index() {
        let (path, mut f) = temp("layout");
        Write::write_all(&mut f, b"prefix").unwrap(); // the tar starts at the file's position
        {
            let mut w = TarWriter::new(&mut f).unwrap();
            w.small("oci-layout", OCI_LAYOUT).unwrap();
            w.dir("blobs/").unwrap();
            let start = w.position();
            w.begin("blobs/sha256/aa", 1000).unwrap();
            w.body(&[1u8; 300]).unwrap(); // a download that fails midway
            w.rewind(start).unwrap();
            w.begin("blobs/sha256/aa", 5).unwrap();
            w.body(b"hello").unwrap();
            w.end_member(5).unwrap();
            w.finish().unwrap();
        }
        let mut all = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut all).unwrap();
        assert_eq!(&all[..6], b"prefix");
        let tar_bytes = &all[6..];
        assert_eq!(tar_bytes.len(), 512 * 7); // layout (2), dir (1), blob (2), end (2)
        let mut names = Vec::new();
        for e in tar::Archive::new(tar_bytes).entries().unwrap() {
            let mut e = e.unwrap();
            let mut s = Vec::new();
            e.read_to_end(&mut s).unwrap();
            names.push((e.path().unwrap().display().to_string(), s));
        }
        assert_eq!(names[0], ("oci-layout".into(), OCI_LAYOUT.to_vec()));
        assert_eq!(names[2], ("blobs/sha256/aa".into(), b"hello".to_vec()));

        std::fs::write(&path, tar_bytes).unwrap();
        let f = File::open(&path).unwrap();
        let idx = index(&f).unwrap();
        assert_eq!(idx.len(), 2);
        let m = idx["blobs/sha256/aa"];
        assert_eq!(read_member(&f, "x", m, 10).unwrap(), b"hello");
        assert_eq!(read_member(&f, "x", m, 4).unwrap_err().kind, crate::ErrorKind::Usage);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn not_a_tar() {
        let (path, mut f) = temp("garbage");
        Write::write_all(&mut f, &[7u8; 1024]).unwrap();
        assert_eq!(index(&f).unwrap_err().kind, crate::ErrorKind::Usage);
        let _ = std::fs::remove_file(path);
    }
}
