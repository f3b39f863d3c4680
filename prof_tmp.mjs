import { SentenceTransformer } from './dist/src/models/sentence_transformer.js';
import { TrainStep } from './dist/src/training/train_step.js';
const loss = { name: 'MNRL', columns: {names:['a','p'],min:2,max:2}, labelKind: 'none', config: () => ({}),
  build({ g, embeddings: [a, p] }) {
    const an = g.div(a, g.reduceL2(a, [1], true)); const pn = g.div(p, g.reduceL2(p, [1], true));
    const sim = g.mul(g.matMul(an, g.transpose(pn, [1,0])), g.scalar(20));
    const ls = g.op1('LogSoftmax', [sim], { axis: 1 });
    const eye = g.op1('EyeLike', [sim]);
    return g.neg(g.reduceMean(g.reduceSum(g.mul(ls, eye), [1], false), [0], false));
  } };
const model = await SentenceTransformer.create({ tokenizerDir: '../shared/models/all-MiniLM-L6-v2-tokenizer', hidden: 384, layers: 6, heads: 12, intermediate: 1536, seed: 1 });
const ids = () => Array.from({length: 32}, (_, i) => [101, ...Array.from({length: 30}, (_, j) => 1000 + ((i * 31 + j * 7) % 20000)), 102]);
const batch = { columns: [ids(), ids().map(r => r.map((x, j) => j > 0 && j < 31 ? x + 1 : x))], labels: null };
for (const [freeze, sparse] of [[false, false], [false, true], [true, false]]) {
  const st = new TrainStep(model, loss, { learningRate: 2e-5, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1, dropoutSeed: process.env.DROP ? 1 : null, freezeWordEmbeddings: freeze, sparseEmbeddings: sparse });
  await st.run(batch, 1e-5, 1); await st.run(batch, 1e-5, 2);
  const times = [];
  for (let t = 3; t <= 10; t++) { const t0 = performance.now(); await st.run(batch, 1e-5, t); times.push(performance.now() - t0); }
  times.sort((a,b)=>a-b);
  console.log('freeze', freeze, 'sparse', sparse, 'min', times[0].toFixed(0), 'median', times[4].toFixed(0), 'ms', 'tokens/s', (2048 / times[0] * 1000).toFixed(0));
  await st.close();
}
