// Hugging Face text-embeddings-inference's routes, with its request and response shapes:
//   POST /embed      { inputs, normalize = true, truncate, truncation_direction = "Right",
//                      prompt_name, dimensions }                  → [[float]]
//   POST /embed_all  { inputs, truncate, truncation_direction, prompt_name } → [[[float]]]
//                      (each input's token embeddings, one row per token)
//   POST /similarity { inputs: { source_sentence, sentences }, truncate, truncation_direction,
//                      prompt_name }                              → [cosine]
//   POST /tokenize   { inputs, add_special_tokens = true, prompt_name }
//                      → [[{ id, text, special, start, stop }]]   (text: the token's string;
//                      start/stop: its character offsets in the input, null for special tokens)
//   POST /decode     { ids: [int] | [[int]], skip_special_tokens = true } → [string]
//   GET  /info       the model and the server's limits          GET /health  200 when ready
// `truncate` defaults to the server's --auto-truncate; errors are { error, error_type }.

import type { FastifyInstance } from 'fastify';
import { admitted, type ServeContext } from './context.js';
import { badRequest } from './errors.js';
import { optBool, optEnum, optInt, optString, readInputs, type Input, type JsonBody } from './request_fields.js';
import { cosine, toList, truncateAndNormalize } from './vectors.js';
import type { Tokenized } from './embedder.js';
import { tokenOffsets } from './token_offsets.js';

const VERSION = '0.1.0';

export function registerTeiRoutes(app: FastifyInstance, ctx: ServeContext): void {
  const inputsOf = (body: JsonBody, field = 'inputs'): Input[] =>
    readInputs(body, field, { maxInputs: ctx.limits.maxClientBatchSize, vocabSize: ctx.model.tokenizer.vocabSize });
  const tokenizeFor = (body: JsonBody, inputs: Input[], field = 'inputs'): Tokenized =>
    ctx.embedder.tokenize(inputs, {
      promptName: optString(body, 'prompt_name'),
      truncate: optBool(body, 'truncate', ctx.limits.autoTruncate),
      direction: optEnum(body, 'truncation_direction', ['Right', 'Left'] as const, 'Right'),
      field,
    });

  app.post('/embed', async (req) => {
    const body = req.body as JsonBody;
    const inputs = inputsOf(body);
    const normalize = optBool(body, 'normalize', true);
    const dimensions = optInt(body, 'dimensions', 1);
    const dim = ctx.model.dimension;
    if (dimensions !== undefined && dimensions > dim) throw badRequest(`"dimensions" is ${dimensions}, but this model's embeddings have ${dim}; ask for at most ${dim}`, 'dimensions');
    const results = await admitted(ctx, () => ctx.embedder.run(tokenizeFor(body, inputs)));
    return results.map((r) => toList(truncateAndNormalize(r.sentence, dimensions, normalize)));
  });

  app.post('/embed_all', async (req) => {
    const body = req.body as JsonBody;
    const inputs = inputsOf(body);
    const results = await admitted(ctx, () => ctx.embedder.run(tokenizeFor(body, inputs), true));
    return results.map((r) => {
      const rows: number[][] = [];
      const t = r.tokens!;
      for (let i = 0; i < t.length; i += r.hidden) rows.push(Array.from(t.subarray(i, i + r.hidden)));
      return rows;
    });
  });

  app.post('/similarity', async (req) => {
    const body = req.body as JsonBody;
    const pair = body.inputs;
    if (pair === null || typeof pair !== 'object' || Array.isArray(pair)) {
      throw badRequest('"inputs" must be an object { "source_sentence": "…", "sentences": ["…", …] }', 'inputs');
    }
    const p = pair as JsonBody;
    if (typeof p.source_sentence !== 'string') throw badRequest('"inputs.source_sentence" must be a string', 'inputs.source_sentence');
    const source = readInputs({ source_sentence: p.source_sentence }, 'source_sentence', { maxInputs: 1, vocabSize: ctx.model.tokenizer.vocabSize });
    const others = readInputs(p, 'sentences', { maxInputs: ctx.limits.maxClientBatchSize, vocabSize: ctx.model.tokenizer.vocabSize });
    const results = await admitted(ctx, () => ctx.embedder.run(tokenizeFor(body, [...source, ...others], 'inputs')));
    const [s, ...rest] = results;
    return rest.map((r) => cosine(s.sentence, r.sentence));
  });

  app.post('/tokenize', async (req) => {
    const body = req.body as JsonBody;
    const inputs = inputsOf(body);
    const special = optBool(body, 'add_special_tokens', true);
    const prompt = ctx.embedder.prompt(optString(body, 'prompt_name'));
    const tok = ctx.model.tokenizer;
    return inputs.map((x, i) => {
      if (!('text' in x)) throw badRequest(`"inputs"[${i}] must be a string to tokenize`, 'inputs');
      const full = prompt + x.text;
      let ids = tok.encode(full).ids;
      if (!special) ids = ids.filter((id) => !ctx.embedder.isSpecial(id));
      const tokens = ids.map((id) => ({ id, text: tok.idToToken(id) ?? '', special: ctx.embedder.isSpecial(id) }));
      const spans = tokenOffsets(full, tokens, tok.doLowerCase === true);
      return tokens.map((t, j) => ({ ...t, start: spans[j].start, stop: spans[j].stop }));
    });
  });

  app.post('/decode', async (req) => {
    const body = req.body as JsonBody;
    const skip = optBool(body, 'skip_special_tokens', true);
    const v = body.ids;
    const vocab = ctx.model.tokenizer.vocabSize;
    const lists: unknown[] = Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number') ? [v] : Array.isArray(v) ? v : [];
    if (!Array.isArray(v) || lists.length === 0) throw badRequest('"ids" must be a list of token ids or a non-empty list of such lists', 'ids');
    if (lists.length > ctx.limits.maxClientBatchSize) throw badRequest(`"ids" has ${lists.length} lists, more than --max-client-batch-size ${ctx.limits.maxClientBatchSize}`, 'ids');
    return lists.map((ids, i) => {
      if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0 && x < vocab)) {
        throw badRequest(`"ids"[${i}] must be a list of integer token ids in [0, ${vocab})`, 'ids');
      }
      return ctx.model.tokenizer.decode(ids as number[], skip);
    });
  });

  app.get('/info', async () => {
    const info = ctx.model.info();
    const pooling = ctx.model.pooling?.modes.join(',') ?? 'none';
    return {
      model_id: ctx.modelName,
      model_sha: null,
      model_dtype: 'float32',
      model_type: { embedding: { pooling } },
      max_concurrent_requests: ctx.limits.maxConcurrentRequests,
      max_input_length: ctx.model.maxSeqLength,
      max_batch_tokens: ctx.limits.maxBatchTokens,
      max_batch_requests: null,
      max_client_batch_size: ctx.limits.maxClientBatchSize,
      auto_truncate: ctx.limits.autoTruncate,
      tokenization_workers: 1,
      version: VERSION,
      sha: null,
      docker_label: null,
      dimension: ctx.model.dimension,
      similarity_fn_name: ctx.model.similarityFnName,
      prompts: ctx.model.prompts,
      parameters: info.parameters,
      index: ctx.index ? await ctx.index.stats() : null,
    };
  });

  app.get('/health', async (_req, reply) => {
    reply.code(200).send();
  });
}
