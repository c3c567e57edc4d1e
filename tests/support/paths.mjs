// Where every test helper (e2e, npm, web) finds what it tests: the repository, the
// native CLI as `make cli` builds it, and the shared fixtures beside the repository.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'target/release/docker-squash');
export const FIXTURES = path.resolve(ROOT, '../shared/fixtures');
