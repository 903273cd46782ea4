/**
 * Trial schedulers (Ray Tune's term): given how configurations fared at their rungs,
 * which one to run next. FIFO runs every configuration to the end; ASHA is
 * promotion-based asynchronous successive halving (Li et al. 2020, "A System for
 * Massively Parallel Hyperparameter Tuning", Algorithm 2): rungs at minSteps*eta^k
 * environment steps up to maxSteps; when a slot frees, the best configuration paused at
 * the highest rung that is in the top floor(n/eta) of the n that reached that rung is
 * promoted, else a new configuration starts. Hyperband (the same paper's asynchronous
 * Hyperband) is several ASHA brackets whose lowest rung is minSteps*eta^s, new
 * configurations taking the brackets in turn.
 *
 * The unit is a configuration (all its seeds run to a rung; its score is their mean,
 * oriented so that larger is better). The state is a pure reduction of the ordered
 * events (the sweep's journal), so a killed sweep rebuilds it exactly.
 */

import type { EarlyTerminate } from '../early-terminate.js';
import { rungSteps } from '../early-terminate.js';

/**
 * A scheduler's settings. `maxSteps` is where every configuration ends (the trials' steps);
 * rungs lie at minSteps * eta^k below `rungLimit` (default maxSteps), as rungSteps lays them.
 */
export type SchedulerSettings = { type: 'fifo'; maxSteps: number } | { type: 'asha' | 'hyperband'; minSteps: number; maxSteps: number; eta: number; brackets?: number; rungLimit?: number };

/** The scheduler of a sweep: its early_terminate block, or FIFO without one; `steps`: the trials' steps. */
export function schedulerSettings(earlyTerminate: EarlyTerminate | undefined, steps: number): SchedulerSettings {
  if (!earlyTerminate) return { type: 'fifo', maxSteps: steps };
  const { type, minSteps, maxSteps, reductionFactor, brackets } = earlyTerminate;
  return { type, minSteps, maxSteps: steps, eta: reductionFactor, brackets, rungLimit: Math.min(maxSteps, steps) };
}

export type SchedulerEvent =
  /** A new configuration from the searcher starts (toward the lowest rung of its bracket). */
  | { type: 'started'; configIndex: number }
  /** Every seed of the configuration reached `step` (a rung, or the end); score null: it failed. */
  | { type: 'result'; configIndex: number; step: number; score: number | null }
  /** A paused configuration resumes toward `step`. */
  | { type: 'promoted'; configIndex: number; step: number }
  /** A paused configuration is stopped for good at `step` (where it paused). */
  | { type: 'stopped'; configIndex: number; step: number };

/** Where a configuration stands: running toward `target`, paused or stopped at `step`, done, or failed. */
export type ConfigPhase = 'running' | 'paused' | 'stopped' | 'done' | 'failed';

export interface ConfigStanding {
  configIndex: number;
  bracket: number;
  phase: ConfigPhase;
  /** The last rung it reached (0 before the first). */
  step: number;
  /** The step it runs toward (while running). */
  target: number;
  /** Its score at each rung it reached. */
  scores: Map<number, number>;
}

/** What to do with a free slot. */
export type SchedulerAction =
  | { type: 'promote'; configIndex: number; step: number }
  | { type: 'new' }
  /** Nothing left to run: stop these paused configurations at the rung they reached. */
  | { type: 'stop'; configs: Array<{ configIndex: number; step: number }> }
  /** Nothing to start until a running configuration reports. */
  | { type: 'wait' }
  /** Everything has ended. */
  | { type: 'finished' };

/** The brackets' rungs in environment steps, each ending at maxSteps (FIFO: one bracket, one rung). */
export function bracketRungs(settings: SchedulerSettings): number[][] {
  if (settings.type === 'fifo') return [[settings.maxSteps]];
  const { minSteps, maxSteps, eta } = settings;
  const ladder = { minSteps, maxSteps: settings.rungLimit ?? maxSteps, reductionFactor: eta };
  return Array.from({ length: settings.brackets ?? 1 }, (_, bracket) => [...rungSteps(ladder, bracket), maxSteps]);
}

/** The largest score first, then the earlier configuration (deterministic ties). */
function byScore(a: { configIndex: number; score: number }, b: { configIndex: number; score: number }): number {
  return b.score - a.score || a.configIndex - b.configIndex;
}

export class SchedulerState {
  readonly rungs: number[][];
  private readonly eta: number;
  private readonly configs = new Map<number, ConfigStanding>();
  /** Per bracket, per rung step: the scores that reached it, in arrival order. */
  private readonly rungResults: Array<Map<number, Array<{ configIndex: number; score: number }>>>;
  private started = 0;

  constructor(readonly settings: SchedulerSettings) {
    this.rungs = bracketRungs(settings);
    this.eta = settings.type === 'fifo' ? Number.POSITIVE_INFINITY : settings.eta;
    this.rungResults = this.rungs.map(() => new Map());
  }

  /** The state after `events`, in order. */
  static replay(settings: SchedulerSettings, events: readonly SchedulerEvent[]): SchedulerState {
    const state = new SchedulerState(settings);
    for (const event of events) state.apply(event);
    return state;
  }

  standing(configIndex: number): Readonly<ConfigStanding> | undefined {
    return this.configs.get(configIndex);
  }

  standings(): ReadonlyArray<Readonly<ConfigStanding>> {
    return [...this.configs.values()];
  }

  /** The rung a configuration runs to next (its first rung when it has none yet). */
  nextRung(configIndex: number): number {
    const config = this.require(configIndex);
    const rungs = this.rungs[config.bracket]!;
    return rungs.find((step) => step > config.step) ?? rungs.at(-1)!;
  }

  /** The bracket the next new configuration goes to. */
  nextBracket(): number {
    return this.started % this.rungs.length;
  }

  apply(event: SchedulerEvent): void {
    switch (event.type) {
      case 'started': {
        if (this.configs.has(event.configIndex)) throw new Error(`configuration ${event.configIndex} started twice`);
        const bracket = this.nextBracket();
        this.started++;
        this.configs.set(event.configIndex, { configIndex: event.configIndex, bracket, phase: 'running', step: 0, target: this.rungs[bracket]![0]!, scores: new Map() });
        return;
      }
      case 'result': {
        const config = this.require(event.configIndex);
        config.step = event.step;
        if (event.score === null) {
          config.phase = 'failed';
          return;
        }
        config.scores.set(event.step, event.score);
        const rungs = this.rungs[config.bracket]!;
        config.phase = event.step >= rungs.at(-1)! ? 'done' : 'paused';
        const results = this.rungResults[config.bracket]!;
        const atRung = results.get(event.step) ?? [];
        atRung.push({ configIndex: event.configIndex, score: event.score });
        results.set(event.step, atRung);
        return;
      }
      case 'promoted': {
        const config = this.require(event.configIndex);
        config.phase = 'running';
        config.target = event.step;
        return;
      }
      case 'stopped': {
        const config = this.require(event.configIndex);
        config.phase = 'stopped';
        return;
      }
    }
  }

  /**
   * A paused configuration to promote: scanning the brackets in order and each one's rungs
   * from the highest, the best one paused at a rung that is in the top floor(n/eta) there.
   */
  promotable(): { configIndex: number; step: number } | undefined {
    for (let bracket = 0; bracket < this.rungs.length; bracket++) {
      const rungs = this.rungs[bracket]!;
      for (let k = rungs.length - 2; k >= 0; k--) {
        const reached = this.rungResults[bracket]!.get(rungs[k]!) ?? [];
        const top = [...reached].sort(byScore).slice(0, Math.floor(reached.length / this.eta));
        const candidate = top.find(({ configIndex }) => {
          const config = this.configs.get(configIndex)!;
          return config.phase === 'paused' && config.step === rungs[k];
        });
        if (candidate) return { configIndex: candidate.configIndex, step: rungs[k + 1]! };
      }
    }
    return undefined;
  }

  /** What a free slot does, when the searcher has (`searcherExhausted` false) or has not more configurations. */
  nextAction(searcherExhausted: boolean): SchedulerAction {
    const promotion = this.promotable();
    if (promotion) return { type: 'promote', ...promotion };
    if (!searcherExhausted) return { type: 'new' };
    const standings = [...this.configs.values()];
    if (standings.some((config) => config.phase === 'running')) return { type: 'wait' };
    // No result can come that would make a paused configuration promotable.
    const paused = standings.filter((config) => config.phase === 'paused').map(({ configIndex, step }) => ({ configIndex, step }));
    return paused.length > 0 ? { type: 'stop', configs: paused } : { type: 'finished' };
  }

  private require(configIndex: number): ConfigStanding {
    const config = this.configs.get(configIndex);
    if (!config) throw new Error(`configuration ${configIndex} has no "started" event before its others`);
    return config;
  }
}

/** What `configurations` new configurations cost in one bracket: per rung how many reach it, expected and at most, and the environment steps per seed. */
export interface BracketBudget {
  bracket: number;
  rungs: Array<{ step: number; expected: number; atMost: number }>;
  expectedSteps: number;
  maxSteps: number;
}

/**
 * The budget of `configurations` configurations, per bracket. Expected: n_{k+1} = floor(n_k/eta),
 * as synchronous successive halving keeps. At most: asynchronous promotion can promote a
 * configuration that led its rung early and was overtaken later, but each arrival at a rung
 * adds at most one promotion and none comes before eta arrived, so n_{k+1} <= n_k - (eta - 1).
 */
export function schedulerBudget(settings: SchedulerSettings, configurations: number): BracketBudget[] {
  const brackets = bracketRungs(settings);
  const eta = settings.type === 'fifo' ? 1 : settings.eta;
  return brackets.map((rungs, bracket) => {
    // Round-robin: bracket b gets the configurations b, b+B, b+2B, ...
    const share = Math.floor(configurations / brackets.length) + (bracket < configurations % brackets.length ? 1 : 0);
    let expected = share;
    let atMost = share;
    let expectedSteps = 0;
    let maxSteps = 0;
    let previous = 0;
    const table: BracketBudget['rungs'] = [];
    for (const step of rungs) {
      table.push({ step, expected, atMost });
      expectedSteps += expected * (step - previous);
      maxSteps += atMost * (step - previous);
      previous = step;
      expected = Math.floor(expected / eta);
      atMost = Math.max(0, atMost - (eta - 1));
    }
    return { bracket, rungs: table, expectedSteps, maxSteps };
  });
}
