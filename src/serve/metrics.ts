// The server's Prometheus metrics (prom-client, one registry per server): requests by route
// and status, their latency, batch sizes in inputs and tokens, inputs waiting in the queue,
// requests admitted, tokens embedded, and the process's own figures (RSS, CPU, event-loop lag).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route' | 'method' | 'status'>;
  batchSize: Histogram<string>;
  batchTokens: Histogram<string>;
  batchSeconds: Histogram<string>;
  tokensEmbedded: Counter<string>;
  rejected: Counter<'reason'>;
}

export function createMetrics(sources: { queueDepth: () => number; inFlight: () => number; batchRunning: () => boolean }): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sentencekit_' });
  const requests = new Counter({ name: 'sentencekit_requests_total', help: 'HTTP requests answered, by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'sentencekit_request_duration_seconds', help: 'Time from receiving a request to answering it', labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
  });
  const batchSize = new Histogram({ name: 'sentencekit_batch_size', help: 'Inputs in each batch the model ran', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers: [registry] });
  const batchTokens = new Histogram({ name: 'sentencekit_batch_tokens', help: 'Tokens (without padding) in each batch the model ran', buckets: [16, 64, 256, 1024, 4096, 16384, 65536], registers: [registry] });
  const batchSeconds = new Histogram({ name: 'sentencekit_batch_duration_seconds', help: 'Time the model took for one batch', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  const tokensEmbedded = new Counter({ name: 'sentencekit_tokens_embedded_total', help: 'Tokens embedded (special tokens included, padding not)', registers: [registry] });
  const rejected = new Counter({ name: 'sentencekit_requests_rejected_total', help: 'Requests refused before reaching the model, by reason', labelNames: ['reason'], registers: [registry] });
  new Gauge({ name: 'sentencekit_queue_depth', help: 'Inputs waiting for a batch', registers: [registry], collect() { this.set(sources.queueDepth()); } });
  new Gauge({ name: 'sentencekit_requests_in_flight', help: 'Requests admitted and not yet answered', registers: [registry], collect() { this.set(sources.inFlight()); } });
  new Gauge({ name: 'sentencekit_batch_running', help: '1 while the model runs a batch', registers: [registry], collect() { this.set(sources.batchRunning() ? 1 : 0); } });
  return { registry, requests, latency, batchSize, batchTokens, batchSeconds, tokensEmbedded, rejected };
}
