// The on-disk format of an embedded index folder, committed atomically:
//   manifest.json       what the index is (backend, dim, metric, model, backend options) and the
//                       list of committed files with their sizes and SHA-256; replacing it (temp
//                       file, fsync, rename, directory fsync) is the one commit point
//   seg-NNNNNN.jsonl    one line per operation, in order: {"op":"put","row","id","metadata","text"}
//                       or {"op":"del","id"}
//   seg-NNNNNN.f32      the put operations' vectors, float32 little-endian, in the same order
//   ann-NNNNNN.bin      optional: a backend's ANN structure covering every segment up to seq NNNNNN
// Reopening replays the segments in order; files the manifest does not name (left by a write
// that was killed before its commit) are ignored and removed at the next commit. A file whose
// size or hash differs from the manifest is reported as truncated or corrupt.
// Takes the folder, the manifest and the operations of one commit.

import { createHash } from 'node:crypto';
import { open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { IndexMetric, IndexModelInfo, Metadata } from './types.js';

export const MANIFEST = 'manifest.json';
export const FORMAT = 'sentencekit-index';

export class IndexCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexCorruptError';
  }
}

export interface FileEntry {
  file: string;
  bytes: number;
  sha256: string;
}

export interface SegmentEntry {
  seq: number;
  ops: FileEntry;
  vectors: FileEntry;
  puts: number;
  dels: number;
}

export interface Manifest {
  format: typeof FORMAT;
  version: 1;
  backend: string;
  dim: number;
  metric: IndexMetric;
  model?: IndexModelInfo;
  /** Backend settings (ANN parameters; for pgvector the connection target and table). */
  options: Record<string, unknown>;
  nextRow: number;
  nextSeq: number;
  segments: SegmentEntry[];
  ann?: FileEntry & { seq: number };
  created: string;
  updated: string;
}

export type Op =
  | { op: 'put'; row: number; id: string; metadata?: Metadata; text?: string }
  | { op: 'del'; id: string };

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const pad = (n: number): string => String(n).padStart(6, '0');

/** Writes `data` atomically as `file` in `dir` and returns its entry. */
export async function writeEntry(dir: string, file: string, data: Uint8Array): Promise<FileEntry> {
  await writeFileAtomic(join(dir, file), data);
  return { file, bytes: data.byteLength, sha256: sha256(data) };
}

/** Size and SHA-256 of a file, read in pieces (files may exceed what one read returns). */
async function hashFile(path: string, into?: Uint8Array): Promise<{ bytes: number; sha256: string }> {
  const h = createHash('sha256');
  const fd = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 24);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fd.read(chunk, 0, chunk.byteLength, pos);
      if (bytesRead === 0) break;
      const part = chunk.subarray(0, bytesRead);
      h.update(part);
      if (into && pos + bytesRead <= into.byteLength) into.set(part, pos);
      pos += bytesRead;
    }
    return { bytes: pos, sha256: h.digest('hex') };
  } finally {
    await fd.close();
  }
}

/** Describes a file already written in `dir` (an ANN structure a library saved itself). */
export async function describeFile(dir: string, file: string): Promise<FileEntry> {
  return { file, ...(await hashFile(join(dir, file))) };
}

/** Checks a committed file's size and hash, optionally reading it into `into` (of the manifest's size). */
export async function verifyEntry(dir: string, e: FileEntry, into?: Uint8Array): Promise<void> {
  const path = join(dir, e.file);
  let got: { bytes: number; sha256: string };
  try {
    got = await hashFile(path, into);
  } catch (err) {
    throw new IndexCorruptError(`${path}: cannot read a file the index manifest lists (${(err as Error).message}); the index folder is incomplete: restore it or rebuild it with \`sentencekit index build\``);
  }
  if (got.bytes !== e.bytes) {
    throw new IndexCorruptError(`${path}: ${got.bytes} bytes, the manifest says ${e.bytes}: the file is truncated or was changed; restore the folder or rebuild it with \`sentencekit index build\``);
  }
  if (got.sha256 !== e.sha256) {
    throw new IndexCorruptError(`${path}: its SHA-256 differs from the manifest's: the file is corrupt; restore the folder or rebuild it with \`sentencekit index build\``);
  }
}

/** Reads a committed file and checks its size and hash against the manifest. */
export async function readEntry(dir: string, e: FileEntry): Promise<Uint8Array> {
  const data = new Uint8Array(e.bytes);
  await verifyEntry(dir, e, data);
  return data;
}

/** Writes one commit's operations as a segment (not yet committed: the manifest names it). */
export async function writeSegment(dir: string, seq: number, ops: readonly Op[], vectors: Float32Array): Promise<SegmentEntry> {
  const lines = ops.map((o) => JSON.stringify(o)).join('\n') + (ops.length ? '\n' : '');
  const vec = new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength);
  const opsEntry = await writeEntry(dir, `seg-${pad(seq)}.jsonl`, Buffer.from(lines, 'utf8'));
  const vecEntry = await writeEntry(dir, `seg-${pad(seq)}.f32`, vec);
  let puts = 0;
  for (const o of ops) if (o.op === 'put') puts++;
  return { seq, ops: opsEntry, vectors: vecEntry, puts, dels: ops.length - puts };
}

/** Reads a committed segment: its operations and the put vectors. */
export async function readSegment(dir: string, s: SegmentEntry, dim: number): Promise<{ ops: Op[]; vectors: Float32Array }> {
  const raw = await readEntry(dir, s.ops);
  if (s.vectors.bytes !== s.puts * dim * 4) throw new IndexCorruptError(`${join(dir, s.vectors.file)}: the manifest gives ${s.vectors.bytes} bytes for ${s.puts} vectors of ${dim}`);
  const vectors = new Float32Array(s.puts * dim);
  await verifyEntry(dir, s.vectors, new Uint8Array(vectors.buffer));
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  const ops: Op[] = [];
  let line = 0;
  for (const l of text.split('\n')) {
    line++;
    if (l === '') continue;
    try {
      ops.push(JSON.parse(l) as Op);
    } catch {
      throw new IndexCorruptError(`${join(dir, s.ops.file)}:${line}: not JSON; the segment is corrupt`);
    }
  }
  return { ops, vectors };
}

function fail(path: string, what: string): never {
  throw new IndexCorruptError(`${path}: ${what}; the index manifest is damaged: restore the folder or rebuild it with \`sentencekit index build\``);
}

/** Reads and checks manifest.json; a folder without one is not an index. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new IndexCorruptError(`${dir}: not an index folder (no ${MANIFEST}); build one with \`sentencekit index build\``);
    throw new IndexCorruptError(`${path}: cannot read (${(err as Error).message})`);
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (err) {
    fail(path, `not valid JSON (${(err as Error).message})`);
  }
  if (m === null || typeof m !== 'object') fail(path, 'not a JSON object');
  if (m.format !== FORMAT) fail(path, `"format" is ${JSON.stringify(m.format)}, expected "${FORMAT}"`);
  if (m.version !== 1) fail(path, `version ${JSON.stringify(m.version)} is not supported (this release reads version 1)`);
  if (typeof m.backend !== 'string') fail(path, '"backend" is missing');
  if (!Number.isInteger(m.dim) || m.dim < 1) fail(path, `"dim" is ${JSON.stringify(m.dim)}`);
  if (m.metric !== 'cosine' && m.metric !== 'dot') fail(path, `"metric" is ${JSON.stringify(m.metric)}`);
  if (!Array.isArray(m.segments)) fail(path, '"segments" is not a list');
  if (!Number.isInteger(m.nextRow) || !Number.isInteger(m.nextSeq)) fail(path, '"nextRow" or "nextSeq" is missing');
  if (m.options === null || typeof m.options !== 'object') fail(path, '"options" is missing');
  return m;
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  m.updated = new Date().toISOString();
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 1) + '\n');
}

/** Files the manifest names. */
function referenced(m: Manifest): Set<string> {
  const s = new Set<string>([MANIFEST]);
  for (const g of m.segments) {
    s.add(g.ops.file);
    s.add(g.vectors.file);
  }
  if (m.ann) s.add(m.ann.file);
  return s;
}

/** Removes segment, ANN and temporary files the (just committed) manifest does not name. */
export async function removeUnreferenced(dir: string, m: Manifest): Promise<void> {
  const keep = referenced(m);
  for (const f of await readdir(dir)) {
    if (keep.has(f)) continue;
    if (/^(seg-\d+\.(jsonl|f32)|ann-\d+\.bin|manifest\.json)(\.tmp-.*)?$/.test(f)) await rm(join(dir, f), { force: true });
  }
}

/** Bytes of the files the manifest names. */
export async function diskBytes(dir: string, m: Manifest): Promise<number> {
  let n = 0;
  for (const f of referenced(m)) n += (await stat(join(dir, f)).catch(() => ({ size: 0 }))).size;
  return n;
}

export function annFileName(seq: number): string {
  return `ann-${pad(seq)}.bin`;
}
