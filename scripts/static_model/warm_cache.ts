// Fills the teacher cache (vocabulary entries and training texts) ahead of the build.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBuildData } from './data.js';
import { teacherEmbeddings } from './teacher.js';

const shared = resolve(process.cwd(), '..', 'shared');
const cache = resolve(process.cwd(), '.cache', 'static-build');
const vocab = readFileSync(join(shared, 'models', 'all-MiniLM-L6-v2-tokenizer', 'vocab.txt'), 'utf8').split('\n').slice(0, 30522);
const log = (s: string): void => { process.stderr.write(s + '\n'); };
await teacherEmbeddings(vocab.map((t) => (t.startsWith('##') ? t.slice(2) : t)), cache, 'vocab', log);
const data = await loadBuildData(shared);
log(`texts ${data.allTexts.length}, sts ${data.stsTrain.length}, nli ${data.nliTriplets.length}, mrpc ${data.mrpcPairs.length}, passages ${data.passages.length}`);
await teacherEmbeddings(data.allTexts, cache, 'texts', log);
await teacherEmbeddings(data.stsDev.flatMap((e) => e.texts), cache, 'stsdev', log);
