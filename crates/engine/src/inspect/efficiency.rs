//! The image's efficiency, computed the way dive computes its own so that its users
//! recognise the figure: for each path, the smallest size it is seen with over the layers
//! (0 once it is deleted), summed, over the bytes of every file of every layer.
//!
//! Where ours differs from dive's, and why: dive adds a deleted folder's bytes again at the
//! folder's whiteout (to both sums), which counts the deleted bytes twice and lifts the score;
//! and it never sees a file removed by its folder being replaced (no whiteout is written), so
//! it counts those as kept. Here each byte is counted once, every removal is seen, and bytes
//! a surviving hardlink still shows are kept, as in the wasted-bytes figures.

use std::collections::HashMap;

use crate::read::entry::{Kind, Op};
use crate::read::layer::LayerIndex;

/// Per path: the bytes over all layers, and the smallest size seen.
#[derive(Default)]
pub struct Efficiency<'a> {
    paths: HashMap<&'a [u8], (u64, u64)>,
}

impl<'a> Efficiency<'a> {
    /// Every regular file of every layer, as it is seen.
    pub fn new(layers: &'a [LayerIndex]) -> Self {
        let mut paths: HashMap<&'a [u8], (u64, u64)> = HashMap::new();
        for layer in layers {
            for e in &layer.entries {
                if let Op::Put(p) = &e.op {
                    if p.kind == Kind::Regular {
                        let seen = paths.entry(&e.path).or_insert((0, u64::MAX));
                        seen.0 += p.size;
                        seen.1 = seen.1.min(p.size);
                    }
                }
            }
        }
        Efficiency { paths }
    }

    /// The file at `path` was removed, not replaced by a new file at the same path (deleted,
    /// or its folder deleted, made opaque or replaced): it is seen with size 0.
    pub fn removed(&mut self, path: &[u8]) {
        if let Some(seen) = self.paths.get_mut(path) {
            seen.1 = 0;
        }
    }

    /// (the smallest sizes seen, summed; the bytes of all files of all layers).
    pub fn sums(&self) -> (u64, u64) {
        self.paths.values().fold((0, 0), |(kept, all), &(sum, min)| (kept + min, all + sum))
    }

    /// The score, from 0 to 1 (1 for an image with no file bytes).
    pub fn score(&self) -> f64 {
        match self.sums() {
            (_, 0) => 1.0,
            (kept, all) => kept as f64 / all as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::entry::{LayerEntry, Put};

    fn file(path: &str, size: u64) -> LayerEntry {
        let put = Put { kind: Kind::Regular, seq_start: 0, header_len: 512, size, link: None, raw: None };
        LayerEntry { path: path.as_bytes().to_vec(), op: Op::Put(put) }
    }

    fn layer(entries: Vec<LayerEntry>) -> LayerIndex {
        LayerIndex {
            entries,
            diff_id: String::new(),
            size: 0,
            compression: crate::read::compression::Compression::None,
        }
    }

    #[test]
    fn the_score_is_the_smallest_size_each_path_is_seen_with_over_all_file_bytes_as_dive_has_it() {
        let layers = vec![
            layer(vec![file("a", 100), file("b", 50), file("c", 10)]),
            layer(vec![file("b", 30)]), // b overwritten: smallest seen 30, all 80
        ];
        let mut e = Efficiency::new(&layers);
        e.removed(b"c"); // c deleted: smallest seen 0
        assert_eq!(e.sums(), (100 + 30, 100 + 80 + 10));
        assert!((e.score() - 130.0 / 190.0).abs() < 1e-12);
    }

    #[test]
    fn an_image_without_file_bytes_scores_one() {
        assert_eq!(Efficiency::new(&[layer(vec![file("empty", 0)])]).score(), 1.0);
        assert_eq!(Efficiency::new(&[]).score(), 1.0);
    }
}
