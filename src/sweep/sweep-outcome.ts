/** How the trials of a sweep run ended, as each runner (local, batch, adaptive) reports it to the final report. */
import type { BatchSubmission } from './executor.js';
import type { StopHandlers } from '../util/signals.js';
import type { TrialOutcomes } from './trial.js';

/** The same handler for every request: a phase that stops the same way however often it is asked. */
export function eachRequest(handler: (reason: string, count: number) => void): StopHandlers {
  return { graceful: (reason) => handler(reason, 1), immediate: handler };
}

/** How the trials of this run ended. */
export interface TrialsOutcome extends TrialOutcomes {
  leftRunning: string[];
  /** Why trials failed, as this process saw it (their status.json may not have taken it: a full disk). */
  causes?: Map<string, string>;
  submission?: BatchSubmission;
  detached?: boolean;
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
