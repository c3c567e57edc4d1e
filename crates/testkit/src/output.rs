//! Reading tar streams back with the tar crate: the archive the engine wrote (manifest,
//! config, layers) and the entries of a layer.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Map, Value};

use crate::compress::decompress;
use crate::path::clean_path;

/// The members of a tar stream, in order: name and content.
pub fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    out
}

/// A written docker-save archive, read back.
#[derive(Debug)]
pub struct Output {
    pub members: BTreeMap<String, Vec<u8>>,
    /// Member names in writing order.
    pub order: Vec<String>,
    pub manifest: Value,
    pub config_name: String,
    pub config_bytes: Vec<u8>,
    pub config: Map<String, Value>,
    /// Layer members in manifest order, as stored.
    pub layers: Vec<Vec<u8>>,
}

pub fn read_output(bytes: &[u8]) -> Output {
    let all = members(bytes);
    let order = all.iter().map(|(n, _)| n.clone()).collect();
    let members: BTreeMap<String, Vec<u8>> = all.into_iter().collect();
    let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let m = &manifest.as_array().unwrap()[0];
    let config_name = m["Config"].as_str().unwrap().to_string();
    let config_bytes = members[&config_name].clone();
    let config = serde_json::from_slice::<Value>(&config_bytes).unwrap().as_object().unwrap().clone();
    let layers = m["Layers"].as_array().unwrap().iter().map(|l| members[l.as_str().unwrap()].clone()).collect();
    Output { members, order, manifest, config_name, config_bytes, config, layers }
}

/// One entry of a layer, parsed by the tar crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub path: Vec<u8>,
    pub typeflag: u8,
    pub link: Option<Vec<u8>>,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub dev: (u32, u32),
    pub data: Vec<u8>,
    pub xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Parsed {
    /// The path without a trailing slash or leading `./`.
    pub fn clean(&self) -> Vec<u8> {
        clean_path(&self.path)
    }
}

/// The entries of a layer (compressed or not), PAX global headers skipped.
pub fn parse_layer(stored: &[u8]) -> Vec<Parsed> {
    let raw = decompress(stored);
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(&raw[..]);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let typeflag = e.header().entry_type().as_byte();
        if typeflag == b'g' {
            continue;
        }
        let path = e.path_bytes().into_owned();
        let link = e.link_name_bytes().map(|l| l.into_owned());
        let mut xattrs = BTreeMap::new();
        if let Some(p) = e.pax_extensions().unwrap() {
            for r in p {
                let r = r.unwrap();
                if let Some(k) = r.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    xattrs.insert(k.to_vec(), r.value_bytes().to_vec());
                }
            }
        }
        let h = e.header();
        let mode = h.mode().unwrap() & 0o7777;
        let uid = h.uid().unwrap();
        let gid = h.gid().unwrap();
        let mtime = h.mtime().unwrap();
        let dev = if matches!(typeflag, b'3' | b'4') {
            (h.device_major().unwrap().unwrap_or(0), h.device_minor().unwrap().unwrap_or(0))
        } else {
            (0, 0)
        };
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push(Parsed { path, typeflag, link, mode, uid, gid, mtime, dev, data, xattrs });
    }
    out
}
