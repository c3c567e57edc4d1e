// `docker-daemon:` and `containers-storage:`, as the native CLI does them: the image is read
// with the engine's own `save` and written with its `load`, run as child processes, so that
// DOCKER_HOST, docker contexts and podman's connections apply as for the user's other
// commands. The squash writes to a temporary file that `load` then reads: nothing reaches
// the engine unless the squash finished (the worker's writes are synchronous, and a child's
// stdin pipe is not a descriptor it can write to).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { PROG, Fail, osMessage } from './fail.mjs';
import { closeQuietly, exclusiveFile } from '../node.mjs';

const PROGRAMS = { docker: 'docker', podman: 'podman' };
const TRANSPORTS = { docker: 'docker-daemon:', podman: 'containers-storage:' };

/** `docker-daemon:app:1`, as messages name it. */
export const describe = (loc) => `${TRANSPORTS[loc.engine]}${loc.reference}`;

/** Starts `prog args`, collecting its stderr (and stdout unless it is to be read). */
function start(loc, args, stdio) {
  const prog = PROGRAMS[loc.engine];
  const child = spawn(prog, args, { stdio });
  const said = { stderr: '' };
  child.stderr.setEncoding('utf8').on('data', (d) => (said.stderr += d));
  const ended = new Promise((resolve, reject) => {
    child.once('error', (e) =>
      reject(
        new Fail(
          e.code === 'ENOENT'
            ? `cannot run \`${prog}\` for ${describe(loc)}: it is not on PATH; install it, or give an archive file with -i/-o`
            : `cannot run \`${prog}\` for ${describe(loc)}: ${osMessage(e)}`,
        ),
      ),
    );
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, said, ended };
}

/** The end of a run: an error quoting what the engine said when it failed. */
async function finish({ said, ended }, verb) {
  const { code, signal } = await ended;
  if (code === 0) return;
  const why = said.stderr.trim() || (signal ? `it was killed by ${signal}` : `it ended with exit status: ${code}`);
  throw new Fail(`\`${verb}\` failed: ${why}`);
}

/** The image `loc` names, read with `docker save` into `spool` (input.mjs's spoolStream). */
export async function engineSave(loc, spool, log) {
  const prog = PROGRAMS[loc.engine];
  log(`reading ${describe(loc)}: ${prog} save ${loc.reference}`);
  const run = start(loc, ['save', loc.reference], ['ignore', 'pipe', 'pipe']);
  // A failure to start comes as an event: no spooling of a stream that never opens.
  const started = new Promise((resolve) => run.child.once('spawn', resolve));
  await Promise.race([started, run.ended]);
  let spooled;
  let failure = null;
  try {
    spooled = await spool(run.child.stdout, describe(loc), log);
  } catch (e) {
    failure = e;
  }
  // What the engine said is the better error: an empty stream is only its effect.
  await finish(run, `${prog} save ${loc.reference}`);
  if (failure) throw failure;
  return spooled;
}

/**
 * The output for `docker load`: a temporary file, loaded on commit. `{ fd, tmp, commit,
 * abandon }` as node.mjs's fileOutput; `commit()` resolves to what the load said, and
 * `abandon()` removes the file and stops a load that has started.
 */
export function engineOutput(loc) {
  let fd, tmp;
  try {
    ({ fd, path: tmp } = exclusiveFile(os.tmpdir(), `.${PROG}-load-`, '.tar', 0o600));
  } catch (e) {
    throw new Fail(`cannot create a temporary file in ${os.tmpdir()}: ${osMessage(e)}`);
  }
  let child = null;
  const close = () => {
    closeQuietly(fd); // closed or not, the file goes
    fd = undefined;
  };
  return {
    get fd() {
      return fd;
    },
    tmp,
    stops: 'the load was stopped, nothing was loaded',
    async commit() {
      const prog = PROGRAMS[loc.engine];
      close();
      let input;
      try {
        input = fs.openSync(tmp, 'r');
      } catch (e) {
        throw new Fail(`cannot read back ${tmp}: ${osMessage(e)}`);
      }
      try {
        const run = start(loc, ['load'], [input, 'pipe', 'pipe']);
        child = run.child;
        let said = '';
        run.child.stdout.setEncoding('utf8').on('data', (d) => (said += d));
        await finish(run, `${prog} load`);
        return said;
      } finally {
        child = null;
        fs.closeSync(input);
        fs.rmSync(tmp, { force: true });
      }
    },
    abandon() {
      if (child) child.kill('SIGKILL');
      close();
      fs.rmSync(tmp, { force: true });
    },
  };
}
