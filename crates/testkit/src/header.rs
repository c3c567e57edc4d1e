//! One 512-byte tar header, written field by field. Written by hand (not by a tar library)
//! so that tests can put any value in any field, or break one on purpose after writing.
//! Numbers are encoded as tar-rs encodes them: zero-padded octal ending in a NUL.

/// The size of a tar block; headers are one block, data is padded to whole blocks.
pub const BLOCK: usize = 512;

/// The fields of a header. [`Header::encode`] lays them out; names and link names that do
/// not fit their 100-byte fields belong in PAX or GNU extension members (see `entry.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: Vec<u8>,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: u64,
    pub typeflag: u8,
    pub link: Vec<u8>,
    /// Device numbers; `None` leaves the fields empty, as for anything but devices.
    pub device: Option<(u32, u32)>,
    /// USTAR only: the leading directories of a name split at a slash (at most 155 bytes).
    pub prefix: Vec<u8>,
    /// The GNU magic (`ustar  \0`, as GNU tar and `././@LongLink` members use) instead of
    /// the USTAR one (`ustar\0` `00`).
    pub gnu: bool,
}

impl Header {
    /// A USTAR header: mode 0644, owned by root, mtime 0, no link or device.
    pub fn new(name: &[u8], typeflag: u8, size: u64) -> Header {
        Header {
            name: name.to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            mtime: 0,
            typeflag,
            link: Vec::new(),
            device: None,
            prefix: Vec::new(),
            gnu: false,
        }
    }

    /// The 512 bytes, with a correct checksum. Panics when a value does not fit its field
    /// (a test meaning to write such a header breaks the bytes afterwards).
    pub fn encode(&self) -> [u8; BLOCK] {
        let mut h = [0u8; BLOCK];
        put(&mut h[..100], &self.name, "name");
        octal(&mut h[100..108], u64::from(self.mode));
        octal(&mut h[108..116], self.uid);
        octal(&mut h[116..124], self.gid);
        octal(&mut h[124..136], self.size);
        octal(&mut h[136..148], self.mtime);
        h[156] = self.typeflag;
        put(&mut h[157..257], &self.link, "link name");
        if self.gnu {
            assert!(self.prefix.is_empty(), "GNU headers have no prefix field");
            h[257..265].copy_from_slice(b"ustar  \0");
        } else {
            h[257..265].copy_from_slice(b"ustar\x0000");
            put(&mut h[345..500], &self.prefix, "prefix");
        }
        if let Some((major, minor)) = self.device {
            octal(&mut h[329..337], u64::from(major));
            octal(&mut h[337..345], u64::from(minor));
        }
        set_checksum(&mut h);
        h
    }
}

fn put(field: &mut [u8], value: &[u8], what: &str) {
    assert!(
        value.len() <= field.len(),
        "the {what} ({} bytes) does not fit its {}-byte field",
        value.len(),
        field.len()
    );
    field[..value.len()].copy_from_slice(value);
}

/// Zero-padded octal digits filling all but the field's last byte, which is NUL.
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let digits = format!("{value:0width$o}");
    assert!(digits.len() == width, "{value} does not fit a {}-byte octal field", field.len());
    field[..width].copy_from_slice(digits.as_bytes());
    field[width] = 0;
}

/// Writes the correct checksum into a header (after a test changed a field).
pub fn set_checksum(h: &mut [u8]) {
    h[148..156].fill(b' ');
    let sum: u32 = h[..BLOCK].iter().map(|&b| u32::from(b)).sum();
    octal(&mut h[148..156], u64::from(sum));
}

/// Pads a tar stream with zeros to a whole number of blocks.
pub fn pad_to_block(out: &mut Vec<u8>) {
    out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tar_crate_reads_every_field_back() {
        let mut h = Header::new(b"dev/sda", b'4', 0);
        (h.mode, h.uid, h.gid, h.mtime, h.device) = (0o4755, 1000, 50, 1_600_000_000, Some((8, 1)));
        h.prefix = b"some/where".to_vec();
        let bytes = h.encode();
        let t = tar::Header::from_byte_slice(&bytes);
        assert_eq!(t.path_bytes().as_ref(), b"some/where/dev/sda");
        assert_eq!((t.mode().unwrap(), t.uid().unwrap(), t.gid().unwrap()), (0o4755, 1000, 50));
        assert_eq!((t.mtime().unwrap(), t.entry_type().as_byte()), (1_600_000_000, b'4'));
        assert_eq!((t.device_major().unwrap(), t.device_minor().unwrap()), (Some(8), Some(1)));
        assert!(t.as_ustar().is_some());

        let mut g = Header::new(b"l", b'1', 0);
        (g.link, g.gnu) = (b"target".to_vec(), true);
        let bytes = g.encode();
        let t = tar::Header::from_byte_slice(&bytes);
        assert!(t.as_gnu().is_some());
        assert_eq!(t.link_name_bytes().unwrap().as_ref(), b"target");
    }

    #[test]
    fn the_checksum_is_the_one_tar_readers_compute() {
        let mut bytes = Header::new(b"file", b'0', 12345).encode();
        let t = tar::Header::from_byte_slice(&bytes);
        let by_hand: u32 =
            bytes.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u32::from(b) }).sum();
        assert_eq!(t.cksum().unwrap(), by_hand);
        // A changed field gets a new, correct checksum.
        bytes[0] = b'g';
        set_checksum(&mut bytes);
        let t = tar::Header::from_byte_slice(&bytes);
        assert_eq!(t.cksum().unwrap(), by_hand + u32::from(b'g') - u32::from(b'f'));
    }
}
