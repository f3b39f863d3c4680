// The training data of the built-in static model, all read from the shared data folder beside
// the checkout: STS-B train (scored pairs), SNLI and MultiNLI dev (premise, entailment,
// contradiction triplets), MRPC train paraphrases (label 1 pairs), MS MARCO passages (texts for
// distillation only) and STS-B dev (model selection; never trained on).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset, type Example } from '../../src/data/dataset.js';

export interface BuildData {
  stsTrain: Example[];
  stsDev: Example[];
  /** [anchor, positive, hard negative] */
  nliTriplets: Example[];
  /** [sentence1, sentence2] paraphrases */
  mrpcPairs: Example[];
  /** MS MARCO passages (distillation texts) */
  passages: string[];
  /** Every training text (STS-B dev excluded), deduplicated, in first-seen order. */
  allTexts: string[];
}

export async function loadBuildData(shared: string): Promise<BuildData> {
  const d = join(shared, 'data');
  const sts = await loadDataset({ path: join(d, 'stsb', 'sts-train.csv'), format: 'stsb' });
  const dev = await loadDataset({ path: join(d, 'stsb', 'sts-dev.csv'), format: 'stsb' });
  const nliTriplets: Example[] = [];
  for (const f of ['snli_dev.jsonl', 'mnli_dev.jsonl']) {
    const nli = await loadDataset({ path: join(d, 'nli', f), format: 'nli' });
    const byPremise = new Map<string, { ent: string[]; con: string[] }>();
    for (const e of nli.examples) {
      const [p, h] = e.texts;
      let g = byPremise.get(p);
      if (!g) byPremise.set(p, (g = { ent: [], con: [] }));
      if (e.label === 0) g.ent.push(h);
      else if (e.label === 2) g.con.push(h);
    }
    for (const [p, g] of byPremise) {
      const n = Math.min(g.ent.length, g.con.length);
      for (let i = 0; i < n; i++) nliTriplets.push({ texts: [p, g.ent[i], g.con[i]] });
    }
  }
  const mrpc = await loadDataset({ path: join(d, 'mrpc', 'msr_paraphrase_train.txt'), format: 'mrpc' });
  const mrpcPairs = mrpc.examples.filter((e) => e.label === 1).map((e) => ({ texts: e.texts }));
  const passages = readFileSync(join(d, 'msmarco', 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const seen = new Set<string>();
  const allTexts: string[] = [];
  const add = (t: string): void => {
    if (!seen.has(t)) {
      seen.add(t);
      allTexts.push(t);
    }
  };
  for (const e of sts.examples) e.texts.forEach(add);
  for (const e of nliTriplets) e.texts.forEach(add);
  for (const e of mrpc.examples) e.texts.forEach(add);
  passages.forEach(add);
  return { stsTrain: sts.examples, stsDev: dev.examples, nliTriplets, mrpcPairs, passages, allTexts };
}
