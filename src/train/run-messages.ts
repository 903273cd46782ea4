/**
 * Messages a training run sends to a parent process (a sweep) over the IPC channel,
 * so the parent shows progress without parsing logs.
 */
export type RunProgressMessage =
  | { type: 'started'; runDir: string; totalSteps: number; engine: string }
  | { type: 'progress'; step: number; totalSteps: number; stepsPerSecond: number; episodes: number; lastEpisodeReturn: number | null; loss: number | null }
  | { type: 'evaluation'; step: number; returnMean: number; returnStd: number; avgMaxQ: number }
  /** The run's error (sent before it exits 1 or 2, so a parent learns the cause even when stderr cannot be written); step null: before training. */
  | { type: 'failed'; step: number | null; reason: string }
  | { type: 'finished'; step: number; totalSteps: number; interrupted: boolean; finalReturnMean: number | null; bestReturnMean: number | null }
  /**
   * The run stopped where --stop-at-step told it (before its last step): a checkpoint at `step`
   * (`checkpoint`, its folder) continues it exactly with --resume. The return means are of the
   * evaluations so far, the last one at `step` when `step` is an evaluation step. Exit code EXIT_PAUSED follows.
   */
  | { type: 'paused'; step: number; totalSteps: number; checkpoint: string; finalReturnMean: number | null; bestReturnMean: number | null };

/**
 * The exit code of a run that paused at --stop-at-step (beside 0 done, 1 error, 2 bad input,
 * 130 interrupted): sysexits' EX_TEMPFAIL, "not done yet; continue later".
 */
export const EXIT_PAUSED = 75;

export type ProgressReporter = (message: RunProgressMessage) => void;

/** Sends to the parent when this process was forked with an IPC channel; otherwise does nothing. */
export function ipcReporter(): ProgressReporter {
  return (message) => {
    // The callback takes a send error (the parent died between the check and the write):
    // without it Node raises an 'error' event that kills the run; 'disconnect' stops it cleanly.
    if (process.send && process.connected) process.send(message, undefined, {}, () => {});
  };
}

export function isRunProgressMessage(value: unknown): value is RunProgressMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'started' || type === 'progress' || type === 'evaluation' || type === 'finished' || type === 'paused' || type === 'failed';
}
