/**
 * The adaptive controller (src/sweep/adaptive.ts) with a fake deterministic runner (a
 * configuration's metric is a scripted curve of its learning rate and the step), the
 * journal, and a controller abandoned mid-search and continued from its journal.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { type AdaptiveOutcome, type SegmentRunner, type TrialSegmentResult, configurationScore, runAdaptiveSearch, searchProgress, searchSummary } from '../src/sweep/adaptive.js';
import type { Trial } from '../src/sweep/expand.js';
import { JOURNAL_FILE, Journal, JournalError, parseJournal } from '../src/sweep/journal.js';
import type { SchedulerSettings } from '../src/sweep/search/asha.js';
import type { Assignment, Observation, Searcher } from '../src/sweep/search/searcher.js';
import { defaultRunConfig } from '../src/train/config.js';
import { isAdaptive, sweepScheduler } from '../src/sweep/adaptive-sweep.js';
import { trialsOf as specTrialsOf } from '../src/sweep/expand.js';
import { bracketRungs } from '../src/sweep/search/asha.js';
import { createSearcher } from '../src/sweep/search/searcher.js';
import { parseSweepSpec } from '../src/sweep/spec.js';

const SEEDS = [0, 1];
const STEPS = 9000;
const ASHA: SchedulerSettings = { type: 'asha', minSteps: 1000, maxSteps: STEPS, eta: 3 };

/** A model-based searcher in miniature: random learning rates first, then near the best so far (deterministic in its arguments). */
class NearBestSearcher implements Searcher {
  constructor(private readonly cap: number) {}
  suggest(configIndex: number, observations: readonly Observation[]): Assignment | null {
    if (configIndex >= this.cap) return null;
    const scored = observations.filter((o) => o.score !== null).sort((a, b) => b.score! - a.score! || a.configIndex - b.configIndex);
    const jitter = ((configIndex * 7919) % 97) / 97;
    if (configIndex < 4 || scored.length === 0) return { learningRate: Number((0.0001 + jitter * 0.01).toPrecision(4)) };
    const best = scored[0]!.assignment.learningRate as number;
    return { learningRate: Number((best * (0.8 + 0.4 * jitter)).toPrecision(4)) };
  }
}

/** Learning rates near 0.003 learn best; the curve rises with the step; seeds differ a little. */
const curve = (learningRate: number, seed: number, step: number): number => (200 - Math.abs(Math.log(learningRate / 0.003)) * 60) * (step / STEPS) + seed;

function trialsOf(configIndex: number, assignment: Assignment): Trial[] {
  return SEEDS.map((seed, s) => {
    const configName = `learningRate=${assignment.learningRate}`;
    const name = `${configName},seed=${seed}`;
    return {
      index: configIndex * SEEDS.length + s,
      name,
      configName,
      configIndex,
      seed,
      swept: assignment,
      hparams: { learningRate: assignment.learningRate as number, seed },
      config: { ...defaultRunConfig(), steps: STEPS, seed, name, learningRate: assignment.learningRate as number },
    };
  });
}

/** Runs segments at once; `hangAfter` segments, the next one never ends (the controller is abandoned there, as a kill would leave it). */
class FakeRunner implements SegmentRunner {
  readonly segments: string[] = [];
  readonly stopped: string[] = [];
  /** How far each trial has run: a resumed segment must start where the last one paused. */
  readonly reached = new Map<string, number>();
  /** Resolves when the runner hangs: the controller then waits for ever, writing nothing more. */
  readonly hung: Promise<void>;
  private hang!: () => void;
  constructor(private readonly hangAfter = Number.POSITIVE_INFINITY) {
    this.hung = new Promise((resolve) => {
      this.hang = resolve;
    });
  }
  async run(trials: readonly Trial[], stopAtStep: number): Promise<TrialSegmentResult[]> {
    if (this.segments.length >= this.hangAfter) {
      this.hang();
      return new Promise(() => {});
    }
    this.segments.push(`${trials[0]!.configIndex}->${stopAtStep}`);
    await new Promise((resolve) => setImmediate(resolve));
    return trials.map((trial) => {
      expect(stopAtStep).to.be.greaterThan(this.reached.get(trial.name) ?? 0);
      this.reached.set(trial.name, stopAtStep);
      return { trial, state: stopAtStep >= trial.config.steps ? 'done' : 'paused', value: curve(trial.config.learningRate, trial.seed, stopAtStep) };
    });
  }
  async markStopped(trials: readonly Trial[], step: number): Promise<void> {
    for (const trial of trials) this.stopped.push(`${trial.name}@${step}`);
  }
  stopAll(): void {}
}

describe('adaptive controller (fake runner)', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'rlsweep-adaptive-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  async function search(runner: SegmentRunner, options: { concurrency?: number; cap?: number; identity?: string; warnings?: string[] } = {}): Promise<AdaptiveOutcome> {
    const journal = await Journal.open(tmp, (warning) => options.warnings?.push(warning));
    const created: string[] = [];
    return runAdaptiveSearch({
      searcher: new NearBestSearcher(options.cap ?? 12),
      settings: ASHA,
      goal: 'maximize',
      trialsOf,
      runner,
      journal,
      searchIdentity: options.identity ?? 'test search',
      concurrency: options.concurrency ?? 2,
      trialsCreated: async (_all, added) => {
        created.push(...added.map((trial) => trial.name));
      },
      stopping: () => false,
      log: () => {},
    });
  }

  const journalLines = (): string[] => readFileSync(path.join(tmp, JOURNAL_FILE), 'utf8').trim().split('\n');

  it('runs a search through ASHA: every configuration starts at the first rung, the best reach the end, the rest are stopped', async () => {
    const runner = new FakeRunner();
    const outcome = await search(runner, { concurrency: 2 });
    expect(outcome.trials).to.have.length(24);
    expect(outcome.trials.map((trial) => trial.index)).to.deep.equal([...Array(24).keys()]);
    const phases = outcome.configurations.map((config) => config.phase);
    expect(phases.filter((phase) => phase === 'done').length).to.be.within(1, 4);
    expect(phases.every((phase) => phase === 'done' || phase === 'stopped')).to.equal(true);
    // Stopped configurations are recorded, each seed, at the rung they reached.
    const stopped = outcome.configurations.filter((config) => config.phase === 'stopped');
    expect(runner.stopped).to.have.length(stopped.length * SEEDS.length);
    // The configurations run to the end are the best at the first rung.
    const firstRung = outcome.configurations.map((config) => ({ configIndex: config.configIndex, score: config.scores.get(1000)! }));
    const best = [...firstRung].sort((a, b) => b.score - a.score)[0]!;
    expect(outcome.configurations[best.configIndex]!.phase).to.equal('done');
    // Far fewer environment steps than running every configuration to the end.
    const spent = outcome.configurations.reduce((sum, config) => sum + config.step, 0);
    expect(spent).to.be.lessThan(12 * STEPS * 0.5);
  });

  it('is reproducible: at concurrency 1 the same search writes the same journal', async () => {
    await search(new FakeRunner(), { concurrency: 1 });
    const first = journalLines();
    rmSync(path.join(tmp, JOURNAL_FILE));
    await search(new FakeRunner(), { concurrency: 1 });
    expect(journalLines()).to.deep.equal(first);
    expect(searchSummary((await Journal.open(tmp, () => {})).entries)).to.match(
      /^search: 12 configurations suggested \(the searcher has no more\), \d+ rung results, [1-9]\d* promoted, [1-9]\d* stopped early$/,
    );
    expect(first.some((line) => line.includes('"promoted"'))).to.equal(true);
    expect(first.some((line) => line.includes('"stopped"'))).to.equal(true);
  });

  for (const fraction of [0, 0.3, 0.6, 0.95]) {
    it(`a controller abandoned ${fraction * 100}% into its segments continues from its journal with the same decisions, no segment repeated`, async () => {
      const straight = new FakeRunner();
      await search(straight, { concurrency: 1 });
      const expected = journalLines();
      rmSync(path.join(tmp, JOURNAL_FILE));

      // The first controller never returns (its segment hangs); it is abandoned as a kill would leave it.
      const killed = new FakeRunner(Math.floor(fraction * straight.segments.length));
      void search(killed, { concurrency: 1 });
      await killed.hung;
      const resumed = new FakeRunner();
      // Each trial resumes where the killed run left it.
      for (const [name, step] of killed.reached) resumed.reached.set(name, step);
      await search(resumed, { concurrency: 1 });
      expect(journalLines()).to.deep.equal(expected);
      expect([...killed.segments, ...resumed.segments]).to.deep.equal(straight.segments);
    });
  }

  it('refuses a journal of another search', async () => {
    await search(new FakeRunner(), { cap: 2, identity: 'search A' });
    const error = await search(new FakeRunner(), { identity: 'search B' }).then(
      () => undefined,
      (caught: Error) => caught,
    );
    expect(error?.message).to.match(/journal\.jsonl is the journal of another search \(search A\), not of this one \(search B\)/);
  });

  it('a torn last line (a kill while writing) is dropped with a warning and the search continues', async () => {
    await search(new FakeRunner(), { cap: 3, concurrency: 1 });
    const before = journalLines();
    appendFileSync(path.join(tmp, JOURNAL_FILE), '{"type":"result","configIn');
    const warnings: string[] = [];
    await search(new FakeRunner(), { cap: 3, concurrency: 1, warnings });
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/journal\.jsonl:\d+: the last line is incomplete/);
    expect(journalLines()).to.deep.equal(before);
  });

  it('damage before the last line is an error naming the line', () => {
    expect(() => parseJournal('{"type":"search","search":"s"}\nnot json\n{"type":"exhausted","configIndex":0}\n', 'j.jsonl', () => {})).to.throw(JournalError, /^j\.jsonl:2: not a journal entry/);
  });

  it('a configuration with a failed seed scores null and is never promoted; goal minimize negates the mean', () => {
    const trial = trialsOf(0, { learningRate: 0.001 });
    const result = (state: TrialSegmentResult['state'], value: number | null, t: Trial): TrialSegmentResult => ({ trial: t, state, value });
    expect(configurationScore([result('paused', 2, trial[0]!), result('paused', 4, trial[1]!)], 'maximize')).to.equal(3);
    expect(configurationScore([result('paused', 2, trial[0]!), result('paused', 4, trial[1]!)], 'minimize')).to.equal(-3);
    expect(configurationScore([result('paused', 2, trial[0]!), result('failed', null, trial[1]!)], 'maximize')).to.equal(null);
  });

  it("the search's progress: environment steps spent after each result, and the best metric found by then", () => {
    const entries = parseJournal(
      [
        { type: 'search', search: 's' },
        { type: 'suggested', configIndex: 0, assignment: { learningRate: 0.001 } },
        { type: 'result', configIndex: 0, step: 1000, score: -5 },
        { type: 'suggested', configIndex: 1, assignment: { learningRate: 0.002 } },
        { type: 'result', configIndex: 1, step: 1000, score: null },
        { type: 'promoted', configIndex: 0, step: 9000 },
        { type: 'result', configIndex: 0, step: 9000, score: -2 },
      ]
        .map((entry) => JSON.stringify(entry))
        .join('\n'),
      'j',
      () => {},
    ).entries;
    // goal minimize: scores are negated metrics; 2 seeds each.
    expect(searchProgress(entries, 2, 9000, 'minimize')).to.deep.equal([
      { steps: 2000, bestAnyRung: 5, bestAtEnd: null },
      { steps: 4000, bestAnyRung: 5, bestAtEnd: null },
      { steps: 20_000, bestAnyRung: 2, bestAtEnd: 2 },
    ]);
  });

  it('the adaptive sweeps in sweeps/ parse, suggest valid configurations, and have every rung on an evaluation', () => {
    for (const name of ['cartpole-adaptive', 'mountaincar-adaptive', 'acrobot-adaptive']) {
      const file = `sweeps/${name}.yaml`;
      const spec = parseSweepSpec(readFileSync(file, 'utf8'), file);
      expect(isAdaptive(spec), file).to.equal(true);
      expect(spec.method).to.equal('bayes');
      const searcher = createSearcher(spec);
      const first = searcher.suggest(0, [])!;
      const trials = specTrialsOf(spec, 0, first, { sweepDir: `runs/${spec.name}` });
      expect(trials).to.have.length(spec.seeds.length);
      const { evalEvery, steps } = trials[0]!.config;
      const brackets = bracketRungs(sweepScheduler(spec));
      expect(brackets.length, file).to.be.at.least(1);
      for (const rungs of brackets) {
        expect(rungs.at(-1)).to.equal(steps);
        for (const rung of rungs) expect(rung % evalEvery, `${file}: rung ${rung}`).to.equal(0);
      }
    }
  });
});
