//! What the engine tells its callers: the facts `inspect` prints, progress, and the
//! outcome of a squash. Serializable so the wasm bindings hand them to JavaScript as is,
//! and deserializable so the npm bin can hand them back to be shown as the CLI shows them.

use serde::{Deserialize, Serialize};

/// Everything `docker-squash inspect` shows about an archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    /// The archive's format, e.g. "docker-save (1.10-24)", "oci-archive", "docker-save (pre-1.10)".
    pub format: String,
    /// Whether the whole archive was compressed ("gzip", "zstd") or not ("none").
    pub compression: String,
    /// The images, in archive order.
    pub images: Vec<ImageInfo>,
}

/// One image of the archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageInfo {
    /// Position in the archive, from 0.
    pub index: usize,
    /// The image id: `sha256:` digest of its config.
    pub id: String,
    /// Its tags (`repo:tag`), as the archive names them.
    pub tags: Vec<String>,
    /// "linux/amd64" and the like.
    pub platform: String,
    /// History rows, oldest first, like `docker history` upside down.
    pub history: Vec<HistoryRow>,
    /// Sum of the uncompressed layer sizes.
    pub total_size: u64,
    /// The squash point chosen when no `-from` is given.
    pub default_from: SquashPointChoice,
    /// For each possible squash point ("root" first, then every layer but the top one):
    /// what squashing from there would give. Filled by `inspect`; empty in `images()`.
    pub squash_points: Vec<SquashPointEstimate>,
    /// The largest files that later layers delete or overwrite (wasted space), largest first.
    pub largest_wasted: Vec<WastedFile>,
    /// The same wasted space by folder (the folder a later layer deleted, or the folder of
    /// files deleted or overwritten one by one), largest first: at most 50 groups.
    pub wasted_groups: Vec<WasteGroup>,
    /// Bytes of file content that later layers delete or overwrite.
    pub wasted_bytes: u64,
    /// dive's efficiency score, from 0 to 1: for each path the smallest size it is seen
    /// with (0 once deleted), summed, over the bytes of every file of every layer (see the
    /// README for where it differs from dive's own). None until the layers are read.
    pub efficiency: Option<f64>,
}

/// One step of the image's history (a Dockerfile instruction, say).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRow {
    /// Position in the history, from 0 (oldest).
    pub index: usize,
    /// The layer this step made, or None for metadata-only steps (ENV, CMD, ...).
    pub layer: Option<LayerInfo>,
    /// When the step ran (RFC 3339), if recorded.
    pub created: Option<String>,
    /// The command that made it, e.g. `/bin/sh -c apt-get install ...`.
    pub created_by: String,
    /// The history entry's comment, if any.
    pub comment: Option<String>,
    /// True for steps that made no layer.
    pub empty_layer: bool,
}

/// One layer of an image.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerInfo {
    /// Position among the image's layers, from 0 (bottom).
    pub index: usize,
    /// The id `-from` takes and `inspect` prints: the diff_id's hex, short form shown by the CLI.
    pub id: String,
    /// `sha256:` of the uncompressed layer tar.
    pub diff_id: String,
    /// `sha256:` of the layer as stored in the archive (compressed or not), when known.
    pub digest: Option<String>,
    /// The `<id>/layer.tar` directory name of pre-1.10 and 1.10-24 archives.
    pub legacy_id: Option<String>,
    /// Uncompressed size of the layer tar, in bytes.
    pub size: u64,
    /// Size as stored in the archive.
    pub stored_size: u64,
    /// "none", "gzip" or "zstd".
    pub compression: String,
    /// Number of entries in the layer.
    pub entries: u64,
    /// Bytes of file content in this layer that later layers delete or overwrite.
    pub wasted_bytes: u64,
}

/// Where a layer's stored bytes lie in the input. When `plain` (stored as its tar, as
/// is) their SHA-256 is its diff_id: a host can hash them by its own means (a browser's
/// native SHA-256, which needs them whole) and hand the digest to `verify_layers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerRange {
    /// Position among the image's layers, from 0 (bottom).
    pub index: usize,
    /// Offset of its first byte in the input.
    pub offset: u64,
    /// Its stored size in bytes.
    pub size: u64,
    /// Stored uncompressed: the bytes are the tar whose SHA-256 is the diff_id.
    pub plain: bool,
}

/// The squash point chosen, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SquashPointChoice {
    /// "root" or a layer id.
    pub from: String,
    /// Index of the layer kept at the top of the base, None for root.
    pub layer_index: Option<usize>,
    /// Why this point: e.g. "first layer created by ADD file: (history step 0)".
    pub reason: String,
}

/// What squashing from one point would give.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SquashPointEstimate {
    /// "root" or a layer id, as `-from` takes it.
    pub from: String,
    /// Index of the layer kept at the top of the base, None for root.
    pub layer_index: Option<usize>,
    /// Layers in the image after squashing from here.
    pub layers_after: usize,
    /// Approximate total uncompressed size after squashing (tar overhead included).
    pub size_after: u64,
    /// Bytes that squashing from here removes.
    pub reclaimed_bytes: u64,
}

/// A file whose bytes a later layer deletes or overwrites.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WastedFile {
    /// Path inside the image, lossily shown as UTF-8.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Layer that holds the bytes.
    pub layer_index: usize,
    /// Layer that deletes or overwrites them.
    pub removed_by: usize,
    /// "deleted" or "overwritten".
    pub how: String,
}

/// Wasted files of one folder, held by one layer and removed by one later layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasteGroup {
    /// The folder, with a trailing `/` (`/` for files at the image's root).
    pub folder: String,
    /// How many wasted files it holds.
    pub files: u64,
    /// Their bytes.
    pub size: u64,
    /// Layer that holds the bytes.
    pub layer_index: usize,
    /// Layer that deletes or overwrites them.
    pub removed_by: usize,
    /// "deleted" or "overwritten".
    pub how: String,
    /// Its largest files, largest first: at most 10.
    pub largest: Vec<WastedFile>,
}

/// Progress of long work, for progress bars.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// "read" (indexing the layers), "squash" (making the new layer before the archive is
    /// written, when it must be measured first), "write" (writing the output).
    pub phase: &'static str,
    /// Bytes of this phase done.
    pub bytes_done: u64,
    /// Bytes this phase will take in all (an estimate while writing).
    pub bytes_total: u64,
    /// Squashing an index: the platform being worked on, with its place among those
    /// written (`linux/arm64 (2 of 3)`). Absent for one image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// What a squash did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SquashReport {
    /// The new image id (`sha256:` of the written config).
    pub image_id: String,
    /// The output's tags.
    pub tags: Vec<String>,
    /// The squash point, and why.
    pub from: SquashPointChoice,
    /// Layers before the squash.
    pub layers_before: usize,
    /// Layers after it.
    pub layers_after: usize,
    /// Uncompressed layer bytes before.
    pub size_before: u64,
    /// Uncompressed layer bytes after.
    pub size_after: u64,
    /// `sha256:` of the new layer, None when nothing was squashed.
    pub new_layer_diff_id: Option<String>,
    /// Size of the new layer tar (0 when nothing was squashed).
    pub new_layer_size: u64,
    /// `sha256:` of the new layer as stored (compressed or not): its blob's digest.
    pub new_layer_digest: Option<String>,
    /// The new layer's stored size (0 when nothing was squashed).
    pub new_layer_stored_size: u64,
    /// How the new layer is stored: "none", "gzip" or "zstd".
    pub compression: String,
    /// The compression level used (0 for none).
    pub compression_level: i32,
    /// Why that compression, e.g. "auto: the squashed layers were gzip-compressed (...)".
    pub compression_reason: String,
    /// The layout written: "oci" or "docker".
    pub format: String,
    /// `sha256:` of the image manifest (the OCI layout only): the digest containerd and a
    /// registry show for the image.
    pub manifest_digest: Option<String>,
    /// Bytes written to the output.
    pub output_bytes: u64,
    /// Squashing an index: each platform's squash, in the index's order (empty for one
    /// image). The fields above then sum them up: `image_id` and `manifest_digest` are
    /// the new index's digest, layer counts and sizes are the platforms' sums, `from` says
    /// that each platform has its own squash point, and `new_layer_diff_id` is None.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<PlatformSquash>,
    /// What the input's index named that the output leaves out, and why: attestation
    /// manifests and platforms whose blobs are not in the archive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
}

/// One platform of a squashed index.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformSquash {
    /// "linux/arm64/v8" and the like.
    pub platform: String,
    /// Its squash, as one image's would be (its own id, squash point, layers, manifest).
    pub report: SquashReport,
}

/// Entries of the input's index the output leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftOut {
    /// "attestation" or "absent".
    pub kind: String,
    /// How many entries (attestations), or the platforms named (absent blobs).
    pub count: usize,
    /// The platforms, for absent ones (empty for attestations).
    pub platforms: Vec<String>,
    /// Why, in a sentence a host can print as is.
    pub reason: String,
}
