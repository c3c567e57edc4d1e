// docker-squash-wasm for browsers and workers, with or without a bundler: wasm-pack's `web`
// target, instantiated on first use from the .wasm next to this file (bundlers such as
// webpack 5, Vite, Parcel and esbuild see the `new URL(..., import.meta.url)` and ship it).
// In a worker a Blob/File is read in slices with FileReaderSync; on a page's main thread
// it is read into memory first (16 MB parts): for big archives, call this from a worker.

import initWasm, * as wasm from './wasm/web/@OUT_NAME@.js';
import { createApi, toSource } from './common.mjs';

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

const api = createApi({ load: init, open: async (input) => ({ source: await toSource(input) }) });

export const list = api.list;
export const inspect = api.inspect;
export const squash = api.squash;
export const checkTag = api.checkTag;
export const version = api.version;
