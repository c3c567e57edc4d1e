//! Tar headers the squash writes itself: simple ones (the markers of `merge::whiteout`,
//! directories Docker would have made), and entries copied under a new name or pointing
//! to a new target. Copied entries otherwise keep their header bytes exactly as the input
//! had them.

use super::pax::{pax_record, pax_records};
use super::walk::{padded, BLOCK};
use crate::error::{Error, Result};

const NAME_LEN: usize = 100;

fn set_checksum(h: &mut [u8; 512]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    let field = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(field.as_bytes());
}

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let s = format!("{value:0width$o}");
    let bytes = s.as_bytes();
    let start = bytes.len().saturating_sub(width);
    field[..width].copy_from_slice(&bytes[start..]);
    field[width] = 0;
}

/// A GNU long name (`L`) or long link (`K`) member holding `value`.
fn gnu_long(kind: u8, value: &[u8], out: &mut Vec<u8>) {
    let mut h = [0u8; 512];
    h[..13].copy_from_slice(b"././@LongLink");
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], value.len() as u64 + 1);
    octal(&mut h[136..148], 0);
    h[156] = kind;
    h[257..265].copy_from_slice(b"ustar  \0");
    set_checksum(&mut h);
    out.extend_from_slice(&h);
    let start = out.len();
    out.extend_from_slice(value);
    out.push(0);
    out.resize(start + padded(value.len() as u64 + 1).unwrap_or(0) as usize, 0);
}

/// Puts `name` into a header, with a GNU long-name member first when it does not fit.
fn put_name(h: &mut [u8; 512], name: &[u8], dir: bool, out: &mut Vec<u8>) {
    let mut full = name.to_vec();
    if dir && !full.ends_with(b"/") {
        full.push(b'/');
    }
    h[..NAME_LEN].fill(0);
    if full.len() <= NAME_LEN {
        h[..full.len()].copy_from_slice(&full);
    } else {
        gnu_long(b'L', &full, out);
        h[..NAME_LEN].copy_from_slice(&full[..NAME_LEN]);
    }
}

/// A header Docker's own layer writer would produce for a simple entry.
pub fn simple(name: &[u8], typeflag: u8, mode: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut h = [0u8; 512];
    put_name(&mut h, name, typeflag == b'5', &mut out);
    octal(&mut h[100..108], mode as u64);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], 0);
    octal(&mut h[136..148], 0);
    h[156] = typeflag;
    h[257..265].copy_from_slice(b"ustar  \0");
    set_checksum(&mut h);
    out.extend_from_slice(&h);
    out
}

/// A directory made where a layer wrote below a missing one (Docker uses 0755, root).
pub fn implicit_dir(path: &[u8]) -> Vec<u8> {
    simple(path, b'5', 0o755)
}

/// Rewrites a header sequence with a new name and/or link target, keeping every other
/// field and PAX record (xattrs, nanosecond times...) as it was.
pub fn rewrite(raw: &[u8], name: Option<&[u8]>, link: Option<&[u8]>) -> Result<Vec<u8>> {
    // Split the sequence into its PAX records and the entry's own header.
    let mut pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut old_name: Option<Vec<u8>> = None;
    let mut old_link: Option<Vec<u8>> = None;
    let mut pos = 0usize;
    let main: [u8; 512] = loop {
        let block: [u8; 512] = raw
            .get(pos..pos + 512)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::corrupt("internal: short header sequence"))?;
        pos += 512;
        if !matches!(block[156], b'x' | b'X' | b'L' | b'K') {
            break block;
        }
        let size =
            tar::Header::from_byte_slice(&block).entry_size().map_err(|_| Error::corrupt("bad size in tar header"))?;
        let data_end = pos + size as usize;
        let data = raw.get(pos..data_end).ok_or_else(|| Error::corrupt("internal: short header sequence"))?;
        match block[156] {
            b'x' | b'X' => pax.extend(pax_records(data).map(|(k, v)| (k.to_vec(), v.to_vec()))),
            b'L' => old_name = Some(data.split(|&b| b == 0).next().unwrap_or(b"").to_vec()),
            b'K' => old_link = Some(data.split(|&b| b == 0).next().unwrap_or(b"").to_vec()),
            _ => break block,
        }
        pos += padded(size).unwrap_or(0) as usize;
    };
    let mut main = main;
    let typeflag = main[156];
    let new_name: Vec<u8> = match name {
        Some(n) => n.to_vec(),
        None => pax
            .iter()
            .rev()
            .find(|(k, _)| k == b"path")
            .map(|(_, v)| v.clone())
            .or(old_name)
            .unwrap_or_else(|| tar::Header::from_byte_slice(&main).path_bytes().into_owned()),
    };
    let new_link: Option<Vec<u8>> = match link {
        Some(l) => Some(l.to_vec()),
        None => pax
            .iter()
            .rev()
            .find(|(k, _)| k == b"linkpath")
            .map(|(_, v)| v.clone())
            .or(old_link)
            .or_else(|| tar::Header::from_byte_slice(&main).link_name_bytes().map(|l| l.into_owned())),
    };
    pax.retain(|(k, _)| k != b"path" && k != b"linkpath");

    let mut out = Vec::new();
    if !pax.is_empty() {
        let mut data = Vec::new();
        for (k, v) in &pax {
            data.extend_from_slice(&pax_record(k, v));
        }
        let mut h = [0u8; 512];
        h[..14].copy_from_slice(b"././@PaxHeader");
        octal(&mut h[100..108], 0o644);
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], data.len() as u64);
        octal(&mut h[136..148], 0);
        h[156] = b'x';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        set_checksum(&mut h);
        out.extend_from_slice(&h);
        let start = out.len();
        out.extend_from_slice(&data);
        out.resize(start + padded(data.len() as u64).unwrap_or(0) as usize, 0);
    }
    // POSIX ustar headers split long names into prefix/name: the prefix must go.
    if &main[257..263] == b"ustar\0" {
        main[345..500].fill(0);
    }
    if let Some(l) = &new_link {
        main[157..257].fill(0);
        if l.len() <= NAME_LEN {
            main[157..157 + l.len()].copy_from_slice(l);
        } else {
            gnu_long(b'K', l, &mut out);
            main[157..257].copy_from_slice(&l[..NAME_LEN]);
        }
    }
    put_name(&mut main, &new_name, typeflag == b'5', &mut out);
    set_checksum(&mut main);
    out.extend_from_slice(&main);
    debug_assert!(out.len() as u64 % BLOCK == 0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_get_a_gnu_long_name_member() {
        let name = vec![b'n'; 300];
        let h = simple(&name, b'0', 0o644);
        assert_eq!(h.len(), 512 * 3);
        assert_eq!(h[156], b'L');
    }
}
