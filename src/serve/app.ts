// The HTTP server (fastify): OpenAI's and TEI's embedding routes, search over an index when
// one is served, Prometheus metrics and the web page, with the cross-cutting parts in one
// place — a JSON body parser that refuses invalid UTF-8, a body that is not a JSON object and
// bodies over the payload limit; Bearer API keys; CORS; request ids (x-request-id, honoured
// when the client sends one) in the JSON logs and on every response; errors in the route's
// shape (OpenAI's under /v1/, TEI's elsewhere); per-route request counts and latencies.
// fastify answers 503 to requests that arrive on kept-alive connections once close() starts.

import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import fastifyStatic from '@fastify/static';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import type { VectorIndex } from '../index/types.js';
import { ApiKeys } from './auth.js';
import type { ServeContext } from './context.js';
import { Embedder } from './embedder.js';
import { ApiError, errorBody } from './errors.js';
import { DEFAULT_LIMITS, RequestGate, type ServeLimits } from './limits.js';
import { createMetrics } from './metrics.js';
import { registerOpenAiRoutes } from './routes_openai.js';
import { registerTeiRoutes } from './routes_tei.js';
import { registerPageRoutes, staticDir } from './routes_page.js';
import { registerSearchRoutes } from './routes_search.js';
import { checkServedModel } from './served_index.js';

export interface ServerOptions {
  model: SentenceTransformer;
  modelName: string;
  modelDir?: string;
  index?: VectorIndex;
  /** The index's folder (named in errors). */
  indexDir?: string;
  limits?: Partial<ServeLimits>;
  apiKeys?: string[];
  /** Origins allowed by CORS ("*" for any); none: no CORS headers. */
  cors?: string[];
  /** JSON logs (pino) to this stream; none: no logs. */
  log?: NodeJS.WritableStream;
  /** Merge concurrent requests into batches (default true; false: one request, one batch). */
  dynamicBatching?: boolean;
}

export interface Server {
  app: FastifyInstance;
  ctx: ServeContext;
  /** Stops accepting, answers what was accepted, then frees the model's session. */
  close(): Promise<void>;
}

/** Routes anyone may call even with API keys configured: the page and the health check. */
const PUBLIC = (url: string): boolean => url === '/' || url === '/health' || url.startsWith('/static/') || url === '/favicon.ico';

export async function createServer(o: ServerOptions): Promise<Server> {
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const keys = new ApiKeys(o.apiKeys ?? []);
  const gate = new RequestGate(limits.maxConcurrentRequests);
  let embedder: Embedder | undefined;
  const metrics = createMetrics({ queueDepth: () => embedder?.batcher.queueDepth ?? 0, inFlight: () => gate.active, batchRunning: () => embedder?.batcher.busy ?? false });
  embedder = new Embedder(o.model, limits, {
    dynamic: o.dynamicBatching ?? true,
    onBatch: (s) => {
      metrics.batchSize.observe(s.rows);
      metrics.batchTokens.observe(s.tokens);
      metrics.batchSeconds.observe(s.seconds);
      metrics.tokensEmbedded.inc(s.tokens);
    },
  });
  const indexModel = o.index ? checkServedModel(o.index, o.indexDir ?? 'the index', o.model, o.modelName) : undefined;
  const ctx: ServeContext = { model: o.model, modelName: o.modelName, modelDir: o.modelDir, embedder, limits, gate, metrics, index: o.index, indexModel };

  const app = Fastify({
    logger: o.log ? { level: 'info', stream: o.log } : false,
    bodyLimit: limits.payloadLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    requestTimeout: Math.max(1, limits.requestTimeoutSeconds) * 1000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  app.removeAllContentTypeParsers();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.addContentTypeParser(['application/json', 'application/*+json'], { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      done(new ApiError(400, 'the request body is not valid UTF-8; send JSON encoded as UTF-8'), undefined);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      done(new ApiError(400, `the request body is not valid JSON: ${(e as Error).message}`), undefined);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      done(new ApiError(400, `the request body must be a JSON object, got ${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value}`), undefined);
      return;
    }
    done(null, value);
  });

  if (o.cors && o.cors.length > 0) {
    const any = o.cors.includes('*');
    await app.register(cors, { origin: any ? '*' : o.cors, methods: ['GET', 'POST', 'DELETE', 'OPTIONS'], allowedHeaders: ['content-type', 'authorization', 'x-request-id'], exposedHeaders: ['x-request-id', 'retry-after'] });
  }

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (req.method === 'OPTIONS' || PUBLIC(req.url.split('?')[0])) return;
    keys.check(req.headers.authorization);
  });

  // while closing, answered connections are not kept alive (node would wait for their idle timeout)
  let stopping = false;
  app.addHook('onSend', async (_req, reply) => {
    if (stopping) reply.header('connection', 'close');
  });

  app.addHook('preValidation', async (req) => {
    if (req.method === 'POST' && (req.body === undefined || req.body === null)) {
      throw new ApiError(400, 'the request has no body; send a JSON object with "Content-Type: application/json"');
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { route, method: req.method, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const e = toApiError(err, limits);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    if (e.status === 401) metrics.rejected.inc({ reason: 'unauthorized' });
    if (e.status === 413) metrics.rejected.inc({ reason: 'too_large' });
    reply.code(e.status).headers(e.headers).send(errorBody(req.url, e));
  });

  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError(404, `no route ${req.method} ${req.url.split('?')[0]}; see GET /info and the README for the routes`, 'NotFound');
    reply.code(404).send(errorBody(req.url, e));
  });

  await app.register(fastifyStatic, { root: staticDir(), prefix: '/static/', index: false, wildcard: false });
  registerOpenAiRoutes(app, ctx);
  registerTeiRoutes(app, ctx);
  registerPageRoutes(app, ctx);
  if (o.index) registerSearchRoutes(app, ctx, o.index);
  else {
    const none = async (): Promise<never> => {
      throw new ApiError(404, 'no index is served: start the server with --index DIR (built with `sentencekit index build`) to search', 'NotFound');
    };
    app.post('/search', none);
    app.post('/documents', none);
    app.delete('/documents', none);
  }
  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopping = true;
      await app.close();
      await embedder.batcher.idle();
      await o.index?.close();
      await o.model.close();
    })();
    return closing;
  };
  return { app, ctx, close };
}

/** fastify's own errors (body too large, bad content type, …) as ApiErrors with a clear message. */
function toApiError(err: FastifyError | ApiError, limits: ServeLimits): ApiError {
  if (err instanceof ApiError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, `the request body is over this server's limit of ${limits.payloadLimit} bytes (--payload-limit); send fewer or shorter inputs`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'the request body must be JSON: send the header "Content-Type: application/json"');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'the request body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'the Content-Length header does not match the body');
    default:
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode, err.message);
      return new ApiError(500, `internal error: ${err.message}`, 'Backend');
  }
}
