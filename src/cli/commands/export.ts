// `sentencekit export`: writes a model as ONNX in the layout transformers.js reads
// (onnx/model.onnx + config and tokenizer files), plus onnx/sentence_embedding.onnx (the whole
// pipeline), optional int8/uint8/fp16 weight-quantised copies and onnx/export.json; the folder
// stays a loadable sentence-transformers model. Takes --model and --out.

import { modelLabel, modelOption, resolveModelSpec } from '../../models/default_model.js';
import { exportModel } from '../../export/export_model.js';
import { WEIGHT_QUANTIZATIONS, type WeightQuantization } from '../../export/quantize_graph.js';
import { intOpt, parse, required, UsageError } from '../args.js';

export const usage = `Usage: sentencekit export [--model DIR|HUB_ID] --out DIR [--quantize int8|uint8|fp16[,fp16]] [--opset N]
                          [--per-tensor] [--reduce-range] [--max-seq-length N] [--no-verify] [--overwrite]

Writes DIR/onnx/model.onnx (input_ids, attention_mask, token_type_ids → last_hidden_state; what
transformers.js loads), DIR/onnx/sentence_embedding.onnx (→ sentence_embedding, pooled, dense and
normalised), DIR/onnx/export.json, the tokenizer and config files, and the sentence-transformers files.
--quantize adds model_quantized.onnx / sentence_embedding_quantized.onnx (int8 or uint8 weights,
dynamic activation quantisation) and/or model_fp16.onnx / sentence_embedding_fp16.onnx.
--opset: ai.onnx opset (default 17, the lowest with LayerNormalization). --per-tensor: one weight
scale per matrix instead of per column. --reduce-range: 7-bit weights for CPUs without VNNI.
The export is written beside DIR and moved into place only when complete. An existing DIR must be
empty or an earlier export: then only the files that export wrote (listed in onnx/export.json) are
replaced, and your own files beside them stay. --overwrite allows any other non-empty DIR (still
replacing only the files the export writes); --out may not be the --model folder.`;

export async function exportCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    model: { type: 'string' },
    out: { type: 'string' },
    quantize: { type: 'string' },
    opset: { type: 'string' },
    'per-tensor': { type: 'boolean', default: false },
    'reduce-range': { type: 'boolean', default: false },
    'max-seq-length': { type: 'string' },
    'no-verify': { type: 'boolean', default: false },
    overwrite: { type: 'boolean', default: false },
    help: { type: 'boolean' },
  }, usage);
  const spec = modelOption(values);
  const modelId = resolveModelSpec(spec);
  const out = required(values, 'out', usage);
  const quantize: WeightQuantization[] = [];
  if (typeof values.quantize === 'string') {
    for (const q of values.quantize.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!(WEIGHT_QUANTIZATIONS as readonly string[]).includes(q)) throw new UsageError(`--quantize "${q}" is not one of ${WEIGHT_QUANTIZATIONS.join(', ')}`, usage);
      quantize.push(q as WeightQuantization);
    }
  }
  const t0 = performance.now();
  const res = await exportModel(modelId, out, {
    opset: intOpt(values, 'opset', undefined, usage),
    quantize,
    perColumn: !values['per-tensor'],
    reduceRange: Boolean(values['reduce-range']),
    verify: !values['no-verify'],
    overwrite: Boolean(values.overwrite),
    load: { maxSeqLength: intOpt(values, 'max-seq-length', undefined, usage) },
  });
  const secs = (performance.now() - t0) / 1000;
  const lines = res.metadata.files.map((f) => {
    const mb = (f.bytes / 1e6).toFixed(1);
    const cos = f.check_cosine_min !== undefined ? `, min cosine to float32 ${f.check_cosine_min}` : '';
    return `  ${f.path.padEnd(40)} ${mb.padStart(8)} MB${cos}`;
  });
  process.stderr.write(`exported ${modelLabel(spec)} to ${res.dir} (opset ${res.metadata.opset}, dimension ${res.metadata.dimension}) in ${secs.toFixed(1)} s:\n${lines.join('\n')}\n`);
}
