// Ids and commands the way `docker history` shows them.

/** The first 12 hex digits of an id or digest, without `sha256:`. */
export const shortId = (id) =>
  String(id || '')
    .replace(/^sha256:/, '')
    .slice(0, 12);

/** `created_by` without the shell prefix noise: `RUN apt-get …`, `CMD ["sh"]`. */
export const cleanCreatedBy = (s) =>
  String(s || '')
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .trim();
