// Embeds a corpus into an index, committing every batch: documents (or, with chunkTokens, their
// token-bounded chunks from data/chunk.ts, ids "<doc id>#<n>" with metadata doc_id, chunk,
// start, end: character offsets into the embedded text) are encoded by the model in batches,
// upserted and flushed, so a process killed at any point leaves the index at its last batch.
// Re-adding a chunked document first removes its previous chunks. The corpus is read once
// beforehand to refuse a bad line before anything is written (corpus.ts).
// Takes the index, the model, the corpus path and the batch settings.

import { chunkDocuments } from '../data/chunk.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { checkCorpus, readCorpus, type CorpusDocument } from './corpus.js';
import type { Metadata, VectorIndex } from './types.js';

export interface IngestOptions {
  /** Most tokens per chunk (special tokens included); undefined: one vector per document. */
  chunkTokens?: number;
  /** Tokens repeated between consecutive chunks (default 0). */
  overlap?: number;
  /** Texts per encoder batch (default 32). */
  batchSize?: number;
  /** Texts per commit (default 1024). */
  commitRows?: number;
  onProgress?: (documentsDone: number, documentsTotal: number) => void;
  /** Documents in the corpus, when the caller already read it through checkCorpus. */
  checkedCount?: number;
}

export interface IngestResult {
  documents: number;
  vectors: number;
}

interface Pending {
  ids: string[];
  texts: string[];
  metadata: (Metadata | undefined)[];
  docs: number;
}

export async function ingestCorpus(index: VectorIndex, model: SentenceTransformer, corpus: string, o: IngestOptions = {}): Promise<IngestResult> {
  const total = o.checkedCount ?? (await checkCorpus(corpus));
  const commitRows = o.commitRows ?? 1024;
  let docs = 0;
  let vectors = 0;
  let p: Pending = { ids: [], texts: [], metadata: [], docs: 0 };
  const commit = async (): Promise<void> => {
    if (p.ids.length === 0 && p.docs === 0) return;
    if (p.ids.length > 0) {
      const m = await model.encodeMatrix(p.texts, { batchSize: o.batchSize ?? 32 });
      await index.upsert(p.ids, { data: m.data, rows: m.rows, dim: m.dim }, p.metadata, p.texts);
    }
    await index.flush();
    vectors += p.ids.length;
    docs += p.docs;
    o.onProgress?.(docs, total);
    p = { ids: [], texts: [], metadata: [], docs: 0 };
  };
  if (o.chunkTokens === undefined) {
    for await (const d of readCorpus(corpus)) {
      p.ids.push(d.id);
      p.texts.push(d.text);
      p.metadata.push(d.metadata);
      p.docs++;
      if (p.ids.length >= commitRows) await commit();
    }
  } else {
    const byId = new Map<string, CorpusDocument>();
    async function* docsOf(): AsyncGenerator<{ id: string; text: string }> {
      for await (const d of readCorpus(corpus)) {
        byId.set(d.id, d);
        yield { id: d.id, text: d.text };
      }
    }
    let current: string | null = null;
    for await (const c of chunkDocuments(docsOf(), model.tokenizer, { maxTokens: o.chunkTokens, overlapTokens: o.overlap ?? 0 })) {
      if (c.sourceId !== current) {
        if (current !== null) {
          byId.delete(current);
          p.docs++;
          if (p.ids.length >= commitRows) await commit();
        }
        current = c.sourceId;
        await removeOldChunks(index, c.sourceId);
      }
      const d = byId.get(c.sourceId);
      p.ids.push(`${c.sourceId}#${c.chunkIndex}`);
      p.texts.push(c.text);
      p.metadata.push({ ...(d?.metadata ?? {}), doc_id: c.sourceId, chunk: c.chunkIndex, start: c.start, end: c.end });
    }
    if (current !== null) p.docs++;
  }
  await commit();
  return { documents: docs, vectors };
}

async function removeOldChunks(index: VectorIndex, docId: string): Promise<void> {
  const gone: string[] = [];
  for (let i = 0; ; i += 16) {
    const ids = Array.from({ length: 16 }, (_, j) => `${docId}#${i + j}`);
    const got = await index.get(ids);
    const present = ids.filter((_, j) => got[j] !== undefined);
    gone.push(...present);
    if (present.length < 16) break;
  }
  if (gone.length) await index.remove(gone);
}
