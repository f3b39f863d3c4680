// The on-disk format of an embedded index folder, committed atomically:
//   manifest.json       what the index is (backend, dim, metric, model, backend options) and the
//                       list of committed files with their sizes and SHA-256; replacing it (temp
//                       file, fsync, rename, directory fsync) is the one commit point
//   seg-NNNNNN.jsonl    one line per operation, in order: {"op":"put","row","id","metadata","text"}
//                       or {"op":"del","id"}
//   seg-NNNNNN.f32      the put operations' vectors, float32 little-endian, in the same order
//   ann-NNNNNN.bin      optional: a backend's ANN structure covering every segment up to seq NNNNNN
// Segments are written in pieces from the caller's memory, merged by concatenating two
// consecutive segments' files on disk (4 MiB at a time, each source checked against the
// manifest as it is read), and read back in batches of operations with their vectors: memory
// per file operation is a few MiB whatever the segment's size.
// Reopening replays the segments in order; files the manifest does not name (left by a write
// that was killed before its commit) are ignored and removed at the next commit. A file whose
// size or hash differs from the manifest is reported as truncated or corrupt.
// Takes the folder, the manifest and the operations of one commit.

import { createHash } from 'node:crypto';
import { open, readFile, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import { openAtomic, writeFileAtomic } from '../io/atomic.js';
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

/** Writes `pieces` atomically, in order, as `file` in `dir` (nothing but the piece in hand is held) and returns its entry. */
async function writeStreamed(dir: string, file: string, pieces: Iterable<Uint8Array>): Promise<FileEntry> {
  const out = await openAtomic(join(dir, file));
  const h = createHash('sha256');
  let bytes = 0;
  try {
    for (const p of pieces) {
      h.update(p);
      await out.write(p);
      bytes += p.byteLength;
    }
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
  return { file, bytes, sha256: h.digest('hex') };
}

const LINES_PER_PIECE = 4096;

function* opLines(ops: readonly Op[]): Generator<Uint8Array> {
  for (let i = 0; i < ops.length; i += LINES_PER_PIECE) {
    let text = '';
    for (const o of ops.slice(i, i + LINES_PER_PIECE)) text += JSON.stringify(o) + '\n';
    yield Buffer.from(text, 'utf8');
  }
}

function* asBytes(vectors: Iterable<Float32Array>): Generator<Uint8Array> {
  for (const v of vectors) yield new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Writes one commit's operations as a segment (not yet committed: the manifest names it); the
 * put vectors come as pieces in order (views into the caller's memory: nothing is concatenated). */
export async function writeSegment(dir: string, seq: number, ops: readonly Op[], vectors: Iterable<Float32Array>): Promise<SegmentEntry> {
  const opsEntry = await writeStreamed(dir, `seg-${pad(seq)}.jsonl`, opLines(ops));
  const vecEntry = await writeStreamed(dir, `seg-${pad(seq)}.f32`, asBytes(vectors));
  let puts = 0;
  for (const o of ops) if (o.op === 'put') puts++;
  return { seq, ops: opsEntry, vectors: vecEntry, puts, dels: ops.length - puts };
}

/** Counts the bytes merges copy (for tests and benchmarks: merging is O(n log n) bytes on disk, never in memory). */
export const mergeCounter = { bytes: 0 };

const PIECE = 1 << 22;

function corruptSize(path: string, got: number, want: number): IndexCorruptError {
  return new IndexCorruptError(`${path}: ${got} bytes, the manifest says ${want}: the file is truncated or was changed; restore the folder or rebuild it with \`sentencekit index build\``);
}

function corruptHash(path: string): IndexCorruptError {
  return new IndexCorruptError(`${path}: its SHA-256 differs from the manifest's: the file is corrupt; restore the folder or rebuild it with \`sentencekit index build\``);
}

async function openChecked(path: string, e: FileEntry): Promise<FileHandle> {
  let fd: FileHandle;
  try {
    fd = await open(path, 'r');
  } catch (err) {
    throw new IndexCorruptError(`${path}: cannot read a file the index manifest lists (${(err as Error).message}); the index folder is incomplete: restore it or rebuild it with \`sentencekit index build\``);
  }
  const size = (await fd.stat()).size;
  if (size !== e.bytes) {
    await fd.close();
    throw corruptSize(path, size, e.bytes);
  }
  return fd;
}

/** Concatenates committed files into `file`, streamed in 4 MiB pieces, checking each source against its entry. */
async function concatFiles(dir: string, file: string, sources: FileEntry[]): Promise<FileEntry> {
  const out = await openAtomic(join(dir, file));
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(PIECE);
  let bytes = 0;
  try {
    for (const src of sources) {
      const path = join(dir, src.file);
      const fd = await openChecked(path, src);
      const hs = createHash('sha256');
      try {
        for (let pos = 0; pos < src.bytes; ) {
          const { bytesRead } = await fd.read(buf, 0, Math.min(PIECE, src.bytes - pos), pos);
          if (bytesRead === 0) throw corruptSize(path, pos, src.bytes);
          const part = buf.subarray(0, bytesRead);
          hs.update(part);
          h.update(part);
          await out.write(part);
          pos += bytesRead;
        }
      } finally {
        await fd.close();
      }
      if (hs.digest('hex') !== src.sha256) throw corruptHash(path);
      bytes += src.bytes;
    }
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
  mergeCounter.bytes += bytes;
  return { file, bytes, sha256: h.digest('hex') };
}

/** The segment `seq` holding a's operations then b's (a, b consecutive): their files concatenated on disk. */
export async function mergeSegments(dir: string, seq: number, a: SegmentEntry, b: SegmentEntry): Promise<SegmentEntry> {
  const ops = await concatFiles(dir, `seg-${pad(seq)}.jsonl`, [a.ops, b.ops]);
  const vectors = await concatFiles(dir, `seg-${pad(seq)}.f32`, [a.vectors, b.vectors]);
  return { seq, ops, vectors, puts: a.puts + b.puts, dels: a.dels + b.dels };
}

/** Operations replayed per batch when a segment is read back. */
export const REPLAY_BATCH = 4096;

/**
 * Reads a committed segment back in batches of at most REPLAY_BATCH operations, each with its
 * put vectors (a view valid during the call only): the operations file is checked against the
 * manifest first, the vectors file's size at once and its hash as it is read (a mismatch
 * throws after the last batch, so a caller replaying into a fresh index discards it).
 */
export async function readSegmentBatches(dir: string, s: SegmentEntry, dim: number, onBatch: (ops: Op[], vectors: Float32Array) => void | Promise<void>): Promise<void> {
  const vpath = join(dir, s.vectors.file);
  const opath = join(dir, s.ops.file);
  if (s.vectors.bytes !== s.puts * dim * 4) throw new IndexCorruptError(`${vpath}: the manifest gives ${s.vectors.bytes} bytes for ${s.puts} vectors of ${dim}`);
  await verifyEntry(dir, s.ops);
  const vfd = await openChecked(vpath, s.vectors);
  const ofd = await openChecked(opath, s.ops);
  const vh = createHash('sha256');
  const vbuf = new Float32Array(REPLAY_BATCH * dim);
  const vbytes = new Uint8Array(vbuf.buffer);
  const obuf = Buffer.allocUnsafe(PIECE);
  const decoder = new StringDecoder('utf8');
  let vpos = 0;
  let putsSeen = 0;
  let line = 0;
  let batch: Op[] = [];
  let puts = 0;
  const emit = async (): Promise<void> => {
    if (batch.length === 0) return;
    const n = puts * dim * 4;
    if (vpos + n > s.vectors.bytes) throw new IndexCorruptError(`${opath}: more put operations than the ${s.puts} the manifest gives; the segment is corrupt`);
    for (let o = 0; o < n; ) {
      const { bytesRead } = await vfd.read(vbytes, o, n - o, vpos + o);
      if (bytesRead === 0) throw corruptSize(vpath, vpos + o, s.vectors.bytes);
      o += bytesRead;
    }
    vh.update(vbytes.subarray(0, n));
    vpos += n;
    putsSeen += puts;
    await onBatch(batch, vbuf.subarray(0, puts * dim));
    batch = [];
    puts = 0;
  };
  const take = async (l: string): Promise<void> => {
    line++;
    if (l === '') return;
    let o: Op;
    try {
      o = JSON.parse(l) as Op;
    } catch {
      throw new IndexCorruptError(`${opath}:${line}: not JSON; the segment is corrupt`);
    }
    batch.push(o);
    if (o.op === 'put') puts++;
    if (batch.length >= REPLAY_BATCH) await emit();
  };
  try {
    let rest = '';
    for (let pos = 0; pos < s.ops.bytes; ) {
      const { bytesRead } = await ofd.read(obuf, 0, Math.min(PIECE, s.ops.bytes - pos), pos);
      if (bytesRead === 0) throw corruptSize(opath, pos, s.ops.bytes);
      pos += bytesRead;
      const lines = (rest + decoder.write(obuf.subarray(0, bytesRead))).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) await take(l);
    }
    await take(rest + decoder.end());
    await emit();
  } finally {
    await vfd.close();
    await ofd.close();
  }
  if (putsSeen !== s.puts || vpos !== s.vectors.bytes) throw new IndexCorruptError(`${opath}: ${putsSeen} put operations, the manifest gives ${s.puts}; the segment is corrupt`);
  if (vh.digest('hex') !== s.vectors.sha256) throw corruptHash(vpath);
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
