// Reads a corpus to index: JSON lines (`_id` or `id`, `text`, optional `title`; every other
// field kept as metadata, nested objects flattened to dotted names, so BEIR's corpus.jsonl
// loads as it is) or a text file (one document a line, ids are line numbers from 1; empty lines
// are skipped). The text embedded is `${title} ${text}`.trim(), as BEIR's SentenceBERT wrapper
// and `evaluate retrieval` join them. A line that is not JSON, lacks an id or a text, or repeats
// an id is an error naming the file and line. Takes the path; yields documents in file order.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Metadata, MetadataValue } from './types.js';

export class CorpusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorpusError';
  }
}

export interface CorpusDocument {
  id: string;
  /** What is embedded (title and text joined). */
  text: string;
  metadata?: Metadata;
  /** 1-based line in the corpus file. */
  line: number;
}

export function isJsonCorpus(path: string): boolean {
  return /\.(jsonl|ndjson|json)$/i.test(path);
}

function flatten(prefix: string, v: unknown, out: Metadata, where: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
    out[prefix] = v as MetadataValue;
  } else if (typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(`${prefix}.${k}`, x, out, where);
  } else if (Array.isArray(v)) {
    out[prefix] = JSON.stringify(v);
  } else {
    throw new CorpusError(`${where}: field "${prefix}" is ${String(v)}; metadata values must be strings, numbers, booleans, null or objects of them`);
  }
}

/** Documents of a corpus file in order (see the file comment). */
export async function* readCorpus(path: string): AsyncGenerator<CorpusDocument> {
  const json = isJsonCorpus(path);
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (e) => reject(new CorpusError(`${path}: cannot read the corpus (${e.message}); check the path`)));
  });
  await opened;
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  const seen = new Set<string>();
  let line = 0;
  try {
    for await (const raw of rl) {
      line++;
      const l = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (l.trim() === '') continue;
      if (!json) {
        yield { id: String(line), text: l, line };
        continue;
      }
      const where = `${path}:${line}`;
      let rec: unknown;
      try {
        rec = JSON.parse(l);
      } catch (e) {
        throw new CorpusError(`${where}: not JSON (${(e as Error).message}); each line must be one JSON object {"_id": ..., "text": ...}`);
      }
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new CorpusError(`${where}: expected a JSON object {"_id": ..., "text": ...}`);
      const r = rec as Record<string, unknown>;
      const idRaw = r._id ?? r.id;
      if (typeof idRaw !== 'string' && typeof idRaw !== 'number') throw new CorpusError(`${where}: no "_id" or "id" (string or number); give every document an id`);
      const id = String(idRaw);
      if (typeof r.text !== 'string') throw new CorpusError(`${where}: field "text" is ${r.text === undefined ? 'missing' : `a ${typeof r.text}`}; give every document a string text`);
      if (r.title !== undefined && r.title !== null && typeof r.title !== 'string') throw new CorpusError(`${where}: field "title" must be a string`);
      if (seen.has(id)) throw new CorpusError(`${where}: id "${id}" appeared on an earlier line; ids must be unique in a corpus`);
      seen.add(id);
      const metadata: Metadata = {};
      for (const [k, v] of Object.entries(r)) {
        if (k === '_id' || k === 'id' || k === 'text') continue;
        flatten(k, v, metadata, where);
      }
      const title = typeof r.title === 'string' ? r.title : '';
      yield { id, text: title ? `${title} ${r.text}`.trim() : r.text.trim(), metadata: Object.keys(metadata).length ? metadata : undefined, line };
    }
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** Reads the whole corpus once to find a bad line before anything is written; returns the document count. */
export async function checkCorpus(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readCorpus(path)) n++;
  if (n === 0) throw new CorpusError(`${path}: no documents (the file is empty or has only blank lines)`);
  return n;
}
