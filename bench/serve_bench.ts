// Load test of `sentencekit serve` on loopback with autocannon, on the all-MiniLM-L6-v2 shape
// (hidden 384, 6 layers, 12 heads, FFN 1536; random weights, the real tokenizer), one STS-B dev
// sentence per POST /embed request:
//   - the model alone (in-process, no HTTP): ms per sentence at batch 1 and 32, the ceiling of
//     what batching can gain on this machine;
//   - throughput (requests/s) and p50/p99 latency at concurrency 1, 16 and 64, with dynamic
//     batching and with one request, one batch (--no-dynamic-batching), in the same run, and
//     the gain of the first over the second;
//   - 10× overload: 10 × --max-concurrent-requests connections; the server must not crash, its
//     RSS (sampled from /proc) stays bounded, the excess is refused with 429, and every accepted
//     answer is checked against encode's vector for its sentence (max |diff| ≤ 1e-5).
// The server runs as a child process (its own event loop and threads); the load generator
// runs here. Takes { threads, seconds? } (seconds per measurement, default 8).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { stsDevSentences, TOKENIZER, MINILM_SHAPE } from './common.js';

export interface ServeBenchOptions {
  threads: number;
  seconds?: number;
}

const MAIN = resolve('dist', 'src', 'cli', 'main.js');

interface Child {
  proc: ChildProcess;
  url: string;
  exit: Promise<number | null>;
}

async function startServer(modelDir: string, threads: number, extra: string[]): Promise<Child> {
  const proc = spawn(process.execPath, [MAIN, 'serve', '--model', modelDir, '--port', '0', '--threads', String(threads), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => { err += String(d); });
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += String(d);
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const e = JSON.parse(line) as { msg?: string; address?: string };
          if (e.msg === 'listening' && e.address) resolveUrl(e.address);
        } catch { /* not a log line */ }
      }
      if (buf.length > 1 << 16) buf = '';
    };
    proc.stdout!.on('data', onData);
    void exit.then((code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  proc.stdout!.resume();
  return { proc, url, exit };
}

async function stop(c: Child): Promise<number | null> {
  c.proc.kill('SIGTERM');
  return c.exit;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface LoadResult {
  connections: number;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  answered_2xx: number;
  refused_429: number;
  other_non_2xx: number;
  errors: number;
  wrong_vectors: number;
  peak_rss_mb: number;
  /** Mean inputs per model batch during this measurement (from /metrics). */
  mean_batch_size: number;
}

/** Sum and count of the server's batch-size histogram. */
async function batchStats(url: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const num = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { sum: num('sentencekit_batch_size_sum'), count: num('sentencekit_batch_size_count') };
}

async function load(c: Child, sentences: string[], ref: Float32Array[] | null, connections: number, seconds: number): Promise<LoadResult> {
  let next = 0;
  let wrong = 0;
  let peak = rssMb(c.proc.pid!);
  const b0 = await batchStats(c.url);
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(c.proc.pid!)); }, 200);
  const result = await autocannon({
    url: c.url,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 60,
    requests: [{
      method: 'POST',
      path: '/embed',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req, context) => {
        const i = next++ % sentences.length;
        (context as { i?: number }).i = i;
        return { ...req, body: JSON.stringify({ inputs: sentences[i] }) };
      },
      onResponse: (status, body, context) => {
        if (status !== 200 || !ref) return;
        const i = (context as { i: number }).i;
        const v = (JSON.parse(body) as number[][])[0];
        let d = 0;
        for (let j = 0; j < v.length; j++) d = Math.max(d, Math.abs(v[j] - ref[i][j]));
        if (!(d <= 1e-5)) wrong++;
      },
    }],
  });
  clearInterval(sampler);
  const b1 = await batchStats(c.url).catch(() => ({ sum: NaN, count: NaN }));
  const codes = result.statusCodeStats ?? {};
  const count = (code: string): number => (codes as Record<string, { count?: number }>)[code]?.count ?? 0;
  const ok = result['2xx'];
  const refused = count('429');
  return {
    connections,
    requests_per_s: +(ok / seconds).toFixed(1),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    answered_2xx: ok,
    refused_429: refused,
    other_non_2xx: result.non2xx - refused,
    errors: result.errors + result.timeouts,
    wrong_vectors: wrong,
    peak_rss_mb: +peak.toFixed(0),
    mean_batch_size: +((b1.sum - b0.sum) / (b1.count - b0.count)).toFixed(1),
  };
}

export async function serveBench(o: ServeBenchOptions): Promise<Record<string, unknown>> {
  const seconds = o.seconds ?? 8;
  const { sentences: all, source } = stsDevSentences();
  const sentences = all.slice(0, 1000);
  const dir = await mkdtemp(join(tmpdir(), 'sk-serve-bench-'));
  try {
    const m = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...MINILM_SHAPE, maxSeqLength: 128, seed: 1 });
    await m.save(join(dir, 'model'));
    await m.close();
    const refModel = await SentenceTransformer.load(join(dir, 'model'), { threads: o.threads });
    const ref = await refModel.encode(sentences, { normalize: true, batchSize: 64 });
    // the ceiling for any batching gain: the model alone, in-process, batch 1 against batch 32
    const probe = sentences.slice(0, 192);
    const msPerSentence = async (batchSize: number): Promise<number> => {
      const t = performance.now();
      await refModel.encode(probe, { batchSize });
      return (performance.now() - t) / probe.length;
    };
    await msPerSentence(32);
    const single = await msPerSentence(1);
    const batched = await msPerSentence(32);
    await refModel.close();
    const meanTokens = sentences.reduce((n, s) => n + refModel.tokenizer.encode(s).ids.length, 0) / sentences.length;

    const modes: Record<string, LoadResult[]> = {};
    for (const [name, flags] of [['dynamic_batching', []], ['one_request_one_batch', ['--no-dynamic-batching']]] as const) {
      const c = await startServer(join(dir, 'model'), o.threads, [...flags]);
      await load(c, sentences, null, 4, 1); // warm-up
      modes[name] = [];
      for (const conn of [1, 16, 64]) modes[name].push(await load(c, sentences, ref, conn, seconds));
      await stop(c);
    }
    const at = (name: string, conn: number): LoadResult => modes[name].find((r) => r.connections === conn)!;
    const gain = Object.fromEntries([1, 16, 64].map((conn) => [`c${conn}`, +(at('dynamic_batching', conn).requests_per_s / at('one_request_one_batch', conn).requests_per_s).toFixed(2)]));

    // 10× overload: 640 connections against --max-concurrent-requests 64
    const limit = 64;
    const c = await startServer(join(dir, 'model'), o.threads, ['--max-concurrent-requests', String(limit)]);
    const rssIdle = rssMb(c.proc.pid!);
    const overload = await load(c, sentences, ref, 10 * limit, seconds);
    const health = await fetch(`${c.url}/health`).then((r) => r.status, () => 0);
    const exitCode = await stop(c);

    return {
      model: 'all-MiniLM-L6-v2 shape, random weights, max_seq_length 128',
      texts: `${source}: the first ${sentences.length} sentences, one per request, mean ${meanTokens.toFixed(1)} tokens`,
      route: 'POST /embed',
      server_threads: o.threads,
      seconds_per_measurement: seconds,
      note: 'server child process and load generator on the same machine (loopback); figures drift with other load on it',
      model_alone_ms_per_sentence: { batch_1: +single.toFixed(2), batch_32: +batched.toFixed(2), ratio: +(single / batched).toFixed(2) },
      dynamic_batching: modes.dynamic_batching,
      one_request_one_batch: modes.one_request_one_batch,
      throughput_gain_of_dynamic_batching: gain,
      overload_10x: {
        max_concurrent_requests: limit,
        ...overload,
        rss_idle_mb: +rssIdle.toFixed(0),
        health_after: health,
        exit_code_after_sigterm: exitCode,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
