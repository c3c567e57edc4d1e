//! Tar entries (of layers and of whole archives) and the tar streams made of them: names too
//! long for the header written in each writer's style, xattrs as PAX records, and raw PAX
//! records that tests may write malformed on purpose.

use crate::header::{pad_to_block, Header, BLOCK};

/// The mtime entries get unless a test sets one.
pub const MTIME: u64 = 1_600_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EKind {
    File(Vec<u8>),
    Dir,
    Symlink(Vec<u8>),
    Hardlink(Vec<u8>),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

/// How names that do not fit the 100-byte header field are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As Go's archive/tar (Docker): USTAR with prefix/name when it fits, PAX otherwise.
    Go,
    /// GNU headers with `././@LongLink` members (L for names, K for link targets).
    Gnu,
    /// USTAR headers with PAX `path` / `linkpath` records for anything over 100 bytes.
    Pax,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: EKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    pub style: Style,
    /// PAX records written as given, before the ones the entry needs (see [`pax_record`]).
    pub pax: Vec<u8>,
}

fn entry(path: impl AsRef<[u8]>, kind: EKind, mode: u32) -> Entry {
    Entry {
        path: path.as_ref().to_vec(),
        kind,
        mode,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        xattrs: Vec::new(),
        style: Style::Go,
        pax: Vec::new(),
    }
}

pub fn file(path: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::File(data.as_ref().to_vec()), 0o644)
}
pub fn dir(path: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::Dir, 0o755)
}
pub fn symlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::Symlink(target.as_ref().to_vec()), 0o777)
}
/// A hardlink: give it the target's metadata, as tar writers do (same inode).
pub fn hardlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::Hardlink(target.as_ref().to_vec()), 0o644)
}
pub fn chardev(path: impl AsRef<[u8]>, major: u32, minor: u32) -> Entry {
    entry(path, EKind::Char(major, minor), 0o666)
}
pub fn blockdev(path: impl AsRef<[u8]>, major: u32, minor: u32) -> Entry {
    entry(path, EKind::Block(major, minor), 0o660)
}
pub fn fifo(path: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::Fifo, 0o644)
}
/// `<dir>/.wh.<name>`: deletes `path`.
pub fn whiteout(path: impl AsRef<[u8]>) -> Entry {
    let p = path.as_ref();
    let (d, n) = match p.iter().rposition(|&b| b == b'/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => (&b""[..], p),
    };
    let mut name = d.to_vec();
    name.extend_from_slice(b".wh.");
    name.extend_from_slice(n);
    file(name, b"").mode(0)
}
/// `<dir>/.wh..wh..opq`.
pub fn opaque(d: impl AsRef<[u8]>) -> Entry {
    let mut name = d.as_ref().to_vec();
    if !name.is_empty() {
        name.push(b'/');
    }
    name.extend_from_slice(b".wh..wh..opq");
    file(name, b"").mode(0)
}

impl Entry {
    pub fn mode(mut self, m: u32) -> Self {
        self.mode = m;
        self
    }
    pub fn owner(mut self, uid: u64, gid: u64) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }
    pub fn mtime(mut self, t: u64) -> Self {
        self.mtime = t;
        self
    }
    pub fn xattr(mut self, k: &str, v: impl AsRef<[u8]>) -> Self {
        self.xattrs.push((k.as_bytes().to_vec(), v.as_ref().to_vec()));
        self
    }
    pub fn style(mut self, s: Style) -> Self {
        self.style = s;
        self
    }
    /// Adds raw PAX records (well-formed from [`pax_record`], or broken on purpose).
    pub fn pax(mut self, records: impl AsRef<[u8]>) -> Self {
        self.pax.extend_from_slice(records.as_ref());
        self
    }
}

/// A PAX record, `<len> <key>=<value>\n`, whose length counts its own digits.
pub fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut r = format!("{len} ").into_bytes();
    r.extend_from_slice(key);
    r.push(b'=');
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

/// A `././@PaxHeader` (USTAR) or `././@LongLink` (GNU) member holding `data`.
fn ext_member(out: &mut Vec<u8>, typeflag: u8, data: &[u8], gnu: bool) {
    let name: &[u8] = if gnu { b"././@LongLink" } else { b"././@PaxHeader" };
    let mut h = Header::new(name, typeflag, data.len() as u64);
    h.gnu = gnu;
    out.extend_from_slice(&h.encode());
    out.extend_from_slice(data);
    pad_to_block(out);
}

/// Appends one entry (with its PAX / GNU extension members) to a tar stream.
pub fn write_entry(out: &mut Vec<u8>, e: &Entry) {
    let mut name = e.path.clone();
    if e.kind == EKind::Dir && !name.ends_with(b"/") {
        name.push(b'/');
    }
    let gnu = e.style == Style::Gnu;
    let mut pax = e.pax.clone();
    for (k, v) in &e.xattrs {
        let mut key = b"SCHILY.xattr.".to_vec();
        key.extend_from_slice(k);
        pax.extend(pax_record(&key, v));
    }
    // The name.
    let mut main_name = name.clone();
    let mut prefix: Vec<u8> = Vec::new();
    if name.len() > 100 {
        match e.style {
            Style::Gnu => {
                let mut d = name.clone();
                d.push(0);
                ext_member(out, b'L', &d, true);
                main_name.truncate(100);
            }
            Style::Pax => {
                pax.extend(pax_record(b"path", &name));
                main_name.truncate(100);
            }
            Style::Go => {
                // USTAR split: prefix (<=155) '/' name (<=100), splitting at a slash.
                let split = (0..name.len())
                    .rev()
                    .find(|&i| name[i] == b'/' && i <= 155 && name.len() - i - 1 <= 100 && name.len() - i - 1 > 0);
                match split {
                    Some(i) => {
                        prefix = name[..i].to_vec();
                        main_name = name[i + 1..].to_vec();
                    }
                    None => {
                        pax.extend(pax_record(b"path", &name));
                        main_name.truncate(100);
                    }
                }
            }
        }
    }
    let mut link = match &e.kind {
        EKind::Symlink(t) | EKind::Hardlink(t) => t.clone(),
        _ => Vec::new(),
    };
    if link.len() > 100 {
        if gnu {
            let mut d = link.clone();
            d.push(0);
            ext_member(out, b'K', &d, true);
        } else {
            pax.extend(pax_record(b"linkpath", &link));
        }
        link.truncate(100);
    }
    if !pax.is_empty() {
        ext_member(out, b'x', &pax, false);
    }
    let (typeflag, data): (u8, &[u8]) = match &e.kind {
        EKind::File(d) => (b'0', d),
        EKind::Dir => (b'5', b""),
        EKind::Symlink(_) => (b'2', b""),
        EKind::Hardlink(_) => (b'1', b""),
        EKind::Char(..) => (b'3', b""),
        EKind::Block(..) => (b'4', b""),
        EKind::Fifo => (b'6', b""),
    };
    let mut h = Header::new(&main_name, typeflag, data.len() as u64);
    (h.mode, h.uid, h.gid, h.mtime) = (e.mode, e.uid, e.gid, e.mtime);
    (h.link, h.prefix, h.gnu) = (link, prefix, gnu);
    if let EKind::Char(ma, mi) | EKind::Block(ma, mi) = e.kind {
        h.device = Some((ma, mi));
    }
    out.extend_from_slice(&h.encode());
    out.extend_from_slice(data);
    pad_to_block(out);
}

/// A tar stream of these entries, ended by the two zero blocks.
pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut out = tar_without_end(entries);
    out.extend_from_slice(&[0u8; 2 * BLOCK]);
    out
}

/// A tar stream without the end-of-archive blocks (Go's reader accepts a clean end).
pub fn tar_without_end(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        write_entry(&mut out, e);
    }
    out
}

/// A PAX global header member (`g`), as `git archive` writes first.
pub fn global_pax(records: &[(&str, &str)]) -> Vec<u8> {
    let data: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k.as_bytes(), v.as_bytes())).collect();
    let mut out = Vec::new();
    ext_member(&mut out, b'g', &data, false);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// One entry as the tar crate reads it back.
    struct Back {
        path: Vec<u8>,
        link: Option<Vec<u8>>,
        pax: Vec<(Vec<u8>, Vec<u8>)>,
        data: Vec<u8>,
    }

    fn read_back(t: &[u8]) -> Vec<Back> {
        let mut a = tar::Archive::new(t);
        let mut out = Vec::new();
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let link = e.link_name_bytes().map(|l| l.into_owned());
            let mut pax = Vec::new();
            if let Some(p) = e.pax_extensions().unwrap() {
                for r in p {
                    let r = r.unwrap();
                    pax.push((r.key_bytes().to_vec(), r.value_bytes().to_vec()));
                }
            }
            let path = e.path_bytes().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.push(Back { path, link, pax, data });
        }
        out
    }

    #[test]
    fn long_names_and_link_names_read_back_whole_in_every_style() {
        let split = format!("{}/{}", "a".repeat(150), "b".repeat(90)); // USTAR prefix/name
        let one = "c".repeat(200); // one component: PAX or GNU only
        let target = "t".repeat(150);
        for style in [Style::Go, Style::Gnu, Style::Pax] {
            let t = tar(&[
                file(&split, "s").style(style),
                file(&one, "o").style(style).xattr("user.k", "v"),
                symlink("l", &target).style(style),
            ]);
            let got = read_back(&t);
            assert_eq!(got[0].path, split.as_bytes(), "{style:?}");
            assert_eq!((got[1].path.as_slice(), got[1].data.as_slice()), (one.as_bytes(), &b"o"[..]), "{style:?}");
            assert!(got[1].pax.contains(&(b"SCHILY.xattr.user.k".to_vec(), b"v".to_vec())), "{style:?}");
            assert_eq!(got[2].link.as_deref(), Some(target.as_bytes()), "{style:?}");
        }
    }

    #[test]
    fn pax_record_lengths_count_themselves() {
        for n in [0, 1, 5, 6, 7, 90, 95, 96, 997, 1000] {
            let r = pax_record(b"path", &vec![b'x'; n]);
            let (len, _) = std::str::from_utf8(&r).unwrap().split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), r.len(), "{n}");
        }
    }
}
