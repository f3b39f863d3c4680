// `sentencekit serve`: an HTTP embedding server (OpenAI's /v1/embeddings and TEI's routes) with
// dynamic batching, search over an index with --index, Prometheus metrics and a web page;
// JSON logs on stdout; SIGTERM or SIGINT stop accepting, finish what was accepted, exit 0.

import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { resolveModelSpec } from '../../models/default_model.js';
import { resolveModelDir } from '../../models/hub_model.js';
import { createServer } from '../../serve/app.js';
import { openServedIndex } from '../../serve/served_index.js';
import type { VectorIndex } from '../../index/types.js';
import { UsageError } from '../args.js';

export const usage = `Usage: sentencekit serve [--model DIR|HUB_ID] [--index DIR] [--port 8080] [--host 127.0.0.1]
                        [--api-key KEY ...] [--cors ORIGIN ...] [--max-batch-tokens 16384]
                        [--max-concurrent-requests 512] [--max-client-batch-size 32] [--threads N]
                        [--payload-limit 2000000] [--request-timeout 30] [--auto-truncate]
                        [--no-dynamic-batching] [--model-name NAME]

Routes: POST /v1/embeddings (OpenAI), POST /embed /embed_all /similarity /tokenize /decode,
GET /info /health (TEI), POST /search, POST|DELETE /documents (with --index), GET /metrics
(Prometheus), GET / (web page). --api-key (repeatable) requires "Authorization: Bearer KEY" on
every route but /, /static/ and /health. --cors allows an origin ("*" for any; repeatable).`;

function int(v: string | undefined, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${v}"`, usage);
  return n;
}

export async function serve(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: 'string' },
        'model-name': { type: 'string' },
        index: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'api-key': { type: 'string', multiple: true },
        cors: { type: 'string', multiple: true },
        'max-batch-tokens': { type: 'string' },
        'max-concurrent-requests': { type: 'string' },
        'max-client-batch-size': { type: 'string' },
        'payload-limit': { type: 'string' },
        'request-timeout': { type: 'string' },
        'auto-truncate': { type: 'boolean' },
        'no-dynamic-batching': { type: 'boolean' },
        threads: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
  if (values.help) {
    process.stdout.write(usage + '\n');
    return;
  }
  const port = int(values.port, 'port', 8080, 0);
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`, usage);
  const limits = {
    maxBatchTokens: int(values['max-batch-tokens'], 'max-batch-tokens', 16384, 1),
    maxConcurrentRequests: int(values['max-concurrent-requests'], 'max-concurrent-requests', 512, 1),
    maxClientBatchSize: int(values['max-client-batch-size'], 'max-client-batch-size', 32, 1),
    payloadLimit: int(values['payload-limit'], 'payload-limit', 2_000_000, 1),
    requestTimeoutSeconds: int(values['request-timeout'], 'request-timeout', 30, 1),
    autoTruncate: values['auto-truncate'] ?? false,
  };
  const threads = values.threads === undefined ? undefined : int(values.threads, 'threads', 1, 1);
  const index: VectorIndex | undefined = values.index ? await openServedIndex(values.index, { threads }) : undefined;
  // with an index and no --model: the model the index was built with
  const given = values.model ?? index?.model?.name;
  let model: SentenceTransformer;
  let modelDir: string;
  try {
    modelDir = await resolveModelDir(resolveModelSpec(given));
    model = await SentenceTransformer.load(modelDir, { worker: true, threads });
  } catch (e) {
    await index?.close();
    throw e;
  }
  let server;
  try {
    server = await createServer({
      model, modelDir, index, indexDir: values.index, limits,
      modelName: values['model-name'] ?? given ?? basename(modelDir),
      apiKeys: values['api-key'] ?? [],
      cors: values.cors ?? [],
      log: process.stdout,
      dynamicBatching: !values['no-dynamic-batching'],
    });
  } catch (e) {
    await index?.close();
    await model.close();
    throw e;
  }
  const log = server.app.log;
  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down: no new requests, finishing those accepted');
      server.close().then(() => {
        log.info('stopped');
        resolve();
      }, reject);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    server.app.listen({ port, host: values.host ?? '127.0.0.1' }).then((address) => {
      log.info({ address, model: server.ctx.modelName, dimension: model.dimension, index: values.index ?? null }, 'listening');
    }, (e: Error) => {
      void server.close();
      reject(new Error(`cannot listen on ${values.host ?? '127.0.0.1'}:${port}: ${e.message}`));
    });
  });
}
