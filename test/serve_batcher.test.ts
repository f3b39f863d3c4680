// Tests for the dynamic batcher (src/serve/batcher.ts) over a fake model that records each
// batch: the token budget (rows × longest row) holds, the oldest input is always in the next
// batch, neighbours in length fill it, results return to their requests in order, one request
// one batch when dynamic batching is off, cancelled inputs are dropped, and a model failure
// reaches every request of the batch. And the request deadline (src/serve/limits.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DynamicBatcher, type BatchModel } from '../src/serve/batcher.js';
import { RequestGate, withDeadline } from '../src/serve/limits.js';
import { ApiError } from '../src/serve/errors.js';

/** A model whose "embedding" of a row is [first id, length]; it waits `ms` per batch. */
function fakeModel(ms = 5, fail = false): BatchModel & { batches: number[][][] } {
  const batches: number[][][] = [];
  return {
    batches,
    async runTokenized(encoded) {
      batches.push(encoded.map((e) => e.ids));
      await new Promise((r) => setTimeout(r, ms));
      if (fail) throw new Error('boom');
      const seqLen = Math.max(...encoded.map((e) => e.ids.length));
      const sentence = new Float32Array(encoded.length * 2);
      encoded.forEach((e, r) => { sentence[2 * r] = e.ids[0]; sentence[2 * r + 1] = e.ids.length; });
      const tokens = new Float32Array(encoded.length * seqLen);
      encoded.forEach((e, r) => e.ids.forEach((id, j) => { tokens[r * seqLen + j] = id; }));
      return { sentence, dim: 2, tokens, seqLen, hidden: 1 };
    },
  };
}

const input = (first: number, len: number, tokenEmbeddings = false) => ({ ids: [first, ...Array.from({ length: len - 1 }, (_, j) => 1000 + j)], promptTokens: 0, tokenEmbeddings });

test('batches respect the token budget, hold the oldest input, and answer each request in order', async () => {
  const m = fakeModel();
  const b = new DynamicBatcher(m, { maxBatchTokens: 64 });
  const lens = [30, 4, 5, 6, 31, 3, 8, 16, 2, 12, 7, 9];
  const reqs = lens.map((len, i) => b.submit([input(i, len), input(100 + i, 3)]));
  const answers = await Promise.all(reqs);
  answers.forEach((a, i) => {
    assert.deepEqual(Array.from(a[0].sentence), [i, lens[i]]);
    assert.deepEqual(Array.from(a[1].sentence), [100 + i, 3]);
  });
  let rows = 0;
  for (const batch of m.batches) {
    const longest = Math.max(...batch.map((x) => x.length));
    assert.ok(batch.length * longest <= 64, `batch of ${batch.length} × ${longest}`);
    for (let i = 1; i < batch.length; i++) assert.ok(batch[i].length >= batch[i - 1].length, 'sorted by length');
    rows += batch.length;
  }
  assert.equal(rows, 24);
  assert.deepEqual(m.batches[0], [input(100, 3).ids, input(0, 30).ids], 'the first batch starts with the first request alone');
  assert.ok(m.batches.length < 24, `${m.batches.length} batches for 24 inputs`);
  assert.ok(m.batches[1].some((x) => x[0] === 1), 'the oldest waiting input is in the next batch');
});

test('one request, one batch when dynamic batching is off', async () => {
  const m = fakeModel(1);
  const b = new DynamicBatcher(m, { maxBatchTokens: 1000, dynamic: false });
  await Promise.all(Array.from({ length: 6 }, (_, i) => b.submit([input(i, 4), input(i, 5)])));
  assert.equal(m.batches.length, 6);
  for (const batch of m.batches) assert.equal(new Set(batch.map((x) => x[0])).size, 1);
});

test('token embeddings come back per input, cut to its own length', async () => {
  const b = new DynamicBatcher(fakeModel(1), { maxBatchTokens: 100 });
  const [short, long] = await Promise.all([b.submit([input(7, 3, true)]), b.submit([input(8, 6, true)])]);
  assert.deepEqual(Array.from(short[0].tokens!), [7, 1000, 1001]);
  assert.equal(long[0].tokens!.length, 6);
});

test('cancelled inputs are dropped; a model failure reaches every request of its batch', async () => {
  const m = fakeModel(20);
  const b = new DynamicBatcher(m, { maxBatchTokens: 100 });
  const first = b.submit([input(1, 3)]);
  const ticket = { cancelled: false };
  const dropped = b.submit([input(2, 3)], ticket);
  ticket.cancelled = true;
  const third = b.submit([input(3, 3)]);
  await Promise.all([first, third]);
  assert.ok(!m.batches.flat().some((x) => x[0] === 2), 'the cancelled input never ran');
  void dropped;
  const failing = new DynamicBatcher(fakeModel(1, true), { maxBatchTokens: 100 });
  const rs = await Promise.allSettled([failing.submit([input(1, 3)]), failing.submit([input(2, 3)])]);
  assert.ok(rs.every((r) => r.status === 'rejected' && /boom/.test(String(r.reason))));
  await failing.idle();
});

test('the deadline answers 503 and cancels; the gate refuses beyond its limit with 429', async () => {
  const ticket = { cancelled: false };
  await assert.rejects(withDeadline(new Promise(() => undefined), 0.05, ticket), (e: unknown) => e instanceof ApiError && e.status === 503 && /timed out after 0.05 s/.test(e.message));
  assert.equal(ticket.cancelled, true);
  assert.equal(await withDeadline(Promise.resolve(4), 1, { cancelled: false }), 4);
  const gate = new RequestGate(2);
  const a = gate.enter();
  gate.enter();
  assert.throws(() => gate.enter(), (e: unknown) => e instanceof ApiError && e.status === 429 && e.headers['retry-after'] === '1');
  a();
  a();
  assert.equal(gate.active, 1);
  gate.enter();
});
