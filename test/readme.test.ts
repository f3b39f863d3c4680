// The README stays true: its CLI synopses list exactly the options each command's --help lists;
// its TypeScript examples compile against the package's declarations (through the package's
// "exports", with skipLibCheck off, as a user's project sees them); and the fine-tuning example
// runs as written on a tiny model and small STS-B-format files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from './helpers/cli.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TINY_TOKENIZER = join(ROOT, 'test', 'fixtures', 'tiny-tokenizer');

async function readme(): Promise<string> {
  return readFile(join(ROOT, 'README.md'), 'utf8');
}

/** The fenced block that follows `marker`. */
function blockAfter(text: string, marker: string, lang = ''): string {
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `README lacks "${marker}"`);
  const open = text.indexOf('```' + lang + '\n', at);
  assert.ok(open >= 0, `no code block after "${marker}"`);
  const start = open + 4 + lang.length;
  return text.slice(start, text.indexOf('```\n', start));
}

const flags = (text: string): Set<string> => new Set((text.match(/--[a-z][a-z0-9-]*/g) ?? []).filter((f) => f !== '--help'));

test('the README CLI synopses list exactly the options of each command\'s --help', async () => {
  const block = blockAfter(await readme(), '## CLI\n');
  // a line "sentencekit CMD …" starts a command; indented lines continue the one above
  const byCommand = new Map<string, string>();
  let current = '';
  for (const line of block.split('\n')) {
    const m = /^sentencekit ([a-z-]+)/.exec(line);
    if (m) current = m[1];
    else if (!/^\s/.test(line)) current = '';
    if (current) byCommand.set(current, (byCommand.get(current) ?? '') + line + '\n');
  }
  const help = await cli('--help');
  const commands = [...help.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]);
  assert.ok(commands.length >= 9, help.stdout);
  for (const cmd of commands) {
    const usage = await cli(cmd, '--help');
    assert.equal(usage.code, 0, `${cmd} --help: ${usage.stderr}`);
    const want = [...flags(usage.stdout)].sort();
    const got = [...flags(byCommand.get(cmd) ?? '')].sort();
    assert.deepEqual(got, want, `README synopsis of "${cmd}" (options in README vs in --help)`);
  }
  assert.match(block, /^sentencekit --version/m);
});

function tsc(cwd: string): Promise<{ code: number; out: string }> {
  const bin = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, '-p', cwd], { cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

const WORDS = 'a man woman dog cat plays runs sleeps guitar piano ball the red blue big small'.split(' ');
function stsbRows(n: number, seed: number): string {
  let s = seed;
  const r = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const t = (): string => Array.from({ length: 3 + Math.floor(r() * 5) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  return Array.from({ length: n }, (_, i) => `main-captions\tMSRvid\t2012test\t${i}\t${(r() * 5).toFixed(3)}\t${t()}\t${t()}`).join('\n') + '\n';
}

test('the README examples compile with skipLibCheck off, and the fine-tuning example runs', async () => {
  const text = await readme();
  const api = blockAfter(text, '## API\n', 'ts');
  const fineTuning = blockAfter(text, 'Fine-tuning:', 'ts');
  const dir = await mkdtemp(join(tmpdir(), 'sk-readme-'));
  try {
    // a user's project: the package under node_modules, strict, declarations checked too
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await symlink(ROOT, join(dir, 'node_modules', 'sentencekit'), 'dir');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false,
        noUnusedLocals: false, outDir: 'js', types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['api.ts', 'fine_tuning.ts'],
    }));
    await writeFile(join(dir, 'api.ts'), `export {};\n${api}`);
    await writeFile(join(dir, 'fine_tuning.ts'), `export {};\n${fineTuning}`);
    const c = await tsc(dir);
    assert.equal(c.code, 0, `the README examples do not compile:\n${c.out}`);

    // run the fine-tuning example where its files exist
    const created = await SentenceTransformer.create({ tokenizerDir: TINY_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, seed: 1 });
    await created.save(join(dir, 'my-model'));
    await writeFile(join(dir, 'sts-train.csv'), stsbRows(20, 1));
    await writeFile(join(dir, 'sts-dev.csv'), stsbRows(12, 2));
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(dir, 'js', 'fine_tuning.js')], { cwd: dir, timeout: 120_000, env: { ...process.env, SENTENCEKIT_PROGRESS: 'off' } }, (err, stdout, stderr) => {
        resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
      });
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^2 -?\d\.\d+/, run.stdout);
    assert.ok(existsSync(join(dir, 'out', 'model.safetensors')), 'the fine-tuned model is written to out/');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
