// Types of the wrapper (browsers, workers, bundlers). The report types are those
// wasm-bindgen generated from the Rust crate, re-exported.
import type {
  Source,
  Progress,
  ProgressCallback,
  Inspection,
  ImageInfo,
  HistoryRow,
  LayerInfo,
  SquashPointChoice,
  SquashPointEstimate,
  WastedFile,
  SquashReport,
  SquashError,
  HostSha256,
} from './wasm/web/@OUT_NAME@.js';

export type {
  Source,
  Progress,
  ProgressCallback,
  Inspection,
  ImageInfo,
  HistoryRow,
  LayerInfo,
  SquashPointChoice,
  SquashPointEstimate,
  WastedFile,
  SquashReport,
  SquashError,
  HostSha256,
};

/**
 * An image archive as `docker save` (or podman, skopeo, buildx, kaniko, jib) wrote it:
 * bytes, a Blob/File (read in slices with FileReaderSync in a worker, read into memory in
 * 16 MB parts elsewhere), or any random-access `Source`.
 */
export type Input = Uint8Array | ArrayBuffer | ArrayBufferView | Blob | Source;

export interface InspectOptions {
  /** Which image of a multi-image archive: a tag, or a prefix of its id. */
  image?: string | null;
  /** "os/arch[/variant]" of an OCI index with several platforms (default linux/amd64). */
  platform?: string | null;
  /** Progress for a progress bar, about ten calls a second; return `false` to cancel. */
  onProgress?: ProgressCallback | null;
  /**
   * The SHA-256 to verify layers and hash the new one with: a function returning a fresh
   * `{ update(data), digest() }`. Node's `crypto.createHash('sha256')` by default in Node
   * (several times faster than the wasm's own); none in browsers. `null`: the wasm's own.
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

export interface SquashOptions extends InspectOptions {
  /**
   * "root" (one layer for the whole image), a layer id as `inspect` shows it (any unique
   * prefix; that layer and those below are kept), or undefined for the default: keep the
   * base image up to its first `ADD file:` layer.
   */
  from?: string | null;
  /** `repo:tag` for the result; default: the image's own tags. */
  tag?: string | null;
  /** Receives the archive in order, in chunks of 4 MB; then `chunks` comes back empty. */
  onChunk?: ((chunk: Uint8Array) => void) | null;
  /**
   * With onChunk: each chunk is a view into the wasm memory, not a copy (faster, less
   * garbage), valid only until onChunk returns: write it away synchronously, never keep it.
   */
  transientChunks?: boolean;
}

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
/** The engine's version. */
export function version(): Promise<string>;
/** Loads the .wasm (browser entry only; done on first use). Give a URL to load it from elsewhere. */
export function init(moduleOrPath?: string | URL | Response | BufferSource | WebAssembly.Module): Promise<unknown>;
/** The low-level bindings wasm-bindgen generated (`list`, `inspect`, `squash`, ... on `Source`s). */
export function lowLevel(): Promise<typeof import('./wasm/web/@OUT_NAME@.js')>;
