// ONNX export of Sentence Transformers (transformers.js layout plus a whole-pipeline graph,
// optional int8/uint8/fp16 weight quantisation) and compact (quantised) embeddings.

export { exportModel, buildEncoderGraph, checkExportable, ExportError, EXPORT_METADATA, PRODUCER_VERSION, type ExportOptions, type ExportResult, type ExportMetadata, type ExportedFile, type TensorInfo } from './export_model.js';
export { quantizeDynamic, quantizeGatherTables, quantizeWeight, storeFloat16, WEIGHT_QUANTIZATIONS, type WeightQuantization, type DynamicQuantizeOptions, type QuantizeReport } from './quantize_graph.js';
export { opsetShortfall, requiredOpset, MAX_EXPORT_OPSET, type OpsetNeed } from './opset.js';
export { encodeCompact, type CompactOptions, type CompactEmbeddings } from './compact.js';
export { createCompactWriter, createQuantizingWriter, npyHeader8, type CompactWriter } from './compact_output.js';
