// Service worker: keeps the page, its scripts, styles and the wasm in a cache so the page
// works offline after one visit. Network first (a rebuilt page is picked up at once when
// online), the cache when the network fails. Only this origin's GET requests are handled;
// the page never asks for anything else (its Content-Security-Policy forbids it).

const CACHE = 'docker-squash-v3'; // a new name drops the old cache when the file set changes
// Every file the page loads, so that one visit is enough: the page's modules, the worker's,
// and the package's browser entry that make wasm copies to pkg/. A new module goes here too.
const FILES = [
  'index.html',
  'style.css',
  'app.mjs',
  'controller.mjs',
  'error-advice.mjs',
  'image.mjs',
  'verifiers.mjs',
  'worker-bridge.mjs',
  'format/bytes.mjs',
  'format/duration.mjs',
  'format/file-name.mjs',
  'format/history.mjs',
  'format/plural.mjs',
  'view/dom.mjs',
  'view/error.mjs',
  'view/facts.mjs',
  'view/history-table.mjs',
  'view/image-facts.mjs',
  'view/plan.mjs',
  'view/progress.mjs',
  'view/result.mjs',
  'view/waste.mjs',
  'worker.mjs',
  'output-sink.mjs',
  'pkg/browser.mjs',
  'pkg/common.mjs',
  'pkg/wasm/web/docker_squash_wasm.js',
  'pkg/wasm/web/docker_squash_wasm_bg.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // One by one, so a missing file (say, the wasm not built yet) does not stop the rest.
      await Promise.all(
        FILES.map(async (f) => {
          try {
            const res = await fetch(f, { cache: 'no-store' });
            if (res.ok) await cache.put(f, res);
          } catch {
            /* offline while installing: runtime caching fills in later */
          }
        }),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const res = await fetch(req, { cache: 'no-cache' });
        if (res.ok && res.type === 'basic') await cache.put(cacheKey(url), res.clone());
        return res;
      } catch (err) {
        const hit = await cache.match(cacheKey(url), { ignoreSearch: true });
        if (hit) return hit;
        throw err;
      }
    })(),
  );
});

function cacheKey(url) {
  // The page is cached once, whichever way it was asked for.
  const scope = new URL(self.registration.scope);
  if (url.pathname === scope.pathname || url.pathname === `${scope.pathname}index.html`) {
    return new URL('index.html', scope).href;
  }
  return url.href.split('#')[0].split('?')[0];
}
