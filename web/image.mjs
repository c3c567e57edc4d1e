// Facts derived from what the engine reports about an image (an ImageInfo of list() or
// inspect()): its layers, the squash points, the default tag. No DOM here.

import { shortId } from './format/history.mjs';

/** The image's layers, bottom first (history rows that made no layer are left out). */
export function layersOf(img) {
  return img.history.filter((r) => r.layer).map((r) => r.layer);
}

/** What squashing from `from` gives (inspect() only), or null. */
export function estimateFor(img, from) {
  const points = img && img.squashPoints;
  if (!points || points.length === 0) return null;
  return points.find((p) => p.from === from) || null;
}

/** Index of the layer kept at the top of the base; -1 for root. */
export function pointIndex(img, from) {
  if (from === 'root') return -1;
  const l = layersOf(img).find((x) => x.id === from);
  return l ? l.index : -1;
}

/** How the image is named in the image chooser. */
export function imageLabel(img) {
  const name = img.tags && img.tags.length ? img.tags.join(', ') : `untagged ${shortId(img.id)}`;
  return `${name} (${img.platform})`;
}

/** "nginx:1.25" -> "nginx:squashed"; "localhost:5000/app" -> "localhost:5000/app:squashed". */
export function defaultTag(img) {
  const t = img.tags && img.tags[0];
  if (!t) return '';
  const slash = t.lastIndexOf('/');
  const colon = t.lastIndexOf(':');
  const repo = colon > slash ? t.slice(0, colon) : t;
  return `${repo.split('@')[0]}:squashed`;
}

/** The `image`/`platform` options that pick `img` among the archive's `images`. */
export function imageOptions(images, img) {
  // One image: nothing to choose (and nothing to get wrong). Several: by id, else by tag.
  if (images.length < 2) return {};
  const opts = { image: img.id || (img.tags && img.tags[0]) || String(img.index) };
  if (img.platform) opts.platform = img.platform;
  return opts;
}

/**
 * The squash point `from`, chosen on `before` (from list()), as a layer id of `after` (the
 * same image from inspect()). Layer ids can change once the layers are read (pre-1.10
 * archives name layers by their legacy id until their diff_id is known), so the choice is
 * carried over by layer position; the default stays the default.
 */
export function carryChoice(before, after, from) {
  const wasDefault = before.defaultFrom && from === before.defaultFrom.from;
  if (wasDefault && after.defaultFrom) return after.defaultFrom.from;
  if (from === 'root') return from;
  const old = layersOf(before).find((l) => l.id === from);
  const now = old && layersOf(after).find((l) => l.index === old.index);
  return now ? now.id : after.defaultFrom ? after.defaultFrom.from : 'root';
}
