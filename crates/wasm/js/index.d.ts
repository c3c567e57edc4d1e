// Types of the wrapper (browsers, workers, bundlers). The types it shares with the
// low-level module (options, reports, errors) are written once, in crates/wasm/src/types.d.ts,
// which wasm-bindgen puts into the generated .d.ts: they are re-exported from there.
import type {
  Source,
  InspectOptions,
  SquashOptions,
  LowLevelSquashOptions,
  VerifyOptions,
  LayerRange,
  Spooled,
  CliArgs,
  Progress,
  ProgressCallback,
  Inspection,
  ImageInfo,
  HistoryRow,
  LayerInfo,
  SquashPointChoice,
  SquashPointEstimate,
  WastedFile,
  WasteGroup,
  SquashReport,
  SquashError,
  HostSha256,
  ScratchSpace,
  RegistryPulled,
  RegistryPushed,
  RegistryBlob,
} from './wasm/web/@OUT_NAME@.js';

export type {
  Source,
  InspectOptions,
  SquashOptions,
  LowLevelSquashOptions,
  VerifyOptions,
  LayerRange,
  Spooled,
  CliArgs,
  Progress,
  ProgressCallback,
  Inspection,
  ImageInfo,
  HistoryRow,
  LayerInfo,
  SquashPointChoice,
  SquashPointEstimate,
  WastedFile,
  WasteGroup,
  SquashReport,
  SquashError,
  HostSha256,
  ScratchSpace,
  RegistryPulled,
  RegistryPushed,
  RegistryBlob,
};

/**
 * An image archive as `docker save` (or podman, skopeo, buildx, kaniko, jib) wrote it:
 * bytes, a Blob/File (read in slices with FileReaderSync in a worker, read into memory in
 * 16 MB parts elsewhere), or any random-access `Source`.
 */
export type Input = Uint8Array | ArrayBuffer | ArrayBufferView | Blob | Source;

export interface SquashResult {
  /** The squashed archive, in order (empty when `onChunk` was given). */
  chunks: Uint8Array[];
  report: SquashReport;
}

/** Images, tags and history, without reading the layers: fast. */
export function list(input: Input): Promise<Inspection>;
/** Everything `docker-squash inspect` shows; reads and verifies every layer. */
export function inspect(input: Input, options?: InspectOptions): Promise<Inspection>;
/** Squashes the layers above `from` into one. Rejects with a `SquashError`. */
export function squash(input: Input, options?: SquashOptions): Promise<SquashResult>;
/** `repo:tag` as squash will write it (`app` -> `app:latest`); rejects with code BAD_TAG. */
export function checkTag(tag: string): Promise<string>;
/**
 * Rejects as `squash` would for these options (codes BAD_TAG, BAD_OPTION, BAD_ARGUMENT),
 * reading no input: a `compress`, `format` or `level` that cannot be used, a bad tag.
 */
export function checkOptions(options?: SquashOptions): Promise<void>;
/**
 * Verifies only the layers `options.layers` (indices, 0 at the bottom) against their
 * diff_ids; rejects as `squash` does on a damaged layer (code DIGEST_MISMATCH, naming it).
 * For verifying in parallel workers while a squash runs with `verify: false`. In browsers,
 * plain layers up to `options.wholeLayerMax` bytes are hashed with `crypto.subtle`.
 */
/** What `verifyLayers` tells: which layers the browser's own SHA-256 hashed (none in Node). */
export interface VerifyResult {
  hashedWhole: number[];
}
export function verifyLayers(input: Input, options: VerifyOptions): Promise<VerifyResult>;
/** The engine's version. */
export function version(): Promise<string>;
/** Loads the .wasm (browser entry only; done on first use). Give a URL to load it from elsewhere. */
export function init(moduleOrPath?: string | URL | Response | BufferSource | WebAssembly.Module): Promise<unknown>;
/** The low-level bindings wasm-bindgen generated (`list`, `inspect`, `squash`, ... on `Source`s). */
export function lowLevel(): Promise<typeof import('./wasm/web/@OUT_NAME@.js')>;
/** Scratch space for one squash in the origin-private file system (workers); null where there is none. */
export function opfsScratch(prefix?: string): Promise<(() => ScratchSpace) | null>;
