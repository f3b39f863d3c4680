// Which ai.onnx opset an export can target: each op the exported graphs use has the first
// opset that defines it in the form we emit (LayerNormalization 17, Shape with start/end 15,
// GreaterOrEqual 12, Range/GatherElements/DynamicQuantizeLinear 11, MatMulInteger 10, …).
// `requiredOpset` walks a graph and names the ops that need more than a requested opset, so an
// export can refuse before it writes anything. Takes a Graph (built at any opset) and a number.

import type { Graph } from '../graph/ir.js';

/** The highest ai.onnx opset an export may declare (the runtime's onnxruntime-node 1.30 runs up to it). */
export const MAX_EXPORT_OPSET = 23;

/** The lowest opset at which each op exists in the form the exporter emits; ops absent here need opset 1. */
const FIRST_OPSET: Readonly<Record<string, number>> = {
  LayerNormalization: 17,
  GreaterOrEqual: 12,
  LessOrEqual: 12,
  Range: 11,
  GatherElements: 11,
  DynamicQuantizeLinear: 11,
  MatMulInteger: 10,
  Erf: 9,
  Where: 9,
  Expand: 8,
};

export interface OpsetNeed {
  op: string;
  opset: number;
  /** How many nodes of the graph use it. */
  count: number;
  why: string;
}

function needOf(op: string, attrs: Record<string, unknown>): { opset: number; why: string } {
  if (op === 'Shape' && ('start' in attrs || 'end' in attrs)) return { opset: 15, why: 'Shape with start/end' };
  const o = FIRST_OPSET[op];
  return o ? { opset: o, why: op } : { opset: 1, why: op };
}

/** Ops of `g` that need an opset above `opset`, highest first (empty when `opset` suffices). */
export function opsetShortfall(g: Graph, opset: number): OpsetNeed[] {
  const byWhy = new Map<string, OpsetNeed>();
  for (const n of g.nodes) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') continue;
    const need = needOf(n.op, n.attrs);
    if (need.opset <= opset) continue;
    const prev = byWhy.get(need.why);
    if (prev) prev.count++;
    else byWhy.set(need.why, { op: n.op, opset: need.opset, count: 1, why: need.why });
  }
  return [...byWhy.values()].sort((a, b) => b.opset - a.opset || a.why.localeCompare(b.why));
}

/** The lowest opset that every node of `g` allows. */
export function requiredOpset(g: Graph): number {
  let m = 1;
  for (const n of g.nodes) m = Math.max(m, needOf(n.op, n.attrs).opset);
  return m;
}
