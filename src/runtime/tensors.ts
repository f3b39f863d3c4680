// Conversion between the graph layer's TensorData and onnxruntime tensors.

import ort from 'onnxruntime-node';
import type { DType, TypedArray } from '../graph/dtype.js';
import type { TensorData } from '../graph/ir.js';

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool', float16: 'float16',
};

export function toOrt(t: TensorData): ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw new Error(`onnxruntime-node cannot take ${t.dtype} tensors as inputs`);
  return new ort.Tensor(type, t.data as never, t.dims);
}

export function fromOrt(t: ort.Tensor): TensorData {
  const dtype = (Object.entries(ORT_TYPE).find(([, v]) => v === t.type)?.[0] ?? null) as DType | null;
  if (!dtype) throw new Error(`unsupported output tensor type ${t.type}`);
  return { dtype, dims: [...t.dims], data: t.data as TypedArray };
}
