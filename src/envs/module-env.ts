/**
 * A user's environment (the EnvContract) behind the full Env interface the trainer uses. Every
 * value it returns is checked, so a broken env fails at the call that broke, with a message
 * naming the env, the call and the episode step, instead of poisoning the replay buffer.
 * It also supplies what the contract leaves optional: the time limit, the refusal to step a
 * finished episode, and an EnvSnapshot around the env's own state.
 */
import { EnvError } from './errors.js';
import type { Env, EnvContract, EnvSnapshot, EnvSpec, ResetOptions, StepResult, StepStatus } from './types.js';

/** What a module env says about itself, checked once when it is created. */
export function contractSpec(env: EnvContract, id: string): EnvSpec {
  const fail = (problem: string): never => {
    throw new EnvError(`${id} is not an environment: ${problem}. See README "Your own environment" for the contract`, true);
  };
  if (typeof env !== 'object' || env === null) fail(`it made ${env === null ? 'null' : typeof env}, not an object`);
  for (const method of ['reset', 'step'] as const) {
    if (typeof env[method] !== 'function') fail(`it has no ${method}() method`);
  }
  const { observationSize, actionCount } = env;
  if (!Number.isSafeInteger(observationSize) || observationSize < 1) fail(`observationSize must be an integer >= 1, got ${String(observationSize)}`);
  if (!Number.isSafeInteger(actionCount) || actionCount < 1) fail(`actionCount must be an integer >= 1, got ${String(actionCount)}`);
  const bounds = (name: 'observationLow' | 'observationHigh', fallback: number): number[] => {
    const given = env[name];
    if (given === undefined) return new Array<number>(observationSize).fill(fallback);
    if (!isArrayLike(given) || given.length !== observationSize || Array.from(given).some((v) => typeof v !== 'number' || Number.isNaN(v))) {
      return fail(`${name} must be ${observationSize} numbers (one per observation component; +-Infinity where unbounded)`);
    }
    return Array.from(given);
  };
  const observationLow = bounds('observationLow', -Infinity);
  const observationHigh = bounds('observationHigh', Infinity);
  const bad = observationLow.findIndex((low, i) => !(low <= observationHigh[i]!));
  if (bad >= 0) fail(`observationLow[${bad}] (${observationLow[bad]}) is above observationHigh[${bad}] (${observationHigh[bad]})`);
  const maxEpisodeSteps = env.maxEpisodeSteps ?? Infinity;
  if (maxEpisodeSteps !== Infinity && (!Number.isSafeInteger(maxEpisodeSteps) || maxEpisodeSteps < 1)) fail(`maxEpisodeSteps must be an integer >= 1, got ${String(maxEpisodeSteps)}`);
  const rewardThreshold = env.rewardThreshold ?? Infinity;
  if (typeof rewardThreshold !== 'number' || Number.isNaN(rewardThreshold)) fail(`rewardThreshold must be a number, got ${String(rewardThreshold)}`);
  if ((typeof env.getState === 'function') !== (typeof env.setState === 'function')) fail('it has only one of getState() and setState(); exact resume needs both (or neither)');
  return { id, observationSize, actionCount, maxEpisodeSteps, rewardThreshold, observationLow, observationHigh };
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || ArrayBuffer.isView(value);
}

/** Whether a module env can be checkpointed and resumed exactly. */
export function supportsExactState(env: EnvContract): boolean {
  return typeof env.getState === 'function' && typeof env.setState === 'function';
}

export class ModuleEnv implements Env {
  readonly id: string;
  readonly observationSize: number;
  readonly actionCount: number;
  readonly maxEpisodeSteps: number;
  readonly rewardThreshold: number;
  readonly observationLow: readonly number[];
  readonly observationHigh: readonly number[];
  readonly renderText?: () => string;
  readonly renderRgb?: (width: number, height: number, into?: Uint8Array) => Uint8Array;
  readonly renderFps?: number;

  private elapsedSteps = 0;
  private needsReset = true;
  private episodeCount = 0;
  private readonly status = { reward: 0, terminated: false, truncated: false };

  constructor(
    readonly inner: EnvContract,
    id: string,
  ) {
    const spec = contractSpec(inner, id);
    this.id = spec.id;
    this.observationSize = spec.observationSize;
    this.actionCount = spec.actionCount;
    this.maxEpisodeSteps = spec.maxEpisodeSteps;
    this.rewardThreshold = spec.rewardThreshold;
    this.observationLow = spec.observationLow;
    this.observationHigh = spec.observationHigh;
    if (typeof inner.renderText === 'function') this.renderText = () => this.call('renderText()', () => String(inner.renderText!()));
    if (typeof inner.renderRgb === 'function') this.renderRgb = (width, height, into) => this.call('renderRgb()', () => inner.renderRgb!(width, height, into));
    if (typeof inner.renderFps === 'number' && inner.renderFps > 0) this.renderFps = inner.renderFps;
  }

  reset(options: ResetOptions = {}): Float32Array {
    const observation = new Float32Array(this.observationSize);
    this.resetInto(observation, options);
    return observation;
  }

  resetInto(observation: Float32Array, options: ResetOptions = {}): void {
    if (options.state !== undefined) throw new EnvError(`${this.id}: reset({ state }) is only for the built-in envs`);
    const seeded = options.seed === undefined ? undefined : { seed: options.seed };
    const raw = this.call(seeded ? `reset({ seed: ${options.seed} })` : 'reset()', () => (seeded ? this.inner.reset(seeded) : this.inner.reset()));
    this.episodeCount++;
    this.elapsedSteps = 0;
    this.copyObservation(raw, observation, 'reset()');
    this.needsReset = false;
  }

  step(action: number): StepResult {
    const observation = new Float32Array(this.observationSize);
    const { reward, terminated, truncated } = this.stepInto(action, observation);
    return { observation, reward, terminated, truncated };
  }

  stepInto(action: number, observation: Float32Array): StepStatus {
    if (this.needsReset) throw new EnvError(`${this.id}: step() called ${this.episodeCount === 0 ? 'before the first reset()' : 'after the episode ended'}; call reset() to start an episode`);
    if (!Number.isInteger(action) || action < 0 || action >= this.actionCount) {
      throw new RangeError(`${this.id}: invalid action ${String(action)}; expected an integer in [0, ${this.actionCount - 1}]`);
    }
    const call = `step(${action})`;
    // Counted first, so that a failure names the step that failed.
    this.elapsedSteps++;
    const output = this.call(call, () => this.inner.step(action));
    if (typeof output !== 'object' || output === null) throw this.failure(call, `returned ${String(output)}, not { observation, reward, terminated, truncated }`);
    this.copyObservation(output.observation, observation, call);
    const { reward, terminated } = output;
    if (typeof reward !== 'number' || !Number.isFinite(reward)) throw this.failure(call, `returned reward ${String(reward)}; rewards must be finite numbers`);
    if (typeof terminated !== 'boolean') throw this.failure(call, `returned terminated ${String(terminated)}; it must be true or false`);
    const truncatedByEnv = output.truncated ?? false;
    if (typeof truncatedByEnv !== 'boolean') throw this.failure(call, `returned truncated ${String(truncatedByEnv)}; it must be true, false or absent`);
    const truncated = !terminated && (truncatedByEnv || this.elapsedSteps >= this.maxEpisodeSteps);
    this.needsReset = terminated || truncated;
    const status = this.status;
    status.reward = reward;
    status.terminated = terminated;
    status.truncated = truncated;
    return status;
  }

  getState(): EnvSnapshot {
    const snapshot: EnvSnapshot = { state: [], elapsedSteps: this.elapsedSteps, rngState: [], needsReset: this.needsReset };
    if (supportsExactState(this.inner)) snapshot.custom = this.call('getState()', () => this.inner.getState!());
    return snapshot;
  }

  setState(saved: EnvSnapshot): void {
    if (!supportsExactState(this.inner)) {
      throw new EnvError(`${this.id} has no getState()/setState(), so a run on it cannot continue exactly from a checkpoint; add both to the env (README "Your own environment") or start a new run`);
    }
    this.call('setState()', () => (this.inner.setState as (value: unknown) => void)(saved.custom));
    this.elapsedSteps = saved.elapsedSteps;
    this.needsReset = Boolean(saved.needsReset);
    this.episodeCount = Math.max(this.episodeCount, 1);
  }

  /** Runs one call into the user's env, turning what it throws into an EnvError that says where. */
  private call<T>(what: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (error instanceof EnvError) throw error;
      throw this.failure(what, `threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private failure(call: string, problem: string): EnvError {
    const where = call.startsWith('reset') ? `episode ${this.episodeCount + 1}` : `episode ${this.episodeCount}, step ${this.elapsedSteps}`;
    return new EnvError(`env ${this.id}: ${call} ${problem} (${where})`);
  }

  private copyObservation(raw: unknown, into: Float32Array, call: string): void {
    if (!isArrayLike(raw)) throw this.failure(call, `returned observation ${String(raw)}; it must be an array of ${this.observationSize} numbers`);
    if (raw.length !== this.observationSize) throw this.failure(call, `returned an observation of ${raw.length} values; the env declares observationSize ${this.observationSize}`);
    for (let i = 0; i < raw.length; i++) {
      const value = raw[i];
      if (typeof value !== 'number' || !Number.isFinite(value)) throw this.failure(call, `returned observation[${i}] = ${String(value)}; observations must be finite numbers`);
      into[i] = value;
    }
  }
}
