"""FAISS as a candidate of the index benchmark (bench/index_bench.ts, --index-libs faiss or
faiss-ivf): the same data files and report as bench/index_candidate.ts, for faiss-cpu's HNSW
with float32 vectors under inner product (the data is L2-normalised, so this is cosine), or,
with opts {"kind": "ivf", "nlist": N}, index_factory "IVF{N},SQ8" under inner product (k-means
trained on the base vectors, 8-bit scalar quantizer, no refinement), whose sweep values are
nprobe. Build on the given threads (HNSW: M and efConstruction as the other candidates), save
and reload the index, then recall@10 against gt.i32 and queries/s on one thread, one query at a
time (best of 3 passes), over the sweep; the reach check searches 2,000 evenly spaced stored
vectors at the sweep's largest setting. Prints one JSON object.
Usage: python bench_faiss.py DATA_DIR WORK_DIR JSON_OPTIONS
"""
import json
import os
import resource
import sys
import time

import faiss
import numpy as np


def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def main():
    data, work, opts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    meta = json.load(open(os.path.join(data, 'meta.json')))
    n, d, nq = meta['n'], meta['dim'], meta['q']
    base = np.fromfile(os.path.join(data, 'base.f32'), dtype='float32').reshape(n, d)
    queries = np.fromfile(os.path.join(data, 'queries.f32'), dtype='float32').reshape(nq, d)
    gt = np.fromfile(os.path.join(data, 'gt.i32'), dtype='int32').reshape(nq, 10)
    os.makedirs(work, exist_ok=True)
    before = rss_mb()
    faiss.omp_set_num_threads(opts['threads'])
    ivf = opts.get('kind') == 'ivf'
    t = time.time()
    if ivf:
        factory = f"IVF{opts.get('nlist', 1024)},SQ8"
        index = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
        index.train(base)
        name = f'index_factory("{factory}"), inner product'
    else:
        index = faiss.IndexHNSWFlat(d, opts['m'], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = opts['efConstruction']
        name = 'IndexHNSWFlat, inner product'
    index.add(base)
    build_s = time.time() - t
    added = rss_mb() - before
    path = os.path.join(work, 'faiss.index')
    faiss.write_index(index, path)
    disk = os.path.getsize(path)
    del index
    index = faiss.read_index(path)
    faiss.omp_set_num_threads(1)

    def search(v, ef):
        params = faiss.SearchParametersIVF(nprobe=ef) if ivf else faiss.SearchParametersHNSW(efSearch=ef)
        _, ids = index.search(v.reshape(1, d), 10, params=params)
        return ids[0]

    sweep = []
    for ef in opts['efs']:
        for i in range(min(20, nq)):
            search(queries[i], ef)
        secs = float('inf')
        found = None
        for _ in range(3):
            t = time.time()
            found = [search(queries[i], ef) for i in range(nq)]
            secs = min(secs, time.time() - t)
        hits = sum(len(set(found[i].tolist()) & set(gt[i].tolist())) for i in range(nq))
        sweep.append({'setting': str(ef), 'recall10': round(hits / (nq * 10), 4), 'qps': round(nq / secs)})
    sample = min(2000, n)
    top = max(opts['efs'])
    missing = sum(1 for j in range(sample) if (j * n) // sample not in search(base[(j * n) // sample], top).tolist())
    print(json.dumps({
        'lib': f'faiss {faiss.__version__} (Python faiss-cpu, {name})',
        'build_s': round(build_s, 2),
        'index_rss_mb': round(added),
        'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        'disk_bytes': disk,
        'self_found': {'sampled': sample, 'missing': missing},
        'insertion': f'one add() of all rows on {opts["threads"]} threads' + (' after train() on them' if ivf else ''),
        'sweep': sweep,
    }))


if __name__ == '__main__':
    main()
