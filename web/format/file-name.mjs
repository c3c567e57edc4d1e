// The download's file name, and that name as a shell word for the `docker load` line.

const ARCHIVE_SUFFIX = /\.(tar\.gz|tgz|tar\.zst|tzst|tar|gz|zst)$/i;

/** "team/app:1.0" -> "team-app-1.0.tar"; no tag: "<input name>-squashed.tar". */
export function outputName(tag, inputName) {
  if (tag) return `${tag.replace(/[/:@]+/g, '-').replace(/[^A-Za-z0-9._-]/g, '')}.tar`;
  const base = (inputName || 'image').replace(ARCHIVE_SUFFIX, '');
  return `${base.replace(/[^A-Za-z0-9._-]+/g, '_') || 'image'}-squashed.tar`;
}

/** A word the shell takes as it is: quoted only when it has to be. */
export const shellQuote = (s) => (/^[A-Za-z0-9._\/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
