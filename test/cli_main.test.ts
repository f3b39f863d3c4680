// The `sentencekit` front door: --version / -V print package.json's version, and no arguments is
// a usage mistake like any other (usage on stderr, exit 2), while --help is a success (exit 0).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { assertExit, cli } from './helpers/cli.js';
import { VERSION } from '../src/index.js';

const pkgVersion = async (): Promise<string> =>
  (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('--version and -V print the version from package.json', async () => {
  const want = await pkgVersion();
  for (const flag of ['--version', '-V']) {
    const r = await cli(flag);
    assertExit(r, 0);
    assert.equal(r.stdout, `${want}\n`, flag);
    assert.equal(r.stderr, '', flag);
  }
  assert.equal(VERSION, want, 'the exported VERSION');
});

test('no arguments prints the usage on stderr and exits 2, as other usage mistakes do', async () => {
  const r = await cli();
  assertExit(r, 2, 'Usage: sentencekit <command>', 'encode');
  assert.equal(r.stdout, '');
  const unknown = await cli('no-such-command');
  assertExit(unknown, 2, 'unknown command');
});

test('--help prints the usage on stdout and exits 0', async () => {
  const r = await cli('--help');
  assertExit(r, 0);
  assert.match(r.stdout, /Usage: sentencekit <command>/);
  assert.match(r.stdout, /--version/);
});
