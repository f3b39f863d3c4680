// Stopping a run on SIGINT / SIGTERM without losing it: while a run trains, the signals only
// set a flag (the current step finishes; a checkpoint being written is completed), the trainer
// then saves a checkpoint at the step reached, removes temporary folders and throws
// TrainingInterruptedError, which says where the checkpoint is and how to resume; its
// exitCode is 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as a shell reports.

import { constants } from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM';
export const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

export class TrainingInterruptedError extends Error {
  readonly exitCode: number;
  constructor(readonly signal: StopSignal, readonly step: number, readonly checkpoint: string | null, resumeHint: string) {
    super(checkpoint
      ? `stopped by ${signal} after step ${step}; the run is saved in ${checkpoint}. Resume with: ${resumeHint}`
      : `stopped by ${signal} after step ${step}; no output folder, so nothing was saved`);
    this.name = 'TrainingInterruptedError';
    this.exitCode = 128 + constants.signals[signal];
  }
}

/**
 * Installs handlers for SIGINT and SIGTERM that call `onSignal(signal, count)` (count: how many
 * stop signals so far) instead of ending the process; returns the function that removes them.
 */
export function watchStopSignals(onSignal: (signal: StopSignal, count: number) => void): () => void {
  let count = 0;
  const handlers = STOP_SIGNALS.map((s) => {
    const h = (): void => onSignal(s, ++count);
    process.on(s, h);
    return [s, h] as const;
  });
  return () => {
    for (const [s, h] of handlers) process.removeListener(s, h);
  };
}
