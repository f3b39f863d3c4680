// Writes test/fixtures/arch_goldens.json and the Python-saved models under test/fixtures/arch/:
// for every case of test/fixtures/arch_cases.ts, creates our model (as create-model --arch
// does), saves it, and runs scripts/reference/arch_reference.py with the real transformers and
// sentence-transformers (.venv from scripts/python_env.sh) on it.
// Run by hand after changing a case:  npm run build && node dist/scripts/make_arch_goldens.js [--only xlm-roberta,…]
// (--only remakes the named cases and keeps the others' goldens and folders as they are)

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { ARCH_CASES, ARCH_TEXTS, ARCH_TRAIN, archTrainExamples } from '../test/fixtures/arch_cases.js';

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only ? values.only.split(',') : null;
for (const a of only ?? []) if (!ARCH_CASES.some((c) => c.arch === a)) throw new Error(`--only: no case "${a}" (cases: ${ARCH_CASES.map((c) => c.arch).join(', ')})`);
const scratch = await mkdtemp(join(tmpdir(), 'sk-arch-goldens-'));
const kept = only ? (JSON.parse(await readFile('test/fixtures/arch_goldens.json', 'utf8')) as { cases: Record<string, unknown> }).cases : {};
const cases: Record<string, unknown> = {};
try {
  await writeFile(join(scratch, 'texts.json'), JSON.stringify(ARCH_TEXTS));
  await writeFile(join(scratch, 'train.json'), JSON.stringify({ ...ARCH_TRAIN, examples: archTrainExamples() }));
  for (const c of ARCH_CASES) {
    if (only && !only.includes(c.arch)) {
      cases[c.arch] = kept[c.arch];
      continue;
    }
    const ours = join(scratch, c.arch);
    const tokenizer = join('test/fixtures', c.tokenizer);
    const model = await SentenceTransformer.create({ tokenizerDir: tokenizer, arch: c.arch, ...c.create });
    await model.save(ours);
    await model.close();
    await writeFile(join(scratch, 'sizes.json'), JSON.stringify(c.create));
    await rm(join('test/fixtures/arch', c.arch), { recursive: true, force: true });
    execFileSync('.venv/bin/python', [
      'scripts/reference/arch_reference.py', '--arch', c.arch, '--tokenizer', tokenizer, '--sizes', join(scratch, 'sizes.json'),
      '--python-out', join('test/fixtures/arch', c.arch), '--ours', ours, '--texts', join(scratch, 'texts.json'),
      '--train', join(scratch, 'train.json'), '--out', join(scratch, 'out.json'),
    ], { stdio: 'inherit' });
    cases[c.arch] = JSON.parse(await readFile(join(scratch, 'out.json'), 'utf8'));
    process.stderr.write(`${c.arch}: done\n`);
  }
  await writeFile('test/fixtures/arch_goldens.json', JSON.stringify({ note: 'real transformers / sentence-transformers embeddings for test/fixtures/arch_cases.ts (scripts/reference/arch_reference.py)', cases }) + '\n');
} finally {
  await rm(scratch, { recursive: true, force: true });
}
