// From a request's inputs to vectors: tokenizes each input (the prompt prepended; token-id
// inputs used as they are), enforces the length limit — an input longer than max_seq_length is
// refused with 413 unless the request asks for truncation (right: keep the first tokens; left:
// keep the last) — queues the token ids in the dynamic batcher under the request's deadline,
// and returns one result per input.

import type { SentenceTransformer } from '../models/sentence_transformer.js';
import type { EncodedText } from '../tokenizers/tokenizer.js';
import { DynamicBatcher, type BatchResult, type Ticket } from './batcher.js';
import { ApiError, badRequest, tooLarge } from './errors.js';
import type { ServeLimits } from './limits.js';
import { withDeadline } from './limits.js';
import type { Input } from './request_fields.js';

export type TruncationDirection = 'Right' | 'Left';

export interface TokenizeOptions {
  promptName?: string;
  truncate: boolean;
  direction: TruncationDirection;
  /** The request field the inputs came from (named in errors). */
  field: string;
}

export interface Tokenized {
  encoded: EncodedText[];
  promptTokens: number;
  tokens: number;
}

export class Embedder {
  readonly batcher: DynamicBatcher;
  private readonly specialIds: Set<number>;

  constructor(readonly model: SentenceTransformer, readonly limits: ServeLimits, opts: { dynamic?: boolean; onBatch?: ConstructorParameters<typeof DynamicBatcher>[1]['onBatch'] } = {}) {
    if (limits.maxBatchTokens < model.maxSeqLength) {
      throw new Error(`--max-batch-tokens ${limits.maxBatchTokens} is below the model's max_seq_length ${model.maxSeqLength}: one long input could never be run; raise it to at least ${model.maxSeqLength}`);
    }
    this.batcher = new DynamicBatcher(model, { maxBatchTokens: limits.maxBatchTokens, dynamic: opts.dynamic, onBatch: opts.onBatch });
    this.specialIds = new Set(model.tokenizer.encode('').ids);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  prompt(promptName: string | undefined): string {
    try {
      return this.model.resolvePrompt({ promptName });
    } catch (e) {
      throw badRequest(`"prompt_name": ${(e as Error).message}`, 'prompt_name');
    }
  }

  tokenize(inputs: Input[], o: TokenizeOptions): Tokenized {
    const tok = this.model.tokenizer;
    const max = this.model.maxSeqLength;
    const prompt = this.prompt(o.promptName);
    const pooling = this.model.pooling;
    const promptTokens = pooling && !pooling.includePrompt && prompt ? tok.encode(prompt).ids.length - 1 : 0;
    const direction = o.direction === 'Left' ? 'left' : 'right';
    let tokens = 0;
    const encoded = inputs.map((x, i): EncodedText => {
      let e: EncodedText;
      if ('text' in x) {
        e = tok.encode(prompt + x.text, direction);
        if (e.truncated && !o.truncate) {
          throw tooLarge(`${where(o.field, inputs.length, i)} has ${tok.countTokens(prompt + x.text)} tokens, more than the model's max_seq_length of ${max}; shorten it or ask for truncation ("truncate": true)`, o.field);
        }
      } else {
        if (x.ids.length > max && !o.truncate) {
          throw tooLarge(`${where(o.field, inputs.length, i)} has ${x.ids.length} token ids, more than the model's max_seq_length of ${max}; shorten it or ask for truncation ("truncate": true)`, o.field);
        }
        const ids = x.ids.length <= max ? x.ids : direction === 'left' ? x.ids.slice(x.ids.length - max) : x.ids.slice(0, max);
        e = { ids, truncated: ids.length < x.ids.length };
      }
      tokens += e.ids.length;
      return e;
    });
    return { encoded, promptTokens, tokens };
  }

  /** Runs tokenized inputs through the batcher within the request deadline. */
  async run(t: Tokenized, tokenEmbeddings = false): Promise<BatchResult[]> {
    const ticket: Ticket = { cancelled: false };
    const work = this.batcher.submit(t.encoded.map((e) => ({ ids: e.ids, promptTokens: t.promptTokens, tokenEmbeddings })), ticket);
    let out: BatchResult[];
    try {
      out = await withDeadline(work, this.limits.requestTimeoutSeconds, ticket);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(500, `the model failed on this request: ${(e as Error).message}`, 'Backend');
    }
    return out;
  }
}

function where(field: string, n: number, i: number): string {
  return n > 1 ? `"${field}"[${i}]` : `"${field}"`;
}
