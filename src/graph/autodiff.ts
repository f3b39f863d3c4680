// Reverse-mode automatic differentiation over the graph IR. `gradients(g, loss, wrt)` appends
// to the builder the nodes that compute d loss / d x for every x in `wrt`: it walks the nodes
// that lie between `wrt` and `loss` in reverse order, asks each op's gradient rule (registered
// per op family in grad/*.ts) for the gradients of its inputs, and sums contributions where a
// value fans out to several consumers.
//
// The order of the appended nodes is chosen for onnxruntime's execution order, a reverse
// depth-first walk from the graph's outputs that, at each node, visits the input with the
// highest node number first. Gradient nodes that read no gradient (a rule's terms made of forward
// values alone, e.g. GELU's Φ(x) + x·φ(x)) are placed before all others, so that at each consumer
// the incoming gradient is computed first and those terms just before they are used, instead of
// right after the forward pass with every layer's terms held through the whole backward pass.
// A value marked with `g.recomputeInBackward` is not kept for the rules that read it: they get a
// copy of its node, which being such a term is run just before its consumer.

import type { GraphBuilder } from './builder.js';
import { Node, type Value } from './ir.js';

export interface GradContext {
  g: GraphBuilder;
  node: Node;
  /** Gradient of each output of the node (null where the loss does not depend on it). */
  outGrads: (Value | null)[];
  /** Whether input i needs a gradient (rules may skip work for the others). */
  needs: boolean[];
}

/** Returns one gradient (or null) per input of the node. */
export type GradRule = (ctx: GradContext) => (Value | null)[];

const rules = new Map<string, GradRule>();

export function registerGrad(op: string, rule: GradRule): void {
  rules.set(op, rule);
}

export function gradRule(op: string): GradRule | undefined {
  return rules.get(op);
}

/** Ops whose outputs carry no gradient (integer or boolean results, shapes). */
const NON_DIFFERENTIABLE = new Set(['Shape', 'ArgMax', 'ArgMin', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'Range', 'ConstantOfShape', 'IsNaN', 'IsInf', 'Sign', 'Floor', 'Ceil', 'Constant', 'EyeLike', 'Size']);

/**
 * Gradients of the scalar `loss` with respect to each value in `wrt` (a zero-free graph: values
 * the loss does not depend on get `null`). `seed` replaces the implicit d loss / d loss = 1.
 */
export function gradients(g: GraphBuilder, loss: Value, wrt: Value[], seed?: Value): Map<Value, Value | null> {
  const nodes = g.graph.nodes;
  // values that depend on any of `wrt`
  const fromWrt = new Set<Value>(wrt);
  const onPath: Node[] = [];
  for (const n of nodes) {
    if (n.inputs.some((v) => v && fromWrt.has(v))) {
      for (const o of n.outputs) fromWrt.add(o);
      onPath.push(n);
    }
  }
  // of those, the nodes the loss depends on
  const toLoss = new Set<Value>([loss]);
  const active: Node[] = [];
  for (let i = onPath.length - 1; i >= 0; i--) {
    const n = onPath[i];
    if (n.outputs.some((o) => toLoss.has(o))) {
      active.push(n);
      for (const v of n.inputs) if (v && fromWrt.has(v)) toLoss.add(v);
    }
  }
  const contributions = new Map<Value, Value[]>();
  const add = (v: Value, gv: Value): void => {
    const list = contributions.get(v);
    if (list) list.push(gv);
    else contributions.set(v, [gv]);
  };
  const total = (v: Value): Value | null => {
    const list = contributions.get(v);
    if (!list || list.length === 0) return null;
    if (list.length === 1) return list[0];
    let s = list[0];
    for (let i = 1; i < list.length; i++) s = g.add(s, list[i]);
    contributions.set(v, [s]);
    return s;
  };
  const start = nodes.length;
  const seedValue = seed ?? g.scalar(1, loss.dtype);
  add(loss, seedValue);
  const copies = new Map<Value, Value>();
  const again = (v: Value | null): Value | null => {
    if (!v || !g.recomputed.has(v)) return v;
    let c = copies.get(v);
    if (!c) {
      const p = v.producer!;
      c = g.op(p.op, p.inputs, p.attrs, 1, p.domain)[0];
      copies.set(v, c);
    }
    return c;
  };
  g.scope('grad', () => {
    for (const orig of active) {
      // the node as its rule sees it: recomputed values replaced by their copies
      const n = orig.inputs.some((v) => v && g.recomputed.has(v)) || orig.outputs.some((v) => g.recomputed.has(v))
        ? new Node(orig.op, orig.name, orig.inputs.map(again), orig.outputs.map((v) => again(v)!), orig.attrs, orig.domain)
        : orig;
      const outGrads = orig.outputs.map(total);
      if (outGrads.every((x) => x === null)) continue;
      if (NON_DIFFERENTIABLE.has(n.op)) continue;
      const rule = rules.get(n.op);
      if (!rule) throw new Error(`autodiff: no gradient rule for ${n.op} (node ${n.name}); register one in src/graph/grad/`);
      const needs = orig.inputs.map((v) => !!v && toLoss.has(v));
      const ins = g.scope(n.name.replace(/\//g, '.'), () => rule({ g, node: n, outGrads, needs }));
      orig.inputs.forEach((v, i) => {
        const gi = ins[i];
        if (v && gi && needs[i]) add(v, gi);
      });
    }
  });
  const res = new Map<Value, Value | null>();
  for (const w of wrt) res.set(w, total(w));
  forwardTermsFirst(nodes, start, seedValue);
  return res;
}

/** Stable partition of nodes[start…]: those that read no gradient (not derived from `seed`) first. */
function forwardTermsFirst(nodes: Node[], start: number, seed: Value): void {
  const carries = new Set<Value>([seed]);
  const terms: Node[] = [];
  const chain: Node[] = [];
  for (let i = start; i < nodes.length; i++) {
    const n = nodes[i];
    if (n.inputs.some((v) => v && carries.has(v))) {
      for (const o of n.outputs) carries.add(o);
      chain.push(n);
    } else terms.push(n);
  }
  nodes.splice(start, nodes.length - start, ...terms, ...chain);
}
