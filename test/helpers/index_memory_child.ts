// Child process for the index memory test: builds an index of N seeded vectors of `dim` in
// `flushes` commits, closes it and reopens it, and prints one JSON line: the vectors' bytes, the
// process's peak RSS growth over the build and over the reopen (process.resourceUsage().maxRSS,
// relative to the peak once the input exists), the bytes merges copied on disk, and whether the
// reopened index returns every checked vector bit for bit.
//   node index_memory_child.js DIR N DIM FLUSHES BACKEND

import { createIndex, openIndex } from '../../src/index/index.js';
import { mergeCounter } from '../../src/index/segments.js';

const [dir, nArg, dimArg, flushArg, backend] = process.argv.slice(2);
const n = Number(nArg);
const dim = Number(dimArg);
const flushes = Number(flushArg);
const peak = (): number => process.resourceUsage().maxRSS * 1024;

let seed = 0x9e3779b9;
const next = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296 - 0.5;
};
const data = new Float32Array(n * dim);
for (let i = 0; i < data.length; i++) data[i] = next();
const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);

// warm the code paths on a throwaway index so that module and session start-up is in the baseline
const warm = await createIndex({ backend, dir: `${dir}-warm`, dim, threads: 1 });
await warm.upsert(ids.slice(0, 2), { data: data.subarray(0, 2 * dim), rows: 2, dim });
await warm.close();
await (await openIndex(`${dir}-warm`)).close();

const base = peak();
const ix = await createIndex({ backend, dir, dim, threads: 1 });
const per = Math.ceil(n / flushes);
for (let s = 0; s < n; s += per) {
  const e = Math.min(n, s + per);
  await ix.upsert(ids.slice(s, e), { data: data.subarray(s * dim, e * dim), rows: e - s, dim });
  await ix.flush();
}
await ix.close();
const built = peak();
const again = await openIndex(dir);
const reopened = peak();
const check = Array.from({ length: 50 }, (_, i) => ids[Math.floor((i * n) / 50)]).concat([ids[n - 1]]);
const got = await again.get(check);
let same = true;
got.forEach((d, i) => {
  const row = Number(check[i].slice(4));
  const want = data.subarray(row * dim, (row + 1) * dim);
  if (d === undefined || d.vector.length !== dim || d.vector.some((v, j) => v !== want[j])) same = false;
});
const count = (await again.stats()).count;
await again.close();
process.stdout.write(JSON.stringify({ dataBytes: n * dim * 4, buildGrowth: built - base, reopenGrowth: reopened - base, mergeBytes: mergeCounter.bytes, count, same }) + '\n');
