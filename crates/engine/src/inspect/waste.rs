//! The wasted files grouped as a person would name them: by the folder a later layer
//! deleted (`rm -rf usr/lib/sdk` → `usr/lib/sdk/`), or, for files deleted or overwritten one
//! by one, by their folder; each group held by one layer and removed by one layer.

use std::collections::HashMap;

use crate::report::{WasteGroup, WastedFile};

/// At most this many groups are reported, largest first…
const GROUPS: usize = 50;
/// …each with at most this many of its largest files.
const FILES_PER_GROUP: usize = 10;

/// One wasted file and the path of the entry that removed it (see `Superseded::cause`).
pub struct Removed {
    pub file: WastedFile,
    pub cause: String,
}

/// The folder a removed file is reported under, with a trailing `/` (`/` for the root).
fn folder_of(path: &str, cause: &str) -> String {
    // A folder above the file was removed: that folder is what the user deleted.
    if !cause.is_empty() && path.len() > cause.len() && path.starts_with(cause) && path[cause.len()..].starts_with('/')
    {
        return format!("{cause}/");
    }
    match path.rfind('/') {
        Some(i) => format!("{}/", &path[..i]),
        None => "/".to_string(),
    }
}

/// The groups, largest first (ties by folder), at most [`GROUPS`] of them.
pub fn groups(removed: Vec<Removed>) -> Vec<WasteGroup> {
    let mut by_key: HashMap<(String, usize, usize, String), WasteGroup> = HashMap::new();
    for r in removed {
        let f = r.file;
        let key = (folder_of(&f.path, &r.cause), f.layer_index, f.removed_by, f.how.clone());
        let g = by_key.entry(key.clone()).or_insert_with(|| WasteGroup {
            folder: key.0,
            files: 0,
            size: 0,
            layer_index: f.layer_index,
            removed_by: f.removed_by,
            how: f.how.clone(),
            largest: Vec::new(),
        });
        g.files += 1;
        g.size += f.size;
        g.largest.push(f);
    }
    let mut out: Vec<WasteGroup> = by_key.into_values().collect();
    out.sort_by(|a, b| {
        b.size.cmp(&a.size).then_with(|| a.folder.cmp(&b.folder)).then(a.layer_index.cmp(&b.layer_index))
    });
    out.truncate(GROUPS);
    for g in &mut out {
        g.largest.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
        g.largest.truncate(FILES_PER_GROUP);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(path: &str, size: u64, layer: usize, by: usize, how: &str, cause: &str) -> Removed {
        let file = WastedFile { path: path.into(), size, layer_index: layer, removed_by: by, how: how.into() };
        Removed { file, cause: cause.into() }
    }

    #[test]
    fn a_deleted_folder_is_one_group_named_by_that_folder_however_deep_its_files() {
        let g = groups(vec![
            removed("usr/lib/sdk/pkg1/a", 10, 1, 3, "deleted", "usr/lib/sdk"),
            removed("usr/lib/sdk/pkg2/deep/b", 20, 1, 3, "deleted", "usr/lib/sdk"),
            removed("usr/lib/sdk/c", 5, 1, 3, "deleted", "usr/lib/sdk"),
        ]);
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].folder.as_str(), g[0].files, g[0].size), ("usr/lib/sdk/", 3, 35));
        assert_eq!(g[0].largest[0].path, "usr/lib/sdk/pkg2/deep/b", "largest first");
    }

    #[test]
    fn files_removed_one_by_one_are_grouped_by_their_folder_and_by_who_holds_and_removes_them() {
        let g = groups(vec![
            removed("etc/a", 1, 0, 2, "overwritten", "etc/a"),
            removed("etc/b", 2, 0, 2, "overwritten", "etc/b"),
            removed("etc/c", 4, 1, 2, "overwritten", "etc/c"),
            removed("etc/d", 8, 0, 2, "deleted", "etc/d"),
            removed("top", 16, 0, 1, "deleted", "top"),
            // A file replaced by a folder: removed by an entry below it, grouped by its folder.
            removed("var/x", 3, 0, 1, "overwritten", "var/x/y"),
        ]);
        let shown: Vec<(&str, u64, usize, &str)> =
            g.iter().map(|g| (g.folder.as_str(), g.files, g.layer_index, g.how.as_str())).collect();
        assert_eq!(
            shown,
            vec![
                ("/", 1, 0, "deleted"),
                ("etc/", 1, 0, "deleted"),
                ("etc/", 1, 1, "overwritten"),
                ("etc/", 2, 0, "overwritten"),
                ("var/", 1, 0, "overwritten"),
            ]
        );
    }

    #[test]
    fn a_folder_whose_name_is_a_prefix_of_a_sibling_does_not_claim_it() {
        let g = groups(vec![removed("usr/libexec/x", 1, 0, 1, "deleted", "usr/lib")]);
        assert_eq!(g[0].folder, "usr/libexec/");
    }

    #[test]
    fn at_most_fifty_groups_of_at_most_ten_files_are_kept_largest_first() {
        let many: Vec<Removed> = (0..80)
            .flat_map(|d| {
                (0..12).map(move |f| removed(&format!("d{d}/f{f}"), d * 100 + f, 0, 1, "deleted", &format!("d{d}")))
            })
            .collect();
        let g = groups(many);
        assert_eq!(g.len(), GROUPS);
        assert_eq!(g[0].folder, "d79/");
        assert!(g.iter().all(|g| g.files == 12 && g.largest.len() == FILES_PER_GROUP));
        assert_eq!(g[0].largest[0].size, 7911);
    }
}
