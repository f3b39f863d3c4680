// SentenceTransformer.load of a Hugging Face Hub id against a local HTTP server that serves a
// saved model (Transformer, Pooling, Dense, Normalize) at the hub's resolve URLs with the
// hub's headers: the downloaded model encodes exactly as the directory it came from, loads
// again offline from the cache without a request, survives an unreachable hub, resumes a
// partial download, and an unknown repo gives a clear error. A StaticEmbedding repository
// (0_StaticEmbedding/ with model.safetensors and tokenizer.json, no config.json) downloads too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const skip = sharedMissing(MINILM_TOKENIZER);
const REPO = 'org/tiny-model';
const STATIC_REPO = 'org/tiny-static';
let servedStatic = new Map<string, Buffer>();
const COMMIT = '5d0f0c1e2b3a49586776a5b4c3d2e1f00f1e2d3c';
const TEXTS = ['A man is playing a guitar.', 'hello', '', 'The weather is lovely today, is it not?'];

let root = '';
let modelDir = '';
let endpoint = '';
let server: Server | null = null;
let served = new Map<string, Buffer>();
let log: Array<{ method: string; file: string; range?: string }> = [];
let local: SentenceTransformer | null = null;
let localEmb: Float32Array;

const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Answers like huggingface.co: resolve URLs, x-repo-commit, ETags (LFS files: x-linked-*), Range. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  const repo = m[1];
  const rev = decodeURIComponent(m[2]);
  const file = m[3].split('/').map(decodeURIComponent).join('/');
  log.push({ method: req.method ?? '', file, range: req.headers.range });
  if (repo !== REPO && repo !== STATIC_REPO) {
    res.writeHead(404, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' }).end();
    return;
  }
  if (rev !== 'main' && rev !== COMMIT) {
    res.writeHead(404, { 'x-error-code': 'RevisionNotFound', 'x-error-message': 'Invalid rev id' }).end();
    return;
  }
  const body = (repo === STATIC_REPO ? servedStatic : served).get(file);
  if (!body) {
    res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found', 'x-repo-commit': COMMIT }).end();
    return;
  }
  const headers: Record<string, string> = { 'x-repo-commit': COMMIT, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  if (file.endsWith('.safetensors')) {
    headers['x-linked-etag'] = `"${sha256(body)}"`;
    headers['x-linked-size'] = String(body.length);
    headers.etag = `"${sha256(body)}"`;
  } else {
    headers.etag = `"${gitSha1(body)}"`;
  }
  let status = 200;
  let part = body;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && req.method === 'GET') {
    const start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    status = 206;
    part = body.subarray(start);
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  }
  headers['content-length'] = String(part.length);
  res.writeHead(status, headers);
  if (req.method === 'HEAD') res.end();
  else res.end(part);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sk-hub-model-'));
  if (skip) return;
  modelDir = join(root, 'model');
  const created = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, dense: 8, seed: 11 });
  await created.save(modelDir);
  served = new Map();
  for (const e of await readdir(modelDir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    served.set(relative(modelDir, full).split(sep).join('/'), await readFile(full));
  }
  // an optional file the repo lacks: the hub answers 404 and the loader goes on without it
  assert.ok(served.delete('vocab.txt'));
  await rm(join(modelDir, 'vocab.txt'));
  assert.ok(served.has('2_Dense/model.safetensors'), 'the served model has a Dense module');
  const staticDir = join(root, 'static');
  await (await SentenceTransformer.createStatic({ tokenizerDir: MINILM_TOKENIZER, dim: 8, seed: 4 })).save(staticDir);
  servedStatic = new Map();
  for (const e of await readdir(staticDir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) servedStatic.set(relative(staticDir, join(e.parentPath, e.name)).split(sep).join('/'), await readFile(join(e.parentPath, e.name)));
  }
  server = createServer(handle);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  local = await SentenceTransformer.load(modelDir, { threads: 1 });
  localEmb = (await local.encodeMatrix(TEXTS)).data;
});

after(async () => {
  await local?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  }
  if (root) await rm(root, { recursive: true, force: true });
});

function assertSameEmbeddings(got: Float32Array, what: string): void {
  assert.equal(got.length, localEmb.length, what);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - localEmb[i]));
  assert.ok(worst <= 1e-7, `${what}: differs from the local directory by ${worst}`);
}

async function loadAndCheck(id: string, opts: Parameters<typeof SentenceTransformer.load>[1], what: string): Promise<void> {
  const m = await SentenceTransformer.load(id, { threads: 1, ...opts });
  try {
    assertSameEmbeddings((await m.encodeMatrix(TEXTS)).data, what);
    assert.ok(local);
    assert.deepEqual(m.info(), local.info(), `${what}: info() differs`);
  } finally {
    await m.close();
  }
}

const cacheDir = (): string => join(root, 'cache');
const storage = (cache: string): string => join(cache, 'models--org--tiny-model');

test('load(hub id) downloads the model and its module folders, and encodes as the directory does', { skip }, async () => {
  log = [];
  await loadAndCheck(REPO, { endpoint, cacheDir: cacheDir() }, 'hub download');
  const snap = join(storage(cacheDir()), 'snapshots', COMMIT);
  assert.equal((await readFile(join(storage(cacheDir()), 'refs', 'main'), 'utf8')).trim(), COMMIT);
  for (const f of ['modules.json', 'model.safetensors', 'tokenizer.json', '1_Pooling/config.json', '2_Dense/config.json', '2_Dense/model.safetensors']) {
    const bytes = await readFile(join(snap, ...f.split('/')));
    assert.ok(bytes.equals(served.get(f)!), `${f} in the snapshot differs from the served file`);
  }
  assert.ok(!existsSync(join(snap, 'vocab.txt')), 'vocab.txt does not exist in the repo');
  assert.ok(existsSync(join(storage(cacheDir()), '.no_exist', COMMIT, 'vocab.txt')), 'the 404 of vocab.txt is remembered');
  const gets = log.filter((r) => r.method === 'GET').map((r) => r.file);
  assert.ok(gets.includes('2_Dense/model.safetensors'), `the Dense weights were not downloaded (GETs: ${gets.join(', ')})`);
  assert.ok(log.every((r) => r.range === undefined), 'a fresh download asks for no range');
});

test('a second load with offline: true works from the cache without a request', { skip }, async () => {
  log = [];
  await loadAndCheck(REPO, { endpoint, cacheDir: cacheDir(), offline: true }, 'offline: true');
  assert.deepEqual(log, [], 'offline mode sent requests');
});

test('HF_HUB_OFFLINE=1 works from the cache too', { skip }, async () => {
  log = [];
  const saved = process.env.HF_HUB_OFFLINE;
  process.env.HF_HUB_OFFLINE = '1';
  try {
    await loadAndCheck(REPO, { endpoint, cacheDir: cacheDir() }, 'HF_HUB_OFFLINE=1');
  } finally {
    if (saved === undefined) delete process.env.HF_HUB_OFFLINE;
    else process.env.HF_HUB_OFFLINE = saved;
  }
  assert.deepEqual(log, [], 'HF_HUB_OFFLINE=1 sent requests');
});

test('an unreachable hub falls back to the cached snapshot', { skip }, async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadEndpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await loadAndCheck(REPO, { endpoint: deadEndpoint, cacheDir: cacheDir() }, 'unreachable hub');
});

test('a partial download is resumed with a Range request', { skip }, async () => {
  const cache = join(root, 'cache-resume');
  const weights = served.get('model.safetensors')!;
  const blobs = join(storage(cache), 'blobs');
  await mkdir(blobs, { recursive: true });
  const half = Math.floor(weights.length / 2);
  await writeFile(join(blobs, `${sha256(weights)}.incomplete`), weights.subarray(0, half));
  log = [];
  await loadAndCheck(REPO, { endpoint, cacheDir: cache }, 'resumed download');
  const ranged = log.filter((r) => r.method === 'GET' && r.file === 'model.safetensors');
  assert.deepEqual(ranged.map((r) => r.range), [`bytes=${half}-`]);
  assert.ok((await readFile(join(blobs, sha256(weights)))).equals(weights));
  assert.ok(!existsSync(join(blobs, `${sha256(weights)}.incomplete`)));
});

test('an unknown repo id gives a clear error', { skip }, async () => {
  await assert.rejects(SentenceTransformer.load('org/no-such-model', { endpoint, cacheDir: cacheDir() }), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.ok(!(err instanceof TypeError), err.message);
    assert.match(err.message, /org\/no-such-model/);
    assert.match(err.message, /not found/);
    assert.match(err.message, /no such local directory/);
    return true;
  });
});

test('offline with a repo that is not cached gives a clear error', { skip }, async () => {
  log = [];
  await assert.rejects(SentenceTransformer.load('org/never-downloaded', { endpoint, cacheDir: cacheDir(), offline: true }), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /org\/never-downloaded/);
    assert.match(err.message, /not in the cache/);
    assert.match(err.message, /offline/);
    return true;
  });
  assert.deepEqual(log, []);
});

test('a Transformer kept in a module folder is downloaded with its tokenizer', { skip }, async () => {
  // the layout of older sentence-transformers models: the encoder and tokenizer in 0_Transformer/
  const original = served;
  const moved = new Map<string, Buffer>();
  const transformerFiles = ['config.json', 'model.safetensors', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
  for (const [f, b] of original) moved.set(transformerFiles.includes(f) ? `0_Transformer/${f}` : f, b);
  const modules = JSON.parse(original.get('modules.json')!.toString('utf8')) as Array<{ path: string }>;
  modules[0].path = '0_Transformer';
  moved.set('modules.json', Buffer.from(JSON.stringify(modules, null, 2)));
  served = moved;
  try {
    await loadAndCheck(REPO, { endpoint, cacheDir: join(root, 'cache-subfolder') }, 'Transformer in 0_Transformer/');
  } finally {
    served = original;
  }
});

test('load(hub id) of a StaticEmbedding repository downloads its module folder and encodes as the directory does', { skip }, async () => {
  const dir = await SentenceTransformer.load(join(root, 'static'), { threads: 1 });
  const want = (await dir.encodeMatrix(TEXTS)).data;
  await dir.close();
  const m = await SentenceTransformer.load(STATIC_REPO, { threads: 1, endpoint, cacheDir: join(root, 'cache-static') });
  const got = (await m.encodeMatrix(TEXTS)).data;
  await m.close();
  assert.deepEqual(got, want);
  assert.equal(m.info().architecture, 'StaticEmbedding');
});
