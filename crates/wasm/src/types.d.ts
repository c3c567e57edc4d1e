// The package's TypeScript types, written once: wasm-bindgen puts this file into the
// generated `.d.ts` of every target (lib.rs includes it), and the wrapper's index.d.ts and
// node.d.ts re-export from there. The functions' own signatures are generated from the
// Rust ones (their `unchecked_*_type`s name the types below).

/** Random-access input: JavaScript decides how bytes are read. */
export interface Source {
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Up to `length` bytes at `offset` (fewer only at the end of the input). Called with
   * `length` of a few MB at most; the returned array may be a view that is reused later.
   */
  readAt(offset: number, length: number): Uint8Array | ArrayBuffer;
}

/** Progress of long work, for progress bars. About ten calls a second at most. */
export interface Progress {
  /**
   * "read": reading and verifying the layers; "squash": making the new layer before the
   * archive is written (when its size and digest must come first: a compressed layer, or
   * the OCI layout); "write": writing the squashed archive.
   */
  phase: 'read' | 'squash' | 'write';
  bytesDone: number;
  bytesTotal: number;
}

/** Return `false` to cancel: the call then fails with code `CANCELLED`. */
export type ProgressCallback = (progress: Progress) => boolean | void;

export interface InspectOptions {
  /** Which image of a multi-image archive: a tag, or a prefix of its id. */
  image?: string | null;
  /** "os/arch[/variant]" of an OCI index with several platforms (default linux/amd64). */
  platform?: string | null;
  /** Progress for a progress bar, about ten calls a second; return `false` to cancel. */
  onProgress?: ProgressCallback | null;
  /**
   * The SHA-256 to verify layers and hash the new one with, instead of the one compiled
   * to wasm: a function returning a fresh `{ update(data), digest() }`. The Node entry
   * uses Node's `crypto.createHash('sha256')` by default (several times faster); the
   * browser entries and the low-level functions use the wasm's own, as `null` does.
   * `update` gets views into the wasm memory, valid during the call only; `digest()`
   * returns the 32 bytes.
   */
  sha256?: (() => HostSha256) | null;
  /**
   * `false`: trust the diff_ids the image config promises instead of hashing every byte
   * of every layer (what `-no-verify` does in the CLI). Several times faster, as
   * uncompressed layers are then read by their headers only, but a damaged or altered
   * layer that is squashed goes unnoticed. Default `true`.
   */
  verify?: boolean | null;
}

export interface HostSha256 {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

export interface SquashOptions extends InspectOptions {
  /**
   * "root" (one layer for the whole image), a layer id as `inspect` shows it (any unique
   * prefix of a diff_id, blob digest or legacy id: that layer and those below are kept),
   * or undefined for the default: keep the base image up to its first `ADD file:` layer.
   */
  from?: string | null;
  /** `repo:tag` for the result; default: keep the image's own tags. */
  tag?: string | null;
  /**
   * Receives the squashed archive, in order, in chunks of 4 MB (the last is shorter).
   * The wrapper's `squash` collects them into `chunks` when none is given.
   */
  onChunk?: ((chunk: Uint8Array) => void) | null;
  /**
   * With onChunk: each chunk is a view into the wasm memory instead of a copy (faster,
   * less garbage), valid only until onChunk returns: write it away synchronously, never
   * keep it, and do not call this module from onChunk.
   */
  transientChunks?: boolean;
  /**
   * How the new layer is stored: "auto" (the default: gzip or zstd when the layers it
   * replaces were so compressed, as images from a registry or Docker 29's store are; a
   * plain tar when they were plain, as a classic `docker save` writes them), "none",
   * "gzip" or "zstd". Kept layers are copied as they are.
   */
  compress?: 'auto' | 'none' | 'gzip' | 'zstd' | null;
  /** The compression level: gzip 1-9 (default 6), zstd 1-19 (default 3). */
  level?: number | null;
  /**
   * The archive's layout: "oci" (the default: as Docker 25+ writes it, with
   * `manifest.json` too, so every loader reads it) or "docker" (before Docker 25).
   */
  format?: 'oci' | 'docker' | null;
  /**
   * The result is pushed to a registry as it is stored (nothing compresses it on the way,
   * as `docker push` would): "auto" then gzips a new layer it would leave plain.
   */
  pushed?: boolean;
  /**
   * Scratch space for the new layer, which must be measured before it is written (it is
   * staged there once; without it, it is made twice: the same bytes, more time): a
   * function returning a fresh `{ write(chunk), readAt(offset, length), close?() }`.
   * `write` gets a view into the wasm memory, valid during the call only. The Node entry
   * uses an unlinked temporary file by default; in a worker, `opfsScratch()` of the
   * browser entry gives one in the origin-private file system; `null` makes it twice.
   */
  scratch?: (() => ScratchSpace) | null;
}

export interface ScratchSpace {
  write(chunk: Uint8Array): unknown;
  readAt(offset: number, length: number): Uint8Array;
  close?(): unknown;
}

/** The low-level `squash` writes only through `onChunk`, so it needs one. */
/** What `verifyLayers` takes. */
export interface VerifyOptions extends InspectOptions {
  /** The layers to verify: indices, 0 at the bottom (as `LayerInfo.index`). */
  layers: number[];
  /**
   * Digests (`sha256:` and hex) the host computed itself of plain layers' bytes (see
   * `layerRanges`; the browser entry does this with the browser's native SHA-256 for
   * layers up to `wholeLayerMax` bytes): those layers are compared, not read.
   */
  hashed?: { index: number; digest: string }[];
  /**
   * Browser entry: a plain layer up to this many bytes is read whole and hashed with the
   * browser's native SHA-256 (several times faster than SHA-256 in wasm; the layer is held
   * in memory meanwhile, one at a time, and costs twice its size while it is hashed).
   * Default: an eighth of `navigator.deviceMemory` (512 MiB where the browser does not
   * tell), at most 1 GiB; 0 turns it off.
   */
  wholeLayerMax?: number;
}

/** Where a layer's stored bytes lie: `input[offset, offset + size)`. */
export interface LayerRange {
  index: number;
  offset: number;
  size: number;
  /** Stored as its tar, as is: the bytes' SHA-256 is the layer's diff_id. */
  plain: boolean;
}

export interface LowLevelSquashOptions extends SquashOptions {
  onChunk: (chunk: Uint8Array) => void;
}

/** What `list` and `inspect` tell about an archive (as `docker-squash inspect --json`). */
export interface Inspection {
  /** e.g. "docker-save (1.10-24)", "oci-archive", "docker-save (pre-1.10)". */
  format: string;
  /** Whole-archive compression: "none", "gzip" or "zstd". */
  compression: string;
  images: ImageInfo[];
}

export interface ImageInfo {
  index: number;
  /** `sha256:` digest of the image config. */
  id: string;
  tags: string[];
  platform: string;
  /** History rows, oldest first. */
  history: HistoryRow[];
  totalSize: number;
  defaultFrom: SquashPointChoice;
  /** Empty from `list`. */
  squashPoints: SquashPointEstimate[];
  /** Empty from `list`. */
  largestWasted: WastedFile[];
  /** The wasted files by folder, largest first (at most 50). Empty from `list`. */
  wastedGroups: WasteGroup[];
  wastedBytes: number;
  /**
   * dive's efficiency score, 0 to 1: for each path the smallest size it is seen with (0
   * once deleted), summed, over the bytes of every file of every layer. Null from `list`.
   */
  efficiency: number | null;
}

export interface HistoryRow {
  index: number;
  /** The layer this step made; null for metadata-only steps (ENV, CMD, ...). */
  layer: LayerInfo | null;
  created: string | null;
  createdBy: string;
  comment: string | null;
  emptyLayer: boolean;
}

export interface LayerInfo {
  index: number;
  /** The id `from` takes (the diff_id's hex). */
  id: string;
  diffId: string;
  digest: string | null;
  legacyId: string | null;
  size: number;
  storedSize: number;
  compression: string;
  entries: number;
  wastedBytes: number;
}

export interface SquashPointChoice {
  /** "root" or a layer id. */
  from: string;
  layerIndex: number | null;
  reason: string;
}

export interface SquashPointEstimate {
  from: string;
  layerIndex: number | null;
  layersAfter: number;
  sizeAfter: number;
  reclaimedBytes: number;
}

export interface WastedFile {
  path: string;
  size: number;
  layerIndex: number;
  removedBy: number;
  how: 'deleted' | 'overwritten';
}

/** Wasted files of one folder, held by one layer and removed by one later layer. */
export interface WasteGroup {
  /** With a trailing `/` (`/` for files at the image's root). */
  folder: string;
  files: number;
  size: number;
  layerIndex: number;
  removedBy: number;
  how: 'deleted' | 'overwritten';
  /** Its largest files, largest first (at most 10). */
  largest: WastedFile[];
}

/** What a squash did. */
export interface SquashReport {
  /** The new image id (`sha256:` of the written config). */
  imageId: string;
  tags: string[];
  from: SquashPointChoice;
  layersBefore: number;
  layersAfter: number;
  sizeBefore: number;
  sizeAfter: number;
  /** null when nothing was squashed. */
  newLayerDiffId: string | null;
  newLayerSize: number;
  /** `sha256:` of the new layer as stored (its blob), null when nothing was squashed. */
  newLayerDigest: string | null;
  /** The new layer's stored (maybe compressed) size. */
  newLayerStoredSize: number;
  /** How the new layer is stored. */
  compression: 'none' | 'gzip' | 'zstd';
  /** The level used (0 for none). */
  compressionLevel: number;
  /** Why that compression, e.g. "auto: the squashed layers were gzip-compressed (…)". */
  compressionReason: string;
  /** The layout written. */
  format: 'oci' | 'docker';
  /** `sha256:` of the OCI image manifest (what containerd and registries show); null for "docker". */
  manifestDigest: string | null;
  /** Bytes handed to onChunk. */
  outputBytes: number;
  /** Squashing an index: each platform's squash, in the index's order (absent for one image;
   * the fields above then sum them up, `imageId` and `manifestDigest` the new index's). */
  platforms?: { platform: string; report: SquashReport }[];
  /** What the input's index named that the output leaves out, and why (absent when nothing). */
  leftOut?: { kind: 'attestation' | 'absent'; count: number; platforms: string[]; reason: string }[];
}

/** What `spool` found and wrote. */
export interface Spooled {
  /** How the input was compressed: it was handed on decompressed. */
  compression: 'none' | 'gzip' | 'zstd';
  /** Bytes handed to `onChunk`. */
  size: number;
}

/** Thrown by every function: `code` is stable, `message` is for people. */
export interface SquashError extends Error {
  code:
    | 'NOT_AN_IMAGE'
    | 'CORRUPT'
    | 'DIGEST_MISMATCH'
    | 'IMAGE_CHOICE'
    | 'FROM_CHOICE'
    | 'BAD_TAG'
    | 'TOO_LARGE'
    | 'UNSUPPORTED'
    | 'IO'
    | 'CANCELLED'
    | 'BAD_OPTION'
    | 'BAD_ARGUMENT'
    /** Node's `docker://` only: the registry refused the login, or there is none. */
    | 'REGISTRY_AUTH'
    /** The repository, tag, manifest, blob or platform is not there. */
    | 'REGISTRY_NOT_FOUND'
    /** Unreachable, or kept failing (429, 5xx, dropped connections) after retries. */
    | 'REGISTRY_NETWORK'
    /** A host did not connect, answer or send within `registryTimeout` (twice). */
    | 'REGISTRY_TIMEOUT'
    /** An answer the Distribution API does not allow, or a digest that did not match. */
    | 'REGISTRY_PROTOCOL'
    /** A reference, option or archive a push cannot take. */
    | 'REGISTRY_USAGE'
    /** A `docker://` reference that is not one. */
    | 'BAD_REFERENCE';
}

/** The command line of `docker-squash` and of the package's bin, as `parseArgs` reads it. */
/** A place an image is read from or written to, in skopeo's transport syntax. */
export type CliLocation =
  | { kind: 'stdio' }
  /** A file; `format` as `docker-archive:`/`oci-archive:` named it; `reference` after `PATH:`. */
  | { kind: 'archive'; path: string; format: 'oci' | 'docker' | null; reference: string | null }
  /** `docker-daemon:REF` (docker) or `containers-storage:REF` (podman). */
  | { kind: 'engine'; engine: 'docker' | 'podman'; reference: string }
  /** `docker://REF`. */
  | { kind: 'registry'; reference: string };

export interface CliArgs {
  command: 'squash' | 'inspect';
  /** `--json`: inspect prints JSON. */
  json: boolean;
  tag: string | null;
  from: string | null;
  /** `-i` as given; null or "-" for stdin. */
  input: string | null;
  /** `-o` as given; null or "-" for stdout. */
  output: string | null;
  /** The bare IMAGE (squash) or inspect's FILE, as given. */
  positional: string | null;
  /** Where the image is read from: `-i`, the bare IMAGE, or stdin. */
  source: CliLocation;
  /** Where the result goes: `-o`, the engine of a bare IMAGE, or stdout. */
  destination: CliLocation;
  /** `-insecure-registry`: registries that may be reached over plain HTTP. */
  insecureRegistries: string[];
  /** `-registry-timeout`: seconds a registry may take; null for the default (30). */
  registryTimeout: number | null;
  image: string | null;
  platform: string | null;
  compress: 'auto' | 'none' | 'gzip' | 'zstd' | null;
  level: number | null;
  format: 'oci' | 'docker' | null;
  /** `--fail-under-efficiency`: inspect fails under this score (0 to 1). */
  failUnderEfficiency: number | null;
  /** `--max-wasted`: inspect fails above this waste ("20MB", "5%"). */
  maxWasted: string | null;
  noVerify: boolean;
  verbose: boolean;
  help: boolean;
  version: boolean;
}

/** How registries are reached (the npm package in Node; the native CLI's flags). */
export interface RegistryOptions {
  /** `-insecure-registry`: hosts (host or host:port) that may be reached over plain HTTP. */
  insecure?: string[];
  /** OS/ARCH[/VARIANT] to pick from an index; default linux/amd64. */
  platform?: string;
  /** The docker CLI's config directory (its config.json); default $DOCKER_CONFIG, else ~/.docker. */
  dockerConfig?: string;
  /** Log every request (method, URL without its query, status) and each retry. */
  verbose?: boolean;
  /** `-registry-timeout`, seconds (1 to 86400; default 30): connect, answer and each read
   * within it, and at least 1 KiB of a body in every such span. */
  timeout?: number;
}

/** What a pull fetched: the full reference, the image manifest's digest and media type. */
export interface RegistryPulled {
  reference: string;
  /** The image manifest's digest; the index's when several platforms were pulled. */
  digest: string;
  mediaType: string;
  layers: number;
  bytes: number;
  /** The platforms pulled of an index (all, or those `platform` lists); empty for one image. */
  platforms: string[];
}

/** A blob of a push. */
export interface RegistryBlob {
  digest: string;
  size: number;
}

/** What a push did: blobs uploaded, mounted from the source repository, already there. */
export interface RegistryPushed {
  reference: string;
  digest: string;
  uploaded: RegistryBlob[];
  mounted: RegistryBlob[];
  existing: RegistryBlob[];
}

/** The machine the registry client runs on (js/registry.mjs's `registryHost`). */
export interface RegistryHost {
  send(
    method: string,
    url: string,
    headers: [string, string][],
    body: Uint8Array | { offset: number; length: number } | undefined,
    unverifiedTls: boolean,
  ): Promise<{
    status: number;
    headers: [string, string][];
    body: { read(): Promise<Uint8Array | null>; cancel(): void };
  }>;
  sleep(ms: number): Promise<void>;
  millis(): number;
  env(name: string): string | undefined;
  readFile(path: string): Uint8Array | null;
  runHelper(program: string, input: string): Promise<{ success: boolean; stdout: Uint8Array; stderr: Uint8Array }>;
  write(bytes: Uint8Array): void;
  position(): number;
  truncate(length: number): void;
  archiveSize(): number;
  readAt(offset: number, length: number): Uint8Array;
}
