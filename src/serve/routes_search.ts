// Search over the served index, and writing to it:
//   POST   /search     { query: "…" | queries: ["…"], top_k = 10, filter, include_documents = true }
//                      → { hits: [{ id, score, text, metadata }] }  (with `queries`: { results: [[…]] })
//   POST   /documents  { documents: [{ id, text, metadata }], truncate } → { upserted, count }
//   DELETE /documents  { ids: ["…"] }                                    → { deleted, count }
// Queries and documents are embedded through the same batcher as /embed (the model's own
// output, as `sentencekit index build` and `search` embed). A filter naming a field no stored
// document has, or of the wrong form, is answered 400 with the index's message.

import type { FastifyInstance } from 'fastify';
import { FilterError } from '../index/filter.js';
import { IndexInputError } from '../index/documents.js';
import { ModelMismatchError } from '../index/model_info.js';
import type { Filter, Metadata, VectorIndex } from '../index/types.js';
import { admitted, type ServeContext } from './context.js';
import { ApiError, badRequest, tooLarge } from './errors.js';
import { optBool, optInt, readInputs, type JsonBody } from './request_fields.js';
import { WriteQueue } from './served_index.js';
import type { BatchResult } from './batcher.js';

function matrix(results: BatchResult[], dim: number): { data: Float32Array; rows: number; dim: number } {
  const data = new Float32Array(results.length * dim);
  results.forEach((r, i) => data.set(r.sentence, i * dim));
  return { data, rows: results.length, dim };
}

/** The index layer's input errors as 400s with its message. */
async function indexCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof FilterError || e instanceof IndexInputError) throw new ApiError(400, e.message, 'Validation', 'filter');
    if (e instanceof ModelMismatchError) throw new ApiError(409, e.message, 'Validation');
    throw e;
  }
}

export function registerSearchRoutes(app: FastifyInstance, ctx: ServeContext, index: VectorIndex): void {
  const writes = new WriteQueue();
  const vocabSize = ctx.model.tokenizer.vocabSize;
  const dim = ctx.model.dimension;
  const truncate = (body: JsonBody): boolean => optBool(body, 'truncate', ctx.limits.autoTruncate);

  app.post('/search', async (req) => {
    const body = req.body as JsonBody;
    const many = body.queries !== undefined;
    if (many === (body.query !== undefined)) throw badRequest('give "query" (a string) or "queries" (a list of strings), one of them', 'query');
    if (!many && typeof body.query !== 'string') throw badRequest('"query" must be a string; use "queries" for a list', 'query');
    const inputs = readInputs(body, many ? 'queries' : 'query', { maxInputs: ctx.limits.maxClientBatchSize, vocabSize });
    const k = optInt(body, 'top_k', 1) ?? 10;
    if (k > 1000) throw tooLarge(`"top_k" is ${k}; at most 1000 hits a query`, 'top_k');
    const includeDocuments = optBool(body, 'include_documents', true);
    const filter = body.filter;
    if (filter !== undefined && filter !== null && (typeof filter !== 'object' || Array.isArray(filter))) throw badRequest('"filter" must be an object, e.g. {"lang": "en", "year": {"$gte": 2020}}', 'filter');
    const results = await admitted(ctx, async () => {
      const t = ctx.embedder.tokenize(inputs, { truncate: truncate(body), direction: 'Right', field: many ? 'queries' : 'query' });
      return ctx.embedder.run(t);
    });
    const hits = await indexCall(() => index.search(matrix(results, dim), k, { filter: (filter ?? undefined) as Filter | undefined, includeDocuments, model: ctx.indexModel }));
    return many ? { results: hits } : { hits: hits[0] };
  });

  app.post('/documents', async (req) => {
    const body = req.body as JsonBody;
    const docs = body.documents;
    if (!Array.isArray(docs) || docs.length === 0) throw badRequest('"documents" must be a non-empty list of { "id": "…", "text": "…", "metadata": {…} }', 'documents');
    if (docs.length > ctx.limits.maxClientBatchSize) throw tooLarge(`"documents" has ${docs.length} entries, more than this server's limit of ${ctx.limits.maxClientBatchSize} a request (--max-client-batch-size); send them in several requests`, 'documents');
    const ids: string[] = [];
    const texts: string[] = [];
    const metadata: (Metadata | undefined)[] = [];
    docs.forEach((d: unknown, i) => {
      if (d === null || typeof d !== 'object' || Array.isArray(d)) throw badRequest(`"documents"[${i}] must be an object { "id", "text", "metadata" }`, 'documents');
      const o = d as JsonBody;
      if (typeof o.id !== 'string' || o.id === '') throw badRequest(`"documents"[${i}].id must be a non-empty string`, 'documents');
      if (typeof o.text !== 'string' || o.text === '') throw badRequest(`"documents"[${i}].text must be a non-empty string`, 'documents');
      if (o.metadata !== undefined && (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata))) throw badRequest(`"documents"[${i}].metadata must be an object of strings, numbers, booleans or nulls`, 'documents');
      ids.push(o.id);
      texts.push(o.text);
      metadata.push(o.metadata as Metadata | undefined);
    });
    const results = await admitted(ctx, async () => {
      const t = ctx.embedder.tokenize(texts.map((text) => ({ text })), { truncate: truncate(body), direction: 'Right', field: 'documents' });
      return ctx.embedder.run(t);
    });
    return writes.run(() => indexCall(async () => {
      await index.upsert(ids, matrix(results, dim), metadata, texts);
      await index.flush();
      return { upserted: ids.length, count: (await index.stats()).count };
    }));
  });

  app.delete('/documents', async (req) => {
    const body = (req.body ?? {}) as JsonBody;
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string' && x !== '')) throw badRequest('"ids" must be a non-empty list of document ids (strings)', 'ids');
    return writes.run(() => indexCall(async () => {
      const deleted = await index.remove(ids as string[]);
      await index.flush();
      return { deleted, count: (await index.stats()).count };
    }));
  });
}
