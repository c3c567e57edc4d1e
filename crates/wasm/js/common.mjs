// The part of the wrapper shared by Node and browsers: turns what callers have (bytes, a
// Blob or File, a `{ size, readAt }` object) into the random-access source the wasm reads,
// and wraps the low-level calls into promise-returning functions.

const READ_WINDOW = 1 << 20; // FileReaderSync: small reads come from one 1 MB window
const READ_AHEAD = 32 << 20; // …and streamed ones from a 32 MB one (see blobSyncSource)
const BLOB_PART = 16 << 20; // Blob outside a worker: read in parts of this size

/** An Error with the stable `code` the wasm errors have. */
export function codedError(message, code, ErrorType = Error, cause) {
  const e = cause === undefined ? new ErrorType(message) : new ErrorType(message, { cause });
  e.code = code;
  return e;
}

const badArgument = (message) => codedError(message, 'BAD_ARGUMENT', TypeError);

/** Random access into bytes held in memory. */
export function bytesSource(bytes) {
  return {
    size: bytes.byteLength,
    readAt(offset, length) {
      return bytes.subarray(offset, offset + length);
    },
  };
}

/**
 * Random access into a Blob/File with FileReaderSync: workers only, nothing held whole.
 * Each readAsArrayBuffer costs a round trip to the browser's blob store: 1 GB read in 1 MB
 * slices takes ~5 s in Chromium here, in 32 MB slices ~2.5 s. So small reads come from one
 * 1 MB window, and a read that continues the previous one (a layer streamed through, as
 * hashing does) starts a 32 MB read-ahead window; other large reads go straight through.
 */
export function blobSyncSource(blob) {
  const reader = new FileReaderSync();
  let cacheStart = 0;
  let cache = null;
  let lastEnd = -1;
  const fill = (offset, size) => {
    cacheStart = offset;
    cache = new Uint8Array(reader.readAsArrayBuffer(blob.slice(offset, Math.min(blob.size, offset + size))));
  };
  return {
    size: blob.size,
    readAt(offset, length) {
      const end = Math.min(blob.size, offset + length);
      if (!(end > offset)) return new Uint8Array(0);
      const sequential = offset === lastEnd;
      lastEnd = end;
      if (cache && offset >= cacheStart && end <= cacheStart + cache.length) {
        return cache.subarray(offset - cacheStart, end - cacheStart);
      }
      if (end - offset >= READ_WINDOW / 4) {
        if (!sequential) return new Uint8Array(reader.readAsArrayBuffer(blob.slice(offset, end)));
        fill(offset, Math.max(READ_AHEAD, end - offset));
        return cache.subarray(0, end - offset);
      }
      fill(offset, READ_WINDOW);
      return cache.subarray(0, end - offset);
    },
  };
}

/**
 * A Blob/File where no synchronous read exists (a page's main thread, Node): read up front
 * in 16 MB parts with `arrayBuffer()` (no single buffer as large as the archive is needed,
 * but the archive is held in memory: in browsers prefer a worker, in Node a file path).
 */
export async function blobBufferedSource(blob) {
  const parts = [];
  for (let o = 0; o < blob.size; o += BLOB_PART) {
    parts.push(new Uint8Array(await blob.slice(o, Math.min(blob.size, o + BLOB_PART)).arrayBuffer()));
  }
  return {
    size: blob.size,
    readAt(offset, length) {
      const i = Math.floor(offset / BLOB_PART);
      const part = parts[i];
      if (!part) return new Uint8Array(0);
      const start = offset - i * BLOB_PART;
      return part.subarray(start, Math.min(part.length, start + length)); // may be short: the wasm reads on
    },
  };
}

const isBlob = (x) => typeof Blob === 'function' && x instanceof Blob;

/** What the wrapper accepts everywhere; Node adds file paths. */
export async function toSource(input) {
  if (input instanceof Uint8Array) return bytesSource(input);
  if (input instanceof ArrayBuffer) return bytesSource(new Uint8Array(input));
  if (ArrayBuffer.isView(input)) return bytesSource(new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  if (isBlob(input)) {
    return typeof FileReaderSync === 'function' ? blobSyncSource(input) : blobBufferedSource(input);
  }
  if (input && typeof input === 'object' && typeof input.readAt === 'function' && Number.isSafeInteger(input.size)) {
    return input;
  }
  throw badArgument(
    'the input must be a Uint8Array, an ArrayBuffer, a Blob or File, or a { size, readAt(offset, length) } source',
  );
}

function checkOptions(opts) {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw badArgument('options must be an object');
  return opts;
}

/**
 * The wrapper's functions over a low-level module (`{ list, inspect, squash, checkTag,
 * checkOptions, version }` of a wasm-pack target), loaded by `load()` (sync or async), with `open(input)`
 * giving `{ source, close? }`, `sha256` the host's SHA-256 factory where it has a
 * synchronous one (Node), and `scratch` its scratch-space factory (Node: a temporary
 * file), each used unless the caller's options say otherwise.
 */
export function createApi({ load, open, sha256, scratch }) {
  const hashOf = (o) => (o.sha256 === undefined ? sha256 : o.sha256);
  const scratchOf = (o) => (o.scratch === undefined ? scratch : o.scratch);
  async function using(input, fn) {
    const low = await load();
    const { source, close } = await open(input);
    try {
      return fn(low, source);
    } finally {
      if (close) close();
    }
  }

  return {
    /** Images, tags and history without reading the layers: fast. */
    async list(input) {
      return using(input, (low, source) => low.list(source));
    },

    /** Everything `docker-squash inspect` shows; reads (and verifies) every layer. */
    async inspect(input, opts) {
      const o = checkOptions(opts);
      return using(input, (low, source) =>
        low.inspect(source, {
          image: o.image,
          platform: o.platform,
          onProgress: o.onProgress,
          sha256: hashOf(o),
          verify: o.verify,
        }),
      );
    },

    /**
     * Verifies only the layers `opts.layers` (indices, 0 at the bottom) against their
     * diff_ids; rejects as `squash` does on a damaged layer. For verifying in parallel
     * workers while a squash runs with `verify: false`.
     */
    async verifyLayers(input, opts) {
      const o = checkOptions(opts);
      return using(input, (low, source) =>
        low.verifyLayers(source, {
          image: o.image,
          platform: o.platform,
          layers: o.layers,
          onProgress: o.onProgress,
          sha256: hashOf(o),
        }),
      );
    },

    /**
     * Squashes. The archive goes to `opts.onChunk` when given (then `chunks` is empty),
     * otherwise it is collected into `chunks`.
     */
    async squash(input, opts) {
      const o = checkOptions(opts);
      if (o.onChunk !== undefined && o.onChunk !== null && typeof o.onChunk !== 'function') {
        throw badArgument('options.onChunk must be a function');
      }
      const chunks = [];
      const onChunk =
        o.onChunk ||
        ((c) => {
          chunks.push(c);
        });
      return using(input, (low, source) => {
        const report = low.squash(source, {
          from: o.from,
          tag: o.tag,
          image: o.image,
          platform: o.platform,
          onProgress: o.onProgress,
          onChunk,
          transientChunks: Boolean(o.onChunk && o.transientChunks),
          sha256: hashOf(o),
          verify: o.verify,
          compress: o.compress,
          level: o.level,
          format: o.format,
          pushed: o.pushed,
          scratch: scratchOf(o),
        });
        return { chunks, report };
      });
    },

    /** `repo:tag` as squash will write it (`app` -> `app:latest`); throws BAD_TAG. */
    async checkTag(tag) {
      const low = await load();
      return low.checkTag(tag);
    },

    /** Throws what `squash` would for these options (BAD_TAG, BAD_OPTION, BAD_ARGUMENT), reading nothing. */
    async checkOptions(options) {
      const low = await load();
      low.checkOptions(options);
    },

    async version() {
      const low = await load();
      return low.version();
    },
  };
}
