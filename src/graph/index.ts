// Public surface of the graph layer.
export * from './dtype.js';
export * from './ir.js';
export { GraphBuilder, tensor, DEFAULT_OPSET, type BuilderOptions } from './builder.js';
export { registerOp, opSchema, type OpSchema, type InferContext, type OutputInfo } from './ops/registry.js';
export { toModelProto, parseModelProto, irVersionFor, type SerialiseOptions } from './serialise.js';
export { prune, type PruneOptions, type PruneReport } from './prune.js';
