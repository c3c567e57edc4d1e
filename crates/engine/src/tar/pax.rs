//! PAX extended-header records (POSIX.1-2001), read by the walker and written by the
//! header rewriter: one place for the "<len> <key>=<value>\n" format.

use crate::error::{Error, Result};

/// Checks that PAX records are well formed: "<len> <key>=<value>\n" with exact lengths,
/// and nothing else: Go's reader (Docker's, containerd's) refuses a PAX header with any
/// other byte, NUL padding included, so a layer with one would not load.
pub(crate) fn check_pax(data: &[u8]) -> Result<()> {
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ').ok_or_else(|| Error::corrupt("a PAX record has no length"))?;
        let len = parse_decimal(&rest[..sp]).ok_or_else(|| Error::corrupt("a PAX record length is not a number"))?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' || !rest[sp + 1..len - 1].contains(&b'=') {
            return Err(Error::corrupt("a PAX record has a wrong length"));
        }
        rest = &rest[len..];
    }
    Ok(())
}

/// The last value of `key` in PAX records (later records win).
pub fn pax_value<'a>(data: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut found = None;
    for (k, v) in pax_records(data) {
        if k == key {
            found = Some(v);
        }
    }
    found
}

/// Iterates well-formed PAX records as (key, value).
pub fn pax_records(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let sp = rest.iter().position(|&b| b == b' ')?;
        let len = usize::try_from(parse_decimal(&rest[..sp])?).ok()?;
        if len <= sp + 1 || len > rest.len() {
            return None;
        }
        let rec = &rest[sp + 1..len - 1];
        rest = &rest[len..];
        let eq = rec.iter().position(|&b| b == b'=')?;
        Some((&rec[..eq], &rec[eq + 1..]))
    })
}

pub(crate) fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// One PAX record, "<len> <key>=<value>\n", its length counting its own digits.
pub(crate) fn pax_record(k: &[u8], v: &[u8]) -> Vec<u8> {
    let body = k.len() + v.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut r = format!("{len} ").into_bytes();
    r.extend_from_slice(k);
    r.push(b'=');
    r.extend_from_slice(v);
    r.push(b'\n');
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_data_is_records_and_nothing_else_as_gos_reader_wants() {
        assert!(check_pax(b"9 path=x\n").is_ok());
        assert!(check_pax(b"").is_ok());
        assert!(check_pax(&[0; 13]).is_err(), "NULs alone");
        assert!(check_pax(b"9 path=x\n\0\0\0").is_err(), "NUL padding after a record");
        assert!(check_pax(b"9 path=x").is_err(), "no newline");
        assert!(check_pax(b"8 path=x\n").is_err(), "a wrong length");
    }

    #[test]
    fn pax_record_lengths_count_their_own_digits() {
        let r = pax_record(b"path", b"x");
        assert_eq!(r, b"9 path=x\n");
        let long = vec![b'a'; 95];
        let r = pax_record(b"path", &long);
        assert_eq!(r.len().to_string().as_bytes(), &r[..r.iter().position(|&b| b == b' ').unwrap()]);
    }
}
