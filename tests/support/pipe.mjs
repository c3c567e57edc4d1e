// `cat FILE | cmd args` through a real OS pipe from another process, as users run
// `docker save IMG | docker-squash`: shared by the npm tests (runPiped) and the e2e tests
// (squashPiped), so both pipe the same way.

/**
 * The arguments of `bash` that pipe `file` into `cmd` (an array: program and arguments)
 * and exit with cmd's status, not the producer's. `producer` (a bash snippet reading
 * "$f") replaces `cat` (e.g. a slow writer).
 */
export function pipeArgs(file, cmd, { producer = 'cat -- "$f"' } = {}) {
  return ['-c', `f=$1; shift; { ${producer}; } | "$@"; exit "\${PIPESTATUS[1]}"`, 'bash', file, ...cmd];
}
