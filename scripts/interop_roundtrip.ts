// Writes the folders that scripts/reference/check_interop_reverse.py loads in Python: every
// interop fixture model (test/fixtures/interop/) saved by SentenceKit in each format that can
// hold it (the default v3 layout, v6, v2), plus one fine-tuned for a few steps, each with our
// embeddings of sentences.json (NAME.ours.npy) and the prompt name to encode with (NAME.json).
// It also prints, per fixture, the max |diff| of our embeddings against the golden ones 6.0.1 wrote.
// Usage: node dist/scripts/interop_roundtrip.js OUT && .venv/bin/python scripts/reference/check_interop_reverse.py OUT

import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { encodeNpy, readNpy } from '../src/io/npy.js';
import { poolingFlagsProblem, type StFormat } from '../src/models/st_format.js';
import { Trainer } from '../src/training/trainer.js';
import { createLoss } from '../src/losses/index.js';

const FIX = resolve('test', 'fixtures', 'interop');

async function main(out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  await copyFile(join(FIX, 'sentences.json'), join(out, 'sentences.json'));
  const sentences = JSON.parse(await readFile(join(FIX, 'sentences.json'), 'utf8')) as string[];
  const write = async (model: SentenceTransformer, name: string, format: StFormat | undefined, promptName: string | null): Promise<void> => {
    const dir = join(out, name);
    await model.save(dir, format ? { format } : {});
    const m = await model.encodeMatrix(sentences, { batchSize: 32, ...(promptName ? { promptName } : {}) });
    await writeFile(join(out, `${name}.ours.npy`), encodeNpy(m.data, [m.rows, m.dim]));
    await writeFile(join(out, `${name}.json`), JSON.stringify({ prompt_name: promptName }) + '\n');
  };
  const names = (await readdir(FIX, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  for (const name of names) {
    const model = await SentenceTransformer.load(join(FIX, name), { threads: 1 });
    // this direction first: our embeddings of the folder 6.0.1 saved against its golden ones
    const golden = await readNpy(join(FIX, `${name}.golden.npy`));
    const ours = await model.encodeMatrix(sentences, { batchSize: 32 });
    let d = 0;
    for (let i = 0; i < golden.data.length; i++) d = Math.max(d, Math.abs(ours.data[i] - golden.data[i]));
    console.log(JSON.stringify({ loaded_here: name, format: model.info().format, sentences: sentences.length, max_abs_diff: d }));
    const modes = model.pooling?.modes ?? [];
    const formats: Array<StFormat | undefined> = [undefined, 'v6'];
    if (!poolingFlagsProblem(modes)) formats.push('v2');
    for (const f of formats) await write(model, `${name}-${f ?? 'default'}`, f, name === 'st6_prompts' ? 'passage' : null);
    if (name === 'st6_prompts') await write(model, `${name}-default-prompt`, undefined, null);
    await model.close();
  }
  // fine-tuned a few steps, then saved (a v3 model with Dense, and one that needs v6)
  for (const name of ['st6_pytorch_bin', 'st6_cls_max_dense']) {
    const model = await SentenceTransformer.load(join(FIX, name), { threads: 1 });
    const pairs = sentences.slice(0, 64).map((s, i) => ({ texts: [s, sentences[(i + 1) % 64]] }));
    const trainer = new Trainer({ model, trainDataset: { examples: pairs }, loss: createLoss('MultipleNegativesRankingLoss', {}), args: { maxSteps: 4, batchSize: 16, learningRate: 1e-3, dropout: false }, progress: false });
    await trainer.train();
    await write(model, `trained-${name}`, undefined, null);
    await model.close();
  }
}

await main(process.argv[2] ?? 'interop-out');
