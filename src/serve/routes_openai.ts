// POST /v1/embeddings, as OpenAI's embeddings API: `input` (a string, a list of strings, a list
// of token ids or a list of token-id lists), `model`, `encoding_format` ("float" or "base64":
// the float32 bytes), `dimensions` (Matryoshka: the first N numbers, re-normalised), `user`
// (ignored). Vectors are unit length, as OpenAI's are. Answers
//   { object: "list", data: [{ object: "embedding", index, embedding }], model,
//     usage: { prompt_tokens, total_tokens } }
// and errors in OpenAI's shape { error: { message, type, param, code } }. GET /v1/models lists
// the one served model, as OpenAI-compatible servers do.

import type { FastifyInstance } from 'fastify';
import { admitted, type ServeContext } from './context.js';
import { badRequest } from './errors.js';
import { optEnum, optInt, optString, readInputs, type JsonBody } from './request_fields.js';
import { toBase64, toList, truncateAndNormalize } from './vectors.js';

export function registerOpenAiRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.get('/v1/models', async () => ({ object: 'list', data: [{ id: ctx.modelName, object: 'model', created: 0, owned_by: 'sentencekit' }] }));

  app.post('/v1/embeddings', async (req) => {
    const body = req.body as JsonBody;
    const inputs = readInputs(body, 'input', { maxInputs: ctx.limits.maxClientBatchSize, vocabSize: ctx.model.tokenizer.vocabSize });
    optString(body, 'model');
    optString(body, 'user');
    const format = optEnum(body, 'encoding_format', ['float', 'base64'] as const, 'float');
    const dimensions = optInt(body, 'dimensions', 1);
    const dim = ctx.model.dimension;
    if (dimensions !== undefined && dimensions > dim) throw badRequest(`"dimensions" is ${dimensions}, but this model's embeddings have ${dim}; ask for at most ${dim}`, 'dimensions');
    const { t, results } = await admitted(ctx, async () => {
      const t = ctx.embedder.tokenize(inputs, { truncate: ctx.limits.autoTruncate, direction: 'Right', field: 'input' });
      return { t, results: await ctx.embedder.run(t) };
    });
    return {
      object: 'list',
      data: results.map((r, index) => {
        const v = truncateAndNormalize(r.sentence, dimensions, true);
        return { object: 'embedding', index, embedding: format === 'base64' ? toBase64(v) : toList(v) };
      }),
      model: optString(body, 'model') ?? ctx.modelName,
      usage: { prompt_tokens: t.tokens, total_tokens: t.tokens },
    };
  });
}
