import { SentenceTransformer } from './dist/src/models/sentence_transformer.js';
import { buildTrainGraph, collectParams } from './dist/src/training/train_graph.js';
import { createLoss } from './dist/src/losses/index.js';
import { TrainStep } from './dist/src/training/train_step.js';
import ort from 'onnxruntime-node';
import { syntheticBatch } from './dist/bench/train_bench.js';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
const model = await SentenceTransformer.create({ tokenizerDir: '../shared/models/all-MiniLM-L6-v2-tokenizer', hidden: 384, layers: 6, heads: 12, intermediate: 1536, seed: 1 });
const loss = createLoss('MultipleNegativesRankingLoss', {});
const st = new TrainStep(model, loss, { learningRate: 2e-5, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1, dropoutSeed: 1, freezeWordEmbeddings: false, sparseEmbeddings: true });
// monkeypatch session creation to enable profiling
const { Session } = await import('./dist/src/runtime/session.js');
const orig = Session.create;
Session.create = (b, o) => orig.call(Session, b, { ...o, profile: true });
const cols = syntheticBatch(32, 32, 7);
for (let t = 1; t <= 4; t++) await st.run({ columns: cols, labels: null }, 2e-5, t);
const s = await (st.graphs.values().next().value);
const file = s.session.ort.endProfiling ? await s.session.ort.endProfiling() : null;
await st.close();
const f = readdirSync('.').find(n => n.startsWith('onnxruntime_profile'));
const ev = JSON.parse(readFileSync(f, 'utf8'));
const agg = {}; let total = 0;
for (const e of ev) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) { const op = e.args.op_name; agg[op] = (agg[op]||0) + e.dur; total += e.dur; }
const runs = ev.filter(e => e.name === 'model_run').map(e => e.dur);
console.log('runs(us)', runs);
console.log(Object.entries(agg).sort((a,b)=>b[1]-a[1]).slice(0,22).map(([k,v]) => `${k} ${(v/4/1000).toFixed(1)}ms`).join('\n'));
rmSync(f);
