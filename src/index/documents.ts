// The documents of an embedded index in memory, and the input checks every backend shares.
// Rows are numbered in the order written and never renumbered (an ANN structure keys its
// vectors by row): upserting an id appends a row and retires the id's previous row; removing
// retires it. The float32 vectors live in blocks of STORE_BLOCK_ROWS rows that are never
// reallocated (only the newest block starts small and doubles), so the store holds one copy of
// the data plus at most one block. Field types are counted over live documents, so that a filter on a field no
// stored document has is refused (see filter.ts). checkBatch refuses, before anything is
// stored: ids that are not non-empty strings or repeat within the batch, vectors of another
// dimension, non-finite components, metadata that is not a flat object of string, finite
// number, boolean or null values, and texts that are not strings.

import { typeOf, type FieldTypes, type MetadataType } from './filter.js';
import type { Metadata, Vectors } from './types.js';

export class IndexInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexInputError';
  }
}

/** Checks a batch for upsert (see the file comment); `what` names the caller in messages. */
export function checkBatch(what: string, dim: number, ids: readonly string[], vectors: Vectors, metadata?: readonly (Metadata | undefined)[], texts?: readonly (string | undefined)[]): void {
  if (!Array.isArray(ids)) throw new IndexInputError(`${what}: ids must be an array of strings`);
  checkVectors(what, dim, vectors, 'vectors');
  if (vectors.rows !== ids.length) throw new IndexInputError(`${what}: ${ids.length} ids but ${vectors.rows} vectors; give one vector per id`);
  if (metadata !== undefined && metadata.length !== ids.length) throw new IndexInputError(`${what}: ${ids.length} ids but ${metadata.length} metadata entries`);
  if (texts !== undefined && texts.length !== ids.length) throw new IndexInputError(`${what}: ${ids.length} ids but ${texts.length} texts`);
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    if (typeof id !== 'string' || id === '') throw new IndexInputError(`${what}: id at position ${i} must be a non-empty string, got ${JSON.stringify(id) ?? String(id)}`);
    const j = seen.get(id);
    if (j !== undefined) throw new IndexInputError(`${what}: id "${id}" appears twice in one batch (positions ${j} and ${i}); give each id once per batch`);
    seen.set(id, i);
  });
  metadata?.forEach((m, i) => checkMetadata(what, m, ids[i]));
  texts?.forEach((t, i) => {
    if (t !== undefined && typeof t !== 'string') throw new IndexInputError(`${what}: text of id "${ids[i]}" must be a string, got ${typeof t}`);
  });
}

/** Checks a vectors argument: a Float32Array of rows × dim finite numbers. */
export function checkVectors(what: string, dim: number, v: Vectors, name: string): void {
  if (v === null || typeof v !== 'object' || !(v.data instanceof Float32Array)) throw new IndexInputError(`${what}: ${name} must be { data: Float32Array, rows, dim }`);
  if (v.dim !== dim) throw new IndexInputError(`${what}: ${name} have dimension ${v.dim}, the index ${dim}; embed them with the index's model`);
  if (!Number.isInteger(v.rows) || v.rows < 0 || v.data.length < v.rows * dim) {
    throw new IndexInputError(`${what}: ${v.rows} rows of ${dim} need ${v.rows * dim} numbers, ${name} hold ${v.data.length}`);
  }
  const n = v.rows * dim;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(v.data[i])) {
      throw new IndexInputError(`${what}: ${name} row ${Math.floor(i / dim)} component ${i % dim} is ${v.data[i]}; vectors must be finite (check the model or the input that produced them)`);
    }
  }
}

function checkMetadata(what: string, m: Metadata | undefined, id: string): void {
  if (m === undefined) return;
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new IndexInputError(`${what}: metadata of id "${id}" must be an object, got ${JSON.stringify(m)}`);
  for (const [k, v] of Object.entries(m)) {
    if (k === '' || k.startsWith('$')) throw new IndexInputError(`${what}: metadata field name ${JSON.stringify(k)} of id "${id}" is not allowed (empty, or starts with "$")`);
    const ok = v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) throw new IndexInputError(`${what}: metadata field "${k}" of id "${id}" is ${JSON.stringify(v) ?? String(v)}; values must be strings, finite numbers, booleans or null`);
  }
}

/** Counts of (field, type) over live documents. */
export class FieldCounter {
  private readonly counts = new Map<string, Map<MetadataType, number>>();

  add(m: Metadata | undefined, sign: 1 | -1): void {
    if (m === undefined) return;
    for (const [k, v] of Object.entries(m)) {
      let byType = this.counts.get(k);
      if (!byType) this.counts.set(k, (byType = new Map()));
      const t = typeOf(v);
      const n = (byType.get(t) ?? 0) + sign;
      if (n <= 0) byType.delete(t);
      else byType.set(t, n);
      if (byType.size === 0) this.counts.delete(k);
    }
  }

  types(): FieldTypes {
    const out = new Map<string, Set<MetadataType>>();
    for (const [k, byType] of this.counts) out.set(k, new Set(byType.keys()));
    return out;
  }
}

/** Rows per block of the vector store: blocks are never copied or resized once allocated. */
export const STORE_BLOCK_ROWS = 16384;

/** Documents in memory (see the file comment). The float32 vectors live in fixed blocks of
 * STORE_BLOCK_ROWS rows, allocated as rows arrive, so that growing the store copies nothing
 * and holds at most one partly used block beyond the rows written. */
export class DocStore {
  readonly dim: number;
  private blocks: Float32Array[] = [];
  private ids: (string | null)[] = [];
  private meta: (Metadata | undefined)[] = [];
  private texts: (string | undefined)[] = [];
  private readonly rowOf = new Map<string, number>();
  readonly fields = new FieldCounter();
  /** Increases on every change (caches of live rows compare it). */
  version = 0;

  constructor(dim: number) {
    this.dim = dim;
  }

  /** Rows ever written (live and retired). */
  get rows(): number {
    return this.ids.length;
  }

  /** Live documents. */
  get count(): number {
    return this.rowOf.size;
  }

  /** Bytes held by the vector blocks. */
  get vectorBytes(): number {
    let n = 0;
    for (const b of this.blocks) n += b.byteLength;
    return n;
  }

  /** The row of a live id. */
  row(id: string): number | undefined {
    return this.rowOf.get(id);
  }

  idAt(row: number): string | null {
    return this.ids[row] ?? null;
  }

  metadataAt(row: number): Metadata | undefined {
    return this.meta[row];
  }

  textAt(row: number): string | undefined {
    return this.texts[row];
  }

  vectorAt(row: number): Float32Array {
    const b = this.blocks[Math.floor(row / STORE_BLOCK_ROWS)];
    const o = (row % STORE_BLOCK_ROWS) * this.dim;
    return b.subarray(o, o + this.dim);
  }

  /** The vectors of rows [start, end) as views into the store, one per block they span. */
  *vectorRange(start: number, end: number): Generator<Float32Array> {
    const dim = this.dim;
    for (let r = start; r < end; ) {
      const b = Math.floor(r / STORE_BLOCK_ROWS);
      const stop = Math.min(end, (b + 1) * STORE_BLOCK_ROWS);
      const o = r - b * STORE_BLOCK_ROWS;
      yield this.blocks[b].subarray(o * dim, (o + stop - r) * dim);
      r = stop;
    }
  }

  /** Writes a document at `row` (≥ rows so far), retiring the id's previous row; returns that row or −1. */
  put(row: number, id: string, vector: Float32Array, metadata: Metadata | undefined, text: string | undefined): number {
    const dim = this.dim;
    if (row < this.ids.length) throw new Error(`DocStore.put: row ${row} was already written`);
    const b = Math.floor(row / STORE_BLOCK_ROWS);
    this.reserve(row);
    while (this.ids.length < row) {
      this.ids.push(null);
      this.meta.push(undefined);
      this.texts.push(undefined);
    }
    const old = this.retire(id);
    this.blocks[b].set(vector.subarray(0, dim), (row - b * STORE_BLOCK_ROWS) * dim);
    this.ids.push(id);
    this.meta.push(metadata);
    this.texts.push(text);
    this.rowOf.set(id, row);
    this.fields.add(metadata, 1);
    this.version++;
    return old;
  }

  /** Makes room for `row`: full blocks up to its block; the last block starts small and doubles up to full size (the only copy the store makes). */
  private reserve(row: number): void {
    const dim = this.dim;
    const b = Math.floor(row / STORE_BLOCK_ROWS);
    const o = row - b * STORE_BLOCK_ROWS;
    while (this.blocks.length <= b) {
      const last = this.blocks.length - 1;
      if (last >= 0 && this.blocks[last].length < STORE_BLOCK_ROWS * dim) this.grow(last, STORE_BLOCK_ROWS);
      this.blocks.push(new Float32Array(Math.min(STORE_BLOCK_ROWS, 64) * dim));
    }
    if (this.blocks[b].length <= o * dim) this.grow(b, o + 1);
  }

  private grow(b: number, rows: number): void {
    const dim = this.dim;
    let cap = this.blocks[b].length / dim;
    while (cap < rows) cap *= 2;
    const grown = new Float32Array(Math.min(STORE_BLOCK_ROWS, cap) * dim);
    grown.set(this.blocks[b]);
    this.blocks[b] = grown;
  }

  /** Retires a live id's row; returns the row or −1 when the id is absent. */
  retire(id: string): number {
    const r = this.rowOf.get(id);
    if (r === undefined) return -1;
    this.rowOf.delete(id);
    this.fields.add(this.meta[r], -1);
    this.ids[r] = null;
    this.meta[r] = undefined;
    this.texts[r] = undefined;
    this.version++;
    return r;
  }

  /** Live rows in row order. */
  liveRows(): Int32Array {
    const out = new Int32Array(this.rowOf.size);
    let j = 0;
    for (let r = 0; r < this.ids.length; r++) if (this.ids[r] !== null) out[j++] = r;
    return out;
  }

  /** The vectors of `rows`, packed: a view into the store when they are consecutive rows of one block, else a copy. */
  gather(rows: Int32Array): Float32Array {
    const dim = this.dim;
    const n = rows.length;
    if (n > 0) {
      const first = rows[0];
      const b = Math.floor(first / STORE_BLOCK_ROWS);
      if (rows[n - 1] === first + n - 1 && Math.floor((first + n - 1) / STORE_BLOCK_ROWS) === b) {
        let consecutive = true;
        for (let i = 1; i < n && consecutive; i++) consecutive = rows[i] === first + i;
        if (consecutive) {
          const o = (first - b * STORE_BLOCK_ROWS) * dim;
          return this.blocks[b].subarray(o, o + n * dim);
        }
      }
    }
    const out = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) out.set(this.vectorAt(rows[i]), i * dim);
    return out;
  }

  /** Drops everything (a closed index holds no memory). */
  clear(): void {
    this.blocks = [];
    this.ids = [];
    this.meta = [];
    this.texts = [];
    this.rowOf.clear();
    this.version++;
  }
}
