// Embedding quantization as sentence-transformers' quantize_embeddings defines it, and the
// conversion back to numbers that its evaluators score:
// - int8 / uint8: per dimension d, start = min_d, step = (max_d − min_d)/255 over calibration
//   rows (by default the embeddings themselves); uint8 = trunc((x − start)/step),
//   int8 = trunc((x − start)/step − 128), every operation rounded to float32 as numpy does on
//   float32 arrays, and the float → integer cast wrapping modulo 256 as numpy's does on x86-64
//   (a constant dimension divides 0 by 0 and casts NaN to 0);
// - binary / ubinary: bit = x > 0, eight dimensions a byte, most significant bit first
//   (numpy.packbits); ubinary keeps the byte, binary stores byte − 128 as int8;
// - float32: the embeddings unchanged.
// Takes a row-major float32 matrix {data, rows, dim}.

export type Precision = 'float32' | 'int8' | 'uint8' | 'binary' | 'ubinary';

export const PRECISIONS: readonly Precision[] = ['float32', 'int8', 'uint8', 'binary', 'ubinary'];

export interface FloatMatrix {
  data: Float32Array;
  rows: number;
  dim: number;
}

export interface QuantizedMatrix {
  precision: Precision;
  /** float32: Float32Array; int8 and binary: Int8Array; uint8 and ubinary: Uint8Array. */
  data: Float32Array | Int8Array | Uint8Array;
  rows: number;
  /** Numbers per row of `data`: the embedding dimension, or ⌈dim/8⌉ bytes for binary and ubinary. */
  cols: number;
  /** Dimension of the embeddings that were quantized. */
  dim: number;
}

/** Per-dimension calibration range for int8/uint8. */
export interface QuantizationRanges {
  min: Float32Array;
  max: Float32Array;
}

export interface QuantizeOptions {
  /** Fixed per-dimension ranges (ST's `ranges`). */
  ranges?: QuantizationRanges;
  /** Rows whose per-dimension min/max give the ranges (ST's `calibration_embeddings`). */
  calibration?: FloatMatrix;
}

export function isPrecision(s: unknown): s is Precision {
  return typeof s === 'string' && (PRECISIONS as readonly string[]).includes(s);
}

/** Per-dimension minimum and maximum of the rows of `m`. */
export function calibrationRanges(m: FloatMatrix): QuantizationRanges {
  const min = new Float32Array(m.dim).fill(Infinity);
  const max = new Float32Array(m.dim).fill(-Infinity);
  for (let r = 0; r < m.rows; r++) {
    const o = r * m.dim;
    for (let j = 0; j < m.dim; j++) {
      const v = m.data[o + j];
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  return { min, max };
}

/** numpy's float → 8-bit integer cast on x86-64: truncate toward zero, wrap modulo 256, NaN → 0. */
function castByte(v: number, signed: boolean): number {
  if (!Number.isFinite(v)) return 0;
  const m = ((Math.trunc(v) % 256) + 256) % 256;
  return signed && m >= 128 ? m - 256 : m;
}

export function quantizeEmbeddings(m: FloatMatrix, precision: Precision, opts: QuantizeOptions = {}): QuantizedMatrix {
  if (m.data.length !== m.rows * m.dim) throw new Error(`quantizeEmbeddings: data has ${m.data.length} numbers, expected rows × dim = ${m.rows * m.dim}`);
  const { rows, dim } = m;
  switch (precision) {
    case 'float32':
      return { precision, data: Float32Array.from(m.data), rows, cols: dim, dim };
    case 'int8':
    case 'uint8': {
      const ranges = opts.ranges ?? calibrationRanges(opts.calibration ?? m);
      if (ranges.min.length !== dim || ranges.max.length !== dim) throw new Error(`quantizeEmbeddings: ranges cover ${ranges.min.length} dimensions, the embeddings have ${dim}`);
      const f = Math.fround;
      const steps = new Float32Array(dim);
      for (let j = 0; j < dim; j++) steps[j] = f(f(ranges.max[j] - ranges.min[j]) / 255);
      const signed = precision === 'int8';
      const data = signed ? new Int8Array(rows * dim) : new Uint8Array(rows * dim);
      for (let r = 0; r < rows; r++) {
        const o = r * dim;
        for (let j = 0; j < dim; j++) {
          let v = f(f(m.data[o + j] - ranges.min[j]) / steps[j]);
          if (signed) v = f(v - 128);
          data[o + j] = castByte(v, signed);
        }
      }
      return { precision, data, rows, cols: dim, dim };
    }
    case 'binary':
    case 'ubinary': {
      const cols = Math.ceil(dim / 8);
      const bytes = new Uint8Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < dim; j++) {
          if (m.data[r * dim + j] > 0) bytes[r * cols + (j >> 3)] |= 0x80 >> (j & 7);
        }
      }
      if (precision === 'ubinary') return { precision, data: bytes, rows, cols, dim };
      const data = new Int8Array(rows * cols);
      for (let i = 0; i < bytes.length; i++) data[i] = bytes[i] - 128;
      return { precision, data, rows, cols, dim };
    }
    default:
      throw new Error(`quantizeEmbeddings: precision "${String(precision)}" is not one of ${PRECISIONS.join(', ')}`);
  }
}

/**
 * The numbers sentence-transformers' evaluators compute similarities on: int8/uint8 values as
 * float32, binary/ubinary unpacked to one 0/1 value per bit (⌈dim/8⌉·8 columns, the padding bits
 * 0), float32 unchanged.
 */
export function toScoringMatrix(q: QuantizedMatrix): FloatMatrix {
  if (q.precision === 'binary' || q.precision === 'ubinary') {
    const dim = q.cols * 8;
    const out = new Float32Array(q.rows * dim);
    for (let i = 0; i < q.rows * q.cols; i++) {
      const byte = q.precision === 'binary' ? (q.data[i] + 128) & 0xff : q.data[i];
      for (let b = 0; b < 8; b++) out[i * 8 + b] = (byte >> (7 - b)) & 1;
    }
    return { data: out, rows: q.rows, dim };
  }
  return { data: Float32Array.from(q.data), rows: q.rows, dim: q.cols };
}
