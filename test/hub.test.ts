// Tests for Hugging Face Hub downloads against a local HTTP server that serves
// an in-memory repo the way the hub does (resolve URLs, x-repo-commit and
// etag headers, large files redirected to a separate CDN server with Range
// support), checking the cache layout, resumption, offline mode and errors.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubCacheDir, hubFile, HubError, isHubId, snapshotDownload } from '../src/models/hub.js';

const COMMIT_OLD = 'a'.repeat(40);
const COMMIT_NEW = '0123456789abcdef0123456789abcdef01234567';
const GOOD_TOKEN = 'hf_goodtoken';

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

const enc = new TextEncoder();
const gitSha = (b: Uint8Array): string =>
  createHash('sha1').update(`blob ${b.byteLength}\0`).update(b).digest('hex');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface RepoFile { content: Uint8Array; lfs: boolean }
type Tree = Map<string, RepoFile>;

const small = (s: string): RepoFile => ({ content: enc.encode(s), lfs: false });
const large = (n: number, seed: number): RepoFile => ({ content: pattern(n, seed), lfs: true });

const oldTree: Tree = new Map([
  ['config.json', small('{"v":1}')],
  ['model.safetensors', large(10_000, 1)],
]);
const newTree: Tree = new Map([
  ['config.json', small('{"v":2}')],
  ['modules.json', small('[]')],
  ['2_Dense/config.json', small('{"in":4}')],
  ['model.safetensors', large(50_000, 2)],
  ['resume.bin', large(200_000, 3)],
  ['drop.bin', large(300_000, 4)],
]);

interface Repo { commits: Map<string, Tree>; refs: Map<string, string>; private: boolean }
const repos = new Map<string, Repo>([
  ['acme/mini', {
    commits: new Map([[COMMIT_OLD, oldTree], [COMMIT_NEW, newTree]]),
    refs: new Map([['main', COMMIT_NEW], ['v1', COMMIT_OLD], ['refs/pr/1', COMMIT_OLD]]),
    private: false,
  }],
  ['acme/private', {
    commits: new Map([[COMMIT_NEW, new Map([['config.json', small('{"secret":true}')]])]]),
    refs: new Map([['main', COMMIT_NEW]]),
    private: true,
  }],
]);
const blobsBySha = new Map<string, Uint8Array>();
for (const repo of repos.values()) {
  for (const tree of repo.commits.values()) {
    for (const f of tree.values()) if (f.lfs) blobsBySha.set(sha256(f.content), f.content);
  }
}

interface Logged { server: 'hub' | 'cdn'; method: string; url: string; range?: string; auth?: string }
let log: Logged[] = [];
/** sha256 of CDN blobs whose next GET is cut off in the middle of the body. */
const dropNext = new Set<string>();

function record(server: Logged['server'], req: IncomingMessage): void {
  log.push({ server, method: req.method ?? '', url: req.url ?? '', range: req.headers.range, auth: req.headers.authorization });
}

function sendBytes(req: IncomingMessage, res: ServerResponse, body: Uint8Array, headers: Record<string, string>): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let start = 0;
  let status = 200;
  if (range) {
    start = Number(range[1]);
    if (start >= body.byteLength) {
      res.writeHead(416, { 'content-range': `bytes */${body.byteLength}` }).end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${body.byteLength - 1}/${body.byteLength}`;
  }
  const part = body.subarray(start);
  res.writeHead(status, { ...headers, 'content-length': String(part.byteLength), 'accept-ranges': 'bytes' });
  if (req.method === 'HEAD') res.end();
  else res.end(part);
}

let cdnBase = '';

function hubHandler(req: IncomingMessage, res: ServerResponse): void {
  record('hub', req);
  const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  const [, repoId, revEncoded, fileEncoded] = m;
  const repo = repos.get(repoId);
  if (!repo) {
    res.writeHead(404, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' }).end();
    return;
  }
  if (repo.private && req.headers.authorization !== `Bearer ${GOOD_TOKEN}`) {
    res.writeHead(401, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Invalid username or password.' }).end();
    return;
  }
  const rev = decodeURIComponent(revEncoded);
  const commit = repo.commits.has(rev) ? rev : repo.refs.get(rev);
  if (commit === undefined) {
    res.writeHead(404, { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${rev}` }).end();
    return;
  }
  const file = repo.commits.get(commit)!.get(fileEncoded.split('/').map(decodeURIComponent).join('/'));
  if (!file) {
    res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': commit }).end();
    return;
  }
  if (file.lfs) {
    const sha = sha256(file.content);
    res.writeHead(302, {
      location: `${cdnBase}/blobs/${sha}`,
      'x-repo-commit': commit,
      'x-linked-etag': `"${sha}"`,
      'x-linked-size': String(file.content.byteLength),
      etag: 'W/"pointer-file-etag"',
    }).end();
    return;
  }
  sendBytes(req, res, file.content, { 'x-repo-commit': commit, etag: `"${gitSha(file.content)}"` });
}

function cdnHandler(req: IncomingMessage, res: ServerResponse): void {
  record('cdn', req);
  const sha = /^\/blobs\/([0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
  const body = sha === undefined ? undefined : blobsBySha.get(sha);
  if (sha === undefined || body === undefined) {
    res.writeHead(404).end();
    return;
  }
  if (dropNext.has(sha) && req.method === 'GET') {
    dropNext.delete(sha);
    res.writeHead(200, { 'content-length': String(body.byteLength) });
    res.write(body.subarray(0, body.byteLength >> 1), () => {
      setTimeout(() => res.socket?.destroy(), 50);
    });
    return;
  }
  sendBytes(req, res, body, { etag: `"${sha}"` });
}

let hub: Server;
let cdn: Server;
let endpoint = '';
let deadEndpoint = '';
let root = '';
let cacheDir = '';
const savedEnv: Record<string, string | undefined> = {};
const ENV_KEYS = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE',
  'HUGGINGFACE_HUB_CACHE', 'HF_HOME', 'XDG_CACHE_HOME'];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  for (const k of ENV_KEYS) {
    savedEnv[k] = process.env[k];
    delete process.env[k];
  }
  root = await mkdtemp(join(tmpdir(), 'sk-hub-'));
  process.env.HF_HOME = join(root, 'hf-home'); // no saved token is picked up
  hub = createServer(hubHandler);
  cdn = createServer(cdnHandler);
  endpoint = await listen(hub);
  cdnBase = await listen(cdn);
  const dead = createServer();
  deadEndpoint = await listen(dead);
  await new Promise<void>((ok) => dead.close(() => ok()));
});

after(async () => {
  hub.closeAllConnections();
  cdn.closeAllConnections();
  await new Promise<void>((ok) => hub.close(() => ok()));
  await new Promise<void>((ok) => cdn.close(() => ok()));
  await rm(root, { recursive: true, force: true });
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

let counter = 0;
beforeEach(async () => {
  log = [];
  cacheDir = join(root, `cache-${counter++}`);
  await mkdir(cacheDir);
});

const repoDir = (): string => join(cacheDir, 'models--acme--mini');
const gets = (): Logged[] => log.filter((l) => l.method === 'GET');

async function rejectsWith(p: Promise<unknown>, ...parts: Array<string | RegExp>): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HubError, `expected HubError, got ${String(err)}`);
    for (const part of parts) {
      if (typeof part === 'string') assert.ok(err.message.includes(part), `${JSON.stringify(err.message)} lacks ${JSON.stringify(part)}`);
      else assert.match(err.message, part);
    }
    return true;
  });
}

test('download lays out blobs, snapshot symlinks and refs like huggingface_hub', async () => {
  const path = await hubFile('acme/mini', 'config.json', { endpoint, cacheDir });
  assert.equal(path, join(repoDir(), 'snapshots', COMMIT_NEW, 'config.json'));
  assert.equal(await readFile(path!, 'utf8'), '{"v":2}');
  assert.ok((await lstat(path!)).isSymbolicLink());
  const blobName = gitSha(enc.encode('{"v":2}'));
  assert.equal(await readlink(path!), join('..', '..', 'blobs', blobName));
  assert.equal(await readFile(join(repoDir(), 'refs', 'main'), 'utf8'), COMMIT_NEW);

  // A large file: metadata from the redirect, bytes from the CDN, blob named by sha256.
  const progress: Array<[number, number | undefined]> = [];
  const model = await hubFile('acme/mini', 'model.safetensors', {
    endpoint, cacheDir, token: GOOD_TOKEN, onProgress: (f, done, total) => { assert.equal(f, 'model.safetensors'); progress.push([done, total]); },
  });
  const bytes = newTree.get('model.safetensors')!.content;
  assert.deepEqual(new Uint8Array(await readFile(model!)), bytes);
  assert.equal(await readlink(model!), join('..', '..', 'blobs', sha256(bytes)));
  assert.deepEqual(progress.at(-1), [bytes.byteLength, bytes.byteLength]);
  assert.equal(progress[0][0], 0);
  const cdnGet = log.find((l) => l.server === 'cdn' && l.method === 'GET');
  assert.ok(cdnGet, 'bytes came from the CDN');
  assert.equal(cdnGet.auth, undefined, 'the token is not sent to another host');
  assert.ok(log.some((l) => l.server === 'hub' && l.method === 'HEAD' && l.auth === `Bearer ${GOOD_TOKEN}`));
  assert.deepEqual((await readdir(join(repoDir(), 'blobs'))).sort(), [blobName, sha256(bytes)].sort());

  // Nested file names keep their folders; the link climbs one more level.
  const dense = await hubFile('acme/mini', '2_Dense/config.json', { endpoint, cacheDir });
  assert.equal(dense, join(repoDir(), 'snapshots', COMMIT_NEW, '2_Dense', 'config.json'));
  assert.equal(await readlink(dense!), join('..', '..', '..', 'blobs', gitSha(enc.encode('{"in":4}'))));
});

test('a second call resolves the revision but does not download again', async () => {
  await hubFile('acme/mini', 'model.safetensors', { endpoint, cacheDir });
  await hubFile('acme/mini', 'config.json', { endpoint, cacheDir });
  log = [];
  const again = await hubFile('acme/mini', 'model.safetensors', { endpoint, cacheDir });
  await hubFile('acme/mini', 'config.json', { endpoint, cacheDir });
  assert.ok(again);
  assert.deepEqual(gets(), [], 'no GET of a body');
  assert.deepEqual(log.map((l) => l.method), ['HEAD', 'HEAD'], 'one resolution request per call');
});

test('revision pinning by branch, tag and commit hash', async () => {
  const v1 = await hubFile('acme/mini', 'config.json', { endpoint, cacheDir, revision: 'v1' });
  assert.equal(v1, join(repoDir(), 'snapshots', COMMIT_OLD, 'config.json'));
  assert.equal(await readFile(v1!, 'utf8'), '{"v":1}');
  assert.equal(await readFile(join(repoDir(), 'refs', 'v1'), 'utf8'), COMMIT_OLD);

  const pr = await hubFile('acme/mini', 'config.json', { endpoint, cacheDir, revision: 'refs/pr/1' });
  assert.equal(pr, v1);
  assert.ok(log.some((l) => l.url.includes('/resolve/refs%2Fpr%2F1/')), 'revision is URL-encoded');
  assert.equal(await readFile(join(repoDir(), 'refs', 'refs', 'pr', '1'), 'utf8'), COMMIT_OLD);

  const main = await hubFile('acme/mini', 'config.json', { endpoint, cacheDir });
  assert.equal(await readFile(main!, 'utf8'), '{"v":2}');

  log = [];
  const pinned = await hubFile('acme/mini', 'model.safetensors', { endpoint, cacheDir, revision: COMMIT_OLD });
  assert.deepEqual(new Uint8Array(await readFile(pinned!)), oldTree.get('model.safetensors')!.content);
  assert.ok(!existsSync(join(repoDir(), 'refs', COMMIT_OLD)), 'no ref is written for a commit hash');
  log = [];
  assert.equal(await hubFile('acme/mini', 'model.safetensors', { endpoint, cacheDir, revision: COMMIT_OLD }), pinned);
  assert.deepEqual(log, [], 'a cached file at a commit hash needs no request');

  await rejectsWith(hubFile('acme/mini', 'config.json', { endpoint, cacheDir, revision: 'nope' }),
    'revision "nope" was not found in acme/mini');
});

test('a file missing on the hub gives null, and the answer is cached for offline use', async () => {
  assert.equal(await hubFile('acme/mini', 'sentence_bert_config.json', { endpoint, cacheDir }), null);
  assert.ok((await stat(join(repoDir(), '.no_exist', COMMIT_NEW, 'sentence_bert_config.json'))).isFile());
  log = [];
  assert.equal(await hubFile('acme/mini', 'sentence_bert_config.json', { endpoint: deadEndpoint, cacheDir, offline: true }), null);
  assert.deepEqual(log, []);
  // A file that exists only in the newer revision.
  assert.equal(await hubFile('acme/mini', 'modules.json', { endpoint, cacheDir, revision: 'v1' }), null);
});

test('a partial download is resumed with a Range request', async () => {
  const bytes = newTree.get('resume.bin')!.content;
  const sha = sha256(bytes);
  await mkdir(join(repoDir(), 'blobs'), { recursive: true });
  const half = bytes.byteLength >> 1;
  await writeFile(join(repoDir(), 'blobs', `${sha}.incomplete`), bytes.subarray(0, half));
  const progress: number[] = [];
  const path = await hubFile('acme/mini', 'resume.bin', { endpoint, cacheDir, onProgress: (_f, done) => progress.push(done) });
  const cdnGets = gets().filter((l) => l.server === 'cdn');
  assert.equal(cdnGets.length, 1);
  assert.equal(cdnGets[0].range, `bytes=${half}-`);
  assert.equal(progress[0], half, 'progress starts at the bytes already present');
  assert.deepEqual(new Uint8Array(await readFile(path!)), bytes);
  assert.ok(!(await readdir(join(repoDir(), 'blobs'))).some((n) => n.endsWith('.incomplete')));
});

test('a connection dropped mid-body fails clearly and the next call resumes', async () => {
  const bytes = newTree.get('drop.bin')!.content;
  const sha = sha256(bytes);
  dropNext.add(sha);
  await rejectsWith(hubFile('acme/mini', 'drop.bin', { endpoint, cacheDir }),
    'connection lost while downloading drop.bin of acme/mini', 'run the same call again to resume');
  const partial = join(repoDir(), 'blobs', `${sha}.incomplete`);
  const got = (await stat(partial)).size;
  assert.ok(got > 0 && got < bytes.byteLength, `partial file has ${got} bytes`);
  assert.ok(!existsSync(join(repoDir(), 'snapshots', COMMIT_NEW, 'drop.bin')));
  log = [];
  const path = await hubFile('acme/mini', 'drop.bin', { endpoint, cacheDir });
  assert.equal(gets().find((l) => l.server === 'cdn')?.range, `bytes=${got}-`);
  assert.deepEqual(new Uint8Array(await readFile(path!)), bytes);
});

test('offline mode reads the cache only and says what is missing', async () => {
  const online = await hubFile('acme/mini', 'config.json', { endpoint, cacheDir });
  log = [];
  assert.equal(await hubFile('acme/mini', 'config.json', { endpoint, cacheDir, offline: true }), online);
  process.env.HF_HUB_OFFLINE = '1';
  try {
    assert.equal(await hubFile('acme/mini', 'config.json', { endpoint, cacheDir }), online);
    await rejectsWith(hubFile('acme/mini', 'modules.json', { endpoint, cacheDir }),
      'modules.json of acme/mini', 'is not in the cache', 'offline mode is on', `commit ${COMMIT_NEW}`);
    await rejectsWith(hubFile('acme/mini', 'config.json', { endpoint, cacheDir, revision: 'v1' }),
      'revision "v1" is not in the cache', 'no refs/v1', 'offline mode is on');
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
  assert.deepEqual(log, [], 'offline mode makes no request');
});

test('the token is sent as a Bearer header; 401 explains HF_TOKEN', async () => {
  await rejectsWith(hubFile('acme/private', 'config.json', { endpoint, cacheDir }),
    'HTTP 401', 'private or gated', 'HF_TOKEN', 'no token was sent', 'Invalid username or password.');
  await rejectsWith(hubFile('acme/private', 'config.json', { endpoint, cacheDir, token: 'hf_wrong' }),
    'HTTP 401', 'the token that was sent does not grant access');
  log = [];
  const path = await hubFile('acme/private', 'config.json', { endpoint, cacheDir, token: GOOD_TOKEN });
  assert.equal(await readFile(path!, 'utf8'), '{"secret":true}');
  assert.ok(log.length > 0 && log.every((l) => l.auth === `Bearer ${GOOD_TOKEN}`));
  process.env.HF_TOKEN = GOOD_TOKEN;
  try {
    log = [];
    assert.equal(await hubFile('acme/private', 'config.json', { endpoint, cacheDir }), path);
    assert.equal(log[0].auth, `Bearer ${GOOD_TOKEN}`);
  } finally {
    delete process.env.HF_TOKEN;
  }
});

test('unknown repo and unreachable hub give clear errors; a cached copy is used when the hub is down', async () => {
  await rejectsWith(hubFile('acme/nope', 'config.json', { endpoint, cacheDir }),
    'repository acme/nope was not found', 'check the repo id');
  await rejectsWith(hubFile('acme/mini', 'config.json', { endpoint: deadEndpoint, cacheDir }),
    'could not reach the Hugging Face Hub', 'HF_HUB_OFFLINE=1', 'ECONNREFUSED');
  const cached = await hubFile('acme/mini', 'config.json', { endpoint, cacheDir });
  assert.equal(await hubFile('acme/mini', 'config.json', { endpoint: deadEndpoint, cacheDir }), cached);
  process.env.HF_ENDPOINT = deadEndpoint;
  try {
    await rejectsWith(hubFile('acme/mini', 'modules.json', { cacheDir }), deadEndpoint);
  } finally {
    delete process.env.HF_ENDPOINT;
  }
  await rejectsWith(hubFile('acme/mini', '../secrets', { endpoint, cacheDir }), 'not a valid file path');
  await rejectsWith(hubFile('bad--id', 'config.json', { endpoint, cacheDir }), 'not a valid Hugging Face repo id');
});

test('snapshotDownload fetches existing files of one commit and skips missing ones', async () => {
  const dir = await snapshotDownload('acme/mini', ['config.json', 'modules.json', 'missing.json', '2_Dense/config.json'],
    { endpoint, cacheDir });
  assert.equal(dir, join(repoDir(), 'snapshots', COMMIT_NEW));
  assert.deepEqual((await readdir(dir)).sort(), ['2_Dense', 'config.json', 'modules.json']);
  assert.equal(await readFile(join(dir, '2_Dense', 'config.json'), 'utf8'), '{"in":4}');
  const resolved = log.filter((l) => l.method === 'HEAD').map((l) => l.url.split('/resolve/')[1].split('/')[0]);
  assert.deepEqual(resolved, ['main', COMMIT_NEW, COMMIT_NEW, COMMIT_NEW], 'later files use the resolved commit');
  assert.equal(await snapshotDownload('acme/mini', ['config.json'], { endpoint, cacheDir, revision: 'v1' }),
    join(repoDir(), 'snapshots', COMMIT_OLD));
  await assert.rejects(snapshotDownload('acme/mini', [], { endpoint, cacheDir }), /at least one file/);
});

test('isHubId and hubCacheDir', async () => {
  assert.ok(isHubId('sentence-transformers/all-MiniLM-L6-v2'));
  assert.ok(isHubId('bert-base-uncased'));
  assert.ok(!isHubId('a/b/c'));
  assert.ok(!isHubId('org--x/name'));
  assert.ok(!isHubId('./model'));
  assert.ok(!isHubId('/abs/path'));
  assert.ok(!isHubId(''));
  const local = join(root, 'local-model');
  await mkdir(local, { recursive: true });
  const cwd = process.cwd();
  process.chdir(root);
  try {
    assert.ok(!isHubId('local-model'), 'an existing local directory is not a hub id');
  } finally {
    process.chdir(cwd);
  }

  process.env.HF_HOME = '/x/hf';
  assert.equal(hubCacheDir(), join('/x/hf', 'hub'));
  process.env.HF_HUB_CACHE = '/y/cache';
  assert.equal(hubCacheDir(), '/y/cache');
  delete process.env.HF_HUB_CACHE;
  delete process.env.HF_HOME;
  assert.ok(hubCacheDir().endsWith(join('.cache', 'huggingface', 'hub')));
  process.env.HF_HOME = join(root, 'hf-home');
});
