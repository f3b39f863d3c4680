// The server's limits on concurrent work: a gate that admits at most `maxConcurrent` requests
// into the model's queue at once (the rest are answered 429 with Retry-After), and a deadline
// per request (answered 503 when it passes before the model got to the request; its inputs
// still waiting are dropped from the queue).

import { ApiError } from './errors.js';
import type { Ticket } from './batcher.js';

export interface ServeLimits {
  /** Most inputs in one request (413 beyond). */
  maxClientBatchSize: number;
  /** Most requests admitted at once (429 beyond). */
  maxConcurrentRequests: number;
  /** Token budget of one batch: rows × longest row. */
  maxBatchTokens: number;
  /** Most bytes in a request body (413 beyond). */
  payloadLimit: number;
  /** Seconds a request may wait for the model before it is answered 503. */
  requestTimeoutSeconds: number;
  /** Truncate over-long inputs when the request does not say (TEI's --auto-truncate). */
  autoTruncate: boolean;
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxClientBatchSize: 32,
  maxConcurrentRequests: 512,
  maxBatchTokens: 16384,
  payloadLimit: 2_000_000,
  requestTimeoutSeconds: 30,
  autoTruncate: false,
};

export class RequestGate {
  private inFlight = 0;
  constructor(private readonly max: number) {}

  get active(): number {
    return this.inFlight;
  }

  /** Admits one request or throws 429; call the returned function exactly once when it is answered. */
  enter(): () => void {
    if (this.inFlight >= this.max) {
      throw new ApiError(429, `the server is at its limit of ${this.max} concurrent requests (--max-concurrent-requests); retry after a second`, 'Overloaded', null, { 'retry-after': '1' });
    }
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
    };
  }
}

/** `work`, or a 503 when it has not finished within `seconds` (the ticket is cancelled then). */
export async function withDeadline<T>(work: Promise<T>, seconds: number, ticket: Ticket): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined); // a failure after the deadline has nobody left to tell
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ticket.cancelled = true;
      reject(new ApiError(503, `the request timed out after ${seconds} s waiting for the model; the server is busy, retry later`, 'Overloaded', null, { 'retry-after': '1' }));
    }, seconds * 1000);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
