// Dead-node elimination: keeps only the nodes (and initializers) that the graph's outputs
// depend on. Graph inputs are kept unless `dropUnusedInputs` is set, so a model's interface
// stays stable (transformers.js feeds token_type_ids whether or not the graph reads it).

import type { Graph, Value } from './ir.js';

export interface PruneOptions {
  dropUnusedInputs?: boolean;
}

export interface PruneReport {
  removedNodes: number;
  removedInitializers: number;
  removedInputs: number;
}

export function prune(g: Graph, opts: PruneOptions = {}): PruneReport {
  const live = new Set<Value>(g.outputs);
  const keep = new Array<boolean>(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n.outputs.some((o) => live.has(o))) {
      keep[i] = true;
      for (const v of n.inputs) if (v) live.add(v);
      for (const a of Object.values(n.attrs)) {
        if (a.kind === 'graph') for (const name of outerNames(a.value)) for (const v of namedValues(g, name)) live.add(v);
      }
    }
  }
  const before = { n: g.nodes.length, i: g.initializers.size, in: g.inputs.length };
  const kept = g.nodes.filter((_, i) => keep[i]);
  g.nodes.length = 0;
  g.nodes.push(...kept);
  for (const [name, init] of [...g.initializers]) if (!live.has(init.value)) g.initializers.delete(name);
  if (opts.dropUnusedInputs) {
    const ins = g.inputs.filter((v) => live.has(v));
    g.inputs.length = 0;
    g.inputs.push(...ins);
  }
  return { removedNodes: before.n - g.nodes.length, removedInitializers: before.i - g.initializers.size, removedInputs: before.in - g.inputs.length };
}

/** Names a subgraph reads from its enclosing scope. */
function outerNames(sub: Graph): Set<string> {
  const defined = sub.names();
  const out = new Set<string>();
  for (const n of sub.nodes) for (const v of n.inputs) if (v && !defined.has(v.name)) out.add(v.name);
  return out;
}

function namedValues(g: Graph, name: string): Value[] {
  const res: Value[] = [];
  for (const v of g.inputs) if (v.name === name) res.push(v);
  const init = g.initializers.get(name);
  if (init) res.push(init.value);
  for (const n of g.nodes) for (const o of n.outputs) if (o.name === name) res.push(o);
  return res;
}
