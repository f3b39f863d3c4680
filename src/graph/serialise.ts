// Serialisation of the graph IR to an ONNX ModelProto (protobuf bytes), through the
// generated ONNX protobuf classes. Initializer data goes in `raw_data` (little-endian), without
// copying large arrays more than once.

import onnxProto from 'onnx-proto';
import { ONNX_DTYPE } from './dtype.js';
import type { Attr, Graph, TensorData, Value } from './ir.js';

const { onnx } = onnxProto;

// onnx-proto's declarations write 64-bit fields as `number | Long` with protobufjs' Long as a
// global that no package declares; declaring its shape here keeps our declarations (which name
// onnx-proto's message types) valid for programs compiled without skipLibCheck.
declare global {
  /** A 64-bit integer as protobufjs decodes one: two 32-bit halves and the signedness. */
  interface Long {
    low: number;
    high: number;
    unsigned: boolean;
    toNumber(): number;
    toString(radix?: number): string;
  }
}

export interface SerialiseOptions {
  opset: number;
  producerVersion?: string;
  docString?: string;
  /** Entries of the model's metadata_props. */
  metadata?: Record<string, string>;
  /** Extra opset imports, e.g. { 'com.microsoft': 1 }. */
  extraOpsets?: Record<string, number>;
}

/** ONNX IR version required by an opset (onnx/helper.py's table). */
export function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function bytesOf(t: TensorData): Uint8Array {
  const d = t.data;
  if (t.dtype === 'bool') return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export function tensorProto(name: string, t: TensorData): onnxProto.onnx.ITensorProto {
  return { name, dims: t.dims, dataType: ONNX_DTYPE[t.dtype], rawData: bytesOf(t) };
}

function valueInfo(v: Value): onnxProto.onnx.IValueInfoProto {
  const shape = v.shape === null ? undefined : { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name: v.name, type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape } } };
}

const AT = onnx.AttributeProto.AttributeType;

function attrProto(name: string, a: Attr, opts: SerialiseOptions): onnxProto.onnx.IAttributeProto {
  switch (a.kind) {
    case 'int': return { name, type: AT.INT, i: a.value };
    case 'float': return { name, type: AT.FLOAT, f: a.value };
    case 'string': return { name, type: AT.STRING, s: new TextEncoder().encode(a.value) };
    case 'ints': return { name, type: AT.INTS, ints: a.value };
    case 'floats': return { name, type: AT.FLOATS, floats: a.value };
    case 'strings': return { name, type: AT.STRINGS, strings: a.value.map((s) => new TextEncoder().encode(s)) };
    case 'tensor': return { name, type: AT.TENSOR, t: tensorProto('', a.value) };
    case 'graph': return { name, type: AT.GRAPH, g: graphProto(a.value, opts, true) };
  }
}

export function graphProto(g: Graph, opts: SerialiseOptions, subgraph = false): onnxProto.onnx.IGraphProto {
  const initNames = new Set(g.initializers.keys());
  return {
    name: g.name,
    node: g.nodes.map((n) => ({
      name: n.name,
      opType: n.op,
      domain: n.domain,
      input: n.inputs.map((v) => (v ? v.name : '')),
      output: n.outputs.map((v) => v.name),
      attribute: Object.entries(n.attrs).map(([k, a]) => attrProto(k, a, opts)),
    })),
    input: g.inputs.filter((v) => subgraph || !initNames.has(v.name)).map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: [...g.initializers.entries()].map(([name, i]) => tensorProto(name, i.data)),
  };
}

/** Serialises `g` into ModelProto bytes ready for onnxruntime or a .onnx file. */
export function toModelProto(g: Graph, opts: SerialiseOptions): Uint8Array {
  const opsetImport = [{ domain: '', version: opts.opset }];
  for (const [domain, version] of Object.entries(opts.extraOpsets ?? {})) opsetImport.push({ domain, version });
  // a node of another domain (onnxruntime's com.microsoft contrib ops) imports it at version 1
  for (const n of g.nodes) if (n.domain && !opsetImport.some((o) => o.domain === n.domain)) opsetImport.push({ domain: n.domain, version: 1 });
  const model: onnxProto.onnx.IModelProto = {
    irVersion: irVersionFor(opts.opset),
    opsetImport,
    producerName: 'sentencekit',
    producerVersion: opts.producerVersion ?? '0.1.0',
    docString: opts.docString ?? '',
    graph: graphProto(g, opts),
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(model).finish();
}

/** Parses ModelProto bytes (used by tests and by the export checks). */
export function parseModelProto(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
