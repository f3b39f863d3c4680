// `sentencekit encode`: embeds every line of a text file (or the `text` field of JSON lines),
// streaming in bounded memory, into .npy (float32 [n, dim]) or .jsonl ({"embedding": [...]}).
// --precision int8|uint8|binary|ubinary writes compact embeddings instead (quantize_embeddings'
// rules; int8/uint8 ranges from --calibration, a float32 .npy of embeddings of a sample).

import { extname } from 'node:path';
import { checkTruncateDim, SentenceTransformer } from '../../models/sentence_transformer.js';
import { modelLabel, modelOption, resolveModelSpec } from '../../models/default_model.js';
import { countLines, readTexts, type TextReadStats } from '../../io/text_input.js';
import { createNpyWriter } from '../../io/npy.js';
import { createJsonlEmbeddingWriter } from '../../io/jsonl_output.js';
import { Progress, progressModeFromEnv } from '../../io/progress.js';
import { intOpt, parse, required, UsageError } from '../args.js';
import { readNpy } from '../../io/npy.js';
import { calibrationRanges, isPrecision, type QuantizationRanges } from '../../evaluation/quantize.js';
import { createQuantizingWriter } from '../../export/compact_output.js';
import { assertNotInput } from '../../io/output_guard.js';

export const usage = `Usage: sentencekit encode [--model DIR|HUB_ID] --input FILE [--output FILE.npy|FILE.jsonl]
                          [--batch-size N] [--normalize] [--field NAME] [--prompt TEXT | --prompt-name NAME]
                          [--truncate-dim N] [--max-seq-length N] [--threads N]
                          [--precision float32|int8|uint8|binary|ubinary [--calibration FILE.npy]]
                          [--on-invalid-utf8 error|replace]

Input: a text file (one text a line) or JSON lines (.jsonl) with a "text" field (--field to change).
Output: .npy (float32 [n, dim], numpy.load reads it) or .jsonl; default: INPUT with .npy appended.
--precision writes compact embeddings as sentence-transformers' quantize_embeddings does: int8/uint8
([n, dim] int8/uint8, per-dimension ranges from --calibration, a float32 [m, dim] .npy of embeddings of
a sample, e.g. written by this command without --precision) or binary/ubinary (one bit per dimension,
[n, ceil(dim/8)]).
Binary input (a NUL byte) is refused; a line that is not valid UTF-8 fails naming the line, or with
--on-invalid-utf8 replace is embedded with U+FFFD in place of the bad bytes (the count is reported).`;

export async function encode(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    model: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    'batch-size': { type: 'string' },
    normalize: { type: 'boolean', default: false },
    field: { type: 'string', default: 'text' },
    prompt: { type: 'string' },
    'prompt-name': { type: 'string' },
    'truncate-dim': { type: 'string' },
    'max-seq-length': { type: 'string' },
    threads: { type: 'string' },
    precision: { type: 'string' },
    calibration: { type: 'string' },
    'on-invalid-utf8': { type: 'string' },
    help: { type: 'boolean' },
  }, usage);
  const onInvalidUtf8 = values['on-invalid-utf8'] ?? 'error';
  if (onInvalidUtf8 !== 'error' && onInvalidUtf8 !== 'replace') throw new UsageError(`--on-invalid-utf8 must be error or replace, got "${String(onInvalidUtf8)}"`, usage);
  const readStats: TextReadStats = { invalidUtf8Lines: 0, firstInvalidUtf8Line: null };
  const precision = typeof values.precision === 'string' ? values.precision : 'float32';
  if (!isPrecision(precision)) throw new UsageError(`--precision must be one of float32, int8, uint8, binary, ubinary, got "${precision}"`, usage);
  const needsRanges = precision === 'int8' || precision === 'uint8';
  if (needsRanges && typeof values.calibration !== 'string') {
    throw new UsageError(`--precision ${precision} needs --calibration FILE.npy (float32 embeddings of a sample, e.g. from this command without --precision): the input is encoded in chunks, so the ranges must be known first`, usage);
  }
  if (!needsRanges && typeof values.calibration === 'string') throw new UsageError('--calibration applies to --precision int8 or uint8 only', usage);
  const input = required(values, 'input', usage);
  const output = typeof values.output === 'string' ? values.output : `${input}.npy`;
  const ext = extname(output).toLowerCase();
  if (ext !== '.npy' && ext !== '.jsonl') throw new UsageError(`--output must end in .npy or .jsonl, got "${output}"`, usage);
  assertNotInput(output, { '--input': input, '--calibration': typeof values.calibration === 'string' ? values.calibration : undefined });
  const batchSize = intOpt(values, 'batch-size', 32, usage);
  const spec = modelOption(values);
  const model = await SentenceTransformer.load(resolveModelSpec(spec), {
    threads: intOpt(values, 'threads', undefined, usage),
    maxSeqLength: intOpt(values, 'max-seq-length', undefined, usage),
  });
  const truncateDim = intOpt(values, 'truncate-dim', undefined, usage);
  let dim: number;
  try {
    dim = truncateDim !== undefined ? checkTruncateDim(truncateDim, model.dimension) : model.dimension;
  } catch (e) {
    await model.close();
    throw e;
  }
  let ranges: QuantizationRanges | undefined;
  if (needsRanges) {
    const calPath = String(values.calibration);
    const cal = await readNpy(calPath);
    if (cal.shape.length !== 2 || cal.shape[1] !== dim || cal.shape[0] < 1) {
      throw new Error(`${calPath}: calibration embeddings have shape [${cal.shape.join(', ')}], expected [rows, ${dim}] (encode a sample with the same model${truncateDim ? ' and --truncate-dim' : ''})`);
    }
    ranges = calibrationRanges({ data: cal.data, rows: cal.shape[0], dim });
  }
  const progressMode = progressModeFromEnv();
  // the total (for the percentage and ETA) costs one extra read of the input
  const total = progressMode === 'off' ? undefined : await countLines(input);
  const progress = new Progress({ total, label: 'encode', unit: 'texts', mode: progressMode });
  const writer = precision !== 'float32'
    ? await createQuantizingWriter(output, dim, precision, ranges)
    : ext === '.npy' ? await createNpyWriter(output, dim) : await createJsonlEmbeddingWriter(output, dim);
  let rows = 0;
  let truncated = 0;
  let tokens = 0;
  const t0 = performance.now();
  try {
    for await (const chunk of readTexts(input, { field: String(values.field), onInvalidUtf8, stats: readStats })) {
      const m = await model.encodeMatrix(chunk.texts, {
        batchSize,
        normalize: Boolean(values.normalize),
        prompt: typeof values.prompt === 'string' ? values.prompt : undefined,
        promptName: typeof values['prompt-name'] === 'string' ? values['prompt-name'] : undefined,
        truncateDim,
      });
      await writer.writeRows(m.data);
      rows += m.rows;
      truncated += m.truncated;
      tokens += m.tokens;
      progress.tick(m.rows);
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    await model.close();
  }
  const secs = (performance.now() - t0) / 1000;
  progress.done();
  process.stderr.write(
    `encoded ${rows} texts (${tokens} tokens) with ${modelLabel(spec)} into ${output} [${rows}, ${dim}]${precision === 'float32' ? '' : ` as ${precision}`} in ${secs.toFixed(2)} s` +
      (truncated ? `; ${truncated} text(s) longer than max_seq_length ${model.maxSeqLength} were truncated` : '; none truncated') + '\n',
  );
  if (readStats.invalidUtf8Lines > 0) {
    process.stderr.write(`${input}: ${readStats.invalidUtf8Lines} line(s) held invalid UTF-8 and were embedded with U+FFFD in place of the bad bytes (first: line ${readStats.firstInvalidUtf8Line})\n`);
  }
}
