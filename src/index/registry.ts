// createIndex / openIndex: the one way to make or reopen an index, whatever its backend. Each
// backend is one line of BACKENDS: how to create it and how to reopen it from its manifest.
// openIndex(dir) reads dir/manifest.json and dispatches on its "backend". DEFAULT_BACKEND is
// the embedded ANN backend chosen by measurement (README, "Search").

import { IndexInputError } from './documents.js';
import { createFlat, FLAT, openFlat } from './flat.js';
import { readManifest, type Manifest } from './segments.js';
import type { IndexMetric, IndexModelInfo, VectorIndex } from './types.js';
import { createUsearch, openUsearch, USEARCH, type UsearchOptions } from './usearch.js';
import { createPgvector, openPgvector, PGVECTOR, type PgvectorOptions } from './pgvector.js';
import { createIvf, IVF, openIvf, type IvfOptions } from './ivf.js';

export interface CreateIndexOptions {
  /** 'flat', 'usearch' (default), 'ivf' or 'pgvector'. */
  backend?: string;
  /** The index folder (for pgvector it holds the manifest naming the server and table). */
  dir: string;
  dim: number;
  /** 'cosine' (default) or 'dot'. */
  metric?: IndexMetric;
  model?: IndexModelInfo;
  /** onnxruntime / library threads (default: all cores). */
  threads?: number;
  /** usearch settings: connectivity, expansionAdd, expansionSearch, quantization (i8 default for cosine), rescore. */
  usearch?: UsearchOptions;
  /** ivf settings: nlist (automatic), nprobe (4), rescore (4), trainFrom (4096). */
  ivf?: IvfOptions;
  /** pgvector's connection and table. */
  pgvector?: PgvectorOptions;
  /** ANN backends: a filtered search matching at most this many documents is exact (default 20000). */
  exactBelow?: number;
}

export interface OpenIndexOptions {
  threads?: number;
  /** Embedded backends: read only — no writer lock, nothing written on close (search beside a writer). */
  readOnly?: boolean;
  /** usearch: ef at search time (default: as built). */
  expansionSearch?: number;
  /** ivf: lists scanned per query (default: as built). */
  nprobe?: number;
  /** pgvector: overrides the recorded connection string (e.g. to add a password). */
  connectionString?: string;
  /** pgvector: a client to use instead of connecting (tests: PGlite in-process). */
  client?: PgvectorOptions['client'];
  /** ANN backends: a filtered search matching at most this many documents is exact (default 20000). */
  exactBelow?: number;
}

interface Backend {
  create(o: CreateIndexOptions, metric: IndexMetric): Promise<VectorIndex>;
  open(dir: string, m: Manifest, o: OpenIndexOptions): Promise<VectorIndex>;
}

export const DEFAULT_BACKEND = USEARCH;

const BACKENDS: Record<string, Backend> = {
  [FLAT]: { create: (o, metric) => createFlat(o.dir, o.dim, metric, o.model, { threads: o.threads }), open: (dir, m, o) => openFlat(dir, m, { threads: o.threads, readOnly: o.readOnly }) },
  [USEARCH]: {
    create: (o, metric) => createUsearch(o.dir, o.dim, metric, o.model, { ...o.usearch, threads: o.threads ?? o.usearch?.threads, exactBelow: o.exactBelow }),
    open: (dir, m, o) => openUsearch(dir, m, { threads: o.threads, expansionSearch: o.expansionSearch, exactBelow: o.exactBelow, readOnly: o.readOnly }),
  },
  [IVF]: {
    create: (o, metric) => createIvf(o.dir, o.dim, metric, o.model, { ...o.ivf, threads: o.threads ?? o.ivf?.threads, exactBelow: o.exactBelow }),
    open: (dir, m, o) => openIvf(dir, m, { threads: o.threads, nprobe: o.nprobe, exactBelow: o.exactBelow, readOnly: o.readOnly }),
  },
  [PGVECTOR]: {
    create: (o, metric) => createPgvector(o.dir, o.dim, metric, o.model, o.pgvector ?? {}),
    open: (dir, m, o) => openPgvector(dir, m, { connectionString: o.connectionString, client: o.client }),
  },
};

export const BACKEND_NAMES: readonly string[] = Object.keys(BACKENDS);

function backendOf(name: string, where: string): Backend {
  const b = BACKENDS[name];
  if (!b) throw new IndexInputError(`${where}: unknown index backend ${JSON.stringify(name)} (backends: ${BACKEND_NAMES.join(', ')})`);
  return b;
}

/** A new, empty index (committed at once: it reopens with openIndex). */
export function createIndex(o: CreateIndexOptions): Promise<VectorIndex> {
  const metric = o.metric ?? 'cosine';
  if (metric !== 'cosine' && metric !== 'dot') throw new IndexInputError(`createIndex: metric must be 'cosine' or 'dot', got ${JSON.stringify(metric)}`);
  return backendOf(o.backend ?? DEFAULT_BACKEND, 'createIndex').create(o, metric);
}

/** Reopens the index in `dir` at its last commit. */
export async function openIndex(dir: string, o: OpenIndexOptions = {}): Promise<VectorIndex> {
  const m = await readManifest(dir);
  return backendOf(m.backend, `${dir}/manifest.json`).open(dir, m, o);
}
