// Tests for the embedding server (src/serve): OpenAI's /v1/embeddings through the official
// `openai` client and TEI's routes through fetch give encode's vectors (max |diff| ≤ 1e-6) for
// single and batched inputs, base64 and float formats, `dimensions` truncation with
// re-normalisation; concurrent requests are merged into batches and each gets its own answer;
// every bad input is a JSON 4xx naming the problem and the server keeps answering; API keys,
// CORS, 429 beyond the concurrency limit, and the metrics.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { maxAbsDiff, post, removeTinyModel, serveTiny, type Served } from './helpers/serve.js';
import { sharedMissing, MINILM_TOKENIZER } from './helpers/shared.js';

const skip = sharedMissing(MINILM_TOKENIZER);
const TEXTS = ['A man is playing a guitar.', 'Someone plays music.', 'The cat sleeps on the mat.', 'a', 'Birds sing loudly in the early morning while the dog runs fast.'];

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

describe('serve: embedding routes', { skip }, () => {
  let s: Served;
  let client: OpenAI;
  before(async () => {
    s = await serveTiny();
    client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await s.close();
    await removeTinyModel();
  });

  test('openai client: single and batched inputs, base64 (its default) and float, equal encode', async () => {
    const ref = await s.reference.encode(TEXTS, { normalize: true });
    const one = await client.embeddings.create({ model: 'tiny', input: TEXTS[0] });
    assert.equal(one.data.length, 1);
    assert.ok(maxAbsDiff(one.data[0].embedding, ref[0]) <= 1e-6, 'single input');
    const many = await client.embeddings.create({ model: 'tiny', input: TEXTS });
    assert.equal(many.object, 'list');
    assert.equal(many.model, 'tiny');
    many.data.forEach((d, i) => {
      assert.equal(d.index, i);
      assert.ok(maxAbsDiff(d.embedding, ref[i]) <= 1e-6, `input ${i}: ${maxAbsDiff(d.embedding, ref[i])}`);
    });
    const tokens = TEXTS.reduce((n, t) => n + s.reference.tokenizer.encode(t).ids.length, 0);
    assert.deepEqual(many.usage, { prompt_tokens: tokens, total_tokens: tokens });
    const asFloat = await client.embeddings.create({ model: 'tiny', input: TEXTS, encoding_format: 'float' });
    asFloat.data.forEach((d, i) => assert.ok(maxAbsDiff(d.embedding, ref[i]) <= 1e-6));
  });

  test('base64 decodes to the same float32 numbers as the float format', async () => {
    const b = await post(`${s.url}/v1/embeddings`, { input: TEXTS, encoding_format: 'base64' });
    const f = await post(`${s.url}/v1/embeddings`, { input: TEXTS, encoding_format: 'float' });
    assert.equal(b.status, 200);
    for (let i = 0; i < TEXTS.length; i++) {
      const bytes = Buffer.from(b.body.data[i].embedding as string, 'base64');
      const v = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      assert.deepEqual(Array.from(v), f.body.data[i].embedding);
    }
  });

  test('dimensions: the first N numbers, re-normalised (OpenAI and TEI)', async () => {
    const ref = await s.reference.encode(TEXTS, { truncateDim: 8, normalize: true });
    const r = await client.embeddings.create({ model: 'tiny', input: TEXTS, dimensions: 8 });
    r.data.forEach((d, i) => {
      assert.equal(d.embedding.length, 8);
      assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-6);
      assert.ok(maxAbsDiff(d.embedding, ref[i]) <= 1e-6);
    });
    const t = await post(`${s.url}/embed`, { inputs: TEXTS, dimensions: 8 });
    (t.body as number[][]).forEach((v, i) => assert.ok(maxAbsDiff(v, ref[i]) <= 1e-6));
    const over = await post(`${s.url}/v1/embeddings`, { input: 'x', dimensions: 17 });
    assert.equal(over.status, 400);
    assert.match(over.body.error.message, /"dimensions" is 17.*at most 16/);
    assert.equal(over.body.error.param, 'dimensions');
  });

  test('TEI /embed: equals encode, normalize false gives the raw vectors, token ids equal their text', async () => {
    const refN = await s.reference.encode(TEXTS, { normalize: true });
    const refRaw = await s.reference.encode(TEXTS);
    const a = await post(`${s.url}/embed`, { inputs: TEXTS });
    assert.equal(a.status, 200);
    (a.body as number[][]).forEach((v, i) => assert.ok(maxAbsDiff(v, refN[i]) <= 1e-6));
    const single = await post(`${s.url}/embed`, { inputs: TEXTS[2] });
    assert.ok(maxAbsDiff(single.body[0], refN[2]) <= 1e-6);
    const raw = await post(`${s.url}/embed`, { inputs: TEXTS, normalize: false });
    (raw.body as number[][]).forEach((v, i) => assert.ok(maxAbsDiff(v, refRaw[i]) <= 1e-6));
    const tok = await post(`${s.url}/tokenize`, { inputs: TEXTS });
    const ids = (tok.body as { id: number }[][]).map((row) => row.map((t) => t.id));
    assert.deepEqual(ids[0], s.reference.tokenizer.encode(TEXTS[0]).ids);
    const byIds = await post(`${s.url}/embed`, { inputs: ids });
    (byIds.body as number[][]).forEach((v, i) => assert.ok(maxAbsDiff(v, refN[i]) <= 1e-6));
    const oa = await post(`${s.url}/v1/embeddings`, { input: ids[1], encoding_format: 'float' });
    assert.ok(maxAbsDiff(oa.body.data[0].embedding, refN[1]) <= 1e-6);
  });

  test('TEI /embed_all: one row per token; their mean is the (mean-pooled) sentence embedding', async () => {
    const r = await post(`${s.url}/embed_all`, { inputs: TEXTS.slice(0, 3) });
    assert.equal(r.status, 200);
    const raw = await s.reference.encode(TEXTS.slice(0, 3));
    (r.body as number[][][]).forEach((rows, i) => {
      assert.equal(rows.length, s.reference.tokenizer.encode(TEXTS[i]).ids.length);
      const mean = rows[0].map((_, j) => rows.reduce((a, row) => a + row[j], 0) / rows.length);
      const n = norm(mean);
      assert.ok(maxAbsDiff(mean.map((x) => x / n), raw[i]) <= 1e-5, `input ${i}`);
    });
  });

  test('TEI /similarity, /tokenize, /decode, /info, /health', async () => {
    const ref = await s.reference.encode(TEXTS, { normalize: true });
    const sim = await post(`${s.url}/similarity`, { inputs: { source_sentence: TEXTS[0], sentences: TEXTS.slice(1) } });
    assert.equal(sim.status, 200);
    (sim.body as number[]).forEach((c, i) => {
      const dot = ref[0].reduce((a, x, j) => a + x * ref[i + 1][j], 0);
      assert.ok(Math.abs(c - dot) < 1e-6);
    });
    const tok = await post(`${s.url}/tokenize`, { inputs: 'hello world', add_special_tokens: true });
    assert.deepEqual(tok.body[0].map((t: { text: string }) => t.text), ['[CLS]', 'hello', 'world', '[SEP]']);
    assert.deepEqual(tok.body[0].map((t: { special: boolean }) => t.special), [true, false, false, true]);
    assert.deepEqual(tok.body[0].map((t: { start: number | null; stop: number | null }) => [t.start, t.stop]), [[null, null], [0, 5], [6, 11], [null, null]]);
    const accented = 'Café  Ünïcode playing';
    const spans = (await post(`${s.url}/tokenize`, { inputs: accented })).body[0]
      .filter((t: { special: boolean }) => !t.special)
      .map((t: { text: string; start: number; stop: number }) => [t.text, accented.slice(t.start, t.stop)]);
    for (const [token, original] of spans) {
      assert.equal(original.normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase(), token.replace(/^##/, ''), `${token} ↔ ${original}`);
    }
    assert.equal(spans.map(([, o]: string[]) => o).join(''), accented.replace(/\s+/g, ''), 'the spans cover the text');
    const noSpecial = await post(`${s.url}/tokenize`, { inputs: 'hello world', add_special_tokens: false });
    assert.equal(noSpecial.body[0].length, 2);
    const dec = await post(`${s.url}/decode`, { ids: tok.body[0].map((t: { id: number }) => t.id) });
    assert.deepEqual(dec.body, ['hello world']);
    const info = await (await fetch(`${s.url}/info`)).json();
    assert.equal(info.model_id, 'tiny');
    assert.equal(info.max_input_length, 32);
    assert.equal(info.max_client_batch_size, 32);
    assert.equal(info.dimension, 16);
    const health = await fetch(`${s.url}/health`);
    assert.equal(health.status, 200);
  });

  test('truncation: refused with 413 by default, done when asked, left keeps the last tokens', async () => {
    const long = Array.from({ length: 60 }, (_, i) => `word${i % 7}`).join(' ');
    const refused = await post(`${s.url}/embed`, { inputs: long });
    assert.equal(refused.status, 413);
    assert.match(refused.body.error, /"inputs" has \d+ tokens, more than the model's max_seq_length of 32/);
    const right = await post(`${s.url}/embed`, { inputs: long, truncate: true });
    const ref = await s.reference.encode([long], { normalize: true });
    assert.ok(maxAbsDiff(right.body[0], ref[0]) <= 1e-6, 'right truncation equals encode');
    const left = await post(`${s.url}/embed`, { inputs: long, truncate: true, truncation_direction: 'Left' });
    const tok = s.reference.tokenizer;
    const content = tok.encode(long).ids.length;
    assert.equal(content, 32);
    assert.ok(maxAbsDiff(left.body[0], right.body[0]) > 1e-4, 'left truncation embeds other tokens');
    const oa = await post(`${s.url}/v1/embeddings`, { input: long });
    assert.equal(oa.status, 413);
    assert.equal(oa.body.error.param, 'input');
  });

  test('concurrent requests are merged into batches; each gets its own vectors', async () => {
    const before = await metric(s.url, 'sentencekit_batch_size_count');
    const ref = await s.reference.encode(TEXTS, { normalize: true });
    const N = 40;
    // each batch of the tiny model takes a fraction of a millisecond, less than opening the
    // next connection on a busy machine: hold every batch 5 ms so that requests overlap
    const run = s.model.runTokenized.bind(s.model);
    s.model.runTokenized = async (...a) => {
      await new Promise((r) => setTimeout(r, 5));
      return run(...a);
    };
    let answers: Awaited<ReturnType<typeof post>>[];
    try {
      answers = await Promise.all(Array.from({ length: N }, (_, i) => post(`${s.url}/embed`, { inputs: [TEXTS[i % TEXTS.length], TEXTS[(i + 1) % TEXTS.length]] })));
    } finally {
      s.model.runTokenized = run;
    }
    answers.forEach((a, i) => {
      assert.equal(a.status, 200);
      assert.ok(maxAbsDiff(a.body[0], ref[i % TEXTS.length]) <= 1e-6);
      assert.ok(maxAbsDiff(a.body[1], ref[(i + 1) % TEXTS.length]) <= 1e-6);
    });
    const batches = (await metric(s.url, 'sentencekit_batch_size_count')) - before;
    assert.ok(batches < N, `${N} requests ran in ${batches} batches`);
  });

  test('bad input: a JSON 4xx naming the problem, and the server keeps answering', async () => {
    const cases: Array<{ what: string; path: string; body: unknown; headers?: Record<string, string>; status: number; says: RegExp }> = [
      { what: 'wrong type', path: '/embed', body: { inputs: 5 }, status: 400, says: /"inputs" must be a string or a list of strings, got a number/ },
      { what: 'wrong type in a list', path: '/v1/embeddings', body: { input: ['ok', { a: 1 }] }, status: 400, says: /"input"\[1\] must be a string/ },
      { what: 'wrong type of an option', path: '/embed', body: { inputs: 'x', normalize: 'yes' }, status: 400, says: /"normalize" must be true or false/ },
      { what: 'bad encoding_format', path: '/v1/embeddings', body: { input: 'x', encoding_format: 'int8' }, status: 400, says: /"encoding_format" must be one of "float", "base64"/ },
      { what: 'missing input', path: '/v1/embeddings', body: { model: 'tiny' }, status: 400, says: /"input" is required/ },
      { what: 'empty list', path: '/embed', body: { inputs: [] }, status: 400, says: /"inputs" is an empty list/ },
      { what: 'empty string', path: '/v1/embeddings', body: { input: '' }, status: 400, says: /"input" is an empty string/ },
      { what: 'empty string in a list', path: '/embed', body: { inputs: ['a', ''] }, status: 400, says: /"inputs"\[1\] is an empty string/ },
      { what: 'token id out of the vocabulary', path: '/embed', body: { inputs: [[101, 99999999]] }, status: 400, says: /token id 99999999 at position 1/ },
      { what: 'a 10 MB body', path: '/embed', body: JSON.stringify({ inputs: 'x'.repeat(10 << 20) }), status: 413, says: /over this server's limit of 2000000 bytes/ },
      { what: 'invalid UTF-8', path: '/embed', body: new Uint8Array([0x7b, 0x22, 0x69, 0x6e, 0x70, 0x75, 0x74, 0x73, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400, says: /not valid UTF-8/ },
      { what: 'not JSON', path: '/embed', body: '{"inputs": ', status: 400, says: /not valid JSON/ },
      { what: 'a JSON list', path: '/embed', body: '["a"]', status: 400, says: /must be a JSON object, got a list/ },
      { what: 'a JSON string', path: '/v1/embeddings', body: '"a"', status: 400, says: /must be a JSON object, got string/ },
      { what: 'not JSON content type', path: '/embed', body: 'inputs=a', headers: { 'content-type': 'text/plain' }, status: 415, says: /Content-Type: application\/json/ },
      { what: 'more inputs than --max-client-batch-size', path: '/embed', body: { inputs: Array.from({ length: 33 }, () => 'a') }, status: 413, says: /33 inputs, more than this server's limit of 32/ },
      { what: 'unknown prompt name', path: '/embed', body: { inputs: 'a', prompt_name: 'query' }, status: 400, says: /prompt name "query" not found/ },
      { what: 'similarity without sentences', path: '/similarity', body: { inputs: { source_sentence: 'a' } }, status: 400, says: /"sentences" is required/ },
      { what: 'search without an index', path: '/search', body: { query: 'a' }, status: 404, says: /no index is served|no route/ },
    ];
    for (const c of cases) {
      const r = await post(s.url + c.path, c.body, c.headers);
      assert.equal(r.status, c.status, `${c.what}: ${JSON.stringify(r.body)}`);
      const message = c.path.startsWith('/v1/') ? r.body?.error?.message : r.body?.error;
      assert.equal(typeof message, 'string', `${c.what}: a JSON error body, got ${JSON.stringify(r.body)}`);
      assert.match(message, c.says, c.what);
    }
    const noBody = await fetch(`${s.url}/embed`, { method: 'POST' });
    assert.equal(noBody.status, 400);
    assert.match((await noBody.json()).error, /the request has no body/);
    const models = await (await fetch(`${s.url}/v1/models`)).json();
    assert.deepEqual(models.data.map((m: { id: string }) => m.id), ['tiny']);
    const unknown = await fetch(`${s.url}/v2/nothing`);
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error, /no route GET \/v2\/nothing/);
    const openaiUnknown = await fetch(`${s.url}/v1/models/x`);
    assert.equal((await openaiUnknown.json()).error.type, 'not_found_error');
    const ok = await post(`${s.url}/embed`, { inputs: 'still here' });
    assert.equal(ok.status, 200);
  });

  test('metrics: Prometheus text with requests by route and status, latency, batches, tokens, queue depth', async () => {
    const res = await fetch(`${s.url}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /sentencekit_requests_total\{route="\/embed",method="POST",status="200"\} \d+/);
    assert.match(text, /sentencekit_requests_total\{route="\/embed",method="POST",status="413"\} \d+/);
    assert.match(text, /sentencekit_request_duration_seconds_bucket\{le="0.1",route="\/v1\/embeddings",method="POST",status="200"\} \d+/);
    assert.match(text, /sentencekit_batch_size_bucket/);
    assert.match(text, /sentencekit_queue_depth 0/);
    assert.match(text, /sentencekit_process_resident_memory_bytes \d+/);
    assert.ok((await metric(s.url, 'sentencekit_tokens_embedded_total')) > 0);
  });
});

describe('serve: API keys, CORS, the concurrency limit', { skip }, () => {
  test('API keys: 401 without or with a wrong key, in the route\'s error shape; /health and the page stay open', async () => {
    const s = await serveTiny({ apiKeys: ['k-one', 'k-two'] });
    try {
      const none = await post(`${s.url}/embed`, { inputs: 'a' });
      assert.equal(none.status, 401);
      assert.match(none.body.error, /missing API key/);
      const wrong = await post(`${s.url}/v1/embeddings`, { input: 'a' }, { authorization: 'Bearer k-three' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'invalid_api_key');
      const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'k-two', maxRetries: 0 });
      assert.equal((await client.embeddings.create({ model: 'tiny', input: 'a' })).data.length, 1);
      const bad = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'nope', maxRetries: 0 });
      await assert.rejects(bad.embeddings.create({ model: 'tiny', input: 'a' }), (e: Error & { status?: number }) => e.status === 401);
      assert.equal((await post(`${s.url}/embed`, { inputs: 'a' }, { authorization: 'Bearer k-one' })).status, 200);
      assert.equal((await fetch(`${s.url}/health`)).status, 200);
      assert.equal((await fetch(`${s.url}/`)).status, 200);
      assert.equal((await fetch(`${s.url}/metrics`)).status, 401);
    } finally {
      await s.close();
    }
  });

  test('CORS: allowed origins get the headers (preflight included), others do not', async () => {
    const s = await serveTiny({ cors: ['http://app.example'], apiKeys: ['k'] });
    try {
      const pre = await fetch(`${s.url}/embed`, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
      assert.ok(pre.status < 300, `preflight answered ${pre.status}`);
      assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.example');
      const r = await post(`${s.url}/embed`, { inputs: 'a' }, { origin: 'http://app.example', authorization: 'Bearer k' });
      assert.equal(r.headers.get('access-control-allow-origin'), 'http://app.example');
      const other = await post(`${s.url}/embed`, { inputs: 'a' }, { origin: 'http://evil.example', authorization: 'Bearer k' });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally {
      await s.close();
    }
    const plain = await serveTiny();
    try {
      const r = await post(`${plain.url}/embed`, { inputs: 'a' }, { origin: 'http://app.example' });
      assert.equal(r.headers.get('access-control-allow-origin'), null, 'no CORS headers without --cors');
    } finally {
      await plain.close();
    }
  });

  test('beyond --max-concurrent-requests: 429 with Retry-After; every admitted request answered correctly', async () => {
    const s = await serveTiny({ limits: { maxConcurrentRequests: 3 } });
    try {
      const ref = await s.reference.encode(TEXTS, { normalize: true });
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post(`${s.url}/embed`, { inputs: TEXTS[i % TEXTS.length] })));
      const refused = answers.filter((a) => a.status === 429);
      const ok = answers.filter((a) => a.status === 200);
      assert.equal(refused.length + ok.length, 30);
      assert.ok(refused.length > 0 && ok.length >= 3, `${ok.length} answered, ${refused.length} refused`);
      assert.equal(refused[0].headers.get('retry-after'), '1');
      assert.match(refused[0].body.error, /limit of 3 concurrent requests/);
      assert.equal(refused[0].body.error_type, 'Overloaded');
      answers.forEach((a, i) => { if (a.status === 200) assert.ok(maxAbsDiff(a.body[0], ref[i % TEXTS.length]) <= 1e-6); });
      assert.equal((await post(`${s.url}/embed`, { inputs: 'a' })).status, 200);
    } finally {
      await s.close();
    }
  });

  test('--request-timeout: a request the model has not answered in time gets 503 with Retry-After', async () => {
    const s = await serveTiny({ limits: { requestTimeoutSeconds: 1 } });
    const model = s.server.ctx.model;
    const run = model.runTokenized.bind(model);
    try {
      model.runTokenized = async (encoded, opts) => {
        await new Promise((r) => setTimeout(r, 1500));
        return run(encoded, opts);
      };
      const slow = await post(`${s.url}/v1/embeddings`, { input: 'a' });
      assert.equal(slow.status, 503);
      assert.match(slow.body.error.message, /timed out after 1 s/);
      assert.equal(slow.headers.get('retry-after'), '1');
      model.runTokenized = run;
      await s.server.ctx.embedder.batcher.idle();
      assert.equal((await post(`${s.url}/embed`, { inputs: 'a' })).status, 200);
    } finally {
      model.runTokenized = run;
      await s.close();
    }
  });

  test('request ids: a client\'s x-request-id is echoed, otherwise one is made', async () => {
    const s = await serveTiny();
    try {
      const mine = await post(`${s.url}/embed`, { inputs: 'a' }, { 'x-request-id': 'abc-123' });
      assert.equal(mine.headers.get('x-request-id'), 'abc-123');
      const made = await post(`${s.url}/embed`, { inputs: 'a' });
      assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    } finally {
      await s.close();
    }
  });
});

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) sum += Number(m[2]);
  }
  return sum;
}
