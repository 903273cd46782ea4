/**
 * checkEnv: steps an environment the way a run will and reports every breach of the contract
 * (as Stable-Baselines3's check_env does), plus which features the env supports. It calls the
 * env's own methods, not rlsweep's checked wrapper, so it sees what the env itself does.
 */
import { Rng } from '../util/random.js';
import { parseEnvRef } from './env-ref.js';
import { EnvError } from './errors.js';
import { makeEnv } from './index.js';
import { prepareEnv } from './load-env.js';
import { ModuleEnv, contractSpec, supportsExactState } from './module-env.js';
import { canRenderRgb, renderRgb } from './render-rgb.js';
import type { Env, EnvContract, EnvSpec, EnvStepOutput } from './types.js';

export interface CheckEnvOptions {
  /** Seed of the episodes and of the random actions. Default 0. */
  seed?: number;
  /** Most steps of random play checked (over several episodes). Default 2000. */
  steps?: number;
}

export interface EnvFeatures {
  /** getState/setState that round-trip, so a run resumes bit-identically from a checkpoint. */
  exactResume: boolean;
  /** RGB frames: the evaluation GIF (eval/policy) and --record. */
  gif: boolean;
  /** Text frames: --view. */
  textView: boolean;
}

export interface CheckEnvReport {
  env: string;
  /** No problem found. */
  ok: boolean;
  /** Breaches of the contract, one sentence each. */
  problems: string[];
  /** Valid but worth knowing (no time limit, a check that could not run). */
  notes: string[];
  features: EnvFeatures;
  stepsChecked: number;
}

interface Step {
  observation: number[];
  reward: number;
  terminated: boolean;
  truncated: boolean;
}

/** At most this many problems are listed. */
const MAX_PROBLEMS = 20;

/**
 * Checks an env: one named as the `env` option names it (loaded first), a registered id, or an
 * env object (EnvContract). Never throws for a broken env: what breaks is in `problems`.
 */
export async function checkEnv(env: string | EnvContract, options: CheckEnvOptions = {}): Promise<CheckEnvReport> {
  const seed = options.seed ?? 0;
  const stepBudget = options.steps ?? 2000;
  let label: string;
  let wrapped: Env | undefined;
  let raw: EnvContract;
  // Gymnasium's envs only warn when stepped after the end (its PassiveEnvChecker), so for them that is a note, not a problem.
  const gymnasiumRules = typeof env === 'string' && parseEnvRef(env).kind === 'python';
  if (typeof env === 'string') {
    label = env;
    await prepareEnv(env);
    wrapped = makeEnv(env);
    raw = wrapped instanceof ModuleEnv ? wrapped.inner : wrapped;
  } else {
    raw = env;
    label = typeof env.id === 'string' ? env.id : 'the env';
  }
  const report: CheckEnvReport = { env: label, ok: false, problems: [], notes: [], features: { exactResume: false, gif: false, textView: false }, stepsChecked: 0 };
  // One line per kind of problem (its text without the numbers), so that a problem of every step does not hide the others.
  const kinds = new Set<string>();
  const problem = (text: string): void => {
    const kind = text.replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/g, '#');
    if (kinds.has(kind) || report.problems.length >= MAX_PROBLEMS) return;
    kinds.add(kind);
    report.problems.push(text);
  };
  let spec: EnvSpec;
  try {
    spec = contractSpec(raw, label);
    wrapped ??= new ModuleEnv(raw, label);
  } catch (error) {
    problem((error as Error).message);
    return report;
  }
  if (spec.maxEpisodeSteps === Infinity)
    report.notes.push('no maxEpisodeSteps: episodes end only when the env says so (terminated or truncated); evaluation by episodes never ends on an episode that does not');
  const checker = new Checker(raw, spec, problem, gymnasiumRules);
  try {
    checker.randomPlay(seed, stepBudget);
    report.stepsChecked = checker.stepsTaken;
    checker.sameSeedSameEpisode(seed);
    checker.refusesBadActions(seed);
    const ended = checker.refusesStepAfterEnd(seed, report.notes);
    if (!ended) report.notes.push(`no episode ended within ${checker.endSearchSteps} steps of random play, so stepping after the end was not checked`);
    report.features.exactResume = supportsExactState(raw) && checker.stateRoundTrips(seed);
    if (!supportsExactState(raw)) report.notes.push('no getState()/setState(): runs on it cannot resume exactly from a checkpoint (--resume refuses them)');
  } catch (error) {
    problem(error instanceof Error ? error.message : String(error));
  }
  report.features.textView = checkRenderer('renderText()', problem, () => {
    if (!wrapped!.renderText) return false;
    wrapped!.reset({ seed });
    const frame = wrapped!.renderText();
    if (typeof frame !== 'string' || frame.length === 0) throw new Error(`returned ${JSON.stringify(frame)}, not a non-empty string`);
    return true;
  });
  report.features.gif = checkRenderer('renderRgb()', problem, () => {
    if (!canRenderRgb(wrapped!)) return false;
    wrapped!.reset({ seed });
    renderRgb(wrapped!, 64, 40);
    return true;
  });
  report.ok = report.problems.length === 0;
  return report;
}

function checkRenderer(name: string, problem: (text: string) => void, body: () => boolean): boolean {
  try {
    return body();
  } catch (error) {
    problem(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

class Checker {
  stepsTaken = 0;
  /** Steps of random play spent looking for an episode's end. */
  readonly endSearchSteps: number;

  constructor(
    private readonly env: EnvContract,
    private readonly spec: EnvSpec,
    private readonly problem: (text: string) => void,
    private readonly gymnasiumRules: boolean,
  ) {
    this.endSearchSteps = Number.isFinite(spec.maxEpisodeSteps) ? spec.maxEpisodeSteps + 1 : 10_000;
  }

  private describe(what: string, error: unknown): string {
    return `${what} threw: ${error instanceof Error ? error.message : String(error)}`;
  }

  /** Checks an observation; returns it as plain numbers. `where` says which call returned it. */
  private observation(value: unknown, where: string): number[] {
    const { observationSize, observationLow, observationHigh } = this.spec;
    if (!(Array.isArray(value) || ArrayBuffer.isView(value))) {
      this.problem(`${where} returned observation ${String(value)}; it must be an array (or typed array) of ${observationSize} numbers`);
      return [];
    }
    const values = Array.from(value as ArrayLike<unknown>);
    if (values.length !== observationSize) this.problem(`${where} returned an observation of ${values.length} values; observationSize says ${observationSize}`);
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) this.problem(`${where} returned observation[${i}] = ${String(v)}; observations must be finite numbers`);
      else if (i < observationSize && (v < observationLow[i]! || v > observationHigh[i]!))
        this.problem(`${where} returned observation[${i}] = ${v}, outside the declared bounds [${observationLow[i]}, ${observationHigh[i]}]`);
    });
    return values as number[];
  }

  private reset(seed: number | undefined, where: string): number[] {
    let value: unknown;
    try {
      value = seed === undefined ? this.env.reset() : this.env.reset({ seed });
    } catch (error) {
      throw new EnvError(this.describe(where, error));
    }
    return this.observation(value, where);
  }

  private step(action: number, where: string): Step {
    let output: EnvStepOutput;
    try {
      output = this.env.step(action);
    } catch (error) {
      throw new EnvError(this.describe(where, error));
    }
    this.stepsTaken++;
    if (typeof output !== 'object' || output === null) {
      this.problem(`${where} returned ${String(output)}, not { observation, reward, terminated, truncated }`);
      return { observation: [], reward: 0, terminated: true, truncated: false };
    }
    const observation = this.observation(output.observation, where);
    if (typeof output.reward !== 'number' || !Number.isFinite(output.reward)) this.problem(`${where} returned reward ${String(output.reward)}; rewards must be finite numbers`);
    if (typeof output.terminated !== 'boolean') this.problem(`${where} returned terminated ${String(output.terminated)}; it must be true or false`);
    if (output.truncated !== undefined && typeof output.truncated !== 'boolean') this.problem(`${where} returned truncated ${String(output.truncated)}; it must be true, false or absent`);
    return { observation, reward: output.reward, terminated: output.terminated === true, truncated: output.truncated === true };
  }

  /** Random actions for `budget` steps, resetting when an episode ends or reaches the time limit. */
  randomPlay(seed: number, budget: number): void {
    const rng = new Rng(seed);
    let episode = 1;
    let length = 0;
    this.reset(seed, `reset({ seed: ${seed} })`);
    for (let i = 0; i < budget; i++) {
      const action = rng.nextInt(this.spec.actionCount);
      const result = this.step(action, `step(${action}) at episode ${episode}, step ${length + 1}`);
      length++;
      if (result.terminated || result.truncated || length >= this.spec.maxEpisodeSteps) {
        episode++;
        length = 0;
        this.reset(undefined, `reset() before episode ${episode}`);
      }
    }
  }

  /** Plays the actions from a seeded reset; the steps it saw. */
  private episode(seed: number, actions: readonly number[]): { first: number[]; steps: Step[] } {
    const first = this.reset(seed, `reset({ seed: ${seed} })`);
    const steps: Step[] = [];
    for (const action of actions) {
      const result = this.step(action, `step(${action})`);
      steps.push(result);
      if (result.terminated || result.truncated) break;
    }
    return { first, steps };
  }

  sameSeedSameEpisode(seed: number): void {
    const rng = new Rng(seed + 1);
    const actions = Array.from({ length: Math.min(200, this.endSearchSteps) }, () => rng.nextInt(this.spec.actionCount));
    const a = this.episode(seed, actions);
    const b = this.episode(seed, actions);
    if (JSON.stringify(a.first) !== JSON.stringify(b.first)) {
      this.problem(`reset({ seed: ${seed} }) twice gave different first observations (${JSON.stringify(a.first)} then ${JSON.stringify(b.first)}); the same seed must give the same episode`);
      return;
    }
    const differs = a.steps.findIndex((step, i) => JSON.stringify(step) !== JSON.stringify(b.steps[i]));
    if (differs >= 0 || a.steps.length !== b.steps.length) {
      const at = differs >= 0 ? differs + 1 : Math.min(a.steps.length, b.steps.length) + 1;
      this.problem(`reset({ seed: ${seed} }) and the same actions gave a different episode from step ${at} on; the same seed must give the same episode (seed the env's generator in reset)`);
    }
  }

  refusesBadActions(seed: number): void {
    const accepted: string[] = [];
    for (const action of [-1, this.spec.actionCount, 0.5]) {
      this.reset(seed, `reset({ seed: ${seed} })`);
      try {
        this.env.step(action);
        accepted.push(`step(${action})`);
      } catch {
        // Refused, as it must be.
      }
    }
    if (accepted.length > 0)
      this.problem(`${accepted.join(', ')} ${accepted.length > 1 ? 'were' : 'was'} accepted; actions are the integers 0..${this.spec.actionCount - 1}, and any other must throw`);
  }

  /** Whether an episode ended (so the check ran). */
  refusesStepAfterEnd(seed: number, notes: string[]): boolean {
    const rng = new Rng(seed + 2);
    this.reset(seed, `reset({ seed: ${seed} })`);
    for (let i = 0; i < this.endSearchSteps; i++) {
      const result = this.step(rng.nextInt(this.spec.actionCount), `step() at step ${i + 1}`);
      if (result.terminated || result.truncated) {
        let accepted = true;
        try {
          this.env.step(0);
        } catch {
          accepted = false;
        }
        if (accepted && this.gymnasiumRules) notes.push('step() after the episode ended was accepted, as Gymnasium envs do; rlsweep never steps a finished episode');
        else if (accepted)
          this.problem(
            `step(0) after the episode ended (${result.terminated ? 'terminated' : 'truncated'}) was accepted; it must throw until reset() (rlsweep's wrapper refuses it, but other callers of the env would not know)`,
          );
        return true;
      }
      if (i + 1 >= this.spec.maxEpisodeSteps) {
        notes.push(`the env does not truncate its own episodes at maxEpisodeSteps (${this.spec.maxEpisodeSteps}); rlsweep applies the limit, so this is fine in rlsweep`);
        return true;
      }
    }
    return false;
  }

  /** Saves mid-episode, plays on, restores, plays the same actions: the same steps must follow. */
  stateRoundTrips(seed: number): boolean {
    const env = this.env as Required<Pick<EnvContract, 'getState'>> & { setState(saved: unknown): void };
    const rng = new Rng(seed + 3);
    this.reset(seed, `reset({ seed: ${seed} })`);
    for (let i = 0; i < 5; i++) {
      const result = this.step(rng.nextInt(this.spec.actionCount), 'step()');
      if (result.terminated || result.truncated) this.reset(undefined, 'reset()');
    }
    let saved: unknown;
    try {
      saved = JSON.parse(JSON.stringify(env.getState()));
    } catch (error) {
      this.problem(this.describe('getState() (or turning its value into JSON)', error));
      return false;
    }
    const actions = Array.from({ length: 20 }, () => rng.nextInt(this.spec.actionCount));
    const play = (): Step[] => {
      const steps: Step[] = [];
      for (const action of actions) {
        const result = this.step(action, 'step()');
        steps.push(result);
        if (result.terminated || result.truncated) break;
      }
      return steps;
    };
    const original = play();
    try {
      env.setState(JSON.parse(JSON.stringify(saved)));
    } catch (error) {
      this.problem(this.describe('setState(getState())', error));
      return false;
    }
    if (JSON.stringify(env.getState()) !== JSON.stringify(saved)) {
      this.problem('getState() right after setState(saved) differs from saved; setState must restore the state exactly');
      return false;
    }
    const replayed = play();
    if (JSON.stringify(original) !== JSON.stringify(replayed)) {
      this.problem('after setState(getState()), the same actions gave different steps; the state must include everything that decides the future (the random generator too)');
      return false;
    }
    return true;
  }
}

/** The report as lines for a terminal: problems, notes, features. */
export function formatCheckEnvReport(report: CheckEnvReport): string[] {
  const lines = [report.ok ? `${report.env}: no problems found (${report.stepsChecked} steps of random play)` : `${report.env}: ${report.problems.length} problem(s):`];
  for (const text of report.problems) lines.push(`  problem: ${text}`);
  for (const text of report.notes) lines.push(`  note: ${text}`);
  const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
  lines.push(`  exact resume: ${yesNo(report.features.exactResume)}; evaluation GIFs and --record: ${yesNo(report.features.gif)}; --view: ${yesNo(report.features.textView)}`);
  return lines;
}
