// The bin's `docker://` locations: `-i` pulled into an unlinked temporary file (an OCI
// layout the engine reads like any archive), `-o` squashed into a temporary OCI layout
// and pushed on commit, so only the new layer and the config travel. The registry client
// and its words are the native CLI's (crates/registry, crates/cli-def through the wasm).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lowLevel, fileSource, fileOutput } from '../node.mjs';
import { pullToTemp, pushArchive } from '../registry.mjs';
import { osMessage } from './fail.mjs';

const cli = lowLevel();

const options = (args) => ({
  insecureRegistries: args.insecureRegistries,
  registryTimeout: args.registryTimeout ?? undefined,
  platform: args.platform,
  verbose: args.verbose,
});

/** `-i docker://REF`: `{ source, compression, pulled }`, as openInput gives a file. */
export async function registrySource(loc, args, log) {
  log(cli.sayPulling(cli.registryReference(loc.reference)));
  const { fd, pulled } = await pullToTemp(cli, loc.reference, options(args), log);
  log(cli.sayPulled(pulled.digest, pulled.layers, pulled.bytes));
  return { source: fileSource(fd), compression: 'none', pulled };
}

/**
 * `-o docker://REF`: a temporary archive (fileOutput's), pushed by `commit()`, which
 * resolves to the lines saying what was sent. `pulled`: the registry input, whose layers
 * may be mounted and whose media types the manifest keeps.
 */
export function registryOutput(loc, args, pulled, log) {
  const ref = cli.registryReference(loc.reference); // a bad reference before anything is read
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-squash-push-'));
  const archive = path.join(dir, 'image.tar');
  const out = fileOutput(archive, { describe: osMessage });
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  return {
    get fd() {
      return out.fd;
    },
    tmp: archive,
    write: (chunk) => out.write(chunk),
    async commit() {
      try {
        out.commit();
        const pushed = await pushArchive(cli, archive, ref, options(args), log, pulled);
        return cli.sayPushed(pushed).join('\n');
      } finally {
        remove();
      }
    },
    abandon() {
      out.abandon();
      remove();
    },
  };
}
