// Tests for src/runtime: Session creation from graphs and bytes, the session cache, output
// subsets and dtype conversion, and WorkerSession (parity with the in-thread session, a free
// event loop while it computes, ordering of concurrent runs, error handling, close, failed
// loads, and buffers that cross the thread boundary).

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { GraphBuilder, tensor, toModelProto, type Graph, type TensorData } from '../src/graph/index.js';
import { Session, WorkerSession, clearSessionCache, fromOrt, toOrt, type Feeds, type Fetches } from '../src/runtime/index.js';

function f32(dims: number[], values: ArrayLike<number>): TensorData {
  return tensor('float32', dims, values);
}

/** Deterministic pseudo-random float32 data in [-scale, scale). */
function randF32(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function assertSameFloats(actual: TensorData, expected: TensorData, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual(actual.dims, expected.dims, `${what}: dims`);
  const e = expected.data as Float32Array;
  let scale = 0;
  for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]));
  const d = maxAbsDiff(actual.data as Float32Array, e);
  assert.ok(d <= 1e-5 * Math.max(scale, 1), `${what}: max abs difference ${d} (values up to ${scale})`);
}

/** x [n,3] float32, ids [n] int64, mask [n] bool → y = 2x + 1, next = ids + 1, inv = !mask, s = Σ x. */
function smallGraph(): Graph {
  const b = new GraphBuilder('small');
  const x = b.input('x', 'float32', ['n', 3]);
  const ids = b.input('ids', 'int64', ['n']);
  const mask = b.input('mask', 'bool', ['n']);
  b.output(b.add(b.mul(x, b.scalar(2)), b.scalar(1)), 'y');
  b.output(b.add(ids, b.scalar(1, 'int64')), 'next');
  b.output(b.not(mask), 'inv');
  b.output(b.reduceSum(x, [1], false), 's');
  return b.graph;
}

function smallFeeds(): Feeds {
  return {
    x: f32([2, 3], [1, 2, 3, -4, 5.5, 0]),
    ids: tensor('int64', [2], [9007199254740993n, -5n]),
    mask: tensor('bool', [2], [1, 0]),
  };
}

function checkSmall(out: Fetches): void {
  assert.equal(out.y.dtype, 'float32');
  assert.ok(out.y.data instanceof Float32Array);
  assert.deepEqual(out.y.dims, [2, 3]);
  assert.deepEqual(Array.from(out.y.data as Float32Array), [3, 5, 7, -7, 12, 1]);
  assert.equal(out.next.dtype, 'int64');
  assert.ok(out.next.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(out.next.data as BigInt64Array), [9007199254740994n, -4n]);
  assert.equal(out.inv.dtype, 'bool');
  assert.ok(out.inv.data instanceof Uint8Array);
  assert.deepEqual(Array.from(out.inv.data as Uint8Array), [0, 1]);
  assert.deepEqual(out.s.dims, [2]);
  assert.deepEqual(Array.from(out.s.data as Float32Array), [6, 1.5]);
}

const smallBytes = toModelProto(smallGraph(), { opset: 17 });

// The worker checks use a chain of 20 large MatMuls: heavy enough that a run takes a while
// on one thread, so the caller's event loop has time to tick if it is free.
const ROWS = 512;
const DIM = 1024;
const CHAIN = 20;

function chainGraph(): Graph {
  const b = new GraphBuilder('chain');
  const x = b.input('x', 'float32', ['n', DIM]);
  // uniform in ±√(3/DIM): each product keeps the magnitude of its input about the same
  const w = b.initializer('w', f32([DIM, DIM], randF32(DIM * DIM, 7, Math.sqrt(3 / DIM))));
  let h = x;
  for (let i = 0; i < CHAIN; i++) h = b.scope(`layer.${i}`, () => b.matMul(h, w));
  b.output(h, 'y');
  return b.graph;
}

const chainBytes = toModelProto(chainGraph(), { opset: 17 });

function chainFeeds(rows: number, seed: number): Feeds {
  return { x: f32([rows, DIM], randF32(rows * DIM, seed)) };
}

/** Worker threads alive in this process, as node reports them (each holds a MessagePort). */
function workerHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
}

after(async () => {
  await clearSessionCache();
});

// ---------------------------------------------------------------------------------------------
describe('Session', () => {
  test('creates from a Graph and from bytes, with the same results', async () => {
    const fromGraph = await Session.create(smallGraph(), { cache: false, threads: 1 });
    const fromBytes = await Session.create(smallBytes, { cache: false, threads: 1 });
    assert.deepEqual([...fromGraph.inputNames], ['x', 'ids', 'mask']);
    assert.deepEqual([...fromGraph.outputNames], ['y', 'next', 'inv', 's']);
    assert.deepEqual([...fromBytes.outputNames], ['y', 'next', 'inv', 's']);
    checkSmall(await fromGraph.run(smallFeeds()));
    checkSmall(await fromBytes.run(smallFeeds()));
    await fromGraph.release();
    await fromBytes.release();
  });

  test('the cache returns one session per bytes + options', async () => {
    await clearSessionCache();
    const a = await Session.create(smallBytes, { threads: 1 });
    const b = await Session.create(smallBytes, { threads: 1 });
    assert.equal(a, b);
    // a Graph serialises to the same bytes, so it finds the same entry
    assert.equal(await Session.create(smallGraph(), { threads: 1 }), a);
    // concurrent creates share one compilation
    const [c, d] = await Promise.all([Session.create(smallBytes, { threads: 2 }), Session.create(smallBytes, { threads: 2 })]);
    assert.equal(c, d);
    assert.notEqual(c, a, 'different thread counts are different sessions');
    assert.notEqual(await Session.create(smallBytes, { threads: 1, optimization: 'basic' }), a);
    // an explicit cache key wins over the hash
    const keyed = await Session.create(smallBytes, { threads: 1, cacheKey: 'small-model' });
    assert.notEqual(keyed, a);
    assert.equal(await Session.create(smallBytes, { threads: 3, cacheKey: 'small-model' }), keyed);
    checkSmall(await a.run(smallFeeds()));
  });

  test('cache: false builds a private session and releasing it leaves the cache alone', async () => {
    await clearSessionCache();
    const cached = await Session.create(smallBytes, { threads: 1 });
    const p1 = await Session.create(smallBytes, { threads: 1, cache: false });
    const p2 = await Session.create(smallBytes, { threads: 1, cache: false });
    assert.notEqual(p1, cached);
    assert.notEqual(p2, cached);
    assert.notEqual(p1, p2);
    checkSmall(await p1.run(smallFeeds()));
    await p1.release();
    await p2.release();
    assert.equal(await Session.create(smallBytes, { threads: 1 }), cached);
    checkSmall(await cached.run(smallFeeds()));
  });

  test('clearSessionCache releases cached sessions and later creates compile afresh', async () => {
    await clearSessionCache();
    const a = await Session.create(smallBytes, { threads: 1 });
    await clearSessionCache();
    await assert.rejects(a.run(smallFeeds()), /disposed/i);
    const b = await Session.create(smallBytes, { threads: 1 });
    assert.notEqual(b, a);
    checkSmall(await b.run(smallFeeds()));
    // release() takes a cached session out of the cache
    await b.release();
    const c = await Session.create(smallBytes, { threads: 1 });
    assert.notEqual(c, b);
    checkSmall(await c.run(smallFeeds()));
  });

  test('a model that fails to load is not cached', async () => {
    const garbage = new Uint8Array([8, 1, 18, 250, 255, 255, 255, 15, 1, 2, 3]);
    await assert.rejects(Session.create(garbage, { threads: 1 }), /failed to load model|protobuf/i);
    await assert.rejects(Session.create(garbage, { threads: 1 }), /failed to load model|protobuf/i);
  });

  test('run with an outputs subset returns only those', async () => {
    const s = await Session.create(smallBytes, { threads: 1 });
    const out = await s.run(smallFeeds(), ['next', 'y']);
    assert.deepEqual(Object.keys(out).sort(), ['next', 'y']);
    assert.deepEqual(Array.from(out.next.data as BigInt64Array), [9007199254740994n, -4n]);
    const one = await s.run(smallFeeds(), ['s']);
    assert.deepEqual(Object.keys(one), ['s']);
    await assert.rejects(s.run(smallFeeds(), ['nope']), /nope/);
  });

  test('every supported dtype crosses toOrt / fromOrt intact', async () => {
    const b = new GraphBuilder('dtypes');
    const cases: [TensorData['dtype'], TensorData][] = [
      ['float32', tensor('float32', [3], [1.5, -0, 3.25])],
      ['float64', tensor('float64', [2], [Math.PI, -1e300])],
      ['int64', tensor('int64', [3], [-(2n ** 63n), 2n ** 63n - 1n, 0n])],
      ['int32', tensor('int32', [2], [-(2 ** 31), 2 ** 31 - 1])],
      ['int8', tensor('int8', [2], [-128, 127])],
      ['uint8', tensor('uint8', [2], [0, 255])],
      ['bool', tensor('bool', [3], [1, 0, 1])],
      ['float16', { dtype: 'float16', dims: [2], data: new Uint16Array([0x3c00, 0xc000]) }],
    ];
    for (const [dtype, t] of cases) b.output(b.op1('Identity', [b.input(`in_${dtype}`, dtype, t.dims)]), `out_${dtype}`);
    const s = await Session.create(b.graph, { cache: false, threads: 1 });
    const feeds: Feeds = {};
    for (const [dtype, t] of cases) feeds[`in_${dtype}`] = t;
    const out = await s.run(feeds);
    for (const [dtype, t] of cases) {
      const o = out[`out_${dtype}`];
      assert.equal(o.dtype, dtype);
      assert.deepEqual(o.dims, t.dims);
      assert.equal(o.data.constructor, t.data.constructor, `${dtype}: array type`);
      assert.deepEqual(Array.from(o.data as ArrayLike<number | bigint>), Array.from(t.data as ArrayLike<number | bigint>), dtype);
    }
    assert.ok(Object.is((out.out_float32.data as Float32Array)[1], -0));
    await s.release();
  });

  test('toOrt / fromOrt', () => {
    const t = toOrt(tensor('int64', [2, 1], [3, 4]));
    assert.equal(t.type, 'int64');
    assert.deepEqual([...t.dims], [2, 1]);
    const back = fromOrt(new ort.Tensor('bool', new Uint8Array([1, 0]), [2]));
    assert.deepEqual(back, { dtype: 'bool', dims: [2], data: new Uint8Array([1, 0]) });
    assert.deepEqual(fromOrt(new ort.Tensor('float32', new Float32Array([1, 2]), [1, 2])).dims, [1, 2]);
  });

  test('unsupported dtypes fail with a clear message', async () => {
    const bf: TensorData = { dtype: 'bfloat16', dims: [2], data: new Uint16Array([0x3f80, 0]) };
    assert.throws(() => toOrt(bf), /onnxruntime-node cannot take bfloat16 tensors as inputs/);
    assert.throws(() => fromOrt(new ort.Tensor('uint16', new Uint16Array(2), [2])), /unsupported output tensor type uint16/);
    assert.throws(() => fromOrt(new ort.Tensor('string', ['a'], [1])), /unsupported output tensor type string/);
    const s = await Session.create(smallBytes, { threads: 1 });
    await assert.rejects(s.run({ ...smallFeeds(), x: bf }), /bfloat16/);
  });

  test('ORT errors for bad feeds come through', async () => {
    const s = await Session.create(smallBytes, { threads: 1 });
    await assert.rejects(s.run({ ...smallFeeds(), x: tensor('float64', [2, 3], [1, 2, 3, 4, 5, 6]) }), /Unexpected input data type/);
    const { ids: _ids, ...missing } = smallFeeds();
    await assert.rejects(s.run(missing), /input 'ids' is missing/);
    checkSmall(await s.run(smallFeeds()));
  });

  test('output buffers are whole, separate ArrayBuffers (so a worker can transfer them)', async () => {
    const b = new GraphBuilder('outs');
    const x = b.input('x', 'float32', ['n', 4]);
    const r = b.relu(x);
    b.output(r, 'a');
    b.output(r, 'a_again');
    b.output(x, 'passthrough');
    b.output(b.initializer('c', f32([3], [1, 2, 3])), 'c');
    b.output(b.slice(x, [0], [0], [0]), 'empty');
    b.output(b.reshape(x, [-1]), 'flat');
    const s = await Session.create(b.graph, { cache: false, threads: 1 });
    const feed = f32([2, 4], [1, -2, 3, -4, 5, -6, 7, -8]);
    const out = await s.run({ x: feed });
    const buffers = new Set<ArrayBufferLike>();
    for (const [name, t] of Object.entries(out)) {
      assert.ok(t.data.buffer instanceof ArrayBuffer, `${name}: plain ArrayBuffer`);
      assert.equal(t.data.byteOffset, 0, `${name}: byteOffset`);
      assert.equal(t.data.byteLength, t.data.buffer.byteLength, `${name}: whole buffer`);
      assert.notEqual(t.data.buffer, feed.data.buffer, `${name}: not the feed's memory`);
      buffers.add(t.data.buffer);
    }
    assert.equal(buffers.size, Object.keys(out).length, 'no two outputs share memory');
    await s.release();
  });
});

// ---------------------------------------------------------------------------------------------
describe('WorkerSession', () => {
  test('matches the in-thread session and leaves the event loop free', async () => {
    const local = await Session.create(chainBytes, { threads: 1, cache: false });
    const worker = await WorkerSession.create(chainBytes, { threads: 1 });
    try {
      assert.deepEqual(worker.inputNames, ['x']);
      assert.deepEqual(worker.outputNames, ['y']);
      // warm both up (first runs allocate)
      await local.run(chainFeeds(8, 1));
      await worker.run(chainFeeds(8, 1));

      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      let inThreadTicks: number;
      let expected: Fetches;
      try {
        const t0 = performance.now();
        ticks = 0;
        expected = await local.run(chainFeeds(ROWS, 2));
        inThreadTicks = ticks;
        const inThreadMs = performance.now() - t0;

        ticks = 0;
        const t1 = performance.now();
        const got = await worker.run(chainFeeds(ROWS, 2));
        const workerTicks = ticks;
        const workerMs = performance.now() - t1;
        assert.ok(
          workerTicks >= 5,
          `event loop ticked ${workerTicks} times during a ${workerMs.toFixed(0)} ms worker run (in-thread: ${inThreadTicks} ticks in ${inThreadMs.toFixed(0)} ms)`,
        );
        assertSameFloats(got.y, expected.y, 'worker vs in-thread');
      } finally {
        clearInterval(timer);
      }
      const e = expected.y.data as Float32Array;
      assert.equal(e.length, ROWS * DIM);
      assert.ok(e.every(Number.isFinite));
      assert.ok(e.some((v) => Math.abs(v) > 1e-3), 'the chain does not vanish');
    } finally {
      await worker.close();
      await local.release();
    }
  });

  test('concurrent runs resolve in order with their own results', async () => {
    const local = await Session.create(chainBytes, { threads: 1, cache: false });
    const worker = await WorkerSession.create(chainBytes, { threads: 1 });
    try {
      const seeds = [11, 12, 13, 14, 15];
      const rows = [64, 1, 32, 0, 16];
      const expected: Fetches[] = [];
      for (let i = 0; i < seeds.length; i++) expected.push(await local.run(chainFeeds(rows[i], seeds[i])));
      const order: number[] = [];
      const runs = seeds.map((seed, i) => worker.run(chainFeeds(rows[i], seed)).then((r) => {
        order.push(i);
        return r;
      }));
      const results = await Promise.all(runs);
      assert.deepEqual(order, [0, 1, 2, 3, 4]);
      results.forEach((r, i) => {
        assert.deepEqual(r.y.dims, [rows[i], DIM]);
        assertSameFloats(r.y, expected[i].y, `run ${i}`);
      });
    } finally {
      await worker.close();
      await local.release();
    }
  });

  test('a bad feed rejects with the ORT message and the worker stays usable', async () => {
    const worker = await WorkerSession.create(smallBytes, { threads: 1 });
    try {
      await assert.rejects(worker.run({ ...smallFeeds(), ids: tensor('int32', [2], [1, 2]) }), /Unexpected input data type. Actual: \(tensor\(int32\)\)/);
      const { mask: _mask, ...missing } = smallFeeds();
      await assert.rejects(worker.run(missing), /input 'mask' is missing in 'feeds'/);
      await assert.rejects(worker.run({ ...smallFeeds(), x: f32([2, 4], new Array(8).fill(0)) }), /dimension|shape|Got invalid/i);
      await assert.rejects(worker.run({ ...smallFeeds(), x: { dtype: 'bfloat16', dims: [1, 3], data: new Uint16Array(3) } }), /bfloat16/);
      await assert.rejects(worker.run(smallFeeds(), ['nope']), /nope/);
      // a failing run in the middle of a queue does not disturb its neighbours
      const [ok1, bad, ok2] = await Promise.allSettled([
        worker.run(smallFeeds()),
        worker.run({ ...smallFeeds(), ids: f32([2], [1, 2]) }),
        worker.run(smallFeeds(), ['next']),
      ]);
      assert.equal(ok1.status, 'fulfilled');
      checkSmall((ok1 as PromiseFulfilledResult<Fetches>).value);
      assert.equal(bad.status, 'rejected');
      assert.equal(ok2.status, 'fulfilled');
      assert.deepEqual(Object.keys((ok2 as PromiseFulfilledResult<Fetches>).value), ['next']);
      checkSmall(await worker.run(smallFeeds()));
    } finally {
      await worker.close();
    }
  });

  test('outputs and feeds of every shape of buffer cross the thread boundary', async () => {
    const b = new GraphBuilder('outs');
    const x = b.input('x', 'float32', ['n', 4]);
    const ids = b.input('ids', 'int64', ['n']);
    const r = b.relu(x);
    b.output(r, 'a');
    b.output(r, 'a_again');
    b.output(x, 'passthrough');
    b.output(b.initializer('c', f32([3], [1, 2, 3])), 'c');
    b.output(b.slice(x, [0], [0], [0]), 'empty');
    b.output(b.equal(ids, b.scalar(0, 'int64')), 'is_zero');
    b.output(b.mul(ids, b.scalar(3, 'int64')), 'tripled');
    const worker = await WorkerSession.create(toModelProto(b.graph, { opset: 17 }), { threads: 1 });
    try {
      // x is a view into the middle of a larger buffer, ids a whole buffer of its own
      const backing = new Float32Array(16).fill(99);
      backing.set([1, -2, 3, -4, 5, -6, 7, -8], 4);
      const xView: TensorData = { dtype: 'float32', dims: [2, 4], data: backing.subarray(4, 12) };
      const out = await worker.run({ x: xView, ids: tensor('int64', [2], [0, 5]) });
      assert.equal(backing.byteLength, 64, 'a view on a larger buffer is copied, not transferred');
      assert.deepEqual(Array.from(out.a.data as Float32Array), [1, 0, 3, 0, 5, 0, 7, 0]);
      assert.deepEqual(Array.from(out.a_again.data as Float32Array), [1, 0, 3, 0, 5, 0, 7, 0]);
      assert.deepEqual(Array.from(out.passthrough.data as Float32Array), [1, -2, 3, -4, 5, -6, 7, -8]);
      assert.deepEqual(Array.from(out.c.data as Float32Array), [1, 2, 3]);
      assert.deepEqual(out.empty.dims, [0, 4]);
      assert.equal(out.empty.data.length, 0);
      assert.equal(out.is_zero.dtype, 'bool');
      assert.deepEqual(Array.from(out.is_zero.data as Uint8Array), [1, 0]);
      assert.equal(out.tripled.dtype, 'int64');
      assert.deepEqual(Array.from(out.tripled.data as BigInt64Array), [0n, 15n]);
      for (const [name, t] of Object.entries(out)) {
        assert.equal(t.data.byteLength, t.data.length * t.data.BYTES_PER_ELEMENT, name);
      }
    } finally {
      await worker.close();
    }
  });

  test('create copies the model bytes and leaves the caller\'s intact', async () => {
    const bytes = toModelProto(chainGraph(), { opset: 17 });
    const length = bytes.byteLength;
    const worker = await WorkerSession.create(bytes, { threads: 1 });
    try {
      assert.equal(bytes.byteLength, length);
      assert.ok(bytes.buffer.byteLength > 0);
      const local = await Session.create(bytes, { threads: 1, cache: false });
      const feeds = chainFeeds(2, 3);
      const expected = await local.run(feeds);
      await local.release();
      assertSameFloats((await worker.run(chainFeeds(2, 3))).y, expected.y, 'after create');
    } finally {
      await worker.close();
    }
  });

  test('close() then run rejects clearly; runs in flight at close settle', async () => {
    const worker = await WorkerSession.create(smallBytes, { threads: 1 });
    checkSmall(await worker.run(smallFeeds()));
    const inFlight = worker.run(smallFeeds());
    await worker.close();
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      inFlight.then(() => 'resolved', (e: Error) => e.message),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('still pending'), 5000);
      }),
    ]);
    clearTimeout(timer);
    assert.notEqual(settled, 'still pending');
    if (settled !== 'resolved') assert.match(settled, /closed/);
    await assert.rejects(worker.run(smallFeeds()), /session worker is closed/);
    await worker.close();
    await assert.rejects(worker.run(smallFeeds()), /session worker is closed/);
  });

  test('a model that fails to load rejects create and leaves no worker running', async () => {
    const before = workerHandles();
    const garbage = new Uint8Array([8, 1, 18, 250, 255, 255, 255, 15, 1, 2, 3]);
    await assert.rejects(WorkerSession.create(garbage), /failed to load model|protobuf/i);
    assert.equal(workerHandles(), before, 'the worker thread is gone');
    // an invalid but parseable model: its error names the problem
    const b = new GraphBuilder('bad');
    const x = b.input('x', 'float32', [2]);
    b.output(b.op1('ReduceMean', [x, b.ints([0])]), 'y');
    await assert.rejects(WorkerSession.create(toModelProto(b.graph, { opset: 17 })), /invalid model[\s\S]*ReduceMean/);
    assert.equal(workerHandles(), before);
    // and a good model still loads afterwards
    const worker = await WorkerSession.create(smallBytes, { threads: 1 });
    assert.ok(workerHandles() > before);
    checkSmall(await worker.run(smallFeeds()));
    await worker.close();
    assert.equal(workerHandles(), before);
  });
});
