// Downloads model files from the Hugging Face Hub into the standard cache
// (the same layout huggingface_hub uses: blobs/, snapshots/<commit>/, refs/),
// resuming interrupted downloads and working offline from the cache. Takes a
// repo id ("org/name"), file names inside the repo and download options.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  copyFile, mkdir, open, readFile, rename, rm, stat, symlink, type FileHandle,
} from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';

export interface HubOptions {
  /** Branch, tag or 40-character commit hash; default "main". */
  revision?: string;
  /** Cache root; default hubCacheDir(). */
  cacheDir?: string;
  /** Access token; default HF_TOKEN, then the token saved by `huggingface-cli login`. */
  token?: string;
  /** Never touch the network; default HF_HUB_OFFLINE. */
  offline?: boolean;
  /** Hub base URL; default HF_ENDPOINT, then https://huggingface.co. */
  endpoint?: string;
  /** fetch implementation (for proxies and tests); default globalThis.fetch. */
  fetchImpl?: typeof fetch;
  /** Called as bytes arrive; `done` counts bytes already present from an earlier attempt. */
  onProgress?: (file: string, done: number, total: number | undefined) => void;
}

export class HubError extends Error {
  override name = 'HubError';
  /** HTTP status of the failing response, when there was one. */
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }
}

const DEFAULT_ENDPOINT = 'https://huggingface.co';
const COMMIT_RE = /^[0-9a-f]{40}$/;
const REPO_PART = '[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?';
const REPO_ID_RE = new RegExp(`^(?:${REPO_PART}/)?${REPO_PART}$`);
const MAX_REDIRECTS = 10;

function envFlag(name: string): boolean {
  const v = process.env[name];
  return v !== undefined && ['1', 'on', 'yes', 'true'].includes(v.trim().toLowerCase());
}

function envSeconds(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function hfHome(): string {
  const env = process.env;
  return expandHome(env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface'));
}

/** Cache root: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub (XDG_CACHE_HOME honoured). */
export function hubCacheDir(): string {
  const env = process.env;
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  return explicit ? expandHome(explicit) : join(hfHome(), 'hub');
}

function isValidRepoId(s: string): boolean {
  return s.length > 0 && REPO_ID_RE.test(s) && !s.includes('--') && !s.includes('..') && !s.endsWith('.git') &&
    s.split('/').every((part) => part.length <= 96);
}

/** True for "org/name" or "name" when no local file or directory of that name exists. */
export function isHubId(s: string): boolean {
  return typeof s === 'string' && isValidRepoId(s) && !existsSync(s);
}

function checkRepoId(repoId: string): void {
  if (typeof repoId !== 'string' || !isValidRepoId(repoId)) {
    throw new HubError(`${JSON.stringify(repoId)} is not a valid Hugging Face repo id; use "org/name" or "name" ` +
      '(letters, digits, "-", "_", "."; no "--" or "..")');
  }
}

function checkFile(file: string, repoId: string): string[] {
  const parts = typeof file === 'string' ? file.split('/') : [];
  if (parts.length === 0 || file.includes('\\') || file.includes('\0') ||
      parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new HubError(`${JSON.stringify(file)} is not a valid file path inside ${repoId}; use a relative path ` +
      'with "/" separators such as "config.json" or "2_Dense/config.json"');
  }
  return parts;
}

function normalizeEtag(etag: string | null): string | undefined {
  if (etag === null) return undefined;
  const e = etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  // The etag becomes a file name: refuse anything that could escape blobs/.
  return /^[A-Za-z0-9._-]+$/.test(e) && e !== '.' && e !== '..' ? e : undefined;
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? (err as NodeJS.ErrnoException).code;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  if (cause instanceof Error && cause.message) return code ? `${code}: ${cause.message}` : cause.message;
  return code ? `${code}: ${err.message}` : err.message;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path); // follows symlinks: a dangling snapshot link counts as missing
    return true;
  } catch {
    return false;
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

async function readToken(opts: HubOptions): Promise<string | undefined> {
  if (opts.token !== undefined) return opts.token || undefined;
  const env = process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN;
  if (env) return env.trim();
  try {
    const saved = (await readFile(expandHome(process.env.HF_TOKEN_PATH || join(hfHome(), 'token')), 'utf8')).trim();
    return saved || undefined;
  } catch {
    return undefined;
  }
}

interface Context {
  repoId: string;
  file: string;
  revision: string;
  storage: string;
  endpoint: string;
  fetchImpl: typeof fetch;
  token: string | undefined;
  onProgress: HubOptions['onProgress'];
}

interface FileResult {
  /** Path in the snapshot directory, or null when the file does not exist in the repo. */
  path: string | null;
  /** Commit the revision resolved to, when known. */
  commit: string | undefined;
}

function snapshotPath(ctx: Context, commit: string): string {
  return join(ctx.storage, 'snapshots', commit, ...ctx.file.split('/'));
}

function noExistPath(ctx: Context, commit: string): string {
  return join(ctx.storage, '.no_exist', commit, ...ctx.file.split('/'));
}

function refPath(ctx: Context): string {
  return join(ctx.storage, 'refs', ...ctx.revision.split('/'));
}

type CacheLookup =
  | { kind: 'hit'; result: FileResult }
  | { kind: 'no-revision' }
  | { kind: 'no-file'; commit: string };

/** What the cache alone says about the file (no network). */
async function lookupCache(ctx: Context): Promise<CacheLookup> {
  let commit: string | undefined;
  if (COMMIT_RE.test(ctx.revision)) {
    commit = ctx.revision;
  } else {
    try {
      commit = (await readFile(refPath(ctx), 'utf8')).trim();
    } catch {
      return { kind: 'no-revision' };
    }
    if (!COMMIT_RE.test(commit)) return { kind: 'no-revision' };
  }
  const pointer = snapshotPath(ctx, commit);
  if (await exists(pointer)) return { kind: 'hit', result: { path: pointer, commit } };
  if (await exists(noExistPath(ctx, commit))) return { kind: 'hit', result: { path: null, commit } };
  return { kind: 'no-file', commit };
}

function offlineError(ctx: Context, lookup: CacheLookup, why: string): HubError {
  if (lookup.kind === 'no-revision') {
    return new HubError(`${ctx.repoId} at revision "${ctx.revision}" is not in the cache ${ctx.storage} ` +
      `(no refs/${ctx.revision} there) and ${why}; download the model once while online, or pass the commit hash ` +
      'of a cached snapshot as the revision');
  }
  const commit = lookup.kind === 'no-file' ? ` (commit ${lookup.commit})` : '';
  return new HubError(`${ctx.file} of ${ctx.repoId} at revision "${ctx.revision}"${commit} is not in the cache ` +
    `${ctx.storage} and ${why}; download it once while online, or unset HF_HUB_OFFLINE`);
}

async function writeRef(ctx: Context, commit: string): Promise<void> {
  if (ctx.revision === commit) return;
  const path = refPath(ctx);
  try {
    if ((await readFile(path, 'utf8')).trim() === commit) return;
  } catch {
    // not written yet
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, commit);
}

function baseHeaders(ctx: Context, withAuth: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': `sentencekit; node/${process.versions.node}`,
    'accept-encoding': 'identity',
  };
  if (withAuth && ctx.token) headers.authorization = `Bearer ${ctx.token}`;
  return headers;
}

function fileUrl(ctx: Context): string {
  const path = ctx.file.split('/').map(encodeURIComponent).join('/');
  return `${ctx.endpoint}/${ctx.repoId}/resolve/${encodeURIComponent(ctx.revision)}/${path}`;
}

function unreachable(ctx: Context, url: string, err: unknown): HubError {
  return new HubError(`could not reach the Hugging Face Hub at ${ctx.endpoint} to fetch ${ctx.file} of ` +
    `${ctx.repoId} (${url}: ${describeError(err)}); check the network connection, proxy settings or HF_ENDPOINT, ` +
    `or set HF_HUB_OFFLINE=1 to work from files already in the cache ${ctx.storage}`, { cause: err });
}

function httpError(ctx: Context, res: Response, url: string): HubError {
  const code = res.headers.get('x-error-code') ?? '';
  const serverMsg = res.headers.get('x-error-message');
  const said = serverMsg ? ` (server says: ${serverMsg})` : '';
  const status = res.status;
  const page = `${ctx.endpoint}/${ctx.repoId}`;
  if (code === 'GatedRepo') {
    return new HubError(`${ctx.repoId} is a gated repo and access was refused (HTTP ${status}) for ${ctx.file}${said}; ` +
      `accept its conditions on ${page} and set HF_TOKEN (or pass token) to an access token of that account`,
    { status });
  }
  if (status === 401 || status === 403) {
    const tokenNote = ctx.token
      ? 'the token that was sent does not grant access; check that HF_TOKEN belongs to an account with access'
      : 'no token was sent; set HF_TOKEN (or pass token) to a Hugging Face access token that can read it';
    return new HubError(`access to ${ctx.repoId} was refused (HTTP ${status}) fetching ${ctx.file} from ${url}${said}: ` +
      `the repo does not exist, or it is private or gated; ${tokenNote} (gated repos also need their conditions ` +
      `accepted on ${page})`, { status });
  }
  if (code === 'RepoNotFound') {
    return new HubError(`repository ${ctx.repoId} was not found on ${ctx.endpoint} (HTTP ${status})${said}; check the ` +
      'repo id for typos; if it is private, set HF_TOKEN to a token that can read it', { status });
  }
  if (code === 'RevisionNotFound') {
    return new HubError(`revision "${ctx.revision}" was not found in ${ctx.repoId} (HTTP ${status})${said}; use an ` +
      `existing branch, tag or commit hash (see ${page}/tree)`, { status });
  }
  if (status >= 500) {
    return new HubError(`the Hugging Face Hub at ${ctx.endpoint} failed with HTTP ${status} fetching ${ctx.file} of ` +
      `${ctx.repoId}${said}; try again later, or set HF_HUB_OFFLINE=1 to use a copy already in the cache`, { status });
  }
  return new HubError(`fetching ${ctx.file} of ${ctx.repoId} from ${url} failed with HTTP ${status}${said}`, { status });
}

interface Metadata {
  commit: string;
  etag: string;
  size: number | undefined;
  /** Where the bytes come from (a CDN for large files). */
  location: string;
  /** Whether `location` is on the same host as the hub, so the token may be sent there. */
  sameHost: boolean;
}

type Resolution =
  | { kind: 'found'; meta: Metadata }
  | { kind: 'missing'; commit: string | undefined }
  | { kind: 'unreachable'; error: HubError };

/**
 * Asks the hub (HEAD) which commit the revision is at, and the blob id and size
 * of the file. Relative redirects (renamed repos) are followed; a redirect to
 * another host (the CDN for large files) is not: its headers carry the answer.
 */
async function resolve(ctx: Context): Promise<Resolution> {
  const start = fileUrl(ctx);
  let url = start;
  const timeoutMs = envSeconds('HF_HUB_ETAG_TIMEOUT', 10) * 1000;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let res: Response;
    try {
      res = await ctx.fetchImpl(url, {
        method: 'HEAD',
        headers: baseHeaders(ctx, true),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      return { kind: 'unreachable', error: unreachable(ctx, url, err) };
    }
    await res.body?.cancel().catch(() => undefined);
    const redirected = res.status >= 300 && res.status < 400;
    const location = res.headers.get('location');
    if (redirected && location !== null && !/^[A-Za-z][A-Za-z0-9+.-]*:|^\/\//.test(location)) {
      url = new URL(location, url).href; // relative redirect: follow it
      continue;
    }
    if (res.status === 404) {
      const code = res.headers.get('x-error-code');
      if (code === null || code === 'EntryNotFound') {
        const commit = res.headers.get('x-repo-commit') ?? undefined;
        return { kind: 'missing', commit: commit !== undefined && COMMIT_RE.test(commit) ? commit : undefined };
      }
    }
    if (res.status >= 500) return { kind: 'unreachable', error: httpError(ctx, res, url) };
    if (!res.ok && !redirected) throw httpError(ctx, res, url);

    const commit = res.headers.get('x-repo-commit');
    const etag = normalizeEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'));
    if (commit === null || !COMMIT_RE.test(commit) || etag === undefined) {
      throw new HubError(`the server at ${ctx.endpoint} answered ${url} without ${commit === null ? 'an x-repo-commit' :
        !COMMIT_RE.test(commit) ? 'a valid x-repo-commit' : 'a usable ETag'} header (HTTP ${res.status}); ` +
        'check that HF_ENDPOINT points at a Hugging Face Hub (or a mirror that forwards its headers)');
    }
    const sizeHeader = res.headers.get('x-linked-size') ?? (redirected ? null : res.headers.get('content-length'));
    const size = sizeHeader !== null && /^\d+$/.test(sizeHeader.trim()) ? Number(sizeHeader) : undefined;
    const target = redirected && location !== null ? new URL(location, url).href : url;
    return {
      kind: 'found',
      meta: { commit, etag, size, location: target, sameHost: new URL(target).host === new URL(start).host },
    };
  }
  throw new HubError(`too many redirects (more than ${MAX_REDIRECTS}) resolving ${start}; the repo may have been ` +
    'renamed in a loop, or HF_ENDPOINT points at a misconfigured server');
}

async function linkIntoSnapshot(blob: string, pointer: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true });
  await rm(pointer, { force: true }); // a dangling link left by a removed blob
  try {
    await symlink(relative(dirname(pointer), blob), pointer);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && await exists(pointer)) return; // another process won
  }
  // Symlinks unavailable (e.g. Windows without developer mode): keep a copy instead.
  const tmp = `${pointer}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await copyFile(blob, tmp);
    await rename(tmp, pointer);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new HubError(`cannot place ${blob} at ${pointer}: ${describeError(err)}; check that the cache directory ` +
      'is writable and has free space', { cause: err });
  }
}

/** Downloads in progress in this process, by blob path, so concurrent calls share one transfer. */
const inFlight = new Map<string, Promise<void>>();

function downloadBlob(ctx: Context, meta: Metadata, blob: string): Promise<void> {
  const running = inFlight.get(blob);
  if (running) return running;
  const job = downloadBlobOnce(ctx, meta, blob).finally(() => inFlight.delete(blob));
  inFlight.set(blob, job);
  return job;
}

async function downloadBlobOnce(ctx: Context, meta: Metadata, blob: string): Promise<void> {
  const partial = `${blob}.incomplete`;
  await mkdir(dirname(blob), { recursive: true });
  let have = (await fileSize(partial)) ?? 0;
  if (meta.size !== undefined && have > meta.size) {
    await rm(partial, { force: true }); // longer than the blob: not a prefix of it
    have = 0;
  }
  const resume = `; run the same call again to resume from ${partial}`;
  const headers = baseHeaders(ctx, meta.sameHost); // never send the token to a CDN
  if (have > 0) headers.range = `bytes=${have}-`;

  const stallMs = envSeconds('HF_HUB_DOWNLOAD_TIMEOUT', 10) * 1000;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  };
  arm();
  let fh: FileHandle | undefined;
  try {
    let res: Response;
    try {
      res = await ctx.fetchImpl(meta.location, { headers, redirect: 'follow', signal: controller.signal });
    } catch (err) {
      throw unreachable(ctx, meta.location, controller.signal.aborted ? controller.signal.reason : err);
    }
    if (res.status === 416 && have > 0 && have === meta.size) {
      await res.body?.cancel().catch(() => undefined);
    } else {
      let append = false;
      let total = meta.size;
      const length = res.headers.get('content-length');
      const bodyLength = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
      if (res.status === 206 && have > 0) {
        const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range')?.trim() ?? '');
        if (range === null || Number(range[1]) !== have) {
          await res.body?.cancel().catch(() => undefined);
          await rm(partial, { force: true });
          throw new HubError(`the server resumed ${ctx.file} of ${ctx.repoId} at the wrong offset ` +
            `(asked for byte ${have}, got content-range ${JSON.stringify(res.headers.get('content-range'))}); the ` +
            'partial download was discarded, run the same call again to start over');
        }
        append = true;
        if (total === undefined && range[2] !== '*') total = Number(range[2]);
      } else if (res.status === 200) {
        if (total === undefined) total = bodyLength;
      } else {
        await res.body?.cancel().catch(() => undefined);
        throw httpError(ctx, res, meta.location);
      }
      if (res.body === null) {
        throw new HubError(`the server sent no body for ${ctx.file} of ${ctx.repoId} (${meta.location})${resume}`);
      }
      let done = append ? have : 0;
      try {
        fh = await open(partial, append ? 'a' : 'w');
      } catch (err) {
        throw new HubError(`cannot write ${partial}: ${describeError(err)}; check that the cache directory is ` +
          'writable (or choose another with HF_HUB_CACHE)', { cause: err });
      }
      ctx.onProgress?.(ctx.file, done, total);
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          arm();
          await fh.write(chunk);
          done += chunk.byteLength;
          ctx.onProgress?.(ctx.file, done, total);
        }
        await fh.sync();
      } catch (err) {
        if (err instanceof HubError) throw err;
        const why = controller.signal.aborted ? describeError(controller.signal.reason) : describeError(err);
        throw new HubError(`connection lost while downloading ${ctx.file} of ${ctx.repoId} after ${done} of ` +
          `${total ?? 'an unknown number of'} bytes (${why})${resume}`, { cause: err });
      }
      await fh.close();
      fh = undefined;
      if (total !== undefined && done !== total) {
        if (done > total) {
          await rm(partial, { force: true });
          throw new HubError(`downloaded ${done} bytes of ${ctx.file} of ${ctx.repoId} but the hub announced ` +
            `${total}; the partial file was discarded, run the same call again to start over`);
        }
        throw new HubError(`download of ${ctx.file} of ${ctx.repoId} stopped early: got ${done} of ${total} bytes` +
          resume);
      }
    }
    await rename(partial, blob);
  } finally {
    clearTimeout(timer);
    await fh?.close().catch(() => undefined);
  }
}

async function makeContext(repoId: string, file: string, opts: HubOptions): Promise<Context> {
  checkRepoId(repoId);
  checkFile(file, repoId);
  const revision = opts.revision ?? 'main';
  if (typeof revision !== 'string' || revision === '' || revision.split('/').some((p) => p === '' || p === '.' ||
      p === '..') || revision.includes('\\')) {
    throw new HubError(`${JSON.stringify(revision)} is not a valid revision for ${repoId}; use a branch, tag or ` +
      'commit hash');
  }
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  return {
    repoId,
    file,
    revision,
    storage: join(cacheDir, `models--${repoId.split('/').join('--')}`),
    endpoint: (opts.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    fetchImpl,
    token: opts.offline ? undefined : await readToken(opts),
    onProgress: opts.onProgress,
  };
}

async function getFile(repoId: string, file: string, opts: HubOptions): Promise<FileResult> {
  const ctx = await makeContext(repoId, file, opts);

  // A commit hash never moves: a cached file needs no request at all.
  if (COMMIT_RE.test(ctx.revision)) {
    const pointer = snapshotPath(ctx, ctx.revision);
    if (await exists(pointer)) return { path: pointer, commit: ctx.revision };
  }

  if (opts.offline ?? envFlag('HF_HUB_OFFLINE')) {
    const lookup = await lookupCache(ctx);
    if (lookup.kind === 'hit') return lookup.result;
    throw offlineError(ctx, lookup, 'offline mode is on (HF_HUB_OFFLINE=1 or offline: true)');
  }

  const resolution = await resolve(ctx);
  if (resolution.kind === 'unreachable') {
    // Like huggingface_hub: when the hub cannot be reached, a cached copy is good enough.
    const lookup = await lookupCache(ctx);
    if (lookup.kind === 'hit') return lookup.result;
    const { error } = resolution;
    throw new HubError(`${error.message} (${ctx.file} at revision "${ctx.revision}" is not cached there yet)`,
      { cause: error.cause, status: error.status });
  }
  if (resolution.kind === 'missing') {
    const { commit } = resolution;
    if (commit !== undefined) {
      await writeRef(ctx, commit);
      const marker = noExistPath(ctx, commit);
      await mkdir(dirname(marker), { recursive: true });
      await writeFileAtomic(marker, '');
    }
    return { path: null, commit };
  }

  const { meta } = resolution;
  await writeRef(ctx, meta.commit);
  const pointer = snapshotPath(ctx, meta.commit);
  if (await exists(pointer)) return { path: pointer, commit: meta.commit };
  const blob = join(ctx.storage, 'blobs', meta.etag);
  if (!(await exists(blob))) await downloadBlob(ctx, meta, blob);
  await linkIntoSnapshot(blob, pointer);
  return { path: pointer, commit: meta.commit };
}

/**
 * Path of `file` of `repoId` in the local snapshot directory, downloading it if
 * needed. Returns null when the hub says the file does not exist (optional files).
 */
export async function hubFile(repoId: string, file: string, opts: HubOptions = {}): Promise<string | null> {
  return (await getFile(repoId, file, opts)).path;
}

/**
 * Downloads `files` (those that exist; missing ones are skipped) of one
 * revision of `repoId` and returns the snapshot directory holding them. The
 * revision is resolved to a commit once, so all files come from the same commit.
 */
export async function snapshotDownload(repoId: string, files: string[], opts: HubOptions = {}): Promise<string> {
  checkRepoId(repoId);
  if (!Array.isArray(files) || files.length === 0) {
    throw new HubError(`snapshotDownload of ${repoId} needs at least one file name (e.g. ["config.json"])`);
  }
  let commit: string | undefined;
  for (const file of files) {
    const result = await getFile(repoId, file, commit === undefined ? opts : { ...opts, revision: commit });
    commit ??= result.commit;
  }
  if (commit === undefined) {
    throw new HubError(`none of ${files.join(', ')} exist in ${repoId} at revision "${opts.revision ?? 'main'}", ` +
      'and the hub did not say which commit that revision is at; check the repo id, revision and file names');
  }
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  return join(cacheDir, `models--${repoId.split('/').join('--')}`, 'snapshots', commit);
}
