// docker-squash-wasm for browsers and workers, with or without a bundler: wasm-pack's `web`
// target, instantiated on first use from the .wasm next to this file (bundlers such as
// webpack 5, Vite, Parcel and esbuild see the `new URL(..., import.meta.url)` and ship it).
// In a worker a Blob/File is read in slices with FileReaderSync; on a page's main thread
// it is read into memory first (16 MB parts): for big archives, call this from a worker.

import initWasm, * as wasm from './wasm/web/@OUT_NAME@.js';
import { createApi, subtleWhole, toSource } from './common.mjs';

let ready = null;
let loaded = null; // the wasm instance's exports, once loaded

/**
 * Loads the wasm; called by every function on first use. Call it yourself only to load the
 * .wasm from elsewhere: `init(urlOrResponseOrModuleOrBytes)`.
 */
export function init(moduleOrPath) {
  ready ??= initWasm(moduleOrPath === undefined ? undefined : { module_or_path: moduleOrPath }).then(
    (exports) => {
      loaded = exports;
      return wasm;
    },
    (e) => {
      ready = null;
      const err = new Error(`the squasher could not be loaded: ${e && e.message ? e.message : e}`, { cause: e });
      err.code = 'LOAD';
      throw err;
    },
  );
  return ready;
}

/** The low-level bindings (wasm-bindgen's exports), once loaded. */
export async function lowLevel() {
  return init();
}

/**
 * The wasm's `WebAssembly.Memory` once loaded, else null (browser entry only). Its size is
 * what the squasher holds (it only grows): the page's worker reports its peak.
 */
export function wasmMemory() {
  return loaded ? loaded.memory : null;
}

const api = createApi({ load: init, open: async (input) => ({ source: await toSource(input) }), whole: subtleWhole });

export const list = api.list;
export const inspect = api.inspect;
export const squash = api.squash;
export const checkTag = api.checkTag;
export const checkOptions = api.checkOptions;
export const verifyLayers = api.verifyLayers;
export const version = api.version;

/**
 * Scratch space for one squash in the origin-private file system (a worker's synchronous
 * access handle): resolves to a function for `options.scratch`, or null where the browser
 * has none (the new layer is then made twice instead: the same bytes, more time). The file
 * is removed when the squash is done; `prefix` names it (leftovers of a closed tab can be
 * found and removed by it).
 */
export async function opfsScratch(prefix = 'scratch-') {
  try {
    if (!(navigator.storage && navigator.storage.getDirectory)) return null;
    const dir = await navigator.storage.getDirectory();
    const name = `${prefix}${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const handle = await dir.getFileHandle(name, { create: true });
    if (!handle.createSyncAccessHandle) return null;
    const access = await handle.createSyncAccessHandle();
    access.truncate(0);
    let pos = 0;
    let closed = false;
    const space = {
      write(chunk) {
        let done = 0;
        while (done < chunk.length) {
          const n = access.write(chunk.subarray(done), { at: pos });
          if (n <= 0)
            throw Object.assign(new Error('could not write a temporary file: the disk may be full'), { code: 'IO' });
          done += n;
          pos += n;
        }
      },
      readAt(offset, length) {
        const buf = new Uint8Array(length);
        const n = access.read(buf, { at: offset });
        return buf.subarray(0, n);
      },
      close() {
        if (closed) return;
        closed = true;
        access.close();
        dir.removeEntry(name).catch(() => {});
      },
    };
    return () => space;
  } catch {
    return null;
  }
}
