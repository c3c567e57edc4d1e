#!/usr/bin/env python3
"""A floor for the bench: reads each FILE once in 1 MiB chunks; with --sha256 also hashes it
(hashlib, i.e. OpenSSL's SHA-256, which uses the CPU's SHA instructions where it has them).
  readhash.py [--sha256] FILE...
Used for "read the input once and hash every byte of it" (what verifying every layer
against its diff_id costs) and "sha256 of the squashed layer"."""
import hashlib
import sys


def main(argv):
    do_hash = "--sha256" in argv
    files = [a for a in argv if a != "--sha256"]
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    for name in files:
        h = hashlib.sha256() if do_hash else None
        with open(name, "rb", buffering=0) as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                if h:
                    h.update(view[:n])
        print(f"{h.hexdigest() if h else '-'}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
