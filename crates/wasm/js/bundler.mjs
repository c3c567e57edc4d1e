// docker-squash-wasm over wasm-pack's `bundler` target: the .wasm is an ES-module import,
// instantiated by the bundler (webpack 5 with `experiments.asyncWebAssembly`, Vite with
// vite-plugin-wasm, Rollup with @rollup/plugin-wasm). Same API as the main entry; use the
// main entry (`docker-squash-wasm`) when the bundler has no WebAssembly-module support.

import * as wasm from './wasm/bundler/@OUT_NAME@.js';
import { createApi, subtleWhole, toSource } from './common.mjs';

/** Nothing to do: the bundler instantiates the wasm (the same API as the main entry). */
export async function init() {
  return wasm;
}

/** The low-level bindings (wasm-bindgen's exports). */
export async function lowLevel() {
  return wasm;
}

const api = createApi({
  load: () => wasm,
  open: async (input) => ({ source: await toSource(input) }),
  whole: subtleWhole,
});

export const list = api.list;
export const inspect = api.inspect;
export const squash = api.squash;
export const checkTag = api.checkTag;
export const checkOptions = api.checkOptions;
export const verifyLayers = api.verifyLayers;
export const version = api.version;
