// Loads a BEIR-layout retrieval set for evaluation. Takes its folder (corpus.jsonl,
// queries.jsonl, qrels/<split>.tsv) and returns id → text maps for corpus and queries (a
// document's text is its title and text joined as BEIR's SentenceBERT wrapper does) and the
// graded judgements query id → document id → score, with a report per file.

import { join } from 'node:path';
import { streamDataset, type DatasetOptions } from './dataset.js';
import type { ReadReport } from './report.js';

export interface BeirSet {
  corpus: Map<string, string>;
  queries: Map<string, string>;
  /** query id → (document id → relevance score). */
  qrels: Map<string, Map<string, number>>;
  reports: { corpus: ReadReport; queries: ReadReport; qrels: ReadReport };
}

export interface BeirOptions extends DatasetOptions {
  /** qrels file name without .tsv (default 'test'). */
  split?: string;
}

async function idMap(path: string, format: 'beir-corpus' | 'beir-queries', opts: DatasetOptions): Promise<{ map: Map<string, string>; report: ReadReport }> {
  const stream = streamDataset({ path, format }, opts);
  const map = new Map<string, string>();
  let duplicates = 0;
  for await (const ex of stream) {
    if (map.has(ex.id!)) duplicates++;
    map.set(ex.id!, ex.texts[0]!);
  }
  if (duplicates > 0) stream.reader.log.note(`${duplicates} repeated id(s); the last record of each id is kept`);
  return { map, report: stream.report };
}

/** Reads a BEIR folder; see {@link BeirSet}. */
export async function loadBeir(dir: string, opts: BeirOptions = {}): Promise<BeirSet> {
  const { split = 'test', ...rest } = opts;
  const corpus = await idMap(join(dir, 'corpus.jsonl'), 'beir-corpus', rest);
  const queries = await idMap(join(dir, 'queries.jsonl'), 'beir-queries', rest);
  const qrelsStream = streamDataset({ path: join(dir, 'qrels', `${split}.tsv`), format: 'beir-qrels' }, rest);
  const qrels = new Map<string, Map<string, number>>();
  let unknownQueries = 0;
  let unknownDocs = 0;
  for await (const ex of qrelsStream) {
    const [qid, did] = ex.texts as [string, string];
    if (!queries.map.has(qid)) unknownQueries++;
    if (!corpus.map.has(did)) unknownDocs++;
    let judged = qrels.get(qid);
    if (judged === undefined) qrels.set(qid, (judged = new Map()));
    judged.set(did, ex.label as number);
  }
  const log = qrelsStream.reader.log;
  if (unknownQueries > 0) log.note(`${unknownQueries} judgement(s) name a query id missing from queries.jsonl`);
  if (unknownDocs > 0) log.note(`${unknownDocs} judgement(s) name a document id missing from corpus.jsonl`);
  return { corpus: corpus.map, queries: queries.map, qrels, reports: { corpus: corpus.report, queries: queries.report, qrels: qrelsStream.report } };
}
