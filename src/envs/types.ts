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
  /** A module env's own state (its getState() value), JSON-safe; absent for the built-in envs. */
  custom?: unknown;
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
  /** The current frame drawn in plain ASCII, lines of equal width joined by '\n'. Optional: without it, --view is refused. */
  renderText?(): string;
  /**
   * The current frame as row-major RGB bytes (3 per pixel, row 0 at the top), written into
   * `into` when given. Optional: without it (and for envs the built-in renderer does not
   * know), the evaluation GIF and --record are skipped.
   */
  renderRgb?(width: number, height: number, into?: Uint8Array): Uint8Array;
  /** Frames per second at which an episode looks real-time (Gymnasium's render_fps); 30 when absent. */
  readonly renderFps?: number;
}

/** What a module env's `step` returns: Gymnasium's (observation, reward, terminated, truncated). */
export interface EnvStepOutput {
  observation: ArrayLike<number>;
  reward: number;
  terminated: boolean;
  /** The env's own time limit ended the episode; rlsweep adds one when `maxEpisodeSteps` is given. */
  truncated?: boolean;
}

/**
 * The contract of a user's environment, as a module exports it (a class with a no-argument
 * constructor, or a function returning a new env). Gymnasium's Env in TypeScript: every
 * built-in env and every `BaseEnv` subclass fits it. rlsweep checks every value it returns.
 */
export interface EnvContract {
  /** A display name; the module reference is used when absent. */
  readonly id?: string;
  readonly observationSize: number;
  /** Actions are the integers 0 .. actionCount - 1. */
  readonly actionCount: number;
  /** Bounds per observation component (Gymnasium's observation_space); unbounded (+-Infinity) when absent. */
  readonly observationLow?: readonly number[];
  readonly observationHigh?: readonly number[];
  /** Time limit: episodes are truncated after this many steps. None when absent. */
  readonly maxEpisodeSteps?: number;
  /** Mean return at which the task counts as solved (for reports); Infinity when absent. */
  readonly rewardThreshold?: number;
  /** Starts an episode; the same seed must give the same episode. */
  reset(options?: { seed?: number }): ArrayLike<number>;
  step(action: number): EnvStepOutput;
  /** Exact resume from checkpoints needs both: a JSON-safe value that setState restores exactly (generator included). */
  getState?(): unknown;
  setState?(saved: never): void;
  renderText?(): string;
  renderRgb?(width: number, height: number, into?: Uint8Array): Uint8Array;
  readonly renderFps?: number;
}
