// Backend `ivf`: an inverted-file index with int8 codes and exact float32 rescoring (as FAISS's
// IndexIVFScalarQuantizer followed by a refine step), keyed by row, beside the documents in the
// index folder (file_index.ts). Every vector x is stored as int8 codes (int8.ts)
//   c = round(127 · x / max|x|)   and a factor   f = max|x| / (127 · ‖x‖)  (cosine; dot: max|x| / 127)
// so that f · (c · c_q) ≈ cos(x, q) · ‖q‖ / max|q| (dot: x · q / max|q|) — the query's own factor
// is the same for every row and does not change the ranking. The codes sit in lists, one list per
// centroid of a coarse quantizer: nlist centroids from k-means over a seeded sample of at most
// 64 · nlist stored vectors (10 iterations from random sample points; spherical for cosine: the
// vectors L2-normalised and the centroids re-normalised each iteration; plain means under inner
// product for dot, as FAISS's IP quantizer), each vector in the list of its best centroid
// (argmax q·centroid, cosine on normalised vectors). Assignment runs through the exact scorer
// (ExactIndex: the ONNX MatMul + TopK graph, top 1), so 1M × 1,000 × 384 assigns in seconds.
// A query scores the centroids by their int8 codes (as a list's: f_c · (c_c · c_q); scan_i8),
// scans the codes of its nprobe best lists (scan_i8: int8 · int16 dot products, WebAssembly SIMD,
// kernels/ivf.wat) and keeps the rescore · k best by f · (c · c_q); those are rescored exactly in
// float32 from the stored vectors (vectorOf, copied into the WebAssembly memory: dot_f32 gives
// q·x and ‖x‖², and cos = q·x / (‖q‖ · max(‖x‖, 1e-12)) as int8.ts's exactScore), sorted by
// (score desc, row asc). When the nprobe lists hold fewer than rescore · k codes, further lists
// are scanned in centroid order until they do (so an index of ≥ k vectors always returns k).
// Why int8 centroids and a kernel for the rescoring: at 100,000 × 384 with 1,024 lists and
// nprobe 1, a float32 scan of the centroids (1.5 MB a query) took 45 µs and rescoring 40
// candidates in JavaScript 45 µs of a query's 110 µs; int8 centroids take about 15 µs, the
// kernel's rescoring about 15 µs (the rest is the candidates' cache misses).
// Training: below trainFrom stored vectors (default 4,096) there are no centroids and a query
// scans every code (one list). When the count first reaches trainFrom, and again whenever it has
// grown 4× since the last training, the quantizer is trained with nlist = the option, or by
// default pgvector's ivfflat guidance (rows / 1000 up to 1M rows, √rows beyond; at least 1), and
// every stored code is reassigned. Removal is real (swap-remove in the row's list).
// Options: nlist (default automatic, above), nprobe (default 4: see NPROBE), rescore (4),
// trainFrom (4,096), threads (of the assignment's onnxruntime graph). stats() gives the nlist in
// use. The codes live in the linear memory of a WebAssembly instance (at most 4 GiB: about 8M vectors
// of 384 dimensions), rows zero-padded to a multiple of 16 bytes, each list one contiguous
// chunk whose capacity doubles (a bump allocator); memory of outgrown chunks is reclaimed by
// repacking every list into a fresh memory once it exceeds the live codes. save() writes one
// file (header, centroids, then per list its rows, factors and codes); load() checks it.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { FileIndex, type AnnEngine, type FileIndexOptions } from './file_index.js';
import { IndexInputError } from './documents.js';
import { ExactIndex } from './exact_search.js';
import { cosineOf, int8Codes, norm, writeBest, type Candidate } from './int8.js';
import { IVF_WASM } from './kernels/ivf_wasm.js';
import { IndexCorruptError, type Manifest } from './segments.js';
import { Rng } from '../models/init.js';
import type { IndexMetric, IndexModelInfo, Vectors } from './types.js';

export const IVF = 'ivf';

export interface IvfOptions {
  /** Lists (centroids) of the coarse quantizer (default: rows/1000 up to 1M rows, √rows beyond, at training time). */
  nlist?: number;
  /** Lists scanned per query (default 4). */
  nprobe?: number;
  /** Candidates per hit rescored in float32 (default 4). */
  rescore?: number;
  /** Stored vectors from which the quantizer is trained (default 4096); below, every code is scanned. */
  trainFrom?: number;
  /** onnxruntime threads of the assignment (default: all cores). */
  threads?: number;
}

/**
 * Default nprobe. Measured at 100,000 × 384 (bench/index_bench.ts data, 500 queries, one
 * thread): with the automatic 50 lists, recall@10 is 1.000 from nprobe 1 (6,577 q/s; 2,676 at
 * 4); with 1,024 lists 0.784 at 4 and 0.977 at 8; on clusters that overlap (σ 2 instead of 0.9)
 * 0.885 at 1, 0.931 at 4, 0.951 at 8. 4 keeps most of nprobe 1's speed where lists follow the
 * clusters and gains where they do not; raise it (search --nprobe) when lists are many.
 */
export const NPROBE = 4;
const RESCORE = 4;
const TRAIN_FROM = 4096;
/** k-means: iterations, and sampled vectors per centroid at most. */
const KMEANS_ITERS = 10;
const SAMPLE_PER_LIST = 64;
const SEED = 0x1f5;
/** Rows per call of the scan kernel (its output block), candidates per call of the rescoring kernel, rows per assignment batch. */
const SCAN_BLOCK = 1024;
const RESCORE_BLOCK = 64;
const ASSIGN_PIECE = 16384;
const PAGE = 65536;
/** WebAssembly's 32-bit memory: 65,536 pages of 64 KiB (4 GiB). */
const MAX_PAGES = 65536;
const MAX_BYTES = MAX_PAGES * PAGE;
const MAGIC = 'SKIVF\0\0\0';
const VERSION = 1;
const HEADER_U32 = 9;
const HEADER_BYTES = 8 + 4 * HEADER_U32;

interface Kernel {
  scan_i8(q: number, codes: number, n: number, dp: number, out: number): void;
  /** out[2r] = q · base_r, out[2r+1] = ‖base_r‖² (float32). */
  dot_f32(q: number, base: number, n: number, dp: number, out: number): void;
}

let compiled: WebAssembly.Module | null = null;

const round16 = (n: number): number => Math.ceil(n / 16) * 16;

function positive(v: unknown, name: string, dflt: number | undefined): number | undefined {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new IndexInputError(`ivf: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** pgvector's ivfflat guidance: rows / 1000 lists up to 1M rows, √rows beyond (at least 1). */
export function autoNlist(rows: number): number {
  return Math.max(1, Math.round(rows <= 1_000_000 ? rows / 1000 : Math.sqrt(rows)));
}

function tooLarge(bytes: number): IndexInputError {
  return new IndexInputError(`ivf: the index needs ${(bytes / 2 ** 30).toFixed(2)} GiB of WebAssembly memory for its codes, above WebAssembly's limit of 4 GiB (about 8 million vectors of 384 dimensions); split the data into several indexes or use the usearch backend`);
}

/** One WebAssembly memory with the scan kernels, filled by a bump allocator (16-byte aligned). */
class Arena {
  readonly memory: WebAssembly.Memory;
  readonly kernel: Kernel;
  top = 0;
  u8!: Uint8Array;
  i16!: Int16Array;
  i32!: Int32Array;
  f32!: Float32Array;

  constructor(bytes: number) {
    if (bytes > MAX_BYTES) throw tooLarge(bytes);
    compiled ??= new WebAssembly.Module(Buffer.from(IVF_WASM, 'base64'));
    this.memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)), maximum: MAX_PAGES });
    this.kernel = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports as unknown as Kernel;
    this.views();
  }

  /** Views of the memory (grow() detaches the old ones). */
  private views(): void {
    const b = this.memory.buffer;
    this.u8 = new Uint8Array(b);
    this.i16 = new Int16Array(b);
    this.i32 = new Int32Array(b);
    this.f32 = new Float32Array(b);
  }

  /** `bytes` more (zeros: nothing is ever handed out twice), at a 16-byte aligned offset. */
  alloc(bytes: number): number {
    const p = this.top;
    const end = p + round16(bytes);
    if (end > this.u8.byteLength) {
      if (end > MAX_BYTES) throw tooLarge(end);
      const have = this.u8.byteLength / PAGE;
      const want = Math.min(MAX_PAGES, Math.max(Math.ceil(end / PAGE), have + (have >> 2)));
      try {
        this.memory.grow(want - have);
      } catch (e) {
        throw new IndexInputError(`ivf: cannot grow the WebAssembly memory of the codes to ${(want * PAGE / 2 ** 30).toFixed(2)} GiB (${(e as Error).message})`);
      }
      this.views();
    }
    this.top = end;
    return p;
  }
}

/** One inverted list: `len` rows, codes at `ptr` (room for `cap` rows of dp bytes), their rows and factors. */
interface List {
  ptr: number;
  cap: number;
  len: number;
  ids: Int32Array;
  fac: Float32Array;
}

const ONE_LIST = Int32Array.of(0);

/** The m best of the scores, best first (ties: the lower index first). */
function topLists(sc: Float32Array, m: number): Int32Array {
  const idx = new Int32Array(m);
  const val = new Float32Array(m);
  let size = 0;
  let floor = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < sc.length; j++) {
    const v = sc[j];
    if (size === m && v <= floor) continue;
    let at = size < m ? size++ : m - 1;
    while (at > 0 && val[at - 1] < v) {
      val[at] = val[at - 1];
      idx[at] = idx[at - 1];
      at--;
    }
    val[at] = v;
    idx[at] = j;
    if (size === m) floor = val[m - 1];
  }
  return idx;
}

/** The IVF engine behind FileIndex. */
export class IvfEngine implements AnnEngine {
  readonly options: Record<string, unknown>;
  private readonly dp: number;
  private readonly nlistOption: number | undefined;
  private readonly nprobe: number;
  private readonly rescore: number;
  private readonly trainFrom: number;
  private readonly threads: number | undefined;
  private arena!: Arena;
  /** Scratch in the arena: the query as int16 (dp) and float32 (dp), the scan's output block,
   * candidates' vectors copied for rescoring and the kernel's (dot, squared norm) of each. */
  private qi16 = 0;
  private qf32 = 0;
  private out = 0;
  private cand = 0;
  private candOut = 0;
  /** Centroids (nlist × dim, for assignment and save), their int8 codes in the arena (cptr) and factors, their scores. */
  private centroids: Float32Array = new Float32Array(0);
  private cptr = 0;
  private cfac = new Float32Array(0);
  private cscores = 0;
  private csc = new Float32Array(0);
  /** 0 until trained (one list then). */
  private nlist = 0;
  private lists: List[] = [];
  /** Row → its list (−1: absent) and position in it. */
  private listOf = new Int32Array(0);
  private posOf = new Int32Array(0);
  private count = 0;
  /** Bytes of outgrown chunks (reclaimed by compact()). */
  private abandoned = 0;
  /** Count at the last training (0: never), trainings so far (the k-means seed). */
  private trainedAt = 0;
  private trainings = 0;
  /** add/remove, one at a time (training awaits onnxruntime). */
  private queue: Promise<void> = Promise.resolve();
  /** Bumped by reset/load/close: an add in flight across one drops its work. */
  private epoch = 0;
  private assigner: ExactIndex | null = null;
  private assignerRows = 0;

  constructor(
    private readonly dim: number,
    private readonly metric: IndexMetric,
    o: IvfOptions,
    /** Float32 vector of a row (training, reassignment and rescoring). */
    private readonly vectorOf: (row: number) => Float32Array,
  ) {
    this.dp = round16(dim);
    this.nlistOption = positive(o.nlist, 'nlist', undefined);
    this.nprobe = positive(o.nprobe, 'nprobe', NPROBE)!;
    this.rescore = positive(o.rescore, 'rescore', RESCORE)!;
    this.trainFrom = positive(o.trainFrom, 'trainFrom', TRAIN_FROM)!;
    this.options = { nprobe: this.nprobe, rescore: this.rescore, trainFrom: this.trainFrom };
    if (this.nlistOption !== undefined) this.options.nlist = this.nlistOption;
    this.threads = o.threads;
    this.empty();
  }

  /** A fresh arena holding the scratch, room for `centroids` (nlist) and for list chunks of `listBytes`. */
  private newArena(nlist: number, listBytes: number): Arena {
    const dp = this.dp;
    const a = new Arena(dp * 6 + SCAN_BLOCK * 4 + RESCORE_BLOCK * (dp * 4 + 8) + nlist * (dp + 4) + listBytes + 128);
    this.qi16 = a.alloc(dp * 2);
    this.qf32 = a.alloc(dp * 4);
    this.out = a.alloc(SCAN_BLOCK * 4);
    this.cand = a.alloc(RESCORE_BLOCK * dp * 4);
    this.candOut = a.alloc(RESCORE_BLOCK * 8);
    this.cptr = a.alloc(nlist * dp);
    this.cscores = a.alloc(nlist * 4);
    return a;
  }

  private newList(a: Arena, cap: number): List {
    return { ptr: a.alloc(cap * this.dp), cap, len: 0, ids: new Int32Array(cap), fac: new Float32Array(cap) };
  }

  private empty(): void {
    this.arena = this.newArena(0, 0);
    this.centroids = new Float32Array(0);
    this.nlist = 0;
    this.lists = [this.newList(this.arena, 0)];
    this.listOf = new Int32Array(0);
    this.posOf = new Int32Array(0);
    this.count = 0;
    this.abandoned = 0;
    this.trainedAt = 0;
    this.trainings = 0;
  }

  /** The centroids (nlist × dim), and their int8 codes and factors (as a list's) in the current arena. */
  private setCentroids(c: Float32Array, nlist: number): void {
    const dim = this.dim;
    this.centroids = c;
    this.nlist = nlist;
    this.cfac = new Float32Array(nlist);
    this.csc = new Float32Array(nlist);
    const codes = int8Codes(c, nlist, dim, this.cfac);
    for (let j = 0; j < nlist; j++) {
      this.cfac[j] /= 127;
      this.arena.u8.set(codes.subarray(j * dim, (j + 1) * dim) as unknown as Uint8Array, this.cptr + j * this.dp);
    }
  }

  private mapRows(maxRow: number): void {
    if (maxRow < this.listOf.length) return;
    const n = Math.max(maxRow + 1, this.listOf.length * 2, 1024);
    const l = new Int32Array(n).fill(-1);
    l.set(this.listOf);
    const p = new Int32Array(n);
    p.set(this.posOf);
    this.listOf = l;
    this.posOf = p;
  }

  private enqueue(f: () => Promise<void> | void): Promise<void> {
    const p = this.queue.then(f);
    this.queue = p.then(() => undefined, () => undefined);
    return p;
  }

  add(rows: Int32Array, vectors: Float32Array): Promise<void> {
    return this.enqueue(() => this.addNow(rows, vectors));
  }

  remove(rows: Int32Array): Promise<void> {
    return this.enqueue(() => this.removeNow(rows));
  }

  private async addNow(rows: Int32Array, vectors: Float32Array): Promise<void> {
    const n = rows.length;
    if (n === 0) return;
    const dim = this.dim;
    let maxRow = -1;
    for (const r of rows) {
      if (r < 0) throw new Error(`ivf: row ${r} is negative`);
      if (r < this.listOf.length && this.listOf[r] >= 0) throw new Error(`ivf: row ${r} is already in the index (a row is removed before it is added again)`);
      maxRow = Math.max(maxRow, r);
    }
    if (new Set(rows).size !== n) throw new Error('ivf: the same row twice in one add');
    const need = (this.count + n) * this.dp * 1.25 + this.nlist * this.dp * 4;
    if (need > MAX_BYTES) throw tooLarge(need);
    const epoch = this.epoch;
    const labels = this.nlist > 0 ? await this.assign(this.centroids, this.nlist, n, (s, e) => vectors.subarray(s * dim, e * dim)) : new Int32Array(n);
    if (epoch !== this.epoch) return;
    this.mapRows(maxRow);
    const PIECE = 8192;
    const scales = new Float32Array(PIECE);
    for (let s = 0; s < n; s += PIECE) {
      const e = Math.min(n, s + PIECE);
      const v = vectors.subarray(s * dim, e * dim);
      const codes = int8Codes(v, e - s, dim, scales);
      for (let i = 0; i < e - s; i++) {
        const x = v.subarray(i * dim, (i + 1) * dim);
        const f = scales[i] / 127 / (this.metric === 'cosine' ? norm(x) : 1);
        this.append(labels[s + i], rows[s + i], codes.subarray(i * dim, (i + 1) * dim), f);
      }
    }
    this.count += n;
    this.maybeCompact();
    if ((this.trainedAt === 0 && this.count >= this.trainFrom) || (this.trainedAt > 0 && this.count >= 4 * this.trainedAt)) await this.train();
  }

  /** Appends one row to list l (its chunk doubled when full). */
  private append(l: number, row: number, code: Int8Array, f: number): void {
    let list = this.lists[l];
    if (list.len === list.cap) list = this.grow(l);
    const at = list.len++;
    this.arena.u8.set(code as unknown as Uint8Array, list.ptr + at * this.dp);
    list.ids[at] = row;
    list.fac[at] = f;
    this.listOf[row] = l;
    this.posOf[row] = at;
  }

  private grow(l: number): List {
    const old = this.lists[l];
    const cap = Math.max(8, old.cap * 2);
    const dp = this.dp;
    const next = this.newList(this.arena, cap);
    this.arena.u8.copyWithin(next.ptr, old.ptr, old.ptr + old.len * dp);
    next.ids.set(old.ids.subarray(0, old.len));
    next.fac.set(old.fac.subarray(0, old.len));
    next.len = old.len;
    this.abandoned += old.cap * dp;
    this.lists[l] = next;
    return next;
  }

  private removeNow(rows: Int32Array): void {
    const dp = this.dp;
    for (const r of rows) {
      if (r < 0 || r >= this.listOf.length || this.listOf[r] < 0) continue;
      const list = this.lists[this.listOf[r]];
      const p = this.posOf[r];
      const last = list.len - 1;
      if (p !== last) {
        this.arena.u8.copyWithin(list.ptr + p * dp, list.ptr + last * dp, list.ptr + (last + 1) * dp);
        const moved = list.ids[last];
        list.ids[p] = moved;
        list.fac[p] = list.fac[last];
        this.posOf[moved] = p;
      }
      list.len--;
      this.listOf[r] = -1;
      this.count--;
    }
    this.maybeCompact();
  }

  /** Repacks when outgrown chunks exceed the live codes, or the lists' room is over 4× what they hold (after removals). */
  private maybeCompact(): void {
    const live = this.count * this.dp;
    let room = 0;
    for (const l of this.lists) room += l.cap * this.dp;
    if (this.abandoned > live + (1 << 16) || room > 4 * live + (1 << 16)) this.rebuild(this.centroids, this.nlist, (row) => this.listOf[row]);
  }

  /** Every stored row into a fresh arena, in list `label(row)` (room: a quarter more than each list holds). */
  private rebuild(centroids: Float32Array, nlist: number, label: (row: number) => number): void {
    const dp = this.dp;
    const nl = Math.max(1, nlist);
    const sizes = new Int32Array(nl);
    for (const l of this.lists) for (let i = 0; i < l.len; i++) sizes[label(l.ids[i])]++;
    const cap = (c: number): number => c + Math.ceil(c / 4) + 4;
    let bytes = 0;
    for (const c of sizes) bytes += round16(cap(c) * dp);
    const old = this.arena;
    const oldLists = this.lists;
    const a = this.newArena(nlist, bytes);
    const lists = Array.from(sizes, (c) => this.newList(a, cap(c)));
    for (const src of oldLists) {
      for (let i = 0; i < src.len; i++) {
        const row = src.ids[i];
        const l = label(row);
        const dst = lists[l];
        const at = dst.len++;
        a.u8.set(old.u8.subarray(src.ptr + i * dp, src.ptr + (i + 1) * dp), dst.ptr + at * dp);
        dst.ids[at] = row;
        dst.fac[at] = src.fac[i];
        this.listOf[row] = l;
        this.posOf[row] = at;
      }
    }
    this.arena = a;
    this.lists = lists;
    this.abandoned = 0;
    this.setCentroids(centroids, nlist);
  }

  /** Stored rows, ascending. */
  private liveRows(): Int32Array {
    const out = new Int32Array(this.count);
    let k = 0;
    for (let r = 0; r < this.listOf.length; r++) if (this.listOf[r] >= 0) out[k++] = r;
    return out;
  }

  /** The best of `nlist` centroids for each of n vectors (fill(s, e): vectors s … e−1), by the exact scorer. */
  private async assign(centroids: Float32Array, nlist: number, n: number, fill: (s: number, e: number) => Float32Array): Promise<Int32Array> {
    if (this.assigner === null || this.assignerRows !== nlist) {
      void this.assigner?.close();
      this.assigner = new ExactIndex(this.dim, { metric: this.metric, threads: this.threads, blockRows: nlist, queryBatch: 2048 });
      this.assignerRows = nlist;
    }
    const ex = this.assigner;
    ex.clear();
    ex.add({ data: centroids, rows: nlist, dim: this.dim });
    const out = new Int32Array(n);
    for (let s = 0; s < n; s += ASSIGN_PIECE) {
      const e = Math.min(n, s + ASSIGN_PIECE);
      out.set((await ex.search({ data: fill(s, e), rows: e - s, dim: this.dim }, 1)).ids, s);
    }
    return out;
  }

  /** Float32 vectors of these rows (L2-normalised for cosine). */
  private gather(rows: Int32Array, s: number, e: number, unit: boolean): Float32Array {
    const dim = this.dim;
    const out = new Float32Array((e - s) * dim);
    for (let i = s; i < e; i++) {
      const v = this.vectorOf(rows[i]);
      const o = (i - s) * dim;
      out.set(v, o);
      if (!unit) continue;
      const inv = 1 / norm(v);
      for (let d = 0; d < dim; d++) out[o + d] *= inv;
    }
    return out;
  }

  /** k-means over a seeded sample, then every stored row reassigned (see the file comment). */
  private async train(): Promise<void> {
    const epoch = this.epoch;
    const dim = this.dim;
    const live = this.liveRows();
    const nlist = Math.min(live.length, this.nlistOption ?? autoNlist(live.length));
    const rng = new Rng(SEED + this.trainings);
    const S = Math.min(live.length, SAMPLE_PER_LIST * nlist);
    const pool = live.slice();
    for (let i = 0; i < S; i++) {
      const j = i + Math.floor(rng.uniform() * (pool.length - i));
      const t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
    }
    const unit = this.metric === 'cosine';
    // the first nlist sampled vectors are the initial centroids
    const X = this.gather(pool, 0, S, unit);
    const C = X.slice(0, nlist * dim);
    const sums = new Float64Array(nlist * dim);
    const sizes = new Int32Array(nlist);
    for (let it = 0; it < KMEANS_ITERS; it++) {
      const labels = await this.assign(C, nlist, S, (s, e) => X.subarray(s * dim, e * dim));
      if (epoch !== this.epoch) return;
      sums.fill(0);
      sizes.fill(0);
      for (let i = 0; i < S; i++) {
        const j = labels[i];
        sizes[j]++;
        const o = j * dim;
        const x = i * dim;
        for (let d = 0; d < dim; d++) sums[o + d] += X[x + d];
      }
      for (let j = 0; j < nlist; j++) {
        if (sizes[j] === 0) continue;
        const o = j * dim;
        let nn = 0;
        for (let d = 0; d < dim; d++) nn += sums[o + d] * sums[o + d];
        const inv = unit ? 1 / Math.max(Math.sqrt(nn), 1e-30) : 1 / sizes[j];
        for (let d = 0; d < dim; d++) C[o + d] = sums[o + d] * inv;
      }
      // an empty list takes a random sample vector of the largest one (which it then splits)
      for (let j = 0; j < nlist; j++) {
        if (sizes[j] > 0) continue;
        let big = 0;
        for (let i = 1; i < nlist; i++) if (sizes[i] > sizes[big]) big = i;
        if (sizes[big] < 2) break;
        let s = Math.floor(rng.uniform() * S);
        while (labels[s] !== big) s = (s + 1) % S;
        C.set(X.subarray(s * dim, (s + 1) * dim), j * dim);
        sizes[big]--;
        sizes[j] = 1;
        labels[s] = j;
      }
    }
    const labels = await this.assign(C, nlist, live.length, (s, e) => this.gather(live, s, e, false));
    if (epoch !== this.epoch) return;
    const listOfRow = new Int32Array(this.listOf.length);
    live.forEach((r, i) => (listOfRow[r] = labels[i]));
    this.rebuild(C, nlist, (row) => listOfRow[row]);
    this.trainedAt = live.length;
    this.trainings++;
  }

  /** The lists a query (already in the int16 scratch) scans: its nprobe best centroids by their
   * int8 codes, then more in that order until the lists hold `want` codes. */
  private probe(want: number): Int32Array {
    if (this.nlist === 0) return ONE_LIST;
    const a = this.arena;
    a.kernel.scan_i8(this.qi16, this.cptr, this.nlist, this.dp, this.cscores);
    const sc = this.csc;
    const o = this.cscores >> 2;
    for (let j = 0; j < this.nlist; j++) sc[j] = a.i32[o + j] * this.cfac[j];
    for (let m = Math.min(this.nprobe, this.nlist); ; m = Math.min(this.nlist, 2 * m)) {
      const best = topLists(sc, m);
      let held = 0;
      for (let i = 0; i < m; i++) {
        held += this.lists[best[i]].len;
        if (held >= want && i + 1 >= this.nprobe) return best.subarray(0, i + 1);
      }
      if (m === this.nlist) return best;
    }
  }

  search(queries: Vectors, k: number): { rows: Int32Array; scores: Float32Array } {
    const nq = queries.rows;
    const dim = this.dim;
    const dp = this.dp;
    const rows = new Int32Array(nq * k).fill(-1);
    const scores = new Float32Array(nq * k).fill(Number.NEGATIVE_INFINITY);
    if (nq === 0 || this.count === 0) return { rows, scores };
    const R = k * this.rescore;
    // a min-heap of the R best approximate scores
    const hs = new Float32Array(R);
    const hr = new Int32Array(R);
    for (let q = 0; q < nq; q++) {
      const qv = queries.data.subarray(q * dim, (q + 1) * dim);
      const a = this.arena;
      a.i16.set(int8Codes(qv, 1, dim), this.qi16 >> 1);
      a.f32.set(qv, this.qf32 >> 2);
      const lists = this.probe(R);
      const out = a.i32;
      const o = this.out >> 2;
      let size = 0;
      for (const l of lists) {
        const { len, ptr, fac, ids } = this.lists[l];
        for (let s = 0; s < len; s += SCAN_BLOCK) {
          const m = Math.min(SCAN_BLOCK, len - s);
          a.kernel.scan_i8(this.qi16, ptr + s * dp, m, dp, this.out);
          for (let i = 0; i < m; i++) {
            const v = out[o + i] * fac[s + i];
            if (size < R) {
              // sift up
              let c = size++;
              while (c > 0) {
                const p = (c - 1) >> 1;
                if (hs[p] <= v) break;
                hs[c] = hs[p];
                hr[c] = hr[p];
                c = p;
              }
              hs[c] = v;
              hr[c] = ids[s + i];
            } else if (v > hs[0]) {
              // replace the root, sift down
              let c = 0;
              for (;;) {
                let ch = 2 * c + 1;
                if (ch >= R) break;
                if (ch + 1 < R && hs[ch + 1] < hs[ch]) ch++;
                if (hs[ch] >= v) break;
                hs[c] = hs[ch];
                hr[c] = hr[ch];
                c = ch;
              }
              hs[c] = v;
              hr[c] = ids[s + i];
            }
          }
        }
      }
      // exact scores: the candidates' float32 vectors copied into the arena, a block at a time
      const qn = this.metric === 'dot' ? 1 : norm(qv);
      const cand: Candidate[] = [];
      const f = a.f32;
      for (let s = 0; s < size; s += RESCORE_BLOCK) {
        const m = Math.min(RESCORE_BLOCK, size - s);
        for (let i = 0; i < m; i++) f.set(this.vectorOf(hr[s + i]), (this.cand >> 2) + i * dp);
        a.kernel.dot_f32(this.qf32, this.cand, m, dp, this.candOut);
        const co = this.candOut >> 2;
        for (let i = 0; i < m; i++) cand.push({ row: hr[s + i], score: this.metric === 'dot' ? f[co + 2 * i] : cosineOf(f[co + 2 * i], qn, f[co + 2 * i + 1]) });
      }
      writeBest(cand, q, k, rows, scores);
    }
    return { rows, scores };
  }

  save(path: string): void {
    const nl = this.lists.length;
    const head = Buffer.alloc(HEADER_BYTES + nl * 4);
    head.write(MAGIC, 0, 'latin1');
    const fields = [VERSION, this.dim, this.dp, this.metric === 'cosine' ? 0 : 1, this.nlist, nl, this.count, this.trainedAt, this.trainings];
    fields.forEach((v, i) => head.writeUInt32LE(v, 8 + 4 * i));
    this.lists.forEach((l, i) => head.writeUInt32LE(l.len, HEADER_BYTES + 4 * i));
    const fd = openSync(path, 'w');
    try {
      const put = (b: Uint8Array): void => {
        for (let o = 0; o < b.byteLength; ) o += writeSync(fd, b, o, b.byteLength - o);
      };
      put(head);
      put(new Uint8Array(this.centroids.buffer, this.centroids.byteOffset, this.nlist * this.dim * 4));
      for (const l of this.lists) {
        put(new Uint8Array(l.ids.buffer, 0, l.len * 4));
        put(new Uint8Array(l.fac.buffer, 0, l.len * 4));
        put(this.arena.u8.subarray(l.ptr, l.ptr + l.len * this.dp));
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Reads the file into a fresh arena (`view` is ignored: the codes must be in the WebAssembly memory). */
  load(path: string, _view = false): void {
    this.epoch++;
    const bad = (why: string): IndexCorruptError => new IndexCorruptError(`${path}: not a valid ivf index file (${why}); restore it or rebuild the index with \`sentencekit index build\``);
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const read = (b: Uint8Array, pos: number): void => {
        for (let o = 0; o < b.byteLength; ) {
          const got = readSync(fd, b, o, b.byteLength - o, pos + o);
          if (got === 0) throw bad(`truncated at byte ${pos + o} of ${size}`);
          o += got;
        }
      };
      if (size < HEADER_BYTES) throw bad(`${size} bytes, shorter than its header`);
      const head = Buffer.alloc(HEADER_BYTES);
      read(head, 0);
      if (head.toString('latin1', 0, 8) !== MAGIC) throw bad('wrong magic bytes');
      const [version, dim, dp, metric, nlist, nl, count, trainedAt, trainings] = Array.from({ length: HEADER_U32 }, (_, i) => head.readUInt32LE(8 + 4 * i));
      if (version !== VERSION) throw bad(`format version ${version}, this build reads ${VERSION}`);
      if (dim !== this.dim || dp !== this.dp) throw bad(`dimension ${dim}, the index has ${this.dim}`);
      if (metric !== (this.metric === 'cosine' ? 0 : 1)) throw bad(`metric ${metric === 0 ? 'cosine' : 'dot'}, the index has ${this.metric}`);
      if (nl !== Math.max(1, nlist)) throw bad(`${nl} lists for nlist ${nlist}`);
      if (size < HEADER_BYTES + nl * 4) throw bad(`truncated: ${size} bytes`);
      const lens = Buffer.alloc(nl * 4);
      read(lens, HEADER_BYTES);
      const sizes = Array.from({ length: nl }, (_, i) => lens.readUInt32LE(4 * i));
      const total = sizes.reduce((s, x) => s + x, 0);
      if (total !== count) throw bad(`its lists hold ${total} rows, the header gives ${count}`);
      const expected = HEADER_BYTES + nl * 4 + nlist * dim * 4 + total * (8 + dp);
      if (size !== expected) throw bad(`${size} bytes where its header implies ${expected}${size < expected ? ': truncated' : ''}`);
      let pos = HEADER_BYTES + nl * 4;
      const centroids = new Float32Array(nlist * dim);
      read(new Uint8Array(centroids.buffer), pos);
      pos += centroids.byteLength;
      const cap = (c: number): number => c + Math.ceil(c / 4) + 4;
      let bytes = 0;
      for (const c of sizes) bytes += round16(cap(c) * dp);
      this.lists = [];
      this.arena = this.newArena(nlist, bytes);
      const lists = sizes.map((c) => this.newList(this.arena, cap(c)));
      let maxRow = -1;
      for (const [j, l] of lists.entries()) {
        const n = sizes[j];
        read(new Uint8Array(l.ids.buffer, 0, n * 4), pos);
        pos += n * 4;
        read(new Uint8Array(l.fac.buffer, 0, n * 4), pos);
        pos += n * 4;
        read(this.arena.u8.subarray(l.ptr, l.ptr + n * dp), pos);
        pos += n * dp;
        l.len = n;
        for (let i = 0; i < n; i++) {
          if (l.ids[i] < 0) throw bad(`a negative row ${l.ids[i]}`);
          maxRow = Math.max(maxRow, l.ids[i]);
        }
      }
      this.listOf = new Int32Array(0);
      this.posOf = new Int32Array(0);
      this.mapRows(maxRow);
      lists.forEach((l, j) => {
        for (let i = 0; i < l.len; i++) {
          if (this.listOf[l.ids[i]] >= 0) throw bad(`row ${l.ids[i]} stored twice`);
          this.listOf[l.ids[i]] = j;
          this.posOf[l.ids[i]] = i;
        }
      });
      this.lists = lists;
      this.count = count;
      this.abandoned = 0;
      this.trainedAt = trainedAt;
      this.trainings = trainings;
      this.setCentroids(centroids, nlist);
    } catch (e) {
      this.empty();
      throw e;
    } finally {
      closeSync(fd);
    }
  }

  reset(): void {
    this.epoch++;
    this.empty();
  }

  stats(): Record<string, unknown> {
    return {
      ann: {
        library: 'ivf (this layer: int8 codes scanned by a WebAssembly SIMD kernel, float32 rescoring)',
        size: this.count, ...this.options, nlist: this.nlist, trainedAt: this.trainedAt, memoryBytes: this.arena.u8.byteLength,
      },
    };
  }

  close(): void {
    this.epoch++;
    this.empty();
    void this.assigner?.close();
    this.assigner = null;
  }
}

export function createIvf(dir: string, dim: number, metric: IndexMetric, model: IndexModelInfo | undefined, o: IvfOptions & FileIndexOptions = {}): Promise<FileIndex> {
  return FileIndex.createWith(dir, IVF, dim, metric, model, (vectorOf) => new IvfEngine(dim, metric, o, vectorOf), o);
}

export function openIvf(dir: string, m: Manifest, o: IvfOptions & FileIndexOptions = {}): Promise<FileIndex> {
  const saved = m.options as IvfOptions;
  return FileIndex.openWith(dir, m, (vectorOf) => new IvfEngine(m.dim, m.metric, { ...saved, nprobe: o.nprobe ?? saved.nprobe, threads: o.threads }, vectorOf), o);
}
