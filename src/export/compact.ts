// Compact embeddings: encode, optionally keep the first `truncateDim` dimensions (Matryoshka,
// re-normalised when `normalize` is set), then quantise as sentence-transformers'
// quantize_embeddings does (src/evaluation/quantize.ts):
//   int8 / uint8: per dimension d, step_d = (max_d − min_d) / 255 over calibration ranges;
//                 uint8 = trunc((x − min_d) / step_d), int8 = trunc((x − min_d) / step_d − 128)
//   binary / ubinary: one bit per dimension (x > 0), eight to a byte, most significant first;
//                 binary stores byte − 128 as int8.
// The ranges come from `ranges`, else from `calibration` rows (float32 embeddings of the same
// model and dimension, e.g. of a sample of the corpus), else from the encoded texts themselves
// (as sentence-transformers does when given neither — the result then depends on the batch).
// Takes a SentenceTransformer, texts and encode options.

import type { EncodeOptions, SentenceTransformer } from '../models/sentence_transformer.js';
import { calibrationRanges, isPrecision, PRECISIONS, quantizeEmbeddings, type FloatMatrix, type Precision, type QuantizationRanges, type QuantizedMatrix } from '../evaluation/quantize.js';

export interface CompactOptions extends EncodeOptions {
  precision: Precision;
  /** Fixed per-dimension ranges for int8/uint8. */
  ranges?: QuantizationRanges;
  /** Rows whose per-dimension min/max give the int8/uint8 ranges. */
  calibration?: FloatMatrix;
}

export interface CompactEmbeddings extends QuantizedMatrix {
  /** The ranges used (int8/uint8), to quantise later queries the same way. */
  ranges: QuantizationRanges | null;
  truncated: number;
  tokens: number;
}

/** Encodes `texts` and quantises the embeddings to `precision`. */
export async function encodeCompact(model: SentenceTransformer, texts: readonly string[], opts: CompactOptions): Promise<CompactEmbeddings> {
  if (!isPrecision(opts.precision)) throw new Error(`encodeCompact: precision "${String(opts.precision)}" is not one of ${PRECISIONS.join(', ')}`);
  const m = await model.encodeMatrix(texts, opts);
  let ranges: QuantizationRanges | null = null;
  if (opts.precision === 'int8' || opts.precision === 'uint8') {
    if (opts.ranges) ranges = opts.ranges;
    else if (opts.calibration) {
      if (opts.calibration.dim !== m.dim) {
        throw new Error(`encodeCompact: calibration rows have ${opts.calibration.dim} dimensions, the embeddings have ${m.dim} (use calibration embeddings encoded with the same model and truncateDim)`);
      }
      ranges = calibrationRanges(opts.calibration);
    } else ranges = calibrationRanges(m);
    if (ranges.min.length !== m.dim || ranges.max.length !== m.dim) {
      throw new Error(`encodeCompact: ranges cover ${ranges.min.length} dimensions, the embeddings have ${m.dim}`);
    }
  }
  const q = quantizeEmbeddings(m, opts.precision, ranges ? { ranges } : {});
  return { ...q, ranges, truncated: m.truncated, tokens: m.tokens };
}
