// What the tests read from a registry they started (tests/support/registry.sh): its access
// log, as the requests a run made, and the Accept header of a client that takes any
// manifest (as skopeo and containerd send it).

import fs from 'node:fs';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** The registry's JSON access log at `file`: `mark()` (a line count), and the requests `since(mark)`. */
export function accessLog(file) {
  const lines = () => fs.readFileSync(file, 'utf8').split('\n');
  return {
    mark: () => lines().length - 1,
    /** The requests since `mark`, as { method, uri, status }. */
    since: (mark) =>
      lines()
        .slice(mark)
        .filter((l) => l.startsWith('{') && l.includes('"http.response.status"'))
        .map((l) => JSON.parse(l))
        .map((j) => ({
          method: j['http.request.method'],
          uri: j['http.request.uri'],
          status: j['http.response.status'],
        })),
  };
}
