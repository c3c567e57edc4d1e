// Checked by .ci/build-wasm with `tsc --noEmit` against the assembled package: a small use
// of every entry point, as a TypeScript user would write it. Wrong types must not compile.
import {
  inspect,
  squash,
  squashToFile,
  list,
  fileSource,
  checkTag,
  checkOptions,
  verifyLayers,
  type Inspection,
  type SquashReport,
  type Progress,
} from 'docker-squash-wasm';
import * as browser from 'docker-squash-wasm/bundler';
import * as low from 'docker-squash-wasm/low-level/web';

async function node(): Promise<void> {
  const facts: Inspection = await inspect('image.tar', { onProgress: (p: Progress) => p.bytesDone < p.bytesTotal });
  const first = facts.images[0];
  const ids: string[] = first.history.flatMap((h) => (h.layer ? [h.layer.id] : []));
  const { chunks, report } = await squash(new Uint8Array(0), { from: ids[0] ?? 'root', tag: 'app:squashed' });
  const total: number = chunks.reduce((n, c) => n + c.length, 0) + report.outputBytes;
  const r: SquashReport = await squashToFile('in.tar', 'out.tar', { from: 'root', platform: 'linux/arm64' });
  const src = fileSource('in.tar');
  const listed = await list(src);
  src.close();
  const tag: string = await checkTag('app');
  await checkOptions({ compress: 'zstd', level: 19, format: 'docker' });
  const verified = await verifyLayers('image.tar', {
    layers: [0, 2],
    onProgress: (p: Progress) => p.bytesDone > 0,
    wholeLayerMax: 0,
  });
  const whole: number[] = verified.hashedWhole;
  console.log(total, r.newLayerDiffId ?? 'none', listed.format, tag, first.defaultFrom.layerIndex, whole.length);
}

async function web(file: File): Promise<void> {
  await browser.squash(file, { onChunk: (c: Uint8Array) => void c.byteLength });
  const facts = await browser.inspect(await file.arrayBuffer());
  const wasted: number = facts.images[0].largestWasted[0].size;
  await low.default();
  const rep = low.squash({ size: 0, readAt: (o: number, l: number) => new Uint8Array(l - o) }, { onChunk: () => {} });
  console.log(wasted, rep.layersAfter);
}

// @ts-expect-error: `from` is a string, not a number
await squash('in.tar', { from: 3 });
// @ts-expect-error: the report has no `size`
(await squashToFile('a', 'b')).size;
// @ts-expect-error: squashToFile writes to the path, so it takes no onChunk
await squashToFile('a', 'b', { onChunk: () => {} });

export { node, web };
