// Types of the Node.js entry: the wrapper's, plus file paths and writing to a file.
import type { Input as BaseInput, InspectOptions, SquashOptions, SquashResult, Source } from './index.js';
import type { Inspection, ScratchSpace, SquashReport, VerifyOptions, VerifyResult } from './index.js';
import type { RegistryPulled, RegistryPushed } from './index.js';

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
  WasteGroup,
  SquashReport,
  SquashError,
  HostSha256,
  ScratchSpace,
  InspectOptions,
  SquashOptions,
  LowLevelSquashOptions,
  VerifyOptions,
  VerifyResult,
  LayerRange,
  Spooled,
  CliArgs,
  SquashResult,
  RegistryPulled,
  RegistryPushed,
  RegistryBlob,
} from './index.js';

/**
 * As in browsers, plus a file path (or file: URL), read by offsets: never whole; or
 * `docker://REGISTRY/REPO:TAG` (or `@sha256:…`), pulled first into a temporary file.
 */
export type Input = BaseInput | string | URL;

/**
 * How a `docker://` input or output reaches its registry, as the native CLI: logins from
 * `$DOCKER_CONFIG/config.json` (auths, credHelpers, credsStore), plain HTTP for loopback
 * registries and `insecureRegistries` only. Errors have codes REGISTRY_AUTH,
 * REGISTRY_NOT_FOUND, REGISTRY_NETWORK, REGISTRY_TIMEOUT, REGISTRY_PROTOCOL, REGISTRY_USAGE or BAD_REFERENCE,
 * and the native CLI's messages.
 */
export interface RegistryAccess {
  /** `-insecure-registry`: hosts (host or host:port) that may use plain HTTP. */
  insecureRegistries?: string[];
  /** The docker CLI's config directory; default $DOCKER_CONFIG, else ~/.docker. */
  dockerConfig?: string;
  /** `-registry-timeout`: seconds (1 to 86400, default 30) a host may take to connect, to
   * answer and per read, and the span in which at least 1 KiB of a body must arrive. */
  registryTimeout?: number;
  /** Every request in the log too (method, URL without its query, status); never a credential. */
  verbose?: boolean;
  /** Hears what is pulled and pushed (the native CLI's `-verbose` lines). */
  onLog?: (line: string) => void;
}

/** A squash of a `docker://` input also says what was pulled. */
export interface NodeSquashResult extends SquashResult {
  pulled: RegistryPulled | null;
}

/** squashToFile's answer: the report, and for `docker://` what was pulled and pushed. */
export type SquashToFileResult = SquashReport & { pushed?: RegistryPushed; pulled?: RegistryPulled | null };

/** A `Source` over a file, with its descriptor and `close()`. */
export interface FileSource extends Source {
  readonly fd: number;
  close(): void;
}

export function list(input: Input, options?: RegistryAccess & { platform?: string }): Promise<Inspection>;
export function inspect(input: Input, options?: InspectOptions & RegistryAccess): Promise<Inspection>;
export function squash(input: Input, options?: SquashOptions & RegistryAccess): Promise<NodeSquashResult>;
/**
 * Squashes into the file `outPath`, written under a temporary name beside it and renamed
 * into place only when complete. Resolves to the report. `outPath` `docker://REF` pushes
 * (only the blobs the registry lacks; the layers of a `docker://` input on the same registry
 * mounted), with `pushed` and `pulled` in the answer.
 */
export function squashToFile(
  input: Input,
  outPath: string,
  options?: Omit<SquashOptions, 'onChunk' | 'transientChunks'> & RegistryAccess,
): Promise<SquashToFileResult>;
export function checkTag(tag: string): Promise<string>;
export function checkOptions(options?: SquashOptions): Promise<void>;
export function verifyLayers(input: Input, options: VerifyOptions & RegistryAccess): Promise<VerifyResult>;
export function version(): Promise<string>;
/** A random-access source over a file path or an open descriptor (reads with fs.readSync). */
export function fileSource(file: string | URL | number): FileSource;
/** A file being written under a temporary name, see `fileOutput`. */
export interface FileOutput {
  /** The temporary file's descriptor (undefined once committed or abandoned). */
  readonly fd: number | undefined;
  /** The temporary file's path. */
  readonly tmp: string;
  write(chunk: Uint8Array): void;
  /** Flushes to disk and renames the file into place. */
  commit(): void;
  /** Removes what was written. */
  abandon(): void;
}
/**
 * A file written under a temporary name beside `outPath` and renamed into place by
 * `commit()` only when complete; failures are errors with code IO, their OS part worded
 * by `describe` (default: the error's message).
 */
export function fileOutput(outPath: string, options?: { describe?: (error: Error) => string }): FileOutput;
/** Writes all of `chunk` to the descriptor, waiting out EAGAIN. */
export function writeAllSync(fd: number, chunk: Uint8Array, position?: number): void;
/** Closes `fd` (undefined: nothing) where it can; a descriptor closed already is no error. */
export function closeQuietly(fd: number | undefined): void;
/** An unlinked temporary file as scratch space (the Node entry's default). */
export function tempFileScratch(): ScratchSpace;
/** The low-level bindings wasm-bindgen generated (`list`, `inspect`, `squash`, ... on `Source`s). */
export function lowLevel(): typeof import('./wasm/nodejs/@OUT_NAME@.js');
