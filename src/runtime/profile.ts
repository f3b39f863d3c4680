// onnxruntime's profile trace (the JSON that a session created with `profile: true` writes at
// endProfiling) summarised per op type: for the runs after the first `skip`, each op type's
// summed kernel time per run, its share of the run (onnxruntime's model_run event), and the
// mean model_run time. Kernel events are the trace's "Node" events named `<node>_kernel_time`
// with args.op_name; a run is a "Session" event named model_run. With onnxruntime's memory arena
// each kernel event also carries the arena's bytes in use (args.mem_bytes_in_use): their largest
// value over those runs is the step's peak of live tensors.

export interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string; mem_bytes_in_use?: string };
}

export interface OpBreakdown {
  /** Milliseconds per step by op type, largest first. */
  byOp: { op: string; ms_per_step: number; percent: number }[];
  /** onnxruntime's model_run per step (ms). */
  modelRunMs: number;
  /** Summed kernel time per step (ms). */
  kernelMs: number;
  /** The arena's largest bytes in use at a node (0 without the arena). */
  peakBytesInUse: number;
}

/** Per-op-type kernel time from an onnxruntime JSON trace, over the runs after the first `skip`. */
export function breakdown(events: TraceEvent[], skip: number): OpBreakdown {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
  const kept = runs.slice(skip);
  if (!kept.length) throw new Error(`the profile holds ${runs.length} runs; ${skip} are skipped as warm-up`);
  const inKept = (ts: number): boolean => kept.some((r) => ts >= (r.ts ?? 0) && ts <= (r.ts ?? 0) + (r.dur ?? 0));
  const by = new Map<string, number>();
  let kernel = 0;
  let peak = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.ts === undefined || !inKept(e.ts)) continue;
    const op = e.args?.op_name ?? 'unknown';
    by.set(op, (by.get(op) ?? 0) + (e.dur ?? 0));
    kernel += e.dur ?? 0;
    peak = Math.max(peak, Number(e.args?.mem_bytes_in_use ?? 0));
  }
  const n = kept.length;
  const modelRun = kept.reduce((a, r) => a + (r.dur ?? 0), 0) / n / 1000;
  const byOp = [...by.entries()].sort((a, b) => b[1] - a[1]).map(([op, us]) => ({ op, ms_per_step: +(us / n / 1000).toFixed(3), percent: +((100 * us) / n / 1000 / modelRun).toFixed(1) }));
  return { byOp, modelRunMs: +modelRun.toFixed(3), kernelMs: +(kernel / n / 1000).toFixed(3), peakBytesInUse: peak };
}

