// Backend `pgvector`: the index lives in PostgreSQL with the pgvector extension, reached with
// the `pg` client from a connection string (a user's server or cluster). Our migrations
// (table sentencekit_migrations) create the extension and sentencekit_indexes (one row per
// index: dimension, metric, model); each index is a table sk_<name> (id text primary key,
// embedding vector(dim) or halfvec(dim), metadata jsonb, text) with an HNSW index
// (vector_cosine_ops / vector_ip_ops, or the halfvec ones) and a table sk_<name>_fields counting
// (field, JSON type) over the stored documents, so that filters are checked as on every backend
// (filter.ts) and compiled to SQL. Scores: cosine 1 − (e <=> q); dot −(e <#> q). Each upsert
// or remove is one transaction (a batch of rows as one jsonb_to_recordset insert), so flush()
// has nothing left to do. The index folder holds a manifest naming the server (without the
// password) and the table. Takes a connection string or a client with query(sql, params).

import { basename, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { checkBatch, checkVectors, IndexInputError } from './documents.js';
import { filterToSql, typeOf, validateFilter, type MetadataType } from './filter.js';
import { checkModel } from './model_info.js';
import { FORMAT, writeManifest, type Manifest } from './segments.js';
import type { Hit, IndexMetric, IndexModelInfo, IndexStats, Metadata, SearchOptions, StoredDocument, VectorIndex, Vectors } from './types.js';

export const PGVECTOR = 'pgvector';

/** What the backend needs from a client: pg's Client and PGlite both fit. */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface PgvectorOptions {
  /** postgres://user:password@host:port/db (PGPASSWORD etc. are honoured by pg). */
  connectionString?: string;
  /** A connected client to use instead (e.g. PGlite); the caller closes it. */
  client?: SqlClient;
  /** Table name suffix (default: from the index folder's name). */
  table?: string;
  /** Store halfvec (float16) instead of vector (float32). */
  halfvec?: boolean;
  /** HNSW build parameters (pgvector's defaults: m 16, ef_construction 64) and ef_search (default 64). */
  m?: number;
  efConstruction?: number;
  efSearch?: number;
  /** Rows per INSERT statement (default 500). */
  batchRows?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeout?: number;
}

export class PgvectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgvectorError';
  }
}

const MIGRATIONS: { name: string; sql: string }[] = [
  { name: '001_vector_extension', sql: 'CREATE EXTENSION IF NOT EXISTS vector' },
  {
    name: '002_index_registry',
    sql: `CREATE TABLE IF NOT EXISTS sentencekit_indexes (
      name text PRIMARY KEY, dim integer NOT NULL, metric text NOT NULL, halfvec boolean NOT NULL,
      model jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
  },
];

/** A connection target without its password, for messages and the manifest. */
export function redactConnection(cs: string): string {
  try {
    const u = new URL(cs);
    if (u.password) u.password = '';
    return u.toString().replace(/:@/, '@');
  } catch {
    return cs.replace(/:[^:@/]*@/, '@');
  }
}

function tableName(t: string | undefined, dir: string): string {
  const raw = t ?? basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(raw)) throw new IndexInputError(`pgvector: table name ${JSON.stringify(raw)} must be lower-case letters, digits and _ (at most 41), starting with a letter or _; pass a table name`);
  return raw;
}

function vectorText(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + String(v[i]);
  return s + ']';
}

interface PgClientLike extends SqlClient {
  connect(): Promise<unknown>;
  end(): Promise<void>;
  on(ev: 'error', fn: (e: Error) => void): unknown;
}

async function connect(cs: string, timeoutS: number): Promise<PgClientLike> {
  const pg = await import('pg');
  const Client = (pg.default ?? pg).Client as unknown as new (cfg: object) => PgClientLike;
  const client = new Client({ connectionString: cs, connectionTimeoutMillis: timeoutS * 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw new PgvectorError(`cannot connect to PostgreSQL at ${redactConnection(cs)}: ${(e as Error).message || (e as NodeJS.ErrnoException).code}; check that the server runs and accepts connections there (host, port, database, user, PGPASSWORD)`);
  }
  return client;
}

export class PgvectorIndex implements VectorIndex {
  readonly backend = PGVECTOR;
  readonly dim: number;
  readonly metric: IndexMetric;
  readonly model: IndexModelInfo | undefined;
  private readonly t: string;
  private readonly ft: string;
  private closed = false;

  private constructor(
    private readonly client: SqlClient,
    private readonly owned: PgClientLike | null,
    readonly table: string,
    dim: number,
    metric: IndexMetric,
    model: IndexModelInfo | undefined,
    private readonly halfvec: boolean,
    private readonly batchRows: number,
    private readonly where: string,
  ) {
    this.dim = dim;
    this.metric = metric;
    this.model = model;
    this.t = `"sk_${table}"`;
    this.ft = `"sk_${table}_fields"`;
  }

  private get vtype(): string {
    return this.halfvec ? 'halfvec' : 'vector';
  }

  private get distOp(): string {
    return this.metric === 'cosine' ? '<=>' : '<#>';
  }

  private static async migrate(c: SqlClient): Promise<void> {
    await c.query('CREATE TABLE IF NOT EXISTS sentencekit_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await c.query('SELECT name FROM sentencekit_migrations')).rows.map((r) => String(r.name)));
    for (const m of MIGRATIONS) {
      if (done.has(m.name)) continue;
      await c.query(m.sql);
      await c.query('INSERT INTO sentencekit_migrations (name) VALUES ($1) ON CONFLICT DO NOTHING', [m.name]);
    }
  }

  private static async client(o: PgvectorOptions): Promise<{ client: SqlClient; owned: PgClientLike | null; where: string }> {
    if (o.client) return { client: o.client, owned: null, where: 'PostgreSQL (given client)' };
    if (!o.connectionString) throw new IndexInputError('pgvector: give a connection string (postgres://user@host:5432/db)');
    const owned = await connect(o.connectionString, o.connectTimeout ?? 10);
    return { client: owned, owned, where: `PostgreSQL at ${redactConnection(o.connectionString)}` };
  }

  static async create(dir: string, dim: number, metric: IndexMetric, model: IndexModelInfo | undefined, o: PgvectorOptions): Promise<PgvectorIndex> {
    if (!Number.isInteger(dim) || dim < 1) throw new IndexInputError(`createIndex: dim must be a positive integer, got ${String(dim)}`);
    const table = tableName(o.table, dir);
    const halfvec = o.halfvec ?? false;
    const { client, owned, where } = await PgvectorIndex.client(o);
    try {
      await PgvectorIndex.migrate(client);
      const existing = await client.query('SELECT name FROM sentencekit_indexes WHERE name = $1', [table]);
      if (existing.rows.length) throw new PgvectorError(`${where}: an index named ${table} exists already (table sk_${table}); remove it (DROP TABLE sk_${table}, sk_${table}_fields; DELETE FROM sentencekit_indexes WHERE name = '${table}') or choose another table name`);
      const vt = halfvec ? 'halfvec' : 'vector';
      const ops = `${vt}_${metric === 'cosine' ? 'cosine' : 'ip'}_ops`;
      await client.query('BEGIN');
      await client.query(`CREATE TABLE "sk_${table}" (id text PRIMARY KEY, embedding ${vt}(${dim}) NOT NULL, metadata jsonb, text text)`);
      await client.query(`CREATE TABLE "sk_${table}_fields" (field text NOT NULL, type text NOT NULL, count bigint NOT NULL, PRIMARY KEY (field, type))`);
      await client.query(`CREATE INDEX "sk_${table}_hnsw" ON "sk_${table}" USING hnsw (embedding ${ops}) WITH (m = ${o.m ?? 16}, ef_construction = ${o.efConstruction ?? 64})`);
      await client.query('INSERT INTO sentencekit_indexes (name, dim, metric, halfvec, model) VALUES ($1, $2, $3, $4, $5::jsonb)', [table, dim, metric, halfvec, JSON.stringify(model ?? null)]);
      await client.query('COMMIT');
      const ix = new PgvectorIndex(client, owned, table, dim, metric, model, halfvec, o.batchRows ?? 500, where);
      await ix.session(o.efSearch ?? 64);
      await mkdir(dir, { recursive: true });
      const now = new Date().toISOString();
      const m: Manifest = {
        format: FORMAT, version: 1, backend: PGVECTOR, dim, metric, model,
        options: { connection: o.connectionString ? redactConnection(o.connectionString) : null, table, halfvec, efSearch: o.efSearch ?? 64 },
        nextRow: 0, nextSeq: 1, segments: [], created: now, updated: now,
      };
      await writeManifest(dir, m);
      return ix;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      await owned?.end().catch(() => undefined);
      throw e;
    }
  }

  static async open(dir: string, m: Manifest, o: PgvectorOptions): Promise<PgvectorIndex> {
    const table = String(m.options.table);
    const cs = o.connectionString ?? (typeof m.options.connection === 'string' ? m.options.connection : undefined);
    const { client, owned, where } = await PgvectorIndex.client({ ...o, connectionString: cs });
    try {
      const r = await client.query('SELECT dim, metric, halfvec, model FROM sentencekit_indexes WHERE name = $1', [table]).catch(() => ({ rows: [] }));
      if (r.rows.length === 0) throw new PgvectorError(`${dir}/manifest.json names index ${table}, but ${where} has no such index (table sentencekit_indexes); rebuild it with \`sentencekit index build --backend pgvector\``);
      const row = r.rows[0];
      const model = (row.model ?? undefined) as IndexModelInfo | undefined;
      const ix = new PgvectorIndex(client, owned, table, Number(row.dim), row.metric as IndexMetric, model ?? undefined, Boolean(row.halfvec), o.batchRows ?? 500, where);
      await ix.session(Number(m.options.efSearch ?? 64));
      return ix;
    } catch (e) {
      await owned?.end().catch(() => undefined);
      throw e;
    }
  }

  private async session(efSearch: number): Promise<void> {
    await this.client.query(`SET hnsw.ef_search = ${Math.max(1, Math.floor(efSearch))}`);
    // pgvector ≥ 0.8: keep scanning the graph until a filtered query has k rows
    await this.client.query('SET hnsw.iterative_scan = strict_order').catch(() => undefined);
  }

  private live(what: string): void {
    if (this.closed) throw new Error(`${what}: the index ${this.table} was closed`);
  }

  private async tx<T>(fn: () => Promise<T>): Promise<T> {
    await this.client.query('BEGIN');
    try {
      const r = await fn();
      await this.client.query('COMMIT');
      return r;
    } catch (e) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Adds (sign 1) or retracts (−1) the (field, type) counts of some documents' metadata. */
  private async countFields(metas: (Metadata | null | undefined)[], sign: 1 | -1): Promise<void> {
    const delta = new Map<string, number>();
    for (const m of metas) {
      if (!m) continue;
      for (const [k, v] of Object.entries(m)) {
        const key = JSON.stringify([k, typeOf(v)]);
        delta.set(key, (delta.get(key) ?? 0) + sign);
      }
    }
    if (delta.size === 0) return;
    const rows = [...delta].map(([key, n]) => {
      const [field, type] = JSON.parse(key) as [string, MetadataType];
      return { field, type, n };
    });
    await this.client.query(
      `INSERT INTO ${this.ft} (field, type, count) SELECT field, type, n FROM jsonb_to_recordset($1::jsonb) AS x(field text, type text, n bigint)
       ON CONFLICT (field, type) DO UPDATE SET count = ${this.ft}.count + EXCLUDED.count`,
      [JSON.stringify(rows)],
    );
    await this.client.query(`DELETE FROM ${this.ft} WHERE count <= 0`);
  }

  async upsert(ids: string[], vectors: Vectors, metadata?: (Metadata | undefined)[], texts?: (string | undefined)[]): Promise<void> {
    this.live('upsert');
    checkBatch(`upsert into ${this.where} table sk_${this.table}`, this.dim, ids, vectors, metadata, texts);
    const dim = this.dim;
    await this.tx(async () => {
      for (let s = 0; s < ids.length; s += this.batchRows) {
        const e = Math.min(ids.length, s + this.batchRows);
        const batchIds = ids.slice(s, e);
        const old = await this.client.query(`SELECT metadata FROM ${this.t} WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`, [JSON.stringify(batchIds)]);
        await this.countFields(old.rows.map((r) => r.metadata as Metadata | null), -1);
        const rows = batchIds.map((id, j) => ({
          id,
          embedding: vectorText(vectors.data.subarray((s + j) * dim, (s + j + 1) * dim)),
          metadata: metadata?.[s + j] ?? null,
          text: texts?.[s + j] ?? null,
        }));
        await this.client.query(
          `INSERT INTO ${this.t} (id, embedding, metadata, text)
           SELECT id, embedding::${this.vtype}, metadata, text FROM jsonb_to_recordset($1::jsonb) AS x(id text, embedding text, metadata jsonb, text text)
           ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, text = EXCLUDED.text`,
          [JSON.stringify(rows)],
        );
        await this.countFields(rows.map((r) => r.metadata), 1);
      }
    });
  }

  async remove(ids: string[]): Promise<number> {
    this.live('remove');
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new IndexInputError('remove: ids must be an array of strings');
    if (ids.length === 0) return 0;
    return this.tx(async () => {
      const r = await this.client.query(`DELETE FROM ${this.t} WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) RETURNING metadata`, [JSON.stringify(ids)]);
      await this.countFields(r.rows.map((x) => x.metadata as Metadata | null), -1);
      return r.rows.length;
    });
  }

  private async fieldTypes(): Promise<Map<string, Set<MetadataType>>> {
    const r = await this.client.query(`SELECT field, type FROM ${this.ft} WHERE count > 0`);
    const out = new Map<string, Set<MetadataType>>();
    for (const row of r.rows) {
      const f = String(row.field);
      if (!out.has(f)) out.set(f, new Set());
      out.get(f)!.add(row.type as MetadataType);
    }
    return out;
  }

  async search(queries: Vectors, k: number, opts?: SearchOptions): Promise<Hit[][]> {
    this.live('search');
    checkVectors(`search ${this.where} table sk_${this.table}`, this.dim, queries, 'queries');
    if (!Number.isInteger(k) || k < 1) throw new IndexInputError(`search: k must be a positive integer, got ${String(k)}`);
    if (opts?.model !== undefined) checkModel(this.model, opts.model, `${this.where} table sk_${this.table}`);
    let where = '';
    const base: unknown[] = [];
    if (opts?.filter !== undefined) {
      validateFilter(opts.filter, await this.fieldTypes());
      base.push(null);
      where = `WHERE ${filterToSql(opts.filter, 'metadata', base)}`;
    }
    const include = opts?.includeDocuments ?? true;
    const score = this.metric === 'cosine' ? `1 - (embedding <=> $1::${this.vtype})` : `-(embedding <#> $1::${this.vtype})`;
    const sql = `SELECT id, ${score} AS score${include ? ', metadata, text' : ''} FROM ${this.t} ${where} ORDER BY embedding ${this.distOp} $1::${this.vtype} LIMIT ${k}`;
    const out: Hit[][] = [];
    for (let q = 0; q < queries.rows; q++) {
      const params = [...base];
      params[0] = vectorText(queries.data.subarray(q * this.dim, (q + 1) * this.dim));
      const r = await this.client.query(sql, params);
      out.push(r.rows.map((row) => {
        const h: Hit = { id: String(row.id), score: Number(row.score) };
        if (include && row.text !== null && row.text !== undefined) h.text = String(row.text);
        if (include && row.metadata !== null && row.metadata !== undefined) h.metadata = row.metadata as Metadata;
        return h;
      }));
    }
    return out;
  }

  async get(ids: string[]): Promise<(StoredDocument | undefined)[]> {
    this.live('get');
    const r = await this.client.query(`SELECT id, embedding::text AS e, metadata, text FROM ${this.t} WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`, [JSON.stringify(ids)]);
    const by = new Map<string, StoredDocument>();
    for (const row of r.rows) {
      const d: StoredDocument = { id: String(row.id), vector: Float32Array.from(JSON.parse(String(row.e)) as number[]) };
      if (row.metadata !== null && row.metadata !== undefined) d.metadata = row.metadata as Metadata;
      if (row.text !== null && row.text !== undefined) d.text = String(row.text);
      by.set(d.id, d);
    }
    return ids.map((id) => by.get(id));
  }

  async stats(): Promise<IndexStats> {
    this.live('stats');
    const c = await this.client.query(`SELECT count(*)::bigint AS n, pg_total_relation_size('${this.t.replaceAll('"', '')}') AS bytes FROM ${this.t}`);
    return {
      backend: PGVECTOR, count: Number(c.rows[0].n), dim: this.dim, metric: this.metric, model: this.model,
      table: `sk_${this.table}`, server: this.where, halfvec: this.halfvec, databaseBytes: Number(c.rows[0].bytes),
    };
  }

  async flush(): Promise<void> {
    this.live('flush');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.owned?.end().catch(() => undefined);
  }
}

export function createPgvector(dir: string, dim: number, metric: IndexMetric, model: IndexModelInfo | undefined, o: PgvectorOptions): Promise<PgvectorIndex> {
  return PgvectorIndex.create(dir, dim, metric, model, o);
}

export function openPgvector(dir: string, m: Manifest, o: PgvectorOptions): Promise<PgvectorIndex> {
  return PgvectorIndex.open(dir, m, o);
}
