/**
 * The searchers (grid, random, bayes/TPE), trialsOf, and the sweep file's bayes and
 * early_terminate keys. No training: TPE is measured on cheap synthetic objectives.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { rungSteps } from '../src/sweep/early-terminate.js';
import { countTrials, expandSweep, experimentHParams, TrialNamer, trialsOf } from '../src/sweep/expand.js';
import { bandwidths, categoricalEstimator, logDensity, logNormalMass, numericEstimator, observationWeights } from '../src/sweep/search/parzen.js';
import { type Assignment, createSearcher, type Observation } from '../src/sweep/search/searcher.js';
import { assignmentKey, assignmentProblems, sweptParameters } from '../src/sweep/search/space.js';
import { goodCount, rankObservations, TpeSearcher } from '../src/sweep/search/tpe.js';
import { parseSweepSpec, type SweepSpec, SweepSpecError } from '../src/sweep/spec.js';

const spec = (text: string): SweepSpec => parseSweepSpec(text, 'test.yaml');

function errorOf(text: string): string {
  try {
    spec(text);
  } catch (error) {
    expect(error).to.be.instanceOf(SweepSpecError);
    return (error as Error).message;
  }
  throw new Error('expected a SweepSpecError');
}

const GRID = `name: grid
seeds: [0, 1]
parameters:
  env: { value: CartPole-v1 }
  learningRate: { values: [0.001, 0.0005] }
  batchSize: { min: 32, max: 34, distribution: int_uniform }
  hiddenLayers: { values: [[32, 32], [64, 64], []] }
  tau: { min: 0.1, max: 0.3, distribution: q_uniform, q: 0.1 }
  loss: { values: [huber] }
`;

const RANDOM = `name: random
method: random
run_cap: 24
sweep_seed: 3
seeds: [0, 1, 2]
parameters:
  gamma: { min: 0.95, max: 0.999, distribution: uniform }
  learningRate: { min: 0.0001, max: 0.01, distribution: log_uniform_values }
  batchSize: { min: 32, max: 128, distribution: int_uniform }
  tau: { min: 0.1, max: 1, distribution: q_uniform, q: 0.1 }
  hiddenLayers: { values: [[32, 32], [64, 64]] }
  loss: { values: [huber] }
`;

/** Every kind of parameter TPE handles. */
const BAYES = `name: bayes
method: bayes
run_cap: 60
sweep_seed: 0
parameters:
  learningRate: { min: 0.00001, max: 0.1, distribution: log_uniform_values }
  gamma: { min: 0.9, max: 0.999, distribution: uniform }
  batchSize: { min: 16, max: 256, distribution: int_uniform }
  tau: { min: 0.1, max: 1, distribution: q_uniform, q: 0.05 }
  hiddenLayers: { values: [[32], [64, 64], [128, 128], [256, 256]] }
  loss: { values: [mse, huber] }
`;

/** A smooth objective with its best (0) at learningRate 5e-4, gamma 0.98, batchSize 64, tau 0.5, [64, 64] and huber. */
function objective(assignment: Assignment): number {
  const lr = Math.log10(assignment.learningRate as number) - Math.log10(5e-4);
  const gamma = ((assignment.gamma as number) - 0.98) / 0.1;
  const batch = ((assignment.batchSize as number) - 64) / 240;
  const tau = (assignment.tau as number) - 0.5;
  const layers = JSON.stringify(assignment.hiddenLayers) === '[64,64]' ? 0 : 0.3;
  const loss = assignment.loss === 'huber' ? 0 : 0.1;
  return -(lr * lr + 4 * gamma * gamma + batch * batch + tau * tau + layers + loss);
}

/** Runs a search of `budget` configurations on the objective; the best score found. */
function bestFound(text: string, budget: number): number {
  const searcher = createSearcher(spec(text));
  const observations: Observation[] = [];
  let best = -Infinity;
  for (let configIndex = 0; configIndex < budget; configIndex++) {
    const assignment = searcher.suggest(configIndex, observations)!;
    const score = objective(assignment);
    best = Math.max(best, score);
    observations.push({ configIndex, assignment, score, step: 10_000 });
  }
  return best;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

describe('searchers: grid and random', () => {
  for (const [what, text] of [
    ['grid', GRID],
    ['random', RANDOM],
  ] as const) {
    it(`${what}: the configIndex-th suggestion is the configuration expandSweep gives that index; none past the end`, () => {
      const parsed = spec(text);
      const trials = expandSweep(parsed, { sweepDir: 'runs/s' });
      const searcher = createSearcher(parsed);
      const { configurations } = countTrials(parsed);
      for (const trial of trials) expect(searcher.suggest(trial.configIndex, [])).to.deep.equal(trial.swept);
      expect(searcher.suggest(configurations, [])).to.equal(null);
      expect(searcher.suggest(-1, [])).to.equal(null);
      // The results do not steer them.
      const observations: Observation[] = [{ configIndex: 0, assignment: trials[0]!.swept, score: 1, step: 100 }];
      expect(searcher.suggest(1, observations)).to.deep.equal(searcher.suggest(1, []));
    });
  }

  it('grid: the last parameter varies fastest, fixed ones stay out of the assignment', () => {
    const searcher = createSearcher(spec(GRID));
    expect(searcher.suggest(0, [])).to.deep.equal({ learningRate: 0.001, batchSize: 32, hiddenLayers: [32, 32], tau: 0.1 });
    expect(searcher.suggest(1, [])).to.deep.equal({ learningRate: 0.001, batchSize: 32, hiddenLayers: [32, 32], tau: 0.2 });
    expect(searcher.suggest(2 * 3 * 3 * 3 - 1, [])).to.deep.equal({ learningRate: 0.0005, batchSize: 34, hiddenLayers: [], tau: 0.3 });
  });
});

describe('trialsOf', () => {
  it("gives a configuration's trials as expandSweep does: one per seed, same names and configs, configuration-major index", () => {
    const parsed = spec(RANDOM);
    const expanded = expandSweep(parsed, { sweepDir: 'runs/r' });
    const searcher = createSearcher(parsed);
    const namer = new TrialNamer();
    const { configurations } = countTrials(parsed);
    for (let configIndex = 0; configIndex < configurations; configIndex++) {
      const trials = trialsOf(parsed, configIndex, searcher.suggest(configIndex, [])!, { sweepDir: 'runs/r', namer });
      expect(trials.map((trial) => trial.seed)).to.deep.equal(parsed.seeds);
      expect(trials.map((trial) => trial.index)).to.deep.equal(parsed.seeds.map((_, i) => configIndex * parsed.seeds.length + i));
      for (const trial of trials) {
        const same = expanded.find((candidate) => candidate.configIndex === configIndex && candidate.seed === trial.seed)!;
        expect({ ...trial, index: same.index }).to.deep.equal(same);
      }
    }
  });

  it('fills fixed parameters from the file and checks the assignment against the space', () => {
    const parsed = spec(GRID);
    const [trial] = trialsOf(parsed, 0, { learningRate: 0.0005, batchSize: 33, hiddenLayers: [], tau: 0.2 }, { sweepDir: 'runs/g' });
    expect(trial!.name).to.equal('learningRate=0.0005,batchSize=33,hiddenLayers=none,tau=0.2,seed=0');
    expect(trial!.config).to.deep.include({ env: 'CartPole-v1', loss: 'huber', learningRate: 0.0005, batchSize: 33, tau: 0.2, seed: 0, logdir: 'runs/g' });
    const bad =
      (assignment: Assignment): (() => unknown) =>
      () =>
        trialsOf(parsed, 3, assignment, { sweepDir: 'runs/g' });
    expect(bad({ learningRate: 0.0005, batchSize: 35, hiddenLayers: [], tau: 0.2 })).to.throw(SweepSpecError, /test\.yaml: configuration 3: "batchSize" 35 is outside its domain in test\.yaml:6:3/);
    expect(bad({ learningRate: 0.0005, batchSize: 33, hiddenLayers: [] })).to.throw(SweepSpecError, /no value for the swept parameter "tau"/);
    expect(bad({ learningRate: 0.0005, batchSize: 33, hiddenLayers: [], tau: 0.2, gamma: 0.9 })).to.throw(SweepSpecError, /"gamma" is not a swept parameter of test\.yaml/);
    expect(bad({ learningRate: 0.0005, batchSize: 33, hiddenLayers: [], tau: 0.25 })).to.throw(SweepSpecError, /"tau" 0\.25 is outside its domain/);
  });

  it('one namer per sweep: the same configuration keeps its name, a clash gets a suffix', () => {
    const parsed = spec('name: n\nseeds: [0]\nparameters:\n  env: { values: [CartPole-v1, Acrobot-v1] }\n');
    const namer = new TrialNamer();
    const swept = sweptParameters(parsed);
    expect(namer.configName(swept, { env: 'CartPole-v1' })).to.equal('env=CartPole-v1');
    expect(namer.configName(swept, { env: 'CartPole-v1' })).to.equal('env=CartPole-v1');
    expect(namer.trialName('env=CartPole-v1', 0)).to.equal('env=CartPole-v1,seed=0');
    expect(namer.trialName('env=CartPole-v1', 0)).to.equal('env=CartPole-v1,seed=0');
    expect(namer.configName(swept, { env: 'cartpole-v1' })).to.equal('env=cartpole-v1@2');
  });
});

describe('bayes (TPE)', () => {
  it('beats random search at equal budget: median best over 20 search seeds, 60 configurations each', () => {
    const seeds = Array.from({ length: 20 }, (_, seed) => seed);
    const tpe = seeds.map((seed) => bestFound(BAYES.replace('sweep_seed: 0', `sweep_seed: ${seed}`), 60));
    const random = seeds.map((seed) => bestFound(BAYES.replace('method: bayes', 'method: random').replace('sweep_seed: 0', `sweep_seed: ${seed}`), 60));
    // Regret (distance from the best, 0): TPE's median at most half of random search's, and better on most seeds.
    expect(-median(tpe)).to.be.below(-median(random) / 2);
    expect(seeds.filter((seed) => tpe[seed]! > random[seed]!).length).to.be.at.least(14);
  });

  it('is a pure function: the same spec, index and observations give the same suggestion; sweep_seed and index change it', () => {
    const parsed = spec(BAYES);
    const observations: Observation[] = [];
    const first = createSearcher(parsed);
    for (let configIndex = 0; configIndex < 15; configIndex++) {
      const assignment = first.suggest(configIndex, observations)!;
      observations.push({ configIndex, assignment, score: objective(assignment), step: 1000 });
    }
    const again = createSearcher(spec(BAYES)).suggest(15, observations);
    expect(first.suggest(15, observations)).to.deep.equal(again);
    expect(createSearcher(spec(BAYES)).suggest(15, [...observations].reverse())).to.deep.equal(again);
    expect(createSearcher(spec(BAYES.replace('sweep_seed: 0', 'sweep_seed: 1'))).suggest(15, observations)).not.to.deep.equal(again);
    expect(first.suggest(16, observations)).not.to.deep.equal(again);
  });

  it('draws from the prior until n_startup_trials configurations are observed, whatever their scores', () => {
    const parsed = spec(BAYES.replace('run_cap: 60', 'run_cap: 60\nbayes: { n_startup_trials: 5, n_ei_candidates: 8 }'));
    expect(parsed.bayes).to.deep.equal({ nStartupTrials: 5, nEiCandidates: 8 });
    const searcher = createSearcher(parsed);
    const observations: Observation[] = [0, 1, 2, 3].map((configIndex) => ({ configIndex, assignment: searcher.suggest(configIndex, [])!, score: configIndex, step: 10 }));
    const rescored = observations.map((observation) => ({ ...observation, score: -observation.score! }));
    expect(searcher.suggest(4, observations)).to.deep.equal(searcher.suggest(4, rescored));
    const fifth: Observation = { configIndex: 4, assignment: searcher.suggest(4, observations)!, score: 0, step: 10 };
    // From the fifth observation on the scores steer the search.
    expect(searcher.suggest(5, [...observations, fifth])).not.to.deep.equal(searcher.suggest(5, [...rescored, fifth]));
  });

  it('keeps every parameter kind in its domain and never suggests a configuration tried or pending (property)', () => {
    const parsed = spec(BAYES.replace('run_cap: 60', 'run_cap: 60\nbayes: { n_startup_trials: 3 }'));
    const searcher = createSearcher(parsed);
    const swept = sweptParameters(parsed);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.record({ score: fc.option(fc.double({ min: -10, max: 10, noNaN: true })), step: fc.constantFrom(1000, 3000, 9000) }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 3 }),
        (seed, results, pendingCount) => {
          // Observed configurations: earlier suggestions (so in the domain), with arbitrary results.
          const prior = createSearcher(spec(BAYES.replace('sweep_seed: 0', `sweep_seed: ${seed}`).replace('method: bayes', 'method: random')));
          const observations = results.map((result, configIndex) => ({ configIndex, assignment: prior.suggest(configIndex, [])!, ...result }));
          const pending = Array.from({ length: pendingCount }, (_, i) => prior.suggest(results.length + i, [])!);
          const suggestion = searcher.suggest(results.length + pendingCount, observations, pending);
          expect(suggestion).to.not.equal(null);
          expect(assignmentProblems(parsed, suggestion!)).to.deep.equal([]);
          const taken = [...observations.map((observation) => observation.assignment), ...pending].map((assignment) => assignmentKey(swept, assignment));
          expect(taken).to.not.include(assignmentKey(swept, suggestion!));
        },
      ),
      { numRuns: 40, seed: 16 },
    );
  });

  it('tries each configuration of a finite space once, then has no more', () => {
    const parsed = spec(
      'name: f\nmethod: bayes\nrun_cap: 12\nbayes: { n_startup_trials: 2 }\nparameters:\n  loss: { values: [mse, huber] }\n  hiddenLayers: { values: [[8], [16], [8, 8]] }\n  batchSize: { min: 1, max: 2, distribution: int_uniform }\n',
    );
    const searcher = createSearcher(parsed);
    const swept = sweptParameters(parsed);
    const observations: Observation[] = [];
    for (let configIndex = 0; configIndex < 12; configIndex++) {
      const assignment = searcher.suggest(configIndex, observations)!;
      expect(assignment, `configuration ${configIndex}`).to.not.equal(null);
      observations.push({ configIndex, assignment, score: assignment.loss === 'huber' ? 1 : 0, step: 100 });
    }
    expect(new Set(observations.map((observation) => assignmentKey(swept, observation.assignment))).size).to.equal(12);
    expect(searcher.suggest(12, observations)).to.equal(null);
    // A run_cap larger than the space is refused before the sweep starts.
    expect(() => countTrials(spec('name: f\nmethod: bayes\nrun_cap: 13\nbayes: { n_startup_trials: 2 }\nparameters:\n  loss: { values: [mse, huber] }\n'))).to.throw(
      SweepSpecError,
      /bayes search: run_cap 13 asks for 13 configurations, but the parameters allow only 2 distinct configurations; lower run_cap to 2/,
    );
  });

  it('ranks observations: scored above failed, run to the end above stopped, later steps above earlier ones, then by score', () => {
    const at = (configIndex: number, score: number | null, step: number, steps = 9000): Observation => ({ configIndex, assignment: { steps }, score, step });
    const runLength = (assignment: Assignment): number => assignment.steps as number;
    const observations = [at(0, 5, 1000), at(1, null, 9000), at(2, 1, 9000), at(3, 9, 3000), at(4, 2, 9000), at(5, 1, 9000), at(6, 100, 1000), at(7, 1.5, 3000, 3000)];
    // 7 ran to the end of its 3000 steps: it compares with the other finished ones by score.
    expect(rankObservations(observations, runLength).map((observation) => observation.configIndex)).to.deep.equal([4, 7, 2, 5, 3, 6, 0, 1]);
    expect([1, 10, 11, 100, 250, 251, 1000].map(goodCount)).to.deep.equal([1, 1, 2, 10, 25, 25, 25]);
  });

  it('learns from the configurations measured furthest: a high score at a low rung does not make a region good', () => {
    const parsed = spec('name: r\nmethod: bayes\nrun_cap: 40\nbayes: { n_startup_trials: 10 }\nparameters:\n  gamma: { min: 0.9, max: 0.999, distribution: uniform }\n');
    const searcher = new TpeSearcher(parsed);
    // Low gammas were stopped at the first rung with huge early scores; high gammas ran to the end with modest ones.
    const observations: Observation[] = Array.from({ length: 20 }, (_, configIndex) => {
      const low = configIndex % 2 === 0;
      const gamma = low ? 0.9 + 0.002 * configIndex : 0.96 + 0.0015 * configIndex;
      return { configIndex, assignment: { gamma: Number(gamma.toFixed(4)) }, score: low ? 1000 + configIndex : configIndex, step: low ? 1000 : 9000 };
    });
    const suggestions = Array.from({ length: 10 }, (_, i) => searcher.suggest(20 + i, observations)!.gamma as number);
    expect(suggestions.filter((gamma) => gamma > 0.95).length).to.be.at.least(8);
  });

  it('ignores an observed value outside the space (a changed file) instead of failing', () => {
    const parsed = spec(BAYES.replace('run_cap: 60', 'run_cap: 60\nbayes: { n_startup_trials: 2 }'));
    const searcher = createSearcher(parsed);
    const a = searcher.suggest(0, [])!;
    const b = searcher.suggest(1, [])!;
    const observations: Observation[] = [
      { configIndex: 0, assignment: { ...a, learningRate: 5, hiddenLayers: [7] }, score: 1, step: 10 },
      { configIndex: 1, assignment: b, score: 0, step: 10 },
    ];
    expect(assignmentProblems(parsed, searcher.suggest(2, observations)!)).to.deep.equal([]);
  });
});

describe('Parzen estimators', () => {
  it('normal masses, far into the tails', () => {
    expect(Math.exp(logNormalMass(-1, 1))).to.be.closeTo(0.682689492, 1e-6);
    expect(Math.exp(logNormalMass(1, 2))).to.be.closeTo(0.135905122, 1e-6);
    // log Q(40) = -804.60844 (Q the normal's upper tail): no underflow to -Infinity.
    expect(logNormalMass(40, Infinity)).to.be.closeTo(-804.60844, 1e-3);
    expect(logNormalMass(-Infinity, -40)).to.be.closeTo(-804.60844, 1e-3);
    expect(logNormalMass(2, 2)).to.equal(-Infinity);
  });

  it("Optuna's weights, bandwidths and categorical counts", () => {
    expect(observationWeights(3)).to.deep.equal([1, 1, 1]);
    const weights = observationWeights(30);
    expect(weights).to.have.length(30);
    expect(weights[0]).to.be.closeTo(1 / 30, 1e-12);
    expect(weights.slice(5)).to.deep.equal(new Array(25).fill(1));
    // One observation at 0.2 in [0, 1]: the gap to the prior's centre (0.3), clipped up to 1 / (1 + 2 kernels).
    expect(bandwidths([0.2], 0, 1)[0]).to.be.closeTo(1 / 3, 1e-12);
    const wide = bandwidths([0.1, 0.15, 0.9, 0.91], 0, 1);
    expect(wide[2]).to.be.closeTo(0.4, 1e-12);
    expect(wide[3]).to.be.closeTo(1 / 6, 1e-12);
    const categorical = categoricalEstimator(2, [0]);
    expect(categorical.probabilities[0]).to.be.closeTo(0.625, 1e-12);
    expect(categorical.probabilities[1]).to.be.closeTo(0.375, 1e-12);
  });

  it('densities sum to one: continuous over the range, discrete over the grid', () => {
    const continuous = numericEstimator({ kind: 'continuous', low: -2, high: 3 }, [0.5, 0.6, 2.9, -1.5]);
    const n = 20_000;
    let integral = 0;
    for (let i = 0; i < n; i++) integral += Math.exp(logDensity(continuous, -2 + (5 * (i + 0.5)) / n)) * (5 / n);
    expect(integral).to.be.closeTo(1, 1e-4);
    const discrete = numericEstimator({ kind: 'discrete', low: 3, high: 9 }, [3, 4, 4, 9]);
    let total = 0;
    for (let x = 3; x <= 9; x++) total += Math.exp(logDensity(discrete, x));
    expect(total).to.be.closeTo(1, 1e-9);
  });
});

describe('sweep file: bayes and early_terminate', () => {
  const base = (extra: string): string =>
    `name: x\nmethod: bayes\nrun_cap: 30\nparameters:\n  steps: { value: 90000 }\n  evalEvery: { value: 5000 }\n  trainStart: { value: 1000 }\n  learningRate: { min: 0.0001, max: 0.01, distribution: log_uniform_values }\n${extra}`;

  it('bayes: run_cap counts configurations, defaults as Optuna, continuous ranges in the hparams as intervals', () => {
    const parsed = spec(`${base('').replace('seeds', '')}seeds: [0, 1]\n`);
    expect(parsed.method).to.equal('bayes');
    expect(parsed.bayes).to.deep.equal({ nStartupTrials: 10, nEiCandidates: 24 });
    expect(countTrials(parsed)).to.deep.equal({ configurations: 30, trials: 60 });
    expect(experimentHParams(parsed).find((h) => h.name === 'learningRate')).to.deep.include({ interval: { min: 0.0001, max: 0.01 } });
    expect(() => expandSweep(parsed, { sweepDir: 'runs/x' })).to.throw(SweepSpecError, /method bayes chooses each configuration from the results of the ones before it/);
  });

  it('asha: rungs min_steps * eta^k below the steps; brackets start later on the same ladder', () => {
    const asha = spec(base('early_terminate: { type: asha, min_steps: 5000 }\n')).earlyTerminate!;
    expect(asha).to.deep.equal({ type: 'asha', minSteps: 5000, maxSteps: 90000, reductionFactor: 3, brackets: 1, at: 'test.yaml:9:1' });
    expect(rungSteps(asha)).to.deep.equal([5000, 15000, 45000]);
    expect(rungSteps(asha, 1)).to.deep.equal([15000, 45000]);
    expect(rungSteps(asha, 3)).to.deep.equal([]);
    const capped = spec(base('early_terminate: { type: asha, min_steps: 10000, max_steps: 40000, reduction_factor: 2, brackets: 3 }\n')).earlyTerminate!;
    expect(rungSteps(capped)).to.deep.equal([10000, 20000]);
    expect(capped.brackets).to.equal(3);
  });

  it("hyperband in W&B's spelling: an iter is one evaluation (evalEvery steps); brackets default to one per rung plus one", () => {
    const fromMin = spec(base('early_terminate: { type: hyperband, min_iter: 1, eta: 3 }\n')).earlyTerminate!;
    expect(fromMin).to.deep.include({ type: 'hyperband', minSteps: 5000, maxSteps: 90000, reductionFactor: 3, brackets: 4 });
    const fromMax = spec(base('early_terminate: { type: hyperband, max_iter: 18, s: 2, eta: 3 }\n')).earlyTerminate!;
    // W&B's bands: max_iter / eta^k, k = 1..s = 6 and 2 evaluations, steps 30000 and 10000.
    expect(rungSteps(fromMax)).to.deep.equal([10000, 30000]);
    expect(fromMax).to.deep.include({ minSteps: 10000, maxSteps: 90000, brackets: 3 });
    expect(spec(base('early_terminate: { type: hyperband, min_steps: 5000, strict: true }\n')).earlyTerminate!.minSteps).to.equal(5000);
  });

  it('early_terminate with a grid is allowed (ASHA over a grid), and without it every trial runs to the end', () => {
    const grid = spec('name: g\nparameters:\n  learningRate: { values: [0.1, 0.2] }\nearly_terminate: { type: asha, min_iter: 1 }\n');
    expect(rungSteps(grid.earlyTerminate!)).to.deep.equal([20000, 60000, 180000]);
    expect(spec(GRID).earlyTerminate).to.equal(undefined);
  });

  it('errors name the place, the value and the fix, several at once', () => {
    expect(errorOf(base('').replace('run_cap: 30\n', ''))).to.match(/test\.yaml:2:9: bayes search needs "run_cap": how many configurations to try/);
    expect(errorOf(base('bayes: { n_startup_trials: 30 }\n'))).to.match(/test\.yaml:9:28: "run_cap" \(30\) is not above bayes\.n_startup_trials \(30\)/);
    expect(errorOf(base('').replace('run_cap: 30', 'run_cap: 5'))).to.match(/"run_cap" \(5\) is not above the 10 random configurations bayes starts with/);
    const several = errorOf(base('bayes: { n_startup_trial: 3 }\nearly_terminate: { type: ashaa, min_step: 5000, eta: 1.5 }\n'));
    expect(several).to.match(/test\.yaml:9:10: "bayes": unknown key "n_startup_trial" \(did you mean "n_startup_trials"\?\)/);
    expect(several).to.match(/test\.yaml:10:33: "early_terminate": unknown key "min_step" \(did you mean "min_steps"\?\)/);
    expect(several).to.match(/test\.yaml:10:26: "early_terminate\.type" must be one of asha, hyperband, got "ashaa" \(did you mean "asha"\?\)/);
    expect(several).to.match(/"early_terminate\.eta" must be an integer >= 2, got 1\.5 \(an integer, so that every rung lies on an evaluation\)/);
    expect(errorOf(base('early_terminate: { type: asha, min_steps: 7000 }\n'))).to.match(
      /test\.yaml:9:43: "early_terminate": the lowest rung, min_steps 7000, is not a multiple of evalEvery \(5000, set at test\.yaml:6:3\): a rung's metric is the evaluation at that step.*\(e\.g\. min_steps: 5000\)/,
    );
    expect(errorOf(base('early_terminate: { type: asha, min_steps: 5000, max_iter: 20 }\n'))).to.match(
      /max_iter 20 \(evaluations, one every evalEvery = 5000 steps: step 100000\) is above the trials' steps \(90000/,
    );
    expect(errorOf(base('early_terminate: { type: asha, min_steps: 90000 }\n'))).to.match(
      /the lowest rung, min_steps 90000, is not below the trials' steps \(90000, set at test\.yaml:5:3\).*e\.g\. min_steps: 30000/,
    );
    expect(errorOf(base('early_terminate: { type: asha, min_steps: 5000 }\n').replace('trainStart: { value: 1000 }', 'trainStart: { values: [1000, 6000] }'))).to.match(
      /min_steps 5000, comes before trainStart \(6000\).*e\.g\. min_steps: 10000/,
    );
    expect(errorOf(base('early_terminate: { type: asha, min_steps: 5000 }\n').replace('steps: { value: 90000 }', 'steps: { values: [90000, 180000] }'))).to.match(
      /test\.yaml:9:1: "early_terminate" needs one steps for every trial, but steps is swept \(test\.yaml:5:3\)/,
    );
    expect(errorOf(base('early_terminate: { type: asha, min_steps: 5000 }\n').replace('evalEvery: { value: 5000 }', 'evalEvery: { value: 0 }'))).to.match(
      /evalEvery is 0 .*which evaluates only at the end/,
    );
    expect(errorOf(base('early_terminate: { type: hyperband, min_iter: 1, strict: false }\n'))).to.match(/"early_terminate\.strict: false" \(W&B's lenient mode\) is not supported/);
    expect(errorOf(base('early_terminate: { type: hyperband, min_iter: 1, s: 2 }\n'))).to.match(/"early_terminate\.s" counts the rungs down from max_iter/);
    expect(errorOf(base('early_terminate: { type: asha, min_steps: 5000, min_iter: 1 }\n'))).to.match(/gives both min_steps and min_iter/);
    expect(errorOf(base('early_terminate: { type: asha, min_steps: 5000, brackets: 5 }\n'))).to.match(
      /"early_terminate\.brackets" \(5\) is more than this ladder allows: 3 rungs \(steps 5000, 15000, 45000\) give at most 4/,
    );
    expect(errorOf(base('early_terminate: { type: hyperband, max_iter: 5, s: 2, eta: 2 }\n'))).to.match(
      /max_iter 5 \(step 25000\) \/ eta\^s \(2\^2\) = step 6250, is not a multiple of evalEvery.*min_iter: 1 instead of s/,
    );
    expect(errorOf('name: g\nparameters:\n  learningRate: { values: [0.1, 0.2] }\nbayes: {}\n')).to.match(/test\.yaml:4:1: "bayes" sets up method: bayes, but this sweep's method is grid/);
    expect(errorOf('name: g\nparameters:\n  learningRate: { values: [0.1, 0.2] }\nearly_terminate: { min_steps: 20000 }\n')).to.match(/"early_terminate" needs a type: asha or hyperband/);
  });
});
