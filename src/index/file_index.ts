// The embedded backends' shared body: documents in memory (documents.ts), committed to an index
// folder as segments (segments.ts), searched exactly (ExactIndex: ONNX MatMul + TopK over the
// live rows) or through an ANN engine. A search with a filter first selects the matching rows
// (filter.ts); when they are few (≤ exactBelow, default 20,000) they are scored exactly, else
// the engine is asked for k' = k·live/matching·2 candidates (doubled until k pass the filter),
// and exact scoring takes over when k' would exceed half the index. upsert and remove change
// memory only; flush() commits them as one segment, so that a process killed at any point
// reopens at its last flush. Memory: one float32 copy of the vectors (the store's blocks); a
// commit writes the new rows' vectors straight from those blocks, tail segments are merged by
// concatenating their files on disk, and reopening replays segments in batches, so neither
// holds a second copy of the data. Takes the folder, the dimension, metric, model and an engine.

import { mkdir } from 'node:fs/promises';
import { ExactIndex } from './exact_search.js';
import { matchesFilter, validateFilter } from './filter.js';
import { checkBatch, checkVectors, DocStore, IndexInputError, STORE_BLOCK_ROWS } from './documents.js';
import {
  annFileName,
  describeFile,
  diskBytes,
  FORMAT,
  IndexCorruptError,
  verifyEntry,
  readManifest,
  mergeSegments,
  readSegmentBatches,
  removeUnreferenced,
  writeManifest,
  writeSegment,
  type Manifest,
  type Op,
} from './segments.js';
import { checkModel } from './model_info.js';
import { lockForWriting } from './writer_lock.js';
import type { Hit, IndexMetric, IndexModelInfo, IndexStats, Metadata, SearchOptions, StoredDocument, VectorIndex, Vectors } from './types.js';

/** An approximate-nearest-neighbour structure keyed by row. add and remove may return a promise
 * (an engine that trains with onnxruntime); the caller awaits it, and `vectors` stay unchanged until then. */
export interface AnnEngine {
  add(rows: Int32Array, vectors: Float32Array): void | Promise<void>;
  remove(rows: Int32Array): void | Promise<void>;
  /** Per query, up to k rows (−1 padded) and scores (higher is better), best first. */
  search(queries: Vectors, k: number): { rows: Int32Array; scores: Float32Array };
  /** Serialises the structure into `path`. */
  save(path: string): void;
  /** Replaces the structure by the one saved at `path` (already checked against the manifest);
   * `view`: nothing will be added or removed, so the file may be memory-mapped instead of read. */
  load(path: string, view?: boolean): void;
  /** Empties the structure. */
  reset(): void;
  /** Settings to record in the manifest. */
  readonly options: Record<string, unknown>;
  stats(): Record<string, unknown>;
  close(): void;
}

export interface FileIndexOptions {
  /** Matching rows at or below which a filtered search is exact (default 20000). */
  exactBelow?: number;
  /** Open for reading only: no writer lock, and close() writes nothing (searches beside a running writer). */
  readOnly?: boolean;
  /** onnxruntime threads of exact scoring. */
  threads?: number;
}

const COMPACT_TAIL = 2;

export class FileIndex implements VectorIndex {
  readonly backend: string;
  readonly dim: number;
  readonly metric: IndexMetric;
  readonly dir: string;
  private readonly store: DocStore;
  private pending: Op[] = [];
  /** Rows committed so far: the pending puts are rows committedRows … nextRow − 1, in order. */
  private committedRows: number;
  private exact: ExactIndex;
  private exactVersion = -1;
  private exactRows: Int32Array = new Int32Array(0);
  private scratch: ExactIndex;
  /** Exact-scoring calls, one at a time (see exactOver). */
  private exactQueue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly exactBelow: number;
  private readonly readOnly: boolean;
  private unlock: (() => Promise<void>) | null = null;

  private constructor(private manifest: Manifest, dir: string, private readonly engine: AnnEngine | null, opts: FileIndexOptions) {
    this.backend = manifest.backend;
    this.dim = manifest.dim;
    this.metric = manifest.metric;
    this.dir = dir;
    this.store = new DocStore(manifest.dim);
    this.committedRows = manifest.nextRow;
    this.exact = new ExactIndex(manifest.dim, { metric: manifest.metric, threads: opts.threads });
    this.scratch = new ExactIndex(manifest.dim, { metric: manifest.metric, threads: opts.threads });
    this.exactBelow = opts.exactBelow ?? 20000;
    this.readOnly = opts.readOnly ?? false;
  }

  /** The stored float32 vector of a row (live or retired). */
  vectorOfRow(row: number): Float32Array {
    return this.store.vectorAt(row);
  }

  get model(): IndexModelInfo | undefined {
    return this.manifest.model;
  }

  /** A new, empty index in `dir` (committed at once, so that it reopens). */
  /**
   * A new index with an ANN engine made by `make`, which receives the stored float32 vector of a
   * row (for the engine's exact rescoring of its candidates).
   */
  static async createWith(dir: string, backend: string, dim: number, metric: IndexMetric, model: IndexModelInfo | undefined, make: (vectorOf: (row: number) => Float32Array) => AnnEngine, opts: FileIndexOptions = {}): Promise<FileIndex> {
    let ix: FileIndex | null = null;
    ix = await FileIndex.create(dir, backend, dim, metric, model, make((row) => ix!.vectorOfRow(row)), opts);
    return ix;
  }

  /** Reopens an index with an ANN engine made by `make` (as createWith). */
  static async openWith(dir: string, m: Manifest, make: (vectorOf: (row: number) => Float32Array) => AnnEngine, opts: FileIndexOptions = {}): Promise<FileIndex> {
    let ix: FileIndex | null = null;
    ix = await FileIndex.open(dir, m, make((row) => ix!.vectorOfRow(row)), opts);
    return ix;
  }

  static async create(dir: string, backend: string, dim: number, metric: IndexMetric, model: IndexModelInfo | undefined, engine: AnnEngine | null, opts: FileIndexOptions = {}): Promise<FileIndex> {
    if (!Number.isInteger(dim) || dim < 1) throw new IndexInputError(`createIndex: dim must be a positive integer, got ${String(dim)}`);
    if (model !== undefined && model.dim !== dim) throw new IndexInputError(`createIndex: the model ${model.name} embeds in ${model.dim} dimensions, the index was asked for ${dim}`);
    await mkdir(dir, { recursive: true });
    const unlock = await lockForWriting(dir);
    const now = new Date().toISOString();
    const m: Manifest = {
      format: FORMAT, version: 1, backend, dim, metric, model, options: engine?.options ?? {},
      nextRow: 0, nextSeq: 1, segments: [], created: now, updated: now,
    };
    const ix = new FileIndex(m, dir, engine, { ...opts, readOnly: false });
    ix.unlock = unlock;
    try {
      await writeManifest(dir, m);
      await removeUnreferenced(dir, m);
    } catch (e) {
      await unlock();
      throw e;
    }
    return ix;
  }

  /** Reopens a committed index: the ANN snapshot, then the segments after it, replayed in order. */
  static async open(dir: string, m: Manifest, engine: AnnEngine | null, opts: FileIndexOptions = {}): Promise<FileIndex> {
    if (!opts.readOnly) {
      const unlock = await lockForWriting(dir);
      try {
        // the manifest as of holding the lock (a writer may have committed since it was read)
        m = await readManifest(dir);
        const ix = await FileIndex.load(dir, m, engine, opts);
        ix.unlock = unlock;
        return ix;
      } catch (e) {
        await unlock();
        throw e;
      }
    }
    // a reader retries when a writer replaced a file between reading the manifest and the file
    for (let attempt = 0; ; attempt++) {
      try {
        return await FileIndex.load(dir, m, engine, opts);
      } catch (e) {
        if (!(e instanceof IndexCorruptError) || attempt >= 2) throw e;
        const again = await readManifest(dir);
        if (again.updated === m.updated) throw e;
        m = again;
      }
    }
  }

  private static async load(dir: string, m: Manifest, engine: AnnEngine | null, opts: FileIndexOptions): Promise<FileIndex> {
    const ix = new FileIndex(m, dir, engine, opts);
    let annSeq = 0;
    if (engine) {
      // a fresh structure (a reader retrying after a concurrent commit may have filled it)
      engine.reset();
      if (m.ann) {
        await verifyEntry(dir, m.ann);
        const viewOnly = (opts.readOnly ?? false) && m.segments.every((s) => s.seq <= m.ann!.seq);
        engine.load(`${dir}/${m.ann.file}`, viewOnly);
        annSeq = m.ann.seq;
      }
    }
    for (const s of m.segments) {
      await readSegmentBatches(dir, s, m.dim, async (ops, vectors) => ix.replay(ops, vectors, engine !== null && s.seq > annSeq));
    }
    ix.committedRows = m.nextRow;
    return ix;
  }

  /** Applies one batch of committed operations (vectors: the batch's puts, in order) to the store and, when asked, to the engine. */
  private async replay(ops: Op[], vectors: Float32Array, toEngine: boolean): Promise<void> {
    const dim = this.dim;
    let v = 0;
    const added = new Set<number>();
    const removed: number[] = [];
    const retired = (old: number): void => {
      if (old < 0) return;
      if (!added.delete(old)) removed.push(old);
    };
    for (const o of ops) {
      if (o.op === 'put') {
        retired(this.store.put(o.row, o.id, vectors.subarray(v * dim, (v + 1) * dim), o.metadata, o.text));
        v++;
        added.add(o.row);
      } else {
        retired(this.store.retire(o.id));
      }
    }
    if (!toEngine || !this.engine) return;
    if (removed.length) await this.engine.remove(Int32Array.from(removed));
    if (added.size) {
      const rows = Int32Array.from(added);
      await this.engine.add(rows, this.store.gather(rows));
    }
  }

  private live(what: string): void {
    if (this.closed) throw new Error(`${what}: the index ${this.dir} was closed`);
  }

  private writable(what: string): void {
    this.live(what);
    if (this.readOnly) throw new Error(`${what}: the index ${this.dir} was opened read-only; open it without readOnly to change it`);
  }

  async upsert(ids: string[], vectors: Vectors, metadata?: (Metadata | undefined)[], texts?: (string | undefined)[]): Promise<void> {
    this.writable('upsert');
    checkBatch(`upsert into ${this.dir}`, this.dim, ids, vectors, metadata, texts);
    const dim = this.dim;
    const newRows = new Int32Array(ids.length);
    const oldRows: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const row = this.manifest.nextRow++;
      newRows[i] = row;
      const vec = vectors.data.subarray(i * dim, (i + 1) * dim);
      const m = metadata?.[i] === undefined ? undefined : { ...metadata[i] };
      const t = texts?.[i];
      const old = this.store.put(row, ids[i], vec, m, t);
      if (old >= 0) oldRows.push(old);
      const op: Op = { op: 'put', row, id: ids[i] };
      if (m !== undefined) op.metadata = m;
      if (t !== undefined) op.text = t;
      this.pending.push(op);
    }
    if (this.engine) {
      if (oldRows.length) await this.engine.remove(Int32Array.from(oldRows));
      await this.engine.add(newRows, vectors.data.subarray(0, ids.length * dim));
    }
  }

  async remove(ids: string[]): Promise<number> {
    this.writable('remove');
    if (!Array.isArray(ids)) throw new IndexInputError('remove: ids must be an array of strings');
    const rows: number[] = [];
    for (const id of ids) {
      if (typeof id !== 'string') throw new IndexInputError(`remove: ids must be strings, got ${JSON.stringify(id)}`);
    }
    for (const id of ids) {
      const r = this.store.retire(id);
      if (r >= 0) {
        rows.push(r);
        this.pending.push({ op: 'del', id });
      }
    }
    if (this.engine && rows.length) await this.engine.remove(Int32Array.from(rows));
    return rows.length;
  }

  /** Rows the filter admits (all live rows without one). */
  private candidates(opts: SearchOptions | undefined): Int32Array | null {
    if (opts?.filter === undefined) return null;
    validateFilter(opts.filter, this.store.fields.types());
    const live = this.store.liveRows();
    const keep: number[] = [];
    for (const r of live) if (matchesFilter(opts.filter, this.store.metadataAt(r))) keep.push(r);
    return Int32Array.from(keep);
  }

  /** Copies the rows' vectors into an exact scorer, a block at a time (no packed copy of them all on the way). */
  private addRows(index: ExactIndex, rows: Int32Array): void {
    for (let s = 0; s < rows.length; s += STORE_BLOCK_ROWS) {
      const part = rows.subarray(s, Math.min(rows.length, s + STORE_BLOCK_ROWS));
      index.add({ data: this.store.gather(part), rows: part.length, dim: this.dim });
    }
  }

  /**
   * Exact scores over `rows` (null: every live row). The exact scorers are shared and refilled
   * per call, so calls run one at a time: concurrent searches (a server answering several
   * filtered queries at once) would otherwise refill a scorer another call is still reading.
   */
  private exactOver(rows: Int32Array | null, queries: Vectors, k: number): Promise<{ rows: Int32Array; scores: Float32Array }> {
    const run = (): Promise<{ rows: Int32Array; scores: Float32Array }> => this.exactOverNow(rows, queries, k);
    const p = this.exactQueue.then(run, run);
    this.exactQueue = p.then(() => undefined, () => undefined);
    return p;
  }

  private async exactOverNow(rows: Int32Array | null, queries: Vectors, k: number): Promise<{ rows: Int32Array; scores: Float32Array }> {
    let index: ExactIndex;
    let map: Int32Array;
    if (rows === null) {
      if (this.exactVersion !== this.store.version) {
        this.exactRows = this.store.liveRows();
        this.exact.clear();
        this.addRows(this.exact, this.exactRows);
        this.exactVersion = this.store.version;
      }
      index = this.exact;
      map = this.exactRows;
    } else {
      this.scratch.clear();
      this.addRows(this.scratch, rows);
      index = this.scratch;
      map = rows;
    }
    const res = await index.search(queries, k);
    const out = new Int32Array(res.ids.length);
    for (let i = 0; i < out.length; i++) out[i] = res.ids[i] < 0 ? -1 : map[res.ids[i]];
    if (rows !== null) this.scratch.clear();
    return { rows: out, scores: res.scores };
  }

  private filteredAnn(engine: AnnEngine, allowed: Int32Array, queries: Vectors, k: number): { rows: Int32Array; scores: Float32Array } | null {
    const live = this.store.count;
    const ok = new Uint8Array(this.store.rows);
    for (const r of allowed) ok[r] = 1;
    let kk = Math.ceil((k * live) / Math.max(1, allowed.length)) * 2;
    const nq = queries.rows;
    const rows = new Int32Array(nq * k).fill(-1);
    const scores = new Float32Array(nq * k).fill(Number.NEGATIVE_INFINITY);
    let todo = Array.from({ length: nq }, (_, i) => i);
    while (todo.length > 0) {
      if (kk > live / 2) return null;
      const sub: Vectors = { data: gatherRows(queries, todo), rows: todo.length, dim: this.dim };
      const res = engine.search(sub, kk);
      const next: number[] = [];
      todo.forEach((q, i) => {
        let n = 0;
        for (let j = 0; j < kk && n < k; j++) {
          const r = res.rows[i * kk + j];
          if (r >= 0 && ok[r]) {
            rows[q * k + n] = r;
            scores[q * k + n] = res.scores[i * kk + j];
            n++;
          }
        }
        if (n < Math.min(k, allowed.length)) next.push(q);
      });
      todo = next;
      kk *= 2;
    }
    return { rows, scores };
  }

  async search(queries: Vectors, k: number, opts?: SearchOptions): Promise<Hit[][]> {
    this.live('search');
    checkVectors(`search ${this.dir}`, this.dim, queries, 'queries');
    if (!Number.isInteger(k) || k < 1) throw new IndexInputError(`search: k must be a positive integer, got ${String(k)}`);
    if (opts?.model !== undefined) checkModel(this.manifest.model, opts.model, this.dir);
    const allowed = this.candidates(opts);
    let res: { rows: Int32Array; scores: Float32Array } | null = null;
    const kk = Math.min(k, Math.max(1, allowed?.length ?? this.store.count));
    if (this.engine && this.store.count > 0) {
      if (allowed === null) res = this.engine.search(queries, kk);
      else if (allowed.length > this.exactBelow) res = this.filteredAnn(this.engine, allowed, queries, kk);
    }
    if (res === null) res = await this.exactOver(allowed, queries, kk);
    const include = opts?.includeDocuments ?? true;
    const out: Hit[][] = [];
    for (let q = 0; q < queries.rows; q++) {
      const hits: Hit[] = [];
      for (let j = 0; j < kk; j++) {
        const r = res.rows[q * kk + j];
        if (r < 0) break;
        const id = this.store.idAt(r);
        if (id === null) continue;
        const h: Hit = { id, score: res.scores[q * kk + j] };
        if (include) {
          const t = this.store.textAt(r);
          const m = this.store.metadataAt(r);
          if (t !== undefined) h.text = t;
          if (m !== undefined) h.metadata = m;
        }
        hits.push(h);
      }
      out.push(hits);
    }
    return out;
  }

  async get(ids: string[]): Promise<(StoredDocument | undefined)[]> {
    this.live('get');
    return ids.map((id) => {
      const r = this.store.row(id);
      if (r === undefined) return undefined;
      const d: StoredDocument = { id, vector: this.store.vectorAt(r).slice() };
      const m = this.store.metadataAt(r);
      const t = this.store.textAt(r);
      if (m !== undefined) d.metadata = m;
      if (t !== undefined) d.text = t;
      return d;
    });
  }

  async stats(): Promise<IndexStats> {
    return {
      backend: this.backend,
      count: this.store.count,
      dim: this.dim,
      metric: this.metric,
      model: this.manifest.model,
      diskBytes: await diskBytes(this.dir, this.manifest),
      segments: this.manifest.segments.length,
      uncommitted: this.pending.length,
      ...(this.engine?.stats() ?? {}),
    };
  }

  /** Commits pending operations as one segment (tail segments merged geometrically). */
  async flush(): Promise<void> {
    this.live('flush');
    if (this.pending.length === 0 || this.readOnly) return;
    const m = this.manifest;
    const seq = m.nextSeq;
    // the pending puts' vectors straight from the store's blocks
    const seg = await writeSegment(this.dir, seq, this.pending, this.store.vectorRange(this.committedRows, m.nextRow));
    const next: Manifest = { ...m, nextSeq: seq + 1, segments: [...m.segments, seg] };
    await this.mergeTail(next);
    await writeManifest(this.dir, next);
    this.manifest = next;
    this.pending = [];
    this.committedRows = next.nextRow;
    await removeUnreferenced(this.dir, next);
  }

  /** Merges the newest segments after the ANN snapshot while the older one is at most COMPACT_TAIL× the newer (a log of log-many segments). */
  private async mergeTail(m: Manifest): Promise<void> {
    const annSeq = m.ann?.seq ?? 0;
    while (m.segments.length >= 2) {
      const a = m.segments[m.segments.length - 2];
      const b = m.segments[m.segments.length - 1];
      if (a.seq <= annSeq && this.engine) break;
      if (a.puts + a.dels > COMPACT_TAIL * (b.puts + b.dels)) break;
      // the two files of each kind concatenated on disk (checked against the manifest as they are read)
      const merged = await mergeSegments(this.dir, m.nextSeq++, a, b);
      m.segments = [...m.segments.slice(0, -2), merged];
    }
  }

  /** Commits, saves the ANN structure (so that reopening replays nothing) and frees native resources. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.readOnly) {
      this.closed = true;
      this.engine?.close();
      this.store.clear();
      await this.exact.close();
      await this.scratch.close();
      return;
    }
    try {
      await this.saveOnClose();
    } finally {
      this.closed = true;
      this.engine?.close();
      this.store.clear();
      await this.exact.close();
      await this.scratch.close();
      await this.unlock?.();
      this.unlock = null;
    }
  }

  private async saveOnClose(): Promise<void> {
    await this.flush();
    const m = this.manifest;
    const lastSeq = m.segments.length ? m.segments[m.segments.length - 1].seq : 0;
    if (this.engine && lastSeq > (m.ann?.seq ?? 0)) {
      const file = annFileName(m.nextSeq);
      this.engine.save(`${this.dir}/${file}`);
      const entry = await describeFile(this.dir, file);
      const next: Manifest = { ...m, nextSeq: m.nextSeq + 1, ann: { ...entry, seq: lastSeq } };
      await writeManifest(this.dir, next);
      this.manifest = next;
      await removeUnreferenced(this.dir, next);
    }
  }
}

function gatherRows(v: Vectors, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * v.dim);
  rows.forEach((r, i) => out.set(v.data.subarray(r * v.dim, (r + 1) * v.dim), i * v.dim));
  return out;
}
