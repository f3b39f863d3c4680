// The model card (README.md) written with a trained model: base model, data, loss,
// hyper-parameters, evaluation results and the training log summary, with the YAML front
// matter the Hugging Face Hub reads.

import type { TrainingArgs } from './args.js';

export interface CardInfo {
  baseModel: string;
  datasets: { path: string; rows: number; columns: string[] }[];
  loss: { name: string; config: Record<string, unknown> };
  args: TrainingArgs;
  steps: number;
  epochs: number;
  seconds: number;
  finalLoss: number | null;
  evaluation: Record<string, number>;
  dimension: number;
  maxSeqLength: number;
}

export function modelCard(c: CardInfo): string {
  const metrics = Object.entries(c.evaluation);
  const hp = Object.entries(c.args).filter(([, v]) => v !== null).map(([k, v]) => `| ${k} | ${JSON.stringify(v)} |`).join('\n');
  return `---
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags:
- sentence-transformers
- sentence-similarity
- feature-extraction
- generated_from_trainer
- loss:${c.loss.name}
base_model: ${c.baseModel}
---

# Sentence Transformer fine-tuned from ${c.baseModel}

Fine-tuned with SentenceKit. It maps sentences to a ${c.dimension}-dimensional vector space
(max sequence length ${c.maxSeqLength}) and loads in Python with \`SentenceTransformer("path/to/this/model")\`.

## Training data

| file | rows | columns |
|---|---|---|
${c.datasets.map((d) => `| ${d.path} | ${d.rows} | ${d.columns.join(', ')} |`).join('\n')}

## Loss

\`${c.loss.name}\` with \`${JSON.stringify(c.loss.config)}\`

## Hyper-parameters

| argument | value |
|---|---|
${hp}

Trained for ${c.steps} steps (${c.epochs.toFixed(2)} epochs) in ${c.seconds.toFixed(1)} s; final training loss ${c.finalLoss === null ? 'n/a' : c.finalLoss.toFixed(4)}.

## Evaluation

${metrics.length ? `| metric | value |\n|---|---|\n${metrics.map(([k, v]) => `| ${k} | ${v.toFixed(4)} |`).join('\n')}` : 'No evaluation was run.'}
`;
}
