// The package's version, read once from its package.json (two folders above this file's
// compiled form, dist/src/version.js), so that `sentencekit --version` and the exported VERSION
// never drift from what npm installs.

import { readFileSync } from 'node:fs';

function readVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error(`${url.pathname}: no "version" string`);
  return pkg.version;
}

export const VERSION: string = readVersion();
