/** The static description of an environment: what `envSpec(id)` returns without building one. */
export interface EnvSpec {
  readonly id: string;
  /** Length of every observation vector. */
  readonly observationSize: number;
  /** Actions are the integers 0 .. actionCount - 1. */
  readonly actionCount: number;
  /** Episodes are truncated after this many steps (Gymnasium's TimeLimit). */
  readonly maxEpisodeSteps: number;
  /** Mean episode return at which the task counts as solved (Gymnasium's reward_threshold). */
  readonly rewardThreshold: number;
  /** Gymnasium's observation_space bounds per component; Infinity where it is unbounded (float32 max there). */
  readonly observationLow: readonly number[];
  readonly observationHigh: readonly number[];
}

export interface StepResult {
  /** A fresh array on every step: callers may keep it. */
  observation: Float32Array;
  reward: number;
  /** The MDP reached a terminal state. */
  terminated: boolean;
  /** The time limit ended the episode (never set together with `terminated`). */
  truncated: boolean;
}

/** What `stepInto` reports. The env owns the object and overwrites it on its next step. */
export interface StepStatus {
  readonly reward: number;
  readonly terminated: boolean;
  readonly truncated: boolean;
}

export interface ResetOptions {
  /** Reseed the env's own generator before drawing the initial state. */
  seed?: number;
  /** Start from exactly this internal state instead of drawing one (like setting Gymnasium's `env.unwrapped.state`). */
  state?: ArrayLike<number>;
}

/** Everything needed to resume an env exactly, e.g. from a checkpoint. Plain JSON-safe data. */
export interface EnvSnapshot {
  /** Internal physical state, e.g. [position, velocity] for MountainCar. */
  state: number[];
  elapsedSteps: number;
  /** The env generator's words (see Rng.getState). */
  rngState: number[];
  /** True before the first reset and after an episode ended. */
  needsReset: boolean;
}

export interface Env extends EnvSpec {
  /** Starts an episode and returns its first observation. */
  reset(options?: ResetOptions): Float32Array;
  step(action: number): StepResult;
  /**
   * `step` for hot loops, without a new array or object per step: writes the next
   * observation into `observation` (at least observationSize long) and returns the env's
   * own status object, valid until its next step.
   */
  stepInto(action: number, observation: Float32Array): StepStatus;
  /** `reset` into a caller's array instead of a new one. */
  resetInto(observation: Float32Array, options?: ResetOptions): void;
  /** A copy of the internal state and the bookkeeping around it. */
  getState(): EnvSnapshot;
  /** Restores a snapshot exactly: the env then continues as the original would have. */
  setState(saved: EnvSnapshot): void;
  /** The current frame drawn in plain ASCII, lines of equal width joined by '\n'. */
  renderText(): string;
}
