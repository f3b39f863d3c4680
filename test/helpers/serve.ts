// Starts the HTTP server in-process on a free loopback port over a tiny model (saved to a
// temporary folder and loaded with a worker-thread session, as `sentencekit serve` does), and
// gives a reference copy of the same model running in-thread, to compare against `encode`.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SentenceTransformer } from '../../src/models/sentence_transformer.js';
import { createServer, type Server, type ServerOptions } from '../../src/serve/app.js';
import { tinyModel } from './train_fixtures.js';

export interface Served {
  url: string;
  server: Server;
  /** The served model (its worker-thread session). */
  model: SentenceTransformer;
  reference: SentenceTransformer;
  modelDir: string;
  close(): Promise<void>;
}

let shared: { dir: string; refs: number } | null = null;

/** A tiny model's folder, written once per test process. */
export async function tinyModelDir(): Promise<string> {
  if (!shared) {
    const dir = await mkdtemp(join(tmpdir(), 'sk-serve-'));
    const m = await tinyModel(7);
    await m.save(join(dir, 'model'));
    await m.close();
    shared = { dir, refs: 0 };
  }
  return join(shared.dir, 'model');
}

export async function serveTiny(opts: Partial<Omit<ServerOptions, 'model'>> = {}): Promise<Served> {
  const modelDir = await tinyModelDir();
  const model = await SentenceTransformer.load(modelDir, { worker: true, threads: 1 });
  const reference = await SentenceTransformer.load(modelDir, { threads: 1 });
  const server = await createServer({ model, modelName: 'tiny', modelDir, ...opts });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.app.server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    model,
    reference,
    modelDir,
    async close() {
      await server.close();
      await reference.close();
    },
  };
}

/**
 * A flat index in `dir` over `corpus` (JSON lines), built with the tiny model through the index
 * layer's own ingestion; with chunkTokens, documents are split into chunks (doc_id/start/end).
 */
export async function buildTinyIndex(dir: string, corpus: string, chunkTokens?: number): Promise<void> {
  const { createIndex, ingestCorpus, modelInfo } = await import('../../src/index/index.js');
  const model = await SentenceTransformer.load(await tinyModelDir(), { threads: 1 });
  const index = await createIndex({ backend: 'flat', dir, dim: model.dimension, model: modelInfo(model, 'tiny'), threads: 1 });
  try {
    await ingestCorpus(index, model, corpus, { chunkTokens });
  } finally {
    await index.close();
    await model.close();
  }
}

export async function removeTinyModel(): Promise<void> {
  if (shared) await rm(shared.dir, { recursive: true, force: true });
  shared = null;
}

/** POST JSON (or raw bytes) and read the JSON answer. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch { /* not JSON: keep the text */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
