// What each error code means to the person using the page, and what they can do about it.
// The codes are the engine's (SquashError.code) and LOAD, when the squasher cannot start.

/** code -> [what happened, what to do]. */
const ADVICE = {
  NOT_AN_IMAGE: [
    'This file is not a Docker image archive.',
    'Choose an archive written by "docker save -o image.tar IMAGE" (or podman/skopeo save): a .tar, .tar.gz, .tgz or .tar.zst file.',
  ],
  CORRUPT: [
    'The archive is damaged or incomplete.',
    'It may have been cut short while copying or downloading. Save the image again with "docker save" and choose the new file.',
  ],
  DIGEST_MISMATCH: [
    'A layer in the archive does not match its checksum.',
    'The archive was changed or damaged after it was saved. Save the image again with "docker save".',
  ],
  IMAGE_CHOICE: ['Which image to use is not clear.', 'Choose one of the images listed above.'],
  FROM_CHOICE: [
    'That squash point does not name exactly one layer.',
    'Click another row of the history, or choose root.',
  ],
  BAD_TAG: [
    'The tag is not a valid image name.',
    'Use lowercase letters, digits, ".", "_" and "-", like "myapp:squashed" or "registry.example.com/team/app:1.0". Or leave it empty.',
  ],
  TOO_LARGE: [
    'The archive hit a safety limit.',
    'It holds something unusually large (for example a compression bomb). If you trust it, use the docker-squash command-line tool.',
  ],
  UNSUPPORTED: [
    'This archive uses something the squasher does not support.',
    'Try the docker-squash command-line tool, or save the image with a current Docker version.',
  ],
  IO: [
    'Reading the file or writing the result failed.',
    'Check that the file is still there and that your disk has free space, then try again.',
  ],
  LOAD: [
    'The squasher could not start in this browser.',
    'Reload the page. It needs a current browser with WebAssembly and module workers (Chrome, Edge, Firefox or Safari from 2023 on).',
  ],
  INTERNAL: [
    'The squasher failed unexpectedly.',
    'Try again; if it happens again with the same file, please report it with the details below.',
  ],
};

/** `{ what, todo }` for an error code; unknown codes read as INTERNAL. */
export function adviceFor(code) {
  const [what, todo] = ADVICE[code] || ADVICE.INTERNAL;
  return { what, todo };
}
