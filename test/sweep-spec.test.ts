import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseSweepSpec, SweepSpecError, type SweepSpec } from '../src/sweep/spec.js';
import { checkTrialCount, countTrials, DEFAULT_TRIAL_LIMIT, expandSweep, experimentHParams, formatNameValue, HARD_TRIAL_LIMIT, type Trial } from '../src/sweep/expand.js';
import { ConfigError, defaultRunConfig, runConfigKeys } from '../src/train/config.js';

const FILE = 'test.yaml';

/** "line:col" (1-based) of the first occurrence of `needle` in `text`, after `after` when given. */
function posOf(text: string, needle: string, after = ''): string {
  const start = after ? text.indexOf(after) : 0;
  const offset = text.indexOf(needle, start);
  if (offset < 0) throw new Error(`"${needle}" not in the text`);
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

function errorOf(text: string): SweepSpecError {
  try {
    parseSweepSpec(text, FILE);
  } catch (error) {
    expect(error).to.be.instanceOf(SweepSpecError);
    expect(error).to.be.instanceOf(ConfigError);
    return error as SweepSpecError;
  }
  throw new Error('expected a SweepSpecError');
}

function spec(text: string): SweepSpec {
  return parseSweepSpec(text, FILE);
}

function expand(text: string): Trial[] {
  return expandSweep(spec(text), { sweepDir: 'runs/t' });
}

const GRID = `name: grid-test
method: grid
seeds: [0, 1]
parameters:
  env: { value: CartPole-v1 }
  learningRate: { values: [0.001, 0.0005] }
  steps: { value: 3000 }
  targetUpdateEvery: { values: [500, 1000, 2000] }
  hiddenLayers: { values: [[32, 32], [64, 64]] }
`;

const RANDOM = `name: random-test
method: random
run_cap: 12
sweep_seed: 7
seeds: [0, 1]
parameters:
  gamma: { min: 0.95, max: 0.999, distribution: uniform }
  learningRate: { min: 0.0001, max: 0.01, distribution: log_uniform_values }
  batchSize: { min: 32, max: 128, distribution: int_uniform }
  tau: { min: 0.1, max: 1, distribution: q_uniform, q: 0.1 }
  loss: { values: [mse, huber] }
`;

describe('sweep file: parsing', () => {
  it('reads the W&B-like format', () => {
    const parsed = spec(`name: mc
method: grid
metric: { name: eval/return_mean, goal: maximize }
seeds: [0, 1, 2]
concurrency: 2
parameters:
  env: { value: MountainCar-v0 }
  learningRate: { values: [0.001, 0.0005] }
  targetUpdateEvery: { values: [500, 1000] }
  hiddenLayers: { values: [[32, 32], [64, 64]] }
`);
    expect(parsed).to.deep.include({ file: FILE, name: 'mc', method: 'grid', seeds: [0, 1, 2], concurrency: 2, sweepSeed: 0 });
    expect(parsed.metric).to.deep.equal({ name: 'eval/return_mean', goal: 'maximize', summary: 'final' });
    expect(parsed.parameters.map((p) => p.key)).to.deep.equal(['env', 'learningRate', 'targetUpdateEvery', 'hiddenLayers']);
    expect(parsed.parameters[0]).to.deep.include({ kind: 'value', value: 'MountainCar-v0', at: `${FILE}:7:3` });
    expect(parsed.parameters[3]).to.deep.include({
      kind: 'values',
      values: [
        [32, 32],
        [64, 64],
      ],
    });
  });

  it('defaults: grid, eval/return_mean maximised, seed 0, no concurrency', () => {
    const parsed = spec('name: d\nparameters:\n  steps: { value: 1000 }\n');
    expect(parsed).to.deep.include({ method: 'grid', seeds: [0], metric: { name: 'eval/return_mean', goal: 'maximize', summary: 'final' } });
    expect(parsed.concurrency).to.equal(undefined);
  });

  it('parses every example sweep in sweeps/ and keeps them runnable', () => {
    for (const name of ['smoke', 'cartpole', 'acrobot', 'mountaincar']) {
      const file = `sweeps/${name}.yaml`;
      const parsed = parseSweepSpec(readFileSync(file, 'utf8'), file);
      const count = checkTrialCount(parsed);
      const trials = expandSweep(parsed, { sweepDir: `runs/${parsed.name}` });
      expect(trials).to.have.length(count.trials);
      expect(parsed.name).to.equal(name === 'smoke' ? 'smoke' : parsed.name);
    }
  });

  it('smoke.yaml is tiny: 2 configurations x 2 seeds of a few thousand steps', () => {
    const parsed = parseSweepSpec(readFileSync('sweeps/smoke.yaml', 'utf8'), 'sweeps/smoke.yaml');
    const trials = expandSweep(parsed, { sweepDir: 'runs/smoke' });
    expect(trials).to.have.length(4);
    for (const trial of trials) expect(trial.config.steps).to.be.at.most(3000);
  });

  // How long it takes is the estimate benchmark's business (npm run bench:estimate), not a test's.
  it('mountaincar.yaml compares several configurations over several seeds', () => {
    const parsed = parseSweepSpec(readFileSync('sweeps/mountaincar.yaml', 'utf8'), 'sweeps/mountaincar.yaml');
    const trials = expandSweep(parsed, { sweepDir: 'runs/mc' });
    expect(new Set(trials.map((t) => t.configIndex)).size).to.be.at.least(4);
    expect(parsed.seeds.length).to.be.at.least(2);
  });
});

describe('sweep file: errors', () => {
  it('YAML syntax errors carry line and column', () => {
    const text = 'name: x\nparameters:\n  learningRate: { values: [0.1, 0.2 }\n';
    const error = errorOf(text);
    expect(error.problems).to.have.length.greaterThan(0);
    expect(error.problems[0]).to.match(/^test\.yaml:3:\d+: YAML syntax error: /);
  });

  it('duplicate keys are syntax errors at the second key', () => {
    const text = 'name: x\nparameters:\n  gamma: { value: 0.9 }\n  gamma: { value: 0.8 }\n';
    expect(errorOf(text).message).to.match(/^test\.yaml:4:3: YAML syntax error: Map keys must be unique/);
  });

  it('a parameter that is not a run option, with a did-you-mean and its position', () => {
    const text = 'name: x\nparameters:\n  learnigRate: { values: [0.1, 0.2] }\n';
    expect(errorOf(text).message).to.include(`test.yaml:${posOf(text, 'learnigRate')}: "learnigRate" is not a run option (did you mean "learningRate"?)`);
  });

  it("a value of the wrong type, at the value's own line and column", () => {
    const text = 'name: x\nparameters:\n  env: { value: CartPole-v1 }\n  learningRate: { values: [0.001, fast] }\n';
    expect(errorOf(text).message).to.equal(`test.yaml:${posOf(text, 'fast')}: "learningRate" must be a number, got "fast"`);
  });

  it("values out of range, through RunConfig's own checks", () => {
    const cases: Array<[string, string, RegExp]> = [
      ['  gamma: { values: [0.9, 1.5] }\n', '1.5', /"gamma" must be <= 1, got 1\.5/],
      ['  learningRate: { value: -0.1 }\n', '-0.1', /"learningRate" must be a finite number > 0, got -0\.1/],
      ['  steps: { values: [1000, 2500.5] }\n', '2500.5', /"steps" must be an integer, got 2500\.5/],
      ['  loss: { values: [mse, l1] }\n', 'l1', /"loss" must be one of mse, huber, got "l1"/],
      ['  hiddenLayers: { values: [[64, 0]] }\n', '[64, 0]', /"hiddenLayers"\[1\] must be >= 1/],
      ['  gamma: { min: 0.9, max: 1.2, distribution: uniform }\n', '1.2', /"gamma" must be <= 1, got 1\.2/],
    ];
    for (const [line, needle, message] of cases) {
      const text = `name: x\nmethod: random\nrun_cap: 4\nparameters:\n${line}`;
      const error = errorOf(text).message;
      expect(error, line).to.match(message);
      expect(error, line).to.include(`test.yaml:${posOf(text, needle, 'parameters')}:`);
    }
  });

  it('an unknown environment, with a did-you-mean', () => {
    const text = 'name: x\nparameters:\n  env: { values: [CartPole-v1, Acrobot-v2] }\n';
    expect(errorOf(text).message).to.match(new RegExp(`test\\.yaml:${posOf(text, 'Acrobot-v2')}: "env" "Acrobot-v2" is not a known environment \\(did you mean "Acrobot-v1"\\?\\)`));
  });

  it('hints at [[64, 64]] when hiddenLayers values are numbers', () => {
    const text = 'name: x\nparameters:\n  hiddenLayers: { values: [64, 64] }\n';
    expect(errorOf(text).message).to.include('write values: [[64, 64]]');
  });

  it('a continuous distribution in a grid is an error; int_uniform and q_uniform are fine', () => {
    const text = 'name: x\nmethod: grid\nparameters:\n  gamma: { min: 0.9, max: 0.99, distribution: uniform }\n';
    expect(errorOf(text).message).to.match(/test\.yaml:4:\d+: parameter "gamma": uniform is a continuous distribution, which a grid cannot enumerate/);
    const log = 'name: x\nparameters:\n  learningRate: { min: 0.0001, max: 0.01, distribution: log_uniform_values }\n';
    expect(errorOf(log).message).to.match(/log_uniform_values is a continuous distribution/);
    // Inferred: a number option with min/max and no distribution is uniform, so not a grid.
    expect(errorOf('name: x\nparameters:\n  gamma: { min: 0.9, max: 0.99 }\n').message).to.match(/uniform is a continuous distribution/);
    expect(() => spec('name: x\nparameters:\n  batchSize: { min: 32, max: 34, distribution: int_uniform }\n  tau: { min: 0.5, max: 1, distribution: q_uniform, q: 0.25 }\n')).not.to.throw();
  });

  it('range checks: max > min, integer options need int_uniform, q_uniform needs q, log needs min > 0', () => {
    const random = (line: string): string => errorOf(`name: x\nmethod: random\nrun_cap: 5\nparameters:\n${line}`).message;
    expect(random('  gamma: { min: 0.99, max: 0.9 }\n')).to.match(/max \(0\.9\) must be greater than min \(0\.99\)/);
    expect(random('  batchSize: { min: 32, max: 64, distribution: uniform }\n')).to.match(/"batchSize" is an integer option; uniform draws fractions: use int_uniform/);
    expect(random('  tau: { min: 0.1, max: 1, distribution: q_uniform }\n')).to.match(/q_uniform needs q > 0/);
    expect(random('  clipNorm: { min: 0, max: 10, distribution: log_uniform_values }\n')).to.match(/log_uniform_values needs min > 0, got 0/);
    expect(random('  tau: { min: 0.1, max: 1, q: 0.1 }\n')).to.match(/q goes with distribution: q_uniform/);
    expect(random('  loss: { min: 1, max: 2 }\n')).to.match(/"loss" is an enum option; min\/max ranges need a numeric option/);
    expect(random('  gamma: { min: 0.9, max: 0.99, distribution: normal }\n')).to.match(/distribution "normal" is not supported; use one of uniform, int_uniform, log_uniform_values, q_uniform/);
    expect(random('  gamma: { min: 0.9, max: 0.99, distribution: unifrom }\n')).to.match(/distribution must be one of .*got "unifrom" \(did you mean "uniform"\?\)/);
  });

  it('parameter shape errors: bare values, mixed kinds, empty and duplicate values, unknown keys', () => {
    const p = (line: string): string => errorOf(`name: x\nparameters:\n${line}`).message;
    expect(p('  learningRate: 0.001\n')).to.match(/test\.yaml:3:17: parameter "learningRate" must be a map: write learningRate: \{ value: 0\.001 \}/);
    expect(p('  gamma: { value: 0.9, values: [0.9] }\n')).to.match(/give exactly one of \{ value: v \}, \{ values: \[a, b\] \}, or \{ min: a, max: b \}/);
    expect(p('  gamma: { values: [] }\n')).to.match(/values is empty/);
    expect(p('  gamma: { min: 0.9 }\n')).to.match(/test\.yaml:3:3: parameter "gamma" has min but no max; a range needs both/);
    const dup = '  gamma: { values: [0.9, 0.99, 0.9] }\n';
    expect(p(dup)).to.match(/test\.yaml:3:\d+: parameter "gamma": value 0\.9 is listed twice \(first at test\.yaml:3:\d+\)/);
    const unknown = errorOf('name: x\nparameters:\n  gamma: { valuess: [0.9] }\n');
    expect(unknown.problems).to.have.length(1);
    expect(unknown.message).to.match(/test\.yaml:3:12: parameter "gamma": unknown key "valuess" \(did you mean "values"\?\)/);
    expect(p('  seed: { values: [0, 1] }\n')).to.match(/"seed" cannot be a sweep parameter: replicates come from the top-level "seeds: \[0, 1, 2\]" list/);
    expect(p('  name: { value: foo }\n')).to.match(/"name" cannot be a sweep parameter/);
  });

  it('top-level errors: unknown keys, W&B-only keys, run options at the top, bad seeds, method, metric', () => {
    expect(errorOf('name: x\nmethd: grid\nparameters: {}\n').message).to.match(/test\.yaml:2:1: unknown key "methd" \(did you mean "method"\?\)/);
    expect(errorOf('name: x\nprogram: train.py\nparameters: {}\n').message).to.match(/"program" is a W&B setting that rlsweep does not use/);
    expect(errorOf('name: x\nlearningRate: 0.1\nparameters: {}\n').message).to.match(/"learningRate" is a run option: put it under parameters/);
    expect(errorOf('name: x\nseeds: 3\nparameters: {}\n').message).to.match(/"seeds" must be a non-empty list of integers.*write seeds: \[0, 1, 2\]/);
    expect(errorOf('name: x\nseeds: [0, 1, 0]\nparameters: {}\n').message).to.match(/test\.yaml:2:15: seed 0 is listed twice/);
    expect(errorOf('name: x\nseeds: [0, -1]\nparameters: {}\n').message).to.match(/test\.yaml:2:12: "seed" must be >= 0, got -1/);
    expect(errorOf('name: x\nmethod: bayes\nparameters: {}\n').message).to.match(/test\.yaml:2:9: bayes search needs "run_cap": how many configurations to try/);
    expect(errorOf('name: x\nmethod: random\nparameters: {}\n').message).to.match(/random search needs "run_cap"/);
    expect(errorOf('name: x\nmetric: { name: eval/return_meen, goal: maximize }\nparameters: {}\n').message).to.match(
      /"metric\.name" must be one of .*got "eval\/return_meen" \(did you mean "eval\/return_mean"\?\)/,
    );
    expect(errorOf('name: x\nmetric: { name: eval/return_mean, goal: max }\nparameters: {}\n').message).to.match(/"metric\.goal" must be one of maximize, minimize/);
    expect(errorOf('name: ../x\nparameters: {}\n').message).to.match(/test\.yaml:1:7: "name" "\.\.\/x" must be a folder name/);
    expect(errorOf('parameters: {}\n').message).to.match(/missing "name"/);
    expect(errorOf('name: x\n').message).to.match(/missing "parameters"/);
    expect(errorOf('').message).to.match(/the file is empty/);
    expect(errorOf('- a\n- b\n').message).to.match(/a sweep file must be a map/);
  });

  it('metric summaries: final by default, best, mean_last_k with k, auc, steps_to_threshold (goal minimize) with an optional threshold', () => {
    const withMetric = (metric: string): SweepSpec => spec(`name: x\nmetric: ${metric}\nparameters:\n  env: { value: CartPole-v1 }\n`);
    expect(withMetric('{ name: eval/return_mean }').metric).to.deep.equal({ name: 'eval/return_mean', goal: 'maximize', summary: 'final' });
    expect(withMetric('{ name: train/loss, goal: minimize, summary: best }').metric).to.deep.equal({ name: 'train/loss', goal: 'minimize', summary: 'best' });
    expect(withMetric('{ name: eval/return_mean, summary: mean_last_k, k: 5 }').metric).to.deep.equal({ name: 'eval/return_mean', goal: 'maximize', summary: 'mean_last_k', k: 5 });
    expect(withMetric('{ name: eval/return_mean, summary: mean_last_k }').metric).to.deep.equal({ name: 'eval/return_mean', goal: 'maximize', summary: 'mean_last_k' });
    expect(withMetric('{ name: eval/return_mean, summary: auc }').metric.summary).to.equal('auc');
    // steps_to_threshold scores steps: its goal is minimize, said or not.
    expect(withMetric('{ name: eval/return_mean, summary: steps_to_threshold }').metric).to.deep.equal({ name: 'eval/return_mean', goal: 'minimize', summary: 'steps_to_threshold' });
    expect(withMetric('{ name: train/episode_return, goal: minimize, summary: steps_to_threshold, threshold: 195 }').metric).to.deep.equal({
      name: 'train/episode_return',
      goal: 'minimize',
      summary: 'steps_to_threshold',
      threshold: 195,
    });
  });

  it('metric summaries: contradictions and keys that do not go with the summary are errors at their position', () => {
    const problem = (metric: string): string => errorOf(`name: x\nmetric: ${metric}\nparameters:\n  env: { value: CartPole-v1 }\n`).message;
    expect(problem('{ name: eval/return_mean, summary: last }')).to.match(/test\.yaml:2:\d+: "metric\.summary" must be one of final, best, mean_last_k, auc, steps_to_threshold, got "last"/);
    expect(problem('{ name: eval/return_mean, goal: maximize, summary: steps_to_threshold }')).to.match(
      /test\.yaml:2:41: "metric\.goal" maximize contradicts summary steps_to_threshold: the score is a number of steps, and fewer is better; write goal: minimize, or leave goal out/,
    );
    expect(problem('{ name: train/loss, summary: steps_to_threshold }')).to.match(/test\.yaml:2:17: .*"metric\.name" must be eval\/return_mean or train\/episode_return, got "train\/loss"/);
    expect(problem('{ name: eval/return_mean, k: 3 }')).to.match(/test\.yaml:2:\d+: "metric\.k" goes with summary: mean_last_k .*summary is final/);
    expect(problem('{ name: eval/return_mean, summary: mean_last_k, k: 0 }')).to.match(/"metric\.k" must be an integer >= 1, got 0/);
    expect(problem('{ name: eval/return_mean, threshold: 475 }')).to.match(/"metric\.threshold" goes with summary: steps_to_threshold/);
    expect(problem('{ name: eval/return_mean, summary: steps_to_threshold, threshold: high }')).to.match(/"metric\.threshold" must be a number .*got "high"/);
    expect(problem('{ name: eval/return_mean, sumary: auc }')).to.match(/"metric": unknown key "sumary" \(did you mean "summary"\?\)/);
  });

  it('reports every problem at once, each with its position', () => {
    const text = 'name: x\nparameters:\n  gama: { value: 0.9 }\n  learningRate: { values: [0.1, oops] }\n  batchSize: { value: 0 }\n';
    const error = errorOf(text);
    expect(error.problems).to.have.length(3);
    expect(error.problems[0]).to.match(/^test\.yaml:3:3: "gama" is not a run option \(did you mean "gamma"\?\)/);
    expect(error.problems[1]).to.match(/^test\.yaml:4:33: "learningRate" must be a number, got "oops"/);
    expect(error.problems[2]).to.match(/^test\.yaml:5:23: "batchSize" must be >= 1, got 0/);
  });

  it('checks between options name the trial (batchSize > bufferSize)', () => {
    const text = 'name: x\nparameters:\n  bufferSize: { value: 100 }\n  batchSize: { values: [64, 128] }\n';
    expect(() => expand(text)).to.throw(SweepSpecError, /test\.yaml: trial batchSize=128,seed=0: batchSize \(128\) must not exceed bufferSize \(100\)/);
  });

  it('every RunConfig option but seed, name and logdir can be a parameter', () => {
    const allowed = runConfigKeys.filter((key) => !['seed', 'name', 'logdir'].includes(key));
    const defaults = defaultRunConfig();
    const lines = allowed.map((key) => `  ${key}: { value: ${JSON.stringify(defaults[key])} }`);
    const parsed = spec(`name: all\nparameters:\n${lines.join('\n').replace('{ value: "" }', '{ value: x }')}\n`);
    expect(parsed.parameters.map((p) => p.key)).to.deep.equal(allowed);
  });
});

describe('sweep expansion', () => {
  it('grid: the product of the parameters in file order, times the seeds (seeds outermost)', () => {
    const trials = expand(GRID);
    expect(trials).to.have.length(2 * 3 * 2 * 2);
    expect(countTrials(spec(GRID))).to.deep.equal({ configurations: 12, trials: 24 });
    expect(trials.map((t) => t.index)).to.deep.equal([...trials.keys()]);
    expect(trials[0]!.name).to.equal('learningRate=0.001,targetUpdateEvery=500,hiddenLayers=32x32,seed=0');
    expect(trials[1]!.name).to.equal('learningRate=0.001,targetUpdateEvery=500,hiddenLayers=64x64,seed=0');
    expect(trials[2]!.name).to.equal('learningRate=0.001,targetUpdateEvery=1000,hiddenLayers=32x32,seed=0');
    expect(trials[11]!.name).to.equal('learningRate=0.0005,targetUpdateEvery=2000,hiddenLayers=64x64,seed=0');
    expect(trials[12]!.name).to.equal('learningRate=0.001,targetUpdateEvery=500,hiddenLayers=32x32,seed=1');
    // Every combination exactly once per seed.
    const combos = new Set(trials.map((t) => JSON.stringify([t.config.learningRate, t.config.targetUpdateEvery, t.config.hiddenLayers, t.seed])));
    expect(combos.size).to.equal(24);
  });

  it('trial configs: fixed values, swept values, seed, name and the sweep folder as logdir', () => {
    const trial = expand(GRID)[13]!;
    expect(trial.config).to.deep.include({
      env: 'CartPole-v1',
      steps: 3000,
      learningRate: 0.001,
      targetUpdateEvery: 500,
      seed: 1,
      name: trial.name,
      logdir: 'runs/t',
    });
    expect(trial.config.hiddenLayers).to.deep.equal([64, 64]);
    expect(trial.config.gamma).to.equal(defaultRunConfig().gamma);
    expect(trial.swept).to.deep.equal({ learningRate: 0.001, targetUpdateEvery: 500, hiddenLayers: [64, 64] });
    expect(trial.hparams).to.deep.equal({ learningRate: 0.001, targetUpdateEvery: 500, hiddenLayers: '64x64', seed: 1 });
    expect(trial.configName).to.equal('learningRate=0.001,targetUpdateEvery=500,hiddenLayers=64x64');
  });

  it('replicates share their configuration; configurations are numbered in grid order', () => {
    const trials = expand(GRID);
    for (const trial of trials.slice(12)) {
      const twin = trials[trial.index - 12]!;
      expect(trial.configIndex).to.equal(twin.configIndex);
      expect(trial.configName).to.equal(twin.configName);
      expect(trial.seed).to.equal(1);
      expect(twin.seed).to.equal(0);
    }
    expect(trials.slice(0, 12).map((t) => t.configIndex)).to.deep.equal([...Array(12).keys()]);
  });

  it('grid enumerates int_uniform and q_uniform', () => {
    const trials = expand('name: x\nparameters:\n  batchSize: { min: 32, max: 34, distribution: int_uniform }\n  tau: { min: 0.3, max: 1, distribution: q_uniform, q: 0.25 }\n');
    expect(trials.map((t) => [t.config.batchSize, t.config.tau])).to.deep.equal([
      [32, 0.5],
      [32, 0.75],
      [32, 1],
      [33, 0.5],
      [33, 0.75],
      [33, 1],
      [34, 0.5],
      [34, 0.75],
      [34, 1],
    ]);
    const tenths = expand('name: x\nparameters:\n  gamma: { min: 0.9, max: 1, distribution: q_uniform, q: 0.02 }\n').map((t) => t.config.gamma);
    expect(tenths).to.deep.equal([0.9, 0.92, 0.94, 0.96, 0.98, 1]);
  });

  it('an empty q_uniform grid is an error', () => {
    expect(() => countTrials(spec('name: x\nparameters:\n  tau: { min: 0.11, max: 0.19, distribution: q_uniform, q: 0.1 }\n'))).to.throw(
      SweepSpecError,
      /test\.yaml:3:3: parameter "tau" has no multiple of q \(0\.1\) between min \(0\.11\) and max \(0\.19\), so the grid is empty/,
    );
  });

  it('names: only swept parameters and the seed; single values and one-element lists stay out', () => {
    const trials = expand('name: x\nseeds: [3]\nparameters:\n  gamma: { values: [0.9] }\n  steps: { value: 100 }\n  loss: { values: [mse, huber] }\n');
    expect(trials.map((t) => t.name)).to.deep.equal(['loss=mse,seed=3', 'loss=huber,seed=3']);
    expect(expand('name: x\nparameters:\n  steps: { value: 100 }\n').map((t) => t.name)).to.deep.equal(['seed=0']);
    expect(expand('name: x\nparameters:\n  steps: { value: 100 }\n')[0]!.configName).to.equal('default');
  });

  it('names are safe folder names and unique, even case-insensitively', () => {
    expect(formatNameValue([64, 64])).to.equal('64x64');
    expect(formatNameValue([])).to.equal('none');
    expect(formatNameValue('a/b c:d,e=f')).to.equal('a_b_c_d_e_f');
    expect(formatNameValue(1e-7)).to.equal('1e-7');
    expect(formatNameValue(true)).to.equal('true');
    const trials = [...expand(GRID), ...expand(RANDOM)];
    for (const trial of trials) {
      expect(trial.name).to.match(/^[A-Za-z0-9][A-Za-z0-9._=,+@-]*$/);
      expect(trial.name.length).to.be.at.most(200);
    }
    const names = expand(GRID).map((t) => t.name.toLowerCase());
    expect(new Set(names).size).to.equal(names.length);
  });

  it('long names are shortened with a hash and stay unique', () => {
    const keys = ['gamma', 'learningRate', 'trainEpsilon', 'epsilonStart', 'epsilonFraction', 'epsilonDecay', 'evalEpsilon', 'tau', 'clipNorm', 'clipGlobalNorm'];
    const lines = keys.map((key) => `  ${key}: { values: [0.123456789, 0.987654321] }`);
    const trials = expand(`name: x\nparameters:\n${lines.join('\n')}\n`);
    expect(trials).to.have.length(1024);
    expect(Math.max(...trials.map((t) => t.name.length))).to.be.at.most(200);
    expect(new Set(trials.map((t) => t.name.toLowerCase())).size).to.equal(1024);
  });

  it('random search is seeded: the same file gives the same trials, another sweep_seed others', () => {
    const a = expand(RANDOM);
    const b = expand(RANDOM);
    expect(a).to.deep.equal(b);
    const c = expand(RANDOM.replace('sweep_seed: 7', 'sweep_seed: 8'));
    expect(c.map((t) => t.name)).not.to.deep.equal(a.map((t) => t.name));
  });

  it('random search: run_cap trials (configurations x seeds), draws inside their domains', () => {
    const trials = expand(RANDOM);
    expect(trials).to.have.length(12);
    expect(new Set(trials.map((t) => t.configIndex)).size).to.equal(6);
    expect(trials.slice(6).map((t) => t.configName)).to.deep.equal(trials.slice(0, 6).map((t) => t.configName));
    for (const { config } of trials) {
      expect(config.gamma).to.be.within(0.95, 0.999);
      expect(config.learningRate).to.be.within(0.0001, 0.01);
      expect(config.batchSize).to.be.within(32, 128);
      expect(Number.isInteger(config.batchSize)).to.equal(true);
      expect(Math.round(config.tau * 10) / 10).to.equal(config.tau);
      expect(['mse', 'huber']).to.include(config.loss);
      // Continuous draws keep 5 significant digits, so names stay readable.
      expect(Number(config.gamma.toPrecision(5))).to.equal(config.gamma);
    }
    // An odd run_cap rounds down to whole configurations.
    expect(expand(RANDOM.replace('run_cap: 12', 'run_cap: 13'))).to.have.length(12);
  });

  it('random search over a small discrete space cannot ask for more configurations than exist', () => {
    const text = 'name: x\nmethod: random\nrun_cap: 10\nparameters:\n  loss: { values: [mse, huber] }\n';
    expect(() => expand(text)).to.throw(SweepSpecError, /the parameters allow only 2 distinct configurations; lower run_cap to 2/);
    expect(
      expand(text.replace('run_cap: 10', 'run_cap: 2'))
        .map((t) => t.config.loss)
        .sort(),
    ).to.deep.equal(['huber', 'mse']);
  });

  it(`asks for --yes past ${DEFAULT_TRIAL_LIMIT} trials, and refuses absurd grids outright`, () => {
    const big = spec('name: big\nseeds: [0, 1]\nparameters:\n  batchSize: { min: 1, max: 300, distribution: int_uniform }\n');
    expect(() => checkTrialCount(big)).to.throw(SweepSpecError, /the sweep has 600 trials \(300 batchSize x 2 seeds\), more than 500; check the file, and pass --yes to run them anyway/);
    expect(checkTrialCount(big, { yes: true })).to.deep.equal({ configurations: 300, trials: 600 });
    expect(checkTrialCount(big, { limit: 1000 })).to.deep.equal({ configurations: 300, trials: 600 });
    const absurd = spec('name: big\nparameters:\n  steps: { min: 1, max: 1000000000, distribution: int_uniform }\n');
    expect(() => checkTrialCount(absurd, { yes: true })).to.throw(SweepSpecError, new RegExp(`more than the ${HARD_TRIAL_LIMIT} rlsweep will ever expand`));
    expect(() => expandSweep(absurd, { sweepDir: 'runs/big' })).to.throw(SweepSpecError);
  });

  it('the hparams experiment lists each swept parameter with its domain, and the seed', () => {
    const grid = experimentHParams(spec(GRID));
    expect(grid.map((h) => h.name)).to.deep.equal(['learningRate', 'targetUpdateEvery', 'hiddenLayers', 'seed']);
    expect(grid[0]!.values).to.deep.equal([0.001, 0.0005]);
    expect(grid[2]!.values).to.deep.equal(['32x32', '64x64']);
    expect(grid[3]!.values).to.deep.equal([0, 1]);
    const random = experimentHParams(spec(RANDOM));
    expect(random.find((h) => h.name === 'gamma')).to.deep.include({ interval: { min: 0.95, max: 0.999 }, type: 'float64' });
    expect(random.find((h) => h.name === 'loss')!.values).to.deep.equal(['mse', 'huber']);
  });
});
