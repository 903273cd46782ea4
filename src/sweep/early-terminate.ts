/**
 * The sweep file's early_terminate block, normalised: the rungs, in environment steps, at which
 * a trial scheduler (ASHA, Hyperband) compares configurations and promotes the best 1/eta of
 * them. Rungs form a ladder min_steps * eta^k below max_steps; a rung's metric is the
 * evaluation the run makes at that step, so every rung lies on an evaluation.
 *
 * The sweep file takes Ray Tune's ASHA spelling or W&B's hyperband one:
 *   early_terminate: { type: asha, min_steps: 20000, reduction_factor: 3, max_steps: 180000, brackets: 1 }
 *   early_terminate: { type: hyperband, min_iter: 1, eta: 3 }          # W&B: an iter is one evaluation
 *   early_terminate: { type: hyperband, max_iter: 27, s: 2, eta: 3 }   # W&B: s rungs below max_iter
 * W&B counts iterations as logged values of the metric; rlsweep's metric is logged at each
 * evaluation, every evalEvery environment steps, so iter k is step k * evalEvery.
 */

export const EARLY_TERMINATE_TYPES = ['asha', 'hyperband'] as const;
export type EarlyTerminateType = (typeof EARLY_TERMINATE_TYPES)[number];

/** Every key an early_terminate block may hold (both types take the same ones). */
export const EARLY_TERMINATE_KEYS = ['type', 'min_steps', 'min_iter', 'max_steps', 'max_iter', 'reduction_factor', 'eta', 's', 'brackets', 'strict'] as const;

/** Ray Tune's and W&B's default reduction factor (eta). */
export const DEFAULT_REDUCTION_FACTOR = 3;

export interface EarlyTerminate {
  type: EarlyTerminateType;
  /** The lowest rung, in environment steps (a multiple of evalEvery, at or after trainStart). */
  minSteps: number;
  /**
   * Rungs lie below this step; the default is the trials' steps. A configuration that passes
   * the last rung runs to the end of its steps.
   */
  maxSteps: number;
  /** eta: each rung keeps the best 1/reductionFactor of the configurations that reached it; an integer >= 2. */
  reductionFactor: number;
  /**
   * Brackets, each starting its configurations at a later rung (bracket b at rungSteps(.., b)[0]).
   * asha: 1 unless given (Ray's default); hyperband: one per rung plus one that runs straight
   * to the end (Li et al.'s s_max + 1) unless given.
   */
  brackets: number;
  /** "file:line:col" of the early_terminate key, for messages. */
  at: string;
}

/**
 * The rungs of a bracket, ascending, in environment steps: minSteps * eta^(bracket + k) for
 * k = 0, 1, ... while below maxSteps. Bracket 0 starts at minSteps; a bracket past the ladder
 * has no rungs (its configurations run to the end).
 */
export function rungSteps(schedule: Pick<EarlyTerminate, 'minSteps' | 'maxSteps' | 'reductionFactor'>, bracket = 0): number[] {
  const { minSteps, maxSteps, reductionFactor } = schedule;
  if (!(minSteps > 0) || !(reductionFactor >= 2) || !Number.isInteger(bracket) || bracket < 0) {
    throw new RangeError(`rungSteps: needs minSteps > 0, reductionFactor >= 2 and a bracket >= 0, got ${minSteps}, ${reductionFactor}, ${bracket}`);
  }
  const rungs: number[] = [];
  for (let rung = minSteps * reductionFactor ** bracket; rung < maxSteps; rung *= reductionFactor) rungs.push(rung);
  return rungs;
}
