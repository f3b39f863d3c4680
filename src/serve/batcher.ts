// Dynamic batching: inputs of concurrent requests wait in one queue and are run together as
// one padded batch of the model, off the event loop (the model's worker-thread session).
// The next batch always holds the oldest waiting input; it is filled with the waiting inputs
// nearest to it in token length, while  rows × longest row ≤ maxBatchTokens  (the padded
// tokens the CPU computes), and sorted by length. One batch runs at a time; inputs that arrive
// meanwhile wait for the next one, so batches grow with the load. With `dynamic: false` a
// batch only holds inputs of one request (one request, one batch: the baseline).

import type { EncodedText } from '../tokenizers/tokenizer.js';

/** What the batcher needs from a model (SentenceTransformer fits). */
export interface BatchModel {
  runTokenized(encoded: EncodedText[], opts: { promptTokens?: number; tokenEmbeddings?: boolean }): Promise<{ sentence: Float32Array; dim: number; tokens?: Float32Array; seqLen: number; hidden: number }>;
}

export interface BatchInput {
  ids: number[];
  /** Prompt tokens left out of pooling (models that exclude the prompt); inputs with different values never share a batch. */
  promptTokens: number;
  /** Also return this input's token embeddings. */
  tokenEmbeddings: boolean;
}

export interface BatchResult {
  /** The sentence embedding, as the model outputs it. */
  sentence: Float32Array;
  /** With tokenEmbeddings: [ids.length, hidden] row-major. */
  tokens?: Float32Array;
  hidden: number;
}

export interface BatchStats {
  rows: number;
  tokens: number;
  paddedTokens: number;
  seconds: number;
}

export interface BatcherOptions {
  maxBatchTokens: number;
  /** Merge inputs of different requests into one batch (default true). */
  dynamic?: boolean;
  onBatch?: (s: BatchStats) => void;
}

/** A request's handle on its waiting inputs; cancel() drops those not yet run. */
export interface Ticket {
  cancelled: boolean;
}

interface Item extends BatchInput {
  ticket: Ticket;
  group: number;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
}

/** How far into the queue a batch looks for inputs of similar length. */
const WINDOW = 4096;

export class DynamicBatcher {
  private queue: Item[] = [];
  private running = false;
  private nextGroup = 1;
  private idleWaiters: Array<() => void> = [];
  private readonly dynamic: boolean;

  constructor(private readonly model: BatchModel, private readonly opts: BatcherOptions) {
    if (!Number.isInteger(opts.maxBatchTokens) || opts.maxBatchTokens < 1) throw new Error(`maxBatchTokens must be a positive integer, got ${opts.maxBatchTokens}`);
    this.dynamic = opts.dynamic ?? true;
  }

  /** Inputs waiting for a batch. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Whether a batch is running now. */
  get busy(): boolean {
    return this.running;
  }

  /** Queues a request's inputs; resolves with one result per input, in order. */
  submit(inputs: BatchInput[], ticket: Ticket = { cancelled: false }): Promise<BatchResult[]> {
    for (const x of inputs) {
      if (x.ids.length > this.opts.maxBatchTokens) {
        return Promise.reject(new Error(`an input of ${x.ids.length} tokens is over the batch budget of ${this.opts.maxBatchTokens} tokens`));
      }
    }
    const group = this.nextGroup++;
    const all = inputs.map((x) => new Promise<BatchResult>((resolve, reject) => {
      this.queue.push({ ...x, ticket, group, resolve, reject });
    }));
    this.pump();
    return Promise.all(all);
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.running) return;
    this.queue = this.queue.filter((x) => !x.ticket.cancelled);
    if (this.queue.length === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
      return;
    }
    const batch = this.nextBatch();
    this.running = true;
    void this.run(batch).finally(() => {
      this.running = false;
      this.pump();
    });
  }

  /** The oldest input plus its nearest neighbours in length, within the token budget. */
  private nextBatch(): Item[] {
    const head = this.queue[0];
    const budget = this.opts.maxBatchTokens;
    const cands: Item[] = [];
    const n = Math.min(this.queue.length, WINDOW);
    for (let i = 0; i < n; i++) {
      const x = this.queue[i];
      if (x.promptTokens !== head.promptTokens) continue;
      if (!this.dynamic && x.group !== head.group) continue;
      cands.push(x);
    }
    cands.sort((a, b) => a.ids.length - b.ids.length);
    const at = cands.indexOf(head);
    const chosen = [head];
    let longest = head.ids.length;
    let lo = at - 1;
    let hi = at + 1;
    const len = head.ids.length;
    while (lo >= 0 || hi < cands.length) {
      const takeLow = hi >= cands.length || (lo >= 0 && len - cands[lo].ids.length <= cands[hi].ids.length - len);
      if (takeLow) {
        if ((chosen.length + 1) * longest > budget) break;
        chosen.push(cands[lo--]);
      } else {
        const l = Math.max(longest, cands[hi].ids.length);
        if ((chosen.length + 1) * l > budget) {
          hi = cands.length; // longer ones cannot fit either; shorter ones may
          continue;
        }
        longest = l;
        chosen.push(cands[hi++]);
      }
    }
    const taken = new Set(chosen);
    this.queue = this.queue.filter((x) => !taken.has(x));
    return chosen.sort((a, b) => a.ids.length - b.ids.length);
  }

  private async run(batch: Item[]): Promise<void> {
    const t0 = performance.now();
    const wantTokens = batch.some((x) => x.tokenEmbeddings);
    let out;
    try {
      out = await this.model.runTokenized(batch.map((x) => ({ ids: x.ids, truncated: false })), { promptTokens: batch[0].promptTokens, tokenEmbeddings: wantTokens });
    } catch (e) {
      for (const x of batch) x.reject(e as Error);
      return;
    }
    let tokens = 0;
    for (const x of batch) tokens += x.ids.length;
    this.opts.onBatch?.({ rows: batch.length, tokens, paddedTokens: batch.length * out.seqLen, seconds: (performance.now() - t0) / 1000 });
    const { dim, hidden, seqLen } = out;
    batch.forEach((x, r) => {
      const res: BatchResult = { sentence: out.sentence.slice(r * dim, (r + 1) * dim), hidden };
      if (x.tokenEmbeddings && out.tokens) res.tokens = out.tokens.slice(r * seqLen * hidden, (r * seqLen + x.ids.length) * hidden);
      x.resolve(res);
    });
  }
}
