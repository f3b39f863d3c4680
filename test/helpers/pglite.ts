// A real PostgreSQL engine for the pgvector tests: PGlite (Postgres compiled to WASM) with its
// vector extension, used in-process as a client, or served over the wire on a free local port
// with PGlite's socket server, where the ordinary `pg` client connects to it.

import { createServer } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { SqlClient } from '../../src/index/pgvector.js';

export async function startPglite(): Promise<{ db: PGlite; client: SqlClient; close: () => Promise<void> }> {
  const db = await PGlite.create({ extensions: { vector } });
  const client: SqlClient = { query: (sql, params) => db.query(sql, params) as Promise<{ rows: Record<string, unknown>[] }> };
  return { db, client, close: () => db.close() };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** PGlite behind a socket server: a connection string the `pg` client can use. */
export async function startPgliteServer(): Promise<{ connectionString: string; close: () => Promise<void> }> {
  const { db } = await startPglite();
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 4 });
  await server.start();
  return {
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
