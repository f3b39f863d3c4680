// Saving keeps the dtype a model was loaded in: an F16 copy of an interop fixture (Transformer
// and Dense) saves as F16 in every tensor; after fine-tuning every tensor is float32, and the
// trainer says so. Also: a folder holding only pytorch_model.bin files loads and saves as safetensors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { floatTensor, readSafetensors, toFloat32, writeSafetensors } from '../src/models/safetensors.js';
import { readTorchFile } from '../src/models/torch_pickle.js';
import { Trainer } from '../src/training/trainer.js';
import { createLoss } from '../src/losses/index.js';

const FIX = resolve('test', 'fixtures', 'interop');

async function toF16(path: string): Promise<void> {
  const f = await readSafetensors(path);
  const out = new Map([...f.tensors].map(([n, t]) => [n, t.dtype === 'F32' ? floatTensor(toFloat32(t, n), t.shape, 'F16') : t]));
  await writeSafetensors(path, out, { format: 'pt' });
}

async function dtypes(path: string): Promise<Set<string>> {
  const f = await readSafetensors(path);
  return new Set([...f.tensors.values()].map((t) => t.dtype));
}

test('an F16 model saves as F16; fine-tuned, it saves float32 throughout and says so', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sk-dtype-'));
  try {
    const src = join(root, 'f16');
    await cp(join(FIX, 'st6_pytorch_bin'), src, { recursive: true });
    // the fixture's weights are pytorch_model.bin: load, save (as safetensors), make them F16
    const m0 = await SentenceTransformer.load(src, { threads: 1 });
    await m0.save(join(root, 'st'));
    await m0.close();
    assert.ok(existsSync(join(root, 'st', 'model.safetensors')) && existsSync(join(root, 'st', '2_Dense', 'model.safetensors')));
    assert.ok(existsSync(join(root, 'st', '2_Dense', 'pytorch_model.bin')), 'v3 writes the Dense weights for 2.x too');
    await toF16(join(root, 'st', 'model.safetensors'));
    await toF16(join(root, 'st', '2_Dense', 'model.safetensors'));

    const model = await SentenceTransformer.load(join(root, 'st'), { threads: 1 });
    await model.save(join(root, 'again'));
    assert.deepEqual(await dtypes(join(root, 'again', 'model.safetensors')), new Set(['F16']));
    assert.deepEqual(await dtypes(join(root, 'again', '2_Dense', 'model.safetensors')), new Set(['F16']));
    const bin = await readTorchFile(join(root, 'again', '2_Dense', 'pytorch_model.bin'));
    assert.deepEqual(new Set([...bin.values()].map((t) => t.dtype)), new Set(['F16']));

    const lines: string[] = [];
    const texts = ['a cat sat', 'the dog runs', 'blue sky', 'green tree', 'old house', 'fast train', 'small river', 'new book'];
    const trainer = new Trainer({
      model, trainDataset: { examples: texts.map((t, i) => ({ texts: [t, texts[(i + 1) % texts.length]] })) },
      loss: createLoss('MultipleNegativesRankingLoss', {}), args: { maxSteps: 1, batchSize: 4, dropout: false }, progress: false, log: (l) => lines.push(l),
    });
    await trainer.train();
    await model.save(join(root, 'trained'));
    await model.close();
    assert.deepEqual(await dtypes(join(root, 'trained', 'model.safetensors')), new Set(['F32']));
    assert.deepEqual(await dtypes(join(root, 'trained', '2_Dense', 'model.safetensors')), new Set(['F32']));
    assert.ok(lines.some((l) => /F16 weights; training runs in float32 and saves every tensor as float32/.test(l)), lines.join('\n'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
